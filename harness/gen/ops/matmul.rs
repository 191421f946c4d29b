//! The builders of matmul and conv (`ir/ops/matmul.rs`).
//! Each proposes one op whose operands exist, with the ops it needs first in `pre`; the
//! builder core keeps it only if it type-checks at every checked size.

use crate::r#gen::*;

impl Builder<'_> {
    pub(in crate::r#gen) fn build_matmul(
        &mut self,
        u: &mut Unstructured,
        _pre: &mut Step,
    ) -> Result<Option<Op>> {
        let op = {
            let (a, t) = tensor!(self, u, |t: &TensorType| float(t) && t.rank() >= 2);
            let k = t.shape[t.rank() - 1].clone();
            let m = self.new_dim(u)?;
            let b = match self.pick_tensor(u, |o| float(o) && o.rank() == 2 && o.shape[0] == k)? {
                Some((b, _)) if u.arbitrary()? => b,
                _ => match self.input_with(DType::F32, vec![k, m]) {
                    Some(b) => b,
                    None => return Ok(None),
                },
            };
            Op::Matmul(Matmul { a, b })
        };
        Ok(Some(op))
    }

    /// `F.conv1d`/`F.conv2d` with a weight built from `x`'s channel count.
    pub(in crate::r#gen) fn build_conv(
        &mut self,
        u: &mut Unstructured,
        pre: &mut Step,
    ) -> Result<Option<Op>> {
        let (x, t) = tensor!(self, u, |t: &TensorType| float(t)
            && (2..=4).contains(&t.rank()));
        let fits = |f: &ConvFn| t.rank() == f.dims() + 1 || t.rank() == f.dims() + 2;
        let fns: Vec<ConvFn> = ConvFn::ALL.iter().copied().filter(fits).collect();
        let f = *u.choose(&fns)?;
        let kernel = self.size_arg(u, pre, 1..=3)?;
        let padding = match u.int_in_range(0..=4u8)? {
            0 => ConvPadding::Same,
            1 => ConvPadding::Valid,
            _ => ConvPadding::Zeros(u.int_in_range(0..=2)?),
        };
        let stride = match padding {
            ConvPadding::Same => 1,
            _ => u.int_in_range(1..=3)?,
        };
        Ok(Some(Op::Conv(Conv {
            x,
            f,
            kernel,
            out_channels: u.int_in_range(1..=4)?,
            stride,
            padding,
            dilation: if u.int_in_range(0..=2u8)? == 0 { 2 } else { 1 },
            depthwise: u.int_in_range(0..=2u8)? == 0,
        })))
    }
}
