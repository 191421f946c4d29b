//! `.clusterfuzzlite/build.sh` run the way the ClusterFuzzLite / OSS-Fuzz builder runs it,
//! in a simulated layout: `$SRC/shapefuzz` (the checkout), `$OUT` and `$WORK` in temporary
//! directories, cargo-fuzz's `build -O` (with `--sanitizer none`: stable Rust here; the
//! builder image's nightly adds its sanitizer). `$OUT` must then hold runnable targets,
//! their seed-corpus zips and options, and the Python environment export_diff uses; each
//! target runs 1,000 inputs from `$OUT` cleanly, as a runner would start it. The Docker
//! images themselves cannot run on this machine (no Docker engine).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const CARGO_FUZZ_VERSION: &str = "0.13.2";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// cargo-fuzz, installed once per version into shapefuzz's cache directory.
fn cargo_fuzz_bin() -> PathBuf {
    let dir = shapefuzz::oracle::env::cache_dir()
        .join("tools")
        .join(format!("cargo-fuzz-{CARGO_FUZZ_VERSION}"));
    let bin = dir.join("bin");
    if !bin.join("cargo-fuzz").exists() {
        let o = Command::new(env!("CARGO"))
            .args([
                "install",
                "cargo-fuzz",
                "--locked",
                "--version",
                CARGO_FUZZ_VERSION,
                "--root",
            ])
            .arg(&dir)
            .stdin(Stdio::null())
            .output()
            .expect("cargo runs");
        assert!(
            o.status.success(),
            "installing cargo-fuzz: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    bin
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("shapefuzz-cfl-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs a target from `$OUT` over its unzipped seed corpus for `runs` inputs.
fn run_target(out: &Path, target: &str, runs: u32, env: &[(&str, &str)]) -> String {
    let corpus = scratch(&format!("corpus-{target}"));
    let unzip = Command::new("unzip")
        .arg("-q")
        .arg(out.join(format!("{target}_seed_corpus.zip")))
        .arg("-d")
        .arg(&corpus)
        .status()
        .expect("unzip runs");
    assert!(unzip.success(), "{target}'s seed corpus unzips");
    assert!(
        std::fs::read_dir(&corpus).unwrap().count() > 0,
        "{target}'s seed corpus is not empty"
    );
    let mut cmd = Command::new(out.join(target));
    cmd.arg(format!("-runs={runs}"))
        .arg(&corpus)
        .env_remove("SHAPEFUZZ_PYTHON")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let o = cmd.output().expect("the target runs");
    let log = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{target} did not run cleanly:\n{log}");
    assert!(log.contains(&format!("Done {runs} runs")), "{log}");
    std::fs::remove_dir_all(corpus).ok();
    log
}

#[test]
fn build_sh_fills_out_with_runnable_targets_seed_corpora_and_python() {
    let base = scratch("layout");
    let (src, out, work) = (base.join("src"), base.join("out"), base.join("work"));
    for d in [&src, &out, &work] {
        std::fs::create_dir_all(d).unwrap();
    }
    std::os::unix::fs::symlink(root(), src.join("shapefuzz")).unwrap();
    let path = format!(
        "{}:{}",
        cargo_fuzz_bin().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let o = Command::new("bash")
        .arg(root().join(".clusterfuzzlite/build.sh"))
        .env("SRC", &src)
        .env("OUT", &out)
        .env("WORK", &work)
        .env("CARGO_FUZZ_FLAGS", "--sanitizer none")
        .env("PATH", path)
        .stdin(Stdio::null())
        .output()
        .expect("bash runs");
    assert!(
        o.status.success(),
        "build.sh failed:\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    for t in ["generate", "export_diff", "load_case"] {
        for f in [
            t.to_string(),
            format!("{t}_seed_corpus.zip"),
            format!("{t}.options"),
        ] {
            assert!(out.join(&f).is_file(), "$OUT lacks {f}");
        }
        let options = std::fs::read_to_string(out.join(format!("{t}.options"))).unwrap();
        assert!(options.starts_with("[libfuzzer]") && options.contains("timeout"));
    }
    assert!(out.join("shapefuzz-python/bin/python").exists());

    // As a runner starts them: from $OUT, over the seed corpus, 1,000 inputs each.
    run_target(&out, "generate", 1000, &[]);
    run_target(&out, "load_case", 1000, &[]);
    // export_diff on the Python next to it; no class stops it, so 1,000 inputs run through
    // real torch (findings are what the nightly batch is for).
    let log = run_target(&out, "export_diff", 1000, &[("SHAPEFUZZ_FAIL_ON", "none")]);
    assert!(!log.contains("harness error"), "{log}");
    std::fs::remove_dir_all(base).ok();
}
