//! The builders of elementwise ops (`ir/ops/elementwise.rs`): unary and binary math, scalar arithmetic on
//! tensors, clamp, masked_fill.
//! Each proposes one op whose operands exist, with the ops it needs first in `pre`; the
//! builder core keeps it only if it type-checks at every checked size.

use crate::r#gen::*;

impl Builder<'_> {
    pub(in crate::r#gen) fn build_unary(
        &mut self,
        u: &mut Unstructured,
        _pre: &mut Step,
    ) -> Result<Option<Op>> {
        let op = {
            let (x, t) = tensor!(self, u, |t: &TensorType| t.dtype != DType::Bool);
            let fs: Vec<UnaryFn> = UnaryFn::ALL
                .iter()
                .copied()
                .filter(|f| t.dtype == DType::F32 || f.name().len() <= 4)
                .collect();
            let f = *u.choose(&fs)?;
            let f = if t.dtype != DType::F32
                && !matches!(f, UnaryFn::Relu | UnaryFn::Neg | UnaryFn::Abs)
            {
                UnaryFn::Relu
            } else {
                f
            };
            Op::Unary(Unary { x, f })
        };
        Ok(Some(op))
    }

    pub(in crate::r#gen) fn build_binary(
        &mut self,
        u: &mut Unstructured,
        pre: &mut Step,
    ) -> Result<Option<Op>> {
        let op = {
            let (a, t) = tensor!(self, u, |t: &TensorType| t.dtype != DType::Bool);
            let b = if u.int_in_range(0..=2u8)? == 0 && t.rank() > 0 {
                // Broadcast against a reduced copy of the tensor: keepdim gives a 1.
                let d = u.choose_index(t.rank())? as u8;
                let id = self.next_id(pre);
                pre.push(Op::Reduce(Reduce {
                    x: a,
                    f: ReduceFn::Sum,
                    dim: d,
                    keepdim: true,
                }));
                id
            } else if u.int_in_range(0..=3u8)? == 0 && t.rank() > 0 {
                // A partner on its own symbols that broadcasts: 1 where `a` has a size, a
                // fresh symbol where `a` has 1, `x: [s0, 1] + y: [1, s1]`.
                let mut dims = vec![];
                for d in &t.shape {
                    dims.push(if *d == DimExpr::Const(1) {
                        self.new_dim(u)?
                    } else if u.arbitrary()? {
                        DimExpr::Const(1)
                    } else {
                        d.clone()
                    });
                }
                match self.input_with(t.dtype, dims) {
                    Some(b) => b,
                    None => a,
                }
            } else {
                match self.partner(u, &t, None)? {
                    Some(b) => b,
                    None => a,
                }
            };
            let (a, b) = if u.arbitrary()? { (a, b) } else { (b, a) };
            Op::Binary(Binary {
                a,
                b,
                f: *u.choose(BinaryFn::ALL)?,
            })
        };
        Ok(Some(op))
    }

    pub(in crate::r#gen) fn build_scalar_arith(
        &mut self,
        u: &mut Unstructured,
        pre: &mut Step,
    ) -> Result<Option<Op>> {
        let op = {
            let (x, t) = tensor!(self, u, |t: &TensorType| t.dtype != DType::Bool);
            let s = match self.scalar_arg(u, pre, t.dtype == DType::F32)? {
                SizeArg::Value(v) => v,
                SizeArg::Const(_) => return Ok(None),
            };
            Op::ScalarArith(ScalarArith {
                x,
                s,
                f: *u.choose(ScalarFn::ALL)?,
            })
        };
        Ok(Some(op))
    }

    pub(in crate::r#gen) fn build_clamp(
        &mut self,
        u: &mut Unstructured,
        pre: &mut Step,
    ) -> Result<Option<Op>> {
        let op = {
            let (x, t) = tensor!(self, u, |t: &TensorType| t.dtype != DType::Bool);
            let min = self.scalar_arg(u, pre, t.dtype == DType::F32)?;
            let max = if u.arbitrary()? {
                Some(self.scalar_arg(u, pre, t.dtype == DType::F32)?)
            } else {
                None
            };
            Op::Clamp(Clamp { x, min, max })
        };
        Ok(Some(op))
    }

    pub(in crate::r#gen) fn build_masked_fill(
        &mut self,
        u: &mut Unstructured,
        pre: &mut Step,
    ) -> Result<Option<Op>> {
        let op = {
            let (x, t) = tensor!(self, u, |t: &TensorType| t.dtype != DType::Bool);
            Op::MaskedFill(MaskedFill {
                x,
                value: self.scalar_arg(u, pre, t.dtype == DType::F32)?,
            })
        };
        Ok(Some(op))
    }
}
