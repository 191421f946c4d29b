//! Meta-test of the generator's distribution over 10,000 campaign seeds: every op family,
//! channel and sink shows up, and channels and ties are common.

use shapefuzz::r#gen::{BUILDERS, CHANNEL_OPS};
use shapefuzz::generate;
use shapefuzz::ir::{
    AdaptiveFn, Family, FloatFn, InputKind, IntBinFn, IntFn, IteSpelling, Op, PoolFn, Round,
    RoundFn, Sink, SqrtSpelling, SymId, TrueDiv, Type, ValueRef,
};
use std::collections::{BTreeMap, BTreeSet};

#[test]
fn ten_thousand_seeds_cover_the_op_set() {
    let n = 10_000u64;
    let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
    let mut tags: BTreeMap<&str, u64> = BTreeMap::new();
    let mut families: BTreeMap<Family, u64> = BTreeMap::new();
    let mut sinks: BTreeMap<Sink, u64> = BTreeMap::new();
    let (mut with_channel, mut with_tie, mut int_half) = (0u64, 0u64, 0u64);
    let (mut chained, mut float_cmp, mut zero_one_cmp, mut two_symbols) = (0u64, 0u64, 0u64, 0u64);
    let mut int_inputs = 0u64;
    // Cases with an input of each non-tensor kind.
    let mut other_inputs: BTreeMap<String, u64> = BTreeMap::new();
    let mut ops_seen: BTreeMap<String, u64> = BTreeMap::new();
    for seed in 0..n {
        let case = generate(seed, true);
        let mut fams = BTreeSet::new();
        let mut case_kinds = BTreeSet::new();
        for op in &case.nodes {
            *tags.entry(op.tag()).or_default() += 1;
            fams.insert(op.family());
            case_kinds.insert(op.spelled_kind());
            case_kinds.insert(op.kind());
            for (s, _) in op.sinks() {
                *sinks.entry(s).or_default() += 1;
            }
            if let Op::Round(Round { a, f }) = op
                && f.name() == "int"
                && matches!(
                    case.nodes.get(a.index() as usize),
                    Some(Op::TrueDiv(TrueDiv { k: 2, .. }))
                )
            {
                int_half += 1;
            }
        }
        for f in &fams {
            *families.entry(*f).or_default() += 1;
        }
        // Per case: chained arithmetic, float comparisons, 0/1 literals, symbols meeting.
        let types = case.infer_types(&[]).expect("a generated case types");
        let arith = |v: ValueRef| match v {
            ValueRef::Node(i) => matches!(
                case.nodes[i as usize],
                Op::IntArith(_)
                    | Op::IntBinary(_)
                    | Op::IntMax(_)
                    | Op::Round(_)
                    | Op::FloatArith(_)
            ),
            ValueRef::Input(_) => false,
        };
        let mut c = (false, false, false, false);
        for (i, op) in case.nodes.iter().enumerate() {
            *ops_seen.entry(op.kind()).or_default() += 1;
            let operands = op.operands();
            if arith(ValueRef::Node(i as u32)) && operands.iter().any(|v| arith(*v)) {
                c.0 = true;
            }
            if let Op::Compare(cmp) = op {
                if matches!(types.get(cmp.a), Some(Type::Float(_))) {
                    c.1 = true;
                }
                if cmp.k == 0 || cmp.k == 1 {
                    c.2 = true;
                }
            }
            let mut syms = vec![];
            for v in &operands {
                if let Some(Type::Tensor(t)) = types.get(*v) {
                    t.shape.iter().for_each(|d| d.symbols(&mut syms));
                }
            }
            if syms.len() >= 2 && operands.len() >= 2 {
                c.3 = true;
            }
        }
        chained += c.0 as u64;
        int_inputs += case.inputs.iter().any(|i| i.kind == InputKind::Int) as u64;
        for kind in [InputKind::IntList, InputKind::Float, InputKind::Bool] {
            if case.inputs.iter().any(|i| i.kind == kind) {
                *other_inputs.entry(format!("{kind:?}")).or_default() += 1;
            }
        }
        float_cmp += c.1 as u64;
        zero_one_cmp += c.2 as u64;
        two_symbols += c.3 as u64;
        for k in case_kinds {
            *kinds.entry(k).or_default() += 1;
        }
        if case
            .nodes
            .iter()
            .any(|o| o.family() == Family::Channel || !o.sinks().is_empty())
        {
            with_channel += 1;
        }
        let syms: Vec<BTreeSet<SymId>> = case
            .inputs
            .iter()
            .map(|i| {
                let mut v = vec![];
                i.dims.iter().for_each(|d| d.size.symbols(&mut v));
                v.into_iter().collect()
            })
            .collect();
        let tied =
            (0..syms.len()).any(|a| (a + 1..syms.len()).any(|b| !syms[a].is_disjoint(&syms[b])));
        if tied {
            with_tie += 1;
        }
    }
    let pct = |x: u64| 100.0 * x as f64 / n as f64;
    let mut report = String::new();
    use std::fmt::Write;
    let _ = writeln!(report, "cases: {n}");
    let _ = writeln!(
        report,
        "with a shape-to-value channel: {:.1}%",
        pct(with_channel)
    );
    let _ = writeln!(
        report,
        "with two or more tied inputs: {:.1}%",
        pct(with_tie)
    );
    let _ = writeln!(report, "int(n / 2) chains: {int_half}");
    let _ = writeln!(report, "chained arithmetic: {:.1}%", pct(chained));
    let _ = writeln!(report, "a float comparison: {:.1}%", pct(float_cmp));
    let _ = writeln!(
        report,
        "a comparison with 0 or 1: {:.1}%",
        pct(zero_one_cmp)
    );
    let _ = writeln!(
        report,
        "two symbols meeting in one op: {:.1}%",
        pct(two_symbols)
    );
    let _ = writeln!(report, "a Python int model input: {:.1}%", pct(int_inputs));
    for (kind, n) in &other_inputs {
        let _ = writeln!(report, "a {kind} model input: {n} cases");
    }
    for (f, c) in &families {
        let _ = writeln!(report, "family {f:?}: {:.1}% of cases", pct(*c));
    }
    for (s, c) in &sinks {
        let _ = writeln!(report, "sink {s:?}: {c}");
    }
    let distinct_ops: BTreeSet<&str> = kinds.keys().map(|k| k.split(':').next().unwrap()).collect();
    let _ = writeln!(report, "distinct op kinds: {}", distinct_ops.len());
    for (k, c) in &kinds {
        let _ = writeln!(report, "  {k}: {c}");
    }
    println!("{report}");
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    std::fs::create_dir_all(&out).ok();
    std::fs::write(out.join("gen_meta_distribution.txt"), &report).ok();

    for f in Family::ALL {
        assert!(families.contains_key(f), "family {f:?} never generated");
    }
    for s in [
        Sink::PadValue,
        Sink::FillValue,
        Sink::ArangeEnd,
        Sink::ArangeStep,
        Sink::LinspaceSteps,
        Sink::OneHotClasses,
        Sink::TopkK,
        Sink::SplitSize,
        Sink::SliceBound,
        Sink::InterpolateSize,
        Sink::ClampBound,
        Sink::MaskedFillValue,
        Sink::TensorData,
        Sink::IfCondition,
        Sink::LoopCount,
    ] {
        assert!(
            sinks.contains_key(&s),
            "sink {s:?} never fed by a size-derived value"
        );
    }
    for k in [
        "append_value:pad",
        "append_value:cat",
        "to_tensor:tensor_list",
        "to_tensor:scalar_tensor",
        "to_tensor:as_tensor",
        "to_tensor:new_tensor",
        "to_float",
        "true_div",
        "sqrt",
        "round.int",
        "round.ceil",
        "round.floor",
        "int.floordiv",
        "int.mod",
        "int_max:max_builtin",
        "int_max:sym_max",
        "size:shape_index",
        "size:size_call",
        "size:len",
        "numel",
        "topk",
        "split",
        "slice",
        "interpolate",
        "if",
        "loop",
        "item",
        "to_list",
        "nonzero",
        "unique",
        "masked_select",
        "repeat_interleave",
        "full",
        "arange",
        "linspace",
        "one_hot",
    ] {
        assert!(kinds.contains_key(k), "{k} never generated");
    }
    assert!(int_half > 0, "int(n / 2) never generated");
    // Every op in the table, and every kind of it, is generated at least 20 times.
    for tag in Op::TAGS {
        let c = tags.get(*tag).copied().unwrap_or(0);
        assert!(c >= 20, "op {tag} generated {c} times in {n} cases");
    }
    for (k, c) in &ops_seen {
        assert!(*c >= 20, "{k} generated {c} times in {n} cases");
    }
    for s in Sink::ALL {
        let c = sinks.get(s).copied().unwrap_or(0);
        assert!(c >= 20, "sink {s:?} fed {c} times in {n} cases");
    }
    // Every operator of the size arithmetic, not only those that happen to appear.
    let arithmetic = IntFn::ALL
        .iter()
        .map(|f| format!("int.{}", f.name()))
        .chain(RoundFn::ALL.iter().map(|f| format!("round.{}", f.name())))
        .chain(FloatFn::ALL.iter().map(|f| format!("float.{}", f.name())))
        .chain(IntBinFn::ALL.iter().map(|f| format!("int2.{}", f.name())))
        .chain(PoolFn::ALL.iter().map(|f| f.name().to_string()))
        .chain(AdaptiveFn::ALL.iter().map(|f| f.name().to_string()))
        .chain(
            IteSpelling::ALL
                .iter()
                .map(|s| format!("int_select:{}", s.name())),
        )
        .chain(
            SqrtSpelling::ALL
                .iter()
                .map(|s| format!("sqrt:{}", s.name())),
        );
    for k in arithmetic {
        // Cases that contain the kind (spelled kinds are counted per case only).
        let c = kinds.get(&k).copied().unwrap_or(0);
        assert!(c >= 20, "{k} in {c} of {n} cases");
    }
    assert!(
        pct(int_inputs) >= 3.0,
        "int model inputs in {:.1}%",
        pct(int_inputs)
    );
    for kind in ["IntList", "Float", "Bool"] {
        let c = other_inputs.get(kind).copied().unwrap_or(0);
        assert!(c >= 20, "{kind} model inputs in {c} cases");
    }
    assert!(
        pct(chained) >= 20.0,
        "chained arithmetic in {:.1}%",
        pct(chained)
    );
    assert!(
        pct(float_cmp) >= 5.0,
        "float comparisons in {:.1}%",
        pct(float_cmp)
    );
    assert!(
        pct(zero_one_cmp) >= 5.0,
        "0/1 literals in {:.1}%",
        pct(zero_one_cmp)
    );
    assert!(
        pct(two_symbols) >= 10.0,
        "two symbols meeting in {:.1}%",
        pct(two_symbols)
    );
    assert!(
        distinct_ops.len() >= 40,
        "only {} distinct ops",
        distinct_ops.len()
    );
    assert!(
        pct(with_channel) >= 50.0,
        "channels in {:.1}% of cases",
        pct(with_channel)
    );
    assert!(
        pct(with_tie) >= 100.0 / 3.0,
        "ties in {:.1}% of cases",
        pct(with_tie)
    );
}

#[test]
fn every_op_has_a_builder_and_every_builder_makes_real_ops() {
    for tag in Op::TAGS {
        assert!(
            BUILDERS.iter().any(|b| b.makes.contains(tag)) || CHANNEL_OPS.contains(tag),
            "no row of the generator's table makes {tag}"
        );
    }
    for b in BUILDERS {
        assert!(b.weight > 0, "builder {} has weight 0", b.name);
        for t in b.makes {
            assert!(
                Op::TAGS.contains(t),
                "builder {} says it makes {t}, which is no op",
                b.name
            );
            assert!(Op::family_of_tag(t).is_some(), "{t} has no family");
        }
    }
}

#[test]
fn generated_cases_stay_far_below_the_case_file_limits() {
    // The limits on case files guard against hostile input; the generator must never come
    // near them. Half of each is the margin.
    use shapefuzz::ir::{
        MAX_CHECK_WORK, MAX_EXPR_NODES, MAX_INFER_WORK, MAX_NODES, MAX_PROBES, MAX_TRUTH_WORK,
    };
    let (mut nodes, mut probes, mut work, mut expr) = (0, 0, 0, 0);
    let (mut infer, mut truth) = (0, 0);
    for seed in 0..5_000u64 {
        let case = generate(seed, true);
        let types = case.validate().expect("generated cases are valid");
        nodes = nodes.max(case.nodes.len());
        probes = probes.max(case.probes.len());
        work = work.max(case.nodes.len() * (case.probes.len() + 1));
        let mut sum = 0;
        for t in types.inputs.iter().chain(&types.nodes) {
            expr = expr.max(t.expr_nodes(MAX_EXPR_NODES));
            sum += 1 + t.expr_nodes(MAX_EXPR_NODES);
        }
        infer = infer.max(sum * (case.probes.len() + 2));
        truth = truth.max(case.truth_work(&types));
    }
    println!(
        "largest of 5,000 swarm cases: {nodes} nodes, {probes} probes, {work} node-valuations, {expr} expression nodes in one type, {infer} expression-node evaluations in one inference, {truth} in the ground truth"
    );
    assert!(
        infer <= MAX_INFER_WORK / 2,
        "{infer} evaluations in one inference"
    );
    assert!(
        truth <= MAX_TRUTH_WORK / 2,
        "{truth} evaluations in the ground truth"
    );
    assert!(nodes <= MAX_NODES / 2, "{nodes} nodes");
    assert!(probes <= MAX_PROBES / 2, "{probes} probes");
    assert!(work <= MAX_CHECK_WORK / 2, "{work} node-valuations");
    assert!(expr <= MAX_EXPR_NODES / 2, "{expr} expression nodes");
}
