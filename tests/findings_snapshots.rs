//! insta snapshots over every stored finding in `corpus/findings/`: the class and verdict,
//! the culprit, and the rendered reproducer script. Rust only: the records carry what the
//! oracle saw.

use shapefuzz::corpus::FindingRecord;
use shapefuzz::repro::Repro;

#[test]
fn stored_findings_render_their_reproducers() {
    let mut seen = 0;
    insta::glob!("../corpus/findings", "*.json", |path| {
        let rec = FindingRecord::load(path).expect("a stored finding loads");
        let repro = Repro::from_record(&rec);
        let summary = format!(
            "signature: {}\nclass: {}\nverdict: {}{}\nculprit: {}\nprobe: {:?}\nworkaround: {}\nnodes: {}, inputs: {}\nobserved:\n{}\n",
            rec.signature,
            rec.contract.map_or("-", |c| c.class().name()),
            rec.verdict.name(),
            rec.kind
                .as_deref()
                .map(|k| format!(" ({k})"))
                .unwrap_or_default(),
            repro.culprit_code().unwrap_or_else(|| "-".into()),
            rec.probe,
            if rec.workaround.is_some() {
                "yes"
            } else {
                "none found"
            },
            rec.case.nodes.len(),
            rec.case.inputs.len(),
            rec.message
        );
        insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!(format!("{summary}\n{}", repro.script()));
        });
        seen += 1;
    });
    assert!(seen > 0, "corpus/findings holds no finding records");
}
