//! Factory ops.

use super::*;

op_struct! {
    /// `torch.arange(end)` or `torch.arange(0, end, step)`
    Arange {
        end: ScalarArg => ArangeEnd,
        step: Option<SizeArg> => ArangeStep,
    }
}

impl OpDef for Arange {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let Arange { end, step } = self;
        let len = match end {
            SizeArg::Value(v) if cx.ty(*v)?.tensor().is_some() => {
                let t = cx.tensor(*v)?;
                if t.dtype != DType::I64 || t.rank() != 0 || !nonneg(&t) {
                    bail!("arange end tensor must be a non-negative int scalar");
                }
                if step.is_some() {
                    bail!("data-dependent arange takes no step");
                }
                DimExpr::Data(cx.node)
            }
            _ => {
                let e = cx.size(*end)?;
                cx.all(&e, "arange end", |x| x >= 0)?;
                match step {
                    None => e,
                    Some(s) => {
                        let s = cx.size(*s)?;
                        cx.all(&s, "arange step", |x| x >= 1)?;
                        // ceil(end / step) needs a constant step to stay a DimExpr.
                        let Some(k) = s.as_const() else {
                            bail!("arange step must be constant at the type level");
                        };
                        DimExpr::floor_div(DimExpr::add(e, DimExpr::Const(k - 1)), k)
                    }
                }
            }
        };
        Ok(Type::Tensor(TensorType {
            dtype: DType::I64,
            shape: vec![len],
            lo: Some(0),
            hi: None,
        }))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let Arange { end, step } = self;
        let expr = match step {
            None => format!("torch.arange({})", arg(end)),
            Some(s) => format!("torch.arange(0, {}, {})", arg(end), arg(s)),
        };
        vec![format!("{out} = {expr}")]
    }
}

op_struct! {
    /// `torch.full(shape, fill)`, `like.new_full(shape, fill)`, or the uninitialised
    /// `torch.empty(shape).fill_(fill)` / `like.new_empty(shape).fill_(fill)`: `empty` is
    /// always filled before it is read, so eager's values stay deterministic
    Full {
        shape: Vec<SizeArg> => FactoryShape,
        fill: ScalarArg => FillValue,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        like: Option<ValueRef>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        empty: bool,
    }
}

impl OpDef for Full {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let Full {
            shape, fill, like, ..
        } = self;
        let dims = factory_shape(cx, shape)?;
        let (fill_dtype, lo) = match fill {
            SizeArg::Const(c) => (DType::I64, Some(*c)),
            SizeArg::Value(v) => match cx.ty(*v)? {
                Type::Int(e) => (DType::I64, e.lower_bound()),
                Type::Float(e) => (DType::F32, e.lower_bound().map(|x| x.floor() as i64)),
                other => bail!("fill value {other:?}"),
            },
        };
        // `new_full` and `new_empty` take `like`'s dtype, whatever the fill.
        let dtype = match like {
            Some(like) => {
                let l = cx.tensor(*like)?;
                if l.dtype != DType::F32 {
                    bail!("new_full of a non-float tensor");
                }
                DType::F32
            }
            None => fill_dtype,
        };
        Ok(Type::Tensor(TensorType {
            dtype,
            shape: dims,
            lo,
            hi: None,
        }))
    }

    fn render(&self, out: &str, cx: &RenderCx) -> Vec<String> {
        let Full {
            shape,
            fill,
            like,
            empty,
        } = self;
        let shape = tuple(shape.iter().map(arg).collect());
        let fill_arg = *fill;
        let fill = arg(fill);
        let expr = match (like, empty) {
            (None, false) => format!("torch.full({shape}, {fill})"),
            (Some(like), false) => format!("{}.new_full({shape}, {fill})", n(*like)),
            (Some(like), true) => format!("{}.new_empty({shape}).fill_({fill})", n(*like)),
            (None, true) => {
                // `torch.empty` is float by default where `torch.full` follows the fill.
                let int_fill = match fill_arg {
                    SizeArg::Const(_) => true,
                    SizeArg::Value(v) => cx.is_int(v),
                };
                let dtype = if int_fill { ", dtype=torch.int64" } else { "" };
                format!("torch.empty({shape}{dtype}).fill_({fill})")
            }
        };
        vec![format!("{out} = {expr}")]
    }

    fn kind(&self) -> Option<String> {
        match (self.like.is_some(), self.empty) {
            (false, false) => None,
            (true, false) => Some("full.new_full".into()),
            (true, true) => Some("full.new_empty".into()),
            (false, true) => Some("full.empty".into()),
        }
    }
}

op_struct! {
    /// `torch.zeros(...)`, or `like.new_zeros((...))` of a float tensor `like`
    Zeros {
        shape: Vec<SizeArg> => FactoryShape,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        like: Option<ValueRef>,
    }
}

impl OpDef for Zeros {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let Zeros { shape, like } = self;
        if let Some(like) = like
            && cx.tensor(*like)?.dtype != DType::F32
        {
            bail!("new_zeros of a non-float tensor");
        }
        let dims = factory_shape(cx, shape)?;
        Ok(Type::Tensor(TensorType {
            dtype: DType::F32,
            shape: dims,
            lo: Some(0),
            hi: Some(0),
        }))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let Zeros { shape, like } = self;
        let expr = match like {
            Some(like) => format!(
                "{}.new_zeros({})",
                n(*like),
                tuple(shape.iter().map(arg).collect())
            ),
            None => format!("torch.zeros({})", join(shape.iter().map(arg))),
        };
        vec![format!("{out} = {expr}")]
    }
}

op_struct! {
    /// `torch.ones(...)`, or `like.new_ones((...))` of a float tensor `like`
    Ones {
        shape: Vec<SizeArg> => FactoryShape,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        like: Option<ValueRef>,
    }
}

impl OpDef for Ones {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let Ones { shape, like } = self;
        if let Some(like) = like
            && cx.tensor(*like)?.dtype != DType::F32
        {
            bail!("new_ones of a non-float tensor");
        }
        let dims = factory_shape(cx, shape)?;
        Ok(Type::Tensor(TensorType {
            dtype: DType::F32,
            shape: dims,
            lo: Some(1),
            hi: Some(1),
        }))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let Ones { shape, like } = self;
        let expr = match like {
            Some(like) => format!(
                "{}.new_ones({})",
                n(*like),
                tuple(shape.iter().map(arg).collect())
            ),
            None => format!("torch.ones({})", join(shape.iter().map(arg))),
        };
        vec![format!("{out} = {expr}")]
    }
}

op_struct! {
    /// `torch.eye(n)`
    Eye {
        n: SizeArg => FactoryShape,
    }
}

impl OpDef for Eye {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let Eye { n } = self;
        let n = cx.size(*n)?;
        cx.all(&n, "eye size", |x| x >= 0)?;
        Ok(Type::Tensor(TensorType {
            dtype: DType::F32,
            shape: vec![n.clone(), n],
            lo: Some(0),
            hi: Some(1),
        }))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let expr = format!("torch.eye({})", arg(&self.n));
        vec![format!("{out} = {expr}")]
    }
}

op_struct! {
    /// `torch.linspace(0, 1, steps=)`
    Linspace {
        steps: SizeArg => LinspaceSteps,
    }
}

impl OpDef for Linspace {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let Linspace { steps } = self;
        let s = cx.size(*steps)?;
        cx.all(&s, "linspace steps", |x| x >= 0)?;
        Ok(Type::Tensor(TensorType {
            dtype: DType::F32,
            shape: vec![s],
            lo: Some(0),
            hi: Some(1),
        }))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let Linspace { steps } = self;
        let expr = format!("torch.linspace(0, 1, steps={})", arg(steps));
        vec![format!("{out} = {expr}")]
    }
}

op_struct! {
    /// `F.one_hot(x, num_classes=)`
    OneHot {
        x: ValueRef,
        classes: SizeArg => OneHotClasses,
    }
}

impl OpDef for OneHot {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let OneHot { x, classes } = self;
        let t = cx.tensor(*x)?;
        if t.dtype != DType::I64 || !nonneg(&t) {
            bail!("one_hot wants non-negative int64 indices");
        }
        let Some(hi) = t.hi else {
            bail!("one_hot indices unbounded")
        };
        let c = cx.size(*classes)?;
        cx.all(&c, "one_hot classes", |x| x > hi)?;
        let mut shape = t.shape.clone();
        shape.push(c);
        Ok(Type::Tensor(TensorType {
            dtype: DType::I64,
            shape,
            lo: Some(0),
            hi: Some(1),
        }))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let OneHot { x, classes } = self;
        let expr = format!("F.one_hot({}, num_classes={})", n(*x), arg(classes));
        vec![format!("{out} = {expr}")]
    }
}

op_struct! {
    /// `torch.tril(x)`
    Tril {
        x: ValueRef,
    }
}

impl OpDef for Tril {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let Tril { x } = self;
        let t = cx.tensor(*x)?;
        if t.rank() < 2 {
            bail!("tril rank");
        }
        Ok(Type::Tensor(t.with_zero()))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let Tril { x } = self;
        let expr = format!("torch.tril({})", n(*x));
        vec![format!("{out} = {expr}")]
    }
}

op_struct! {
    /// `torch.triu(x, diagonal=d)` with a diagonal that may come from sizes
    Triu {
        x: ValueRef,
        diagonal: SizeArg => TriangleDiagonal,
    }
}

impl OpDef for Triu {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let t = cx.tensor(self.x)?;
        if t.rank() < 2 {
            bail!("triu rank");
        }
        cx.size(self.diagonal)?;
        Ok(Type::Tensor(t.with_zero()))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        vec![format!(
            "{out} = torch.triu({}, diagonal={})",
            n(self.x),
            arg(&self.diagonal)
        )]
    }
}

op_struct! {
    /// `torch.zeros(y.shape)`, `torch.ones(y.size())`, or `like.new_zeros(y.shape)`: a new
    /// tensor of another tensor's whole shape
    ShapeFactory {
        of: ValueRef,
        fill: ShapeFill,
        like: Option<ValueRef>,
        spelling: ShapeSpelling,
    }
}

impl OpDef for ShapeFactory {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let ShapeFactory { of, fill, like, .. } = *self;
        let o = cx.tensor(of)?;
        if let Some(like) = like
            && cx.tensor(like)?.dtype != DType::F32
        {
            bail!("new_{} of a non-float tensor", fill.name());
        }
        let v = match fill {
            ShapeFill::Zeros => 0,
            ShapeFill::Ones => 1,
        };
        Ok(Type::Tensor(TensorType {
            dtype: DType::F32,
            shape: o.shape,
            lo: Some(v),
            hi: Some(v),
        }))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let ShapeFactory {
            of,
            fill,
            like,
            spelling,
        } = *self;
        let shape = spelling.of(&n(of));
        let expr = match like {
            Some(like) => format!("{}.new_{}({shape})", n(like), fill.name()),
            None => format!("torch.{}({shape})", fill.name()),
        };
        vec![format!("{out} = {expr}")]
    }

    fn kind(&self) -> Option<String> {
        Some(format!("shape_factory.{}", self.fill.name()))
    }

    fn spelling(&self) -> Option<&'static str> {
        Some(self.spelling.name())
    }

    fn respellings(&self) -> Vec<Op> {
        others(ShapeSpelling::ALL, self.spelling)
            .map(|spelling| ShapeFactory { spelling, ..*self }.into())
            .collect()
    }
}
