//! The builders of joining and cutting (`ir/ops/join.rs`): cat / stack, split / chunk, narrow / slice,
//! index_select / gather.
//! Each proposes one op whose operands exist, with the ops it needs first in `pre`; the
//! builder core keeps it only if it type-checks at every checked size.

use crate::r#gen::*;

impl Builder<'_> {
    pub(in crate::r#gen) fn build_cat_or_stack(
        &mut self,
        u: &mut Unstructured,
        _pre: &mut Step,
    ) -> Result<Option<Op>> {
        let op = {
            let (a, t) = tensor!(self, u, ranked);
            let d = u.choose_index(t.rank())?;
            if u.arbitrary()? {
                let b = self.partner(u, &t, Some(d))?.unwrap_or(a);
                Op::Cat(Cat {
                    xs: vec![a, b],
                    dim: d as u8,
                })
            } else {
                let b = self.partner(u, &t, None)?.unwrap_or(a);
                Op::Stack(Stack {
                    xs: vec![a, b],
                    dim: u.int_in_range(0..=t.rank())? as u8,
                })
            }
        };
        Ok(Some(op))
    }

    pub(in crate::r#gen) fn build_split_or_chunk(
        &mut self,
        u: &mut Unstructured,
        pre: &mut Step,
    ) -> Result<Option<Op>> {
        let op = {
            let (x, t) = tensor!(self, u, ranked);
            let dim = u.choose_index(t.rank())? as u8;
            if u.arbitrary()? {
                Op::Split(Split {
                    x,
                    size: self.size_arg(u, pre, 1..=3)?,
                    dim,
                })
            } else {
                Op::Chunk(Chunk {
                    x,
                    chunks: u.int_in_range(1..=3)?,
                    dim,
                })
            }
        };
        Ok(Some(op))
    }

    pub(in crate::r#gen) fn build_narrow_or_slice(
        &mut self,
        u: &mut Unstructured,
        pre: &mut Step,
    ) -> Result<Option<Op>> {
        let op = {
            let (x, t) = tensor!(self, u, ranked);
            let dim = u.choose_index(t.rank())? as u8;
            if u.arbitrary()? {
                Op::Narrow(Narrow {
                    x,
                    dim,
                    start: SizeArg::Const(u.int_in_range(0..=1)?),
                    len: self.size_arg(u, pre, 1..=2)?,
                })
            } else {
                let start = SizeArg::Const(u.int_in_range(0..=1)?);
                Op::Slice(Slice {
                    x,
                    dim,
                    start,
                    end: self.size_arg(u, pre, 1..=4)?,
                })
            }
        };
        Ok(Some(op))
    }

    pub(in crate::r#gen) fn build_index_select_or_gather(
        &mut self,
        u: &mut Unstructured,
        pre: &mut Step,
    ) -> Result<Option<Op>> {
        let op = {
            let (x, t) = tensor!(self, u, ranked);
            let dim = u.choose_index(t.rank())? as u8;
            if u.arbitrary()? {
                Op::IndexSelect(IndexSelect {
                    x,
                    dim,
                    len: self.size_arg(u, pre, 1..=2)?,
                })
            } else {
                Op::Gather(Gather { x, dim })
            }
        };
        Ok(Some(op))
    }
}
