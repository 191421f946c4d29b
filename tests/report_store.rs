//! Rust-only behaviour of results storage and reports: torn lines, signatures, grouping,
//! known issues, JUnit.

use shapefuzz::corpus::{ResultLine, ResultsWriter, open_results, signature_file_name};
use shapefuzz::oracle::{Class, Contract, Verdict, normalize_message};
use shapefuzz::report::{KnownIssues, Summary, group};

fn judged(index: u64, sig: Option<&str>, size: usize, contract: Option<Contract>) -> ResultLine {
    ResultLine {
        index,
        case_seed: index * 10,
        verdict: if sig.is_some() {
            Verdict::LostDim
        } else {
            Verdict::Pass
        },
        class: contract.map(Contract::class),
        contract,
        kind: None,
        message: format!("message {index}"),
        signature: sig.map(str::to_string),
        root_cause: None,
        ops: vec![],
        backend: None,
        same_as_export: false,
        spec_api: None,
        deferred_asserts: false,
        size,
        cause: None,
        edge: vec![],
        seconds: 0.01,
        at: None,
        timings: None,
    }
}

fn line(index: u64, sig: Option<&str>, size: usize) -> ResultLine {
    judged(
        index,
        sig,
        size,
        sig.map(|_| Contract::AvoidableSpecialization),
    )
}

#[test]
fn a_torn_last_line_is_dropped_and_the_file_repaired() {
    let p = std::env::temp_dir().join(format!("shapefuzz-torn-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&p);
    let mut w = ResultsWriter::append(&p).unwrap();
    for i in 0..3 {
        w.write(&line(i, None, 1)).unwrap();
    }
    drop(w);
    let whole = std::fs::read(&p).unwrap();
    std::fs::write(&p, [&whole[..], b"{\"index\": 3, \"ca"].concat()).unwrap();
    let r = open_results(&p).unwrap();
    assert_eq!(r.lines.len(), 3);
    assert_eq!(r.torn_bytes, 16);
    assert_eq!(
        std::fs::read(&p).unwrap(),
        whole,
        "the torn bytes are cut off the file"
    );
    // A damaged middle is not silently dropped.
    std::fs::write(&p, [b"garbage\n", &whole[..]].concat()).unwrap();
    let err = open_results(&p).unwrap_err().to_string();
    assert!(
        err.contains("line 1") && err.contains(p.to_str().unwrap()),
        "{err}"
    );
    std::fs::remove_file(&p).ok();
}

#[test]
fn messages_normalize_to_their_class() {
    assert_eq!(
        normalize_message("AssertionError: Guard failed: y.size()[0] == 2"),
        normalize_message("AssertionError: Guard failed: x.size()[0] == 13")
    );
    assert_eq!(
        normalize_message(
            "UserError: Constraints violated (L['x'].size()[0], L['y'].size()[1])! More"
        ),
        normalize_message("UserError: Constraints violated (s0)! More")
    );
    assert_ne!(
        normalize_message("AssertionError: Guard failed: x.size()[0] <= 4"),
        normalize_message("AssertionError: Guard failed: x.size()[0] == 4")
    );
}

#[test]
fn grouping_keeps_first_and_smallest_case_per_signature() {
    let lines = vec![
        line(5, Some("a"), 9),
        line(2, Some("a"), 7),
        line(3, None, 1),
        line(4, Some("a"), 3),
        line(1, Some("b"), 4),
    ];
    let g = group(&lines, &KnownIssues::none());
    assert_eq!(g.len(), 2);
    assert_eq!(
        (
            g[0].signature.as_str(),
            g[0].count,
            g[0].first.index,
            g[0].smallest.index
        ),
        ("a", 3, 2, 4)
    );
    assert_eq!((g[1].signature.as_str(), g[1].count), ("b", 1));
}

#[test]
fn groups_list_bugs_first_by_severity_then_portability_then_expected() {
    let lines = vec![
        judged(0, Some("e"), 1, Some(Contract::TraceRegion)),
        judged(1, Some("p"), 1, Some(Contract::AvoidableSpecialization)),
        judged(2, Some("crash"), 1, Some(Contract::Crash)),
        judged(3, Some("div"), 1, Some(Contract::SilentDivergence)),
        judged(4, Some("inv"), 1, None),
    ];
    let g = group(&lines, &KnownIssues::none());
    let order: Vec<&str> = g.iter().map(|e| e.signature.as_str()).collect();
    assert_eq!(order, ["div", "crash", "p", "e", "inv"]);
    assert_eq!(g[0].class, Some(Class::Bug));
}

#[test]
fn only_new_groups_of_failing_classes_fail_the_run() {
    let lines = vec![
        judged(0, Some("p"), 1, Some(Contract::AvoidableSpecialization)),
        judged(1, Some("e"), 1, Some(Contract::TraceRegion)),
    ];
    let none = KnownIssues::none();
    let s = Summary::new(0, "2.15.0", "export", &lines, &none, 1.0, &[Class::Bug]);
    assert_eq!((s.new_failing, s.exit_code()), (0, 0));
    assert!(
        s.junit(&|_| None).contains("failures=\"0\""),
        "{}",
        s.junit(&|_| None)
    );
    let s = Summary::new(
        0,
        "2.15.0",
        "export",
        &lines,
        &none,
        1.0,
        &[Class::Bug, Class::Portability],
    );
    assert_eq!((s.new_failing, s.exit_code()), (1, 1));
    let md = s.markdown(&|_| None);
    let (bugs, port, exp) = (
        md.find("## Bugs"),
        md.find("## Notes for model authors"),
        md.find("## Expected"),
    );
    assert!(bugs.is_none() && port.is_some() && exp.is_some(), "{md}");
    assert!(port < exp);
}

#[test]
fn known_issues_match_by_pattern_and_bad_files_say_why() {
    let p = std::env::temp_dir().join(format!("shapefuzz-known-{}.toml", std::process::id()));
    std::fs::write(&p, "[[known]]\npattern = '/bug/internal-error/if/'\nlink = 'https://github.com/pytorch/pytorch/issues/1'\nnote = 'solver'\n").unwrap();
    let k = KnownIssues::load(&p).unwrap();
    let known = "export/bug/internal-error/if/torch/x.py in f";
    assert!(k.matching(known).is_some());
    assert!(
        k.matching("export/bug/internal-error/cat/torch/x.py in f")
            .is_none()
    );
    let lines = vec![
        judged(0, Some(known), 3, Some(Contract::InternalError)),
        judged(1, Some("other"), 3, Some(Contract::InternalError)),
    ];
    let s = Summary::new(0, "2.15.0", "export", &lines, &k, 1.0, &[Class::Bug]);
    assert_eq!((s.new_failing, s.known_findings, s.exit_code()), (1, 1, 1));
    let junit = s.junit(&|_| None);
    assert!(junit.contains("failures=\"1\" skipped=\"1\""), "{junit}");
    assert!(junit.contains(
        "<skipped message=\"known: https://github.com/pytorch/pytorch/issues/1 solver\"/>"
    ));
    std::fs::write(&p, "known = 3").unwrap();
    let err = KnownIssues::load(&p).unwrap_err().to_string();
    assert!(
        err.contains(p.to_str().unwrap()) && err.contains("[[known]]"),
        "{err}"
    );
    std::fs::remove_file(&p).ok();
}

#[test]
fn signature_file_names_are_safe_and_distinct() {
    let a = signature_file_name("export/lost_dim/append_value:pad/pinned to a constant");
    let b = signature_file_name("export/lost_dim/append_value:cat/pinned to a constant");
    assert_ne!(a, b);
    for n in [&a, &b] {
        assert!(
            n.ends_with(".json")
                && n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.'),
            "{n}"
        );
    }
}

#[test]
fn the_example_known_issues_file_loads() {
    let k = KnownIssues::load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/known-issues.example.toml"
    )))
    .unwrap();
    let hit = k
        .matching("export/portability/avoidable-specialization/round.int/model in forward")
        .expect("matches");
    assert!(hit.link.ends_with("/138853"));
}

fn caused(index: u64, sig: &str, contract: Contract, guard: &str, site: &str) -> ResultLine {
    let mut l = judged(index, Some(sig), 3, Some(contract));
    l.cause = Some(shapefuzz::oracle::Cause {
        node: Some(0),
        op: sig.split('/').nth(3).map(str::to_string),
        spelling: None,
        guard: guard.to_string(),
        line: Some(5),
        site: Some(site.to_string()),
    });
    l
}

#[test]
fn one_torch_mechanism_reached_by_two_ops_is_one_root_cause() {
    let site = "torch/_export/non_strict_utils.py in __torch_function__";
    let lines = vec![
        caused(
            0,
            &format!("export/bug/dynamic-specialized-silently/to_tensor:as_tensor/{site}"),
            Contract::DynamicSpecializedSilently,
            "Eq(IntTrueDiv(s77, 2), 1.0)",
            site,
        ),
        caused(
            1,
            &format!("export/bug/dynamic-specialized-silently/to_float:float/{site}"),
            Contract::DynamicSpecializedSilently,
            "Eq(FloatTrueDiv(ToFloat(s27), 4.0), 0.5)",
            site,
        ),
        // a pin through Max is the same miss of Dim.DYNAMIC's check
        caused(
            2,
            &format!("export/bug/dynamic-specialized-silently/int.max/{site}"),
            Contract::DynamicSpecializedSilently,
            "Eq(Max(2, s77), 2)",
            site,
        ),
        // the solver failing to prove a Min guard and a bitwise guard: two gaps
        caused(
            5,
            "export/bug/spurious-constraint-violation/flatten/torch/_prims_common/__init__.py in check_contiguous_sizes_strides",
            Contract::SpuriousConstraintViolation,
            "Eq(Min(s77, s77**2), s77)",
            "torch/_prims_common/__init__.py in check_contiguous_sizes_strides",
        ),
        caused(
            6,
            "export/bug/spurious-constraint-violation/full/torch/_meta_registrations.py in full",
            Contract::SpuriousConstraintViolation,
            "BitwiseFn_bitwise_xor(s77, 1) >= 0",
            "torch/_meta_registrations.py in full",
        ),
        // one exception reached through two operators and two outcomes
        caused(
            3,
            "export/bug/internal-error/int.xor/torch/_export/verifier.py in _check_valid_op",
            Contract::InternalError,
            "SpecViolationError: Operator '<built-in function xor>' is not an allowed operator type: (<class 'torch._ops.OpOverload'>)",
            "torch/_export/verifier.py in _check_valid_op",
        ),
        caused(
            4,
            "export/bug/suggested-fix-fails/int.and/torch/_export/verifier.py in _check_valid_op",
            Contract::SuggestedFixFails,
            "SpecViolationError: Operator '<built-in function and_>' is not an allowed operator type: (<class 'torch._ops.OpOverload'>)",
            "torch/_export/verifier.py in _check_valid_op",
        ),
    ];
    let s = Summary::new(
        0,
        "2.15.0",
        "export",
        &lines,
        &KnownIssues::none(),
        1.0,
        &[Class::Bug],
    );
    let keys: Vec<(&str, usize)> = s
        .root_causes
        .iter()
        .map(|r| (r.key.as_str(), r.signatures.len()))
        .collect();
    assert_eq!(s.signatures.len(), 7);
    assert_eq!(s.root_causes.len(), 4, "{keys:#?}");
    assert!(
        keys.contains(&("export/bug/dynamic-specialized-silently/indirect-pin", 3)),
        "{keys:#?}"
    );
    assert!(
        keys.iter()
            .any(|(k, n)| k.ends_with("spurious-constraint-violation/max-min+pow") && *n == 1),
        "{keys:#?}"
    );
    assert!(
        keys.iter()
            .any(|(k, n)| k.ends_with("spurious-constraint-violation/bitwise") && *n == 1),
        "{keys:#?}"
    );
    assert!(
        keys.iter()
            .any(|(k, n)| k.contains("_check_valid_op/SpecViolationError") && *n == 2),
        "{keys:#?}"
    );
    assert_eq!(s.new_failing, 4, "new root causes fail, not signatures");
    assert_eq!(s.classes["bug"].root_causes, 4);
    assert_eq!(s.classes["bug"].groups, 7);
}

#[test]
fn a_known_root_cause_covers_its_new_signatures_without_failing() {
    let site = "torch/nn/functional.py in pad";
    let lines = vec![
        caused(
            0,
            &format!("export/bug/dynamic-specialized-silently/append_value:pad/{site}"),
            Contract::DynamicSpecializedSilently,
            "Eq(s77, 2)",
            site,
        ),
        caused(
            1,
            &format!("export/bug/dynamic-specialized-silently/pad_value/{site}"),
            Contract::DynamicSpecializedSilently,
            "Eq(s27, 3)",
            site,
        ),
    ];
    let dir = std::env::temp_dir().join(format!("shapefuzz-rc-known-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("known.toml");
    // names one signature only
    std::fs::write(
        &file,
        "[[known]]\npattern = '/append_value:pad/'\nlink = \"https://example.org/1\"\n",
    )
    .unwrap();
    let known = KnownIssues::load(&file).unwrap();
    let s = Summary::new(0, "2.15.0", "export", &lines, &known, 1.0, &[Class::Bug]);
    assert_eq!(s.root_causes.len(), 1);
    assert!(!s.root_causes[0].is_new());
    assert_eq!(
        s.exit_code(),
        0,
        "a new signature of a known root cause does not fail"
    );
    let other = s
        .signatures
        .iter()
        .find(|e| e.signature.contains("/pad_value/"))
        .unwrap();
    assert!(other.known_by_root_cause && other.known.is_some());
    let md = s.markdown(&|_| None);
    assert!(md.contains("A new signature of a known root cause"), "{md}");
    assert!(
        md.contains("### Root cause `export/bug/dynamic-specialized-silently/indirect-pin`"),
        "{md}"
    );
    let junit = s.junit(&|_| None);
    assert_eq!(
        junit
            .matches("<testcase classname=\"shapefuzz.bug\"")
            .count(),
        1,
        "{junit}"
    );
    assert!(junit.contains("skipped"), "{junit}");
    std::fs::remove_dir_all(&dir).ok();
}

/// A root-cause key is built from recorded text (an exception's message): whatever that
/// holds, it stays text in summary.md, junit.xml and report.html.
#[test]
fn hostile_text_in_a_root_cause_key_stays_text() {
    let evil = "RuntimeError: </testcase><script>alert(1)</script> `x` | - ]]> \n# heading";
    let mut l = caused(
        0,
        "export/bug/internal-error/-/torch/x.py in f",
        Contract::InternalError,
        evil,
        "torch/x.py in f",
    );
    l.message = evil.to_string();
    let lines = [l];
    let s = Summary::new(
        0,
        "2.15.0",
        "export",
        &lines,
        &KnownIssues::none(),
        1.0,
        &[Class::Bug],
    );
    let key = &s.root_causes[0].key;
    assert!(key.contains("script"), "the key keeps the text: {key}");
    let junit = s.junit(&|_| None);
    assert!(
        !junit.contains("<script>") && !junit.contains("</testcase><"),
        "{junit}"
    );
    let md = s.markdown(&|_| None);
    assert!(!md.contains("\n# heading"), "{md}");
    let html = shapefuzz::report::html::render(&s, &lines, &Default::default());
    assert!(!html.contains("<script>alert"), "{html}");
}

/// A campaign that wrote cases in both spec APIs reports each one's share: checks per
/// class with the groups and root causes they fall in; one in a single API has no table.
#[test]
fn a_mixed_campaign_counts_each_spec_api() {
    use shapefuzz::ir::SpecApi;
    let shapes = |mut l: ResultLine| {
        l.spec_api = Some(SpecApi::Shapes);
        l
    };
    let lines = vec![
        line(0, None, 1),
        line(
            1,
            Some("export/portability/avoidable-specialization/pad/x"),
            2,
        ),
        shapes(line(2, None, 1)),
        shapes(judged(
            3,
            Some("export/bug/shapes-spec-rejects-valid/-/-"),
            2,
            Some(Contract::ShapesSpecRejectsValid),
        )),
        shapes(judged(
            4,
            Some("export/bug/shapes-spec-rejects-valid/-/-"),
            2,
            Some(Contract::ShapesSpecRejectsValid),
        )),
    ];
    let none = KnownIssues::none();
    let s = Summary::new(0, "2.15.0", "export", &lines, &none, 1.0, &[Class::Bug]);
    let apis: Vec<(&str, u64)> = s
        .by_spec_api
        .iter()
        .map(|a| (a.api.as_str(), a.checks))
        .collect();
    assert_eq!(apis, [("dim", 2), ("shapes", 3)]);
    let shapes_row = &s.by_spec_api[1];
    assert_eq!(shapes_row.cell("bug"), "2 (1, 1)");
    assert_eq!(shapes_row.cell("pass"), "1");
    assert_eq!(s.by_spec_api[0].cell("portability"), "1 (1, 1)");
    let md = s.markdown(&|_| None);
    assert!(md.contains("| spec API | checks |"), "{md}");
    assert!(md.contains("| shapes | 3 | 2 (1, 1) |"), "{md}");
    // one API only: no table
    let s = Summary::new(
        0,
        "2.15.0",
        "export",
        &lines[..2],
        &none,
        1.0,
        &[Class::Bug],
    );
    assert!(s.by_spec_api.is_empty());
    assert!(!s.markdown(&|_| None).contains("spec API"));
}

/// The groups' twins (the same models under the other spec API) are counted per API of the
/// groups; groups of one API none of which has a twin say nothing.
#[test]
fn twins_are_counted_per_spec_api_of_their_groups() {
    use shapefuzz::ir::SpecApi;
    use shapefuzz::report::TwinCount;
    let t = TwinCount::of([
        (SpecApi::Shapes, Some("same-culprit")),
        (SpecApi::Dim, Some("clean")),
        (SpecApi::Dim, Some("clean")),
        (SpecApi::Dim, None),
        (SpecApi::Shapes, Some("other")),
    ]);
    let rows: Vec<(&str, u64, Option<&u64>, Option<&u64>)> = t
        .iter()
        .map(|r| {
            (
                r.api.as_str(),
                r.groups,
                r.outcomes.get("clean"),
                r.outcomes.get("none"),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [("dim", 3, Some(&2), Some(&1)), ("shapes", 2, None, None)]
    );
    let lines = vec![line(
        0,
        Some("export/portability/avoidable-specialization/pad/x"),
        2,
    )];
    let mut s = Summary::new(
        0,
        "2.15.0",
        "export",
        &lines,
        &KnownIssues::none(),
        1.0,
        &[],
    );
    s.twins = t;
    let md = s.markdown(&|_| None);
    assert!(
        md.contains(
            "| groups in | twin in | groups | clean | same-culprit | other | not-judged | none |"
        ),
        "{md}"
    );
    assert!(
        md.contains("| dim | shapes | 3 | 2 | 0 | 0 | 0 | 1 |"),
        "{md}"
    );
    assert!(
        md.contains("| shapes | dim | 2 | 0 | 1 | 1 | 0 | 0 |"),
        "{md}"
    );
    // no twin at all: no row
    assert!(TwinCount::of([(SpecApi::Dim, None)]).is_empty());
}

/// What a twin showed, in the words the reports use.
#[test]
fn a_twin_says_whose_finding_it_is() {
    use shapefuzz::ir::SpecApi;
    use shapefuzz::oracle::Twin;
    let pass = Twin {
        api: SpecApi::Shapes,
        verdict: Verdict::Pass,
        contract: None,
        message: String::new(),
        same_culprit: false,
        at_probe: Some("matches".into()),
    };
    assert_eq!(pass.outcome(), "clean");
    assert_eq!(
        pass.describe(Some(&[7, 3])),
        "Under ShapesSpec the same model passes: it exports and matches eager at every probe; at s0=7 s1=3 its program accepts the input and matches eager."
    );
    let documented = Twin {
        verdict: Verdict::ExportError,
        contract: Some(Contract::DataDependentBranch),
        message: "GuardOnDataDependentSymNode: u0 > 4\nmore".into(),
        at_probe: None,
        ..pass.clone()
    };
    assert_eq!(documented.outcome(), "clean");
    assert!(
        documented
            .describe(None)
            .contains("only what that API documents (data-dependent-branch: GuardOnDataDependentSymNode: u0 > 4)"),
        "{}",
        documented.describe(None)
    );
    let same = Twin {
        api: SpecApi::Dim,
        verdict: Verdict::LostDim,
        contract: Some(Contract::AvoidableSpecialization),
        same_culprit: true,
        at_probe: Some("rejected".into()),
        ..pass.clone()
    };
    assert_eq!(same.outcome(), "same-culprit");
    assert!(
        same.describe(Some(&[1]))
            .starts_with("Under the Dim API the same line of the model is to blame")
    );
    assert!(
        same.describe(Some(&[1]))
            .ends_with("at s0=1 its program rejects the input.")
    );
    let other = Twin {
        same_culprit: false,
        ..same.clone()
    };
    assert_eq!(other.outcome(), "other");
    let unjudged = Twin {
        verdict: Verdict::Poisoned,
        contract: None,
        ..other
    };
    assert_eq!(unjudged.outcome(), "not-judged");
}
