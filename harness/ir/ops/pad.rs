//! Pad ops.

use super::*;

op_struct! {
    /// `F.pad(x, (before, after))`
    Pad {
        x: ValueRef,
        before: u8,
        after: u8,
    }
}

impl OpDef for Pad {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let Pad { x, before, after } = self;
        let t = cx.tensor(*x)?;
        if t.rank() == 0 || t.dtype == DType::Bool {
            bail!("pad needs rank >= 1");
        }
        let mut shape = t.shape.clone();
        let last = shape.last_mut().unwrap();
        *last = DimExpr::add(last.clone(), DimExpr::Const(*before as i64 + *after as i64));
        Ok(Type::Tensor(t.with_shape(shape).with_zero()))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let Pad { x, before, after } = self;
        let expr = format!("F.pad({}, ({before}, {after}))", n(*x));
        vec![format!("{out} = {expr}")]
    }
}

op_struct! {
    /// a size-derived value appended to a 1-d tensor: `F.pad(x, (0, 1), value=n)` or `torch.cat([x, torch.tensor([n])])`
    AppendValue {
        x: ValueRef,
        value: ValueRef => PadValue,
        spelling: AppendSpelling,
    }
}

impl OpDef for AppendValue {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let AppendValue { x, value, .. } = self;
        let t = cx.tensor(*x)?;
        let n = cx.int(*value)?;
        if t.rank() != 1 || t.dtype == DType::Bool {
            bail!("append_value wants a 1-d tensor");
        }
        let lo = t.lo.zip(n.lower_bound()).map(|(a, b)| a.min(b));
        let shape = vec![DimExpr::add(t.shape[0].clone(), DimExpr::Const(1))];
        Ok(Type::Tensor(TensorType {
            dtype: t.dtype,
            shape,
            lo,
            hi: None,
        }))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let AppendValue { x, value, spelling } = self;
        let expr = match spelling {
            AppendSpelling::Pad => format!("F.pad({}, (0, 1), value={})", n(*x), n(*value)),
            AppendSpelling::Cat => {
                format!(
                    "torch.cat([{0}, torch.tensor([{1}], dtype={0}.dtype)], dim=0)",
                    n(*x),
                    n(*value)
                )
            }
        };
        vec![format!("{out} = {expr}")]
    }

    fn spelling(&self) -> Option<&'static str> {
        Some(self.spelling.name())
    }

    fn respellings(&self) -> Vec<Op> {
        others(AppendSpelling::ALL, self.spelling)
            .map(|spelling| AppendValue { spelling, ..*self }.into())
            .collect()
    }
}

op_struct! {
    /// `F.pad(x, (before, after))` with widths computed from sizes: the pad-to-a-multiple
    /// idiom, `F.pad(x, (0, (k - n % k) % k))`
    PadSized {
        x: ValueRef,
        before: SizeArg => PadWidth,
        after: SizeArg => PadWidth,
    }
}

impl OpDef for PadSized {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let t = cx.tensor(self.x)?;
        if t.rank() == 0 || t.dtype == DType::Bool {
            bail!("pad needs rank >= 1");
        }
        let (b, a) = (cx.size(self.before)?, cx.size(self.after)?);
        cx.all(&b, "pad before", |x| x >= 0)?;
        cx.all(&a, "pad after", |x| x >= 0)?;
        let mut shape = t.shape.clone();
        let last = shape.last_mut().unwrap();
        *last = DimExpr::add(DimExpr::add(last.clone(), b), a);
        Ok(Type::Tensor(t.with_shape(shape).with_zero()))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        vec![format!(
            "{out} = F.pad({}, ({}, {}))",
            n(self.x),
            arg(&self.before),
            arg(&self.after)
        )]
    }
}
