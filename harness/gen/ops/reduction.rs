//! The builders of reductions (`ir/ops/reduction.rs`): sum/mean/amax over a dim, max of all, cumsum, topk /
//! kthvalue / histc, pooling.
//! Each proposes one op whose operands exist, with the ops it needs first in `pre`; the
//! builder core keeps it only if it type-checks at every checked size.

use crate::r#gen::*;

impl Builder<'_> {
    pub(in crate::r#gen) fn build_reduce(
        &mut self,
        u: &mut Unstructured,
        _pre: &mut Step,
    ) -> Result<Option<Op>> {
        let op = {
            let (x, t) = tensor!(self, u, ranked);
            let f = *u.choose(ReduceFn::ALL)?;
            Op::Reduce(Reduce {
                x,
                f,
                dim: u.choose_index(t.rank())? as u8,
                keepdim: u.arbitrary()?,
            })
        };
        Ok(Some(op))
    }

    pub(in crate::r#gen) fn build_max_all(
        &mut self,
        u: &mut Unstructured,
        _pre: &mut Step,
    ) -> Result<Option<Op>> {
        Ok(Some(Op::MaxAll(MaxAll {
            x: tensor!(self, u, any).0,
        })))
    }

    pub(in crate::r#gen) fn build_cumsum(
        &mut self,
        u: &mut Unstructured,
        _pre: &mut Step,
    ) -> Result<Option<Op>> {
        let op = {
            let (x, t) = tensor!(self, u, ranked);
            Op::Cumsum(Cumsum {
                x,
                dim: u.choose_index(t.rank())? as u8,
            })
        };
        Ok(Some(op))
    }

    pub(in crate::r#gen) fn build_topk(
        &mut self,
        u: &mut Unstructured,
        pre: &mut Step,
    ) -> Result<Option<Op>> {
        let op = {
            let (x, t) = tensor!(self, u, |t: &TensorType| float(t) && ranked(t));
            let dim = u.choose_index(t.rank())? as u8;
            match u.int_in_range(0..=3u8)? {
                0 | 1 => Op::Topk(Topk {
                    x,
                    k: self.size_arg(u, pre, 1..=2)?,
                    dim,
                }),
                2 => Op::Kthvalue(Kthvalue {
                    x,
                    k: self.size_arg(u, pre, 1..=2)?,
                    dim,
                }),
                _ => Op::Histc(Histc {
                    x,
                    bins: self.size_arg(u, pre, 1..=8)?,
                }),
            }
        };
        Ok(Some(op))
    }

    pub(in crate::r#gen) fn build_pool(
        &mut self,
        u: &mut Unstructured,
        pre: &mut Step,
    ) -> Result<Option<Op>> {
        let (x, t) = tensor!(self, u, |t: &TensorType| float(t)
            && (2..=4).contains(&t.rank()));
        if u.int_in_range(0..=2u8)? == 0 && t.rank() <= 3 {
            return Ok(Some(Op::AdaptivePool(AdaptivePool {
                x,
                f: *u.choose(AdaptiveFn::ALL)?,
                size: self.size_arg(u, pre, 1..=4)?,
            })));
        }
        let fits = |f: &PoolFn| t.rank() == f.dims() + 1 || t.rank() == f.dims() + 2;
        let fns: Vec<PoolFn> = PoolFn::ALL.iter().copied().filter(fits).collect();
        let f = *u.choose(&fns)?;
        let kernel = self.size_arg(u, pre, 1..=3)?;
        let stride = match kernel {
            SizeArg::Const(_) if u.arbitrary()? => None,
            _ => Some(u.int_in_range(1..=3)?),
        };
        let padding = match kernel {
            SizeArg::Const(k) => u.int_in_range(0..=(k / 2) as u8)?,
            SizeArg::Value(_) => 0,
        };
        Ok(Some(Op::Pool(Pool {
            x,
            f,
            kernel,
            stride,
            padding,
            ceil_mode: u.arbitrary()?,
        })))
    }
}
