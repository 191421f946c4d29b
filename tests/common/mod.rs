//! Shared by the live test files: one Python environment and one worker pool per test
//! binary, and the hand-built seed cases. The environment is created when missing; live
//! tests never skip. Not every test file uses every helper.
#![allow(dead_code)]

use shapefuzz::corpus::ResultLine;
use shapefuzz::ir::Case;
use shapefuzz::oracle::{Pool, PoolConfig, PythonEnv};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

pub fn env() -> PythonEnv {
    static ENV: OnceLock<PythonEnv> = OnceLock::new();
    ENV.get_or_init(|| {
        PythonEnv::ensure(None, true).unwrap_or_else(|e| panic!("Python environment: {e}"))
    })
    .clone()
}

pub fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        let cfg = PoolConfig {
            jobs: 2,
            timeout: Duration::from_secs(120),
            ..Default::default()
        };
        Pool::new(env(), cfg).expect("workers start")
    })
}

pub fn seed(name: &str) -> Case {
    Case::load(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("corpus/seeds")
            .join(name),
    )
    .expect("seed loads")
}

/// The `shapefuzz` binary under test, as a user runs it.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_shapefuzz"))
}

pub fn run(args: &[&str]) -> Output {
    bin()
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("shapefuzz runs")
}

/// A fresh path under the temp dir for this test process (not created).
pub fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("shapefuzz-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// A campaign directory's `results.jsonl`, every line a whole result.
pub fn results(dir: &Path) -> Vec<ResultLine> {
    std::fs::read_to_string(dir.join("results.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("every line is a whole result"))
        .collect()
}
