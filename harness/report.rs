//! Reporting: signatures that deduplicate findings, known-issue triage, and the campaign
//! reports (`summary.md` for people, `summary.json` for machines, `junit.xml` for CI).
//!
//! A signature is `backend/verdict[:kind]/cause/message` where the cause is the op kind (and
//! spelling) of the node that added the guard, and the message is the finding's first line
//! with every number, size symbol, input name and parenthesized list erased (for a lost dim:
//! "pinned to a constant" or "range narrowed"). Two findings with the same
//! signature are one finding. Reports are deterministic for the same results.

use crate::corpus::ResultLine;
use crate::oracle::{CheckResult, Verdict};
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::LazyLock;

/// The message part of a signature: numbers, symbols and names erased.
pub fn normalize_message(message: &str) -> String {
    static RULES: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
        [
            // Input names in `x.size(0)`, `L['x']`, `y.size()[0]`.
            (r"\b[a-z]\.size\(", "_.size("),
            (r"L\['[a-z]+'\]", "L['_']"),
            // Symbols: s0, s77, u0; then any number.
            (r"\b[su]\d+\b", "s"),
            (r"0x[0-9a-f]+", "0x"),
            (r"\d+(\.\d+)?", "N"),
            (r"\s+", " "),
        ]
        .into_iter()
        .map(|(p, r)| (Regex::new(p).expect("valid pattern"), r))
        .collect()
    });
    let first = message
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    let mut s: String = first.chars().take(240).collect();
    for (re, rep) in RULES.iter() {
        s = re.replace_all(&s, *rep).into_owned();
    }
    // Parenthesized lists say which dims or sizes, not what went wrong; collapse them from
    // the innermost out.
    static PARENS: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\([^()]*\)").expect("valid pattern"));
    loop {
        let next = PARENS.replace_all(&s, "\u{27e8}\u{27e9}").into_owned();
        if next == s {
            break;
        }
        s = next;
    }
    s.replace("\u{27e8}\u{27e9}", "(…)")
}

/// The signature of a check, or `None` when it found nothing.
pub fn signature(r: &CheckResult) -> Option<String> {
    if !r.verdict.is_finding() && r.verdict != Verdict::Invalid {
        return None;
    }
    let verdict = match r.kind() {
        Some(k) => format!("{}:{k}", r.verdict.name()),
        None => r.verdict.name().to_string(),
    };
    // A lost dim is one story whether torch pinned it or narrowed it to some sizes.
    let message = match r.verdict {
        Verdict::LostDim if r.message().contains("pins it to") => {
            "pinned to a constant".to_string()
        }
        Verdict::LostDim => "range narrowed".to_string(),
        _ => normalize_message(r.message()),
    };
    let cause = match &r.cause {
        Some(c) => match &c.spelling {
            Some(s) => format!("{}:{s}", c.op),
            None => c.op.clone(),
        },
        None => "-".into(),
    };
    Some(format!("{}/{verdict}/{cause}/{message}", r.backend.name()))
}

/// One entry of `known-issues.toml`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct KnownIssue {
    /// A regular expression searched for in the signature.
    pub pattern: String,
    /// The upstream report.
    pub link: String,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug)]
pub struct KnownIssues {
    entries: Vec<(Regex, KnownIssue)>,
}

#[derive(Deserialize)]
struct KnownFile {
    #[serde(default)]
    known: Vec<KnownIssue>,
}

impl KnownIssues {
    pub fn none() -> KnownIssues {
        KnownIssues { entries: vec![] }
    }

    /// Reads a `known-issues.toml`: `[[known]]` tables with `pattern`, `link`, `note`.
    pub fn load(path: &Path) -> anyhow::Result<KnownIssues> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("{}: cannot read: {e}", path.display()))?;
        let file: KnownFile = toml::from_str(&text).map_err(|e| {
            let msg = e.message().to_string();
            anyhow::anyhow!("{}: not a known-issues file ({msg}); expected [[known]] tables with pattern, link, note", path.display())
        })?;
        let mut entries = vec![];
        for k in file.known {
            let re = Regex::new(&k.pattern).map_err(|e| {
                let first = e.to_string().lines().last().unwrap_or("").to_string();
                anyhow::anyhow!(
                    "{}: pattern {:?} is not a regular expression ({first})",
                    path.display(),
                    k.pattern
                )
            })?;
            entries.push((re, k));
        }
        Ok(KnownIssues { entries })
    }

    pub fn matching(&self, signature: &str) -> Option<&KnownIssue> {
        self.entries
            .iter()
            .find(|(re, _)| re.is_match(signature))
            .map(|(_, k)| k)
    }
}

/// A case seen for a signature.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CaseRef {
    pub index: u64,
    pub case_seed: u64,
    pub size: usize,
}

/// One deduplicated finding of a campaign.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignatureEntry {
    pub signature: String,
    pub verdict: Verdict,
    pub count: u64,
    pub first: CaseRef,
    pub smallest: CaseRef,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub known: Option<KnownIssue>,
}

impl SignatureEntry {
    pub fn is_new(&self) -> bool {
        self.known.is_none()
    }
}

/// Groups results by signature, in signature order. "First" is the lowest index, so the
/// grouping does not depend on which worker finished first.
pub fn group(lines: &[ResultLine], known: &KnownIssues) -> Vec<SignatureEntry> {
    let mut by: BTreeMap<String, SignatureEntry> = BTreeMap::new();
    for l in lines {
        let Some(sig) = &l.signature else { continue };
        let here = CaseRef {
            index: l.index,
            case_seed: l.case_seed,
            size: l.size,
        };
        let e = by.entry(sig.clone()).or_insert_with(|| SignatureEntry {
            signature: sig.clone(),
            verdict: l.verdict,
            count: 0,
            first: here.clone(),
            smallest: here.clone(),
            message: l.message.clone(),
            known: known.matching(sig).cloned(),
        });
        e.count += 1;
        if here.index < e.first.index {
            e.first = here.clone();
            e.message = l.message.clone();
        }
        if (here.size, here.index) < (e.smallest.size, e.smallest.index) {
            e.smallest = here;
        }
    }
    by.into_values().collect()
}

/// Everything the reports say about a campaign.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Summary {
    pub seed: u64,
    pub torch: String,
    pub backend: String,
    pub cases: u64,
    pub verdicts: BTreeMap<String, u64>,
    /// Share of cases eager accepted (1 - invalid / cases).
    pub validity_rate: f64,
    pub elapsed_s: f64,
    pub cases_per_s: f64,
    pub new_findings: u64,
    pub known_findings: u64,
    pub signatures: Vec<SignatureEntry>,
}

impl Summary {
    pub fn new(
        seed: u64,
        torch: &str,
        backend: &str,
        lines: &[ResultLine],
        known: &KnownIssues,
        elapsed_s: f64,
    ) -> Summary {
        let mut verdicts: BTreeMap<String, u64> = BTreeMap::new();
        for l in lines {
            *verdicts.entry(l.verdict.name().to_string()).or_default() += 1;
        }
        let cases = lines.len() as u64;
        let invalid = verdicts.get("invalid").copied().unwrap_or(0);
        let signatures = group(lines, known);
        let findings: Vec<&SignatureEntry> = signatures
            .iter()
            .filter(|s| s.verdict.is_finding())
            .collect();
        Summary {
            seed,
            torch: torch.to_string(),
            backend: backend.to_string(),
            cases,
            verdicts,
            validity_rate: if cases == 0 {
                1.0
            } else {
                1.0 - invalid as f64 / cases as f64
            },
            elapsed_s,
            cases_per_s: cases as f64 / elapsed_s.max(1e-9),
            new_findings: findings.iter().filter(|s| s.is_new()).count() as u64,
            known_findings: findings.iter().filter(|s| !s.is_new()).count() as u64,
            signatures,
        }
    }

    /// 0 when nothing new was found, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        if self.new_findings > 0 { 1 } else { 0 }
    }

    /// `summary.md`; `render_case(signature, case_seed)` gives the Python of each finding's
    /// smallest (or reduced) case.
    pub fn markdown(&self, render_case: &dyn Fn(&str, u64) -> String) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(s, "# shapefuzz campaign\n");
        let _ = writeln!(
            s,
            "seed {} · torch {} · backend {} · {} cases in {:.1} s ({:.1} cases/s) · validity {:.1}%\n",
            self.seed,
            self.torch,
            self.backend,
            self.cases,
            self.elapsed_s,
            self.cases_per_s,
            self.validity_rate * 100.0
        );
        let _ = writeln!(
            s,
            "**{} new finding(s), {} known.**\n",
            self.new_findings, self.known_findings
        );
        let _ = writeln!(s, "| verdict | cases |\n|---|---|");
        for (v, c) in &self.verdicts {
            let _ = writeln!(s, "| {v} | {c} |");
        }
        for (title, new) in [("New findings", true), ("Known findings", false)] {
            let entries: Vec<&SignatureEntry> = self
                .signatures
                .iter()
                .filter(|e| e.verdict.is_finding() && e.is_new() == new)
                .collect();
            if entries.is_empty() {
                continue;
            }
            let _ = writeln!(s, "\n## {title}\n");
            for e in entries {
                let _ = writeln!(s, "### `{}`\n", e.signature);
                let _ = writeln!(
                    s,
                    "{} case(s); first: index {} (seed {}); smallest: index {} (seed {}, size {}).\n",
                    e.count,
                    e.first.index,
                    e.first.case_seed,
                    e.smallest.index,
                    e.smallest.case_seed,
                    e.smallest.size
                );
                if let Some(k) = &e.known {
                    let _ = writeln!(s, "Known: <{}> {}\n", k.link, k.note);
                }
                let _ = writeln!(s, "> {}\n", e.message.lines().next().unwrap_or(""));
                let _ = writeln!(
                    s,
                    "Smallest case (from `shapefuzz gen --swarm --seed {}`, reduced):\n\n```python\n{}```\n",
                    e.smallest.case_seed,
                    render_case(&e.signature, e.smallest.case_seed)
                );
            }
        }
        let invalid: Vec<&SignatureEntry> = self
            .signatures
            .iter()
            .filter(|e| e.verdict == Verdict::Invalid)
            .collect();
        if !invalid.is_empty() {
            let _ = writeln!(s, "\n## Generator problems (invalid cases)\n");
            for e in invalid {
                let _ = writeln!(
                    s,
                    "- `{}`: {} case(s), first seed {}",
                    e.signature, e.count, e.first.case_seed
                );
            }
        }
        s
    }

    /// `junit.xml`: a test case per finding signature (new = failure, known = skipped).
    pub fn junit(&self) -> String {
        use std::fmt::Write;
        let findings: Vec<&SignatureEntry> = self
            .signatures
            .iter()
            .filter(|e| e.verdict.is_finding())
            .collect();
        let failures = findings.iter().filter(|e| e.is_new()).count();
        let skipped = findings.len() - failures;
        let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            s,
            "<testsuites><testsuite name=\"shapefuzz\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\" time=\"{:.3}\">",
            findings.len() + 1,
            self.elapsed_s
        );
        let _ = writeln!(
            s,
            "  <testcase classname=\"shapefuzz.campaign\" name=\"{} cases, validity {:.1}%\"/>",
            self.cases,
            self.validity_rate * 100.0
        );
        for e in findings {
            let _ = write!(
                s,
                "  <testcase classname=\"shapefuzz.{}\" name=\"{}\">",
                xml_escape(e.verdict.name()),
                xml_escape(&e.signature)
            );
            let detail = format!(
                "{} case(s); smallest: shapefuzz gen --swarm --seed {}\n{}",
                e.count, e.smallest.case_seed, e.message
            );
            match &e.known {
                None => {
                    let _ = write!(
                        s,
                        "<failure message=\"{}\">{}</failure>",
                        xml_escape(e.message.lines().next().unwrap_or("")),
                        xml_escape(&detail)
                    );
                }
                Some(k) => {
                    let _ = write!(
                        s,
                        "<skipped message=\"known: {} {}\"/>",
                        xml_escape(&k.link),
                        xml_escape(&k.note)
                    );
                }
            }
            let _ = writeln!(s, "</testcase>");
        }
        s.push_str("</testsuite></testsuites>\n");
        s
    }
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}
