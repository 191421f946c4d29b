//! The oracle: runs a case through real PyTorch and says what it saw.
//!
//! `check` renders the case, sends it to a worker of the [`Pool`] (eager at the export
//! sizes, `torch.export`, inspection, eager vs exported at every probe; see
//! `harness/python/PROTOCOL.md`), and judges the worker's raw observations against the
//! case's ground truth here in Rust: a requested-dynamic dim that eager accepts at a size
//! the exported program rejects is `lost_dim`; a probe eager runs and the exported program
//! refuses is `spurious_guard`; different results are `divergence`. Guards are traced
//! through the renderer's line map to the IR node that added them. The oracle never judges
//! what it cannot: a non-repeatable eager result is `poisoned`, not a finding.

pub mod env;
pub mod pool;

pub use env::{EnvError, PythonEnv};
pub use pool::{Outcome, Pool, PoolConfig};

use crate::ir::{Case, DimTruth, SCAN_MAX, input_name, runs, symbol_name};
use crate::render::{Rendered, render};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Invalid,
    LostDim,
    SpuriousGuard,
    Divergence,
    ExportError,
    Crash,
    Hang,
    Poisoned,
}

impl Verdict {
    pub const ALL: &'static [Verdict] = &[
        Verdict::Pass,
        Verdict::Invalid,
        Verdict::LostDim,
        Verdict::SpuriousGuard,
        Verdict::Divergence,
        Verdict::ExportError,
        Verdict::Crash,
        Verdict::Hang,
        Verdict::Poisoned,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Invalid => "invalid",
            Verdict::LostDim => "lost_dim",
            Verdict::SpuriousGuard => "spurious_guard",
            Verdict::Divergence => "divergence",
            Verdict::ExportError => "export_error",
            Verdict::Crash => "crash",
            Verdict::Hang => "hang",
            Verdict::Poisoned => "poisoned",
        }
    }
    /// Whether this verdict is a finding about torch (as opposed to pass, or the harness
    /// being unable to judge).
    pub fn is_finding(self) -> bool {
        !matches!(self, Verdict::Pass | Verdict::Invalid | Verdict::Poisoned)
    }
}

/// Which exporter path a check drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    /// `torch.export.export(strict=False)`, torch's default.
    #[default]
    Export,
    /// `torch.export.export(strict=True)`.
    ExportStrict,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Export => "export",
            Backend::ExportStrict => "export-strict",
        }
    }
}

/// The IR node a guard was traced to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cause {
    pub node: u32,
    pub op: String,
    pub spelling: Option<String>,
    pub guard: String,
    pub line: u32,
}

/// One thing the oracle observed that is not as it should be.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub verdict: Verdict,
    /// Export-error sub-kind (constraint_violation, data_dependent, unsupported, internal).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    pub message: String,
    /// For lost_dim: the input and dim; for probe findings: the probe's sizes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dim: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probe: Option<Vec<i64>>,
}

/// An edge (0/1) probe's outcome; reported, never a verdict.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EdgeOutcome {
    pub sizes: Vec<i64>,
    pub eager_ok: bool,
    pub exported_ok: bool,
    pub matches: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    pub render_s: f64,
    pub ipc_s: f64,
    pub load_s: f64,
    pub eager_s: f64,
    pub export_s: f64,
    pub inspect_s: f64,
    pub probes_s: f64,
    pub total_s: f64,
}

/// What a check concluded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    pub backend: Backend,
    pub verdict: Verdict,
    /// The finding behind the verdict first, then the rest.
    pub findings: Vec<Finding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<Cause>,
    /// Per input: the dynamic-shape spec asked for and what the exported program kept.
    pub dims: Vec<DimReport>,
    pub edge: Vec<EdgeOutcome>,
    pub timings: Timings,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DimReport {
    pub input: String,
    pub dim: u32,
    pub requested: String,
    pub truth: String,
    /// What torch kept: "dynamic", "pinned to N", "narrowed to [...]".
    pub kept: String,
}

impl CheckResult {
    /// The message of the finding behind the verdict.
    pub fn message(&self) -> &str {
        self.findings
            .first()
            .map(|f| f.message.as_str())
            .unwrap_or("")
    }
    pub fn kind(&self) -> Option<&str> {
        self.findings.first().and_then(|f| f.kind.as_deref())
    }
}

/// Builds the worker request for a case.
pub fn request_for(rendered: &Rendered, backend: Backend) -> Value {
    json!({
        "cmd": "check",
        "source": rendered.source,
        "name": "case",
        "strict": backend == Backend::ExportStrict,
        "guard_scan_max": SCAN_MAX,
        "seed": 0,
    })
}

/// Checks one case on one backend.
pub fn check(pool: &Pool, case: &Case, backend: Backend) -> CheckResult {
    let t0 = Instant::now();
    let rendered = render(case);
    let render_s = t0.elapsed().as_secs_f64();
    let outcome = pool.request(request_for(&rendered, backend));
    let mut r = judge(case, &rendered, backend, &outcome);
    r.timings.render_s = render_s;
    r.timings.total_s = t0.elapsed().as_secs_f64();
    r
}

fn secs(v: &Value, k: &str) -> f64 {
    v.get("timings")
        .and_then(|t| t.get(k))
        .and_then(Value::as_f64)
        .unwrap_or(0.0)
}

fn err_text(e: &Value) -> String {
    let ty = e.get("type").and_then(Value::as_str).unwrap_or("Error");
    let msg = e.get("message").and_then(Value::as_str).unwrap_or("");
    format!("{ty}: {msg}")
}

fn first_line(s: &str) -> String {
    s.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string()
}

/// The last non-blank line: where Python puts the exception of a traceback.
pub(crate) fn last_line(s: &str) -> &str {
    s.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
}

fn finding(verdict: Verdict, message: String) -> Finding {
    Finding {
        verdict,
        kind: None,
        message,
        input: None,
        dim: None,
        probe: None,
    }
}

fn result(backend: Backend, verdict: Verdict, findings: Vec<Finding>) -> CheckResult {
    CheckResult {
        backend,
        verdict,
        findings,
        cause: None,
        dims: vec![],
        edge: vec![],
        timings: Timings::default(),
    }
}

/// Turns a worker outcome into a verdict against the case's ground truth.
pub fn judge(case: &Case, rendered: &Rendered, backend: Backend, outcome: &Outcome) -> CheckResult {
    let (v, round_trip) = match outcome {
        Outcome::Hang { after } => {
            return result(
                backend,
                Verdict::Hang,
                vec![finding(
                    Verdict::Hang,
                    format!("no answer within {after:.1?}"),
                )],
            );
        }
        Outcome::Crash {
            status,
            stderr_tail,
        } => {
            let last = last_line(stderr_tail);
            return result(
                backend,
                Verdict::Crash,
                vec![finding(Verdict::Crash, format!("worker {status}: {last}"))],
            );
        }
        Outcome::Reply { value, round_trip } => (value, *round_trip),
    };
    let mut timings = Timings {
        load_s: secs(v, "load"),
        eager_s: secs(v, "eager"),
        export_s: secs(v, "export"),
        inspect_s: secs(v, "inspect"),
        probes_s: secs(v, "probes"),
        ..Default::default()
    };
    let worker_total =
        timings.load_s + timings.eager_s + timings.export_s + timings.inspect_s + timings.probes_s;
    timings.ipc_s = (round_trip.as_secs_f64() - worker_total).max(0.0);
    let with_timings = |mut r: CheckResult| {
        r.timings = timings.clone();
        r
    };

    if v.get("ok") != Some(&Value::Bool(true)) {
        let msg = v
            .get("error")
            .map(err_text)
            .unwrap_or_else(|| "worker error".into());
        return with_timings(result(
            backend,
            Verdict::Invalid,
            vec![finding(Verdict::Invalid, first_line(&msg))],
        ));
    }
    if v["eager_export"]["ok"] != Value::Bool(true) {
        let msg = format!(
            "eager fails at the export sizes: {}",
            first_line(&err_text(&v["eager_export"]["error"]))
        );
        return with_timings(result(
            backend,
            Verdict::Invalid,
            vec![finding(Verdict::Invalid, msg)],
        ));
    }
    let cause = trace_cause(case, rendered, v);
    if v["export"]["ok"] != Value::Bool(true) {
        let e = &v["export"]["error"];
        let mut f = finding(Verdict::ExportError, err_text(e));
        f.kind = Some(
            e.get("kind")
                .and_then(Value::as_str)
                .unwrap_or("internal")
                .to_string(),
        );
        let mut r = with_timings(result(backend, Verdict::ExportError, vec![f]));
        r.cause = cause;
        r.dims = dim_reports(case, v);
        return r;
    }

    let mut findings = vec![];
    // Eager itself: at every normal probe it must run (else the generator was wrong) and
    // be repeatable (else nothing can be judged).
    let mut edge = vec![];
    let probes = v["probes"].as_array().cloned().unwrap_or_default();
    // The module lists normal probes first, then the 0/1 class.
    let ordered = case
        .probes
        .iter()
        .filter(|p| !p.edge)
        .chain(case.probes.iter().filter(|p| p.edge));
    for (p, case_probe) in probes.iter().zip(ordered) {
        let eager_ok = p["eager"]["ok"] == Value::Bool(true);
        let exported_ok = p["exported"]["ok"] == Value::Bool(true);
        let matches = p["match"].as_bool();
        if case_probe.edge {
            edge.push(EdgeOutcome {
                sizes: case_probe.sizes.clone(),
                eager_ok,
                exported_ok,
                matches,
            });
            continue;
        }
        let mut pf = |verdict, message: String| {
            let mut f = finding(verdict, message);
            f.probe = Some(case_probe.sizes.clone());
            findings.push(f);
        };
        if !eager_ok {
            pf(
                Verdict::Invalid,
                format!(
                    "eager fails at probe: {}",
                    first_line(&err_text(&p["eager"]["error"]))
                ),
            );
        } else if p["eager"]["repeatable"] == Value::Bool(false) {
            pf(Verdict::Poisoned, "eager is not repeatable".into());
        } else if !exported_ok {
            pf(
                Verdict::SpuriousGuard,
                first_line(&err_text(&p["exported"]["error"])),
            );
        } else if matches == Some(false) {
            let detail = p["detail"].as_str().unwrap_or("results differ").to_string();
            if p["eager"]["finite"] == Value::Bool(false) {
                pf(
                    Verdict::Poisoned,
                    format!("non-finite eager result: {detail}"),
                );
            } else {
                pf(Verdict::Divergence, detail);
            }
        }
    }

    // Dims: pinned by the placeholder, or narrowed by the guards.
    let valid = case.valid_runs();
    let accepted = &v["accepted"];
    for (i, input) in case.inputs.iter().enumerate() {
        for (d, dim) in input.dims.iter().enumerate() {
            if !dim.spec.requests_dynamic() || dim.truth == DimTruth::Static {
                continue;
            }
            let placeholder = v["dims"].as_array().and_then(|a| {
                a.iter().find(|x| {
                    x["input"].as_u64() == Some(i as u64) && x["dim"].as_u64() == Some(d as u64)
                })
            });
            let name = input_name(i);
            let mut syms = vec![];
            dim.size.symbols(&mut syms);
            let Some(&s) = syms.first() else { continue };
            let sname = symbol_name(s.0 as usize);
            let acc: Vec<[i64; 2]> = accepted
                .get(&sname)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|r| Some([r.get(0)?.as_i64()?, r.get(1)?.as_i64()?]))
                        .collect()
                })
                .unwrap_or_default();
            let inside = |n: i64, rs: &[[i64; 2]]| rs.iter().any(|r| r[0] <= n && n <= r[1]);
            // Sizes eager accepts that the exported program's guards reject.
            let lost: Vec<i64> = (2..=SCAN_MAX)
                .filter(|&n| inside(n, &valid[s.0 as usize]) && !inside(n, &acc))
                .collect();
            let pinned = placeholder.and_then(|p| p["pinned"].as_i64());
            let message = match pinned {
                Some(p) => format!(
                    "{name}.size({d}) was requested dynamic but the exported program pins it to {p}"
                ),
                None if !lost.is_empty() => {
                    let kept: Vec<i64> = (2..=SCAN_MAX).filter(|&n| inside(n, &acc)).collect();
                    format!(
                        "{name}.size({d}) was requested dynamic; with {name}.size({d}) = {}, eager accepts {sname} = {} but the exported program only {}",
                        dim.size,
                        fmt_runs(&valid[s.0 as usize]),
                        fmt_runs(&runs(&kept))
                    )
                }
                None => continue,
            };
            let mut f = finding(Verdict::LostDim, message);
            f.input = Some(name);
            f.dim = Some(d as u32);
            // A size to show it with: the first one eager accepts and the program refuses.
            f.probe = lost.first().map(|&n| {
                let mut w = case.export.clone();
                w[s.0 as usize] = n;
                w
            });
            findings.push(f);
        }
    }

    // A dim lost and the probe it fails at are one story; the most severe comes first.
    let rank = |v: Verdict| match v {
        Verdict::Invalid => 0,
        Verdict::Poisoned => 1,
        Verdict::Divergence => 2,
        Verdict::LostDim => 3,
        Verdict::SpuriousGuard => 4,
        _ => 5,
    };
    findings.sort_by_key(|f| rank(f.verdict));
    let verdict = findings.first().map(|f| f.verdict).unwrap_or(Verdict::Pass);
    let mut r = with_timings(result(backend, verdict, findings));
    r.cause = if verdict == Verdict::Pass {
        None
    } else {
        cause
    };
    r.dims = dim_reports(case, v);
    r.edge = edge;
    r
}

fn fmt_runs(r: &[[i64; 2]]) -> String {
    if r.is_empty() {
        return "none".into();
    }
    let parts: Vec<String> = r
        .iter()
        .map(|r| {
            if r[0] == r[1] {
                format!("{}", r[0])
            } else if r[1] == SCAN_MAX {
                format!("{}..", r[0])
            } else {
                format!("{}..={}", r[0], r[1])
            }
        })
        .collect();
    parts.join(", ")
}

/// The first guard the worker traced to a line of the case, mapped to its node.
fn trace_cause(case: &Case, rendered: &Rendered, v: &Value) -> Option<Cause> {
    let guards = v["guards"].as_array()?;
    // A specialization to a number (`Eq(s17, 2)`) explains most findings, then range
    // guards (`s77 <= 4`); equalities between two sizes are usually ties the model asks for.
    let rank = |g: &&Value| {
        let e = g["expr"].as_str().unwrap_or("");
        let to_number = e
            .strip_prefix("Eq(")
            .and_then(|r| r.strip_suffix(')'))
            .and_then(|r| r.rsplit(", ").next())
            .is_some_and(|n| n.trim().parse::<i64>().is_ok());
        if to_number {
            0
        } else if !e.starts_with("Eq(") {
            1
        } else {
            2
        }
    };
    let mut ordered: Vec<&Value> = guards.iter().collect();
    ordered.sort_by_key(rank);
    for g in ordered {
        let Some(line) = g["line"].as_u64() else {
            continue;
        };
        let Some(node) = rendered.node_at_line(line as u32) else {
            continue;
        };
        let op = &case.nodes[node as usize];
        return Some(Cause {
            node,
            op: op.kind(),
            spelling: op.spelling_name().map(str::to_string),
            guard: g["expr"].as_str().unwrap_or("").to_string(),
            line: line as u32,
        });
    }
    None
}

fn dim_reports(case: &Case, v: &Value) -> Vec<DimReport> {
    let mut out = vec![];
    for (i, input) in case.inputs.iter().enumerate() {
        for (d, dim) in input.dims.iter().enumerate() {
            let p = v["dims"].as_array().and_then(|a| {
                a.iter().find(|x| {
                    x["input"].as_u64() == Some(i as u64) && x["dim"].as_u64() == Some(d as u64)
                })
            });
            let kept = match p {
                None => "unknown (export failed)".to_string(),
                Some(p) => match p["pinned"].as_i64() {
                    Some(n) => format!("pinned to {n}"),
                    None => match p["range"].as_array() {
                        Some(r) => format!(
                            "dynamic [{}, {}]",
                            r.first()
                                .and_then(Value::as_i64)
                                .map(|x| x.to_string())
                                .unwrap_or("?".into()),
                            r.get(1)
                                .and_then(Value::as_i64)
                                .map(|x| x.to_string())
                                .unwrap_or("inf".into())
                        ),
                        None => "dynamic".into(),
                    },
                },
            };
            out.push(DimReport {
                input: input_name(i),
                dim: d as u32,
                requested: spec_name(&dim.spec),
                truth: truth_name(&dim.truth),
                kept,
            });
        }
    }
    out
}

/// How a dim spec reads in a report.
pub fn spec_name(s: &crate::ir::DimSpec) -> String {
    use crate::ir::DimSpec::*;
    match s {
        Unspecified => "unspecified (static)".into(),
        Auto => "Dim.AUTO".into(),
        Dynamic => "Dim.DYNAMIC".into(),
        Static => "Dim.STATIC".into(),
        Named { min, max } => format!("Dim(min={min:?}, max={max:?})"),
        Derived { k } => format!("{k} * Dim"),
    }
}

fn truth_name(t: &DimTruth) -> String {
    match t {
        DimTruth::Free => "free".into(),
        DimTruth::Static => "static".into(),
        DimTruth::Tied { input, dim } => {
            format!("tied to {}.size({dim})", input_name(*input as usize))
        }
        DimTruth::MultipleOf { k } => format!("multiple of {k}"),
        DimTruth::Bounded { runs } => format!("bounded: {}", fmt_runs(runs)),
    }
}

/// Worker start-up and a case's phases, as the `timings` of a report.
pub fn describe_timings(t: &Timings) -> String {
    format!(
        "render {:.1} ms, ipc {:.1} ms, load {:.1} ms, eager {:.1} ms, export {:.1} ms, inspect {:.1} ms, probes {:.1} ms, total {:.1} ms",
        t.render_s * 1e3,
        t.ipc_s * 1e3,
        t.load_s * 1e3,
        t.eager_s * 1e3,
        t.export_s * 1e3,
        t.inspect_s * 1e3,
        t.probes_s * 1e3,
        t.total_s * 1e3
    )
}
