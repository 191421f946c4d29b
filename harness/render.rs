//! Rendering: `Case` -> Python source of one module that the worker (and a human) can run.
//!
//! The module follows the contract in `harness/python/PROTOCOL.md`: a `Model` class, the
//! input names and symbols, the export sizes and probes, `input_shapes`, a deterministic
//! `make_inputs`, and `dynamic_shapes()`. Every piece of text comes from this file or from
//! an op's own `render` (its Python spelling lives with its shape rule in `ir/ops`); the IR
//! only contributes numbers and enum choices, so a case cannot inject code. Rendering is
//! deterministic, and each IR node gets its own line(s), recorded in `Rendered::node_lines`
//! so the oracle can trace a guard's source line back to the node that added it.

use crate::ir::*;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub source: String,
    /// 1-based inclusive line range of each node's code, indexed by node.
    pub node_lines: Vec<(u32, u32)>,
}

impl Rendered {
    /// The node whose code covers `line`.
    pub fn node_at_line(&self, line: u32) -> Option<u32> {
        self.node_lines
            .iter()
            .position(|&(a, b)| a <= line && line <= b)
            .map(|i| i as u32)
    }
}

/// A valuation as the Python dict the module uses (`{"s0": 3}`).
pub fn sizes_dict(v: &[i64]) -> String {
    let items: Vec<String> = v
        .iter()
        .enumerate()
        .map(|(i, x)| format!("\"{}\": {x}", symbol_name(i)))
        .collect();
    format!("{{{}}}", items.join(", "))
}

fn dim_size_py(e: &DimExpr) -> String {
    e.to_python(&|s| format!("s[\"{}\"]", symbol_name(s.0 as usize)))
}

fn spec_py(d: &InputDim) -> Option<String> {
    let sym_of = |e: &DimExpr| {
        let mut v = vec![];
        e.symbols(&mut v);
        v.first()
            .map(|s| symbol_name(s.0 as usize))
            .unwrap_or_default()
    };
    Some(match &d.spec {
        DimSpec::Unspecified => return None,
        DimSpec::Auto => "Dim.AUTO".into(),
        DimSpec::Dynamic => "Dim.DYNAMIC".into(),
        DimSpec::Static => "Dim.STATIC".into(),
        DimSpec::Named { .. } => sym_of(&d.size),
        DimSpec::Derived { k } => format!("{k} * {}", sym_of(&d.size)),
        // as torch's own docs write a derived ShapeVar: `B * 2`
        DimSpec::Var { .. } => match &d.size {
            DimExpr::Mul(k, _) => format!("{} * {}", sym_of(&d.size), k),
            _ => sym_of(&d.size),
        },
    })
}

/// A ShapesSpec case's spec as a user writes it: one `ShapeVar` per symbol (in symbol
/// order; `min` left out at its default 0), then `ShapesSpec({...})` naming the inputs that
/// have a dynamic dim (a tensor's as a `TensorSpec`, a list of ints' as a `SeqSpec`; the
/// rest are static, as ParamsSpec takes what it does not name), and the names to import
/// from `torch.fx.experimental.dynamic_spec`.
fn shapes_spec(case: &Case) -> (Vec<&'static str>, Vec<String>, String) {
    let mut vars = vec![];
    for s in 0..case.symbol_count() {
        if let Some((min, max)) = case.var_range(s) {
            let mut args = vec![format!("\"{}\"", symbol_name(s))];
            if min != 0 {
                args.push(format!("min={min}"));
            }
            if let Some(m) = max {
                args.push(format!("max={m}"));
            }
            vars.push(format!(
                "{} = ShapeVar({})",
                symbol_name(s),
                args.join(", ")
            ));
        }
    }
    let (mut tensor, mut fixed, mut seq) = (false, false, false);
    let entries: Vec<String> = case
        .inputs
        .iter()
        .enumerate()
        .filter(|(_, input)| {
            input
                .dims
                .iter()
                .any(|d| matches!(d.spec, DimSpec::Var { .. }))
        })
        .map(|(i, input)| {
            let dims: Vec<String> = input
                .dims
                .iter()
                .map(|d| match &d.spec {
                    DimSpec::Var { .. } => spec_py(d).unwrap_or_default(),
                    _ => {
                        fixed = true;
                        "STATIC".into()
                    }
                })
                .collect();
            let v = match input.kind {
                InputKind::Tensor => {
                    tensor = true;
                    format!("TensorSpec([{}])", dims.join(", "))
                }
                InputKind::IntList => {
                    seq = true;
                    format!("SeqSpec([{}])", dims.join(", "))
                }
                _ => dims.join(", "),
            };
            format!("\"{}\": {v}", input_name(i))
        })
        .collect();
    let mut names = vec![];
    if fixed {
        names.push("STATIC");
    }
    if seq {
        names.push("SeqSpec");
    }
    names.extend(["ShapeVar", "ShapesSpec"]);
    if tensor {
        names.push("TensorSpec");
    }
    let assumptions = if case.assumptions.is_empty() {
        String::new()
    } else {
        let list: Vec<String> = case.assumptions.iter().map(Assumption::to_python).collect();
        format!(", assumptions=[{}]", list.join(", "))
    };
    (
        names,
        vars,
        format!("ShapesSpec({{{}}}{assumptions})", entries.join(", ")),
    )
}

/// The parts of a standalone reproducer: only what its script uses, in the words a person
/// would write (named dims as `Dim("s0", max=4)`, sizes as arguments of `make_inputs`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Standalone {
    /// Imports, `Model`, `make_inputs(s0, ...)` and the `dynamic_shapes` assignment.
    pub source: String,
    /// The source line of each node, without its leading `vN = `, for titles and diffs.
    pub node_code: Vec<String>,
}

/// The keyword arguments of a case's `torch.export.export` call beyond its spec and
/// strictness, as a user writes them (with their leading comma), or nothing.
pub fn export_kwargs(case: &Case) -> &'static str {
    if case.deferred_asserts {
        ", prefer_deferred_runtime_asserts_over_guards=True"
    } else {
        ""
    }
}

/// `make_inputs(5, 7)`: the call that builds inputs at a valuation.
pub fn make_inputs_call(v: &[i64]) -> String {
    format!(
        "make_inputs({})",
        v.iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// Renders a case as the top of a standalone script.
pub fn render_standalone(case: &Case) -> Standalone {
    let module = render(case);
    let all: Vec<&str> = module.source.lines().collect();
    let names: Vec<String> = (0..case.inputs.len()).map(input_name).collect();
    // The model, exactly as the worker ran it (its lines are the ones guards point at).
    let class_start = all
        .iter()
        .position(|l| l.starts_with("class Model"))
        .unwrap_or(0);
    let class_end = all
        .iter()
        .position(|l| l.starts_with("INPUT_NAMES"))
        .unwrap_or(all.len());
    let model_text = all[class_start..class_end]
        .join("\n")
        .trim_end()
        .to_string();
    let node_code = module
        .node_lines
        .iter()
        .map(|&(a, b)| {
            let text: Vec<&str> = all[(a as usize - 1)..(b as usize)]
                .iter()
                .map(|l| l.trim())
                .collect();
            let joined = text.join(" ");
            match joined.split_once(" = ") {
                Some((lhs, rhs)) if a == b && lhs.starts_with('v') => rhs.to_string(),
                _ => joined,
            }
        })
        .collect();

    let mut out: Vec<String> = vec![];
    if model_text.contains("math.") {
        out.push("import math".into());
    }
    out.push("import torch".into());
    if model_text.contains("F.") {
        out.push("import torch.nn.functional as F".into());
    }
    let (spec_import, spec) = spec_lines(case);
    out.extend(spec_import);
    out.push(String::new());
    out.push(String::new());
    out.push(model_text);
    out.push(String::new());
    out.push(String::new());

    let syms: Vec<String> = (0..case.symbol_count()).map(symbol_name).collect();
    out.push(format!("def make_inputs({}):", syms.join(", ")));
    out.push("    g = torch.Generator().manual_seed(0)".into());
    for (i, input) in case.inputs.iter().enumerate() {
        let value_of = |d: &InputDim| d.size.to_python(&|s| symbol_name(s.0 as usize));
        match input.kind {
            InputKind::Tensor => {}
            InputKind::Int => {
                let value = input.dims.first().map(value_of).unwrap_or_default();
                out.push(format!("    {} = {value}", names[i]));
                continue;
            }
            InputKind::IntList => {
                let items: Vec<String> = input.dims.iter().map(value_of).collect();
                out.push(format!("    {} = [{}]", names[i], items.join(", ")));
                continue;
            }
            InputKind::Float | InputKind::Bool => {
                let value = input.literal().unwrap_or_default();
                out.push(format!("    {} = {value}", names[i]));
                continue;
            }
        }
        let shape = tuple(
            input
                .dims
                .iter()
                .map(|d| d.size.to_python(&|s| symbol_name(s.0 as usize)))
                .collect(),
        );
        let shape = if shape == "()," {
            "()".to_string()
        } else {
            shape
        };
        let make = match input.dtype {
            DType::F32 => format!("torch.randn({shape}, generator=g)"),
            DType::I64 => {
                format!("torch.randint(0, 2, {shape}, generator=g, dtype=torch.int64)")
            }
            DType::Bool => format!("torch.randint(0, 2, {shape}, generator=g).bool()"),
        };
        out.push(format!("    {} = {make}", names[i]));
    }
    out.push(format!("    return {}", tuple(names.clone())));
    out.push(String::new());
    out.push(String::new());

    out.extend(spec);
    let mut source = out.join("\n");
    source.push('\n');
    Standalone { source, node_code }
}

/// A case's `dynamic_shapes` as a user writes it at the top level of a script: the import
/// it needs (none when nothing is specified), then the `Dim`s or `ShapeVar`s it names and
/// the `dynamic_shapes = ...` assignment.
pub fn spec_lines(case: &Case) -> (Option<String>, Vec<String>) {
    if case.spec_api() == SpecApi::Additional {
        let mut lines = vec!["dynamic_shapes = torch.export.AdditionalInputs()".to_string()];
        for v in &case.additional_inputs {
            lines.push(format!("dynamic_shapes.add({})", make_inputs_call(v)));
        }
        return (None, lines);
    }
    if case.spec_api() == SpecApi::Shapes {
        let (names, mut lines, spec) = shapes_spec(case);
        lines.push(format!("dynamic_shapes = {spec}"));
        let import = format!(
            "from torch.fx.experimental.dynamic_spec import {}",
            names.join(", ")
        );
        return (Some(import), lines);
    }
    let uses_dim = case
        .inputs
        .iter()
        .flat_map(|i| &i.dims)
        .any(|d| !matches!(d.spec, DimSpec::Unspecified));
    let mut lines = vec![];
    for (s, min, max) in named_dims(case) {
        let mut args = vec![format!("\"{}\"", symbol_name(s))];
        if let Some(m) = min {
            args.push(format!("min={m}"));
        }
        if let Some(m) = max {
            args.push(format!("max={m}"));
        }
        lines.push(format!("{} = Dim({})", symbol_name(s), args.join(", ")));
    }
    if case.spec_api() == SpecApi::Collection {
        lines.push(format!(
            "example_inputs = {}",
            make_inputs_call(&case.export)
        ));
        lines.extend(collection_lines(case, "dynamic_shapes", "example_inputs"));
    } else {
        lines.push(format!("dynamic_shapes = {}", dynamic_shapes_dict(case)));
    }
    (
        uses_dim.then(|| "from torch.export import Dim".into()),
        lines,
    )
}

/// Named dims by symbol, with their bounds, in symbol order.
fn named_dims(case: &Case) -> Vec<(usize, Option<i64>, Option<i64>)> {
    let mut named: Vec<(usize, Option<i64>, Option<i64>)> = vec![];
    // The bounds are the named dim's, wherever a `k * Dim` of it comes first.
    let dims = || case.inputs.iter().flat_map(|i| &i.dims);
    let named_first = dims()
        .filter(|d| matches!(d.spec, DimSpec::Named { .. }))
        .chain(dims().filter(|d| matches!(d.spec, DimSpec::Derived { .. })));
    for d in named_first {
        let mut syms = vec![];
        d.size.symbols(&mut syms);
        let (min, max) = match &d.spec {
            DimSpec::Named { min, max } => (*min, *max),
            DimSpec::Derived { .. } => (None, None),
            _ => continue,
        };
        if let Some(s) = syms.first()
            && !named.iter().any(|(k, ..)| *k == s.0 as usize)
        {
            named.push((s.0 as usize, min, max));
        }
    }
    named.sort();
    named
}

/// `{"x": {0: Dim.AUTO}, "y": None}`.
fn dynamic_shapes_dict(case: &Case) -> String {
    let entries: Vec<String> = case
        .inputs
        .iter()
        .enumerate()
        .map(|(i, input)| format!("\"{}\": {}", input_name(i), input_spec_py(input)))
        .collect();
    format!("{{{}}}", entries.join(", "))
}

/// One input's entry in a `Dim` spec: `{0: Dim.AUTO}` for a tensor, the hint itself for a
/// scalar, a list for a list; `None` when nothing is specified.
fn input_spec_py(input: &crate::ir::Input) -> String {
    match input.kind {
        InputKind::Tensor => {}
        InputKind::Int | InputKind::Float | InputKind::Bool => {
            // A scalar's spec is the hint itself, not a dict of dims.
            return input
                .dims
                .first()
                .and_then(spec_py)
                .unwrap_or_else(|| "None".into());
        }
        InputKind::IntList => {
            // torch wants one entry per element, and a list even when none is dynamic.
            let items: Vec<String> = input
                .dims
                .iter()
                .map(|d| spec_py(d).unwrap_or_else(|| "None".into()))
                .collect();
            return format!("[{}]", items.join(", "));
        }
    }
    let dims: Vec<String> = input
        .dims
        .iter()
        .enumerate()
        .filter_map(|(d, dim)| spec_py(dim).map(|s| format!("{d}: {s}")))
        .collect();
    if dims.is_empty() {
        "None".to_string()
    } else {
        format!("{{{}}}", dims.join(", "))
    }
}

/// A ShapesCollection's assignments, one per tensor with a spec, keyed by the example
/// inputs `inputs` (a Python expression) themselves: `spec[inputs[0]] = {0: s0}  # x`.
fn collection_lines(case: &Case, spec: &str, inputs: &str) -> Vec<String> {
    let mut lines = vec![format!("{spec} = torch.export.ShapesCollection()")];
    for (i, input) in case.inputs.iter().enumerate() {
        let value = input_spec_py(input);
        if input.kind == InputKind::Tensor && value != "None" {
            lines.push(format!(
                "{spec}[{inputs}[{i}]] = {value}  # {}",
                input_name(i)
            ));
        }
    }
    lines
}

/// The example inputs a script's export call passes: a ShapesCollection is keyed by the
/// very tensors, so its script binds them first (`example_inputs`); otherwise they are made
/// in place.
pub fn export_inputs(case: &Case) -> String {
    if case.spec_api() == SpecApi::Collection {
        "example_inputs".into()
    } else {
        make_inputs_call(&case.export)
    }
}

/// Renders the whole module: the model, the sizes it is checked at, its input factory, and
/// its spec.
pub fn render(case: &Case) -> Rendered {
    let mut lines: Vec<String> = vec![
        "import math".into(),
        "import torch".into(),
        "import torch.nn.functional as F".into(),
        String::new(),
        String::new(),
        "class Model(torch.nn.Module):".into(),
    ];
    let names: Vec<String> = (0..case.inputs.len()).map(input_name).collect();
    lines.push(format!("    def forward(self, {}):", names.join(", ")));
    // Structural types only (no valuations): enough to know ranks, even for an invalid case.
    let types = case.infer_types(&[]).ok();
    let rank_of = |v: ValueRef| {
        types
            .as_ref()
            .and_then(|t| t.get(v))
            .and_then(|t| t.tensor())
            .map(|t| t.rank())
            .unwrap_or(1)
    };
    let is_int = |v: ValueRef| matches!(types.as_ref().and_then(|t| t.get(v)), Some(Type::Int(_)));
    let cx = RenderCx {
        rank_of: &rank_of,
        is_int: &is_int,
    };
    let mut node_lines = Vec::with_capacity(case.nodes.len());
    for (i, op) in case.nodes.iter().enumerate() {
        let start = lines.len() as u32 + 1;
        for l in op.render(&format!("v{i}"), &cx) {
            lines.push(format!("        {l}"));
        }
        node_lines.push((start, lines.len() as u32));
    }
    let outs: Vec<String> = case.outputs.iter().map(|o| value_name(*o)).collect();
    lines.push(format!("        return {}", tuple(outs)));
    lines.push(String::new());
    lines.push(String::new());
    lines.extend(size_lines(case));
    lines.extend(input_shapes_lines(case));
    lines.extend(make_inputs_lines(case));
    lines.extend(dynamic_shapes_lines(case));
    let mut source = lines.join("\n");
    source.push('\n');
    Rendered { source, node_lines }
}

/// `INPUT_NAMES`, `SYMBOLS`, the export sizes and the probes (and the export options).
fn size_lines(case: &Case) -> Vec<String> {
    let mut lines: Vec<String> = vec![];
    let names: Vec<String> = (0..case.inputs.len()).map(input_name).collect();
    let quoted = |v: &[String]| {
        v.iter()
            .map(|s| format!("\"{s}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let symbols: Vec<String> = (0..case.symbol_count()).map(symbol_name).collect();
    lines.push(format!("INPUT_NAMES = [{}]", quoted(&names)));
    lines.push(format!("SYMBOLS = [{}]", quoted(&symbols)));
    lines.push(format!("EXPORT_SIZES = {}", sizes_dict(&case.export)));
    if case.deferred_asserts {
        lines
            .push("EXPORT_KWARGS = {\"prefer_deferred_runtime_asserts_over_guards\": True}".into());
    }
    let probes = |edge: bool| {
        case.probes
            .iter()
            .filter(|p| p.edge == edge)
            .map(|p| sizes_dict(&p.sizes))
            .collect::<Vec<_>>()
            .join(", ")
    };
    lines.push(format!("PROBES = [{}]", probes(false)));
    lines.push(format!("EDGE_PROBES = [{}]", probes(true)));
    lines.push(String::new());
    lines.push(String::new());
    lines
}

/// `input_shapes(s)`: each input's shape (an int's value) at a valuation.
fn input_shapes_lines(case: &Case) -> Vec<String> {
    let mut lines: Vec<String> = vec![];
    lines.push("def input_shapes(s):".into());
    let shapes: Vec<String> = case
        .inputs
        .iter()
        .map(|i| match i.kind {
            // An int input's "shape" is its value.
            InputKind::Int => i
                .dims
                .first()
                .map(|d| dim_size_py(&d.size))
                .unwrap_or_else(|| "0".into()),
            InputKind::Tensor => tuple(i.dims.iter().map(|d| dim_size_py(&d.size)).collect()),
            InputKind::IntList => {
                format!("[{}]", join(i.dims.iter().map(|d| dim_size_py(&d.size))))
            }
            InputKind::Float | InputKind::Bool => i.literal().unwrap_or_else(|| "0".into()),
        })
        .collect();
    let shapes: Vec<String> = shapes
        .into_iter()
        .map(|s| {
            if s == "()," || s == "()" {
                "()".into()
            } else {
                s
            }
        })
        .collect();
    lines.push(format!("    return [{}]", shapes.join(", ")));
    lines.push(String::new());
    lines.push(String::new());
    lines
}

/// `make_inputs(s, seed=0)`: deterministic inputs at a valuation, in `INPUT_NAMES` order.
fn make_inputs_lines(case: &Case) -> Vec<String> {
    let mut lines: Vec<String> = vec![];
    let names: Vec<String> = (0..case.inputs.len()).map(input_name).collect();
    lines.push("def make_inputs(s, seed=0):".into());
    lines.push("    g = torch.Generator().manual_seed(seed)".into());
    lines.push("    shapes = input_shapes(s)".into());
    for (i, input) in case.inputs.iter().enumerate() {
        let make = match (input.kind, input.dtype) {
            (InputKind::Int, _) => format!("int(shapes[{i}])"),
            (InputKind::IntList, _) => format!("list(shapes[{i}])"),
            (InputKind::Float, _) => format!("float(shapes[{i}])"),
            (InputKind::Bool, _) => format!("bool(shapes[{i}])"),
            (_, DType::F32) => format!("torch.randn(shapes[{i}], generator=g)"),
            // Integer inputs hold 0 or 1 so they are valid indices and one_hot classes.
            (_, DType::I64) => {
                format!("torch.randint(0, 2, shapes[{i}], generator=g, dtype=torch.int64)")
            }
            (_, DType::Bool) => format!("torch.randint(0, 2, shapes[{i}], generator=g).bool()"),
        };
        lines.push(format!("    {} = {make}", names[i]));
    }
    lines.push(format!("    return {}", tuple(names.clone())));
    lines.push(String::new());
    lines.push(String::new());
    lines
}

/// `dynamic_shapes()` (`dynamic_shapes(inputs)` for a ShapesCollection) in the case's
/// spec API.
fn dynamic_shapes_lines(case: &Case) -> Vec<String> {
    let mut lines: Vec<String> = vec![];
    if case.spec_api() == SpecApi::Collection {
        // keyed by the tensors export is given: the worker passes them in
        lines.push("DYNAMIC_SHAPES_TAKE_INPUTS = True".into());
        lines.push(String::new());
        lines.push(String::new());
        lines.push("def dynamic_shapes(inputs):".into());
    } else {
        lines.push("def dynamic_shapes():".into());
    }
    if case.spec_api() == SpecApi::Additional {
        // torch infers the spec from these examples beside the export inputs
        lines.push("    examples = torch.export.AdditionalInputs()".into());
        for v in &case.additional_inputs {
            lines.push(format!("    examples.add(make_inputs({}))", sizes_dict(v)));
        }
        lines.push("    return examples".into());
        return lines;
    }
    if case.spec_api() == SpecApi::Shapes {
        let (names, vars, spec) = shapes_spec(case);
        lines.push(format!(
            "    from torch.fx.experimental.dynamic_spec import {}",
            names.join(", ")
        ));
        lines.extend(vars.into_iter().map(|v| format!("    {v}")));
        lines.push(format!("    return {spec}"));
        return lines;
    }
    lines.push("    Dim = torch.export.Dim".into());
    for (s, min, max) in named_dims(case) {
        let mut args = vec![format!("\"{}\"", symbol_name(s))];
        if let Some(m) = min {
            args.push(format!("min={m}"));
        }
        if let Some(m) = max {
            args.push(format!("max={m}"));
        }
        lines.push(format!("    {} = Dim({})", symbol_name(s), args.join(", ")));
    }
    if case.spec_api() == SpecApi::Collection {
        for l in collection_lines(case, "spec", "inputs") {
            lines.push(format!("    {l}"));
        }
        lines.push("    return spec".into());
    } else {
        lines.push(format!("    return {}", dynamic_shapes_dict(case)));
    }
    lines
}
