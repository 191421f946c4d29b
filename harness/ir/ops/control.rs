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
        let Compare { a, .. } = self;
        cx.int(*a)?;
        Ok(Type::Bool)
    }

    fn render(&self, out: &str, _cx: &RenderCx) -> Vec<String> {
        let Compare { a, cmp, k } = self;
        let expr = format!("{} {} {k}", n(*a), cmp.name());
        vec![format!("{out} = {expr}")]
    }

    fn decisions(&self, cx: &DecisionCx, out: &mut Vec<(DecisionKind, DecisionExpr)>) {
        if let Some(e) = cx.int(self.a) {
            out.push((DecisionKind::Branch, DecisionExpr::Cmp(e, self.cmp, self.k)));
        }
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
        if cx.ty(*cond)? != Type::Bool {
            bail!("if on a non-bool");
        }
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
