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
        .env_remove("SHAPEFUZZ_KNOWN")
        .env_remove("SHAPEFUZZ_FAIL_ON")
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
    for t in ["generate", "export_diff", "load_case", "render_record"] {
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
    assert_eq!(
        std::fs::read_to_string(out.join("shapefuzz-known-issues.toml")).unwrap(),
        std::fs::read_to_string(root().join("known-issues.example.toml")).unwrap(),
        "build.sh bundles the repository's known list beside export_diff"
    );

    // As a runner starts them: from $OUT, over the seed corpus, 1,000 inputs each.
    run_target(&out, "generate", 1000, &[]);
    run_target(&out, "load_case", 1000, &[]);
    run_target(&out, "render_record", 1000, &[]);
    // export_diff as a runner starts it, with no settings: the Python and the known list
    // next to it. The seed corpus reaches three known torch bugs; none stops it. (Mutants
    // may reach a new bug: only the seeds (8, and libFuzzer's empty input) run here, so the
    // check is deterministic.)
    let log = run_target(&out, "export_diff", 9, &[]);
    assert!(!log.contains("harness error"), "{log}");
    std::fs::remove_dir_all(base).ok();
}

/// The README's `cargo fuzz` block, as a user pastes it into a shell on a fresh clone: every
/// line but the two that name things this test provides (cargo-fuzz, pinned, is put on
/// `PATH` in place of `cargo install cargo-fuzz`; `crash-<hash>` names no file).
#[test]
fn the_readme_cargo_fuzz_commands_run_as_written() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let section = readme
        .split("## Coverage-guided fuzzing")
        .nth(1)
        .expect("the README's cargo fuzz section");
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("its shell block");
    let lines: Vec<&str> = block.lines().collect();
    assert_eq!(lines.first(), Some(&"cargo install cargo-fuzz"), "{block}");
    assert!(
        lines
            .last()
            .unwrap()
            .starts_with("shapefuzz import-artifact"),
        "{block}"
    );
    let script = lines[1..lines.len() - 1].join("\n");
    assert!(
        script.contains("export_diff") && script.contains("render_record"),
        "{script}"
    );
    for d in ["/tmp/gen-corpus", "/tmp/record-corpus", "/tmp/diff-corpus"] {
        let _ = std::fs::remove_dir_all(d);
    }
    let artifacts = root().join("fuzz/artifacts/export_diff");
    let before: Vec<PathBuf> = std::fs::read_dir(&artifacts)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    let path = format!(
        "{}:{}",
        cargo_fuzz_bin().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let o = Command::new("bash")
        .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", &script])
        .current_dir(root())
        .env("PATH", path)
        .env_remove("SHAPEFUZZ_PYTHON")
        .env_remove("SHAPEFUZZ_KNOWN")
        .env_remove("SHAPEFUZZ_FAIL_ON")
        .stdin(Stdio::null())
        .output()
        .expect("bash runs");
    let log = String::from_utf8_lossy(&o.stderr).into_owned();
    // generate and render_record ran their bounded runs to the end.
    assert!(log.matches("\nDone ").count() >= 2, "{log}");
    assert!(!log.contains("harness error"), "{log}");
    if !o.status.success() {
        // A minute of mutation may reach a new torch bug: that is export_diff doing its job,
        // and the README's next line turns the artifact into a case and a reproducer.
        assert!(log.contains("shapefuzz finding: export/bug/"), "{log}");
        let fresh: Vec<PathBuf> = std::fs::read_dir(&artifacts)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| !before.contains(p))
            .collect();
        let artifact = fresh.first().expect("the finding's artifact");
        let o = Command::new(env!("CARGO_BIN_EXE_shapefuzz"))
            .arg("import-artifact")
            .arg(artifact)
            .current_dir(root().join("fuzz"))
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{o:?}");
        std::fs::remove_file(artifact).ok();
    } else {
        // generate, render_record, and export_diff's minute each end with libFuzzer's "Done".
        assert_eq!(log.matches("\nDone ").count(), 3, "{log}");
    }
    for d in ["/tmp/gen-corpus", "/tmp/record-corpus", "/tmp/diff-corpus"] {
        let _ = std::fs::remove_dir_all(d);
    }
}
