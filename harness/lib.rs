//! shapefuzz: fuzzing and differential testing of `torch.export` with dynamic shapes.
//!
//! The pipeline, one module per stage: [`gen`](r#gen) builds valid cases, [`render`] turns
//! them into Python, [`oracle`] runs them through real PyTorch and classifies what it sees,
//! [`corpus`] stores results and findings, [`report`] deduplicates and reports them,
//! [`campaign`] drives generation and checking at scale, [`probe`] runs the oracle on a user's own
//! model, and [`cli`] puts it in front of users. [`ir`] is the data model all of them share; [`triage`] is what every command does
//! with a finding (check, reduce, work around); [`escape`] makes foreign strings safe for the
//! language they are written into.

pub mod campaign;
pub mod cli;
pub mod corpus;
pub mod escape;
pub mod r#gen;
pub mod ir;
pub mod oracle;
pub mod probe;
pub mod reduce;
pub mod render;
pub mod report;
pub mod repro;
pub mod triage;
pub use r#gen::{GenConfig, case_from_seed, generate};

/// How a command was called is wrong (a flag's value, a combination of flags, flags that do
/// not fit the campaign in `--out`): the command exits with [`EXIT_USAGE`], apart from the
/// harness's own errors (2), so CI can tell a mistyped job from a broken one.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The exit code of a usage error: `EX_USAGE` of sysexits.h.
pub const EXIT_USAGE: i32 = 64;

/// Returns early with a [`UsageError`].
#[macro_export]
macro_rules! usage_bail {
    ($($arg:tt)*) => {
        return Err(anyhow::Error::new($crate::UsageError(format!($($arg)*))))
    };
}
