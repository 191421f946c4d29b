//! Live tests: real torch 2.15 through the worker pool. The Python environment is created
//! on first use (shapefuzz's own venv, cached by requirements hash); these tests never skip.

mod common;

use common::{env, pool, seed};
use serde_json::json;
use shapefuzz::ir::{Case, DimSpec};
use shapefuzz::oracle::{self, Backend, CheckResult, Outcome, Pool, PoolConfig, Verdict};
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
    let lost = r
        .findings
        .iter()
        .find(|f| f.verdict == Verdict::LostDim)
        .unwrap();
    assert_eq!((lost.input.as_deref(), lost.dim), (Some("y"), Some(0)));
    assert!(lost.message.contains("pins it to 2"), "{}", lost.message);
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
    let cause = r.cause.expect("cause traced");
    assert_eq!(cause.op, "append_value");
    assert_eq!(cause.spelling.as_deref(), Some("pad"));
    assert_eq!(case.nodes[cause.node as usize].tag(), "append_value");
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
    assert_eq!(r.cause.as_ref().map(|c| c.op.as_str()), Some("one_hot"));
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
    let cause = r.cause.expect("cause traced");
    assert!(
        ["round.int", "reshape"].contains(&cause.op.as_str()),
        "{cause:?}"
    );
}

#[test]
fn branch_on_a_size_narrows_the_range() {
    let case = seed("branch.json");
    let r = check(&case);
    assert_eq!(r.verdict, Verdict::LostDim, "{r:#?}");
    assert!(has(&r, Verdict::LostDim, "only 2..=4"), "{r:#?}");
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
    assert_eq!(r.cause.as_ref().map(|c| c.op.as_str()), Some("if"));
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
    let cfg = PoolConfig {
        jobs: 1,
        timeout: Duration::from_secs(20),
        test_hooks: true,
        ..Default::default()
    };
    Pool::new(env(), cfg).expect("workers start")
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
        oracle::judge(&case, &rendered, Backend::Export, &crash).verdict,
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
        Outcome::Hang { after } => assert!(after >= Duration::from_secs(3)),
        other => panic!("expected a hang, got {other:?}"),
    }
    assert!(t.elapsed() < Duration::from_secs(20));
    let case = seed("seed_cat.json");
    let rendered = shapefuzz::render::render(&case);
    let hang = Outcome::Hang {
        after: Duration::from_secs(3),
    };
    assert_eq!(
        oracle::judge(&case, &rendered, Backend::Export, &hang).verdict,
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
