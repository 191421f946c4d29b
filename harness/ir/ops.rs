//! The op set: every operation a model may contain, its operands, and its shape rule.
//!
//! `Op::infer` is the single source of truth for what an op accepts and produces. It reasons
//! symbolically (structural `DimExpr` equality for broadcasting and concatenation) and checks
//! every numeric condition at each valuation it is given, so an op that infers at a set of
//! valuations is accepted by eager PyTorch at all of them.

use super::expr::{DimExpr, FloatExpr, Valuation};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A reference to a value: a model input or the result of an earlier node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueRef {
    Input(u32),
    Node(u32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DType {
    F32,
    I64,
    Bool,
}

impl DType {
    pub fn torch(self) -> &'static str {
        match self {
            DType::F32 => "torch.float32",
            DType::I64 => "torch.int64",
            DType::Bool => "torch.bool",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct TensorType {
    pub dtype: DType,
    pub shape: Vec<DimExpr>,
    /// Known bounds on the tensor's values (integers, or floats rounded outward).
    pub lo: Option<i64>,
    pub hi: Option<i64>,
}

impl TensorType {
    pub fn rank(&self) -> usize {
        self.shape.len()
    }
    fn with_shape(&self, shape: Vec<DimExpr>) -> TensorType {
        TensorType {
            shape,
            ..self.clone()
        }
    }
    fn unbounded(dtype: DType, shape: Vec<DimExpr>) -> TensorType {
        TensorType {
            dtype,
            shape,
            lo: None,
            hi: None,
        }
    }
}

/// The type of a value.
#[derive(Clone, Debug, PartialEq)]
pub enum Type {
    Tensor(TensorType),
    /// A Python int (a SymInt under export) with its value as an expression over sizes.
    Int(DimExpr),
    /// A Python float computed from sizes.
    Float(FloatExpr),
    Bool,
}

impl Type {
    pub fn tensor(&self) -> Option<&TensorType> {
        match self {
            Type::Tensor(t) => Some(t),
            _ => None,
        }
    }
    pub fn int(&self) -> Option<&DimExpr> {
        match self {
            Type::Int(e) => Some(e),
            _ => None,
        }
    }
}

/// An integer operand that is either a literal or a size-derived Python int.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SizeArg {
    Const(i64),
    Value(ValueRef),
}

/// A scalar operand: a literal, a size-derived int or float, or (for `arange`) a 0-dim tensor.
pub type ScalarArg = SizeArg;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReshapeArg {
    Infer,
    Size(SizeArg),
}

macro_rules! simple_enum {
    ($(#[$m:meta])* $name:ident { $($v:ident => $s:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($v),* }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v),*];
            pub fn name(self) -> &'static str { match self { $($name::$v => $s),* } }
        }
    };
}

simple_enum!(UnaryFn { Relu => "relu", Neg => "neg", Abs => "abs", Exp => "exp", Sigmoid => "sigmoid", Tanh => "tanh", Sin => "sin" });
simple_enum!(BinaryFn { Add => "add", Sub => "sub", Mul => "mul", Maximum => "maximum" });
simple_enum!(ScalarFn { Add => "add", Mul => "mul" });
simple_enum!(ReduceFn { Sum => "sum", Mean => "mean", Amax => "amax" });
simple_enum!(IntFn { Add => "add", Sub => "sub", Mul => "mul", FloorDiv => "floordiv", Mod => "mod" });
simple_enum!(RoundFn { Int => "int", Floor => "floor", Ceil => "ceil" });
simple_enum!(CmpFn { Gt => ">", Ge => ">=", Lt => "<", Le => "<=", Eq => "==", Ne => "!=" });
simple_enum!(
    /// How "append a size to a 1-D tensor" is spelled.
    AppendSpelling { Pad => "pad", Cat => "cat" });
simple_enum!(
    /// How a dim's size is read.
    SizeSpelling { ShapeIndex => "shape_index", SizeCall => "size_call", Len => "len" });
simple_enum!(
    /// How a Python number becomes a tensor.
    TensorSpelling { TensorList => "tensor_list", ScalarTensor => "scalar_tensor", AsTensor => "as_tensor", NewTensor => "new_tensor" });
simple_enum!(MaxSpelling { Builtin => "max_builtin", SymMax => "sym_max" });
simple_enum!(ReshapeSpelling { Reshape => "reshape", View => "view" });

/// One node of the model DAG. Operands always refer to inputs or earlier nodes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Op {
    // elementwise
    Unary {
        x: ValueRef,
        f: UnaryFn,
    },
    Binary {
        a: ValueRef,
        b: ValueRef,
        f: BinaryFn,
    },
    ScalarArith {
        x: ValueRef,
        s: ValueRef,
        f: ScalarFn,
    },
    Clamp {
        x: ValueRef,
        min: ScalarArg,
        max: Option<ScalarArg>,
    },
    MaskedFill {
        x: ValueRef,
        value: ScalarArg,
    },
    // reductions
    Reduce {
        x: ValueRef,
        f: ReduceFn,
        dim: u8,
        keepdim: bool,
    },
    MaxAll {
        x: ValueRef,
    },
    Cumsum {
        x: ValueRef,
        dim: u8,
    },
    Topk {
        x: ValueRef,
        k: SizeArg,
        dim: u8,
    },
    // matmul
    Matmul {
        a: ValueRef,
        b: ValueRef,
    },
    // shape
    Reshape {
        x: ValueRef,
        shape: Vec<ReshapeArg>,
        spelling: ReshapeSpelling,
    },
    Flatten {
        x: ValueRef,
        start: u8,
        end: u8,
    },
    Unflatten {
        x: ValueRef,
        dim: u8,
        outer: SizeArg,
    },
    Permute {
        x: ValueRef,
        perm: Vec<u8>,
    },
    Transpose {
        x: ValueRef,
        d0: u8,
        d1: u8,
    },
    Squeeze {
        x: ValueRef,
        dim: u8,
    },
    Unsqueeze {
        x: ValueRef,
        dim: u8,
    },
    Interpolate {
        x: ValueRef,
        size: SizeArg,
    },
    // join and slice
    Cat {
        xs: Vec<ValueRef>,
        dim: u8,
    },
    Stack {
        xs: Vec<ValueRef>,
        dim: u8,
    },
    Split {
        x: ValueRef,
        size: SizeArg,
        dim: u8,
    },
    Chunk {
        x: ValueRef,
        chunks: u8,
        dim: u8,
    },
    Narrow {
        x: ValueRef,
        dim: u8,
        start: SizeArg,
        len: SizeArg,
    },
    Slice {
        x: ValueRef,
        dim: u8,
        start: SizeArg,
        end: SizeArg,
    },
    IndexSelect {
        x: ValueRef,
        dim: u8,
        len: SizeArg,
    },
    Gather {
        x: ValueRef,
        dim: u8,
    },
    // pad
    Pad {
        x: ValueRef,
        before: u8,
        after: u8,
    },
    AppendValue {
        x: ValueRef,
        value: ValueRef,
        spelling: AppendSpelling,
    },
    // expand
    Expand {
        x: ValueRef,
        dim: u8,
        size: SizeArg,
    },
    Repeat {
        x: ValueRef,
        reps: Vec<u8>,
    },
    ExpandAs {
        x: ValueRef,
        other: ValueRef,
    },
    // factories
    Arange {
        end: ScalarArg,
        step: Option<SizeArg>,
    },
    Full {
        shape: Vec<SizeArg>,
        fill: ScalarArg,
    },
    Zeros {
        shape: Vec<SizeArg>,
    },
    Ones {
        shape: Vec<SizeArg>,
    },
    Eye {
        n: SizeArg,
    },
    Linspace {
        steps: SizeArg,
    },
    OneHot {
        x: ValueRef,
        classes: SizeArg,
    },
    Tril {
        x: ValueRef,
    },
    // shape-to-value channels
    Size {
        x: ValueRef,
        dim: u8,
        spelling: SizeSpelling,
    },
    Numel {
        x: ValueRef,
    },
    IntArith {
        a: ValueRef,
        f: IntFn,
        k: i64,
    },
    IntMax {
        a: ValueRef,
        k: i64,
        spelling: MaxSpelling,
    },
    TrueDiv {
        a: ValueRef,
        k: i64,
    },
    ToFloat {
        a: ValueRef,
    },
    Sqrt {
        a: ValueRef,
    },
    Round {
        a: ValueRef,
        f: RoundFn,
    },
    ToTensor {
        s: ValueRef,
        spelling: TensorSpelling,
        like: Option<ValueRef>,
    },
    // control flow on sizes
    Compare {
        a: ValueRef,
        cmp: CmpFn,
        k: i64,
    },
    If {
        cond: ValueRef,
        x: ValueRef,
        then_f: UnaryFn,
        else_f: UnaryFn,
    },
    Loop {
        count: ValueRef,
        x: ValueRef,
    },
    // data-dependent
    Item {
        x: ValueRef,
    },
    ToList {
        x: ValueRef,
        index: u8,
    },
    Nonzero {
        x: ValueRef,
    },
    MaskedSelect {
        x: ValueRef,
    },
    Unique {
        x: ValueRef,
    },
    RepeatInterleave {
        x: ValueRef,
    },
}

/// Op families from DESIGN.md; generator weights and coverage are kept per family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    Elementwise,
    Reduction,
    Matmul,
    Shape,
    Join,
    Pad,
    Expand,
    Factory,
    Channel,
    Control,
    DataDependent,
}

impl Family {
    pub const ALL: &'static [Family] = &[
        Family::Elementwise,
        Family::Reduction,
        Family::Matmul,
        Family::Shape,
        Family::Join,
        Family::Pad,
        Family::Expand,
        Family::Factory,
        Family::Channel,
        Family::Control,
        Family::DataDependent,
    ];
}

/// The places where a size-derived Python number is consumed by an op.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sink {
    PadValue,
    FillValue,
    ArangeEnd,
    ArangeStep,
    LinspaceSteps,
    OneHotClasses,
    TopkK,
    SplitSize,
    SliceBound,
    NarrowBound,
    IndexLen,
    InterpolateSize,
    ClampBound,
    MaskedFillValue,
    ScalarOperand,
    ReshapeSize,
    ExpandSize,
    FactoryShape,
    IfCondition,
    LoopCount,
    TensorData,
}

impl Sink {
    pub const ALL: &'static [Sink] = &[
        Sink::PadValue,
        Sink::FillValue,
        Sink::ArangeEnd,
        Sink::ArangeStep,
        Sink::LinspaceSteps,
        Sink::OneHotClasses,
        Sink::TopkK,
        Sink::SplitSize,
        Sink::SliceBound,
        Sink::NarrowBound,
        Sink::IndexLen,
        Sink::InterpolateSize,
        Sink::ClampBound,
        Sink::MaskedFillValue,
        Sink::ScalarOperand,
        Sink::ReshapeSize,
        Sink::ExpandSize,
        Sink::FactoryShape,
        Sink::IfCondition,
        Sink::LoopCount,
        Sink::TensorData,
    ];
}

/// Why an op, a node or a case is not valid.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

macro_rules! bail {
    ($($t:tt)*) => { return Err(Invalid(format!($($t)*))) };
}

/// Largest tensor (elements) a case may build at any valuation it is checked at.
pub const MAX_NUMEL: i64 = 1 << 20;
/// Largest Python loop a case may run.
pub const MAX_LOOP: i64 = 512;
pub const MAX_RANK: usize = 4;

/// What inference can look up: operand types and the valuations to check at.
pub struct InferCtx<'a> {
    pub types: &'a dyn Fn(ValueRef) -> Option<Type>,
    pub valuations: &'a [Valuation],
    /// This node's index, which names the data-dependent sizes it creates.
    pub node: u32,
}

impl InferCtx<'_> {
    fn ty(&self, v: ValueRef) -> Result<Type, Invalid> {
        (self.types)(v).ok_or_else(|| Invalid(format!("unknown value {v:?}")))
    }
    fn tensor(&self, v: ValueRef) -> Result<TensorType, Invalid> {
        match self.ty(v)? {
            Type::Tensor(t) => Ok(t),
            other => bail!("{v:?} is {other:?}, expected a tensor"),
        }
    }
    fn int(&self, v: ValueRef) -> Result<DimExpr, Invalid> {
        match self.ty(v)? {
            Type::Int(e) => Ok(e),
            other => bail!("{v:?} is {other:?}, expected an int"),
        }
    }
    fn size(&self, a: SizeArg) -> Result<DimExpr, Invalid> {
        match a {
            SizeArg::Const(c) => Ok(DimExpr::Const(c)),
            SizeArg::Value(v) => self.int(v),
        }
    }
    /// Holds at every valuation where `e` can be evaluated; data-dependent expressions must
    /// satisfy it by their lower bound instead.
    fn all(&self, e: &DimExpr, what: &str, ok: impl Fn(i64) -> bool) -> Result<(), Invalid> {
        if e.has_data() {
            if let Some(lb) = e.lower_bound()
                && ok(lb)
                && ok(lb.saturating_add(1 << 20))
            {
                return Ok(());
            }
            bail!("{what}: data-dependent {e} not provably valid");
        }
        for v in self.valuations {
            match e.eval(v) {
                Some(x) if ok(x) => {}
                Some(x) => bail!("{what}: {e} = {x} at {v:?}"),
                None => bail!("{what}: {e} overflows at {v:?}"),
            }
        }
        Ok(())
    }
    fn all2(
        &self,
        a: &DimExpr,
        b: &DimExpr,
        what: &str,
        ok: impl Fn(i64, i64) -> bool,
    ) -> Result<(), Invalid> {
        if a.has_data() || b.has_data() {
            bail!("{what}: data-dependent operands");
        }
        for v in self.valuations {
            match (a.eval(v), b.eval(v)) {
                (Some(x), Some(y)) if ok(x, y) => {}
                (x, y) => bail!("{what}: {a} = {x:?}, {b} = {y:?} at {v:?}"),
            }
        }
        Ok(())
    }
    fn dim(&self, t: &TensorType, d: u8) -> Result<usize, Invalid> {
        let d = d as usize;
        if d >= t.rank() {
            bail!("dim {d} out of range for rank {}", t.rank());
        }
        Ok(d)
    }
}

fn product(dims: &[DimExpr]) -> DimExpr {
    dims.iter().cloned().fold(DimExpr::Const(1), DimExpr::mul)
}

/// Splits an expression into a constant and a multiset of non-constant factors.
fn factors(e: &DimExpr, c: &mut i64, out: &mut Vec<DimExpr>) {
    match e {
        DimExpr::Const(k) => *c *= k,
        DimExpr::Mul(a, b) => {
            factors(a, c, out);
            factors(b, c, out);
        }
        other => out.push(other.clone()),
    }
}

/// `total / part` when `part`'s factors are a sub-multiset of `total`'s.
fn divide_exact(total: &[DimExpr], part: &[DimExpr]) -> Option<DimExpr> {
    let (mut tc, mut tf) = (1, vec![]);
    for d in total {
        factors(d, &mut tc, &mut tf);
    }
    let (mut pc, mut pf) = (1, vec![]);
    for d in part {
        factors(d, &mut pc, &mut pf);
    }
    if pc == 0 || tc % pc != 0 {
        return None;
    }
    for f in pf {
        let i = tf.iter().position(|x| *x == f)?;
        tf.remove(i);
    }
    Some(tf.into_iter().fold(DimExpr::Const(tc / pc), DimExpr::mul))
}

/// Right-aligned broadcasting: dims must be structurally equal or one of them 1.
pub fn broadcast(a: &[DimExpr], b: &[DimExpr]) -> Result<Vec<DimExpr>, Invalid> {
    let n = a.len().max(b.len());
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let da = (i + a.len()).checked_sub(n).map(|j| &a[j]);
        let db = (i + b.len()).checked_sub(n).map(|j| &b[j]);
        out.push(match (da, db) {
            (Some(x), None) | (None, Some(x)) => x.clone(),
            (Some(x), Some(y)) if x == y => x.clone(),
            (Some(DimExpr::Const(1)), Some(y)) => y.clone(),
            (Some(x), Some(DimExpr::Const(1))) => x.clone(),
            (Some(x), Some(y)) => bail!("cannot broadcast {x} with {y}"),
            (None, None) => unreachable!(),
        });
    }
    Ok(out)
}

fn nonneg(t: &TensorType) -> bool {
    t.lo.is_some_and(|l| l >= 0)
}

fn unary_ok(f: UnaryFn, dtype: DType) -> bool {
    match f {
        UnaryFn::Relu | UnaryFn::Neg | UnaryFn::Abs => dtype != DType::Bool,
        _ => dtype == DType::F32,
    }
}

fn unary_bounds(f: UnaryFn, t: &TensorType) -> (Option<i64>, Option<i64>) {
    match f {
        UnaryFn::Relu => (Some(0), t.hi.map(|h| h.max(0))),
        UnaryFn::Abs => (Some(0), None),
        UnaryFn::Exp => (Some(0), None),
        UnaryFn::Sigmoid => (Some(0), Some(1)),
        UnaryFn::Tanh | UnaryFn::Sin => (Some(-1), Some(1)),
        UnaryFn::Neg => (t.hi.map(|h| -h), t.lo.map(|l| -l)),
    }
}

impl Op {
    /// The values this op reads, in order.
    pub fn operands(&self) -> Vec<ValueRef> {
        let mut out = vec![];
        self.visit_operands(&mut |v| out.push(*v));
        out
    }

    /// Calls `f` on every operand slot, allowing it to be rewritten (used by the reducer).
    pub fn visit_operands_mut(&mut self, f: &mut dyn FnMut(&mut ValueRef)) {
        fn s(a: &mut SizeArg, f: &mut dyn FnMut(&mut ValueRef)) {
            if let SizeArg::Value(v) = a {
                f(v)
            }
        }
        use Op::*;
        match self {
            Unary { x, .. }
            | MaxAll { x }
            | Cumsum { x, .. }
            | Reduce { x, .. }
            | Flatten { x, .. }
            | Permute { x, .. }
            | Transpose { x, .. }
            | Squeeze { x, .. }
            | Unsqueeze { x, .. }
            | Chunk { x, .. }
            | Gather { x, .. }
            | Pad { x, .. }
            | Repeat { x, .. }
            | Tril { x }
            | Size { x, .. }
            | Numel { x }
            | Item { x }
            | ToList { x, .. }
            | Nonzero { x }
            | MaskedSelect { x }
            | Unique { x }
            | RepeatInterleave { x } => f(x),
            Binary { a, b, .. } | Matmul { a, b } => {
                f(a);
                f(b)
            }
            ScalarArith { x, s: v, .. } => {
                f(x);
                f(v)
            }
            Clamp { x, min, max } => {
                f(x);
                s(min, f);
                if let Some(m) = max {
                    s(m, f)
                }
            }
            MaskedFill { x, value } => {
                f(x);
                s(value, f)
            }
            Topk { x, k, .. } => {
                f(x);
                s(k, f)
            }
            Reshape { x, shape, .. } => {
                f(x);
                for a in shape {
                    if let ReshapeArg::Size(a) = a {
                        s(a, f)
                    }
                }
            }
            Unflatten { x, outer, .. } => {
                f(x);
                s(outer, f)
            }
            Interpolate { x, size } => {
                f(x);
                s(size, f)
            }
            Cat { xs, .. } | Stack { xs, .. } => xs.iter_mut().for_each(&mut *f),
            Split { x, size, .. } => {
                f(x);
                s(size, f)
            }
            Narrow { x, start, len, .. } => {
                f(x);
                s(start, f);
                s(len, f)
            }
            Slice { x, start, end, .. } => {
                f(x);
                s(start, f);
                s(end, f)
            }
            IndexSelect { x, len, .. } => {
                f(x);
                s(len, f)
            }
            AppendValue { x, value, .. } => {
                f(x);
                f(value)
            }
            Expand { x, size, .. } => {
                f(x);
                s(size, f)
            }
            ExpandAs { x, other } => {
                f(x);
                f(other)
            }
            Arange { end, step } => {
                s(end, f);
                if let Some(st) = step {
                    s(st, f)
                }
            }
            Full { shape, fill } => {
                shape.iter_mut().for_each(|a| s(a, f));
                s(fill, f)
            }
            Zeros { shape } | Ones { shape } => shape.iter_mut().for_each(|a| s(a, f)),
            Eye { n } => s(n, f),
            Linspace { steps } => s(steps, f),
            OneHot { x, classes } => {
                f(x);
                s(classes, f)
            }
            IntArith { a, .. }
            | IntMax { a, .. }
            | TrueDiv { a, .. }
            | ToFloat { a }
            | Sqrt { a }
            | Round { a, .. }
            | Compare { a, .. } => f(a),
            ToTensor { s: v, like, .. } => {
                f(v);
                if let Some(l) = like {
                    f(l)
                }
            }
            If { cond, x, .. } => {
                f(cond);
                f(x)
            }
            Loop { count, x } => {
                f(count);
                f(x)
            }
        }
    }

    pub fn visit_operands(&self, f: &mut dyn FnMut(&ValueRef)) {
        let mut copy = self.clone();
        copy.visit_operands_mut(&mut |v| f(v));
    }

    /// Size-derived values consumed by this op, with the kind of place that consumes them.
    pub fn sinks(&self) -> Vec<(Sink, ValueRef)> {
        use Op::*;
        let mut out = vec![];
        let mut put = |k: Sink, a: &SizeArg| {
            if let SizeArg::Value(v) = a {
                out.push((k, *v))
            }
        };
        match self {
            ScalarArith { s, .. } => put(Sink::ScalarOperand, &SizeArg::Value(*s)),
            Clamp { min, max, .. } => {
                put(Sink::ClampBound, min);
                if let Some(m) = max {
                    put(Sink::ClampBound, m)
                }
            }
            MaskedFill { value, .. } => put(Sink::MaskedFillValue, value),
            Topk { k, .. } => put(Sink::TopkK, k),
            Reshape { shape, .. } => shape.iter().for_each(|a| {
                if let ReshapeArg::Size(a) = a {
                    put(Sink::ReshapeSize, a)
                }
            }),
            Unflatten { outer, .. } => put(Sink::ReshapeSize, outer),
            Interpolate { size, .. } => put(Sink::InterpolateSize, size),
            Split { size, .. } => put(Sink::SplitSize, size),
            Narrow { start, len, .. } => {
                put(Sink::NarrowBound, start);
                put(Sink::NarrowBound, len)
            }
            Slice { start, end, .. } => {
                put(Sink::SliceBound, start);
                put(Sink::SliceBound, end)
            }
            IndexSelect { len, .. } => put(Sink::IndexLen, len),
            AppendValue { value, .. } => put(Sink::PadValue, &SizeArg::Value(*value)),
            Expand { size, .. } => put(Sink::ExpandSize, size),
            Arange { end, step } => {
                put(Sink::ArangeEnd, end);
                if let Some(s) = step {
                    put(Sink::ArangeStep, s)
                }
            }
            Full { shape, fill } => {
                shape.iter().for_each(|a| put(Sink::FactoryShape, a));
                put(Sink::FillValue, fill)
            }
            Zeros { shape } | Ones { shape } => {
                shape.iter().for_each(|a| put(Sink::FactoryShape, a))
            }
            Eye { n } => put(Sink::FactoryShape, n),
            Linspace { steps } => put(Sink::LinspaceSteps, steps),
            OneHot { classes, .. } => put(Sink::OneHotClasses, classes),
            ToTensor { s, .. } => put(Sink::TensorData, &SizeArg::Value(*s)),
            Compare { a, .. } => put(Sink::IfCondition, &SizeArg::Value(*a)),
            Loop { count, .. } => put(Sink::LoopCount, &SizeArg::Value(*count)),
            _ => {}
        }
        out
    }

    pub fn family(&self) -> Family {
        use Op::*;
        match self {
            Unary { .. }
            | Binary { .. }
            | ScalarArith { .. }
            | Clamp { .. }
            | MaskedFill { .. } => Family::Elementwise,
            Reduce { .. } | MaxAll { .. } | Cumsum { .. } | Topk { .. } => Family::Reduction,
            Matmul { .. } => Family::Matmul,
            Reshape { .. }
            | Flatten { .. }
            | Unflatten { .. }
            | Permute { .. }
            | Transpose { .. }
            | Squeeze { .. }
            | Unsqueeze { .. }
            | Interpolate { .. } => Family::Shape,
            Cat { .. }
            | Stack { .. }
            | Split { .. }
            | Chunk { .. }
            | Narrow { .. }
            | Slice { .. }
            | IndexSelect { .. }
            | Gather { .. } => Family::Join,
            Pad { .. } | AppendValue { .. } => Family::Pad,
            Expand { .. } | Repeat { .. } | ExpandAs { .. } => Family::Expand,
            Arange { .. }
            | Full { .. }
            | Zeros { .. }
            | Ones { .. }
            | Eye { .. }
            | Linspace { .. }
            | OneHot { .. }
            | Tril { .. } => Family::Factory,
            Size { .. }
            | Numel { .. }
            | IntArith { .. }
            | IntMax { .. }
            | TrueDiv { .. }
            | ToFloat { .. }
            | Sqrt { .. }
            | Round { .. }
            | ToTensor { .. } => Family::Channel,
            Compare { .. } | If { .. } | Loop { .. } => Family::Control,
            Item { .. }
            | ToList { .. }
            | Nonzero { .. }
            | MaskedSelect { .. }
            | Unique { .. }
            | RepeatInterleave { .. } => Family::DataDependent,
        }
    }

    /// A short, stable name of what this op is, including the spelling-independent function
    /// (`unary.relu`, `int.floordiv`) but not the spelling. Used in signatures and coverage.
    pub fn kind(&self) -> String {
        use Op::*;
        match self {
            Unary { f, .. } => format!("unary.{}", f.name()),
            Binary { f, .. } => format!("binary.{}", f.name()),
            ScalarArith { f, .. } => format!("scalar.{}", f.name()),
            Reduce { f, .. } => format!("reduce.{}", f.name()),
            IntArith { f, .. } => format!("int.{}", f.name()),
            Round { f, .. } => format!("round.{}", f.name()),
            other => other.tag().to_string(),
        }
    }

    /// The kind including the spelling, for ops that have several spellings.
    pub fn spelled_kind(&self) -> String {
        match self.spelling_name() {
            Some(s) => format!("{}:{s}", self.kind()),
            None => self.kind(),
        }
    }

    pub fn spelling_name(&self) -> Option<&'static str> {
        match self {
            Op::AppendValue { spelling, .. } => Some(spelling.name()),
            Op::Size { spelling, .. } => Some(spelling.name()),
            Op::ToTensor { spelling, .. } => Some(spelling.name()),
            Op::IntMax { spelling, .. } => Some(spelling.name()),
            Op::Reshape { spelling, .. } => Some(spelling.name()),
            _ => None,
        }
    }

    /// The same semantics under every other spelling this op has.
    pub fn respellings(&self) -> Vec<Op> {
        fn others<T: Copy + PartialEq>(all: &[T], cur: T) -> impl Iterator<Item = T> + '_ {
            all.iter().copied().filter(move |s| *s != cur)
        }
        match *self {
            Op::AppendValue { x, value, spelling } => others(AppendSpelling::ALL, spelling)
                .map(|spelling| Op::AppendValue { x, value, spelling })
                .collect(),
            Op::Size { x, dim, spelling } => others(SizeSpelling::ALL, spelling)
                .filter(|s| *s != SizeSpelling::Len || dim == 0)
                .map(|spelling| Op::Size { x, dim, spelling })
                .collect(),
            // `new_tensor` hangs off a tensor; without one it has no spelling to switch to.
            Op::ToTensor { s, spelling, like } => others(TensorSpelling::ALL, spelling)
                .filter_map(|spelling| match (spelling, like) {
                    (TensorSpelling::NewTensor, None) => None,
                    (TensorSpelling::NewTensor, l) => Some(Op::ToTensor {
                        s,
                        spelling,
                        like: l,
                    }),
                    _ => Some(Op::ToTensor {
                        s,
                        spelling,
                        like: None,
                    }),
                })
                .collect(),
            Op::IntMax { a, k, spelling } => others(MaxSpelling::ALL, spelling)
                .map(|spelling| Op::IntMax { a, k, spelling })
                .collect(),
            Op::Reshape {
                x,
                ref shape,
                spelling,
            } => others(ReshapeSpelling::ALL, spelling)
                .map(|spelling| Op::Reshape {
                    x,
                    shape: shape.clone(),
                    spelling,
                })
                .collect(),
            _ => vec![],
        }
    }

    /// The serde tag of the variant.
    pub fn tag(&self) -> &'static str {
        use Op::*;
        match self {
            Unary { .. } => "unary",
            Binary { .. } => "binary",
            ScalarArith { .. } => "scalar_arith",
            Clamp { .. } => "clamp",
            MaskedFill { .. } => "masked_fill",
            Reduce { .. } => "reduce",
            MaxAll { .. } => "max_all",
            Cumsum { .. } => "cumsum",
            Topk { .. } => "topk",
            Matmul { .. } => "matmul",
            Reshape { .. } => "reshape",
            Flatten { .. } => "flatten",
            Unflatten { .. } => "unflatten",
            Permute { .. } => "permute",
            Transpose { .. } => "transpose",
            Squeeze { .. } => "squeeze",
            Unsqueeze { .. } => "unsqueeze",
            Interpolate { .. } => "interpolate",
            Cat { .. } => "cat",
            Stack { .. } => "stack",
            Split { .. } => "split",
            Chunk { .. } => "chunk",
            Narrow { .. } => "narrow",
            Slice { .. } => "slice",
            IndexSelect { .. } => "index_select",
            Gather { .. } => "gather",
            Pad { .. } => "pad",
            AppendValue { .. } => "append_value",
            Expand { .. } => "expand",
            Repeat { .. } => "repeat",
            ExpandAs { .. } => "expand_as",
            Arange { .. } => "arange",
            Full { .. } => "full",
            Zeros { .. } => "zeros",
            Ones { .. } => "ones",
            Eye { .. } => "eye",
            Linspace { .. } => "linspace",
            OneHot { .. } => "one_hot",
            Tril { .. } => "tril",
            Size { .. } => "size",
            Numel { .. } => "numel",
            IntArith { .. } => "int_arith",
            IntMax { .. } => "int_max",
            TrueDiv { .. } => "true_div",
            ToFloat { .. } => "to_float",
            Sqrt { .. } => "sqrt",
            Round { .. } => "round",
            ToTensor { .. } => "to_tensor",
            Compare { .. } => "compare",
            If { .. } => "if",
            Loop { .. } => "loop",
            Item { .. } => "item",
            ToList { .. } => "tolist",
            Nonzero { .. } => "nonzero",
            MaskedSelect { .. } => "masked_select",
            Unique { .. } => "unique",
            RepeatInterleave { .. } => "repeat_interleave",
        }
    }

    /// The shape rule: the result type, or why the op is not valid here.
    pub fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let ty = self.infer_inner(cx)?;
        if let Type::Tensor(t) = &ty {
            if t.rank() > MAX_RANK {
                bail!("rank {} > {MAX_RANK}", t.rank());
            }
            for d in &t.shape {
                cx.all(d, "size", |x| x >= 0)?;
            }
            let numel = product(&t.shape);
            if !numel.has_data() {
                cx.all(&numel, "numel", |x| x <= MAX_NUMEL)?;
            }
        }
        Ok(ty)
    }

    fn infer_inner(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        use Op::*;
        Ok(match self {
            Unary { x, f } => {
                let t = cx.tensor(*x)?;
                if !unary_ok(*f, t.dtype) {
                    bail!("{} on {:?}", f.name(), t.dtype);
                }
                let (lo, hi) = unary_bounds(*f, &t);
                Type::Tensor(TensorType { lo, hi, ..t })
            }
            Binary { a, b, f } => {
                let (ta, tb) = (cx.tensor(*a)?, cx.tensor(*b)?);
                if ta.dtype != tb.dtype || ta.dtype == DType::Bool {
                    bail!("binary on {:?} and {:?}", ta.dtype, tb.dtype);
                }
                let shape = broadcast(&ta.shape, &tb.shape)?;
                let nonneg = |t: &TensorType| t.lo.is_some_and(|l| l >= 0);
                let lo = match f {
                    BinaryFn::Add | BinaryFn::Mul if nonneg(&ta) && nonneg(&tb) => Some(0),
                    BinaryFn::Maximum if nonneg(&ta) || nonneg(&tb) => Some(0),
                    _ => None,
                };
                Type::Tensor(TensorType {
                    dtype: ta.dtype,
                    shape,
                    lo,
                    hi: None,
                })
            }
            ScalarArith { x, s, f: _ } => {
                let t = cx.tensor(*x)?;
                let (s_lo, is_float) = match cx.ty(*s)? {
                    Type::Int(e) => (e.lower_bound(), false),
                    Type::Float(e) => (e.lower_bound().map(|v| v.floor() as i64), true),
                    other => bail!("scalar operand {other:?}"),
                };
                if t.dtype == DType::Bool || (is_float && t.dtype != DType::F32) {
                    bail!("scalar arith dtype");
                }
                let lo = match (t.lo, s_lo) {
                    (Some(a), Some(b)) if a >= 0 && b >= 0 => Some(0),
                    _ => None,
                };
                Type::Tensor(TensorType { lo, hi: None, ..t })
            }
            Clamp { x, min, max } => {
                let t = cx.tensor(*x)?;
                let lo = self.scalar_lower(cx, *min, t.dtype)?;
                if let Some(m) = max {
                    self.scalar_lower(cx, *m, t.dtype)?;
                }
                Type::Tensor(TensorType { lo, hi: None, ..t })
            }
            MaskedFill { x, value } => {
                let t = cx.tensor(*x)?;
                let vlo = self.scalar_lower(cx, *value, t.dtype)?;
                let lo = match (t.lo, vlo) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    _ => None,
                };
                Type::Tensor(TensorType { lo, hi: None, ..t })
            }
            Reduce { x, f, dim, keepdim } => {
                let t = cx.tensor(*x)?;
                let d = cx.dim(&t, *dim)?;
                if t.dtype == DType::Bool || (*f == ReduceFn::Mean && t.dtype != DType::F32) {
                    bail!("reduce dtype");
                }
                if *f != ReduceFn::Sum {
                    cx.all(&t.shape[d], "reduced dim", |x| x >= 1)?;
                }
                let mut shape = t.shape.clone();
                if *keepdim {
                    shape[d] = DimExpr::Const(1);
                } else {
                    shape.remove(d);
                }
                let lo = if t.lo.is_some_and(|l| l >= 0) {
                    Some(0)
                } else {
                    None
                };
                Type::Tensor(TensorType {
                    dtype: t.dtype,
                    shape,
                    lo,
                    hi: None,
                })
            }
            MaxAll { x } => {
                let t = cx.tensor(*x)?;
                if t.dtype == DType::Bool {
                    bail!("max of bool");
                }
                for d in &t.shape {
                    cx.all(d, "max over empty", |x| x >= 1)?;
                }
                Type::Tensor(t.with_shape(vec![]))
            }
            Cumsum { x, dim } => {
                let t = cx.tensor(*x)?;
                cx.dim(&t, *dim)?;
                if t.dtype == DType::Bool {
                    bail!("cumsum of bool");
                }
                let lo = if t.lo.is_some_and(|l| l >= 0) {
                    Some(0)
                } else {
                    None
                };
                Type::Tensor(TensorType { lo, hi: None, ..t })
            }
            Topk { x, k, dim } => {
                let t = cx.tensor(*x)?;
                let d = cx.dim(&t, *dim)?;
                if t.dtype != DType::F32 {
                    bail!("topk dtype");
                }
                let k = cx.size(*k)?;
                cx.all(&k, "topk k", |x| x >= 0)?;
                cx.all2(&k, &t.shape[d], "topk k <= size", |a, b| a <= b)?;
                let mut shape = t.shape.clone();
                shape[d] = k;
                Type::Tensor(t.with_shape(shape))
            }
            Matmul { a, b } => {
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
                Type::Tensor(TensorType::unbounded(DType::F32, shape))
            }
            Reshape { x, shape, .. } => {
                let t = cx.tensor(*x)?;
                let infers = shape.iter().filter(|a| **a == ReshapeArg::Infer).count();
                if infers > 1 || shape.is_empty() {
                    bail!("reshape needs at most one -1");
                }
                let mut explicit = vec![];
                for a in shape {
                    if let ReshapeArg::Size(s) = a {
                        let e = cx.size(*s)?;
                        cx.all(&e, "reshape size", |x| x >= 1)?;
                        explicit.push(e);
                    }
                }
                let inferred = divide_exact(&t.shape, &explicit);
                let mut out = vec![];
                let mut explicit_iter = explicit.iter();
                for a in shape {
                    out.push(match a {
                        ReshapeArg::Infer => match &inferred {
                            Some(e) => e.clone(),
                            None => bail!("cannot infer the -1 of reshape symbolically"),
                        },
                        ReshapeArg::Size(_) => explicit_iter.next().unwrap().clone(),
                    });
                }
                // Symbolically equal products hold at every valuation; otherwise check each.
                if divide_exact(&t.shape, &out) != Some(DimExpr::Const(1)) {
                    cx.all2(
                        &product(&t.shape),
                        &product(&out),
                        "reshape numel",
                        |a, b| a == b,
                    )?;
                }
                Type::Tensor(t.with_shape(out))
            }
            Flatten { x, start, end } => {
                let t = cx.tensor(*x)?;
                let (s, e) = (*start as usize, *end as usize);
                if s > e || e >= t.rank().max(1) {
                    bail!("flatten range");
                }
                if t.rank() == 0 {
                    Type::Tensor(t.with_shape(vec![DimExpr::Const(1)]))
                } else {
                    let mut shape = t.shape[..s].to_vec();
                    shape.push(product(&t.shape[s..=e]));
                    shape.extend_from_slice(&t.shape[e + 1..]);
                    Type::Tensor(t.with_shape(shape))
                }
            }
            Unflatten { x, dim, outer } => {
                let t = cx.tensor(*x)?;
                let d = cx.dim(&t, *dim)?;
                let o = cx.size(*outer)?;
                cx.all(&o, "unflatten size", |x| x >= 1)?;
                let Some(inner) =
                    divide_exact(std::slice::from_ref(&t.shape[d]), std::slice::from_ref(&o))
                else {
                    bail!("{} does not divide {}", o, t.shape[d]);
                };
                let mut shape = t.shape.clone();
                shape[d] = inner;
                shape.insert(d, o);
                Type::Tensor(t.with_shape(shape))
            }
            Permute { x, perm } => {
                let t = cx.tensor(*x)?;
                let mut seen = perm.clone();
                seen.sort();
                if seen != (0..t.rank() as u8).collect::<Vec<_>>() {
                    bail!("bad permutation");
                }
                Type::Tensor(
                    t.with_shape(perm.iter().map(|&p| t.shape[p as usize].clone()).collect()),
                )
            }
            Transpose { x, d0, d1 } => {
                let t = cx.tensor(*x)?;
                let (a, b) = (cx.dim(&t, *d0)?, cx.dim(&t, *d1)?);
                let mut shape = t.shape.clone();
                shape.swap(a, b);
                Type::Tensor(t.with_shape(shape))
            }
            Squeeze { x, dim } => {
                let t = cx.tensor(*x)?;
                let d = cx.dim(&t, *dim)?;
                if t.shape[d] != DimExpr::Const(1) {
                    bail!("squeeze of a dim that is not 1");
                }
                let mut shape = t.shape.clone();
                shape.remove(d);
                Type::Tensor(t.with_shape(shape))
            }
            Unsqueeze { x, dim } => {
                let t = cx.tensor(*x)?;
                if *dim as usize > t.rank() {
                    bail!("unsqueeze dim");
                }
                let mut shape = t.shape.clone();
                shape.insert(*dim as usize, DimExpr::Const(1));
                Type::Tensor(t.with_shape(shape))
            }
            Interpolate { x, size } => {
                let t = cx.tensor(*x)?;
                if t.rank() != 3 || t.dtype != DType::F32 {
                    bail!("interpolate wants a 3-d float tensor");
                }
                for d in &t.shape {
                    cx.all(d, "interpolate input", |x| x >= 1)?;
                }
                let s = cx.size(*size)?;
                cx.all(&s, "interpolate size", |x| x >= 1)?;
                Type::Tensor(TensorType::unbounded(
                    DType::F32,
                    vec![t.shape[0].clone(), t.shape[1].clone(), s],
                ))
            }
            Cat { xs, dim } => {
                if xs.len() < 2 {
                    bail!("cat of fewer than two");
                }
                let ts = xs
                    .iter()
                    .map(|x| cx.tensor(*x))
                    .collect::<Result<Vec<_>, _>>()?;
                let d = cx.dim(&ts[0], *dim)?;
                let mut total = ts[0].shape[d].clone();
                for t in &ts[1..] {
                    if t.dtype != ts[0].dtype || t.rank() != ts[0].rank() {
                        bail!("cat dtype or rank");
                    }
                    for i in 0..t.rank() {
                        if i != d && t.shape[i] != ts[0].shape[i] {
                            bail!("cat dim {i}: {} vs {}", t.shape[i], ts[0].shape[i]);
                        }
                    }
                    total = DimExpr::add(total, t.shape[d].clone());
                }
                let mut shape = ts[0].shape.clone();
                shape[d] = total;
                let lo = ts
                    .iter()
                    .map(|t| t.lo)
                    .reduce(|a, b| a.zip(b).map(|(x, y)| x.min(y)))
                    .flatten();
                let hi = ts
                    .iter()
                    .map(|t| t.hi)
                    .reduce(|a, b| a.zip(b).map(|(x, y)| x.max(y)))
                    .flatten();
                Type::Tensor(TensorType {
                    dtype: ts[0].dtype,
                    shape,
                    lo,
                    hi,
                })
            }
            Stack { xs, dim } => {
                if xs.len() < 2 {
                    bail!("stack of fewer than two");
                }
                let ts = xs
                    .iter()
                    .map(|x| cx.tensor(*x))
                    .collect::<Result<Vec<_>, _>>()?;
                if *dim as usize > ts[0].rank() {
                    bail!("stack dim");
                }
                for t in &ts[1..] {
                    if t.dtype != ts[0].dtype || t.shape != ts[0].shape {
                        bail!("stack shapes differ");
                    }
                }
                let mut shape = ts[0].shape.clone();
                shape.insert(*dim as usize, DimExpr::Const(xs.len() as i64));
                Type::Tensor(TensorType {
                    dtype: ts[0].dtype,
                    shape,
                    lo: None,
                    hi: None,
                })
            }
            Split { x, size, dim } => {
                let t = cx.tensor(*x)?;
                let d = cx.dim(&t, *dim)?;
                let s = cx.size(*size)?;
                cx.all(&s, "split size", |x| x >= 1)?;
                let mut shape = t.shape.clone();
                shape[d] = DimExpr::min(s, t.shape[d].clone());
                Type::Tensor(t.with_shape(shape))
            }
            Chunk { x, chunks, dim } => {
                let t = cx.tensor(*x)?;
                let d = cx.dim(&t, *dim)?;
                let c = *chunks as i64;
                if c < 1 {
                    bail!("chunk count");
                }
                cx.all(&t.shape[d], "chunked dim", |x| x >= 1)?;
                let mut shape = t.shape.clone();
                shape[d] =
                    DimExpr::floor_div(DimExpr::add(t.shape[d].clone(), DimExpr::Const(c - 1)), c);
                Type::Tensor(t.with_shape(shape))
            }
            Narrow { x, dim, start, len } => {
                let t = cx.tensor(*x)?;
                let d = cx.dim(&t, *dim)?;
                let (s, l) = (cx.size(*start)?, cx.size(*len)?);
                cx.all(&s, "narrow start", |x| x >= 0)?;
                cx.all(&l, "narrow length", |x| x >= 0)?;
                let end = DimExpr::add(s, l.clone());
                cx.all2(&end, &t.shape[d], "narrow end", |a, b| a <= b)?;
                let mut shape = t.shape.clone();
                shape[d] = l;
                Type::Tensor(t.with_shape(shape))
            }
            Slice { x, dim, start, end } => {
                let t = cx.tensor(*x)?;
                let d = cx.dim(&t, *dim)?;
                let (s, e) = (cx.size(*start)?, cx.size(*end)?);
                cx.all(&s, "slice start", |x| x >= 0)?;
                let stop = DimExpr::min(e, t.shape[d].clone());
                cx.all2(&s, &stop, "slice start <= stop", |a, b| a <= b)?;
                let mut shape = t.shape.clone();
                shape[d] = DimExpr::sub(stop, s);
                Type::Tensor(t.with_shape(shape))
            }
            IndexSelect { x, dim, len } => {
                let t = cx.tensor(*x)?;
                let d = cx.dim(&t, *dim)?;
                let l = cx.size(*len)?;
                cx.all(&l, "index count", |x| x >= 0)?;
                cx.all2(&l, &t.shape[d], "index < size", |a, b| a <= b)?;
                let mut shape = t.shape.clone();
                shape[d] = l;
                Type::Tensor(t.with_shape(shape))
            }
            Gather { x, dim } => {
                let t = cx.tensor(*x)?;
                let d = cx.dim(&t, *dim)?;
                cx.all(&t.shape[d], "gather dim", |x| x >= 1)?;
                Type::Tensor(t)
            }
            Pad { x, before, after } => {
                let t = cx.tensor(*x)?;
                if t.rank() == 0 || t.dtype == DType::Bool {
                    bail!("pad needs rank >= 1");
                }
                let mut shape = t.shape.clone();
                let last = shape.last_mut().unwrap();
                *last = DimExpr::add(last.clone(), DimExpr::Const(*before as i64 + *after as i64));
                let lo = t.lo.map(|l| l.min(0));
                let hi = t.hi.map(|h| h.max(0));
                Type::Tensor(TensorType {
                    lo,
                    hi,
                    ..t.with_shape(shape)
                })
            }
            AppendValue { x, value, .. } => {
                let t = cx.tensor(*x)?;
                let n = cx.int(*value)?;
                if t.rank() != 1 || t.dtype == DType::Bool {
                    bail!("append_value wants a 1-d tensor");
                }
                let lo = t.lo.zip(n.lower_bound()).map(|(a, b)| a.min(b));
                let shape = vec![DimExpr::add(t.shape[0].clone(), DimExpr::Const(1))];
                Type::Tensor(TensorType {
                    dtype: t.dtype,
                    shape,
                    lo,
                    hi: None,
                })
            }
            Expand { x, dim, size } => {
                let t = cx.tensor(*x)?;
                let d = cx.dim(&t, *dim)?;
                if t.shape[d] != DimExpr::Const(1) {
                    bail!("expand of a dim that is not 1");
                }
                let s = cx.size(*size)?;
                cx.all(&s, "expand size", |x| x >= 0)?;
                let mut shape = t.shape.clone();
                shape[d] = s;
                Type::Tensor(t.with_shape(shape))
            }
            Repeat { x, reps } => {
                let t = cx.tensor(*x)?;
                if reps.len() != t.rank() || reps.contains(&0) {
                    bail!("repeat counts");
                }
                let shape = t
                    .shape
                    .iter()
                    .zip(reps)
                    .map(|(d, &r)| DimExpr::mul(DimExpr::Const(r as i64), d.clone()))
                    .collect();
                Type::Tensor(t.with_shape(shape))
            }
            ExpandAs { x, other } => {
                let (t, o) = (cx.tensor(*x)?, cx.tensor(*other)?);
                if t.rank() > o.rank() {
                    bail!("expand_as rank");
                }
                let shape = broadcast(&t.shape, &o.shape)?;
                if shape != o.shape {
                    bail!("expand_as cannot reach the target");
                }
                Type::Tensor(t.with_shape(shape))
            }
            Arange { end, step } => {
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
                Type::Tensor(TensorType {
                    dtype: DType::I64,
                    shape: vec![len],
                    lo: Some(0),
                    hi: None,
                })
            }
            Full { shape, fill } => {
                let dims = self.factory_shape(cx, shape)?;
                let (dtype, lo) = match fill {
                    SizeArg::Const(c) => (DType::I64, Some(*c)),
                    SizeArg::Value(v) => match cx.ty(*v)? {
                        Type::Int(e) => (DType::I64, e.lower_bound()),
                        Type::Float(e) => (DType::F32, e.lower_bound().map(|x| x.floor() as i64)),
                        other => bail!("fill value {other:?}"),
                    },
                };
                Type::Tensor(TensorType {
                    dtype,
                    shape: dims,
                    lo,
                    hi: None,
                })
            }
            Zeros { shape } => {
                let dims = self.factory_shape(cx, shape)?;
                Type::Tensor(TensorType {
                    dtype: DType::F32,
                    shape: dims,
                    lo: Some(0),
                    hi: Some(0),
                })
            }
            Ones { shape } => {
                let dims = self.factory_shape(cx, shape)?;
                Type::Tensor(TensorType {
                    dtype: DType::F32,
                    shape: dims,
                    lo: Some(1),
                    hi: Some(1),
                })
            }
            Eye { n } => {
                let n = cx.size(*n)?;
                cx.all(&n, "eye size", |x| x >= 0)?;
                Type::Tensor(TensorType {
                    dtype: DType::F32,
                    shape: vec![n.clone(), n],
                    lo: Some(0),
                    hi: Some(1),
                })
            }
            Linspace { steps } => {
                let s = cx.size(*steps)?;
                cx.all(&s, "linspace steps", |x| x >= 0)?;
                Type::Tensor(TensorType {
                    dtype: DType::F32,
                    shape: vec![s],
                    lo: Some(0),
                    hi: Some(1),
                })
            }
            OneHot { x, classes } => {
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
                Type::Tensor(TensorType {
                    dtype: DType::I64,
                    shape,
                    lo: Some(0),
                    hi: Some(1),
                })
            }
            Tril { x } => {
                let t = cx.tensor(*x)?;
                if t.rank() < 2 {
                    bail!("tril rank");
                }
                let lo = t.lo.map(|l| l.min(0));
                let hi = t.hi.map(|h| h.max(0));
                Type::Tensor(TensorType { lo, hi, ..t })
            }
            Size { x, dim, spelling } => {
                let t = cx.tensor(*x)?;
                let d = cx.dim(&t, *dim)?;
                if *spelling == SizeSpelling::Len && d != 0 {
                    bail!("len() reads dim 0 only");
                }
                Type::Int(t.shape[d].clone())
            }
            Numel { x } => Type::Int(product(&cx.tensor(*x)?.shape)),
            IntArith { a, f, k } => {
                let e = cx.int(*a)?;
                Type::Int(match f {
                    IntFn::Add => DimExpr::add(e, DimExpr::Const(*k)),
                    IntFn::Sub => DimExpr::sub(e, DimExpr::Const(*k)),
                    IntFn::Mul => DimExpr::mul(DimExpr::Const(*k), e),
                    IntFn::FloorDiv | IntFn::Mod if *k < 1 => bail!("division by {k}"),
                    IntFn::FloorDiv => DimExpr::floor_div(e, *k),
                    IntFn::Mod => DimExpr::modulo(e, *k),
                })
            }
            IntMax { a, k, .. } => Type::Int(DimExpr::max(cx.int(*a)?, DimExpr::Const(*k))),
            TrueDiv { a, k } => {
                if *k < 1 {
                    bail!("division by {k}");
                }
                Type::Float(FloatExpr::Div(cx.int(*a)?, *k))
            }
            ToFloat { a } => Type::Float(FloatExpr::Of(cx.int(*a)?)),
            Sqrt { a } => {
                let e = cx.int(*a)?;
                cx.all(&e, "sqrt of negative", |x| x >= 0)?;
                Type::Float(FloatExpr::Sqrt(e))
            }
            Round { a, f } => {
                let Type::Float(fe) = cx.ty(*a)? else {
                    bail!("round of a non-float")
                };
                match (fe, f) {
                    (FloatExpr::Of(e), _) => Type::Int(e),
                    (FloatExpr::Div(e, k), RoundFn::Int | RoundFn::Floor) => {
                        // int() truncates, floor() floors: the same only when e >= 0.
                        cx.all(&e, "int() of a negative quotient", |x| x >= 0)?;
                        Type::Int(DimExpr::floor_div(e, k))
                    }
                    (FloatExpr::Div(e, k), RoundFn::Ceil) => {
                        cx.all(&e, "ceil of a negative quotient", |x| x >= 0)?;
                        Type::Int(DimExpr::floor_div(
                            DimExpr::add(e, DimExpr::Const(k - 1)),
                            k,
                        ))
                    }
                    (FloatExpr::Sqrt(_), _) => bail!("rounding a square root is not modelled"),
                }
            }
            ToTensor { s, spelling, like } => {
                let (dtype, lo) = match cx.ty(*s)? {
                    Type::Int(e) => (DType::I64, e.lower_bound()),
                    Type::Float(e) => (DType::F32, e.lower_bound().map(|x| x.floor() as i64)),
                    other => bail!("to_tensor of {other:?}"),
                };
                let (dtype, shape) = match (spelling, like) {
                    (TensorSpelling::NewTensor, Some(l)) => {
                        (cx.tensor(*l)?.dtype, vec![DimExpr::Const(1)])
                    }
                    (TensorSpelling::NewTensor, None) => bail!("new_tensor needs a tensor"),
                    (_, Some(_)) => bail!("only new_tensor takes a tensor"),
                    (TensorSpelling::TensorList, None) => (dtype, vec![DimExpr::Const(1)]),
                    (_, None) => (dtype, vec![]),
                };
                if dtype == DType::Bool {
                    bail!("new_tensor on bool");
                }
                Type::Tensor(TensorType {
                    dtype,
                    shape,
                    lo,
                    hi: None,
                })
            }
            Compare { a, .. } => {
                cx.int(*a)?;
                Type::Bool
            }
            If {
                cond,
                x,
                then_f,
                else_f,
            } => {
                if cx.ty(*cond)? != Type::Bool {
                    bail!("if on a non-bool");
                }
                let t = cx.tensor(*x)?;
                if !unary_ok(*then_f, t.dtype) || !unary_ok(*else_f, t.dtype) {
                    bail!("if branches dtype");
                }
                Type::Tensor(TensorType {
                    lo: None,
                    hi: None,
                    ..t
                })
            }
            Loop { count, x } => {
                let n = cx.int(*count)?;
                cx.all(&n, "loop count", |x| (0..=MAX_LOOP).contains(&x))?;
                let t = cx.tensor(*x)?;
                if t.dtype == DType::Bool {
                    bail!("loop on bool");
                }
                let lo = t.lo.filter(|l| *l >= 0);
                Type::Tensor(TensorType { lo, hi: None, ..t })
            }
            Item { x } => {
                let t = cx.tensor(*x)?;
                if t.dtype != DType::I64 || !nonneg(&t) {
                    bail!("item wants a non-negative int64 tensor");
                }
                for d in &t.shape {
                    if *d != DimExpr::Const(1) {
                        bail!("item of a tensor with more than one element");
                    }
                }
                Type::Int(DimExpr::Data(cx.node))
            }
            ToList { x, index } => {
                let t = cx.tensor(*x)?;
                if t.dtype != DType::I64 || t.rank() != 1 || !nonneg(&t) {
                    bail!("tolist wants a non-negative 1-d int64 tensor");
                }
                cx.all(&t.shape[0], "tolist index", |x| x > *index as i64)?;
                // Export makes one symbol per element: a long list is a slow case, not a
                // finding (the same bound as a Python loop).
                cx.all(&t.shape[0], "tolist length", |x| x <= MAX_LOOP)?;
                Type::Int(DimExpr::Data(cx.node))
            }
            Nonzero { x } => {
                let t = cx.tensor(*x)?;
                if t.rank() == 0 {
                    bail!("nonzero of a scalar");
                }
                Type::Tensor(TensorType {
                    dtype: DType::I64,
                    shape: vec![DimExpr::Data(cx.node), DimExpr::Const(t.rank() as i64)],
                    lo: Some(0),
                    hi: None,
                })
            }
            MaskedSelect { x } => {
                let t = cx.tensor(*x)?;
                if t.dtype == DType::Bool {
                    bail!("masked_select of bool");
                }
                Type::Tensor(TensorType {
                    dtype: t.dtype,
                    shape: vec![DimExpr::Data(cx.node)],
                    lo: Some(0),
                    hi: t.hi,
                })
            }
            Unique { x } => {
                let t = cx.tensor(*x)?;
                if t.dtype != DType::I64 {
                    bail!("unique of non-int");
                }
                Type::Tensor(TensorType {
                    dtype: DType::I64,
                    shape: vec![DimExpr::Data(cx.node)],
                    lo: t.lo,
                    hi: t.hi,
                })
            }
            RepeatInterleave { x } => {
                let t = cx.tensor(*x)?;
                if t.dtype != DType::I64 || t.rank() != 1 || !nonneg(&t) {
                    bail!("repeat_interleave wants non-negative 1-d int64 counts");
                }
                let hi = match &t.shape[0] {
                    DimExpr::Const(c) => Some(c - 1),
                    _ => None,
                };
                Type::Tensor(TensorType {
                    dtype: DType::I64,
                    shape: vec![DimExpr::Data(cx.node)],
                    lo: Some(0),
                    hi,
                })
            }
        })
    }

    fn factory_shape(&self, cx: &InferCtx, shape: &[SizeArg]) -> Result<Vec<DimExpr>, Invalid> {
        if shape.is_empty() {
            bail!("factory with no dims");
        }
        shape
            .iter()
            .map(|a| {
                let e = cx.size(*a)?;
                cx.all(&e, "factory size", |x| x >= 0)?;
                Ok(e)
            })
            .collect()
    }

    /// Checks a scalar operand for a tensor of `dtype` and returns its lower bound.
    fn scalar_lower(
        &self,
        cx: &InferCtx,
        a: ScalarArg,
        dtype: DType,
    ) -> Result<Option<i64>, Invalid> {
        if dtype == DType::Bool {
            bail!("scalar op on bool");
        }
        Ok(match a {
            SizeArg::Const(c) => Some(c),
            SizeArg::Value(v) => match cx.ty(v)? {
                Type::Int(e) => e.lower_bound(),
                Type::Float(e) if dtype == DType::F32 => e.lower_bound().map(|x| x.floor() as i64),
                other => bail!("scalar operand {other:?} for {dtype:?}"),
            },
        })
    }
}

impl ValueRef {
    pub fn index(self) -> u32 {
        match self {
            ValueRef::Input(i) | ValueRef::Node(i) => i,
        }
    }
}

impl fmt::Display for ValueRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueRef::Input(i) => write!(f, "input {i}"),
            ValueRef::Node(n) => write!(f, "v{n}"),
        }
    }
}
