//! The differential check against real torch, on arbitrary bytes.
//!
//! One worker pool serves the whole process (libFuzzer calls the target in a loop), started
//! once by `init` before the first input. Only a finding of a class in `SHAPEFUZZ_FAIL_ON`
//! (comma-separated; default `bug`; empty or `none` for none) whose signature the known
//! list does not match is reported, so a campaign stops only on what is new and worth a
//! report: by-design and portability findings never stop it, nor do known torch bugs.
//! The known list: the file `SHAPEFUZZ_KNOWN` names, else `shapefuzz-known-issues.toml`
//! next to the executable (where `.clusterfuzzlite/build.sh` bundles the repository's
//! list), else the repository's `known-issues.example.toml` the target was built with. What the harness itself cannot do (no
//! Python, no torch, no worker) is never a finding: `init` says so and exits before any
//! input, and a case the harness could not judge (poisoned, out of memory) has no class.
//!
//! The Python environment: `SHAPEFUZZ_PYTHON`, else `shapefuzz-python/bin/python` next to
//! the target's executable (where `.clusterfuzzlite/build.sh` installs it, so it travels with
//! the targets in `$OUT` from the builder image to the runner), else shapefuzz's own.

use arbitrary::Unstructured;
use shapefuzz::oracle::{self, Backend, Class, Pool, PoolConfig, PythonEnv};
use shapefuzz::report::KnownIssues;
use std::sync::OnceLock;

/// The interpreter next to the executable, if there is one.
fn bundled_python() -> Option<std::path::PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let p = exe.parent()?.join("shapefuzz-python/bin/python");
    p.exists().then_some(p)
}

fn start_pool() -> Result<Pool, String> {
    let python = match std::env::var_os("SHAPEFUZZ_PYTHON") {
        Some(_) => None, // `ensure` reads it
        None => bundled_python(),
    };
    let env = PythonEnv::ensure(python.as_deref(), true).map_err(|e| e.to_string())?;
    Pool::new(
        env,
        PoolConfig {
            jobs: 1,
            ..Default::default()
        },
    )
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        start_pool().unwrap_or_else(|e| {
            // Not an input's fault: leave before libFuzzer could file one as a crash.
            eprintln!("shapefuzz: harness error, not a finding: {e}");
            std::process::exit(2)
        })
    })
}

/// Starts the worker pool (libFuzzer's initialize hook), so that a missing Python or torch
/// ends the process with a clear error before the first input, never as an input's crash.
pub fn init() {
    known();
    fail_on();
    pool();
}

/// The known list the target was built with.
const BUILT_WITH: &str = include_str!("../../known-issues.example.toml");

fn known() -> &'static KnownIssues {
    static KNOWN: OnceLock<KnownIssues> = OnceLock::new();
    KNOWN.get_or_init(|| {
        let bundled = std::env::current_exe()
            .ok()
            .and_then(|e| Some(e.parent()?.join("shapefuzz-known-issues.toml")))
            .filter(|p| p.is_file());
        let loaded = match std::env::var_os("SHAPEFUZZ_KNOWN").map(std::path::PathBuf::from) {
            Some(p) => KnownIssues::load(&p),
            None => match bundled {
                Some(p) => KnownIssues::load(&p),
                None => KnownIssues::parse(BUILT_WITH, "known-issues.example.toml (built in)"),
            },
        };
        loaded.unwrap_or_else(|e| {
            // A broken list is the harness's problem, not an input's crash.
            eprintln!("shapefuzz: harness error, not a finding: {e}");
            std::process::exit(2)
        })
    })
}

fn fail_on() -> &'static [Class] {
    static FAIL_ON: OnceLock<Vec<Class>> = OnceLock::new();
    FAIL_ON.get_or_init(|| match std::env::var("SHAPEFUZZ_FAIL_ON") {
        Ok(v) if v.trim().is_empty() || v.trim() == "none" => vec![],
        Ok(v) => v
            .split(',')
            .map(|c| {
                Class::parse(c.trim()).unwrap_or_else(|| {
                    eprintln!(
                        "shapefuzz: harness error, not a finding: SHAPEFUZZ_FAIL_ON: unknown class {c:?} (use bug, portability, expected, or none)"
                    );
                    std::process::exit(2)
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
    Ok(r.signature()
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
