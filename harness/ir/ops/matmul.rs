//! Matmul ops.

use super::*;

op_struct! {
    /// `torch.matmul(a, b)`
    Matmul {
        a: ValueRef,
        b: ValueRef,
    }
}

impl OpDef for Matmul {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let Matmul { a, b } = self;
        let (ta, tb) = (cx.tensor(*a)?, cx.tensor(*b)?);
        if ta.dtype != DType::F32 || tb.dtype != DType::F32 {
            bail!("matmul dtype");
        }
        if ta.rank() < 2 || tb.rank() < 2 {
            bail!("matmul rank");
        }
        let (ra, rb) = (ta.rank(), tb.rank());
        if ta.shape[ra - 1] != tb.shape[rb - 2] {
            bail!("matmul inner {} vs {}", ta.shape[ra - 1], tb.shape[rb - 2]);
        }
        let mut shape = broadcast(&ta.shape[..ra - 2], &tb.shape[..rb - 2])?;
        shape.push(ta.shape[ra - 2].clone());
        shape.push(tb.shape[rb - 1].clone());
        Ok(Type::Tensor(TensorType::unbounded(DType::F32, shape)))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let Matmul { a, b } = self;
        let expr = format!("torch.matmul({}, {})", n(*a), n(*b));
        vec![format!("{out} = {expr}")]
    }
}
