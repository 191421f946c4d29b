//! The builders of shape ops (`ir/ops/shape.rs`): reshape (also to another tensor's shape), flatten, unflatten,
//! permute / transpose, squeeze / unsqueeze, interpolate.
//! Each proposes one op whose operands exist, with the ops it needs first in `pre`; the
//! builder core keeps it only if it type-checks at every checked size.

use crate::r#gen::*;

impl Builder<'_> {
    /// `x.reshape(y.shape)` with `y` of the same number of elements: an existing value, or
    /// a new input with `x`'s dims reversed.
    pub(in crate::r#gen) fn build_reshape_as(
        &mut self,
        u: &mut Unstructured,
        _pre: &mut Step,
    ) -> Result<Option<Op>> {
        let (x, t) = tensor!(self, u, |t: &TensorType| {
            t.rank() >= 1 && !t.shape.iter().any(DimExpr::has_data)
        });
        let nx = product(&t.shape);
        let check = &self.check;
        let same_numel = |o: &TensorType| {
            !o.shape.iter().any(DimExpr::has_data)
                && check
                    .iter()
                    .all(|v| product(&o.shape).eval(v) == nx.eval(v))
        };
        let of = match self.pick_tensor(u, same_numel)? {
            Some((o, _)) if o != x && u.arbitrary()? => o,
            _ => {
                let mut dims = t.shape.clone();
                dims.reverse();
                match self.input_with(t.dtype, dims) {
                    Some(o) => o,
                    None => return Ok(None),
                }
            }
        };
        Ok(Some(Op::ReshapeAs(ReshapeAs {
            x,
            of,
            spelling: *u.choose(ShapeSpelling::ALL)?,
        })))
    }

    pub(in crate::r#gen) fn build_reshape(
        &mut self,
        u: &mut Unstructured,
        pre: &mut Step,
    ) -> Result<Option<Op>> {
        let op = {
            let (x, t) = tensor!(self, u, ranked);
            let spelling = *u.choose(ReshapeSpelling::ALL)?;
            let shape = match u.int_in_range(0..=3u8)? {
                0 => vec![ReshapeArg::Infer],
                1 => vec![ReshapeArg::Infer, ReshapeArg::Size(SizeArg::Const(1))],
                2 => vec![ReshapeArg::Size(SizeArg::Const(1)), ReshapeArg::Infer],
                _ => {
                    let d = u.choose_index(t.rank())?;
                    let id = self.next_id(pre);
                    pre.push(Op::Size(Size {
                        x,
                        dim: d as u8,
                        spelling: SizeSpelling::ShapeIndex,
                    }));
                    let mut sz = id;
                    if let DimExpr::Mul(..) = t.shape[d]
                        && u.arbitrary()?
                    {
                        // `int(n / 2)` on an even dim: pytorch issue 138853's pattern.
                        let half = self.next_id(pre);
                        pre.push(Op::TrueDiv(TrueDiv { a: id, k: 2 }));
                        sz = self.next_id(pre);
                        pre.push(Op::Round(Round {
                            a: half,
                            f: RoundFn::Int,
                        }));
                    }
                    vec![ReshapeArg::Size(SizeArg::Value(sz)), ReshapeArg::Infer]
                }
            };
            Op::Reshape(Reshape { x, shape, spelling })
        };
        Ok(Some(op))
    }

    pub(in crate::r#gen) fn build_flatten(
        &mut self,
        u: &mut Unstructured,
        _pre: &mut Step,
    ) -> Result<Option<Op>> {
        let op = {
            let (x, t) = tensor!(self, u, |t: &TensorType| t.rank() >= 2);
            let s = u.int_in_range(0..=t.rank() - 2)?;
            let e = u.int_in_range(s + 1..=t.rank() - 1)?;
            Op::Flatten(Flatten {
                x,
                start: s as u8,
                end: e as u8,
            })
        };
        Ok(Some(op))
    }

    pub(in crate::r#gen) fn build_unflatten(
        &mut self,
        u: &mut Unstructured,
        pre: &mut Step,
    ) -> Result<Option<Op>> {
        let op = {
            let (x, t) = tensor!(self, u, |t: &TensorType| t
                .shape
                .iter()
                .any(|d| matches!(d, DimExpr::Mul(..))));
            let d = t
                .shape
                .iter()
                .position(|d| matches!(d, DimExpr::Mul(..)))
                .unwrap();
            let DimExpr::Mul(k, _) = &t.shape[d] else {
                unreachable!()
            };
            let outer = match u.int_in_range(0..=1u8)? {
                0 => SizeArg::Const(k.as_const().unwrap_or(1)),
                _ => self.size_arg(u, pre, 1..=2)?,
            };
            Op::Unflatten(Unflatten {
                x,
                dim: d as u8,
                outer,
            })
        };
        Ok(Some(op))
    }

    pub(in crate::r#gen) fn build_permute_or_transpose(
        &mut self,
        u: &mut Unstructured,
        _pre: &mut Step,
    ) -> Result<Option<Op>> {
        let op = {
            let (x, t) = tensor!(self, u, |t: &TensorType| t.rank() >= 2);
            if u.arbitrary()? {
                let mut perm: Vec<u8> = (0..t.rank() as u8).collect();
                for i in (1..perm.len()).rev() {
                    let j = u.int_in_range(0..=i)?;
                    perm.swap(i, j);
                }
                Op::Permute(Permute { x, perm })
            } else {
                Op::Transpose(Transpose {
                    x,
                    d0: u.choose_index(t.rank())? as u8,
                    d1: u.choose_index(t.rank())? as u8,
                })
            }
        };
        Ok(Some(op))
    }

    pub(in crate::r#gen) fn build_squeeze_or_unsqueeze(
        &mut self,
        u: &mut Unstructured,
        _pre: &mut Step,
    ) -> Result<Option<Op>> {
        let op = {
            let (x, t) = tensor!(self, u, any);
            let ones = t.shape.iter().position(|d| *d == DimExpr::Const(1));
            let symbolic = t.shape.iter().position(|d| d.as_const().is_none());
            match (ones, symbolic) {
                (Some(d), _) if u.arbitrary()? => Op::Squeeze(Squeeze { x, dim: d as u8 }),
                (_, Some(d)) if u.int_in_range(0..=3u8)? == 0 => {
                    Op::Squeeze(Squeeze { x, dim: d as u8 })
                }
                _ => Op::Unsqueeze(Unsqueeze {
                    x,
                    dim: u.int_in_range(0..=t.rank())? as u8,
                }),
            }
        };
        Ok(Some(op))
    }

    pub(in crate::r#gen) fn build_interpolate(
        &mut self,
        u: &mut Unstructured,
        pre: &mut Step,
    ) -> Result<Option<Op>> {
        let op = {
            let (x, t) = tensor!(self, u, |t: &TensorType| float(t)
                && (1..=3).contains(&t.rank()));
            let mut x = x;
            for _ in t.rank()..3 {
                let id = self.next_id(pre);
                pre.push(Op::Unsqueeze(Unsqueeze { x, dim: 0 }));
                x = id;
            }
            if u.int_in_range(0..=2u8)? == 0 {
                Op::InterpolateScale(InterpolateScale {
                    x,
                    scale: *u.choose(ScaleFactor::ALL)?,
                })
            } else {
                Op::Interpolate(Interpolate {
                    x,
                    size: self.size_arg(u, pre, 1..=6)?,
                })
            }
        };
        Ok(Some(op))
    }
}
