//! The command line as a user meets it: help, exit codes, and one-line errors for bad input.

use std::process::Command;

fn shapefuzz(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_shapefuzz"))
        .args(args)
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn help_explains_every_command() {
    let (code, out, _) = shapefuzz(&["--help"]);
    assert_eq!(code, 0);
    for c in [
        "gen",
        "setup",
        "check",
        "fuzz",
        "merge",
        "known",
        "replay",
        "Exit codes",
    ] {
        assert!(out.contains(c), "--help lacks {c}:\n{out}");
    }
    let (_, out, _) = shapefuzz(&["gen", "--help"]);
    for flag in ["--seed", "--count", "--out", "--swarm"] {
        assert!(out.contains(flag), "gen --help lacks {flag}:\n{out}");
    }
    let (_, out, _) = shapefuzz(&["fuzz", "--help"]);
    for flag in [
        "random seed",
        "--shard <K/N>",
        "--reduce-time",
        "--quiet",
        "--progress-every",
    ] {
        assert!(out.contains(flag), "fuzz --help lacks {flag}:\n{out}");
    }
}

/// Every argument says what it takes; a help text is a sentence or two, and what more
/// there is to say lives in `explain` (a paragraph once repeated on six commands).
#[test]
fn every_argument_is_described_and_briefly() {
    let cli = shapefuzz::cli::definition();
    for sub in cli.get_subcommands() {
        for arg in sub.get_arguments() {
            let name = format!("{} {}", sub.get_name(), arg.get_id());
            if arg.is_hide_set() {
                continue;
            }
            let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
            assert!(!help.trim().is_empty(), "{name} has no help text");
            assert!(
                help.len() <= 300,
                "{name}: {} characters of help; move the rest to `explain`",
                help.len()
            );
        }
    }
}

/// `--python` is offered by the commands that run Python, and refused by the rest, before
/// or after the command's name.
#[test]
fn python_is_a_flag_only_of_the_commands_that_run_it() {
    let runs_python = [
        "setup",
        "check",
        "fuzz",
        "reduce",
        "repro",
        "import-artifact",
        "replay",
        "probe",
    ];
    let cli = shapefuzz::cli::definition();
    for sub in cli.get_subcommands() {
        let name = sub.get_name();
        if name == "help" {
            continue;
        }
        let offers = sub.get_arguments().any(|a| a.get_id() == "python");
        assert_eq!(offers, runs_python.contains(&name), "{name}");
    }
    let (code, _, err) = shapefuzz(&["gen", "--python", "/usr/bin/python3"]);
    assert_eq!(code, 64, "{err}");
    let (code, _, err) = shapefuzz(&["--python", "/usr/bin/python3", "explain", "bug"]);
    assert_eq!(code, 64, "{err}");
    assert!(err.contains("`shapefuzz explain` runs no Python"), "{err}");
    // Before the command, where older scripts put it, it still reaches the command.
    let (code, _, err) = shapefuzz(&[
        "--python",
        "/nonexistent/python",
        "check",
        "corpus/seeds/seed_pad.json",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("/nonexistent/python cannot be run"), "{err}");
}

#[test]
fn shards_and_durations_are_checked_before_anything_runs() {
    let (code, _, err) = shapefuzz(&["fuzz", "--shard", "0/4", "--cases", "1"]);
    assert_eq!(code, 64, "a bad value is a usage error: {err}");
    assert!(err.contains("K/N"), "{err}");
    let out = std::env::temp_dir().join(format!("shapefuzz-merge-out-{}", std::process::id()));
    let (code, _, err) = shapefuzz(&["merge", "--out", out.to_str().unwrap(), "/nonexistent/part"]);
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/part"), "{err}");
    assert!(
        !out.exists(),
        "--out is not created for parts that are no campaign"
    );
    let (code, _, err) = shapefuzz(&["known", "--from", "/nonexistent/run"]);
    assert_eq!(code, 2);
    assert!(err.contains("--from takes a campaign directory"), "{err}");
}

#[test]
fn gen_writes_json_and_python_deterministically() {
    let dir = std::env::temp_dir().join(format!("shapefuzz-gen-{}", std::process::id()));
    let d = dir.to_str().unwrap();
    let (code, _, err) = shapefuzz(&["gen", "--seed", "7", "--count", "3", "--out", d]);
    assert_eq!(code, 0, "{err}");
    let first = std::fs::read_to_string(dir.join("case-8.py")).unwrap();
    let json = std::fs::read_to_string(dir.join("case-8.json")).unwrap();
    assert!(first.contains("class Model(torch.nn.Module):"));
    assert!(json.contains("\"schema_version\": 1"));
    let (_, again, _) = shapefuzz(&["gen", "--seed", "8"]);
    assert!(again.contains(&first), "same seed, same case");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn gen_campaign_writes_a_campaigns_cases_and_their_worker_requests() {
    let dir = std::env::temp_dir().join(format!("shapefuzz-genc-{}", std::process::id()));
    let d = dir.to_str().unwrap();
    let (code, _, err) = shapefuzz(&[
        "gen",
        "--campaign",
        "42",
        "--seed",
        "1",
        "--count",
        "2",
        "--requests",
        "--out",
        d,
    ]);
    assert_eq!(code, 0, "{err}");
    // indices 1 and 2 of campaign 42, each named by its case seed
    for i in [1, 2] {
        let cs = shapefuzz::campaign::case_seed(42, i);
        let case = shapefuzz::campaign::case_for(None, None, cs);
        let json = std::fs::read_to_string(dir.join(format!("case-{cs}.json"))).unwrap();
        assert_eq!(json, case.to_json());
        let req: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(format!("case-{cs}.request.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(req["cmd"], "check");
        assert_eq!(
            req["source"].as_str().unwrap(),
            shapefuzz::render::render(&case).source
        );
    }
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 6);
    std::fs::remove_dir_all(dir).ok();
}

fn write(name: &str, text: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("shapefuzz-{}-{name}", std::process::id()));
    std::fs::write(&p, text).unwrap();
    p
}

fn one_line_error_naming(path: &std::path::Path, needle: &str) {
    let (code, out, err) = shapefuzz(&["check", path.to_str().unwrap()]);
    assert_eq!(code, 2, "harness errors exit 2; stdout {out} stderr {err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(
        err.contains(path.to_str().unwrap()),
        "names the file: {err}"
    );
    assert!(err.contains(needle), "says {needle:?}: {err}");
}

#[test]
fn malformed_case_files_get_one_line_errors() {
    one_line_error_naming(&write("garbage.json", "{not json"), "not a shapefuzz case");
    let seed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/corpus/seeds/seed_pad.json"
    ))
    .unwrap();
    one_line_error_naming(
        &write(
            "v9.json",
            &seed.replace("\"schema_version\": 1", "\"schema_version\": 9"),
        ),
        "schema version 9",
    );
    one_line_error_naming(
        &write(
            "unknown-op.json",
            &seed.replace("\"op\": \"max_all\"", "\"op\": \"exec\""),
        ),
        "unknown variant",
    );
    one_line_error_naming(
        &write(
            "bad-ref.json",
            &seed.replace("{\"node\": 5}", "{\"node\": 9}"),
        ),
        "not defined before it",
    );
    // Code can never ride along in a string: there is no field that holds one.
    one_line_error_naming(
        &write(
            "inject.json",
            &seed.replace(
                "\"spelling\": \"pad\"",
                "\"spelling\": \"__import__('os')\"",
            ),
        ),
        "unknown variant",
    );
    one_line_error_naming(
        &std::env::temp_dir().join("shapefuzz-no-such-file.json"),
        "cannot read",
    );
}

#[test]
fn a_wrong_python_gets_a_clear_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_shapefuzz"))
        .args([
            "check",
            concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/seeds/seed_cat.json"),
        ])
        .env("SHAPEFUZZ_PYTHON", "/nonexistent/python3")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        err.contains("/nonexistent/python3") && err.contains("SHAPEFUZZ_PYTHON"),
        "{err}"
    );
    // An interpreter without torch (the system one has none).
    let out = Command::new(env!("CARGO_BIN_EXE_shapefuzz"))
        .args(["setup"])
        .env("SHAPEFUZZ_PYTHON", "python3")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("cannot import torch"), "{err}");
}

#[test]
fn jobs_and_timeout_are_bounded_before_any_worker_starts() {
    // No Python is needed to be refused: the checks come first (a missing interpreter
    // would be another error).
    for (args, needle) in [
        (
            &["fuzz", "--jobs", "100000", "--cases", "1"][..],
            "--jobs 100000",
        ),
        (&["fuzz", "--jobs", "0", "--cases", "1"][..], "--jobs 0"),
        (&["fuzz", "--timeout", "0", "--cases", "1"][..], "--timeout"),
    ] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_shapefuzz"));
        let out = cmd
            .args(args)
            .env("SHAPEFUZZ_PYTHON", "/nonexistent/python3")
            .current_dir(std::env::temp_dir())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(64),
            "a usage error: {args:?}: {err}"
        );
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(
            !err.contains("nonexistent"),
            "{args:?} checked Python first: {err}"
        );
    }
}

#[test]
fn a_second_campaign_on_one_directory_is_refused_naming_the_holder() {
    let dir = std::env::temp_dir().join(format!("shapefuzz-lock-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let held = shapefuzz::campaign::lock_out_dir(&dir).expect("first lock");
    let (code, _, err) = shapefuzz(&["fuzz", "--cases", "1", "--out", dir.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("in use by another shapefuzz campaign")
            && err.contains(&format!("pid {}", std::process::id())),
        "{err}"
    );
    drop(held);
    // Released with its holder: the next lock is taken at once.
    let again = shapefuzz::campaign::lock_out_dir(&dir).expect("lock after release");
    drop(again);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn directory_walks_do_not_follow_links_out_of_or_back_into_the_tree() {
    use std::os::unix::fs::symlink;
    let base = std::env::temp_dir().join(format!("shapefuzz-walk-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let tree = base.join("tree");
    std::fs::create_dir_all(tree.join("sub")).unwrap();
    let record = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/corpus/findings/export_bug_dynamic_specialized_silently_split_torch_prims_co_1315158d.json"
    );
    std::fs::copy(record, tree.join("sub/finding.json")).unwrap();
    // A record outside the tree, reached only through a link.
    std::fs::copy(record, base.join("outside.json")).unwrap();
    symlink(&base, tree.join("sub/up")).unwrap(); // a loop through the parent
    symlink(&tree, tree.join("sub/self")).unwrap(); // a loop into the tree
    symlink(base.join("outside.json"), tree.join("out.json")).unwrap();
    symlink(tree.join("sub/finding.json"), tree.join("again.json")).unwrap();
    let files = shapefuzz::campaign::replay_inputs(std::slice::from_ref(&tree)).unwrap();
    assert_eq!(files.len(), 1, "{files:?}");
    std::fs::remove_dir_all(&base).ok();
}

/// An interpreter path that names nothing gets advice about the path, not about
/// `shapefuzz setup` (which would not help).
#[test]
fn a_missing_interpreter_is_named_as_such() {
    for cmd in [
        &[
            "replay",
            "--python",
            "/nonexistent/python",
            "corpus/findings",
        ][..],
        &[
            "check",
            "--python",
            "/nonexistent/python",
            "corpus/seeds/seed_pad.json",
        ][..],
    ] {
        let (code, _, err) = shapefuzz(cmd);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("/nonexistent/python cannot be run"), "{err}");
        assert!(!err.contains("shapefuzz setup"), "{err}");
    }
}
