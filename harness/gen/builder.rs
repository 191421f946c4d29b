//! The builder core: the case under construction and what every family's builders draw
//! from. It owns the inputs and symbols (a new input, a tie to an old dim, an int or a list
//! of ints as a size), the sizes and values an op can read (`x.shape[d]`, arithmetic chains
//! on them, floats, conditions), and the step loop: a builder proposes ops, and a step is
//! kept only if every op of it type-checks at the export sizes, every normal probe and the
//! witness sizes, so every case is valid by construction.

use super::*;

impl<'c> Builder<'c> {
    pub(in crate::r#gen) fn start(cfg: &'c GenConfig, u: &mut Unstructured) -> Result<Self> {
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
            assumptions: vec![],
            deferred_asserts: false,
            additional_inputs: vec![],
            shapes_collection: false,
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

    pub(in crate::r#gen) fn nsym(&self) -> usize {
        self.case.export.len()
    }

    pub(in crate::r#gen) fn ty(&self, v: ValueRef) -> &Type {
        match v {
            ValueRef::Input(i) => &self.input_types[i as usize],
            ValueRef::Node(n) => &self.types[n as usize],
        }
    }

    pub(in crate::r#gen) fn values(&self) -> impl Iterator<Item = ValueRef> + '_ {
        (0..self.input_types.len() as u32)
            .map(ValueRef::Input)
            .chain((0..self.types.len() as u32).map(ValueRef::Node))
    }

    pub(in crate::r#gen) fn pick(
        &self,
        u: &mut Unstructured,
        pred: impl Fn(&Type) -> bool,
    ) -> Result<Option<ValueRef>> {
        let c: Vec<ValueRef> = self.values().filter(|v| pred(self.ty(*v))).collect();
        if c.is_empty() {
            return Ok(None);
        }
        // Favour recent values so chains form instead of fans.
        let i = c.len() - 1 - u.choose_index(c.len())?.min(u.choose_index(c.len())?);
        Ok(Some(c[i]))
    }

    pub(in crate::r#gen) fn pick_tensor(
        &self,
        u: &mut Unstructured,
        pred: impl Fn(&TensorType) -> bool,
    ) -> Result<Option<(ValueRef, TensorType)>> {
        let v = self.pick(u, |t| t.tensor().is_some_and(&pred))?;
        Ok(v.map(|v| (v, self.ty(v).tensor().unwrap().clone())))
    }

    /// A size for a new input dim: a fresh symbol, a shared one, a constant, or `k * s`.
    pub(in crate::r#gen) fn new_dim(&mut self, u: &mut Unstructured) -> Result<DimExpr> {
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

    pub(in crate::r#gen) fn new_input(
        &mut self,
        u: &mut Unstructured,
        dtype: DType,
        rank: usize,
    ) -> Result<ValueRef> {
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

    pub(in crate::r#gen) fn fits(&self, dims: &[DimExpr]) -> bool {
        let numel = product(dims);
        self.check
            .iter()
            .all(|v| numel.eval(v).is_some_and(|n| n <= MAX_NUMEL))
    }

    /// A new input of exactly this shape, when every dim is an input-dim form.
    pub(in crate::r#gen) fn input_with(
        &mut self,
        dtype: DType,
        dims: Vec<DimExpr>,
    ) -> Option<ValueRef> {
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
            kind: InputKind::Tensor,
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
        self.input_types.push(input.value_type());
        self.case.inputs.push(input);
        Some(ValueRef::Input(self.case.inputs.len() as u32 - 1))
    }

    /// A new Python int model input (`forward(self, x, n)`), on a new or an existing symbol
    /// (a length passed beside the tensor it measures), or `None` when no input is left.
    pub(in crate::r#gen) fn int_input(&mut self, u: &mut Unstructured) -> Result<Option<ValueRef>> {
        if !self.room_for_scalar_input() {
            return Ok(None);
        }
        let size = self.int_input_value(u)?;
        Ok(Some(self.push_input(Input::int(size))))
    }

    /// `ns: list[int]` with 2 or 3 elements, each a new or an existing symbol or a constant,
    /// and `ns[i]` read from it in `pre`.
    pub(in crate::r#gen) fn int_list_input(
        &mut self,
        u: &mut Unstructured,
        pre: &mut Step,
    ) -> Result<Option<ValueRef>> {
        if !self.room_for_scalar_input() {
            return Ok(None);
        }
        let mut dims = vec![];
        for _ in 0..u.int_in_range(2..=3)? {
            dims.push(InputDim {
                size: self.int_input_value(u)?,
                truth: DimTruth::Free,
                spec: DimSpec::Unspecified,
            });
        }
        let n = dims.len();
        let list = self.push_input(Input {
            kind: InputKind::IntList,
            dtype: DType::I64,
            dims,
        });
        let id = self.next_id(pre);
        pre.push(Op::ListItem(ListItem {
            x: list,
            index: u.int_in_range(0..=n - 1)? as u8,
        }));
        Ok(Some(id))
    }

    /// A Python float (`s: float`, a multiple of 0.5) or bool input: torch burns these in.
    pub(in crate::r#gen) fn constant_input(
        &mut self,
        u: &mut Unstructured,
        kind: InputKind,
    ) -> Result<Option<ValueRef>> {
        if !self.room_for_scalar_input() {
            return Ok(None);
        }
        let value = match kind {
            InputKind::Bool => u.int_in_range(0..=1)?,
            _ => u.int_in_range(1..=8)?,
        };
        Ok(Some(self.push_input(Input {
            kind,
            dtype: DType::F32,
            dims: vec![InputDim {
                size: DimExpr::Const(value),
                truth: DimTruth::Static,
                spec: DimSpec::Unspecified,
            }],
        })))
    }

    pub(in crate::r#gen) fn room_for_scalar_input(&self) -> bool {
        let first_is_tensor = self
            .case
            .inputs
            .first()
            .is_some_and(|i| i.kind == InputKind::Tensor);
        first_is_tensor && self.case.inputs.len() < self.cfg.max_inputs.max(1)
    }

    pub(in crate::r#gen) fn int_input_value(&mut self, u: &mut Unstructured) -> Result<DimExpr> {
        Ok(match self.new_dim(u)? {
            DimExpr::Mul(_, s) => *s,
            other => other,
        })
    }

    pub(in crate::r#gen) fn push_input(&mut self, input: Input) -> ValueRef {
        self.input_types.push(input.value_type());
        self.case.inputs.push(input);
        ValueRef::Input(self.case.inputs.len() as u32 - 1)
    }

    /// Tries to append ops; keeps all of them or none.
    pub(in crate::r#gen) fn try_push(&mut self, ops: Step) -> bool {
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
                Ok(t)
                    if !small_at(&t, &self.case.export)
                        && !op_makes_small_piece(op, &lookup, &self.case.export) =>
                {
                    self.types.push(t)
                }
                _ => {
                    self.types.truncate(mark);
                    return false;
                }
            }
        }
        self.case.nodes.extend(ops);
        true
    }

    pub(in crate::r#gen) fn run(&mut self, u: &mut Unstructured) -> Result<()> {
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
    pub(in crate::r#gen) fn size_arg(
        &mut self,
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
    pub(in crate::r#gen) fn int_value(
        &mut self,
        u: &mut Unstructured,
        pre: &mut Step,
    ) -> Result<Option<ValueRef>> {
        let Some(read) = self.size_read(u, pre)? else {
            return Ok(None);
        };
        // Real model code rarely uses a size as read: chains like `(n - 1) // s + 1` and
        // `H * W` are the rule (see harness/gen/SURVEY.md).
        let mut cur = read;
        let steps = u.int_in_range(0..=self.cfg.max_chain)?;
        for _ in 0..steps {
            cur = self.arith_step(u, pre, cur)?;
        }
        Ok(Some(cur))
    }

    /// An existing size-derived int, or a new read of a size (`x.shape[d]`, `x.size(d)`,
    /// `len(x)`, `_, n = x.shape`, `x.numel()`, `x.dim()`) in `pre`.
    pub(in crate::r#gen) fn size_read(
        &mut self,
        u: &mut Unstructured,
        pre: &mut Step,
    ) -> Result<Option<ValueRef>> {
        let channels_on = self.cfg.families.contains(&Family::Channel);
        if (u.arbitrary::<bool>()? || !channels_on)
            && let Some(v) = self.pick(u, |t| matches!(t, Type::Int(_)))?
        {
            return Ok(Some(v));
        }
        if !channels_on {
            return Ok(None);
        }
        match u.int_in_range(0..=15u8)? {
            0 | 1 => {
                if let Some(n) = self.int_input(u)? {
                    return Ok(Some(n));
                }
            }
            2 => {
                if let Some(n) = self.int_list_input(u, pre)? {
                    return Ok(Some(n));
                }
            }
            _ => {}
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
        match u.int_in_range(0..=19u8)? {
            0 | 1 => pre.push(Op::Numel(Numel { x })),
            2 => pre.push(Op::NDim(NDim { x })),
            3 => pre.push(Op::Stride(Stride { x, dim })),
            _ => pre.push(Op::Size(Size { x, dim, spelling })),
        }
        Ok(Some(read))
    }

    /// One step of arithmetic on a size-derived int, in `pre`.
    pub(in crate::r#gen) fn arith_step(
        &mut self,
        u: &mut Unstructured,
        pre: &mut Step,
        cur: ValueRef,
    ) -> Result<ValueRef> {
        let id = self.next_id(pre);
        match u.int_in_range(0..=10u8)? {
            0..=4 => {
                let f = *u.choose(IntFn::ALL)?;
                let k = match f {
                    IntFn::FloorDiv | IntFn::Mod => *u.choose(&[2, 3, 4, 8, 16, 32])?,
                    IntFn::Add | IntFn::Sub | IntFn::RSub => *u.choose(&[1, 2, 3, 4, 8, 16])?,
                    IntFn::Mul => u.int_in_range(2..=4)?,
                    IntFn::Pow => 2,
                    IntFn::Min => *u.choose(&[2, 3, 4, 6, 8, 16])?,
                    IntFn::Shr => u.int_in_range(1..=3)?,
                    IntFn::Shl => u.int_in_range(1..=2)?,
                    IntFn::BitAnd => *u.choose(&[1, 3, 7, -2, -4, -8])?,
                    IntFn::BitOr => *u.choose(&[1, 3, 7])?,
                    IntFn::BitXor => *u.choose(&[1, 3])?,
                    IntFn::DivmodQuotient | IntFn::DivmodRemainder => u.int_in_range(2..=4)?,
                    IntFn::AbsDiff => {
                        let at = self
                            .type_in(pre, cur)
                            .and_then(|t| t.int().and_then(|e| e.eval(&self.case.export)));
                        self.compare_literal(u, at)?
                    }
                };
                pre.push(Op::IntArith(IntArith { a: cur, f, k }));
            }
            5 | 6 => {
                let Some(b) = self.size_read(u, pre)? else {
                    return Ok(cur);
                };
                let id = self.next_id(pre);
                let (a, b) = if u.arbitrary()? { (cur, b) } else { (b, cur) };
                pre.push(Op::IntBinary(IntBinary {
                    a,
                    f: *u.choose(IntBinFn::ALL)?,
                    b,
                }));
                return Ok(id);
            }
            10 => {
                // `a if c else b` / `torch.sym_ite(c, a, b)` between this and another size.
                let Some(cond) = self.condition_leaf(u, pre)? else {
                    return Ok(cur);
                };
                let other = match self.size_read(u, pre)? {
                    Some(o) if o != cur => o,
                    _ => return Ok(cur),
                };
                let symbolic = |v: ValueRef| {
                    self.type_in(pre, v)
                        .is_some_and(|t| t.int().is_some_and(DimExpr::has_symbol))
                };
                let spelling = if symbolic(cur) && symbolic(other) && u.arbitrary()? {
                    IteSpelling::SymIte
                } else {
                    IteSpelling::IfExpr
                };
                let id = self.next_id(pre);
                let (a, b) = if u.arbitrary()? {
                    (cur, other)
                } else {
                    (other, cur)
                };
                pre.push(Op::IntSelect(IntSelect {
                    cond,
                    a,
                    b,
                    spelling,
                }));
                return Ok(id);
            }
            7 => pre.push(Op::IntMax(IntMax {
                a: cur,
                k: u.int_in_range(2..=6)?,
                spelling: *u.choose(MaxSpelling::ALL)?,
            })),
            _ => {
                // Through a float and back: `int(n / 2 * 1.5)`, `math.ceil(n * 0.75)`.
                let f = self.float_value(u, pre, cur, false)?;
                let id = self.next_id(pre);
                pre.push(Op::Round(Round {
                    a: f,
                    f: *u.choose(RoundFn::ALL)?,
                }));
                return Ok(id);
            }
        }
        Ok(id)
    }

    /// A float computed from the int `a`, in `pre`: `a / k`, `float(a)`,
    /// `torch.sym_float(a)` or (when `sqrt_ok`) `math.sqrt(a)`, then up to two steps of
    /// arithmetic with a literal (`* 0.5`, `+ 1.5`).
    pub(in crate::r#gen) fn float_value(
        &mut self,
        u: &mut Unstructured,
        pre: &mut Step,
        a: ValueRef,
        sqrt_ok: bool,
    ) -> Result<ValueRef> {
        let mut f = self.next_id(pre);
        let top = if sqrt_ok { 3 } else { 2 };
        let first = match u.int_in_range(0..=top)? {
            0 => Op::TrueDiv(TrueDiv {
                a,
                k: u.int_in_range(2..=4)?,
            }),
            1 => Op::ToFloat(ToFloat {
                a,
                spelling: FloatSpelling::Float,
            }),
            2 => Op::ToFloat(ToFloat {
                a,
                spelling: FloatSpelling::SymFloat,
            }),
            _ => Op::Sqrt(Sqrt {
                a,
                spelling: *u.choose(SqrtSpelling::ALL)?,
            }),
        };
        let is_sqrt = matches!(first, Op::Sqrt(_));
        pre.push(first);
        if is_sqrt {
            // Arithmetic on a square root has no exact truth.
            return Ok(f);
        }
        for _ in 0..u.int_in_range(0..=2u8)? {
            let next = self.next_id(pre);
            pre.push(Op::FloatArith(FloatArith {
                a: f,
                f: *u.choose(FloatFn::ALL)?,
                c: *u.choose(FloatLit::ALL)?,
            }));
            f = next;
        }
        Ok(f)
    }

    /// The type of a value, including those of the ops pending in `pre` (structurally,
    /// without valuations).
    pub(in crate::r#gen) fn type_in(&self, pre: &Step, v: ValueRef) -> Option<Type> {
        let base = self.types.len() as u32;
        let ValueRef::Node(n) = v else {
            return Some(self.ty(v).clone());
        };
        if n < base {
            return Some(self.ty(v).clone());
        }
        let mut pending: Vec<Type> = vec![];
        for (i, op) in pre.iter().enumerate() {
            let lookup = |w: ValueRef| match w {
                ValueRef::Node(m) if m >= base => pending.get((m - base) as usize).cloned(),
                other => Some(self.ty(other).clone()),
            };
            let cx = InferCtx {
                types: &lookup,
                valuations: &[],
                node: base + i as u32,
            };
            let t = op.infer(&cx).ok()?;
            pending.push(t);
            if base + i as u32 == n {
                return pending.pop();
            }
        }
        None
    }

    /// Literals real comparisons use: 0, 1, the value at the export sizes and its
    /// neighbours, a large one, and small ones (harness/gen/SURVEY.md).
    pub(in crate::r#gen) fn compare_literal(
        &self,
        u: &mut Unstructured,
        at_export: Option<i64>,
    ) -> Result<i64> {
        let v = at_export.unwrap_or(4);
        Ok(match u.int_in_range(0..=9u8)? {
            0 | 1 => 0,
            2 | 3 => 1,
            4 => v,
            5 => v - 1,
            6 => v + 1,
            7 => 100,
            _ => u.int_in_range(2..=8)?,
        })
    }

    /// A bool computed from sizes, in `pre`: a comparison with a literal or between two
    /// sizes, of an int or a float, maybe combined with `and`/`or`/`not`.
    pub(in crate::r#gen) fn condition(
        &mut self,
        u: &mut Unstructured,
        pre: &mut Step,
    ) -> Result<Option<ValueRef>> {
        match u.int_in_range(0..=11u8)? {
            2 => {
                if let Some(b) = self.constant_input(u, InputKind::Bool)? {
                    return Ok(Some(b));
                }
            }
            0 => {
                if let Some(c) = self.is_contiguous(u, pre)? {
                    return Ok(Some(c));
                }
            }
            1 => {
                if let Some(c) = self.shape_compare(u, pre)? {
                    return Ok(Some(c));
                }
            }
            _ => {}
        }
        let Some(a) = self.int_value(u, pre)? else {
            return Ok(None);
        };
        let cmp = *u.choose(CmpFn::ALL)?;
        let cond = match u.int_in_range(0..=6u8)? {
            0 => {
                // Two sizes compared.
                let Some(b) = self.int_value(u, pre)? else {
                    return Ok(None);
                };
                let id = self.next_id(pre);
                pre.push(Op::CompareSizes(CompareSizes { a, cmp, b }));
                id
            }
            1..=3 => {
                // A float compared: `n / 2 > 3`, `math.sqrt(n) <= 4`, `n * 0.5 + 1 > 3`.
                let f = self.float_value(u, pre, a, true)?;
                let at = match self.type_in(pre, f) {
                    Some(Type::Float(e)) => e.eval(&self.case.export).map(|x| x.round() as i64),
                    _ => None,
                };
                let k = self.compare_literal(u, at)?;
                let id = self.next_id(pre);
                pre.push(Op::Compare(Compare { a: f, cmp, k }));
                id
            }
            _ => {
                let at = self
                    .type_in(pre, a)
                    .and_then(|t| t.int().and_then(|e| e.eval(&self.case.export)));
                let k = self.compare_literal(u, at)?;
                let id = self.next_id(pre);
                pre.push(Op::Compare(Compare { a, cmp, k }));
                id
            }
        };
        Ok(Some(match u.int_in_range(0..=5u8)? {
            0 => {
                let Some(other) = self.condition_leaf(u, pre)? else {
                    return Ok(Some(cond));
                };
                let id = self.next_id(pre);
                pre.push(Op::BoolOp(BoolOp {
                    a: cond,
                    f: *u.choose(BoolFn::ALL)?,
                    b: other,
                }));
                id
            }
            1 => {
                let id = self.next_id(pre);
                pre.push(Op::Not(Not { a: cond }));
                id
            }
            _ => cond,
        }))
    }

    /// `x.contiguous().transpose(d0, d1).is_contiguous()` of a tensor with two or more dims,
    /// in `pre`: a bool that is true only where some of the swapped sizes are 1.
    pub(in crate::r#gen) fn is_contiguous(
        &mut self,
        u: &mut Unstructured,
        pre: &mut Step,
    ) -> Result<Option<ValueRef>> {
        let Some((x, t)) = self.pick_tensor(u, |t| {
            t.rank() >= 2 && !t.shape.iter().any(DimExpr::has_data)
        })?
        else {
            return Ok(None);
        };
        let d0 = u.int_in_range(0..=t.rank() - 2)?;
        let d1 = u.int_in_range(d0 + 1..=(d0 + 2).min(t.rank() - 1))?;
        let id = self.next_id(pre);
        pre.push(Op::IsContiguous(IsContiguous {
            x,
            d0: d0 as u8,
            d1: d1 as u8,
        }));
        Ok(Some(id))
    }

    /// `x.shape == y.shape` (or `!=`) of two tensors of one rank, in `pre`.
    pub(in crate::r#gen) fn shape_compare(
        &mut self,
        u: &mut Unstructured,
        pre: &mut Step,
    ) -> Result<Option<ValueRef>> {
        let plain = |t: &TensorType| !t.shape.iter().any(DimExpr::has_data);
        let Some((a, t)) = self.pick_tensor(u, plain)? else {
            return Ok(None);
        };
        let rank = t.rank();
        let Some((b, _)) = self.pick_tensor(u, |o| plain(o) && o.rank() == rank)? else {
            return Ok(None);
        };
        if a == b {
            return Ok(None);
        }
        let id = self.next_id(pre);
        pre.push(Op::ShapeCompare(ShapeCompare {
            a,
            cmp: *u.choose(&[CmpFn::Eq, CmpFn::Ne])?,
            b,
        }));
        Ok(Some(id))
    }

    /// A plain comparison of a size with a literal, for combining.
    pub(in crate::r#gen) fn condition_leaf(
        &mut self,
        u: &mut Unstructured,
        pre: &mut Step,
    ) -> Result<Option<ValueRef>> {
        let Some(a) = self.size_read(u, pre)? else {
            return Ok(None);
        };
        let at = self
            .type_in(pre, a)
            .and_then(|t| t.int().and_then(|e| e.eval(&self.case.export)));
        let k = self.compare_literal(u, at)?;
        let id = self.next_id(pre);
        pre.push(Op::Compare(Compare {
            a,
            cmp: *u.choose(CmpFn::ALL)?,
            k,
        }));
        Ok(Some(id))
    }

    /// A scalar for value sinks: a size-derived int or float, or a literal.
    pub(in crate::r#gen) fn scalar_arg(
        &mut self,
        u: &mut Unstructured,
        pre: &mut Step,
        float_ok: bool,
    ) -> Result<ScalarArg> {
        if float_ok
            && u.int_in_range(0..=15u8)? == 0
            && let Some(f) = self.constant_input(u, InputKind::Float)?
        {
            return Ok(SizeArg::Value(f));
        }
        let a = self.size_arg(u, pre, 0..=5)?;
        if float_ok
            && let SizeArg::Value(v) = a
            && u.int_in_range(0..=3u8)? == 0
        {
            return Ok(SizeArg::Value(self.float_value(u, pre, v, true)?));
        }
        Ok(a)
    }

    pub(in crate::r#gen) fn next_id(&self, pre: &Step) -> ValueRef {
        ValueRef::Node(self.types.len() as u32 + pre.len() as u32)
    }

    /// A second operand shaped like `t` (optionally with dim `except` free): an existing
    /// value, or a new input that shares `t`'s symbols — the way ties enter a case.
    pub(in crate::r#gen) fn partner(
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

    pub(in crate::r#gen) fn families_on(&self, f: Family) -> bool {
        self.cfg.families.contains(&f)
    }

    pub(in crate::r#gen) fn propose(&mut self, u: &mut Unstructured) -> Result<Step> {
        let enabled: Vec<usize> = (0..BUILDERS.len())
            .filter(|&i| self.families_on(BUILDERS[i].family) && self.cfg.weight(&BUILDERS[i]) > 0)
            .collect();
        let total: u32 = enabled.iter().map(|&i| self.cfg.weight(&BUILDERS[i])).sum();
        let mut r = u.int_in_range(0..=total - 1)?;
        let mut which = enabled[0];
        for &i in &enabled {
            let w = self.cfg.weight(&BUILDERS[i]);
            if r < w {
                which = i;
                break;
            }
            r -= w;
        }
        self.build(which, u)
    }

    pub(in crate::r#gen) fn build(&mut self, which: usize, u: &mut Unstructured) -> Result<Step> {
        let mut pre: Step = vec![];
        match (BUILDERS[which].build)(self, u, &mut pre)? {
            Some(op) => {
                pre.push(op);
                Ok(pre)
            }
            None => Ok(vec![]),
        }
    }
}
