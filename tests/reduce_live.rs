//! The reducer and the reproducers against real torch.

mod common;

use common::{env, pool, seed};
use shapefuzz::oracle::{self, Backend, Verdict};
use shapefuzz::triage::{find_workaround, reduce};
use std::path::Path;
use std::process::Command;

/// A generated case where a size feeds `F.pad(value=)` among 13 other ops (found with
/// `cargo run --release --example search -- 'append_value:pad/' --op append_value:pad
/// --min-nodes 8`, kept as a seed so that generator changes leave it alone).
const SEED_CLASS_CASE: &str = "pad_value_in_big_model.json";

#[test]
fn a_generated_seed_class_finding_reduces_to_the_seed_document_size() {
    let case = seed(SEED_CLASS_CASE);
    assert!(
        case.nodes.len() >= 8 && case.inputs.len() == 2,
        "the test wants a big original"
    );
    let mut steps = 0;
    let reduced = reduce(
        pool(),
        Backend::Export,
        &case,
        None,
        400,
        2,
        |c, _| {
            c.validate().expect("every new smallest is valid");
            steps += 1;
            Ok(())
        },
        None,
    )
    .expect("the original is interesting");
    assert!(steps > 0);
    assert_eq!(
        reduced.check.signature().as_deref(),
        Some(
            "export/portability/avoidable-specialization/append_value:pad/torch/nn/functional.py in pad"
        )
    );
    assert!(
        reduced.case.nodes.len() <= 3,
        "{} nodes:\n{}",
        reduced.case.nodes.len(),
        reduced.case.to_json()
    );
    assert!(reduced.case.inputs.len() <= 2);
    // The spelling swap finds the seed document's rewrite.
    let fixed =
        find_workaround(pool(), Backend::Export, &reduced.case, &reduced.check).expect("cat works");
    assert!(
        fixed
            .nodes
            .iter()
            .any(|op| op.spelled_kind() == "append_value:cat")
    );
    assert_eq!(
        oracle::check(pool(), &fixed, Backend::Export).verdict,
        Verdict::Pass
    );
    println!(
        "reduced in {} oracle calls, {:.1}s",
        reduced.tests, reduced.seconds
    );
}

#[test]
fn the_reducer_refuses_a_case_that_shows_nothing() {
    let err = reduce(
        pool(),
        Backend::Export,
        &seed("seed_cat.json"),
        None,
        10,
        2,
        |_, _| Ok(()),
        None,
    )
    .unwrap_err();
    assert!(err.to_string().contains("nothing to reduce"), "{err}");
}

fn repro(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_shapefuzz"))
        .arg("repro")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn run_python(name: &str, source: &str, args: &[&str]) -> (i32, String) {
    let p = std::env::temp_dir().join(format!("{name}_{}.py", std::process::id()));
    std::fs::write(&p, source).unwrap();
    let out = Command::new(env().python)
        .args(args)
        .arg(&p)
        .output()
        .unwrap();
    std::fs::remove_file(&p).ok();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn the_seed_pad_script_exits_1_and_shows_the_guard() {
    let pad = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/seeds/seed_pad.json");
    let script = repro(&[pad.to_str().unwrap()]);
    let (code, out) = run_python("repro_pad", &script, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("Guard failed: y.size()[0] == 2"), "{out}");
    // The same script for the cat spelling: nothing to reproduce, exit 0.
    let cat = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/seeds/seed_cat.json");
    let (code, out) = run_python("repro_cat", &repro(&[cat.to_str().unwrap()]), &[]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn the_seed_pad_note_is_for_model_authors_and_carries_the_cat_workaround() {
    let pad = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/seeds/seed_pad.json");
    let note = repro(&[pad.to_str().unwrap(), "--format", "issue"]);
    assert!(
        note.contains("Portability note for model authors (not a torch bug)"),
        "{note}"
    );
    assert!(!note.contains("Describe the bug"), "{note}");
    assert!(note.contains("- v1 = F.pad(x, (0, 1), value=v0)"), "{note}");
    assert!(
        note.contains("+ v1 = torch.cat([x, torch.tensor([v0], dtype=x.dtype)], dim=0)"),
        "{note}"
    );
    // The output is the script's, run on this machine, with no paths of it.
    assert!(note.contains("Guard failed: y.size()[0] == 2"), "{note}");
    assert!(
        !note.contains("/tmp/") && !note.contains("site-packages"),
        "{note}"
    );
}

#[test]
fn the_pytest_reproducer_fails_while_the_bug_is_there() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/seeds");
    let pytest = |name: &str| {
        let test = repro(&[dir.join(name).to_str().unwrap(), "--format", "pytest"]);
        run_python(
            &format!("test_{}", name.replace('.', "_")),
            &test,
            &["-m", "pytest", "-q", "-p", "no:cacheprovider"],
        )
    };
    let (code, out) = pytest("seed_pad.json");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("1 failed"), "{out}");
    let (code, out) = pytest("seed_cat.json");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("1 passed"), "{out}");
}

#[test]
fn a_silent_divergence_at_size_1_reduces_and_keeps_its_group() {
    let case = seed("zero_one_branch.json");
    let reduced = reduce(
        pool(),
        Backend::Export,
        &case,
        None,
        120,
        2,
        |_, _| Ok(()),
        None,
    )
    .expect("the original is interesting");
    assert_eq!(
        reduced.check.signature().as_deref(),
        Some("export/portability/silent-divergence-at-0-1/compare/model")
    );
    assert!(
        reduced.case.nodes.len() < case.nodes.len(),
        "{}",
        reduced.case.to_json()
    );
    // The reproducer exits 1 and shows the differing output.
    let repro = shapefuzz::repro::Repro::from_check(&reduced.case, &reduced.check, None, "2.15.0");
    let (code, out) = run_python("repro_div", &repro.script(), &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("differs from eager"), "{out}");
}
