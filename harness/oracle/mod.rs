//! The oracle: runs a case through real PyTorch and says what it saw, and what that means.
//!
//! `check` renders the case, sends it to a worker of the [`Pool`] (eager at the export
//! sizes, `torch.export`, inspection, eager vs exported at every probe; see
//! `harness/python/PROTOCOL.md`), and [`contract::judge`]s the worker's raw observations in
//! Rust against the case's ground truth and torch.export's own contract
//! (`harness/oracle/CONTRACT.md`). A verdict says what happened (`lost_dim`,
//! `divergence`, ...); its [`Class`] says whether torch broke a promise (`bug`), the model
//! has an avoidable specialization (`portability`), or torch did what its documentation
//! says (`expected`). The oracle never judges what it cannot: a non-repeatable eager result
//! or a reply that breaks the protocol is `poisoned`, not a finding.

pub mod contract;
pub mod env;
pub mod pool;
pub mod protocol;

pub use contract::{Truth, judge, outcome_at};
pub use env::{EnvError, PythonEnv};
pub use pool::{Outcome, Pool, PoolConfig};

use crate::ir::{Case, DimExpr, DimSpec, InputDim, SCAN_MAX, in_runs, symbol_name};
use crate::render::{Rendered, render};
use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::sync::LazyLock;
use std::time::{Duration, Instant};

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
    /// The worker passed its memory limit and was killed: the harness's resource bound, not
    /// a judgement of torch.
    Oom,
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
        Verdict::Oom,
    ];
    /// What the verdict means, in one sentence (`shapefuzz explain`).
    pub fn meaning(self) -> &'static str {
        match self {
            Verdict::Pass => {
                "Export kept what was asked and the exported program matched eager at every probe."
            }
            Verdict::Invalid => "Eager itself refused the case: the generator's fault, not judged.",
            Verdict::LostDim => {
                "A dim asked to be dynamic was pinned to one size or narrowed by the exported program."
            }
            Verdict::SpuriousGuard => {
                "The exported program's guard rejected a size at which eager runs."
            }
            Verdict::Divergence => {
                "The exported program accepted a size and returned another result than eager."
            }
            Verdict::ExportError => "torch.export raised.",
            Verdict::Crash => {
                "The worker process died (a signal or an abort inside torch), twice, on fresh workers."
            }
            Verdict::Hang => "The worker did not answer within --timeout, twice, on fresh workers.",
            Verdict::Poisoned => {
                "The harness could not judge the case (no worker, or the run stopped first)."
            }
            Verdict::Oom => {
                "The worker passed its memory limit and was stopped: a resource bound of the harness."
            }
        }
    }

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
            Verdict::Oom => "oom",
        }
    }
    /// Whether this verdict is a finding about torch (as opposed to pass, or the harness
    /// being unable to judge).
    pub fn is_finding(self) -> bool {
        !matches!(
            self,
            Verdict::Pass | Verdict::Invalid | Verdict::Poisoned | Verdict::Oom
        )
    }
}

/// What a finding means to a user: did torch break its contract?
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// torch broke a documented promise: an issue for torch maintainers.
    Bug,
    /// A size inside the trace region is lost to a specialization the model did not force,
    /// usually avoidable with another spelling: a note for model authors.
    Portability,
    /// torch did what its documentation says (the trace region, 0/1 specialization, a
    /// data-dependent branch): counted, collapsed.
    Expected,
}

impl Class {
    pub const ALL: &'static [Class] = &[Class::Bug, Class::Portability, Class::Expected];
    pub fn name(self) -> &'static str {
        match self {
            Class::Bug => "bug",
            Class::Portability => "portability",
            Class::Expected => "expected",
        }
    }
    pub fn parse(s: &str) -> Option<Class> {
        Class::ALL.iter().copied().find(|c| c.name() == s)
    }
}

/// The contract outcome: which rule of `CONTRACT.md` a finding falls under. Each belongs to
/// one class; bugs are listed by severity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Contract {
    /// The exported program accepted a probe and returned another result than eager.
    SilentDivergence,
    /// The same at a size of 0 or 1, which the program accepts without checking.
    SilentDivergenceAtZeroOne,
    /// Export raised an error that is not a user-facing one.
    InternalError,
    /// The exported program passed its own input checks at a size eager runs, then raised.
    ProgramError,
    /// Export raised a constraint violation although everything torch concluded about the
    /// sizes holds at every size the spec allows and eager accepts.
    SpuriousConstraintViolation,
    /// torch's "Suggested fixes", applied with its own helper, do not export.
    SuggestedFixFails,
    /// A `Dim.DYNAMIC` dim was specialized to a single size without an error.
    DynamicSpecializedSilently,
    /// A named `Dim` was narrowed by a guard on it alone without a constraint violation.
    NamedDimNarrowedSilently,
    /// Under ShapesSpec, the exported program rejects a size inside the declared ranges at
    /// which eager runs: the API promises no specialization, 0 and 1 included.
    ShapesSpecRejectsValid,
    /// Under ShapesSpec, the exported program takes a size outside a declared range (or one
    /// that breaks an assumption) without the runtime assertion the API promises.
    ShapesSpecRangeUnchecked,
    /// Under `torch.export.AdditionalInputs`, export succeeded (verifying the program takes
    /// every additional example) and the program rejects one of them.
    AdditionalInputUnverified,
    /// The worker died on a model eager runs.
    Crash,
    /// The worker did not answer in time.
    Hang,
    /// A size inside the trace region is rejected (or raised as a constraint violation).
    AvoidableSpecialization,
    /// Export stopped at a data-dependent guard inside a torch op.
    DataDependentInOp,
    /// Export raised because Python cannot handle a symbolic size here.
    UnsupportedOnSymbolic,
    /// Rejected sizes are all outside the trace region.
    TraceRegion,
    /// Rejected at size 0 or 1: torch's 0/1 specialization.
    ZeroOneSpecialization,
    /// Export stopped at Python control flow on a data-dependent value.
    DataDependentBranch,
    /// Export refused, with a user error, a spec torch documents as invalid for its input
    /// (a dim hint on a float or bool input).
    SpecRejected,
    /// A constraint violation for a named Dim whose range holds sizes eager itself fails at.
    SpecBeyondModel,
    /// A backend step (`run_decompositions`, `save`/`load`) raised on a program export made.
    BackendError,
    /// The program after a backend step rejects or answers differently where the exported
    /// program was right, or lost the exported program's input ranges.
    BackendDisagrees,
    /// The backend has no translation for an op the model uses (torch.onnx's "No ONNX
    /// function found", a NotImplementedError of a lowering): a limitation it documents.
    BackendUnsupported,
    /// onnx: an input the exported program's guards refuse, taken by onnxruntime (an ONNX
    /// model has no guards) and answered differently from eager.
    BackendUncheckedGuard,
    /// compile: torch.compile with a ShapesSpec compiled another graph at a size the spec
    /// declares (inside its ranges and assumptions, every STATIC dim as at export).
    CompileRecompiles,
    /// The model itself makes the exported program differ from eager: it runs other code
    /// under `torch.compiler.is_exporting()` / `is_compiling()`, or asserts a condition on
    /// data values (`torch._check` on an `.item()`) that the program enforces at run time.
    ModelIntent,
    /// Export stopped at a torch API's own argument check (`torch.cond`'s operand rules): the
    /// model calls it in a way its documentation rules out, though eager may skip the check.
    ApiArgumentError,
}

impl Contract {
    /// What the outcome means, in one sentence (`shapefuzz explain`).
    pub fn meaning(self) -> &'static str {
        use Contract::*;
        match self {
            SilentDivergence => {
                "The exported program accepted a probe and returned another result than eager."
            }
            SilentDivergenceAtZeroOne => {
                "The exported program accepted a size of 0 or 1, which torch documents it assumes away and does not check, and returned another result than eager: a silently wrong answer the model author must rule out (ShapesSpec with ShapeVar(min=2), whose range the program asserts, or a check before calling it)."
            }
            InternalError => "Export raised an error that is not a user-facing one.",
            ProgramError => {
                "The exported program passed its own input checks at a size eager runs, then raised."
            }
            SpuriousConstraintViolation => {
                "Export raised a constraint violation although everything torch concluded about the sizes holds at every size the spec allows and eager accepts."
            }
            SuggestedFixFails => {
                "torch's \"Suggested fixes\", applied with its own helper, do not export."
            }
            DynamicSpecializedSilently => {
                "A Dim.DYNAMIC dim was specialized to a single size without an error."
            }
            NamedDimNarrowedSilently => {
                "A named Dim was narrowed by a guard on it alone without a constraint violation."
            }
            ShapesSpecRejectsValid => {
                "Under ShapesSpec the exported program rejects a size inside the declared ShapeVar ranges at which eager runs, though the API promises dims marked dynamic are never specialized (0 and 1 included) and that export fails rather than give a graph not valid for every input the spec allows."
            }
            ShapesSpecRangeUnchecked => {
                "Under ShapesSpec the exported program takes a size outside a declared ShapeVar range, or one that breaks an assumption, without raising, though the spec's ranges and assumptions are asserted at run time."
            }
            AdditionalInputUnverified => {
                "Under AdditionalInputs export succeeded, verifying that the exported program takes every additional example input, and the program rejects one of them."
            }
            Crash => "The worker died on a model eager runs.",
            Hang => "The worker did not answer in time.",
            AvoidableSpecialization => {
                "A size inside the trace region is rejected (or raised as a constraint violation); usually another spelling of the culprit keeps it dynamic."
            }
            DataDependentInOp => "Export stopped at a data-dependent guard inside a torch op.",
            UnsupportedOnSymbolic => {
                "Export raised because Python cannot handle a symbolic size here."
            }
            TraceRegion => {
                "Rejected sizes are all outside the trace region: the model's Python would take another path there."
            }
            ZeroOneSpecialization => "Rejected at size 0 or 1: torch's 0/1 specialization.",
            DataDependentBranch => {
                "Export stopped at Python control flow on a data-dependent value."
            }
            SpecRejected => {
                "Export refused, with a user error, a spec torch documents as invalid for its input (a dim hint on a float or bool input), or one ShapesSpec's own checks refuse (a ShapeVar used only inside `s0 * 2`)."
            }
            SpecBeyondModel => {
                "A constraint violation for a named Dim whose range holds sizes eager itself fails at."
            }
            BackendError => {
                "A backend step (run_decompositions, or save and load) raised on a program torch.export produced."
            }
            BackendDisagrees => {
                "After a backend step the program rejects, or answers differently, where the exported program matched eager, or its input ranges changed."
            }
            BackendUnsupported => {
                "The backend has no translation for an op (or an op's arguments) the model uses; another op usually avoids it."
            }
            BackendUncheckedGuard => {
                "An input the exported program's guards refuse is taken by a backend that cannot check guards (ONNX) and answered wrong: keep the dim dynamic in the model, or check the guard before calling."
            }
            CompileRecompiles => {
                "torch.compile with a ShapesSpec compiled another graph for a size the spec declares dynamic (inside its ranges and assumptions, STATIC dims unchanged), though the API marks those dims unbacked and never specialized."
            }
            ModelIntent => {
                "The model itself makes the exported program differ: it runs other code under torch.compiler.is_exporting() or is_compiling(), or asserts a condition on data values that the program enforces at run time."
            }
            ApiArgumentError => {
                "Export stopped at a torch API's own argument check: the model calls the API in a way its documentation rules out (eager may skip the check); fix the call."
            }
        }
    }

    pub const ALL: &'static [Contract] = &[
        Contract::SilentDivergence,
        Contract::SilentDivergenceAtZeroOne,
        Contract::InternalError,
        Contract::ProgramError,
        Contract::SpuriousConstraintViolation,
        Contract::SuggestedFixFails,
        Contract::DynamicSpecializedSilently,
        Contract::NamedDimNarrowedSilently,
        Contract::ShapesSpecRejectsValid,
        Contract::ShapesSpecRangeUnchecked,
        Contract::AdditionalInputUnverified,
        Contract::Crash,
        Contract::Hang,
        Contract::AvoidableSpecialization,
        Contract::DataDependentInOp,
        Contract::UnsupportedOnSymbolic,
        Contract::TraceRegion,
        Contract::ZeroOneSpecialization,
        Contract::DataDependentBranch,
        Contract::SpecRejected,
        Contract::SpecBeyondModel,
        Contract::BackendError,
        Contract::BackendDisagrees,
        Contract::BackendUnsupported,
        Contract::BackendUncheckedGuard,
        Contract::CompileRecompiles,
        Contract::ModelIntent,
        Contract::ApiArgumentError,
    ];

    pub fn class(self) -> Class {
        use Contract::*;
        match self {
            SilentDivergence
            | InternalError
            | ProgramError
            | SpuriousConstraintViolation
            | SuggestedFixFails
            | DynamicSpecializedSilently
            | NamedDimNarrowedSilently
            | ShapesSpecRejectsValid
            | ShapesSpecRangeUnchecked
            | AdditionalInputUnverified
            | Crash
            | Hang
            | BackendError
            | BackendDisagrees
            | CompileRecompiles => Class::Bug,
            // A wrong answer at a size torch documents it does not check: the author's
            // to guard, first among their notes (CONTRACT.md, "0/1").
            SilentDivergenceAtZeroOne
            | AvoidableSpecialization
            | DataDependentInOp
            | UnsupportedOnSymbolic
            | BackendUnsupported
            | BackendUncheckedGuard
            | ApiArgumentError => Class::Portability,
            TraceRegion
            | ZeroOneSpecialization
            | DataDependentBranch
            | SpecRejected
            | SpecBeyondModel
            | ModelIntent => Class::Expected,
        }
    }

    pub fn name(self) -> &'static str {
        use Contract::*;
        match self {
            SilentDivergence => "silent-divergence",
            SilentDivergenceAtZeroOne => "silent-divergence-at-0-1",
            InternalError => "internal-error",
            ProgramError => "program-error",
            SpuriousConstraintViolation => "spurious-constraint-violation",
            SuggestedFixFails => "suggested-fix-fails",
            DynamicSpecializedSilently => "dynamic-specialized-silently",
            NamedDimNarrowedSilently => "named-dim-narrowed-silently",
            ShapesSpecRejectsValid => "shapes-spec-rejects-valid",
            ShapesSpecRangeUnchecked => "shapes-spec-range-unchecked",
            AdditionalInputUnverified => "additional-input-unverified",
            Crash => "crash",
            Hang => "hang",
            AvoidableSpecialization => "avoidable-specialization",
            DataDependentInOp => "data-dependent-in-op",
            UnsupportedOnSymbolic => "unsupported-on-symbolic",
            TraceRegion => "trace-region",
            ZeroOneSpecialization => "zero-one-specialization",
            DataDependentBranch => "data-dependent-branch",
            SpecRejected => "spec-rejected",
            SpecBeyondModel => "spec-beyond-model",
            BackendError => "backend-error",
            BackendDisagrees => "backend-disagrees",
            BackendUnsupported => "backend-unsupported",
            BackendUncheckedGuard => "backend-unchecked-guard",
            CompileRecompiles => "compile-recompiles",
            ModelIntent => "model-intent",
            ApiArgumentError => "api-argument-error",
        }
    }

    /// Severity for ordering reports: lower is worse. Divergences first, then internal
    /// errors, then broken spec promises, then crashes and hangs.
    pub fn severity(self) -> u8 {
        use Contract::*;
        match self {
            SilentDivergence => 0,
            SilentDivergenceAtZeroOne => 1,
            InternalError => 2,
            ProgramError => 2,
            SpuriousConstraintViolation => 3,
            SuggestedFixFails => 3,
            DynamicSpecializedSilently => 4,
            NamedDimNarrowedSilently => 5,
            ShapesSpecRejectsValid => 4,
            ShapesSpecRangeUnchecked => 6,
            AdditionalInputUnverified => 3,
            Crash => 7,
            Hang => 8,
            AvoidableSpecialization => 10,
            DataDependentInOp => 11,
            UnsupportedOnSymbolic => 12,
            TraceRegion => 20,
            ZeroOneSpecialization => 21,
            DataDependentBranch => 22,
            SpecRejected => 23,
            SpecBeyondModel => 24,
            BackendDisagrees => 1,
            BackendError => 2,
            BackendUnsupported => 13,
            BackendUncheckedGuard => 11,
            CompileRecompiles => 5,
            ApiArgumentError => 14,
            ModelIntent => 25,
        }
    }

    /// A finding only a backend step can make: never the exported program's own.
    pub fn backend_only(self) -> bool {
        use Contract::*;
        matches!(
            self,
            BackendError
                | BackendDisagrees
                | BackendUnsupported
                | BackendUncheckedGuard
                | CompileRecompiles
        )
    }

    /// What torch promises, and where it says so (the reproducer quotes it).
    pub fn promise(self) -> &'static str {
        contract::promise(self)
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
    /// The exported program after `ep.run_decompositions()` (the default Core ATen table).
    Decomposed,
    /// The exported program after `torch.export.save` to a buffer and `torch.export.load`.
    Saved,
    /// The exported program compiled ahead of time by AOTInductor on CPU
    /// (`aoti_compile_and_package`, `aoti_load_package`). Compiles C++: seconds a case.
    Aoti,
    /// The model exported to ONNX by `torch.onnx.export(ep, dynamo=True)` from the exported
    /// program, run by onnxruntime on CPU.
    Onnx,
    /// `torch.compile(model, dynamic_shapes=<the case's ShapesSpec>, fullgraph=True)` with
    /// Inductor on CPU: not a step on the exported program but the same model and spec
    /// through torch.compile, judged beside the exported program. ShapesSpec cases only.
    Compile,
}

impl Backend {
    pub const ALL: &'static [Backend] = &[
        Backend::Export,
        Backend::ExportStrict,
        Backend::Decomposed,
        Backend::Saved,
        Backend::Aoti,
        Backend::Onnx,
        Backend::Compile,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Backend::Export => "export",
            Backend::ExportStrict => "export-strict",
            Backend::Decomposed => "decomposed",
            Backend::Saved => "saved",
            Backend::Aoti => "aoti",
            Backend::Onnx => "onnx",
            Backend::Compile => "compile",
        }
    }

    pub fn parse(s: &str) -> Option<Backend> {
        Backend::ALL.iter().copied().find(|b| b.name() == s)
    }

    /// What the backend probes, for `explain` and the reports.
    pub fn meaning(self) -> &'static str {
        match self {
            Backend::Export => {
                "The exported program of torch.export.export (non-strict, torch's default): the default backend, and the program every other step starts from."
            }
            Backend::ExportStrict => {
                "torch.export.export(strict=True), which traces with TorchDynamo; its own export, judged like `export` (the same as --strict)."
            }
            Backend::Decomposed => {
                "The exported program after ep.run_decompositions() (the Core ATen table): its findings are what decomposition changed, such as a guard it added."
            }
            Backend::Saved => {
                "The exported program after torch.export.save to a buffer and torch.export.load: what serialization drops or cannot write."
            }
            Backend::Aoti => {
                "The exported program compiled by AOTInductor on CPU (aoti_compile_and_package, aoti_load_package) with its input checks on. Compiles C++, 4-20 s a case; --aoti-timeout bounds it."
            }
            Backend::Onnx => {
                "torch.onnx.export(ep, dynamo=True) of the exported program, run by onnxruntime on CPU. Its packages (onnx, onnxruntime, onnxscript) are installed on first use or by `shapefuzz setup --with onnx`."
            }
            Backend::Compile => {
                "torch.compile(model, dynamic_shapes=<the case's ShapesSpec>, fullgraph=True) with Inductor on CPU, compared with eager and the exported program at the same probes; a recompile at a size the spec declares is a finding. ShapesSpec cases only (a campaign asking for it generates only those); not in `all`. Compiles C++, seconds a case; --aoti-timeout bounds it."
            }
        }
    }

    /// The step applied to the exported program before it is inspected and probed, as the
    /// worker names it (`transform` in PROTOCOL.md).
    pub fn transform(self) -> Option<&'static str> {
        match self {
            Backend::Export | Backend::ExportStrict => None,
            Backend::Decomposed => Some("decomposed"),
            Backend::Saved => Some("saved"),
            Backend::Aoti => Some("aoti"),
            Backend::Onnx => Some("onnx"),
            Backend::Compile => Some("compile"),
        }
    }

    pub fn strict(self) -> bool {
        self == Backend::ExportStrict
    }
}

/// The culprit of a finding: the guard false at the witness sizes, the exception's line in
/// the case, or the Python decision that changed; traced to the IR node on its line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cause {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<u32>,
    /// The node's op kind (`append_value`, `round.int`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spelling: Option<String>,
    /// The culprit guard, error or decision as text.
    pub guard: String,
    /// The line of the rendered case module.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// The torch function that emitted the guard or raised: `torch/nn/functional.py in pad`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
}

impl Cause {
    /// `op:spelling`, or `-` when no node was found.
    pub fn op_text(&self) -> String {
        match (&self.op, &self.spelling) {
            (Some(op), Some(s)) => format!("{op}:{s}"),
            (Some(op), None) => op.clone(),
            _ => "-".into(),
        }
    }
}

/// One thing the oracle observed that is not as it should be.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub verdict: Verdict,
    /// None for what cannot be judged (invalid, poisoned).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract: Option<Contract>,
    /// Export-error sub-kind (constraint_violation, data_dependent, unsupported, internal);
    /// for backend-disagrees how the step broke the program (refuses, differs,
    /// differs-at-0-1, takes-refused-input, ranges, guards, pinned-dim-param, lost-axis).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    pub message: String,
    /// For lost_dim: the input and dim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dim: Option<u32>,
    /// Sizes (one per symbol) to show it at: the probe, or a witness size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe: Option<Vec<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<Cause>,
}

impl Finding {
    pub fn class(&self) -> Option<Class> {
        self.contract.map(Contract::class)
    }
}

/// A 0/1 probe's outcome, recorded for every case.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EdgeOutcome {
    pub sizes: Vec<i64>,
    pub eager_ok: bool,
    pub exported_ok: bool,
    pub matches: Option<bool>,
}

impl EdgeOutcome {
    /// `rejected` (0/1 specialization, expected), `matches`, `differs` (a bug), or
    /// `eager-fails` (nothing to compare with).
    pub fn outcome(&self) -> &'static str {
        match (self.eager_ok, self.exported_ok, self.matches) {
            (false, _, _) => "eager-fails",
            (true, false, _) => "rejected",
            (true, true, Some(false)) => "differs",
            _ => "matches",
        }
    }
}

/// The same model under the other spec API ([`Case::in_spec_api`]), checked beside a
/// finding on the same backend: whether the finding belongs to the spec API (the twin
/// passes) or to the model whichever API exports it (the twin blames the same line), and
/// what the twin's program did at the finding's sizes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Twin {
    /// The twin's spec API.
    pub api: crate::ir::SpecApi,
    pub verdict: Verdict,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract: Option<Contract>,
    /// The message of the twin's own finding ("" for a pass).
    #[serde(default)]
    pub message: String,
    /// The twin's finding blames the same node of the model (with no node on either side:
    /// the same verdict and kind).
    #[serde(default)]
    pub same_culprit: bool,
    /// At the finding's sizes: `matches`, `differs`, `rejected` or `eager-fails`; None
    /// where the twin ran nothing there (its export failed, or there are no such sizes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_probe: Option<String>,
}

impl Twin {
    /// The four outcomes a report counts: `clean` (no bug or portability finding: the
    /// finding is the spec API's own), `same-culprit` (the same line is to blame under
    /// either API), `other` (the twin shows another finding), `not-judged`.
    pub fn outcome(&self) -> &'static str {
        match self.verdict {
            Verdict::Pass => "clean",
            Verdict::Invalid | Verdict::Poisoned | Verdict::Oom => "not-judged",
            _ if self.contract.map(Contract::class) == Some(Class::Expected) => "clean",
            _ if self.same_culprit => "same-culprit",
            _ => "other",
        }
    }

    /// One sentence for a report: "Under the Dim API the same model passes: it exports and
    /// matches eager at every probe; at s0=1 its program rejects the input."
    pub fn describe(&self, probe: Option<&[i64]>) -> String {
        let api = match self.api {
            crate::ir::SpecApi::Dim => "the Dim API",
            crate::ir::SpecApi::Shapes => "ShapesSpec",
            crate::ir::SpecApi::Additional => "AdditionalInputs",
            crate::ir::SpecApi::Collection => "ShapesCollection",
        };
        let finding = || {
            format!(
                "{}: {}",
                self.contract.map_or(self.verdict.name(), Contract::name),
                first_line_of(&self.message)
            )
        };
        let what = match self.outcome() {
            "clean" if self.verdict == Verdict::Pass => {
                "the same model passes: it exports and matches eager at every probe".to_string()
            }
            "clean" => format!(
                "the same model shows no bug and no portability finding, only what that API documents ({})",
                finding()
            ),
            "same-culprit" => format!(
                "the same line of the model is to blame ({}): the model's, whichever API exports it",
                finding()
            ),
            "other" => format!("the same model shows another finding ({})", finding()),
            _ => format!("the same model could not be judged ({})", finding()),
        };
        let at = match (probe, self.at_probe.as_deref()) {
            (Some(p), Some(o)) => {
                let sizes = p
                    .iter()
                    .enumerate()
                    .map(|(i, n)| format!("{}={n}", symbol_name(i)))
                    .collect::<Vec<_>>()
                    .join(" ");
                let did = match o {
                    "matches" => "accepts the input and matches eager",
                    "differs" => "accepts the input and differs from eager",
                    "rejected" => "rejects the input",
                    _ => "is not compared (eager fails there)",
                };
                format!("; at {sizes} its program {did}")
            }
            _ => String::new(),
        };
        format!("Under {api} {what}{at}.")
    }
}

fn first_line_of(s: &str) -> &str {
    let line = s.lines().next().unwrap_or("");
    match line.char_indices().nth(160) {
        Some((i, _)) => &line[..i],
        None => line,
    }
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

impl Timings {
    /// The check's own time: `total_s` less any wait for a free worker.
    pub fn busy_s(&self) -> f64 {
        self.render_s
            + self.ipc_s
            + self.load_s
            + self.eager_s
            + self.export_s
            + self.inspect_s
            + self.probes_s
    }
}

/// What a check concluded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    pub backend: Backend,
    pub verdict: Verdict,
    /// The finding behind the verdict first (the worst by class, then severity), then the
    /// rest.
    pub findings: Vec<Finding>,
    /// Per input dim: the spec asked for, the truth, the trace region, and what torch kept.
    pub dims: Vec<DimReport>,
    pub edge: Vec<EdgeOutcome>,
    /// Sizes the exported program accepts that the sweep ran against eager (the export
    /// sizes included), and how many of them matched.
    #[serde(default)]
    pub swept: usize,
    #[serde(default)]
    pub swept_matching: usize,
    /// The export error's chained traceback (paths of the fuzzing machine removed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceback: Option<String>,
    /// torch's "Suggested fixes" and what came of applying them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// Checked beside the exported program (`check_many`), this backend's finding is the
    /// exported program's own, inherited through the step: it forms no group of its own.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub same_as_export: bool,
    pub timings: Timings,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DimReport {
    pub input: String,
    pub dim: u32,
    /// How a user names the dim: `x.size(0)`, or `n (an int input)`.
    pub label: String,
    pub requested: String,
    pub truth: String,
    /// Sizes of this dim's symbol on which the model's Python decides as at export.
    pub trace_region: String,
    /// What torch kept: "dynamic [2, inf]", "pinned to N", "unknown (export failed)".
    pub kept: String,
    /// The sizes of the symbol the exported program accepts in `2..=SCAN_MAX`.
    pub accepts: String,
}

impl CheckResult {
    /// The finding behind the verdict.
    pub fn primary(&self) -> Option<&Finding> {
        self.findings.first()
    }
    /// The message of the finding behind the verdict.
    pub fn message(&self) -> &str {
        self.primary().map(|f| f.message.as_str()).unwrap_or("")
    }
    pub fn kind(&self) -> Option<&str> {
        self.primary().and_then(|f| f.kind.as_deref())
    }
    pub fn contract(&self) -> Option<Contract> {
        self.primary().and_then(|f| f.contract)
    }
    pub fn class(&self) -> Option<Class> {
        self.contract().map(Contract::class)
    }
    pub fn cause(&self) -> Option<&Cause> {
        self.primary().and_then(|f| f.cause.as_ref())
    }

    /// The group a finding belongs to, as a stable string:
    /// `backend/class/contract/cause-op[:spelling]/torch-site`. Findings with the same
    /// signature share a root cause: the same promise, broken (or kept) the same way, by the
    /// same op and spelling, at the same torch function. `None` for a pass. What cannot be
    /// judged is `backend/invalid/<message>` or `backend/poisoned/<message>`.
    pub fn signature(&self) -> Option<String> {
        self.primary()?;
        if self.verdict == Verdict::Pass || self.same_as_export {
            return None;
        }
        Some(self.signature_on(self.backend.name()))
    }

    /// For a finding that is the exported program's own (`same_as_export`), export's
    /// signature of it: the group it belongs to.
    pub fn inherited_signature(&self) -> Option<String> {
        (self.same_as_export && self.primary().is_some()).then(|| self.signature_on("export"))
    }

    /// The root cause this finding belongs to (see [`root_cause_key`]); `None` where there
    /// is no signature.
    pub fn root_cause(&self) -> Option<String> {
        let signature = self.signature()?;
        let f = self.primary()?;
        Some(
            root_cause_key(
                self.backend.name(),
                f.contract,
                f.kind.as_deref(),
                f.cause.as_ref(),
                &f.message,
            )
            .unwrap_or(signature),
        )
    }

    /// The signature as if found on the backend named `backend`.
    fn signature_on(&self, backend: &str) -> String {
        let Some(f) = self.primary() else {
            return String::new();
        };
        match f.contract {
            Some(c) => {
                let (op, site) = match &f.cause {
                    Some(cause) => (
                        cause.op_text(),
                        cause.site.clone().unwrap_or_else(|| "-".into()),
                    ),
                    // A backend's disagreement has no op of the model to blame; how the
                    // step broke the program (refuses, differs, pinned-dim-param, ...) keeps
                    // different root causes apart.
                    None if c == Contract::BackendDisagrees => {
                        (f.kind.clone().unwrap_or_else(|| "-".into()), "-".into())
                    }
                    None => ("-".into(), "-".into()),
                };
                format!("{backend}/{}/{}/{op}/{site}", c.class().name(), c.name())
            }
            None => format!(
                "{backend}/{}/{}",
                self.verdict.name(),
                normalize_message(&f.message)
            ),
        }
    }

    /// Whether this backend's finding is `export`'s own finding on the same case (the same
    /// promise, op, spelling and torch site): the step kept what export did, wrong or right.
    /// A finding only a backend can make (its step failing, disagreeing with the exported
    /// program, an op it cannot translate, a guard it cannot check) is never inherited.
    pub fn inherits(&self, export: &CheckResult) -> bool {
        if self.verdict == Verdict::Pass || export.verdict == Verdict::Pass {
            return false;
        }
        if self.contract().is_some_and(|c| c.backend_only()) {
            return false;
        }
        self.primary().is_some() && self.signature_on("-") == export.signature_on("-")
    }
}

/// The sub-kind of a silent divergence of a program exported with
/// `prefer_deferred_runtime_asserts_over_guards=True`.
pub const DEFERRED_ASSERTS_KIND: &str = "deferred-asserts";

/// The root cause of a finding: the torch mechanism behind it, whichever op of the model
/// reached it (CONTRACT.md, "Root causes"). `backend/class/<mechanism>` where the mechanism
/// is:
/// - for a guard, the contract, the torch site and the guard's shape (its operator
///   families: `max-min`, `float`, `bitwise`, `floor-mod`, `trunc`, `abs`, `ite`, `pow`, or
///   `plain`); without the site for a spurious constraint violation or a named Dim narrowed
///   silently (torch's reasoning about the guard is at fault, not the op that added it);
///   and one `indirect-pin` for every silent Dim.DYNAMIC pin (the check sees literals only);
/// - for an exception (an internal error always, whether or not a guard was blamed), the
///   torch site, the exception type and its first clause with sizes, names, quoted
///   identifiers and comparisons masked, a constraint violation by its first item: the same
///   bug reached through two outcomes is one root cause;
/// - for a divergence, the contract and the kind of Python decision that changed; under
///   deferred runtime asserts the contract alone (the guard the option dropped);
/// - for a program refusing an `AdditionalInputs` example export verified, the contract
///   alone: verification skips every shape guard alike.
///
/// Signatures are its members: they add the culprit op and spelling.
///
/// `None` when there is nothing to key on (no contract, or no culprit and no sub-kind): the
/// finding's signature is then its own root cause.
pub fn root_cause_key(
    backend: &str,
    contract: Option<Contract>,
    kind: Option<&str>,
    cause: Option<&Cause>,
    message: &str,
) -> Option<String> {
    let c = contract?;
    // every guard of the program is one that `AdditionalInputs.verify` did not run: one miss,
    // whichever op added the guard
    if c == Contract::AdditionalInputUnverified {
        return Some(format!("{backend}/{}/{}", c.class().name(), c.name()));
    }
    if cause.is_none() && kind.is_none() {
        return None;
    }
    let class = c.class().name();
    // a guard that prefer_deferred_runtime_asserts_over_guards neither kept nor asserted:
    // one miss, whichever decision of the model the lost guard was about
    if c == Contract::SilentDivergence && kind == Some(DEFERRED_ASSERTS_KIND) {
        return Some(format!(
            "{backend}/{class}/{}/{DEFERRED_ASSERTS_KIND}",
            c.name()
        ));
    }
    let site = cause
        .and_then(|x| x.site.clone())
        .unwrap_or_else(|| "-".into());
    // An internal error is its exception, whether or not a guard of the failed export was
    // found to blame (the culprit then holds that guard, the message the exception).
    static EXCEPTION: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"[A-Za-z_][\w.]*(Error|Exception|Violation|Node): .*").expect("valid pattern")
    });
    if c == Contract::InternalError
        && let Some(m) = EXCEPTION.find(message.lines().next().unwrap_or(""))
    {
        return Some(format!(
            "{backend}/{class}/{site}/{}",
            mask_exception(m.as_str())
        ));
    }
    let guard = cause.map(|x| x.guard.as_str()).unwrap_or("");
    Some(match cause_shape(guard) {
        CauseShape::Exception(text) => format!("{backend}/{class}/{site}/{text}"),
        CauseShape::Decision(what) => format!("{backend}/{class}/{}/{what}", c.name()),
        // Dim.DYNAMIC's check fires only when a symbol is replaced by a literal: every
        // indirect pin (through Max/Min, a float, round/trunc, a power) is that one miss.
        CauseShape::Guard(_) if c == Contract::DynamicSpecializedSilently => {
            format!("{backend}/{class}/{}/indirect-pin", c.name())
        }
        // A wrong error is torch's reasoning about the guard (the solver cannot prove it),
        // wherever the guard was added; each operator family is its own gap.
        CauseShape::Guard(ops)
            if matches!(
                c,
                Contract::SpuriousConstraintViolation | Contract::NamedDimNarrowedSilently
            ) =>
        {
            format!("{backend}/{class}/{}/{ops}", c.name())
        }
        CauseShape::Guard(ops) => format!("{backend}/{class}/{}/{site}/{ops}", c.name()),
        CauseShape::None => format!(
            "{backend}/{class}/{}/{site}/{}",
            c.name(),
            kind.unwrap_or("-")
        ),
    })
}

enum CauseShape {
    Exception(String),
    Decision(String),
    Guard(String),
    None,
}

/// What kind of culprit text a cause holds: `Type: message` (an exception), a Python
/// decision (`` `code`: the branch condition is ... ``), or a sympy guard.
fn cause_shape(guard: &str) -> CauseShape {
    static EXC: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^([A-Za-z_][\w.]*)(: |$)").expect("valid pattern"));
    static DECISION: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^`[^`]*`: (.+?) is ").expect("valid pattern"));
    let g = guard.trim();
    if g.is_empty() {
        return CauseShape::None;
    }
    if let Some(m) = DECISION.captures(g) {
        return CauseShape::Decision(m[1].to_string());
    }
    if let Some(m) = EXC.captures(g)
        && (m[2].starts_with(':')
            || m[1].ends_with("Error")
            || m[1].ends_with("Exception")
            || m[1].ends_with("Node"))
        && !g.starts_with("Eq(")
        && !g.starts_with("Ne(")
    {
        return CauseShape::Exception(mask_exception(g));
    }
    CauseShape::Guard(guard_ops(g))
}

/// An exception's first line as a mechanism: names, numbers, sizes and quoted identifiers
/// masked, cut at its first clause (what follows is usually the instance: a graph node, a
/// list of dims). A constraint violation is keyed by what its first item says (a size
/// "specialized it to be a constant", a guard "not all values ... satisfy", dims that "must
/// always be related"), which is where violations differ.
fn mask_exception(text: &str) -> String {
    if let Some(item) = text
        .split_once(" | - ")
        .filter(|(head, _)| head.contains("Constraints violated"))
        .map(|(_, item)| item)
    {
        let masked = normalize_message(&mask_quoted(item));
        let words: Vec<&str> = masked.split_whitespace().take(14).collect();
        return format!("constraint violation: {}", words.join(" ")).replace('/', "∕");
    }
    mask_quoted_exception(text)
}

fn mask_quoted(text: &str) -> String {
    static QUOTED: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"'[^']*'|"[^"]*""#).expect("valid pattern"));
    QUOTED.replace_all(text, "'_'").into_owned()
}

fn mask_quoted_exception(text: &str) -> String {
    static MASKS: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
        [
            (r"<built-in function \w+>", "<built-in function _>"),
            (r"<class '[^']*'>", "<class _>"),
            (r"'[^']*'", "'_'"),
            (r#""[^"]*""#, "\"_\""),
            (r"%\w+", "%_"),
            (r"\b(node|function|op|operator|symbol) \w+", "$1 _"),
            // which comparison a message quotes is the instance, not the mechanism
            (r" (<=|>=|==|!=|<|>) ", " ≶ "),
        ]
        .into_iter()
        .map(|(p, r)| (Regex::new(p).expect("valid pattern"), r))
        .collect()
    });
    let mut s = text.lines().next().unwrap_or("").to_string();
    for (re, rep) in MASKS.iter() {
        s = re.replace_all(&s, *rep).into_owned();
    }
    let mut s = normalize_message(&s);
    // keep the type and the first clause of the message
    if let Some((ty, rest)) = s.split_once(": ") {
        let cut = rest
            .find([':', ';', '\n'])
            .map(|i| &rest[..i])
            .unwrap_or(rest);
        let words: Vec<&str> = cut.split_whitespace().take(12).collect();
        s = format!("{ty}: {}", words.join(" "));
    }
    s.replace('/', "∕")
}

/// The operator families a sympy guard uses: what distinguishes one torch reasoning path
/// from another (`Max` folding, float division, bitwise ops, floor division and modulo),
/// with symbols, numbers and relations masked.
fn guard_ops(guard: &str) -> String {
    let families: [(&str, &[&str]); 9] = [
        ("max-min", &["Max(", "Min("]),
        (
            "float",
            &[
                "IntTrueDiv",
                "FloatTrueDiv",
                "ToFloat",
                "FloatPow",
                "OpaqueUnaryFn",
                ".0",
                "sqrt",
                "log",
            ],
        ),
        // torch's bitwise ops print as BitwiseFn_*; a bare `&` or `|` is sympy's And/Or of
        // two relations (a slice clamp's `(s >= 0) & (s <= t)`), not a bitwise op
        ("bitwise", &["BitwiseFn", "LShift", "RShift"]),
        (
            "floor-mod",
            &[
                "FloorDiv",
                "//",
                "Mod(",
                "PythonMod",
                "CeilToInt",
                "FloorToInt",
                "ceiling",
                "floor(",
            ],
        ),
        (
            "trunc",
            &["TruncToInt", "RoundToInt", "RoundDecimal", "trunc"],
        ),
        ("abs", &["Abs("]),
        ("ite", &["ITE", "Piecewise"]),
        // a nonlinear equation: no replacement solves it
        ("pow", &["**", "Pow("]),
        // a compiled frame's guard on a stride (torch.compile's recompile reasons)
        ("stride", &[".stride()"]),
    ];
    let found: Vec<&str> = families
        .iter()
        .filter(|(_, marks)| marks.iter().any(|m| guard.contains(m)))
        .map(|(name, _)| *name)
        .collect();
    if found.is_empty() {
        "plain".into()
    } else {
        found.join("+")
    }
}

/// A message as part of a signature: its first line with every number, size symbol, input
/// name and parenthesized list erased.
pub fn normalize_message(message: &str) -> String {
    static RULES: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
        [
            // Input names in `x.size(0)`, `L['x']`, `y.size()[0]`.
            (r"\b[a-z]\.size\(", "_.size("),
            (r"L\['[a-z]+'\]", "L['_']"),
            // Symbols: s0, s77, u0; then any number.
            (r"\b[su]\d+\b", "s"),
            (r"0x[0-9a-f]+", "0x"),
            (r"\d+(\.\d+)?", "N"),
            (r"\s+", " "),
        ]
        .into_iter()
        .map(|(p, r)| (Regex::new(p).expect("valid pattern"), r))
        .collect()
    });
    let first = message
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    let mut s: String = first.chars().take(240).collect();
    for (re, rep) in RULES.iter() {
        s = re.replace_all(&s, *rep).into_owned();
    }
    // Parenthesized lists say which dims or sizes, not what went wrong; collapse them from
    // the innermost out.
    static PARENS: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\([^()]*\)").expect("valid pattern"));
    loop {
        let next = PARENS.replace_all(&s, "\u{27e8}\u{27e9}").into_owned();
        if next == s {
            break;
        }
        s = next;
    }
    s.replace("\u{27e8}\u{27e9}", "(…)")
}

/// Sizes just outside the trace region, per symbol (the nearest valid size below and above
/// the export size's run): where a Python decision that torch did not guard would show as a
/// silently different result.
pub fn region_probes(case: &Case, truth: &Truth) -> Vec<Vec<i64>> {
    let mut out: Vec<Vec<i64>> = vec![];
    for s in 0..case.symbol_count() {
        let here = case.export[s];
        let outside = |n: &i64| in_runs(*n, &truth.valid[s]) && !in_runs(*n, &truth.region[s]);
        let below = (2..here).rev().find(outside);
        let above = (here + 1..=SCAN_MAX).find(outside);
        for n in below.into_iter().chain(above) {
            let mut v = case.export.clone();
            v[s] = n;
            if !out.contains(&v) && !case.probes.iter().any(|p| p.sizes == v) {
                out.push(v);
            }
        }
    }
    out
}

fn runs_json(case: &Case, runs: &[Vec<[i64; 2]>]) -> Value {
    let m: serde_json::Map<String, Value> = (0..case.symbol_count())
        .map(|s| (symbol_name(s), json!(runs[s])))
        .collect();
    Value::Object(m)
}

fn sizes_json(v: &[i64]) -> Value {
    let m: serde_json::Map<String, Value> = v
        .iter()
        .enumerate()
        .map(|(i, x)| (symbol_name(i), json!(x)))
        .collect();
    Value::Object(m)
}

/// How many sizes per symbol the worker sweeps besides the case's probes and the export
/// sizes: sizes the exported program accepts, spread over the scan range, where a wrong
/// symbolic simplification would show as a silently different result. A case of at most
/// `SWEEP_ALL_NODES` nodes is cheap to run and sweeps every accepted size. Measured on 800
/// cases (seed 11, 2 jobs): 28.5 cases/s without the sweep, 23.4 with it (-18%, the budget is
/// 25%); sweeping every size of every case costs 41%, of cases up to 2 nodes 24%.
pub const SWEEP_PER_SYMBOL: usize = 12;
pub const SWEEP_ALL_NODES: usize = 1;

/// The sweep size for a case (see `SWEEP_PER_SYMBOL`).
pub fn sweep_per_symbol(case: &Case) -> usize {
    if case.nodes.len() <= SWEEP_ALL_NODES {
        SCAN_MAX as usize
    } else {
        SWEEP_PER_SYMBOL
    }
}

/// Builds the worker request for a case.
pub fn request_for(case: &Case, rendered: &Rendered, backend: Backend, truth: &Truth) -> Value {
    json!({
        "cmd": "check",
        "source": rendered.source,
        "name": "case",
        "strict": backend.strict(),
        "transform": backend.transform(),
        "guard_scan_max": SCAN_MAX,
        "seed": 0,
        "valid": runs_json(case, &truth.valid),
        "region": runs_json(case, &truth.region),
        "region_probes": region_probes(case, truth).iter().map(|v| sizes_json(v)).collect::<Vec<_>>(),
        "sweep": sweep_per_symbol(case),
    })
}

/// What a pool's zygote checks once before it forks workers (`PoolConfig::warm`): a small
/// built-in case on the run's non-strict backends, so that every lazy import of the check
/// path is paid once and shared. AOTInductor (whose compiler starts processes of its own)
/// and onnxruntime (which starts a thread on import) stay out of it: a fork inherits no
/// threads, and they must be started in each worker. torch.onnx and onnxscript are only
/// imported.
pub fn warm_request(backends: &[Backend]) -> Value {
    let case = Case::from_json(include_str!("../../corpus/seeds/seed_cat.json"), "seed_cat")
        .expect("the built-in warm-up case loads");
    let rendered = render(&case);
    let mut request = request_for(&case, &rendered, Backend::Export, &Truth::of(&case));
    request["transforms"] = json!(
        backends
            .iter()
            .filter(|b| matches!(b, Backend::Decomposed | Backend::Saved))
            .filter_map(|b| b.transform())
            .collect::<Vec<_>>()
    );
    let imports: &[&str] = if backends.contains(&Backend::Onnx) {
        &["torch.onnx", "onnxscript"]
    } else {
        &[]
    };
    json!({"request": request, "imports": imports})
}

/// Checks one case on one backend.
pub fn check(pool: &Pool, case: &Case, backend: Backend) -> CheckResult {
    check_keeping_outcome(pool, case, backend).0
}

/// [`check`], with the worker's outcome it judged (for [`contract::outcome_at`]).
pub fn check_keeping_outcome(pool: &Pool, case: &Case, backend: Backend) -> (CheckResult, Outcome) {
    let t0 = Instant::now();
    let rendered = render(case);
    let truth = Truth::of(case);
    let render_s = t0.elapsed().as_secs_f64();
    let request = request_for(case, &rendered, backend, &truth);
    let mut outcome = pool.request(request.clone());
    // A worker can die or stall for reasons outside the case (killed from outside, memory
    // taken by a neighbour): only a crash or hang that repeats on a fresh worker is torch's.
    let retried = matches!(outcome, Outcome::Crash { .. } | Outcome::Hang { .. });
    if retried {
        outcome = pool.request(request);
    }
    let mut r = judge(case, &rendered, backend, &truth, &outcome);
    if retried && matches!(r.verdict, Verdict::Crash | Verdict::Hang) {
        for f in &mut r.findings {
            if f.verdict == r.verdict {
                f.message.push_str(" (again on another worker)");
            }
        }
    }
    r.timings.render_s = render_s;
    r.timings.total_s = t0.elapsed().as_secs_f64();
    (r, outcome)
}

/// Checks one case on several backends. The backends that share torch.export's default
/// (non-strict) export cost one request: one export, one eager run per probe size, then each
/// backend's step, inspection and probes (`transforms` in PROTOCOL.md); `export-strict`
/// exports on its own. Results come in the order of `backends`. Beside the exported
/// program, a backend's finding that is the program's own is marked `same_as_export` and
/// forms no group: a backend's groups are what its step changed.
///
/// A combined request that crashes, hangs or runs out of memory is checked again one
/// backend at a time, so that the step that broke the worker is the one charged with it
/// (when export itself does, every backend inherits its verdict).
pub fn check_many(pool: &Pool, case: &Case, backends: &[Backend]) -> Vec<CheckResult> {
    let shared: Vec<Backend> = dedup(backends.iter().copied().filter(|b| !b.strict()));
    let mut by: Vec<(Backend, CheckResult)> = vec![];
    // A step is always judged beside the program it was given, asked for or not: without
    // that, `--backend saved` alone would file export's own findings as saved's.
    if shared.iter().any(|b| b.transform().is_some()) {
        by.extend(check_shared(pool, case, &shared));
    } else {
        by.extend(shared.iter().map(|&b| (b, check(pool, case, b))));
    }
    for b in dedup(backends.iter().copied().filter(|b| b.strict())) {
        by.push((b, check(pool, case, b)));
    }
    dedup(backends.iter().copied())
        .into_iter()
        .filter_map(|b| {
            let i = by.iter().position(|(x, _)| *x == b)?;
            Some(by.swap_remove(i).1)
        })
        .collect()
}

/// Checks one case on one backend, beside the exported program when the backend is a step
/// on it (see `check_many`): what reduces, replays or re-checks a backend's finding keeps
/// to the findings that are the step's own.
pub fn check_on(pool: &Pool, case: &Case, backend: Backend) -> CheckResult {
    match check_many(pool, case, &[backend]).pop() {
        Some(r) => r,
        None => check(pool, case, backend),
    }
}

fn dedup(it: impl Iterator<Item = Backend>) -> Vec<Backend> {
    let mut out = vec![];
    for b in it {
        if !out.contains(&b) {
            out.push(b);
        }
    }
    out
}

/// The non-strict backends of `check_many` in one request; `export`'s result judges which
/// of the others' findings are inherited, and is returned only when asked for.
fn check_shared(pool: &Pool, case: &Case, shared: &[Backend]) -> Vec<(Backend, CheckResult)> {
    let t0 = Instant::now();
    let rendered = render(case);
    let truth = Truth::of(case);
    let render_s = t0.elapsed().as_secs_f64();
    let steps: Vec<Backend> = shared
        .iter()
        .copied()
        .filter(|b| b.transform().is_some())
        .collect();
    let mut request = request_for(case, &rendered, Backend::Export, &truth);
    request["transforms"] = json!(
        steps
            .iter()
            .filter_map(|b| b.transform())
            .collect::<Vec<_>>()
    );
    let outcome = pool.request(request);
    let (value, round_trip) = match outcome {
        Outcome::Reply { value, round_trip } => (value, round_trip),
        Outcome::Crash { .. } | Outcome::Hang { .. } | Outcome::Oom { .. } => {
            return check_one_at_a_time(pool, case, shared);
        }
        other => {
            return shared
                .iter()
                .map(|&b| (b, judge(case, &rendered, b, &truth, &other)))
                .collect();
        }
    };
    let judged = judge_shared_reply(case, &rendered, &truth, &steps, value, round_trip, render_s);
    let export = judged[0].1.clone();
    judged
        .into_iter()
        .filter(|(b, _)| shared.contains(b))
        .map(|(b, mut r)| {
            if b != Backend::Export {
                r.same_as_export = r.inherits(&export);
            }
            (b, r)
        })
        .collect()
}

/// After a crash, hang or out-of-memory of the shared check: the backends one at a time,
/// export first: if export alone breaks the worker, every step on its program would.
fn check_one_at_a_time(
    pool: &Pool,
    case: &Case,
    shared: &[Backend],
) -> Vec<(Backend, CheckResult)> {
    let export = check(pool, case, Backend::Export);
    let broken = matches!(
        export.verdict,
        Verdict::Crash | Verdict::Hang | Verdict::Oom | Verdict::Poisoned
    );
    let mut out = vec![];
    for &b in shared {
        let r = if b == Backend::Export {
            export.clone()
        } else if broken {
            CheckResult {
                backend: b,
                same_as_export: true,
                ..export.clone()
            }
        } else {
            let mut r = check(pool, case, b);
            r.same_as_export = r.inherits(&export);
            r
        };
        out.push((b, r));
    }
    out
}

/// The worker's one reply for export and its steps, cut into one reply per backend (the
/// shared part, with each step's own fields over it) and judged; export first. Each gets
/// its worker time and an even share of the round trip's rest.
fn judge_shared_reply(
    case: &Case,
    rendered: &Rendered,
    truth: &Truth,
    steps: &[Backend],
    value: Value,
    round_trip: Duration,
    render_s: f64,
) -> Vec<(Backend, CheckResult)> {
    let parts = value.get("backends").and_then(Value::as_object).cloned();
    // The worker's time per backend: the shared part (load, eager, export) and its own.
    let worker_s = |v: &Value| -> f64 {
        ["load", "eager", "export", "inspect", "probes"]
            .iter()
            .filter_map(|k| v.get("timings")?.get(k)?.as_f64())
            .sum()
    };
    // The time every backend shares (load, eager, export); a step's own is the rest: its
    // step (in its `export`), inspection and probes.
    let shared_s: f64 = ["load", "eager", "export"]
        .iter()
        .filter_map(|k| value.get("timings")?.get(k)?.as_f64())
        .sum();
    let own_s = |v: &Value| -> f64 { (worker_s(v) - shared_s).max(0.0) };
    let mut base = value.clone();
    if let Some(o) = base.as_object_mut() {
        o.remove("backends");
    }
    let reply_of = |b: Backend| -> Value {
        match b.transform() {
            None => base.clone(),
            Some(name) => {
                let mut v = base.clone();
                // No `backends` at all: the check ended before a step could run (eager or
                // export failed), and every backend shares that end.
                let Some(parts) = parts.as_ref() else {
                    return v;
                };
                match parts.get(name).and_then(Value::as_object) {
                    Some(part) => {
                        for (k, x) in part {
                            v[k] = x.clone();
                        }
                    }
                    None => {
                        v = json!({"ok": false, "error": {"type": "ProtocolError", "module": "shapefuzz",
                            "message": format!("the worker's reply holds no result for backend {name}")}});
                    }
                }
                v
            }
        }
    };
    let replies: Vec<(Backend, Value)> = [Backend::Export]
        .into_iter()
        .chain(steps.iter().copied())
        .map(|b| (b, reply_of(b)))
        .collect();
    // The round trip beyond the worker's own time is shared out evenly.
    let all_worker: f64 =
        worker_s(&base) + replies.iter().skip(1).map(|(_, v)| own_s(v)).sum::<f64>();
    let ipc = (round_trip.as_secs_f64() - all_worker).max(0.0) / replies.len() as f64;
    replies
        .into_iter()
        .map(|(b, v)| {
            let rt = Duration::from_secs_f64(worker_s(&v) + ipc);
            let mut r = judge(
                case,
                rendered,
                b,
                truth,
                &Outcome::Reply {
                    value: v,
                    round_trip: rt,
                },
            );
            r.timings.render_s = render_s;
            r.timings.total_s = render_s + rt.as_secs_f64();
            (b, r)
        })
        .collect()
}
/// Runs torch's `collect_env` in a worker: the versions block of a bug report.
pub fn env_info(pool: &Pool) -> Option<String> {
    match pool.request(json!({"cmd": "env_info"})) {
        Outcome::Reply { value, .. } => value.get("text")?.as_str().map(str::to_string),
        _ => None,
    }
}

/// Whether `other` computes what `case` computes in eager PyTorch at the export sizes and
/// every probe (values within the probes' tolerance, shapes, dtypes): `Err` with the first
/// difference. A worker that cannot answer counts as a difference, so nothing unverified
/// passes for a workaround.
pub fn eager_agree(pool: &Pool, case: &Case, other: &Case) -> Result<(), String> {
    let mut sizes: Vec<Value> = vec![sizes_json(&case.export)];
    sizes.extend(case.probes.iter().map(|p| sizes_json(&p.sizes)));
    let request = json!({
        "cmd": "eager_agree",
        "source": render(case).source,
        "other": render(other).source,
        "sizes": sizes,
        "seed": 0,
    });
    match pool.request(request) {
        Outcome::Reply { value, .. } if value.get("ok") == Some(&Value::Bool(true)) => {
            if value.get("agree") == Some(&Value::Bool(true)) {
                Ok(())
            } else {
                Err(format!(
                    "at {}: {}",
                    value.get("sizes").map(Value::to_string).unwrap_or_default(),
                    value
                        .get("detail")
                        .and_then(Value::as_str)
                        .unwrap_or("differs")
                ))
            }
        }
        other => Err(format!("could not compare: {other:?}")),
    }
}

pub(crate) fn first_line(s: &str) -> String {
    s.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string()
}

/// The last non-blank line: where Python puts the exception of a traceback.
/// How the worker's lines on stderr about what it does start (`_mark` in worker.py).
pub(crate) const WORKER_MARK: &str = "shapefuzz-worker: ";

/// The last line a worker wrote on stderr, less its own marks of what it was doing.
pub(crate) fn last_line(s: &str) -> &str {
    s.lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with(WORKER_MARK))
        .unwrap_or("")
}

pub(crate) fn fmt_runs(r: &[[i64; 2]]) -> String {
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

/// How a dim spec reads in a report, as it is written in Python.
pub fn spec_text(d: &InputDim) -> String {
    let mut syms = vec![];
    d.size.symbols(&mut syms);
    let name = syms
        .first()
        .map(|s| symbol_name(s.0 as usize))
        .unwrap_or_default();
    match &d.spec {
        DimSpec::Unspecified => "unspecified (static)".into(),
        DimSpec::Auto => "Dim.AUTO".into(),
        DimSpec::Dynamic => "Dim.DYNAMIC".into(),
        DimSpec::Static => "Dim.STATIC".into(),
        DimSpec::Named { min, max } => {
            let mut args = vec![format!("\"{name}\"")];
            if let Some(m) = min {
                args.push(format!("min={m}"));
            }
            if let Some(m) = max {
                args.push(format!("max={m}"));
            }
            format!("Dim({})", args.join(", "))
        }
        DimSpec::Derived { k } => format!("{k} * Dim(\"{name}\")"),
        DimSpec::Var { min, max } => {
            let mut args = vec![format!("\"{name}\"")];
            if *min != 0 {
                args.push(format!("min={min}"));
            }
            if let Some(m) = max {
                args.push(format!("max={m}"));
            }
            let var = format!("ShapeVar({})", args.join(", "));
            match &d.size {
                DimExpr::Mul(k, _) => format!("{var} * {k}"),
                _ => var,
            }
        }
    }
}

/// The symbol a dim's size is made of (input dims are `c`, `s` or `k*s`).
pub(crate) fn dim_symbol(size: &DimExpr) -> Option<usize> {
    let mut syms = vec![];
    size.symbols(&mut syms);
    syms.first().map(|s| s.0 as usize)
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
