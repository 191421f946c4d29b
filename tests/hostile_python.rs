//! A finding record's text never becomes Python. Records travel between machines, and the
//! reproducer shapefuzz writes for one is run by the people it is handed to, so whatever a
//! record's strings hold (a PEP 263 coding declaration for any codec Python knows, line and
//! paragraph separators, form feeds, NUL, quotes), the script and the pytest file hold the
//! same statements as for a benign record. Rust side: a property over arbitrary text. Python
//! side: the real parser, reading the files as bytes the way `python repro.py` does, so a
//! coding declaration in the text would be obeyed if it reached line 1 or 2.

mod common;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use shapefuzz::corpus::FindingRecord;
use shapefuzz::repro::{Repro, differs_outside_comments};
use std::path::Path;
use std::process::Command;

fn stored() -> Repro {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "corpus/findings/export_bug_dynamic_specialized_silently_split_torch_prims_co_1315158d.json",
    );
    Repro::from_record(&FindingRecord::load(&path).unwrap())
}

/// Text an attacker would write: arbitrary strings mixed with the pieces Python's reader
/// treats specially.
fn hostile_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        any::<String>(),
        Just("\n".to_string()),
        Just("\r".to_string()),
        Just("\u{2028}\u{2029}\u{85}\u{c}\u{b}\0".to_string()),
        Just("# -*- coding: unicode_escape -*-".to_string()),
        Just("coding=utf-7 +AAo-import os+ADs-".to_string()),
        Just("\\nimport os; os.system('id')".to_string()),
        Just("\"\"\"'''\\#```".to_string()),
    ];
    prop::collection::vec(piece, 0..6).prop_map(|v| v.concat())
}

fn with_text(base: &Repro, t: [String; 6]) -> Repro {
    let [kind, message, signature, traceback, fix, torch] = t;
    Repro {
        kind: Some(kind),
        message,
        signature: Some(signature),
        traceback: Some(traceback),
        fix: Some(fix),
        torch,
        ..base.clone()
    }
}

fn six() -> impl Strategy<Value = [String; 6]> {
    [
        hostile_text(),
        hostile_text(),
        hostile_text(),
        hostile_text(),
        hostile_text(),
        hostile_text(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]
    #[test]
    fn record_text_stays_in_comments(t in six()) {
        let benign = stored();
        let hostile = with_text(&benign, t);
        for (a, b) in [(benign.script(), hostile.script()), (benign.pytest(), hostile.pytest())] {
            let diff = differs_outside_comments(&a, &b);
            prop_assert!(diff.is_none(), "{:?}\n{}", diff, b);
        }
    }
}

/// Every codec Python knows, declared on the reproducer's first lines by the record's
/// signature and message, and 300 arbitrary records: Python parses each file, read as
/// bytes, to the benign file's statements.
#[test]
fn python_parses_every_hostile_reproducer_to_the_benign_statements() {
    let python = common::env().python.clone();
    let out = Command::new(&python)
        .args([
            "-c",
            "import encodings.aliases as a\nfor c in sorted(set(a.aliases) | set(a.aliases.values())): print(c)",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let codecs: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert!(codecs.len() > 300, "{codecs:?}");

    let dir = std::env::temp_dir().join(format!("shapefuzz-hostile-py-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let benign = stored();
    let mut files = vec![];
    let mut write = |name: String, r: &Repro| {
        for (fmt, text) in [("script", r.script()), ("pytest", r.pytest())] {
            let p = dir.join(format!("{name}-{fmt}.py"));
            std::fs::write(&p, text).unwrap();
            files.push(p);
        }
    };
    let payload = "__import__('pathlib').Path('CANARY').touch()";
    for (k, codec) in codecs.iter().enumerate() {
        let mut r = benign.clone();
        r.signature = Some(format!(
            "export/bug/dynamic-specialized-silently/split/-*- coding: {codec} -*-"
        ));
        r.message = format!("-*- coding: {codec} -*- x\\n{payload}\\n+AAo-{payload}");
        write(format!("codec{k}"), &r);
    }
    let mut runner = TestRunner::deterministic();
    for k in 0..300 {
        let t = six().new_tree(&mut runner).unwrap().current();
        write(format!("random{k}"), &with_text(&benign, t));
    }
    write("benign".into(), &benign);

    let check = r#"
import ast, sys
want = {}
for fmt in ("script", "pytest"):
    with open(sys.argv[1] + "/benign-" + fmt + ".py", "rb") as f:
        want[fmt] = ast.dump(ast.parse(f.read()))
bad = []
for p in sys.argv[2:]:
    with open(p, "rb") as f:
        data = f.read()
    try:
        got = ast.dump(ast.parse(data))
    except Exception as e:
        bad.append(f"{p}: {type(e).__name__}: {e}")
        continue
    if got != want["pytest" if p.endswith("-pytest.py") else "script"]:
        bad.append(f"{p}: other statements than the benign file")
print("\n".join(bad[:5]) if bad else f"ok {len(sys.argv) - 2}")
"#;
    let out = Command::new(&python)
        .arg("-c")
        .arg(check)
        .arg(&dir)
        .args(&files)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && said.trim() == format!("ok {}", files.len()),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!dir.join("CANARY").exists());
    std::fs::remove_dir_all(dir).ok();
}
