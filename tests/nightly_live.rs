//! The nightly job as CI runs it, with real torch: a random seed printed and recorded,
//! plain progress without a terminal, SIGTERM and SIGKILL mid-run, `--time` bounding the
//! reduction too, and shards that merge into the unsharded campaign.

mod common;

use common::{bin, results, run, tmp};
use shapefuzz::corpus::FindingRecord;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn summary(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("summary.json")).expect("summary.json");
    serde_json::from_str(&text).expect("summary.json parses")
}

fn signal(child: &Child, sig: &str) {
    Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap();
}

/// Waits until `ready` holds, failing the test after `limit`.
fn wait_for(limit: Duration, what: &str, mut ready: impl FnMut() -> bool) {
    let t = Instant::now();
    while !ready() {
        assert!(t.elapsed() < limit, "waited {limit:?} for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn spawn_campaign(dir: &Path, extra: &[&str]) -> Child {
    bin()
        .args([
            "fuzz",
            "--time",
            "10m",
            "--jobs",
            "2",
            "--progress-every",
            "1s",
        ])
        .args(["--out", dir.to_str().unwrap()])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Every record a report points at loads, and every group of a bug or portability class
/// has one.
fn assert_records_readable(dir: &Path, s: &serde_json::Value) {
    for g in s["signatures"].as_array().unwrap() {
        let class = g["class"].as_str().unwrap_or("");
        if class != "bug" && class != "portability" {
            continue;
        }
        let record = g["record"]
            .as_str()
            .unwrap_or_else(|| panic!("no record for {}", g["signature"]));
        let rec = FindingRecord::load(&dir.join(record)).expect("the record loads");
        assert_eq!(rec.signature, g["signature"].as_str().unwrap());
        assert_eq!(rec.generator, Some(shapefuzz::r#gen::GENERATOR_VERSION));
    }
}

#[test]
fn sigterm_writes_complete_reports_and_a_second_signal_leaves_at_once() {
    let dir = tmp("sigterm");
    let child = spawn_campaign(&dir, &[]);
    // Some findings have been filed: the reports exist while cases still run.
    wait_for(Duration::from_secs(300), "a first report", || {
        dir.join("summary.json").exists() && results(&dir).len() >= 60
    });
    let termed = Instant::now();
    signal(&child, "-TERM");
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    // Stopped, not killed by the signal: the exit code says what was found.
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{:?}\n{err}",
        out.status
    );
    assert!(
        termed.elapsed() < Duration::from_secs(30),
        "took {:?} to stop",
        termed.elapsed()
    );
    // The seed comes first and is the one recorded.
    let first = err.lines().next().unwrap_or("");
    let seed = first
        .strip_prefix("shapefuzz: campaign seed ")
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("first line: {first}"));
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("campaign.json")).unwrap()).unwrap();
    assert_eq!(meta["seed"], seed, "seeds are strings in JSON");
    // Without a terminal, progress comes as plain lines.
    assert!(
        err.lines()
            .any(|l| l.starts_with("shapefuzz: [") && l.contains(" cases (")),
        "{err}"
    );
    let s = summary(&dir);
    assert_eq!(s["status"], "stopped");
    assert_eq!(s["seed"], seed);
    assert_eq!(s["schema_version"], 2);
    assert_eq!(s["cases"].as_u64().unwrap() as usize, results(&dir).len());
    assert_records_readable(&dir, &s);
    let junit = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    assert!(junit.contains(&format!("<property name=\"seed\" value=\"{seed}\"/>")));
    assert!(
        std::fs::read_to_string(dir.join("summary.md"))
            .unwrap()
            .contains("**Stopped**")
    );

    // Resumed, then stopped twice: the second signal leaves at once, and every line of
    // results.jsonl is whole.
    let before = results(&dir).len();
    let child = spawn_campaign(&dir, &["--resume"]);
    wait_for(Duration::from_secs(300), "cases after resume", || {
        results(&dir).len() > before + 20
    });
    signal(&child, "-TERM");
    std::thread::sleep(Duration::from_millis(200));
    signal(&child, "-TERM");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{out:?}");
    let lines = results(&dir);
    let mut indices: Vec<u64> = lines.iter().map(|l| l.index).collect();
    indices.sort();
    indices.dedup();
    assert_eq!(indices.len(), lines.len(), "an index recorded twice");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn sigkill_leaves_readable_reports_of_what_was_found() {
    let dir = tmp("sigkill");
    let mut child = spawn_campaign(&dir, &["-q"]);
    wait_for(Duration::from_secs(300), "findings filed", || {
        dir.join("summary.json").exists()
            && summary(&dir)["signatures"]
                .as_array()
                .is_some_and(|g| g.iter().any(|g| g["record"].is_string()))
    });
    child.kill().unwrap();
    child.wait().unwrap();
    let s = summary(&dir);
    assert_eq!(s["status"], "running");
    assert!(s["cases"].as_u64().unwrap() as usize <= results(&dir).len());
    assert_records_readable(&dir, &s);
    let md = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(md.contains("**In progress:**"), "{md}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn time_bounds_the_whole_run_reduction_included() {
    let dir = tmp("time-bound");
    let t = Instant::now();
    let o = run(&[
        "fuzz",
        "--seed",
        "3",
        "--time",
        "20s",
        "--jobs",
        "2",
        "--out",
        dir.to_str().unwrap(),
    ]);
    let took = t.elapsed();
    assert!(matches!(o.status.code(), Some(0 | 1)), "{o:?}");
    // Torch's start-up (a few seconds) comes before the clock starts; the rest is the
    // grace for cases in flight and the last reports.
    assert!(took < Duration::from_secs(45), "--time 20s took {took:?}");
    let s = summary(&dir);
    assert_eq!(s["status"], "finished");
    assert_records_readable(&dir, &s);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn two_shards_merged_equal_the_unsharded_campaign() {
    let root = tmp("shards");
    let dir = |n: &str| root.join(n).to_str().unwrap().to_string();
    let common = ["fuzz", "--seed", "11", "--cases", "40", "--no-reduce", "-q"];
    for (name, shard) in [("whole", None), ("one", Some("1/2")), ("two", Some("2/2"))] {
        let mut args: Vec<String> = common.iter().map(|s| s.to_string()).collect();
        args.extend(["--out".into(), dir(name)]);
        if let Some(k) = shard {
            args.extend(["--shard".into(), k.into()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = run(&args);
        assert!(matches!(o.status.code(), Some(0 | 1)), "{o:?}");
    }
    let one = results(&root.join("one"));
    let two = results(&root.join("two"));
    assert!(one.iter().all(|l| l.index % 2 == 0) && two.iter().all(|l| l.index % 2 == 1));
    assert_eq!(one.len() + two.len(), 40);
    let o = run(&["merge", &dir("one"), &dir("two"), "--out", &dir("merged")]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{o:?}");
    let key = |d: &str| {
        let mut v: Vec<(u64, u64, String, Option<String>)> = results(&root.join(d))
            .into_iter()
            .map(|l| {
                (
                    l.index,
                    l.case_seed,
                    l.verdict.name().to_string(),
                    l.signature,
                )
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(key("whole"), key("merged"));
    let groups = |d: &str| {
        summary(&root.join(d))["signatures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| {
                (
                    g["signature"].clone(),
                    g["count"].clone(),
                    g["smallest"].clone(),
                    g["record"].is_string(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(groups("whole"), groups("merged"));
    // Parts of another campaign are refused, naming the part.
    let o = run(&[
        "fuzz",
        "--seed",
        "12",
        "--cases",
        "2",
        "--no-reduce",
        "-q",
        "--out",
        &dir("other"),
    ]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{o:?}");
    let o = run(&["merge", &dir("one"), &dir("other"), "--out", &dir("bad")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("another campaign"),
        "{o:?}"
    );
    std::fs::remove_dir_all(&root).ok();
}
