//! `shapefuzz probe`: the oracle on a user's own model instead of a generated case.
//!
//! The user's file (or `module:function` entry point) runs in a worker, never in this
//! process, and only when the user asks for it. The worker maps the user's `dynamic_shapes`
//! to size symbols, finds the sizes eager runs at (the ground truth a generated case carries
//! in its IR), derives the trace region from the guards the model's own Python decided on,
//! and runs the same check as for a case (`harness/python/PROTOCOL.md`, `probe`). This module
//! judges that reply by the contract oracle's rules (`oracle/CONTRACT.md`) with the truth
//! taken from eager, names the model line and torch site of each culprit, suggests a known
//! respelling where one applies, and renders the report as text, JSON or a torch issue.
//!
//! Promises: a fault of the user's code (it raises at import, at the example inputs, or
//! breaks the probe convention) is reported as a setup error of the stage it happened in,
//! with the user's traceback and never one of shapefuzz's own; a hang or crash names the
//! stage it happened in; nothing here is judged a torch bug unless the contract says so.

use crate::escape;
use crate::ir::{in_runs, runs};
use crate::oracle::protocol::{CheckReply, ErrorInfo, GuardInfo};
use crate::oracle::{Class, Contract, Outcome, Pool, Verdict};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Version of the JSON report `shapefuzz probe --json` prints.
pub const REPORT_SCHEMA: u32 = 1;

/// What to probe: a file following the convention, or an importable entry point.
#[derive(Clone, Debug)]
pub enum Target {
    File(PathBuf),
    Entry(String),
}

impl Target {
    pub fn text(&self) -> String {
        match self {
            Target::File(p) => p.display().to_string(),
            Target::Entry(e) => e.clone(),
        }
    }
}

/// How a probe is run.
#[derive(Clone, Debug)]
pub struct ProbeConfig {
    pub target: Target,
    /// The largest size tried per symbol (eager scan, guard scan, sweep).
    pub scan_max: i64,
    /// Sizes per symbol the sweep compares with eager, beyond the chosen probes.
    pub sweep: usize,
    pub strict: bool,
    /// Directories put first on the worker's `sys.path` (the file's own, and the cwd).
    pub sys_path: Vec<PathBuf>,
}

/// The request the worker's `probe` command takes.
pub fn request(cfg: &ProbeConfig) -> Value {
    let (path, entry, root) = match &cfg.target {
        Target::File(p) => {
            let abs = std::path::absolute(p).unwrap_or_else(|_| p.clone());
            let root = abs.parent().map(Path::to_path_buf);
            (Some(abs), None, root)
        }
        Target::Entry(e) => (None, Some(e.clone()), std::env::current_dir().ok()),
    };
    json!({
        "cmd": "probe",
        "path": path.map(|p| p.display().to_string()),
        "entry": entry,
        "root": root.map(|p| p.display().to_string()),
        "sys_path": cfg.sys_path.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        "guard_scan_max": cfg.scan_max,
        "sweep": cfg.sweep,
        "strict": cfg.strict,
        "seed": 0,
    })
}

/// The model and its spec as the worker understood them.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct Subject {
    pub file: Option<String>,
    pub inputs: Vec<SubjectInput>,
    pub symbols: Vec<SubjectSymbol>,
    /// A ShapesSpec's assumptions as written (`b % 2 == 0`), asserted at run time.
    #[serde(default)]
    pub assumptions: Vec<String>,
    pub export_sizes: BTreeMap<String, i64>,
    /// Per symbol, the sizes in `2..=scan_max` eager runs at (the others at their examples).
    pub valid: BTreeMap<String, Vec<[i64; 2]>>,
    /// Per symbol, the sizes at which the model's Python decides as at the examples.
    #[serde(default)]
    pub region: BTreeMap<String, Vec<[i64; 2]>>,
    pub factory: bool,
    pub scan_max: i64,
    /// The model's code asks whether it is being exported or compiled
    /// (`torch.compiler.is_exporting()`): it may take another path under export on purpose.
    #[serde(default)]
    pub export_branch: bool,
    /// The model takes lists, tuples or dicts of tensors: `inputs` are their leaves in
    /// torch's pytree order, named as the user writes them (`xs[0]`, `batch['ids']`).
    #[serde(default)]
    pub flattened: bool,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct SubjectInput {
    pub name: String,
    pub shape: Option<Vec<i64>>,
    pub dtype: String,
}

/// One size symbol: a named Dim, or the Dim.AUTO / Dim.DYNAMIC dims of one example size.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct SubjectSymbol {
    pub name: String,
    /// `auto`, `dynamic`, `named`, or `var` (a ShapesSpec ShapeVar / IntVar).
    pub spec: String,
    /// The spec as written: `Dim.AUTO`, `Dim('batch', min=2, max=64)`.
    pub text: String,
    pub lo: Option<i64>,
    pub hi: Option<i64>,
    pub example: i64,
    pub dims: Vec<SubjectDim>,
    /// With ShapesSpec assumptions: the sizes in `0..=scan_max` that keep them, this
    /// symbol alone varying.
    #[serde(default)]
    pub assumed: Option<Vec<[i64; 2]>>,
}

impl SubjectSymbol {
    /// The spec kind the shared rules take: a named Dim's range clamped to `2..=scan_max`.
    fn spec_kind(&self, scan_max: i64) -> crate::oracle::contract::SymbolSpec {
        use crate::oracle::contract::SymbolSpec;
        match self.spec.as_str() {
            "named" => SymbolSpec::Named {
                lo: self.lo.unwrap_or(0).max(2),
                hi: self.hi.unwrap_or(scan_max).min(scan_max),
            },
            "dynamic" => SymbolSpec::Dynamic,
            "var" => SymbolSpec::Var {
                lo: self.lo.unwrap_or(0),
                hi: self.hi.unwrap_or(scan_max).min(scan_max),
            },
            _ => SymbolSpec::Auto,
        }
    }

    /// Under ShapesSpec, whether `n` lies in the declared range.
    fn declares(&self, n: i64) -> bool {
        n >= self.lo.unwrap_or(i64::MIN) && self.hi.is_none_or(|h| n <= h)
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct SubjectDim {
    pub input: u32,
    pub dim: u32,
    pub label: String,
    pub derived: Option<String>,
    /// The dim's example size (a derived dim's differs from its root's).
    #[serde(default)]
    pub size: Option<i64>,
}

/// A line of the model on the stack when torch decided.
pub use crate::oracle::protocol::ModelFrame as Frame;

/// The culprit of a finding: the guard (or error) and the model line behind it.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Culprit {
    /// The guard torch recorded, or the error's first line.
    pub guard: String,
    /// The innermost model line, then the lines that called it.
    pub stack: Vec<Frame>,
    /// The torch function that added the guard or raised (`torch/nn/functional.py in pad`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    /// Whether the model's Python itself asked for a concrete size (`if`, `int()`, `range`).
    pub python: bool,
}

/// One judged observation.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ProbeFinding {
    pub verdict: Verdict,
    pub contract: Contract,
    pub class: Class,
    pub message: String,
    /// The dim it is about, for a lost dim.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dim: Option<String>,
    /// The sizes it shows at, per symbol.
    pub sizes: BTreeMap<String, i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub culprit: Option<Culprit>,
    /// A known respelling of the culprit line that usually keeps the dim dynamic.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
    /// The torch mechanism behind it, keyed as campaigns key it
    /// (`crate::oracle::root_cause_key`), so a user's finding and a generated one meet.
    pub root_cause: String,
}

impl ProbeFinding {
    fn keyed(mut self) -> ProbeFinding {
        let cause = self.culprit.as_ref().map(|c| crate::oracle::Cause {
            node: None,
            op: None,
            spelling: None,
            guard: c.guard.clone(),
            line: None,
            site: c.site.clone(),
        });
        self.root_cause = crate::oracle::root_cause_key(
            "export",
            Some(self.contract),
            None,
            cause.as_ref(),
            &self.message,
        )
        .unwrap_or_else(|| {
            format!(
                "export/{}/{}/-",
                self.contract.class().name(),
                self.contract.name()
            )
        });
        self
    }
}

/// Per dim: what was asked, what eager runs, and what the exported program accepts.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ProbeDim {
    pub label: String,
    pub symbol: String,
    pub requested: String,
    pub example: i64,
    pub eager_runs: String,
    pub trace_region: String,
    pub kept: String,
    pub accepts: String,
}

/// The user's code could not be probed: which stage, and the user's own error.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct SetupError {
    /// `load` (import or the convention), `spec`, `eager` (the model fails on its own
    /// examples), `scan`, or `export` for a hang or crash past them.
    pub stage: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traceback: Option<String>,
}

/// What `shapefuzz probe` reports.
#[derive(Clone, Debug, Serialize)]
pub struct ProbeReport {
    pub schema_version: u32,
    pub target: String,
    pub torch: String,
    /// `judged`, `setup_error`, `hang` or `crash`.
    pub outcome: String,
    /// The worst finding's verdict, `pass` when nothing was found.
    pub verdict: Verdict,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<Class>,
    pub findings: Vec<ProbeFinding>,
    pub dims: Vec<ProbeDim>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<SetupError>,
    /// Probes compared with eager and how many matched.
    pub compared: usize,
    pub matched: usize,
    /// The export error's traceback, when export raised.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traceback: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<Subject>,
    /// Whether export ran in strict mode.
    pub strict: bool,
    pub seconds: f64,
}

impl ProbeReport {
    fn empty(target: &str, torch: &str, outcome: &str, verdict: Verdict) -> ProbeReport {
        ProbeReport {
            schema_version: REPORT_SCHEMA,
            target: target.to_string(),
            torch: torch.to_string(),
            outcome: outcome.to_string(),
            verdict,
            class: None,
            findings: vec![],
            dims: vec![],
            error: None,
            compared: 0,
            matched: 0,
            traceback: None,
            subject: None,
            strict: false,
            seconds: 0.0,
        }
    }

    /// The classes found, for `--fail-on`.
    pub fn classes(&self) -> Vec<Class> {
        self.findings.iter().map(|f| f.class).collect()
    }
}

/// Runs the probe on a worker of `pool` and judges it.
pub fn probe(pool: &Pool, cfg: &ProbeConfig) -> ProbeReport {
    let started = std::time::Instant::now();
    let torch = pool
        .worker_info()
        .get("torch")
        .and_then(Value::as_str)
        .unwrap_or("unknown")
        .to_string();
    let outcome = pool.request(request(cfg));
    let mut r = judge_outcome(&cfg.target.text(), &torch, &outcome);
    r.strict = cfg.strict;
    r.seconds = started.elapsed().as_secs_f64();
    r
}

/// The stage a dead worker had reached, from its stderr markers.
fn last_stage(stderr_tail: &str) -> String {
    stderr_tail
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("shapefuzz-probe stage: "))
        .unwrap_or("start")
        .trim()
        .to_string()
}

fn stage_words(stage: &str) -> &'static str {
    match stage {
        "load" => {
            "while importing the model's code and calling model(), example_inputs() and dynamic_shapes()"
        }
        "spec" => "while reading dynamic_shapes()",
        "eager" => "while running the model eagerly on its example inputs",
        "scan" => "while running the model eagerly at other sizes",
        "export" => "in torch.export or in the exported program",
        _ => "before the model was loaded",
    }
}

/// Judges what came back from the worker.
pub fn judge_outcome(target: &str, torch: &str, outcome: &Outcome) -> ProbeReport {
    let value = match outcome {
        Outcome::Reply { value, .. } => value,
        _ => return failed_run(target, torch, outcome),
    };
    if value.get("ok") != Some(&Value::Bool(true)) {
        let msg = value
            .get("error")
            .and_then(|e| serde_json::from_value::<ErrorInfo>(e.clone()).ok())
            .map(|e| e.text())
            .unwrap_or_else(|| "the worker could not run the probe".into());
        let mut r = ProbeReport::empty(target, torch, "setup_error", Verdict::Invalid);
        r.error = Some(SetupError {
            stage: "start".into(),
            message: crate::oracle::first_line(&msg),
            ..Default::default()
        });
        return r;
    }
    let stage = value.get("stage").and_then(Value::as_str).unwrap_or("");
    if stage != "done" {
        return setup_failed(target, torch, value, stage);
    }
    let subject: Subject = match value
        .get("subject")
        .and_then(|s| serde_json::from_value(s.clone()).ok())
    {
        Some(s) => s,
        None => return protocol_error(target, torch, "no subject"),
    };
    let reply: CheckReply = match serde_json::from_value(value.clone()) {
        Ok(r) => r,
        Err(e) => return protocol_error(target, torch, &e.to_string()),
    };
    judge_reply(target, torch, subject, &reply)
}

/// The report of a probe whose worker hung, died, ran out of memory or never started.
fn failed_run(target: &str, torch: &str, outcome: &Outcome) -> ProbeReport {
    match outcome {
        Outcome::Hang { after, stderr_tail } => {
            let stage = last_stage(stderr_tail);
            let mut r = ProbeReport::empty(target, torch, "hang", Verdict::Hang);
            r.error = Some(SetupError {
                message: format!(
                    "no answer within {:.0} s {}; the worker was stopped (raise --timeout if the model is only slow)",
                    after.as_secs_f64(),
                    stage_words(&stage)
                ),
                stage,
                ..Default::default()
            });
            r
        }
        Outcome::Crash {
            status,
            stderr_tail,
        } => {
            let stage = last_stage(stderr_tail);
            let mut r = ProbeReport::empty(target, torch, "crash", Verdict::Crash);
            r.error = Some(SetupError {
                message: format!(
                    "the worker died ({status}) {}: {}",
                    stage_words(&stage),
                    crate::oracle::last_line(stderr_tail)
                ),
                stage,
                ..Default::default()
            });
            r
        }
        Outcome::Oom {
            resident,
            limit,
            stderr_tail,
        } => {
            let stage = last_stage(stderr_tail);
            let mut r = ProbeReport::empty(target, torch, "oom", Verdict::Oom);
            r.error = Some(SetupError {
                message: format!(
                    "the worker reached {} MB, above its limit of {} MB, {}, and was stopped",
                    resident >> 20,
                    limit >> 20,
                    stage_words(&stage)
                ),
                stage,
                ..Default::default()
            });
            r
        }
        Outcome::Aborted | Outcome::NoWorker { .. } => {
            let mut r = ProbeReport::empty(target, torch, "no_worker", Verdict::Poisoned);
            let why = match outcome {
                Outcome::NoWorker { error } => crate::oracle::first_line(error),
                _ => "stopped".into(),
            };
            r.error = Some(SetupError {
                stage: "start".into(),
                message: format!("no worker could run the probe: {why}"),
                ..Default::default()
            });
            r
        }
        Outcome::Reply { .. } => protocol_error(target, torch, "a reply judged as a failure"),
    }
}

/// The report of a probe that stopped at `stage` (loading the file, reading its spec,
/// running eager, ...): the model's error where and as it raised it, or a probe file's
/// convention broken, said in one line.
fn setup_failed(target: &str, torch: &str, value: &Value, stage: &str) -> ProbeReport {
    let err: ErrorInfo = value
        .get("error")
        .and_then(|e| serde_json::from_value(e.clone()).ok())
        .unwrap_or_default();
    let get = |k: &str| value.get("error").and_then(|e| e.get(k));
    let mut r = ProbeReport::empty(target, torch, "setup_error", Verdict::Invalid);
    let convention = err.ty == "ProbeSetupError";
    r.error = Some(SetupError {
        stage: stage.to_string(),
        message: if convention {
            err.message.clone()
        } else {
            format!(
                "the model's code raised {}: {}",
                stage_words(stage),
                crate::oracle::first_line(&err.text())
            )
        },
        file: get("case_file").and_then(Value::as_str).map(String::from),
        line: get("case_line")
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok()),
        code: get("code").and_then(Value::as_str).map(String::from),
        traceback: (!convention)
            .then(|| get("traceback").and_then(Value::as_str).map(String::from))
            .flatten(),
    });
    r
}

fn protocol_error(target: &str, torch: &str, why: &str) -> ProbeReport {
    let mut r = ProbeReport::empty(target, torch, "setup_error", Verdict::Poisoned);
    r.error = Some(SetupError {
        stage: "export".into(),
        message: format!("the worker's reply does not follow the protocol: {why}"),
        ..Default::default()
    });
    r
}

struct Cx<'a> {
    subject: &'a Subject,
    reply: &'a CheckReply,
}

/// `2..=64` runs as text, `none` when empty. Unlike the oracle's `fmt_runs` the top is
/// always written: a probe's scan range is its own `--scan-max`, not `SCAN_MAX`.
fn fmt_runs(r: &[[i64; 2]]) -> String {
    if r.is_empty() {
        return "none".into();
    }
    r.iter()
        .map(|[lo, hi]| {
            if lo == hi {
                lo.to_string()
            } else {
                format!("{lo}..={hi}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl Cx<'_> {
    fn symbol(&self, name: &str) -> Option<&SubjectSymbol> {
        self.subject.symbols.iter().find(|s| s.name == name)
    }
    fn label(&self, sym: &str) -> String {
        self.symbol(sym)
            .and_then(|s| s.dims.first())
            .map(|d| d.label.clone())
            .unwrap_or_else(|| sym.to_string())
    }
    fn valid(&self, sym: &str) -> &[[i64; 2]] {
        self.subject.valid.get(sym).map_or(&[], |v| v.as_slice())
    }
    fn region(&self, sym: &str) -> &[[i64; 2]] {
        self.subject.region.get(sym).map_or(&[], |v| v.as_slice())
    }
    fn accepted(&self, sym: &str) -> Option<Vec<[i64; 2]>> {
        self.reply.accepted.get(sym).cloned().flatten()
    }
    fn base(&self) -> BTreeMap<String, i64> {
        self.subject.export_sizes.clone()
    }
    /// Sizes as a user reads them: `y.size(0) = 3`, only the ones not at their example.
    fn sizes_text(&self, sizes: &BTreeMap<String, i64>) -> String {
        let moved: Vec<String> = sizes
            .iter()
            .filter(|(s, n)| self.subject.export_sizes.get(*s) != Some(n))
            .map(|(s, n)| format!("{} = {n}", self.label(s)))
            .collect();
        if moved.is_empty() {
            "the example sizes".into()
        } else {
            moved.join(", ")
        }
    }
    /// Under ShapesSpec (a symbol of spec `var`), whether `sizes` lie in the declared
    /// ranges with every other symbol at its example; None under the `Dim` API.
    fn declared(&self, sizes: &BTreeMap<String, i64>) -> Option<bool> {
        let symbols = &self.subject.symbols;
        symbols.iter().any(|s| s.spec == "var").then(|| {
            symbols.iter().all(|s| match sizes.get(&s.name) {
                None => true,
                Some(&n) if s.spec == "var" => s.declares(n),
                Some(&n) => n == s.example,
            })
        })
    }
    fn in_region(&self, sizes: &BTreeMap<String, i64>) -> bool {
        sizes.iter().all(|(s, n)| {
            self.subject.export_sizes.get(s) == Some(n) || in_runs(*n, self.region(s))
        })
    }
    fn guard_culprit(&self, indices: &[usize]) -> Option<Culprit> {
        // A guard on a model line first; Python's own decisions before torch ops' guards
        // only when nothing else is there.
        let pick = indices
            .iter()
            .copied()
            .filter(|&i| self.reply.guards.get(i).is_some_and(|g| g.line.is_some()))
            .min_by_key(|&i| self.reply.guards[i].symbols)
            .or_else(|| indices.first().copied())?;
        let g: &GuardInfo = self.reply.guards.get(pick)?;
        let mut stack = g.stack.clone();
        if stack.is_empty() && g.line.is_some() {
            stack.push(Frame {
                file: g.file.clone(),
                line: g.line,
                code: None,
            });
        }
        Some(Culprit {
            guard: g.expr.clone(),
            stack,
            // A framework frame in the model's own file is no torch site.
            site: g
                .framework
                .as_ref()
                .filter(|f| {
                    !g.python
                        && !g
                            .file
                            .as_ref()
                            .is_some_and(|file| f.starts_with(&format!("{file}:")))
                })
                .map(|f| strip_line(f)),
            python: g.python,
        })
    }
    /// The culprit of an error: its own model line, file and code.
    fn error_culprit(&self, e: &ErrorInfo) -> Culprit {
        Culprit {
            guard: crate::oracle::first_line(&e.text()),
            stack: e
                .case_line
                .map(|line| {
                    vec![Frame {
                        file: e.case_file.clone(),
                        line: Some(line),
                        code: e.code.clone(),
                    }]
                })
                .unwrap_or_default(),
            site: e.site.clone(),
            python: e.python,
        }
    }
}

/// `torch/nn/functional.py:5896 in pad` -> `torch/nn/functional.py in pad`: sites stay the
/// same across patch releases.
fn strip_line(framework: &str) -> String {
    match framework.split_once(" in ") {
        Some((loc, func)) => {
            let file = loc.rsplit_once(':').map_or(loc, |(f, _)| f);
            format!("{file} in {func}")
        }
        None => framework.to_string(),
    }
}

fn finding(
    verdict: Verdict,
    contract: Contract,
    message: String,
    sizes: BTreeMap<String, i64>,
) -> ProbeFinding {
    ProbeFinding {
        verdict,
        contract,
        class: contract.class(),
        message,
        dim: None,
        sizes,
        culprit: None,
        suggestion: None,
        root_cause: String::new(),
    }
}

fn judge_reply(target: &str, torch: &str, subject: Subject, reply: &CheckReply) -> ProbeReport {
    let cx = Cx {
        subject: &subject,
        reply,
    };
    let mut r = ProbeReport::empty(target, torch, "judged", Verdict::Pass);
    match &reply.eager_export {
        Some(e) if e.ok => {}
        other => {
            let msg = other
                .as_ref()
                .and_then(|e| e.error.as_ref())
                .map(|e| crate::oracle::first_line(&e.text()))
                .unwrap_or_default();
            r.outcome = "setup_error".into();
            r.verdict = Verdict::Invalid;
            r.error = Some(SetupError {
                stage: "eager".into(),
                message: format!("the model fails on its own example inputs: {msg}"),
                ..Default::default()
            });
            r.subject = Some(subject.clone());
            return r;
        }
    }
    let findings = match reply.export.as_ref() {
        Some(x) if x.ok => judge_program(&cx, &mut r),
        other => {
            let e = other.and_then(|x| x.error.clone()).unwrap_or_default();
            r.traceback = e.traceback.clone();
            vec![judge_export_error(&cx, &e)]
        }
    };
    let mut findings: Vec<ProbeFinding> = findings.into_iter().map(ProbeFinding::keyed).collect();
    for f in &mut findings {
        f.suggestion = suggest(f);
    }
    findings.sort_by_key(|f| (class_rank(f.class), f.contract.severity()));
    r.verdict = findings.first().map_or(Verdict::Pass, |f| f.verdict);
    r.class = findings.first().map(|f| f.class);
    r.findings = findings;
    r.dims = dims(&cx);
    r.subject = Some(subject.clone());
    r
}

fn class_rank(c: Class) -> u8 {
    match c {
        Class::Bug => 0,
        Class::Portability => 1,
        Class::Expected => 2,
    }
}

fn judge_export_error(cx: &Cx, e: &ErrorInfo) -> ProbeFinding {
    let kind = e.kind.clone().unwrap_or_else(|| "internal".into());
    let message = crate::oracle::first_line(&e.text());
    let reply = cx.reply;
    let x = e;
    let base = cx.base();
    let at = |sym: &str, n: i64| {
        let mut v = base.clone();
        v.insert(sym.to_string(), n);
        v
    };
    let (contract, culprit, sizes) = match kind.as_str() {
        "constraint_violation" => {
            // the campaign's rule: a fix failing only on guards no Dim can state is no
            // failed fix
            let failed_fix = reply.fix.as_ref().filter(|f| {
                f.stage.as_deref() == Some("refine")
                    || (f.export_ok == Some(false)
                        && !crate::oracle::contract::left_only_inexpressible(f))
            });
            if let Some(s) = zero_one_example(cx, e) {
                (
                    Contract::ZeroOneSpecialization,
                    Some(cx.error_culprit(e)),
                    at(&s.name, s.example),
                )
            } else if let Some(f) = failed_fix {
                let c = f.error.as_ref().map(|err| cx.error_culprit(err));
                (Contract::SuggestedFixFails, c, base.clone())
            } else {
                use crate::oracle::contract::decide_constraint_violation;
                // a witness counts only where eager runs
                let witness = [true, false].iter().find_map(|&inside| {
                    reply.witnesses.iter().find(|w| {
                        w.in_region == inside
                            && !w.false_guards.is_empty()
                            && in_runs(w.size, cx.valid(&w.symbol))
                    })
                });
                let fixed = cx.subject.symbols.iter().find(
                    |s| matches!(cx.valid(&s.name), [[lo, hi]] if lo == hi && *lo == s.example),
                );
                // A named Dim whose range holds sizes eager fails at: torch is right.
                let beyond = cx.subject.symbols.iter().find_map(|s| {
                    (s.spec == "named").then_some(())?;
                    let lo = s.lo.unwrap_or(0).max(2);
                    let hi = s.hi.unwrap_or(cx.subject.scan_max).min(cx.subject.scan_max);
                    (lo..=hi)
                        .find(|&n| !in_runs(n, cx.valid(&s.name)))
                        .map(|n| (s.name.clone(), n))
                });
                let c = decide_constraint_violation(
                    witness.map(|w| w.in_region),
                    reply.guards_hold,
                    beyond.is_some(),
                    fixed.is_some(),
                );
                match (c, witness, beyond) {
                    (Contract::TraceRegion, None, _) => {
                        let s = fixed.expect("the fixed symbol");
                        (c, Some(cx.error_culprit(e)), at(&s.name, s.example))
                    }
                    (_, Some(w), _) => {
                        (c, cx.guard_culprit(&w.false_guards), at(&w.symbol, w.size))
                    }
                    (Contract::SpecBeyondModel, _, Some((s, n))) => {
                        (c, Some(cx.error_culprit(e)), at(&s, n))
                    }
                    (Contract::SpuriousConstraintViolation, _, _) => (
                        c,
                        cx.guard_culprit(&reply.unproven)
                            .or_else(|| Some(cx.error_culprit(e))),
                        base.clone(),
                    ),
                    _ => (c, Some(cx.error_culprit(e)), base.clone()),
                }
            }
        }
        "data_dependent" | "invalid_spec" | "unsupported" => (
            crate::oracle::contract::decide_export_error(&kind, x.python, x.raised_in_model, false),
            Some(cx.error_culprit(e)),
            base.clone(),
        ),
        // The model's own code raised under tracing (its `assert`, or a library call that
        // needs a concrete value): what export sees is the model's error, not torch's.
        _ if x.raised_in_model => (
            crate::oracle::contract::decide_export_error(&kind, x.python, true, false),
            Some(Culprit {
                site: None,
                ..cx.error_culprit(e)
            }),
            base.clone(),
        ),
        _ => (
            crate::oracle::contract::decide_export_error(
                &kind,
                x.python,
                false,
                crate::oracle::contract::is_api_argument_check(x.site.as_deref(), &x.ty),
            ),
            Some(cx.error_culprit(e)),
            base.clone(),
        ),
    };
    let how = if x.raised_in_model && kind == "internal" {
        "the model's own code raised under export".to_string()
    } else {
        format!("torch.export.export raised ({kind})")
    };
    let mut f = finding(
        Verdict::ExportError,
        contract,
        format!("{how}: {message}"),
        sizes,
    );
    f.culprit = culprit;
    f
}

/// Every probe by the contract's rules for a user's model (`contract::decide_probe`, the
/// campaign's), then every symbol.
fn judge_program(cx: &Cx, r: &mut ProbeReport) -> Vec<ProbeFinding> {
    use crate::oracle::contract::{
        EagerAt, ProbeCall, ProbeFacts, ProgramAt, Source, decide_probe, unbacked_assertion,
    };
    let mut out = vec![];
    for p in &cx.reply.probes {
        let sizes: BTreeMap<String, i64> = p.sizes.clone();
        let eager = EagerAt::of(p.eager.as_ref());
        if matches!(
            eager,
            EagerAt::Runs {
                repeatable: true,
                ..
            }
        ) && p.exported.as_ref().is_some_and(|e| e.ok)
        {
            r.compared += 1;
            if p.matches == Some(true) {
                r.matched += 1;
            }
        }
        // Rejections of one symbol are judged per dim; a rejection only when several move
        // together is a relation the program checks.
        let moved: Vec<(&String, &i64)> = sizes
            .iter()
            .filter(|(s, n)| cx.subject.export_sizes.get(*s) != Some(n))
            .collect();
        let relation_only = moved.len() > 1
            && moved
                .iter()
                .all(|(s, n)| cx.accepted(s).is_some_and(|a| in_runs(**n, &a)));
        let call = decide_probe(&ProbeFacts {
            source: Source::UserModel,
            kind: p.kind,
            eager,
            program: ProgramAt::of(p),
            false_guards: !p.false_guards.is_empty(),
            inside_region: cx.in_region(&sizes),
            relation_only,
            model_asks_exporting: cx.subject.export_branch,
            // the program asserts the assumptions: sizes breaking one are outside the promise
            declared: cx.declared(&sizes).map(|d| d && p.declared.unwrap_or(true)),
            additional: false,
            unspecified_read: false,
        });
        let ProbeCall::Finding(verdict, contract) = call else {
            continue;
        };
        let error = p.exported.as_ref().and_then(|x| x.error.as_ref());
        let text = error
            .map(|e| crate::oracle::first_line(&e.text()))
            .unwrap_or_default();
        let at_example = sizes == cx.subject.export_sizes;
        let message = match (verdict, contract) {
            (Verdict::Divergence, Contract::ProgramError) => format!(
                "at {} (eager runs) the exported program passes its input checks and then raises {text}",
                cx.sizes_text(&sizes)
            ),
            (Verdict::Divergence, _) => {
                let detail = p.detail.clone().unwrap_or_else(|| "results differ".into());
                let what = match contract {
                    Contract::ModelIntent => {
                        " (the model runs other code under torch.compiler.is_exporting()/is_compiling())"
                    }
                    Contract::SilentDivergenceAtZeroOne => {
                        " (a size of 0/1, which export assumes away without checking it)"
                    }
                    _ if at_example => {
                        " (the example inputs themselves: not a dynamic-shape question)"
                    }
                    _ => "",
                };
                format!(
                    "at {}{what} the exported program runs and returns another result than eager: {detail}",
                    cx.sizes_text(&sizes)
                )
            }
            (_, Contract::ModelIntent) => format!(
                "at {} eager runs but the exported program's runtime assertion on data values `{}` fails{}: the model's own torch._check (or its export-only path) rejects this input, not a size specialization",
                cx.sizes_text(&sizes),
                unbacked_assertion(&text).unwrap_or_default(),
                if at_example {
                    ", at the example inputs themselves"
                } else {
                    ""
                }
            ),
            _ => format!(
                "at {} eager runs but the exported program rejects the input: {text}",
                cx.sizes_text(&sizes)
            ),
        };
        let mut f = finding(verdict, contract, message, sizes);
        // an error's own line; otherwise the model line whose decision the sizes turn, a
        // guard false there
        let raised_here = contract == Contract::ProgramError
            || (verdict == Verdict::SpuriousGuard && contract == Contract::ModelIntent);
        f.culprit = if raised_here {
            error.map(|e| cx.error_culprit(e))
        } else {
            cx.guard_culprit(&p.false_guards)
        };
        out.push(f);
    }
    for s in &cx.subject.symbols {
        if let Some(f) = judge_symbol(cx, s) {
            out.push(f);
        }
    }
    out
}

/// The symbol behind a constraint violation that torch's 0/1 specialization explains: a
/// `Dim.DYNAMIC` dim whose example size is 0 or 1 (torch specializes it by design, "export
/// will specialize on sample input dimensions with value 0 or 1"; `Dim.AUTO` never raises),
/// or any hinted dim with such an example when torch's message says so. What follows is
/// expected, and the fix is an example of 2 or more.
fn zero_one_example<'a>(cx: &Cx<'a>, e: &ErrorInfo) -> Option<&'a SubjectSymbol> {
    let text = e.text();
    let says_zero_one = text.contains("0/1 specialized")
        || text.contains("hint of 0")
        || text.contains("hint of 1");
    cx.subject.symbols.iter().find(|s| {
        s.example <= 1
            && (s.spec == "dynamic" || (says_zero_one && (s.spec == "auto" || s.spec == "named")))
    })
}

/// What became of one symbol asked to be dynamic, against its spec and the trace region:
/// the campaign's rules (`contract::decide_symbol`) on the facts the worker measured.
fn judge_symbol(cx: &Cx, s: &SubjectSymbol) -> Option<ProbeFinding> {
    use crate::oracle::contract::{
        SymbolFacts, SymbolSpec, decide_symbol, ruled_out_alone, sizes_in_scan,
    };
    let acc = cx.accepted(&s.name)?;
    let scan_max = cx.subject.scan_max;
    // under ShapesSpec assumptions, only the sizes that keep them are promised
    let assumed_valid: Vec<[i64; 2]>;
    let valid = match &s.assumed {
        Some(assumed) => {
            assumed_valid = runs(
                &(0..=scan_max)
                    .filter(|&n| in_runs(n, cx.valid(&s.name)) && in_runs(n, assumed))
                    .collect::<Vec<_>>(),
            );
            &assumed_valid
        }
        None => cx.valid(&s.name),
    };
    let region = cx.region(&s.name);
    let accepted: Vec<i64> = (2..=scan_max).filter(|&n| in_runs(n, &acc)).collect();
    let label = s.dims.first().map_or(s.name.clone(), |d| d.label.clone());
    let univariate_at = |size: i64| ruled_out_alone(cx.reply, &s.name, Some(size));
    let any_univariate = ruled_out_alone(cx.reply, &s.name, None);
    let literal = cx
        .reply
        .dims
        .iter()
        .filter(|d| s.dims.iter().any(|x| x.input == d.input && x.dim == d.dim))
        .find_map(|d| d.pinned);
    let pinned = literal.or_else(|| (accepted.len() == 1).then(|| accepted[0]));
    // One torch symbol of the dims accepting one size when it alone varies: the pin is
    // real, not the intersection of independent dims along a tie.
    let alone_pin = cx.reply.alone.iter().any(|scan| {
        sizes_in_scan(&scan.accepted, scan_max) == 1
            && scan
                .dims
                .iter()
                .any(|[i, d]| s.dims.iter().any(|x| x.input == *i && x.dim == *d))
    });
    let specialized = literal.is_some() || (pinned.is_some() && any_univariate && alone_pin);
    let spec = s.spec_kind(scan_max);
    let decision = decide_symbol(&SymbolFacts {
        spec,
        example: s.example,
        scan_max,
        // only sizes the spec asks for: a named Dim's range, a hint's min/max
        asked: (s.lo.unwrap_or(0), s.hi.unwrap_or(i64::MAX)),
        valid,
        region,
        accepted: &acc,
        pinned,
        specialized,
        univariate_at: &univariate_at,
    })?;
    let size = decision.size;
    let what = match pinned {
        Some(p) => format!("pins it to {p}"),
        None => format!("accepts only {}", fmt_runs(&runs(&accepted))),
    };
    let message = match decision.contract {
        Contract::ZeroOneSpecialization => format!(
            "{label} ({}) has the example size {}: torch specializes an example of 0 or 1 by design (\"export will specialize on sample input dimensions with value 0 or 1\"); export with an example of 2 or more to keep it dynamic",
            s.text, s.example
        ),
        Contract::NamedDimNarrowedSilently => {
            let SymbolSpec::Named { lo, hi } = spec else {
                return None;
            };
            format!(
                "{label} is {}, but of the sizes {lo}..={hi} eager runs at, the exported program accepts only {}, and export raised no constraint violation",
                s.text,
                fmt_runs(&runs(&accepted))
            )
        }
        Contract::DynamicSpecializedSilently => format!(
            "{label} is Dim.DYNAMIC, but the exported program accepts only {label} = {} (eager runs at {}), and export raised no error",
            pinned.unwrap_or(s.example),
            fmt_runs(valid)
        ),
        Contract::AvoidableSpecialization => format!(
            "{label} ({}) was asked to be dynamic; the exported program {what}, rejecting {label} = {size}, where eager runs and the model's Python takes the same path",
            s.text
        ),
        Contract::ShapesSpecRejectsValid => format!(
            "{label} is {} (ShapesSpec: never specialized), and eager runs at {label} = {size} inside its range, but the exported program accepts only {}, and export raised no error",
            s.text,
            fmt_runs(&runs(&accepted))
        ),
        _ => narrowed_message(cx, s, &label, size, &accepted),
    };
    let mut sizes = cx.base();
    if decision.contract != Contract::ZeroOneSpecialization {
        sizes.insert(s.name.clone(), size);
    }
    let mut f = finding(Verdict::LostDim, decision.contract, message, sizes);
    f.dim = Some(label);
    // the witness at the size shown first, then any of the symbol's
    f.culprit = cx
        .reply
        .witnesses
        .iter()
        .filter(|w| w.symbol == s.name && !w.false_guards.is_empty())
        .find(|w| w.size == size)
        .or_else(|| {
            cx.reply
                .witnesses
                .iter()
                .find(|w| w.symbol == s.name && !w.false_guards.is_empty())
        })
        .and_then(|w| cx.guard_culprit(&w.false_guards));
    Some(f)
}

/// "x.size(0) (Dim.AUTO) is narrowed to where the model takes the path it took at the
/// example ...", with the kind of decision that narrows it.
fn narrowed_message(
    cx: &Cx,
    s: &SubjectSymbol,
    label: &str,
    size: i64,
    accepted: &[i64],
) -> String {
    // which decision: a size derived from this one being 0/1 is torch's 0/1
    // specialization, which the model author meets by choosing the example
    let decision = cx
        .reply
        .witnesses
        .iter()
        .filter(|w| w.symbol == s.name && w.size == size)
        .flat_map(|w| {
            w.false_guards
                .iter()
                .filter_map(|&i| cx.reply.guards.get(i))
        })
        .find_map(|g| g.decision.clone());
    let why = match decision.as_deref() {
        Some("size-class") => format!(
            "a size derived from {label} is 0 or 1 (or is at the example), which torch specializes by design (\"export will specialize on ... value 0 or 1\"): choose an example at which every derived size is 2 or more, or accept the narrower range"
        ),
        Some("loop") => "a loop's trip count changes (the trace unrolls it)".into(),
        Some("clamp") => {
            "a slice bound falls on the other side of the size (the trace clamps it one way)".into()
        }
        Some("pieces") => {
            "the number of tensors split/chunk returns changes (the output structure is static)"
                .into()
        }
        _ => "the model's Python decides otherwise".into(),
    };
    format!(
        "{label} ({}) is narrowed to where the model takes the path it took at the example: the exported program accepts {}; at {label} = {size} {why}",
        s.text,
        fmt_runs(&runs(accepted))
    )
}

fn dims(cx: &Cx) -> Vec<ProbeDim> {
    let exported = cx.reply.export.as_ref().is_some_and(|e| e.ok);
    let mut out = vec![];
    for s in &cx.subject.symbols {
        for d in &s.dims {
            let p = cx
                .reply
                .dims
                .iter()
                .find(|x| x.input == d.input && x.dim == d.dim);
            let kept = crate::oracle::contract::kept_text(p, exported);
            let accepts = cx
                .accepted(&s.name)
                .map(|a| {
                    let acc: Vec<i64> = (2..=cx.subject.scan_max)
                        .filter(|&n| in_runs(n, &a))
                        .collect();
                    fmt_runs(&runs(&acc))
                })
                .unwrap_or_else(|| "-".into());
            out.push(ProbeDim {
                label: d.label.clone(),
                symbol: s.name.clone(),
                requested: match &d.derived {
                    Some(expr) => format!("{expr} (derived; the sizes are {}'s)", s.text),
                    None => s.text.clone(),
                },
                example: d.size.unwrap_or(s.example),
                eager_runs: fmt_runs(cx.valid(&s.name)),
                // the path the model takes is known only where it runs
                trace_region: {
                    let path: Vec<i64> = (2..=cx.subject.scan_max)
                        .filter(|&n| {
                            in_runs(n, cx.region(&s.name)) && in_runs(n, cx.valid(&s.name))
                        })
                        .collect();
                    fmt_runs(&runs(&path))
                },
                kept,
                accepts: if exported { accepts } else { "-".into() },
            });
        }
    }
    out
}

/// Known respellings: where the culprit line matches a spelling torch specializes, the one
/// that keeps the size symbolic. Only for portability findings: a bug is torch's to fix.
fn suggest(f: &ProbeFinding) -> Option<String> {
    if f.contract == Contract::SilentDivergenceAtZeroOne {
        // verified on torch 2.15: eager and the exported program both raise at 0/1 then
        return Some("the exported program does not check sizes 0/1 (torch assumes them away by design): export with the ShapesSpec API and ShapeVar(\"n\", min=2) for such a size, which the program asserts at run time (it then raises at 0/1, and 2 or more run as before), or check the size before calling the program; Dim(min=3) also rejects 0/1 but gives up 2, and torch._check(n >= 2) in forward is dropped by export.".into());
    }
    if f.class != Class::Portability && f.contract != Contract::TraceRegion {
        return None;
    }
    let c = f.culprit.as_ref()?;
    let code = c
        .stack
        .iter()
        .filter_map(|fr| fr.code.as_deref())
        .collect::<Vec<_>>()
        .join("\n");
    let site = c.site.as_deref().unwrap_or("");
    let rules: &[(&dyn Fn() -> bool, &str)] = &[
        (
            &|| site.contains("in pad") && code.contains("value="),
            "F.pad(x, (0, 1), value=n) takes the fill value as a Python number, so torch specializes the size it came from; append it as a tensor instead, which stays symbolic: torch.cat([x, torch.full((1,), n, dtype=x.dtype)], dim=0) (or torch.tensor([n], dtype=x.dtype)).",
        ),
        (
            &|| code.contains("len("),
            "len(x) is a Python int: use x.shape[0] (or x.size(0)), which stays symbolic.",
        ),
        (
            &|| code.contains("int(") && (code.contains(".shape") || code.contains(".size(")),
            "int(...) of a size asks for a concrete value: drop int(), or use torch.sym_int(...).",
        ),
        (
            &|| code.contains("math.ceil") || code.contains("math.floor"),
            "math.ceil/floor of a size needs a concrete value: use integer arithmetic, -(-a // b) for ceil(a / b), or a // b for floor.",
        ),
        (
            &|| {
                (code.contains("max(") || code.contains("min("))
                    && !code.contains("torch.sym_max")
                    && !code.contains("torch.sym_min")
                    && !code.contains(".max(")
                    && !code.contains(".min(")
            },
            "Python's max()/min() on sizes branches on a comparison: torch.sym_max(a, b) / torch.sym_min(a, b) keep it symbolic.",
        ),
        (
            &|| code.contains(" if ") && code.contains(" else "),
            "`a if cond else b` on sizes asks Python for cond: torch.sym_ite(cond, a, b) keeps it symbolic.",
        ),
        (
            &|| code.contains(".tolist()") || code.contains(".item()"),
            "A tensor's values as Python numbers are data-dependent: keep them as tensors, or declare what holds with torch._check(...).",
        ),
    ];
    rules
        .iter()
        .find(|(matches, _)| matches())
        .map(|(_, text)| text.to_string())
}

/// The promise a finding is held to, for the spec kind its dim was given.
fn promise_of(r: &ProbeReport, f: &ProbeFinding) -> &'static str {
    use crate::oracle::contract::promise_for;
    let symbol = r.subject.as_ref().and_then(|sub| {
        sub.symbols.iter().find(|s| {
            f.dim
                .as_deref()
                .is_some_and(|label| s.dims.iter().any(|d| d.label == label))
                || sub.export_sizes.get(&s.name) != f.sizes.get(&s.name)
        })
    });
    let scan_max = r.subject.as_ref().map_or(i64::MAX, |sub| sub.scan_max);
    promise_for(f.contract, symbol.map(|s| s.spec_kind(scan_max)))
}

/// The human report.
pub fn text(r: &ProbeReport) -> String {
    let mut s = String::new();
    let head = match (&r.class, r.findings.first()) {
        (Some(c), Some(f)) => format!("{}: {} ({})", r.verdict.name(), c.name(), f.contract.name()),
        _ => r.verdict.name().to_string(),
    };
    let _ = writeln!(s, "{}: {head} [torch {}]", r.target, r.torch);
    if let Some(e) = &r.error {
        let _ = writeln!(s, "  could not probe (stage {}): {}", e.stage, e.message);
        if let (Some(file), Some(line)) = (&e.file, e.line) {
            let _ = writeln!(s, "  at {file}:{line}: {}", e.code.as_deref().unwrap_or(""));
        }
        if let Some(tb) = &e.traceback {
            let _ = writeln!(s, "  the model's traceback:");
            for l in tb.lines() {
                let _ = writeln!(s, "    {l}");
            }
        }
        return s;
    }
    if !r.dims.is_empty() {
        let _ = writeln!(s, "  dims (sizes 2..={}):", scan_max(r));
        let w = r.dims.iter().map(|d| d.label.len()).max().unwrap_or(0);
        for d in &r.dims {
            let _ = writeln!(
                s,
                "    {:w$}  {}, example {}; eager runs {}; Python path {}; exported: {}, accepts {}",
                d.label, d.requested, d.example, d.eager_runs, d.trace_region, d.kept, d.accepts
            );
        }
    }
    let _ = writeln!(
        s,
        "  {} probe(s) compared with eager, {} matched",
        r.compared, r.matched
    );
    if r.findings.is_empty() {
        let _ = writeln!(
            s,
            "  nothing found: every dim asked to be dynamic stayed so where eager runs, and every probe matched"
        );
    }
    for (i, f) in r.findings.iter().enumerate() {
        let _ = writeln!(
            s,
            "  [{}] {} ({}): {}",
            i + 1,
            f.class.name(),
            f.contract.name(),
            f.message
        );
        if let Some(c) = &f.culprit {
            let _ = writeln!(
                s,
                "      {}: {}",
                if c.python {
                    "decided in Python"
                } else {
                    "guard"
                },
                c.guard
            );
            for fr in &c.stack {
                let _ = writeln!(
                    s,
                    "      at {}:{}: {}",
                    fr.file.as_deref().unwrap_or("?"),
                    fr.line.map_or("?".into(), |l| l.to_string()),
                    fr.code.as_deref().unwrap_or("")
                );
            }
            if let Some(site) = &c.site {
                let _ = writeln!(s, "      torch site: {site}");
            }
        }
        let _ = writeln!(s, "      what torch promises: {}", promise_of(r, f));
        if let Some(sug) = &f.suggestion {
            let _ = writeln!(s, "      suggestion: {sug}");
        }
    }
    s
}

fn scan_max(r: &ProbeReport) -> i64 {
    r.subject.as_ref().map_or(64, |s| s.scan_max)
}

/// A standalone script that shows a finding: the user's file, then the export and the run
/// at the finding's sizes. `source` is the probed file's text (None for an entry point).
pub fn reproducer(
    r: &ProbeReport,
    f: &ProbeFinding,
    target: &Target,
    source: Option<&str>,
) -> String {
    let mut s = String::from(escape::PYTHON_PREAMBLE);
    let subject = r.subject.clone().unwrap_or_default();
    match (target, source) {
        (Target::File(_), Some(src)) => {
            s.push_str(src);
            if !src.ends_with('\n') {
                s.push('\n');
            }
            s.push_str("\n\n# ---- shapefuzz probe: reproduce ----\n");
            s.push_str("import torch\n\n");
            s.push_str(
                "_model, _args, _spec = model().eval(), example_inputs(), dynamic_shapes()\n",
            );
            s.push_str("_args = (_args,) if isinstance(_args, torch.Tensor) else tuple(_args)\n");
            s.push_str("make_inputs = globals().get(\"make_inputs\")\n");
        }
        (Target::Entry(e), _) => {
            let (module, func) = e.split_once(':').unwrap_or((e.as_str(), ""));
            let _ = writeln!(s, "import importlib");
            let _ = writeln!(s, "_mod = importlib.import_module({})", py_str(module));
            if func.is_empty() {
                s.push_str("_model, _args, _spec = _mod.model().eval(), _mod.example_inputs(), _mod.dynamic_shapes()\n");
                s.push_str("make_inputs = getattr(_mod, \"make_inputs\", None)\n");
            } else {
                let _ = writeln!(s, "_got = getattr(_mod, {})()", py_str(func));
                s.push_str("make_inputs = _got.get(\"make_inputs\") if isinstance(_got, dict) else (_got[3] if len(_got) > 3 else None)\n");
                s.push_str("if isinstance(_got, dict):\n    _got = (_got[\"model\"], _got[\"example_inputs\"], _got[\"dynamic_shapes\"])\n");
                s.push_str("_model, _args, _spec = _got[0].eval(), _got[1], _got[2]\n");
            }
            s.push_str("import torch\n\n");
            s.push_str("_args = (_args,) if isinstance(_args, torch.Tensor) else tuple(_args)\n");
        }
        (Target::File(_), None) => s.push_str("import torch\n\n"),
    }
    let moved: Vec<String> = f
        .sizes
        .iter()
        .filter(|(k, v)| subject.export_sizes.get(*k) != Some(v))
        .map(|(k, v)| {
            let label = subject
                .symbols
                .iter()
                .find(|x| &x.name == k)
                .and_then(|x| x.dims.first())
                .map_or(k.clone(), |d| d.label.clone());
            format!("{label} = {v}")
        })
        .collect();
    let shapes = probe_shapes(&subject, &f.sizes);
    if f.verdict == Verdict::ExportError {
        let _ = writeln!(
            s,
            "# {}\nep = torch.export.export(_model, _args, dynamic_shapes=_spec, strict={})  # raises",
            escape::python_comment(&f.message),
            if r.strict { "True" } else { "False" }
        );
        return s;
    }
    let _ = writeln!(
        s,
        "ep = torch.export.export(_model, _args, dynamic_shapes=_spec, strict={})\n",
        if r.strict { "True" } else { "False" }
    );
    s.push_str(
        "def _like(ex, shape, g):\n    \"\"\"An input of `shape` like the example: its dtype and value range.\"\"\"\n    if ex.numel() == 0:\n        return torch.zeros(shape, dtype=ex.dtype)\n    if ex.dtype == torch.bool:\n        return torch.rand(shape, generator=g) < float(ex.float().mean())\n    flat = ex.detach().flatten()\n    if ex.dtype.is_floating_point:\n        lo, hi = float(flat.min()), float(flat.max())\n        if lo == hi:\n            return torch.full(shape, lo, dtype=ex.dtype)\n        return (torch.rand(shape, generator=g, dtype=torch.float64) * (hi - lo) + lo).to(ex.dtype)\n    lo, hi = int(flat.min()), int(flat.max())\n    return torch.randint(lo, hi + 1, shape, generator=g, dtype=torch.int64).to(ex.dtype)\n\n",
    );
    let _ = writeln!(
        s,
        "# at {}",
        escape::python_comment(&if moved.is_empty() {
            "the example sizes".to_string()
        } else {
            moved.join(", ")
        })
    );
    if subject.flattened {
        // The inputs hold lists, tuples or dicts of tensors: shapes are per tensor (leaf),
        // in torch's pytree order, and the model is called on the original structure.
        s.push_str("import torch.utils._pytree as _pytree\n\n_leaves, _tree = _pytree.tree_flatten(list(_args))\n\n");
    }
    if subject
        .symbols
        .iter()
        .any(|sym| sym.dims.iter().any(|d| d.derived.is_some()))
    {
        s.push_str("def _spec_size(i, d, n):\n    \"\"\"A derived dim's size when its root Dim (or ShapeVar) is n, by the spec's own expression.\"\"\"\n    import inspect\n    spec = _spec\n    if type(spec).__name__ == \"ShapesSpec\":\n        spec = dict(spec._params._named_args)\n    if isinstance(spec, dict):\n        spec = [spec.get(k) for k in inspect.signature(_model.forward).parameters]\n");
        if subject.flattened {
            s.push_str("    spec = [_pytree.tree_map(lambda _: None, a) if p is None else p for a, p in zip(_args, spec)]\n    spec = _tree.flatten_up_to(list(spec))\n");
        }
        s.push_str("    e = spec[i][d]\n    if hasattr(e, \"fn\"):\n        return int(e.fn(n))\n    import sympy\n    (v,) = e.node.expr.free_symbols\n    return int(e.node.expr.xreplace({v: sympy.Integer(n)}))\n\n");
    }
    let _ = writeln!(s, "_shapes = {shapes}");
    s.push_str("_g = torch.Generator().manual_seed(0)\n");
    if subject.flattened {
        s.push_str("if make_inputs is not None:\n    inputs = tuple(make_inputs(_pytree.tree_unflatten(_shapes, _tree)))\nelse:\n    inputs = tuple(_pytree.tree_unflatten([_like(a, shp, _g) if isinstance(a, torch.Tensor) else a for a, shp in zip(_leaves, _shapes)], _tree))\n");
        s.push_str("expected = _model(*_pytree.tree_map(lambda a: a.clone() if isinstance(a, torch.Tensor) else a, inputs))\n");
    } else {
        s.push_str("if make_inputs is not None:\n    inputs = tuple(make_inputs(_shapes))\nelse:\n    inputs = tuple(_like(a, shp, _g) if isinstance(a, torch.Tensor) else a for a, shp in zip(_args, _shapes))\n");
        s.push_str(
            "expected = _model(*[a.clone() if isinstance(a, torch.Tensor) else a for a in inputs])\n",
        );
    }
    s.push_str("print(\"eager:\", expected)\n");
    s.push_str("got = ep.module()(*inputs)  # ");
    s.push_str(match f.verdict {
        Verdict::Divergence => "runs, and differs from eager\n",
        _ => "raises although eager runs\n",
    });
    s.push_str("print(\"exported:\", got)\n");
    s.push_str("torch.testing.assert_close(got, expected)\n");
    s
}

/// The input shapes at a valuation, as a Python list literal (None for non-tensors).
fn probe_shapes(subject: &Subject, sizes: &BTreeMap<String, i64>) -> String {
    let mut shapes: Vec<Option<Vec<String>>> = subject
        .inputs
        .iter()
        .map(|i| {
            i.shape
                .as_ref()
                .map(|s| s.iter().map(|n| n.to_string()).collect())
        })
        .collect();
    for sym in &subject.symbols {
        let n = sizes.get(&sym.name).copied().unwrap_or(sym.example);
        for d in &sym.dims {
            if let Some(Some(shape)) = shapes.get_mut(d.input as usize)
                && let Some(slot) = shape.get_mut(d.dim as usize)
            {
                *slot = match &d.derived {
                    // a derived dim's size at n, computed by its own expression
                    Some(_) => format!("_spec_size({}, {}, {n})", d.input, d.dim),
                    None => n.to_string(),
                };
            }
        }
    }
    let items: Vec<String> = shapes
        .iter()
        .map(|s| match s {
            Some(v) => format!("({}{})", v.join(", "), if v.len() == 1 { "," } else { "" }),
            None => "None".into(),
        })
        .collect();
    format!("[{}]", items.join(", "))
}

fn py_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "''".into())
}

/// The finding as a torch issue: title, what happens, the standalone reproducer, versions.
pub fn issue(
    r: &ProbeReport,
    f: &ProbeFinding,
    target: &Target,
    source: Option<&str>,
    versions: Option<&str>,
) -> String {
    let mut s = String::new();
    let title: std::borrow::Cow<str> = match f.contract {
        Contract::SilentDivergence | Contract::SilentDivergenceAtZeroOne => {
            "torch.export: exported program silently returns a different result than eager".into()
        }
        Contract::DynamicSpecializedSilently => {
            "torch.export: Dim.DYNAMIC dimension specialized without an error".into()
        }
        Contract::NamedDimNarrowedSilently => {
            "torch.export: named Dim narrowed without a constraint violation".into()
        }
        Contract::InternalError => "torch.export: internal error on a model eager runs".into(),
        Contract::SpuriousConstraintViolation => {
            "torch.export: constraint violation although every guard holds in the range".into()
        }
        Contract::SuggestedFixFails => "torch.export: the suggested fixes do not export".into(),
        Contract::ProgramError => {
            "torch.export: exported program raises after passing its input checks".into()
        }
        Contract::AvoidableSpecialization | Contract::TraceRegion => {
            "torch.export: dynamic dimension lost".into()
        }
        // Not lost dims: say what the finding is, in the contract's own words.
        other => format!("torch.export: {}", other.name().replace('-', " ")).into(),
    };
    let _ = writeln!(s, "### {title}\n");
    let _ = writeln!(
        s,
        "**Class:** {} ({}). {}\n",
        f.class.name(),
        f.contract.name(),
        escape::markdown_text(f.contract.meaning())
    );
    let _ = writeln!(s, "{}\n", escape::markdown_text(&f.message));
    if let Some(c) = &f.culprit {
        let _ = writeln!(s, "Guard or error: `{}`", escape::markdown_code(&c.guard));
        for fr in &c.stack {
            let _ = writeln!(
                s,
                "- at `{}:{}`: `{}`",
                escape::markdown_code(fr.file.as_deref().unwrap_or("?")),
                fr.line.map_or("?".into(), |l| l.to_string()),
                escape::markdown_code(fr.code.as_deref().unwrap_or(""))
            );
        }
        if let Some(site) = &c.site {
            let _ = writeln!(s, "- torch site: `{}`", escape::markdown_code(site));
        }
        s.push('\n');
    }
    let _ = writeln!(
        s,
        "**What torch promises.** {}\n",
        escape::markdown_text(promise_of(r, f))
    );
    let repro = reproducer(r, f, target, source);
    let fence = escape::fence_for(&repro);
    let _ = writeln!(
        s,
        "**Reproducer** (standalone):\n\n{fence}python\n{repro}{fence}\n"
    );
    if let Some(tb) = &r.traceback {
        let fence = escape::fence_for(tb);
        let _ = writeln!(
            s,
            "<details><summary>Traceback</summary>\n\n{fence}\n{tb}\n{fence}\n</details>\n"
        );
    }
    let _ = writeln!(s, "**Versions**\n");
    match versions {
        Some(v) => {
            let fence = escape::fence_for(v);
            let _ = writeln!(s, "{fence}\n{}\n{fence}", v.trim_end());
        }
        None => {
            let _ = writeln!(s, "torch {}", escape::markdown_text(&r.torch));
        }
    }
    let _ = writeln!(s, "\nFound by `shapefuzz probe`.");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A probe stopped at its memory limit names the stage it was in, as a hang does.
    #[test]
    fn an_out_of_memory_probe_names_its_stage() {
        let oom = Outcome::Oom {
            resident: 9 << 30,
            limit: 8 << 30,
            stderr_tail: "shapefuzz-probe stage: load\nshapefuzz-probe stage: eager\n".into(),
        };
        let r = judge_outcome("model.py", "2.15.0", &oom);
        let e = r.error.expect("an error");
        assert_eq!(e.stage, "eager");
        assert!(
            e.message.contains("while running the model eagerly"),
            "{}",
            e.message
        );
    }
}
