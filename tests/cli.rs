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
    for c in ["gen", "setup", "check", "fuzz", "Exit codes"] {
        assert!(out.contains(c), "--help lacks {c}:\n{out}");
    }
    let (_, out, _) = shapefuzz(&["gen", "--help"]);
    for flag in ["--seed", "--count", "--out", "--swarm"] {
        assert!(out.contains(flag), "gen --help lacks {flag}:\n{out}");
    }
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
