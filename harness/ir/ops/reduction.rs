//! Reduction ops.

use super::*;

op_struct! {
    /// `x.sum/mean/amax(dim=, keepdim=)`
    Reduce {
        x: ValueRef,
        f: ReduceFn,
        dim: u8,
        keepdim: bool,
    }
}

impl OpDef for Reduce {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let Reduce { x, f, dim, keepdim } = self;
        let t = cx.tensor(*x)?;
        let d = cx.dim(&t, *dim)?;
        if t.dtype == DType::Bool || (*f == ReduceFn::Mean && t.dtype != DType::F32) {
            bail!("reduce dtype");
        }
        if *f != ReduceFn::Sum {
            cx.all(&t.shape[d], "reduced dim", |x| x >= 1)?;
        }
        let mut shape = t.shape.clone();
        if *keepdim {
            shape[d] = DimExpr::Const(1);
        } else {
            shape.remove(d);
        }
        let lo = if t.lo.is_some_and(|l| l >= 0) {
            Some(0)
        } else {
            None
        };
        Ok(Type::Tensor(TensorType {
            dtype: t.dtype,
            shape,
            lo,
            hi: None,
        }))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let Reduce { x, f, dim, keepdim } = self;
        let expr = {
            let kd = if *keepdim { ", keepdim=True" } else { "" };
            format!("{}.{}(dim={dim}{kd})", n(*x), f.name())
        };
        vec![format!("{out} = {expr}")]
    }

    fn kind(&self) -> Option<String> {
        Some(format!("reduce.{}", self.f.name()))
    }
}

op_struct! {
    /// `x.max()`
    MaxAll {
        x: ValueRef,
    }
}

impl OpDef for MaxAll {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let MaxAll { x } = self;
        let t = cx.tensor(*x)?;
        if t.dtype == DType::Bool {
            bail!("max of bool");
        }
        for d in &t.shape {
            cx.all(d, "max over empty", |x| x >= 1)?;
        }
        Ok(Type::Tensor(t.with_shape(vec![])))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let MaxAll { x } = self;
        let expr = format!("{}.max()", n(*x));
        vec![format!("{out} = {expr}")]
    }
}

op_struct! {
    /// `torch.cumsum(x, dim=)`
    Cumsum {
        x: ValueRef,
        dim: u8,
    }
}

impl OpDef for Cumsum {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let Cumsum { x, dim } = self;
        let t = cx.tensor(*x)?;
        cx.dim(&t, *dim)?;
        if t.dtype == DType::Bool {
            bail!("cumsum of bool");
        }
        let lo = if t.lo.is_some_and(|l| l >= 0) {
            Some(0)
        } else {
            None
        };
        Ok(Type::Tensor(TensorType { lo, hi: None, ..t }))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let Cumsum { x, dim } = self;
        let expr = format!("torch.cumsum({}, dim={dim})", n(*x));
        vec![format!("{out} = {expr}")]
    }
}

op_struct! {
    /// `torch.topk(x, k, dim=).values`
    Topk {
        x: ValueRef,
        k: SizeArg => TopkK,
        dim: u8,
    }
}

impl OpDef for Topk {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let Topk { x, k, dim } = self;
        let t = cx.tensor(*x)?;
        let d = cx.dim(&t, *dim)?;
        if t.dtype != DType::F32 {
            bail!("topk dtype");
        }
        let k = cx.size(*k)?;
        cx.all(&k, "topk k", |x| x >= 0)?;
        cx.all2(&k, &t.shape[d], "topk k <= size", |a, b| a <= b)?;
        let mut shape = t.shape.clone();
        shape[d] = k;
        Ok(Type::Tensor(t.with_shape(shape)))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let Topk { x, k, dim } = self;
        let expr = format!("torch.topk({}, {}, dim={dim}).values", n(*x), arg(k));
        vec![format!("{out} = {expr}")]
    }
}

op_struct! {
    /// `x.kthvalue(k, dim=).values`: the k-th smallest along a dim, which it drops
    Kthvalue {
        x: ValueRef,
        k: SizeArg => KthK,
        dim: u8,
    }
}

impl OpDef for Kthvalue {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let Kthvalue { x, k, dim } = self;
        let t = cx.tensor(*x)?;
        let d = cx.dim(&t, *dim)?;
        if t.dtype != DType::F32 {
            bail!("kthvalue dtype");
        }
        let k = cx.size(*k)?;
        cx.all(&k, "kthvalue k >= 1", |x| x >= 1)?;
        cx.all2(&k, &t.shape[d], "kthvalue k <= size", |a, b| a <= b)?;
        let mut shape = t.shape.clone();
        shape.remove(d);
        Ok(Type::Tensor(t.with_shape(shape)))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let Kthvalue { x, k, dim } = self;
        vec![format!(
            "{out} = {}.kthvalue({}, dim={dim}).values",
            n(*x),
            arg(k)
        )]
    }
}

op_struct! {
    /// `torch.histc(x, bins=)`: a 1-D histogram with `bins` entries
    Histc {
        x: ValueRef,
        bins: SizeArg => HistcBins,
    }
}

impl OpDef for Histc {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let Histc { x, bins } = self;
        let t = cx.tensor(*x)?;
        if t.dtype != DType::F32 {
            bail!("histc dtype");
        }
        let bins = cx.size(*bins)?;
        cx.all(&bins, "histc bins >= 1", |x| x >= 1)?;
        Ok(Type::Tensor(TensorType {
            dtype: DType::F32,
            shape: vec![bins],
            lo: Some(0),
            hi: None,
        }))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let Histc { x, bins } = self;
        vec![format!(
            "{out} = torch.histc({}, bins={})",
            n(*x),
            arg(bins)
        )]
    }
}
