//! The differential check against real torch, on arbitrary bytes.
//!
//! One worker pool serves the whole process (libFuzzer calls the target in a loop). Only a
//! finding of a class in `SHAPEFUZZ_FAIL_ON` (comma-separated; default `bug`) whose
//! signature the known-issues file named by `SHAPEFUZZ_KNOWN` does not list is reported, so
//! a campaign stops only on what is new and worth a report.

use arbitrary::Unstructured;
use shapefuzz::oracle::{self, Backend, Class, Pool, PoolConfig, PythonEnv};
use shapefuzz::report::KnownIssues;
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

fn fail_on() -> &'static [Class] {
    static FAIL_ON: OnceLock<Vec<Class>> = OnceLock::new();
    FAIL_ON.get_or_init(|| match std::env::var("SHAPEFUZZ_FAIL_ON") {
        Ok(v) => v
            .split(',')
            .map(|c| {
                Class::parse(c.trim()).unwrap_or_else(|| {
                    panic!("SHAPEFUZZ_FAIL_ON: unknown class {c:?} (use bug, portability, expected)")
                })
            })
            .collect(),
        Err(_) => vec![Class::Bug],
    })
}

/// The signature of a new (not known) finding of a failing class the bytes lead to, if any.
pub fn run(u: &mut Unstructured) -> arbitrary::Result<Option<String>> {
    let data = u.bytes(u.len())?;
    let Some(case) = shapefuzz::r#gen::case_from_bytes(data) else {
        return Ok(None);
    };
    let r = oracle::check(pool(), &case, Backend::Export);
    let failing = r.class().is_some_and(|c| fail_on().contains(&c));
    Ok(r
        .signature()
        .filter(|s| failing && known().matching(s).is_none()))
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
