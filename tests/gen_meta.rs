//! Meta-test of the campaign generator (`generate(seed, true)`, swarm configs) over 10,000
//! seeds: every op family and every op kind the design calls for is reachable, size-derived
//! values reach every required sink, and shape-to-value channels and tied inputs are common.
//!
//! The measured distribution is printed (`cargo test --test gen_meta -- --nocapture`) and
//! written to `target/gen_meta_distribution.txt`.

use rayon::prelude::*;
use shapefuzz::cli::generate;
use shapefuzz::ir::*;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt::Write as _;

const SEEDS: u64 = 10_000;

/// What one case contributes to the statistics.
#[derive(Default)]
struct Stats {
    families: BTreeSet<Family>,
    kinds: BTreeSet<String>,
    spelled: BTreeSet<String>,
    /// Markers for patterns a kind name alone does not show (sinks fed by sizes, ...).
    patterns: BTreeSet<String>,
    channel: bool,
    tie: bool,
}

/// Whether each node's value is derived from a tensor's size (`x.shape[d]`, `numel`, and
/// Python arithmetic on those), as opposed to a literal or data (`item`, `tolist`).
fn size_derived(case: &Case) -> Vec<bool> {
    let mut out: Vec<bool> = Vec::with_capacity(case.nodes.len());
    for op in &case.nodes {
        let from = |v: &ValueRef| matches!(v, ValueRef::Node(n) if out[*n as usize]);
        let d = match op {
            Op::Size { .. } | Op::Numel { .. } => true,
            Op::IntArith { a, .. }
            | Op::IntMax { a, .. }
            | Op::TrueDiv { a, .. }
            | Op::ToFloat { a }
            | Op::Sqrt { a }
            | Op::Round { a, .. } => from(a),
            _ => false,
        };
        out.push(d);
    }
    out
}

fn has_tie(case: &Case) -> bool {
    let syms: Vec<HashSet<SymId>> = case
        .inputs
        .iter()
        .map(|i| {
            let mut s = vec![];
            i.dims.iter().for_each(|d| d.size.symbols(&mut s));
            s.into_iter().collect()
        })
        .collect();
    let shared =
        (0..syms.len()).any(|a| (a + 1..syms.len()).any(|b| !syms[a].is_disjoint(&syms[b])));
    let tied = case.inputs.iter().enumerate().any(|(i, input)| {
        input
            .dims
            .iter()
            .any(|d| matches!(d.truth, DimTruth::Tied { input, .. } if input as usize != i))
    });
    shared || tied
}

fn stats(case: &Case) -> Stats {
    let mut s = Stats::default();
    let sized = size_derived(case);
    let is_sized = |v: ValueRef| matches!(v, ValueRef::Node(n) if sized[n as usize]);
    for op in &case.nodes {
        s.families.insert(op.family());
        s.kinds.insert(op.kind());
        s.spelled.insert(op.spelled_kind());
        let sinks = op.sinks();
        if !sinks.is_empty() || op.family() == Family::Channel {
            s.channel = true;
        }
        for (sink, v) in sinks {
            if is_sized(v) {
                s.patterns.insert(format!("{}<-size:{sink:?}", op.kind()));
            }
        }
        if let Op::Round {
            a: ValueRef::Node(q),
            f: RoundFn::Int,
        } = op
            && matches!(case.nodes[*q as usize], Op::TrueDiv { .. })
        {
            s.patterns.insert("true_div->round.int".into());
        }
    }
    s.tie = has_tie(case);
    s
}

/// Spelled kinds that must appear.
const REQUIRED_SPELLED: &[&str] = &[
    "append_value:pad",
    "to_tensor:tensor_list",
    "to_tensor:scalar_tensor",
    "to_tensor:as_tensor",
    "to_tensor:new_tensor",
    "to_float",
    "int.floordiv",
    "int.mod",
    "round.ceil",
    "round.floor",
    "round.int",
    "int_max:max_builtin",
    "int_max:sym_max",
    "if",
    "loop",
    "item",
    "tolist",
    "nonzero",
];

/// Ops that must consume a size-derived value in the given sink, and other patterns.
const REQUIRED_PATTERNS: &[&str] = &[
    "append_value<-size:PadValue",
    "full<-size:FillValue",
    "arange<-size:ArangeEnd",
    "arange<-size:ArangeStep",
    "linspace<-size:LinspaceSteps",
    "one_hot<-size:OneHotClasses",
    "topk<-size:TopkK",
    "split<-size:SplitSize",
    "slice<-size:SliceBound",
    "interpolate<-size:InterpolateSize",
    "true_div->round.int",
];

const MIN_KINDS: usize = 40;

#[test]
fn swarm_generator_reaches_everything() {
    let all: Vec<Stats> = (0..SEEDS)
        .into_par_iter()
        .map(|seed| stats(&generate(seed, true)))
        .collect();
    let n = all.len() as f64;
    let pct = |c: usize| 100.0 * c as f64 / n;

    let mut family_cases: BTreeMap<Family, usize> = Family::ALL.iter().map(|f| (*f, 0)).collect();
    let mut kind_cases: BTreeMap<String, usize> = BTreeMap::new();
    let mut spelled_cases: BTreeMap<String, usize> = BTreeMap::new();
    let mut pattern_cases: BTreeMap<String, usize> = BTreeMap::new();
    for s in &all {
        s.families
            .iter()
            .for_each(|f| *family_cases.get_mut(f).unwrap() += 1);
        s.kinds
            .iter()
            .for_each(|k| *kind_cases.entry(k.clone()).or_default() += 1);
        s.spelled
            .iter()
            .for_each(|k| *spelled_cases.entry(k.clone()).or_default() += 1);
        s.patterns
            .iter()
            .for_each(|k| *pattern_cases.entry(k.clone()).or_default() += 1);
    }
    let channel = all.iter().filter(|s| s.channel).count();
    let tie = all.iter().filter(|s| s.tie).count();

    let mut report = String::new();
    let _ = writeln!(
        report,
        "gen_meta: {SEEDS} cases from generate(seed, true), seeds 0..{SEEDS}"
    );
    let _ = writeln!(
        report,
        "shape-to-value channel: {:.1}% of cases",
        pct(channel)
    );
    let _ = writeln!(
        report,
        "tied inputs (a symbol shared by two inputs): {:.1}% of cases",
        pct(tie)
    );
    let _ = writeln!(
        report,
        "distinct op kinds: {} (spelled: {})",
        kind_cases.len(),
        spelled_cases.len()
    );
    let _ = writeln!(
        report,
        "\nper family (% of cases with at least one node of the family):"
    );
    for (f, c) in &family_cases {
        let _ = writeln!(
            report,
            "  {:<15} {:>5.1}%  ({c})",
            format!("{f:?}"),
            pct(*c)
        );
    }
    let _ = writeln!(report, "\nper spelled kind (cases containing it):");
    for (k, c) in &spelled_cases {
        let _ = writeln!(report, "  {k:<28} {c:>6}  {:>5.1}%", pct(*c));
    }
    let _ = writeln!(
        report,
        "\nsize-derived sinks and patterns (cases containing it):"
    );
    for (k, c) in &pattern_cases {
        let _ = writeln!(report, "  {k:<40} {c:>6}  {:>5.1}%", pct(*c));
    }
    println!("{report}");
    let out =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/gen_meta_distribution.txt");
    if let Some(dir) = out.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    std::fs::write(&out, &report).unwrap_or_else(|e| panic!("writing {}: {e}", out.display()));

    let mut missing: Vec<String> = vec![];
    for (f, c) in &family_cases {
        if *c == 0 {
            missing.push(format!("family {f:?}"));
        }
    }
    for k in REQUIRED_SPELLED {
        if !spelled_cases.contains_key(*k) && !kind_cases.contains_key(*k) {
            missing.push(format!("op {k}"));
        }
    }
    for p in REQUIRED_PATTERNS {
        if !pattern_cases.contains_key(*p) {
            missing.push(format!("pattern {p}"));
        }
    }
    if kind_cases.len() < MIN_KINDS {
        missing.push(format!(
            "only {} distinct op kinds, want >= {MIN_KINDS}",
            kind_cases.len()
        ));
    }
    assert!(
        missing.is_empty(),
        "the swarm generator never produced: {missing:#?}\n\n{report}"
    );
    assert!(
        pct(channel) >= 50.0,
        "only {:.1}% of cases have a shape-to-value channel\n\n{report}",
        pct(channel)
    );
    assert!(
        pct(tie) >= 100.0 / 3.0,
        "only {:.1}% of cases tie two inputs\n\n{report}",
        pct(tie)
    );
}
