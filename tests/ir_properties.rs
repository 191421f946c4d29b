//! Rust-only properties of cases: valid at every valuation, serde round trip, deterministic
//! rendering, and compaction preserving validity.

use arbitrary::{Arbitrary, Unstructured};
use proptest::prelude::*;
use shapefuzz::cli::generate;
use shapefuzz::ir::{BoolExpr, Case, CmpFn, DimExpr, DimSpec, SpecApi, SymId};
use shapefuzz::render::render;
use shapefuzz::{GenConfig, case_from_seed};

fn assert_case_ok(case: &Case) {
    case.validate()
        .unwrap_or_else(|e| panic!("invalid case: {e}\n{}", case.to_json()));
    for v in case.checked_valuations() {
        assert!(case.valid_at(&v), "not valid at {v:?}\n{}", case.to_json());
    }
    assert_eq!(
        Case::from_json(&case.to_json(), "roundtrip").expect("reloads"),
        *case
    );
    let (a, b) = (render(case), render(case));
    assert_eq!(a, b, "rendering is deterministic");
    assert_eq!(a.node_lines.len(), case.nodes.len());
    for w in a.node_lines.windows(2) {
        assert!(
            w[0].0 <= w[0].1 && w[0].1 < w[1].0,
            "node lines overlap: {:?}",
            a.node_lines
        );
    }
    let mut c = case.clone();
    c.compact();
    c.validate()
        .unwrap_or_else(|e| panic!("compacted case invalid: {e}"));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn default_config_cases_hold(seed in any::<u64>()) {
        assert_case_ok(&case_from_seed(&GenConfig::default(), seed));
    }

    #[test]
    fn swarm_cases_hold(seed in any::<u64>()) {
        assert_case_ok(&generate(seed, true));
    }

    /// Written with ShapesSpec, a case is as valid, and says so in one API: a ShapeVar per
    /// dynamic symbol on every dim it sizes, the example inside its range, no `Dim`.
    #[test]
    fn shapes_spec_cases_hold(seed in any::<u64>(), swarm in any::<bool>()) {
        let config = (!swarm).then(GenConfig::default);
        let case = shapefuzz::r#gen::generate_with(seed, config.as_ref(), Some(100));
        assert_case_ok(&case);
        let text = render(&case).source;
        if case.spec_api() == SpecApi::Shapes {
            prop_assert!(text.contains("return ShapesSpec({"), "{text}");
            prop_assert!(!text.contains("Dim."), "{text}");
            prop_assert!(case.in_declared_ranges(&case.export));
            prop_assert_eq!(text.contains("assumptions=["), !case.assumptions.is_empty());
            for s in 0..case.symbol_count() {
                if case.var_range(s).is_none() {
                    continue;
                }
                for d in case.inputs.iter().flat_map(|i| &i.dims) {
                    if d.size.symbol_index() == Some(s) {
                        prop_assert!(matches!(d.spec, DimSpec::Var { .. }), "{}", case.to_json());
                    }
                }
            }
        }
        // only the spec differs from the same seed under the Dim API (or AdditionalInputs)
        let dim = shapefuzz::r#gen::generate_with(seed, config.as_ref(), Some(0));
        prop_assert_eq!(&dim.nodes, &case.nodes);
        prop_assert_eq!(&dim.probes, &case.probes);
        prop_assert_ne!(dim.spec_api(), SpecApi::Shapes);
    }

    /// A case's twin under the other spec API is the same model, sizes and probes with a
    /// valid spec in that API; every generated ShapesSpec case has a `Dim` twin, and a
    /// ShapeVar keeps its range there (its min raised to 2).
    #[test]
    fn twins_are_the_same_model_in_the_other_api(seed in any::<u64>(), swarm in any::<bool>()) {
        let config = (!swarm).then(GenConfig::default);
        for percent in [0, 100] {
            let case = shapefuzz::r#gen::generate_with(seed, config.as_ref(), Some(percent));
            let other = match case.spec_api() {
                SpecApi::Dim => SpecApi::Shapes,
                SpecApi::Shapes | SpecApi::Additional | SpecApi::Collection => SpecApi::Dim,
            };
            prop_assert!(case.in_spec_api(case.spec_api()).is_none());
            prop_assert!(case.in_spec_api(SpecApi::Additional).is_none());
            let twin = case.in_spec_api(other);
            if case.spec_api() != SpecApi::Dim {
                prop_assert!(twin.is_some(), "no Dim twin of\n{}", case.to_json());
            }
            let Some(twin) = twin else { continue };
            assert_case_ok(&twin);
            prop_assert_eq!(twin.spec_api(), other);
            prop_assert_eq!(&twin.nodes, &case.nodes);
            prop_assert_eq!(&twin.probes, &case.probes);
            prop_assert_eq!(&twin.export, &case.export);
            prop_assert!(twin.assumptions.is_empty() || other == SpecApi::Shapes);
            for s in 0..case.symbol_count() {
                if let (Some((lo, hi)), SpecApi::Dim) = (case.var_range(s), other) {
                    let text = render(&twin).source;
                    let named = match hi {
                        Some(h) => format!("Dim(\"s{s}\", min={}, max={h})", lo.max(2)),
                        None => format!("Dim(\"s{s}\", min={})", lo.max(2)),
                    };
                    let int_only = case.inputs.iter().all(|i| {
                        i.kind != shapefuzz::ir::InputKind::Tensor
                            || i.dims.iter().all(|d| d.size.symbol_index() != Some(s))
                    });
                    prop_assert!(int_only || text.contains(&named), "{named} not in\n{text}");
                }
            }
        }
    }

    /// A ShapesCollection case is its `Dim` case with the same specs assigned tensor by
    /// tensor: its twin differs only in the flag, and each tensor's entry in the twin's dict
    /// is what the collection assigns to that very input. A case whose int asks to be
    /// dynamic stays a `Dim` case (a collection cannot say it).
    #[test]
    fn shapes_collection_cases_hold(seed in any::<u64>()) {
        let mut config = GenConfig { collection_percent: 100, ..GenConfig::default() };
        config.sanitize();
        let case = case_from_seed(&config, seed);
        assert_case_ok(&case);
        let dynamic_int = case.inputs.iter().any(|i| {
            i.kind != shapefuzz::ir::InputKind::Tensor
                && i.dims.iter().any(|d| d.spec.requests_dynamic())
        });
        prop_assert_eq!(case.spec_api() == SpecApi::Collection, !dynamic_int, "{}", case.to_json());
        if case.spec_api() != SpecApi::Collection {
            prop_assert!(case.in_spec_api(SpecApi::Collection).is_none());
            return Ok(());
        }
        let twin = case.in_spec_api(SpecApi::Dim).expect("a collection has a Dim twin");
        prop_assert!(!twin.shapes_collection);
        let mut back = twin.clone();
        back.shapes_collection = true;
        prop_assert_eq!(&back, &case);
        prop_assert_eq!(twin.in_spec_api(SpecApi::Collection), Some(case.clone()));
        let text = render(&case).source;
        let dict = render(&twin).source;
        prop_assert!(text.contains("def dynamic_shapes(inputs):"), "{text}");
        prop_assert!(text.contains("DYNAMIC_SHAPES_TAKE_INPUTS = True"));
        let dict_line = dict
            .lines()
            .find(|l| l.trim_start().starts_with("return {"))
            .expect("the Dim twin returns a dict");
        for line in text.lines().filter(|l| l.trim_start().starts_with("spec[inputs[")) {
            // `spec[inputs[0]] = {0: s0}  # x` stands for `"x": {0: s0}` in the dict
            let (lhs, rest) = line.trim().split_once(" = ").expect("an assignment");
            let (value, name) = rest.split_once("  # ").expect("the input's name");
            prop_assert!(lhs.starts_with("spec[inputs["));
            let entry = format!("\"{name}\": {value}");
            prop_assert!(dict_line.contains(&entry), "{entry} not in {dict_line}");
        }
    }

    /// An AdditionalInputs case is its `Dim` case with one or two probes as more examples
    /// and each dim's spec what torch infers from them: DYNAMIC where a size differs.
    #[test]
    fn additional_inputs_cases_hold(seed in any::<u64>()) {
        let mut config = GenConfig { additional_percent: 100, ..GenConfig::default() };
        config.sanitize();
        let case = case_from_seed(&config, seed);
        assert_case_ok(&case);
        if case.spec_api() == SpecApi::Additional {
            let text = render(&case).source;
            prop_assert!(text.contains("examples = torch.export.AdditionalInputs()"), "{text}");
            for v in &case.additional_inputs {
                prop_assert!(case.normal_probes().any(|p| p.sizes == *v));
                prop_assert!(*v != case.export);
            }
            let mut inferred = case.clone();
            inferred.infer_additional_specs();
            prop_assert_eq!(&inferred, &case);
            prop_assert!(case.inputs.iter().flat_map(|i| &i.dims).any(|d| d.spec == DimSpec::Dynamic));
            let plain = case_from_seed(&GenConfig::default(), seed);
            prop_assert_eq!(&plain.nodes, &case.nodes);
        }
    }

    #[test]
    fn cases_from_arbitrary_bytes_hold(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let mut u = Unstructured::new(&bytes);
        if let Ok(case) = Case::arbitrary(&mut u) {
            assert_case_ok(&case);
        }
    }
}

#[test]
fn the_same_seed_gives_the_same_case() {
    for s in 0..50 {
        assert_eq!(generate(s, true), generate(s, true));
    }
}

#[test]
fn two_run_time_sizes_in_one_shape_are_refused() {
    // `torch.zeros(k, k)` with `k` counted from data grows with the square of the input and
    // exhausts memory at the larger probes: the IR refuses it instead of the worker dying.
    let text = r#"{"schema_version": 1,
        "inputs": [{"dtype": "i64", "dims": [{"size": {"sym": 0}, "truth": {"kind": "free"}, "spec": {"kind": "auto"}}]}],
        "nodes": [{"op": "nonzero", "x": {"input": 0}},
                  {"op": "size", "x": {"node": 0}, "dim": 0, "spelling": "shape_index"},
                  {"op": "zeros", "shape": [{"value": {"node": 1}}, {"value": {"node": 1}}]}],
        "outputs": [{"node": 2}], "export": [5], "probes": []}"#;
    let err = Case::from_json(text, "zeros_k_k.json")
        .unwrap_err()
        .to_string();
    assert!(err.contains("two data-dependent sizes"), "{err}");
}

#[test]
fn empty_bytes_still_close_validly() {
    let mut u = Unstructured::new(&[]);
    let case = Case::arbitrary(&mut u).expect("closes");
    assert_case_ok(&case);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Every candidate the reducer proposes is a valid case, strictly no bigger.
    #[test]
    fn reducer_candidates_are_valid(seed in any::<u64>(), shapes in any::<bool>()) {
        let case = shapefuzz::r#gen::generate_with(seed, None, Some(if shapes { 100 } else { 0 }));
        let size = |c: &Case| c.nodes.len() + c.inputs.len();
        for cand in shapefuzz::reduce::candidates(&case) {
            cand.validate().unwrap_or_else(|e| panic!("invalid candidate: {e}\n{}", cand.to_json()));
            assert!(size(&cand) <= size(&case), "a candidate grew:\n{}", cand.to_json());
            assert_ne!(cand, case);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// The reducer with a fake predicate ("still has an op of this kind"): the result keeps
    /// the property, is valid and no bigger, every new smallest is smaller than the one
    /// before, and an error from `on_new_smallest` stops the reduction with that error.
    #[test]
    fn reducer_keeps_what_the_predicate_asks_for(seed in any::<u64>()) {
        use shapefuzz::reduce::Reducer;
        let case = generate(seed, true);
        let size = |c: &Case| c.nodes.len() + c.inputs.len();
        let Some(kind) = case.nodes.last().map(|o| o.kind()) else { return Ok(()) };
        let has_kind = |c: &Case| c.nodes.iter().any(|o| o.kind() == kind).then_some(());
        let mut sizes = vec![size(&case)];
        let reduced = Reducer::new(2)
            .max_tests(200)
            .on_new_smallest(|c, _| {
                sizes.push(size(c));
                Ok(())
            })
            .run(&case, None, has_kind)
            .expect("the case has its own last op");
        reduced.case.validate().unwrap_or_else(|e| panic!("invalid: {e}"));
        prop_assert!(has_kind(&reduced.case).is_some());
        prop_assert!(size(&reduced.case) <= size(&case));
        prop_assert!(sizes.windows(2).all(|w| w[1] <= w[0]), "{sizes:?}");
        prop_assert!(reduced.tests <= 200 + 2);

        // Skipping the candidates that cannot keep the finding (`only_if`) never shows the
        // predicate one of them, and ends on the very same case with no more tests.
        let skipped_seen = std::sync::atomic::AtomicBool::new(false);
        let skipping = Reducer::new(2)
            .max_tests(200)
            .only_if(|c| has_kind(c).is_some())
            .run(&case, None, |c| {
                if has_kind(c).is_none() {
                    skipped_seen.store(true, std::sync::atomic::Ordering::Relaxed);
                }
                has_kind(c)
            })
            .expect("the case has its own last op");
        prop_assert!(!skipped_seen.load(std::sync::atomic::Ordering::Relaxed));
        if reduced.tests < 200 {
            prop_assert_eq!(&skipping.case, &reduced.case);
            prop_assert!(skipping.tests <= reduced.tests);
        }

        let stopped = Reducer::new(1)
            .on_new_smallest(|_, _| anyhow::bail!("disk full"))
            .run(&case, None, |_: &Case| Some(()));
        // Either a smaller case was found and its error stopped the run, or none was.
        match stopped {
            Err(e) => prop_assert_eq!(e.to_string(), "disk full"),
            Ok(r) => prop_assert_eq!(r.case, case),
        }
    }
}

fn cmp_of(i: usize) -> CmpFn {
    CmpFn::ALL[i % CmpFn::ALL.len()]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// A condition `decided_over(2)` has that value at every size of 2 or more, and an
    /// if-expression's interval holds its value there (so a decided condition may take one
    /// arm and stay sound).
    #[test]
    fn decided_conditions_and_ite_intervals_are_sound(
        a in 0i64..4, b in -6i64..6, k in -6i64..12, c in 0usize..6,
        a2 in 0i64..4, b2 in -6i64..6, k2 in -6i64..12, c2 in 0usize..6, join in 0u8..3,
    ) {
        let n = || DimExpr::Sym(SymId(0));
        let lin = |a, b| DimExpr::add(DimExpr::mul(DimExpr::Const(a), n()), DimExpr::Const(b));
        let one = BoolExpr::Cmp(lin(a, b), cmp_of(c), DimExpr::Const(k));
        let two = BoolExpr::Cmp(lin(a2, b2), cmp_of(c2), DimExpr::Const(k2));
        let cond = match join {
            0 => one,
            1 => BoolExpr::And(Box::new(one), Box::new(two)),
            _ => BoolExpr::Or(Box::new(BoolExpr::Not(Box::new(one))), Box::new(two)),
        };
        let ite = DimExpr::ite(cond.clone(), lin(a, b), lin(a2, b2));
        let (lo, hi) = ite.interval();
        let decided = cond.decided_over(2);
        for size in 2..200 {
            let v = [size];
            if let Some(d) = decided {
                prop_assert_eq!(cond.eval(&v), Some(d), "{:?} at {}", cond, size);
            }
            let x = ite.eval(&v).unwrap();
            prop_assert!(lo.is_none_or(|l| l <= x) && hi.is_none_or(|h| x <= h), "{} = {} outside {:?}..{:?}", ite, x, lo, hi);
        }
    }
}

/// Dropping an unused input renumbers the symbols that remain, and the ShapesSpec assumptions
/// follow them: an assumption about `s1` is about `s0` once `s0` is gone.
#[test]
fn compact_renumbers_assumptions_with_their_symbols() {
    let mut case = shapefuzz::ir::Case::from_json(
        r#"{"schema_version": 1,
            "inputs": [
              {"dtype": "f32", "dims": [{"size": {"sym": 0}, "truth": {"kind": "free"}, "spec": {"kind": "var", "min": 0, "max": null}}]},
              {"dtype": "f32", "dims": [{"size": {"sym": 1}, "truth": {"kind": "free"}, "spec": {"kind": "var", "min": 0, "max": null}}]}
            ],
            "nodes": [{"op": "permute", "x": {"input": 1}, "perm": [0]}],
            "outputs": [{"node": 0}],
            "export": [5, 6],
            "probes": [{"sizes": [5, 7], "edge": false}],
            "assumptions": [{"kind": "mod", "sym": 1, "modulus": 2, "remainder": 0},
                            {"kind": "le", "lo": 0, "hi": 1}]}"#,
        "renumbered",
    )
    .expect("the case loads");
    case.compact();
    assert_eq!(case.symbol_count(), 1);
    assert_eq!(
        case.assumptions,
        [shapefuzz::ir::Assumption::Mod {
            sym: 0,
            modulus: 2,
            remainder: 0
        }]
    );
    case.validate().expect("the compacted case is valid");
    assert!(case.in_declared_ranges(&[6]) && !case.in_declared_ranges(&[7]));
}
