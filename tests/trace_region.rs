//! The trace region (Rust only): where the model's Python decides as at the export sizes.
//! Hand-built cases pin the decisions down; properties hold for every generated case.

use proptest::prelude::*;
use shapefuzz::generate;
use shapefuzz::ir::{Case, DecisionKind, SCAN_MAX, in_runs};

fn load(json: &str) -> Case {
    Case::from_json(json, "test").expect("a valid case")
}

fn one_input_case(nodes: &str, outputs: &str, export: i64) -> Case {
    load(&format!(
        r#"{{"schema_version": 1,
        "inputs": [{{"dtype": "f32", "dims": [{{"size": {{"sym": 0}}, "truth": {{"kind": "free"}}, "spec": {{"kind": "auto"}}}}]}}],
        "nodes": [{nodes}], "outputs": [{outputs}], "export": [{export}], "probes": []}}"#
    ))
}

#[test]
fn a_branch_on_a_size_bounds_the_region_at_its_threshold() {
    let case = one_input_case(
        r#"{"op": "size", "x": {"input": 0}, "dim": 0, "spelling": "shape_index"},
           {"op": "compare", "a": {"node": 0}, "cmp": "gt", "k": 4},
           {"op": "if", "cond": {"node": 1}, "x": {"input": 0}, "then_f": "relu", "else_f": "neg"}"#,
        r#"{"node": 2}"#,
        3,
    );
    assert_eq!(case.trace_region(), vec![vec![[2, 4]]]);
    let d = case
        .first_changed_decision(&vec![9])
        .expect("the branch flips");
    assert_eq!((d.node, d.kind), (1, DecisionKind::Branch));
    // At size 1 the branch goes the same way; only the 0/1 class of the sizes changes.
    let d = case.first_changed_decision(&vec![1]).expect("a size of 1");
    assert_eq!(d.kind, DecisionKind::SizeClass);
}

#[test]
fn split_counts_and_clamps_are_decisions() {
    // torch.split(x, 3)[0]: 3 pieces at 7..=9, the first piece is clamped below 3, and at 7
    // the last piece (dropped, but computed) has size 1, which torch specializes.
    let case = one_input_case(
        r#"{"op": "split", "x": {"input": 0}, "size": {"const": 3}, "dim": 0}"#,
        r#"{"node": 0}"#,
        8,
    );
    assert_eq!(case.trace_region(), vec![vec![[8, 9]]]);
    let kinds: Vec<DecisionKind> = case.decisions().iter().map(|d| d.kind).collect();
    assert!(kinds.contains(&DecisionKind::OutputCount), "{kinds:?}");
    assert!(kinds.contains(&DecisionKind::ClampArm), "{kinds:?}");
    // Exporting at 7 would make that piece 1: not a case the generator or reducer keeps.
    let mut at_7 = case.clone();
    at_7.export = vec![7];
    assert!(at_7.small_derived_size_at_export().is_some());
}

#[test]
fn a_derived_size_of_1_leaves_the_region() {
    // x[2:] at export 5 has 3 elements; at 3 it has 1, which torch specializes by design.
    let case = one_input_case(
        r#"{"op": "slice", "x": {"input": 0}, "dim": 0, "start": {"const": 2}, "end": {"const": 64}}"#,
        r#"{"node": 0}"#,
        5,
    );
    let region = &case.trace_region()[0];
    assert!(!in_runs(3, region) && in_runs(4, region), "{region:?}");
    assert!(case.small_derived_size_at_export().is_none());
    let mut at_3 = case.clone();
    at_3.export = vec![3];
    assert!(at_3.small_derived_size_at_export().is_some());
}

#[test]
fn a_model_without_decisions_has_the_whole_valid_range() {
    let case = one_input_case(
        r#"{"op": "unary", "x": {"input": 0}, "f": "relu"}"#,
        r#"{"node": 0}"#,
        5,
    );
    assert_eq!(case.trace_region(), vec![vec![[2, SCAN_MAX]]]);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// The export sizes are in their own region; the region only holds valid sizes; every
    /// size in it decides as the export sizes do; and the generator keeps derived sizes
    /// away from 0 and 1 at the export sizes.
    #[test]
    fn the_region_is_where_decisions_agree(seed in any::<u64>()) {
        let case = generate(seed, true);
        prop_assert!(case.in_trace_region(&case.export));
        prop_assert!(case.small_derived_size_at_export().is_none(), "{}", case.to_json());
        let valid = case.valid_runs();
        for (s, runs) in case.trace_region().iter().enumerate() {
            for r in runs {
                for n in r[0]..=r[1] {
                    prop_assert!(in_runs(n, &valid[s]));
                    let mut v = case.export.clone();
                    v[s] = n;
                    prop_assert!(case.first_changed_decision(&v).is_none());
                }
            }
        }
    }

    /// Reduction never trades the finding for a 0/1 specialization of a derived size.
    #[test]
    fn reducer_candidates_keep_derived_sizes_at_2_or_more(seed in any::<u64>()) {
        let case = generate(seed, true);
        for cand in shapefuzz::reduce::candidates(&case) {
            prop_assert!(cand.small_derived_size_at_export().is_none(), "{}", cand.to_json());
        }
    }
}
