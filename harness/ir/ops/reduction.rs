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

op_struct! {
    /// `F.avg_pool1d(x, kernel, stride=, padding=, ceil_mode=)` and its max and 2-D kin:
    /// the window slides over the last one or two dims (stride `None` means the kernel)
    Pool {
        x: ValueRef,
        f: PoolFn,
        kernel: SizeArg => PoolKernel,
        stride: Option<u8>,
        padding: u8,
        ceil_mode: bool,
    }
}

impl OpDef for Pool {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let Pool {
            x,
            f,
            kernel,
            stride,
            padding,
            ceil_mode,
        } = *self;
        let t = cx.tensor(x)?;
        if t.dtype != DType::F32 {
            bail!("pool dtype");
        }
        let nd = f.dims();
        if t.rank() != nd + 1 && t.rank() != nd + 2 {
            bail!("{} of rank {}", f.name(), t.rank());
        }
        let k = cx.size(kernel)?;
        let s = match (stride, kernel) {
            (Some(s), _) => s as i64,
            (None, SizeArg::Const(k)) => k,
            // The output size would need floor division by a size.
            (None, SizeArg::Value(_)) => bail!("pool stride from a size"),
        };
        if s < 1 {
            bail!("pool stride {s}");
        }
        // Eager pools only non-empty non-batch dims (channels and the pooled ones).
        for d in &t.shape[t.rank() - nd - 1..] {
            cx.all(d, "pool over non-empty non-batch dims", |x| x >= 1)?;
        }
        let p = padding as i64;
        cx.all(&k, "pool kernel >= 1", |k| k >= 1)?;
        cx.all(&k, "pool padding <= kernel / 2", |k| 2 * p <= k)?;
        let mut shape = t.shape.clone();
        for d in shape.iter_mut().skip(t.rank() - nd) {
            if d.has_data() {
                bail!("pool over a data-dependent size");
            }
            // torch's pooling_output_shape with dilation 1.
            let span = DimExpr::sub(DimExpr::add(d.clone(), DimExpr::Const(2 * p)), k.clone());
            cx.all(&span, "pool window fits", |x| x >= 0)?;
            *d = if ceil_mode {
                let up = DimExpr::add(
                    DimExpr::floor_div(DimExpr::add(span, DimExpr::Const(s - 1)), s),
                    DimExpr::Const(1),
                );
                // The last window must start inside the input or its left padding.
                let starts =
                    DimExpr::floor_div(DimExpr::add(d.clone(), DimExpr::Const(p + s - 1)), s);
                DimExpr::min(up, starts)
            } else {
                DimExpr::add(DimExpr::floor_div(span, s), DimExpr::Const(1))
            };
        }
        let out = t.with_shape(shape);
        // Average pooling counts the zero padding in.
        let pads_in = p > 0 && matches!(f, PoolFn::Avg1d | PoolFn::Avg2d);
        Ok(Type::Tensor(if pads_in { out.with_zero() } else { out }))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let Pool {
            x,
            f,
            kernel,
            stride,
            padding,
            ceil_mode,
        } = self;
        let mut args = vec![n(*x), arg(kernel)];
        if let Some(s) = stride {
            args.push(format!("stride={s}"));
        }
        if *padding > 0 {
            args.push(format!("padding={padding}"));
        }
        if *ceil_mode {
            args.push("ceil_mode=True".into());
        }
        vec![format!("{out} = F.{}({})", f.name(), join(args))]
    }

    fn kind(&self) -> Option<String> {
        Some(self.f.name().into())
    }
}

op_struct! {
    /// `F.adaptive_avg_pool1d(x, n)`, `F.adaptive_max_pool1d(x, n)`: the last dim becomes `n`
    AdaptivePool {
        x: ValueRef,
        f: AdaptiveFn,
        size: SizeArg => PoolOutputSize,
    }
}

impl OpDef for AdaptivePool {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let AdaptivePool { x, f, size } = *self;
        let t = cx.tensor(x)?;
        if t.dtype != DType::F32 {
            bail!("adaptive pool dtype");
        }
        if t.rank() != 2 && t.rank() != 3 {
            bail!("{} of rank {}", f.name(), t.rank());
        }
        if t.shape.last().is_some_and(DimExpr::has_data) {
            bail!("adaptive pool over a data-dependent size");
        }
        // Eager pools only non-empty non-batch dims (channels and the pooled one).
        for d in &t.shape[t.rank() - 2..] {
            cx.all(d, "adaptive pool over non-empty non-batch dims", |x| x >= 1)?;
        }
        let size = cx.size(size)?;
        cx.all(&size, "adaptive pool output >= 1", |x| x >= 1)?;
        let mut shape = t.shape.clone();
        *shape.last_mut().expect("rank >= 2") = size;
        Ok(Type::Tensor(t.with_shape(shape)))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let AdaptivePool { x, f, size } = self;
        let expr = format!("F.{}({}, {})", f.name(), n(*x), arg(size));
        vec![format!("{out} = {expr}")]
    }

    fn kind(&self) -> Option<String> {
        Some(self.f.name().into())
    }
}
