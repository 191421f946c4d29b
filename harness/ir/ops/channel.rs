//! Channel ops.

use super::*;

op_struct! {
    /// a dim read as a Python int: `x.shape[d]`, `x.size(d)` or `len(x)`
    Size {
        x: ValueRef,
        dim: u8,
        spelling: SizeSpelling,
    }
}

impl OpDef for Size {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let Size { x, dim, spelling } = self;
        let t = cx.tensor(*x)?;
        let d = cx.dim(&t, *dim)?;
        if *spelling == SizeSpelling::Len && d != 0 {
            bail!("len() reads dim 0 only");
        }
        Ok(Type::Int(t.shape[d].clone()))
    }

    fn render(&self, out: &str, cx: &RenderCx) -> Vec<String> {
        let Size { x, dim, spelling } = self;
        let expr = match spelling {
            SizeSpelling::ShapeIndex => format!("{}.shape[{dim}]", n(*x)),
            SizeSpelling::SizeCall => format!("{}.size({dim})", n(*x)),
            SizeSpelling::Len => format!("len({})", n(*x)),
            SizeSpelling::Unpack => {
                // `_, v3, _ = x.shape`: the shape tuple unpacked, one name kept.
                let names: Vec<String> = (0..cx.rank(*x).max(1))
                    .map(|i| {
                        if i == *dim as usize {
                            out.to_string()
                        } else {
                            "_".to_string()
                        }
                    })
                    .collect();
                let lhs = if names.len() == 1 {
                    format!("{},", names[0])
                } else {
                    names.join(", ")
                };
                return vec![format!("{lhs} = {}.shape", n(*x))];
            }
        };
        vec![format!("{out} = {expr}")]
    }

    fn spelling(&self) -> Option<&'static str> {
        Some(self.spelling.name())
    }

    fn respellings(&self) -> Vec<Op> {
        others(SizeSpelling::ALL, self.spelling)
            .filter(|s| *s != SizeSpelling::Len || self.dim == 0)
            .map(|spelling| Size { spelling, ..*self }.into())
            .collect()
    }
}

op_struct! {
    /// `x.numel()`
    Numel {
        x: ValueRef,
    }
}

impl OpDef for Numel {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let Numel { x } = self;
        Ok(Type::Int(product(&cx.tensor(*x)?.shape)))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let Numel { x } = self;
        let expr = format!("{}.numel()", n(*x));
        vec![format!("{out} = {expr}")]
    }
}

op_struct! {
    /// `x.stride(d)` of an input, `x.contiguous().stride(d)` of anything else: the product
    /// of the sizes after `d`
    Stride {
        x: ValueRef,
        dim: u8,
    }
}

impl OpDef for Stride {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let t = cx.tensor(self.x)?;
        let d = cx.dim(&t, self.dim)?;
        Ok(Type::Int(product(&t.shape[d + 1..])))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let x = n(self.x);
        let dim = self.dim;
        // Inputs are contiguous; what ops return may be a view with other strides.
        let expr = match self.x {
            ValueRef::Input(_) => format!("{x}.stride({dim})"),
            ValueRef::Node(_) => format!("{x}.contiguous().stride({dim})"),
        };
        vec![format!("{out} = {expr}")]
    }
}

op_struct! {
    /// `n + k`, `n - k`, `n * k`, `n // k`, `n % k`
    IntArith {
        a: ValueRef,
        f: IntFn,
        k: i64,
    }
}

impl OpDef for IntArith {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let IntArith { a, f, k } = self;
        let e = cx.int(*a)?;
        Ok(Type::Int(match f {
            IntFn::Add => DimExpr::add(e, DimExpr::Const(*k)),
            IntFn::Sub => DimExpr::sub(e, DimExpr::Const(*k)),
            IntFn::Mul => DimExpr::mul(DimExpr::Const(*k), e),
            IntFn::FloorDiv | IntFn::Mod if *k < 1 => bail!("division by {k}"),
            IntFn::FloorDiv => DimExpr::floor_div(e, *k),
            IntFn::Mod => DimExpr::modulo(e, *k),
            IntFn::Pow if !(1..=3).contains(k) => bail!("power {k}"),
            IntFn::Pow => (1..*k).fold(e.clone(), |acc, _| DimExpr::mul(acc, e.clone())),
            IntFn::Min => DimExpr::min(e, DimExpr::Const(*k)),
            IntFn::RSub => DimExpr::sub(DimExpr::Const(*k), e),
            IntFn::Shr | IntFn::Shl if !(1..=4).contains(k) => bail!("shift by {k}"),
            IntFn::Shr => DimExpr::floor_div(e, 1 << k),
            IntFn::Shl => DimExpr::mul(DimExpr::Const(1 << k), e),
            IntFn::BitAnd | IntFn::BitOr | IntFn::BitXor => match bit_with_mask(*f, e, *k) {
                Some(e) => e,
                None => bail!("mask {k}"),
            },
            IntFn::DivmodQuotient | IntFn::DivmodRemainder if *k < 1 => bail!("divmod by {k}"),
            IntFn::DivmodQuotient => DimExpr::floor_div(e, *k),
            IntFn::DivmodRemainder => DimExpr::modulo(e, *k),
            IntFn::AbsDiff => DimExpr::max(
                DimExpr::sub(e.clone(), DimExpr::Const(*k)),
                DimExpr::sub(DimExpr::Const(*k), e),
            ),
        }))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let IntArith { a, f, k } = self;
        let a = n(*a);
        let expr = match f {
            IntFn::Add => format!("{a} + {k}"),
            IntFn::Sub => format!("{a} - {k}"),
            IntFn::Mul => format!("{a} * {k}"),
            IntFn::FloorDiv => format!("{a} // {k}"),
            IntFn::Mod => format!("{a} % {k}"),
            IntFn::Pow => format!("{a} ** {k}"),
            IntFn::Min => format!("min({a}, {k})"),
            IntFn::RSub => format!("{k} - {a}"),
            IntFn::Shr => format!("{a} >> {k}"),
            IntFn::Shl => format!("{a} << {k}"),
            IntFn::BitAnd => format!("{a} & {k}"),
            IntFn::BitOr => format!("{a} | {k}"),
            IntFn::BitXor => format!("{a} ^ {k}"),
            IntFn::DivmodQuotient => format!("divmod({a}, {k})[0]"),
            IntFn::DivmodRemainder => format!("divmod({a}, {k})[1]"),
            IntFn::AbsDiff => format!("abs({a} - {k})"),
        };
        vec![format!("{out} = {expr}")]
    }

    fn kind(&self) -> Option<String> {
        Some(format!("int.{}", self.f.name()))
    }

    fn decisions(&self, cx: &DecisionCx, out: &mut Vec<(DecisionKind, DecisionExpr)>) {
        if self.f == IntFn::Min
            && let Some(a) = cx.int(self.a)
        {
            out.extend(folded_arm(a, DimExpr::Const(self.k)));
        }
    }
}

/// `e & k`, `e | k`, `e ^ k` where they are exact arithmetic on two's complement ints:
/// `e & (2^j - 1)` is `e mod 2^j`, `e & -2^j` is `2^j * (e // 2^j)`, and `|`/`^` with
/// `2^j - 1` set or flip the low `j` bits. `None` for other masks.
fn bit_with_mask(f: IntFn, e: DimExpr, k: i64) -> Option<DimExpr> {
    let low = |m: i64| m > 0 && m <= 1 << 20 && (m + 1) & m == 0;
    let m = k.checked_add(1)?; // 2^j when k = 2^j - 1
    let high = DimExpr::mul(DimExpr::Const(m), DimExpr::floor_div(e.clone(), m.max(1)));
    Some(match f {
        IntFn::BitAnd if low(k) => DimExpr::modulo(e, m),
        IntFn::BitAnd if (-(1 << 20)..0).contains(&k) && (-k) & (-k - 1) == 0 => {
            DimExpr::mul(DimExpr::Const(-k), DimExpr::floor_div(e, -k))
        }
        IntFn::BitOr if low(k) => DimExpr::add(high, DimExpr::Const(k)),
        IntFn::BitXor if low(k) => {
            DimExpr::add(high, DimExpr::sub(DimExpr::Const(k), DimExpr::modulo(e, m)))
        }
        _ => return None,
    })
}

op_struct! {
    /// `a + b`, `a - b`, `a * b`, `a // b`, `a % b`, `min(a, b)`, `max(a, b)`,
    /// `torch.sym_min(a, b)`, `torch.sym_max(a, b)` of two size-derived ints
    IntBinary {
        a: ValueRef,
        f: IntBinFn,
        b: ValueRef,
    }
}

impl OpDef for IntBinary {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let (a, b) = (cx.int(self.a)?, cx.int(self.b)?);
        if matches!(self.f, IntBinFn::FloorDiv | IntBinFn::Mod) {
            cx.all(&b, "divisor >= 1", |x| x >= 1)?;
        }
        Ok(Type::Int(match self.f {
            IntBinFn::FloorDiv => DimExpr::div_by(a, b),
            IntBinFn::Mod => DimExpr::mod_by(a, b),
            IntBinFn::Add => DimExpr::add(a, b),
            IntBinFn::Sub => DimExpr::sub(a, b),
            IntBinFn::Mul => DimExpr::mul(a, b),
            IntBinFn::Min | IntBinFn::SymMin => DimExpr::min(a, b),
            IntBinFn::Max | IntBinFn::SymMax => DimExpr::max(a, b),
        }))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let (a, b) = (n(self.a), n(self.b));
        let expr = match self.f {
            IntBinFn::Add => format!("{a} + {b}"),
            IntBinFn::Sub => format!("{a} - {b}"),
            IntBinFn::Mul => format!("{a} * {b}"),
            IntBinFn::Min => format!("min({a}, {b})"),
            IntBinFn::Max => format!("max({a}, {b})"),
            IntBinFn::FloorDiv => format!("{a} // {b}"),
            IntBinFn::Mod => format!("{a} % {b}"),
            IntBinFn::SymMin => format!("torch.sym_min({a}, {b})"),
            IntBinFn::SymMax => format!("torch.sym_max({a}, {b})"),
        };
        vec![format!("{out} = {expr}")]
    }

    fn kind(&self) -> Option<String> {
        Some(format!("int2.{}", self.f.name()))
    }

    fn decisions(&self, cx: &DecisionCx, out: &mut Vec<(DecisionKind, DecisionExpr)>) {
        if matches!(
            self.f,
            IntBinFn::Min | IntBinFn::Max | IntBinFn::SymMin | IntBinFn::SymMax
        ) && let (Some(a), Some(b)) = (cx.int(self.a), cx.int(self.b))
        {
            out.extend(folded_arm(a, b));
        }
    }
}

op_struct! {
    /// `x.dim()`: the rank, a plain int under export
    NDim {
        x: ValueRef,
    }
}

impl OpDef for NDim {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        Ok(Type::Int(DimExpr::Const(cx.tensor(self.x)?.rank() as i64)))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        vec![format!("{out} = {}.dim()", n(self.x))]
    }
}

op_struct! {
    /// `max(n, k)` or `torch.sym_max(n, k)`
    IntMax {
        a: ValueRef,
        k: i64,
        spelling: MaxSpelling,
    }
}

impl OpDef for IntMax {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let IntMax { a, k, .. } = self;
        Ok(Type::Int(DimExpr::max(cx.int(*a)?, DimExpr::Const(*k))))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let IntMax { a, k, spelling } = self;
        let expr = match spelling {
            MaxSpelling::Builtin => format!("max({}, {k})", n(*a)),
            MaxSpelling::SymMax => format!("torch.sym_max({}, {k})", n(*a)),
        };
        vec![format!("{out} = {expr}")]
    }

    fn spelling(&self) -> Option<&'static str> {
        Some(self.spelling.name())
    }

    fn respellings(&self) -> Vec<Op> {
        others(MaxSpelling::ALL, self.spelling)
            .map(|spelling| IntMax { spelling, ..*self }.into())
            .collect()
    }

    fn decisions(&self, cx: &DecisionCx, out: &mut Vec<(DecisionKind, DecisionExpr)>) {
        if let Some(a) = cx.int(self.a) {
            out.extend(folded_arm(a, DimExpr::Const(self.k)));
        }
    }
}

op_struct! {
    /// `n / k`
    TrueDiv {
        a: ValueRef,
        k: i64,
    }
}

impl OpDef for TrueDiv {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let TrueDiv { a, k } = self;
        if *k < 1 {
            bail!("division by {k}");
        }
        Ok(Type::Float(FloatExpr::Div(cx.int(*a)?, *k)))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let TrueDiv { a, k } = self;
        let expr = format!("{} / {k}", n(*a));
        vec![format!("{out} = {expr}")]
    }
}

op_struct! {
    /// `float(n)` or `torch.sym_float(n)`
    ToFloat {
        a: ValueRef,
        #[serde(default)]
        spelling: FloatSpelling,
    }
}

impl OpDef for ToFloat {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        Ok(Type::Float(FloatExpr::Of(cx.int(self.a)?)))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let a = n(self.a);
        let expr = match self.spelling {
            FloatSpelling::Float => format!("float({a})"),
            FloatSpelling::SymFloat => format!("torch.sym_float({a})"),
        };
        vec![format!("{out} = {expr}")]
    }

    fn spelling(&self) -> Option<&'static str> {
        Some(self.spelling.name())
    }

    fn respellings(&self) -> Vec<Op> {
        others(FloatSpelling::ALL, self.spelling)
            .map(|spelling| ToFloat { spelling, ..*self }.into())
            .collect()
    }
}

op_struct! {
    /// `f * c`, `f + c`, `f - c`: arithmetic on a size-derived float with a literal
    FloatArith {
        a: ValueRef,
        f: FloatFn,
        c: FloatLit,
    }
}

impl OpDef for FloatArith {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let Type::Float(fe) = cx.ty(self.a)? else {
            bail!("float arithmetic on a non-float")
        };
        let Some((num, den)) = fe.ratio() else {
            bail!("arithmetic on a square root is not modelled")
        };
        let (p, q) = self.c.ratio();
        let pow2 = |x: i64| x > 0 && x & (x - 1) == 0;
        // Python's float arithmetic is exact on dyadic values (and scaling by a power of two
        // is exact on any float), which keeps the truth an exact fraction.
        if !(pow2(den) || self.f == FloatFn::Mul && pow2(p) && pow2(q)) {
            bail!("inexact float arithmetic")
        }
        let (num, den) = match self.f {
            FloatFn::Mul => (DimExpr::mul(DimExpr::Const(p), num), den * q),
            FloatFn::Add => (
                DimExpr::add(
                    DimExpr::mul(DimExpr::Const(q), num),
                    DimExpr::Const(p * den),
                ),
                den * q,
            ),
            FloatFn::Sub => (
                DimExpr::sub(
                    DimExpr::mul(DimExpr::Const(q), num),
                    DimExpr::Const(p * den),
                ),
                den * q,
            ),
        };
        if den > 1 << 12 {
            bail!("denominator {den}")
        }
        let (num, den) = reduce_ratio(num, den);
        Ok(Type::Float(FloatExpr::from_ratio(num, den)))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let op = match self.f {
            FloatFn::Mul => "*",
            FloatFn::Add => "+",
            FloatFn::Sub => "-",
        };
        vec![format!("{out} = {} {op} {}", n(self.a), self.c.name())]
    }

    fn kind(&self) -> Option<String> {
        Some(format!("float.{}", self.f.name()))
    }
}

/// `c*e / den` with the common factor of `c` and `den` divided out.
fn reduce_ratio(num: DimExpr, den: i64) -> (DimExpr, i64) {
    fn gcd(a: i64, b: i64) -> i64 {
        if b == 0 { a.abs() } else { gcd(b, a % b) }
    }
    match &num {
        DimExpr::Const(c) => {
            let g = gcd(*c, den).max(1);
            (DimExpr::Const(c / g), den / g)
        }
        DimExpr::Mul(c, e) if c.as_const().is_some() => {
            let c = c.as_const().unwrap_or(1);
            let g = gcd(c, den).max(1);
            (DimExpr::mul(DimExpr::Const(c / g), (**e).clone()), den / g)
        }
        _ => (num, den),
    }
}

op_struct! {
    /// `math.sqrt(n)` or `n ** 0.5`
    Sqrt {
        a: ValueRef,
        #[serde(default)]
        spelling: SqrtSpelling,
    }
}

impl OpDef for Sqrt {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let e = cx.int(self.a)?;
        cx.all(&e, "sqrt of negative", |x| x >= 0)?;
        Ok(Type::Float(FloatExpr::Sqrt(e)))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let a = n(self.a);
        let expr = match self.spelling {
            SqrtSpelling::MathSqrt => format!("math.sqrt({a})"),
            SqrtSpelling::PowHalf => format!("{a} ** 0.5"),
        };
        vec![format!("{out} = {expr}")]
    }

    fn spelling(&self) -> Option<&'static str> {
        Some(self.spelling.name())
    }

    fn respellings(&self) -> Vec<Op> {
        others(SqrtSpelling::ALL, self.spelling)
            .map(|spelling| Sqrt { spelling, ..*self }.into())
            .collect()
    }
}

op_struct! {
    /// `a if cond else b` or `torch.sym_ite(cond, a, b)` on two size-derived ints
    IntSelect {
        cond: ValueRef,
        a: ValueRef,
        b: ValueRef,
        spelling: IteSpelling,
    }
}

impl OpDef for IntSelect {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let cond = cx.boolean(self.cond)?;
        let (a, b) = (cx.int(self.a)?, cx.int(self.b)?);
        if self.spelling == IteSpelling::SymIte {
            // `torch.sym_ite` asserts both arms have one type; an arm that is a plain int
            // under export (no symbol in it) would fail that assertion by design.
            if !a.has_symbol() || !b.has_symbol() {
                bail!("sym_ite arm without a symbol");
            }
        }
        Ok(Type::Int(DimExpr::ite(cond, a, b)))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let (c, a, b) = (n(self.cond), n(self.a), n(self.b));
        let expr = match self.spelling {
            IteSpelling::IfExpr => format!("{a} if {c} else {b}"),
            IteSpelling::SymIte => format!("torch.sym_ite({c}, {a}, {b})"),
        };
        vec![format!("{out} = {expr}")]
    }

    fn spelling(&self) -> Option<&'static str> {
        Some(self.spelling.name())
    }

    fn respellings(&self) -> Vec<Op> {
        others(IteSpelling::ALL, self.spelling)
            .map(|spelling| IntSelect { spelling, ..*self }.into())
            .collect()
    }
}

op_struct! {
    /// `int(f)`, `math.floor(f)`, `math.ceil(f)`, `round(f)`, `torch.sym_int(f)`, `math.trunc(f)`
    Round {
        a: ValueRef,
        f: RoundFn,
    }
}

impl OpDef for Round {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let Round { a, f } = self;
        let Type::Float(fe) = cx.ty(*a)? else {
            bail!("round of a non-float")
        };
        let Some((num, den)) = fe.ratio() else {
            bail!("rounding a square root is not modelled")
        };
        if den == 1 {
            return Ok(Type::Int(num));
        }
        Ok(Type::Int(match f {
            RoundFn::Floor => DimExpr::floor_div(num, den),
            RoundFn::Ceil => DimExpr::floor_div(DimExpr::add(num, DimExpr::Const(den - 1)), den),
            RoundFn::Int | RoundFn::SymInt | RoundFn::Trunc => {
                // These truncate, floor floors: the same only when the quotient is >= 0.
                cx.all(&num, "truncating a negative quotient", |x| x >= 0)?;
                DimExpr::floor_div(num, den)
            }
            RoundFn::Round => {
                // Python rounds half to even; with an odd denominator there is no half.
                if den % 2 == 0 {
                    bail!("round() of a quotient that can be a tie")
                }
                DimExpr::floor_div(
                    DimExpr::add(DimExpr::mul(DimExpr::Const(2), num), DimExpr::Const(den)),
                    2 * den,
                )
            }
        }))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let Round { a, f } = self;
        let a = n(*a);
        let expr = match f {
            RoundFn::Int => format!("int({a})"),
            RoundFn::Floor => format!("math.floor({a})"),
            RoundFn::Ceil => format!("math.ceil({a})"),
            RoundFn::Round => format!("round({a})"),
            RoundFn::SymInt => format!("torch.sym_int({a})"),
            RoundFn::Trunc => format!("math.trunc({a})"),
        };
        vec![format!("{out} = {expr}")]
    }

    fn kind(&self) -> Option<String> {
        Some(format!("round.{}", self.f.name()))
    }
}

op_struct! {
    /// a Python number as a tensor: `torch.tensor([n])`, `torch.scalar_tensor`, `torch.as_tensor`, `x.new_tensor([n])`
    ToTensor {
        s: ValueRef => TensorData,
        spelling: TensorSpelling,
        like: Option<ValueRef>,
    }
}

impl OpDef for ToTensor {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let ToTensor { s, spelling, like } = self;
        let (dtype, lo) = match cx.ty(*s)? {
            Type::Int(e) => (DType::I64, e.lower_bound()),
            Type::Float(e) => (DType::F32, e.lower_bound().map(|x| x.floor() as i64)),
            other => bail!("to_tensor of {other:?}"),
        };
        let (dtype, shape) = match (spelling, like) {
            (TensorSpelling::NewTensor, Some(l)) => (cx.tensor(*l)?.dtype, vec![DimExpr::Const(1)]),
            (TensorSpelling::NewTensor, None) => bail!("new_tensor needs a tensor"),
            (_, Some(_)) => bail!("only new_tensor takes a tensor"),
            (TensorSpelling::TensorList, None) => (dtype, vec![DimExpr::Const(1)]),
            (_, None) => (dtype, vec![]),
        };
        if dtype == DType::Bool {
            bail!("new_tensor on bool");
        }
        Ok(Type::Tensor(TensorType {
            dtype,
            shape,
            lo,
            hi: None,
        }))
    }

    fn render(&self, out: &str, cx: &RenderCx) -> Vec<String> {
        let ToTensor { s, spelling, like } = self;
        let expr = match (spelling, like) {
            (TensorSpelling::TensorList, _) => format!("torch.tensor([{}])", n(*s)),
            (TensorSpelling::ScalarTensor, _) => {
                // A SymInt is not an `int` under export, so the dtype comes from the IR.
                let dtype = if cx.is_int(*s) {
                    "torch.int64"
                } else {
                    "torch.float32"
                };
                format!("torch.scalar_tensor({}, dtype={dtype})", n(*s))
            }
            (TensorSpelling::AsTensor, _) => format!("torch.as_tensor({})", n(*s)),
            (TensorSpelling::NewTensor, Some(l)) => format!("{}.new_tensor([{}])", n(*l), n(*s)),
            (TensorSpelling::NewTensor, None) => format!("torch.tensor([{}])", n(*s)),
        };
        vec![format!("{out} = {expr}")]
    }

    fn spelling(&self) -> Option<&'static str> {
        Some(self.spelling.name())
    }

    fn respellings(&self) -> Vec<Op> {
        let ToTensor { s, spelling, like } = *self;
        // `new_tensor` hangs off a tensor; without one it has no spelling to switch to.
        others(TensorSpelling::ALL, spelling)
            .filter_map(|spelling| match (spelling, like) {
                (TensorSpelling::NewTensor, None) => None,
                (TensorSpelling::NewTensor, l) => Some(
                    ToTensor {
                        s,
                        spelling,
                        like: l,
                    }
                    .into(),
                ),
                _ => Some(
                    ToTensor {
                        s,
                        spelling,
                        like: None,
                    }
                    .into(),
                ),
            })
            .collect()
    }
}

op_struct! {
    /// `ns[i]` of an int-list input
    ListItem {
        x: ValueRef,
        index: u8,
    }
}

impl OpDef for ListItem {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        match cx.ty(self.x)? {
            Type::IntList(items) => match items.get(self.index as usize) {
                Some(e) => Ok(Type::Int(e.clone())),
                None => bail!("list index {} of {} items", self.index, items.len()),
            },
            other => bail!("indexing {other:?}"),
        }
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        vec![format!("{out} = {}[{}]", n(self.x), self.index)]
    }
}
