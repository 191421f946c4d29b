//! Control ops.

use super::*;

op_struct! {
    /// `n <cmp> k`
    Compare {
        a: ValueRef => IfCondition,
        cmp: CmpFn,
        k: i64,
    }
}

impl OpDef for Compare {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        Ok(Type::Bool(match cx.ty(self.a)? {
            Type::Int(e) => BoolExpr::Cmp(e, self.cmp, DimExpr::Const(self.k)),
            Type::Float(f) => BoolExpr::CmpF(f, self.cmp, self.k),
            other => bail!("compare of {other:?}"),
        }))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let Compare { a, cmp, k } = self;
        let expr = format!("{} {} {k}", n(*a), cmp.name());
        vec![format!("{out} = {expr}")]
    }

    fn decisions(&self, cx: &DecisionCx, out: &mut Vec<(DecisionKind, DecisionExpr)>) {
        branch(cx, out)
    }
}

/// A bool the model computes is branched on (the generator only makes bools for `if`,
/// `and`/`or`/`not` and `a if c else b`): its value is a Python decision.
fn branch(cx: &DecisionCx, out: &mut Vec<(DecisionKind, DecisionExpr)>) {
    if let Some(b) = cx.own_bool() {
        out.push((DecisionKind::Branch, DecisionExpr::Bool(b)));
    }
}

op_struct! {
    /// `a <cmp> b` between two size-derived ints
    CompareSizes {
        a: ValueRef => IfCondition,
        cmp: CmpFn,
        b: ValueRef => IfCondition,
    }
}

impl OpDef for CompareSizes {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        Ok(Type::Bool(BoolExpr::Cmp(
            cx.int(self.a)?,
            self.cmp,
            cx.int(self.b)?,
        )))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        vec![format!(
            "{out} = {} {} {}",
            n(self.a),
            self.cmp.name(),
            n(self.b)
        )]
    }

    fn decisions(&self, cx: &DecisionCx, out: &mut Vec<(DecisionKind, DecisionExpr)>) {
        branch(cx, out)
    }
}

op_struct! {
    /// `a and b`, `a or b` of two size-derived bools
    BoolOp {
        a: ValueRef,
        f: BoolFn,
        b: ValueRef,
    }
}

impl OpDef for BoolOp {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let (a, b) = (Box::new(cx.boolean(self.a)?), Box::new(cx.boolean(self.b)?));
        Ok(Type::Bool(match self.f {
            BoolFn::And => BoolExpr::And(a, b),
            BoolFn::Or => BoolExpr::Or(a, b),
        }))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        vec![format!(
            "{out} = {} {} {}",
            n(self.a),
            self.f.name(),
            n(self.b)
        )]
    }

    fn kind(&self) -> Option<String> {
        Some(format!("bool.{}", self.f.name()))
    }

    fn decisions(&self, cx: &DecisionCx, out: &mut Vec<(DecisionKind, DecisionExpr)>) {
        branch(cx, out)
    }
}

op_struct! {
    /// `not a` of a size-derived bool
    Not {
        a: ValueRef,
    }
}

impl OpDef for Not {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        Ok(Type::Bool(BoolExpr::Not(Box::new(cx.boolean(self.a)?))))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        vec![format!("{out} = not {}", n(self.a))]
    }

    fn decisions(&self, cx: &DecisionCx, out: &mut Vec<(DecisionKind, DecisionExpr)>) {
        branch(cx, out)
    }
}

op_struct! {
    /// `a if cond else b`: one of two tensors of the same rank, chosen by a Python branch,
    /// so the result's shape can depend on it
    Select {
        cond: ValueRef,
        a: ValueRef,
        b: ValueRef,
    }
}

impl OpDef for Select {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let cond = cx.boolean(self.cond)?;
        let (a, b) = (cx.tensor(self.a)?, cx.tensor(self.b)?);
        if a.dtype != b.dtype || a.rank() != b.rank() {
            bail!(
                "select of {:?}/{} and {:?}/{}",
                a.dtype,
                a.rank(),
                b.dtype,
                b.rank()
            );
        }
        let shape = a
            .shape
            .iter()
            .zip(&b.shape)
            .map(|(x, y)| DimExpr::ite(cond.clone(), x.clone(), y.clone()))
            .collect();
        let lo = a.lo.zip(b.lo).map(|(x, y)| x.min(y));
        let hi = a.hi.zip(b.hi).map(|(x, y)| x.max(y));
        Ok(Type::Tensor(TensorType {
            dtype: a.dtype,
            shape,
            lo,
            hi,
        }))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        vec![format!(
            "{out} = {} if {} else {}",
            n(self.a),
            n(self.cond),
            n(self.b)
        )]
    }
}

op_struct! {
    /// `a if cond else b` of two tensors of different ranks, then made rank-agnostic
    /// (`.flatten()`, `.reshape(-1)`, `.sum()`): the arms compute values of different ranks
    /// and only the result's type is fixed
    SelectFlat {
        cond: ValueRef,
        a: ValueRef,
        b: ValueRef,
        erase: RankErase,
    }
}

impl OpDef for SelectFlat {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let cond = cx.boolean(self.cond)?;
        let (a, b) = (cx.tensor(self.a)?, cx.tensor(self.b)?);
        if a.dtype != b.dtype || a.dtype == DType::Bool {
            bail!("select_flat of {:?} and {:?}", a.dtype, b.dtype);
        }
        if a.rank() == b.rank() {
            bail!(
                "select_flat of two rank-{} tensors (that is `select`)",
                a.rank()
            );
        }
        Ok(Type::Tensor(match self.erase {
            RankErase::Flatten | RankErase::ReshapeInfer => TensorType {
                dtype: a.dtype,
                shape: vec![DimExpr::ite(cond, product(&a.shape), product(&b.shape))],
                lo: a.lo.zip(b.lo).map(|(x, y)| x.min(y)),
                hi: a.hi.zip(b.hi).map(|(x, y)| x.max(y)),
            },
            RankErase::Sum => TensorType::unbounded(a.dtype, vec![]),
        }))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let erase = match self.erase {
            RankErase::Flatten => "flatten()",
            RankErase::ReshapeInfer => "reshape(-1)",
            RankErase::Sum => "sum()",
        };
        vec![
            format!("if {}:", n(self.cond)),
            format!("    {out}_t = {}", n(self.a)),
            "else:".to_string(),
            format!("    {out}_t = {}", n(self.b)),
            format!("{out} = {out}_t.{erase}"),
        ]
    }

    fn kind(&self) -> Option<String> {
        Some(format!("select_flat.{}", self.erase.name()))
    }
}

op_struct! {
    /// `if cond:` with one unary function on each arm
    If {
        cond: ValueRef,
        x: ValueRef,
        then_f: UnaryFn,
        else_f: UnaryFn,
    }
}

impl OpDef for If {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let If {
            cond,
            x,
            then_f,
            else_f,
        } = self;
        cx.boolean(*cond)?;
        let t = cx.tensor(*x)?;
        if !unary_ok(*then_f, t.dtype) || !unary_ok(*else_f, t.dtype) {
            bail!("if branches dtype");
        }
        Ok(Type::Tensor(TensorType {
            lo: None,
            hi: None,
            ..t
        }))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let If {
            cond,
            x,
            then_f,
            else_f,
        } = self;
        vec![
            format!("if {}:", n(*cond)),
            format!("    {out} = torch.{}({})", then_f.name(), n(*x)),
            "else:".to_string(),
            format!("    {out} = torch.{}({})", else_f.name(), n(*x)),
        ]
    }
}

op_struct! {
    /// `for _ in range(count): x = x + 1`
    Loop {
        count: ValueRef => LoopCount,
        x: ValueRef,
    }
}

impl OpDef for Loop {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let Loop { count, x } = self;
        let n = cx.int(*count)?;
        cx.all(&n, "loop count", |x| (0..=MAX_LOOP).contains(&x))?;
        let t = cx.tensor(*x)?;
        if t.dtype == DType::Bool {
            bail!("loop on bool");
        }
        let lo = t.lo.filter(|l| *l >= 0);
        Ok(Type::Tensor(TensorType { lo, hi: None, ..t }))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let Loop { count, x } = self;
        vec![
            format!("{out} = {}", n(*x)),
            format!("for _ in range({}):", n(*count)),
            format!("    {out} = {out} + 1"),
        ]
    }

    fn decisions(&self, cx: &DecisionCx, out: &mut Vec<(DecisionKind, DecisionExpr)>) {
        if let Some(e) = cx.int(self.count) {
            out.push((DecisionKind::LoopCount, DecisionExpr::Value(e)));
        }
    }
}

op_struct! {
    /// `x.contiguous().transpose(d0, d1).is_contiguous()`: whether swapping two dims keeps
    /// the layout contiguous, which depends on which of the dims have size 1
    IsContiguous {
        x: ValueRef,
        d0: u8,
        d1: u8,
    }
}

impl OpDef for IsContiguous {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let IsContiguous { x, d0, d1 } = *self;
        let t = cx.tensor(x)?;
        let (lo, hi) = (cx.dim(&t, d0)?, cx.dim(&t, d1)?);
        if lo >= hi {
            bail!("is_contiguous of transpose({d0}, {d1})");
        }
        if t.shape.iter().any(DimExpr::has_data) {
            bail!("is_contiguous of data-dependent sizes");
        }
        // After the swap, dims lo..=hi sit in the order hi, lo+1, .., hi-1, lo. torch skips
        // dims of size 1 and calls an empty tensor contiguous, so the layout stays
        // contiguous iff no two dims of size > 1 end up out of order.
        let one = |d: usize| BoolExpr::Cmp(t.shape[d].clone(), CmpFn::Eq, DimExpr::Const(1));
        let mut ordered: Option<BoolExpr> = None;
        for a in lo..=hi {
            for b in a + 1..=hi {
                if a != lo && b != hi {
                    continue;
                }
                let pair = BoolExpr::Or(Box::new(one(a)), Box::new(one(b)));
                ordered = Some(match ordered {
                    None => pair,
                    Some(o) => BoolExpr::And(Box::new(o), Box::new(pair)),
                });
            }
        }
        let empty = BoolExpr::Cmp(product(&t.shape), CmpFn::Eq, DimExpr::Const(0));
        let ordered = ordered.expect("lo < hi gives one pair");
        Ok(Type::Bool(BoolExpr::Or(Box::new(empty), Box::new(ordered))))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let IsContiguous { x, d0, d1 } = self;
        vec![format!(
            "{out} = {}.contiguous().transpose({d0}, {d1}).is_contiguous()",
            n(*x)
        )]
    }

    fn decisions(&self, cx: &DecisionCx, out: &mut Vec<(DecisionKind, DecisionExpr)>) {
        branch(cx, out)
    }
}

op_struct! {
    /// `x.shape == y.shape` or `x.shape != y.shape`: whole shapes compared
    ShapeCompare {
        a: ValueRef,
        cmp: CmpFn,
        b: ValueRef,
    }
}

impl OpDef for ShapeCompare {
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let ShapeCompare { a, cmp, b } = *self;
        let (ta, tb) = (cx.tensor(a)?, cx.tensor(b)?);
        if !matches!(cmp, CmpFn::Eq | CmpFn::Ne) {
            bail!("shapes compare with == or != only");
        }
        if ta.shape.iter().chain(&tb.shape).any(DimExpr::has_data) {
            bail!("shape compare of data-dependent sizes");
        }
        let never = || BoolExpr::Cmp(DimExpr::Const(0), CmpFn::Eq, DimExpr::Const(1));
        let equal = if ta.rank() != tb.rank() {
            never()
        } else {
            ta.shape
                .iter()
                .zip(&tb.shape)
                .map(|(x, y)| BoolExpr::Cmp(x.clone(), CmpFn::Eq, y.clone()))
                .reduce(|acc, e| BoolExpr::And(Box::new(acc), Box::new(e)))
                .unwrap_or_else(|| BoolExpr::Not(Box::new(never())))
        };
        Ok(Type::Bool(match cmp {
            CmpFn::Eq => equal,
            _ => BoolExpr::Not(Box::new(equal)),
        }))
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let ShapeCompare { a, cmp, b } = *self;
        vec![format!(
            "{out} = {}.shape {} {}.shape",
            n(a),
            cmp.name(),
            n(b)
        )]
    }

    fn decisions(&self, cx: &DecisionCx, out: &mut Vec<(DecisionKind, DecisionExpr)>) {
        branch(cx, out)
    }
}
