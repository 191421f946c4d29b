//! The op set: every operation a model may contain, declared once.
//!
//! Each op is a struct in the module of its family (`elementwise.rs`, `join.rs`, ...) made
//! with `op_struct!`, which derives its operands and the sinks its size-derived arguments
//! feed from the field declarations, and an `OpDef` impl with its shape rule (`infer`), its
//! Python spelling (`render`) and, where it has them, its spellings and the Python decisions
//! it makes. `op_table!` below lists every op once, with its serde tag and family; `Op`, its
//! tag, family and dispatch are generated from that list. Adding an op is its struct, its
//! impl and one row of the table (and a row in the generator's builder table); the compiler
//! and `tests/generator_meta.rs` catch a missing piece.
//!
//! `Op::infer` is the single source of truth for what an op accepts and produces. It reasons
//! symbolically (structural `DimExpr` equality for broadcasting and concatenation) and checks
//! every numeric condition at each valuation it is given, so an op that infers at a set of
//! valuations is accepted by eager PyTorch at all of them.

use super::expr::{BoolExpr, CmpFn, DimExpr, FloatExpr, Valuation};
use super::region::{DecisionCx, DecisionExpr, DecisionKind, folded_arm};
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
    /// The same tensor with its value bounds widened to hold 0 (padding, masking).
    fn with_zero(self) -> TensorType {
        TensorType {
            lo: self.lo.map(|l| l.min(0)),
            hi: self.hi.map(|h| h.max(0)),
            ..self
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
    /// A Python bool computed from sizes.
    Bool(BoolExpr),
    /// A list of Python ints (only an input is one; the model reads its elements).
    IntList(Vec<DimExpr>),
}

impl Type {
    /// Nodes of the expressions the type holds, counting stopped once past `cap`.
    pub fn expr_nodes(&self, cap: usize) -> usize {
        let dims = |ds: &[DimExpr]| {
            ds.iter()
                .try_fold(0usize, |n, d| {
                    let n = n + d.node_count(cap);
                    if n > cap { Err(n) } else { Ok(n) }
                })
                .unwrap_or_else(|n| n)
        };
        match self {
            Type::Tensor(t) => dims(&t.shape),
            Type::Int(e) => e.node_count(cap),
            Type::Float(f) => f.inner().node_count(cap),
            Type::Bool(b) => b.node_count(cap),
            Type::IntList(es) => dims(es),
        }
    }

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
    pub fn boolean(&self) -> Option<&BoolExpr> {
        match self {
            Type::Bool(b) => Some(b),
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
        impl Operands for $name {}
    };
}

simple_enum!(UnaryFn { Relu => "relu", Neg => "neg", Abs => "abs", Exp => "exp", Sigmoid => "sigmoid", Tanh => "tanh", Sin => "sin" });
simple_enum!(BinaryFn { Add => "add", Sub => "sub", Mul => "mul", Maximum => "maximum" });
simple_enum!(ScalarFn { Add => "add", Mul => "mul" });
simple_enum!(ReduceFn { Sum => "sum", Mean => "mean", Amax => "amax" });
simple_enum!(
/// `n <op> k` for a literal `k`. The bit operations take masks and shifts whose result
/// is exact floor division or remainder by a power of two, so the truth stays closed.
IntFn {
    Add => "add", Sub => "sub", Mul => "mul", FloorDiv => "floordiv", Mod => "mod",
    Pow => "pow", Min => "min", RSub => "rsub", Shr => "shr", Shl => "shl",
    BitAnd => "and", BitOr => "or", BitXor => "xor", DivmodQuotient => "divmod0",
    DivmodRemainder => "divmod1", AbsDiff => "absdiff"
});
simple_enum!(
/// Arithmetic between two size-derived ints.
IntBinFn {
    Add => "add", Sub => "sub", Mul => "mul", Min => "min", Max => "max", FloorDiv => "floordiv",
    Mod => "mod", SymMin => "sym_min", SymMax => "sym_max"
});
simple_enum!(BoolFn { And => "and", Or => "or" });
simple_enum!(
    /// How a float becomes an int: `int`, `math.floor`, `math.ceil`, `round` (only where it
    /// cannot tie), `torch.sym_int` and `math.trunc`.
    RoundFn { Int => "int", Floor => "floor", Ceil => "ceil", Round => "round", SymInt => "sym_int", Trunc => "trunc" });
simple_enum!(
    /// How a size becomes a float.
    FloatSpelling { Float => "float", SymFloat => "sym_float" });
simple_enum!(
    /// How the square root of a size is taken.
    SqrtSpelling { MathSqrt => "math_sqrt", PowHalf => "pow_half" });
simple_enum!(
    /// How an int is chosen by a size-derived bool: Python's `a if c else b`, or
    /// `torch.sym_ite(c, a, b)`, which export traces without a guard.
    IteSpelling { IfExpr => "if_expr", SymIte => "sym_ite" });
simple_enum!(
    /// `torch.nn.functional` pooling with a fixed window.
    PoolFn { Avg1d => "avg_pool1d", Max1d => "max_pool1d", Avg2d => "avg_pool2d", Max2d => "max_pool2d" });
simple_enum!(
    /// How a tensor of either of two ranks becomes one of a fixed rank.
    RankErase { Flatten => "flatten", ReshapeInfer => "reshape", Sum => "sum" });
simple_enum!(
    /// `torch.nn.functional` convolution.
    ConvFn { Conv1d => "conv1d", Conv2d => "conv2d" });
simple_enum!(
    /// `torch.nn.functional` adaptive pooling, whose output size is an argument.
    AdaptiveFn { Avg1d => "adaptive_avg_pool1d", Max1d => "adaptive_max_pool1d" });
simple_enum!(
    /// How a whole shape is read: `x.shape` or `x.size()`.
    ShapeSpelling { Attr => "shape", Call => "size" });
simple_enum!(
    /// The constant a shape-taking factory fills with.
    ShapeFill { Zeros => "zeros", Ones => "ones" });
simple_enum!(
    /// Float arithmetic with a literal.
    FloatFn { Mul => "mul", Add => "add", Sub => "sub" });
simple_enum!(
    /// Float literals of the arithmetic: all dyadic, so Python's float arithmetic on sizes is
    /// exact and the truth can stay rational.
    FloatLit { Quarter => "0.25", Half => "0.5", One => "1.0", OneAndHalf => "1.5", Two => "2.0" });

// `simple_enum!` cannot mark a `#[default]` variant.
#[allow(clippy::derivable_impls)]
impl Default for FloatSpelling {
    fn default() -> Self {
        FloatSpelling::Float
    }
}

#[allow(clippy::derivable_impls)]
impl Default for SqrtSpelling {
    fn default() -> Self {
        SqrtSpelling::MathSqrt
    }
}

impl ShapeSpelling {
    /// `x.shape` or `x.size()`.
    pub fn of(self, x: &str) -> String {
        match self {
            ShapeSpelling::Attr => format!("{x}.shape"),
            ShapeSpelling::Call => format!("{x}.size()"),
        }
    }
}

impl ConvFn {
    /// How many trailing dims the kernel slides over.
    pub fn dims(self) -> usize {
        match self {
            ConvFn::Conv1d => 1,
            ConvFn::Conv2d => 2,
        }
    }
}

impl PoolFn {
    /// How many trailing dims the window slides over.
    pub fn dims(self) -> usize {
        match self {
            PoolFn::Avg1d | PoolFn::Max1d => 1,
            PoolFn::Avg2d | PoolFn::Max2d => 2,
        }
    }
}

impl FloatLit {
    /// The literal as `(numerator, denominator)`.
    pub fn ratio(self) -> (i64, i64) {
        match self {
            FloatLit::Quarter => (1, 4),
            FloatLit::Half => (1, 2),
            FloatLit::One => (1, 1),
            FloatLit::OneAndHalf => (3, 2),
            FloatLit::Two => (2, 1),
        }
    }
}
simple_enum!(
    /// How "append a size to a 1-D tensor" is spelled.
    AppendSpelling { Pad => "pad", Cat => "cat" });
simple_enum!(
    /// How a dim's size is read.
    SizeSpelling { ShapeIndex => "shape_index", SizeCall => "size_call", Len => "len", Unpack => "unpack" });
simple_enum!(
    /// How a Python number becomes a tensor.
    TensorSpelling { TensorList => "tensor_list", ScalarTensor => "scalar_tensor", AsTensor => "as_tensor", NewTensor => "new_tensor" });
simple_enum!(MaxSpelling { Builtin => "max_builtin", SymMax => "sym_max" });
simple_enum!(ReshapeSpelling { Reshape => "reshape", View => "view" });

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
    PadWidth,
    TriangleDiagonal,
    KthK,
    HistcBins,
    PoolKernel,
    PoolOutputSize,
    RepeatCount,
    ConvKernel,
    BincountMinlength,
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
        Sink::PadWidth,
        Sink::TriangleDiagonal,
        Sink::KthK,
        Sink::HistcBins,
        Sink::PoolKernel,
        Sink::PoolOutputSize,
        Sink::RepeatCount,
        Sink::ConvKernel,
        Sink::BincountMinlength,
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
/// Limits on what a case file may hold, checked before anything is inferred: a case is
/// data from anywhere, and validating it must take bounded time and memory. Generated
/// cases stay far below them (`tests/generator_meta.rs` measures the largest).
pub const MAX_NODES: usize = 1024;
pub const MAX_INPUTS: usize = 64;
pub const MAX_SYMBOLS: usize = 64;
pub const MAX_PROBES: usize = 256;
/// Most `AdditionalInputs` examples a case holds.
pub const MAX_ADDITIONAL_INPUTS: usize = 8;
/// Nodes times checked valuations: the work of one validation.
pub const MAX_CHECK_WORK: usize = 1 << 14;
/// Nodes of the expressions in one value's type.
pub const MAX_EXPR_NODES: usize = 2048;
/// Expression nodes built and evaluated by one type inference: the sum, over values, of
/// each type's expression nodes times the valuations it is checked at. The limits above
/// bound each factor; this bounds their product (1,024 nodes of 2,048-node expressions at
/// 16 valuations would be 33 million).
pub const MAX_INFER_WORK: usize = 1 << 20;
/// Expression nodes the ground truth evaluates: every symbol is scanned over `2..=SCAN_MAX`
/// with one inference per size, so the case's expression nodes times symbols times 63.
pub const MAX_TRUTH_WORK: usize = 1 << 22;

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
    fn boolean(&self, v: ValueRef) -> Result<BoolExpr, Invalid> {
        match self.ty(v)? {
            Type::Bool(b) => Ok(b),
            other => bail!("{v:?} is {other:?}, expected a bool"),
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

/// The number of elements of a shape.
pub fn product(dims: &[DimExpr]) -> DimExpr {
    dims.iter().cloned().fold(DimExpr::Const(1), DimExpr::mul)
}

/// Splits an expression into a constant and a multiset of non-constant factors.
fn factors(e: &DimExpr, c: &mut Option<i64>, out: &mut Vec<DimExpr>) {
    match e {
        DimExpr::Const(k) => *c = c.and_then(|c| c.checked_mul(*k)),
        DimExpr::Mul(a, b) => {
            factors(a, c, out);
            factors(b, c, out);
        }
        other => out.push(other.clone()),
    }
}

/// `total / part` when `part`'s factors are a sub-multiset of `total`'s.
fn divide_exact(total: &[DimExpr], part: &[DimExpr]) -> Option<DimExpr> {
    let (mut tc, mut tf) = (Some(1), vec![]);
    for d in total {
        factors(d, &mut tc, &mut tf);
    }
    let (mut pc, mut pf) = (Some(1), vec![]);
    for d in part {
        factors(d, &mut pc, &mut pf);
    }
    // Constants that overflow, or a negative or zero divisor, have no exact quotient here.
    let (tc, pc) = (tc?, pc?);
    if pc <= 0 || tc.checked_rem(pc)? != 0 {
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

/// `factory(shape)`: every size non-negative at every valuation.
fn factory_shape(cx: &InferCtx, shape: &[SizeArg]) -> Result<Vec<DimExpr>, Invalid> {
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
fn scalar_lower(cx: &InferCtx, a: ScalarArg, dtype: DType) -> Result<Option<i64>, Invalid> {
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

// --- operands and sinks, derived from field types -----------------------------------------

/// What a field of an op contributes: the values it reads (operands) and, for a field
/// declared with `=> Sink`, the size-derived values it consumes.
pub(crate) trait Operands {
    fn visit(&mut self, _f: &mut dyn FnMut(&mut ValueRef)) {}
    fn sinks(&self, _sink: Sink, _out: &mut Vec<(Sink, ValueRef)>) {}
}

impl Operands for ValueRef {
    fn visit(&mut self, f: &mut dyn FnMut(&mut ValueRef)) {
        f(self)
    }
    fn sinks(&self, sink: Sink, out: &mut Vec<(Sink, ValueRef)>) {
        out.push((sink, *self))
    }
}

impl Operands for SizeArg {
    fn visit(&mut self, f: &mut dyn FnMut(&mut ValueRef)) {
        if let SizeArg::Value(v) = self {
            f(v)
        }
    }
    fn sinks(&self, sink: Sink, out: &mut Vec<(Sink, ValueRef)>) {
        if let SizeArg::Value(v) = self {
            out.push((sink, *v))
        }
    }
}

impl Operands for ReshapeArg {
    fn visit(&mut self, f: &mut dyn FnMut(&mut ValueRef)) {
        if let ReshapeArg::Size(a) = self {
            a.visit(f)
        }
    }
    fn sinks(&self, sink: Sink, out: &mut Vec<(Sink, ValueRef)>) {
        if let ReshapeArg::Size(a) = self {
            a.sinks(sink, out)
        }
    }
}

impl<T: Operands> Operands for Option<T> {
    fn visit(&mut self, f: &mut dyn FnMut(&mut ValueRef)) {
        if let Some(x) = self {
            x.visit(f)
        }
    }
    fn sinks(&self, sink: Sink, out: &mut Vec<(Sink, ValueRef)>) {
        if let Some(x) = self {
            x.sinks(sink, out)
        }
    }
}

impl<T: Operands> Operands for Vec<T> {
    fn visit(&mut self, f: &mut dyn FnMut(&mut ValueRef)) {
        self.iter_mut().for_each(|x| x.visit(f))
    }
    fn sinks(&self, sink: Sink, out: &mut Vec<(Sink, ValueRef)>) {
        self.iter().for_each(|x| x.sinks(sink, out))
    }
}

impl Operands for u8 {}
impl Operands for CmpFn {}
impl Operands for i64 {}
impl Operands for bool {}

/// Every value of `all` but `cur`: the other spellings of an op.
fn others<T: Copy + PartialEq>(all: &[T], cur: T) -> impl Iterator<Item = T> + '_ {
    all.iter().copied().filter(move |s| *s != cur)
}

/// The parts of an op `op_struct!` derives from its fields.
pub(crate) trait OpFields {
    /// Calls `f` on every operand slot, in field order (the reducer rewrites them).
    fn visit(&mut self, f: &mut dyn FnMut(&mut ValueRef));
    /// The size-derived values the op consumes, with the kind of place consuming them.
    fn sinks(&self, out: &mut Vec<(Sink, ValueRef)>);
}

/// Declares an op's struct; a field written `name: Type => Sink` feeds that sink.
macro_rules! op_struct {
    ($(#[$m:meta])* $name:ident { $( $(#[$fm:meta])* $field:ident : $ty:ty $(=> $sink:ident)? ),* $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $( $(#[$fm])* pub $field: $ty ),*
        }

        impl OpFields for $name {
            fn visit(&mut self, f: &mut dyn FnMut(&mut ValueRef)) {
                $( Operands::visit(&mut self.$field, f); )*
            }
            #[allow(unused_variables)]
            fn sinks(&self, out: &mut Vec<(Sink, ValueRef)>) {
                $( $( Operands::sinks(&self.$field, Sink::$sink, out); )? )*
            }
        }
    };
}

/// What an op's Python rendering can ask about the values it reads.
pub struct RenderCx<'a> {
    pub rank_of: &'a dyn Fn(ValueRef) -> usize,
    pub is_int: &'a dyn Fn(ValueRef) -> bool,
}

impl RenderCx<'_> {
    fn rank(&self, v: ValueRef) -> usize {
        (self.rank_of)(v)
    }
    fn is_int(&self, v: ValueRef) -> bool {
        (self.is_int)(v)
    }
}

/// The Python name of a value: the input's name or `v<n>`.
pub fn value_name(v: ValueRef) -> String {
    match v {
        ValueRef::Input(i) => super::input_name(i as usize),
        ValueRef::Node(n) => format!("v{n}"),
    }
}

fn n(v: ValueRef) -> String {
    value_name(v)
}

fn arg(a: &SizeArg) -> String {
    match a {
        SizeArg::Const(c) => c.to_string(),
        SizeArg::Value(v) => value_name(*v),
    }
}

pub(crate) fn join(parts: impl IntoIterator<Item = String>) -> String {
    parts.into_iter().collect::<Vec<_>>().join(", ")
}

/// A Python tuple: `(a,)` for one element.
pub(crate) fn tuple(parts: Vec<String>) -> String {
    if parts.len() == 1 {
        format!("({},)", parts[0])
    } else {
        format!("({})", parts.join(", "))
    }
}

/// Everything about an op beyond its fields.
pub(crate) trait OpDef: OpFields {
    /// The shape rule: the result type, or why the op is not valid here.
    fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid>;
    /// The Python lines that compute the op into `out`.
    fn render(&self, out: &str, cx: &RenderCx) -> Vec<String>;
    /// A kind finer than the tag (`unary.relu`), for signatures and coverage.
    fn kind(&self) -> Option<String> {
        None
    }
    /// The name of the spelling, for ops with several.
    fn spelling(&self) -> Option<&'static str> {
        None
    }
    /// The same semantics under every other spelling the op has.
    fn respellings(&self) -> Vec<Op> {
        vec![]
    }
    /// The places where Python decides on this op's sizes (see `ir/region.rs`).
    fn decisions(&self, _cx: &DecisionCx, _out: &mut Vec<(DecisionKind, DecisionExpr)>) {}
}

/// The table: every op once, by family, with its serde tag.
macro_rules! op_table {
    ($( $family:ident : [ $( $name:ident = $tag:literal ),* $(,)? ] )*) => {
        /// One node of the model DAG. Operands always refer to inputs or earlier nodes.
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "op")]
        pub enum Op {
            $( $( #[serde(rename = $tag)] $name($name), )* )*
        }

        impl Op {
            /// Every op's serde tag, in table order.
            pub const TAGS: &'static [&'static str] = &[$( $( $tag, )* )*];

            /// The serde tag of the op.
            pub fn tag(&self) -> &'static str {
                match self { $( $( Op::$name(_) => $tag, )* )* }
            }

            /// The family from DESIGN.md; generator weights and coverage are kept per family.
            pub fn family(&self) -> Family {
                match self { $( $( Op::$name(_) => Family::$family, )* )* }
            }

            /// The family of the op with this tag.
            pub fn family_of_tag(tag: &str) -> Option<Family> {
                match tag { $( $( $tag => Some(Family::$family), )* )* _ => None }
            }

            fn def(&self) -> &dyn OpDef {
                match self { $( $( Op::$name(o) => o, )* )* }
            }

            fn def_mut(&mut self) -> &mut dyn OpDef {
                match self { $( $( Op::$name(o) => o, )* )* }
            }
        }

        $( $( impl From<$name> for Op {
            fn from(o: $name) -> Op {
                Op::$name(o)
            }
        } )* )*
    };
}

op_table! {
    Elementwise: [
        Unary = "unary", Binary = "binary", ScalarArith = "scalar_arith", Clamp = "clamp",
        MaskedFill = "masked_fill",
    ]
    Reduction: [
        Reduce = "reduce", MaxAll = "max_all", Cumsum = "cumsum", Topk = "topk",
        Kthvalue = "kthvalue", Histc = "histc", Pool = "pool", AdaptivePool = "adaptive_pool",
    ]
    Matmul: [Matmul = "matmul", Conv = "conv"]
    Shape: [
        Reshape = "reshape", Flatten = "flatten", Unflatten = "unflatten", Permute = "permute",
        Transpose = "transpose", Squeeze = "squeeze", Unsqueeze = "unsqueeze",
        Interpolate = "interpolate", InterpolateScale = "interpolate_scale",
        ReshapeAs = "reshape_as",
    ]
    Join: [
        Cat = "cat", Stack = "stack", Split = "split", Chunk = "chunk", Narrow = "narrow",
        Slice = "slice", IndexSelect = "index_select", Gather = "gather",
    ]
    Pad: [Pad = "pad", AppendValue = "append_value", PadSized = "pad_sized"]
    Expand: [Expand = "expand", Repeat = "repeat", ExpandAs = "expand_as", RepeatBy = "repeat_by"]
    Factory: [
        Arange = "arange", Full = "full", Zeros = "zeros", Ones = "ones", Eye = "eye",
        Linspace = "linspace", OneHot = "one_hot", Tril = "tril", Triu = "triu",
        ShapeFactory = "shape_factory",
    ]
    Channel: [
        Size = "size", Numel = "numel", NDim = "ndim", Stride = "stride", IntArith = "int_arith",
        IntBinary = "int_binary", IntMax = "int_max",
        TrueDiv = "true_div", ToFloat = "to_float", Sqrt = "sqrt", Round = "round",
        FloatArith = "float_arith", IntSelect = "int_select", ListItem = "list_item",
        ToTensor = "to_tensor",
    ]
    Control: [
        Compare = "compare", CompareSizes = "compare_sizes", BoolOp = "bool_op", Not = "not",
        If = "if", Select = "select", Loop = "loop", IsContiguous = "is_contiguous",
        ShapeCompare = "shape_compare", SelectFlat = "select_flat",
    ]
    DataDependent: [
        Item = "item", ToList = "to_list", Nonzero = "nonzero", MaskedSelect = "masked_select",
        Unique = "unique", RepeatInterleave = "repeat_interleave", Bincount = "bincount",
    ]
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
        self.def_mut().visit(f)
    }

    pub fn visit_operands(&self, f: &mut dyn FnMut(&ValueRef)) {
        let mut copy = self.clone();
        copy.visit_operands_mut(&mut |v| f(v));
    }

    /// Size-derived values consumed by this op, with the kind of place that consumes them.
    pub fn sinks(&self) -> Vec<(Sink, ValueRef)> {
        let mut out = vec![];
        self.def().sinks(&mut out);
        out
    }

    /// A short, stable name of what this op is, including the spelling-independent function
    /// (`unary.relu`, `int.floordiv`) but not the spelling. Used in signatures and coverage.
    pub fn kind(&self) -> String {
        self.def().kind().unwrap_or_else(|| self.tag().to_string())
    }

    /// The kind including the spelling, for ops that have several.
    pub fn spelled_kind(&self) -> String {
        match self.spelling_name() {
            Some(s) => format!("{}:{s}", self.kind()),
            None => self.kind(),
        }
    }

    pub fn spelling_name(&self) -> Option<&'static str> {
        self.def().spelling()
    }

    /// The same semantics under every other spelling this op has.
    pub fn respellings(&self) -> Vec<Op> {
        self.def().respellings()
    }

    /// The Python lines that compute this op into `out`.
    pub fn render(&self, out: &str, cx: &RenderCx) -> Vec<String> {
        self.def().render(out, cx)
    }

    /// The places where Python decides on this op's sizes.
    pub(crate) fn decisions(&self, cx: &DecisionCx, out: &mut Vec<(DecisionKind, DecisionExpr)>) {
        self.def().decisions(cx, out)
    }

    /// The shape rule: the result type, or why the op is not valid here.
    pub fn infer(&self, cx: &InferCtx) -> Result<Type, Invalid> {
        let ty = self.def().infer(cx)?;
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
            } else if t.shape.iter().filter(|d| d.has_data()).count() > 1 {
                // Run-time sizes are bounded only by the data they count; two in one shape
                // (`zeros(k, k)`) grow quadratically and exhaust memory at the larger probes,
                // a fault of the case, not a finding.
                bail!("two data-dependent sizes in one shape");
            }
        }
        Ok(ty)
    }
}

mod channel;
mod control;
mod data;
mod elementwise;
mod expand;
mod factory;
mod join;
mod matmul;
mod pad;
mod reduction;
mod shape;

pub use channel::*;
pub use control::*;
pub use data::*;
pub use elementwise::*;
pub use expand::*;
pub use factory::*;
pub use join::*;
pub use matmul::*;
pub use pad::*;
pub use reduction::*;
pub use shape::*;
