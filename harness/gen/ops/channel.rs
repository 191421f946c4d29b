//! The builders of sizes that travel through a tensor (`ir/ops/channel.rs`): `torch.tensor(n)`, `as_tensor`.
//! Each proposes one op whose operands exist, with the ops it needs first in `pre`; the
//! builder core keeps it only if it type-checks at every checked size.

use crate::r#gen::*;

impl Builder<'_> {
    pub(in crate::r#gen) fn build_to_tensor(
        &mut self,
        u: &mut Unstructured,
        pre: &mut Step,
    ) -> Result<Option<Op>> {
        let op = {
            let s = match self.scalar_arg(u, pre, true)? {
                SizeArg::Value(v) => v,
                SizeArg::Const(_) => return Ok(None),
            };
            let spelling = *u.choose(TensorSpelling::ALL)?;
            let like = match spelling {
                TensorSpelling::NewTensor => {
                    Some(tensor!(self, u, |t: &TensorType| t.dtype != DType::Bool).0)
                }
                _ => None,
            };
            Op::ToTensor(ToTensor { s, spelling, like })
        };
        Ok(Some(op))
    }
}
