//! The model IR: a `Case` is a model (typed values in a DAG of ops over its inputs), the
//! ground truth about every input dimension, the dynamic-shape spec torch.export is asked
//! for, and the valuations (export sizes and probes) it is checked at.
//!
//! A case is plain data: it serializes to JSON with a schema version and holds no free-form
//! strings, so a corpus file can never carry code. `Case::validate` re-derives every type
//! and checks that eager PyTorch accepts the model at the export valuation and every normal
//! probe; `Case::valid_at` answers the same for any other valuation.

mod expr;
mod ops;
mod region;

pub use expr::*;
pub use ops::*;
pub(crate) use region::op_makes_small_piece;
pub use region::{Decision, DecisionKind, in_runs};

use serde::{Deserialize, Serialize};
use std::path::Path;

/// Bumped whenever a case written by an older shapefuzz would be read differently.
pub const SCHEMA_VERSION: u32 = 1;

/// The sizes the oracle scans each symbol over when it asks what the exported program
/// accepts; ground truth is computed over `2..=SCAN_MAX` as well.
pub const SCAN_MAX: i64 = 64;

/// What is true of an input dimension, by construction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DimTruth {
    /// Eager accepts any size >= 2 here.
    Free,
    /// The size is a fixed constant.
    Static,
    /// Must equal dim `dim` of input `input` (the two share a symbol).
    Tied { input: u32, dim: u32 },
    /// Must be a multiple of `k` (the size is `k * symbol`).
    MultipleOf { k: i64 },
    /// Eager only accepts the symbol within these inclusive runs of `2..=SCAN_MAX`.
    Bounded { runs: Vec<[i64; 2]> },
}

/// What the `dynamic_shapes` argument says of an input dimension.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DimSpec {
    /// Not mentioned: torch.export keeps it static.
    Unspecified,
    Auto,
    Dynamic,
    Static,
    /// `Dim("s<k>", min=, max=)` named after the dim's symbol, shared by tied dims.
    Named {
        min: Option<i64>,
        max: Option<i64>,
    },
    /// `k * Dim("s<k>")` for a dim that is a multiple of its symbol.
    Derived {
        k: i64,
    },
    /// The ShapesSpec API (`torch.fx.experimental.dynamic_spec`): `ShapeVar("s<k>", min=,
    /// max=)` of the dim's symbol, shared by every dim of it (`s<k> * k` for a dim `k * s`;
    /// the int itself for an int input). Unbacked: torch promises never to specialize it,
    /// 0 and 1 included, and to assert the range at run time. A case that uses it uses it
    /// for every specified dim (one `dynamic_shapes` argument takes one API).
    Var {
        min: i64,
        max: Option<i64>,
    },
}

impl DimSpec {
    /// Whether the user asked for this dim to stay dynamic.
    pub fn requests_dynamic(&self) -> bool {
        !matches!(self, DimSpec::Unspecified | DimSpec::Static)
    }

    /// Whether the spec belongs to the `Dim` API (`Dim.AUTO`, `Dim("s0")`, ...), as opposed
    /// to ShapesSpec's `ShapeVar`; "unspecified" belongs to both.
    pub fn is_dim_api(&self) -> bool {
        !matches!(self, DimSpec::Unspecified | DimSpec::Var { .. })
    }
}

/// Which of torch.export's spec APIs a case's `dynamic_shapes` is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpecApi {
    /// `torch.export.Dim`: hints (`AUTO`, `DYNAMIC`, `STATIC`) and named, derived Dims.
    Dim,
    /// `ShapesSpec` / `ParamsSpec` / `TensorSpec` / `ShapeVar`: unbacked, never specialized.
    Shapes,
    /// `torch.export.AdditionalInputs`: the `Dim.DYNAMIC` spec inferred from more example
    /// inputs, which the exported program is verified to take.
    Additional,
    /// `torch.export.ShapesCollection`: the same `Dim` spec, assigned tensor by tensor to the
    /// very example inputs (keyed by their identity) instead of following the inputs' structure.
    Collection,
}

impl SpecApi {
    pub fn name(self) -> &'static str {
        match self {
            SpecApi::Dim => "dim",
            SpecApi::Shapes => "shapes",
            SpecApi::Additional => "additional",
            SpecApi::Collection => "collection",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InputDim {
    /// `Const(c)`, `Sym(s)` or `Mul(Const(k), Sym(s))`.
    pub size: DimExpr,
    pub truth: DimTruth,
    pub spec: DimSpec,
}

/// What a model input is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputKind {
    #[default]
    Tensor,
    /// A Python int (`forward(self, x, n)`): its one "dim" is its value, with its own spec
    /// (`Dim.AUTO`, `Dim.DYNAMIC` or none; torch refuses named Dims for ints).
    Int,
    /// A list of Python ints (`forward(self, x, ns)`, read as `ns[i]`): each "dim" is one
    /// element with its own spec, as for `Int`.
    IntList,
    /// A Python float: its one "dim" is a constant `c`, the value `c / 2`. torch burns floats
    /// in; a spec other than none is an error export owes the user.
    Float,
    /// A Python bool: its one "dim" is 0 or 1. Burned in like a float.
    Bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Input {
    #[serde(default, skip_serializing_if = "InputKind::is_tensor")]
    pub kind: InputKind,
    pub dtype: DType,
    pub dims: Vec<InputDim>,
}

impl InputKind {
    pub fn is_tensor(&self) -> bool {
        *self == InputKind::Tensor
    }

    /// Whether each "dim" of the input is a size-like int (a symbol under export).
    pub fn is_int_like(&self) -> bool {
        matches!(self, InputKind::Int | InputKind::IntList)
    }
}

impl Input {
    /// An int input whose value is `size`.
    pub fn int(size: DimExpr) -> Input {
        Input {
            kind: InputKind::Int,
            dtype: DType::I64,
            dims: vec![InputDim {
                size,
                truth: DimTruth::Free,
                spec: DimSpec::Unspecified,
            }],
        }
    }

    /// The type the model sees.
    pub fn value_type(&self) -> Type {
        match self.kind {
            InputKind::Tensor => Type::Tensor(self.tensor_type()),
            InputKind::Int => Type::Int(
                self.dims
                    .first()
                    .map(|d| d.size.clone())
                    .unwrap_or(DimExpr::Const(0)),
            ),
            InputKind::IntList => Type::IntList(self.dims.iter().map(|d| d.size.clone()).collect()),
            InputKind::Float => Type::Float(FloatExpr::from_ratio(self.first_const(), 2)),
            InputKind::Bool => Type::Bool(BoolExpr::Cmp(
                self.first_const(),
                CmpFn::Eq,
                DimExpr::Const(1),
            )),
        }
    }

    fn first_const(&self) -> DimExpr {
        self.dims
            .first()
            .map(|d| d.size.clone())
            .unwrap_or(DimExpr::Const(0))
    }

    /// The Python value of a float or bool input, as its literal.
    pub fn literal(&self) -> Option<String> {
        let c = self.first_const().as_const()?;
        match self.kind {
            InputKind::Float => Some(format!("{:?}", c as f64 / 2.0)),
            InputKind::Bool => Some(if c == 1 { "True" } else { "False" }.into()),
            _ => None,
        }
    }

    pub fn tensor_type(&self) -> TensorType {
        let (lo, hi) = match self.dtype {
            // Integer inputs hold 0 or 1 (see `render::make_inputs`).
            DType::I64 | DType::Bool => (Some(0), Some(1)),
            DType::F32 => (None, None),
        };
        TensorType {
            dtype: self.dtype,
            shape: self.dims.iter().map(|d| d.size.clone()).collect(),
            lo,
            hi,
        }
    }
}

/// A probe valuation and whether it belongs to the 0/1 class, which torch specializes by
/// design and is reported apart.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Probe {
    pub sizes: Valuation,
    pub edge: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Case {
    pub schema_version: u32,
    pub inputs: Vec<Input>,
    /// Node `i` defines value `ValueRef::Node(i)`; operands refer to earlier nodes only.
    pub nodes: Vec<Op>,
    pub outputs: Vec<ValueRef>,
    /// One size per symbol: the example inputs torch.export traces with.
    pub export: Valuation,
    pub probes: Vec<Probe>,
    /// ShapesSpec's `assumptions`: relations between the ShapeVars that export may use and
    /// the program asserts at run time.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assumptions: Vec<Assumption>,
    /// Exported with `prefer_deferred_runtime_asserts_over_guards=True`: torch keeps the
    /// checks it derives as runtime assertions in the graph rather than input guards.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deferred_asserts: bool,
    /// `torch.export.AdditionalInputs`: more example sizes (one per symbol each) beside
    /// `export`. torch makes a dim `Dim.DYNAMIC` where its size differs among the examples and
    /// static where it does not, and promises that the exported program is verified to take
    /// each one. Every dim's spec is that inference ([`Case::infer_additional_specs`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub additional_inputs: Vec<Valuation>,
    /// The `Dim` spec is assigned through a `torch.export.ShapesCollection`, keyed by the
    /// example tensors themselves; torch builds the same spec from it. Only tensor dims can be
    /// assigned this way (an int takes torch's private `_IntWrapper`), so no other input asks
    /// to be dynamic.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shapes_collection: bool,
}

/// One of ShapesSpec's `assumptions` (`assumptions=[s0 % 2 == 0]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Assumption {
    /// `s<sym> % modulus == remainder`.
    Mod {
        sym: u32,
        modulus: i64,
        remainder: i64,
    },
    /// `s<lo> <= s<hi>`: a relation between two ShapeVars.
    Le { lo: u32, hi: u32 },
}

impl Assumption {
    /// The symbols it is about.
    pub fn symbols(&self) -> Vec<usize> {
        match *self {
            Assumption::Mod { sym, .. } => vec![sym as usize],
            Assumption::Le { lo, hi } => vec![lo as usize, hi as usize],
        }
    }

    /// The same assumption over renumbered symbols (`map[old]`), or None when one of its
    /// symbols is gone.
    pub fn renumbered(&self, map: &[Option<u32>]) -> Option<Assumption> {
        let at = |s: u32| map.get(s as usize).copied().flatten();
        Some(match *self {
            Assumption::Mod {
                sym,
                modulus,
                remainder,
            } => Assumption::Mod {
                sym: at(sym)?,
                modulus,
                remainder,
            },
            Assumption::Le { lo, hi } => Assumption::Le {
                lo: at(lo)?,
                hi: at(hi)?,
            },
        })
    }

    /// Whether `sizes` (one per symbol) satisfy it.
    pub fn holds(&self, sizes: &[i64]) -> bool {
        match *self {
            Assumption::Mod {
                sym,
                modulus,
                remainder,
            } => sizes
                .get(sym as usize)
                .is_some_and(|&n| modulus > 0 && n.rem_euclid(modulus) == remainder),
            Assumption::Le { lo, hi } => match (sizes.get(lo as usize), sizes.get(hi as usize)) {
                (Some(a), Some(b)) => a <= b,
                _ => false,
            },
        }
    }

    /// As a user writes it over the ShapeVars: `s0 % 2 == 0`.
    pub fn to_python(&self) -> String {
        match self {
            Assumption::Mod {
                sym,
                modulus,
                remainder,
            } => format!("s{sym} % {modulus} == {remainder}"),
            Assumption::Le { lo, hi } => format!("s{lo} <= s{hi}"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: cannot read: {err}")]
    Io { path: String, err: std::io::Error },
    #[error("{path}: not a shapefuzz case ({err}); fix or remove the file")]
    Json {
        path: String,
        err: serde_json::Error,
    },
    #[error(
        "{path}: schema version {found}, this shapefuzz reads version {SCHEMA_VERSION}; regenerate the case or use a matching shapefuzz"
    )]
    Version { path: String, found: u64 },
    #[error("{path}: invalid case: {reason}; fix or remove the file")]
    Invalid { path: String, reason: String },
}

impl Case {
    pub fn symbol_count(&self) -> usize {
        self.export.len()
    }

    /// The spec API the case is written in: AdditionalInputs when it has any, ShapesSpec
    /// when any dim is a `ShapeVar`.
    pub fn spec_api(&self) -> SpecApi {
        if !self.additional_inputs.is_empty() {
            return SpecApi::Additional;
        }
        if self.shapes_collection {
            return SpecApi::Collection;
        }
        let var = self
            .inputs
            .iter()
            .flat_map(|i| &i.dims)
            .any(|d| matches!(d.spec, DimSpec::Var { .. }));
        if var { SpecApi::Shapes } else { SpecApi::Dim }
    }

    /// Under ShapesSpec, symbol `s`'s declared range `[min, max]` (`max` None: no bound);
    /// None for a symbol no `ShapeVar` names.
    pub fn var_range(&self, s: usize) -> Option<(i64, Option<i64>)> {
        self.inputs
            .iter()
            .flat_map(|i| &i.dims)
            .find_map(|d| match d.spec {
                DimSpec::Var { min, max } if d.size.symbol_index() == Some(s) => Some((min, max)),
                _ => None,
            })
    }

    /// The same model, sizes and probes with its spec written in the other API, as a user
    /// switching would write it (its "twin"); None when the spec is already in `api`, or
    /// when nothing of it can be said in `api`.
    ///
    /// - To ShapesSpec: a symbol every dim of which asks to stay dynamic, and that tensor
    ///   dims or ints carry (a bare dim among them, which binds the var), becomes a
    ///   `ShapeVar` with the named Dim's bounds, or ShapeVar's own default (from 0) for
    ///   `AUTO`/`DYNAMIC`; everything else is static.
    /// - To `Dim`: a ShapeVar becomes a named `Dim` with its bounds (min raised to 2, torch's
    ///   effective bound), `k * Dim` for a dim `k * s`, `Dim.DYNAMIC` for an int or a list's
    ///   int (torch takes no named Dims for ints); the assumptions, which the Dim API cannot
    ///   state, are left out.
    /// - Between `Dim` and ShapesCollection: the same specs, assigned tensor by tensor or
    ///   written as a dict (None when an int asks to be dynamic, which a collection cannot
    ///   say).
    pub fn in_spec_api(&self, api: SpecApi) -> Option<Case> {
        // AdditionalInputs takes examples, which another spec does not say
        if self.spec_api() == api || api == SpecApi::Additional {
            return None;
        }
        if api == SpecApi::Collection {
            let mut twin = match self.spec_api() {
                SpecApi::Dim => self.clone(),
                _ => self.in_spec_api(SpecApi::Dim)?,
            };
            twin.shapes_collection = true;
            return twin.validate().is_ok().then_some(twin);
        }
        if self.spec_api() == SpecApi::Collection {
            let mut twin = self.clone();
            twin.shapes_collection = false;
            return match api {
                SpecApi::Dim => Some(twin),
                _ => twin.in_spec_api(api),
            };
        }
        let to_shapes = api == SpecApi::Shapes;
        let mut twin = self.clone();
        twin.assumptions.clear();
        twin.additional_inputs.clear();
        twin.deferred_asserts = false;
        let dims_of = |s: usize| {
            self.inputs
                .iter()
                .flat_map(|i| i.dims.iter().map(move |d| (i.kind, d)))
                .filter(move |(_, d)| d.size.symbol_index() == Some(s))
        };
        let mut ranges: Vec<Option<(i64, Option<i64>)>> = vec![None; self.symbol_count()];
        for (s, range) in ranges.iter_mut().enumerate() {
            *range = if to_shapes {
                let binds = dims_of(s).any(|(_, d)| matches!(d.size, DimExpr::Sym(_)));
                let all_dynamic = dims_of(s).all(|(kind, d)| {
                    matches!(
                        kind,
                        InputKind::Tensor | InputKind::Int | InputKind::IntList
                    ) && d.spec.requests_dynamic()
                        && matches!(d.size, DimExpr::Sym(_) | DimExpr::Mul(..))
                });
                (binds && all_dynamic).then(|| {
                    dims_of(s)
                        .find_map(|(_, d)| match d.spec {
                            DimSpec::Named { min, max } => Some((min.unwrap_or(0), max)),
                            _ => None,
                        })
                        .unwrap_or((0, None))
                })
            } else {
                self.var_range(s).map(|(lo, hi)| (lo.max(2), hi))
            };
        }
        for input in &mut twin.inputs {
            let kind = input.kind;
            for d in &mut input.dims {
                let range = d.size.symbol_index().and_then(|s| ranges[s]);
                d.spec = match (to_shapes, range) {
                    (true, Some((min, max))) => DimSpec::Var { min, max },
                    (true, None) if d.spec == DimSpec::Static => DimSpec::Static,
                    (true, None) => DimSpec::Unspecified,
                    (false, None) => d.spec.clone(),
                    (false, Some(_)) if kind != InputKind::Tensor => DimSpec::Dynamic,
                    (false, Some((min, max))) => match d.size {
                        DimExpr::Mul(ref k, _) => DimSpec::Derived {
                            k: k.as_const().unwrap_or(1),
                        },
                        _ => DimSpec::Named {
                            min: Some(min),
                            max,
                        },
                    },
                };
            }
        }
        if !to_shapes {
            // `k * Dim` needs its Dim named on a tensor dim; without one the symbol is
            // DYNAMIC throughout.
            for s in 0..twin.symbol_count() {
                let named = twin.inputs.iter().flat_map(|i| &i.dims).any(|d| {
                    d.size.symbol_index() == Some(s) && matches!(d.spec, DimSpec::Named { .. })
                });
                if !named {
                    for d in twin.inputs.iter_mut().flat_map(|i| &mut i.dims) {
                        if d.size.symbol_index() == Some(s)
                            && matches!(d.spec, DimSpec::Derived { .. })
                        {
                            d.spec = DimSpec::Dynamic;
                        }
                    }
                }
            }
        }
        (twin.spec_api() == api && twin.validate().is_ok()).then_some(twin)
    }

    /// The declared ShapeVar ranges and assumptions as text: `s0 in [2, 40], s1 >= 0,
    /// s0 % 2 == 0`.
    pub fn ranges_text(&self) -> String {
        (0..self.symbol_count())
            .filter_map(|s| {
                let (lo, hi) = self.var_range(s)?;
                Some(match hi {
                    Some(h) => format!("s{s} in [{lo}, {h}]"),
                    None => format!("s{s} >= {lo}"),
                })
            })
            .chain(self.assumptions.iter().map(Assumption::to_python))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Under ShapesSpec, whether `sizes` lie inside every declared range and satisfy every
    /// assumption (the sizes torch promises the program takes); always true under the `Dim`
    /// API.
    pub fn in_declared_ranges(&self, sizes: &[i64]) -> bool {
        (0..self.symbol_count()).all(|s| match self.var_range(s) {
            Some((lo, hi)) => sizes
                .get(s)
                .is_some_and(|&n| n >= lo && hi.is_none_or(|h| n <= h)),
            None => true,
        }) && self.assumptions.iter().all(|a| a.holds(sizes))
    }

    pub fn normal_probes(&self) -> impl Iterator<Item = &Probe> {
        self.probes.iter().filter(|p| !p.edge)
    }

    /// Valuations at which the case must be valid: export, every additional example, then
    /// every normal probe.
    pub fn checked_valuations(&self) -> Vec<Valuation> {
        std::iter::once(self.export.clone())
            .chain(self.additional_inputs.iter().cloned())
            .chain(self.normal_probes().map(|p| p.sizes.clone()))
            .collect()
    }

    /// Under AdditionalInputs, each dim's spec as torch infers it: `Dim.DYNAMIC` where its
    /// size at some additional example differs from its size at `export`, static elsewhere
    /// (`AdditionalInputs.dynamic_shapes`). Unchanged without additional inputs.
    pub fn infer_additional_specs(&mut self) {
        if self.additional_inputs.is_empty() {
            return;
        }
        let specs: Vec<Vec<DimSpec>> = self
            .inputs
            .iter()
            .map(|i| i.dims.iter().map(|d| self.additional_spec(d)).collect())
            .collect();
        for (input, specs) in self.inputs.iter_mut().zip(specs) {
            for (d, spec) in input.dims.iter_mut().zip(specs) {
                d.spec = spec;
            }
        }
    }

    /// The spec AdditionalInputs infers for one dim (see [`Case::infer_additional_specs`]).
    fn additional_spec(&self, d: &InputDim) -> DimSpec {
        let here = d.size.eval(&self.export);
        if self
            .additional_inputs
            .iter()
            .any(|v| d.size.eval(v) != here)
        {
            DimSpec::Dynamic
        } else {
            DimSpec::Unspecified
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a case always serializes")
    }

    /// Parses a case, checking the schema version before the shape of the rest so that an
    /// old file gets the version error, not a confusing field error.
    pub fn from_json(text: &str, path: &str) -> Result<Case, LoadError> {
        let raw: serde_json::Value = serde_json::from_str(text).map_err(|err| LoadError::Json {
            path: path.into(),
            err,
        })?;
        match raw.get("schema_version").and_then(|v| v.as_u64()) {
            Some(v) if v == SCHEMA_VERSION as u64 => {}
            Some(found) => {
                return Err(LoadError::Version {
                    path: path.into(),
                    found,
                });
            }
            None => {
                return Err(LoadError::Invalid {
                    path: path.into(),
                    reason: "no schema_version".into(),
                });
            }
        }
        let case: Case = serde_json::from_value(raw).map_err(|err| LoadError::Json {
            path: path.into(),
            err,
        })?;
        case.validate().map_err(|e| LoadError::Invalid {
            path: path.into(),
            reason: e.0,
        })?;
        Ok(case)
    }

    pub fn load(path: &Path) -> Result<Case, LoadError> {
        let p = path.display().to_string();
        let text = read_bounded(path).map_err(|err| LoadError::Io {
            path: p.clone(),
            err,
        })?;
        Case::from_json(&text, &p)
    }

    /// Inputs are tensors eager allocates too: the element limit holds for them at every
    /// size a case is run at, as for every node's output.
    fn inputs_fit(&self, v: &Valuation) -> Result<(), Invalid> {
        for (i, input) in self.inputs.iter().enumerate() {
            if !input.kind.is_tensor() {
                continue;
            }
            let dims: Vec<DimExpr> = input.dims.iter().map(|d| d.size.clone()).collect();
            match product(&dims).eval(v) {
                Some(n) if (0..=MAX_NUMEL).contains(&n) => {}
                n => {
                    return Err(Invalid(format!(
                        "input {} has {} elements at {v:?}, above the limit of {MAX_NUMEL}",
                        input_name(i),
                        n.map_or("too many".to_string(), |n| n.to_string())
                    )));
                }
            }
        }
        Ok(())
    }

    /// Types of every value at the given valuations, inputs first, or the first problem.
    pub fn infer_types(&self, valuations: &[Valuation]) -> Result<Types, Invalid> {
        let inputs: Vec<Type> = self.inputs.iter().map(Input::value_type).collect();
        for v in valuations {
            self.inputs_fit(v)?;
        }
        let mut nodes: Vec<Type> = Vec::with_capacity(self.nodes.len());
        // Counted as it goes, so a hostile case stops early instead of running for minutes.
        let mut work = 0usize;
        for (i, op) in self.nodes.iter().enumerate() {
            for v in op.operands() {
                let ok = match v {
                    ValueRef::Input(k) => (k as usize) < inputs.len(),
                    ValueRef::Node(k) => (k as usize) < i,
                };
                if !ok {
                    return Err(Invalid(format!(
                        "v{i}: operand {v} is not defined before it"
                    )));
                }
            }
            let lookup = |v: ValueRef| match v {
                ValueRef::Input(k) => inputs.get(k as usize).cloned(),
                ValueRef::Node(k) => nodes.get(k as usize).cloned(),
            };
            let cx = InferCtx {
                types: &lookup,
                valuations,
                node: i as u32,
            };
            let ty = op
                .infer(&cx)
                .map_err(|e| Invalid(format!("v{i} ({}): {}", op.kind(), e.0)))?;
            let size = ty.expr_nodes(MAX_EXPR_NODES);
            if size > MAX_EXPR_NODES {
                return Err(Invalid(format!(
                    "v{i} ({}): its size expressions exceed {MAX_EXPR_NODES} nodes",
                    op.kind()
                )));
            }
            work += (1 + size) * (1 + valuations.len());
            if work > MAX_INFER_WORK {
                return Err(Invalid(format!(
                    "`nodes`: checking v0..v{i} at {} valuation(s) takes more than {MAX_INFER_WORK} expression-node evaluations, the limit; use fewer nodes, probes or less size arithmetic",
                    valuations.len()
                )));
            }
            nodes.push(ty);
        }
        Ok(Types { inputs, nodes })
    }

    /// Checks everything a well-formed case promises.
    pub fn validate(&self) -> Result<Types, Invalid> {
        if self.schema_version != SCHEMA_VERSION {
            return Err(Invalid(format!("schema version {}", self.schema_version)));
        }
        if self.inputs.is_empty() || self.outputs.is_empty() {
            return Err(Invalid("a case needs inputs and outputs".into()));
        }
        self.validate_limits()?;
        self.validate_probe_arity()?;
        for (i, input) in self.inputs.iter().enumerate() {
            self.validate_input(i, input)?;
        }
        self.validate_spec_api()?;
        for p in self.probes.iter().filter(|p| p.edge) {
            self.inputs_fit(&p.sizes)?;
        }
        // Types first: a broken model explains itself better than the truth it breaks.
        let types = self.infer_types(&self.checked_valuations())?;
        let truth_work = self.truth_work(&types);
        if truth_work > MAX_TRUTH_WORK {
            let nsym = self.symbol_count();
            return Err(Invalid(format!(
                "`inputs`/`nodes`: deriving the ground truth ({nsym} symbol(s), each scanned at {} sizes) takes about {truth_work} expression-node evaluations, above the limit of {MAX_TRUTH_WORK}; use fewer symbols or nodes",
                SCAN_MAX - 1
            )));
        }
        let truth = self.derive_truth();
        for (i, input) in self.inputs.iter().enumerate() {
            for (d, dim) in input.dims.iter().enumerate() {
                if dim.truth != truth[i][d] {
                    return Err(Invalid(format!(
                        "input {i} dim {d}: recorded truth {:?} but the model says {:?}",
                        dim.truth, truth[i][d]
                    )));
                }
            }
        }
        for o in &self.outputs {
            match types.get(*o) {
                Some(Type::Tensor(_)) => {}
                _ => return Err(Invalid(format!("output {o} is not a tensor"))),
            }
        }
        Ok(types)
    }

    /// The bounds on a case's size and on every size it names: a hostile case cannot make
    /// checking it unbounded.
    fn validate_limits(&self) -> Result<(), Invalid> {
        let limits = [
            ("nodes", self.nodes.len(), MAX_NODES),
            ("inputs", self.inputs.len(), MAX_INPUTS),
            ("outputs", self.outputs.len(), MAX_NODES + MAX_INPUTS),
            ("export", self.export.len(), MAX_SYMBOLS),
            ("probes", self.probes.len(), MAX_PROBES),
            (
                "additional_inputs",
                self.additional_inputs.len(),
                MAX_ADDITIONAL_INPUTS,
            ),
            (
                "nodes times probes",
                self.nodes.len() * (self.probes.len() + self.additional_inputs.len() + 1),
                MAX_CHECK_WORK,
            ),
        ];
        for (field, n, max) in limits {
            if n > max {
                return Err(Invalid(format!("`{field}`: {n}, above the limit of {max}")));
            }
        }
        let sizes = self
            .export
            .iter()
            .chain(self.probes.iter().flat_map(|p| p.sizes.iter()))
            .chain(self.additional_inputs.iter().flatten());
        if let Some(s) = sizes.into_iter().find(|&&s| !(0..=MAX_NUMEL).contains(&s)) {
            return Err(Invalid(format!(
                "`export`/`probes`/`additional_inputs`: size {s} outside 0..={MAX_NUMEL}"
            )));
        }
        Ok(())
    }

    /// One size per symbol in every probe; export sizes of 2 or more.
    fn validate_probe_arity(&self) -> Result<(), Invalid> {
        let nsym = self.symbol_count();
        for p in &self.probes {
            if p.sizes.len() != nsym {
                return Err(Invalid(
                    "probe valuation has the wrong number of symbols".into(),
                ));
            }
        }
        if self.export.iter().any(|&s| s < 2) {
            return Err(Invalid("export sizes must be >= 2".into()));
        }
        Ok(())
    }

    /// An input's kind, sizes and specs: its values of the shapes its kind takes, and each
    /// dim's spec one the renderer can write for its size.
    fn validate_input(&self, i: usize, input: &Input) -> Result<(), Invalid> {
        let nsym = self.symbol_count();
        if input.dims.len() > MAX_RANK {
            return Err(Invalid(format!("input {i}: rank above {MAX_RANK}")));
        }
        let hint_spec = |d: &InputDim| {
            matches!(
                d.spec,
                DimSpec::Unspecified | DimSpec::Auto | DimSpec::Dynamic
            )
        };
        let int_value = |d: &InputDim| matches!(d.size, DimExpr::Const(_) | DimExpr::Sym(_));
        let ok = match input.kind {
            InputKind::Tensor => true,
            // an int can also be a ShapeVar (ShapesSpec takes IntVar for a scalar)
            InputKind::Int => matches!(input.dims.as_slice(),
                [d] if int_value(d) && (hint_spec(d) || matches!(d.spec, DimSpec::Var { .. }))),
            // a list of ints, also with ShapeVar elements (ShapesSpec's `SeqSpec`)
            InputKind::IntList => {
                (1..=4).contains(&input.dims.len())
                    && input.dims.iter().all(|d| {
                        int_value(d) && (hint_spec(d) || matches!(d.spec, DimSpec::Var { .. }))
                    })
            }
            InputKind::Float => matches!(input.dims.as_slice(),
                [d] if matches!(d.size, DimExpr::Const(c) if (1..=64).contains(&c)) && hint_spec(d)),
            InputKind::Bool => matches!(input.dims.as_slice(),
                [d] if matches!(d.size, DimExpr::Const(0 | 1)) && hint_spec(d)),
        };
        if !ok {
            return Err(Invalid(format!(
                "input {i}: a {:?} input has values c or s (a float 1..=64 halves, a bool 0 or 1; a list 1 to 4 of them), specified as AUTO, DYNAMIC or not at all (an int or a list's int also as a ShapeVar)",
                input.kind
            )));
        }
        for (d, dim) in input.dims.iter().enumerate() {
            let mut syms = vec![];
            dim.size.symbols(&mut syms);
            if syms.iter().any(|s| s.0 as usize >= nsym) {
                return Err(Invalid(format!("input {i} dim {d}: unknown symbol")));
            }
            let shape_ok = match &dim.size {
                DimExpr::Const(c) => *c >= 0,
                DimExpr::Sym(_) => true,
                DimExpr::Mul(k, s) => {
                    matches!((&**k, &**s), (DimExpr::Const(k), DimExpr::Sym(_)) if *k >= 2)
                }
                _ => false,
            };
            if !shape_ok {
                return Err(Invalid(format!(
                    "input {i} dim {d}: size {} is not c, s or k*s",
                    dim.size
                )));
            }
            // The spec must be expressible for this size, or the rendered call is wrong.
            let spec_ok = match (&dim.spec, &dim.size) {
                (DimSpec::Named { .. }, DimExpr::Sym(_)) => true,
                (DimSpec::Named { .. }, _) => false,
                (DimSpec::Derived { k }, DimExpr::Mul(c, _)) => c.as_const() == Some(*k),
                (DimSpec::Derived { .. }, _) => false,
                (DimSpec::Var { min, max }, DimExpr::Sym(_) | DimExpr::Mul(..)) => {
                    *min >= 0
                        && max.is_none_or(|m| m >= *min)
                        && matches!(
                            input.kind,
                            InputKind::Tensor | InputKind::Int | InputKind::IntList
                        )
                }
                (DimSpec::Var { .. }, _) => false,
                _ => true,
            };
            if !spec_ok {
                return Err(Invalid(format!(
                    "input {i} dim {d}: spec {:?} does not fit size {}",
                    dim.spec, dim.size
                )));
            }
        }
        Ok(())
    }

    /// The rules of the spec API the case is written in.
    fn validate_spec_api(&self) -> Result<(), Invalid> {
        if !self.additional_inputs.is_empty() {
            self.validate_additional_inputs()?;
        }
        if self.shapes_collection {
            self.validate_shapes_collection()?;
        }
        if self.spec_api() == SpecApi::Shapes {
            self.validate_shapes_spec()?;
        } else if !self.assumptions.is_empty() {
            return Err(Invalid(
                "`assumptions` belong to a ShapesSpec case (a dim written as a ShapeVar)".into(),
            ));
        }
        Ok(())
    }

    /// An AdditionalInputs case: each example a size per symbol, 2 or more (like `export`),
    /// and every dim's spec the one torch infers from them.
    fn validate_additional_inputs(&self) -> Result<(), Invalid> {
        for v in &self.additional_inputs {
            if v.len() != self.symbol_count() {
                return Err(Invalid(
                    "`additional_inputs`: an example has the wrong number of symbols".into(),
                ));
            }
            if v.iter().any(|&n| n < 2) {
                return Err(Invalid(
                    "`additional_inputs`: example sizes must be >= 2, like `export`".into(),
                ));
            }
            if !self.normal_probes().any(|p| p.sizes == *v) {
                return Err(Invalid(
                    "`additional_inputs`: each example must also be a probe (the oracle runs the program at it)".into(),
                ));
            }
        }
        for (i, input) in self.inputs.iter().enumerate() {
            for (d, dim) in input.dims.iter().enumerate() {
                let want = self.additional_spec(dim);
                if dim.spec != want {
                    return Err(Invalid(format!(
                        "input {i} dim {d}: spec {:?}, but AdditionalInputs infers {want:?} from the examples (DYNAMIC where the size differs, static where not)",
                        dim.spec
                    )));
                }
            }
        }
        Ok(())
    }

    /// A ShapesCollection case: a `Dim` spec, on tensors only.
    fn validate_shapes_collection(&self) -> Result<(), Invalid> {
        if !self.additional_inputs.is_empty() {
            return Err(Invalid(
                "`shapes_collection` with `additional_inputs`: they are two ways to give the spec, and a case takes one".into(),
            ));
        }
        for (i, input) in self.inputs.iter().enumerate() {
            for (d, dim) in input.dims.iter().enumerate() {
                if matches!(dim.spec, DimSpec::Var { .. }) {
                    return Err(Invalid(format!(
                        "input {i} dim {d}: spec {:?} in a ShapesCollection case, which assigns `Dim` specs",
                        dim.spec
                    )));
                }
                if input.kind != InputKind::Tensor && dim.spec.requests_dynamic() {
                    return Err(Invalid(format!(
                        "input {i}: a ShapesCollection assigns specs to tensors only (an int needs torch's private `_IntWrapper`), and this {:?} input asks to be dynamic",
                        input.kind
                    )));
                }
            }
        }
        Ok(())
    }

    /// A ShapesSpec case: one API throughout, one range per symbol, the export sizes inside
    /// the ranges (torch refuses example inputs outside them).
    fn validate_shapes_spec(&self) -> Result<(), Invalid> {
        for (i, input) in self.inputs.iter().enumerate() {
            for (d, dim) in input.dims.iter().enumerate() {
                if dim.spec.is_dim_api() && dim.spec != DimSpec::Static {
                    return Err(Invalid(format!(
                        "input {i} dim {d}: spec {:?} in a ShapesSpec case (a `dynamic_shapes` argument takes one API: ShapeVar or nothing)",
                        dim.spec
                    )));
                }
                if let DimSpec::Var { min, max } = dim.spec {
                    let s = dim.size.symbol_index().unwrap_or(usize::MAX);
                    if self.var_range(s) != Some((min, max)) {
                        return Err(Invalid(format!(
                            "input {i} dim {d}: the ShapeVar of s{s} has another range here than at its first dim"
                        )));
                    }
                }
            }
        }
        // every dim of a ShapeVar's symbol is written with it: a static dim on the symbol
        // would pin what the spec declares dynamic
        for (i, input) in self.inputs.iter().enumerate() {
            for (d, dim) in input.dims.iter().enumerate() {
                if let Some(s) = dim.size.symbol_index()
                    && self.var_range(s).is_some()
                    && !matches!(dim.spec, DimSpec::Var { .. })
                {
                    return Err(Invalid(format!(
                        "input {i} dim {d}: s{s} is a ShapeVar elsewhere, and every dim of it must be written with it"
                    )));
                }
            }
        }
        for a in &self.assumptions {
            if a.symbols().iter().any(|&s| self.var_range(s).is_none()) {
                return Err(Invalid(format!(
                    "`assumptions`: {} is about a symbol no ShapeVar names",
                    a.to_python()
                )));
            }
            if let Assumption::Mod {
                modulus, remainder, ..
            } = *a
                && (!(2..=64).contains(&modulus) || !(0..modulus).contains(&remainder))
            {
                return Err(Invalid(format!(
                    "`assumptions`: {} needs a modulus in 2..=64 and a remainder below it",
                    a.to_python()
                )));
            }
            if let Assumption::Le { lo, hi } = *a
                && lo == hi
            {
                return Err(Invalid(format!(
                    "`assumptions`: {} relates a symbol to itself",
                    a.to_python()
                )));
            }
        }
        if self.deferred_asserts && self.spec_api() == SpecApi::Shapes {
            return Err(Invalid(
                "`deferred_asserts`: torch refuses prefer_deferred_runtime_asserts_over_guards beside a ShapesSpec (its unbacked symbols already assert at run time)".into(),
            ));
        }
        if !self.in_declared_ranges(&self.export) {
            return Err(Invalid(
                "`export`: the example sizes lie outside a ShapeVar's range or assumption".into(),
            ));
        }
        Ok(())
    }

    /// About how many expression nodes [`Case::derive_truth`] builds and evaluates: one
    /// inference per symbol and scanned size, each over every value's expressions.
    pub fn truth_work(&self, types: &Types) -> usize {
        let per_inference: usize = types
            .inputs
            .iter()
            .chain(&types.nodes)
            .map(|t| 1 + t.expr_nodes(MAX_EXPR_NODES))
            .sum();
        self.symbol_count() * (SCAN_MAX as usize - 1) * per_inference * 2
    }

    /// Whether the model reads, at these sizes, a value torch leaves unspecified: the
    /// stride of a dim of size 0 or 1, or any stride of an empty tensor, that an op returned
    /// (`x.contiguous().stride(d)`). `contiguous()` keeps such a tensor as it is, since
    /// contiguity ignores those strides, so eager and an exported program may answer
    /// differently and both be right. A size that depends on data counts as possibly empty.
    /// Inputs are made contiguous by the case itself, so their strides are specified.
    pub fn reads_unspecified_stride(&self, v: &[i64]) -> bool {
        let strides: Vec<&Stride> = self
            .nodes
            .iter()
            .filter_map(|op| match op {
                Op::Stride(s) if matches!(s.x, ValueRef::Node(_)) => Some(s),
                _ => None,
            })
            .collect();
        if strides.is_empty() {
            return false;
        }
        let Ok(types) = self.infer_types(&[]) else {
            return false;
        };
        strides.iter().any(|s| {
            let Some(t) = types.get(s.x).and_then(Type::tensor) else {
                return false;
            };
            let sizes: Vec<Option<i64>> = t
                .shape
                .iter()
                .map(|d| if d.has_data() { None } else { d.eval(v) })
                .collect();
            let empty = sizes.iter().any(|n| n.is_none_or(|n| n == 0));
            let flat = sizes
                .get(s.dim as usize)
                .is_some_and(|n| n.is_none_or(|n| n <= 1));
            empty || flat
        })
    }

    /// Whether eager PyTorch accepts the model at this valuation (by the IR's shape rules).
    pub fn valid_at(&self, v: &Valuation) -> bool {
        self.infer_types(std::slice::from_ref(v)).is_ok()
    }

    /// For each symbol, the inclusive runs of `2..=SCAN_MAX` at which the model is valid
    /// with the other symbols at their export sizes.
    pub fn valid_runs(&self) -> Vec<Vec<[i64; 2]>> {
        (0..self.symbol_count())
            .map(|s| {
                let ok: Vec<i64> = (2..=SCAN_MAX)
                    .filter(|&n| {
                        let mut v = self.export.clone();
                        v[s] = n;
                        self.valid_at(&v)
                    })
                    .collect();
                runs(&ok)
            })
            .collect()
    }

    /// The ground truth per input dim implied by the sizes and the model's validity.
    pub fn derive_truth(&self) -> Vec<Vec<DimTruth>> {
        let runs = self.valid_runs();
        let mut first_seen: std::collections::HashMap<SymId, (u32, u32)> = Default::default();
        self.inputs
            .iter()
            .enumerate()
            .map(|(i, input)| {
                input
                    .dims
                    .iter()
                    .enumerate()
                    .map(|(d, dim)| match &dim.size {
                        DimExpr::Const(_) => DimTruth::Static,
                        DimExpr::Mul(k, _) => DimTruth::MultipleOf {
                            k: k.as_const().unwrap_or(1),
                        },
                        DimExpr::Sym(s) => {
                            if let Some(&(fi, fd)) = first_seen.get(s) {
                                return DimTruth::Tied { input: fi, dim: fd };
                            }
                            first_seen.insert(*s, (i as u32, d as u32));
                            let r = runs.get(s.0 as usize).cloned().unwrap_or_default();
                            if r == vec![[2, SCAN_MAX]] {
                                DimTruth::Free
                            } else {
                                DimTruth::Bounded { runs: r }
                            }
                        }
                        _ => DimTruth::Static,
                    })
                    .collect()
            })
            .collect()
    }

    /// Concrete input shapes at a valuation.
    pub fn input_shapes(&self, v: &Valuation) -> Vec<Vec<i64>> {
        self.inputs
            .iter()
            .map(|i| i.dims.iter().map(|d| d.size.eval(v).unwrap_or(0)).collect())
            .collect()
    }

    /// Input shapes at a valuation as people read them: `x=[3] y=[3] n=5`.
    pub fn shapes_text(&self, v: &Valuation) -> String {
        let shapes = self.input_shapes(v);
        let parts: Vec<String> = shapes
            .iter()
            .enumerate()
            .map(|(i, s)| match self.inputs[i].kind {
                InputKind::Int => format!("{}={}", input_name(i), s.first().unwrap_or(&0)),
                InputKind::IntList | InputKind::Tensor => format!("{}={s:?}", input_name(i)),
                InputKind::Float | InputKind::Bool => format!(
                    "{}={}",
                    input_name(i),
                    self.inputs[i].literal().unwrap_or_default()
                ),
            })
            .collect();
        parts.join(" ")
    }

    /// How a user names input dim `d` of input `i`: `x.size(0)`, or `n` for an int input.
    pub fn dim_label(&self, i: usize, d: usize) -> String {
        match self.inputs.get(i).map(|inp| inp.kind) {
            Some(InputKind::Int) => format!("{} (an int input)", input_name(i)),
            Some(InputKind::IntList) => format!("{}[{d}] (an int list input)", input_name(i)),
            Some(InputKind::Float) => format!("{} (a float input)", input_name(i)),
            Some(InputKind::Bool) => format!("{} (a bool input)", input_name(i)),
            _ => format!("{}.size({d})", input_name(i)),
        }
    }

    /// Op kinds in the case, sorted and de-duplicated.
    pub fn op_kinds(&self) -> Vec<String> {
        let mut k: Vec<String> = self.nodes.iter().map(|o| o.kind()).collect();
        k.sort();
        k.dedup();
        k
    }

    /// Values no node reads.
    pub fn unused_values(&self) -> Vec<ValueRef> {
        let mut used = std::collections::HashSet::new();
        for op in &self.nodes {
            op.visit_operands(&mut |v| {
                used.insert(*v);
            });
        }
        (0..self.nodes.len() as u32)
            .map(ValueRef::Node)
            .filter(|v| !used.contains(v))
            .collect()
    }
}

/// Inferred types of a case's values.
#[derive(Clone, Debug)]
pub struct Types {
    pub inputs: Vec<Type>,
    pub nodes: Vec<Type>,
}

impl Types {
    pub fn get(&self, v: ValueRef) -> Option<&Type> {
        match v {
            ValueRef::Input(i) => self.inputs.get(i as usize),
            ValueRef::Node(i) => self.nodes.get(i as usize),
        }
    }
}

/// Largest case, record or known-issues file shapefuzz reads.
pub const MAX_FILE_BYTES: u64 = 16 << 20;

/// Opens a file a user handed us, for reading: only a regular file. A FIFO would block the
/// open itself and a device or socket never ends, so the file is opened without blocking
/// and refused, naming what it is, unless it is regular.
pub fn open_regular(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    let kind = file.metadata()?.file_type();
    if !kind.is_file() {
        return Err(std::io::Error::other(format!(
            "not a regular file ({}); give a file",
            file_kind(&kind)
        )));
    }
    Ok(file)
}

fn file_kind(kind: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a named pipe";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    if kind.is_dir() {
        "a directory"
    } else {
        "not a file"
    }
}

/// Reads a regular file of at most `cap` bytes (see [`open_regular`]).
pub fn read_capped(path: &Path, cap: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut data = vec![];
    open_regular(path)?.take(cap + 1).read_to_end(&mut data)?;
    if data.len() as u64 > cap {
        return Err(std::io::Error::other(format!(
            "larger than the limit of {} MiB",
            (cap >> 20).max(1)
        )));
    }
    Ok(data)
}

/// Reads a regular text file of at most `MAX_FILE_BYTES`.
pub fn read_bounded(path: &Path) -> std::io::Result<String> {
    String::from_utf8(read_capped(path, MAX_FILE_BYTES)?)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text"))
}

/// Sorted integers to inclusive runs.
pub fn runs(sorted: &[i64]) -> Vec<[i64; 2]> {
    let mut out: Vec<[i64; 2]> = vec![];
    for &n in sorted {
        match out.last_mut() {
            Some(r) if r[1] + 1 == n => r[1] = n,
            _ => out.push([n, n]),
        }
    }
    out
}

/// Symbols' names as the renderer and the oracle use them.
pub fn symbol_name(s: usize) -> String {
    format!("s{s}")
}

/// Input names: `x, y, z, w`, then `a, b, ...`.
pub fn input_name(i: usize) -> String {
    const NAMES: [&str; 12] = ["x", "y", "z", "w", "a", "b", "c", "d", "e", "f", "g", "h"];
    NAMES
        .get(i)
        .map(|s| s.to_string())
        .unwrap_or_else(|| format!("in{i}"))
}

impl Case {
    /// Drops nodes the outputs do not depend on, inputs no node reads (keeping at least
    /// one), and symbols no input mentions; renumbers what remains. Types and validity are
    /// unchanged for what is kept, and the recorded truth is refreshed.
    pub fn compact(&mut self) {
        self.compact_values();
        // an assumption about a symbol whose every ShapeVar dim went with its input says
        // nothing any more
        let kept: Vec<Assumption> = self
            .assumptions
            .iter()
            .filter(|a| a.symbols().iter().all(|&s| self.var_range(s).is_some()))
            .cloned()
            .collect();
        self.assumptions = kept;
        // what torch infers from the examples follows what is left of the model
        self.infer_additional_specs();
    }

    fn compact_values(&mut self) {
        // Reachability from the outputs, walking backwards.
        let mut live = vec![false; self.nodes.len()];
        let mut live_inputs = vec![false; self.inputs.len()];
        let mut stack: Vec<ValueRef> = self.outputs.clone();
        while let Some(v) = stack.pop() {
            match v {
                ValueRef::Node(n) if !live[n as usize] => {
                    live[n as usize] = true;
                    stack.extend(self.nodes[n as usize].operands());
                }
                ValueRef::Input(i) => live_inputs[i as usize] = true,
                _ => {}
            }
        }
        if !live_inputs.iter().any(|&l| l) && !live_inputs.is_empty() {
            live_inputs[0] = true;
        }
        let remap = |flags: &[bool]| {
            let mut next = 0u32;
            flags
                .iter()
                .map(|&l| {
                    l.then(|| {
                        next += 1;
                        next - 1
                    })
                })
                .collect::<Vec<Option<u32>>>()
        };
        let node_map = remap(&live);
        let input_map = remap(&live_inputs);
        let fix = |v: &mut ValueRef| {
            *v = match *v {
                ValueRef::Node(n) => ValueRef::Node(node_map[n as usize].expect("live operand")),
                ValueRef::Input(i) => ValueRef::Input(input_map[i as usize].expect("live input")),
            }
        };
        let mut nodes = vec![];
        for (i, mut op) in std::mem::take(&mut self.nodes).into_iter().enumerate() {
            if live[i] {
                op.visit_operands_mut(&mut |v| fix(v));
                nodes.push(op);
            }
        }
        self.nodes = nodes;
        self.outputs.iter_mut().for_each(fix);
        let inputs = std::mem::take(&mut self.inputs);
        self.inputs = inputs
            .into_iter()
            .zip(&live_inputs)
            .filter(|(_, l)| **l)
            .map(|(i, _)| i)
            .collect();

        // Symbols.
        let mut used = vec![false; self.symbol_count()];
        for input in &self.inputs {
            for d in &input.dims {
                let mut s = vec![];
                d.size.symbols(&mut s);
                s.iter().for_each(|s| used[s.0 as usize] = true);
            }
        }
        let sym_map = remap(&used);
        fn rename(e: &DimExpr, m: &[Option<u32>]) -> DimExpr {
            match e {
                DimExpr::Sym(s) => DimExpr::Sym(SymId(m[s.0 as usize].expect("used symbol"))),
                DimExpr::Mul(a, b) => DimExpr::Mul(Box::new(rename(a, m)), Box::new(rename(b, m))),
                other => other.clone(),
            }
        }
        for input in &mut self.inputs {
            for d in &mut input.dims {
                d.size = rename(&d.size, &sym_map);
            }
        }
        // assumptions follow their symbols' new numbers (and go with them)
        self.assumptions = std::mem::take(&mut self.assumptions)
            .iter()
            .filter_map(|a| a.renumbered(&sym_map))
            .collect();
        let keep = |v: &Valuation| {
            v.iter()
                .zip(&used)
                .filter(|(_, u)| **u)
                .map(|(x, _)| *x)
                .collect::<Valuation>()
        };
        self.export = keep(&self.export);
        for p in &mut self.probes {
            p.sizes = keep(&p.sizes);
        }
        for v in &mut self.additional_inputs {
            *v = keep(v);
        }
        let mut seen_example = std::collections::HashSet::new();
        let export = self.export.clone();
        self.additional_inputs
            .retain(|v| *v != export && seen_example.insert(v.clone()));
        let mut seen = std::collections::HashSet::new();
        self.probes
            .retain(|p| p.sizes != self.export && seen.insert(p.clone()));
        self.refresh_truth();
    }

    /// Recomputes `truth` of every input dim from the model.
    pub fn refresh_truth(&mut self) {
        let truth = self.derive_truth();
        for (input, t) in self.inputs.iter_mut().zip(truth) {
            for (d, t) in input.dims.iter_mut().zip(t) {
                d.truth = t;
            }
        }
    }
}
