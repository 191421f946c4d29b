//! Expand ops.

use super::*;

op_struct! {
    /// `x.expand(..., size, ...)` of a dim of size 1
    Expand {
        x: ValueRef,
        dim: u8,
        size: SizeArg => ExpandSize,
    }
}

impl OpDef for Expand {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let Expand { x, dim, size } = self;
        let t = cx.tensor(*x)?;
        let d = cx.dim(&t, *dim)?;
        if t.shape[d] != DimExpr::Const(1) {
            bail!("expand of a dim that is not 1");
        }
        let s = cx.size(*size)?;
        cx.all(&s, "expand size", |x| x >= 0)?;
        let mut shape = t.shape.clone();
        shape[d] = s;
        Ok(Type::Tensor(t.with_shape(shape)))
    }

    fn render(&self, out: &str, cx: &RenderCx) -> Vec<String> {
        let Expand { x, dim, size } = self;
        let expr = {
            let dims: Vec<String> = (0..cx.rank(*x))
                .map(|i| {
                    if i == *dim as usize {
                        arg(size)
                    } else {
                        "-1".into()
                    }
                })
                .collect();
            format!("{}.expand({})", n(*x), dims.join(", "))
        };
        vec![format!("{out} = {expr}")]
    }
}

op_struct! {
    /// `x.repeat(...)`
    Repeat {
        x: ValueRef,
        reps: Vec<u8>,
    }
}

impl OpDef for Repeat {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let Repeat { x, reps } = self;
        let t = cx.tensor(*x)?;
        if reps.len() != t.rank() || reps.contains(&0) {
            bail!("repeat counts");
        }
        let shape = t
            .shape
            .iter()
            .zip(reps)
            .map(|(d, &r)| DimExpr::mul(DimExpr::Const(r as i64), d.clone()))
            .collect();
        Ok(Type::Tensor(t.with_shape(shape)))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let Repeat { x, reps } = self;
        let expr = format!(
            "{}.repeat({})",
            n(*x),
            join(reps.iter().map(|r| r.to_string()))
        );
        vec![format!("{out} = {expr}")]
    }
}

op_struct! {
    /// `x.expand_as(other)`
    ExpandAs {
        x: ValueRef,
        other: ValueRef,
    }
}

impl OpDef for ExpandAs {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let ExpandAs { x, other } = self;
        let (t, o) = (cx.tensor(*x)?, cx.tensor(*other)?);
        if t.rank() > o.rank() {
            bail!("expand_as rank");
        }
        let shape = broadcast(&t.shape, &o.shape)?;
        if shape != o.shape {
            bail!("expand_as cannot reach the target");
        }
        Ok(Type::Tensor(t.with_shape(shape)))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let ExpandAs { x, other } = self;
        let expr = format!("{}.expand_as({})", n(*x), n(*other));
        vec![format!("{out} = {expr}")]
    }
}

op_struct! {
    /// `x.repeat(1, n, 1)`: one dim repeated a size-derived number of times
    RepeatBy {
        x: ValueRef,
        dim: u8,
        count: SizeArg => RepeatCount,
    }
}

impl OpDef for RepeatBy {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let RepeatBy { x, dim, count } = *self;
        let t = cx.tensor(x)?;
        let d = cx.dim(&t, dim)?;
        let c = cx.size(count)?;
        // Eager repeats 0 times too (an empty dim).
        cx.all(&c, "repeat count >= 0", |x| x >= 0)?;
        let mut shape = t.shape.clone();
        shape[d] = DimExpr::mul(c, shape[d].clone());
        Ok(Type::Tensor(t.with_shape(shape)))
    }

    fn render(&self, out: &str, cx: &RenderCx) -> Vec<String> {
        let RepeatBy { x, dim, count } = self;
        let reps = (0..cx.rank(*x).max(1))
            .map(|i| {
                if i == *dim as usize {
                    arg(count)
                } else {
                    "1".into()
                }
            })
            .collect::<Vec<_>>();
        vec![format!("{out} = {}.repeat({})", n(*x), join(reps))]
    }
}
