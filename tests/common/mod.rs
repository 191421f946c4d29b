//! Shared by the live test files: one Python environment and one worker pool per test
//! binary, and the hand-built seed cases. The environment is created when missing; live
//! tests never skip. Not every test file uses every helper.
#![allow(dead_code)]

use shapefuzz::ir::Case;
use shapefuzz::oracle::{Pool, PoolConfig, PythonEnv};
use std::path::Path;
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
