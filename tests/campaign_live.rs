//! Campaigns end to end with real torch: kill and resume, exit codes, JUnit, known issues,
//! and replay. Each test drives the `shapefuzz` binary as a user would.

mod common;

use common::{bin, results, run, tmp};
use shapefuzz::campaign::case_seed;
use shapefuzz::corpus::FindingRecord;
use shapefuzz::ir::Case;
use shapefuzz::oracle::{Backend, Contract, Verdict};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn a_killed_campaign_resumes_with_exactly_one_verdict_per_case() {
    let dir = tmp("kill");
    let d = dir.to_str().unwrap();
    let mut child = bin()
        .args([
            "fuzz", "--seed", "3", "--cases", "60", "--jobs", "2", "--out", d,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t = Instant::now();
    loop {
        let n = std::fs::read_to_string(dir.join("results.jsonl"))
            .map(|s| s.lines().count())
            .unwrap_or(0);
        if n >= 8 {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(180),
            "campaign made no progress"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "campaign ended before it could be killed"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let before = results(&dir).len();
    assert!(before < 60, "killed too late to test anything");
    // A write torn by the kill.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.join("results.jsonl"))
        .unwrap();
    std::io::Write::write_all(&mut f, b"{\"index\": 59, \"case_se").unwrap();
    drop(f);

    let o = run(&[
        "fuzz", "--resume", "--cases", "60", "--jobs", "2", "--out", d,
    ]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    assert!(stderr(&o).contains("torn"), "{}", stderr(&o));
    let lines = results(&dir);
    let mut seen: BTreeMap<u64, usize> = BTreeMap::new();
    for l in &lines {
        *seen.entry(l.index).or_default() += 1;
        // The same seed gives the same case list, also across a resume.
        assert_eq!(l.case_seed, case_seed(3, l.index));
    }
    assert_eq!(
        seen.keys().copied().collect::<Vec<_>>(),
        (0..60).collect::<Vec<_>>()
    );
    assert!(seen.values().all(|&c| c == 1), "duplicates: {seen:?}");
    // Resuming a finished campaign does nothing more: no case, and no reduction of a
    // group an earlier run reduced (its record, smaller than its smallest case, stays).
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    let mut reduced: Vec<(PathBuf, std::time::SystemTime)> = vec![];
    for g in summary["signatures"].as_array().unwrap() {
        let (Some(rec), Some(size)) = (g["record"].as_str(), g["smallest"]["size"].as_u64()) else {
            continue;
        };
        let path = dir.join(rec);
        let case = shapefuzz::corpus::FindingRecord::load(&path).unwrap().case;
        if ((case.inputs.len() + case.nodes.len()) as u64) < size {
            reduced.push((
                path.clone(),
                std::fs::metadata(&path).unwrap().modified().unwrap(),
            ));
        }
    }
    let o = run(&["fuzz", "--resume", "--cases", "60", "--out", d]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    assert_eq!(results(&dir).len(), 60);
    assert!(!reduced.is_empty(), "seed 3 gives groups that reduce");
    let filed = summary["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| matches!(g["class"].as_str(), Some("bug" | "portability")))
        .count();
    let again: usize = stderr(&o)
        .lines()
        .find_map(|l| l.strip_prefix("shapefuzz: reducing "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(
        again + reduced.len() <= filed,
        "{again} group(s) reduced again, {} already reduced, of {filed}:\n{}",
        reduced.len(),
        stderr(&o)
    );
    for (path, at) in &reduced {
        assert_eq!(std::fs::metadata(path).unwrap().modified().unwrap(), *at);
    }
    // A resume with nothing left to check says so, not "0.0 cases/s".
    assert!(
        stderr(&o).contains("60 cases, all checked before this resume"),
        "{}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains("0.0 cases/s"), "{}", stderr(&o));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_campaign_on_several_backends_records_each_and_resumes_the_ones_a_case_lacks() {
    let dir = tmp("backends");
    let d = dir.to_str().unwrap();
    let args = |extra: &[&'static str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "fuzz",
            "--seed",
            "5",
            "--cases",
            "12",
            "--jobs",
            "2",
            "--no-reduce",
            "--backend",
            "export,decomposed,saved",
            "--out",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.push(d.to_string());
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let run_with = |extra: &[&'static str]| {
        let a = args(extra);
        run(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let o = run_with(&[]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("  decomposed: 12 checks"),
        "{}",
        stderr(&o)
    );
    let per_case = |dir: &Path| {
        let mut seen: BTreeMap<(u64, &'static str), usize> = BTreeMap::new();
        for l in results(dir) {
            *seen
                .entry((l.index, l.backend.unwrap().name()))
                .or_default() += 1;
        }
        seen
    };
    let seen = per_case(&dir);
    assert_eq!(seen.len(), 36, "{seen:?}");
    assert!(seen.values().all(|&c| c == 1));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["cases"], 12);
    assert_eq!(summary["backend"], "export,decomposed,saved");
    let by: Vec<(String, u64)> = summary["by_backend"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["backend"].as_str().unwrap().to_string(),
                b["checks"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        by,
        [("export", 12), ("decomposed", 12), ("saved", 12)].map(|(b, n)| (b.to_string(), n))
    );
    // Groups of the steps hold only what the steps changed.
    for e in summary["signatures"].as_array().unwrap() {
        let sig = e["signature"].as_str().unwrap();
        if !sig.starts_with("export/") && e["class"].is_string() {
            assert!(sig.contains("/backend-"), "{sig}");
        }
    }
    assert!(
        std::fs::read_to_string(dir.join("summary.md"))
            .unwrap()
            .contains("| backend | checks |")
    );
    // A kill between a case's lines: drop the saved lines of two cases; resume checks
    // those two on saved alone.
    let text = std::fs::read_to_string(dir.join("results.jsonl")).unwrap();
    let mut dropped = 0;
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| {
            let drop = dropped < 2 && l.contains("\"backend\":\"saved\"");
            dropped += drop as usize;
            !drop
        })
        .collect();
    std::fs::write(dir.join("results.jsonl"), kept.join("\n") + "\n").unwrap();
    let o = run_with(&["--resume"]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    assert_eq!(per_case(&dir), seen);
    // Another backend list is another campaign.
    let o = run(&[
        "fuzz",
        "--resume",
        "--cases",
        "12",
        "--backend",
        "export",
        "--out",
        d,
    ]);
    assert_eq!(o.status.code(), Some(64), "a usage error: {}", stderr(&o));
    assert!(
        stderr(&o).contains("--backend export,decomposed,saved"),
        "{}",
        stderr(&o)
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn exit_codes_junit_and_known_issue_suppression() {
    let new = tmp("new");
    let args = |out: &Path| {
        vec![
            "fuzz".to_string(),
            "--seed".into(),
            "1".into(),
            "--cases".into(),
            "30".into(),
            "--jobs".into(),
            "2".into(),
            "--fail-on".into(),
            "bug,portability".into(),
            "--out".into(),
            out.display().to_string(),
        ]
    };
    let o = bin()
        .args(args(&new))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(new.join("summary.json")).unwrap()).unwrap();
    let findings = summary["new_failing"].as_u64().unwrap();
    assert!(
        findings > 0,
        "seed 1's first 30 cases hold bug or portability groups; the test needs them"
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "new failing groups exit 1: {}",
        stderr(&o)
    );
    let junit = std::fs::read_to_string(new.join("junit.xml")).unwrap();
    assert_eq!(junit.matches("<failure").count() as u64, findings);
    assert!(junit.contains(&format!("failures=\"{findings}\"")));
    let md = std::fs::read_to_string(new.join("summary.md")).unwrap();
    assert!(
        md.contains("## Notes for model authors") || md.contains("## Bugs"),
        "{md}"
    );
    let groups: u64 = ["bug", "portability"]
        .iter()
        .map(|c| summary["classes"][c]["new_groups"].as_u64().unwrap_or(0))
        .sum();
    assert!(groups >= findings, "root causes gather groups");
    assert_eq!(
        std::fs::read_dir(new.join("findings")).unwrap().count() as u64,
        groups,
        "a record per bug and portability group"
    );
    // The default fails only on bugs: the same cases pass unless one of them is a bug.
    let bugs = summary["classes"]["bug"]["new_groups"]
        .as_u64()
        .unwrap_or(0);
    let default_run = tmp("default");
    let o = run(&[
        "fuzz",
        "--seed",
        "1",
        "--cases",
        "30",
        "--no-reduce",
        "--out",
        default_run.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(if bugs > 0 { 1 } else { 0 }),
        "{}",
        stderr(&o)
    );
    std::fs::remove_dir_all(&default_run).ok();

    // Every finding known: reported, skipped in JUnit with its link, and the run passes.
    let known = new.with_extension("toml");
    std::fs::write(&known, "[[known]]\npattern = '.*'\nlink = 'https://example.invalid/issue/1'\nnote = 'all of them'\n")
        .unwrap();
    let old = tmp("known");
    let o = bin()
        .args(args(&old))
        .args(["--known", known.to_str().unwrap()])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "known findings do not fail: {}",
        stderr(&o)
    );
    let junit = std::fs::read_to_string(old.join("junit.xml")).unwrap();
    assert!(!junit.contains("<failure"));
    assert!(
        junit.contains("<skipped message=\"known: https://example.invalid/issue/1 all of them\"/>")
    );
    assert!(
        std::fs::read_to_string(old.join("summary.md"))
            .unwrap()
            .contains("Known: <https://example.invalid/issue/1>")
    );

    // Harness errors exit 2 with one line naming the problem, and record nothing new.
    std::fs::write(&known, "[[known]]\npattern = '('\nlink = 'x'\n").unwrap();
    let o = run(&[
        "fuzz",
        "--cases",
        "1",
        "--out",
        tmp("bad").to_str().unwrap(),
        "--known",
        known.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(known.to_str().unwrap()) && stderr(&o).trim().lines().count() == 1,
        "{}",
        stderr(&o)
    );
    let o = run(&["fuzz", "--cases", "1", "--out", new.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(64), "a usage error");
    assert!(stderr(&o).contains("--resume"), "{}", stderr(&o));
    assert_eq!(
        results(&new).len(),
        30,
        "an existing campaign is left alone"
    );

    // Replay: the stored findings still fail on this torch.
    let o = run(&["replay", new.to_str().unwrap()]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}{}", stderr(&o));
    assert_eq!(
        out.matches(": still failing").count() as u64,
        findings,
        "{out}"
    );
    for d in [new, old] {
        std::fs::remove_dir_all(d).ok();
    }
}

#[test]
fn replay_says_fixed_still_failing_or_changed() {
    let dir = tmp("replay");
    std::fs::create_dir_all(&dir).unwrap();
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/seeds");
    let record = |case: &str, signature: &str| FindingRecord {
        signature: signature.into(),
        backend: Backend::Export,
        verdict: Verdict::LostDim,
        contract: Some(Contract::AvoidableSpecialization),
        kind: None,
        message: String::new(),
        cause: None,
        traceback: None,
        fix: None,
        torch: "2.15.0".into(),
        shapefuzz: None,
        generator: None,
        origin: "test".into(),
        probe: None,
        workaround: None,
        dims: vec![],
        twin: None,
        case: Case::load(&seeds.join(case)).unwrap(),
    };
    let pinned = "export/portability/avoidable-specialization/append_value:pad/torch/nn/functional.py in pad";
    record("seed_pad.json", pinned)
        .save(&dir.join("a_still.json"))
        .unwrap();
    record("seed_cat.json", pinned)
        .save(&dir.join("b_fixed.json"))
        .unwrap();
    record("one_hot.json", pinned)
        .save(&dir.join("c_changed.json"))
        .unwrap();
    let o = run(&["replay", dir.to_str().unwrap()]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("a_still.json: still failing"), "{out}");
    assert!(out.contains("b_fixed.json: fixed"), "{out}");
    assert!(
        out.contains(&format!(
            "c_changed.json: changed: {pinned} -> export/portability/avoidable-specialization/one_hot/"
        )),
        "{out}"
    );
    assert_eq!(o.status.code(), Some(1));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_committed_corpus_still_reproduces_on_the_pinned_torch() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let o = run(&["replay", "--json", corpus.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let rows: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let records = std::fs::read_dir(corpus.join("findings")).unwrap().count();
    let still: Vec<&serde_json::Value> = rows
        .iter()
        .filter(|r| r["status"] == "still_failing")
        .collect();
    assert_eq!(still.len(), records, "{rows:#?}");
    // Plain cases (the seeds) are checked and reported with their verdict.
    assert!(rows.iter().any(|r| r["status"] == "checked"
        && r["path"].as_str().unwrap().ends_with("seed_cat.json")
        && r["verdict"] == "pass"));
}

#[test]
fn ctrl_c_during_reduction_stops_it_and_writes_the_reports() {
    let dir = tmp("sigint-reduce");
    let d = dir.to_str().unwrap();
    let child = bin()
        .args([
            "fuzz", "--seed", "3", "--cases", "40", "--jobs", "2", "--out", d,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t = Instant::now();
    // Every case recorded: the campaign is in its reduction phase.
    while std::fs::read_to_string(dir.join("results.jsonl"))
        .map(|s| s.lines().count())
        .unwrap_or(0)
        < 40
    {
        assert!(t.elapsed() < Duration::from_secs(300), "no progress");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(1500));
    let interrupted = Instant::now();
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        interrupted.elapsed() < Duration::from_secs(60),
        "reduction went on for {:?}",
        interrupted.elapsed()
    );
    assert!(err.contains("stopped while reducing findings"), "{err}");
    assert!(!err.contains("stopped after"), "{err}");
    assert!(dir.join("summary.json").exists() && dir.join("junit.xml").exists());
    std::fs::remove_dir_all(&dir).ok();
}
