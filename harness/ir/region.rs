//! The trace region: the valuations on which the model's Python takes the same path as at the
//! export valuation.
//!
//! `torch.export` records one trace. Wherever Python rather than a tensor op decides (an `if`
//! on a size, a loop's trip count, how many tensors `split`/`chunk` return, the length of a
//! `tolist()`, which arm of a slice clamp applies) the trace is only good
//! for the valuations that decide the same way, and torch is right to guard on it. Each such
//! place is a [`Decision`] that evaluates at any valuation; the trace region is where every
//! decision equals its value at the export valuation. Intermediate sizes of 0 or 1 are
//! decisions too: torch specializes them by design (its 0/1 specialization), so a valuation
//! that makes a derived size 0 or 1 is outside the region when the export valuation does not.
//!
//! What the region is for: a size outside it that the exported program rejects is expected
//! behaviour; a size inside it that the program rejects is a specialization the model did
//! not force (a portability problem, or a bug when the spec promised an error); a size
//! outside it that the program accepts is where a silently wrong result can hide.

use super::*;

/// Why a decision exists; reports name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    /// `if <size comparison>:`
    Branch,
    /// `for _ in range(n)`
    LoopCount,
    /// The number of tensors `split`/`chunk` return.
    OutputCount,
    /// The length of a `tolist()`.
    ListLength,
    /// Whether a slice end or split size is clamped to the dim it cuts.
    ClampArm,
    /// Whether a derived size is 0, 1 or larger.
    SizeClass,
    /// The arm `min`/`max` takes where torch can tell it from its assumptions on sizes and
    /// folds the call to that arm (`min(1, n)` becomes `1`): the same at every size of 2 or
    /// more, so it only changes at 0 and 1.
    FoldedArm,
}

/// One place where the trace depends on the valuation.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    pub node: u32,
    pub kind: DecisionKind,
    eval: DecisionExpr,
}

/// How a decision's outcome is computed from sizes.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum DecisionExpr {
    /// The truth of a bool the model branches on.
    Bool(BoolExpr),
    Value(DimExpr),
    /// `ceil(n / s)`: the number of pieces `split(n, s)` makes.
    SplitCount(DimExpr, DimExpr),
    /// The number of pieces `chunk(n, c)` makes.
    ChunkCount(DimExpr, i64),
    /// `a <= b`.
    Le(DimExpr, DimExpr),
    /// `min(e, 2)`: 0, 1, or "2 or more".
    Class(DimExpr),
    /// The 0/1/2+ class of the last piece `split(n, s)` makes.
    SplitLast(DimExpr, DimExpr),
    /// The 0/1/2+ class of the last piece `chunk(n, c)` makes.
    ChunkLast(DimExpr, i64),
}

impl Decision {
    /// The outcome at a valuation; `None` when it cannot be computed there (data, overflow).
    pub fn at(&self, v: &[i64]) -> Option<i64> {
        self.eval.at(v)
    }
}

impl DecisionExpr {
    pub(crate) fn at(&self, v: &[i64]) -> Option<i64> {
        Some(match self {
            DecisionExpr::Bool(b) => b.eval(v)? as i64,
            DecisionExpr::Value(e) => e.eval(v)?,
            DecisionExpr::SplitCount(n, s) => {
                let (n, s) = (n.eval(v)?, s.eval(v)?);
                if s < 1 {
                    return None;
                }
                n.checked_add(s - 1)? / s
            }
            DecisionExpr::ChunkCount(n, c) => {
                let n = n.eval(v)?;
                if n <= 0 || *c < 1 {
                    0
                } else {
                    let per = (n + c - 1) / c;
                    (n + per - 1) / per
                }
            }
            DecisionExpr::Le(a, b) => (a.eval(v)? <= b.eval(v)?) as i64,
            DecisionExpr::Class(e) => e.eval(v)?.min(2),
            DecisionExpr::SplitLast(n, s) => {
                let (n, s) = (n.eval(v)?, s.eval(v)?);
                if s < 1 || n < 1 {
                    return Some(n.clamp(0, 2));
                }
                let pieces = n.checked_add(s - 1)? / s;
                (n - s * (pieces - 1)).min(2)
            }
            DecisionExpr::ChunkLast(n, c) => {
                let n = n.eval(v)?;
                if n < 1 || *c < 1 {
                    return Some(n.clamp(0, 2));
                }
                let per = (n + c - 1) / c;
                let pieces = (n + per - 1) / per;
                (n - per * (pieces - 1)).min(2)
            }
        })
    }
}

/// What an op can look up to state its decisions: the symbolic types of its operands.
pub(crate) struct DecisionCx<'a> {
    pub int: &'a dyn Fn(ValueRef) -> Option<DimExpr>,
    pub dim_of: &'a dyn Fn(ValueRef, u8) -> Option<DimExpr>,
    /// The type of the deciding op's own result, when known.
    pub own: Option<Type>,
}

/// `a <= b` as a decision when it is the same at every valuation with sizes of 2 or more.
/// torch folds such a `min`/`max` to one arm in two ways (measured on 2.15): sympy folds
/// `Min(1, s)` to `1` as size symbols are positive, and a value that is specialized
/// (`float(min(n, 2))`) is evaluated on the range `[2, inf]`. Either way the exported program
/// computes another value than eager at 0 or 1.
pub(crate) fn folded_arm(a: DimExpr, b: DimExpr) -> Option<(DecisionKind, DecisionExpr)> {
    if a.has_data() || b.has_data() {
        return None;
    }
    let (lo, hi) = DimExpr::sub(a.clone(), b.clone()).interval();
    let decided = lo.is_some_and(|l| l >= 0) || hi.is_some_and(|h| h <= 0);
    decided.then_some((DecisionKind::FoldedArm, DecisionExpr::Le(a, b)))
}

impl DecisionCx<'_> {
    pub fn int(&self, v: ValueRef) -> Option<DimExpr> {
        (self.int)(v)
    }
    pub fn dim_of(&self, x: ValueRef, d: u8) -> Option<DimExpr> {
        (self.dim_of)(x, d)
    }
    pub fn own_bool(&self) -> Option<BoolExpr> {
        self.own.as_ref().and_then(Type::boolean).cloned()
    }
    pub fn size(&self, a: &SizeArg) -> Option<DimExpr> {
        match a {
            SizeArg::Const(c) => Some(DimExpr::Const(*c)),
            SizeArg::Value(v) => self.int(*v),
        }
    }
}

fn symbolic(e: &DimExpr) -> bool {
    e.as_const().is_none() && !e.has_data()
}

impl Case {
    /// Every place where the model's Python decides, in node order. Uses structural types
    /// only, so it works for any case whose operands type-check.
    pub fn decisions(&self) -> Vec<Decision> {
        let Ok(types) = self.infer_types(&[]) else {
            return vec![];
        };
        let int = |v: ValueRef| types.get(v).and_then(Type::int).cloned();
        let dim_of = |x: ValueRef, d: u8| {
            types
                .get(x)
                .and_then(Type::tensor)
                .and_then(|t| t.shape.get(d as usize).cloned())
        };
        // `torch.sym_ite(c, a, b)` traces `c` into the graph without asking Python for its
        // value: a bool read only there is no decision.
        let read_by_sym_ite_only = |node: u32| {
            let me = ValueRef::Node(node);
            let mut readers = self
                .nodes
                .iter()
                .filter(|op| op.operands().contains(&me))
                .peekable();
            readers.peek().is_some()
                && readers.all(|op| {
                    matches!(op, Op::IntSelect(s)
                        if s.spelling == IteSpelling::SymIte && s.cond == me && s.a != me && s.b != me)
                })
        };
        let mut out = vec![];
        for (i, op) in self.nodes.iter().enumerate() {
            let node = i as u32;
            let cx = DecisionCx {
                int: &int,
                dim_of: &dim_of,
                own: types.get(ValueRef::Node(node)).cloned(),
            };
            let mut here = vec![];
            op.decisions(&cx, &mut here);
            if read_by_sym_ite_only(node) {
                here.retain(|(kind, _)| *kind != DecisionKind::Branch);
            }
            out.extend(
                here.into_iter()
                    .map(|(kind, eval)| Decision { node, kind, eval }),
            );
            if let Some(Type::Tensor(t)) = types.get(ValueRef::Node(node)) {
                for d in t.shape.iter().filter(|d| symbolic(d)) {
                    out.push(Decision {
                        node,
                        kind: DecisionKind::SizeClass,
                        eval: DecisionExpr::Class(d.clone()),
                    });
                }
            }
        }
        out
    }

    /// Whether `v` is valid and decides everything as the export valuation does.
    pub fn in_trace_region(&self, v: &Valuation) -> bool {
        let ds = self.decisions();
        self.valid_at(v) && ds.iter().all(|d| d.at(v) == d.at(&self.export))
    }

    /// For each symbol, the inclusive runs of `2..=SCAN_MAX` inside the trace region with the
    /// other symbols at their export sizes.
    pub fn trace_region(&self) -> Vec<Vec<[i64; 2]>> {
        let ds = self.decisions();
        let at_export: Vec<Option<i64>> = ds.iter().map(|d| d.at(&self.export)).collect();
        (0..self.symbol_count())
            .map(|s| {
                let ok: Vec<i64> = (2..=SCAN_MAX)
                    .filter(|&n| {
                        let mut v = self.export.clone();
                        v[s] = n;
                        self.valid_at(&v) && ds.iter().zip(&at_export).all(|(d, e)| d.at(&v) == *e)
                    })
                    .collect();
                runs(&ok)
            })
            .collect()
    }

    /// The decision (if any) that differs between `v` and the export valuation: the first
    /// one Python makes (a branch, a count, a clamp), else the first size whose 0/1 class
    /// changed.
    pub fn first_changed_decision(&self, v: &Valuation) -> Option<Decision> {
        let changed: Vec<Decision> = self
            .decisions()
            .into_iter()
            .filter(|d| d.at(v) != d.at(&self.export))
            .collect();
        changed
            .iter()
            .find(|d| d.kind != DecisionKind::SizeClass)
            .or(changed.first())
            .cloned()
    }

    /// Torch specializes sizes of 0 and 1 by design, so a case only says something about
    /// dynamic shapes when every size derived from a symbol (the outputs of nodes, and the
    /// pieces `split`/`chunk` make and drop) is at least 2 at the export valuation. The first
    /// node that breaks this, with the size and its value, or `None`.
    pub fn small_derived_size_at_export(&self) -> Option<(u32, String, i64)> {
        self.decisions()
            .into_iter()
            .filter(|d| d.kind == DecisionKind::SizeClass)
            .find_map(|d| match d.at(&self.export) {
                Some(x) if x < 2 => Some((d.node, d.describe(), x)),
                _ => None,
            })
    }
}

impl Decision {
    /// What the decision is about, as an expression.
    pub fn describe(&self) -> String {
        match &self.eval {
            DecisionExpr::Bool(b) => b.to_string(),
            DecisionExpr::Value(e) | DecisionExpr::Class(e) => e.to_string(),
            DecisionExpr::SplitCount(n, s) => format!("pieces of split({n}, {s})"),
            DecisionExpr::ChunkCount(n, c) => format!("pieces of chunk({n}, {c})"),
            DecisionExpr::Le(a, b) => format!("{a} <= {b}"),
            DecisionExpr::SplitLast(n, s) => format!("last piece of split({n}, {s})"),
            DecisionExpr::ChunkLast(n, c) => format!("last piece of chunk({n}, {c})"),
        }
    }
}

/// Whether `n` lies in one of the inclusive runs.
pub fn in_runs(n: i64, runs: &[[i64; 2]]) -> bool {
    runs.iter().any(|r| r[0] <= n && n <= r[1])
}

/// Whether an op, given the types of its operands, computes a size (a piece it drops
/// included) that is 0 or 1 at `export` while derived from a symbol: the generator keeps
/// such ops out, as torch specializes those sizes by design.
pub(crate) fn op_makes_small_piece(
    op: &Op,
    types: &dyn Fn(ValueRef) -> Option<Type>,
    export: &[i64],
) -> bool {
    let int = |v: ValueRef| types(v).and_then(|t| t.int().cloned());
    let dim_of = |x: ValueRef, d: u8| {
        types(x)
            .and_then(|t| t.tensor().cloned())
            .and_then(|t| t.shape.get(d as usize).cloned())
    };
    let cx = DecisionCx {
        int: &int,
        dim_of: &dim_of,
        own: None,
    };
    let mut out = vec![];
    op.decisions(&cx, &mut out);
    out.iter()
        .filter(|(k, _)| *k == DecisionKind::SizeClass)
        .any(|(_, e)| e.at(export).is_some_and(|x| x < 2))
}
