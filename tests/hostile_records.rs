//! Hostile finding records: records are shared between machines and committed to
//! repositories, so every string in one is an attacker's. A record whose signature or
//! one-line fields break the grammar is refused on load with a one-line error; one that
//! passes carries its hostile text (messages, guards, fixes and tracebacks may hold
//! anything) into every output format escaped, so that running the reproducer never runs
//! the record's text and the Markdown keeps its fences. Live: the scripts run on real torch.

mod common;

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("shapefuzz-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn stored_record() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "corpus/findings/export_bug_dynamic_specialized_silently_split_torch_prims_co_1315158d.json",
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn repro(record: &Path, format: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_shapefuzz"))
        .args(["repro", record.to_str().unwrap(), "--format", format])
        .output()
        .unwrap()
}

#[test]
fn records_that_break_the_grammar_are_refused_in_one_line() {
    let dir = scratch("bad-records");
    let cases: &[(&str, Value)] = &[
        (
            "signature",
            json!("export/bug/dynamic-specialized-silently/split/x\nimport os"),
        ),
        (
            "signature",
            json!("export/bug/dynamic-specialized-silently/split\r"),
        ),
        (
            "signature",
            json!("export/expected/dynamic-specialized-silently/split/-"),
        ),
        (
            "signature",
            json!("export-strict/bug/dynamic-specialized-silently/split/-"),
        ),
        (
            "signature",
            json!("export/bug/dynamic-specialized-silently/sp lit();/-"),
        ),
        ("torch", json!("2.15.0\n# pwned")),
        ("origin", json!("seed 1\n```")),
        (
            "twin",
            json!({"api": "dim", "verdict": "pass", "message": "", "at_probe": "rm -rf /"}),
        ),
    ];
    for (i, (field, value)) in cases.iter().enumerate() {
        let mut r = stored_record();
        r[*field] = value.clone();
        let path = dir.join(format!("bad-{i}.json"));
        std::fs::write(&path, r.to_string()).unwrap();
        let out = repro(&path, "script");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{field}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{field}: {err}");
        assert!(
            err.contains(path.to_str().unwrap()) && err.contains(&format!("`{field}`")),
            "{field}: {err}"
        );
        assert!(out.stdout.is_empty(), "{field}");
    }
    // A record that contradicts itself: a crash of the worker with another verdict.
    let mut r = stored_record();
    r["signature"] = json!("export/bug/crash/-/-");
    r["contract"] = json!("crash");
    let path = dir.join("crash-lost-dim.json");
    std::fs::write(&path, r.to_string()).unwrap();
    let out = repro(&path, "script");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("`contract` crash with another `verdict`"),
        "{err}"
    );
    std::fs::remove_dir_all(dir).ok();
}

/// Lines outside fenced code blocks, and whether the fences balance.
fn outside_fences(md: &str) -> (Vec<&str>, bool) {
    let mut inside = false;
    let mut out = vec![];
    for line in md.lines() {
        if line.starts_with("```") {
            inside = !inside;
        } else if !inside {
            out.push(line);
        }
    }
    (out, !inside)
}

#[test]
fn hostile_text_in_a_valid_record_is_escaped_in_every_format() {
    let dir = scratch("hostile-records");
    let mark = dir.join("PWNED");
    let code = format!(
        "__import__('pathlib').Path({:?}).touch()",
        mark.to_str().unwrap()
    );
    let mut r = stored_record();
    r["message"] = json!(format!(
        "x\r{code}\n{code}\n```\n<script>alert(1)</script>\n# Title"
    ));
    r["cause"]["guard"] = json!(format!("s0 > 2\n{code}\r`` ` ```<b>"));
    r["fix"] = json!(format!("```\n{code}\n```"));
    r["traceback"] = json!(format!("Traceback\n```\n{code}\n"));
    r["twin"] = json!({
        "api": "shapes",
        "verdict": "export_error",
        "contract": "internal_error",
        "message": format!("{code}```<script>alert(1)</script>\n{code}"),
        "same_culprit": false,
        "at_probe": "differs"
    });
    let path = dir.join("hostile.json");
    std::fs::write(&path, r.to_string()).unwrap();
    let python = common::env().python.clone();

    for format in ["script", "pytest"] {
        let out = repro(&path, format);
        assert!(
            out.status.success(),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let file = dir.join(format!("{format}.py"));
        std::fs::write(&file, &out.stdout).unwrap();
        // Run the script; for the pytest file, call its test as pytest would.
        let runner = if format == "script" {
            format!(
                "import runpy; runpy.run_path({:?}, run_name='__main__')",
                file
            )
        } else {
            format!(
                "import runpy; m = runpy.run_path({:?}); m['test_exported_program_keeps_its_contract']()",
                file
            )
        };
        let _ = Command::new(&python)
            .args(["-c", &runner])
            .output()
            .unwrap();
        assert!(!mark.exists(), "{format}: the record's text ran");
        // The text is there, but only inside comments.
        let text = String::from_utf8_lossy(&out.stdout);
        for line in text.lines().filter(|l| l.contains("__import__")) {
            assert!(line.trim_start().starts_with('#'), "{format}: {line}");
        }
    }

    let out = repro(&path, "issue");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = String::from_utf8_lossy(&out.stdout);
    let (outside, balanced) = outside_fences(&md);
    assert!(balanced, "fences do not balance:\n{md}");
    for line in outside {
        assert!(
            !line.contains("<script>") && !line.contains("<b>"),
            "{line}"
        );
        assert!(!line.starts_with("# Title"), "{line}");
    }
    assert!(!mark.exists());
    std::fs::remove_dir_all(dir).ok();
}

/// The records under `tests/data/hostile/record_coding_*.json` (each a few fields laid over
/// a stored record, `CANARY` standing for a file path) declare a codec on the reproducer's
/// first lines that would decode their escaped message into a statement. Neither the
/// script, nor the pytest file when its test runs, nor `repro --format issue` (which runs
/// the script itself) may run it.
#[test]
fn a_coding_declaration_in_a_record_never_runs_its_text() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/hostile");
    let python = common::env().python.clone();
    let mut seen = 0;
    for entry in std::fs::read_dir(&data).unwrap() {
        let overlay_path = entry.unwrap().path();
        let name = overlay_path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if !name.starts_with("record_coding_") {
            continue;
        }
        seen += 1;
        let dir = scratch(&format!("coding-{seen}"));
        let mark = dir.join("PWNED");
        let overlay: Value =
            serde_json::from_str(&std::fs::read_to_string(&overlay_path).unwrap()).unwrap();
        let mut r = stored_record();
        for field in ["signature", "message"] {
            let text = overlay[field].as_str().unwrap();
            r[field] = json!(text.replace("CANARY", &format!("{:?}", mark.to_str().unwrap())));
        }
        let path = dir.join("record.json");
        std::fs::write(&path, r.to_string()).unwrap();
        for format in ["script", "pytest"] {
            let out = repro(&path, format);
            assert!(
                out.status.success(),
                "{name} {format}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                out.stdout
                    .starts_with(shapefuzz::escape::PYTHON_PREAMBLE.as_bytes()),
                "{name} {format}: the file does not open with the fixed preamble"
            );
            let file = dir.join(format!("{format}.py"));
            std::fs::write(&file, &out.stdout).unwrap();
            let runner = if format == "script" {
                format!("import runpy; runpy.run_path({file:?}, run_name='__main__')")
            } else {
                format!(
                    "import runpy; m = runpy.run_path({file:?}); m['test_exported_program_keeps_its_contract']()"
                )
            };
            let _ = Command::new(&python)
                .args(["-c", &runner])
                .current_dir(&dir)
                .output()
                .unwrap();
            assert!(!mark.exists(), "{name} {format}: the record's text ran");
        }
        let out = repro(&path, "issue");
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!mark.exists(), "{name} issue: the record's text ran");
        std::fs::remove_dir_all(dir).ok();
    }
    assert_eq!(seen, 2, "the coding-declaration records are missing");
}
