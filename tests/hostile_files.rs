//! Hostile files and numbers handed to the commands that need no torch: every read is of a
//! regular file and capped, every number read is checked, every time option has a maximum,
//! known-issues files are bounded, and what a results line says is escaped in every report.
//! The inputs are small files under `tests/data/hostile/`; each command must end (with a
//! one-line error naming the file) within a deadline, never hang or run out of memory.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/hostile")
        .join(name)
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("shapefuzz-hfiles-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs shapefuzz, failing the test if it has not ended after 60 s.
fn shapefuzz(args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_shapefuzz"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("shapefuzz {args:?} did not end in 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out: Output = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A campaign directory as a run leaves it, with the given results file.
fn campaign(dir: &Path, results: Option<&Path>) {
    std::fs::create_dir_all(dir).unwrap();
    let meta = serde_json::json!({
        "seed": "5", "backend": "export", "schema_version": 1,
        "generator_version": shapefuzz::r#gen::GENERATOR_VERSION,
    });
    std::fs::write(dir.join("campaign.json"), meta.to_string()).unwrap();
    if let Some(r) = results {
        std::fs::copy(r, dir.join("results.jsonl")).unwrap();
    }
}

fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo").arg(path).status().unwrap().success();
    assert!(ok, "mkfifo {path:?}");
}

#[test]
fn endless_times_in_results_are_refused_naming_line_and_field() {
    let root = tmp("endless");
    let run = root.join("run");
    campaign(&run, Some(&data("results_endless_time.jsonl")));
    let (code, err) = shapefuzz(&["report", run.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("results.jsonl: line 1: `at` is 1e308"),
        "{err}"
    );
    let out = root.join("merged");
    let (code, err) = shapefuzz(&[
        "merge",
        run.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("`at`"), "{err}");
    std::fs::remove_dir_all(root).ok();
}

#[test]
fn time_options_have_a_maximum() {
    for t in ["18446744073709551615s", "1000000000", "400days"] {
        let (code, err) = shapefuzz(&["fuzz", "--time", t, "--out", "/nonexistent/x"]);
        assert_eq!(code, Some(64), "a usage error: {t}: {err}");
        assert!(
            err.contains("--time") && err.contains("366 days"),
            "{t}: {err}"
        );
    }
}

#[test]
fn pipes_and_devices_are_refused_not_read_forever() {
    let root = tmp("special");
    // results.jsonl as a FIFO, and as an endless device.
    let fifo_run = root.join("fifo");
    campaign(&fifo_run, None);
    mkfifo(&fifo_run.join("results.jsonl"));
    let (code, err) = shapefuzz(&["report", fifo_run.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("named pipe"), "{err}");
    let zero_run = root.join("zero");
    campaign(&zero_run, None);
    std::os::unix::fs::symlink("/dev/zero", zero_run.join("results.jsonl")).unwrap();
    let (code, err) = shapefuzz(&["report", zero_run.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("a device"), "{err}");
    // A libFuzzer artifact that never ends.
    let (code, err) = shapefuzz(&["import-artifact", "/dev/zero"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("a device"), "{err}");
    // A FIFO named like a case in a directory to replay, and one given as a known-issues file.
    let replay = root.join("replay");
    std::fs::create_dir_all(&replay).unwrap();
    mkfifo(&replay.join("x.json"));
    let (code, err) = shapefuzz(&["replay", replay.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("x.json") && err.contains("named pipe"),
        "{err}"
    );
    let run = root.join("run");
    campaign(&run, Some(&data("results_html_and_nonchars.jsonl")));
    let known = root.join("known.toml");
    mkfifo(&known);
    let (code, err) = shapefuzz(&[
        "report",
        run.to_str().unwrap(),
        "--known",
        known.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("named pipe"), "{err}");
    std::fs::remove_dir_all(root).ok();
}

#[test]
fn known_issue_files_are_bounded_and_checked() {
    let root = tmp("known");
    let run = root.join("run");
    campaign(&run, Some(&data("results_html_and_nonchars.jsonl")));
    let huge = data("known_huge_patterns.toml");
    let (code, err) = shapefuzz(&[
        "report",
        run.to_str().unwrap(),
        "--known",
        huge.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("entry 1") && err.contains("compiles too large"),
        "{err}"
    );
    let misspelt = data("known_misspelt_table.toml");
    let (code, err) = shapefuzz(&[
        "report",
        run.to_str().unwrap(),
        "--known",
        misspelt.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("knwon"), "{err}");
    // Too many entries.
    let many = root.join("many.toml");
    let text: String = (0..2_001)
        .map(|k| format!("[[known]]\npattern = \"^x{k}$\"\nlink = \"l\"\n"))
        .collect();
    std::fs::write(&many, text).unwrap();
    let (code, err) = shapefuzz(&[
        "report",
        run.to_str().unwrap(),
        "--known",
        many.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("2001 entries"), "{err}");
    std::fs::remove_dir_all(root).ok();
}

#[test]
fn a_results_line_s_text_is_escaped_in_summary_and_junit() {
    let root = tmp("escape");
    let run = root.join("run");
    campaign(&run, Some(&data("results_html_and_nonchars.jsonl")));
    let (code, err) = shapefuzz(&["report", run.to_str().unwrap()]);
    assert_eq!(code, Some(1), "a new bug group fails the run: {err}");
    let md = std::fs::read_to_string(run.join("summary.md")).unwrap();
    assert!(md.contains("alert(1)"), "the kind is reported");
    // Inside a code span HTML is text; anywhere else it would be markup.
    for line in md.lines() {
        let outside_code: String = line.split('`').step_by(2).collect();
        assert!(
            !outside_code.contains("<script>"),
            "raw HTML in summary.md: {line}"
        );
    }
    let junit = std::fs::read_to_string(run.join("junit.xml")).unwrap();
    assert!(junit.contains("x  y  z") || junit.contains("x "), "{junit}");
    assert!(
        !junit.contains('\u{fffe}') && !junit.contains('\u{ffff}'),
        "junit.xml holds characters XML forbids"
    );
    std::fs::remove_dir_all(root).ok();
}

fn part(dir: &Path, shard: &str, lines: &[(u64, u64)], torn: bool) {
    std::fs::create_dir_all(dir).unwrap();
    let (k, n) = shard.split_once('/').unwrap();
    let meta = serde_json::json!({
        "seed": "5", "backend": "export", "schema_version": 1,
        "generator_version": shapefuzz::r#gen::GENERATOR_VERSION,
        "shard": {"index": k.parse::<u64>().unwrap() - 1, "count": n.parse::<u64>().unwrap()},
    });
    std::fs::write(dir.join("campaign.json"), meta.to_string()).unwrap();
    let mut text = String::new();
    for (index, seed) in lines {
        text += &serde_json::json!({
            "index": index, "case_seed": seed.to_string(), "verdict": "pass", "message": "",
            "signature": null, "ops": [], "size": 3, "seconds": 0.01,
        })
        .to_string();
        text.push('\n');
    }
    if torn {
        text += "{\"index\": 9";
    }
    std::fs::write(dir.join("results.jsonl"), text).unwrap();
    let summary = serde_json::json!({"torch": "2.15.0", "elapsed_s": 2.0, "status": "finished"});
    std::fs::write(dir.join("summary.json"), summary.to_string()).unwrap();
}

#[test]
fn merge_refuses_forged_lines_and_links_and_reports_repeated_and_torn_ones() {
    use shapefuzz::campaign::case_seed;
    let root = tmp("merge");
    let (a, b) = (root.join("a"), root.join("b"));
    part(
        &a,
        "1/2",
        &[(0, case_seed(5, 0)), (0, case_seed(5, 0))],
        false,
    );
    part(&b, "2/2", &[(1, case_seed(5, 1))], true);
    let out = root.join("out");
    let (code, err) = shapefuzz(&[
        "merge",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("1 repeated result line(s)") && err.contains("a/results.jsonl index 0"),
        "{err}"
    );
    assert!(
        err.contains("1 part(s) end in a torn line") && err.contains("b/results.jsonl"),
        "{err}"
    );
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(md.contains("repeated result line"), "{md}");
    // An index the part's shard does not hold, and a case seed the campaign never drew.
    for (name, line) in [("c", (1, case_seed(5, 1))), ("d", (0, 42))] {
        let c = root.join(name);
        part(&c, "1/2", &[line], false);
        let (code, err) = shapefuzz(&[
            "merge",
            c.to_str().unwrap(),
            "--out",
            root.join(format!("m{name}")).to_str().unwrap(),
        ]);
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains("forged"), "{err}");
    }
    // A `findings` link in --out: refused, and nothing written through it.
    let elsewhere = root.join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let linked = root.join("linked");
    std::fs::create_dir_all(&linked).unwrap();
    std::os::unix::fs::symlink(&elsewhere, linked.join("findings")).unwrap();
    let (code, err) = shapefuzz(&[
        "merge",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--out",
        linked.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("is a link"), "{err}");
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
    std::fs::remove_dir_all(root).ok();
}

#[test]
fn a_failed_atomic_write_leaves_no_temp_file() {
    let root = tmp("atomic");
    // The target is a non-empty directory: the rename fails after the temp file is written.
    let target = root.join("record.json");
    std::fs::create_dir_all(target.join("inside")).unwrap();
    assert!(shapefuzz::corpus::write_atomic(&target, b"{}").is_err());
    let left: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, [std::ffi::OsString::from("record.json")], "{left:?}");
    std::fs::remove_dir_all(root).ok();
}
