//! Shape ops.

use super::*;

op_struct! {
    /// `x.reshape(...)` or `x.contiguous().view(...)`
    Reshape {
        x: ValueRef,
        shape: Vec<ReshapeArg> => ReshapeSize,
        spelling: ReshapeSpelling,
    }
}

impl OpDef for Reshape {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let Reshape { x, shape, .. } = self;
        let t = cx.tensor(*x)?;
        let infers = shape.iter().filter(|a| **a == ReshapeArg::Infer).count();
        if infers > 1 || shape.is_empty() {
            bail!("reshape needs at most one -1");
        }
        let mut explicit = vec![];
        for a in shape {
            if let ReshapeArg::Size(s) = a {
                let e = cx.size(*s)?;
                cx.all(&e, "reshape size", |x| x >= 1)?;
                explicit.push(e);
            }
        }
        let inferred = divide_exact(&t.shape, &explicit);
        let mut out = vec![];
        let mut explicit_iter = explicit.iter();
        for a in shape {
            out.push(match a {
                ReshapeArg::Infer => match &inferred {
                    Some(e) => e.clone(),
                    None => bail!("cannot infer the -1 of reshape symbolically"),
                },
                ReshapeArg::Size(_) => explicit_iter.next().unwrap().clone(),
            });
        }
        // Symbolically equal products hold at every valuation; otherwise check each.
        if divide_exact(&t.shape, &out) != Some(DimExpr::Const(1)) {
            cx.all2(
                &product(&t.shape),
                &product(&out),
                "reshape numel",
                |a, b| a == b,
            )?;
        }
        Ok(Type::Tensor(t.with_shape(out)))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let Reshape { x, shape, spelling } = self;
        let expr = {
            let args = join(shape.iter().map(|a| match a {
                ReshapeArg::Infer => "-1".to_string(),
                ReshapeArg::Size(s) => arg(s),
            }));
            match spelling {
                ReshapeSpelling::Reshape => format!("{}.reshape({args})", n(*x)),
                // `view` needs a contiguous tensor; eager would reject it after a transpose.
                ReshapeSpelling::View => format!("{}.contiguous().view({args})", n(*x)),
            }
        };
        vec![format!("{out} = {expr}")]
    }

    fn spelling(&self) -> Option<&'static str> {
        Some(self.spelling.name())
    }

    fn respellings(&self) -> Vec<Op> {
        others(ReshapeSpelling::ALL, self.spelling)
            .map(|spelling| {
                Reshape {
                    spelling,
                    ..self.clone()
                }
                .into()
            })
            .collect()
    }
}

op_struct! {
    /// `torch.flatten(x, start, end)`
    Flatten {
        x: ValueRef,
        start: u8,
        end: u8,
    }
}

impl OpDef for Flatten {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let Flatten { x, start, end } = self;
        let t = cx.tensor(*x)?;
        let (s, e) = (*start as usize, *end as usize);
        if s > e || e >= t.rank().max(1) {
            bail!("flatten range");
        }
        Ok(if t.rank() == 0 {
            Type::Tensor(t.with_shape(vec![DimExpr::Const(1)]))
        } else {
            let mut shape = t.shape[..s].to_vec();
            shape.push(product(&t.shape[s..=e]));
            shape.extend_from_slice(&t.shape[e + 1..]);
            Type::Tensor(t.with_shape(shape))
        })
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let Flatten { x, start, end } = self;
        let expr = format!("torch.flatten({}, {start}, {end})", n(*x));
        vec![format!("{out} = {expr}")]
    }
}

op_struct! {
    /// `x.unflatten(dim, (outer, -1))`
    Unflatten {
        x: ValueRef,
        dim: u8,
        outer: SizeArg => ReshapeSize,
    }
}

impl OpDef for Unflatten {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let Unflatten { x, dim, outer } = self;
        let t = cx.tensor(*x)?;
        let d = cx.dim(&t, *dim)?;
        let o = cx.size(*outer)?;
        cx.all(&o, "unflatten size", |x| x >= 1)?;
        let Some(inner) = divide_exact(std::slice::from_ref(&t.shape[d]), std::slice::from_ref(&o))
        else {
            bail!("{} does not divide {}", o, t.shape[d]);
        };
        let mut shape = t.shape.clone();
        shape[d] = inner;
        shape.insert(d, o);
        Ok(Type::Tensor(t.with_shape(shape)))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let Unflatten { x, dim, outer } = self;
        let expr = format!("{}.unflatten({dim}, ({}, -1))", n(*x), arg(outer));
        vec![format!("{out} = {expr}")]
    }
}

op_struct! {
    /// `x.permute(...)`
    Permute {
        x: ValueRef,
        perm: Vec<u8>,
    }
}

impl OpDef for Permute {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let Permute { x, perm } = self;
        let t = cx.tensor(*x)?;
        let mut seen = perm.clone();
        seen.sort();
        if seen != (0..t.rank() as u8).collect::<Vec<_>>() {
            bail!("bad permutation");
        }
        Ok(Type::Tensor(t.with_shape(
            perm.iter().map(|&p| t.shape[p as usize].clone()).collect(),
        )))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let Permute { x, perm } = self;
        let expr = format!(
            "{}.permute({})",
            n(*x),
            join(perm.iter().map(|p| p.to_string()))
        );
        vec![format!("{out} = {expr}")]
    }
}

op_struct! {
    /// `x.transpose(d0, d1)`
    Transpose {
        x: ValueRef,
        d0: u8,
        d1: u8,
    }
}

impl OpDef for Transpose {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let Transpose { x, d0, d1 } = self;
        let t = cx.tensor(*x)?;
        let (a, b) = (cx.dim(&t, *d0)?, cx.dim(&t, *d1)?);
        let mut shape = t.shape.clone();
        shape.swap(a, b);
        Ok(Type::Tensor(t.with_shape(shape)))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let Transpose { x, d0, d1 } = self;
        let expr = format!("{}.transpose({d0}, {d1})", n(*x));
        vec![format!("{out} = {expr}")]
    }
}

op_struct! {
    /// `x.squeeze(dim)`
    Squeeze {
        x: ValueRef,
        dim: u8,
    }
}

impl OpDef for Squeeze {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let Squeeze { x, dim } = self;
        let t = cx.tensor(*x)?;
        let d = cx.dim(&t, *dim)?;
        let mut shape = t.shape.clone();
        if t.shape[d] == DimExpr::Const(1) {
            shape.remove(d);
        } else {
            // `squeeze(d)` of a size that may be 1 (`x.squeeze(-1)` in model code): a no-op
            // wherever the size is 2 or more, which is everywhere the case is checked but at
            // the 0/1 probes, where eager drops the dim and the traced program keeps it.
            cx.all(&t.shape[d], "squeeze of a size below 2", |x| x >= 2)?;
        }
        Ok(Type::Tensor(t.with_shape(shape)))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let Squeeze { x, dim } = self;
        let expr = format!("{}.squeeze({dim})", n(*x));
        vec![format!("{out} = {expr}")]
    }
}

op_struct! {
    /// `x.unsqueeze(dim)`
    Unsqueeze {
        x: ValueRef,
        dim: u8,
    }
}

impl OpDef for Unsqueeze {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let Unsqueeze { x, dim } = self;
        let t = cx.tensor(*x)?;
        if *dim as usize > t.rank() {
            bail!("unsqueeze dim");
        }
        let mut shape = t.shape.clone();
        shape.insert(*dim as usize, DimExpr::Const(1));
        Ok(Type::Tensor(t.with_shape(shape)))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let Unsqueeze { x, dim } = self;
        let expr = format!("{}.unsqueeze({dim})", n(*x));
        vec![format!("{out} = {expr}")]
    }
}

op_struct! {
    /// `F.interpolate(x, size=)`
    Interpolate {
        x: ValueRef,
        size: SizeArg => InterpolateSize,
    }
}

impl OpDef for Interpolate {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let Interpolate { x, size } = self;
        let t = cx.tensor(*x)?;
        if t.rank() != 3 || t.dtype != DType::F32 {
            bail!("interpolate wants a 3-d float tensor");
        }
        for d in &t.shape {
            cx.all(d, "interpolate input", |x| x >= 1)?;
        }
        let s = cx.size(*size)?;
        cx.all(&s, "interpolate size", |x| x >= 1)?;
        Ok(Type::Tensor(TensorType::unbounded(
            DType::F32,
            vec![t.shape[0].clone(), t.shape[1].clone(), s],
        )))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let Interpolate { x, size } = self;
        let expr = format!("F.interpolate({}, size={})", n(*x), arg(size));
        vec![format!("{out} = {expr}")]
    }
}

simple_enum!(
    /// `scale_factor` of `F.interpolate`.
    ScaleFactor { Up2 => "2.0", Down2 => "0.5" });

op_struct! {
    /// `F.interpolate(x, scale_factor=2.0)` (or 0.5): torch computes the output size from a
    /// float
    InterpolateScale {
        x: ValueRef,
        scale: ScaleFactor,
    }
}

impl OpDef for InterpolateScale {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let t = cx.tensor(self.x)?;
        if t.rank() != 3 || t.dtype != DType::F32 {
            bail!("interpolate wants a 3-d float tensor");
        }
        for d in &t.shape {
            cx.all(d, "interpolate input", |x| x >= 1)?;
        }
        let last = match self.scale {
            ScaleFactor::Up2 => DimExpr::mul(DimExpr::Const(2), t.shape[2].clone()),
            ScaleFactor::Down2 => DimExpr::floor_div(t.shape[2].clone(), 2),
        };
        cx.all(&last, "interpolate output", |x| x >= 1)?;
        Ok(Type::Tensor(TensorType::unbounded(
            DType::F32,
            vec![t.shape[0].clone(), t.shape[1].clone(), last],
        )))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        vec![format!(
            "{out} = F.interpolate({}, scale_factor={})",
            n(self.x),
            self.scale.name()
        )]
    }
}

op_struct! {
    /// `x.reshape(y.shape)` / `x.reshape(y.size())`: another tensor's whole shape passed on
    ReshapeAs {
        x: ValueRef,
        of: ValueRef,
        spelling: ShapeSpelling,
    }
}

impl OpDef for ReshapeAs {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let ReshapeAs { x, of, .. } = *self;
        let (t, o) = (cx.tensor(x)?, cx.tensor(of)?);
        if o.shape.iter().any(DimExpr::has_data) || t.shape.iter().any(DimExpr::has_data) {
            bail!("reshape_as with data-dependent sizes");
        }
        if divide_exact(&t.shape, &o.shape) != Some(DimExpr::Const(1)) {
            cx.all2(
                &product(&t.shape),
                &product(&o.shape),
                "reshape numel",
                |a, b| a == b,
            )?;
        }
        Ok(Type::Tensor(t.with_shape(o.shape)))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let ReshapeAs { x, of, spelling } = *self;
        vec![format!("{out} = {}.reshape({})", n(x), spelling.of(&n(of)))]
    }

    fn spelling(&self) -> Option<&'static str> {
        Some(self.spelling.name())
    }

    fn respellings(&self) -> Vec<Op> {
        others(ShapeSpelling::ALL, self.spelling)
            .map(|spelling| ReshapeAs { spelling, ..*self }.into())
            .collect()
    }
}
