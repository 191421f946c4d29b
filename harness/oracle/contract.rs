//! Judging: the worker's observations against the case's ground truth and torch.export's
//! contract (the rules and their sources are in `CONTRACT.md` next to this file).
//!
//! Every finding gets a verdict (what happened) and a [`Contract`] outcome, which fixes its
//! [`Class`](super::Class). The rules, in short:
//! - a probe of size 2 or more the exported program accepts and answers differently from
//!   eager is a bug; at size 0 or 1, which torch documents it assumes away and does not
//!   check, it is the worst note for the model author (portability, ranked first);
//! - an export error that is not a user-facing error is a bug; torch's suggested fixes
//!   that do not export are a bug;
//! - `Dim.DYNAMIC` specialized to one size without an error, or a named `Dim` narrowed or
//!   tied without a constraint violation, is a bug;
//! - otherwise a rejected size (or a constraint violation) inside the trace region is
//!   portability, and one outside it is expected; 0/1 rejections are expected;
//! - data-dependent errors are expected at Python control flow and portability inside ops.
//!
//! The culprit of a rejection is a guard false at the witness sizes, traced to the IR node on
//! its line; of an exception, the innermost case line of its traceback; of a divergence, the
//! Python decision that differs between the probe and the export sizes.

use super::protocol::{
    CheckReply, ErrorInfo, FailedReply, GuardInfo, ProbeInfo, ProbeKind, WitnessInfo,
};
use super::*;
use crate::ir::{Case, DecisionKind, DimSpec, DimTruth, Op, SpecApi, runs};

/// The ground truth a judgement needs, per symbol (others at their export sizes): the sizes
/// eager accepts and the trace region, as inclusive runs of `2..=SCAN_MAX`.
#[derive(Clone, Debug, PartialEq)]
pub struct Truth {
    pub valid: Vec<Vec<[i64; 2]>>,
    pub region: Vec<Vec<[i64; 2]>>,
}

impl Truth {
    pub fn of(case: &Case) -> Truth {
        Truth {
            valid: case.valid_runs(),
            region: case.trace_region(),
        }
    }
}

/// What torch promises for each contract outcome, with its source (quoted by reproducers;
/// `CONTRACT.md` has the full quotes and line numbers for torch 2.15).
pub fn promise(c: Contract) -> &'static str {
    use Contract::*;
    match c {
        SilentDivergence => {
            "An exported program \"records the set of shape constraints needed to show that this normalization and control-flow elimination is sound for future inputs\" and \"is considered valid only when these assumptions hold true\" (torch.export.export docstring, Soundness Guarantee); an input its guards accept must give eager's result."
        }
        SilentDivergenceAtZeroOne => {
            "torch assumes sizes are not 0 or 1 and, by design, does not check it at run time: \"NOTE: we allow dimensions to be 0/1 at runtime\" (torch/_export/utils.py, the range check only when min_val > 2; torch/export/_unlift.py's guards function the same); export \"will often unsoundly assume that a graph works for 0/1\" (StrictMinMaxConstraint, torch/fx/experimental/symbolic_shapes.py); \"This is not a bug\" (export docs, 0/1 specialization); pytorch/pytorch#105066 was closed on that reasoning. So the model author must rule such sizes out: export with the ShapesSpec API and ShapeVar(min=2), whose range the program asserts at run time (verified on torch 2.15: it raises at 0/1 and runs 2 or more as before), or check the size before calling the program; Dim(min=3) also rejects 0/1 but gives up 2, and torch._check(n >= 2) in forward is dropped by export, which already assumes it."
        }
        InternalError => {
            "\"If any assumption can not be validated, a fatal error will be raised. When that happens, the error message will include suggested fixes to the specification\" (torch.export.export docstring): a user-facing torch._dynamo.exc.UserError, not an internal AssertionError or a failure inside torch's own solver."
        }
        SpuriousConstraintViolation => {
            "\"Named Dims provide a stricter way of specifying dynamism, where exceptions are raised if the compiler infers constraints that do not match the user specification\" (torch/export/dynamic_shapes.py): here every guard torch recorded holds at every size in the specified range, so the spec matches and export should succeed; the message's claim \"Not all values ... satisfy the generated guard\" is false, and a suggested specialization would needlessly give up the dim."
        }
        SuggestedFixFails => {
            "\"The error message may provide suggested fixes - changes that can be made to dynamic_shapes to export successfully\" (torch/export/dynamic_shapes.py, refine_dynamic_shapes_from_suggested_fixes); \"copy them verbatim into your code\" (torch.export.export docstring)."
        }
        DynamicSpecializedSilently => {
            "\"DYNAMIC means dynamic, will error out if specialized\" (torch/export/dynamic_shapes.py, _DimHintType); Dim.DYNAMIC lowers to RelaxedUnspecConstraint: \"there must exist at least TWO possible values for the size at this dimension which satisfy the guards\" (torch/fx/experimental/symbolic_shapes.py). The same miss for integer ranges was fixed as a bug (pytorch/pytorch#122307). torch's docs disagree: the 2.15 export() docstring's ShapesSpec section (torch/export/__init__.py) says \"Dim.DYNAMIC / Dim.AUTO may silently specialize a dynamic dim, yielding a graph that is not valid for all the inputs\". It is still worth filing: the user asked for an error on specialization, the error path exists and fires for a literal pin, and here it does not; upstream keeps pytorch/pytorch#191833 open for exactly this."
        }
        ShapesSpecRejectsValid => {
            "The torch.export.export docstring (torch/export/__init__.py, 2.15), ShapesSpec API: \"Unbacked-only. Dims / scalars marked dynamic become unbacked SymInts (u symbols) and are never specialized (including no 0/1 specialization)\"; \"No silent specialization. The exported graph is guaranteed valid for every assumption provided, otherwise export fails.\" Export succeeded, so every size inside the declared ShapeVar ranges at which eager runs must be taken."
        }
        ShapesSpecRangeUnchecked => {
            "The ShapesSpec docstring (torch/fx/experimental/dynamic_spec.py): assumptions are \"wired into the shape env at compile time and asserted at runtime via the deferred-runtime-assert mechanism\"; a ShapeVar's min/max is the range the exported program asserts (torch 2.15 raises `Guard failed: x.size()[0] <= 10` for max=10)."
        }
        AdditionalInputUnverified => {
            "The AdditionalInputs docstring (torch/export/dynamic_shapes.py): \"we verify that the additional inputs are valid for the exported program. This guarantees that tracing with them instead of the original would have generated the same graph.\" Export succeeded, so its verification passed, yet the exported program rejects one of those inputs: `AdditionalInputs.verify` checks only the input range constraints (`_check_input_constraints_for_module`), not the shape guards the program checks in `_guards_fn` (torch 2.15)."
        }
        NamedDimNarrowedSilently => {
            "A named Dim lowers to StrictMinMaxConstraint: \"there must not be any guards on this dimension which are not implied by the given lower and upper bound\" (torch/fx/experimental/symbolic_shapes.py); \"the dynamic shape specification must logically imply the generated guards, otherwise an error is raised at export time\" (export programming model)."
        }
        BackendError => {
            "ExportedProgram.run_decompositions \"Run[s] a set of decompositions on the exported program and returns a new exported program\"; torch.export.save \"Saves an ExportedProgram to a file-like object. It can then be loaded using the Python API torch.export.load\" (torch/export/exported_program.py, torch/export/__init__.py): both take any program torch.export.export returns."
        }
        BackendUncheckedGuard => {
            "An exported program \"is considered valid only when these assumptions hold true\" (torch.export.export docstring, Soundness Guarantee) and checks them in its guards; an ONNX model has no guards, only its declared input shapes, so an input outside the assumptions runs the traced path silently. The model's specialization is what to avoid (or check the guard before calling onnxruntime); a pinned dim declared as a dim_param is reported separately, as backend-disagrees."
        }
        CompileRecompiles => {
            "The ShapesSpec API (torch.export.export docstring, torch/export/__init__.py, 2.15), also `dynamic_shapes=` of torch.compile: \"Unbacked-only. Dims / scalars marked dynamic become unbacked SymInts (u symbols) and are never specialized (including no 0/1 specialization)\"; only a STATIC dim is \"taken from the actual input at runtime, with recompiles on different values\" (torch/fx/experimental/dynamic_spec.py). A second graph for a size inside the declared ranges is a specialization the spec rules out."
        }
        BackendUnsupported => {
            "torch.onnx documents that not every ATen op has an ONNX translation (\"No ONNX function found\" asks for a custom translation table, torch/onnx/_internal/exporter/_core.py), and lowerings raise NotImplementedError for arguments they do not cover: a limitation of the backend, avoided by another op."
        }
        BackendDisagrees => {
            "A decomposed or saved-and-loaded program is the same program: run_decompositions \"returns a new exported program\" in the Core ATen op set, and save/load round-trips an ExportedProgram (torch/export/exported_program.py, torch/export/__init__.py); neither may change what it accepts or computes, nor its range constraints. AOTInductor and ONNX compile that program, and torch.compile (`compile`) the same model with the same ShapesSpec, whose promise is that the graph is valid for every input the spec allows: each must compute what eager computes wherever the exported program does."
        }
        Crash | Hang => {
            "torch.export and the exported program return or raise on a model eager PyTorch runs; they do not kill the process or run forever."
        }
        AvoidableSpecialization => {
            "Dim.AUTO \"will behave like Dim.DYNAMIC, but will not raise an error if the dimension is inferred to be static\" (export.md, Dim Hints), and the program rejects what it specialized away; here the model's Python does not force the specialization, and another spelling usually keeps the dim dynamic."
        }
        DataDependentInOp => {
            "A guard on a data-dependent value inside a torch op raises GuardOnDataDependentSymNode, a user-facing error whose guidance is torch._check."
        }
        UnsupportedOnSymbolic => {
            "Python operations that need a concrete int raise on a symbolic size; another spelling (torch.sym_*, //) keeps it symbolic."
        }
        TraceRegion => {
            "Export \"specializes on the branches taken\" and emits guards for them (torch.export tutorial); list and tuple lengths are static (export programming model): sizes that take another path are rejected by design."
        }
        ZeroOneSpecialization => {
            "\"export will specialize on sample input dimensions with value 0 or 1\" (torch.export tutorial, 0/1 specialization)."
        }
        SpecRejected => {
            "Only tensors and ints take dim hints: a float or bool input's spec must be None (\"Cannot associate shape ... to non-tensor type ... (expected None)\", torch/export/dynamic_shapes.py); export burns such inputs in."
        }
        DataDependentBranch => {
            "Control flow on unbacked values \"must raise an error at export time\" (export programming model, Control Flow: Guards and Assertions)."
        }
        ProgramError => {
            "An exported program checks its inputs against its guards and range constraints (\"the exported program ... will raise if the inputs do not satisfy\" them, export programming model) and is then \"a representation of the tensor computation\" of the model: an input it accepts is one it must compute, as eager does."
        }
        ModelIntent => {
            "torch.compiler.is_exporting() \"Indicates whether we're under exporting\" so a model can take another path there (torch/compiler/__init__.py), and torch._check \"is used to check the condition ... at runtime\" in the exported program: what the model chose to do differently under export, or to assert about its data, is its own intent, not a dynamic-shape question."
        }
        ApiArgumentError => {
            "A torch API validates its arguments and raises a user-facing error when they break its documented rules (torch.cond: \"operands (Tuple of possibly nested dict/list/tuple of torch.Tensor)\", torch/_higher_order_ops/cond.py): the call is the model's to fix; eager may not check the same rule (a Python-bool predicate runs a branch directly)."
        }
        SpecBeyondModel => {
            "A named Dim \"must logically imply the generated guards, otherwise an error is raised at export time\" (export programming model): its range holds sizes the model itself cannot run, so the guard excluding them is rightly reported."
        }
    }
}

/// What torch promises for an outcome under the spec kind the dim was given: a lost size
/// quotes the named Dim's or Dim.DYNAMIC's own promise when that is what the user wrote,
/// not Dim.AUTO's. Other outcomes have one promise whatever the spec.
pub(crate) fn promise_for(c: Contract, spec: Option<SymbolSpec>) -> &'static str {
    match (c, spec) {
        (
            Contract::AvoidableSpecialization | Contract::TraceRegion,
            Some(SymbolSpec::Named { .. }),
        ) => {
            "A named Dim promises \"the dynamic shape specification must logically imply the generated guards, otherwise an error is raised at export time\" (export programming model, Control Flow): torch raised the constraint violation it promises (or the guard relates two dims, which torch checks at run time by design), so the spec is kept; what specializes the size is the model's code, and another spelling usually keeps it."
        }
        (Contract::AvoidableSpecialization | Contract::TraceRegion, Some(SymbolSpec::Dynamic)) => {
            "\"DYNAMIC means dynamic, will error out if specialized\" (torch/export/dynamic_shapes.py), and Dim.DYNAMIC lowers to RelaxedUnspecConstraint, which allows narrowing to two or more sizes: torch raised or narrowed as promised; what specializes the size is the model's code, and another spelling usually keeps it."
        }
        _ => promise(c),
    }
}

fn finding(verdict: Verdict, contract: Option<Contract>, message: String) -> Finding {
    Finding {
        verdict,
        contract,
        kind: None,
        message,
        input: None,
        dim: None,
        probe: None,
        cause: None,
    }
}

fn result(backend: Backend, verdict: Verdict, findings: Vec<Finding>) -> CheckResult {
    CheckResult {
        backend,
        verdict,
        findings,
        dims: vec![],
        edge: vec![],
        swept: 0,
        swept_matching: 0,
        traceback: None,
        fix: None,
        same_as_export: false,
        timings: Timings::default(),
    }
}

/// `torch/nn/functional.py:5896 in pad` -> `torch/nn/functional.py in pad`: a site that
/// stays the same across patch releases.
fn site_of(framework: &str) -> String {
    static LINE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r":\d+( in )").expect("valid pattern"));
    LINE.replace(framework, "$1").into_owned()
}

/// What a check needs to trace causes: the case and its rendering.
struct Ctx<'a> {
    case: &'a Case,
    rendered: &'a Rendered,
    truth: &'a Truth,
}

impl Ctx<'_> {
    fn node_cause(&self, line: Option<u32>, guard: String, site: Option<String>) -> Cause {
        let node = line.and_then(|l| self.rendered.node_at_line(l));
        let op = node.map(|n| &self.case.nodes[n as usize]);
        Cause {
            node,
            op: op.map(Op::kind),
            spelling: op.and_then(|o| o.spelling_name()).map(str::to_string),
            guard,
            line,
            site,
        }
    }

    /// The culprit among the guards false at a witness: the first one the case's code
    /// added (on a line of the case), else the first one at all.
    fn guard_cause(&self, guards: &[GuardInfo], false_guards: &[usize]) -> Option<Cause> {
        let pick = false_guards
            .iter()
            .filter_map(|&i| guards.get(i))
            .find(|g| g.line.and_then(|l| self.rendered.node_at_line(l)).is_some())
            .or_else(|| false_guards.iter().find_map(|&i| guards.get(i)))?;
        Some(self.node_cause(
            pick.line,
            pick.expr.clone(),
            pick.framework.as_deref().map(site_of),
        ))
    }

    fn error_cause(&self, e: &ErrorInfo) -> Cause {
        let line = self.operator_line(&e.message).or(e.case_line);
        self.node_cause(line, error_gist(e), e.site.clone())
    }

    /// For an error about a Python operator left in the graph (export's verifier:
    /// "Operator '<built-in function xor>' is not an allowed operator type"), which runs
    /// after tracing and has no frame in the model: the first line of the model that uses
    /// that operator.
    fn operator_line(&self, message: &str) -> Option<u32> {
        static BUILTIN: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r"<built-in function (\w+)>").expect("valid pattern"));
        // The serializer names the node's target: `call_function[target=builtins.round]`.
        static TARGET: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"target=(?:builtins|operator|math|_operator)\.(\w+)")
                .expect("valid pattern")
        });
        let name = BUILTIN
            .captures(message)
            .or_else(|| TARGET.captures(message))?
            .get(1)?
            .as_str();
        let token = match name {
            "floor" => "math.floor(",
            "ceil" => "math.ceil(",
            "xor" => " ^ ",
            "and_" => " & ",
            "or_" => " | ",
            "lshift" => " << ",
            "rshift" => " >> ",
            "floordiv" => " // ",
            "mod" => " % ",
            "truediv" => " / ",
            "pow" => " ** ",
            "abs" => "abs(",
            "divmod" => "divmod(",
            "round" => "round(",
            "trunc" => "math.trunc(",
            _ => return None,
        };
        self.rendered.node_lines.iter().find_map(|&(a, b)| {
            (a..=b).find(|&l| {
                self.rendered
                    .source
                    .lines()
                    .nth(l as usize - 1)
                    .is_some_and(|code| code.contains(token))
            })
        })
    }

    /// The Python decision that differs between `sizes` and the export sizes.
    fn decision_cause(&self, sizes: &[i64]) -> Option<Cause> {
        let d = self.case.first_changed_decision(&sizes.to_vec())?;
        let op = &self.case.nodes[d.node as usize];
        let line = self.rendered.node_lines.get(d.node as usize).map(|l| l.0);
        let code = line
            .and_then(|l| self.rendered.source.lines().nth(l as usize - 1))
            .unwrap_or("")
            .trim();
        let show = |x: Option<i64>| match (d.kind, x) {
            (DecisionKind::Branch | DecisionKind::ClampArm | DecisionKind::FoldedArm, Some(0)) => {
                "False".to_string()
            }
            (DecisionKind::Branch | DecisionKind::ClampArm | DecisionKind::FoldedArm, Some(1)) => {
                "True".to_string()
            }
            (DecisionKind::SizeClass, Some(2)) => "2 or more".to_string(),
            (_, Some(x)) => x.to_string(),
            (_, None) => "unknown".to_string(),
        };
        Some(Cause {
            node: Some(d.node),
            op: Some(op.kind()),
            spelling: op.spelling_name().map(str::to_string),
            guard: format!(
                "`{code}`: {} is {} here, {} at the export sizes",
                decision_name(d.kind),
                show(d.at(sizes)),
                show(d.at(&self.case.export))
            ),
            line,
            site: Some("model".into()),
        })
    }
}

fn decision_name(k: DecisionKind) -> &'static str {
    match k {
        DecisionKind::Branch => "the branch condition",
        DecisionKind::LoopCount => "the loop count",
        DecisionKind::OutputCount => "the number of outputs",
        DecisionKind::ListLength => "the list length",
        DecisionKind::ClampArm => "whether the bound is within the size",
        DecisionKind::SizeClass => "a derived size",
        DecisionKind::FoldedArm => {
            "whether min/max returns its first argument (torch folds it for sizes >= 2)"
        }
    }
}

/// Turns a worker outcome into findings judged against the ground truth and the contract.
pub fn judge(
    case: &Case,
    rendered: &Rendered,
    backend: Backend,
    truth: &Truth,
    outcome: &Outcome,
) -> CheckResult {
    let (value, round_trip) = match outcome {
        Outcome::Hang { after, stderr_tail } => {
            let head = format!("no answer within {after:.1?}");
            return worker_lost(
                case,
                backend,
                Verdict::Hang,
                Contract::Hang,
                &head,
                "",
                stderr_tail,
            );
        }
        Outcome::Crash {
            status,
            stderr_tail,
        } => {
            let last = last_line(stderr_tail);
            let last = if last.is_empty() {
                String::new()
            } else {
                format!(": {last}")
            };
            let head = format!("worker {status}");
            return worker_lost(
                case,
                backend,
                Verdict::Crash,
                Contract::Crash,
                &head,
                &last,
                stderr_tail,
            );
        }
        // The harness's own faults: not judged.
        Outcome::Aborted | Outcome::NoWorker { .. } => {
            let why = match outcome {
                Outcome::NoWorker { error } => {
                    format!("no worker could be started: {}", first_line(error))
                }
                _ => "abandoned: the run stopped before the case finished".to_string(),
            };
            return poisoned(backend, why);
        }
        Outcome::Oom {
            resident, limit, ..
        } => {
            return result(
                backend,
                Verdict::Oom,
                vec![finding(
                    Verdict::Oom,
                    None,
                    format!(
                        "the worker reached {} MB, above its limit of {} MB, and was stopped",
                        resident >> 20,
                        limit >> 20
                    ),
                )],
            );
        }
        Outcome::Reply { value, round_trip } => (value, *round_trip),
    };
    if value.get("ok") != Some(&Value::Bool(true)) {
        let msg = serde_json::from_value::<FailedReply>(value.clone())
            .map(|f| f.error.text())
            .unwrap_or_else(|_| "worker error".into());
        return result(
            backend,
            Verdict::Invalid,
            vec![finding(Verdict::Invalid, None, first_line(&msg))],
        );
    }
    let reply: CheckReply = match serde_json::from_value(value.clone()) {
        Ok(r) => r,
        Err(e) => {
            return poisoned(
                backend,
                format!("the worker's reply does not follow the protocol: {e}"),
            );
        }
    };
    let t = &reply.timings;
    let mut timings = Timings {
        load_s: t.load,
        eager_s: t.eager,
        export_s: t.export,
        inspect_s: t.inspect,
        probes_s: t.probes,
        ..Default::default()
    };
    let worker_total = t.load + t.eager + t.export + t.inspect + t.probes;
    timings.ipc_s = (round_trip.as_secs_f64() - worker_total).max(0.0);
    let cx = Ctx {
        case,
        rendered,
        truth,
    };
    let mut r = judge_reply(&cx, backend, truth, &reply);
    r.timings = timings;
    r
}

/// What the exported program did at `sizes` (one per symbol) in a check's reply: a probe
/// run there, as `EdgeOutcome` records a 0/1 probe. None when the reply ran nothing there
/// (export failed, or the sizes were not probed).
pub fn outcome_at(case: &Case, outcome: &Outcome, sizes: &[i64]) -> Option<EdgeOutcome> {
    let Outcome::Reply { value, .. } = outcome else {
        return None;
    };
    let reply: CheckReply = serde_json::from_value(value.clone()).ok()?;
    reply.export.as_ref().filter(|r| r.ok)?;
    let p = reply
        .probes
        .iter()
        .find(|p| probe_sizes(case, p) == sizes)?;
    Some(EdgeOutcome {
        sizes: sizes.to_vec(),
        eager_ok: p.eager.as_ref().is_some_and(|e| e.ok),
        exported_ok: p.exported.as_ref().is_some_and(|e| e.ok),
        matches: p.matches,
    })
}

fn judge_reply(cx: &Ctx, backend: Backend, truth: &Truth, reply: &CheckReply) -> CheckResult {
    match &reply.eager_export {
        Some(e) if e.ok => {}
        other => {
            let why = other
                .as_ref()
                .and_then(|e| e.error.as_ref())
                .map(|e| first_line(&e.text()))
                .unwrap_or_default();
            return result(
                backend,
                Verdict::Invalid,
                vec![finding(
                    Verdict::Invalid,
                    None,
                    format!("eager fails at the export sizes: {why}"),
                )],
            );
        }
    }
    let mut r = match reply.export.as_ref() {
        Some(x) if x.ok => match reply.backend.as_ref() {
            Some(b) if !b.ok => judge_backend_error(cx, backend, b),
            _ => judge_program(cx, backend, truth, reply),
        },
        other => {
            let e = other.and_then(|x| x.error.clone()).unwrap_or_default();
            judge_export_error(cx, backend, reply, &e)
        }
    };
    r.dims = dim_reports(cx.case, truth, reply);
    r
}

/// A worker that died or was stopped: `head` and `tail` around the probe it was running, when
/// its stderr says which (`crashed_at`), which is then the finding's probe.
fn worker_lost(
    case: &Case,
    backend: Backend,
    verdict: Verdict,
    contract: Contract,
    head: &str,
    tail: &str,
    stderr_tail: &str,
) -> CheckResult {
    let mut f = finding(verdict, Some(contract), format!("{head}{tail}"));
    if let Some((ran, sizes)) = crashed_at(case, stderr_tail) {
        f.message = format!(
            "{head} while the {ran} program ran at {}{tail}",
            case.shapes_text(&sizes)
        );
        f.probe = Some(sizes);
    }
    result(backend, verdict, vec![f])
}

/// A result the harness could not judge, saying why.
fn poisoned(backend: Backend, why: String) -> CheckResult {
    result(
        backend,
        Verdict::Poisoned,
        vec![finding(Verdict::Poisoned, None, why)],
    )
}

/// The probe a worker that died or was stopped was running, from its last `probing` line on
/// stderr (none when its last mark is `checking`: it died before probing), as (program,
/// sizes).
fn crashed_at(case: &Case, stderr_tail: &str) -> Option<(String, Vec<i64>)> {
    #[derive(Deserialize)]
    struct Probing {
        backend: String,
        sizes: std::collections::BTreeMap<String, i64>,
    }
    let line = stderr_tail
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix(WORKER_MARK))?;
    let json = line.strip_prefix("probing ")?;
    let p: Probing = serde_json::from_str(json).ok()?;
    let sizes = (0..case.symbol_count())
        .map(|s| {
            p.sizes
                .get(&symbol_name(s))
                .copied()
                .unwrap_or(case.export[s])
        })
        .collect();
    let program = match Backend::parse(&p.backend) {
        Some(b) if b.transform().is_some() => b.name(),
        _ => "exported",
    };
    Some((program.to_string(), sizes))
}

/// Export raised: which kind of error, and whether the contract allows it.
fn judge_export_error(
    cx: &Ctx,
    backend: Backend,
    reply: &CheckReply,
    e: &ErrorInfo,
) -> CheckResult {
    let kind = e.kind.clone().unwrap_or_else(|| "internal".into());
    let message = e.text();
    let mut fix_text = None;
    let (contract, cause, probe) = match kind.as_str() {
        "constraint_violation" => {
            let failed_fix = reply.fix.as_ref().filter(|f| {
                f.stage.as_deref() == Some("refine")
                    || (f.export_ok == Some(false) && !left_only_inexpressible(f))
            });
            if let Some(f) = &reply.fix {
                let after = match (&f.export_ok, &f.error) {
                    (Some(true), _) => "export succeeds with them".to_string(),
                    (_, Some(err)) => format!(
                        "{} fails: {}",
                        if f.stage.as_deref() == Some("refine") {
                            "refine_dynamic_shapes_from_suggested_fixes"
                        } else {
                            "export with them"
                        },
                        first_line(&err.text())
                    ),
                    _ => "not applied".into(),
                };
                fix_text = Some(format!("{}\n=> {after}", f.suggested.trim_end()));
            }
            match failed_fix {
                Some(f) => {
                    let cause = f
                        .error
                        .as_ref()
                        .map(|err| cx.error_cause(err))
                        .or_else(|| Some(cx.error_cause(e)));
                    (Contract::SuggestedFixFails, cause, None)
                }
                None => constraint_violation(cx, reply, e),
            }
        }
        // AdditionalInputs.verify refused an example: the program cannot take it, and export
        // says so (the promise kept); by the trace region, as for a Dim that raises
        "additional_refused" => {
            let case = cx.case;
            let outside = case
                .additional_inputs
                .iter()
                .find(|v| !case.in_trace_region(v));
            let contract = match outside {
                Some(_) => Contract::TraceRegion,
                None => Contract::AvoidableSpecialization,
            };
            let probe = outside.or(case.additional_inputs.first()).cloned();
            (contract, Some(cx.error_cause(e)), probe)
        }
        "data_dependent" | "invalid_spec" | "unsupported" => {
            let cause = cx.error_cause(e);
            let at_branch = cause
                .node
                .is_some_and(|n| is_python_decision(&cx.case.nodes[n as usize]));
            // a rendered case's own code never raises under tracing: torch raised
            (
                decide_export_error(&kind, at_branch, false, false),
                Some(cause),
                None,
            )
        }
        _ => {
            // Raised inside torch rather than on a line of the model: the culprit is the
            // guard the failed export had recorded against a valid size, if any.
            let own = cx.error_cause(e);
            let cause = if own.node.is_some() {
                own
            } else {
                [true, false]
                    .iter()
                    .find_map(|&inside| {
                        reply
                            .witnesses
                            .iter()
                            .filter(|w| w.in_region == inside)
                            .find_map(|w| cx.guard_cause(&reply.guards, &w.false_guards))
                    })
                    .map(|mut c| {
                        c.site = own.site.clone();
                        c
                    })
                    .unwrap_or(own)
            };
            let api = is_api_argument_check(e.site.as_deref(), &e.ty);
            (
                decide_export_error(&kind, false, false, api),
                Some(cause),
                None,
            )
        }
    };
    let mut f = finding(Verdict::ExportError, Some(contract), message);
    f.kind = Some(kind);
    f.cause = cause;
    f.probe = probe;
    let mut r = result(backend, Verdict::ExportError, vec![f]);
    r.traceback = e.traceback.clone();
    r.fix = fix_text;
    r
}

/// The backend step raised on a program export made: torch's step failed torch's program.
fn judge_backend_error(cx: &Ctx, backend: Backend, b: &super::protocol::BackendRan) -> CheckResult {
    let e = b.error.clone().unwrap_or_default();
    let step = match backend {
        Backend::Decomposed => "ep.run_decompositions()",
        Backend::Saved => "torch.export.save / torch.export.load",
        Backend::Aoti => "torch._inductor.aoti_compile_and_package / aoti_load_package",
        Backend::Onnx => "torch.onnx.export(ep, dynamo=True) / onnxruntime.InferenceSession",
        Backend::Compile => "torch.compile(model, dynamic_shapes=spec, fullgraph=True)",
        _ => "the backend step",
    };
    if let Some(why) = &b.not_applicable {
        return poisoned(
            backend,
            format!("the {} backend does not apply: {why}", backend.name()),
        );
    }
    // The backend's packages missing from the environment: not the program's fault.
    if e.ty == "ModuleNotFoundError" || e.ty == "ImportError" {
        return poisoned(
            backend,
            format!(
                "the {} backend cannot run in this environment: {}",
                backend.name(),
                first_line(&e.text())
            ),
        );
    }
    // onnxruntime's NOT_IMPLEMENTED: a valid ONNX op without a kernel for its types in
    // onnxruntime (e.g. Relu-14 on int64), a gap its kernel table documents.
    let unsupported = backend == Backend::Onnx
        && (e.ty == "NotImplementedError"
            || e.message.contains("No ONNX function found")
            || e.message.contains("No decompositions registered")
            || e.message.contains("NOT_IMPLEMENTED : Could not find an implementation")
            // a size-dependent value where an ONNX op takes a constant attribute (Conv's
            // `group` from a symbolic size): ONNX cannot express it
            || (e.message.contains("Unsupported attribute type")
                && e.message.contains("SymbolicTensor")));
    let kind = e.kind.as_deref().unwrap_or("internal");
    let contract = if unsupported {
        Contract::BackendUnsupported
    } else if backend == Backend::Compile && kind != "internal" {
        // torch.compile traces the model itself, with TorchDynamo: where it stops at what
        // export would stop at (a data-dependent branch, Python it cannot trace), the error
        // is judged as export's; fullgraph=True turns a graph break into an error.
        let cause = cx.error_cause(&e);
        let at_branch = cause
            .node
            .is_some_and(|n| is_python_decision(&cx.case.nodes[n as usize]));
        match decide_export_error(kind, at_branch, false, false) {
            Contract::InternalError => Contract::BackendError,
            Contract::UnsupportedOnSymbolic => Contract::BackendUnsupported,
            c => c,
        }
    } else {
        Contract::BackendError
    };
    let mut f = finding(
        Verdict::ExportError,
        Some(contract),
        format!(
            "export succeeded; {step} raised on its program: {}",
            first_line(&e.text())
        ),
    );
    f.kind = Some("backend".into());
    f.cause = Some(cx.error_cause(&e));
    let mut r = result(backend, Verdict::ExportError, vec![f]);
    r.traceback = e.traceback.clone();
    r
}

/// With a backend step: where the exported program before it matched eager, the program
/// after it must too (accept, and answer the same).
fn backend_disagreement(cx: &Ctx, backend: Backend, p: &ProbeInfo) -> Option<Finding> {
    let rf = p.reference.as_ref()?;
    let eager = p.eager.as_ref().filter(|e| e.ok)?;
    if eager.repeatable == Some(false) || eager.finite == Some(false) {
        return None;
    }
    let sizes = probe_sizes(cx.case, p);
    let at = cx.case.shapes_text(&sizes);
    let x = p.exported.as_ref()?;
    // The exported program refused the input in its own checks, and the program after the
    // step took it and answered wrong: the step dropped a check.
    let reference_refused = !rf.ok
        && rf
            .error
            .as_ref()
            .is_some_and(|e| is_input_check_text(&e.text()));
    if reference_refused && x.ok && p.matches == Some(false) {
        // AOTInductor with its input checks on promises the checks; ONNX has no guards.
        let contract = if backend == Backend::Onnx {
            Contract::BackendUncheckedGuard
        } else {
            Contract::BackendDisagrees
        };
        let mut f = finding(
            Verdict::Divergence,
            Some(contract),
            format!(
                "the {} program accepts {at}, which the exported program refuses ({}), and answers differently from eager: {}",
                backend.name(),
                error_line(&rf.error),
                p.detail.clone().unwrap_or_else(|| "results differ".into())
            ),
        );
        f.kind = Some("takes-refused-input".into());
        f.probe = Some(sizes);
        return Some(f);
    }
    if !(rf.ok && rf.matches == Some(true)) {
        return None;
    }
    let (kind, message) = if !x.ok {
        if p.kind == ProbeKind::Edge {
            return None; // 0/1: what the program checks there is torch's documented choice
        }
        (
            "refuses",
            format!(
                "the {} program raises at {at}, where the exported program before it runs and matches eager: {}",
                backend.name(),
                error_line(&x.error)
            ),
        )
    } else if p.matches == Some(false) {
        (
            if p.kind == ProbeKind::Edge {
                "differs-at-0-1"
            } else {
                "differs"
            },
            format!(
                "the {} program answers differently from eager at {at}, where the exported program before it matches: {}",
                backend.name(),
                p.detail.clone().unwrap_or_else(|| "results differ".into())
            ),
        )
    } else {
        return None;
    };
    // At 0/1 the step's program is as unchecked as the exported one: torch's 0/1 design,
    // the author's to rule out, whichever program happens to match.
    let contract = if kind == "differs-at-0-1" {
        Contract::SilentDivergenceAtZeroOne
    } else {
        Contract::BackendDisagrees
    };
    let mut f = finding(Verdict::Divergence, Some(contract), message);
    f.kind = Some(kind.into());
    f.probe = Some(sizes);
    Some(f)
}

/// compile: a call that compiled another graph at sizes the ShapesSpec declares (inside its
/// ranges and assumptions, every symbol no ShapeVar names as at export), where eager ran.
fn compile_recompiled(cx: &Ctx, backend: Backend, p: &ProbeInfo) -> Option<Finding> {
    if backend != Backend::Compile || cx.case.spec_api() != SpecApi::Shapes {
        return None;
    }
    let ran = p.exported.as_ref().filter(|x| x.ok)?;
    let graphs = ran.recompiles?;
    p.eager.as_ref().filter(|e| e.ok)?;
    let sizes = probe_sizes(cx.case, p);
    let declared = cx.case.in_declared_ranges(&sizes)
        && (0..cx.case.symbol_count())
            .all(|s| cx.case.var_range(s).is_some() || sizes.get(s) == cx.case.export.get(s));
    if graphs == 0 || !declared {
        return None;
    }
    let guard = ran.failed_guards.first().cloned().unwrap_or_default();
    let mut f = finding(
        Verdict::LostDim,
        Some(Contract::CompileRecompiles),
        format!(
            "torch.compile compiled {graphs} more graph{} at {}, a size the ShapesSpec declares ({}){}",
            if graphs == 1 { "" } else { "s" },
            cx.case.shapes_text(&sizes),
            cx.case.ranges_text(),
            if guard.is_empty() {
                String::new()
            } else {
                format!(", after its guard `{guard}` failed")
            }
        ),
    );
    f.kind = Some("recompiles".into());
    // the guard that failed is the mechanism: a guard on a stride is not one on a size
    f.cause = (!guard.is_empty()).then_some(Cause {
        node: None,
        op: None,
        spelling: None,
        guard,
        line: None,
        site: None,
    });
    f.probe = Some(sizes);
    Some(f)
}

/// Whether export with torch's suggested fixes failed only on guards the Dim language cannot
/// state (torch then suggests nothing for them): a `!=` between sizes, or a relation of two
/// sizes other than a linear equality (`s0 <= s1`, `s0*s1 == 6`). The fixes did what a fix
/// can; what is left is judged as the constraint violation it is, not as a failed fix.
pub(crate) fn left_only_inexpressible(f: &super::protocol::FixInfo) -> bool {
    let Some(err) = &f.error else { return false };
    if err.kind.as_deref() != Some("constraint_violation") {
        return false;
    }
    let text = err.text();
    if text.contains("Suggested fixes") {
        return false;
    }
    static GUARD: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"satisfy the generated guard (.+?)\.?\s*$").expect("valid pattern")
    });
    static SOURCE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"L\['\w+'\](?:\.size\(\)\[\d+\])?").expect("valid pattern"));
    static PRODUCT: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\]\s*\*\s*L\[").expect("valid pattern"));
    let guards: Vec<String> = text
        .lines()
        .filter_map(|l| GUARD.captures(l).map(|c| c[1].to_string()))
        .collect();
    !guards.is_empty()
        && guards.iter().all(|g| {
            let mut sources: Vec<&str> = SOURCE.find_iter(g).map(|m| m.as_str()).collect();
            sources.sort_unstable();
            sources.dedup();
            let nonlinear = sources.len() >= 2 && (!g.contains("==") || PRODUCT.is_match(g));
            g.contains("!=") || nonlinear
        })
}

/// An error as a culprit's text: its first line, and for a constraint violation also its
/// first item (` | - You marked s0 as dynamic but ...`), which says what was violated.
pub(crate) fn error_gist(e: &ErrorInfo) -> String {
    let text = e.text();
    let head = first_line(&text);
    if !head.contains("Constraints violated") {
        return head;
    }
    match text.lines().map(str::trim).find(|l| l.starts_with("- ")) {
        Some(item) => format!("{head} | {}", item.chars().take(300).collect::<String>()),
        None => head,
    }
}

/// The first line of a probe side's error, or nothing.
fn error_line(error: &Option<ErrorInfo>) -> String {
    error
        .as_ref()
        .map(|x| first_line(&x.text()))
        .unwrap_or_default()
}

/// Whether the exported program refused the input in its own checks, from its error's text:
/// a guard of `_guards_fn`, or the shape, range and equality checks of its input spec (how
/// both judges and the backends tell a refusal).
pub(crate) fn is_input_check_text(text: &str) -> bool {
    [
        "Guard failed",
        "Expected input at",
        "is outside of inline constraint",
        "to be equal to",
        "Runtime assertion failed",
    ]
    .iter()
    .any(|m| text.contains(m))
}

/// The expression of a failed runtime assertion whose symbols are all unbacked (`u0 >= 2`:
/// a condition on data values, from `torch._check` on an `.item()`), or None.
pub(crate) fn unbacked_assertion(text: &str) -> Option<String> {
    static ASSERT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"Runtime assertion failed for expression (.+?) on node").expect("valid pattern")
    });
    static SYMBOL: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\b([su])\d+\b").expect("valid pattern"));
    let expr = ASSERT.captures(text)?.get(1)?.as_str().to_string();
    let kinds: Vec<String> = SYMBOL
        .captures_iter(&expr)
        .map(|c| c[1].to_string())
        .collect();
    (!kinds.is_empty() && kinds.iter().all(|k| k == "u")).then_some(expr)
}

/// A torch API's own argument check (`torch/_higher_order_ops/cond.py in _validate_input`)
/// raising a user-facing error type: the model called the API against its documented rules.
pub(crate) fn is_api_argument_check(site: Option<&str>, ty: &str) -> bool {
    let Some(site) = site else { return false };
    let (file, func) = site.split_once(" in ").unwrap_or((site, ""));
    let file = file.split(':').next().unwrap_or(file);
    matches!(ty, "RuntimeError" | "ValueError" | "TypeError")
        && file.starts_with("torch/_higher_order_ops/")
        && ["_validate", "validate", "_check", "check"]
            .iter()
            .any(|p| func.trim().starts_with(p))
}

/// Python-level control flow: where a data-dependent value cannot be traced by design.
fn is_python_decision(op: &Op) -> bool {
    match op {
        Op::Compare(_)
        | Op::CompareSizes(_)
        | Op::BoolOp(_)
        | Op::Not(_)
        | Op::If(_)
        | Op::Select(_)
        | Op::SelectFlat(_)
        | Op::Loop(_)
        | Op::ToList(_) => true,
        // `a if c else b` asks Python for `c`; `torch.sym_ite` traces it.
        Op::IntSelect(s) => s.spelling == crate::ir::IteSpelling::IfExpr,
        _ => false,
    }
}

/// A constraint violation's rule, from what the worker found, for a generated case and a
/// user's model alike: the violation rules out a size eager runs at (`witness_in_region`:
/// inside the trace region or not); or eager runs at one size only for a dim asked to be
/// dynamic (`model_fixes_size`); or nothing torch concluded rules out a size the spec allows
/// (`guards_hold`), in which case it is right only when the declared range holds sizes the
/// model itself cannot run (`beyond_model`).
pub(crate) fn decide_constraint_violation(
    witness_in_region: Option<bool>,
    guards_hold: Option<bool>,
    beyond_model: bool,
    model_fixes_size: bool,
) -> Contract {
    match (witness_in_region, guards_hold) {
        // eager itself runs at one size only (the model ties the dim to a static one): the
        // spec asks for what the model cannot give, and torch says so
        (None, _) if model_fixes_size => Contract::TraceRegion,
        (Some(true), _) => Contract::AvoidableSpecialization,
        (Some(false), _) => Contract::TraceRegion,
        (None, Some(true)) if beyond_model => Contract::SpecBeyondModel,
        (None, Some(true)) => Contract::SpuriousConstraintViolation,
        // something rules out sizes past the scan range, or could not be decided
        (None, _) => Contract::AvoidableSpecialization,
    }
}

/// An export error's rule by its kind, for both sources: data-dependent at a Python
/// decision or inside an op, a spec torch refuses, Python needing a concrete value, the
/// model's own code raising under tracing; anything else is torch's internal error.
/// (Constraint violations go through [`decide_constraint_violation`].)
pub(crate) fn decide_export_error(
    kind: &str,
    at_python_decision: bool,
    raised_in_model: bool,
    api_check: bool,
) -> Contract {
    match kind {
        "data_dependent" if at_python_decision => Contract::DataDependentBranch,
        "data_dependent" => Contract::DataDependentInOp,
        "invalid_spec" => Contract::SpecRejected,
        "unsupported" => Contract::UnsupportedOnSymbolic,
        _ if raised_in_model => Contract::UnsupportedOnSymbolic,
        _ if api_check => Contract::ApiArgumentError,
        _ => Contract::InternalError,
    }
}

/// A constraint violation is expected when the sizes it rules out are outside the trace
/// region, portability when it rules out a size inside it.
fn constraint_violation(
    cx: &Ctx,
    reply: &CheckReply,
    e: &ErrorInfo,
) -> (Contract, Option<Cause>, Option<Vec<i64>>) {
    let witness_at = |w: &WitnessInfo| sizes_at(cx.case, w);
    for in_region in [true, false] {
        if let Some(w) = reply
            .witnesses
            .iter()
            .find(|w| w.in_region == in_region && !w.false_guards.is_empty())
        {
            return (
                decide_constraint_violation(Some(in_region), reply.guards_hold, false, false),
                cx.guard_cause(&reply.guards, &w.false_guards),
                witness_at(w),
            );
        }
    }
    let cause = Some(cx.error_cause(e));
    // A named Dim whose range holds sizes eager itself fails at: a guard excluding them is
    // right to be reported (the worker checks the guards only where eager runs).
    let beyond = (0..cx.case.symbol_count()).find_map(|s| match symbol_spec(cx.case, s) {
        Some(SymbolSpec::Named { lo, hi }) => (lo..=hi)
            .find(|&n| !in_runs(n, &cx.truth.valid[s]))
            .map(|n| (s, n)),
        _ => None,
    });
    let fixed = (0..cx.case.symbol_count()).any(|s| {
        symbol_spec(cx.case, s).is_some()
            && matches!(cx.truth.valid[s].as_slice(), [[lo, hi]] if lo == hi)
    });
    match decide_constraint_violation(None, reply.guards_hold, beyond.is_some(), fixed) {
        Contract::SpecBeyondModel => {
            let (s, n) = beyond.expect("beyond the model");
            let mut probe = cx.case.export.clone();
            probe[s] = n;
            (Contract::SpecBeyondModel, cause, Some(probe))
        }
        // Nothing torch concluded rules out any size the spec allows: the violation is
        // wrong, and the culprit is a guard torch could not prove.
        Contract::SpuriousConstraintViolation => {
            let culprit = cx.guard_cause(&reply.guards, &reply.unproven).or(cause);
            (Contract::SpuriousConstraintViolation, culprit, None)
        }
        // Something rules out sizes past the scan range, or could not be decided: say what
        // the error says.
        other => (other, cause, None),
    }
}

/// The valuation a witness stands for: its symbol at its size, the rest at export.
fn sizes_at(case: &Case, w: &WitnessInfo) -> Option<Vec<i64>> {
    let s = (0..case.symbol_count()).find(|&s| symbol_name(s) == w.symbol)?;
    let mut v = case.export.clone();
    v[s] = w.size;
    Some(v)
}

fn probe_sizes(case: &Case, p: &ProbeInfo) -> Vec<i64> {
    (0..case.symbol_count())
        .map(|s| {
            p.sizes
                .get(&symbol_name(s))
                .copied()
                .unwrap_or(case.export[s])
        })
        .collect()
}

/// The spec a symbol is held to: the strictest spec among the dims it sizes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum SymbolSpec {
    Auto,
    Dynamic,
    Named {
        lo: i64,
        hi: i64,
    },
    /// ShapesSpec's `ShapeVar`, its range cut to the scan.
    Var {
        lo: i64,
        hi: i64,
    },
}

fn symbol_spec(case: &Case, s: usize) -> Option<SymbolSpec> {
    let mut best: Option<SymbolSpec> = None;
    for d in case.inputs.iter().flat_map(|i| &i.dims) {
        if dim_symbol(&d.size) != Some(s) || d.truth == DimTruth::Static {
            continue;
        }
        let this = match &d.spec {
            DimSpec::Auto => SymbolSpec::Auto,
            DimSpec::Dynamic => SymbolSpec::Dynamic,
            DimSpec::Named { min, max } => SymbolSpec::Named {
                lo: min.unwrap_or(0).max(2),
                hi: max.unwrap_or(SCAN_MAX).min(SCAN_MAX),
            },
            DimSpec::Derived { .. } => SymbolSpec::Named {
                lo: 2,
                hi: SCAN_MAX,
            },
            // one range per symbol (the IR's rule): nothing to merge
            DimSpec::Var { min, max } => {
                return Some(SymbolSpec::Var {
                    lo: *min,
                    hi: max.unwrap_or(SCAN_MAX).min(SCAN_MAX),
                });
            }
            DimSpec::Unspecified | DimSpec::Static => continue,
        };
        best = Some(match (best, this) {
            (Some(n @ SymbolSpec::Named { .. }), SymbolSpec::Named { .. }) => n,
            (_, n @ SymbolSpec::Named { .. }) | (Some(n @ SymbolSpec::Named { .. }), _) => n,
            (Some(SymbolSpec::Dynamic), _) | (_, SymbolSpec::Dynamic) => SymbolSpec::Dynamic,
            _ => SymbolSpec::Auto,
        });
    }
    best
}

fn accepted_runs(reply: &CheckReply, s: usize) -> Option<Vec<[i64; 2]>> {
    reply.accepted.get(&symbol_name(s)).cloned().flatten()
}

/// The first input dim sized by symbol `s`, for messages.
fn first_dim_of(case: &Case, s: usize) -> Option<(usize, usize)> {
    case.inputs.iter().enumerate().find_map(|(i, inp)| {
        inp.dims
            .iter()
            .position(|d| dim_symbol(&d.size) == Some(s) && d.spec.requests_dynamic())
            .map(|d| (i, d))
    })
}

/// Export succeeded: the probes, and what became of every dim asked to be dynamic.
fn judge_program(cx: &Ctx, backend: Backend, truth: &Truth, reply: &CheckReply) -> CheckResult {
    let case = cx.case;
    let shapes = case.spec_api() == SpecApi::Shapes;
    let mut findings = step_findings(backend, reply);
    let mut edge = vec![];
    for p in &reply.probes {
        if let Some(f) = backend_disagreement(cx, backend, p) {
            findings.push(f);
            continue;
        }
        if let Some(f) = compile_recompiled(cx, backend, p) {
            findings.push(f);
            continue;
        }
        let sizes = probe_sizes(case, p);
        if p.kind == ProbeKind::Edge {
            edge.push(EdgeOutcome {
                sizes: sizes.clone(),
                eager_ok: p.eager.as_ref().is_some_and(|e| e.ok),
                exported_ok: p.exported.as_ref().is_some_and(|e| e.ok),
                matches: p.matches,
            });
        }
        // Under ShapesSpec a symbol no ShapeVar names is static: a probe that moves it
        // asks nothing of the spec.
        if shapes
            && (0..case.symbol_count())
                .any(|s| case.var_range(s).is_none() && sizes.get(s) != case.export.get(s))
        {
            continue;
        }
        // torch.compile answers a size outside the spec's ranges by compiling again (the
        // guards of a compiled frame ask for a recompile, not an error): only a wrong answer
        // there is its finding, and `backend_disagreement` has judged that
        if backend == Backend::Compile && shapes && !case.in_declared_ranges(&sizes) {
            continue;
        }
        if let Some(mut f) = probe_finding(cx, reply, p, &sizes) {
            f.probe = Some(sizes);
            findings.push(f);
        }
    }

    for s in 0..case.symbol_count() {
        if let Some(f) = judge_symbol(cx, truth, reply, s) {
            findings.push(f);
        }
    }

    explain_by_axis(&mut findings);
    findings.sort_by_key(rank);
    let verdict = findings.first().map(|f| f.verdict).unwrap_or(Verdict::Pass);
    let mut r = result(backend, verdict, findings);
    r.edge = edge;
    // under ShapesSpec the sweep counts the sizes the spec promises (the guard scan it is
    // drawn from does not see the assumptions the program asserts)
    let sweep = reply.probes.iter().filter(|p| {
        p.kind == ProbeKind::Sweep && (!shapes || case.in_declared_ranges(&probe_sizes(case, p)))
    });
    r.swept = sweep.clone().count();
    r.swept_matching = sweep.filter(|p| p.matches == Some(true)).count();
    r
}

/// What a backend step changed of the exported program: its input ranges, its guards, an
/// input axis it lost or declared fixed.
fn step_findings(backend: Backend, reply: &CheckReply) -> Vec<Finding> {
    let mut findings = vec![];
    if let Some([before, after]) = reply.backend.as_ref().and_then(|b| b.ranges.clone()) {
        let text = |m: &std::collections::BTreeMap<String, [Option<i64>; 2]>| {
            m.iter()
                .map(|(k, [lo, hi])| {
                    format!(
                        "{k}: [{}, {}]",
                        lo.map_or("-inf".into(), |x| x.to_string()),
                        hi.map_or("inf".into(), |x| x.to_string())
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut f = finding(
            Verdict::LostDim,
            Some(Contract::BackendDisagrees),
            format!(
                "the {} program's input ranges differ from the exported program's: {{{}}} became {{{}}}",
                backend.name(),
                text(&before),
                text(&after)
            ),
        );
        f.kind = Some("ranges".into());
        findings.push(f);
    }
    if let Some([lost, gained]) = reply.backend.as_ref().and_then(|b| b.guards.clone()) {
        let list = |v: &[String]| {
            if v.is_empty() {
                "none".to_string()
            } else {
                v.join("; ")
            }
        };
        let mut f = finding(
            Verdict::LostDim,
            Some(Contract::BackendDisagrees),
            format!(
                "the {} program's guards differ from the exported program's: lost {}, gained {}",
                backend.name(),
                list(&lost),
                list(&gained)
            ),
        );
        f.kind = Some("guards".into());
        findings.push(f);
    }
    for axis in reply.backend.iter().flat_map(|b| &b.lost_axes) {
        let mut f = finding(
            Verdict::LostDim,
            Some(Contract::BackendDisagrees),
            format!("the {} model's input {axis}", backend.name()),
        );
        // a pin declared as an unchecked name, or a dynamic dim declared fixed
        f.kind = Some(
            if axis.contains("where the exported program pins it") {
                "pinned-dim-param"
            } else {
                "lost-axis"
            }
            .into(),
        );
        findings.push(f);
    }
    findings
}

/// The finding one probe of the program makes, by the rules of `decide_probe`, with its
/// message and culprit; None when it asks nothing.
fn probe_finding(
    cx: &Ctx,
    reply: &CheckReply,
    p: &ProbeInfo,
    sizes: &crate::ir::Valuation,
) -> Option<Finding> {
    let case = cx.case;
    let shapes = case.spec_api() == SpecApi::Shapes;
    let inside = case.in_trace_region(sizes);
    let call = decide_probe(&ProbeFacts {
        source: Source::Generated,
        kind: p.kind,
        eager: EagerAt::of(p.eager.as_ref()),
        program: ProgramAt::of(p),
        false_guards: !p.false_guards.is_empty(),
        inside_region: inside,
        relation_only: false,
        model_asks_exporting: false,
        declared: shapes.then(|| case.in_declared_ranges(sizes)),
        additional: case.additional_inputs.iter().any(|v| v == sizes),
        unspecified_read: case.reads_unspecified_stride(sizes),
    });
    let detail = || p.detail.clone().unwrap_or_else(|| "results differ".into());
    let program_error = || p.exported.as_ref().and_then(|x| x.error.as_ref());
    let f = match call {
        ProbeCall::Skip => return None,
        ProbeCall::EagerFails => finding(
            Verdict::Invalid,
            None,
            format!(
                "eager fails at a probe the generator promised valid: {}",
                error_line(&p.eager.as_ref().and_then(|e| e.error.clone()))
            ),
        ),
        ProbeCall::EagerNotRepeatable => {
            finding(Verdict::Poisoned, None, "eager is not repeatable".into())
        }
        ProbeCall::EagerNotFinite => finding(
            Verdict::Poisoned,
            None,
            format!("non-finite eager result: {}", detail()),
        ),
        ProbeCall::Finding(verdict, contract) => {
            let message = match contract {
                Contract::SilentDivergenceAtZeroOne => format!(
                    "at size 0/1 ({}) the exported program runs and differs from eager: {}",
                    case.shapes_text(sizes),
                    detail()
                ),
                Contract::ProgramError => format!(
                    "at {} (eager runs) the exported program passes its input checks and then raises {}",
                    case.shapes_text(sizes),
                    error_line(&program_error().cloned())
                ),
                Contract::ShapesSpecRangeUnchecked => format!(
                    "at {}, outside the declared ShapeVar ranges and assumptions ({}), the exported program runs without raising",
                    case.shapes_text(sizes),
                    case.ranges_text()
                ),
                _ if verdict == Verdict::Divergence => format!(
                    "at {} the exported program runs and differs from eager: {}",
                    case.shapes_text(sizes),
                    detail()
                ),
                _ => error_line(&program_error().cloned()),
            };
            let mut f = finding(verdict, Some(contract), message);
            if contract == Contract::SilentDivergence && case.deferred_asserts {
                f.kind = Some(super::DEFERRED_ASSERTS_KIND.into());
            }
            f.cause = match (verdict, contract) {
                (_, Contract::ProgramError) => program_error().map(|err| cx.error_cause(err)),
                // nothing in the model decided it: the range is the spec's
                (_, Contract::ShapesSpecRangeUnchecked) => None,
                (Verdict::Divergence, _) => cx.decision_cause(sizes),
                _ => cx.guard_cause(&reply.guards, &p.false_guards).or_else(|| {
                    if inside {
                        None
                    } else {
                        cx.decision_cause(sizes)
                    }
                }),
            };
            f
        }
    };
    Some(f)
}

/// A declared axis that explains a wrong answer says so, and its reproducer shows the wrong
/// answer.
fn explain_by_axis(findings: &mut [Finding]) {
    if let Some((wrong, probe)) = findings
        .iter()
        .find(|f| f.contract == Some(Contract::BackendUncheckedGuard))
        .map(|f| (f.message.clone(), f.probe.clone()))
        && let Some(axis) = findings.iter_mut().find(|f| {
            f.contract == Some(Contract::BackendDisagrees) && f.verdict == Verdict::LostDim
        })
    {
        axis.message = format!("{}; so {wrong}", axis.message);
        // its reproducer shows the wrong answer
        axis.probe = probe;
    }
}

/// Orders findings so the one behind the verdict comes first: what cannot be judged, then
/// by class and severity, then by verdict.
fn rank(f: &Finding) -> (u8, u8, u8) {
    let verdict = match f.verdict {
        Verdict::Divergence => 0,
        Verdict::LostDim => 1,
        Verdict::SpuriousGuard => 2,
        _ => 3,
    };
    match (f.verdict, f.contract) {
        (Verdict::Invalid, _) => (0, 0, 0),
        (Verdict::Poisoned | Verdict::Oom, _) => (1, 0, 0),
        // class first: a bug outranks the worst note for the author
        (_, Some(c)) => (2 + c.class() as u8, c.severity(), verdict),
        (_, None) => (9, 0, verdict),
    }
}

/// The size a symbol is pinned to (a literal in the program, or the only size its guards
/// accept), and whether that is a specialization in Dim.DYNAMIC's sense: no other size of a
/// dim satisfies the guards whatever the other dims are. That takes a literal, or guards on
/// the dim alone; a guard relating two dims (`s0*s1 == 25`) leaves other sizes to each. The
/// dim must be the symbol itself and ask for Dim.DYNAMIC: a dim of size `k*s` has sizes
/// between the multiples the scan cannot see.
/// What pins a symbol: the size, whether it is a specialization in Dim.DYNAMIC's sense, the
/// culprit guards (one that pins on its own, or every guard that pins only together), and
/// the input dims of the pinned torch symbol (`[input, dim]`; int inputs included).
struct Pin {
    size: Option<i64>,
    specialized: bool,
    guards: Vec<usize>,
    dims: Vec<[u32; 2]>,
}

fn pin_of(case: &Case, reply: &CheckReply, s: usize, accepted: &[i64]) -> Pin {
    let sname = symbol_name(s);
    let literal = reply
        .dims
        .iter()
        .filter(|p| {
            case.inputs
                .get(p.input as usize)
                .and_then(|inp| inp.dims.get(p.dim as usize))
                .is_some_and(|dim| dim_symbol(&dim.size) == Some(s))
        })
        .find_map(|p| p.pinned);
    let pinned = literal.or_else(|| (accepted.len() == 1).then(|| accepted[0]));
    let explained: Vec<&WitnessInfo> = reply
        .witnesses
        .iter()
        .filter(|w| w.symbol == sname && !w.false_guards.is_empty())
        .collect();
    let pins_a_dynamic_dim = |g: &GuardInfo| {
        g.symbols == 1
            && g.dims.iter().any(|[i, d]| {
                case.inputs
                    .get(*i as usize)
                    .and_then(|inp| inp.dims.get(*d as usize))
                    .is_some_and(|dim| {
                        dim.size == DimExpr::Sym(crate::ir::SymId(s as u32))
                            && dim.spec == DimSpec::Dynamic
                    })
            })
    };
    // Dims tied to one case symbol may be independent torch symbols, each narrowed to a
    // different set whose intersection along the tie is one size: a pin needs one torch
    // symbol of a Dim.DYNAMIC dim that accepts a single size when it alone varies.
    let alone_pin = reply.alone.iter().find(|scan| {
        sizes_in_scan(&scan.accepted, SCAN_MAX) == 1
            && scan.dims.iter().any(|[i, d]| {
                case.inputs
                    .get(*i as usize)
                    .and_then(|inp| inp.dims.get(*d as usize))
                    .is_some_and(|dim| {
                        dim.size == DimExpr::Sym(crate::ir::SymId(s as u32))
                            && dim.spec == DimSpec::Dynamic
                    })
            })
    });
    let specialized = literal.is_some()
        || (pinned.is_some()
            && !explained.is_empty()
            && explained.iter().all(|w| {
                w.false_guards
                    .iter()
                    .filter_map(|&i| reply.guards.get(i))
                    .any(pins_a_dynamic_dim)
            })
            && alone_pin.is_some());
    // The culprit of a pin is a guard that pins the dim on its own: one on the pinned torch
    // symbol's dims first, since a witness that moves tied dims together also breaks the
    // guards that only narrow the others.
    let on_pinned =
        |g: &GuardInfo| alone_pin.is_none_or(|scan| g.dims.iter().any(|gd| scan.dims.contains(gd)));
    let find = |extra: &dyn Fn(&GuardInfo) -> bool| {
        explained.iter().find_map(|w| {
            w.false_guards.iter().copied().find(|&i| {
                reply
                    .guards
                    .get(i)
                    .is_some_and(|g| pins_a_dynamic_dim(g) && extra(g))
            })
        })
    };
    let culprit = find(&on_pinned).or_else(|| find(&|_| true));
    // A guard false at every witness pins alone; otherwise each witness (a size below, one
    // above) is ruled out by its own guard, and only all of them together pin the size.
    let false_at_all = culprit.filter(|&g| explained.iter().all(|w| w.false_guards.contains(&g)));
    let guards = match false_at_all {
        Some(g) => vec![g],
        None => {
            let mut all: Vec<usize> = explained
                .iter()
                .filter_map(|w| {
                    w.false_guards.iter().copied().find(|&i| {
                        reply
                            .guards
                            .get(i)
                            .is_some_and(|g| pins_a_dynamic_dim(g) && on_pinned(g))
                    })
                })
                .collect();
            all.sort_unstable();
            all.dedup();
            if all.is_empty() {
                culprit.into_iter().collect()
            } else {
                all
            }
        }
    };
    Pin {
        size: pinned,
        specialized,
        guards,
        dims: alone_pin.map(|scan| scan.dims.clone()).unwrap_or_default(),
    }
}

/// Whether a witness of `symbol` (at `size`, or at any size) is ruled out by a guard on one
/// symbol alone, not by a relation between dims (which torch checks at run time by design).
pub(crate) fn ruled_out_alone(reply: &CheckReply, symbol: &str, size: Option<i64>) -> bool {
    reply
        .witnesses
        .iter()
        .filter(|w| w.symbol == symbol && size.is_none_or(|n| w.size == n))
        .any(|w| {
            w.false_guards
                .iter()
                .filter_map(|&i| reply.guards.get(i))
                .any(|g| g.symbols == 1)
        })
}

/// How many sizes of `2..=scan_max` the runs hold.
pub(crate) fn sizes_in_scan(runs: &[[i64; 2]], scan_max: i64) -> i64 {
    runs.iter()
        .filter(|[_, hi]| *hi >= 2)
        .map(|[lo, hi]| hi.min(&scan_max) - lo.max(&2) + 1)
        .filter(|&c| c > 0)
        .sum()
}

/// Where the truth about a model comes from: what a judgement may conclude differs only in
/// what the source can promise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    /// A generated case: its IR promises eager runs at every probe, and writes no check
    /// on data; its probes are chosen to show what they show, so each rejection is a finding.
    Generated,
    /// A user's model: eager is the truth (a size it fails at is just not one it runs),
    /// the model may check data itself (`torch._check` on an `.item()`), and a rejection that
    /// one dim explains is judged once, per dim.
    UserModel,
}

/// How eager fared at a probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EagerAt {
    /// Eager ran; whether twice gave the same result and whether it was finite.
    Runs {
        repeatable: bool,
        finite: bool,
    },
    Fails,
    /// Not run (the worker had no eager side for it).
    NotRun,
}

impl EagerAt {
    pub fn of(side: Option<&super::protocol::ProbeSide>) -> EagerAt {
        match side {
            None => EagerAt::NotRun,
            Some(e) if !e.ok => EagerAt::Fails,
            Some(e) => EagerAt::Runs {
                repeatable: e.repeatable != Some(false),
                finite: e.finite != Some(false),
            },
        }
    }
}

/// How the exported program fared at a probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ProgramAt {
    NotRun,
    Runs {
        matches: Option<bool>,
    },
    /// It raised: in one of its own input checks or not, and whether the check that failed
    /// is a runtime assertion on data values only (unbacked symbols).
    Raises {
        input_check: bool,
        on_data: bool,
    },
}

impl ProgramAt {
    pub fn of(p: &ProbeInfo) -> ProgramAt {
        match &p.exported {
            None => ProgramAt::NotRun,
            Some(x) if x.ok => ProgramAt::Runs { matches: p.matches },
            Some(x) => {
                let text = x.error.as_ref().map(|e| e.text()).unwrap_or_default();
                ProgramAt::Raises {
                    input_check: x.error.is_none() || is_input_check_text(&text),
                    on_data: unbacked_assertion(&text).is_some(),
                }
            }
        }
    }
}

/// What one probe is judged on, from either source of truth.
pub(crate) struct ProbeFacts {
    pub source: Source,
    pub kind: ProbeKind,
    pub eager: EagerAt,
    pub program: ProgramAt,
    /// Some guard of the exported program is false at these sizes.
    pub false_guards: bool,
    /// The sizes are inside the trace region (the model's Python takes the export path).
    pub inside_region: bool,
    /// Several sizes moved and each alone is accepted: only their relation is refused.
    pub relation_only: bool,
    /// The model runs other code under `torch.compiler.is_exporting()` / `is_compiling()`.
    pub model_asks_exporting: bool,
    /// Under ShapesSpec, whether the sizes lie inside the declared ranges; None under the
    /// `Dim` API.
    pub declared: Option<bool>,
    /// The sizes are one of the case's `AdditionalInputs` examples, which export verified
    /// the program takes.
    pub additional: bool,
    /// The model reads a value torch leaves unspecified at these sizes (the stride of an
    /// empty tensor, or of a dim of size 0 or 1): an answer other than eager's, or an error
    /// past the program's input checks, says nothing.
    pub unspecified_read: bool,
}

/// What a probe comes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ProbeCall {
    /// Nothing here (or what is here is judged per symbol).
    Skip,
    /// The case cannot be judged (`invalid`): eager fails where the generator promised it runs.
    EagerFails,
    /// The case cannot be judged (`poisoned`): eager differs from itself, or is not finite
    /// where the results differ.
    EagerNotRepeatable,
    EagerNotFinite,
    Finding(Verdict, Contract),
}

/// The contract for one probe (CONTRACT.md), for a generated case and a user's model alike:
/// - a result other than eager's where the program runs is a silent divergence, at 0/1 the
///   documented 0/1 assumption's (portability), and the model's own intent when it asks
///   whether it is exported;
/// - the program raising past its own input checks where eager runs is a program error;
/// - a rejection inside the trace region is an avoidable specialization, outside it the
///   trace region (0/1 rejections are torch's documented specialization; the sweep looks for
///   wrong results only; rejections of one symbol are also judged per symbol);
/// - a user's `torch._check` on data failing is the model's intent;
/// - under ShapesSpec (CONTRACT.md, "ShapesSpec") the declared ranges are the promise, 0 and
///   1 included, with no trace region: inside them a refusal is a bug, outside them a size
///   taken is.
pub(crate) fn decide_probe(f: &ProbeFacts) -> ProbeCall {
    use ProbeCall::*;
    let user = f.source == Source::UserModel;
    let edge = f.kind == ProbeKind::Edge;
    // The Dim API assumes 0/1 away and checks nothing there; ShapesSpec promises them when
    // its ranges hold them, and a size outside its ranges must be refused.
    let assumed_away = edge && f.declared.is_none();
    let outside = f.declared == Some(false);
    // What is not a size eager runs at, or not one to compare at, is only an error of the
    // generator's promise (which covers its normal probes, all inside the ranges).
    let (repeatable, finite) = match f.eager {
        EagerAt::NotRun => return Skip,
        EagerAt::Fails if user || edge || outside => return Skip,
        EagerAt::Fails => return EagerFails,
        EagerAt::Runs { repeatable, finite } => (repeatable, finite),
    };
    if !repeatable {
        return if user || edge {
            Skip
        } else {
            EagerNotRepeatable
        };
    }
    match f.program {
        ProgramAt::NotRun => Skip,
        // outside a ShapesSpec range: refused is the promise kept, taken is a bug
        ProgramAt::Raises { .. } if outside => Skip,
        ProgramAt::Runs { .. } if outside => {
            Finding(Verdict::Divergence, Contract::ShapesSpecRangeUnchecked)
        }
        ProgramAt::Runs {
            matches: None | Some(true),
        } => Skip,
        ProgramAt::Runs { .. } if f.unspecified_read => Skip,
        ProgramAt::Runs {
            matches: Some(false),
        } if !finite => {
            if user || edge {
                Skip
            } else {
                EagerNotFinite
            }
        }
        ProgramAt::Runs {
            matches: Some(false),
        } => Finding(
            Verdict::Divergence,
            if f.model_asks_exporting {
                Contract::ModelIntent
            } else if assumed_away {
                Contract::SilentDivergenceAtZeroOne
            } else {
                Contract::SilentDivergence
            },
        ),
        ProgramAt::Raises { .. } if assumed_away => Skip,
        ProgramAt::Raises {
            input_check: false, ..
        } if f.unspecified_read => Skip,
        ProgramAt::Raises {
            input_check: false, ..
        } if !f.false_guards => Finding(Verdict::Divergence, Contract::ProgramError),
        // export verified this example: a program that refuses it broke that promise
        ProgramAt::Raises { .. } if f.additional => {
            Finding(Verdict::SpuriousGuard, Contract::AdditionalInputUnverified)
        }
        ProgramAt::Raises { .. } if f.kind == ProbeKind::Sweep => Skip,
        ProgramAt::Raises { on_data: true, .. } if user => {
            Finding(Verdict::SpuriousGuard, Contract::ModelIntent)
        }
        // a user's rejection of one symbol is judged per symbol (whose scan starts at 2)
        ProgramAt::Raises { .. } if user && !f.relation_only && !edge => Skip,
        ProgramAt::Raises { .. } => Finding(
            Verdict::SpuriousGuard,
            match f.declared {
                Some(_) => Contract::ShapesSpecRejectsValid,
                None if f.inside_region => Contract::AvoidableSpecialization,
                None => Contract::TraceRegion,
            },
        ),
    }
}

/// What one symbol asked to be dynamic is judged on, whichever source of truth measured it:
/// a generated case's IR (`judge_symbol` below) or a user's model as the worker measured it
/// (`probe.rs`). One rule set, so the same mechanism gets the same class from both.
pub(crate) struct SymbolFacts<'a> {
    pub spec: SymbolSpec,
    /// The size the export ran at.
    pub example: i64,
    pub scan_max: i64,
    /// The sizes the spec asks for (a hint's `min`/`max`); everything for a bare hint.
    pub asked: (i64, i64),
    /// Sizes eager runs at, the trace region, and what the exported program accepts, as
    /// runs of `2..=scan_max` with the other symbols at their example sizes.
    pub valid: &'a [[i64; 2]],
    pub region: &'a [[i64; 2]],
    pub accepted: &'a [[i64; 2]],
    /// The single size the program takes (a literal, or the only accepted size), and
    /// whether that is a specialization in Dim.DYNAMIC's sense (see `pin_of`).
    pub pinned: Option<i64>,
    pub specialized: bool,
    /// Whether a guard on this dim alone (not a relation with another dim) rules out `size`.
    pub univariate_at: &'a dyn Fn(i64) -> bool,
}

/// The rule a symbol falls under, and the size that shows it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct SymbolDecision {
    pub contract: Contract,
    pub size: i64,
    pub in_region: bool,
}

/// The contract for one symbol (CONTRACT.md, "Rules per spec kind"):
/// - an example of 0 or 1 under `Dim.AUTO`/`Dim.DYNAMIC`: torch specializes it by design
///   (expected; the fix is an example of 2 or more);
/// - a named Dim that rejects a size of its range where eager runs, by a guard on it alone,
///   without a constraint violation: bug;
/// - `Dim.DYNAMIC` specialized to one size without an error: bug;
/// - otherwise a size eager runs at and the program rejects: portability inside the trace
///   region, expected outside it.
pub(crate) fn decide_symbol(f: &SymbolFacts) -> Option<SymbolDecision> {
    let scan: Vec<i64> = (2..=f.scan_max).collect();
    let nearest = |set: &dyn Fn(i64) -> bool| {
        let mut c: Vec<i64> = scan.iter().copied().filter(|&n| set(n)).collect();
        c.sort_by_key(|&n| ((n - f.example).abs(), n));
        c.first().copied()
    };
    let decided = |contract, size| {
        Some(SymbolDecision {
            contract,
            size,
            in_region: in_runs(size, f.region),
        })
    };
    if f.example <= 1 && matches!(f.spec, SymbolSpec::Auto | SymbolSpec::Dynamic) {
        return Some(SymbolDecision {
            contract: Contract::ZeroOneSpecialization,
            size: f.example,
            in_region: false,
        });
    }
    let asked = |n: i64| (f.asked.0..=f.asked.1).contains(&n);
    let runs_eager = |n: i64| in_runs(n, f.valid);
    let accepted = |n: i64| in_runs(n, f.accepted);
    if let SymbolSpec::Var { lo, hi } = f.spec {
        // ShapesSpec promises no specialization at all: there is no trace region, a size
        // of the range eager runs at and the program refuses breaks the promise
        let missing = |n: i64| (lo..=hi).contains(&n) && runs_eager(n) && !accepted(n);
        return nearest(&missing).and_then(|size| decided(Contract::ShapesSpecRejectsValid, size));
    }
    if let SymbolSpec::Named { lo, hi } = f.spec {
        // only where eager runs: a guard excluding sizes the model cannot run is right
        let missing = |n: i64| (lo..=hi).contains(&n) && runs_eager(n) && !accepted(n);
        if let Some(size) = nearest(&|n| missing(n) && in_runs(n, f.region))
            .or_else(|| nearest(&missing))
            .filter(|&size| (f.univariate_at)(size))
        {
            return decided(Contract::NamedDimNarrowedSilently, size);
        }
    }
    if f.spec == SymbolSpec::Dynamic && f.specialized {
        let p = f.pinned.unwrap_or(f.example);
        let size = nearest(&|n| n != p && asked(n) && runs_eager(n))?;
        return decided(Contract::DynamicSpecializedSilently, size);
    }
    let lost = |n: i64| asked(n) && runs_eager(n) && !accepted(n);
    if let Some(size) = nearest(&|n| lost(n) && in_runs(n, f.region)) {
        return decided(Contract::AvoidableSpecialization, size);
    }
    nearest(&lost).and_then(|size| decided(Contract::TraceRegion, size))
}

/// What became of a symbol asked to be dynamic, against its spec's promise and the trace
/// region.
fn judge_symbol(cx: &Ctx, truth: &Truth, reply: &CheckReply, s: usize) -> Option<Finding> {
    let case = cx.case;
    let spec = symbol_spec(case, s)?;
    let acc = accepted_runs(reply, s)?;
    let (valid, region) = (&truth.valid[s], &truth.region[s]);
    let scan: Vec<i64> = (2..=SCAN_MAX).collect();
    let accepted: Vec<i64> = scan.iter().copied().filter(|&n| in_runs(n, &acc)).collect();
    let (i, d) = first_dim_of(case, s)?;
    let name = case.dim_label(i, d);
    let spec_written = spec_text(&case.inputs[i].dims[d]);
    let sname = symbol_name(s);
    let here = case.export[s];
    let pin = pin_of(case, reply, s, &accepted);
    let (pinned, specialized) = (pin.size, pin.specialized);
    let accepts_text = fmt_runs(&runs(&accepted));
    // under ShapesSpec only the sizes its assumptions allow are promised
    let declared_valid: Vec<[i64; 2]>;
    let valid = if case.assumptions.is_empty() {
        valid
    } else {
        declared_valid = declared_runs(case, s, valid);
        &declared_valid
    };

    // A named Dim narrowed by a guard on it alone broke its promise; one narrowed by a guard
    // relating it to another dim is checked at run time by design, and judged like AUTO.
    let univariate_at = |size: i64| ruled_out_alone(reply, &sname, Some(size));
    let decision = decide_symbol(&SymbolFacts {
        spec,
        example: here,
        scan_max: SCAN_MAX,
        asked: (0, i64::MAX),
        valid,
        region,
        accepted: &acc,
        pinned,
        specialized,
        univariate_at: &univariate_at,
    })?;
    let (contract, size, in_region) = (decision.contract, decision.size, decision.in_region);
    let message = match contract {
        Contract::NamedDimNarrowedSilently => {
            let SymbolSpec::Named { lo, hi } = spec else {
                return None;
            };
            format!(
                "{name} is {spec_written}, but of the sizes {lo}..={hi} in its range the exported program accepts only {sname} in {accepts_text}, and export raised no constraint violation"
            )
        }
        Contract::DynamicSpecializedSilently => specialized_message(
            case,
            reply,
            &pin,
            &name,
            &sname,
            pinned.unwrap_or(here),
            valid,
        ),
        Contract::AvoidableSpecialization => {
            let what = match pinned {
                Some(p) => format!("pins {sname} to {p}"),
                None => format!("accepts only {sname} in {accepts_text}"),
            };
            format!(
                "{name} ({spec_written}) was requested dynamic; the exported program {what}, rejecting {sname} = {size} inside the trace region ({}) where eager runs the same Python path",
                fmt_runs(region)
            )
        }
        Contract::ShapesSpecRejectsValid => format!(
            "{name} is {spec_written} (ShapesSpec: never specialized), and eager runs at {sname} = {size} inside its range, but the exported program accepts only {sname} in {accepts_text}, and export raised no error"
        ),
        _ => format!(
            "{name} ({spec_written}) is narrowed to the trace region: the exported program accepts {sname} in {accepts_text}; the model's Python takes the export path only for {}",
            fmt_runs(region)
        ),
    };
    let mut f = finding(Verdict::LostDim, Some(contract), message);
    let (i, d) = pin
        .dims
        .iter()
        .find(|[pi, pd]| {
            contract == Contract::DynamicSpecializedSilently
                && case
                    .inputs
                    .get(*pi as usize)
                    .and_then(|inp| inp.dims.get(*pd as usize))
                    .is_some_and(|dim| dim.spec == DimSpec::Dynamic)
        })
        .map_or((i, d), |[pi, pd]| (*pi as usize, *pd as usize));
    f.input = Some(crate::ir::input_name(i));
    f.dim = Some(d as u32);
    let mut v = case.export.clone();
    v[s] = size;
    f.cause = symbol_cause(cx, reply, &pin, contract, (&sname, size, &v), in_region);
    f.probe = Some(v);
    Some(f)
}

/// The sizes of symbol `s` a ShapesSpec's assumptions allow, of the `valid` ones (the
/// others at their example sizes).
fn declared_runs(case: &Case, s: usize, valid: &[[i64; 2]]) -> Vec<[i64; 2]> {
    runs(
        &(2..=SCAN_MAX)
            .filter(|&n| {
                let mut v = case.export.clone();
                v[s] = n;
                in_runs(n, valid) && case.in_declared_ranges(&v)
            })
            .collect::<Vec<_>>(),
    )
}

/// "x.size(0) is Dim.DYNAMIC, but the exported program accepts only s0 = 4 ...", naming the
/// dims the pinned torch symbol binds (an int input included), not the first dim of the
/// case symbol: tied dims can be separate torch symbols.
fn specialized_message(
    case: &Case,
    reply: &CheckReply,
    pin: &Pin,
    name: &str,
    sname: &str,
    p: i64,
    valid: &[[i64; 2]],
) -> String {
    let pinned_dims: Vec<String> = pin
        .dims
        .iter()
        .filter(|[i, d]| {
            case.inputs
                .get(*i as usize)
                .and_then(|inp| inp.dims.get(*d as usize))
                .is_some_and(|dim| dim.spec == DimSpec::Dynamic)
        })
        .map(|[i, d]| case.dim_label(*i as usize, *d as usize))
        .collect();
    let named = if pinned_dims.is_empty() {
        name.to_string()
    } else {
        pinned_dims.join(", ")
    };
    let by = match pin.guards.len() {
        0 | 1 => String::new(),
        _ => format!(
            "; the guards {} pin it only together",
            pin.guards
                .iter()
                .filter_map(|&g| reply.guards.get(g))
                .map(|g| format!("`{}`", g.expr))
                .collect::<Vec<_>>()
                .join(" and ")
        ),
    };
    format!(
        "{named} is Dim.DYNAMIC, but the exported program accepts only {sname} = {p} (of {}), and export raised no error{by}",
        fmt_runs(valid)
    )
}

/// The culprit of a symbol's finding: the guards that pin it, else a guard a witness at the
/// finding's size (or any of the symbol's witnesses) breaks, else, outside the trace region,
/// the model's decision there.
fn symbol_cause(
    cx: &Ctx,
    reply: &CheckReply,
    pin: &Pin,
    contract: Contract,
    (sname, size, v): (&str, i64, &[i64]),
    in_region: bool,
) -> Option<Cause> {
    let pin_cause = pin
        .guards
        .first()
        .filter(|_| contract == Contract::DynamicSpecializedSilently)
        .and_then(|&i| cx.guard_cause(&reply.guards, &[i]))
        .map(|mut c| {
            // every guard that pins only together, in the culprit text
            if pin.guards.len() > 1 {
                c.guard = pin
                    .guards
                    .iter()
                    .filter_map(|&g| reply.guards.get(g))
                    .map(|g| g.expr.clone())
                    .collect::<Vec<_>>()
                    .join(" and ");
            }
            c
        });
    pin_cause
        .or_else(|| {
            reply
                .witnesses
                .iter()
                .find(|w| w.symbol == sname && w.size == size && w.in_region == in_region)
                .and_then(|w| cx.guard_cause(&reply.guards, &w.false_guards))
        })
        .or_else(|| {
            reply
                .witnesses
                .iter()
                .filter(|w| w.symbol == sname)
                .find_map(|w| cx.guard_cause(&reply.guards, &w.false_guards))
        })
        .or_else(|| {
            if in_region {
                None
            } else {
                cx.decision_cause(v)
            }
        })
}

/// What torch kept of an input dim: "pinned to N", "dynamic [lo, hi]", "unknown".
pub(crate) fn kept_text(p: Option<&super::protocol::DimInfo>, exported: bool) -> String {
    match p {
        None if !exported => "unknown (export failed)".to_string(),
        None => "unknown".to_string(),
        Some(p) => match (p.pinned, p.range) {
            (Some(n), _) => format!("pinned to {n}"),
            (None, Some([lo, hi])) => format!(
                "dynamic [{}, {}]",
                lo.map_or("?".into(), |x| x.to_string()),
                hi.map_or("inf".into(), |x| x.to_string())
            ),
            (None, None) => "dynamic".into(),
        },
    }
}

fn dim_reports(case: &Case, truth: &Truth, reply: &CheckReply) -> Vec<DimReport> {
    let exported = reply.export.as_ref().is_some_and(|e| e.ok);
    let mut out = vec![];
    for (i, input) in case.inputs.iter().enumerate() {
        for (d, dim) in input.dims.iter().enumerate() {
            let s = dim_symbol(&dim.size);
            let p = reply
                .dims
                .iter()
                .find(|x| x.input == i as u32 && x.dim == d as u32);
            let kept = kept_text(p, exported);
            let (region, accepts) = match s {
                Some(s) => (
                    fmt_runs(&truth.region[s]),
                    accepted_runs(reply, s)
                        .map(|a| {
                            let acc: Vec<i64> =
                                (2..=SCAN_MAX).filter(|&n| in_runs(n, &a)).collect();
                            fmt_runs(&runs(&acc))
                        })
                        .unwrap_or_else(|| "-".into()),
                ),
                None => ("-".into(), "-".into()),
            };
            out.push(DimReport {
                input: crate::ir::input_name(i),
                dim: d as u32,
                label: case.dim_label(i, d),
                requested: spec_text(dim),
                truth: truth_name(case, &dim.truth),
                trace_region: region,
                kept,
                accepts,
            });
        }
    }
    out
}

fn truth_name(case: &Case, t: &DimTruth) -> String {
    match t {
        DimTruth::Free => "free".into(),
        DimTruth::Static => "static".into(),
        DimTruth::Tied { input, dim } => {
            format!("tied to {}", case.dim_label(*input as usize, *dim as usize))
        }
        DimTruth::MultipleOf { k } => format!("multiple of {k}"),
        DimTruth::Bounded { runs } => format!("bounded: {}", fmt_runs(runs)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts<'a>(
        spec: SymbolSpec,
        example: i64,
        valid: &'a [[i64; 2]],
        region: &'a [[i64; 2]],
        accepted: &'a [[i64; 2]],
        univariate_at: &'a dyn Fn(i64) -> bool,
    ) -> SymbolFacts<'a> {
        SymbolFacts {
            spec,
            example,
            scan_max: 64,
            asked: (0, i64::MAX),
            valid,
            region,
            accepted,
            pinned: None,
            specialized: false,
            univariate_at,
        }
    }

    #[test]
    fn one_rule_set_for_a_symbol() {
        let yes = |_: i64| true;
        let no = |_: i64| false;
        let all = [[2, 64]];
        // an example of 0/1 under a hint: torch's documented specialization
        let d = decide_symbol(&facts(SymbolSpec::Auto, 1, &all, &all, &[], &yes)).unwrap();
        assert_eq!(d.contract, Contract::ZeroOneSpecialization);
        // a named Dim narrowed by a guard on it alone, without an error: bug
        let named = SymbolSpec::Named { lo: 2, hi: 64 };
        let d = decide_symbol(&facts(named, 6, &all, &all, &[[4, 64]], &yes)).unwrap();
        assert_eq!(
            (d.contract, d.size),
            (Contract::NamedDimNarrowedSilently, 3)
        );
        // ... by a relation with another dim: checked at run time by design, as AUTO
        let d = decide_symbol(&facts(named, 6, &all, &all, &[[4, 64]], &no)).unwrap();
        assert_eq!(d.contract, Contract::AvoidableSpecialization);
        // ... only where eager does not run: nothing lost
        assert!(decide_symbol(&facts(named, 6, &[[4, 64]], &all, &[[4, 64]], &yes)).is_none());
        // Dim.DYNAMIC pinned without an error: bug, shown at the nearest other size
        let mut f = facts(SymbolSpec::Dynamic, 6, &all, &all, &[[6, 6]], &yes);
        f.pinned = Some(6);
        f.specialized = true;
        let d = decide_symbol(&f).unwrap();
        assert_eq!(
            (d.contract, d.size),
            (Contract::DynamicSpecializedSilently, 5)
        );
        // a lost size inside the trace region is portability, outside expected
        let d = decide_symbol(&facts(SymbolSpec::Auto, 6, &all, &all, &[[6, 6]], &yes)).unwrap();
        assert_eq!(d.contract, Contract::AvoidableSpecialization);
        let d = decide_symbol(&facts(
            SymbolSpec::Auto,
            6,
            &all,
            &[[6, 6]],
            &[[6, 6]],
            &yes,
        ))
        .unwrap();
        assert_eq!(d.contract, Contract::TraceRegion);
    }

    const RUNS: EagerAt = EagerAt::Runs {
        repeatable: true,
        finite: true,
    };
    const DIFFERS: ProgramAt = ProgramAt::Runs {
        matches: Some(false),
    };
    const REFUSED: ProgramAt = ProgramAt::Raises {
        input_check: true,
        on_data: false,
    };

    /// A probe's facts with a false guard, inside the trace region, nothing else special.
    fn base(source: Source, kind: ProbeKind, eager: EagerAt, program: ProgramAt) -> ProbeFacts {
        ProbeFacts {
            source,
            kind,
            eager,
            program,
            false_guards: true,
            inside_region: true,
            relation_only: false,
            model_asks_exporting: false,
            declared: None,
            additional: false,
            unspecified_read: false,
        }
    }

    #[test]
    fn one_rule_set_for_a_probe_with_two_sources_of_truth() {
        use ProbeCall::*;
        for source in [Source::Generated, Source::UserModel] {
            // the same divergence, the same class from both
            let f = base(source, ProbeKind::Normal, RUNS, DIFFERS);
            assert_eq!(
                decide_probe(&f),
                Finding(Verdict::Divergence, Contract::SilentDivergence)
            );
            let f = base(source, ProbeKind::Edge, RUNS, DIFFERS);
            assert_eq!(
                decide_probe(&f),
                Finding(Verdict::Divergence, Contract::SilentDivergenceAtZeroOne)
            );
            // past its input checks, with no false guard: the program's own error, sweeps too
            for kind in [ProbeKind::Normal, ProbeKind::Sweep] {
                let mut f = base(
                    source,
                    kind,
                    RUNS,
                    ProgramAt::Raises {
                        input_check: false,
                        on_data: false,
                    },
                );
                f.false_guards = false;
                assert_eq!(
                    decide_probe(&f),
                    Finding(Verdict::Divergence, Contract::ProgramError)
                );
            }
            // 0/1 rejections are the documented specialization; the sweep judges answers only
            assert_eq!(
                decide_probe(&base(source, ProbeKind::Edge, RUNS, REFUSED)),
                Skip
            );
            assert_eq!(
                decide_probe(&base(source, ProbeKind::Sweep, RUNS, REFUSED)),
                Skip
            );
            // a relation refused inside the region / outside it
            let mut f = base(source, ProbeKind::Normal, RUNS, REFUSED);
            f.relation_only = true;
            assert_eq!(
                decide_probe(&f),
                Finding(Verdict::SpuriousGuard, Contract::AvoidableSpecialization)
            );
            f.inside_region = false;
            assert_eq!(
                decide_probe(&f),
                Finding(Verdict::SpuriousGuard, Contract::TraceRegion)
            );
        }
    }

    /// A stride torch leaves unspecified (of an empty tensor, of a dim of size 0 or 1) makes
    /// another answer, or an error past the input checks, no finding; a refusal is still
    /// judged.
    #[test]
    fn an_unspecified_stride_is_not_compared() {
        use ProbeCall::*;
        let unspecified = |kind, program| ProbeFacts {
            unspecified_read: true,
            declared: Some(true),
            ..base(Source::Generated, kind, RUNS, program)
        };
        for kind in [ProbeKind::Edge, ProbeKind::Normal] {
            assert_eq!(decide_probe(&unspecified(kind, DIFFERS)), Skip);
            let mut f = unspecified(
                kind,
                ProgramAt::Raises {
                    input_check: false,
                    on_data: false,
                },
            );
            f.false_guards = false;
            assert_eq!(decide_probe(&f), Skip);
            assert_eq!(
                decide_probe(&unspecified(kind, REFUSED)),
                Finding(Verdict::SpuriousGuard, Contract::ShapesSpecRejectsValid)
            );
        }
    }

    /// What only the source decides: a generated case promised eager runs, a user's model
    /// only runs where it runs.
    #[test]
    fn what_only_the_source_of_a_probe_decides() {
        use ProbeCall::*;
        let fails = |source| base(source, ProbeKind::Normal, EagerAt::Fails, DIFFERS);
        assert_eq!(decide_probe(&fails(Source::Generated)), EagerFails);
        assert_eq!(decide_probe(&fails(Source::UserModel)), Skip);
        let noisy = EagerAt::Runs {
            repeatable: false,
            finite: true,
        };
        let f = |source| base(source, ProbeKind::Normal, noisy, DIFFERS);
        assert_eq!(decide_probe(&f(Source::Generated)), EagerNotRepeatable);
        assert_eq!(decide_probe(&f(Source::UserModel)), Skip);
        // a user's torch._check on data is the model's intent; a generated case writes none
        let on_data = ProgramAt::Raises {
            input_check: true,
            on_data: true,
        };
        let f = |source| base(source, ProbeKind::Normal, RUNS, on_data);
        assert_eq!(
            decide_probe(&f(Source::UserModel)),
            Finding(Verdict::SpuriousGuard, Contract::ModelIntent)
        );
        assert_eq!(
            decide_probe(&f(Source::Generated)),
            Finding(Verdict::SpuriousGuard, Contract::AvoidableSpecialization)
        );
        // a user's rejection one dim explains is judged per dim, once
        let f = base(Source::UserModel, ProbeKind::Normal, RUNS, REFUSED);
        assert_eq!(decide_probe(&f), Skip);
        // a model asking whether it is exported answers otherwise on purpose
        let mut f = base(Source::UserModel, ProbeKind::Normal, RUNS, DIFFERS);
        f.model_asks_exporting = true;
        assert_eq!(
            decide_probe(&f),
            Finding(Verdict::Divergence, Contract::ModelIntent)
        );
    }

    /// Under ShapesSpec the declared ranges are the promise, 0 and 1 included: inside them a
    /// refusal or another answer is a bug; outside them a size taken is one, and a refusal
    /// is the promise kept.
    #[test]
    fn shapes_spec_probes_are_held_to_the_declared_ranges() {
        use ProbeCall::*;
        let shapes = |kind, program, inside| ProbeFacts {
            declared: Some(inside),
            additional: false,
            ..base(Source::Generated, kind, RUNS, program)
        };
        assert_eq!(
            decide_probe(&shapes(ProbeKind::Edge, DIFFERS, true)),
            Finding(Verdict::Divergence, Contract::SilentDivergence)
        );
        for kind in [ProbeKind::Edge, ProbeKind::Normal, ProbeKind::Region] {
            assert_eq!(
                decide_probe(&shapes(kind, REFUSED, true)),
                Finding(Verdict::SpuriousGuard, Contract::ShapesSpecRejectsValid),
                "{kind:?}"
            );
        }
        assert_eq!(
            decide_probe(&shapes(ProbeKind::Normal, REFUSED, false)),
            Skip
        );
        assert_eq!(
            decide_probe(&shapes(
                ProbeKind::Normal,
                ProgramAt::Runs {
                    matches: Some(true)
                },
                false
            )),
            Finding(Verdict::Divergence, Contract::ShapesSpecRangeUnchecked)
        );
        // eager failing outside the ranges (or at 0/1) was never promised
        let mut f = shapes(ProbeKind::Normal, REFUSED, false);
        f.eager = EagerAt::Fails;
        assert_eq!(decide_probe(&f), Skip);
    }

    #[test]
    fn constraint_violations_and_export_errors_by_rule() {
        use Contract::*;
        assert_eq!(
            decide_constraint_violation(Some(true), None, false, false),
            AvoidableSpecialization
        );
        assert_eq!(
            decide_constraint_violation(Some(false), None, false, false),
            TraceRegion
        );
        assert_eq!(
            decide_constraint_violation(None, Some(true), false, false),
            SpuriousConstraintViolation
        );
        assert_eq!(
            decide_constraint_violation(None, Some(true), true, false),
            SpecBeyondModel
        );
        assert_eq!(
            decide_constraint_violation(None, Some(true), false, true),
            TraceRegion
        );
        assert_eq!(
            decide_constraint_violation(None, None, false, false),
            AvoidableSpecialization
        );
        assert_eq!(
            decide_export_error("data_dependent", true, false, false),
            DataDependentBranch
        );
        assert_eq!(
            decide_export_error("data_dependent", false, false, false),
            DataDependentInOp
        );
        assert_eq!(
            decide_export_error("internal", false, true, false),
            UnsupportedOnSymbolic
        );
        assert_eq!(
            decide_export_error("internal", false, false, true),
            ApiArgumentError
        );
        assert_eq!(
            decide_export_error("internal", false, false, false),
            InternalError
        );
        assert!(is_api_argument_check(
            Some("torch/_higher_order_ops/cond.py in _validate_input"),
            "RuntimeError"
        ));
        assert!(!is_api_argument_check(
            Some("torch/fx/experimental/symbolic_shapes.py in solve"),
            "AssertionError"
        ));
    }

    #[test]
    fn assertions_on_data_values_are_told_from_size_guards() {
        assert_eq!(
            unbacked_assertion(
                "RuntimeError: Runtime assertion failed for expression u0 >= 2 on node 'ge'"
            )
            .as_deref(),
            Some("u0 >= 2")
        );
        assert!(
            unbacked_assertion("Runtime assertion failed for expression Eq(s77, u0) on node 'eq'")
                .is_none()
        );
        assert!(unbacked_assertion("Guard failed: x.size()[0] == 2").is_none());
    }

    #[test]
    fn a_fix_that_fails_only_on_guards_no_dim_can_state_is_no_failed_fix() {
        let fix = |message: &str| super::super::protocol::FixInfo {
            suggested: "Suggested fixes:\n  s0 = Dim('s0', min=3)".into(),
            refined: None,
            export_ok: Some(false),
            error: Some(ErrorInfo {
                ty: "UserError".into(),
                message: message.into(),
                kind: Some("constraint_violation".into()),
                ..Default::default()
            }),
            stage: Some("export".into()),
        };
        let ne = "Constraints violated (s0)!\n  - Not all values of s0 = L['x'].size()[0] in the specified range s0 >= 3 satisfy the generated guard L['x'].size()[0] != 100.";
        assert!(left_only_inexpressible(&fix(ne)));
        let two = "Constraints violated (s0, s1)!\n  - Not all values of s1 satisfy the generated guard L['x'].size()[0] <= L['y'].size()[0].";
        assert!(left_only_inexpressible(&fix(two)));
        let range = "Constraints violated (s0)!\n  - Not all values of s0 = L['x'].size()[0] in the specified range satisfy the generated guard L['x'].size()[0] <= 6.";
        assert!(
            !left_only_inexpressible(&fix(range)),
            "a max= would state it"
        );
        let more = format!("{ne}\nSuggested fixes:\n  s0 = Dim('s0', max=99)");
        assert!(
            !left_only_inexpressible(&fix(&more)),
            "torch suggested again"
        );
    }
}

#[cfg(test)]
mod compile_tests {
    use super::*;

    fn probe(s0: i64, recompiles: u32) -> ProbeInfo {
        serde_json::from_value(serde_json::json!({
            "sizes": {"s0": s0}, "kind": "normal",
            "eager": {"ok": true}, "exported": {"ok": true, "recompiles": recompiles},
            "match": true, "detail": null,
        }))
        .expect("a probe as the worker writes it")
    }

    /// A recompile is the compile backend's finding only at sizes the ShapesSpec declares:
    /// `shapes_range` declares s0 in [0, 10].
    #[test]
    fn a_recompile_is_a_finding_only_inside_the_declared_ranges() {
        let case = Case::from_json(
            include_str!("../../corpus/seeds/shapes_range.json"),
            "shapes_range",
        )
        .expect("seed loads");
        let rendered = crate::render::render(&case);
        let truth = Truth::of(&case);
        let cx = Ctx {
            case: &case,
            rendered: &rendered,
            truth: &truth,
        };
        let f = compile_recompiled(&cx, Backend::Compile, &probe(7, 1)).expect("a finding at 7");
        assert_eq!(f.contract, Some(Contract::CompileRecompiles));
        assert_eq!(f.contract.map(Contract::class), Some(Class::Bug));
        assert!(f.message.contains("s0 in [0, 10]"), "{}", f.message);
        // outside the range a recompile (or a refusal) is what the spec asks
        assert!(compile_recompiled(&cx, Backend::Compile, &probe(11, 1)).is_none());
        // a call that compiled nothing, and another backend, make none
        assert!(compile_recompiled(&cx, Backend::Compile, &probe(7, 0)).is_none());
        assert!(compile_recompiled(&cx, Backend::Aoti, &probe(7, 1)).is_none());
    }
}
