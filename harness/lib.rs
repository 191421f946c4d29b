//! shapefuzz: fuzzing and differential testing of `torch.export` with dynamic shapes.
//!
//! The pipeline, one module per stage: [`gen`] builds valid cases, [`render`] turns them
//! into Python, [`oracle`] runs them through real PyTorch and classifies what it sees, and
//! [`cli`] puts it in front of users. [`ir`] is the data model all of them share.

pub mod cli;
pub mod r#gen;
pub mod ir;
pub mod oracle;
pub mod render;
pub use r#gen::{GenConfig, case_from_seed};
