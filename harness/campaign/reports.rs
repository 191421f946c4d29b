//! The reports of a run: `summary.md`, `summary.json` and `report.html`, rendered from the
//! results, the filed records and the run's facts; rewritten while the run goes, at its
//! end, and by `shapefuzz report` and `merge` (`regenerate`), which need no torch.

use super::*;

/// Writes `summary.json`, `summary.md`, `junit.xml` and `report.html` of a campaign
/// directory, each atomically. Needs no torch: `merge`, `report` and the live rewrites use
/// it too.
pub fn write_summaries(
    out: &Path,
    summary: &Summary,
    details: &BTreeMap<String, GroupDetail>,
    lines: &[ResultLine],
) -> Result<()> {
    write_rendered(out, render_reports(summary, details, lines)?)
}

/// The reports' files and their text, rendered without touching the disk (the live rewrite
/// renders while it holds the results and writes after letting go).
pub(super) fn render_reports(
    summary: &Summary,
    details: &BTreeMap<String, GroupDetail>,
    lines: &[ResultLine],
) -> Result<Vec<(&'static str, String)>> {
    let with_twins;
    let summary = if details.values().any(|d| d.twin.is_some()) {
        let groups = summary
            .signatures
            .iter()
            .filter(|e| matches!(e.class, Some(Class::Bug | Class::Portability)))
            .filter_map(|e| details.get(&e.signature))
            .map(|d| (d.spec_api, d.twin.as_ref().map(|t| t.0)));
        with_twins = Summary {
            twins: crate::report::TwinCount::of(groups),
            ..summary.clone()
        };
        &with_twins
    } else {
        summary
    };
    let markdown = |e: &SignatureEntry| details.get(&e.signature).map(|d| d.markdown.clone());
    let script = |e: &SignatureEntry| details.get(&e.signature).map(|d| d.script.clone());
    Ok(vec![
        ("summary.json", serde_json::to_string_pretty(summary)?),
        ("summary.md", summary.markdown(&markdown)),
        ("junit.xml", summary.junit(&script)),
        (
            "report.html",
            crate::report::html::render(summary, lines, details),
        ),
    ])
}

pub(super) fn write_rendered(out: &Path, files: Vec<(&'static str, String)>) -> Result<()> {
    for (name, text) in files {
        corpus::write_atomic(&out.join(name), text.as_bytes())?;
    }
    Ok(())
}

/// The details of the groups that have a record in `findings_dir`.
pub fn details_from_records(
    summary: &Summary,
    findings_dir: &Path,
) -> BTreeMap<String, GroupDetail> {
    let mut out = BTreeMap::new();
    for e in &summary.signatures {
        let path = findings_dir.join(corpus::signature_file_name(&e.signature));
        if let Ok(rec) = FindingRecord::load(&path) {
            out.insert(e.signature.clone(), GroupDetail::of_record(&rec, &path));
        }
    }
    out
}

/// What `summary.md` shows of a group with a record: for a bug the reduced reproducer and
/// the promise it breaks; for a portability finding the culprit line and the workaround.
pub(super) fn group_detail(repro: &Repro, record: &Path) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    if let Some(code) = repro.culprit_code() {
        let _ = writeln!(s, "Culprit: `{}`\n", crate::escape::markdown_code(&code));
    }
    match repro.class() {
        Some(Class::Bug) => {
            // Folded: the job summary and a long night's file stay readable.
            let script = repro.script();
            let _ = writeln!(
                s,
                "<details><summary>Reproducer ({} lines)</summary>\n\n```python\n{}```\n\n</details>\n",
                script.lines().count(),
                crate::escape::markdown_fence(&script)
            );
            if let Some(c) = repro.contract {
                let _ = writeln!(s, "**The promise:** {}\n", c.promise());
            }
        }
        _ => match &repro.workaround {
            Some(_) => {
                let issue = repro.issue(None, None);
                if let Some(diff) = issue
                    .split("```diff\n")
                    .nth(1)
                    .and_then(|d| d.split("```").next())
                {
                    let _ = writeln!(s, "Workaround:\n\n```diff\n{diff}```\n");
                }
            }
            None => {
                let _ = writeln!(
                    s,
                    "No working respelling is recorded (none found, or none tried when the run was cut short).\n"
                );
            }
        },
    }
    if let Some(twin) = repro.twin_text() {
        let _ = writeln!(s, "{twin}\n");
    }
    let _ = write!(
        s,
        "Record: `{}` (`shapefuzz repro --format issue <record>`)",
        crate::escape::markdown_code(&record.display().to_string())
    );
    s
}

/// What a campaign directory's reports say beyond its results: the torch, the time, how far
/// it got, notes.
pub struct RunFacts {
    /// `None` when no report of the directory names it.
    pub torch: Option<String>,
    pub elapsed_s: f64,
    pub status: RunStatus,
    pub notes: Vec<String>,
}

impl RunFacts {
    /// From the directory's last `summary.json`, or unknown.
    pub fn read(dir: &Path) -> RunFacts {
        let part = crate::ir::read_bounded(&dir.join("summary.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok());
        let get = |k: &str| part.as_ref().and_then(|p| p.get(k));
        RunFacts {
            torch: get("torch")
                .and_then(|t| t.as_str())
                .filter(|t| crate::escape::is_version(t))
                .map(str::to_string),
            // A number from a file: a run of more than a year is no run's.
            elapsed_s: get("elapsed_s")
                .and_then(|e| e.as_f64())
                .filter(|e| (0.0..=4e7).contains(e))
                .unwrap_or(0.0),
            status: get("status")
                .and_then(|s| serde_json::from_value(s.clone()).ok())
                .unwrap_or(RunStatus::Running),
            notes: get("notes")
                .and_then(|n| serde_json::from_value::<Vec<String>>(n.clone()).ok())
                .unwrap_or_default(),
        }
    }
}

/// Rewrites every report of a campaign directory from its `results.jsonl`, its finding
/// records and `facts`: what `shapefuzz report` and `merge` do. Needs no torch.
pub fn regenerate(
    dir: &Path,
    facts: &RunFacts,
    known: &KnownIssues,
    fail_on: &[Class],
) -> Result<Summary> {
    let meta = CampaignMeta::load(dir)?;
    let results_path = dir.join("results.jsonl");
    let results = corpus::read_results(&results_path)?;
    if results.torn_bytes > 0 {
        eprintln!(
            "{}: the last line is torn ({} bytes), left out of the reports",
            results_path.display(),
            results.torn_bytes
        );
    }
    let lines = results.lines;
    let findings_dir = dir.join("findings");
    let mut summary = Summary::new(
        meta.seed,
        facts.torch.as_deref().unwrap_or("unknown"),
        &meta.backend_names(),
        &lines,
        known,
        facts.elapsed_s,
        fail_on,
    );
    summary.shard = meta.shard.map(|k| k.to_string());
    summary.status = facts.status;
    summary.notes = facts.notes.clone();
    summary.attach_records(dir, &findings_dir);
    let details = details_from_records(&summary, &findings_dir);
    write_summaries(dir, &summary, &details, &lines)?;
    Ok(summary)
}
