//! The worker's replies as types (see `harness/python/PROTOCOL.md`).
//!
//! Every field the judge reads is declared here, and fields the worker always sends are
//! required: a reply that lost or renamed one fails to parse and is reported as a protocol
//! error, instead of silently reading as "absent" and changing verdicts.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Bumped whenever the request or reply of `check` changes shape; the worker reports its
/// own in its hello line and the pool refuses a worker that disagrees.
pub const PROTOCOL_VERSION: u32 = 6;

/// A reply to `check`, when the worker could handle the request at all.
#[derive(Clone, Debug, Deserialize)]
pub struct CheckReply {
    #[serde(default)]
    pub timings: PhaseTimings,
    pub eager_export: Option<Ran>,
    pub export: Option<Ran>,
    pub dims: Vec<DimInfo>,
    /// Per symbol, the sizes in `0..=guard_scan_max` the exported program's guards accept
    /// (null when the program has no guard function).
    pub accepted: BTreeMap<String, Option<Vec<[i64; 2]>>>,
    /// Per torch symbol that is a whole input dim, the sizes accepted when it alone varies;
    /// sent only when some symbol's scan accepts a single size (see PROTOCOL.md).
    pub alone: Vec<AloneScan>,
    pub guards: Vec<GuardInfo>,
    pub witnesses: Vec<WitnessInfo>,
    /// After a failed export: whether every guard, replacement and range torch concluded
    /// holds at every size eager accepts (null when something could not be decided).
    pub guards_hold: Option<bool>,
    /// When they all hold: indices into `guards` of those torch cannot prove from its ranges.
    pub unproven: Vec<usize>,
    pub fix: Option<FixInfo>,
    pub probes: Vec<ProbeInfo>,
    /// The backend step applied to the exported program (`transform` in the request).
    #[serde(default)]
    pub backend: Option<BackendRan>,
}

/// Whether the backend step ran, and what it changed of the input ranges.
#[derive(Clone, Debug, Deserialize)]
pub struct BackendRan {
    pub ok: bool,
    pub name: String,
    #[serde(default)]
    pub error: Option<ErrorInfo>,
    /// `[before, after]`: the input symbols' ranges, when the step changed them.
    #[serde(default)]
    pub ranges: Option<[BTreeMap<String, [Option<i64>; 2]>; 2]>,
    /// `saved`: the guards the loaded program lost and gained against the saved one (as
    /// `ep._guards_code` prints them), when they differ.
    #[serde(default)]
    pub guards: Option<[Vec<String>; 2]>,
    /// onnx: input dims the exported program keeps dynamic and the ONNX model fixes.
    #[serde(default)]
    pub lost_axes: Vec<String>,
    /// compile: why the step does not apply to the case (torch.compile takes a ShapesSpec
    /// only); then it did not run and judged nothing.
    #[serde(default)]
    pub not_applicable: Option<String>,
    /// compile: the graphs compiled at the export inputs.
    #[serde(default)]
    pub graphs: Option<u32>,
}

/// The sizes one torch symbol's guards accept with every other torch symbol held.
#[derive(Clone, Debug, Deserialize)]
pub struct AloneScan {
    pub symbol: String,
    /// `[input, dim]` of every input dim that is this torch symbol.
    pub dims: Vec<[u32; 2]>,
    pub accepted: Vec<[i64; 2]>,
}

/// A reply whose `ok` is false: the worker could not run the request.
#[derive(Clone, Debug, Deserialize)]
pub struct FailedReply {
    pub error: ErrorInfo,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct PhaseTimings {
    #[serde(default)]
    pub load: f64,
    #[serde(default)]
    pub eager: f64,
    #[serde(default)]
    pub export: f64,
    #[serde(default)]
    pub inspect: f64,
    #[serde(default)]
    pub probes: f64,
}

/// Whether a step ran, and its error when it did not.
#[derive(Clone, Debug, Deserialize)]
pub struct Ran {
    pub ok: bool,
    #[serde(default)]
    pub error: Option<ErrorInfo>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct ErrorInfo {
    #[serde(rename = "type")]
    pub ty: String,
    #[serde(default)]
    pub module: String,
    pub message: String,
    /// Export errors: constraint_violation, data_dependent, unsupported, invalid_spec or
    /// internal.
    #[serde(default)]
    pub kind: Option<String>,
    /// Export errors: the whole chained traceback, paths of the machine removed.
    #[serde(default)]
    pub traceback: Option<String>,
    /// Export errors: the innermost line of the case file in the traceback.
    #[serde(default)]
    pub case_line: Option<u32>,
    /// Export errors: the innermost library frame, `torch/<file> in <function>`.
    #[serde(default)]
    pub site: Option<String>,
    /// probe: the model file of `case_line`, its code, whether Python itself asked for a
    /// concrete value there, and whether the model's own line raised.
    #[serde(default)]
    pub case_file: Option<String>,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub python: bool,
    #[serde(default)]
    pub raised_in_model: bool,
}

impl ErrorInfo {
    /// `Type: message`, as Python prints an exception.
    pub fn text(&self) -> String {
        format!("{}: {}", self.ty, self.message)
    }
}

#[derive(Clone, Debug, Deserialize)]
pub struct DimInfo {
    pub input: u32,
    pub dim: u32,
    pub pinned: Option<i64>,
    pub range: Option<[Option<i64>; 2]>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct GuardInfo {
    pub expr: String,
    /// `file:line in function` of the innermost library frame that added it.
    pub framework: Option<String>,
    /// The case-file line on the stack when it was added.
    pub line: Option<u32>,
    /// How many size symbols it mentions (2 or more: a relation between dims).
    #[serde(default)]
    pub symbols: u32,
    /// The input dims (`[input, dim]`) its symbols stand for.
    #[serde(default)]
    pub dims: Vec<[u32; 2]>,
    /// probe: the model file of `line`, whether the model's Python itself branched there,
    /// and the model lines on the stack, innermost first.
    #[serde(default)]
    pub file: Option<String>,
    #[serde(default)]
    pub python: bool,
    /// probe: which Python decision the guard stands for (`branch`, `loop`, `pieces`,
    /// `size-class`), when it is one.
    #[serde(default)]
    pub decision: Option<String>,
    #[serde(default)]
    pub stack: Vec<ModelFrame>,
}

/// probe: a line of the model on the stack when torch decided.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct ModelFrame {
    pub file: Option<String>,
    pub line: Option<u32>,
    pub code: Option<String>,
}

/// A size eager accepts and the exported program (or the failed export's guards) rules out.
#[derive(Clone, Debug, Deserialize)]
pub struct WitnessInfo {
    pub symbol: String,
    pub size: i64,
    pub in_region: bool,
    /// Indices into `guards` of the guards false at this size.
    pub false_guards: Vec<usize>,
}

/// torch's "Suggested fixes", applied with its own helper and exported again.
#[derive(Clone, Debug, Deserialize)]
pub struct FixInfo {
    pub suggested: String,
    pub refined: Option<String>,
    pub export_ok: Option<bool>,
    pub error: Option<ErrorInfo>,
    /// `refine` when torch's helper could not apply the fix, `export` when the export with
    /// the fix failed.
    #[serde(default)]
    pub stage: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeKind {
    /// A probe of the case.
    Normal,
    /// A probe of the case at size 0 or 1.
    Edge,
    /// Just outside the trace region, added by the oracle.
    Region,
    /// A size the exported program accepts, from the worker's sweep (`SWEEP_PER_SYMBOL`).
    Sweep,
}

#[derive(Clone, Debug, Deserialize)]
pub struct ProbeInfo {
    pub sizes: BTreeMap<String, i64>,
    pub kind: ProbeKind,
    pub eager: Option<ProbeSide>,
    pub exported: Option<ProbeSide>,
    #[serde(rename = "match")]
    pub matches: Option<bool>,
    pub detail: Option<String>,
    #[serde(default)]
    pub false_guards: Vec<usize>,
    /// With a backend step: the exported program before it, at the same inputs.
    #[serde(default)]
    pub reference: Option<ReferenceSide>,
    /// A user's model with ShapesSpec assumptions (`probe`): whether these sizes keep them.
    #[serde(default)]
    pub declared: Option<bool>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct ReferenceSide {
    pub ok: bool,
    #[serde(rename = "match")]
    pub matches: Option<bool>,
    #[serde(default)]
    pub error: Option<ErrorInfo>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct ProbeSide {
    pub ok: bool,
    #[serde(default)]
    pub repeatable: Option<bool>,
    #[serde(default)]
    pub finite: Option<bool>,
    #[serde(default)]
    pub error: Option<ErrorInfo>,
    /// compile: the graphs torch.compile compiled for this call (0: it ran a compiled one).
    #[serde(default)]
    pub recompiles: Option<u32>,
    /// compile: the guards of the compiled graphs that failed and made it compile again.
    #[serde(default)]
    pub failed_guards: Vec<String>,
}
