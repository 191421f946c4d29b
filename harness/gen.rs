//! Generation: random, valid-by-construction cases from `arbitrary::Unstructured` bytes.
//!
//! Modelled on wasm-smith: `Case::new(&GenConfig, &mut Unstructured)` walks a table of
//! builders (family, weight, builder); a builder only proposes ops whose operands exist, and
//! every proposed op is kept only if `Op::infer` accepts it at the export sizes, every normal
//! probe and a set of witness sizes per symbol, so eager PyTorch is known to accept every
//! probe. When the bytes run out every choice falls back to its first option, and the case
//! closes validly. The same bytes always give the same case.

use crate::ir::*;
use arbitrary::{Arbitrary, Result, Unstructured};

/// Knobs of the generator. `Arbitrary` draws a random configuration (swarm testing: each
/// case sees only some op families, so rarer interactions get room).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenConfig {
    /// Upper bound on builder steps; a step may add one to three nodes.
    pub max_steps: usize,
    /// Upper bound on model inputs, including those created on demand for ties.
    pub max_inputs: usize,
    /// Upper bound on the rank of generated inputs (ops may reach `ir::MAX_RANK`).
    pub max_rank: usize,
    /// Upper bound on distinct size symbols.
    pub max_symbols: usize,
    /// Families the builders may draw from; elementwise ops are always available so that
    /// a case can close.
    pub families: Vec<Family>,
    /// Relative weights of the spec styles `[AUTO, DYNAMIC, named Dim]`.
    pub spec_weights: [u32; 3],
    /// Percent chance that a size operand reuses a size-derived value rather than a literal.
    pub channel_percent: u32,
}

impl Default for GenConfig {
    fn default() -> Self {
        GenConfig {
            max_steps: 8,
            max_inputs: 3,
            max_rank: 3,
            max_symbols: 3,
            families: Family::ALL.to_vec(),
            spec_weights: [5, 2, 3],
            channel_percent: 70,
        }
    }
}

impl<'a> Arbitrary<'a> for GenConfig {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let mut families = vec![Family::Elementwise];
        for f in Family::ALL.iter().skip(1) {
            // Each family is on with probability 3/4.
            if u.int_in_range(0..=3u8)? != 0 {
                families.push(*f);
            }
        }
        Ok(GenConfig {
            max_steps: u.int_in_range(2..=12)?,
            max_inputs: u.int_in_range(2..=4)?,
            max_rank: u.int_in_range(1..=4)?,
            max_symbols: u.int_in_range(1..=4)?,
            families,
            spec_weights: [
                u.int_in_range(1..=5)?,
                u.int_in_range(0..=3)?,
                u.int_in_range(0..=3)?,
            ],
            channel_percent: u.int_in_range(30..=95)?,
        })
    }
}

/// Export sizes come from here: none is a multiple of another or of 2 and 3 times another,
/// so no two input dims share an example size and torch's duck sizing ties nothing the
/// model does not tie. They start at 5 so that sizes derived from them (`n - 2`, `n // 2`)
/// can stay at 2 or more, away from torch's 0/1 specialization.
const EXPORT_SIZES: [i64; 5] = [5, 7, 11, 13, 17];
/// Per-symbol sizes every op must also accept, so most symbols stay free.
const WITNESS_SIZES: [i64; 11] = [2, 3, 4, 5, 6, 7, 8, 9, 15, 32, 64];

impl Case {
    /// Builds a random valid case from the bytes in `u`.
    pub fn new(config: &GenConfig, u: &mut Unstructured) -> Result<Case> {
        let mut b = Builder::start(config, u)?;
        b.run(u)?;
        b.finish(u)
    }
}

impl<'a> Arbitrary<'a> for Case {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let config = GenConfig::arbitrary(u)?;
        Case::new(&config, u)
    }
}

/// The case libFuzzer's bytes stand for (the `fuzz/` targets and `import-artifact` agree on
/// this decoding): a swarm configuration, then the case, from the same bytes.
pub fn case_from_bytes(data: &[u8]) -> Option<Case> {
    Case::arbitrary(&mut Unstructured::new(data)).ok()
}

/// A case from a 64-bit seed: the bytes come from a ChaCha stream, so the same seed gives
/// the same case on every machine.
pub fn case_from_seed(config: &GenConfig, seed: u64) -> Case {
    let bytes = seed_bytes(seed);
    let mut u = Unstructured::new(&bytes);
    Case::new(config, &mut u).expect("generation never fails on a byte stream")
}

/// The case a campaign seed produces: with `swarm`, a generator configuration drawn from the
/// seed's byte stream, then the case from the same stream; else the default configuration.
/// The one ChaCha stream behind every seed (CLI, campaigns, fuzz targets).
pub fn generate(seed: u64, swarm: bool) -> Case {
    if !swarm {
        return case_from_seed(&GenConfig::default(), seed);
    }
    let bytes = seed_bytes(seed);
    let mut u = Unstructured::new(&bytes);
    u.arbitrary::<Case>()
        .expect("generation never fails on a byte stream")
}

/// The 4 KiB of ChaCha8 output a seed stands for.
pub fn seed_bytes(seed: u64) -> Vec<u8> {
    use rand::{RngCore, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut bytes = vec![0u8; 4096];
    rng.fill_bytes(&mut bytes);
    bytes
}

struct Builder<'c> {
    cfg: &'c GenConfig,
    case: Case,
    types: Vec<Type>,
    input_types: Vec<Type>,
    /// Export, normal probes, then witnesses.
    check: Vec<Valuation>,
    used_symbols: usize,
}

type Step = Vec<Op>;

/// Whether a tensor type has a size derived from a symbol that is 0 or 1 at `export`.
fn small_at(t: &Type, export: &[i64]) -> bool {
    t.tensor().is_some_and(|t| {
        t.shape.iter().any(|d| {
            d.as_const().is_none() && !d.has_data() && d.eval(export).is_some_and(|x| x < 2)
        })
    })
}

impl<'c> Builder<'c> {
    fn start(cfg: &'c GenConfig, u: &mut Unstructured) -> Result<Self> {
        let nsym = u.int_in_range(1..=cfg.max_symbols.clamp(1, EXPORT_SIZES.len()))?;
        let mut pool = EXPORT_SIZES.to_vec();
        let mut export = vec![];
        for _ in 0..nsym {
            let i = u.choose_index(pool.len())?;
            export.push(pool.remove(i));
        }
        let mut probes = vec![];
        for s in 0..nsym {
            let mut below = export.clone();
            below[s] = u.int_in_range(2..=export[s] - 1)?;
            let mut above = export.clone();
            above[s] = export[s] + u.int_in_range(1..=4)?;
            probes.push(Probe {
                sizes: below,
                edge: false,
            });
            probes.push(Probe {
                sizes: above,
                edge: false,
            });
        }
        probes.push(Probe {
            sizes: export.iter().map(|x| x + 1).collect(),
            edge: false,
        });
        let mut large = export.clone();
        large[u.choose_index(nsym)?] = 32;
        probes.push(Probe {
            sizes: large,
            edge: false,
        });
        for s in 0..nsym {
            for v in [0, 1] {
                let mut e = export.clone();
                e[s] = v;
                probes.push(Probe {
                    sizes: e,
                    edge: true,
                });
            }
        }
        let mut check: Vec<Valuation> = std::iter::once(export.clone())
            .chain(probes.iter().filter(|p| !p.edge).map(|p| p.sizes.clone()))
            .collect();
        for s in 0..nsym {
            for w in WITNESS_SIZES {
                let mut v = export.clone();
                v[s] = w;
                check.push(v);
            }
        }
        let case = Case {
            schema_version: SCHEMA_VERSION,
            inputs: vec![],
            nodes: vec![],
            outputs: vec![],
            export,
            probes,
        };
        let mut b = Builder {
            cfg,
            case,
            types: vec![],
            input_types: vec![],
            check,
            used_symbols: 0,
        };
        let rank = u.int_in_range(1..=cfg.max_rank.max(1))?;
        let dtype = if u.int_in_range(0..=3u8)? == 0 {
            DType::I64
        } else {
            DType::F32
        };
        b.new_input(u, dtype, rank)?;
        Ok(b)
    }

    fn nsym(&self) -> usize {
        self.case.export.len()
    }

    fn ty(&self, v: ValueRef) -> &Type {
        match v {
            ValueRef::Input(i) => &self.input_types[i as usize],
            ValueRef::Node(n) => &self.types[n as usize],
        }
    }

    fn values(&self) -> impl Iterator<Item = ValueRef> + '_ {
        (0..self.input_types.len() as u32)
            .map(ValueRef::Input)
            .chain((0..self.types.len() as u32).map(ValueRef::Node))
    }

    fn pick(&self, u: &mut Unstructured, pred: impl Fn(&Type) -> bool) -> Result<Option<ValueRef>> {
        let c: Vec<ValueRef> = self.values().filter(|v| pred(self.ty(*v))).collect();
        if c.is_empty() {
            return Ok(None);
        }
        // Favour recent values so chains form instead of fans.
        let i = c.len() - 1 - u.choose_index(c.len())?.min(u.choose_index(c.len())?);
        Ok(Some(c[i]))
    }

    fn pick_tensor(
        &self,
        u: &mut Unstructured,
        pred: impl Fn(&TensorType) -> bool,
    ) -> Result<Option<(ValueRef, TensorType)>> {
        let v = self.pick(u, |t| t.tensor().is_some_and(&pred))?;
        Ok(v.map(|v| (v, self.ty(v).tensor().unwrap().clone())))
    }

    /// A size for a new input dim: a fresh symbol, a shared one, a constant, or `k * s`.
    fn new_dim(&mut self, u: &mut Unstructured) -> Result<DimExpr> {
        let choice = u.int_in_range(0..=9u8)?;
        Ok(match choice {
            0..=5 if self.used_symbols < self.nsym() => {
                self.used_symbols += 1;
                DimExpr::Sym(SymId(self.used_symbols as u32 - 1))
            }
            6 => DimExpr::Const(u.int_in_range(2..=4)?),
            7 if self.used_symbols > 0 => {
                let s = u.int_in_range(0..=self.used_symbols - 1)?;
                DimExpr::mul(
                    DimExpr::Const(u.int_in_range(2..=3)?),
                    DimExpr::Sym(SymId(s as u32)),
                )
            }
            _ if self.used_symbols > 0 => {
                DimExpr::Sym(SymId(u.int_in_range(0..=self.used_symbols - 1)? as u32))
            }
            _ if self.used_symbols < self.nsym() => {
                self.used_symbols += 1;
                DimExpr::Sym(SymId(self.used_symbols as u32 - 1))
            }
            _ => DimExpr::Const(u.int_in_range(2..=4)?),
        })
    }

    fn new_input(&mut self, u: &mut Unstructured, dtype: DType, rank: usize) -> Result<ValueRef> {
        let mut dims = vec![];
        for _ in 0..rank {
            dims.push(self.new_dim(u)?);
        }
        // Too many elements at some witness size: make dims static until it fits.
        for i in (0..dims.len()).rev() {
            if self.fits(&dims) {
                break;
            }
            dims[i] = DimExpr::Const(2);
        }
        Ok(self
            .input_with(dtype, dims)
            .expect("fresh dims are input dims"))
    }

    fn fits(&self, dims: &[DimExpr]) -> bool {
        let numel = dims.iter().cloned().fold(DimExpr::Const(1), DimExpr::mul);
        self.check
            .iter()
            .all(|v| numel.eval(v).is_some_and(|n| n <= MAX_NUMEL))
    }

    /// A new input of exactly this shape, when every dim is an input-dim form.
    fn input_with(&mut self, dtype: DType, dims: Vec<DimExpr>) -> Option<ValueRef> {
        let ok = |d: &DimExpr| match d {
            DimExpr::Const(c) => *c >= 1,
            DimExpr::Sym(_) => true,
            DimExpr::Mul(k, s) => {
                matches!((&**k, &**s), (DimExpr::Const(k), DimExpr::Sym(_)) if *k >= 2)
            }
            _ => false,
        };
        if self.case.inputs.len() >= self.cfg.max_inputs.max(1)
            || !dims.iter().all(ok)
            || !self.fits(&dims)
        {
            return None;
        }
        let input = Input {
            dtype,
            dims: dims
                .into_iter()
                .map(|size| InputDim {
                    size,
                    truth: DimTruth::Free,
                    spec: DimSpec::Unspecified,
                })
                .collect(),
        };
        self.input_types.push(Type::Tensor(input.tensor_type()));
        self.case.inputs.push(input);
        Some(ValueRef::Input(self.case.inputs.len() as u32 - 1))
    }

    /// Tries to append ops; keeps all of them or none.
    fn try_push(&mut self, ops: Step) -> bool {
        let mark = self.types.len();
        for op in &ops {
            let node = self.types.len() as u32;
            let (inputs, nodes) = (&self.input_types, &self.types);
            let lookup = |v: ValueRef| match v {
                ValueRef::Input(i) => inputs.get(i as usize).cloned(),
                ValueRef::Node(n) => nodes.get(n as usize).cloned(),
            };
            let cx = InferCtx {
                types: &lookup,
                valuations: &self.check,
                node,
            };
            match op.infer(&cx) {
                // A derived size of 0 or 1 at the export sizes would be torch's 0/1
                // specialization by design, not a finding.
                Ok(t) if !small_at(&t, &self.case.export) => self.types.push(t),
                _ => {
                    self.types.truncate(mark);
                    return false;
                }
            }
        }
        self.case.nodes.extend(ops);
        true
    }

    fn run(&mut self, u: &mut Unstructured) -> Result<()> {
        let steps = u.int_in_range(1..=self.cfg.max_steps.max(1))?;
        // Half the cases open with a binary op, which usually brings a second input tied to
        // the first: multi-input models with ties are where shape bugs gather.
        if u.arbitrary::<bool>()? {
            let before = self.case.inputs.len();
            let ops = self.build(1, u)?;
            if ops.is_empty() || !self.try_push(ops) {
                self.case.inputs.truncate(before);
                self.input_types.truncate(before);
            }
        }
        for _ in 0..steps {
            if u.is_empty() {
                break;
            }
            for _attempt in 0..6 {
                let inputs_before = self.case.inputs.len();
                let ops = self.propose(u)?;
                if !ops.is_empty() && self.try_push(ops) {
                    break;
                }
                // A rejected proposal must not leave an unused input behind.
                self.case.inputs.truncate(inputs_before);
                self.input_types.truncate(inputs_before);
            }
        }
        Ok(())
    }

    /// A size operand: a size-derived int (possibly creating `x.shape[d]` first) or a literal.
    fn size_arg(
        &self,
        u: &mut Unstructured,
        pre: &mut Step,
        lit: std::ops::RangeInclusive<i64>,
    ) -> Result<SizeArg> {
        if u.int_in_range(0..=99u32)? < self.cfg.channel_percent
            && let Some(v) = self.int_value(u, pre)?
        {
            return Ok(SizeArg::Value(v));
        }
        Ok(SizeArg::Const(u.int_in_range(lit)?))
    }

    /// An existing size-derived int, or a new `x.shape[d]` (maybe with arithmetic) in `pre`.
    fn int_value(&self, u: &mut Unstructured, pre: &mut Step) -> Result<Option<ValueRef>> {
        let channels_on = self.cfg.families.contains(&Family::Channel);
        if (u.arbitrary::<bool>()? || !channels_on)
            && let Some(v) = self.pick(u, |t| matches!(t, Type::Int(_)))?
        {
            return Ok(Some(v));
        }
        if !channels_on {
            return Ok(None);
        }
        let Some((x, t)) =
            self.pick_tensor(u, |t| t.rank() > 0 && t.shape.iter().any(|d| !d.has_data()))?
        else {
            return Ok(None);
        };
        let dim = u.choose_index(t.rank())? as u8;
        let spelling = *u.choose(SizeSpelling::ALL)?;
        let spelling = if spelling == SizeSpelling::Len && dim != 0 {
            SizeSpelling::ShapeIndex
        } else {
            spelling
        };
        let read = self.next_id(pre);
        if u.int_in_range(0..=9u8)? == 0 {
            pre.push(Op::Numel { x });
        } else {
            pre.push(Op::Size { x, dim, spelling });
        }
        match u.int_in_range(0..=9u8)? {
            0 => pre.push(Op::IntArith {
                a: read,
                f: *u.choose(IntFn::ALL)?,
                k: u.int_in_range(1..=3)?,
            }),
            1 => pre.push(Op::IntMax {
                a: read,
                k: u.int_in_range(2..=6)?,
                spelling: *u.choose(MaxSpelling::ALL)?,
            }),
            2 => {
                let q = self.next_id(pre);
                pre.push(Op::TrueDiv { a: read, k: 2 });
                pre.push(Op::Round {
                    a: q,
                    f: *u.choose(RoundFn::ALL)?,
                });
            }
            3 => {
                let f = self.next_id(pre);
                pre.push(Op::ToFloat { a: read });
                pre.push(Op::Round {
                    a: f,
                    f: *u.choose(RoundFn::ALL)?,
                });
            }
            _ => {}
        }
        Ok(Some(ValueRef::Node(self.next_id(pre).index() - 1)))
    }

    /// A scalar for value sinks: a size-derived int or float, or a literal.
    fn scalar_arg(
        &self,
        u: &mut Unstructured,
        pre: &mut Step,
        float_ok: bool,
    ) -> Result<ScalarArg> {
        let a = self.size_arg(u, pre, 0..=5)?;
        if float_ok
            && let SizeArg::Value(v) = a
            && u.int_in_range(0..=3u8)? == 0
        {
            let n = self.types.len() as u32 + pre.len() as u32;
            pre.push(match u.int_in_range(0..=2u8)? {
                0 => Op::ToFloat { a: v },
                1 => Op::TrueDiv { a: v, k: 2 },
                _ => Op::Sqrt { a: v },
            });
            return Ok(SizeArg::Value(ValueRef::Node(n)));
        }
        Ok(a)
    }

    fn next_id(&self, pre: &Step) -> ValueRef {
        ValueRef::Node(self.types.len() as u32 + pre.len() as u32)
    }

    /// A second operand shaped like `t` (optionally with dim `except` free): an existing
    /// value, or a new input that shares `t`'s symbols — the way ties enter a case.
    fn partner(
        &mut self,
        u: &mut Unstructured,
        t: &TensorType,
        except: Option<usize>,
    ) -> Result<Option<ValueRef>> {
        let same = |o: &TensorType| {
            o.dtype == t.dtype
                && o.rank() == t.rank()
                && o.shape
                    .iter()
                    .zip(&t.shape)
                    .enumerate()
                    .all(|(i, (a, b))| Some(i) == except || a == b)
        };
        // Mostly a new input: that is how ties between inputs arise.
        if u.int_in_range(0..=3u8)? == 0
            && let Some((v, _)) = self.pick_tensor(u, same)?
        {
            return Ok(Some(v));
        }
        let mut dims = t.shape.clone();
        if let Some(e) = except {
            dims[e] = self.new_dim(u)?;
        }
        Ok(self.input_with(t.dtype, dims))
    }

    fn families_on(&self, f: Family) -> bool {
        self.cfg.families.contains(&f)
    }

    fn propose(&mut self, u: &mut Unstructured) -> Result<Step> {
        // (family, weight, builder index). Index 0 must always be able to build something.
        const TABLE: &[(Family, u32)] = &[
            (Family::Elementwise, 3),   // 0 unary
            (Family::Elementwise, 6),   // 1 binary
            (Family::Elementwise, 2),   // 2 scalar arith
            (Family::Elementwise, 2),   // 3 clamp
            (Family::Elementwise, 1),   // 4 masked_fill
            (Family::Reduction, 3),     // 5 reduce
            (Family::Reduction, 1),     // 6 max_all
            (Family::Reduction, 1),     // 7 cumsum
            (Family::Reduction, 1),     // 8 topk
            (Family::Matmul, 2),        // 9 matmul
            (Family::Shape, 2),         // 10 reshape
            (Family::Shape, 1),         // 11 flatten
            (Family::Shape, 1),         // 12 unflatten
            (Family::Shape, 2),         // 13 permute / transpose
            (Family::Shape, 2),         // 14 squeeze / unsqueeze
            (Family::Shape, 1),         // 15 interpolate
            (Family::Join, 2),          // 16 cat / stack
            (Family::Join, 2),          // 17 split / chunk
            (Family::Join, 2),          // 18 narrow / slice
            (Family::Join, 2),          // 19 index_select / gather
            (Family::Pad, 1),           // 20 pad
            (Family::Pad, 3),           // 21 append value
            (Family::Expand, 2),        // 22 expand / repeat / expand_as
            (Family::Factory, 3),       // 23 arange
            (Family::Factory, 3),       // 24 full / zeros / ones
            (Family::Factory, 1),       // 25 eye / linspace
            (Family::Factory, 2),       // 26 one_hot
            (Family::Factory, 1),       // 27 tril
            (Family::Channel, 3),       // 28 to_tensor
            (Family::Control, 2),       // 29 if
            (Family::Control, 1),       // 30 loop
            (Family::DataDependent, 2), // 31 item / tolist
            (Family::DataDependent, 2), // 32 nonzero / masked_select / unique / repeat_interleave
        ];
        let enabled: Vec<usize> = (0..TABLE.len())
            .filter(|&i| self.families_on(TABLE[i].0))
            .collect();
        let total: u32 = enabled.iter().map(|&i| TABLE[i].1).sum();
        let mut r = u.int_in_range(0..=total - 1)?;
        let mut which = enabled[0];
        for &i in &enabled {
            if r < TABLE[i].1 {
                which = i;
                break;
            }
            r -= TABLE[i].1;
        }
        self.build(which, u)
    }

    fn build(&mut self, which: usize, u: &mut Unstructured) -> Result<Step> {
        let mut pre: Step = vec![];
        let any = |_: &TensorType| true;
        let float = |t: &TensorType| t.dtype == DType::F32;
        let ranked = |t: &TensorType| t.rank() > 0;
        macro_rules! tensor {
            ($p:expr) => {
                match self.pick_tensor(u, $p)? {
                    Some(x) => x,
                    None => return Ok(vec![]),
                }
            };
        }
        let op = match which {
            0 => {
                let (x, t) = tensor!(|t: &TensorType| t.dtype != DType::Bool);
                let fs: Vec<UnaryFn> = UnaryFn::ALL
                    .iter()
                    .copied()
                    .filter(|f| t.dtype == DType::F32 || f.name().len() <= 4)
                    .collect();
                let f = *u.choose(&fs)?;
                let f = if t.dtype != DType::F32
                    && !matches!(f, UnaryFn::Relu | UnaryFn::Neg | UnaryFn::Abs)
                {
                    UnaryFn::Relu
                } else {
                    f
                };
                Op::Unary { x, f }
            }
            1 => {
                let (a, t) = tensor!(|t: &TensorType| t.dtype != DType::Bool);
                let b = if u.int_in_range(0..=2u8)? == 0 && t.rank() > 0 {
                    // Broadcast against a reduced copy of the tensor: keepdim gives a 1.
                    let d = u.choose_index(t.rank())? as u8;
                    let id = self.next_id(&pre);
                    pre.push(Op::Reduce {
                        x: a,
                        f: ReduceFn::Sum,
                        dim: d,
                        keepdim: true,
                    });
                    id
                } else {
                    match self.partner(u, &t, None)? {
                        Some(b) => b,
                        None => a,
                    }
                };
                let (a, b) = if u.arbitrary()? { (a, b) } else { (b, a) };
                Op::Binary {
                    a,
                    b,
                    f: *u.choose(BinaryFn::ALL)?,
                }
            }
            2 => {
                let (x, t) = tensor!(|t: &TensorType| t.dtype != DType::Bool);
                let s = match self.scalar_arg(u, &mut pre, t.dtype == DType::F32)? {
                    SizeArg::Value(v) => v,
                    SizeArg::Const(_) => return Ok(vec![]),
                };
                Op::ScalarArith {
                    x,
                    s,
                    f: *u.choose(ScalarFn::ALL)?,
                }
            }
            3 => {
                let (x, t) = tensor!(|t: &TensorType| t.dtype != DType::Bool);
                let min = self.scalar_arg(u, &mut pre, t.dtype == DType::F32)?;
                let max = if u.arbitrary()? {
                    Some(self.scalar_arg(u, &mut pre, t.dtype == DType::F32)?)
                } else {
                    None
                };
                Op::Clamp { x, min, max }
            }
            4 => {
                let (x, t) = tensor!(|t: &TensorType| t.dtype != DType::Bool);
                Op::MaskedFill {
                    x,
                    value: self.scalar_arg(u, &mut pre, t.dtype == DType::F32)?,
                }
            }
            5 => {
                let (x, t) = tensor!(ranked);
                let f = *u.choose(ReduceFn::ALL)?;
                Op::Reduce {
                    x,
                    f,
                    dim: u.choose_index(t.rank())? as u8,
                    keepdim: u.arbitrary()?,
                }
            }
            6 => Op::MaxAll { x: tensor!(any).0 },
            7 => {
                let (x, t) = tensor!(ranked);
                Op::Cumsum {
                    x,
                    dim: u.choose_index(t.rank())? as u8,
                }
            }
            8 => {
                let (x, t) = tensor!(|t: &TensorType| float(t) && ranked(t));
                let dim = u.choose_index(t.rank())? as u8;
                Op::Topk {
                    x,
                    k: self.size_arg(u, &mut pre, 1..=2)?,
                    dim,
                }
            }
            9 => {
                let (a, t) = tensor!(|t: &TensorType| float(t) && t.rank() >= 2);
                let k = t.shape[t.rank() - 1].clone();
                let m = self.new_dim(u)?;
                let b =
                    match self.pick_tensor(u, |o| float(o) && o.rank() == 2 && o.shape[0] == k)? {
                        Some((b, _)) if u.arbitrary()? => b,
                        _ => match self.input_with(DType::F32, vec![k, m]) {
                            Some(b) => b,
                            None => return Ok(vec![]),
                        },
                    };
                Op::Matmul { a, b }
            }
            10 => {
                let (x, t) = tensor!(ranked);
                let spelling = *u.choose(ReshapeSpelling::ALL)?;
                let shape = match u.int_in_range(0..=3u8)? {
                    0 => vec![ReshapeArg::Infer],
                    1 => vec![ReshapeArg::Infer, ReshapeArg::Size(SizeArg::Const(1))],
                    2 => vec![ReshapeArg::Size(SizeArg::Const(1)), ReshapeArg::Infer],
                    _ => {
                        let d = u.choose_index(t.rank())?;
                        let id = self.next_id(&pre);
                        pre.push(Op::Size {
                            x,
                            dim: d as u8,
                            spelling: SizeSpelling::ShapeIndex,
                        });
                        let mut sz = id;
                        if let DimExpr::Mul(..) = t.shape[d]
                            && u.arbitrary()?
                        {
                            // `int(n / 2)` on an even dim: pytorch issue 138853's pattern.
                            let half = self.next_id(&pre);
                            pre.push(Op::TrueDiv { a: id, k: 2 });
                            sz = self.next_id(&pre);
                            pre.push(Op::Round {
                                a: half,
                                f: RoundFn::Int,
                            });
                        }
                        vec![ReshapeArg::Size(SizeArg::Value(sz)), ReshapeArg::Infer]
                    }
                };
                Op::Reshape { x, shape, spelling }
            }
            11 => {
                let (x, t) = tensor!(|t: &TensorType| t.rank() >= 2);
                let s = u.int_in_range(0..=t.rank() - 2)?;
                let e = u.int_in_range(s + 1..=t.rank() - 1)?;
                Op::Flatten {
                    x,
                    start: s as u8,
                    end: e as u8,
                }
            }
            12 => {
                let (x, t) =
                    tensor!(|t: &TensorType| t.shape.iter().any(|d| matches!(d, DimExpr::Mul(..))));
                let d = t
                    .shape
                    .iter()
                    .position(|d| matches!(d, DimExpr::Mul(..)))
                    .unwrap();
                let DimExpr::Mul(k, _) = &t.shape[d] else {
                    unreachable!()
                };
                let outer = match u.int_in_range(0..=1u8)? {
                    0 => SizeArg::Const(k.as_const().unwrap_or(1)),
                    _ => self.size_arg(u, &mut pre, 1..=2)?,
                };
                Op::Unflatten {
                    x,
                    dim: d as u8,
                    outer,
                }
            }
            13 => {
                let (x, t) = tensor!(|t: &TensorType| t.rank() >= 2);
                if u.arbitrary()? {
                    let mut perm: Vec<u8> = (0..t.rank() as u8).collect();
                    for i in (1..perm.len()).rev() {
                        let j = u.int_in_range(0..=i)?;
                        perm.swap(i, j);
                    }
                    Op::Permute { x, perm }
                } else {
                    Op::Transpose {
                        x,
                        d0: u.choose_index(t.rank())? as u8,
                        d1: u.choose_index(t.rank())? as u8,
                    }
                }
            }
            14 => {
                let (x, t) = tensor!(any);
                match t.shape.iter().position(|d| *d == DimExpr::Const(1)) {
                    Some(d) if u.arbitrary()? => Op::Squeeze { x, dim: d as u8 },
                    _ => Op::Unsqueeze {
                        x,
                        dim: u.int_in_range(0..=t.rank())? as u8,
                    },
                }
            }
            15 => {
                let (x, t) = tensor!(|t: &TensorType| float(t) && (1..=3).contains(&t.rank()));
                let mut x = x;
                for _ in t.rank()..3 {
                    let id = self.next_id(&pre);
                    pre.push(Op::Unsqueeze { x, dim: 0 });
                    x = id;
                }
                Op::Interpolate {
                    x,
                    size: self.size_arg(u, &mut pre, 1..=6)?,
                }
            }
            16 => {
                let (a, t) = tensor!(ranked);
                let d = u.choose_index(t.rank())?;
                if u.arbitrary()? {
                    let b = self.partner(u, &t, Some(d))?.unwrap_or(a);
                    Op::Cat {
                        xs: vec![a, b],
                        dim: d as u8,
                    }
                } else {
                    let b = self.partner(u, &t, None)?.unwrap_or(a);
                    Op::Stack {
                        xs: vec![a, b],
                        dim: u.int_in_range(0..=t.rank())? as u8,
                    }
                }
            }
            17 => {
                let (x, t) = tensor!(ranked);
                let dim = u.choose_index(t.rank())? as u8;
                if u.arbitrary()? {
                    Op::Split {
                        x,
                        size: self.size_arg(u, &mut pre, 1..=3)?,
                        dim,
                    }
                } else {
                    Op::Chunk {
                        x,
                        chunks: u.int_in_range(1..=3)?,
                        dim,
                    }
                }
            }
            18 => {
                let (x, t) = tensor!(ranked);
                let dim = u.choose_index(t.rank())? as u8;
                if u.arbitrary()? {
                    Op::Narrow {
                        x,
                        dim,
                        start: SizeArg::Const(u.int_in_range(0..=1)?),
                        len: self.size_arg(u, &mut pre, 1..=2)?,
                    }
                } else {
                    let start = SizeArg::Const(u.int_in_range(0..=1)?);
                    Op::Slice {
                        x,
                        dim,
                        start,
                        end: self.size_arg(u, &mut pre, 1..=4)?,
                    }
                }
            }
            19 => {
                let (x, t) = tensor!(ranked);
                let dim = u.choose_index(t.rank())? as u8;
                if u.arbitrary()? {
                    Op::IndexSelect {
                        x,
                        dim,
                        len: self.size_arg(u, &mut pre, 1..=2)?,
                    }
                } else {
                    Op::Gather { x, dim }
                }
            }
            20 => Op::Pad {
                x: tensor!(ranked).0,
                before: u.int_in_range(0..=2)?,
                after: u.int_in_range(0..=2)?,
            },
            21 => {
                let (x, _) = tensor!(|t: &TensorType| t.rank() == 1 && t.dtype != DType::Bool);
                let Some(value) = self.int_value(u, &mut pre)? else {
                    return Ok(vec![]);
                };
                Op::AppendValue {
                    x,
                    value,
                    spelling: *u.choose(AppendSpelling::ALL)?,
                }
            }
            22 => {
                let (x, t) = tensor!(ranked);
                match u.int_in_range(0..=2u8)? {
                    0 => match t.shape.iter().position(|d| *d == DimExpr::Const(1)) {
                        Some(d) => Op::Expand {
                            x,
                            dim: d as u8,
                            size: self.size_arg(u, &mut pre, 2..=4)?,
                        },
                        None => {
                            let id = self.next_id(&pre);
                            pre.push(Op::Unsqueeze { x, dim: 0 });
                            Op::Expand {
                                x: id,
                                dim: 0,
                                size: self.size_arg(u, &mut pre, 2..=4)?,
                            }
                        }
                    },
                    1 => {
                        let mut reps = vec![];
                        for _ in 0..t.rank() {
                            reps.push(u.int_in_range(1..=2)?);
                        }
                        Op::Repeat { x, reps }
                    }
                    _ => {
                        let (other, _) = tensor!(|o: &TensorType| o.rank() >= t.rank());
                        Op::ExpandAs { x, other }
                    }
                }
            }
            23 => {
                if u.int_in_range(0..=3u8)? == 0
                    && let Some((x, _)) = self.pick_tensor(u, |t| {
                        t.dtype == DType::I64 && t.lo.is_some_and(|l| l >= 0) && t.rank() > 0
                    })?
                {
                    // `torch.arange(t.max())`: the seed document's data-dependent end.
                    let id = self.next_id(&pre);
                    pre.push(Op::MaxAll { x });
                    Op::Arange {
                        end: SizeArg::Value(id),
                        step: None,
                    }
                } else {
                    let end = self.size_arg(u, &mut pre, 1..=6)?;
                    let step = if u.int_in_range(0..=3u8)? == 0 {
                        Some(if u.arbitrary()? {
                            SizeArg::Const(2)
                        } else {
                            self.size_arg(u, &mut pre, 1..=3)?
                        })
                    } else {
                        None
                    };
                    Op::Arange { end, step }
                }
            }
            24 => {
                let rank = u.int_in_range(1..=2)?;
                let mut shape = vec![];
                for _ in 0..rank {
                    shape.push(self.size_arg(u, &mut pre, 1..=4)?);
                }
                match u.int_in_range(0..=3u8)? {
                    0 => Op::Zeros { shape },
                    1 => Op::Ones { shape },
                    _ => Op::Full {
                        shape,
                        fill: self.scalar_arg(u, &mut pre, true)?,
                    },
                }
            }
            25 => {
                if u.arbitrary()? {
                    Op::Eye {
                        n: self.size_arg(u, &mut pre, 1..=4)?,
                    }
                } else {
                    Op::Linspace {
                        steps: self.size_arg(u, &mut pre, 1..=5)?,
                    }
                }
            }
            26 => {
                let (x, _) = tensor!(|t: &TensorType| t.dtype == DType::I64
                    && t.lo.is_some_and(|l| l >= 0)
                    && t.hi.is_some()
                    && t.rank() <= 3);
                Op::OneHot {
                    x,
                    classes: self.size_arg(u, &mut pre, 2..=4)?,
                }
            }
            27 => Op::Tril {
                x: tensor!(|t: &TensorType| t.rank() >= 2).0,
            },
            28 => {
                let s = match self.scalar_arg(u, &mut pre, true)? {
                    SizeArg::Value(v) => v,
                    SizeArg::Const(_) => return Ok(vec![]),
                };
                let spelling = *u.choose(TensorSpelling::ALL)?;
                let like = match spelling {
                    TensorSpelling::NewTensor => {
                        Some(tensor!(|t: &TensorType| t.dtype != DType::Bool).0)
                    }
                    _ => None,
                };
                Op::ToTensor { s, spelling, like }
            }
            29 => {
                let (x, t) = tensor!(|t: &TensorType| t.dtype != DType::Bool);
                let Some(a) = self.int_value(u, &mut pre)? else {
                    return Ok(vec![]);
                };
                let cond = self.next_id(&pre);
                pre.push(Op::Compare {
                    a,
                    cmp: *u.choose(CmpFn::ALL)?,
                    k: u.int_in_range(2..=8)?,
                });
                let fs: Vec<UnaryFn> = UnaryFn::ALL
                    .iter()
                    .copied()
                    .filter(|f| {
                        t.dtype == DType::F32
                            || matches!(f, UnaryFn::Relu | UnaryFn::Neg | UnaryFn::Abs)
                    })
                    .collect();
                Op::If {
                    cond,
                    x,
                    then_f: *u.choose(&fs)?,
                    else_f: *u.choose(&fs)?,
                }
            }
            30 => {
                let (x, _) = tensor!(|t: &TensorType| t.dtype != DType::Bool);
                let Some(count) = self.int_value(u, &mut pre)? else {
                    return Ok(vec![]);
                };
                Op::Loop { count, x }
            }
            31 => {
                let (x, t) = tensor!(|t: &TensorType| t.dtype == DType::I64
                    && t.lo.is_some_and(|l| l >= 0)
                    && t.rank() > 0);
                let value = if u.arbitrary()? || t.rank() != 1 {
                    let id = self.next_id(&pre);
                    pre.push(Op::MaxAll { x });
                    let item = self.next_id(&pre);
                    pre.push(Op::Item { x: id });
                    item
                } else {
                    let item = self.next_id(&pre);
                    pre.push(Op::ToList { x, index: 0 });
                    item
                };
                // A data-dependent size must feed a size to matter.
                match u.int_in_range(0..=2u8)? {
                    0 => Op::Arange {
                        end: SizeArg::Value(value),
                        step: None,
                    },
                    1 => Op::Zeros {
                        shape: vec![SizeArg::Value(value)],
                    },
                    _ => Op::Full {
                        shape: vec![SizeArg::Const(2)],
                        fill: SizeArg::Value(value),
                    },
                }
            }
            _ => {
                let (x, t) = tensor!(ranked);
                match u.int_in_range(0..=3u8)? {
                    0 => Op::Nonzero { x },
                    1 => Op::MaskedSelect { x },
                    2 if t.dtype == DType::I64 => Op::Unique { x },
                    _ if t.dtype == DType::I64 && t.rank() == 1 && t.lo.is_some_and(|l| l >= 0) => {
                        Op::RepeatInterleave { x }
                    }
                    _ => Op::Nonzero { x },
                }
            }
        };
        pre.push(op);
        Ok(pre)
    }

    fn finish(mut self, u: &mut Unstructured) -> Result<Case> {
        if !self.types.iter().any(|t| t.tensor().is_some()) {
            // Nothing tensor-valued was built: close with the simplest valid op.
            let ok = self.try_push(vec![Op::Unary {
                x: ValueRef::Input(0),
                f: UnaryFn::Relu,
            }]);
            debug_assert!(ok);
        }
        let unused = self.case.unused_values();
        self.case.outputs = unused
            .into_iter()
            .filter(|v| self.ty(*v).tensor().is_some())
            .collect();
        if self.case.outputs.is_empty() {
            let last = (0..self.types.len())
                .rev()
                .find(|&i| self.types[i].tensor().is_some())
                .unwrap();
            self.case.outputs.push(ValueRef::Node(last as u32));
        }
        self.case.compact();
        let style = {
            let w = self.cfg.spec_weights;
            let total = (w[0] + w[1] + w[2]).max(1);
            let r = u.int_in_range(0..=total - 1)?;
            if r < w[0] {
                0
            } else if r < w[0] + w[1] {
                1
            } else {
                2
            }
        };
        let static_spec = u.arbitrary::<bool>()?;
        for input in &mut self.case.inputs {
            for d in &mut input.dims {
                d.spec = match (&d.truth, style) {
                    (DimTruth::Static, _) => {
                        if static_spec {
                            DimSpec::Static
                        } else {
                            DimSpec::Unspecified
                        }
                    }
                    (_, 0) => DimSpec::Auto,
                    (_, 1) => DimSpec::Dynamic,
                    (DimTruth::MultipleOf { k }, _) => DimSpec::Derived { k: *k },
                    (DimTruth::Bounded { runs }, _) => DimSpec::Named {
                        min: runs.first().map(|r| r[0]).filter(|&m| m > 2),
                        max: runs.last().map(|r| r[1]).filter(|&m| m < SCAN_MAX),
                    },
                    _ => DimSpec::Named {
                        min: None,
                        max: None,
                    },
                };
            }
        }
        // Derived dims need their root named; under a named style every dim of the root's
        // symbol is named, under AUTO/DYNAMIC no Derived spec is produced.
        Ok(self.case)
    }
}
