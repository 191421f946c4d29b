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
        };
        vec![format!("{out} = {expr}")]
    }

    fn kind(&self) -> Option<String> {
        Some(format!("int.{}", self.f.name()))
    }
}

op_struct! {
    /// `a + b`, `a - b`, `a * b`, `min(a, b)`, `max(a, b)` of two size-derived ints
    IntBinary {
        a: ValueRef,
        f: IntBinFn,
        b: ValueRef,
    }
}

impl OpDef for IntBinary {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let (a, b) = (cx.int(self.a)?, cx.int(self.b)?);
        Ok(Type::Int(match self.f {
            IntBinFn::Add => DimExpr::add(a, b),
            IntBinFn::Sub => DimExpr::sub(a, b),
            IntBinFn::Mul => DimExpr::mul(a, b),
            IntBinFn::Min => DimExpr::min(a, b),
            IntBinFn::Max => DimExpr::max(a, b),
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
        };
        vec![format!("{out} = {expr}")]
    }

    fn kind(&self) -> Option<String> {
        Some(format!("int2.{}", self.f.name()))
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
    /// `float(n)`
    ToFloat {
        a: ValueRef,
    }
}

impl OpDef for ToFloat {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let ToFloat { a } = self;
        Ok(Type::Float(FloatExpr::Of(cx.int(*a)?)))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let ToFloat { a } = self;
        let expr = format!("float({})", n(*a));
        vec![format!("{out} = {expr}")]
    }
}

op_struct! {
    /// `math.sqrt(n)`
    Sqrt {
        a: ValueRef,
    }
}

impl OpDef for Sqrt {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let Sqrt { a } = self;
        let e = cx.int(*a)?;
        cx.all(&e, "sqrt of negative", |x| x >= 0)?;
        Ok(Type::Float(FloatExpr::Sqrt(e)))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let Sqrt { a } = self;
        let expr = format!("math.sqrt({})", n(*a));
        vec![format!("{out} = {expr}")]
    }
}

op_struct! {
    /// `int(f)`, `math.floor(f)`, `math.ceil(f)`
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
        Ok(match (fe, f) {
            (FloatExpr::Of(e), _) => Type::Int(e),
            (FloatExpr::Div(e, k), RoundFn::Int | RoundFn::Floor) => {
                // int() truncates, floor() floors: the same only when e >= 0.
                cx.all(&e, "int() of a negative quotient", |x| x >= 0)?;
                Type::Int(DimExpr::floor_div(e, k))
            }
            (FloatExpr::Div(e, k), RoundFn::Ceil) => {
                cx.all(&e, "ceil of a negative quotient", |x| x >= 0)?;
                Type::Int(DimExpr::floor_div(
                    DimExpr::add(e, DimExpr::Const(k - 1)),
                    k,
                ))
            }
            (FloatExpr::Sqrt(_), _) => bail!("rounding a square root is not modelled"),
        })
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let Round { a, f } = self;
        let expr = match f {
            RoundFn::Int => format!("int({})", n(*a)),
            RoundFn::Floor => format!("math.floor({})", n(*a)),
            RoundFn::Ceil => format!("math.ceil({})", n(*a)),
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
