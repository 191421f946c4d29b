//! Elementwise ops.

use super::*;

op_struct! {
    /// `torch.<f>(x)`
    Unary {
        x: ValueRef,
        f: UnaryFn,
    }
}

impl OpDef for Unary {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let Unary { x, f } = self;
        let t = cx.tensor(*x)?;
        if !unary_ok(*f, t.dtype) {
            bail!("{} on {:?}", f.name(), t.dtype);
        }
        let (lo, hi) = unary_bounds(*f, &t);
        Ok(Type::Tensor(TensorType { lo, hi, ..t }))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let Unary { x, f } = self;
        let expr = format!("torch.{}({})", f.name(), n(*x));
        vec![format!("{out} = {expr}")]
    }

    fn kind(&self) -> Option<String> {
        Some(format!("unary.{}", self.f.name()))
    }
}

op_struct! {
    /// `a + b`, `a - b`, `a * b`, `torch.maximum(a, b)`
    Binary {
        a: ValueRef,
        b: ValueRef,
        f: BinaryFn,
    }
}

impl OpDef for Binary {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let Binary { a, b, f } = self;
        let (ta, tb) = (cx.tensor(*a)?, cx.tensor(*b)?);
        if ta.dtype != tb.dtype || ta.dtype == DType::Bool {
            bail!("binary on {:?} and {:?}", ta.dtype, tb.dtype);
        }
        let shape = broadcast(&ta.shape, &tb.shape)?;
        let nonneg = |t: &TensorType| t.lo.is_some_and(|l| l >= 0);
        let lo = match f {
            BinaryFn::Add | BinaryFn::Mul if nonneg(&ta) && nonneg(&tb) => Some(0),
            BinaryFn::Maximum if nonneg(&ta) || nonneg(&tb) => Some(0),
            _ => None,
        };
        Ok(Type::Tensor(TensorType {
            dtype: ta.dtype,
            shape,
            lo,
            hi: None,
        }))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let Binary { a, b, f } = self;
        let expr = match f {
            BinaryFn::Add => format!("{} + {}", n(*a), n(*b)),
            BinaryFn::Sub => format!("{} - {}", n(*a), n(*b)),
            BinaryFn::Mul => format!("{} * {}", n(*a), n(*b)),
            BinaryFn::Maximum => format!("torch.maximum({}, {})", n(*a), n(*b)),
        };
        vec![format!("{out} = {expr}")]
    }

    fn kind(&self) -> Option<String> {
        Some(format!("binary.{}", self.f.name()))
    }
}

op_struct! {
    /// `x + s`, `x * s` with a size-derived Python number
    ScalarArith {
        x: ValueRef,
        s: ValueRef => ScalarOperand,
        f: ScalarFn,
    }
}

impl OpDef for ScalarArith {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let ScalarArith { x, s, .. } = self;
        let t = cx.tensor(*x)?;
        let (s_lo, is_float) = match cx.ty(*s)? {
            Type::Int(e) => (e.lower_bound(), false),
            Type::Float(e) => (e.lower_bound().map(|v| v.floor() as i64), true),
            other => bail!("scalar operand {other:?}"),
        };
        if t.dtype == DType::Bool || (is_float && t.dtype != DType::F32) {
            bail!("scalar arith dtype");
        }
        let lo = match (t.lo, s_lo) {
            (Some(a), Some(b)) if a >= 0 && b >= 0 => Some(0),
            _ => None,
        };
        Ok(Type::Tensor(TensorType { lo, hi: None, ..t }))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let ScalarArith { x, s, f } = self;
        let expr = match f {
            ScalarFn::Add => format!("{} + {}", n(*x), n(*s)),
            ScalarFn::Mul => format!("{} * {}", n(*x), n(*s)),
        };
        vec![format!("{out} = {expr}")]
    }

    fn kind(&self) -> Option<String> {
        Some(format!("scalar.{}", self.f.name()))
    }
}

op_struct! {
    /// `torch.clamp(x, min=, max=)`
    Clamp {
        x: ValueRef,
        min: ScalarArg => ClampBound,
        max: Option<ScalarArg> => ClampBound,
    }
}

impl OpDef for Clamp {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let Clamp { x, min, max } = self;
        let t = cx.tensor(*x)?;
        let lo = scalar_lower(cx, *min, t.dtype)?;
        // With `min > max` torch returns `max` everywhere, so the result is bounded below
        // by the smaller of the two.
        let lo = match max {
            Some(m) => match (lo, scalar_lower(cx, *m, t.dtype)?) {
                (Some(a), Some(b)) => Some(a.min(b)),
                _ => None,
            },
            None => lo,
        };
        Ok(Type::Tensor(TensorType { lo, hi: None, ..t }))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let Clamp { x, min, max } = self;
        let expr = match max {
            Some(m) => format!("torch.clamp({}, min={}, max={})", n(*x), arg(min), arg(m)),
            None => format!("torch.clamp({}, min={})", n(*x), arg(min)),
        };
        vec![format!("{out} = {expr}")]
    }
}

op_struct! {
    /// `x.masked_fill(x > 0, value)`
    MaskedFill {
        x: ValueRef,
        value: ScalarArg => MaskedFillValue,
    }
}

impl OpDef for MaskedFill {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let MaskedFill { x, value } = self;
        let t = cx.tensor(*x)?;
        let vlo = scalar_lower(cx, *value, t.dtype)?;
        let lo = match (t.lo, vlo) {
            (Some(a), Some(b)) => Some(a.min(b)),
            _ => None,
        };
        Ok(Type::Tensor(TensorType { lo, hi: None, ..t }))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let MaskedFill { x, value } = self;
        let expr = format!("{0}.masked_fill({0} > 0, {1})", n(*x), arg(value));
        vec![format!("{out} = {expr}")]
    }
}
