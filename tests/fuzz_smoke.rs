//! The `fuzz/` crate in CI: its oracle smoke tests, the libFuzzer targets built the way
//! `cargo fuzz build --sanitizer none` builds them (stable Rust, coverage instrumentation,
//! `--cfg fuzzing`; no cargo-fuzz needed), a bounded `generate` run, and `export_diff`
//! running its committed corpus clean on the known list it carries, and stopping on a
//! torch bug from it when that list is empty.

use std::path::{Path, PathBuf};
use std::process::Command;

const FLAGS: &str = "--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cdebug-assertions -Coverflow-checks";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn host() -> String {
    let out = Command::new("rustc")
        .arg("-vV")
        .output()
        .expect("rustc runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .expect("rustc names its host")
}

/// Runs a nested cargo, keeping its output out of this run's log unless it fails.
fn cargo(args: &[&str], rustflags: Option<&str>) {
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args(args)
        .arg("--manifest-path")
        .arg(root().join("fuzz/Cargo.toml"));
    if let Some(f) = rustflags {
        cmd.env("RUSTFLAGS", f);
    }
    let out = cmd.output().expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn build_targets() -> PathBuf {
    let host = host();
    cargo(
        &["build", "--release", "--bins", "--target", &host],
        Some(FLAGS),
    );
    root().join("fuzz/target").join(host).join("release")
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("shapefuzz-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// One test, so the two nested builds never run at once.
#[test]
fn fuzz_crate_smoke_tests_and_libfuzzer_targets() {
    cargo(&["test"], None);
    let bin = build_targets();

    // `generate`: a bounded run from the committed seeds, clean.
    let corpus = scratch("gen-corpus");
    let out = Command::new(bin.join("generate"))
        .arg("-runs=3000")
        .arg(&corpus)
        .arg(root().join("corpus/fuzz/generate"))
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "generate found a problem:\n{log}");
    assert!(log.contains("Done 3000 runs"), "{log}");

    // `load_case`: hostile case files from the committed seeds, mutated; no crash.
    let corpus = scratch("load-corpus");
    let out = Command::new(bin.join("load_case"))
        .arg("-runs=20000")
        .arg("-max_len=16384")
        .arg(&corpus)
        .arg(root().join("corpus/fuzz/load_case"))
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "load_case found a problem:\n{log}");
    assert!(log.contains("Done 20000 runs"), "{log}");
    std::fs::remove_dir_all(corpus).ok();

    // `render_record`: hostile record text never becomes code in a reproducer.
    let corpus = scratch("record-corpus");
    let out = Command::new(bin.join("render_record"))
        .arg("-runs=20000")
        .arg(&corpus)
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "render_record found a problem:\n{log}"
    );
    assert!(log.contains("Done 20000 runs"), "{log}");
    std::fs::remove_dir_all(corpus).ok();

    // `export_diff`: the committed corpus reaches three torch bugs, all in the known list the
    // target was built with, so by default its seeds run clean (8 seeds and libFuzzer's
    // empty input: 9 runs).
    let corpus = scratch("diff-corpus");
    let artifacts = scratch("diff-artifacts");
    let diff = |known: Option<&Path>| {
        let mut cmd = Command::new(bin.join("export_diff"));
        cmd.arg("-runs=9")
            .arg(format!("-artifact_prefix={}/", artifacts.display()))
            .arg(&corpus)
            .arg(root().join("corpus/fuzz/export_diff"))
            .env_remove("SHAPEFUZZ_FAIL_ON")
            .env_remove("SHAPEFUZZ_KNOWN");
        if let Some(k) = known {
            cmd.env("SHAPEFUZZ_KNOWN", k);
        }
        cmd.output().unwrap()
    };
    let out = diff(None);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "export_diff stopped on a known bug:\n{log}"
    );
    assert!(log.contains("Done 9 runs"), "{log}");
    // With an empty known list the first of them stops it; the artifact converts into a
    // reproducer that exits 1.
    let empty = artifacts.with_extension("known.toml");
    std::fs::write(&empty, "").unwrap();
    let out = diff(Some(&empty));
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "export_diff found nothing in the committed corpus:\n{log}"
    );
    assert!(log.contains("shapefuzz finding: export/bug/"), "{log}");
    let artifact = std::fs::read_dir(&artifacts)
        .unwrap()
        .next()
        .expect("an artifact")
        .unwrap()
        .path();
    let case = artifacts.join("case.json");
    let out = Command::new(env!("CARGO_BIN_EXE_shapefuzz"))
        .args([
            "import-artifact",
            artifact.to_str().unwrap(),
            "--out",
            case.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(case.exists());
    let script = artifacts.join("repro.py");
    std::fs::write(&script, &out.stdout).unwrap();
    let python = shapefuzz::oracle::PythonEnv::ensure(None, true)
        .unwrap()
        .python;
    let run = Command::new(python).arg(&script).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(run.status.code(), Some(1), "{text}");
    assert!(text.contains("Error"), "{text}");
    for d in [corpus, artifacts] {
        std::fs::remove_dir_all(d).ok();
    }
    std::fs::remove_file(empty).ok();
}
