//! Rust-only behaviour of what nightly jobs hand between runs: shards, seeds in JSON,
//! known-issue entries written from a run, stale entries, and `merge` on hand-made campaign
//! directories (no torch).

use proptest::prelude::*;
use shapefuzz::campaign::{Shard, case_seed, merge};
use shapefuzz::corpus::{FindingRecord, ResultLine, read_results};
use shapefuzz::oracle::{Class, Contract, Verdict};
use shapefuzz::report::{KnownIssues, Summary, group, known_entries};
use std::path::{Path, PathBuf};

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("shapefuzz-parts-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn judged(index: u64, case_seed: u64, sig: &str, contract: Contract) -> ResultLine {
    ResultLine {
        index,
        case_seed,
        verdict: Verdict::LostDim,
        class: Some(contract.class()),
        contract: Some(contract),
        kind: None,
        message: format!("message {index}"),
        signature: Some(sig.to_string()),
        root_cause: None,
        ops: vec![],
        backend: None,
        same_as_export: false,
        spec_api: None,
        deferred_asserts: false,
        size: 3,
        cause: None,
        edge: vec![],
        seconds: 0.01,
        at: None,
        timings: None,
    }
}

#[test]
fn shards_parse_as_k_of_n_and_refuse_the_rest() {
    let s = Shard::parse("2/4").unwrap();
    assert_eq!((s.index, s.count, s.to_string()), (1, 4, "2/4".to_string()));
    for bad in ["0/4", "5/4", "1/0", "x/2", "2", "", "1/99999999999"] {
        let e = Shard::parse(bad).unwrap_err();
        assert!(e.contains("K/N"), "{bad}: {e}");
    }
}

proptest! {
    #[test]
    fn the_shards_of_a_campaign_partition_its_cases(n in 0u64..200, count in 1u64..9) {
        let shards: Vec<Shard> = (1..=count)
            .map(|k| Shard::parse(&format!("{k}/{count}")).unwrap())
            .collect();
        for i in 0..n {
            prop_assert_eq!(shards.iter().filter(|s| s.holds(i)).count(), 1);
        }
        let total: u64 = shards.iter().map(|s| s.cases_below(n)).sum();
        prop_assert_eq!(total, n);
        for s in &shards {
            prop_assert_eq!(s.cases_below(n), (0..n).filter(|&i| s.holds(i)).count() as u64);
        }
    }

    /// An entry written from a run matches its own group's signature and nothing longer,
    /// whatever characters the signature holds.
    #[test]
    fn known_entries_match_exactly_their_group(
        op in "[a-z_.:()\\[\\]+*?|^$\\\\{}]{1,20}",
        site in "[ -~]{0,40}",
    ) {
        let sig = format!("export/portability/avoidable-specialization/{op}/{site}");
        let lines = vec![judged(0, 1, &sig, Contract::AvoidableSpecialization)];
        let groups = group(&lines, &KnownIssues::none());
        let text = known_entries(&groups.iter().collect::<Vec<_>>());
        let dir = tmp("known-prop");
        let path = dir.join("known.toml");
        std::fs::write(&path, &text).unwrap();
        let known = KnownIssues::load(&path).unwrap();
        prop_assert!(known.matching(&sig).is_some(), "{}", text);
        let longer = format!("{sig}x");
        prop_assert!(known.matching(&longer).is_none());
        std::fs::remove_dir_all(dir).ok();
    }
}

#[test]
fn seeds_are_strings_in_json_and_numbers_still_read() {
    let l = judged(7, u64::MAX, "s", Contract::TraceRegion);
    let text = serde_json::to_string(&l).unwrap();
    assert!(
        text.contains("\"case_seed\":\"18446744073709551615\""),
        "{text}"
    );
    let back: ResultLine = serde_json::from_str(&text).unwrap();
    assert_eq!(back.case_seed, u64::MAX);
    let old = text.replace("\"18446744073709551615\"", "18446744073709551615");
    assert_eq!(
        serde_json::from_str::<ResultLine>(&old).unwrap().case_seed,
        u64::MAX
    );
    let s = Summary::new(
        u64::MAX - 1,
        "2.15.0",
        "export",
        &[l],
        &KnownIssues::none(),
        1.0,
        &[Class::Bug],
    );
    let json: serde_json::Value = serde_json::to_value(&s).unwrap();
    assert_eq!(json["seed"], "18446744073709551614");
    assert_eq!(
        json["signatures"][0]["first"]["case_seed"],
        "18446744073709551615"
    );
    assert_eq!(
        json["generator_version"],
        shapefuzz::r#gen::GENERATOR_VERSION
    );
}

#[test]
fn known_entries_that_match_no_group_are_reported_stale() {
    let dir = tmp("stale");
    let path = dir.join("known.toml");
    std::fs::write(
        &path,
        "[[known]]\npattern = \"pad\"\nlink = \"https://example.org/1\"\n\n\
         [[known]]\npattern = \"^gone$\"\nlink = \"https://example.org/2\"\n",
    )
    .unwrap();
    let known = KnownIssues::load(&path).unwrap();
    let lines = vec![judged(
        0,
        1,
        "export/portability/x/pad/site",
        Contract::AvoidableSpecialization,
    )];
    let s = Summary::new(0, "2.15.0", "export", &lines, &known, 1.0, &[Class::Bug]);
    let stale: Vec<&str> = s.stale_known.iter().map(|k| k.link.as_str()).collect();
    assert_eq!(stale, ["https://example.org/2"]);
    assert!(s.markdown(&|_| None).contains("matched nothing"));
    std::fs::remove_dir_all(dir).ok();
}

/// A campaign directory as a run leaves it, written by hand.
fn part(dir: &Path, seed: u64, shard: Option<&str>, lines: &[ResultLine]) {
    std::fs::create_dir_all(dir).unwrap();
    let shard = shard.map(|k| {
        let s = Shard::parse(k).unwrap();
        serde_json::json!({"index": s.index, "count": s.count})
    });
    let meta = serde_json::json!({
        "seed": seed.to_string(), "backend": "export", "schema_version": 1,
        "generator_version": shapefuzz::r#gen::GENERATOR_VERSION, "shard": shard,
    });
    std::fs::write(dir.join("campaign.json"), meta.to_string()).unwrap();
    let text: String = lines
        .iter()
        .map(|l| serde_json::to_string(l).unwrap() + "\n")
        .collect();
    std::fs::write(dir.join("results.jsonl"), text).unwrap();
    let summary = serde_json::json!({"torch": "2.15.0", "elapsed_s": 2.0, "status": "finished"});
    std::fs::write(dir.join("summary.json"), summary.to_string()).unwrap();
}

#[test]
fn merge_joins_parts_by_index_and_keeps_the_smallest_record_per_group() {
    let root = tmp("merge");
    let sig = "export/portability/avoidable-specialization/append_value:pad/torch/nn/functional.py in pad";
    let a = root.join("a");
    let b = root.join("b");
    part(
        &a,
        5,
        Some("1/2"),
        &[judged(
            0,
            case_seed(5, 0),
            sig,
            Contract::AvoidableSpecialization,
        )],
    );
    part(
        &b,
        5,
        Some("2/2"),
        &[judged(
            1,
            case_seed(5, 1),
            sig,
            Contract::AvoidableSpecialization,
        )],
    );
    // Each part filed the group; b's case is the smaller.
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/findings");
    let record = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find_map(|p| FindingRecord::load(&p).ok().filter(|r| r.signature == sig))
        .expect("the corpus holds the pad finding");
    let size = |c: &shapefuzz::ir::Case| c.inputs.len() + c.nodes.len();
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/seeds");
    let larger_case = std::fs::read_dir(&seeds)
        .unwrap()
        .filter_map(|e| shapefuzz::ir::Case::load(&e.unwrap().path()).ok())
        .find(|c| size(c) > size(&record.case))
        .expect("a larger seed case");
    let bigger = FindingRecord {
        case: larger_case,
        ..record.clone()
    };
    let file = shapefuzz::corpus::signature_file_name(sig);
    bigger.save(&a.join("findings").join(&file)).unwrap();
    record.save(&b.join("findings").join(&file)).unwrap();

    let out = root.join("merged");
    let s = merge(
        &out,
        &[a.clone(), b.clone()],
        &KnownIssues::none(),
        &[Class::Bug],
        false,
    )
    .unwrap();
    assert_eq!(s.cases, 2);
    assert_eq!(s.signatures.len(), 1);
    assert_eq!(s.signatures[0].count, 2);
    assert_eq!(
        s.signatures[0].record.as_deref(),
        Some(format!("findings/{file}").as_str())
    );
    let indices: Vec<u64> = read_results(&out.join("results.jsonl"))
        .unwrap()
        .lines
        .iter()
        .map(|l| l.index)
        .collect();
    assert_eq!(indices, [0, 1]);
    let kept = FindingRecord::load(&out.join("findings").join(&file)).unwrap();
    assert_eq!(kept.case, record.case);
    for f in ["summary.md", "junit.xml", "campaign.json"] {
        assert!(out.join(f).exists(), "{f}");
    }

    // Into a directory that holds a campaign: refused.
    let e = merge(
        &out,
        &[a.clone(), b.clone()],
        &KnownIssues::none(),
        &[Class::Bug],
        false,
    )
    .unwrap_err();
    assert!(e.to_string().contains("already holds a campaign"), "{e}");
    // Another seed: refused, naming the part.
    let c = root.join("c");
    part(
        &c,
        6,
        None,
        &[judged(3, 7, sig, Contract::AvoidableSpecialization)],
    );
    let e = merge(
        &root.join("m2"),
        &[a.clone(), c.clone()],
        &KnownIssues::none(),
        &[Class::Bug],
        false,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("another campaign") && e.contains("/c"), "{e}");
    // The same index as another case: refused.
    let d = root.join("d");
    part(
        &d,
        5,
        None,
        &[judged(0, 999, sig, Contract::AvoidableSpecialization)],
    );
    let e = merge(
        &root.join("m3"),
        &[a.clone(), d],
        &KnownIssues::none(),
        &[Class::Bug],
        false,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("index 0"), "{e}");
    // A hostile shard (count 0) is refused, not divided by.
    let bad = root.join("bad");
    part(&bad, 5, None, &[]);
    std::fs::write(
        bad.join("campaign.json"),
        r#"{"seed": "5", "backend": "export", "schema_version": 1, "shard": {"index": 0, "count": 0}}"#,
    )
    .unwrap();
    let e = merge(
        &root.join("m4"),
        &[bad],
        &KnownIssues::none(),
        &[Class::Bug],
        false,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("not a campaign record"), "{e}");
    std::fs::remove_dir_all(root).ok();
}

/// `known` writes a bug entry that waits for its upstream link (it silences nothing while
/// the link is TODO) and a portability entry that counts at once, with no upstream line.
#[test]
fn known_bug_entries_count_once_their_link_is_filled_in() {
    let bug = "export/bug/internal-error/-/-";
    let note = "export/portability/avoidable-specialization/pad/site";
    let lines = vec![
        judged(0, 1, bug, Contract::InternalError),
        judged(1, 2, note, Contract::AvoidableSpecialization),
    ];
    let groups = group(&lines, &KnownIssues::none());
    let text = known_entries(&groups.iter().collect::<Vec<_>>());
    assert_eq!(text.matches("TODO").count(), 1, "{text}");
    assert!(text.contains("none: a note for model authors"), "{text}");
    let dir = tmp("known-todo");
    let path = dir.join("known.toml");
    std::fs::write(&path, &text).unwrap();
    let known = KnownIssues::load(&path).unwrap();
    assert!(known.matching(bug).is_none(), "a TODO link counts:\n{text}");
    assert!(known.matching(note).is_some(), "{text}");
    std::fs::write(
        &path,
        text.replace(
            "TODO: the upstream issue",
            "https://github.com/pytorch/pytorch/issues/1",
        ),
    )
    .unwrap();
    assert!(KnownIssues::load(&path).unwrap().matching(bug).is_some());
    std::fs::remove_dir_all(dir).ok();
}

/// A campaign remembers its known-issues file: `report` without `--known` uses it, so a
/// known bug does not come back as new (exit 0, not 1); `--known` still overrides.
#[test]
fn report_uses_the_known_issues_file_the_campaign_recorded() {
    let root = tmp("recorded-known");
    let run = root.join("run");
    let bug = "export/bug/internal-error/-/-";
    part(
        &run,
        5,
        None,
        &[judged(0, case_seed(5, 0), bug, Contract::InternalError)],
    );
    let known = root.join("known.toml");
    std::fs::write(
        &known,
        "[[known]]\npattern = \"^export/bug/internal-error/\"\nlink = \"https://github.com/pytorch/pytorch/issues/1\"\n",
    )
    .unwrap();
    let report = |extra: &[&str]| report_in(&run, extra);
    assert_eq!(
        report(&[]).status.code(),
        Some(1),
        "no file recorded: a new bug"
    );
    record_in_meta(&run, "known", serde_json::json!(known));
    let out = report(&[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("recorded in campaign.json"));
    let empty = root.join("empty.toml");
    std::fs::write(&empty, "").unwrap();
    assert_eq!(
        report(&["--known", empty.to_str().unwrap()]).status.code(),
        Some(1)
    );
    // A file named before its first entry is written (a nightly's): empty, said once.
    let missing = root.join("not-yet.toml");
    let out = report(&["--known", missing.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));
    std::fs::remove_dir_all(root).ok();
}

/// A campaign remembers the classes that fail it: `report` without `--fail-on` keeps
/// them, so a portability group still fails a campaign that asked for it.
#[test]
fn report_keeps_the_failing_classes_the_campaign_recorded() {
    let root = tmp("recorded-fail-on");
    let run = root.join("run");
    let note = "export/portability/avoidable-specialization/pad/site";
    part(
        &run,
        5,
        None,
        &[judged(
            0,
            case_seed(5, 0),
            note,
            Contract::AvoidableSpecialization,
        )],
    );
    let report = |extra: &[&str]| report_in(&run, extra).status.code();
    assert_eq!(report(&[]), Some(0), "bug alone fails by default");
    record_in_meta(&run, "fail_on", serde_json::json!(["bug", "portability"]));
    assert_eq!(report(&[]), Some(1), "the recorded classes");
    assert_eq!(
        report(&["--fail-on", "bug"]),
        Some(0),
        "--fail-on overrides"
    );
    std::fs::remove_dir_all(root).ok();
}

/// `shapefuzz report <run> <extra>`.
fn report_in(run: &Path, extra: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_shapefuzz"))
        .arg("report")
        .arg(run)
        .args(extra)
        .output()
        .unwrap()
}

/// Sets `key` in a campaign's `campaign.json`, as a run would have recorded it.
fn record_in_meta(run: &Path, key: &str, value: serde_json::Value) {
    let path = run.join("campaign.json");
    let mut meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    meta[key] = value;
    std::fs::write(&path, meta.to_string()).unwrap();
}

#[test]
fn merge_fails_on_a_missing_shard_and_refuses_one_given_twice() {
    let root = tmp("shards");
    let sig = "export/portability/avoidable-specialization/append_value:pad/site";
    let shard = |name: &str, k: &str, index: u64| {
        let d = root.join(name);
        part(
            &d,
            5,
            Some(k),
            &[judged(
                index,
                case_seed(5, index),
                sig,
                Contract::AvoidableSpecialization,
            )],
        );
        d
    };
    // merge with no known issues, failing on bugs; `partial` as given.
    let merged = |out: &Path, parts: &[PathBuf], partial: bool| {
        merge(out, parts, &KnownIssues::none(), &[Class::Bug], partial)
    };
    let one = shard("one", "1/3", 0);
    let three = shard("three", "3/3", 2);
    // Shard 2 of 3 was lost: the reports are written and say so, and the merge fails.
    let out = root.join("merged");
    let e = merged(&out, &[one.clone(), three.clone()], false)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("shard 2/3 missing") && e.contains("--partial"),
        "{e}"
    );
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(md.contains("shard 2/3 missing"), "{md}");
    // --partial accepts it, and the report still says which shard is missing.
    let s = merged(&root.join("partial"), &[one.clone(), three.clone()], true).unwrap();
    assert_eq!(s.cases, 2);
    assert!(
        s.notes.iter().any(|n| n.contains("shard 2/3 missing")),
        "{:?}",
        s.notes
    );
    // The same shard twice (a re-run uploaded beside its first run): refused, nothing written.
    let again = shard("again", "1/3", 0);
    let twice = root.join("twice");
    let e = merged(&twice, &[one.clone(), again, three.clone()], true)
        .unwrap_err()
        .to_string();
    assert!(e.contains("shard 1/3 is given twice"), "{e}");
    assert!(!twice.join("results.jsonl").exists());
    // Shards of another split: refused.
    let other = shard("other", "2/4", 1);
    let e = merged(&root.join("split"), &[one.clone(), other], true)
        .unwrap_err()
        .to_string();
    assert!(e.contains("different splits"), "{e}");
    // All three: merges cleanly.
    let two = shard("two", "2/3", 1);
    let s = merged(&root.join("whole"), &[one, two, three], false).unwrap();
    assert_eq!(s.cases, 3);
    assert!(
        !s.notes.iter().any(|n| n.contains("missing")),
        "{:?}",
        s.notes
    );
    std::fs::remove_dir_all(root).ok();
}

proptest! {
    /// summary.md cut to the job-summary limit: within it, and never inside a code fence or
    /// a folded block, so what is left renders as written.
    #[test]
    fn summary_md_is_trimmed_between_sections(
        sections in proptest::collection::vec((0usize..40, 0usize..3, any::<bool>()), 1..40),
        limit in 300usize..6000,
    ) {
        let mut text = String::from("# shapefuzz campaign\n\nheadline\n");
        for (i, (lines, kind, folded)) in sections.iter().enumerate() {
            text += &format!("\n#### `export/bug/x/op{i}/site`\n\n> message {i}\n\n");
            if *folded {
                text += "<details><summary>Reproducer</summary>\n\n";
            }
            text += if *kind == 0 { "```python\n" } else { "```diff\n" };
            for l in 0..*lines {
                text += &format!("# line {l} of a long script\n");
            }
            text += "```\n";
            if *folded {
                text += "\n</details>\n";
            }
        }
        let trimmed = shapefuzz::report::trim_markdown(text.clone(), limit);
        if text.len() <= limit {
            prop_assert_eq!(&trimmed, &text);
        } else {
            prop_assert!(trimmed.len() <= limit, "{} > {limit}", trimmed.len());
            prop_assert!(trimmed.contains("more bytes left out"));
            let fences = trimmed.lines().filter(|l| l.starts_with("```")).count();
            prop_assert_eq!(fences % 2, 0);
            prop_assert_eq!(trimmed.matches("<details>").count(), trimmed.matches("</details>").count());
        }
    }
}
