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
//!
//! The module's rooms: `config` (the knobs, swarm shares), `table` (the builders in draw
//! order), `builder` (the case under construction: inputs, sizes, values, the step loop),
//! `ops/` (one module of builders per op family, mirroring `ir/ops/`) and `spec` (probes,
//! ground truth and the spec API a case is written in).

/// Picks an existing tensor value matching the predicate, or gives up on the builder.
macro_rules! tensor {
    ($self:ident, $u:ident, $p:expr) => {
        match $self.pick_tensor($u, $p)? {
            Some(x) => x,
            None => return Ok(None),
        }
    };
}

mod builder;
mod config;
mod ops;
mod spec;
mod table;

use crate::ir::*;
use arbitrary::{Arbitrary, Result, Unstructured};

pub use config::*;
pub use table::{BUILDERS, BuilderRow, CHANNEL_OPS};

/// Which cases the seeds stand for. Raised whenever the same seed starts to give another
/// case (`tests/generator_stability.rs` holds the hashes of the cases behind the first
/// seeds under this version and refuses a change of them without a new version). Campaigns
/// and finding records carry it, so a stored seed is never silently read as another case.
pub const GENERATOR_VERSION: u32 = 22;

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
