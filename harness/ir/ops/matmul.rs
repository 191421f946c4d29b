//! Matmul ops.

use super::*;

op_struct! {
    /// `torch.matmul(a, b)`
    Matmul {
        a: ValueRef,
        b: ValueRef,
    }
}

impl OpDef for Matmul {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let Matmul { a, b } = self;
        let (ta, tb) = (cx.tensor(*a)?, cx.tensor(*b)?);
        if ta.dtype != DType::F32 || tb.dtype != DType::F32 {
            bail!("matmul dtype");
        }
        if ta.rank() < 2 || tb.rank() < 2 {
            bail!("matmul rank");
        }
        let (ra, rb) = (ta.rank(), tb.rank());
        if ta.shape[ra - 1] != tb.shape[rb - 2] {
            bail!("matmul inner {} vs {}", ta.shape[ra - 1], tb.shape[rb - 2]);
        }
        let mut shape = broadcast(&ta.shape[..ra - 2], &tb.shape[..rb - 2])?;
        shape.push(ta.shape[ra - 2].clone());
        shape.push(tb.shape[rb - 1].clone());
        Ok(Type::Tensor(TensorType::unbounded(DType::F32, shape)))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let Matmul { a, b } = self;
        let expr = format!("torch.matmul({}, {})", n(*a), n(*b));
        vec![format!("{out} = {expr}")]
    }
}

/// Most multiply-adds one convolution may cost at any size a case runs at (about 0.1 s of
/// eager on one core).
pub const MAX_CONV_WORK: i64 = 1 << 26;

/// How a convolution pads its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConvPadding {
    /// `padding=p` on both sides of every convolved dim.
    Zeros(u8),
    /// `padding='same'`: the output keeps the input's size (stride 1 only).
    Same,
    /// `padding='valid'`: no padding.
    Valid,
}

impl Operands for ConvPadding {}

op_struct! {
    /// `F.conv1d(x, w, stride=, padding=, dilation=, groups=)` and `F.conv2d`, with a weight
    /// of ones built in `forward` from `x`'s channel count (`x.new_ones((c_out, x.shape[-2],
    /// k))`), or depthwise (`groups=x.shape[-2]`): the channel count is a size like any other
    Conv {
        x: ValueRef,
        f: ConvFn,
        kernel: SizeArg => ConvKernel,
        out_channels: u8,
        stride: u8,
        padding: ConvPadding,
        dilation: u8,
        depthwise: bool,
    }
}

impl Conv {
    /// Where the channel dim is, counted from the end (`-2` for conv1d).
    fn channel_from_end(&self) -> usize {
        self.f.dims() + 1
    }
}

impl OpDef for Conv {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let Conv {
            x,
            f,
            kernel,
            out_channels,
            stride,
            padding,
            dilation,
            depthwise,
        } = *self;
        let t = cx.tensor(x)?;
        if t.dtype != DType::F32 {
            bail!("conv dtype");
        }
        let nd = f.dims();
        if t.rank() != nd + 1 && t.rank() != nd + 2 {
            bail!("{} of rank {}", f.name(), t.rank());
        }
        let (s, d) = (stride as i64, dilation as i64);
        if s < 1 || d < 1 {
            bail!("conv stride {s} dilation {d}");
        }
        if padding == ConvPadding::Same && s != 1 {
            bail!("padding='same' with stride {s}");
        }
        if !depthwise && out_channels == 0 {
            bail!("conv with no output channels");
        }
        let c = &t.shape[t.rank() - self.channel_from_end()];
        if c.has_data() {
            bail!("conv over a data-dependent channel count");
        }
        // Zero channels give eager a zero-channel output whatever the weight says.
        cx.all(c, "conv channels >= 1", |x| x >= 1)?;
        let k = cx.size(kernel)?;
        cx.all(&k, "conv kernel >= 1", |x| x >= 1)?;
        // What the dilated kernel covers beyond its first tap.
        let reach = DimExpr::mul(
            DimExpr::Const(d),
            DimExpr::sub(k.clone(), DimExpr::Const(1)),
        );
        let mut shape = t.shape.clone();
        for dim in shape.iter_mut().skip(t.rank() - nd) {
            if dim.has_data() {
                bail!("conv over a data-dependent size");
            }
            // Eager refuses an empty spatial dim even when padding would cover the kernel.
            cx.all(dim, "conv input size >= 1", |x| x >= 1)?;
            let p = match padding {
                ConvPadding::Zeros(p) => p as i64,
                ConvPadding::Valid => 0,
                ConvPadding::Same => continue,
            };
            let span = DimExpr::sub(
                DimExpr::add(dim.clone(), DimExpr::Const(2 * p - 1)),
                reach.clone(),
            );
            cx.all(&span, "conv window fits", |x| x >= 0)?;
            *dim = DimExpr::add(DimExpr::floor_div(span, s), DimExpr::Const(1));
        }
        let ci = t.rank() - self.channel_from_end();
        if !depthwise {
            shape[ci] = DimExpr::Const(out_channels as i64);
        }
        // The weight is a tensor eager allocates, and each output element costs one
        // multiply-add per weight element of its group: both are bounded, or a kernel sized
        // by `x.numel()` makes eager itself run for minutes at the larger probes.
        let taps = product(&vec![k; nd]);
        let (c_out, c_in) = if depthwise {
            (c.clone(), DimExpr::Const(1))
        } else {
            (DimExpr::Const(out_channels as i64), c.clone())
        };
        let weight = product(&[c_out, c_in.clone(), taps.clone()]);
        cx.all(&weight, "conv weight elements", |x| x <= MAX_NUMEL)?;
        let work = DimExpr::mul(product(&shape), DimExpr::mul(c_in, taps));
        cx.all(&work, "conv multiply-adds", |x| x <= MAX_CONV_WORK)?;
        Ok(Type::Tensor(TensorType::unbounded(DType::F32, shape)))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let x = n(self.x);
        let c = format!("{x}.shape[-{}]", self.channel_from_end());
        let k = arg(&self.kernel);
        let taps = vec![k; self.f.dims()].join(", ");
        let (c_out, c_in) = if self.depthwise {
            (c.clone(), "1".to_string())
        } else {
            (self.out_channels.to_string(), c.clone())
        };
        let mut args = vec![x.clone(), format!("{out}_w")];
        if self.stride != 1 {
            args.push(format!("stride={}", self.stride));
        }
        match self.padding {
            ConvPadding::Zeros(0) => {}
            ConvPadding::Zeros(p) => args.push(format!("padding={p}")),
            ConvPadding::Same => args.push("padding='same'".into()),
            ConvPadding::Valid => args.push("padding='valid'".into()),
        }
        if self.dilation != 1 {
            args.push(format!("dilation={}", self.dilation));
        }
        if self.depthwise {
            args.push(format!("groups={c}"));
        }
        vec![
            format!("{out}_w = {x}.new_ones(({c_out}, {c_in}, {taps}))"),
            format!("{out} = F.{}({})", self.f.name(), join(args)),
        ]
    }

    fn kind(&self) -> Option<String> {
        let groups = if self.depthwise { ".depthwise" } else { "" };
        Some(format!("{}{groups}", self.f.name()))
    }
}
