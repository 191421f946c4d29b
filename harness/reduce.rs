//! Reduction: shrink a case while it keeps showing the same finding.
//!
//! Ordered passes (cvise style) propose smaller candidates: drop an output, replace an op by
//! one of its operands, replace a subgraph by a fresh input, merge equal inputs, make a
//! symbol's dims static, lower an input's rank, shrink sizes toward 2, use canonical
//! spellings, drop probes. Every candidate is compacted and validated before it is tried, so
//! only valid cases reach torch, and keeps every derived size at 2 or more at the export
//! sizes. "Interesting" is a predicate the caller gives (wasm-shrink's `IsInteresting`; for
//! shapefuzz: the same group signature), which returns what it learnt about a case that is.
//! Candidates are deduplicated by hash and tested in parallel, a chunk at a time; the first
//! interesting one in pass order wins, so the result does not depend on timing. The reducer
//! refuses to start when the original is not interesting.

use crate::ir::*;
use std::collections::HashSet;
use std::hash::{Hash, Hasher};

/// A pass: every valid candidate it proposes for a case, in a fixed order.
pub type Pass = fn(&Case) -> Vec<Case>;

/// The passes, by name, in the order they are tried.
pub const PASSES: &[(&str, Pass)] = &[
    ("output an earlier value", output_earlier),
    ("drop output", drop_outputs),
    ("op to operand", op_to_operand),
    ("subgraph to input", subgraph_to_input),
    ("merge inputs", merge_inputs),
    ("static symbol", static_symbol),
    ("lower rank", lower_rank),
    ("shrink sizes", shrink_sizes),
    ("canonical spelling", canonical_spellings),
    ("drop probe", drop_probes),
];

/// Every valid candidate of every pass, in pass order.
pub fn candidates(case: &Case) -> Vec<Case> {
    PASSES.iter().flat_map(|(_, p)| p(case)).collect()
}

/// Compacts, makes specs fit the sizes, and keeps the candidate only if it is valid.
fn finish(mut c: Case) -> Option<Case> {
    let mut seen = HashSet::new();
    c.outputs.retain(|o| seen.insert(*o));
    c.compact();
    for input in &mut c.inputs {
        for d in &mut input.dims {
            let fits = match (&d.spec, &d.size) {
                (DimSpec::Named { .. }, DimExpr::Sym(_)) => true,
                (DimSpec::Derived { k }, DimExpr::Mul(c, _)) => c.as_const() == Some(*k),
                (DimSpec::Named { .. } | DimSpec::Derived { .. }, _) => false,
                (DimSpec::Var { .. }, DimExpr::Sym(_) | DimExpr::Mul(..)) => true,
                (DimSpec::Var { .. }, _) => false,
                _ => true,
            };
            if !fits || (d.truth == DimTruth::Static && d.spec.requests_dynamic()) {
                d.spec = DimSpec::Unspecified;
            }
        }
    }
    c.validate().ok()?;
    // A derived size of 0 or 1 at the export sizes is torch's 0/1 specialization by design:
    // a candidate that needs one shows something else than the finding.
    if c.small_derived_size_at_export().is_some() {
        return None;
    }
    Some(c)
}

fn replace_uses(case: &Case, from: ValueRef, to: ValueRef) -> Case {
    let mut c = case.clone();
    let swap = |v: &mut ValueRef| {
        if *v == from {
            *v = to
        }
    };
    for op in &mut c.nodes {
        op.visit_operands_mut(&mut |v| swap(v));
    }
    c.outputs.iter_mut().for_each(swap);
    c
}

fn is_used(case: &Case, v: ValueRef) -> bool {
    case.outputs.contains(&v) || case.nodes.iter().any(|op| op.operands().contains(&v))
}

/// Everything after a tensor value goes when that value becomes the only output.
fn output_earlier(case: &Case) -> Vec<Case> {
    let Ok(types) = case.infer_types(&[]) else {
        return vec![];
    };
    (0..case.nodes.len() as u32)
        .map(ValueRef::Node)
        .filter(|v| !case.outputs.contains(v) && matches!(types.get(*v), Some(Type::Tensor(_))))
        .filter_map(|v| {
            let mut c = case.clone();
            c.outputs = vec![v];
            finish(c)
        })
        .collect()
}

fn drop_outputs(case: &Case) -> Vec<Case> {
    if case.outputs.len() < 2 {
        return vec![];
    }
    (0..case.outputs.len())
        .filter_map(|i| {
            let mut c = case.clone();
            c.outputs.remove(i);
            finish(c)
        })
        .collect()
}

fn op_to_operand(case: &Case) -> Vec<Case> {
    let mut out = vec![];
    for i in (0..case.nodes.len()).rev() {
        let me = ValueRef::Node(i as u32);
        if !is_used(case, me) {
            continue;
        }
        let mut operands = case.nodes[i].operands();
        operands.dedup();
        for v in operands {
            out.extend(finish(replace_uses(case, me, v)));
        }
    }
    out
}

fn input_dim_form(d: &DimExpr) -> bool {
    match d {
        DimExpr::Const(c) => *c >= 1,
        DimExpr::Sym(_) => true,
        DimExpr::Mul(k, s) => {
            matches!((&**k, &**s), (DimExpr::Const(k), DimExpr::Sym(_)) if *k >= 2)
        }
        _ => false,
    }
}

fn subgraph_to_input(case: &Case) -> Vec<Case> {
    let Ok(types) = case.infer_types(&[]) else {
        return vec![];
    };
    let mut out = vec![];
    for i in (0..case.nodes.len()).rev() {
        let me = ValueRef::Node(i as u32);
        let Some(Type::Tensor(t)) = types.get(me) else {
            continue;
        };
        if !is_used(case, me) || !t.shape.iter().all(input_dim_form) || t.dtype == DType::Bool {
            continue;
        }
        let mut c = case.clone();
        let dims = t
            .shape
            .iter()
            .map(|size| {
                // Ask for what the existing dims with this symbol ask for.
                let spec = case
                    .inputs
                    .iter()
                    .flat_map(|inp| &inp.dims)
                    .find(|d| d.size == *size)
                    .map(|d| d.spec.clone())
                    .unwrap_or(DimSpec::Unspecified);
                InputDim {
                    size: size.clone(),
                    truth: DimTruth::Free,
                    spec,
                }
            })
            .collect();
        c.inputs.push(Input {
            kind: InputKind::Tensor,
            dtype: t.dtype,
            dims,
        });
        let fresh = ValueRef::Input(c.inputs.len() as u32 - 1);
        out.extend(finish(replace_uses(&c, me, fresh)));
    }
    out
}

fn merge_inputs(case: &Case) -> Vec<Case> {
    let mut out = vec![];
    for j in 1..case.inputs.len() {
        for i in 0..j {
            let (a, b) = (&case.inputs[i], &case.inputs[j]);
            let same = a.kind == b.kind
                && a.dtype == b.dtype
                && a.dims
                    .iter()
                    .map(|d| &d.size)
                    .eq(b.dims.iter().map(|d| &d.size));
            if same {
                out.extend(finish(replace_uses(
                    case,
                    ValueRef::Input(j as u32),
                    ValueRef::Input(i as u32),
                )));
            }
        }
    }
    out
}

fn substitute(e: &DimExpr, s: SymId, value: i64) -> DimExpr {
    match e {
        DimExpr::Sym(x) if *x == s => DimExpr::Const(value),
        DimExpr::Mul(a, b) => DimExpr::mul(substitute(a, s, value), substitute(b, s, value)),
        other => other.clone(),
    }
}

fn static_symbol(case: &Case) -> Vec<Case> {
    (0..case.symbol_count())
        .filter_map(|s| {
            let mut c = case.clone();
            for input in &mut c.inputs {
                for d in &mut input.dims {
                    d.size = substitute(&d.size, SymId(s as u32), case.export[s]);
                }
            }
            finish(c)
        })
        .collect()
}

fn lower_rank(case: &Case) -> Vec<Case> {
    let mut out = vec![];
    for (i, input) in case.inputs.iter().enumerate() {
        if input.dims.len() < 2 {
            continue;
        }
        for d in 0..input.dims.len() {
            let mut c = case.clone();
            c.inputs[i].dims.remove(d);
            out.extend(finish(c));
        }
    }
    out
}

fn shrink_sizes(case: &Case) -> Vec<Case> {
    let mut out = vec![];
    for (i, input) in case.inputs.iter().enumerate() {
        for (d, dim) in input.dims.iter().enumerate() {
            if let DimExpr::Const(c) = dim.size
                && c > 2
            {
                let mut cand = case.clone();
                cand.inputs[i].dims[d].size = DimExpr::Const(2);
                out.extend(finish(cand));
            }
        }
    }
    // Example sizes toward 2, keeping them pairwise distinct (torch ties equal sizes).
    for s in 0..case.symbol_count() {
        for target in 2..case.export[s] {
            if case.export.contains(&target) {
                continue;
            }
            let mut c = case.clone();
            c.export[s] = target;
            out.extend(finish(c));
            break;
        }
    }
    out
}

fn canonical_spellings(case: &Case) -> Vec<Case> {
    let mut out = vec![];
    for (i, op) in case.nodes.iter().enumerate() {
        if is_first_spelling(op) {
            continue;
        }
        if let Some(canonical) = op.respellings().into_iter().find(is_first_spelling) {
            let mut c = case.clone();
            c.nodes[i] = canonical;
            out.extend(finish(c));
        }
    }
    out
}

/// The canonical spelling of an op is the first of its spelling enum.
fn is_first_spelling(op: &Op) -> bool {
    match op {
        Op::AppendValue(AppendValue { spelling, .. }) => *spelling == AppendSpelling::ALL[0],
        Op::Size(Size { spelling, .. }) => *spelling == SizeSpelling::ALL[0],
        Op::ToTensor(ToTensor { spelling, .. }) => *spelling == TensorSpelling::ALL[0],
        Op::IntMax(IntMax { spelling, .. }) => *spelling == MaxSpelling::ALL[0],
        Op::Reshape(Reshape { spelling, .. }) => *spelling == ReshapeSpelling::ALL[0],
        _ => true,
    }
}

/// Drops probes, keeping at least one normal probe for the reproducer to show.
fn drop_probes(case: &Case) -> Vec<Case> {
    let normal = case.normal_probes().count();
    (0..case.probes.len())
        .filter(|&i| case.probes[i].edge || normal > 1)
        .filter_map(|i| {
            let mut c = case.clone();
            c.probes.remove(i);
            finish(c)
        })
        .collect()
}

fn case_hash(c: &Case) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    c.to_json().hash(&mut h);
    h.finish()
}

/// How a reduction went.
#[derive(Clone, Debug)]
pub struct Reduced<T> {
    pub case: Case,
    /// What the predicate said of the smallest case.
    pub check: T,
    pub tests: usize,
    pub seconds: f64,
    /// Seconds the tests kept a worker busy, when the caller measures it (`triage::reduce`
    /// does; 0 otherwise): `seconds` less the waits for a free worker.
    pub busy_seconds: f64,
}

type OnNewSmallest<'a, T> = Box<dyn FnMut(&Case, &T) -> anyhow::Result<()> + 'a>;

pub struct Reducer<'a, T> {
    jobs: usize,
    max_tests: usize,
    on_new_smallest: Option<OnNewSmallest<'a, T>>,
    stop: Option<&'a std::sync::atomic::AtomicBool>,
    can_show: Option<CanShow<'a>>,
}

type CanShow<'a> = Box<dyn Fn(&Case) -> bool + Sync + 'a>;

/// What came of testing a list of candidates.
enum Tried<T> {
    Hit(Case, T),
    NoneInteresting,
    /// The budget ran out or the stop flag was set.
    Stop,
}

impl<'a, T: Send> Reducer<'a, T> {
    /// Tests up to `jobs` candidates at once.
    pub fn new(jobs: usize) -> Self {
        Reducer {
            jobs: jobs.max(1),
            max_tests: 400,
            on_new_smallest: None,
            stop: None,
            can_show: None,
        }
    }

    /// Candidates for which `f` is false cannot be interesting (for shapefuzz: they lost
    /// every node of the finding's culprit op and spelling, which its signature names) and
    /// are never tested: the budget goes to the candidates that can keep the finding.
    pub fn only_if(mut self, f: impl Fn(&Case) -> bool + Sync + 'a) -> Self {
        self.can_show = Some(Box::new(f));
        self
    }

    /// Stop (keeping the smallest case so far) once `flag` is set, as by a Ctrl-C.
    pub fn stop_on(mut self, flag: Option<&'a std::sync::atomic::AtomicBool>) -> Self {
        self.stop = flag;
        self
    }

    /// Stop after this many tests, keeping the smallest case so far.
    pub fn max_tests(mut self, n: usize) -> Self {
        self.max_tests = n;
        self
    }

    /// Called with every new smallest case (e.g. to write it atomically); an error stops
    /// the reduction.
    pub fn on_new_smallest(mut self, f: impl FnMut(&Case, &T) -> anyhow::Result<()> + 'a) -> Self {
        self.on_new_smallest = Some(Box::new(f));
        self
    }

    /// Reduces `case` while `interesting` says so. `first` is what the predicate already
    /// said of `case` (a campaign has it); `None` tests `case` first.
    pub fn run(
        mut self,
        case: &Case,
        first: Option<T>,
        interesting: impl Fn(&Case) -> Option<T> + Sync,
    ) -> anyhow::Result<Reduced<T>> {
        let started = std::time::Instant::now();
        let mut tests = 0;
        let first = match first {
            Some(t) => t,
            None => {
                tests += 1;
                interesting(case).ok_or_else(|| {
                    anyhow::anyhow!("the case is not interesting; there is nothing to reduce")
                })?
            }
        };
        let mut current = (case.clone(), first);
        let mut seen: HashSet<u64> = HashSet::from([case_hash(case)]);
        'outer: loop {
            for (_, pass) in PASSES {
                let fresh: Vec<Case> = pass(&current.0)
                    .into_iter()
                    .filter(|c| self.can_show.as_ref().is_none_or(|f| f(c)))
                    .filter(|c| seen.insert(case_hash(c)))
                    .collect();
                match self.try_in_order(&fresh, &mut tests, &interesting) {
                    Tried::Hit(c, r) => {
                        current = (c, r);
                        if let Some(f) = &mut self.on_new_smallest {
                            f(&current.0, &current.1)?;
                        }
                        continue 'outer;
                    }
                    Tried::NoneInteresting => {}
                    Tried::Stop => break 'outer,
                }
            }
            break;
        }
        Ok(Reduced {
            case: current.0,
            check: current.1,
            tests,
            seconds: started.elapsed().as_secs_f64(),
            busy_seconds: 0.0,
        })
    }

    /// Tests `candidates` `jobs` at a time; the first interesting one in their order wins.
    fn try_in_order(
        &self,
        candidates: &[Case],
        tests: &mut usize,
        interesting: &(impl Fn(&Case) -> Option<T> + Sync),
    ) -> Tried<T> {
        for chunk in candidates.chunks(self.jobs) {
            let stopped = self
                .stop
                .is_some_and(|f| f.load(std::sync::atomic::Ordering::Relaxed));
            if *tests >= self.max_tests || stopped {
                return Tried::Stop;
            }
            let results: Vec<Option<T>> = std::thread::scope(|s| {
                let handles: Vec<_> = chunk.iter().map(|c| s.spawn(|| interesting(c))).collect();
                handles
                    .into_iter()
                    .map(|h| h.join().expect("the predicate does not panic"))
                    .collect()
            });
            *tests += chunk.len();
            if let Some((c, r)) = chunk
                .iter()
                .zip(results)
                .find_map(|(c, r)| r.map(|r| (c.clone(), r)))
            {
                return Tried::Hit(c, r);
            }
        }
        Tried::NoneInteresting
    }
}
