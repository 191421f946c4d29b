//! The builders of data-dependent sizes (`ir/ops/data.rs`): `item()` / `tolist()`, nonzero-style shapes, bincount.
//! Each proposes one op whose operands exist, with the ops it needs first in `pre`; the
//! builder core keeps it only if it type-checks at every checked size.

use crate::r#gen::*;

impl Builder<'_> {
    /// `torch.bincount(x, minlength=m)` of bounded non-negative ints, flattened first when
    /// they are not 1-d.
    pub(in crate::r#gen) fn build_bincount(
        &mut self,
        u: &mut Unstructured,
        pre: &mut Step,
    ) -> Result<Option<Op>> {
        let (x, t) = tensor!(self, u, |t: &TensorType| t.dtype == DType::I64
            && t.rank() > 0
            && t.lo.is_some_and(|l| l >= 0)
            && t.hi.is_some_and(|h| h < 64));
        let x = if t.rank() == 1 {
            x
        } else {
            let id = self.next_id(pre);
            pre.push(Op::Flatten(Flatten {
                x,
                start: 0,
                end: t.rank() as u8 - 1,
            }));
            id
        };
        Ok(Some(Op::Bincount(Bincount {
            x,
            minlength: self.size_arg(u, pre, 0..=8)?,
        })))
    }

    pub(in crate::r#gen) fn build_item_or_to_list(
        &mut self,
        u: &mut Unstructured,
        pre: &mut Step,
    ) -> Result<Option<Op>> {
        let op = {
            let (x, t) = tensor!(self, u, |t: &TensorType| t.dtype == DType::I64
                && t.lo.is_some_and(|l| l >= 0)
                && t.rank() > 0);
            let value = if u.arbitrary()? || t.rank() != 1 {
                let id = self.next_id(pre);
                pre.push(Op::MaxAll(MaxAll { x }));
                let item = self.next_id(pre);
                pre.push(Op::Item(Item { x: id }));
                item
            } else {
                let item = self.next_id(pre);
                pre.push(Op::ToList(ToList { x, index: 0 }));
                item
            };
            // A data-dependent size must feed a size to matter.
            match u.int_in_range(0..=2u8)? {
                0 => Op::Arange(Arange {
                    end: SizeArg::Value(value),
                    step: None,
                }),
                1 => Op::Zeros(Zeros {
                    shape: vec![SizeArg::Value(value)],
                    like: None,
                }),
                _ => Op::Full(Full {
                    shape: vec![SizeArg::Const(2)],
                    fill: SizeArg::Value(value),
                    like: None,
                    empty: false,
                }),
            }
        };
        Ok(Some(op))
    }

    pub(in crate::r#gen) fn build_data_dependent_shape(
        &mut self,
        u: &mut Unstructured,
        _pre: &mut Step,
    ) -> Result<Option<Op>> {
        let op = {
            let (x, t) = tensor!(self, u, ranked);
            match u.int_in_range(0..=3u8)? {
                0 => Op::Nonzero(Nonzero { x }),
                1 => Op::MaskedSelect(MaskedSelect { x }),
                2 if t.dtype == DType::I64 => Op::Unique(Unique { x }),
                _ if t.dtype == DType::I64 && t.rank() == 1 && t.lo.is_some_and(|l| l >= 0) => {
                    Op::RepeatInterleave(RepeatInterleave { x })
                }
                _ => Op::Nonzero(Nonzero { x }),
            }
        };
        Ok(Some(op))
    }
}
