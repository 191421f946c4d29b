//! The builders of padding (`ir/ops/pad.rs`): `F.pad`, padding to a multiple, appending a value.
//! Each proposes one op whose operands exist, with the ops it needs first in `pre`; the
//! builder core keeps it only if it type-checks at every checked size.

use crate::r#gen::*;

impl Builder<'_> {
    pub(in crate::r#gen) fn build_pad(
        &mut self,
        u: &mut Unstructured,
        _pre: &mut Step,
    ) -> Result<Option<Op>> {
        Ok(Some(Op::Pad(Pad {
            x: tensor!(self, u, ranked).0,
            before: u.int_in_range(0..=2)?,
            after: u.int_in_range(0..=2)?,
        })))
    }

    pub(in crate::r#gen) fn build_append_value(
        &mut self,
        u: &mut Unstructured,
        pre: &mut Step,
    ) -> Result<Option<Op>> {
        let op = {
            let (x, _) = tensor!(self, u, |t: &TensorType| t.rank() == 1
                && t.dtype != DType::Bool);
            let Some(value) = self.int_value(u, pre)? else {
                return Ok(None);
            };
            Op::AppendValue(AppendValue {
                x,
                value,
                spelling: *u.choose(AppendSpelling::ALL)?,
            })
        };
        Ok(Some(op))
    }

    pub(in crate::r#gen) fn build_pad_to_multiple(
        &mut self,
        u: &mut Unstructured,
        pre: &mut Step,
    ) -> Result<Option<Op>> {
        // The swin idiom: `p = (k - n % k) % k; x = F.pad(x, (0, p)); ...; x[..., :n]`.
        let (x, t) = tensor!(self, u, |t: &TensorType| t.rank() > 0
            && t.dtype != DType::Bool
            && t.shape.last().is_some_and(|d| !d.has_data()));
        let last = (t.rank() - 1) as u8;
        let k = *u.choose(&[2, 4, 8, 16])?;
        let n = self.next_id(pre);
        pre.push(Op::Size(Size {
            x,
            dim: last,
            spelling: *u.choose(SizeSpelling::ALL)?,
        }));
        if let Some(Op::Size(s)) = pre.last_mut()
            && s.spelling == SizeSpelling::Len
            && last != 0
        {
            s.spelling = SizeSpelling::ShapeIndex;
        }
        let m = self.next_id(pre);
        pre.push(Op::IntArith(IntArith {
            a: n,
            f: IntFn::Mod,
            k,
        }));
        let r = self.next_id(pre);
        pre.push(Op::IntArith(IntArith {
            a: m,
            f: IntFn::RSub,
            k,
        }));
        let p = self.next_id(pre);
        pre.push(Op::IntArith(IntArith {
            a: r,
            f: IntFn::Mod,
            k,
        }));
        let padded = Op::PadSized(PadSized {
            x,
            before: SizeArg::Const(0),
            after: SizeArg::Value(p),
        });
        if u.arbitrary()? {
            let id = self.next_id(pre);
            pre.push(padded);
            return Ok(Some(Op::Slice(Slice {
                x: id,
                dim: last,
                start: SizeArg::Const(0),
                end: SizeArg::Value(n),
            })));
        }
        Ok(Some(padded))
    }
}
