//! The generator's configuration: the knobs a campaign draws per case (swarm testing) or a
//! user writes by hand (`--gen-config`), always brought into range by `sanitize`, and the
//! shares of each spec API a swarm case is written in.

use super::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
    pub(super) fn weight(&self, row: &BuilderRow) -> u32 {
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
