//! Reproducers: a finding rendered as something a PyTorch maintainer can run or read.
//!
//! Three formats: a standalone `script` (exit 1 while the bug is present, 0 once fixed), a
//! Markdown `issue` body (description, the script, observed vs expected, the workaround when
//! a respelling passes, a versions block), and a `pytest` test asserting that the exported
//! program matches eager. All three are built from the rendered module, so they run exactly
//! the model the oracle checked.

use crate::corpus::FindingRecord;
use crate::ir::{Case, input_name};
use crate::oracle::{Backend, CheckResult, Verdict};
use crate::render::render;
use std::fmt::Write;

/// Everything a reproducer says.
#[derive(Clone, Debug)]
pub struct Repro {
    pub case: Case,
    pub backend: Backend,
    pub verdict: Verdict,
    pub kind: Option<String>,
    pub message: String,
    pub signature: Option<String>,
    /// The sizes at which eager and the exported program part ways (none for export errors).
    pub probe: Option<Vec<i64>>,
    pub workaround: Option<Case>,
    pub torch: String,
}

impl Repro {
    pub fn from_check(
        case: &Case,
        r: &CheckResult,
        workaround: Option<Case>,
        torch: &str,
    ) -> Repro {
        // Prefer a probe the exported program actually fails at: that is what the script shows.
        let shown = r
            .findings
            .iter()
            .find(|f| matches!(f.verdict, Verdict::SpuriousGuard | Verdict::Divergence))
            .or(r.findings.first());
        let probe = shown.and_then(|f| f.probe.clone());
        let mut message = r.message().to_string();
        if let Some(f) = shown
            && f.message != r.message()
            && let Some(p) = &f.probe
        {
            let _ = write!(
                message,
                "\nat {}: eager runs; the exported program: {}",
                case.shapes_text(p),
                f.message
            );
        }
        Repro {
            case: case.clone(),
            backend: r.backend,
            verdict: r.verdict,
            kind: r.kind().map(str::to_string),
            message,
            signature: crate::report::signature(r),
            probe,
            workaround,
            torch: torch.to_string(),
        }
    }

    pub fn from_record(rec: &FindingRecord) -> Repro {
        Repro {
            case: rec.case.clone(),
            backend: rec.backend,
            verdict: rec.verdict,
            kind: rec.kind.clone(),
            message: rec.message.clone(),
            signature: Some(rec.signature.clone()),
            probe: rec.probe.clone(),
            workaround: rec.workaround.clone(),
            torch: rec.torch.clone(),
        }
    }

    /// The record a campaign or `reduce` stores for this finding.
    pub fn to_record(&self, origin: &str) -> Option<FindingRecord> {
        Some(FindingRecord {
            signature: self.signature.clone()?,
            backend: self.backend,
            verdict: self.verdict,
            kind: self.kind.clone(),
            message: self.message.clone(),
            torch: self.torch.clone(),
            origin: origin.to_string(),
            probe: self.probe.clone(),
            workaround: self.workaround.clone(),
            case: self.case.clone(),
        })
    }

    fn sizes_py(&self) -> String {
        crate::render::sizes_dict(self.probe.as_deref().unwrap_or(&self.case.export))
    }

    fn strict(&self) -> &'static str {
        if self.backend == Backend::ExportStrict {
            "True"
        } else {
            "False"
        }
    }

    /// A standalone script: exit 1 while the bug is present, 0 once fixed.
    pub fn script(&self) -> String {
        let mut s = format!(
            "# shapefuzz reproducer: {}\n# {}\n",
            self.signature.as_deref().unwrap_or(self.verdict.name()),
            self.message.lines().next().unwrap_or("")
        );
        s.push_str(&render(&self.case).source);
        let _ = write!(
            s,
            r#"

def _describe(out):
    return ", ".join(f"{{tuple(t.shape)}} {{t.dtype}}" for t in out)


def main():
    torch.manual_seed(0)
    model = Model().eval()
    try:
        ep = torch.export.export(
            model, make_inputs(EXPORT_SIZES), dynamic_shapes=dynamic_shapes(), strict={strict}
        )
    except Exception as e:
        print(f"torch.export.export failed: {{type(e).__name__}}: {{e}}")
        return 1
    sizes = {sizes}
    args = make_inputs(sizes)
    shapes = ", ".join(f"{{n}}={{tuple(a.shape)}}" for n, a in zip(INPUT_NAMES, args))
    print(f"inputs: {{shapes}} (exported with {{EXPORT_SIZES}})")
    expected = model(*[a.clone() for a in args])
    print(f"eager: {{_describe(expected)}}")
    try:
        got = ep.module()(*[a.clone() for a in args])
    except Exception as e:
        print(f"exported program: {{type(e).__name__}}: {{e}}")
        return 1
    print(f"exported program: {{_describe(got)}}")
    for i, (e, g) in enumerate(zip(expected, got)):
        try:
            torch.testing.assert_close(g, e, equal_nan=True)
        except AssertionError as err:
            print(f"output {{i}} differs: {{err}}")
            return 1
    print("the exported program matches eager: not reproduced (fixed?)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
"#,
            strict = self.strict(),
            sizes = self.sizes_py(),
        );
        s
    }

    /// A pytest test asserting that the exported program matches eager.
    pub fn pytest(&self) -> String {
        let mut s = format!(
            "# shapefuzz: {}\n",
            self.signature.as_deref().unwrap_or(self.verdict.name())
        );
        s.push_str(&render(&self.case).source);
        let _ = write!(
            s,
            r#"

def test_exported_program_matches_eager():
    model = Model().eval()
    ep = torch.export.export(
        model, make_inputs(EXPORT_SIZES), dynamic_shapes=dynamic_shapes(), strict={strict}
    )
    args = make_inputs({sizes})
    expected = model(*[a.clone() for a in args])
    got = ep.module()(*[a.clone() for a in args])
    assert len(got) == len(expected)
    for e, g in zip(expected, got):
        torch.testing.assert_close(g, e, equal_nan=True)
"#,
            strict = self.strict(),
            sizes = self.sizes_py(),
        );
        s
    }

    /// What the user asked for and what torch did, in words.
    fn description(&self) -> String {
        let spec: Vec<String> = self
            .case
            .inputs
            .iter()
            .enumerate()
            .flat_map(|(i, inp)| {
                inp.dims
                    .iter()
                    .enumerate()
                    .filter(|(_, d)| d.spec.requests_dynamic())
                    .map(move |(d, dim)| {
                        format!(
                            "`{}.size({d})` ({})",
                            input_name(i),
                            crate::oracle::spec_name(&dim.spec)
                        )
                    })
            })
            .collect();
        let what = match self.verdict {
            Verdict::LostDim => {
                "the exported program specializes a dimension that was requested dynamic, and rejects sizes eager PyTorch accepts"
            }
            Verdict::SpuriousGuard => {
                "the exported program rejects input sizes that eager PyTorch accepts"
            }
            Verdict::Divergence => {
                "the exported program returns a different result from eager PyTorch"
            }
            Verdict::ExportError => {
                "`torch.export.export` fails on a model that eager PyTorch runs"
            }
            Verdict::Crash => "the process dies",
            Verdict::Hang => "the call does not return",
            _ => "the exported program and eager PyTorch disagree",
        };
        format!(
            "With `dynamic_shapes` asking for {} to be dynamic, {what}.",
            if spec.is_empty() {
                "no dimension".to_string()
            } else {
                spec.join(", ")
            }
        )
    }

    /// A Markdown body for a PyTorch bug report.
    pub fn issue(&self) -> String {
        let mut s = String::new();
        let title = match self.verdict {
            Verdict::LostDim | Verdict::SpuriousGuard => {
                "torch.export: dynamic dim specialized, exported program rejects valid sizes"
            }
            Verdict::Divergence => "torch.export: exported program differs from eager",
            Verdict::ExportError => "torch.export: export fails on a valid model",
            _ => "torch.export: exported program disagrees with eager",
        };
        let _ = writeln!(
            s,
            "### 🐛 Describe the bug\n\n**{title}**\n\n{}\n",
            self.description()
        );
        let _ = writeln!(s, "```python\n{}```\n", self.script());
        let _ = writeln!(
            s,
            "Observed ({}{}):\n",
            self.verdict.name(),
            self.kind
                .as_ref()
                .map(|k| format!(", {k}"))
                .unwrap_or_default()
        );
        let _ = writeln!(s, "```\n{}\n```\n", self.message.trim());
        let expected = match self.verdict {
            Verdict::ExportError => {
                "Export succeeds, since eager PyTorch runs the model at these sizes.".to_string()
            }
            _ => format!(
                "The exported program accepts the sizes eager PyTorch accepts (here {}) and returns the same result.",
                self.sizes_py()
            ),
        };
        let _ = writeln!(s, "Expected: {expected}\n");
        if let Some(w) = &self.workaround {
            let (before, after) = changed_line(&self.case, w);
            let _ = writeln!(
                s,
                "Workaround: spelling the same computation differently keeps the dimension dynamic:\n\n```diff\n- {}\n+ {}\n```\n",
                before.trim(),
                after.trim()
            );
        }
        let _ = writeln!(
            s,
            "### Versions\n\n```\ntorch: {}\nbackend: torch.export.export(strict={})\nfound by: shapefuzz {} (signature `{}`)\n```",
            self.torch,
            self.strict(),
            env!("CARGO_PKG_VERSION"),
            self.signature.as_deref().unwrap_or("-")
        );
        s
    }
}

/// The first line that differs between two renderings of cases with the same shape.
fn changed_line(a: &Case, b: &Case) -> (String, String) {
    let (ra, rb) = (render(a).source, render(b).source);
    ra.lines()
        .zip(rb.lines())
        .find(|(x, y)| x != y)
        .map(|(x, y)| (x.to_string(), y.to_string()))
        .unwrap_or_default()
}
