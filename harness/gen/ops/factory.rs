//! The builders of factories sized by the model (`ir/ops/factory.rs`): `new_*` of a shape, arange, full /
//! zeros / ones, eye / linspace, one_hot, tril.
//! Each proposes one op whose operands exist, with the ops it needs first in `pre`; the
//! builder core keeps it only if it type-checks at every checked size.

use crate::r#gen::*;

impl Builder<'_> {
    /// `torch.zeros(y.shape)`, `x.new_ones(y.size())`.
    pub(in crate::r#gen) fn build_shape_factory(
        &mut self,
        u: &mut Unstructured,
        _pre: &mut Step,
    ) -> Result<Option<Op>> {
        let (of, _) = tensor!(self, u, |t: &TensorType| !t
            .shape
            .iter()
            .any(DimExpr::has_data));
        let like = if u.arbitrary()? {
            self.pick_tensor(u, float)?.map(|(l, _)| l)
        } else {
            None
        };
        Ok(Some(Op::ShapeFactory(ShapeFactory {
            of,
            fill: *u.choose(ShapeFill::ALL)?,
            like,
            spelling: *u.choose(ShapeSpelling::ALL)?,
        })))
    }

    pub(in crate::r#gen) fn build_arange(
        &mut self,
        u: &mut Unstructured,
        pre: &mut Step,
    ) -> Result<Option<Op>> {
        let op = {
            if u.int_in_range(0..=3u8)? == 0
                && let Some((x, _)) = self.pick_tensor(u, |t| {
                    t.dtype == DType::I64 && t.lo.is_some_and(|l| l >= 0) && t.rank() > 0
                })?
            {
                // `torch.arange(t.max())`: the seed document's data-dependent end.
                let id = self.next_id(pre);
                pre.push(Op::MaxAll(MaxAll { x }));
                Op::Arange(Arange {
                    end: SizeArg::Value(id),
                    step: None,
                })
            } else {
                let end = self.size_arg(u, pre, 1..=6)?;
                let step = if u.int_in_range(0..=2u8)? == 0 {
                    Some(if u.int_in_range(0..=3u8)? == 0 {
                        SizeArg::Const(2)
                    } else {
                        self.size_arg(u, pre, 1..=3)?
                    })
                } else {
                    None
                };
                Op::Arange(Arange { end, step })
            }
        };
        Ok(Some(op))
    }

    pub(in crate::r#gen) fn build_full_zeros_ones(
        &mut self,
        u: &mut Unstructured,
        pre: &mut Step,
    ) -> Result<Option<Op>> {
        let op = {
            let rank = u.int_in_range(1..=2)?;
            let mut shape = vec![];
            for _ in 0..rank {
                shape.push(self.size_arg(u, pre, 1..=4)?);
            }
            // Half the zeros/ones are `x.new_zeros(...)` of a float tensor, as modules write.
            let like = if u.arbitrary()? {
                self.pick_tensor(u, float)?.map(|(v, _)| v)
            } else {
                None
            };
            match u.int_in_range(0..=3u8)? {
                0 => Op::Zeros(Zeros { shape, like }),
                1 => Op::Ones(Ones { shape, like }),
                _ => Op::Full(Full {
                    shape,
                    fill: self.scalar_arg(u, pre, true)?,
                    like,
                    // `empty(...).fill_(v)`: the same values through an uninitialised buffer.
                    empty: u.int_in_range(0..=2u8)? == 0,
                }),
            }
        };
        Ok(Some(op))
    }

    pub(in crate::r#gen) fn build_eye_or_linspace(
        &mut self,
        u: &mut Unstructured,
        pre: &mut Step,
    ) -> Result<Option<Op>> {
        let op = {
            if u.arbitrary()? {
                Op::Eye(Eye {
                    n: self.size_arg(u, pre, 1..=4)?,
                })
            } else {
                Op::Linspace(Linspace {
                    steps: self.size_arg(u, pre, 1..=5)?,
                })
            }
        };
        Ok(Some(op))
    }

    pub(in crate::r#gen) fn build_one_hot(
        &mut self,
        u: &mut Unstructured,
        pre: &mut Step,
    ) -> Result<Option<Op>> {
        let op = {
            let (x, _) = tensor!(self, u, |t: &TensorType| t.dtype == DType::I64
                && t.lo.is_some_and(|l| l >= 0)
                && t.hi.is_some()
                && t.rank() <= 3);
            Op::OneHot(OneHot {
                x,
                classes: self.size_arg(u, pre, 2..=4)?,
            })
        };
        Ok(Some(op))
    }

    pub(in crate::r#gen) fn build_tril(
        &mut self,
        u: &mut Unstructured,
        pre: &mut Step,
    ) -> Result<Option<Op>> {
        let x = tensor!(self, u, |t: &TensorType| t.rank() >= 2).0;
        if u.arbitrary()? {
            return Ok(Some(Op::Tril(Tril { x })));
        }
        let diagonal = match self.size_arg(u, pre, 0..=2)? {
            SizeArg::Const(c) => SizeArg::Const(c - 1),
            v => v,
        };
        Ok(Some(Op::Triu(Triu { x, diagonal })))
    }
}
