//! Join ops.

use super::*;

op_struct! {
    /// `torch.cat([...], dim=)`
    Cat {
        xs: Vec<ValueRef>,
        dim: u8,
    }
}

impl OpDef for Cat {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let Cat { xs, dim } = self;
        if xs.len() < 2 {
            bail!("cat of fewer than two");
        }
        let ts = xs
            .iter()
            .map(|x| cx.tensor(*x))
            .collect::<Result<Vec<_>, _>>()?;
        let d = cx.dim(&ts[0], *dim)?;
        let mut total = ts[0].shape[d].clone();
        for t in &ts[1..] {
            if t.dtype != ts[0].dtype || t.rank() != ts[0].rank() {
                bail!("cat dtype or rank");
            }
            for i in 0..t.rank() {
                if i != d && t.shape[i] != ts[0].shape[i] {
                    bail!("cat dim {i}: {} vs {}", t.shape[i], ts[0].shape[i]);
                }
            }
            total = DimExpr::add(total, t.shape[d].clone());
        }
        let mut shape = ts[0].shape.clone();
        shape[d] = total;
        let lo = ts
            .iter()
            .map(|t| t.lo)
            .reduce(|a, b| a.zip(b).map(|(x, y)| x.min(y)))
            .flatten();
        let hi = ts
            .iter()
            .map(|t| t.hi)
            .reduce(|a, b| a.zip(b).map(|(x, y)| x.max(y)))
            .flatten();
        Ok(Type::Tensor(TensorType {
            dtype: ts[0].dtype,
            shape,
            lo,
            hi,
        }))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let Cat { xs, dim } = self;
        let expr = format!("torch.cat([{}], dim={dim})", join(xs.iter().map(|x| n(*x))));
        vec![format!("{out} = {expr}")]
    }
}

op_struct! {
    /// `torch.stack([...], dim=)`
    Stack {
        xs: Vec<ValueRef>,
        dim: u8,
    }
}

impl OpDef for Stack {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let Stack { xs, dim } = self;
        if xs.len() < 2 {
            bail!("stack of fewer than two");
        }
        let ts = xs
            .iter()
            .map(|x| cx.tensor(*x))
            .collect::<Result<Vec<_>, _>>()?;
        if *dim as usize > ts[0].rank() {
            bail!("stack dim");
        }
        for t in &ts[1..] {
            if t.dtype != ts[0].dtype || t.shape != ts[0].shape {
                bail!("stack shapes differ");
            }
        }
        let mut shape = ts[0].shape.clone();
        shape.insert(*dim as usize, DimExpr::Const(xs.len() as i64));
        Ok(Type::Tensor(TensorType {
            dtype: ts[0].dtype,
            shape,
            lo: None,
            hi: None,
        }))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let Stack { xs, dim } = self;
        let expr = format!(
            "torch.stack([{}], dim={dim})",
            join(xs.iter().map(|x| n(*x)))
        );
        vec![format!("{out} = {expr}")]
    }
}

op_struct! {
    /// `torch.split(x, size, dim=)[0]`
    Split {
        x: ValueRef,
        size: SizeArg => SplitSize,
        dim: u8,
    }
}

impl OpDef for Split {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let Split { x, size, dim } = self;
        let t = cx.tensor(*x)?;
        let d = cx.dim(&t, *dim)?;
        let s = cx.size(*size)?;
        cx.all(&s, "split size", |x| x >= 1)?;
        let mut shape = t.shape.clone();
        shape[d] = DimExpr::min(s, t.shape[d].clone());
        Ok(Type::Tensor(t.with_shape(shape)))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let Split { x, size, dim } = self;
        let expr = format!("torch.split({}, {}, dim={dim})[0]", n(*x), arg(size));
        vec![format!("{out} = {expr}")]
    }

    fn decisions(&self, cx: &DecisionCx, out: &mut Vec<(DecisionKind, DecisionExpr)>) {
        if let (Some(n), Some(s)) = (cx.dim_of(self.x, self.dim), cx.size(&self.size)) {
            out.push((
                DecisionKind::OutputCount,
                DecisionExpr::SplitCount(n.clone(), s.clone()),
            ));
            out.push((
                DecisionKind::ClampArm,
                DecisionExpr::Le(s.clone(), n.clone()),
            ));
            // The pieces after the first are computed too; a last piece of 0 or 1 is
            // specialized by torch like any other size.
            out.push((DecisionKind::SizeClass, DecisionExpr::SplitLast(n, s)));
        }
    }
}

op_struct! {
    /// `torch.chunk(x, chunks, dim=)[0]`
    Chunk {
        x: ValueRef,
        chunks: u8,
        dim: u8,
    }
}

impl OpDef for Chunk {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let Chunk { x, chunks, dim } = self;
        let t = cx.tensor(*x)?;
        let d = cx.dim(&t, *dim)?;
        let c = *chunks as i64;
        if c < 1 {
            bail!("chunk count");
        }
        cx.all(&t.shape[d], "chunked dim", |x| x >= 1)?;
        let mut shape = t.shape.clone();
        shape[d] = DimExpr::floor_div(DimExpr::add(t.shape[d].clone(), DimExpr::Const(c - 1)), c);
        Ok(Type::Tensor(t.with_shape(shape)))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let Chunk { x, chunks, dim } = self;
        let expr = format!("torch.chunk({}, {chunks}, dim={dim})[0]", n(*x));
        vec![format!("{out} = {expr}")]
    }

    fn decisions(&self, cx: &DecisionCx, out: &mut Vec<(DecisionKind, DecisionExpr)>) {
        if let Some(n) = cx.dim_of(self.x, self.dim) {
            out.push((
                DecisionKind::OutputCount,
                DecisionExpr::ChunkCount(n.clone(), self.chunks as i64),
            ));
            out.push((
                DecisionKind::SizeClass,
                DecisionExpr::ChunkLast(n, self.chunks as i64),
            ));
        }
    }
}

op_struct! {
    /// `torch.narrow(x, dim, start, len)`
    Narrow {
        x: ValueRef,
        dim: u8,
        start: SizeArg => NarrowBound,
        len: SizeArg => NarrowBound,
    }
}

impl OpDef for Narrow {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let Narrow { x, dim, start, len } = self;
        let t = cx.tensor(*x)?;
        let d = cx.dim(&t, *dim)?;
        let (s, l) = (cx.size(*start)?, cx.size(*len)?);
        cx.all(&s, "narrow start", |x| x >= 0)?;
        cx.all(&l, "narrow length", |x| x >= 0)?;
        let end = DimExpr::add(s, l.clone());
        cx.all2(&end, &t.shape[d], "narrow end", |a, b| a <= b)?;
        let mut shape = t.shape.clone();
        shape[d] = l;
        Ok(Type::Tensor(t.with_shape(shape)))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let Narrow { x, dim, start, len } = self;
        let expr = format!(
            "torch.narrow({}, {dim}, {}, {})",
            n(*x),
            arg(start),
            arg(len)
        );
        vec![format!("{out} = {expr}")]
    }
}

op_struct! {
    /// `x[..., start:end]`
    Slice {
        x: ValueRef,
        dim: u8,
        start: SizeArg => SliceBound,
        end: SizeArg => SliceBound,
    }
}

impl OpDef for Slice {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let Slice { x, dim, start, end } = self;
        let t = cx.tensor(*x)?;
        let d = cx.dim(&t, *dim)?;
        let (s, e) = (cx.size(*start)?, cx.size(*end)?);
        cx.all(&s, "slice start", |x| x >= 0)?;
        let stop = DimExpr::min(e, t.shape[d].clone());
        cx.all2(&s, &stop, "slice start <= stop", |a, b| a <= b)?;
        let mut shape = t.shape.clone();
        shape[d] = DimExpr::sub(stop, s);
        Ok(Type::Tensor(t.with_shape(shape)))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let Slice { x, dim, start, end } = self;
        let expr = {
            format!(
                "{}[{}{}:{}]",
                n(*x),
                ":, ".repeat(*dim as usize),
                arg(start),
                arg(end)
            )
        };
        vec![format!("{out} = {expr}")]
    }

    fn decisions(&self, cx: &DecisionCx, out: &mut Vec<(DecisionKind, DecisionExpr)>) {
        if let (Some(n), Some(e)) = (cx.dim_of(self.x, self.dim), cx.size(&self.end)) {
            out.push((DecisionKind::ClampArm, DecisionExpr::Le(e, n)));
        }
    }
}

op_struct! {
    /// `torch.index_select(x, dim, torch.arange(len))`
    IndexSelect {
        x: ValueRef,
        dim: u8,
        len: SizeArg => IndexLen,
    }
}

impl OpDef for IndexSelect {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let IndexSelect { x, dim, len } = self;
        let t = cx.tensor(*x)?;
        let d = cx.dim(&t, *dim)?;
        let l = cx.size(*len)?;
        cx.all(&l, "index count", |x| x >= 0)?;
        cx.all2(&l, &t.shape[d], "index < size", |a, b| a <= b)?;
        let mut shape = t.shape.clone();
        shape[d] = l;
        Ok(Type::Tensor(t.with_shape(shape)))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let IndexSelect { x, dim, len } = self;
        let expr = {
            format!(
                "torch.index_select({}, {dim}, torch.arange({}))",
                n(*x),
                arg(len)
            )
        };
        vec![format!("{out} = {expr}")]
    }
}

op_struct! {
    /// `torch.gather(x, dim, zeros)`
    Gather {
        x: ValueRef,
        dim: u8,
    }
}

impl OpDef for Gather {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let Gather { x, dim } = self;
        let t = cx.tensor(*x)?;
        let d = cx.dim(&t, *dim)?;
        cx.all(&t.shape[d], "gather dim", |x| x >= 1)?;
        Ok(Type::Tensor(t))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let Gather { x, dim } = self;
        let expr = {
            format!(
                "torch.gather({0}, {dim}, torch.zeros_like({0}, dtype=torch.int64))",
                n(*x)
            )
        };
        vec![format!("{out} = {expr}")]
    }
}
