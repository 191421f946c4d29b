//! Rendering: `Case` -> Python source of one module that the worker (and a human) can run.
//!
//! The module follows the contract in `harness/python/PROTOCOL.md`: a `Model` class, the
//! input names and symbols, the export sizes and probes, `input_shapes`, a deterministic
//! `make_inputs`, and `dynamic_shapes()`. Every piece of text comes from this file; the IR
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

pub fn value_name(v: ValueRef) -> String {
    match v {
        ValueRef::Input(i) => input_name(i as usize),
        ValueRef::Node(n) => format!("v{n}"),
    }
}

fn arg(a: &SizeArg) -> String {
    match a {
        SizeArg::Const(c) => c.to_string(),
        SizeArg::Value(v) => value_name(*v),
    }
}

fn join(parts: impl IntoIterator<Item = String>) -> String {
    parts.into_iter().collect::<Vec<_>>().join(", ")
}

fn tuple(parts: Vec<String>) -> String {
    if parts.len() == 1 {
        format!("({},)", parts[0])
    } else {
        format!("({})", parts.join(", "))
    }
}

/// The Python expression an op computes, or the full lines for ops that need statements.
fn op_lines(
    op: &Op,
    out: &str,
    rank_of: &dyn Fn(ValueRef) -> usize,
    is_int: &dyn Fn(ValueRef) -> bool,
) -> Vec<String> {
    use Op::*;
    let n = value_name;
    let expr = match op {
        Unary { x, f } => format!("torch.{}({})", f.name(), n(*x)),
        Binary { a, b, f } => match f {
            BinaryFn::Add => format!("{} + {}", n(*a), n(*b)),
            BinaryFn::Sub => format!("{} - {}", n(*a), n(*b)),
            BinaryFn::Mul => format!("{} * {}", n(*a), n(*b)),
            BinaryFn::Maximum => format!("torch.maximum({}, {})", n(*a), n(*b)),
        },
        ScalarArith { x, s, f } => match f {
            ScalarFn::Add => format!("{} + {}", n(*x), n(*s)),
            ScalarFn::Mul => format!("{} * {}", n(*x), n(*s)),
        },
        Clamp { x, min, max } => match max {
            Some(m) => format!("torch.clamp({}, min={}, max={})", n(*x), arg(min), arg(m)),
            None => format!("torch.clamp({}, min={})", n(*x), arg(min)),
        },
        MaskedFill { x, value } => format!("{0}.masked_fill({0} > 0, {1})", n(*x), arg(value)),
        Reduce { x, f, dim, keepdim } => {
            let kd = if *keepdim { ", keepdim=True" } else { "" };
            format!("{}.{}(dim={dim}{kd})", n(*x), f.name())
        }
        MaxAll { x } => format!("{}.max()", n(*x)),
        Cumsum { x, dim } => format!("torch.cumsum({}, dim={dim})", n(*x)),
        Topk { x, k, dim } => format!("torch.topk({}, {}, dim={dim}).values", n(*x), arg(k)),
        Matmul { a, b } => format!("torch.matmul({}, {})", n(*a), n(*b)),
        Reshape { x, shape, spelling } => {
            let args = join(shape.iter().map(|a| match a {
                ReshapeArg::Infer => "-1".to_string(),
                ReshapeArg::Size(s) => arg(s),
            }));
            match spelling {
                ReshapeSpelling::Reshape => format!("{}.reshape({args})", n(*x)),
                // `view` needs a contiguous tensor; eager would reject it after a transpose.
                ReshapeSpelling::View => format!("{}.contiguous().view({args})", n(*x)),
            }
        }
        Flatten { x, start, end } => format!("torch.flatten({}, {start}, {end})", n(*x)),
        Unflatten { x, dim, outer } => format!("{}.unflatten({dim}, ({}, -1))", n(*x), arg(outer)),
        Permute { x, perm } => format!(
            "{}.permute({})",
            n(*x),
            join(perm.iter().map(|p| p.to_string()))
        ),
        Transpose { x, d0, d1 } => format!("{}.transpose({d0}, {d1})", n(*x)),
        Squeeze { x, dim } => format!("{}.squeeze({dim})", n(*x)),
        Unsqueeze { x, dim } => format!("{}.unsqueeze({dim})", n(*x)),
        Interpolate { x, size } => format!("F.interpolate({}, size={})", n(*x), arg(size)),
        Cat { xs, dim } => format!("torch.cat([{}], dim={dim})", join(xs.iter().map(|x| n(*x)))),
        Stack { xs, dim } => format!(
            "torch.stack([{}], dim={dim})",
            join(xs.iter().map(|x| n(*x)))
        ),
        Split { x, size, dim } => format!("torch.split({}, {}, dim={dim})[0]", n(*x), arg(size)),
        Chunk { x, chunks, dim } => format!("torch.chunk({}, {chunks}, dim={dim})[0]", n(*x)),
        Narrow { x, dim, start, len } => format!(
            "torch.narrow({}, {dim}, {}, {})",
            n(*x),
            arg(start),
            arg(len)
        ),
        Slice { x, dim, start, end } => {
            format!(
                "{}[{}{}:{}]",
                n(*x),
                ":, ".repeat(*dim as usize),
                arg(start),
                arg(end)
            )
        }
        IndexSelect { x, dim, len } => {
            format!(
                "torch.index_select({}, {dim}, torch.arange({}))",
                n(*x),
                arg(len)
            )
        }
        Gather { x, dim } => {
            format!(
                "torch.gather({0}, {dim}, torch.zeros_like({0}, dtype=torch.int64))",
                n(*x)
            )
        }
        Pad { x, before, after } => format!("F.pad({}, ({before}, {after}))", n(*x)),
        AppendValue { x, value, spelling } => match spelling {
            AppendSpelling::Pad => format!("F.pad({}, (0, 1), value={})", n(*x), n(*value)),
            AppendSpelling::Cat => {
                format!(
                    "torch.cat([{0}, torch.tensor([{1}], dtype={0}.dtype)], dim=0)",
                    n(*x),
                    n(*value)
                )
            }
        },
        Expand { x, dim, size } => {
            let dims: Vec<String> = (0..rank_of(*x))
                .map(|i| {
                    if i == *dim as usize {
                        arg(size)
                    } else {
                        "-1".into()
                    }
                })
                .collect();
            format!("{}.expand({})", n(*x), dims.join(", "))
        }
        Repeat { x, reps } => format!(
            "{}.repeat({})",
            n(*x),
            join(reps.iter().map(|r| r.to_string()))
        ),
        ExpandAs { x, other } => format!("{}.expand_as({})", n(*x), n(*other)),
        Arange { end, step } => match step {
            None => format!("torch.arange({})", arg(end)),
            Some(s) => format!("torch.arange(0, {}, {})", arg(end), arg(s)),
        },
        Full { shape, fill } => format!(
            "torch.full({}, {})",
            tuple(shape.iter().map(arg).collect()),
            arg(fill)
        ),
        Zeros { shape } => format!("torch.zeros({})", join(shape.iter().map(arg))),
        Ones { shape } => format!("torch.ones({})", join(shape.iter().map(arg))),
        Eye { n: size } => format!("torch.eye({})", arg(size)),
        Linspace { steps } => format!("torch.linspace(0, 1, steps={})", arg(steps)),
        OneHot { x, classes } => format!("F.one_hot({}, num_classes={})", n(*x), arg(classes)),
        Tril { x } => format!("torch.tril({})", n(*x)),
        Size { x, dim, spelling } => match spelling {
            SizeSpelling::ShapeIndex => format!("{}.shape[{dim}]", n(*x)),
            SizeSpelling::SizeCall => format!("{}.size({dim})", n(*x)),
            SizeSpelling::Len => format!("len({})", n(*x)),
        },
        Numel { x } => format!("{}.numel()", n(*x)),
        IntArith { a, f, k } => {
            let o = match f {
                IntFn::Add => "+",
                IntFn::Sub => "-",
                IntFn::Mul => "*",
                IntFn::FloorDiv => "//",
                IntFn::Mod => "%",
            };
            format!("{} {o} {k}", n(*a))
        }
        IntMax { a, k, spelling } => match spelling {
            MaxSpelling::Builtin => format!("max({}, {k})", n(*a)),
            MaxSpelling::SymMax => format!("torch.sym_max({}, {k})", n(*a)),
        },
        TrueDiv { a, k } => format!("{} / {k}", n(*a)),
        ToFloat { a } => format!("float({})", n(*a)),
        Sqrt { a } => format!("math.sqrt({})", n(*a)),
        Round { a, f } => match f {
            RoundFn::Int => format!("int({})", n(*a)),
            RoundFn::Floor => format!("math.floor({})", n(*a)),
            RoundFn::Ceil => format!("math.ceil({})", n(*a)),
        },
        ToTensor { s, spelling, like } => match (spelling, like) {
            (TensorSpelling::TensorList, _) => format!("torch.tensor([{}])", n(*s)),
            (TensorSpelling::ScalarTensor, _) => {
                // A SymInt is not an `int` under export, so the dtype comes from the IR.
                let dtype = if is_int(*s) {
                    "torch.int64"
                } else {
                    "torch.float32"
                };
                format!("torch.scalar_tensor({}, dtype={dtype})", n(*s))
            }
            (TensorSpelling::AsTensor, _) => format!("torch.as_tensor({})", n(*s)),
            (TensorSpelling::NewTensor, Some(l)) => format!("{}.new_tensor([{}])", n(*l), n(*s)),
            (TensorSpelling::NewTensor, None) => format!("torch.tensor([{}])", n(*s)),
        },
        Compare { a, cmp, k } => format!("{} {} {k}", n(*a), cmp.name()),
        If {
            cond,
            x,
            then_f,
            else_f,
        } => {
            return vec![
                format!("if {}:", n(*cond)),
                format!("    {out} = torch.{}({})", then_f.name(), n(*x)),
                "else:".to_string(),
                format!("    {out} = torch.{}({})", else_f.name(), n(*x)),
            ];
        }
        Loop { count, x } => {
            return vec![
                format!("{out} = {}", n(*x)),
                format!("for _ in range({}):", n(*count)),
                format!("    {out} = {out} + 1"),
            ];
        }
        Item { x } => format!("{}.item()", n(*x)),
        ToList { x, index } => format!("{}.tolist()[{index}]", n(*x)),
        Nonzero { x } => format!("torch.nonzero({})", n(*x)),
        MaskedSelect { x } => format!("torch.masked_select({0}, {0} > 0)", n(*x)),
        Unique { x } => format!("torch.unique({})", n(*x)),
        RepeatInterleave { x } => format!("torch.repeat_interleave({})", n(*x)),
    };
    vec![format!("{out} = {expr}")]
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
    })
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
    let uses_dim = case
        .inputs
        .iter()
        .flat_map(|i| &i.dims)
        .any(|d| !matches!(d.spec, DimSpec::Unspecified));
    if uses_dim {
        out.push("from torch.export import Dim".into());
    }
    out.push(String::new());
    out.push(String::new());
    out.push(model_text);
    out.push(String::new());
    out.push(String::new());

    let syms: Vec<String> = (0..case.symbol_count()).map(symbol_name).collect();
    out.push(format!("def make_inputs({}):", syms.join(", ")));
    out.push("    g = torch.Generator().manual_seed(0)".into());
    for (i, input) in case.inputs.iter().enumerate() {
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

    for (s, min, max) in named_dims(case) {
        let mut args = vec![format!("\"{}\"", symbol_name(s))];
        if let Some(m) = min {
            args.push(format!("min={m}"));
        }
        if let Some(m) = max {
            args.push(format!("max={m}"));
        }
        out.push(format!("{} = Dim({})", symbol_name(s), args.join(", ")));
    }
    out.push(format!("dynamic_shapes = {}", dynamic_shapes_dict(case)));
    let mut source = out.join("\n");
    source.push('\n');
    Standalone { source, node_code }
}

/// Named dims by symbol, with their bounds, in symbol order.
fn named_dims(case: &Case) -> Vec<(usize, Option<i64>, Option<i64>)> {
    let mut named: Vec<(usize, Option<i64>, Option<i64>)> = vec![];
    for input in &case.inputs {
        for d in &input.dims {
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
        .map(|(i, input)| {
            let dims: Vec<String> = input
                .dims
                .iter()
                .enumerate()
                .filter_map(|(d, dim)| spec_py(dim).map(|s| format!("{d}: {s}")))
                .collect();
            let v = if dims.is_empty() {
                "None".to_string()
            } else {
                format!("{{{}}}", dims.join(", "))
            };
            format!("\"{}\": {v}", input_name(i))
        })
        .collect();
    format!("{{{}}}", entries.join(", "))
}

/// Renders the whole module.
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
    let mut node_lines = Vec::with_capacity(case.nodes.len());
    for (i, op) in case.nodes.iter().enumerate() {
        let start = lines.len() as u32 + 1;
        for l in op_lines(op, &format!("v{i}"), &rank_of, &is_int) {
            lines.push(format!("        {l}"));
        }
        node_lines.push((start, lines.len() as u32));
    }
    let outs: Vec<String> = case.outputs.iter().map(|o| value_name(*o)).collect();
    lines.push(format!("        return {}", tuple(outs)));
    lines.push(String::new());
    lines.push(String::new());

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

    lines.push("def input_shapes(s):".into());
    let shapes: Vec<String> = case
        .inputs
        .iter()
        .map(|i| tuple(i.dims.iter().map(|d| dim_size_py(&d.size)).collect()))
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

    lines.push("def make_inputs(s, seed=0):".into());
    lines.push("    g = torch.Generator().manual_seed(seed)".into());
    lines.push("    shapes = input_shapes(s)".into());
    for (i, input) in case.inputs.iter().enumerate() {
        let make = match input.dtype {
            DType::F32 => format!("torch.randn(shapes[{i}], generator=g)"),
            // Integer inputs hold 0 or 1 so they are valid indices and one_hot classes.
            DType::I64 => {
                format!("torch.randint(0, 2, shapes[{i}], generator=g, dtype=torch.int64)")
            }
            DType::Bool => format!("torch.randint(0, 2, shapes[{i}], generator=g).bool()"),
        };
        lines.push(format!("    {} = {make}", names[i]));
    }
    lines.push(format!("    return {}", tuple(names.clone())));
    lines.push(String::new());
    lines.push(String::new());

    lines.push("def dynamic_shapes():".into());
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
    lines.push(format!("    return {}", dynamic_shapes_dict(case)));
    let mut source = lines.join("\n");
    source.push('\n');
    Rendered { source, node_lines }
}
