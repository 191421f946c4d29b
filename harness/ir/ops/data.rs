//! DataDependent ops.

use super::*;

op_struct! {
    /// `x.item()`
    Item {
        x: ValueRef,
    }
}

impl OpDef for Item {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let Item { x } = self;
        let t = cx.tensor(*x)?;
        if t.dtype != DType::I64 || !nonneg(&t) {
            bail!("item wants a non-negative int64 tensor");
        }
        for d in &t.shape {
            if *d != DimExpr::Const(1) {
                bail!("item of a tensor with more than one element");
            }
        }
        Ok(Type::Int(DimExpr::Data(cx.node)))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let Item { x } = self;
        let expr = format!("{}.item()", n(*x));
        vec![format!("{out} = {expr}")]
    }
}

op_struct! {
    /// `x.tolist()[index]`
    ToList {
        x: ValueRef,
        index: u8,
    }
}

impl OpDef for ToList {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let ToList { x, index } = self;
        let t = cx.tensor(*x)?;
        if t.dtype != DType::I64 || t.rank() != 1 || !nonneg(&t) {
            bail!("tolist wants a non-negative 1-d int64 tensor");
        }
        cx.all(&t.shape[0], "tolist index", |x| x > *index as i64)?;
        // Export makes one symbol per element: a long list is a slow case, not a
        // finding (the same bound as a Python loop).
        cx.all(&t.shape[0], "tolist length", |x| x <= MAX_LOOP)?;
        Ok(Type::Int(DimExpr::Data(cx.node)))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let ToList { x, index } = self;
        let expr = format!("{}.tolist()[{index}]", n(*x));
        vec![format!("{out} = {expr}")]
    }

    fn decisions(&self, cx: &DecisionCx, out: &mut Vec<(DecisionKind, DecisionExpr)>) {
        if let Some(n) = cx.dim_of(self.x, 0) {
            out.push((DecisionKind::ListLength, DecisionExpr::Value(n)));
        }
    }
}

op_struct! {
    /// `torch.nonzero(x)`
    Nonzero {
        x: ValueRef,
    }
}

impl OpDef for Nonzero {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let Nonzero { x } = self;
        let t = cx.tensor(*x)?;
        if t.rank() == 0 {
            bail!("nonzero of a scalar");
        }
        Ok(Type::Tensor(TensorType {
            dtype: DType::I64,
            shape: vec![DimExpr::Data(cx.node), DimExpr::Const(t.rank() as i64)],
            lo: Some(0),
            hi: None,
        }))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let Nonzero { x } = self;
        let expr = format!("torch.nonzero({})", n(*x));
        vec![format!("{out} = {expr}")]
    }
}

op_struct! {
    /// `torch.masked_select(x, x > 0)`
    MaskedSelect {
        x: ValueRef,
    }
}

impl OpDef for MaskedSelect {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let MaskedSelect { x } = self;
        let t = cx.tensor(*x)?;
        if t.dtype == DType::Bool {
            bail!("masked_select of bool");
        }
        Ok(Type::Tensor(TensorType {
            dtype: t.dtype,
            shape: vec![DimExpr::Data(cx.node)],
            lo: Some(0),
            hi: t.hi,
        }))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let MaskedSelect { x } = self;
        let expr = format!("torch.masked_select({0}, {0} > 0)", n(*x));
        vec![format!("{out} = {expr}")]
    }
}

op_struct! {
    /// `torch.unique(x)`
    Unique {
        x: ValueRef,
    }
}

impl OpDef for Unique {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let Unique { x } = self;
        let t = cx.tensor(*x)?;
        if t.dtype != DType::I64 {
            bail!("unique of non-int");
        }
        Ok(Type::Tensor(TensorType {
            dtype: DType::I64,
            shape: vec![DimExpr::Data(cx.node)],
            lo: t.lo,
            hi: t.hi,
        }))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let Unique { x } = self;
        let expr = format!("torch.unique({})", n(*x));
        vec![format!("{out} = {expr}")]
    }
}

op_struct! {
    /// `torch.repeat_interleave(x)`
    RepeatInterleave {
        x: ValueRef,
    }
}

impl OpDef for RepeatInterleave {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let RepeatInterleave { x } = self;
        let t = cx.tensor(*x)?;
        if t.dtype != DType::I64 || t.rank() != 1 || !nonneg(&t) {
            bail!("repeat_interleave wants non-negative 1-d int64 counts");
        }
        let hi = match &t.shape[0] {
            DimExpr::Const(c) => Some(c - 1),
            _ => None,
        };
        Ok(Type::Tensor(TensorType {
            dtype: DType::I64,
            shape: vec![DimExpr::Data(cx.node)],
            lo: Some(0),
            hi,
        }))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let RepeatInterleave { x } = self;
        let expr = format!("torch.repeat_interleave({})", n(*x));
        vec![format!("{out} = {expr}")]
    }
}

op_struct! {
    /// `torch.bincount(x, minlength=m)`: `max(max(x) + 1, m)` counts, a data-dependent length
    /// that torch bounds below by the size-derived `m`
    Bincount {
        x: ValueRef,
        minlength: SizeArg => BincountMinlength,
    }
}

impl OpDef for Bincount {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let Bincount { x, minlength } = *self;
        let t = cx.tensor(x)?;
        if t.dtype != DType::I64 || t.rank() != 1 || !nonneg(&t) {
            bail!("bincount wants non-negative 1-d int64 values");
        }
        // A count is at most the number of values; an unbounded value would make the length
        // (and the memory eager allocates) unbounded too.
        let Some(hi) = t.hi else {
            bail!("bincount of unbounded values");
        };
        if hi >= MAX_NUMEL {
            bail!("bincount values up to {hi}");
        }
        let m = cx.size(minlength)?;
        cx.all(&m, "bincount minlength", |x| (0..=MAX_NUMEL).contains(&x))?;
        let count_hi = match &t.shape[0] {
            DimExpr::Const(c) => Some(*c),
            _ => None,
        };
        Ok(Type::Tensor(TensorType {
            dtype: DType::I64,
            shape: vec![DimExpr::Data(cx.node)],
            lo: Some(0),
            hi: count_hi,
        }))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let Bincount { x, minlength } = self;
        let expr = format!("torch.bincount({}, minlength={})", n(*x), arg(minlength));
        vec![format!("{out} = {expr}")]
    }
}
