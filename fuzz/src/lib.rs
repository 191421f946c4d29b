//! Fuzz oracles over libFuzzer bytes, laid out like wasm-tools' `fuzz/`: each oracle is a
//! library function `run(&mut Unstructured)` with a seeded smoke test, and each target in
//! `fuzz_targets/` is a thin wrapper around one of them.
//!
//! - [`generate`]: Rust only. A generated case is valid at every valuation, renders
//!   deterministically, round-trips through JSON, and every reducer candidate is valid.
//! - [`load_case`]: Rust only. Any bytes given as a case file load, validate and render
//!   to a case or an error, never a panic.
//! - [`render_record`]: Rust only. Whatever a finding record's strings hold, the
//!   reproducer is the benign record's code line for line.
//! - [`export_diff`]: the full differential check against real torch through one
//!   process-wide worker pool; it reports findings that are not known issues.

pub mod export_diff;
pub mod generate;
pub mod load_case;
pub mod render_record;

/// Runs an oracle on `n` seeded byte strings (the smoke tests).
#[cfg(test)]
pub(crate) fn test_n_times(
    n: u64,
    mut f: impl FnMut(&mut arbitrary::Unstructured) -> arbitrary::Result<()>,
) {
    use rand::{RngCore, SeedableRng};
    for seed in 0..n {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut bytes = vec![0u8; 2048];
        rng.fill_bytes(&mut bytes);
        let mut u = arbitrary::Unstructured::new(&bytes);
        f(&mut u).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
    }
}
