//! Generation: random, valid-by-construction cases from `arbitrary::Unstructured` bytes.
//!
//! Modelled on wasm-smith: `Case::new(&GenConfig, &mut Unstructured)` walks a table of
//! builders (family, weight, builder); a builder only proposes ops whose operands exist, and
//! every proposed op is kept only if `Op::infer` accepts it at the export sizes, every normal
//! probe and a set of witness sizes per symbol, so eager PyTorch is known to accept every
//! probe. When the bytes run out every choice falls back to its first option, and the case
//! closes validly. The same bytes always give the same case.
//!
//! What the builders say, and how often, follows a survey of size patterns in real model code
//! and of where torch.export is fragile: `harness/gen/SURVEY.md`, with its coverage table.

use crate::ir::*;
use arbitrary::{Arbitrary, Result, Unstructured};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Which cases the seeds stand for. Raised whenever the same seed starts to give another
/// case (`tests/generator_stability.rs` holds the hashes of the cases behind the first
/// seeds under this version and refuses a change of them without a new version). Campaigns
/// and finding records carry it, so a stored seed is never silently read as another case.
pub const GENERATOR_VERSION: u32 = 22;

/// Knobs of the generator. `Arbitrary` draws a random configuration (swarm testing: each
/// case sees only some op families, so rarer interactions get room). A configuration can
/// also be written by hand (TOML or JSON, every field optional) and given to `gen` and
/// `fuzz` with `--gen-config`; `sanitize` brings any values into range.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GenConfig {
    /// Upper bound on builder steps; a step may add one to three nodes.
    pub max_steps: usize,
    /// Upper bound on model inputs, including those created on demand for ties.
    pub max_inputs: usize,
    /// Upper bound on the rank of generated inputs (ops may reach `ir::MAX_RANK`).
    pub max_rank: usize,
    /// Upper bound on distinct size symbols.
    pub max_symbols: usize,
    /// Families the builders may draw from; elementwise ops are always available so that
    /// a case can close.
    pub families: Vec<Family>,
    /// Relative weights of the spec styles `[AUTO, DYNAMIC, named Dim]`.
    pub spec_weights: [u32; 3],
    /// Percent chance that a size operand reuses a size-derived value rather than a literal.
    pub channel_percent: u32,
    /// Weights of builders by name (see `BUILDERS`), overriding the table's; 0 turns a
    /// builder off. Empty: the table's weights.
    pub weights: BTreeMap<String, u32>,
    /// Longest chain of arithmetic applied to a size before it is used (`n // 2 + 1`).
    pub max_chain: usize,
    /// Percent of cases whose spec is written with the ShapesSpec API (`ShapeVar` ranges,
    /// unbacked, never specialized) instead of the `Dim` API.
    pub shapes_percent: u32,
    /// Percent of cases exported with `prefer_deferred_runtime_asserts_over_guards=True`
    /// (either API).
    pub deferred_percent: u32,
    /// Percent of the other `Dim` cases whose spec is `torch.export.AdditionalInputs`: more
    /// example inputs, from which torch infers which dims are dynamic.
    pub additional_percent: u32,
    /// Percent of the `Dim` cases left after that whose spec is assigned tensor by tensor
    /// through a `torch.export.ShapesCollection` (when no int input asks to be dynamic).
    pub collection_percent: u32,
}

impl Default for GenConfig {
    fn default() -> Self {
        GenConfig {
            max_steps: 8,
            max_inputs: 3,
            max_rank: 3,
            max_symbols: 3,
            families: Family::ALL.to_vec(),
            spec_weights: [5, 2, 3],
            channel_percent: 70,
            weights: BTreeMap::new(),
            max_chain: 3,
            shapes_percent: 0,
            deferred_percent: 0,
            additional_percent: 0,
            collection_percent: 0,
        }
    }
}

impl GenConfig {
    /// Reads a configuration file (`.json`, else TOML), sanitized.
    pub fn load(path: &std::path::Path) -> anyhow::Result<GenConfig> {
        let text = crate::ir::read_bounded(path)
            .map_err(|e| anyhow::anyhow!("{}: cannot read: {e}", path.display()))?;
        let parsed: Result<GenConfig, String> = if path.extension().is_some_and(|e| e == "json") {
            serde_json::from_str(&text).map_err(|e| e.to_string())
        } else {
            toml::from_str(&text).map_err(|e| e.message().to_string())
        };
        let mut c = parsed.map_err(|e| {
            anyhow::anyhow!("{}: not a generator configuration ({e})", path.display())
        })?;
        for name in c.weights.keys() {
            if !BUILDERS.iter().any(|b| b.name == name) {
                let known: Vec<&str> = BUILDERS.iter().map(|b| b.name).collect();
                anyhow::bail!(
                    "{}: no builder named {name:?} in `weights` (builders: {})",
                    path.display(),
                    known.join(", ")
                );
            }
        }
        c.sanitize();
        Ok(c)
    }

    /// Brings every knob into the range the generator supports.
    pub fn sanitize(&mut self) {
        self.max_steps = self.max_steps.clamp(1, 64);
        self.max_inputs = self.max_inputs.clamp(1, 8);
        self.max_rank = self.max_rank.clamp(1, MAX_RANK);
        self.max_symbols = self.max_symbols.clamp(1, EXPORT_SIZES.len());
        self.channel_percent = self.channel_percent.min(100);
        self.max_chain = self.max_chain.min(8);
        self.shapes_percent = self.shapes_percent.min(100);
        self.deferred_percent = self.deferred_percent.min(100);
        self.additional_percent = self.additional_percent.min(100);
        self.collection_percent = self.collection_percent.min(100);
        if !self.families.contains(&Family::Elementwise) {
            // Elementwise ops are how a case can always close.
            self.families.insert(0, Family::Elementwise);
        }
        if self.spec_weights.iter().all(|&w| w == 0) {
            self.spec_weights = [1, 0, 0];
        }
        if let Some(w) = self.weights.get_mut(BUILDERS[0].name) {
            *w = (*w).max(1);
        }
    }

    /// A builder's weight under this configuration.
    fn weight(&self, row: &BuilderRow) -> u32 {
        self.weights.get(row.name).copied().unwrap_or(row.weight)
    }
}

impl<'a> Arbitrary<'a> for GenConfig {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let mut families = vec![Family::Elementwise];
        for f in Family::ALL.iter().skip(1) {
            // Each family is on with probability 3/4.
            if u.int_in_range(0..=3u8)? != 0 {
                families.push(*f);
            }
        }
        Ok(GenConfig {
            max_steps: u.int_in_range(2..=12)?,
            max_inputs: u.int_in_range(2..=4)?,
            max_rank: u.int_in_range(1..=4)?,
            max_symbols: u.int_in_range(1..=4)?,
            families,
            spec_weights: [
                u.int_in_range(1..=5)?,
                u.int_in_range(0..=3)?,
                u.int_in_range(0..=3)?,
            ],
            channel_percent: u.int_in_range(30..=95)?,
            weights: BTreeMap::new(),
            max_chain: u.int_in_range(0..=4)?,
            // not drawn: a campaign's mix of spec APIs is its own choice (`--spec-api`)
            shapes_percent: SWARM_SHAPES_PERCENT,
            deferred_percent: SWARM_DEFERRED_PERCENT,
            additional_percent: SWARM_ADDITIONAL_PERCENT,
            collection_percent: SWARM_COLLECTION_PERCENT,
        })
    }
}

/// The share of cases written with ShapesSpec under `--spec-api mixed`.
pub const MIXED_SHAPES_PERCENT: u32 = 30;
/// The share of swarm cases (campaigns, the fuzz targets) written with ShapesSpec.
pub const SWARM_SHAPES_PERCENT: u32 = MIXED_SHAPES_PERCENT;
/// The share of swarm cases exported with `prefer_deferred_runtime_asserts_over_guards`.
pub const SWARM_DEFERRED_PERCENT: u32 = 10;
/// The share of the other swarm `Dim` cases written as `AdditionalInputs`.
pub const SWARM_ADDITIONAL_PERCENT: u32 = 10;
/// The share of the swarm `Dim` cases left after that written as a `ShapesCollection`.
pub const SWARM_COLLECTION_PERCENT: u32 = 10;

/// Export sizes come from here: none is a multiple of another or of 2 and 3 times another,
/// so no two input dims share an example size and torch's duck sizing ties nothing the
/// model does not tie. They start at 5 so that sizes derived from them (`n - 2`, `n // 2`)
/// can stay at 2 or more, away from torch's 0/1 specialization.
const EXPORT_SIZES: [i64; 5] = [5, 7, 11, 13, 17];
/// Per-symbol sizes every op must also accept, so most symbols stay free.
const WITNESS_SIZES: [i64; 11] = [2, 3, 4, 5, 6, 7, 8, 9, 15, 32, 64];

impl Case {
    /// Builds a random valid case from the bytes in `u`.
    pub fn new(config: &GenConfig, u: &mut Unstructured) -> Result<Case> {
        let mut b = Builder::start(config, u)?;
        b.run(u)?;
        b.finish(u)
    }
}

impl<'a> Arbitrary<'a> for Case {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let config = GenConfig::arbitrary(u)?;
        Case::new(&config, u)
    }
}

/// The case libFuzzer's bytes stand for (the `fuzz/` targets and `import-artifact` agree on
/// this decoding): a swarm configuration, then the case, from the same bytes.
pub fn case_from_bytes(data: &[u8]) -> Option<Case> {
    Case::arbitrary(&mut Unstructured::new(data)).ok()
}

/// A case from a 64-bit seed: the bytes come from a ChaCha stream, so the same seed gives
/// the same case on every machine.
pub fn case_from_seed(config: &GenConfig, seed: u64) -> Case {
    let bytes = seed_bytes(seed);
    let mut u = Unstructured::new(&bytes);
    Case::new(config, &mut u).expect("generation never fails on a byte stream")
}

/// The case a campaign seed produces: with `swarm`, a generator configuration drawn from the
/// seed's byte stream, then the case from the same stream; else the default configuration.
/// The one ChaCha stream behind every seed (CLI, campaigns, fuzz targets).
pub fn generate(seed: u64, swarm: bool) -> Case {
    if !swarm {
        return case_from_seed(&GenConfig::default(), seed);
    }
    generate_with(seed, None, None)
}

/// The case of `seed` under `config` (`None`: a swarm configuration drawn from the seed's
/// stream, as [`generate`]), with its share of ShapesSpec cases set to `shapes_percent`
/// when given (`--spec-api`). The same bytes are read either way: only the spec of a
/// case can differ.
pub fn generate_with(seed: u64, config: Option<&GenConfig>, shapes_percent: Option<u32>) -> Case {
    let bytes = seed_bytes(seed);
    let mut u = Unstructured::new(&bytes);
    let mut cfg = match config {
        Some(c) => c.clone(),
        None => GenConfig::arbitrary(&mut u).expect("generation never fails on a byte stream"),
    };
    if let Some(p) = shapes_percent {
        cfg.shapes_percent = p.min(100);
    }
    Case::new(&cfg, &mut u).expect("generation never fails on a byte stream")
}

/// The 4 KiB of ChaCha8 output a seed stands for.
pub fn seed_bytes(seed: u64) -> Vec<u8> {
    use rand::{RngCore, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut bytes = vec![0u8; 4096];
    rng.fill_bytes(&mut bytes);
    bytes
}

/// Builds one op (and the ops it needs first, into `pre`), or `None` when nothing fits.
type BuildFn = fn(&mut Builder, &mut Unstructured, &mut Step) -> Result<Option<Op>>;

/// One row of the generator's table.
pub struct BuilderRow {
    pub name: &'static str,
    pub family: Family,
    pub weight: u32,
    /// Tags of the ops this builder can make.
    pub makes: &'static [&'static str],
    build: BuildFn,
}

/// The generator's table: one row per builder, with its family, its weight and the ops it
/// can make (`tests/generator_meta.rs` checks that every op is made by some row). Row 0 must
/// always be able to build something; rows are drawn by weight among enabled families.
pub const BUILDERS: &[BuilderRow] = &[
    BuilderRow {
        name: "unary",
        family: Family::Elementwise,
        weight: 3,
        makes: &["unary"],
        build: |b, u, pre| b.build_unary(u, pre),
    },
    BuilderRow {
        name: "binary",
        family: Family::Elementwise,
        weight: 6,
        makes: &["binary", "reduce"],
        build: |b, u, pre| b.build_binary(u, pre),
    },
    BuilderRow {
        name: "scalar_arith",
        family: Family::Elementwise,
        weight: 2,
        makes: &["scalar_arith", "to_float", "true_div", "sqrt"],
        build: |b, u, pre| b.build_scalar_arith(u, pre),
    },
    BuilderRow {
        name: "clamp",
        family: Family::Elementwise,
        weight: 2,
        makes: &["clamp"],
        build: |b, u, pre| b.build_clamp(u, pre),
    },
    BuilderRow {
        name: "masked_fill",
        family: Family::Elementwise,
        weight: 1,
        makes: &["masked_fill"],
        build: |b, u, pre| b.build_masked_fill(u, pre),
    },
    BuilderRow {
        name: "reduce",
        family: Family::Reduction,
        weight: 3,
        makes: &["reduce"],
        build: |b, u, pre| b.build_reduce(u, pre),
    },
    BuilderRow {
        name: "max_all",
        family: Family::Reduction,
        weight: 1,
        makes: &["max_all"],
        build: |b, u, pre| b.build_max_all(u, pre),
    },
    BuilderRow {
        name: "cumsum",
        family: Family::Reduction,
        weight: 1,
        makes: &["cumsum"],
        build: |b, u, pre| b.build_cumsum(u, pre),
    },
    BuilderRow {
        name: "topk_kthvalue_histc",
        family: Family::Reduction,
        weight: 2,
        makes: &["topk", "kthvalue", "histc"],
        build: |b, u, pre| b.build_topk(u, pre),
    },
    BuilderRow {
        name: "pool",
        family: Family::Reduction,
        weight: 3,
        makes: &["pool", "adaptive_pool"],
        build: |b, u, pre| b.build_pool(u, pre),
    },
    BuilderRow {
        name: "conv",
        family: Family::Matmul,
        weight: 2,
        makes: &["conv"],
        build: |b, u, pre| b.build_conv(u, pre),
    },
    BuilderRow {
        name: "shape_factory",
        family: Family::Factory,
        weight: 1,
        makes: &["shape_factory"],
        build: |b, u, pre| b.build_shape_factory(u, pre),
    },
    BuilderRow {
        name: "reshape_as",
        family: Family::Shape,
        weight: 1,
        makes: &["reshape_as"],
        build: |b, u, pre| b.build_reshape_as(u, pre),
    },
    BuilderRow {
        name: "repeat_by",
        family: Family::Expand,
        weight: 1,
        makes: &["repeat_by"],
        build: |b, u, pre| b.build_repeat_by(u, pre),
    },
    BuilderRow {
        name: "matmul",
        family: Family::Matmul,
        weight: 2,
        makes: &["matmul"],
        build: |b, u, pre| b.build_matmul(u, pre),
    },
    BuilderRow {
        name: "reshape",
        family: Family::Shape,
        weight: 2,
        makes: &["reshape", "size", "true_div", "round"],
        build: |b, u, pre| b.build_reshape(u, pre),
    },
    BuilderRow {
        name: "flatten",
        family: Family::Shape,
        weight: 1,
        makes: &["flatten"],
        build: |b, u, pre| b.build_flatten(u, pre),
    },
    BuilderRow {
        name: "unflatten",
        family: Family::Shape,
        weight: 1,
        makes: &["unflatten"],
        build: |b, u, pre| b.build_unflatten(u, pre),
    },
    BuilderRow {
        name: "permute_or_transpose",
        family: Family::Shape,
        weight: 2,
        makes: &["permute", "transpose"],
        build: |b, u, pre| b.build_permute_or_transpose(u, pre),
    },
    BuilderRow {
        name: "squeeze_or_unsqueeze",
        family: Family::Shape,
        weight: 2,
        makes: &["squeeze", "unsqueeze"],
        build: |b, u, pre| b.build_squeeze_or_unsqueeze(u, pre),
    },
    BuilderRow {
        name: "interpolate",
        family: Family::Shape,
        weight: 1,
        makes: &["interpolate", "interpolate_scale", "unsqueeze"],
        build: |b, u, pre| b.build_interpolate(u, pre),
    },
    BuilderRow {
        name: "cat_or_stack",
        family: Family::Join,
        weight: 2,
        makes: &["cat", "stack"],
        build: |b, u, pre| b.build_cat_or_stack(u, pre),
    },
    BuilderRow {
        name: "split_or_chunk",
        family: Family::Join,
        weight: 2,
        makes: &["split", "chunk"],
        build: |b, u, pre| b.build_split_or_chunk(u, pre),
    },
    BuilderRow {
        name: "narrow_or_slice",
        family: Family::Join,
        weight: 2,
        makes: &["narrow", "slice"],
        build: |b, u, pre| b.build_narrow_or_slice(u, pre),
    },
    BuilderRow {
        name: "index_select_or_gather",
        family: Family::Join,
        weight: 2,
        makes: &["index_select", "gather"],
        build: |b, u, pre| b.build_index_select_or_gather(u, pre),
    },
    BuilderRow {
        name: "pad",
        family: Family::Pad,
        weight: 1,
        makes: &["pad"],
        build: |b, u, pre| b.build_pad(u, pre),
    },
    BuilderRow {
        name: "pad_to_multiple",
        family: Family::Pad,
        weight: 2,
        makes: &["pad_sized", "size", "int_arith", "slice"],
        build: |b, u, pre| b.build_pad_to_multiple(u, pre),
    },
    BuilderRow {
        name: "append_value",
        family: Family::Pad,
        weight: 3,
        makes: &["append_value"],
        build: |b, u, pre| b.build_append_value(u, pre),
    },
    BuilderRow {
        name: "expand_or_repeat",
        family: Family::Expand,
        weight: 2,
        makes: &["expand", "repeat", "expand_as", "unsqueeze"],
        build: |b, u, pre| b.build_expand_or_repeat(u, pre),
    },
    BuilderRow {
        name: "arange",
        family: Family::Factory,
        weight: 3,
        makes: &["arange", "max_all"],
        build: |b, u, pre| b.build_arange(u, pre),
    },
    BuilderRow {
        name: "full_zeros_ones",
        family: Family::Factory,
        weight: 3,
        makes: &["full", "zeros", "ones"],
        build: |b, u, pre| b.build_full_zeros_ones(u, pre),
    },
    BuilderRow {
        name: "eye_or_linspace",
        family: Family::Factory,
        weight: 1,
        makes: &["eye", "linspace"],
        build: |b, u, pre| b.build_eye_or_linspace(u, pre),
    },
    BuilderRow {
        name: "one_hot",
        family: Family::Factory,
        weight: 2,
        makes: &["one_hot"],
        build: |b, u, pre| b.build_one_hot(u, pre),
    },
    BuilderRow {
        name: "tril",
        family: Family::Factory,
        weight: 1,
        makes: &["tril", "triu"],
        build: |b, u, pre| b.build_tril(u, pre),
    },
    BuilderRow {
        name: "to_tensor",
        family: Family::Channel,
        weight: 3,
        makes: &["to_tensor"],
        build: |b, u, pre| b.build_to_tensor(u, pre),
    },
    BuilderRow {
        name: "branch",
        family: Family::Control,
        weight: 5,
        makes: &[
            "compare",
            "compare_sizes",
            "bool_op",
            "not",
            "is_contiguous",
            "shape_compare",
            "if",
            "select",
            "select_flat",
            "reduce",
            "unsqueeze",
            "cat",
            "pad_sized",
            "slice",
        ],
        build: |b, u, pre| b.build_branch(u, pre),
    },
    BuilderRow {
        name: "loop_count",
        family: Family::Control,
        weight: 1,
        makes: &["loop"],
        build: |b, u, pre| b.build_loop_count(u, pre),
    },
    BuilderRow {
        name: "item_or_to_list",
        family: Family::DataDependent,
        weight: 2,
        makes: &["item", "to_list", "max_all", "arange", "zeros", "full"],
        build: |b, u, pre| b.build_item_or_to_list(u, pre),
    },
    BuilderRow {
        name: "data_dependent_shape",
        family: Family::DataDependent,
        weight: 2,
        makes: &["nonzero", "masked_select", "unique", "repeat_interleave"],
        build: |b, u, pre| b.build_data_dependent_shape(u, pre),
    },
    BuilderRow {
        name: "bincount",
        family: Family::DataDependent,
        weight: 1,
        makes: &["bincount", "flatten"],
        build: |b, u, pre| b.build_bincount(u, pre),
    },
];

/// Ops the size-argument helpers (`size_arg`, `int_value`, `scalar_arg`) make on behalf of
/// any builder that takes a size or a scalar.
pub const CHANNEL_OPS: &[&str] = &[
    "size",
    "numel",
    "ndim",
    "stride",
    "int_arith",
    "int_binary",
    "int_max",
    "true_div",
    "to_float",
    "sqrt",
    "round",
    "float_arith",
    "int_select",
    "list_item",
];

/// Picks an existing tensor value matching the predicate, or gives up on the builder.
macro_rules! tensor {
    ($self:ident, $u:ident, $p:expr) => {
        match $self.pick_tensor($u, $p)? {
            Some(x) => x,
            None => return Ok(None),
        }
    };
}

fn any(_: &TensorType) -> bool {
    true
}
fn float(t: &TensorType) -> bool {
    t.dtype == DType::F32
}
fn ranked(t: &TensorType) -> bool {
    t.rank() > 0
}

struct Builder<'c> {
    cfg: &'c GenConfig,
    case: Case,
    types: Vec<Type>,
    input_types: Vec<Type>,
    /// Export, normal probes, then witnesses.
    check: Vec<Valuation>,
    used_symbols: usize,
}

type Step = Vec<Op>;

/// Whether a tensor type has a size derived from a symbol that is 0 or 1 at `export`.
fn small_at(t: &Type, export: &[i64]) -> bool {
    t.tensor().is_some_and(|t| {
        t.shape.iter().any(|d| {
            d.as_const().is_none() && !d.has_data() && d.eval(export).is_some_and(|x| x < 2)
        })
    })
}

impl<'c> Builder<'c> {
    fn start(cfg: &'c GenConfig, u: &mut Unstructured) -> Result<Self> {
        let nsym = u.int_in_range(1..=cfg.max_symbols.clamp(1, EXPORT_SIZES.len()))?;
        let mut pool = EXPORT_SIZES.to_vec();
        let mut export = vec![];
        for _ in 0..nsym {
            let i = u.choose_index(pool.len())?;
            export.push(pool.remove(i));
        }
        let mut probes = vec![];
        for s in 0..nsym {
            let mut below = export.clone();
            below[s] = u.int_in_range(2..=export[s] - 1)?;
            let mut above = export.clone();
            above[s] = export[s] + u.int_in_range(1..=4)?;
            probes.push(Probe {
                sizes: below,
                edge: false,
            });
            probes.push(Probe {
                sizes: above,
                edge: false,
            });
        }
        probes.push(Probe {
            sizes: export.iter().map(|x| x + 1).collect(),
            edge: false,
        });
        let mut large = export.clone();
        large[u.choose_index(nsym)?] = 32;
        probes.push(Probe {
            sizes: large,
            edge: false,
        });
        for s in 0..nsym {
            for v in [0, 1] {
                let mut e = export.clone();
                e[s] = v;
                probes.push(Probe {
                    sizes: e,
                    edge: true,
                });
            }
        }
        let mut check: Vec<Valuation> = std::iter::once(export.clone())
            .chain(probes.iter().filter(|p| !p.edge).map(|p| p.sizes.clone()))
            .collect();
        for s in 0..nsym {
            for w in WITNESS_SIZES {
                let mut v = export.clone();
                v[s] = w;
                check.push(v);
            }
        }
        let case = Case {
            schema_version: SCHEMA_VERSION,
            inputs: vec![],
            nodes: vec![],
            outputs: vec![],
            export,
            probes,
            assumptions: vec![],
            deferred_asserts: false,
            additional_inputs: vec![],
            shapes_collection: false,
        };
        let mut b = Builder {
            cfg,
            case,
            types: vec![],
            input_types: vec![],
            check,
            used_symbols: 0,
        };
        let rank = u.int_in_range(1..=cfg.max_rank.max(1))?;
        let dtype = if u.int_in_range(0..=3u8)? == 0 {
            DType::I64
        } else {
            DType::F32
        };
        b.new_input(u, dtype, rank)?;
        Ok(b)
    }

    fn nsym(&self) -> usize {
        self.case.export.len()
    }

    fn ty(&self, v: ValueRef) -> &Type {
        match v {
            ValueRef::Input(i) => &self.input_types[i as usize],
            ValueRef::Node(n) => &self.types[n as usize],
        }
    }

    fn values(&self) -> impl Iterator<Item = ValueRef> + '_ {
        (0..self.input_types.len() as u32)
            .map(ValueRef::Input)
            .chain((0..self.types.len() as u32).map(ValueRef::Node))
    }

    fn pick(&self, u: &mut Unstructured, pred: impl Fn(&Type) -> bool) -> Result<Option<ValueRef>> {
        let c: Vec<ValueRef> = self.values().filter(|v| pred(self.ty(*v))).collect();
        if c.is_empty() {
            return Ok(None);
        }
        // Favour recent values so chains form instead of fans.
        let i = c.len() - 1 - u.choose_index(c.len())?.min(u.choose_index(c.len())?);
        Ok(Some(c[i]))
    }

    fn pick_tensor(
        &self,
        u: &mut Unstructured,
        pred: impl Fn(&TensorType) -> bool,
    ) -> Result<Option<(ValueRef, TensorType)>> {
        let v = self.pick(u, |t| t.tensor().is_some_and(&pred))?;
        Ok(v.map(|v| (v, self.ty(v).tensor().unwrap().clone())))
    }

    /// A size for a new input dim: a fresh symbol, a shared one, a constant, or `k * s`.
    fn new_dim(&mut self, u: &mut Unstructured) -> Result<DimExpr> {
        let choice = u.int_in_range(0..=9u8)?;
        Ok(match choice {
            0..=5 if self.used_symbols < self.nsym() => {
                self.used_symbols += 1;
                DimExpr::Sym(SymId(self.used_symbols as u32 - 1))
            }
            6 => DimExpr::Const(u.int_in_range(2..=4)?),
            7 if self.used_symbols > 0 => {
                let s = u.int_in_range(0..=self.used_symbols - 1)?;
                DimExpr::mul(
                    DimExpr::Const(u.int_in_range(2..=3)?),
                    DimExpr::Sym(SymId(s as u32)),
                )
            }
            _ if self.used_symbols > 0 => {
                DimExpr::Sym(SymId(u.int_in_range(0..=self.used_symbols - 1)? as u32))
            }
            _ if self.used_symbols < self.nsym() => {
                self.used_symbols += 1;
                DimExpr::Sym(SymId(self.used_symbols as u32 - 1))
            }
            _ => DimExpr::Const(u.int_in_range(2..=4)?),
        })
    }

    fn new_input(&mut self, u: &mut Unstructured, dtype: DType, rank: usize) -> Result<ValueRef> {
        let mut dims = vec![];
        for _ in 0..rank {
            dims.push(self.new_dim(u)?);
        }
        // Too many elements at some witness size: make dims static until it fits.
        for i in (0..dims.len()).rev() {
            if self.fits(&dims) {
                break;
            }
            dims[i] = DimExpr::Const(2);
        }
        Ok(self
            .input_with(dtype, dims)
            .expect("fresh dims are input dims"))
    }

    fn fits(&self, dims: &[DimExpr]) -> bool {
        let numel = product(dims);
        self.check
            .iter()
            .all(|v| numel.eval(v).is_some_and(|n| n <= MAX_NUMEL))
    }

    /// A new input of exactly this shape, when every dim is an input-dim form.
    fn input_with(&mut self, dtype: DType, dims: Vec<DimExpr>) -> Option<ValueRef> {
        let ok = |d: &DimExpr| match d {
            DimExpr::Const(c) => *c >= 1,
            DimExpr::Sym(_) => true,
            DimExpr::Mul(k, s) => {
                matches!((&**k, &**s), (DimExpr::Const(k), DimExpr::Sym(_)) if *k >= 2)
            }
            _ => false,
        };
        if self.case.inputs.len() >= self.cfg.max_inputs.max(1)
            || !dims.iter().all(ok)
            || !self.fits(&dims)
        {
            return None;
        }
        let input = Input {
            kind: InputKind::Tensor,
            dtype,
            dims: dims
                .into_iter()
                .map(|size| InputDim {
                    size,
                    truth: DimTruth::Free,
                    spec: DimSpec::Unspecified,
                })
                .collect(),
        };
        self.input_types.push(input.value_type());
        self.case.inputs.push(input);
        Some(ValueRef::Input(self.case.inputs.len() as u32 - 1))
    }

    /// A new Python int model input (`forward(self, x, n)`), on a new or an existing symbol
    /// (a length passed beside the tensor it measures), or `None` when no input is left.
    fn int_input(&mut self, u: &mut Unstructured) -> Result<Option<ValueRef>> {
        if !self.room_for_scalar_input() {
            return Ok(None);
        }
        let size = self.int_input_value(u)?;
        Ok(Some(self.push_input(Input::int(size))))
    }

    /// `ns: list[int]` with 2 or 3 elements, each a new or an existing symbol or a constant,
    /// and `ns[i]` read from it in `pre`.
    fn int_list_input(&mut self, u: &mut Unstructured, pre: &mut Step) -> Result<Option<ValueRef>> {
        if !self.room_for_scalar_input() {
            return Ok(None);
        }
        let mut dims = vec![];
        for _ in 0..u.int_in_range(2..=3)? {
            dims.push(InputDim {
                size: self.int_input_value(u)?,
                truth: DimTruth::Free,
                spec: DimSpec::Unspecified,
            });
        }
        let n = dims.len();
        let list = self.push_input(Input {
            kind: InputKind::IntList,
            dtype: DType::I64,
            dims,
        });
        let id = self.next_id(pre);
        pre.push(Op::ListItem(ListItem {
            x: list,
            index: u.int_in_range(0..=n - 1)? as u8,
        }));
        Ok(Some(id))
    }

    /// A Python float (`s: float`, a multiple of 0.5) or bool input: torch burns these in.
    fn constant_input(
        &mut self,
        u: &mut Unstructured,
        kind: InputKind,
    ) -> Result<Option<ValueRef>> {
        if !self.room_for_scalar_input() {
            return Ok(None);
        }
        let value = match kind {
            InputKind::Bool => u.int_in_range(0..=1)?,
            _ => u.int_in_range(1..=8)?,
        };
        Ok(Some(self.push_input(Input {
            kind,
            dtype: DType::F32,
            dims: vec![InputDim {
                size: DimExpr::Const(value),
                truth: DimTruth::Static,
                spec: DimSpec::Unspecified,
            }],
        })))
    }

    fn room_for_scalar_input(&self) -> bool {
        let first_is_tensor = self
            .case
            .inputs
            .first()
            .is_some_and(|i| i.kind == InputKind::Tensor);
        first_is_tensor && self.case.inputs.len() < self.cfg.max_inputs.max(1)
    }

    fn int_input_value(&mut self, u: &mut Unstructured) -> Result<DimExpr> {
        Ok(match self.new_dim(u)? {
            DimExpr::Mul(_, s) => *s,
            other => other,
        })
    }

    fn push_input(&mut self, input: Input) -> ValueRef {
        self.input_types.push(input.value_type());
        self.case.inputs.push(input);
        ValueRef::Input(self.case.inputs.len() as u32 - 1)
    }

    /// Tries to append ops; keeps all of them or none.
    fn try_push(&mut self, ops: Step) -> bool {
        let mark = self.types.len();
        for op in &ops {
            let node = self.types.len() as u32;
            let (inputs, nodes) = (&self.input_types, &self.types);
            let lookup = |v: ValueRef| match v {
                ValueRef::Input(i) => inputs.get(i as usize).cloned(),
                ValueRef::Node(n) => nodes.get(n as usize).cloned(),
            };
            let cx = InferCtx {
                types: &lookup,
                valuations: &self.check,
                node,
            };
            match op.infer(&cx) {
                // A derived size of 0 or 1 at the export sizes would be torch's 0/1
                // specialization by design, not a finding.
                Ok(t)
                    if !small_at(&t, &self.case.export)
                        && !op_makes_small_piece(op, &lookup, &self.case.export) =>
                {
                    self.types.push(t)
                }
                _ => {
                    self.types.truncate(mark);
                    return false;
                }
            }
        }
        self.case.nodes.extend(ops);
        true
    }

    fn run(&mut self, u: &mut Unstructured) -> Result<()> {
        let steps = u.int_in_range(1..=self.cfg.max_steps.max(1))?;
        // Half the cases open with a binary op, which usually brings a second input tied to
        // the first: multi-input models with ties are where shape bugs gather.
        if u.arbitrary::<bool>()? {
            let before = self.case.inputs.len();
            let ops = self.build(1, u)?;
            if ops.is_empty() || !self.try_push(ops) {
                self.case.inputs.truncate(before);
                self.input_types.truncate(before);
            }
        }
        for _ in 0..steps {
            if u.is_empty() {
                break;
            }
            for _attempt in 0..6 {
                let inputs_before = self.case.inputs.len();
                let ops = self.propose(u)?;
                if !ops.is_empty() && self.try_push(ops) {
                    break;
                }
                // A rejected proposal must not leave an unused input behind.
                self.case.inputs.truncate(inputs_before);
                self.input_types.truncate(inputs_before);
            }
        }
        Ok(())
    }

    /// A size operand: a size-derived int (possibly creating `x.shape[d]` first) or a literal.
    fn size_arg(
        &mut self,
        u: &mut Unstructured,
        pre: &mut Step,
        lit: std::ops::RangeInclusive<i64>,
    ) -> Result<SizeArg> {
        if u.int_in_range(0..=99u32)? < self.cfg.channel_percent
            && let Some(v) = self.int_value(u, pre)?
        {
            return Ok(SizeArg::Value(v));
        }
        Ok(SizeArg::Const(u.int_in_range(lit)?))
    }

    /// An existing size-derived int, or a new `x.shape[d]` (maybe with arithmetic) in `pre`.
    fn int_value(&mut self, u: &mut Unstructured, pre: &mut Step) -> Result<Option<ValueRef>> {
        let Some(read) = self.size_read(u, pre)? else {
            return Ok(None);
        };
        // Real model code rarely uses a size as read: chains like `(n - 1) // s + 1` and
        // `H * W` are the rule (see harness/gen/SURVEY.md).
        let mut cur = read;
        let steps = u.int_in_range(0..=self.cfg.max_chain)?;
        for _ in 0..steps {
            cur = self.arith_step(u, pre, cur)?;
        }
        Ok(Some(cur))
    }

    /// An existing size-derived int, or a new read of a size (`x.shape[d]`, `x.size(d)`,
    /// `len(x)`, `_, n = x.shape`, `x.numel()`, `x.dim()`) in `pre`.
    fn size_read(&mut self, u: &mut Unstructured, pre: &mut Step) -> Result<Option<ValueRef>> {
        let channels_on = self.cfg.families.contains(&Family::Channel);
        if (u.arbitrary::<bool>()? || !channels_on)
            && let Some(v) = self.pick(u, |t| matches!(t, Type::Int(_)))?
        {
            return Ok(Some(v));
        }
        if !channels_on {
            return Ok(None);
        }
        match u.int_in_range(0..=15u8)? {
            0 | 1 => {
                if let Some(n) = self.int_input(u)? {
                    return Ok(Some(n));
                }
            }
            2 => {
                if let Some(n) = self.int_list_input(u, pre)? {
                    return Ok(Some(n));
                }
            }
            _ => {}
        }
        let Some((x, t)) =
            self.pick_tensor(u, |t| t.rank() > 0 && t.shape.iter().any(|d| !d.has_data()))?
        else {
            return Ok(None);
        };
        let dim = u.choose_index(t.rank())? as u8;
        let spelling = *u.choose(SizeSpelling::ALL)?;
        let spelling = if spelling == SizeSpelling::Len && dim != 0 {
            SizeSpelling::ShapeIndex
        } else {
            spelling
        };
        let read = self.next_id(pre);
        match u.int_in_range(0..=19u8)? {
            0 | 1 => pre.push(Op::Numel(Numel { x })),
            2 => pre.push(Op::NDim(NDim { x })),
            3 => pre.push(Op::Stride(Stride { x, dim })),
            _ => pre.push(Op::Size(Size { x, dim, spelling })),
        }
        Ok(Some(read))
    }

    /// One step of arithmetic on a size-derived int, in `pre`.
    fn arith_step(
        &mut self,
        u: &mut Unstructured,
        pre: &mut Step,
        cur: ValueRef,
    ) -> Result<ValueRef> {
        let id = self.next_id(pre);
        match u.int_in_range(0..=10u8)? {
            0..=4 => {
                let f = *u.choose(IntFn::ALL)?;
                let k = match f {
                    IntFn::FloorDiv | IntFn::Mod => *u.choose(&[2, 3, 4, 8, 16, 32])?,
                    IntFn::Add | IntFn::Sub | IntFn::RSub => *u.choose(&[1, 2, 3, 4, 8, 16])?,
                    IntFn::Mul => u.int_in_range(2..=4)?,
                    IntFn::Pow => 2,
                    IntFn::Min => *u.choose(&[2, 3, 4, 6, 8, 16])?,
                    IntFn::Shr => u.int_in_range(1..=3)?,
                    IntFn::Shl => u.int_in_range(1..=2)?,
                    IntFn::BitAnd => *u.choose(&[1, 3, 7, -2, -4, -8])?,
                    IntFn::BitOr => *u.choose(&[1, 3, 7])?,
                    IntFn::BitXor => *u.choose(&[1, 3])?,
                    IntFn::DivmodQuotient | IntFn::DivmodRemainder => u.int_in_range(2..=4)?,
                    IntFn::AbsDiff => {
                        let at = self
                            .type_in(pre, cur)
                            .and_then(|t| t.int().and_then(|e| e.eval(&self.case.export)));
                        self.compare_literal(u, at)?
                    }
                };
                pre.push(Op::IntArith(IntArith { a: cur, f, k }));
            }
            5 | 6 => {
                let Some(b) = self.size_read(u, pre)? else {
                    return Ok(cur);
                };
                let id = self.next_id(pre);
                let (a, b) = if u.arbitrary()? { (cur, b) } else { (b, cur) };
                pre.push(Op::IntBinary(IntBinary {
                    a,
                    f: *u.choose(IntBinFn::ALL)?,
                    b,
                }));
                return Ok(id);
            }
            10 => {
                // `a if c else b` / `torch.sym_ite(c, a, b)` between this and another size.
                let Some(cond) = self.condition_leaf(u, pre)? else {
                    return Ok(cur);
                };
                let other = match self.size_read(u, pre)? {
                    Some(o) if o != cur => o,
                    _ => return Ok(cur),
                };
                let symbolic = |v: ValueRef| {
                    self.type_in(pre, v)
                        .is_some_and(|t| t.int().is_some_and(DimExpr::has_symbol))
                };
                let spelling = if symbolic(cur) && symbolic(other) && u.arbitrary()? {
                    IteSpelling::SymIte
                } else {
                    IteSpelling::IfExpr
                };
                let id = self.next_id(pre);
                let (a, b) = if u.arbitrary()? {
                    (cur, other)
                } else {
                    (other, cur)
                };
                pre.push(Op::IntSelect(IntSelect {
                    cond,
                    a,
                    b,
                    spelling,
                }));
                return Ok(id);
            }
            7 => pre.push(Op::IntMax(IntMax {
                a: cur,
                k: u.int_in_range(2..=6)?,
                spelling: *u.choose(MaxSpelling::ALL)?,
            })),
            _ => {
                // Through a float and back: `int(n / 2 * 1.5)`, `math.ceil(n * 0.75)`.
                let f = self.float_value(u, pre, cur, false)?;
                let id = self.next_id(pre);
                pre.push(Op::Round(Round {
                    a: f,
                    f: *u.choose(RoundFn::ALL)?,
                }));
                return Ok(id);
            }
        }
        Ok(id)
    }

    /// A float computed from the int `a`, in `pre`: `a / k`, `float(a)`,
    /// `torch.sym_float(a)` or (when `sqrt_ok`) `math.sqrt(a)`, then up to two steps of
    /// arithmetic with a literal (`* 0.5`, `+ 1.5`).
    fn float_value(
        &mut self,
        u: &mut Unstructured,
        pre: &mut Step,
        a: ValueRef,
        sqrt_ok: bool,
    ) -> Result<ValueRef> {
        let mut f = self.next_id(pre);
        let top = if sqrt_ok { 3 } else { 2 };
        let first = match u.int_in_range(0..=top)? {
            0 => Op::TrueDiv(TrueDiv {
                a,
                k: u.int_in_range(2..=4)?,
            }),
            1 => Op::ToFloat(ToFloat {
                a,
                spelling: FloatSpelling::Float,
            }),
            2 => Op::ToFloat(ToFloat {
                a,
                spelling: FloatSpelling::SymFloat,
            }),
            _ => Op::Sqrt(Sqrt {
                a,
                spelling: *u.choose(SqrtSpelling::ALL)?,
            }),
        };
        let is_sqrt = matches!(first, Op::Sqrt(_));
        pre.push(first);
        if is_sqrt {
            // Arithmetic on a square root has no exact truth.
            return Ok(f);
        }
        for _ in 0..u.int_in_range(0..=2u8)? {
            let next = self.next_id(pre);
            pre.push(Op::FloatArith(FloatArith {
                a: f,
                f: *u.choose(FloatFn::ALL)?,
                c: *u.choose(FloatLit::ALL)?,
            }));
            f = next;
        }
        Ok(f)
    }

    /// The type of a value, including those of the ops pending in `pre` (structurally,
    /// without valuations).
    fn type_in(&self, pre: &Step, v: ValueRef) -> Option<Type> {
        let base = self.types.len() as u32;
        let ValueRef::Node(n) = v else {
            return Some(self.ty(v).clone());
        };
        if n < base {
            return Some(self.ty(v).clone());
        }
        let mut pending: Vec<Type> = vec![];
        for (i, op) in pre.iter().enumerate() {
            let lookup = |w: ValueRef| match w {
                ValueRef::Node(m) if m >= base => pending.get((m - base) as usize).cloned(),
                other => Some(self.ty(other).clone()),
            };
            let cx = InferCtx {
                types: &lookup,
                valuations: &[],
                node: base + i as u32,
            };
            let t = op.infer(&cx).ok()?;
            pending.push(t);
            if base + i as u32 == n {
                return pending.pop();
            }
        }
        None
    }

    /// Literals real comparisons use: 0, 1, the value at the export sizes and its
    /// neighbours, a large one, and small ones (harness/gen/SURVEY.md).
    fn compare_literal(&self, u: &mut Unstructured, at_export: Option<i64>) -> Result<i64> {
        let v = at_export.unwrap_or(4);
        Ok(match u.int_in_range(0..=9u8)? {
            0 | 1 => 0,
            2 | 3 => 1,
            4 => v,
            5 => v - 1,
            6 => v + 1,
            7 => 100,
            _ => u.int_in_range(2..=8)?,
        })
    }

    /// A bool computed from sizes, in `pre`: a comparison with a literal or between two
    /// sizes, of an int or a float, maybe combined with `and`/`or`/`not`.
    fn condition(&mut self, u: &mut Unstructured, pre: &mut Step) -> Result<Option<ValueRef>> {
        match u.int_in_range(0..=11u8)? {
            2 => {
                if let Some(b) = self.constant_input(u, InputKind::Bool)? {
                    return Ok(Some(b));
                }
            }
            0 => {
                if let Some(c) = self.is_contiguous(u, pre)? {
                    return Ok(Some(c));
                }
            }
            1 => {
                if let Some(c) = self.shape_compare(u, pre)? {
                    return Ok(Some(c));
                }
            }
            _ => {}
        }
        let Some(a) = self.int_value(u, pre)? else {
            return Ok(None);
        };
        let cmp = *u.choose(CmpFn::ALL)?;
        let cond = match u.int_in_range(0..=6u8)? {
            0 => {
                // Two sizes compared.
                let Some(b) = self.int_value(u, pre)? else {
                    return Ok(None);
                };
                let id = self.next_id(pre);
                pre.push(Op::CompareSizes(CompareSizes { a, cmp, b }));
                id
            }
            1..=3 => {
                // A float compared: `n / 2 > 3`, `math.sqrt(n) <= 4`, `n * 0.5 + 1 > 3`.
                let f = self.float_value(u, pre, a, true)?;
                let at = match self.type_in(pre, f) {
                    Some(Type::Float(e)) => e.eval(&self.case.export).map(|x| x.round() as i64),
                    _ => None,
                };
                let k = self.compare_literal(u, at)?;
                let id = self.next_id(pre);
                pre.push(Op::Compare(Compare { a: f, cmp, k }));
                id
            }
            _ => {
                let at = self
                    .type_in(pre, a)
                    .and_then(|t| t.int().and_then(|e| e.eval(&self.case.export)));
                let k = self.compare_literal(u, at)?;
                let id = self.next_id(pre);
                pre.push(Op::Compare(Compare { a, cmp, k }));
                id
            }
        };
        Ok(Some(match u.int_in_range(0..=5u8)? {
            0 => {
                let Some(other) = self.condition_leaf(u, pre)? else {
                    return Ok(Some(cond));
                };
                let id = self.next_id(pre);
                pre.push(Op::BoolOp(BoolOp {
                    a: cond,
                    f: *u.choose(BoolFn::ALL)?,
                    b: other,
                }));
                id
            }
            1 => {
                let id = self.next_id(pre);
                pre.push(Op::Not(Not { a: cond }));
                id
            }
            _ => cond,
        }))
    }

    /// `x.contiguous().transpose(d0, d1).is_contiguous()` of a tensor with two or more dims,
    /// in `pre`: a bool that is true only where some of the swapped sizes are 1.
    fn is_contiguous(&mut self, u: &mut Unstructured, pre: &mut Step) -> Result<Option<ValueRef>> {
        let Some((x, t)) = self.pick_tensor(u, |t| {
            t.rank() >= 2 && !t.shape.iter().any(DimExpr::has_data)
        })?
        else {
            return Ok(None);
        };
        let d0 = u.int_in_range(0..=t.rank() - 2)?;
        let d1 = u.int_in_range(d0 + 1..=(d0 + 2).min(t.rank() - 1))?;
        let id = self.next_id(pre);
        pre.push(Op::IsContiguous(IsContiguous {
            x,
            d0: d0 as u8,
            d1: d1 as u8,
        }));
        Ok(Some(id))
    }

    /// `x.shape == y.shape` (or `!=`) of two tensors of one rank, in `pre`.
    fn shape_compare(&mut self, u: &mut Unstructured, pre: &mut Step) -> Result<Option<ValueRef>> {
        let plain = |t: &TensorType| !t.shape.iter().any(DimExpr::has_data);
        let Some((a, t)) = self.pick_tensor(u, plain)? else {
            return Ok(None);
        };
        let rank = t.rank();
        let Some((b, _)) = self.pick_tensor(u, |o| plain(o) && o.rank() == rank)? else {
            return Ok(None);
        };
        if a == b {
            return Ok(None);
        }
        let id = self.next_id(pre);
        pre.push(Op::ShapeCompare(ShapeCompare {
            a,
            cmp: *u.choose(&[CmpFn::Eq, CmpFn::Ne])?,
            b,
        }));
        Ok(Some(id))
    }

    /// A plain comparison of a size with a literal, for combining.
    fn condition_leaf(&mut self, u: &mut Unstructured, pre: &mut Step) -> Result<Option<ValueRef>> {
        let Some(a) = self.size_read(u, pre)? else {
            return Ok(None);
        };
        let at = self
            .type_in(pre, a)
            .and_then(|t| t.int().and_then(|e| e.eval(&self.case.export)));
        let k = self.compare_literal(u, at)?;
        let id = self.next_id(pre);
        pre.push(Op::Compare(Compare {
            a,
            cmp: *u.choose(CmpFn::ALL)?,
            k,
        }));
        Ok(Some(id))
    }

    /// A scalar for value sinks: a size-derived int or float, or a literal.
    fn scalar_arg(
        &mut self,
        u: &mut Unstructured,
        pre: &mut Step,
        float_ok: bool,
    ) -> Result<ScalarArg> {
        if float_ok
            && u.int_in_range(0..=15u8)? == 0
            && let Some(f) = self.constant_input(u, InputKind::Float)?
        {
            return Ok(SizeArg::Value(f));
        }
        let a = self.size_arg(u, pre, 0..=5)?;
        if float_ok
            && let SizeArg::Value(v) = a
            && u.int_in_range(0..=3u8)? == 0
        {
            return Ok(SizeArg::Value(self.float_value(u, pre, v, true)?));
        }
        Ok(a)
    }

    fn next_id(&self, pre: &Step) -> ValueRef {
        ValueRef::Node(self.types.len() as u32 + pre.len() as u32)
    }

    /// A second operand shaped like `t` (optionally with dim `except` free): an existing
    /// value, or a new input that shares `t`'s symbols — the way ties enter a case.
    fn partner(
        &mut self,
        u: &mut Unstructured,
        t: &TensorType,
        except: Option<usize>,
    ) -> Result<Option<ValueRef>> {
        let same = |o: &TensorType| {
            o.dtype == t.dtype
                && o.rank() == t.rank()
                && o.shape
                    .iter()
                    .zip(&t.shape)
                    .enumerate()
                    .all(|(i, (a, b))| Some(i) == except || a == b)
        };
        // Mostly a new input: that is how ties between inputs arise.
        if u.int_in_range(0..=3u8)? == 0
            && let Some((v, _)) = self.pick_tensor(u, same)?
        {
            return Ok(Some(v));
        }
        let mut dims = t.shape.clone();
        if let Some(e) = except {
            dims[e] = self.new_dim(u)?;
        }
        Ok(self.input_with(t.dtype, dims))
    }

    fn families_on(&self, f: Family) -> bool {
        self.cfg.families.contains(&f)
    }

    fn propose(&mut self, u: &mut Unstructured) -> Result<Step> {
        let enabled: Vec<usize> = (0..BUILDERS.len())
            .filter(|&i| self.families_on(BUILDERS[i].family) && self.cfg.weight(&BUILDERS[i]) > 0)
            .collect();
        let total: u32 = enabled.iter().map(|&i| self.cfg.weight(&BUILDERS[i])).sum();
        let mut r = u.int_in_range(0..=total - 1)?;
        let mut which = enabled[0];
        for &i in &enabled {
            let w = self.cfg.weight(&BUILDERS[i]);
            if r < w {
                which = i;
                break;
            }
            r -= w;
        }
        self.build(which, u)
    }

    fn build(&mut self, which: usize, u: &mut Unstructured) -> Result<Step> {
        let mut pre: Step = vec![];
        match (BUILDERS[which].build)(self, u, &mut pre)? {
            Some(op) => {
                pre.push(op);
                Ok(pre)
            }
            None => Ok(vec![]),
        }
    }

    fn build_unary(&mut self, u: &mut Unstructured, _pre: &mut Step) -> Result<Option<Op>> {
        let op = {
            let (x, t) = tensor!(self, u, |t: &TensorType| t.dtype != DType::Bool);
            let fs: Vec<UnaryFn> = UnaryFn::ALL
                .iter()
                .copied()
                .filter(|f| t.dtype == DType::F32 || f.name().len() <= 4)
                .collect();
            let f = *u.choose(&fs)?;
            let f = if t.dtype != DType::F32
                && !matches!(f, UnaryFn::Relu | UnaryFn::Neg | UnaryFn::Abs)
            {
                UnaryFn::Relu
            } else {
                f
            };
            Op::Unary(Unary { x, f })
        };
        Ok(Some(op))
    }

    fn build_binary(&mut self, u: &mut Unstructured, pre: &mut Step) -> Result<Option<Op>> {
        let op = {
            let (a, t) = tensor!(self, u, |t: &TensorType| t.dtype != DType::Bool);
            let b = if u.int_in_range(0..=2u8)? == 0 && t.rank() > 0 {
                // Broadcast against a reduced copy of the tensor: keepdim gives a 1.
                let d = u.choose_index(t.rank())? as u8;
                let id = self.next_id(pre);
                pre.push(Op::Reduce(Reduce {
                    x: a,
                    f: ReduceFn::Sum,
                    dim: d,
                    keepdim: true,
                }));
                id
            } else if u.int_in_range(0..=3u8)? == 0 && t.rank() > 0 {
                // A partner on its own symbols that broadcasts: 1 where `a` has a size, a
                // fresh symbol where `a` has 1, `x: [s0, 1] + y: [1, s1]`.
                let mut dims = vec![];
                for d in &t.shape {
                    dims.push(if *d == DimExpr::Const(1) {
                        self.new_dim(u)?
                    } else if u.arbitrary()? {
                        DimExpr::Const(1)
                    } else {
                        d.clone()
                    });
                }
                match self.input_with(t.dtype, dims) {
                    Some(b) => b,
                    None => a,
                }
            } else {
                match self.partner(u, &t, None)? {
                    Some(b) => b,
                    None => a,
                }
            };
            let (a, b) = if u.arbitrary()? { (a, b) } else { (b, a) };
            Op::Binary(Binary {
                a,
                b,
                f: *u.choose(BinaryFn::ALL)?,
            })
        };
        Ok(Some(op))
    }

    fn build_scalar_arith(&mut self, u: &mut Unstructured, pre: &mut Step) -> Result<Option<Op>> {
        let op = {
            let (x, t) = tensor!(self, u, |t: &TensorType| t.dtype != DType::Bool);
            let s = match self.scalar_arg(u, pre, t.dtype == DType::F32)? {
                SizeArg::Value(v) => v,
                SizeArg::Const(_) => return Ok(None),
            };
            Op::ScalarArith(ScalarArith {
                x,
                s,
                f: *u.choose(ScalarFn::ALL)?,
            })
        };
        Ok(Some(op))
    }

    fn build_clamp(&mut self, u: &mut Unstructured, pre: &mut Step) -> Result<Option<Op>> {
        let op = {
            let (x, t) = tensor!(self, u, |t: &TensorType| t.dtype != DType::Bool);
            let min = self.scalar_arg(u, pre, t.dtype == DType::F32)?;
            let max = if u.arbitrary()? {
                Some(self.scalar_arg(u, pre, t.dtype == DType::F32)?)
            } else {
                None
            };
            Op::Clamp(Clamp { x, min, max })
        };
        Ok(Some(op))
    }

    fn build_masked_fill(&mut self, u: &mut Unstructured, pre: &mut Step) -> Result<Option<Op>> {
        let op = {
            let (x, t) = tensor!(self, u, |t: &TensorType| t.dtype != DType::Bool);
            Op::MaskedFill(MaskedFill {
                x,
                value: self.scalar_arg(u, pre, t.dtype == DType::F32)?,
            })
        };
        Ok(Some(op))
    }

    fn build_reduce(&mut self, u: &mut Unstructured, _pre: &mut Step) -> Result<Option<Op>> {
        let op = {
            let (x, t) = tensor!(self, u, ranked);
            let f = *u.choose(ReduceFn::ALL)?;
            Op::Reduce(Reduce {
                x,
                f,
                dim: u.choose_index(t.rank())? as u8,
                keepdim: u.arbitrary()?,
            })
        };
        Ok(Some(op))
    }

    fn build_max_all(&mut self, u: &mut Unstructured, _pre: &mut Step) -> Result<Option<Op>> {
        Ok(Some(Op::MaxAll(MaxAll {
            x: tensor!(self, u, any).0,
        })))
    }

    fn build_cumsum(&mut self, u: &mut Unstructured, _pre: &mut Step) -> Result<Option<Op>> {
        let op = {
            let (x, t) = tensor!(self, u, ranked);
            Op::Cumsum(Cumsum {
                x,
                dim: u.choose_index(t.rank())? as u8,
            })
        };
        Ok(Some(op))
    }

    fn build_topk(&mut self, u: &mut Unstructured, pre: &mut Step) -> Result<Option<Op>> {
        let op = {
            let (x, t) = tensor!(self, u, |t: &TensorType| float(t) && ranked(t));
            let dim = u.choose_index(t.rank())? as u8;
            match u.int_in_range(0..=3u8)? {
                0 | 1 => Op::Topk(Topk {
                    x,
                    k: self.size_arg(u, pre, 1..=2)?,
                    dim,
                }),
                2 => Op::Kthvalue(Kthvalue {
                    x,
                    k: self.size_arg(u, pre, 1..=2)?,
                    dim,
                }),
                _ => Op::Histc(Histc {
                    x,
                    bins: self.size_arg(u, pre, 1..=8)?,
                }),
            }
        };
        Ok(Some(op))
    }

    fn build_pool(&mut self, u: &mut Unstructured, pre: &mut Step) -> Result<Option<Op>> {
        let (x, t) = tensor!(self, u, |t: &TensorType| float(t)
            && (2..=4).contains(&t.rank()));
        if u.int_in_range(0..=2u8)? == 0 && t.rank() <= 3 {
            return Ok(Some(Op::AdaptivePool(AdaptivePool {
                x,
                f: *u.choose(AdaptiveFn::ALL)?,
                size: self.size_arg(u, pre, 1..=4)?,
            })));
        }
        let fits = |f: &PoolFn| t.rank() == f.dims() + 1 || t.rank() == f.dims() + 2;
        let fns: Vec<PoolFn> = PoolFn::ALL.iter().copied().filter(fits).collect();
        let f = *u.choose(&fns)?;
        let kernel = self.size_arg(u, pre, 1..=3)?;
        let stride = match kernel {
            SizeArg::Const(_) if u.arbitrary()? => None,
            _ => Some(u.int_in_range(1..=3)?),
        };
        let padding = match kernel {
            SizeArg::Const(k) => u.int_in_range(0..=(k / 2) as u8)?,
            SizeArg::Value(_) => 0,
        };
        Ok(Some(Op::Pool(Pool {
            x,
            f,
            kernel,
            stride,
            padding,
            ceil_mode: u.arbitrary()?,
        })))
    }

    /// `torch.zeros(y.shape)`, `x.new_ones(y.size())`.
    fn build_shape_factory(&mut self, u: &mut Unstructured, _pre: &mut Step) -> Result<Option<Op>> {
        let (of, _) = tensor!(self, u, |t: &TensorType| !t
            .shape
            .iter()
            .any(DimExpr::has_data));
        let like = if u.arbitrary()? {
            self.pick_tensor(u, float)?.map(|(l, _)| l)
        } else {
            None
        };
        Ok(Some(Op::ShapeFactory(ShapeFactory {
            of,
            fill: *u.choose(ShapeFill::ALL)?,
            like,
            spelling: *u.choose(ShapeSpelling::ALL)?,
        })))
    }

    /// `x.reshape(y.shape)` with `y` of the same number of elements: an existing value, or
    /// a new input with `x`'s dims reversed.
    fn build_reshape_as(&mut self, u: &mut Unstructured, _pre: &mut Step) -> Result<Option<Op>> {
        let (x, t) = tensor!(self, u, |t: &TensorType| {
            t.rank() >= 1 && !t.shape.iter().any(DimExpr::has_data)
        });
        let nx = product(&t.shape);
        let check = &self.check;
        let same_numel = |o: &TensorType| {
            !o.shape.iter().any(DimExpr::has_data)
                && check
                    .iter()
                    .all(|v| product(&o.shape).eval(v) == nx.eval(v))
        };
        let of = match self.pick_tensor(u, same_numel)? {
            Some((o, _)) if o != x && u.arbitrary()? => o,
            _ => {
                let mut dims = t.shape.clone();
                dims.reverse();
                match self.input_with(t.dtype, dims) {
                    Some(o) => o,
                    None => return Ok(None),
                }
            }
        };
        Ok(Some(Op::ReshapeAs(ReshapeAs {
            x,
            of,
            spelling: *u.choose(ShapeSpelling::ALL)?,
        })))
    }

    /// `x.repeat(1, n, 1)` with a size-derived count.
    fn build_repeat_by(&mut self, u: &mut Unstructured, pre: &mut Step) -> Result<Option<Op>> {
        let (x, t) = tensor!(self, u, ranked);
        let dim = u.choose_index(t.rank())? as u8;
        Ok(Some(Op::RepeatBy(RepeatBy {
            x,
            dim,
            count: self.size_arg(u, pre, 1..=3)?,
        })))
    }

    fn build_matmul(&mut self, u: &mut Unstructured, _pre: &mut Step) -> Result<Option<Op>> {
        let op = {
            let (a, t) = tensor!(self, u, |t: &TensorType| float(t) && t.rank() >= 2);
            let k = t.shape[t.rank() - 1].clone();
            let m = self.new_dim(u)?;
            let b = match self.pick_tensor(u, |o| float(o) && o.rank() == 2 && o.shape[0] == k)? {
                Some((b, _)) if u.arbitrary()? => b,
                _ => match self.input_with(DType::F32, vec![k, m]) {
                    Some(b) => b,
                    None => return Ok(None),
                },
            };
            Op::Matmul(Matmul { a, b })
        };
        Ok(Some(op))
    }

    fn build_reshape(&mut self, u: &mut Unstructured, pre: &mut Step) -> Result<Option<Op>> {
        let op = {
            let (x, t) = tensor!(self, u, ranked);
            let spelling = *u.choose(ReshapeSpelling::ALL)?;
            let shape = match u.int_in_range(0..=3u8)? {
                0 => vec![ReshapeArg::Infer],
                1 => vec![ReshapeArg::Infer, ReshapeArg::Size(SizeArg::Const(1))],
                2 => vec![ReshapeArg::Size(SizeArg::Const(1)), ReshapeArg::Infer],
                _ => {
                    let d = u.choose_index(t.rank())?;
                    let id = self.next_id(pre);
                    pre.push(Op::Size(Size {
                        x,
                        dim: d as u8,
                        spelling: SizeSpelling::ShapeIndex,
                    }));
                    let mut sz = id;
                    if let DimExpr::Mul(..) = t.shape[d]
                        && u.arbitrary()?
                    {
                        // `int(n / 2)` on an even dim: pytorch issue 138853's pattern.
                        let half = self.next_id(pre);
                        pre.push(Op::TrueDiv(TrueDiv { a: id, k: 2 }));
                        sz = self.next_id(pre);
                        pre.push(Op::Round(Round {
                            a: half,
                            f: RoundFn::Int,
                        }));
                    }
                    vec![ReshapeArg::Size(SizeArg::Value(sz)), ReshapeArg::Infer]
                }
            };
            Op::Reshape(Reshape { x, shape, spelling })
        };
        Ok(Some(op))
    }

    fn build_flatten(&mut self, u: &mut Unstructured, _pre: &mut Step) -> Result<Option<Op>> {
        let op = {
            let (x, t) = tensor!(self, u, |t: &TensorType| t.rank() >= 2);
            let s = u.int_in_range(0..=t.rank() - 2)?;
            let e = u.int_in_range(s + 1..=t.rank() - 1)?;
            Op::Flatten(Flatten {
                x,
                start: s as u8,
                end: e as u8,
            })
        };
        Ok(Some(op))
    }

    fn build_unflatten(&mut self, u: &mut Unstructured, pre: &mut Step) -> Result<Option<Op>> {
        let op = {
            let (x, t) = tensor!(self, u, |t: &TensorType| t
                .shape
                .iter()
                .any(|d| matches!(d, DimExpr::Mul(..))));
            let d = t
                .shape
                .iter()
                .position(|d| matches!(d, DimExpr::Mul(..)))
                .unwrap();
            let DimExpr::Mul(k, _) = &t.shape[d] else {
                unreachable!()
            };
            let outer = match u.int_in_range(0..=1u8)? {
                0 => SizeArg::Const(k.as_const().unwrap_or(1)),
                _ => self.size_arg(u, pre, 1..=2)?,
            };
            Op::Unflatten(Unflatten {
                x,
                dim: d as u8,
                outer,
            })
        };
        Ok(Some(op))
    }

    fn build_permute_or_transpose(
        &mut self,
        u: &mut Unstructured,
        _pre: &mut Step,
    ) -> Result<Option<Op>> {
        let op = {
            let (x, t) = tensor!(self, u, |t: &TensorType| t.rank() >= 2);
            if u.arbitrary()? {
                let mut perm: Vec<u8> = (0..t.rank() as u8).collect();
                for i in (1..perm.len()).rev() {
                    let j = u.int_in_range(0..=i)?;
                    perm.swap(i, j);
                }
                Op::Permute(Permute { x, perm })
            } else {
                Op::Transpose(Transpose {
                    x,
                    d0: u.choose_index(t.rank())? as u8,
                    d1: u.choose_index(t.rank())? as u8,
                })
            }
        };
        Ok(Some(op))
    }

    fn build_squeeze_or_unsqueeze(
        &mut self,
        u: &mut Unstructured,
        _pre: &mut Step,
    ) -> Result<Option<Op>> {
        let op = {
            let (x, t) = tensor!(self, u, any);
            let ones = t.shape.iter().position(|d| *d == DimExpr::Const(1));
            let symbolic = t.shape.iter().position(|d| d.as_const().is_none());
            match (ones, symbolic) {
                (Some(d), _) if u.arbitrary()? => Op::Squeeze(Squeeze { x, dim: d as u8 }),
                (_, Some(d)) if u.int_in_range(0..=3u8)? == 0 => {
                    Op::Squeeze(Squeeze { x, dim: d as u8 })
                }
                _ => Op::Unsqueeze(Unsqueeze {
                    x,
                    dim: u.int_in_range(0..=t.rank())? as u8,
                }),
            }
        };
        Ok(Some(op))
    }

    fn build_interpolate(&mut self, u: &mut Unstructured, pre: &mut Step) -> Result<Option<Op>> {
        let op = {
            let (x, t) = tensor!(self, u, |t: &TensorType| float(t)
                && (1..=3).contains(&t.rank()));
            let mut x = x;
            for _ in t.rank()..3 {
                let id = self.next_id(pre);
                pre.push(Op::Unsqueeze(Unsqueeze { x, dim: 0 }));
                x = id;
            }
            if u.int_in_range(0..=2u8)? == 0 {
                Op::InterpolateScale(InterpolateScale {
                    x,
                    scale: *u.choose(ScaleFactor::ALL)?,
                })
            } else {
                Op::Interpolate(Interpolate {
                    x,
                    size: self.size_arg(u, pre, 1..=6)?,
                })
            }
        };
        Ok(Some(op))
    }

    fn build_cat_or_stack(&mut self, u: &mut Unstructured, _pre: &mut Step) -> Result<Option<Op>> {
        let op = {
            let (a, t) = tensor!(self, u, ranked);
            let d = u.choose_index(t.rank())?;
            if u.arbitrary()? {
                let b = self.partner(u, &t, Some(d))?.unwrap_or(a);
                Op::Cat(Cat {
                    xs: vec![a, b],
                    dim: d as u8,
                })
            } else {
                let b = self.partner(u, &t, None)?.unwrap_or(a);
                Op::Stack(Stack {
                    xs: vec![a, b],
                    dim: u.int_in_range(0..=t.rank())? as u8,
                })
            }
        };
        Ok(Some(op))
    }

    fn build_split_or_chunk(&mut self, u: &mut Unstructured, pre: &mut Step) -> Result<Option<Op>> {
        let op = {
            let (x, t) = tensor!(self, u, ranked);
            let dim = u.choose_index(t.rank())? as u8;
            if u.arbitrary()? {
                Op::Split(Split {
                    x,
                    size: self.size_arg(u, pre, 1..=3)?,
                    dim,
                })
            } else {
                Op::Chunk(Chunk {
                    x,
                    chunks: u.int_in_range(1..=3)?,
                    dim,
                })
            }
        };
        Ok(Some(op))
    }

    fn build_narrow_or_slice(
        &mut self,
        u: &mut Unstructured,
        pre: &mut Step,
    ) -> Result<Option<Op>> {
        let op = {
            let (x, t) = tensor!(self, u, ranked);
            let dim = u.choose_index(t.rank())? as u8;
            if u.arbitrary()? {
                Op::Narrow(Narrow {
                    x,
                    dim,
                    start: SizeArg::Const(u.int_in_range(0..=1)?),
                    len: self.size_arg(u, pre, 1..=2)?,
                })
            } else {
                let start = SizeArg::Const(u.int_in_range(0..=1)?);
                Op::Slice(Slice {
                    x,
                    dim,
                    start,
                    end: self.size_arg(u, pre, 1..=4)?,
                })
            }
        };
        Ok(Some(op))
    }

    fn build_index_select_or_gather(
        &mut self,
        u: &mut Unstructured,
        pre: &mut Step,
    ) -> Result<Option<Op>> {
        let op = {
            let (x, t) = tensor!(self, u, ranked);
            let dim = u.choose_index(t.rank())? as u8;
            if u.arbitrary()? {
                Op::IndexSelect(IndexSelect {
                    x,
                    dim,
                    len: self.size_arg(u, pre, 1..=2)?,
                })
            } else {
                Op::Gather(Gather { x, dim })
            }
        };
        Ok(Some(op))
    }

    fn build_pad(&mut self, u: &mut Unstructured, _pre: &mut Step) -> Result<Option<Op>> {
        Ok(Some(Op::Pad(Pad {
            x: tensor!(self, u, ranked).0,
            before: u.int_in_range(0..=2)?,
            after: u.int_in_range(0..=2)?,
        })))
    }

    fn build_append_value(&mut self, u: &mut Unstructured, pre: &mut Step) -> Result<Option<Op>> {
        let op = {
            let (x, _) = tensor!(self, u, |t: &TensorType| t.rank() == 1
                && t.dtype != DType::Bool);
            let Some(value) = self.int_value(u, pre)? else {
                return Ok(None);
            };
            Op::AppendValue(AppendValue {
                x,
                value,
                spelling: *u.choose(AppendSpelling::ALL)?,
            })
        };
        Ok(Some(op))
    }

    fn build_expand_or_repeat(
        &mut self,
        u: &mut Unstructured,
        pre: &mut Step,
    ) -> Result<Option<Op>> {
        let op = {
            let (x, t) = tensor!(self, u, ranked);
            match u.int_in_range(0..=2u8)? {
                0 => match t.shape.iter().position(|d| *d == DimExpr::Const(1)) {
                    Some(d) => Op::Expand(Expand {
                        x,
                        dim: d as u8,
                        size: self.size_arg(u, pre, 2..=4)?,
                    }),
                    None => {
                        let id = self.next_id(pre);
                        pre.push(Op::Unsqueeze(Unsqueeze { x, dim: 0 }));
                        Op::Expand(Expand {
                            x: id,
                            dim: 0,
                            size: self.size_arg(u, pre, 2..=4)?,
                        })
                    }
                },
                1 => {
                    let mut reps = vec![];
                    for _ in 0..t.rank() {
                        reps.push(u.int_in_range(1..=2)?);
                    }
                    Op::Repeat(Repeat { x, reps })
                }
                _ => {
                    let (other, _) = tensor!(self, u, |o: &TensorType| o.rank() >= t.rank());
                    Op::ExpandAs(ExpandAs { x, other })
                }
            }
        };
        Ok(Some(op))
    }

    fn build_arange(&mut self, u: &mut Unstructured, pre: &mut Step) -> Result<Option<Op>> {
        let op = {
            if u.int_in_range(0..=3u8)? == 0
                && let Some((x, _)) = self.pick_tensor(u, |t| {
                    t.dtype == DType::I64 && t.lo.is_some_and(|l| l >= 0) && t.rank() > 0
                })?
            {
                // `torch.arange(t.max())`: the seed document's data-dependent end.
                let id = self.next_id(pre);
                pre.push(Op::MaxAll(MaxAll { x }));
                Op::Arange(Arange {
                    end: SizeArg::Value(id),
                    step: None,
                })
            } else {
                let end = self.size_arg(u, pre, 1..=6)?;
                let step = if u.int_in_range(0..=2u8)? == 0 {
                    Some(if u.int_in_range(0..=3u8)? == 0 {
                        SizeArg::Const(2)
                    } else {
                        self.size_arg(u, pre, 1..=3)?
                    })
                } else {
                    None
                };
                Op::Arange(Arange { end, step })
            }
        };
        Ok(Some(op))
    }

    fn build_full_zeros_ones(
        &mut self,
        u: &mut Unstructured,
        pre: &mut Step,
    ) -> Result<Option<Op>> {
        let op = {
            let rank = u.int_in_range(1..=2)?;
            let mut shape = vec![];
            for _ in 0..rank {
                shape.push(self.size_arg(u, pre, 1..=4)?);
            }
            // Half the zeros/ones are `x.new_zeros(...)` of a float tensor, as modules write.
            let like = if u.arbitrary()? {
                self.pick_tensor(u, float)?.map(|(v, _)| v)
            } else {
                None
            };
            match u.int_in_range(0..=3u8)? {
                0 => Op::Zeros(Zeros { shape, like }),
                1 => Op::Ones(Ones { shape, like }),
                _ => Op::Full(Full {
                    shape,
                    fill: self.scalar_arg(u, pre, true)?,
                    like,
                    // `empty(...).fill_(v)`: the same values through an uninitialised buffer.
                    empty: u.int_in_range(0..=2u8)? == 0,
                }),
            }
        };
        Ok(Some(op))
    }

    /// `F.conv1d`/`F.conv2d` with a weight built from `x`'s channel count.
    fn build_conv(&mut self, u: &mut Unstructured, pre: &mut Step) -> Result<Option<Op>> {
        let (x, t) = tensor!(self, u, |t: &TensorType| float(t)
            && (2..=4).contains(&t.rank()));
        let fits = |f: &ConvFn| t.rank() == f.dims() + 1 || t.rank() == f.dims() + 2;
        let fns: Vec<ConvFn> = ConvFn::ALL.iter().copied().filter(fits).collect();
        let f = *u.choose(&fns)?;
        let kernel = self.size_arg(u, pre, 1..=3)?;
        let padding = match u.int_in_range(0..=4u8)? {
            0 => ConvPadding::Same,
            1 => ConvPadding::Valid,
            _ => ConvPadding::Zeros(u.int_in_range(0..=2)?),
        };
        let stride = match padding {
            ConvPadding::Same => 1,
            _ => u.int_in_range(1..=3)?,
        };
        Ok(Some(Op::Conv(Conv {
            x,
            f,
            kernel,
            out_channels: u.int_in_range(1..=4)?,
            stride,
            padding,
            dilation: if u.int_in_range(0..=2u8)? == 0 { 2 } else { 1 },
            depthwise: u.int_in_range(0..=2u8)? == 0,
        })))
    }

    /// `torch.bincount(x, minlength=m)` of bounded non-negative ints, flattened first when
    /// they are not 1-d.
    fn build_bincount(&mut self, u: &mut Unstructured, pre: &mut Step) -> Result<Option<Op>> {
        let (x, t) = tensor!(self, u, |t: &TensorType| t.dtype == DType::I64
            && t.rank() > 0
            && t.lo.is_some_and(|l| l >= 0)
            && t.hi.is_some_and(|h| h < 64));
        let x = if t.rank() == 1 {
            x
        } else {
            let id = self.next_id(pre);
            pre.push(Op::Flatten(Flatten {
                x,
                start: 0,
                end: t.rank() as u8 - 1,
            }));
            id
        };
        Ok(Some(Op::Bincount(Bincount {
            x,
            minlength: self.size_arg(u, pre, 0..=8)?,
        })))
    }

    fn build_eye_or_linspace(
        &mut self,
        u: &mut Unstructured,
        pre: &mut Step,
    ) -> Result<Option<Op>> {
        let op = {
            if u.arbitrary()? {
                Op::Eye(Eye {
                    n: self.size_arg(u, pre, 1..=4)?,
                })
            } else {
                Op::Linspace(Linspace {
                    steps: self.size_arg(u, pre, 1..=5)?,
                })
            }
        };
        Ok(Some(op))
    }

    fn build_one_hot(&mut self, u: &mut Unstructured, pre: &mut Step) -> Result<Option<Op>> {
        let op = {
            let (x, _) = tensor!(self, u, |t: &TensorType| t.dtype == DType::I64
                && t.lo.is_some_and(|l| l >= 0)
                && t.hi.is_some()
                && t.rank() <= 3);
            Op::OneHot(OneHot {
                x,
                classes: self.size_arg(u, pre, 2..=4)?,
            })
        };
        Ok(Some(op))
    }

    fn build_tril(&mut self, u: &mut Unstructured, pre: &mut Step) -> Result<Option<Op>> {
        let x = tensor!(self, u, |t: &TensorType| t.rank() >= 2).0;
        if u.arbitrary()? {
            return Ok(Some(Op::Tril(Tril { x })));
        }
        let diagonal = match self.size_arg(u, pre, 0..=2)? {
            SizeArg::Const(c) => SizeArg::Const(c - 1),
            v => v,
        };
        Ok(Some(Op::Triu(Triu { x, diagonal })))
    }

    fn build_to_tensor(&mut self, u: &mut Unstructured, pre: &mut Step) -> Result<Option<Op>> {
        let op = {
            let s = match self.scalar_arg(u, pre, true)? {
                SizeArg::Value(v) => v,
                SizeArg::Const(_) => return Ok(None),
            };
            let spelling = *u.choose(TensorSpelling::ALL)?;
            let like = match spelling {
                TensorSpelling::NewTensor => {
                    Some(tensor!(self, u, |t: &TensorType| t.dtype != DType::Bool).0)
                }
                _ => None,
            };
            Op::ToTensor(ToTensor { s, spelling, like })
        };
        Ok(Some(op))
    }

    fn build_branch(&mut self, u: &mut Unstructured, pre: &mut Step) -> Result<Option<Op>> {
        let (x, t) = tensor!(self, u, |t: &TensorType| t.dtype != DType::Bool);
        let Some(cond) = self.condition(u, pre)? else {
            return Ok(None);
        };
        if t.dtype != DType::Bool && u.int_in_range(0..=3u8)? == 0 {
            // Arms of different ranks: `x` against `x` reduced or unsqueezed along a dim, or
            // against another tensor of another rank, then flattened or summed.
            let other = match self.pick_tensor(u, |o| o.dtype == t.dtype && o.rank() != t.rank())? {
                Some((o, _)) if u.arbitrary()? => o,
                _ => {
                    let id = self.next_id(pre);
                    if t.rank() > 0 && u.arbitrary()? {
                        pre.push(Op::Reduce(Reduce {
                            x,
                            f: ReduceFn::Sum,
                            dim: u.choose_index(t.rank())? as u8,
                            keepdim: false,
                        }));
                    } else if t.rank() < MAX_RANK {
                        pre.push(Op::Unsqueeze(Unsqueeze {
                            x,
                            dim: u.int_in_range(0..=t.rank() as u8)?,
                        }));
                    } else {
                        return Ok(None);
                    }
                    id
                }
            };
            let (a, b) = if u.arbitrary()? {
                (x, other)
            } else {
                (other, x)
            };
            return Ok(Some(Op::SelectFlat(SelectFlat {
                cond,
                a,
                b,
                erase: *u.choose(RankErase::ALL)?,
            })));
        }
        if t.rank() > 0 && u.int_in_range(0..=2u8)? == 0 {
            // Arms of different shapes: `x if cond else <x grown or cut along a dim>`.
            let d = u.choose_index(t.rank())? as u8;
            let other = self.next_id(pre);
            match u.int_in_range(0..=2u8)? {
                0 => pre.push(Op::Cat(Cat {
                    xs: vec![x, x],
                    dim: d,
                })),
                1 if d as usize == t.rank() - 1 => pre.push(Op::PadSized(PadSized {
                    x,
                    before: SizeArg::Const(0),
                    after: SizeArg::Const(u.int_in_range(1..=3)?),
                })),
                _ => pre.push(Op::Slice(Slice {
                    x,
                    dim: d,
                    start: SizeArg::Const(0),
                    end: SizeArg::Const(u.int_in_range(2..=4)?),
                })),
            }
            let (a, b) = if u.arbitrary()? {
                (x, other)
            } else {
                (other, x)
            };
            return Ok(Some(Op::Select(Select { cond, a, b })));
        }
        let fs: Vec<UnaryFn> = UnaryFn::ALL
            .iter()
            .copied()
            .filter(|f| {
                t.dtype == DType::F32 || matches!(f, UnaryFn::Relu | UnaryFn::Neg | UnaryFn::Abs)
            })
            .collect();
        Ok(Some(Op::If(If {
            cond,
            x,
            then_f: *u.choose(&fs)?,
            else_f: *u.choose(&fs)?,
        })))
    }

    fn build_pad_to_multiple(
        &mut self,
        u: &mut Unstructured,
        pre: &mut Step,
    ) -> Result<Option<Op>> {
        // The swin idiom: `p = (k - n % k) % k; x = F.pad(x, (0, p)); ...; x[..., :n]`.
        let (x, t) = tensor!(self, u, |t: &TensorType| t.rank() > 0
            && t.dtype != DType::Bool
            && t.shape.last().is_some_and(|d| !d.has_data()));
        let last = (t.rank() - 1) as u8;
        let k = *u.choose(&[2, 4, 8, 16])?;
        let n = self.next_id(pre);
        pre.push(Op::Size(Size {
            x,
            dim: last,
            spelling: *u.choose(SizeSpelling::ALL)?,
        }));
        if let Some(Op::Size(s)) = pre.last_mut()
            && s.spelling == SizeSpelling::Len
            && last != 0
        {
            s.spelling = SizeSpelling::ShapeIndex;
        }
        let m = self.next_id(pre);
        pre.push(Op::IntArith(IntArith {
            a: n,
            f: IntFn::Mod,
            k,
        }));
        let r = self.next_id(pre);
        pre.push(Op::IntArith(IntArith {
            a: m,
            f: IntFn::RSub,
            k,
        }));
        let p = self.next_id(pre);
        pre.push(Op::IntArith(IntArith {
            a: r,
            f: IntFn::Mod,
            k,
        }));
        let padded = Op::PadSized(PadSized {
            x,
            before: SizeArg::Const(0),
            after: SizeArg::Value(p),
        });
        if u.arbitrary()? {
            let id = self.next_id(pre);
            pre.push(padded);
            return Ok(Some(Op::Slice(Slice {
                x: id,
                dim: last,
                start: SizeArg::Const(0),
                end: SizeArg::Value(n),
            })));
        }
        Ok(Some(padded))
    }

    fn build_loop_count(&mut self, u: &mut Unstructured, pre: &mut Step) -> Result<Option<Op>> {
        let op = {
            let (x, _) = tensor!(self, u, |t: &TensorType| t.dtype != DType::Bool);
            let Some(count) = self.int_value(u, pre)? else {
                return Ok(None);
            };
            Op::Loop(Loop { count, x })
        };
        Ok(Some(op))
    }

    fn build_item_or_to_list(
        &mut self,
        u: &mut Unstructured,
        pre: &mut Step,
    ) -> Result<Option<Op>> {
        let op = {
            let (x, t) = tensor!(self, u, |t: &TensorType| t.dtype == DType::I64
                && t.lo.is_some_and(|l| l >= 0)
                && t.rank() > 0);
            let value = if u.arbitrary()? || t.rank() != 1 {
                let id = self.next_id(pre);
                pre.push(Op::MaxAll(MaxAll { x }));
                let item = self.next_id(pre);
                pre.push(Op::Item(Item { x: id }));
                item
            } else {
                let item = self.next_id(pre);
                pre.push(Op::ToList(ToList { x, index: 0 }));
                item
            };
            // A data-dependent size must feed a size to matter.
            match u.int_in_range(0..=2u8)? {
                0 => Op::Arange(Arange {
                    end: SizeArg::Value(value),
                    step: None,
                }),
                1 => Op::Zeros(Zeros {
                    shape: vec![SizeArg::Value(value)],
                    like: None,
                }),
                _ => Op::Full(Full {
                    shape: vec![SizeArg::Const(2)],
                    fill: SizeArg::Value(value),
                    like: None,
                    empty: false,
                }),
            }
        };
        Ok(Some(op))
    }

    fn build_data_dependent_shape(
        &mut self,
        u: &mut Unstructured,
        _pre: &mut Step,
    ) -> Result<Option<Op>> {
        let op = {
            let (x, t) = tensor!(self, u, ranked);
            match u.int_in_range(0..=3u8)? {
                0 => Op::Nonzero(Nonzero { x }),
                1 => Op::MaskedSelect(MaskedSelect { x }),
                2 if t.dtype == DType::I64 => Op::Unique(Unique { x }),
                _ if t.dtype == DType::I64 && t.rank() == 1 && t.lo.is_some_and(|l| l >= 0) => {
                    Op::RepeatInterleave(RepeatInterleave { x })
                }
                _ => Op::Nonzero(Nonzero { x }),
            }
        };
        Ok(Some(op))
    }

    fn finish(mut self, u: &mut Unstructured) -> Result<Case> {
        if !self.types.iter().any(|t| t.tensor().is_some()) {
            // Nothing tensor-valued was built: close with the simplest valid op.
            let ok = self.try_push(vec![Op::Unary(Unary {
                x: ValueRef::Input(0),
                f: UnaryFn::Relu,
            })]);
            debug_assert!(ok);
        }
        let unused = self.case.unused_values();
        self.case.outputs = unused
            .into_iter()
            .filter(|v| self.ty(*v).tensor().is_some())
            .collect();
        if self.case.outputs.is_empty() {
            let last = (0..self.types.len())
                .rev()
                .find(|&i| self.types[i].tensor().is_some())
                .unwrap();
            self.case.outputs.push(ValueRef::Node(last as u32));
        }
        self.case.compact();
        let style = {
            let w = self.cfg.spec_weights;
            let total = (w[0] + w[1] + w[2]).max(1);
            let r = u.int_in_range(0..=total - 1)?;
            if r < w[0] {
                0
            } else if r < w[0] + w[1] {
                1
            } else {
                2
            }
        };
        // A named Dim cannot be given to an int, and an int on the symbol of a named tensor
        // dim would put two promises on one symbol: such cases ask for AUTO throughout.
        let symbols = |e: &DimExpr| {
            let mut v = vec![];
            e.symbols(&mut v);
            v
        };
        let int_shares_symbol = self.case.inputs.iter().any(|i| {
            i.kind.is_int_like()
                && i.dims.iter().flat_map(|d| symbols(&d.size)).any(|s| {
                    self.case.inputs.iter().any(|t| {
                        t.kind == InputKind::Tensor
                            && t.dims.iter().any(|td| symbols(&td.size).contains(&s))
                    })
                })
        });
        let style = if style == 2 && int_shares_symbol {
            0
        } else {
            style
        };
        let static_spec = u.arbitrary::<bool>()?;
        // Floats and bools are burned in; a hint on one is an error export owes the user.
        let hint_on_constant = u.int_in_range(0..=3u8)? == 0;
        for input in &mut self.case.inputs {
            let int = input.kind.is_int_like();
            let constant = matches!(input.kind, InputKind::Float | InputKind::Bool);
            for d in &mut input.dims {
                d.spec = match (&d.truth, style) {
                    _ if constant && hint_on_constant => DimSpec::Auto,
                    _ if constant => DimSpec::Unspecified,
                    // torch takes no named Dims and no STATIC for ints.
                    (DimTruth::Static, _) if int => DimSpec::Unspecified,
                    (_, 1) if int => DimSpec::Dynamic,
                    _ if int => DimSpec::Auto,
                    (DimTruth::Static, _) => {
                        if static_spec {
                            DimSpec::Static
                        } else {
                            DimSpec::Unspecified
                        }
                    }
                    (_, 0) => DimSpec::Auto,
                    (_, 1) => DimSpec::Dynamic,
                    (DimTruth::MultipleOf { k }, _) => DimSpec::Derived { k: *k },
                    // `min=2` stated even where it is torch's effective bound: a reader of
                    // a reproducer should not have to know that a smaller min is raised to 2.
                    (DimTruth::Bounded { runs }, _) => DimSpec::Named {
                        min: Some(runs.first().map_or(2, |r| r[0]).max(2)),
                        max: runs.last().map(|r| r[1]).filter(|&m| m < SCAN_MAX),
                    },
                    _ => DimSpec::Named {
                        min: Some(2),
                        max: None,
                    },
                };
            }
        }
        // Derived dims need their root named; under a named style every dim of the root's
        // symbol is named, under AUTO/DYNAMIC no Derived spec is produced.
        // Drawn last, so that the rest of the case is the same under either API.
        // An export option of the Dim API, drawn before the API so that the rest of a case is
        // the same under either: torch refuses it beside a ShapesSpec ("cannot be combined
        // with dynamic_shapes=ShapesSpec(...)", whose unbacked symbols assert at run time).
        let deferred =
            self.cfg.deferred_percent > 0 && u.int_in_range(0..=99u32)? < self.cfg.deferred_percent;
        if self.cfg.shapes_percent > 0 && u.int_in_range(0..=99u32)? < self.cfg.shapes_percent {
            self.write_with_shapes_spec(u)?;
        }
        self.case.deferred_asserts = deferred && self.case.spec_api() == SpecApi::Dim;
        // Another spelling of a `Dim` case, drawn last for the same reason
        if self.case.spec_api() == SpecApi::Dim
            && !self.case.deferred_asserts
            && self.cfg.additional_percent > 0
            && u.int_in_range(0..=99u32)? < self.cfg.additional_percent
        {
            self.write_with_additional_inputs(u)?;
        }
        if self.case.spec_api() == SpecApi::Dim
            && self.cfg.collection_percent > 0
            && u.int_in_range(0..=99u32)? < self.cfg.collection_percent
            && let Some(collection) = self.case.in_spec_api(SpecApi::Collection)
        {
            self.case = collection;
        }
        Ok(self.case)
    }

    /// Rewrites the spec as `torch.export.AdditionalInputs`: one or two of the case's normal
    /// probes become more examples, and every dim's spec is what torch infers from them
    /// (`Dim.DYNAMIC` where the size differs from the export size, static where not).
    /// Unchanged when the chosen probes move no dim.
    fn write_with_additional_inputs(&mut self, u: &mut Unstructured) -> Result<()> {
        let export = &self.case.export;
        let probes: Vec<Valuation> = self
            .case
            .normal_probes()
            .map(|p| p.sizes.clone())
            .filter(|v| v != export && v.iter().all(|&n| n >= 2))
            .collect();
        if probes.is_empty() {
            return Ok(());
        }
        let mut with = self.case.clone();
        for _ in 0..u.int_in_range(1..=2u8)? {
            let v = &probes[u.choose_index(probes.len())?];
            if !with.additional_inputs.contains(v) {
                with.additional_inputs.push(v.clone());
            }
        }
        with.infer_additional_specs();
        if with
            .inputs
            .iter()
            .flat_map(|i| &i.dims)
            .any(|d| d.spec == DimSpec::Dynamic)
        {
            self.case = with;
        }
        Ok(())
    }

    /// Rewrites the spec with the ShapesSpec API: each symbol that only tensor dims and int
    /// inputs carry, and that the model does not force to one size, becomes a `ShapeVar`
    /// with a range drawn to reach 0/1 and to leave some probes outside it; everything else
    /// is static. Unchanged when no symbol qualifies.
    fn write_with_shapes_spec(&mut self, u: &mut Unstructured) -> Result<()> {
        let case = &self.case;
        let var_able = |s: usize| {
            let dims: Vec<(&Input, &InputDim)> = case
                .inputs
                .iter()
                .flat_map(|i| i.dims.iter().map(move |d| (i, d)))
                .filter(|(_, d)| d.size.symbol_index() == Some(s))
                .collect();
            // torch binds a ShapeVar through a dim that is the var itself: one used only in
            // `s0 * 2` is refused ("must also appear as a bare-IntVar slot")
            dims.iter().any(|(_, d)| matches!(d.size, DimExpr::Sym(_)))
                && dims.iter().all(|(i, d)| {
                    matches!(
                        i.kind,
                        InputKind::Tensor | InputKind::Int | InputKind::IntList
                    ) && d.truth != DimTruth::Static
                        && matches!(d.size, DimExpr::Sym(_) | DimExpr::Mul(..))
                })
        };
        let valid = case.valid_runs();
        let mut ranges: Vec<Option<(i64, Option<i64>)>> = vec![None; case.symbol_count()];
        for (s, range) in ranges.iter_mut().enumerate() {
            if !var_able(s) {
                continue;
            }
            let export = case.export[s];
            let first_valid = valid[s].first().map_or(2, |r| r[0]).min(export);
            // ShapeVar's default 0 most often: the range that reaches 0/1, which the Dim API
            // assumes away and ShapesSpec promises to take
            let min = match u.int_in_range(0..=9u8)? {
                0..=3 => 0,
                4 => 1,
                5..=7 => 2.min(export),
                _ => first_valid,
            };
            let max = match u.int_in_range(0..=3u8)? {
                0 => Some(export + u.int_in_range(0..=8)?),
                _ => None,
            };
            *range = Some((min, max));
        }
        if ranges.iter().all(Option::is_none) {
            return Ok(());
        }
        // Now and then an assumption (`s0 % 2 == 1`) that the example keeps and some probes
        // break: export may use it, the program must assert it.
        if u.int_in_range(0..=3u8)? == 0 {
            let vars: Vec<usize> = (0..ranges.len()).filter(|&s| ranges[s].is_some()).collect();
            let s = vars[u.choose_index(vars.len())?];
            let modulus = u.int_in_range(2..=4i64)?;
            self.case.assumptions.push(Assumption::Mod {
                sym: s as u32,
                modulus,
                remainder: self.case.export[s].rem_euclid(modulus),
            });
        }
        // And a relation between two ShapeVars (`s0 <= s1`) as the example has it.
        let vars: Vec<usize> = (0..ranges.len()).filter(|&s| ranges[s].is_some()).collect();
        if vars.len() >= 2 && u.int_in_range(0..=3u8)? == 0 {
            let a = vars[u.choose_index(vars.len())?];
            let rest: Vec<usize> = vars.iter().copied().filter(|&s| s != a).collect();
            let b = rest[u.choose_index(rest.len())?];
            let (lo, hi) = if self.case.export[a] <= self.case.export[b] {
                (a, b)
            } else {
                (b, a)
            };
            self.case.assumptions.push(Assumption::Le {
                lo: lo as u32,
                hi: hi as u32,
            });
        }
        for input in &mut self.case.inputs {
            for d in &mut input.dims {
                d.spec = match d.size.symbol_index().and_then(|s| ranges[s]) {
                    Some((min, max)) => DimSpec::Var { min, max },
                    None => DimSpec::Unspecified,
                };
            }
        }
        Ok(())
    }
}
