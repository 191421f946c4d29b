//! Hostile case files: whatever JSON a user hands us, loading, validating and rendering it
//! ends in a case or a one-line error, never a panic, and in bounded time. The inputs are
//! generated cases mutated where it hurts (extreme integers, swapped enum names and op
//! tags, dropped and duplicated list items and fields), so they get past the JSON parser
//! and into the IR's arithmetic. The same loader is a cargo-fuzz target
//! (`fuzz/fuzz_targets/load_case.rs`).

use proptest::prelude::*;
use serde_json::Value;
use shapefuzz::cli::generate;
use shapefuzz::ir::Case;
use shapefuzz::render::render;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

#[path = "common/arithmetic.rs"]
mod arithmetic;
use arithmetic::arithmetic_case;

const EXTREMES: &[i64] = &[
    i64::MIN,
    i64::MIN + 1,
    -(1 << 32),
    -65536,
    -2,
    -1,
    0,
    1,
    2,
    63,
    64,
    255,
    256,
    65535,
    1 << 20,
    (1 << 20) + 1,
    1 << 31,
    1 << 32,
    1 << 62,
    i64::MAX - 1,
    i64::MAX,
];

/// Every string in a value: op tags and enum names to swap between places.
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(xs) => xs.iter().for_each(|x| strings(x, out)),
        Value::Object(m) => m.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

/// Visits node `target` (pre-order index) and applies `f` to it.
fn visit(v: &mut Value, target: usize, seen: &mut usize, f: &mut dyn FnMut(&mut Value)) -> bool {
    if *seen == target {
        f(v);
        return true;
    }
    *seen += 1;
    match v {
        Value::Array(xs) => xs.iter_mut().any(|x| visit(x, target, seen, f)),
        Value::Object(m) => m.values_mut().any(|x| visit(x, target, seen, f)),
        _ => false,
    }
}

fn count(v: &Value) -> usize {
    1 + match v {
        Value::Array(xs) => xs.iter().map(count).sum(),
        Value::Object(m) => m.values().map(count).sum(),
        _ => 0,
    }
}

fn mutate(v: &mut Value, at: usize, how: u8, pick: usize, names: &[String]) {
    let target = at % count(v);
    visit(v, target, &mut 0, &mut |node| match node {
        Value::Number(_) => {
            *node = Value::from(EXTREMES[pick % EXTREMES.len()]);
        }
        Value::String(_) => {
            *node = Value::from(names[pick % names.len()].clone());
        }
        Value::Array(xs) if !xs.is_empty() => {
            let i = pick % xs.len();
            match how % 3 {
                0 => {
                    xs.remove(i);
                }
                1 => {
                    let x = xs[i].clone();
                    xs.insert(i, x);
                }
                _ => {
                    // Many copies: lists a user could make long.
                    let x = xs[i].clone();
                    for _ in 0..(64 + pick % 512) {
                        xs.push(x.clone());
                    }
                }
            }
        }
        Value::Object(m) if !m.is_empty() => {
            let keys: Vec<String> = m.keys().cloned().collect();
            let k = &keys[pick % keys.len()];
            if how.is_multiple_of(2) {
                m.remove(k);
            } else {
                m.insert(k.clone(), Value::from(EXTREMES[pick % EXTREMES.len()]));
            }
        }
        _ => {}
    });
}

/// Load, validate, and do what commands do next with a case that loaded.
fn survive(text: &str) {
    let started = Instant::now();
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        if let Ok(case) = Case::from_json(text, "hostile.json") {
            let _ = render(&case);
            let _ = case.valid_runs();
            let _ = case.decisions();
        }
    }));
    assert!(outcome.is_ok(), "panicked on:\n{text}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?} on:\n{text}",
        started.elapsed()
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 5000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_cases_load_or_fail_cleanly(
        seed in 0u64..400,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<usize>()), 1..8),
    ) {
        let case = generate(seed, seed % 2 == 0);
        let mut v: Value = serde_json::from_str(&case.to_json()).unwrap();
        let mut names = vec![];
        strings(&v, &mut names);
        names.extend(shapefuzz::ir::Op::TAGS.iter().map(|t| t.to_string()));
        for (at, how, pick) in edits {
            mutate(&mut v, at, how, pick, &names);
        }
        survive(&v.to_string());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, failure_persistence: None, ..ProptestConfig::default() })]

    /// Validation's cost is bounded by the work it would do, not only by the size of the
    /// file: any mix of symbols, chains, fans and probes validates or is refused in bounded
    /// time (under a second in a release build; `survive` allows 5 s for a debug one).
    #[test]
    fn size_arithmetic_validates_in_bounded_time(
        inputs in 1usize..=64,
        chain in 0usize..=1000,
        fan in 0usize..=1000,
        probes in 0usize..=15,
        mix in any::<bool>(),
    ) {
        let fan = fan.min(1000 - chain);
        survive(&arithmetic_case(inputs, chain, fan, probes, mix));
    }
}

/// The cases of the hardening review, each once.
#[test]
fn known_hostile_cases_fail_cleanly() {
    // `n * i64::MIN` feeding a reshape's -1 (a remainder overflow in `divide_exact`).
    let mul_min = r#"{"schema_version": 1, "inputs": [{"dtype": "f32", "dims": [
        {"size": {"sym": 0}, "truth": {"kind": "free"}, "spec": {"kind": "dynamic"}},
        {"size": {"const": 2}, "truth": {"kind": "free"}, "spec": {"kind": "static"}}]}],
      "nodes": [{"op": "size", "x": {"input": 0}, "dim": 0, "spelling": "shape_index"},
        {"op": "int_arith", "a": {"node": 0}, "f": "mul", "k": -1},
        {"op": "reshape", "x": {"input": 0}, "shape": [{"size": {"value": {"node": 1}}}, "infer"], "spelling": "reshape"}],
      "outputs": [{"node": 2}], "export": [4], "probes": [{"sizes": [5], "edge": false}]}"#;
    survive(mul_min);
    survive(&mul_min.replace("\"k\": -1", "\"k\": -9223372036854775808"));
    // The same on a constant dim, where the product is folded to a constant.
    let folded = mul_min.replace("\"dim\": 0, \"spelling\"", "\"dim\": 1, \"spelling\"");
    for k in [
        "-9223372036854775808",
        "9223372036854775807",
        "4611686018427387904",
    ] {
        survive(&folded.replace("\"k\": -1", &format!("\"k\": {k}")));
    }
    // Nested `cat([v, v])` doubles the size expression per level.
    let mut nodes =
        vec![r#"{"op": "cat", "xs": [{"input": 0}, {"input": 0}], "dim": 0}"#.to_string()];
    for i in 0..60 {
        nodes.push(format!(
            r#"{{"op": "cat", "xs": [{{"node": {i}}}, {{"node": {i}}}], "dim": 0}}"#
        ));
    }
    let cats = format!(
        r#"{{"schema_version": 1, "inputs": [{{"dtype": "f32", "dims": [
            {{"size": {{"sym": 0}}, "truth": {{"kind": "free"}}, "spec": {{"kind": "dynamic"}}}}]}}],
          "nodes": [{}], "outputs": [{{"node": 60}}], "export": [2], "probes": []}}"#,
        nodes.join(",")
    );
    survive(&cats);
    // A chain of 100 additions and a fan of 100 nodes on 8 symbols: 13 s of validation
    // before its cost was bounded.
    survive(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/hostile/case_size_arithmetic_fan.json"
        ))
        .unwrap(),
    );
    survive(&arithmetic_case(64, 1000, 23, 15, false));
    survive(&arithmetic_case(8, 1000, 23, 15, false));
    // A thousand symbols, and an input far above the element limit at a probe.
    let many: Vec<String> = (0..1000)
        .map(|s| {
            format!(
                r#"{{"dtype": "f32", "dims": [{{"size": {{"sym": {s}}}, "truth": {{"kind": "free"}}, "spec": {{"kind": "dynamic"}}}}]}}"#
            )
        })
        .collect();
    let symbols = format!(
        r#"{{"schema_version": 1, "inputs": [{}], "nodes": [{{"op": "unary", "x": {{"input": 0}}, "f": "relu"}}],
          "outputs": [{{"node": 0}}], "export": [{}], "probes": [{{"sizes": [{}], "edge": false}}]}}"#,
        many.join(","),
        vec!["2"; 1000].join(","),
        vec!["3"; 1000].join(",")
    );
    survive(&symbols);
    let huge = r#"{"schema_version": 1, "inputs": [{"dtype": "f32", "dims": [
        {"size": {"sym": 0}, "truth": {"kind": "free"}, "spec": {"kind": "dynamic"}},
        {"size": {"sym": 0}, "truth": {"kind": "tied", "input": 0, "dim": 0}, "spec": {"kind": "dynamic"}}]}],
      "nodes": [{"op": "unary", "x": {"input": 0}, "f": "relu"}],
      "outputs": [{"node": 0}], "export": [4], "probes": [{"sizes": [16384], "edge": false}]}"#;
    let err = Case::from_json(huge, "huge.json").expect_err("an input above the element limit");
    assert!(err.to_string().contains("elements"), "{err}");
    // Thousands of probes (each one an eager and an exported run in the worker).
    let probes = vec![r#"{"sizes": [3], "edge": true}"#; 2000].join(",");
    let many_probes = huge.replace(
        r#""probes": [{"sizes": [16384], "edge": false}]"#,
        &format!(r#""probes": [{probes}]"#),
    );
    let err = Case::from_json(&many_probes, "probes.json").expect_err("too many probes");
    assert!(err.to_string().contains("`probes`"), "{err}");
}
