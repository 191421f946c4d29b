//! The differential check against real torch, on arbitrary bytes.
//!
//! One worker pool serves the whole process (libFuzzer calls the target in a loop). A
//! finding whose signature matches the known-issues file named by `SHAPEFUZZ_KNOWN` is not
//! reported, so a campaign stops only on what is new.

use arbitrary::Unstructured;
use shapefuzz::oracle::{self, Backend, Pool, PoolConfig, PythonEnv};
use shapefuzz::report::{KnownIssues, signature};
use std::sync::OnceLock;

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        let env = PythonEnv::ensure(None, true).unwrap_or_else(|e| panic!("shapefuzz: {e}"));
        Pool::new(
            env,
            PoolConfig {
                jobs: 1,
                ..Default::default()
            },
        )
        .unwrap_or_else(|e| panic!("shapefuzz: {e}"))
    })
}

fn known() -> &'static KnownIssues {
    static KNOWN: OnceLock<KnownIssues> = OnceLock::new();
    KNOWN.get_or_init(|| match std::env::var_os("SHAPEFUZZ_KNOWN") {
        Some(p) => KnownIssues::load(std::path::Path::new(&p)).unwrap_or_else(|e| panic!("{e}")),
        None => KnownIssues::none(),
    })
}

/// The signature of a new (not known) finding the bytes lead to, if any.
pub fn run(u: &mut Unstructured) -> arbitrary::Result<Option<String>> {
    let data = u.bytes(u.len())?;
    let Some(case) = shapefuzz::r#gen::case_from_bytes(data) else {
        return Ok(None);
    };
    let r = oracle::check(pool(), &case, Backend::Export);
    Ok(signature(&r).filter(|s| r.verdict.is_finding() && known().matching(s).is_none()))
}

#[test]
fn smoke() {
    // A few seeded inputs through real torch: the oracle answers without failing.
    let mut findings = 0;
    crate::test_n_times(8, |u| {
        findings += run(u)?.is_some() as usize;
        Ok(())
    });
    assert!(findings <= 8);
}
