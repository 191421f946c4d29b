//! The builders of control flow on sizes (`ir/ops/control.rs`): branches and loops whose count is a size.
//! Each proposes one op whose operands exist, with the ops it needs first in `pre`; the
//! builder core keeps it only if it type-checks at every checked size.

use crate::r#gen::*;

impl Builder<'_> {
    pub(in crate::r#gen) fn build_branch(
        &mut self,
        u: &mut Unstructured,
        pre: &mut Step,
    ) -> Result<Option<Op>> {
        let (x, t) = tensor!(self, u, |t: &TensorType| t.dtype != DType::Bool);
        let Some(cond) = self.condition(u, pre)? else {
            return Ok(None);
        };
        if t.dtype != DType::Bool && u.int_in_range(0..=3u8)? == 0 {
            // Arms of different ranks: `x` against `x` reduced or unsqueezed along a dim, or
            // against another tensor of another rank, then flattened or summed.
            let other = match self.pick_tensor(u, |o| o.dtype == t.dtype && o.rank() != t.rank())? {
                Some((o, _)) if u.arbitrary()? => o,
                _ => {
                    let id = self.next_id(pre);
                    if t.rank() > 0 && u.arbitrary()? {
                        pre.push(Op::Reduce(Reduce {
                            x,
                            f: ReduceFn::Sum,
                            dim: u.choose_index(t.rank())? as u8,
                            keepdim: false,
                        }));
                    } else if t.rank() < MAX_RANK {
                        pre.push(Op::Unsqueeze(Unsqueeze {
                            x,
                            dim: u.int_in_range(0..=t.rank() as u8)?,
                        }));
                    } else {
                        return Ok(None);
                    }
                    id
                }
            };
            let (a, b) = if u.arbitrary()? {
                (x, other)
            } else {
                (other, x)
            };
            return Ok(Some(Op::SelectFlat(SelectFlat {
                cond,
                a,
                b,
                erase: *u.choose(RankErase::ALL)?,
            })));
        }
        if t.rank() > 0 && u.int_in_range(0..=2u8)? == 0 {
            // Arms of different shapes: `x if cond else <x grown or cut along a dim>`.
            let d = u.choose_index(t.rank())? as u8;
            let other = self.next_id(pre);
            match u.int_in_range(0..=2u8)? {
                0 => pre.push(Op::Cat(Cat {
                    xs: vec![x, x],
                    dim: d,
                })),
                1 if d as usize == t.rank() - 1 => pre.push(Op::PadSized(PadSized {
                    x,
                    before: SizeArg::Const(0),
                    after: SizeArg::Const(u.int_in_range(1..=3)?),
                })),
                _ => pre.push(Op::Slice(Slice {
                    x,
                    dim: d,
                    start: SizeArg::Const(0),
                    end: SizeArg::Const(u.int_in_range(2..=4)?),
                })),
            }
            let (a, b) = if u.arbitrary()? {
                (x, other)
            } else {
                (other, x)
            };
            return Ok(Some(Op::Select(Select { cond, a, b })));
        }
        let fs: Vec<UnaryFn> = UnaryFn::ALL
            .iter()
            .copied()
            .filter(|f| {
                t.dtype == DType::F32 || matches!(f, UnaryFn::Relu | UnaryFn::Neg | UnaryFn::Abs)
            })
            .collect();
        Ok(Some(Op::If(If {
            cond,
            x,
            then_f: *u.choose(&fs)?,
            else_f: *u.choose(&fs)?,
        })))
    }

    pub(in crate::r#gen) fn build_loop_count(
        &mut self,
        u: &mut Unstructured,
        pre: &mut Step,
    ) -> Result<Option<Op>> {
        let op = {
            let (x, _) = tensor!(self, u, |t: &TensorType| t.dtype != DType::Bool);
            let Some(count) = self.int_value(u, pre)? else {
                return Ok(None);
            };
            Op::Loop(Loop { count, x })
        };
        Ok(Some(op))
    }
}
