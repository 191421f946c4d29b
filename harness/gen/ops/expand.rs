//! The builders of expand and repeat (`ir/ops/expand.rs`), also by a size the model reads.
//! Each proposes one op whose operands exist, with the ops it needs first in `pre`; the
//! builder core keeps it only if it type-checks at every checked size.

use crate::r#gen::*;

impl Builder<'_> {
    /// `x.repeat(1, n, 1)` with a size-derived count.
    pub(in crate::r#gen) fn build_repeat_by(
        &mut self,
        u: &mut Unstructured,
        pre: &mut Step,
    ) -> Result<Option<Op>> {
        let (x, t) = tensor!(self, u, ranked);
        let dim = u.choose_index(t.rank())? as u8;
        Ok(Some(Op::RepeatBy(RepeatBy {
            x,
            dim,
            count: self.size_arg(u, pre, 1..=3)?,
        })))
    }

    pub(in crate::r#gen) fn build_expand_or_repeat(
        &mut self,
        u: &mut Unstructured,
        pre: &mut Step,
    ) -> Result<Option<Op>> {
        let op = {
            let (x, t) = tensor!(self, u, ranked);
            match u.int_in_range(0..=2u8)? {
                0 => match t.shape.iter().position(|d| *d == DimExpr::Const(1)) {
                    Some(d) => Op::Expand(Expand {
                        x,
                        dim: d as u8,
                        size: self.size_arg(u, pre, 2..=4)?,
                    }),
                    None => {
                        let id = self.next_id(pre);
                        pre.push(Op::Unsqueeze(Unsqueeze { x, dim: 0 }));
                        Op::Expand(Expand {
                            x: id,
                            dim: 0,
                            size: self.size_arg(u, pre, 2..=4)?,
                        })
                    }
                },
                1 => {
                    let mut reps = vec![];
                    for _ in 0..t.rank() {
                        reps.push(u.int_in_range(1..=2)?);
                    }
                    Op::Repeat(Repeat { x, reps })
                }
                _ => {
                    let (other, _) = tensor!(self, u, |o: &TensorType| o.rank() >= t.rank());
                    Op::ExpandAs(ExpandAs { x, other })
                }
            }
        };
        Ok(Some(op))
    }
}
