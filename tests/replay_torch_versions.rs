//! "Which of our findings does another torch fix?": the committed findings replayed on a
//! second, real torch (2.14.1, the release before the pin, built from PyPI into its own
//! cached environment from a hash-checked lock), each reported fixed, still failing or
//! changed, with the torch it was found on and the one it ran on.

use shapefuzz::oracle::env::{cache_dir, install_locked};
use std::path::Path;
use std::process::{Command, Stdio};

const PREVIOUS_TORCH: &str = "2.14.1";

#[test]
fn the_committed_findings_replay_on_another_torch() {
    let lock = include_str!("data/torch-previous.lock");
    let hash = shapefuzz::oracle::env::short_hash(lock);
    let venv = cache_dir().join(format!("venv-torch-{PREVIOUS_TORCH}-{hash}"));
    let python = install_locked(&venv, lock, Some(PREVIOUS_TORCH), true)
        .expect("a second torch from PyPI (network access to PyPI is needed)");
    let findings = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/findings");
    let run = |json: bool| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_shapefuzz"));
        c.args(["replay", "--python"]).arg(&python);
        if json {
            c.arg("--json");
        }
        c.arg(&findings)
            .stdin(Stdio::null())
            .output()
            .expect("shapefuzz runs")
    };
    let o = run(true);
    let err = String::from_utf8_lossy(&o.stderr);
    // 0: all fixed; 1: some still fail. Never 2: every record replays on that torch.
    assert!(matches!(o.status.code(), Some(0 | 1)), "{err}");
    let rows: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let records = std::fs::read_dir(&findings).unwrap().count();
    assert_eq!(rows.len(), records);
    for r in &rows {
        assert!(
            r["replayed_on"]
                .as_str()
                .unwrap()
                .starts_with(PREVIOUS_TORCH),
            "{r}"
        );
        assert!(r["found_on"].as_str().unwrap().starts_with("2.15.0"), "{r}");
        assert!(
            ["fixed", "still_failing", "changed"].contains(&r["status"].as_str().unwrap()),
            "{r}"
        );
    }
    // People read both versions on each line.
    let o = run(false);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.lines()
            .next()
            .is_some_and(|l| l.contains(&format!("on torch {PREVIOUS_TORCH}"))),
        "{text}"
    );
    assert!(text.contains("(found on torch 2.15.0"), "{text}");
}
