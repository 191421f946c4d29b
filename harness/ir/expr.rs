//! Symbolic sizes: `DimExpr` over input-dim symbols, `FloatExpr` for Python floats and
//! `BoolExpr` for Python bools computed from sizes. Constructors fold constants so that
//! structurally equal expressions are the way shape rules decide that two dims agree at
//! *every* valuation. A shape chosen by a Python branch is `DimExpr::Ite`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A symbol standing for one input dimension's size (`s0`, `s1`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SymId(pub u32);

impl fmt::Display for SymId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s{}", self.0)
    }
}

/// Sizes of every symbol, indexed by `SymId`.
pub type Valuation = Vec<i64>;

/// An integer expression over symbols. `Data(n)` is a size only known at run time
/// (produced by node `n`: `nonzero`, `.item()`, ...); it is never negative and
/// compares equal only to itself.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DimExpr {
    Const(i64),
    Sym(SymId),
    Data(u32),
    Add(Box<DimExpr>, Box<DimExpr>),
    Sub(Box<DimExpr>, Box<DimExpr>),
    Mul(Box<DimExpr>, Box<DimExpr>),
    FloorDiv(Box<DimExpr>, i64),
    Mod(Box<DimExpr>, i64),
    /// `a // b` between two sizes (the divisor is at least 1 wherever it is valid).
    DivBy(Box<DimExpr>, Box<DimExpr>),
    /// `a % b` between two sizes.
    ModBy(Box<DimExpr>, Box<DimExpr>),
    Min(Box<DimExpr>, Box<DimExpr>),
    Max(Box<DimExpr>, Box<DimExpr>),
    /// `a if cond else b`: a size chosen by a Python branch.
    Ite(Box<BoolExpr>, Box<DimExpr>, Box<DimExpr>),
}

/// A comparison, as Python writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CmpFn {
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
}

impl CmpFn {
    pub const ALL: &'static [CmpFn] = &[
        CmpFn::Gt,
        CmpFn::Ge,
        CmpFn::Lt,
        CmpFn::Le,
        CmpFn::Eq,
        CmpFn::Ne,
    ];
    pub fn name(self) -> &'static str {
        match self {
            CmpFn::Gt => ">",
            CmpFn::Ge => ">=",
            CmpFn::Lt => "<",
            CmpFn::Le => "<=",
            CmpFn::Eq => "==",
            CmpFn::Ne => "!=",
        }
    }
    pub fn holds<T: PartialOrd>(self, a: T, b: T) -> bool {
        match self {
            CmpFn::Gt => a > b,
            CmpFn::Ge => a >= b,
            CmpFn::Lt => a < b,
            CmpFn::Le => a <= b,
            CmpFn::Eq => a == b,
            CmpFn::Ne => a != b,
        }
    }
}

/// A Python bool computed from sizes: comparisons and `and` / `or` / `not` of them.
/// `Unknown` is a bool that depends on run-time data.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BoolExpr {
    Cmp(DimExpr, CmpFn, DimExpr),
    /// A float compared with an integer literal.
    CmpF(FloatExpr, CmpFn, i64),
    And(Box<BoolExpr>, Box<BoolExpr>),
    Or(Box<BoolExpr>, Box<BoolExpr>),
    Not(Box<BoolExpr>),
    Unknown,
}

impl BoolExpr {
    /// The value at a valuation; `None` when it depends on run-time data.
    pub fn eval(&self, v: &[i64]) -> Option<bool> {
        Some(match self {
            BoolExpr::Cmp(a, c, b) => c.holds(a.eval(v)?, b.eval(v)?),
            BoolExpr::CmpF(a, c, k) => c.holds(a.eval(v)?, *k as f64),
            BoolExpr::And(a, b) => a.eval(v)? && b.eval(v)?,
            BoolExpr::Or(a, b) => a.eval(v)? || b.eval(v)?,
            BoolExpr::Not(a) => !a.eval(v)?,
            BoolExpr::Unknown => return None,
        })
    }

    /// The value when it is the same at every valuation with every symbol at least
    /// `sym_min`, as far as interval bounds show it.
    pub fn decided_over(&self, sym_min: i64) -> Option<bool> {
        match self {
            BoolExpr::Cmp(a, c, b) => {
                let (lo, hi) = DimExpr::sub(a.clone(), b.clone()).interval_over(sym_min);
                let (pos, neg) = (lo.is_some_and(|l| l > 0), hi.is_some_and(|h| h < 0));
                let (nonneg, nonpos) = (lo.is_some_and(|l| l >= 0), hi.is_some_and(|h| h <= 0));
                let zero = nonneg && nonpos;
                match c {
                    CmpFn::Gt if pos => Some(true),
                    CmpFn::Gt if nonpos => Some(false),
                    CmpFn::Ge if nonneg => Some(true),
                    CmpFn::Ge if neg => Some(false),
                    CmpFn::Lt if neg => Some(true),
                    CmpFn::Lt if nonneg => Some(false),
                    CmpFn::Le if nonpos => Some(true),
                    CmpFn::Le if pos => Some(false),
                    CmpFn::Eq if zero => Some(true),
                    CmpFn::Eq if pos || neg => Some(false),
                    CmpFn::Ne if zero => Some(false),
                    CmpFn::Ne if pos || neg => Some(true),
                    _ => None,
                }
            }
            BoolExpr::CmpF(..) | BoolExpr::Unknown => None,
            BoolExpr::And(a, b) => match (a.decided_over(sym_min), b.decided_over(sym_min)) {
                (Some(false), _) | (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            },
            BoolExpr::Or(a, b) => match (a.decided_over(sym_min), b.decided_over(sym_min)) {
                (Some(true), _) | (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            },
            BoolExpr::Not(a) => a.decided_over(sym_min).map(|x| !x),
        }
    }

    pub fn symbols(&self, out: &mut Vec<SymId>) {
        match self {
            BoolExpr::Cmp(a, _, b) => {
                a.symbols(out);
                b.symbols(out);
            }
            BoolExpr::CmpF(a, _, _) => a.inner().symbols(out),
            BoolExpr::And(a, b) | BoolExpr::Or(a, b) => {
                a.symbols(out);
                b.symbols(out);
            }
            BoolExpr::Not(a) => a.symbols(out),
            BoolExpr::Unknown => {}
        }
    }

    fn count_into(&self, n: &mut usize, cap: usize) {
        *n += 1;
        if *n > cap {
            return;
        }
        match self {
            BoolExpr::Cmp(a, _, b) => {
                a.count_into(n, cap);
                b.count_into(n, cap);
            }
            BoolExpr::CmpF(a, _, _) => a.inner().count_into(n, cap),
            BoolExpr::And(a, b) | BoolExpr::Or(a, b) => {
                a.count_into(n, cap);
                b.count_into(n, cap);
            }
            BoolExpr::Not(a) => a.count_into(n, cap),
            BoolExpr::Unknown => {}
        }
    }

    /// How many nodes the expression has, counting stopped once past `cap`.
    pub fn node_count(&self, cap: usize) -> usize {
        let mut n = 0;
        self.count_into(&mut n, cap);
        n
    }

    pub fn has_data(&self) -> bool {
        match self {
            BoolExpr::Cmp(a, _, b) => a.has_data() || b.has_data(),
            BoolExpr::CmpF(a, _, _) => a.inner().has_data(),
            BoolExpr::And(a, b) | BoolExpr::Or(a, b) => a.has_data() || b.has_data(),
            BoolExpr::Not(a) => a.has_data(),
            BoolExpr::Unknown => true,
        }
    }
}

impl fmt::Display for BoolExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BoolExpr::Cmp(a, c, b) => write!(f, "{a} {} {b}", c.name()),
            BoolExpr::CmpF(a, c, k) => write!(f, "{a:?} {} {k}", c.name()),
            BoolExpr::And(a, b) => write!(f, "({a} and {b})"),
            BoolExpr::Or(a, b) => write!(f, "({a} or {b})"),
            BoolExpr::Not(a) => write!(f, "(not {a})"),
            BoolExpr::Unknown => f.write_str("<data>"),
        }
    }
}

// `add`/`sub`/`mul` are constant-folding constructors, not operator overloads.
#[allow(clippy::should_implement_trait)]
impl DimExpr {
    pub fn sym(s: SymId) -> Self {
        DimExpr::Sym(s)
    }

    pub fn as_const(&self) -> Option<i64> {
        match self {
            DimExpr::Const(c) => Some(*c),
            _ => None,
        }
    }

    pub fn add(a: DimExpr, b: DimExpr) -> Self {
        match (&a, &b) {
            // An overflowing fold stays unfolded: `eval` then reports the overflow.
            (DimExpr::Const(x), DimExpr::Const(y)) if x.checked_add(*y).is_some() => {
                DimExpr::Const(x + y)
            }
            (_, DimExpr::Const(0)) => a,
            (DimExpr::Const(0), _) => b,
            _ => DimExpr::Add(Box::new(a), Box::new(b)),
        }
    }

    pub fn sub(a: DimExpr, b: DimExpr) -> Self {
        match (&a, &b) {
            (DimExpr::Const(x), DimExpr::Const(y)) if x.checked_sub(*y).is_some() => {
                DimExpr::Const(x - y)
            }
            (_, DimExpr::Const(0)) => a,
            _ if a == b => DimExpr::Const(0),
            _ => DimExpr::Sub(Box::new(a), Box::new(b)),
        }
    }

    pub fn mul(a: DimExpr, b: DimExpr) -> Self {
        match (&a, &b) {
            (DimExpr::Const(x), DimExpr::Const(y)) if x.checked_mul(*y).is_some() => {
                DimExpr::Const(x * y)
            }
            (_, DimExpr::Const(1)) => a,
            (DimExpr::Const(1), _) => b,
            (_, DimExpr::Const(0)) | (DimExpr::Const(0), _) => DimExpr::Const(0),
            // Keep constants on the left so `2*s0` and `s0*2` are one expression.
            (_, DimExpr::Const(_)) => DimExpr::Mul(Box::new(b), Box::new(a)),
            _ => DimExpr::Mul(Box::new(a), Box::new(b)),
        }
    }

    pub fn floor_div(a: DimExpr, k: i64) -> Self {
        assert!(k > 0, "floor_div by {k}");
        match &a {
            DimExpr::Const(x) => DimExpr::Const(x.div_euclid(k)),
            _ if k == 1 => a,
            // `int(2*n / 2)` is `n`: keeps reshapes of even dims symbolic.
            DimExpr::Mul(c, e) if c.as_const().is_some_and(|c| c.checked_rem(k) == Some(0)) => {
                DimExpr::mul(DimExpr::Const(c.as_const().unwrap() / k), (**e).clone())
            }
            _ => DimExpr::FloorDiv(Box::new(a), k),
        }
    }

    pub fn modulo(a: DimExpr, k: i64) -> Self {
        assert!(k > 0, "mod by {k}");
        match &a {
            DimExpr::Const(x) => DimExpr::Const(x.rem_euclid(k)),
            _ if k == 1 => DimExpr::Const(0),
            _ => DimExpr::Mod(Box::new(a), k),
        }
    }

    /// `a // b` for a divisor that is itself an expression.
    pub fn div_by(a: DimExpr, b: DimExpr) -> Self {
        match b.as_const() {
            Some(k) if k > 0 => DimExpr::floor_div(a, k),
            _ => DimExpr::DivBy(Box::new(a), Box::new(b)),
        }
    }

    /// `a % b` for a divisor that is itself an expression.
    pub fn mod_by(a: DimExpr, b: DimExpr) -> Self {
        match b.as_const() {
            Some(k) if k > 0 => DimExpr::modulo(a, k),
            _ => DimExpr::ModBy(Box::new(a), Box::new(b)),
        }
    }

    pub fn min(a: DimExpr, b: DimExpr) -> Self {
        match (&a, &b) {
            (DimExpr::Const(x), DimExpr::Const(y)) => DimExpr::Const(*x.min(y)),
            _ if a == b => a,
            _ => DimExpr::Min(Box::new(a), Box::new(b)),
        }
    }

    pub fn max(a: DimExpr, b: DimExpr) -> Self {
        match (&a, &b) {
            (DimExpr::Const(x), DimExpr::Const(y)) => DimExpr::Const(*x.max(y)),
            _ if a == b => a,
            _ => DimExpr::Max(Box::new(a), Box::new(b)),
        }
    }

    /// How many nodes the expression has, counting stopped once past `cap` (the trees a
    /// hostile case builds can be far too large to walk).
    pub fn node_count(&self, cap: usize) -> usize {
        let mut n = 0;
        self.count_into(&mut n, cap);
        n
    }

    fn count_into(&self, n: &mut usize, cap: usize) {
        *n += 1;
        if *n > cap {
            return;
        }
        match self {
            DimExpr::Const(_) | DimExpr::Sym(_) | DimExpr::Data(_) => {}
            DimExpr::FloorDiv(a, _) | DimExpr::Mod(a, _) => a.count_into(n, cap),
            DimExpr::Add(a, b)
            | DimExpr::Sub(a, b)
            | DimExpr::Mul(a, b)
            | DimExpr::DivBy(a, b)
            | DimExpr::ModBy(a, b)
            | DimExpr::Min(a, b)
            | DimExpr::Max(a, b) => {
                a.count_into(n, cap);
                b.count_into(n, cap);
            }
            DimExpr::Ite(c, a, b) => {
                c.count_into(n, cap);
                a.count_into(n, cap);
                b.count_into(n, cap);
            }
        }
    }

    /// The value at a valuation; `None` when it depends on run-time data.
    pub fn eval(&self, v: &[i64]) -> Option<i64> {
        Some(match self {
            DimExpr::Const(c) => *c,
            DimExpr::Sym(s) => *v.get(s.0 as usize)?,
            DimExpr::Data(_) => return None,
            DimExpr::Add(a, b) => a.eval(v)?.checked_add(b.eval(v)?)?,
            DimExpr::Sub(a, b) => a.eval(v)?.checked_sub(b.eval(v)?)?,
            DimExpr::Mul(a, b) => a.eval(v)?.checked_mul(b.eval(v)?)?,
            DimExpr::FloorDiv(a, k) => a.eval(v)?.checked_div_euclid(*k)?,
            DimExpr::Mod(a, k) => a.eval(v)?.checked_rem_euclid(*k)?,
            DimExpr::DivBy(a, b) => a.eval(v)?.checked_div_euclid(b.eval(v)?)?,
            DimExpr::ModBy(a, b) => a.eval(v)?.checked_rem_euclid(b.eval(v)?)?,
            DimExpr::Min(a, b) => a.eval(v)?.min(b.eval(v)?),
            DimExpr::Max(a, b) => a.eval(v)?.max(b.eval(v)?),
            DimExpr::Ite(c, a, b) => {
                if c.eval(v)? {
                    a.eval(v)?
                } else {
                    b.eval(v)?
                }
            }
        })
    }

    /// `a if cond else b`, folded when the arms agree.
    pub fn ite(cond: BoolExpr, a: DimExpr, b: DimExpr) -> Self {
        if a == b {
            a
        } else {
            DimExpr::Ite(Box::new(cond), Box::new(a), Box::new(b))
        }
    }

    /// A lower bound over all valuations where every symbol is at least 2 and every
    /// data-dependent size at least 0 (interval arithmetic; `None` = unbounded below).
    pub fn lower_bound(&self) -> Option<i64> {
        self.interval().0
    }

    /// `(lower, upper)` bounds over valuations with every symbol at least 2, `None` meaning
    /// unbounded on that side.
    pub fn interval(&self) -> (Option<i64>, Option<i64>) {
        self.interval_over(2)
    }

    /// `(lower, upper)` bounds over valuations with every symbol at least `sym_min`.
    pub fn interval_over(&self, sym_min: i64) -> (Option<i64>, Option<i64>) {
        fn mul_bound(a: Option<i64>, b: Option<i64>) -> Option<i64> {
            a?.checked_mul(b?)
        }
        match self {
            DimExpr::Const(c) => (Some(*c), Some(*c)),
            DimExpr::Sym(_) => (Some(sym_min), None),
            DimExpr::Data(_) => (Some(0), None),
            DimExpr::Add(a, b) => {
                let (al, ah) = a.interval_over(sym_min);
                let (bl, bh) = b.interval_over(sym_min);
                (
                    al.zip(bl).and_then(|(x, y)| x.checked_add(y)),
                    ah.zip(bh).and_then(|(x, y)| x.checked_add(y)),
                )
            }
            DimExpr::Sub(a, b) => {
                let (al, ah) = a.interval_over(sym_min);
                let (bl, bh) = b.interval_over(sym_min);
                (
                    al.zip(bh).and_then(|(x, y)| x.checked_sub(y)),
                    ah.zip(bl).and_then(|(x, y)| x.checked_sub(y)),
                )
            }
            DimExpr::Mul(a, b) => {
                let (al, ah) = a.interval_over(sym_min);
                let (bl, bh) = b.interval_over(sym_min);
                // Only the non-negative case is needed for sizes; be conservative otherwise.
                if al.is_some_and(|x| x >= 0) && bl.is_some_and(|x| x >= 0) {
                    (mul_bound(al, bl), mul_bound(ah, bh))
                } else {
                    (None, None)
                }
            }
            DimExpr::FloorDiv(a, k) => {
                let (l, h) = a.interval_over(sym_min);
                (
                    l.and_then(|x| x.checked_div_euclid(*k)),
                    h.and_then(|x| x.checked_div_euclid(*k)),
                )
            }
            DimExpr::Mod(_, k) => (Some(0), Some(k - 1)),
            DimExpr::DivBy(a, b) | DimExpr::ModBy(a, b) => {
                let (al, ah) = a.interval_over(sym_min);
                let (bl, bh) = b.interval_over(sym_min);
                // Sizes only: a non-negative dividend and a divisor of at least 1.
                let (Some(al), Some(bl)) = (al, bl) else {
                    return (None, None);
                };
                if al < 0 || bl < 1 {
                    return (None, None);
                }
                if matches!(self, DimExpr::DivBy(..)) {
                    (Some(bh.map_or(0, |h| al / h)), ah.map(|h| h / bl))
                } else {
                    (Some(0), bh.map(|h| h - 1).into_iter().chain(ah).min())
                }
            }
            DimExpr::Min(a, b) => {
                let (al, ah) = a.interval_over(sym_min);
                let (bl, bh) = b.interval_over(sym_min);
                (
                    al.zip(bl).map(|(x, y)| x.min(y)),
                    match (ah, bh) {
                        (Some(x), Some(y)) => Some(x.min(y)),
                        (x, None) => x,
                        (None, y) => y,
                    },
                )
            }
            DimExpr::Max(a, b) => {
                let (al, ah) = a.interval_over(sym_min);
                let (bl, bh) = b.interval_over(sym_min);
                (
                    match (al, bl) {
                        (Some(x), Some(y)) => Some(x.max(y)),
                        (x, None) => x,
                        (None, y) => y,
                    },
                    ah.zip(bh).map(|(x, y)| x.max(y)),
                )
            }
            // A condition decided over the range (`n >= 1` for sizes) takes one arm, as
            // torch's trace does.
            DimExpr::Ite(c, a, b) => match c.decided_over(sym_min) {
                Some(true) => a.interval_over(sym_min),
                Some(false) => b.interval_over(sym_min),
                None => {
                    let (al, ah) = a.interval_over(sym_min);
                    let (bl, bh) = b.interval_over(sym_min);
                    (
                        al.zip(bl).map(|(x, y)| x.min(y)),
                        ah.zip(bh).map(|(x, y)| x.max(y)),
                    )
                }
            },
        }
    }

    /// The one symbol of an input dim's size (`s` or `k * s`): None for a constant.
    pub fn symbol_index(&self) -> Option<usize> {
        let mut v = vec![];
        self.symbols(&mut v);
        match v.as_slice() {
            [s] => Some(s.0 as usize),
            _ => None,
        }
    }

    /// Every symbol the expression mentions.
    pub fn symbols(&self, out: &mut Vec<SymId>) {
        match self {
            DimExpr::Sym(s) => {
                if !out.contains(s) {
                    out.push(*s)
                }
            }
            DimExpr::Const(_) | DimExpr::Data(_) => {}
            DimExpr::Add(a, b)
            | DimExpr::Sub(a, b)
            | DimExpr::Mul(a, b)
            | DimExpr::Min(a, b)
            | DimExpr::Max(a, b) => {
                a.symbols(out);
                b.symbols(out);
            }
            DimExpr::FloorDiv(a, _) | DimExpr::Mod(a, _) => a.symbols(out),
            DimExpr::DivBy(a, b) | DimExpr::ModBy(a, b) => {
                a.symbols(out);
                b.symbols(out);
            }
            DimExpr::Ite(c, a, b) => {
                c.symbols(out);
                a.symbols(out);
                b.symbols(out);
            }
        }
    }

    /// Whether the value depends on some input size and on nothing known only at run time:
    /// a SymInt under export unless torch specializes it.
    pub fn has_symbol(&self) -> bool {
        let mut syms = vec![];
        self.symbols(&mut syms);
        !syms.is_empty() && !self.has_data()
    }

    pub fn has_data(&self) -> bool {
        match self {
            DimExpr::Data(_) => true,
            DimExpr::Const(_) | DimExpr::Sym(_) => false,
            DimExpr::Add(a, b)
            | DimExpr::Sub(a, b)
            | DimExpr::Mul(a, b)
            | DimExpr::Min(a, b)
            | DimExpr::Max(a, b)
            | DimExpr::DivBy(a, b)
            | DimExpr::ModBy(a, b) => a.has_data() || b.has_data(),
            DimExpr::FloorDiv(a, _) | DimExpr::Mod(a, _) => a.has_data(),
            DimExpr::Ite(c, a, b) => c.has_data() || a.has_data() || b.has_data(),
        }
    }

    /// Python text, with symbols looked up in a dict named `s` (used by `input_shapes`).
    pub fn to_python(&self, sym: &dyn Fn(SymId) -> String) -> String {
        match self {
            DimExpr::Const(c) => c.to_string(),
            DimExpr::Sym(s) => sym(*s),
            DimExpr::Data(n) => format!("u{n}"),
            DimExpr::Add(a, b) => format!("({} + {})", a.to_python(sym), b.to_python(sym)),
            DimExpr::Sub(a, b) => format!("({} - {})", a.to_python(sym), b.to_python(sym)),
            DimExpr::Mul(a, b) => format!("{} * {}", a.to_python(sym), b.to_python(sym)),
            DimExpr::FloorDiv(a, k) => format!("({} // {k})", a.to_python(sym)),
            DimExpr::Mod(a, k) => format!("({} % {k})", a.to_python(sym)),
            DimExpr::DivBy(a, b) => format!("({} // {})", a.to_python(sym), b.to_python(sym)),
            DimExpr::ModBy(a, b) => format!("({} % {})", a.to_python(sym), b.to_python(sym)),
            DimExpr::Min(a, b) => format!("min({}, {})", a.to_python(sym), b.to_python(sym)),
            DimExpr::Max(a, b) => format!("max({}, {})", a.to_python(sym), b.to_python(sym)),
            DimExpr::Ite(c, a, b) => {
                format!("({} if {c} else {})", a.to_python(sym), b.to_python(sym))
            }
        }
    }
}

impl fmt::Display for DimExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_python(&|s| s.to_string()))
    }
}

/// A Python float computed from sizes (`float(n)`, `n / k`, `math.sqrt(n)`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FloatExpr {
    Of(DimExpr),
    Div(DimExpr, i64),
    Sqrt(DimExpr),
}

impl FloatExpr {
    /// The integer expression the float is computed from.
    pub fn inner(&self) -> &DimExpr {
        match self {
            FloatExpr::Of(e) | FloatExpr::Div(e, _) | FloatExpr::Sqrt(e) => e,
        }
    }

    /// The float as an exact fraction `(numerator, denominator)`; `None` for a square root.
    pub fn ratio(&self) -> Option<(DimExpr, i64)> {
        match self {
            FloatExpr::Of(e) => Some((e.clone(), 1)),
            FloatExpr::Div(e, k) => Some((e.clone(), *k)),
            FloatExpr::Sqrt(_) => None,
        }
    }

    /// The float for an exact fraction.
    pub fn from_ratio(num: DimExpr, den: i64) -> FloatExpr {
        if den == 1 {
            FloatExpr::Of(num)
        } else {
            FloatExpr::Div(num, den)
        }
    }

    pub fn eval(&self, v: &[i64]) -> Option<f64> {
        Some(match self {
            FloatExpr::Of(e) => e.eval(v)? as f64,
            FloatExpr::Div(e, k) => e.eval(v)? as f64 / *k as f64,
            FloatExpr::Sqrt(e) => (e.eval(v)? as f64).sqrt(),
        })
    }

    pub fn lower_bound(&self) -> Option<f64> {
        let inner = match self {
            FloatExpr::Of(e) | FloatExpr::Div(e, _) | FloatExpr::Sqrt(e) => e,
        };
        let lb = inner.lower_bound()? as f64;
        Some(match self {
            FloatExpr::Of(_) => lb,
            FloatExpr::Div(_, k) => lb / *k as f64,
            FloatExpr::Sqrt(_) => {
                if lb < 0.0 {
                    return None;
                }
                lb.sqrt()
            }
        })
    }
}
