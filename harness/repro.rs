//! Reproducers: a finding rendered as something a person can run or read, in the words its
//! class calls for.
//!
//! Three formats. A standalone `script` that exits 1 while the behaviour is present and 0
//! once it is gone; what it checks follows the contract outcome (a divergence compares
//! results, a silently specialized `Dim.DYNAMIC` exports and probes, a failing suggested fix
//! applies torch's own helper). A `pytest` test that the script passes. And `issue`: for a
//! bug, a PyTorch bug report that states the broken promise with its source, the script, its
//! real output on the reporter's torch, what torch should have done, and `collect_env`;
//! for a portability finding, a note for model authors (the dim, the line, the workaround
//! diff); for expected behaviour, a short explanation. Every string that comes from a record
//! is made safe for the language it lands in.

use crate::corpus::FindingRecord;
use crate::escape::{markdown_code, markdown_fence, markdown_text, python_comment};
use crate::ir::Case;
use crate::oracle::{Backend, Cause, CheckResult, Class, Contract, DimReport, Verdict, spec_text};
use crate::render::{make_inputs_call, render_standalone};
use std::fmt::Write;

/// Everything a reproducer says.
#[derive(Clone, Debug)]
pub struct Repro {
    pub case: Case,
    pub backend: Backend,
    pub verdict: Verdict,
    pub contract: Option<Contract>,
    pub kind: Option<String>,
    pub message: String,
    pub signature: Option<String>,
    /// The sizes at which the behaviour shows (none for export errors).
    pub probe: Option<Vec<i64>>,
    pub cause: Option<Cause>,
    pub traceback: Option<String>,
    pub fix: Option<String>,
    pub workaround: Option<Case>,
    pub torch: String,
    /// Per input dim: what was asked, the trace region, what torch kept and accepts.
    pub dims: Vec<DimReport>,
    /// The same model under the other spec API (`triage::check_twin`).
    pub twin: Option<crate::oracle::Twin>,
}

impl Repro {
    pub fn from_check(
        case: &Case,
        r: &CheckResult,
        workaround: Option<Case>,
        torch: &str,
    ) -> Repro {
        let primary = r.primary();
        Repro {
            case: case.clone(),
            backend: r.backend,
            verdict: r.verdict,
            contract: r.contract(),
            kind: r.kind().map(str::to_string),
            message: r.message().to_string(),
            signature: r.signature(),
            probe: primary.and_then(|f| f.probe.clone()),
            cause: r.cause().cloned(),
            traceback: r.traceback.clone(),
            fix: r.fix.clone(),
            workaround,
            torch: torch.to_string(),
            dims: r.dims.clone(),
            twin: None,
        }
    }

    pub fn from_record(rec: &FindingRecord) -> Repro {
        Repro {
            case: rec.case.clone(),
            backend: rec.backend,
            verdict: rec.verdict,
            contract: rec.contract,
            kind: rec.kind.clone(),
            message: rec.message.clone(),
            signature: Some(rec.signature.clone()),
            probe: rec.probe.clone(),
            cause: rec.cause.clone(),
            traceback: rec.traceback.clone(),
            fix: rec.fix.clone(),
            workaround: rec.workaround.clone(),
            torch: rec.torch.clone(),
            dims: rec.dims.clone(),
            twin: rec.twin.clone(),
        }
    }

    /// The record a campaign or `reduce` stores for this finding.
    pub fn to_record(&self, origin: &str) -> Option<FindingRecord> {
        Some(FindingRecord {
            signature: self.signature.clone()?,
            backend: self.backend,
            verdict: self.verdict,
            contract: self.contract,
            kind: self.kind.clone(),
            message: self.message.clone(),
            cause: self.cause.clone(),
            traceback: self.traceback.clone(),
            fix: self.fix.clone(),
            torch: self.torch.clone(),
            shapefuzz: Some(env!("CARGO_PKG_VERSION").to_string()),
            generator: Some(crate::r#gen::GENERATOR_VERSION),
            origin: origin.to_string(),
            probe: self.probe.clone(),
            workaround: self.workaround.clone(),
            dims: self.dims.clone(),
            twin: self.twin.clone(),
            case: self.case.clone(),
        })
    }

    pub fn class(&self) -> Option<Class> {
        self.contract.map(Contract::class)
    }

    fn strict(&self) -> &'static str {
        if self.backend == Backend::ExportStrict {
            "True"
        } else {
            "False"
        }
    }

    /// The sizes the script shows the behaviour at.
    fn probe_sizes(&self) -> Vec<i64> {
        self.probe.clone().unwrap_or_else(|| {
            // Export errors need no probe; others without one use a neighbour of export.
            self.case.export.iter().map(|x| x + 1).collect()
        })
    }

    /// The export, with the backend's step applied to its program.
    fn export_call(&self, spec: &str) -> String {
        let export = format!(
            "torch.export.export(model, {}, dynamic_shapes={spec}, strict={}{})",
            crate::render::export_inputs(&self.case),
            self.strict(),
            crate::render::export_kwargs(&self.case)
        );
        self.step_call(&export)
    }

    /// The case's spec as the `Dim` dict torch's helpers take (Python): a ShapesCollection
    /// or AdditionalInputs gives the dict it builds for the export inputs.
    fn dim_spec(&self) -> String {
        match self.case.spec_api() {
            crate::ir::SpecApi::Collection | crate::ir::SpecApi::Additional => format!(
                "dynamic_shapes.dynamic_shapes(model, {})",
                crate::render::export_inputs(&self.case)
            ),
            _ => "dynamic_shapes".into(),
        }
    }

    /// The backend's step applied to the exported program `program` (Python).
    fn step_call(&self, program: &str) -> String {
        match self.backend {
            Backend::Decomposed => format!("{program}.run_decompositions()"),
            Backend::Saved => format!("save_and_load({program})"),
            Backend::Aoti => format!("compile_aoti({program})"),
            Backend::Onnx => format!("to_onnxruntime({program})"),
            // torch.compile takes the model and its spec, not the exported program
            Backend::Compile => format!(
                "compile_with_spec(model, dynamic_shapes, {})",
                crate::render::export_inputs(&self.case)
            ),
            Backend::Export | Backend::ExportStrict => program.to_string(),
        }
    }

    /// The culprit's line of the model, as code (the first line of a block).
    pub fn culprit_code(&self) -> Option<String> {
        let node = self.cause.as_ref()?.node? as usize;
        let code = render_standalone(&self.case).node_code.get(node).cloned()?;
        Some(match code.find(": ") {
            Some(i) if code.starts_with("if ") => code[..=i].trim().to_string(),
            _ => code,
        })
    }

    /// A standalone script: exit 1 while the behaviour is present, 0 once it is gone.
    pub fn script(&self) -> String {
        // Record text only after the preamble, only in comments.
        let mut s = format!(
            "{}# shapefuzz reproducer: {}\n# {}\n",
            crate::escape::PYTHON_PREAMBLE,
            python_comment(self.signature.as_deref().unwrap_or(self.verdict.name())),
            python_comment(self.message.lines().next().unwrap_or(""))
        );
        s.push_str("import traceback\n\n");
        s.push_str(&render_standalone(&self.case).source);
        s.push_str("\n\n");
        if self.backend == Backend::Aoti {
            s.push_str("class compile_aoti:\n    \"\"\"The program compiled by AOTInductor, called like ep.module().\"\"\"\n\n    def __init__(self, ep):\n        import os\n        import tempfile\n\n        os.environ[\"AOTI_RUNTIME_CHECK_INPUTS\"] = \"1\"  # shapefuzz judges it with its input checks on\n        path = os.path.join(tempfile.mkdtemp(), \"model.pt2\")\n        self.runner = torch._inductor.aoti_load_package(\n            torch._inductor.aoti_compile_and_package(ep, package_path=path)\n        )\n        self.range_constraints = ep.range_constraints\n\n    def module(self):\n        return self.runner\n\n\n");
        }
        if self.backend == Backend::Onnx {
            s.push_str("class to_onnxruntime:\n    \"\"\"The program exported to ONNX and run by onnxruntime, called like ep.module().\"\"\"\n\n    def __init__(self, ep):\n        import logging\n\n        import onnxruntime\n\n        logging.getLogger(\"torch.onnx\").setLevel(logging.ERROR)\n        onnx_program = torch.onnx.export(ep, dynamo=True, verbose=False)\n        self.session = onnxruntime.InferenceSession(\n            onnx_program.model_proto.SerializeToString(), providers=[\"CPUExecutionProvider\"]\n        )\n        self.range_constraints = ep.range_constraints\n        # ONNX inputs are the program's inputs in order, less the static Python numbers\n        # baked into it (their names may differ: an input returned as is becomes x_orig)\n        vals = {n.name: n.meta.get(\"val\") for n in ep.graph.nodes if n.op == \"placeholder\"}\n        user = [s.arg.name for s in ep.graph_signature.input_specs if s.kind.name == \"USER_INPUT\"]\n        self.fed = [k for k, n in enumerate(user) if isinstance(vals.get(n), (torch.Tensor, torch.SymInt, torch.SymFloat, torch.SymBool))]\n\n    def module(self):\n        def run(*args):\n            flat = torch.utils._pytree.tree_leaves(args)\n            feeds = {i.name: torch.as_tensor(flat[k]).numpy() for i, k in zip(self.session.get_inputs(), self.fed)}\n            return tuple(torch.from_numpy(o.copy()) for o in self.session.run(None, feeds))\n\n        return run\n\n\n");
        }
        if self.backend == Backend::Compile {
            s.push_str(COMPILE_WITH_SPEC);
        }
        if self.backend == Backend::Saved {
            s.push_str("def save_and_load(ep):\n    import io\n\n    buf = io.BytesIO()\n    torch.export.save(ep, buf)\n    buf.seek(0)\n    return torch.export.load(buf)\n\n\n");
        }
        s.push_str(&self.main_body());
        s.push_str("\n\n\nif __name__ == \"__main__\":\n    raise SystemExit(main())\n");
        s
    }

    fn main_body(&self) -> String {
        let probe = make_inputs_call(&self.probe_sizes());
        let shapes = self.case.shapes_text(&self.probe_sizes());
        let export = self.export_call("dynamic_shapes");
        let program = match self.backend {
            Backend::Export | Backend::ExportStrict => "the exported program".to_string(),
            b => format!("the {} program", b.name()),
        };
        let compare = format!(
            r#"    expected = model(*args)
    try:
        got = ep.module()(*args)
    except Exception as e:
        print(f"{program} raises at {shapes}, which eager runs: {{type(e).__name__}}: {{e}}")
        return 1
    for i, (e, g) in enumerate(zip(expected, got)):
        try:
            torch.testing.assert_close(g, e, equal_nan=True)
        except AssertionError as err:
            print(f"output {{i}} at {shapes} differs from eager: {{err}}")
            return 1
    print("{program} accepts {shapes} and matches eager")
    return 0"#
        );
        match self.contract {
            // The process dies inside the program at the probe, whatever eager does there.
            Some(Contract::Crash) if self.probe.is_some() => format!(
                r#"def main():
    model = Model().eval()
    ep = {export}
    args = {probe}
    try:
        model(*args)
        print("eager runs at {shapes}")
    except Exception as e:
        print(f"eager raises at {shapes}: {{type(e).__name__}}: {{e}}")
    try:
        ep.module()(*args)  # the process dies here while the bug is present
        print("{program} returns at {shapes}")
    except Exception as e:
        print(f"{program} raises at {shapes} (no crash): {{type(e).__name__}}: {{e}}")
    return 0"#
            ),
            Some(Contract::CompileRecompiles) => format!(
                r#"def main():
    model = Model().eval()
    compiled = {step}
    args = {probe}
    compiled.module()(*args)
    if compiled.recompiles:
        print(f"torch.compile compiled {{compiled.recompiles}} more graph(s) at {shapes}, which the ShapesSpec declares dynamic")
        return 1
    print("torch.compile runs {shapes} without compiling again")
    return 0"#,
                step = self.step_call("model"),
            ),
            Some(Contract::BackendDisagrees) if self.probe.is_none() => {
                self.range_change_main(&export)
            }
            Some(Contract::BackendDisagrees) => {
                self.backend_disagrees_main(&probe, &shapes, &program)
            }
            Some(Contract::SuggestedFixFails) => self.suggested_fix_main(&export),
            Some(Contract::DynamicSpecializedSilently | Contract::NamedDimNarrowedSilently) => {
                format!(
                    r#"def main():
    model = Model().eval()
    try:
        ep = {export}
    except torch._dynamo.exc.UserError as e:
        print(f"export raises the promised constraint violation: {{e}}")
        return 0
    print(f"export succeeds; range_constraints: {{ep.range_constraints}}")
    args = {probe}
{compare}"#
                )
            }
            _ if self.verdict == Verdict::ExportError => format!(
                r#"def main():
    model = Model().eval()
    try:
        {export}
    except Exception:
        traceback.print_exc()
        return 1
    print("export succeeds")
    return 0"#
            ),
            _ => format!(
                r#"def main():
    model = Model().eval()
    ep = {export}
    args = {probe}
{compare}"#
            ),
        }
    }

    /// `main()` when the input ranges changed through the step: shown by printing both.
    fn range_change_main(&self, export: &str) -> String {
        format!(
            r#"def main():
    model = Model().eval()
    ep = torch.export.export(model, {inputs}, dynamic_shapes=dynamic_shapes, strict={strict}{kw})
    after = {export}
    print(f"exported: {{ep.range_constraints}}")
    print(f"{backend}: {{after.range_constraints}}")
    before = {{str(k): v for k, v in ep.range_constraints.items() if str(k).startswith("s")}}
    now = {{str(k): v for k, v in after.range_constraints.items() if str(k).startswith("s")}}
    return int(str(before) != str(now))"#,
            inputs = crate::render::export_inputs(&self.case),
            strict = self.strict(),
            kw = crate::render::export_kwargs(&self.case),
            backend = self.backend.name(),
        )
    }

    /// `main()` when the step broke what the exported program does: both run at the probe. Where
    /// the exported program refuses the input, the finding is the step's program
    /// taking it and answering wrong.
    fn backend_disagrees_main(&self, probe: &str, shapes: &str, program: &str) -> String {
        format!(
            r#"def main():
    model = Model().eval()
    exported = torch.export.export(model, {inputs}, dynamic_shapes=dynamic_shapes, strict={strict}{kw})
    ep = {step}
    args = {probe}
    expected = model(*args)
    refused = False
    try:
        before = exported.module()(*args)
        for e, b in zip(expected, before):
            torch.testing.assert_close(b, e, equal_nan=True)
        print("the exported program accepts {shapes} and matches eager")
    except AssertionError as e:
        print(f"the exported program refuses or differs at {shapes}: {{e}}")
        refused = True
    except Exception as e:
        print(f"the exported program refuses {shapes}: {{type(e).__name__}}: {{e}}")
        refused = True
    try:
        got = ep.module()(*args)
    except Exception as e:
        print(f"{program} raises at {shapes}: {{type(e).__name__}}: {{e}}")
        return 0 if refused else 1
    for i, (e, g) in enumerate(zip(expected, got)):
        try:
            torch.testing.assert_close(g, e, equal_nan=True)
        except AssertionError as err:
            print(f"{program} takes {shapes} and output {{i}} differs from eager: {{err}}")
            return 1
    print("{program} accepts {shapes} and matches eager")
    return 0"#,
            inputs = crate::render::export_inputs(&self.case),
            strict = self.strict(),
            kw = crate::render::export_kwargs(&self.case),
            step = self.step_call("exported"),
        )
    }

    /// `main()` when torch's suggested fixes do not export: they are applied with torch's own
    /// helper and the export runs again.
    fn suggested_fix_main(&self, export: &str) -> String {
        format!(
            r#"def main():
    from torch.export.dynamic_shapes import refine_dynamic_shapes_from_suggested_fixes

    model = Model().eval()
    try:
        {export}
        print("export succeeds without a fix: not reproduced")
        return 0
    except torch._dynamo.exc.UserError as e:
        msg = e.msg
    print(msg)
    try:
        fixed = refine_dynamic_shapes_from_suggested_fixes(msg, {spec})
        print(f"with the suggested fixes applied: {{fixed}}")
        {fixed_export}
    except Exception:
        traceback.print_exc()
        print("torch's suggested fixes do not export")
        return 1
    print("export with the suggested fixes succeeds")
    return 0"#,
            fixed_export = self.export_call("fixed"),
            spec = self.dim_spec(),
        )
    }

    /// A pytest test that passes once the behaviour is gone.
    pub fn pytest(&self) -> String {
        let mut s = self.script();
        let cut = s.find("\n\n\nif __name__").unwrap_or(s.len());
        s.truncate(cut);
        s.push_str(
            "\n\n\ndef test_exported_program_keeps_its_contract():\n    assert main() == 0\n",
        );
        s
    }

    /// What the user asked for, as code: `x.size(0)` (Dim.AUTO), ...
    fn asked(&self) -> String {
        if self.case.spec_api() == crate::ir::SpecApi::Additional {
            let examples: Vec<String> = self
                .case
                .additional_inputs
                .iter()
                .map(|v| format!("`{}`", markdown_code(&self.case.shapes_text(v))))
                .collect();
            return format!(
                "the `Dim.DYNAMIC` dims torch infers from `AdditionalInputs` (examples {})",
                examples.join(", ")
            );
        }
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
                        format!("`{}` as `{}`", self.case.dim_label(i, d), spec_text(dim))
                    })
            })
            .collect();
        if spec.is_empty() {
            "no dimension".into()
        } else {
            spec.join(", ")
        }
    }

    fn title(&self) -> String {
        let at = self
            .culprit_code()
            .map(|c| format!(" at `{}`", markdown_code(&c)))
            .unwrap_or_default();
        let what = match self.contract {
            Some(Contract::SilentDivergence) => "exported program silently differs from eager",
            Some(Contract::SilentDivergenceAtZeroOne) => {
                "exported program accepts a size-0/1 input and silently differs from eager"
            }
            Some(Contract::InternalError) => "export fails with an internal error",
            Some(Contract::ProgramError) => {
                "the exported program passes its input checks and then raises"
            }
            Some(Contract::SpecBeyondModel) => {
                "a constraint violation for a range the model cannot run (expected)"
            }
            Some(Contract::SpuriousConstraintViolation) => {
                "a constraint violation for guards that hold on the whole range"
            }
            Some(Contract::SuggestedFixFails) => {
                "the suggested fixes of a constraint violation do not export"
            }
            Some(Contract::DynamicSpecializedSilently) => {
                "Dim.DYNAMIC is specialized without an error"
            }
            Some(Contract::NamedDimNarrowedSilently) => {
                "a named Dim is narrowed without a constraint violation"
            }
            Some(Contract::ShapesSpecRejectsValid) => {
                "the exported program rejects a size inside its ShapesSpec ranges"
            }
            Some(Contract::ShapesSpecRangeUnchecked) => {
                "the exported program takes a size outside its ShapesSpec range"
            }
            Some(Contract::AdditionalInputUnverified) => {
                "the exported program rejects an AdditionalInputs example that export verified"
            }
            Some(Contract::Crash) => "the process crashes",
            Some(Contract::Hang) => "export does not return",
            Some(Contract::AvoidableSpecialization) => "a dynamic dim is specialized",
            Some(Contract::DataDependentInOp) => "a data-dependent guard inside an op",
            Some(Contract::UnsupportedOnSymbolic) => "a Python operation needs a concrete size",
            Some(Contract::TraceRegion) => "export keeps the traced path (expected)",
            Some(Contract::ZeroOneSpecialization) => "0/1 specialization (expected)",
            Some(Contract::DataDependentBranch) => "a branch on data (expected)",
            Some(Contract::SpecRejected) => "a spec refused for its input (expected)",
            Some(Contract::ModelIntent) => "the model takes another path under export (expected)",
            Some(Contract::ApiArgumentError) => "a torch API refuses the model's arguments",
            Some(Contract::BackendError) => match self.backend {
                Backend::Saved => "torch.export.save/load fails on an exported program",
                Backend::Aoti => "AOTInductor fails to compile an exported program",
                Backend::Onnx => "the ONNX exporter fails on an exported program",
                Backend::Decomposed => "run_decompositions fails on an exported program",
                Backend::Compile => {
                    "torch.compile with the same ShapesSpec fails on a model torch.export takes"
                }
                _ => "a backend step fails on an exported program",
            },
            Some(Contract::CompileRecompiles) => {
                "torch.compile recompiles at a size its ShapesSpec declares dynamic"
            }
            Some(Contract::BackendUncheckedGuard) => {
                "onnxruntime answers wrong for an input the exported program's guards refuse"
            }
            Some(Contract::BackendUnsupported) => {
                "the backend has no translation for an op the model uses"
            }
            Some(Contract::BackendDisagrees) => match self.backend {
                Backend::Saved => "the saved and loaded program differs from the exported one",
                Backend::Aoti => "the AOTInductor-compiled program differs from the exported one",
                Backend::Onnx => "the ONNX model in onnxruntime differs from the exported program",
                Backend::Decomposed => "the decomposed program differs from the exported one",
                Backend::Compile => {
                    "torch.compile with the same ShapesSpec differs from the exported program"
                }
                _ => "a backend step changes the exported program",
            },
            None => "the exported program and eager disagree",
        };
        format!("torch.export: {what}{at}")
    }

    /// What torch should have done instead.
    fn should(&self) -> String {
        let shapes = self.case.shapes_text(&self.probe_sizes());
        match self.contract {
            Some(Contract::SilentDivergence | Contract::SilentDivergenceAtZeroOne) => format!(
                "At {shapes}, the exported program returns eager's values, or raises a guard failure if the trace does not cover these sizes."
            ),
            Some(Contract::InternalError) => "A user-facing error (a `torch._dynamo.exc.UserError` naming the dim, with a suggested fix), or a successful export.".into(),
            Some(Contract::SpuriousConstraintViolation) => "Export succeeds: every guard torch reports holds for every size in the specified range.".into(),
            Some(Contract::SuggestedFixFails) => "Export succeeds with the dynamic shapes `refine_dynamic_shapes_from_suggested_fixes` produces from the message.".into(),
            Some(
                Contract::DynamicSpecializedSilently
                | Contract::NamedDimNarrowedSilently,
            ) => format!(
                "Export raises a constraint violation naming the dim (as it does for a direct specialization), or the exported program accepts {shapes}."
            ),
            Some(Contract::Crash | Contract::Hang) => "An error or a result, not a dead or stuck process.".into(),
            Some(Contract::BackendError) => "The step returns a program: `run_decompositions` the same program in Core ATen ops, `save` then `load` the same program.".into(),
            Some(Contract::BackendDisagrees) => format!(
                "After the step, the program accepts and computes at {shapes} what the exported program does, with the same input ranges."
            ),
            Some(Contract::ProgramError) => format!(
                "At {shapes}, which its guards accept, the exported program returns eager's values."
            ),
            Some(Contract::ShapesSpecRejectsValid) => format!(
                "At {shapes}, inside the declared ShapeVar ranges ({}), the exported program returns eager's values; or export fails.",
                self.case.ranges_text()
            ),
            Some(Contract::ShapesSpecRangeUnchecked) => format!(
                "At {shapes}, outside the declared ShapeVar ranges and assumptions ({}), the exported program raises.",
                self.case.ranges_text()
            ),
            Some(Contract::CompileRecompiles) => format!(
                "At {shapes}, inside the declared ShapeVar ranges ({}), the compiled model runs the graph compiled at the example, without compiling another.",
                self.case.ranges_text()
            ),
            Some(Contract::AdditionalInputUnverified) => format!(
                "The exported program takes {shapes}, an AdditionalInputs example export verified, and returns eager's values there; or export raises at its verification."
            ),
            _ => "—".into(),
        }
    }

    /// The Markdown a finding is reported in: a bug report for a bug, a note for model
    /// authors for a portability finding, an explanation for expected behaviour.
    /// `observed` is the script's output on the reporter's torch (from [`run_script`]);
    /// `versions` is `torch.utils.collect_env`'s report.
    pub fn issue(&self, observed: Option<&str>, versions: Option<&str>) -> String {
        match self.class() {
            Some(Class::Bug) | None => self.bug_report(observed, versions),
            Some(Class::Portability) => self.portability_note(observed),
            Some(Class::Expected) => self.expected_note(observed),
        }
    }

    fn observed_block(&self, observed: Option<&str>) -> String {
        let text = match observed {
            Some(o) => o.trim_end().to_string(),
            None => {
                let mut t = self.message.trim_end().to_string();
                if let Some(tb) = &self.traceback {
                    t = tb.trim_end().to_string();
                }
                t
            }
        };
        format!("```\n{}\n```\n", markdown_fence(&text))
    }

    fn bug_report(&self, observed: Option<&str>, versions: Option<&str>) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "Title: {}\n\n---\n", python_comment(&self.title()));
        let _ = writeln!(s, "### 🐛 Describe the bug\n");
        let _ = writeln!(
            s,
            "With `dynamic_shapes` asking for {}, {}.\n",
            self.asked(),
            self.happened()
        );
        let _ = writeln!(s, "```python\n{}```\n", markdown_fence(&self.script()));
        let _ = writeln!(s, "Output (the script exits 1 while the bug is present):\n");
        s.push_str(&self.observed_block(observed));
        if let Some(fix) = &self.fix {
            let _ = writeln!(
                s,
                "\ntorch's suggested fixes, applied with `refine_dynamic_shapes_from_suggested_fixes`:\n\n```\n{}\n```",
                markdown_fence(fix.trim_end())
            );
        }
        let _ = writeln!(s, "\n**Expected:** {}\n", self.should());
        if let Some(c) = self.contract {
            let _ = writeln!(s, "**The promise:** {}\n", c.promise());
        }
        if let Some(w) = &self.workaround {
            let _ = writeln!(
                s,
                "A respelling avoids it:\n\n```diff\n{}```\n",
                markdown_fence(&self.diff(w))
            );
        }
        if let Some(twin) = self.twin_text() {
            let _ = writeln!(s, "{twin}\n");
        }
        let _ = writeln!(s, "### Versions\n");
        let v = versions.map(str::to_string).unwrap_or_else(|| {
            format!(
                "torch {} (run `python -m torch.utils.collect_env` for the full report)",
                self.torch
            )
        });
        let _ = writeln!(s, "```\n{}\n```\n", markdown_fence(v.trim_end()));
        let _ = writeln!(
            s,
            "<sub>Found by shapefuzz {} (`{}`).</sub>",
            env!("CARGO_PKG_VERSION"),
            markdown_code(self.signature.as_deref().unwrap_or("-"))
        );
        s
    }

    fn happened(&self) -> String {
        match self.contract {
            Some(Contract::SilentDivergence) => "the exported program accepts other sizes and returns a different result from eager PyTorch".into(),
            Some(Contract::SilentDivergenceAtZeroOne) => "the exported program accepts an input of size 0 or 1 and returns a different result from eager PyTorch, instead of rejecting it".into(),
            Some(Contract::InternalError) => "`torch.export.export` fails with an internal error on a model eager PyTorch runs".into(),
            Some(Contract::SpuriousConstraintViolation) => "`torch.export.export` raises a constraint violation, although every guard it names holds for every size in the specified range".into(),
            Some(Contract::SuggestedFixFails) => "export raises a constraint violation whose suggested fixes, applied with `refine_dynamic_shapes_from_suggested_fixes`, do not export".into(),
            Some(Contract::DynamicSpecializedSilently) => "export specializes a `Dim.DYNAMIC` dimension to a single size and raises no error".into(),
            Some(Contract::NamedDimNarrowedSilently) => "export narrows a named `Dim` without a constraint violation, and the exported program rejects sizes inside the declared range".into(),
            Some(Contract::Crash) => "the process dies".into(),
            Some(Contract::Hang) => "the call does not return".into(),
            _ => markdown_text(self.message.lines().next().unwrap_or("")),
        }
    }

    /// The workaround as a unified diff of the reproducer's model, if there is one.
    pub fn workaround_diff(&self) -> Option<String> {
        self.workaround.as_ref().map(|w| self.diff(w))
    }

    fn diff(&self, w: &Case) -> String {
        let (a, b) = (
            render_standalone(&self.case).source,
            render_standalone(w).source,
        );
        let mut out = String::new();
        for change in similar::TextDiff::from_lines(&a, &b).iter_all_changes() {
            let sign = match change.tag() {
                similar::ChangeTag::Delete => "-",
                similar::ChangeTag::Insert => "+",
                similar::ChangeTag::Equal => continue,
            };
            let line = change.value().trim();
            if !line.is_empty() {
                let _ = writeln!(out, "{sign} {line}");
            }
        }
        out
    }

    /// How a user writes the dims a 0/1 probe set to 0 or 1, for `torch._check`.
    fn zero_one_exprs(&self) -> Vec<String> {
        let Some(p) = &self.probe else { return vec![] };
        let mut out = vec![];
        for (s, &n) in p.iter().enumerate() {
            if n > 1 {
                continue;
            }
            let found = self.case.inputs.iter().enumerate().find_map(|(i, inp)| {
                inp.dims
                    .iter()
                    .position(|d| crate::oracle::dim_symbol(&d.size) == Some(s))
                    .map(|d| match inp.kind {
                        crate::ir::InputKind::Tensor => {
                            format!("{}.shape[{d}]", crate::ir::input_name(i))
                        }
                        _ => crate::ir::input_name(i),
                    })
            });
            out.extend(found);
        }
        out
    }

    /// A silently wrong answer at size 0/1: torch's documented design, the author's to rule
    /// out. The fix is verified on torch 2.15 (`a_zero_one_note_s_fix_rejects_0_1_and_keeps_2`
    /// in tests/live_oracle.rs): under ShapesSpec with `ShapeVar(min=2)` the program asserts
    /// the range at run time; `torch._check(n >= 2)` in `forward` is dropped by export.
    fn zero_one_note(&self, observed: Option<&str>) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "## Silently wrong answer at size 0/1 (note for model authors, the most dangerous kind)\n\nWith `dynamic_shapes` asking for {}, the exported program accepts an input whose size is 0 or 1 and returns a different result from eager, without an error:\n",
            self.asked()
        );
        let _ = writeln!(
            s,
            "> {}\n",
            markdown_text(self.message.lines().next().unwrap_or(""))
        );
        let exprs = self.zero_one_exprs();
        let which = if exprs.is_empty() {
            "the size".to_string()
        } else {
            exprs
                .iter()
                .map(|e| format!("`{}`", markdown_code(e)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            s,
            "**Fix:** rule out 0/1 for {which}: export with the ShapesSpec API and a range that starts at 2 (`ShapeVar(\"n\", min=2)` in a `TensorSpec`): the program then asserts the range at run time and raises at 0/1 (verified on torch 2.15: `Runtime assertion failed for expression u0 >= 2`) while every size of 2 or more runs as before; or check the size before calling the exported program. `Dim(\"n\", min=3)` also rejects 0/1 but gives up size 2; a `torch._check(n >= 2)` inside `forward` does not help, as export already assumes it and drops the check. If the model must handle 0/1, export at an example of that size.\n"
        );
        let _ = writeln!(
            s,
            "Why torch does not reject these sizes itself: \"we allow dimensions to be 0/1 at runtime\" (`torch/_export/utils.py`, the range check only when `min_val > 2`; the same in `torch/export/_unlift.py`'s guards function); export \"will often unsoundly assume that a graph works for 0/1\" (`StrictMinMaxConstraint`, `torch/fx/experimental/symbolic_shapes.py`); \"This is not a bug\" (export docs, 0/1 specialization); pytorch/pytorch#105066 was closed on that reasoning.\n"
        );
        let _ = writeln!(s, "```python\n{}```\n", markdown_fence(&self.script()));
        let _ = writeln!(s, "Output:\n");
        s.push_str(&self.observed_block(observed));
        s
    }

    /// What the twin under the other spec API showed, in one sentence; when it exports and
    /// passes, that spec follows as the rewrite that works (its import and lines).
    pub fn twin_text(&self) -> Option<String> {
        let twin = self.twin.as_ref()?;
        let mut s = markdown_text(&twin.describe(self.probe.as_deref()));
        if twin.verdict == Verdict::Pass
            && let Some(case) = self.case.in_spec_api(twin.api)
        {
            let (import, lines) = crate::render::spec_lines(&case);
            let code: Vec<String> = import.into_iter().chain(lines).collect();
            s.push_str(&format!(
                " That spec:\n\n```python\n{}\n```",
                markdown_fence(&code.join("\n"))
            ));
        }
        Some(s)
    }

    fn portability_note(&self, observed: Option<&str>) -> String {
        if self.contract == Some(Contract::SilentDivergenceAtZeroOne) {
            return self.zero_one_note(observed);
        }
        let mut s = String::new();
        let line = self
            .culprit_code()
            .map(|c| format!("`{}`", markdown_code(&c)))
            .unwrap_or_else(|| "a line of the model".into());
        // ShapesSpec never specializes: where the Dim API would pin a size, export fails
        let what = if self.case.spec_api() == crate::ir::SpecApi::Shapes {
            "makes torch.export fail on a size it may not specialize (ShapesSpec keeps every ShapeVar unbacked), though the model's own Python does not force a size"
        } else {
            "makes torch.export specialize a size that the model's own Python does not force"
        };
        let _ = writeln!(
            s,
            "## Portability note for model authors (not a torch bug)\n\nWith `dynamic_shapes` asking for {}, {line} {what}:\n",
            self.asked()
        );
        let _ = writeln!(
            s,
            "> {}\n",
            markdown_text(self.message.lines().next().unwrap_or(""))
        );
        match &self.workaround {
            Some(w) => {
                let _ = writeln!(
                    s,
                    "Spelling the same computation differently keeps the dimension dynamic:\n\n```diff\n{}```\n",
                    markdown_fence(&self.diff(w))
                );
            }
            None => {
                let _ = writeln!(s, "No respelling shapefuzz knows keeps it dynamic.\n");
            }
        }
        if let Some(twin) = self.twin_text() {
            let _ = writeln!(s, "{twin}\n");
        }
        if let Some(c) = self.contract {
            let _ = writeln!(s, "Why it is not a torch bug: {}\n", c.promise());
        }
        let _ = writeln!(s, "```python\n{}```\n", markdown_fence(&self.script()));
        let _ = writeln!(s, "Output:\n");
        s.push_str(&self.observed_block(observed));
        s
    }

    fn expected_note(&self, observed: Option<&str>) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "## Expected behaviour (not a torch bug)\n\n{}\n\n> {}\n",
            self.contract.map(Contract::promise).unwrap_or(""),
            markdown_text(self.message.lines().next().unwrap_or(""))
        );
        let _ = writeln!(s, "```python\n{}```\n", markdown_fence(&self.script()));
        let _ = writeln!(s, "Output:\n");
        s.push_str(&self.observed_block(observed));
        s
    }
}

/// Runs a reproducer script with `python` in a scratch directory and returns its exit code
/// and output (stdout then stderr), with the scratch path and library paths removed.
pub fn run_script(
    python: &std::path::Path,
    script: &str,
    timeout: std::time::Duration,
) -> anyhow::Result<(Option<i32>, String)> {
    let dir = std::env::temp_dir().join(format!(
        "shapefuzz-repro-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ));
    std::fs::create_dir_all(&dir)?;
    // Removed on every way out of this function.
    struct Scratch(std::path::PathBuf);
    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let _scratch = Scratch(dir.clone());
    let path = dir.join("repro.py");
    std::fs::write(&path, script)?;
    let mut child = std::process::Command::new(python)
        .arg("repro.py")
        .current_dir(&dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| anyhow::anyhow!("cannot run {}: {e}", python.display()))?;
    let (mut out, mut err) = (child.stdout.take(), child.stderr.take());
    let reader = std::thread::spawn(move || {
        use std::io::Read;
        let mut o = String::new();
        let mut e = String::new();
        if let Some(x) = out.as_mut() {
            let _ = x.read_to_string(&mut o);
        }
        if let Some(x) = err.as_mut() {
            let _ = x.read_to_string(&mut e);
        }
        (o, e)
    });
    let started = std::time::Instant::now();
    let code = loop {
        if let Some(st) = child.try_wait()? {
            break st.code();
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let (o, e) = reader.join().unwrap_or_default();
    let mut text = o;
    if !e.trim().is_empty() {
        text.push_str(&e);
    }
    Ok((code, clean_paths(&text, &dir)))
}

/// No paths of this machine in a report: the scratch directory goes, library files are named
/// from their package (`torch/...`).
fn clean_paths(text: &str, dir: &std::path::Path) -> String {
    use regex::Regex;
    use std::sync::LazyLock;
    static SITE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"/[^\s"']*?/(site|dist)-packages/"#).expect("valid pattern"));
    static PY: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"/[^\s"']*?/lib/python3\.\d+/"#).expect("valid pattern"));
    let t = text.replace(&format!("{}/", dir.display()), "");
    let t = SITE.replace_all(&t, "").into_owned();
    PY.replace_all(&t, "python3/").into_owned()
}

/// Where the Python of two reproducers of the same finding differs, if anywhere but in the
/// record's text: `None` when `hostile` is `benign`'s code line for line (lines as Python
/// splits them, at `\n` and `\r`), with the same fixed preamble, and each line that differs
/// a single `#` comment. This is the renderer's promise that a record's strings never
/// become code, checked by the tests and the `render_record` fuzz target.
pub fn differs_outside_comments(benign: &str, hostile: &str) -> Option<String> {
    if !hostile.starts_with(crate::escape::PYTHON_PREAMBLE) {
        return Some("the file does not open with the fixed preamble".into());
    }
    let a: Vec<&str> = benign.split(['\n', '\r']).collect();
    let b: Vec<&str> = hostile.split(['\n', '\r']).collect();
    if a.len() != b.len() {
        return Some(format!(
            "{} lines where the benign file has {}",
            b.len(),
            a.len()
        ));
    }
    for (n, (x, y)) in a.iter().zip(&b).enumerate() {
        let comment = |l: &str| l.starts_with('#') && !l.chars().any(char::is_control);
        if x != y && !(comment(x) && comment(y)) {
            return Some(format!(
                "line {}: {y:?} where the benign file has {x:?}",
                n + 1
            ));
        }
    }
    None
}

/// The `compile` backend in a reproducer: the model and its ShapesSpec through torch.compile,
/// called like `ep.module()`, counting the graphs each call compiles.
const COMPILE_WITH_SPEC: &str = r#"class compile_with_spec:
    """The model through torch.compile with its ShapesSpec (Inductor on CPU, fullgraph=True),
    compiled at the export inputs and called like ep.module(); `recompiles` is the number of
    graphs the last call compiled."""

    def __init__(self, model, spec, args):
        from torch._dynamo.utils import counters

        self.counters = counters
        self.fn = torch.compile(model, dynamic_shapes=spec, fullgraph=True)
        self.fn(*args)
        self.recompiles = 0

    def module(self):
        def run(*args):
            before = self.counters["stats"]["unique_graphs"]
            out = self.fn(*args)
            self.recompiles = self.counters["stats"]["unique_graphs"] - before
            return tuple(out) if isinstance(out, (list, tuple)) else (out,)

        return run


"#;
