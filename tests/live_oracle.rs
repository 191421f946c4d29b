//! Live tests: real torch 2.15 through the worker pool. The Python environment is created
//! on first use (shapefuzz's own venv, cached by requirements hash); these tests never skip.

mod common;

use common::{env, pool, seed};
use serde_json::json;
use shapefuzz::ir::{Case, DimSpec};
use shapefuzz::oracle::{
    self, Backend, CheckResult, Class, Contract, Outcome, Pool, PoolConfig, Truth, Verdict,
};
use std::time::Duration;

fn check(case: &Case) -> CheckResult {
    oracle::check(pool(), case, Backend::Export)
}

fn has(r: &CheckResult, v: Verdict, needle: &str) -> bool {
    r.findings
        .iter()
        .any(|f| f.verdict == v && f.message.contains(needle))
}

#[test]
fn seed_pad_with_auto_loses_y_and_guards_on_it() {
    let case = seed("seed_pad.json");
    let r = check(&case);
    assert_eq!(r.verdict, Verdict::LostDim, "{r:#?}");
    // y is free and every size takes the same Python path: a portability finding.
    assert_eq!(
        r.contract(),
        Some(Contract::AvoidableSpecialization),
        "{r:#?}"
    );
    assert_eq!(r.class(), Some(Class::Portability));
    let lost = r
        .findings
        .iter()
        .find(|f| f.verdict == Verdict::LostDim)
        .unwrap();
    assert_eq!((lost.input.as_deref(), lost.dim), (Some("y"), Some(0)));
    assert!(lost.message.contains("pins s1 to 2"), "{}", lost.message);
    // The probe with y of length 3 is refused by the guard torch added.
    let at_y3 = r
        .findings
        .iter()
        .find(|f| {
            f.verdict == Verdict::SpuriousGuard && f.probe.as_ref().is_some_and(|p| p[1] == 3)
        })
        .unwrap_or_else(|| panic!("no spurious_guard at y=3: {r:#?}"));
    assert!(
        at_y3.message.contains("y.size()[0] == 2"),
        "{}",
        at_y3.message
    );
    let cause = r.cause().expect("cause traced");
    assert_eq!(cause.op.as_deref(), Some("append_value"));
    assert_eq!(cause.spelling.as_deref(), Some("pad"));
    assert_eq!(
        case.nodes[cause.node.unwrap() as usize].tag(),
        "append_value"
    );
    assert_eq!(cause.site.as_deref(), Some("torch/nn/functional.py in pad"));
    // The 0/1 probes are judged and recorded: y of size 0/1 is rejected (expected).
    assert!(r.edge.iter().any(|e| e.outcome() == "rejected"), "{r:#?}");
}

#[test]
fn seed_pad_with_dynamic_is_a_constraint_violation() {
    let mut case = seed("seed_pad.json");
    for i in &mut case.inputs {
        for d in &mut i.dims {
            d.spec = DimSpec::Dynamic;
        }
    }
    let r = check(&case);
    assert_eq!(r.verdict, Verdict::ExportError, "{r:#?}");
    assert_eq!(r.kind(), Some("constraint_violation"), "{r:#?}");
    assert!(
        r.message().contains("Constraints violated"),
        "{}",
        r.message()
    );
    // DYNAMIC kept its promise (it raised); the specialization is the model's avoidable one.
    assert_eq!(
        r.contract(),
        Some(Contract::AvoidableSpecialization),
        "{r:#?}"
    );
    assert_eq!(
        r.cause().and_then(|c| c.op.clone()).as_deref(),
        Some("append_value")
    );
}

#[test]
fn seed_cat_spelling_passes() {
    let r = check(&seed("seed_cat.json"));
    assert_eq!(r.verdict, Verdict::Pass, "{r:#?}");
    assert!(r.findings.is_empty());
}

#[test]
fn one_hot_num_classes_from_a_size_loses_the_dim() {
    let r = check(&seed("one_hot.json"));
    assert_eq!(r.verdict, Verdict::LostDim, "{r:#?}");
    assert!(has(&r, Verdict::LostDim, "x.size(0)"), "{r:#?}");
    assert!(
        has(&r, Verdict::SpuriousGuard, "x.size()[0] == 3"),
        "{r:#?}"
    );
    assert_eq!(r.class(), Some(Class::Portability), "{r:#?}");
    assert_eq!(r.cause().and_then(|c| c.op.as_deref()), Some("one_hot"));
}

#[test]
fn int_of_half_a_size_pins_or_narrows_it() {
    // pytorch issue 138853: reshape(int(x.shape[0] / 2), -1).
    let r = check(&seed("int_div.json"));
    assert_eq!(r.verdict, Verdict::LostDim, "{r:#?}");
    assert!(
        r.findings
            .iter()
            .any(|f| f.verdict == Verdict::SpuriousGuard),
        "{r:#?}"
    );
    assert_eq!(r.class(), Some(Class::Portability), "{r:#?}");
    let cause = r.cause().expect("cause traced");
    assert_eq!(cause.op.as_deref(), Some("round.int"), "{cause:?}");
}

#[test]
fn branch_on_a_size_narrows_the_range_to_the_trace_region() {
    let case = seed("branch.json");
    let r = check(&case);
    assert_eq!(r.verdict, Verdict::LostDim, "{r:#?}");
    // Python decides on the size: torch keeps the traced path, as documented.
    assert_eq!(r.contract(), Some(Contract::TraceRegion), "{r:#?}");
    assert_eq!(r.class(), Some(Class::Expected));
    assert!(has(&r, Verdict::LostDim, "accepts s0 in 2..=4"), "{r:#?}");
    let at6 = r
        .findings
        .iter()
        .find(|f| f.verdict == Verdict::SpuriousGuard && f.probe.as_deref() == Some(&[6][..]))
        .unwrap_or_else(|| panic!("no spurious_guard at 6: {r:#?}"));
    assert!(at6.message.contains("<= 4"), "{}", at6.message);
    // Probes on the export side of the branch still run.
    assert!(
        !r.findings
            .iter()
            .any(|f| f.probe.as_deref() == Some(&[4][..]))
    );
    let cause = r.cause().expect("cause traced");
    assert_eq!(cause.op.as_deref(), Some("if"), "{cause:?}");
    assert_eq!(cause.site.as_deref(), Some("model in forward"), "{cause:?}");
}

#[test]
fn strict_backend_runs_too() {
    let r = oracle::check(pool(), &seed("seed_cat.json"), Backend::ExportStrict);
    assert_eq!(r.verdict, Verdict::Pass, "{r:#?}");
}

#[test]
fn generated_cases_are_valid_in_eager() {
    // The generator promises eager accepts every case at every normal probe.
    let mut invalid = vec![];
    for s in 0..24 {
        let case = shapefuzz::cli::generate(1000 + s, true);
        let r = check(&case);
        if r.verdict == Verdict::Invalid || r.findings.iter().any(|f| f.verdict == Verdict::Invalid)
        {
            invalid.push((1000 + s, r.message().to_string()));
        }
    }
    assert!(invalid.is_empty(), "invalid generated cases: {invalid:#?}");
}

fn fault_pool() -> Pool {
    fault_pool_forking(true)
}

/// A pool with fault hooks whose workers are forked from a zygote, or spawned each.
fn fault_pool_forking(zygote: bool) -> Pool {
    let cfg = PoolConfig {
        jobs: 1,
        timeout: Duration::from_secs(20),
        zygote,
        test_hooks: true,
        ..Default::default()
    };
    Pool::new(env(), cfg).expect("workers start")
}

#[test]
fn forked_and_spawned_workers_report_a_crash_and_are_replaced_alike() {
    use std::sync::atomic::Ordering::Relaxed;
    for zygote in [true, false] {
        let pool = fault_pool_forking(zygote);
        assert_eq!(pool.zygote_pid().is_some(), zygote);
        let before = pool.pids();
        match pool.request(json!({"cmd": "test_crash"})) {
            Outcome::Crash { status, .. } => assert_eq!(status, "killed by signal 9"),
            other => panic!("expected a crash, got {other:?}"),
        }
        let r = oracle::check(&pool, &seed("seed_cat.json"), Backend::Export);
        assert_eq!(r.verdict, Verdict::Pass, "{r:#?}");
        assert_ne!(pool.pids(), before);
        let (forked, spawned) = (pool.forked.load(Relaxed), pool.spawned.load(Relaxed));
        assert_eq!((forked, spawned), if zygote { (2, 0) } else { (0, 2) });
    }
}

#[test]
fn a_zygote_that_runs_a_thread_refuses_to_fork_and_workers_are_spawned() {
    use std::sync::atomic::Ordering::Relaxed;
    let cfg = PoolConfig {
        jobs: 1,
        timeout: Duration::from_secs(20),
        zygote: true,
        warm: Some(json!({"test_thread": true})),
        test_hooks: true,
        ..Default::default()
    };
    let pool = Pool::new(env(), cfg).expect("workers start");
    assert_eq!(
        (pool.forked.load(Relaxed), pool.spawned.load(Relaxed)),
        (0, 1)
    );
    let r = oracle::check(&pool, &seed("seed_cat.json"), Backend::Export);
    assert_eq!(r.verdict, Verdict::Pass, "{r:#?}");
}

#[test]
fn a_zygote_killed_from_outside_is_replaced_and_the_request_in_hand_is_not_charged() {
    use std::sync::atomic::Ordering::Relaxed;
    let pool = fault_pool();
    let zygote = pool.zygote_pid().expect("workers come from a zygote");
    let worker = pool.pids()[0];
    let _ = std::process::Command::new("kill")
        .args(["-9", &zygote.to_string()])
        .status();
    // Its worker follows it (the parent watch looks every 0.5 s).
    let t = std::time::Instant::now();
    while std::path::Path::new(&format!("/proc/{worker}/cmdline")).exists()
        && std::fs::read(format!("/proc/{worker}/cmdline")).is_ok_and(|c| !c.is_empty())
        && t.elapsed() < Duration::from_secs(10)
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    match pool.request(json!({"cmd": "ping"})) {
        Outcome::Reply { value, .. } => assert_eq!(value["ok"], true),
        other => panic!("the request must run on a worker of a new zygote, got {other:?}"),
    }
    assert_eq!(pool.zygote_starts.load(Relaxed), 2);
    assert_ne!(pool.zygote_pid(), Some(zygote));
    assert_eq!(pool.spawned.load(Relaxed), 0);
}

#[test]
fn a_worker_killed_mid_case_is_a_crash_and_the_pool_carries_on() {
    let pool = fault_pool();
    let before = pool.pids();
    match pool.request(json!({"cmd": "test_crash"})) {
        Outcome::Crash { status, .. } => assert!(status.contains("signal 9"), "{status}"),
        other => panic!("expected a crash, got {other:?}"),
    }
    // The verdict a campaign records for it.
    let case = seed("seed_cat.json");
    let rendered = shapefuzz::render::render(&case);
    let crash = Outcome::Crash {
        status: "killed by signal 9".into(),
        stderr_tail: "boom".into(),
    };
    assert_eq!(
        oracle::judge(&case, &rendered, Backend::Export, &Truth::of(&case), &crash).verdict,
        Verdict::Crash
    );
    // A fresh worker takes the next case.
    let r = oracle::check(&pool, &case, Backend::Export);
    assert_eq!(r.verdict, Verdict::Pass, "{r:#?}");
    assert_ne!(pool.pids(), before);
}

#[test]
fn a_case_that_outlives_the_timeout_is_a_hang() {
    let cfg = PoolConfig {
        jobs: 1,
        timeout: Duration::from_secs(3),
        test_hooks: true,
        ..Default::default()
    };
    let pool = Pool::new(env(), cfg).expect("workers start");
    let t = std::time::Instant::now();
    match pool.request(json!({"cmd": "test_hang"})) {
        Outcome::Hang { after, .. } => assert!(after >= Duration::from_secs(3)),
        other => panic!("expected a hang, got {other:?}"),
    }
    assert!(t.elapsed() < Duration::from_secs(20));
    // The count the campaign's last line reports as killed workers.
    assert_eq!(pool.kills.load(std::sync::atomic::Ordering::Relaxed), 1);
    let case = seed("seed_cat.json");
    let rendered = shapefuzz::render::render(&case);
    let hang = Outcome::Hang {
        after: Duration::from_secs(3),
        stderr_tail: String::new(),
    };
    assert_eq!(
        oracle::judge(&case, &rendered, Backend::Export, &Truth::of(&case), &hang).verdict,
        Verdict::Hang
    );
    assert!(matches!(
        pool.request(json!({"cmd": "ping"})),
        Outcome::Reply { .. }
    ));
}

#[test]
fn fault_hooks_are_off_in_a_normal_pool() {
    match pool().request(json!({"cmd": "test_crash"})) {
        Outcome::Reply { value, .. } => assert_eq!(value["ok"], false),
        other => panic!("a normal worker must refuse test hooks, got {other:?}"),
    }
}

#[test]
fn workers_are_recycled() {
    let cfg = PoolConfig {
        jobs: 1,
        recycle_after: 2,
        ..Default::default()
    };
    let pool = Pool::new(env(), cfg).expect("workers start");
    let first = pool.pids();
    for _ in 0..2 {
        assert!(matches!(
            pool.request(json!({"cmd": "ping"})),
            Outcome::Reply { .. }
        ));
    }
    // The retired worker is replaced on the next request.
    assert!(matches!(
        pool.request(json!({"cmd": "ping"})),
        Outcome::Reply { .. }
    ));
    assert_ne!(pool.pids(), first);
}

/// The torch bugs the contract must call bugs, each with the promise it breaks.
/// A silently wrong answer at size 0/1: the author's note (torch's documented design),
/// first among them, with its own outcome.
fn assert_zero_one_note(r: &CheckResult, op: Option<&str>) {
    assert_eq!(r.class(), Some(Class::Portability), "{r:#?}");
    assert_eq!(
        r.contract(),
        Some(Contract::SilentDivergenceAtZeroOne),
        "{r:#?}"
    );
    if let Some(op) = op {
        assert_eq!(r.cause().and_then(|c| c.op.as_deref()), Some(op), "{r:#?}");
    }
    assert!(
        r.signature()
            .unwrap()
            .starts_with("export/portability/silent-divergence-at-0-1/"),
        "{r:#?}"
    );
}

fn assert_bug(r: &CheckResult, contract: Contract, op: Option<&str>) {
    assert_eq!(r.class(), Some(Class::Bug), "{r:#?}");
    assert_eq!(r.contract(), Some(contract), "{r:#?}");
    if let Some(op) = op {
        assert_eq!(r.cause().and_then(|c| c.op.as_deref()), Some(op), "{r:#?}");
    }
    assert!(
        r.signature()
            .unwrap()
            .starts_with(&format!("export/bug/{}/", contract.name())),
        "{r:#?}"
    );
}

#[test]
fn an_internal_solver_assertion_is_a_bug_not_a_user_error() {
    // pytorch/pytorch#121286: a named Dim and `if 2*n >= 7` reach an AssertionError in
    // DimConstraints.prettify_results instead of a constraint violation with a fix.
    let r = check(&seed("prettify_internal.json"));
    assert_eq!(r.verdict, Verdict::ExportError, "{r:#?}");
    assert_eq!(r.kind(), Some("internal"));
    assert_bug(&r, Contract::InternalError, Some("if"));
    let site = r.cause().and_then(|c| c.site.clone()).unwrap_or_default();
    assert!(site.ends_with("in prettify_results"), "{site}");
    assert!(
        r.traceback
            .as_deref()
            .is_some_and(|t| t.contains("prettify_results")
                && !t.contains("/tmp/")
                && !t.contains("site-packages")),
        "{:?}",
        r.traceback
    );
}

#[test]
fn dynamic_pinned_through_a_float_guard_without_an_error_is_a_bug() {
    // `torch.as_tensor(x.shape[0] / 2)` adds `s/2 == 2.5`: one size left, no error.
    let r = check(&seed("dynamic_float_pin.json"));
    assert_eq!(r.verdict, Verdict::LostDim, "{r:#?}");
    assert_bug(&r, Contract::DynamicSpecializedSilently, Some("to_tensor"));
}

#[test]
fn a_constraint_violation_for_guards_that_always_hold_is_a_bug() {
    // `torch.chunk(x, 1)` with a named Dim: torch cannot prove `(2n-1)//n == 1` and
    // suggests specializing n, although the guard holds for every n.
    let r = check(&seed("chunk_one_named.json"));
    assert_eq!(r.kind(), Some("constraint_violation"), "{r:#?}");
    assert_bug(&r, Contract::SpuriousConstraintViolation, Some("chunk"));
    assert!(
        r.fix.as_deref().is_some_and(|f| f.contains("s0 = 5")),
        "{:?}",
        r.fix
    );
}

#[test]
fn named_dims_related_by_a_product_are_checked_at_run_time_by_design() {
    // `x.new_tensor([math.floor(x.numel() / 2)])` with named Dims: a guard on s0*s1, which
    // torch deliberately checks at run time instead of raising (PR #124949, #130775).
    let case = seed("named_product_new_tensor.json");
    let r = check(&case);
    // The specialization itself (new_tensor of a size) is the model's, and avoidable.
    assert_eq!(
        r.contract(),
        Some(Contract::AvoidableSpecialization),
        "{r:#?}"
    );
    assert_eq!(r.class(), Some(Class::Portability));
    assert_eq!(r.cause().and_then(|c| c.op.as_deref()), Some("to_tensor"));
}

#[test]
fn a_branch_on_size_below_2_accepted_at_size_1_is_a_silent_divergence_the_author_rules_out() {
    // `if v1 < 2:` is traced as False; the program does not check that sizes are >= 2, so a
    // size-1 input runs the other arm and returns another result than eager.
    let case = seed("zero_one_branch.json");
    let r = check(&case);
    assert_eq!(r.verdict, Verdict::Divergence, "{r:#?}");
    assert_zero_one_note(&r, Some("compare"));
    assert!(r.edge.iter().any(|e| e.outcome() == "differs"), "{r:#?}");
    let probe = r.primary().and_then(|f| f.probe.clone()).unwrap();
    assert!(probe.contains(&1) || probe.contains(&0), "{probe:?}");
}

#[test]
fn dynamic_pinned_by_split_arithmetic_without_an_error_is_a_bug() {
    // `torch.split(x, 2)` at 8: the guards `(s+1)//2 == 4` and `s >= 8` leave one size, and
    // export raises nothing (a named Dim with the same guards does).
    let r = check(&seed("dynamic_split.json"));
    assert_bug(&r, Contract::DynamicSpecializedSilently, Some("split"));
}

#[test]
fn a_python_int_input_asked_dynamic_stays_dynamic_and_is_swept() {
    // `forward(self, x, y)` with `y: int` specified `Dim.DYNAMIC` (non-strict export supports
    // it since PR #150198): the program keeps y symbolic and matches eager at every size it
    // accepts, which the sweep runs through.
    let r = check(&seed("int_input_dynamic.json"));
    assert_eq!(r.verdict, Verdict::Pass, "{r:#?}");
    let y = r.dims.iter().find(|d| d.input == "y").expect("y reported");
    assert_eq!(y.label, "y (an int input)");
    assert!(y.kept.starts_with("dynamic"), "{y:#?}");
    assert_eq!(y.accepts, "2..", "{y:#?}");
    // Both symbols swept over their accepted sizes, and the export sizes themselves.
    assert!(r.swept >= 20, "{r:#?}");
    assert_eq!(r.swept, r.swept_matching, "{r:#?}");
}

#[test]
fn a_size_xor_left_for_the_verifier_is_an_internal_error_of_the_xor() {
    // `x.shape[0] ^ 1`: tracing keeps `operator.xor`, which export's own verifier then
    // rejects ("not an allowed operator type") instead of tracing or refusing it up front.
    // The verifier runs after tracing, so the culprit comes from the operator's name.
    let r = check(&seed("xor_verifier.json"));
    assert_eq!(r.verdict, Verdict::ExportError, "{r:#?}");
    assert_bug(&r, Contract::InternalError, Some("int.xor"));
}

#[test]
fn a_min_torch_folds_for_sizes_of_2_is_the_culprit_of_a_0_1_divergence() {
    // `min(x.shape[0], 1)` is folded to 1 (size symbols are positive), so at x=[0] the
    // program fills 1 where eager fills 0: the min is the decision that differs, not the
    // tensor ops around it.
    let r = check(&seed("folded_min.json"));
    assert_eq!(r.verdict, Verdict::Divergence, "{r:#?}");
    assert_zero_one_note(&r, Some("int.min"));
}

#[test]
fn sym_ite_keeps_both_arms_and_the_size_dynamic() {
    // `torch.sym_ite(n > 6, n // 2, n + 1)` sizing `torch.zeros`: export traces the choice
    // without a guard, so the dim stays dynamic on both sides of 6 (the trace region is every
    // size) and the program matches eager wherever it is swept.
    let r = check(&seed("sym_ite_piecewise.json"));
    assert_eq!(r.verdict, Verdict::Pass, "{r:#?}");
    let x = &r.dims[0];
    assert!(x.kept.starts_with("dynamic"), "{x:#?}");
    assert_eq!(x.accepts, "2..", "{x:#?}");
    assert!(r.swept >= 10, "{r:#?}");
    assert_eq!(r.swept, r.swept_matching, "{r:#?}");
}

#[test]
fn max_pool_with_ceil_mode_pins_a_dynamic_length() {
    // `F.max_pool1d(x, 2, stride=3, padding=1, ceil_mode=True)`: the output length has a
    // closed form (a min of two floor divisions), but torch's pooling shape function branches
    // on it and pins the length; with Dim.DYNAMIC export says so (a constraint violation).
    // Nothing in the model's Python forces it: portability, blamed on the pool.
    let r = check(&seed("pool_ceil_mode.json"));
    assert_eq!(r.verdict, Verdict::ExportError, "{r:#?}");
    assert_eq!(r.kind(), Some("constraint_violation"));
    assert_eq!(r.class(), Some(Class::Portability), "{r:#?}");
    assert_eq!(
        r.cause().and_then(|c| c.op.as_deref()),
        Some("max_pool1d"),
        "{r:#?}"
    );
}

#[test]
fn a_list_of_ints_input_keeps_each_element_dynamic() {
    // `forward(self, x, y)` with `y: list[int]` specified `[Dim.AUTO, Dim.AUTO]`: export
    // flattens the list into one symbol per element; the report names them `y[0]`, `y[1]`
    // and the guards' accepted sizes are scanned with the list flattened the same way.
    let r = check(&seed("int_list_input.json"));
    assert_eq!(r.verdict, Verdict::Pass, "{r:#?}");
    for (d, label) in [
        (1, "y[0] (an int list input)"),
        (2, "y[1] (an int list input)"),
    ] {
        let y = &r.dims[d];
        assert_eq!(y.label, label);
        assert!(y.kept.starts_with("dynamic"), "{y:#?}");
        assert_eq!(y.accepts, "2..", "{y:#?}");
    }
    assert_eq!(r.swept, r.swept_matching, "{r:#?}");
}

#[test]
fn a_dim_hint_on_a_bool_input_is_an_internal_assertion() {
    // torch refuses `Dim.AUTO` on a float input with a user error naming the input ("expected
    // None"): that is `expected`. On a bool (an int subclass) it reaches an internal
    // AssertionError in SymNode instead: a bug.
    let r = check(&seed("bool_input_hint.json"));
    assert_eq!(r.verdict, Verdict::ExportError, "{r:#?}");
    assert_bug(&r, Contract::InternalError, None);
    let site = r.cause().and_then(|c| c.site.clone()).unwrap_or_default();
    assert!(site.ends_with("sym_node.py in __init__"), "{site}");
}

#[test]
fn tied_dynamic_dims_narrowed_apart_are_not_a_pin() {
    // x = (s, s, s), each dim its own Dim.DYNAMIC: `math.sqrt(x.shape[1] | 1)` as a tensor
    // narrows dim 1 to {4, 5} and the slice `x[:, :, 0:4]` dim 2 to sizes other than 4.
    // Moved together the dims meet only at 5, but no dim accepts a single size: the
    // narrowing is the model's float-to-tensor spelling, not a silent Dim.DYNAMIC pin.
    let r = check(&seed("tied_dynamic_dims_apart.json"));
    assert_eq!(r.verdict, Verdict::LostDim, "{r:#?}");
    assert_ne!(r.class(), Some(Class::Bug), "{r:#?}");
    assert_eq!(
        r.contract(),
        Some(Contract::AvoidableSpecialization),
        "{r:#?}"
    );
}

#[test]
fn a_min_folded_through_a_decided_if_expression_is_still_the_culprit() {
    // `min(3 * (x.dim() if n < 0 else n), 4)`: `n < 0` is False for every size, so torch
    // traces `min(3n, 4)` and folds it to 4; at n = 1 eager gives 3. The min is the culprit
    // although its input passes through the if-expression.
    let r = check(&seed("folded_min_through_if_expr.json"));
    assert_eq!(r.verdict, Verdict::Divergence, "{r:#?}");
    assert_zero_one_note(&r, Some("int.min"));
}

#[test]
fn conv_same_padding_with_a_size_kernel_keeps_only_odd_kernels() {
    // `F.conv1d(x, w, padding='same', groups=C)` with a kernel of `sym_max(n, x.dim())`
    // taps: torch pads symmetrically only when the kernel is odd and guards on that parity,
    // so the program accepts odd n only. Dim.AUTO may narrow; spelling the padding out
    // avoids it, so it is the model's portability issue, charged to the conv.
    let r = check(&seed("conv_same_symbolic_kernel.json"));
    assert_eq!(r.verdict, Verdict::LostDim, "{r:#?}");
    assert_eq!(r.class(), Some(Class::Portability), "{r:#?}");
    assert_eq!(
        r.cause().and_then(|c| c.op.as_deref()),
        Some("conv1d.depthwise")
    );
    assert!(r.dims[0].accepts.starts_with("3, 5, 7"), "{:#?}", r.dims[0]);
}

#[test]
fn new_empty_a_rank_changing_branch_and_bincount_stay_dynamic() {
    // `v.new_empty((n,)).fill_(k)`, `if c: t = a (1-d) else: t = b (0-d)` then
    // `t.flatten()`, and `torch.bincount(x.flatten(), minlength=n)`: eager runs every probe,
    // the program keeps every dim dynamic and matches eager wherever it is swept.
    let r = check(&seed("new_empty_select_flat_bincount.json"));
    assert_eq!(r.verdict, Verdict::Pass, "{r:#?}");
    assert!(r.dims.iter().take(2).all(|d| d.accepts == "2.."), "{r:#?}");
    assert!(r.swept >= 20 && r.swept == r.swept_matching, "{r:#?}");
}

#[test]
fn a_worker_killed_from_outside_is_retried_not_a_finding() {
    // The worker is killed by someone else while it checks a case: the case runs again on
    // another worker, and its verdict is the case's own, not a torch crash.
    let pool = fault_pool();
    let pid = pool.pids()[0];
    let killer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        let _ = std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status();
    });
    let r = oracle::check(&pool, &seed("seed_cat.json"), Backend::Export);
    killer.join().unwrap();
    assert_eq!(r.verdict, Verdict::Pass, "{r:#?}");
}

#[test]
fn bytes_that_are_not_utf8_on_the_channel_do_not_kill_a_healthy_worker() {
    let pool = fault_pool();
    let before = pool.pids();
    match pool.request(json!({"cmd": "test_garbage"})) {
        Outcome::Reply { value, .. } => assert_eq!(value["ok"], true),
        other => panic!("expected the worker's reply, got {other:?}"),
    }
    assert_eq!(pool.pids(), before, "the worker was replaced");
}

#[test]
fn a_worker_past_its_memory_limit_is_stopped_with_an_oom_verdict() {
    let cfg = PoolConfig {
        jobs: 1,
        timeout: Duration::from_secs(60),
        memory_limit: 2 << 30,
        test_hooks: true,
        ..Default::default()
    };
    let pool = Pool::new(env(), cfg).expect("workers start");
    let t = std::time::Instant::now();
    match pool.request(json!({"cmd": "test_oom"})) {
        Outcome::Oom {
            resident, limit, ..
        } => assert!(resident > limit),
        other => panic!("expected an oom, got {other:?}"),
    }
    assert!(t.elapsed() < Duration::from_secs(30));
    // The verdict a campaign records: the harness's bound, not a torch finding.
    let case = seed("seed_cat.json");
    let rendered = shapefuzz::render::render(&case);
    let oom = Outcome::Oom {
        resident: 3 << 30,
        limit: 2 << 30,
        stderr_tail: String::new(),
    };
    let r = oracle::judge(&case, &rendered, Backend::Export, &Truth::of(&case), &oom);
    assert_eq!(r.verdict, Verdict::Oom);
    assert_eq!(r.class(), None);
    // A fresh worker takes the next request.
    assert!(matches!(
        pool.request(json!({"cmd": "ping"})),
        Outcome::Reply { .. }
    ));
}

#[test]
fn a_program_that_passes_its_checks_and_then_raises_is_a_bug() {
    // A pad of `n % 2` and a later `.view`: export drops the `.contiguous()` the view needs,
    // so the exported program accepts the input (no guard fails) and then raises in `view`
    // where eager runs. That is not a rejection of the size but a broken program.
    let r = check(&seed("program_error_pad_parity.json"));
    assert_eq!(r.verdict, Verdict::Divergence, "{r:#?}");
    assert_bug(&r, Contract::ProgramError, None);
    assert!(r.message().contains("passes its input checks"), "{r:#?}");
}

#[test]
fn a_named_range_holding_sizes_the_model_cannot_run_is_rightly_refused() {
    // `narrow(x, 0, 0, max(n, 3))` with `Dim(min=2)`: at n = 2 eager fails too, so the
    // guard `n >= 3` torch reports is right, although it holds wherever eager runs.
    let r = check(&seed("named_range_beyond_model.json"));
    assert_eq!(r.kind(), Some("constraint_violation"), "{r:#?}");
    assert_eq!(r.contract(), Some(Contract::SpecBeyondModel), "{r:#?}");
    assert_eq!(r.class(), Some(Class::Expected));
}

#[test]
fn saved_and_decomposed_backends_judge_the_program_after_their_step() {
    // torch.export.save cannot serialize math.floor of a size: the saved backend's bug,
    // traced to the IR node through the failing node's target
    let floor = seed("seed_floor_numel.json");
    let r = oracle::check(pool(), &floor, Backend::Saved);
    assert_eq!(r.contract(), Some(Contract::BackendError), "{r:?}");
    let sig = r.signature().unwrap();
    assert!(
        sig.starts_with("saved/bug/backend-error/round.floor/torch/_export/serde/"),
        "{sig}"
    );
    assert!(r.message().contains("_SYM_OPS") || r.message().contains("SerializeError"));
    // the same program as exported, and decomposed, is fine
    assert_eq!(
        oracle::check(pool(), &floor, Backend::Export).verdict,
        Verdict::Pass
    );
    let d = oracle::check(pool(), &floor, Backend::Decomposed);
    assert_eq!(d.verdict, Verdict::Pass, "{d:?}");
    // run_decompositions adds a guard (x.size(0) % 8 != 0) the exported program does not
    // have: the decomposed program refuses x=[16], which the exported program runs
    let pad_slice = seed("decomposed_new_guard.json");
    let d = oracle::check(pool(), &pad_slice, Backend::Decomposed);
    assert_eq!(d.contract(), Some(Contract::BackendDisagrees), "{d:?}");
    assert!(
        d.message()
            .contains("where the exported program before it runs and matches eager"),
        "{}",
        d.message()
    );
    assert_ne!(
        oracle::check(pool(), &pad_slice, Backend::Export).class(),
        Some(Class::Bug)
    );
    // the seed's pad model keeps its finding through both steps, and the program after
    // the step agrees with the exported one at every probe
    for b in [Backend::Decomposed, Backend::Saved] {
        let r = oracle::check(pool(), &seed("seed_pad.json"), b);
        assert_eq!(
            r.contract(),
            Some(Contract::AvoidableSpecialization),
            "{b:?}: {r:?}"
        );
        assert!(
            r.signature()
                .unwrap()
                .starts_with(&format!("{}/", b.name()))
        );
        assert!(
            r.findings
                .iter()
                .all(|f| f.contract != Some(Contract::BackendDisagrees))
        );
    }
}

#[test]
fn aoti_judges_the_compiled_program_with_its_input_checks_on() {
    // The pad model: the compiled program refuses y=3 in its own input check, as the
    // exported program does; the finding stays the export's portability.
    let r = oracle::check(pool(), &seed("seed_pad.json"), Backend::Aoti);
    assert_eq!(
        r.contract(),
        Some(Contract::AvoidableSpecialization),
        "{r:?}"
    );
    assert!(r.signature().unwrap().starts_with("aoti/portability/"));
    assert!(
        r.findings
            .iter()
            .any(|f| f.message.contains("unmatched dim value")),
        "{r:?}"
    );
    // A guard that is no range of an input dim (max(x.size(0) % 8, 2) / 4 == 1.25): the
    // exported program checks it, the compiled one even with its checks on does not, and
    // answers wrong.
    let case = seed("aoti_unchecked_guard.json");
    let r = oracle::check(pool(), &case, Backend::Aoti);
    assert_eq!(r.contract(), Some(Contract::BackendDisagrees), "{r:?}");
    assert!(r.message().contains("which the exported program refuses"));
    let e = oracle::check(pool(), &case, Backend::Export);
    assert_ne!(e.class(), Some(Class::Bug), "{e:?}");
}

#[test]
fn onnx_finds_the_seed_documents_silently_wrong_result() {
    // The seed's own world: with Dim.AUTO the pad model's y dim is pinned to 2, the ONNX
    // model declares it as the unchecked dim_param '2', and onnxruntime computes with 2 at
    // any size.
    env().ensure_onnx(true).expect("the onnx backend installs");
    let r = oracle::check(pool(), &seed("seed_pad.json"), Backend::Onnx);
    // the bug: the exporter's declaration, and what it leads to
    assert_eq!(r.contract(), Some(Contract::BackendDisagrees), "{r:?}");
    assert!(
        r.message()
            .contains("y.size(0) is declared as dim_param '2', which onnxruntime does not check")
            && r.message().contains("answers differently from eager"),
        "{}",
        r.message()
    );
    // each wrong answer at a size the exported program refuses, on its own
    assert!(
        r.findings
            .iter()
            .any(|f| f.contract == Some(Contract::BackendUncheckedGuard)
                && f.message.contains("which the exported program refuses")),
        "{r:?}"
    );
    // The cat spelling keeps the dim dynamic, and onnxruntime agrees with eager everywhere.
    let c = oracle::check(pool(), &seed("seed_cat.json"), Backend::Onnx);
    assert_eq!(c.verdict, Verdict::Pass, "{c:?}");
}

#[test]
fn several_backends_in_one_request_judge_as_each_alone_and_inherit_exports_findings() {
    env().ensure_onnx(true).expect("the onnx backend installs");
    let backends = [
        Backend::Export,
        Backend::Decomposed,
        Backend::Saved,
        Backend::Onnx,
    ];
    // a portability finding every step keeps (onnx adds its own bug), a guard only
    // decomposition adds, a save that raises, an export error every backend shares
    for name in [
        "seed_pad.json",
        "decomposed_new_guard.json",
        "seed_floor_numel.json",
        "named_range_beyond_model.json",
    ] {
        let case = seed(name);
        let many = oracle::check_many(pool(), &case, &backends);
        assert_eq!(
            many.iter().map(|r| r.backend).collect::<Vec<_>>(),
            backends.to_vec()
        );
        for r in &many {
            let alone = oracle::check(pool(), &case, r.backend);
            assert_eq!(
                (
                    r.verdict,
                    r.contract(),
                    r.cause().and_then(|c| c.site.clone())
                ),
                (
                    alone.verdict,
                    alone.contract(),
                    alone.cause().and_then(|c| c.site.clone())
                ),
                "{name} on {}: together {r:?}, alone {alone:?}",
                r.backend.name()
            );
            // a backend's group is what its step changed; the rest is export's
            let own = r.backend == Backend::Export
                || r.contract().is_some_and(|c| c.backend_only())
                || r.verdict == Verdict::Pass;
            assert_eq!(
                r.same_as_export,
                !own,
                "{name} on {}: {r:?}",
                r.backend.name()
            );
            assert_eq!(r.signature().is_some(), own && r.verdict != Verdict::Pass);
        }
    }
    let pad = oracle::check_many(pool(), &seed("seed_pad.json"), &backends);
    assert_eq!(pad[0].class(), Some(Class::Portability));
    assert!(pad[1].same_as_export && pad[2].same_as_export);
    assert_eq!(pad[3].contract(), Some(Contract::BackendDisagrees));
    let guard = oracle::check_many(pool(), &seed("decomposed_new_guard.json"), &backends);
    assert_eq!(guard[1].contract(), Some(Contract::BackendDisagrees));
    assert_eq!(guard[0].verdict, Verdict::Pass);
    // A step asked for alone (`--backend saved`) is still judged beside the program it
    // was given: export's portability finding is not filed as saved's, saved's own bug is.
    for b in [Backend::Saved, Backend::Decomposed] {
        let alone = oracle::check_many(pool(), &seed("seed_pad.json"), &[b]);
        assert_eq!(alone.len(), 1);
        assert!(
            alone[0].same_as_export && alone[0].signature().is_none(),
            "{alone:?}"
        );
        let inherited = alone[0].inherited_signature().unwrap();
        assert!(inherited.starts_with("export/portability/"), "{inherited}");
    }
    let floor = oracle::check_on(pool(), &seed("seed_floor_numel.json"), Backend::Saved);
    assert!(!floor.same_as_export);
    let sig = floor.signature().unwrap();
    assert!(sig.starts_with("saved/bug/backend-error/"), "{sig}");
}

#[test]
fn onnxruntime_is_fed_by_position_past_renamed_and_baked_in_inputs() {
    // ONNX names an input returned as is `x_orig`, and a static int input is baked into the
    // program and is no ONNX input: neither may leave onnxruntime without its feed (the
    // harness once fed by name and reported the missing feed as the backend's bug).
    env().ensure_onnx(true).expect("the onnx backend installs");
    let case: Case = serde_json::from_value(json!({
        "schema_version": 1,
        "inputs": [
            {"kind": "int", "dtype": "i64", "dims": [{"size": {"const": 3}, "truth": {"kind": "static"}, "spec": {"kind": "unspecified"}}]},
            {"dtype": "f32", "dims": [{"size": {"sym": 0}, "truth": {"kind": "free"}, "spec": {"kind": "auto"}}]}
        ],
        "nodes": [
            {"op": "scalar_arith", "x": {"input": 1}, "s": {"input": 0}, "f": "mul"}
        ],
        "outputs": [{"input": 1}, {"node": 0}],
        "export": [5],
        "probes": [{"sizes": [4], "edge": false}, {"sizes": [9], "edge": false}]
    }))
    .unwrap();
    assert!(case.validate().is_ok(), "{:?}", case.validate());
    let r = oracle::check(pool(), &case, Backend::Onnx);
    assert_eq!(r.verdict, Verdict::Pass, "{r:?}");
}

/// The fix a 0/1 note gives, on the committed 0/1 record's own model: under ShapesSpec with
/// `ShapeVar(min=2)` the exported program raises at sizes 0 and 1 and matches eager at 2 and
/// more; `torch._check(n >= 2)` in `forward` does not (export drops it), which is why the
/// note never suggests it. If torch changes either, the note must change with it.
#[test]
fn a_zero_one_note_s_fix_rejects_0_1_and_keeps_2() {
    let record = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "corpus/findings/export_portability_silent_divergence_at_0_1_compare_model_25d8caab.json",
    );
    let repro = shapefuzz::repro::Repro::from_record(
        &shapefuzz::corpus::FindingRecord::load(&record).expect("the record loads"),
    );
    let issue = repro.issue(None, None);
    assert!(issue.contains("ShapeVar(\"n\", min=2)"), "{issue}");
    let dir = common::tmp("zero-one-fix");
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("model.py");
    std::fs::write(&script, repro.script()).unwrap();
    let check = r#"
import importlib.util, sys, torch
from torch.fx.experimental.dynamic_spec import ShapesSpec, ParamsSpec, TensorSpec, ShapeVar
spec = importlib.util.spec_from_file_location("m", sys.argv[1])
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
model = m.Model().eval()
def runs(ep, n):
    args = m.make_inputs(n)
    try:
        got = ep.module()(*args)
    except Exception as e:
        return "raises"
    return "equal" if all(torch.allclose(g, e) for g, e in zip(got, model(*args))) else "differs"
shapes = ShapesSpec(params=ParamsSpec({"x": TensorSpec([2, ShapeVar("n", min=2)])}))
fixed = torch.export.export(model, m.make_inputs(4), dynamic_shapes=shapes)
print("shapes", [runs(fixed, n) for n in (0, 1, 2, 3, 9)])
class Checked(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = model
    def forward(self, x):
        torch._check(x.shape[1] >= 2)
        return self.inner(x)
checked = torch.export.export(Checked(), m.make_inputs(4), dynamic_shapes=m.dynamic_shapes)
print("check", [runs(checked, n) for n in (1,)])
"#;
    let o = std::process::Command::new(&env().python)
        .arg("-c")
        .arg(check)
        .arg(&script)
        .output()
        .expect("python runs");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("shapes ['raises', 'raises', 'equal', 'equal', 'equal']"),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        out.contains("check ['differs']"),
        "torch._check(n >= 2) in forward now rejects 0/1: the note can suggest it again\n{out}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// Every bug root cause of the reviewed 6,000-case campaign (seed 20261207; all of them
/// judged genuine or ambiguous by hand, none a false alarm) has a seed in `corpus/seeds`
/// that shows it: listed with its root cause in `tests/data/root_cause_seeds.tsv`. A torch
/// that fixes one, or a change of the oracle that moves one, shows here by name.
#[test]
fn every_reviewed_bug_root_cause_has_a_seed_that_reproduces_it() {
    let table = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/root_cause_seeds.tsv"
    ))
    .unwrap();
    let mut wrong = vec![];
    let mut causes = std::collections::BTreeSet::new();
    for line in table
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let (file, key) = line.split_once('\t').expect("seed<TAB>root cause");
        causes.insert(key.to_string());
        let r = check(&seed(file));
        if r.class() != Some(Class::Bug) || r.root_cause().as_deref() != Some(key) {
            wrong.push(format!(
                "{file}: {:?} {:?}, expected {key}",
                r.class(),
                r.root_cause()
            ));
        }
    }
    assert!(causes.len() >= 17, "{causes:#?}");
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn shapes_spec_keeps_its_promises_on_the_seed_document_s_model_and_a_declared_range() {
    // The seed document's pad under ShapesSpec: export refuses with a data-dependent error
    // inside F.pad instead of pinning y (the promise kept); a note for the author, with the
    // torch.cat respelling verified against eager as the fix.
    let pad = seed("shapes_pad.json");
    let r = oracle::check(pool(), &pad, Backend::Export);
    assert_eq!(r.verdict, Verdict::ExportError, "{r:?}");
    assert_eq!(r.contract(), Some(Contract::DataDependentInOp), "{r:?}");
    assert_eq!(r.class(), Some(Class::Portability));
    let fixed = shapefuzz::triage::find_workaround(pool(), Backend::Export, &pad, &r)
        .expect("the cat spelling exports under ShapesSpec");
    let text = shapefuzz::render::render(&fixed).source;
    assert!(text.contains("torch.cat"), "{text}");
    assert!(text.contains("ShapesSpec("), "{text}");
    // A declared range: sizes outside it are refused (the promise kept: a pass), 0 and 1
    // inside it are taken and match eager, which the Dim API never promises.
    let range = seed("shapes_range.json");
    let r = oracle::check(pool(), &range, Backend::Export);
    assert_eq!(r.verdict, Verdict::Pass, "{r:?}");
    assert_eq!(
        r.edge.iter().map(|e| e.outcome()).collect::<Vec<_>>(),
        ["matches", "matches"],
        "{r:?}"
    );
    assert!(r.dims[0].kept.contains("[0, 10]"), "{:?}", r.dims);
    // The same model with a range that excludes 0/1: those probes are refused, a pass too.
    let mut from_two = range.clone();
    from_two.inputs[0].dims[0].spec = DimSpec::Var {
        min: 2,
        max: Some(10),
    };
    let r = oracle::check(pool(), &from_two, Backend::Export);
    assert_eq!(r.verdict, Verdict::Pass, "{r:?}");
    assert_eq!(
        r.edge.iter().map(|e| e.outcome()).collect::<Vec<_>>(),
        ["rejected", "rejected"]
    );
    // An assumption (`s0 % 2 == 0`) violated at run time: the odd probes, which eager runs,
    // are refused by the program's runtime assertion (a pass); 0 keeps it and matches.
    let assume = seed("shapes_assume.json");
    assert!(!assume.in_declared_ranges(&[5]) && assume.in_declared_ranges(&[4]));
    let r = oracle::check(pool(), &assume, Backend::Export);
    assert_eq!(r.verdict, Verdict::Pass, "{r:?}");
    assert_eq!(
        r.edge.iter().map(|e| e.outcome()).collect::<Vec<_>>(),
        ["matches", "rejected"]
    );
    // A ShapeVar used only inside `s0 * 2`: ShapesSpec's own checks refuse the spec with a
    // ValueError in their words, a spec refused (expected), not an internal error.
    let r = oracle::check(pool(), &seed("shapes_unbound_var.json"), Backend::Export);
    assert_eq!(r.contract(), Some(Contract::SpecRejected), "{r:?}");
    assert!(r.message().contains("bare-IntVar slot"), "{r:?}");
    // Without the assumption torch takes the odd sizes too: the assumption is what refused them.
    let mut free = assume.clone();
    free.assumptions.clear();
    let r = oracle::check(pool(), &free, Backend::Export);
    assert_eq!(r.verdict, Verdict::Pass, "{r:?}");
    assert_eq!(
        r.edge.iter().map(|e| e.outcome()).collect::<Vec<_>>(),
        ["matches", "matches"]
    );
}

/// `--backend compile`: the same model and ShapesSpec through torch.compile (Inductor, CPU),
/// judged beside the exported program. Both seeds come from a campaign with it; each
/// finding was re-run by hand as plain PyTorch (CONTRACT.md, "Backends").
#[test]
fn compile_is_judged_beside_export_on_shapes_spec_cases() {
    let pool = pool();
    // int64 `x + (n & 1)`-style arithmetic: torch.compile answers in float32 where eager
    // and the exported program answer in int64, at every size
    let r = oracle::check_on(pool, &seed("compile_bitand_dtype.json"), Backend::Compile);
    assert_eq!(r.verdict, Verdict::Divergence, "{r:?}");
    assert_eq!(r.contract(), Some(Contract::BackendDisagrees), "{r:?}");
    assert!(
        r.message().contains("torch.int64 vs torch.float32"),
        "{r:?}"
    );
    assert!(!r.same_as_export);
    // a square [s0, s0] int64 input compiled at 17: at size 0 a guard on its stride fails
    // and torch.compile compiles again, though the spec declares 0 (no 0/1 specialization)
    let r = oracle::check_on(
        pool,
        &seed("compile_stride_recompile.json"),
        Backend::Compile,
    );
    assert_eq!(r.contract(), Some(Contract::CompileRecompiles), "{r:?}");
    assert_eq!(r.class(), Some(Class::Bug));
    assert!(r.message().contains("stride"), "{r:?}");
    assert_eq!(r.primary().and_then(|f| f.probe.clone()), Some(vec![0]));
    // a declared range torch.compile keeps: no finding, and the sizes outside it (which
    // compile answers by compiling again) are not judged as the exported program's
    let r = oracle::check_on(pool, &seed("shapes_range.json"), Backend::Compile);
    assert_eq!(r.verdict, Verdict::Pass, "{r:?}");
    // a Dim-API case: torch.compile takes no Dim spec, so the backend does not apply
    let r = oracle::check_on(pool, &seed("seed_pad.json"), Backend::Compile);
    assert_eq!(r.verdict, Verdict::Poisoned, "{r:?}");
    assert!(r.message().contains("does not apply"), "{r:?}");
}

/// `prefer_deferred_runtime_asserts_over_guards=True` (a tenth of swarm `Dim` cases): torch
/// promises a runtime assertion wherever it would have guarded, and the seed's float-derived
/// pin (`int(sym_float(n) - 1.5)` under `Dim.DYNAMIC`) gets neither: the program answers for
/// n = 7 at every n. Without the option the same pin is a guard that refuses other sizes.
#[test]
fn deferred_asserts_are_judged_by_the_rules_of_their_api() {
    let deferred = seed("deferred_drops_float_pin.json");
    let text = shapefuzz::render::render(&deferred).source;
    assert!(
        text.contains("prefer_deferred_runtime_asserts_over_guards"),
        "{text}"
    );
    let r = oracle::check(pool(), &deferred, Backend::Export);
    assert_eq!(r.contract(), Some(Contract::SilentDivergence), "{r:?}");
    // inside the trace region too: at 9 eager gives 7 numbers, the program the traced 5
    assert!(
        r.findings
            .iter()
            .any(|f| f.probe == Some(vec![9]) && f.message.contains("shape (7,) vs (5,)")),
        "{r:?}"
    );
    let mut guarded = deferred.clone();
    guarded.deferred_asserts = false;
    let r = oracle::check(pool(), &guarded, Backend::Export);
    assert_eq!(
        r.contract(),
        Some(Contract::DynamicSpecializedSilently),
        "{r:?}"
    );
}

/// A finding's twin, the same model with its spec in the other API (CONTRACT.md, "Twins"):
/// whether the finding is its API's own or the model's under either API.
#[test]
fn twins_tell_a_spec_api_s_finding_from_the_model_s() {
    use shapefuzz::ir::SpecApi;
    use shapefuzz::triage::check_twin;
    // `topk(x, min(n, 16))` under a named Dim: a constraint violation for a guard that holds
    // on the whole range; written with ShapesSpec the same model exports and matches eager
    // everywhere, and that spec is the rewrite that works.
    let topk = seed("twin_topk_min.json");
    let r = check(&topk);
    assert_eq!(
        r.contract(),
        Some(Contract::SpuriousConstraintViolation),
        "{r:?}"
    );
    let twin = check_twin(pool(), Backend::Export, &topk, &r).expect("a ShapesSpec twin");
    assert_eq!(
        (twin.api, twin.verdict),
        (SpecApi::Shapes, Verdict::Pass),
        "{twin:?}"
    );
    assert_eq!(twin.outcome(), "clean");
    let mut repro = shapefuzz::repro::Repro::from_check(&topk, &r, None, "2.15.0");
    repro.twin = Some(twin);
    let text = repro.twin_text().unwrap();
    assert!(
        text.contains("Under ShapesSpec the same model passes"),
        "{text}"
    );
    assert!(text.contains("s0 = ShapeVar(\"s0\", min=2)"), "{text}");
    // The seed document's pad under ShapesSpec refuses inside F.pad; its Dim twin pins y at
    // the same line: the model's, whichever API exports it.
    let pad = seed("shapes_pad.json");
    let r = check(&pad);
    let twin = check_twin(pool(), Backend::Export, &pad, &r).expect("a Dim twin");
    assert_eq!(twin.api, SpecApi::Dim);
    assert_eq!(twin.outcome(), "same-culprit", "{twin:?}");
    // A backend that is a step on the program, or torch.compile, gets none.
    assert!(check_twin(pool(), Backend::Saved, &pad, &r).is_none());
}

/// A list of ints under ShapesSpec is a `SeqSpec` of ShapeVars (#28's nested specs, for the
/// nested inputs the generator makes): torch keeps each element unbacked with its declared
/// range, takes 0 and 1 inside it, and refuses an element past its `max` (a probe the seed
/// holds: the promise kept, a pass).
#[test]
fn a_list_of_ints_is_a_seq_spec_of_shape_vars() {
    let case = seed("shapes_seq_spec.json");
    let text = shapefuzz::render::render(&case).source;
    assert!(text.contains("\"y\": SeqSpec([s1, s0])"), "{text}");
    let r = check(&case);
    assert_eq!(r.verdict, Verdict::Pass, "{r:?}");
    assert!(r.dims[1].kept.contains("[0, 12]"), "{:?}", r.dims);
    assert_eq!(
        r.edge.iter().map(|e| e.outcome()).collect::<Vec<_>>(),
        ["matches", "matches"],
        "{r:?}"
    );
    // the same list under the Dim API: its elements are Dim.DYNAMIC
    let twin = case
        .in_spec_api(shapefuzz::ir::SpecApi::Dim)
        .expect("a Dim twin");
    let text = shapefuzz::render::render(&twin).source;
    assert!(text.contains("\"y\": [Dim.DYNAMIC, Dim.DYNAMIC]"), "{text}");
}

/// `torch.export.AdditionalInputs` (#28's front-ends): torch infers `Dim.DYNAMIC` where the
/// examples differ and promises the program is verified to take each. The seed's split pins
/// the size in the program's shape guards, which verification does not run: export succeeds
/// and the program refuses the example it verified, a bug. An example the program's input
/// ranges exclude is refused by the verification itself: the promise kept, judged by the
/// trace region like a Dim that raises.
#[test]
fn additional_inputs_are_held_to_their_verification() {
    let case = seed("additional_split_unverified.json");
    assert_eq!(case.spec_api(), shapefuzz::ir::SpecApi::Additional);
    let text = shapefuzz::render::render(&case).source;
    assert!(
        text.contains("examples = torch.export.AdditionalInputs()"),
        "{text}"
    );
    let r = check(&case);
    assert_eq!(
        r.contract(),
        Some(Contract::AdditionalInputUnverified),
        "{r:?}"
    );
    assert_eq!(r.primary().unwrap().probe, Some(vec![10]), "{r:?}");
    let mut refused = case.clone();
    refused.probes.insert(
        0,
        shapefuzz::ir::Probe {
            sizes: vec![3],
            edge: false,
        },
    );
    refused.additional_inputs = vec![vec![3]];
    refused.validate().unwrap();
    let r = check(&refused);
    assert_eq!(
        (r.verdict, r.kind(), r.contract()),
        (
            Verdict::ExportError,
            Some("additional_refused"),
            Some(Contract::TraceRegion)
        ),
        "{r:?}"
    );
}

/// `torch.export.ShapesCollection` (#28's last front-end) assigns the Dim spec tensor by
/// tensor, keyed by the very example inputs, and torch promises the dict it builds: the
/// seed document's pad under a collection is judged exactly as under the dict (the worker
/// hands the module the tensors it exports with), and torch's suggested fixes are applied
/// to the dict the collection stands for.
#[test]
fn a_shapes_collection_is_judged_as_the_dict_it_builds() {
    use shapefuzz::ir::SpecApi;
    let case = seed("collection_pad.json");
    assert_eq!(case.spec_api(), SpecApi::Collection);
    let text = shapefuzz::render::render(&case).source;
    assert!(
        text.contains("spec[inputs[1]] = {0: Dim.AUTO}  # y"),
        "{text}"
    );
    let dict = case.in_spec_api(SpecApi::Dim).expect("a Dim twin");
    let (r, d) = (check(&case), check(&dict));
    assert_eq!(
        r.contract(),
        Some(Contract::AvoidableSpecialization),
        "{r:#?}"
    );
    let same = |r: &CheckResult| {
        let mut f: Vec<(Verdict, Option<Vec<i64>>, String)> = r
            .findings
            .iter()
            .map(|f| (f.verdict, f.probe.clone(), f.message.clone()))
            .collect();
        f.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
        (r.verdict, r.contract(), r.signature(), f)
    };
    assert_eq!(same(&r), same(&d));
    for name in ["rc_fix_dim_name.json", "rc_fix_dim_static.json"] {
        let plain = seed(name);
        let collection = plain
            .in_spec_api(SpecApi::Collection)
            .expect("no dynamic int");
        let (r, d) = (check(&collection), check(&plain));
        assert_eq!(
            r.contract(),
            Some(Contract::SuggestedFixFails),
            "{name}: {r:#?}"
        );
        assert_eq!(same(&r), same(&d), "{name}");
    }
}

/// A stride torch leaves unspecified is not compared (CONTRACT.md): `nonzero` of an all-zero
/// tensor times a size-1 tensor is empty, and eager reports the stride its kernel chose
/// (`(1, 0)`) while the exported program computes the contiguous one. Under ShapesSpec,
/// whose range holds 1, that was reported as a silent divergence (a bug) before the rule;
/// found by a campaign.
#[test]
fn a_stride_torch_leaves_unspecified_is_not_a_divergence() {
    let case = seed("shapes_stride_of_empty.json");
    assert_eq!(case.spec_api(), shapefuzz::ir::SpecApi::Shapes);
    assert!(case.reads_unspecified_stride(&[1]));
    assert!(
        !case.reads_unspecified_stride(&[5]) || case.nodes.iter().any(|n| n.tag() == "nonzero")
    );
    let r = check(&case);
    assert!(
        r.findings
            .iter()
            .all(|f| f.contract != Some(Contract::SilentDivergence)),
        "{r:#?}"
    );
    assert_ne!(r.class(), Some(Class::Bug), "{r:#?}");
}
