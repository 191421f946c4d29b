//! Reporting: root-cause groups, known-issue triage, and the campaign reports
//! (`summary.md` for people, `summary.json` for machines, `junit.xml` for CI).
//!
//! Findings group by their signature, `backend/class/contract/cause-op[:spelling]/site`
//! (see `CheckResult::signature`): the same promise kept or broken the same way, by the same
//! op and spelling, at the same torch function. Whether torch pinned or narrowed, the verdict
//! and its sub-kind, and the message are attributes of a group. Reports list bugs first by
//! severity (divergence, internal error, broken spec promise, crash or hang), then
//! portability groups with their workarounds, then a collapsed count of expected groups.
//! Only a new group of a class in `fail_on` (by default: bug) fails a run. Reports are
//! deterministic for the same results.

pub mod html;

use crate::corpus::ResultLine;
use crate::oracle::{Class, Contract, Verdict};
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// Most bytes `summary.md` holds: GitHub's job summary takes 1 MiB per step, and the
/// nightly workflow appends the file whole.
pub const SUMMARY_MD_LIMIT: usize = 1_000_000;

/// `text` cut to at most `limit` bytes at the start of a section (a `#` heading outside any
/// code fence), with a last line saying what was left out; unchanged when it fits. A cut
/// never falls inside a fence or a `<details>` block, so what remains renders as written.
pub fn trim_markdown(text: String, limit: usize) -> String {
    if text.len() <= limit {
        return text;
    }
    const TAIL: usize = 200;
    let budget = limit.saturating_sub(TAIL);
    let mut cut = 0;
    let mut at = 0;
    let mut in_fence = false;
    let mut details = 0i64;
    for line in text.split_inclusive('\n') {
        if at + line.len() > budget {
            break;
        }
        let t = line.trim_start();
        if t.starts_with("```") {
            in_fence = !in_fence;
        } else if !in_fence {
            if t.starts_with('#') && details == 0 {
                cut = at;
            }
            details += t.matches("<details>").count() as i64;
            details -= t.matches("</details>").count() as i64;
        }
        at += line.len();
    }
    let left = text.len() - cut;
    let mut out = text[..cut].to_string();
    let _ = std::fmt::Write::write_fmt(
        &mut out,
        format_args!(
            "\n*{left} more bytes left out to keep this summary within {limit} bytes: report.html and summary.json hold everything.*\n"
        ),
    );
    out
}

/// One entry of `known-issues.toml`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
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
    /// The file it was read from, made absolute, for `campaign.json` to remember.
    path: Option<std::path::PathBuf>,
}

/// The link `known` writes for a bug entry: such an entry does not count until a person
/// replaces it with the upstream report.
pub const TODO_LINK: &str = "TODO: the upstream issue";

impl KnownIssue {
    /// Whether the entry silences its groups: a bug entry needs its upstream link filled in.
    pub fn counts(&self) -> bool {
        !self.link.trim_start().starts_with("TODO")
    }
}

/// A known-issue link for Markdown: an autolink for a URL, plain text for anything else
/// (`<no upstream issue>` would be read as an HTML tag and vanish).
pub fn link_md(link: &str) -> String {
    let url = (link.starts_with("https://") || link.starts_with("http://"))
        && !link
            .chars()
            .any(|c| c.is_whitespace() || c == '<' || c == '>');
    if url { format!("<{link}>") } else { md(link) }
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct KnownFile {
    #[serde(default)]
    known: Vec<KnownIssue>,
}

impl KnownIssues {
    pub fn none() -> KnownIssues {
        KnownIssues {
            entries: vec![],
            path: None,
        }
    }

    /// The file the entries came from (absolute), if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Reads a `known-issues.toml`: `[[known]]` tables with `pattern`, `link`, `note`; a
    /// file that does not exist is an empty one.
    pub fn load(path: &Path) -> anyhow::Result<KnownIssues> {
        // A nightly names its file before the first bug is filed in it: a missing file is
        // an empty one, said once (a file that is there and wrong is still an error).
        if std::fs::symlink_metadata(path).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound)
        {
            eprintln!(
                "shapefuzz: {} does not exist: no group counts as known (`shapefuzz known --from <run>` writes entries)",
                path.display()
            );
            return Ok(KnownIssues {
                entries: vec![],
                path: std::path::absolute(path).ok(),
            });
        }
        let text = crate::ir::read_bounded(path)
            .map_err(|e| anyhow::anyhow!("{}: cannot read: {e}", path.display()))?;
        let mut known = Self::parse(&text, &path.display().to_string())?;
        known.path = std::path::absolute(path).ok();
        Ok(known)
    }

    /// Reads the text of a `known-issues.toml`; `name` says where it came from in errors.
    pub fn parse(text: &str, name: &str) -> anyhow::Result<KnownIssues> {
        let file: KnownFile = toml::from_str(text).map_err(|e| {
            let msg = e.message().to_string();
            anyhow::anyhow!("{name}: not a known-issues file ({msg}); expected [[known]] tables with pattern, link, note")
        })?;
        if file.known.len() > MAX_KNOWN_ENTRIES {
            anyhow::bail!(
                "{name}: {} entries, above the limit of {MAX_KNOWN_ENTRIES}; one entry per root cause is enough",
                file.known.len()
            );
        }
        let mut entries = vec![];
        for (n, k) in file.known.into_iter().enumerate() {
            let re = known_pattern(&k.pattern).map_err(|why| {
                anyhow::anyhow!(
                    "{name}: entry {} ({}): pattern {:?} {why}",
                    n + 1,
                    crate::escape::python_comment(&k.link),
                    k.pattern.chars().take(80).collect::<String>()
                )
            })?;
            entries.push((re, k));
        }
        let pending = entries.iter().filter(|(_, k)| !k.counts()).count();
        if pending > 0 {
            eprintln!(
                "shapefuzz: {name}: {pending} entr{} with a TODO link do not count until the upstream link is filled in",
                if pending == 1 { "y" } else { "ies" }
            );
        }
        Ok(KnownIssues {
            entries,
            path: None,
        })
    }

    pub fn matching(&self, signature: &str) -> Option<&KnownIssue> {
        self.entries
            .iter()
            .find(|(re, k)| k.counts() && re.is_match(signature))
            .map(|(_, k)| k)
    }

    /// Entries that match none of `signatures`: fixed upstream, or renamed by a change of
    /// the signature grammar. Either way the file needs a look.
    pub fn stale<'a>(
        &self,
        signatures: impl IntoIterator<Item = &'a str> + Clone,
    ) -> Vec<KnownIssue> {
        self.entries
            .iter()
            .filter(|(re, _)| !signatures.clone().into_iter().any(|s| re.is_match(s)))
            .map(|(_, k)| k.clone())
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Most entries a known-issues file may hold, and the longest pattern: a campaign has tens
/// of root causes, and a signature is at most 1,024 characters.
const MAX_KNOWN_ENTRIES: usize = 2_000;
const MAX_PATTERN_CHARS: usize = 2_048;

/// A known-issue pattern compiled within fixed memory: the regex crate's limits on the
/// compiled program and on its lazy DFA's cache, so that a hostile file (thousands of
/// `\w{200}`) is refused instead of taking gigabytes.
fn known_pattern(pattern: &str) -> Result<Regex, String> {
    if pattern.chars().count() > MAX_PATTERN_CHARS {
        return Err(format!(
            "is longer than the limit of {MAX_PATTERN_CHARS} characters"
        ));
    }
    regex::RegexBuilder::new(pattern)
        .size_limit(256 << 10)
        .dfa_size_limit(256 << 10)
        .nest_limit(64)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(_) => {
                "compiles too large (over 256 KiB); match the signature more plainly".to_string()
            }
            e => format!(
                "is not a regular expression ({})",
                e.to_string().lines().last().unwrap_or("")
            ),
        })
}

/// `known-issues.toml` entries for groups: one per group's root cause, matching it exactly
/// (and so every signature that reaches it), with the link left for a person to fill in.
/// The text appends to an existing file.
pub fn known_entries(groups: &[&SignatureEntry]) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    for e in groups {
        let key = if e.root_cause.is_empty() {
            &e.signature
        } else {
            &e.root_cause
        };
        // A portability finding is a note for model authors: there is no upstream issue
        // to wait for, so its entry counts at once.
        let link = match e.class {
            Some(Class::Bug) | None => TODO_LINK.to_string(),
            Some(_) => "none: a note for model authors, not a torch bug".to_string(),
        };
        let entry = KnownIssue {
            pattern: format!("^{}$", regex::escape(key)),
            link,
            note: format!(
                "{}: {}",
                e.class.map_or("-", Class::name),
                e.message
                    .lines()
                    .next()
                    .unwrap_or("")
                    .chars()
                    .take(200)
                    .collect::<String>()
            ),
        };
        let table =
            toml::to_string(&KnownFile { known: vec![entry] }).expect("known entries serialize");
        let _ = writeln!(s, "{table}");
    }
    s
}

/// What the reports show of a group that has a finding record.
#[derive(Clone, Debug)]
pub struct GroupDetail {
    /// For `summary.md`.
    pub markdown: String,
    /// The standalone reproducer, for junit's failure body and `report.html`.
    pub script: String,
    /// The workaround as a diff of the model, when a respelling works.
    pub workaround_diff: Option<String>,
    /// The culprit line of the model.
    pub culprit: Option<String>,
    /// Per input dim: asked, trace region, kept, accepted.
    pub dims: Vec<crate::oracle::DimReport>,
    /// The same model under the other spec API: its outcome (`Twin::outcome`) and the
    /// sentence that says it.
    pub twin: Option<(&'static str, String)>,
    /// The spec API of the record's case.
    pub spec_api: crate::ir::SpecApi,
}

/// A case seen for a group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CaseRef {
    pub index: u64,
    #[serde(with = "crate::corpus::seed_string")]
    pub case_seed: u64,
    pub size: usize,
}

/// One root-cause group of a campaign.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignatureEntry {
    pub signature: String,
    /// The torch mechanism it belongs to (`oracle::root_cause_key`); the signature itself
    /// when there is nothing more general to key on.
    #[serde(default)]
    pub root_cause: String,
    /// Known only through its root cause: a new signature of a known mechanism, reported
    /// but not failed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub known_by_root_cause: bool,
    /// None for what cannot be judged (invalid, poisoned).
    pub class: Option<Class>,
    pub contract: Option<Contract>,
    /// The verdict of the first case.
    pub verdict: Verdict,
    /// How often each `verdict[:kind]` occurred in the group.
    pub verdicts: BTreeMap<String, u64>,
    pub count: u64,
    pub first: CaseRef,
    pub smallest: CaseRef,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub known: Option<KnownIssue>,
    /// Time its cases took, in seconds.
    #[serde(default)]
    pub seconds: f64,
    /// The group's finding record (bug and portability groups), relative to the campaign
    /// directory when inside it, and the command that prints its bug report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repro: Option<String>,
}

impl SignatureEntry {
    /// Its verdicts and their counts: `lost_dim ×3, spurious_guard ×1`.
    pub fn verdicts_text(&self) -> String {
        self.verdicts
            .iter()
            .map(|(k, v)| format!("{k} ×{v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn is_new(&self) -> bool {
        self.known.is_none()
    }
    /// Whether it is a finding about torch (bug, portability or expected).
    pub fn is_finding(&self) -> bool {
        self.class.is_some()
    }
    fn order(&self) -> (u8, u8, String) {
        (
            self.class.map_or(9, |c| c as u8),
            self.contract.map_or(99, Contract::severity),
            self.signature.clone(),
        )
    }
}

/// Groups results by signature: bugs first by severity, then portability, then expected,
/// then what cannot be judged. "First" is the lowest index, so the grouping does not depend
/// on which worker finished first.
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
            root_cause: line_root_cause(l, sig),
            known_by_root_cause: false,
            class: l.class,
            contract: l.contract,
            verdict: l.verdict,
            verdicts: BTreeMap::new(),
            count: 0,
            first: here.clone(),
            smallest: here.clone(),
            message: l.message.clone(),
            known: known.matching(sig).cloned(),
            seconds: 0.0,
            record: None,
            repro: None,
        });
        e.count += 1;
        e.seconds += l.seconds;
        let v = match &l.kind {
            Some(k) => format!("{}:{k}", l.verdict.name()),
            None => l.verdict.name().to_string(),
        };
        *e.verdicts.entry(v).or_default() += 1;
        if here.index < e.first.index {
            e.first = here.clone();
            e.message = l.message.clone();
            e.verdict = l.verdict;
        }
        if (here.size, here.index) < (e.smallest.size, e.smallest.index) {
            e.smallest = here;
            // the smallest case is the one reduced and filed: its mechanism is the group's
            e.root_cause = line_root_cause(l, sig);
        }
    }
    let mut out: Vec<SignatureEntry> = by.into_values().collect();
    // A root cause is known when an entry names it or any of its signatures: every member
    // is then covered, and a member no entry names is reported as new to a known cause.
    let mut known_cause: BTreeMap<String, KnownIssue> = BTreeMap::new();
    for e in &out {
        if let Some(k) = known.matching(&e.root_cause).or(e.known.as_ref()).cloned() {
            known_cause.entry(e.root_cause.clone()).or_insert(k);
        }
    }
    for e in &mut out {
        if e.known.is_none()
            && let Some(k) = known_cause.get(&e.root_cause)
        {
            e.known = Some(k.clone());
            e.known_by_root_cause = true;
        }
    }
    out.sort_by_key(SignatureEntry::order);
    out
}

/// The root cause of a results line, recomputed from its judged fields (so lines written
/// before root causes existed group too).
fn line_root_cause(l: &ResultLine, signature: &str) -> String {
    let backend = signature.split('/').next().unwrap_or("export");
    crate::oracle::root_cause_key(
        backend,
        l.contract,
        l.kind.as_deref(),
        l.cause.as_ref(),
        &l.message,
    )
    .unwrap_or_else(|| signature.to_string())
}

/// One torch mechanism of a campaign and the signatures that reached it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RootCauseEntry {
    pub key: String,
    pub class: Option<Class>,
    /// The worst contract outcome among its members.
    pub contract: Option<Contract>,
    /// Its member signatures, worst first.
    pub signatures: Vec<String>,
    pub count: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub known: Option<KnownIssue>,
}

impl RootCauseEntry {
    pub fn is_new(&self) -> bool {
        self.known.is_none()
    }
}

/// The root causes of grouped signatures, in the signatures' order (worst first).
pub fn root_causes(signatures: &[SignatureEntry]) -> Vec<RootCauseEntry> {
    let mut out: Vec<RootCauseEntry> = vec![];
    for e in signatures {
        match out.iter_mut().find(|r| r.key == e.root_cause) {
            Some(r) => {
                r.signatures.push(e.signature.clone());
                r.count += e.count;
            }
            None => out.push(RootCauseEntry {
                key: e.root_cause.clone(),
                class: e.class,
                contract: e.contract,
                signatures: vec![e.signature.clone()],
                count: e.count,
                known: e.known.clone(),
            }),
        }
    }
    out
}

/// Per class: cases, groups, and groups not in the known-issues file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ClassCount {
    pub cases: u64,
    pub groups: u64,
    pub new_groups: u64,
    /// Distinct torch mechanisms among the groups, and those no known issue covers.
    #[serde(default)]
    pub root_causes: u64,
    #[serde(default)]
    pub new_root_causes: u64,
}

/// The per-spec-API counts of a campaign with cases beyond the plain `Dim` API (empty
/// without any): a row per API that has cases (`dim` always), and one per API with deferred
/// runtime asserts where a case has them.
fn spec_api_counts(
    lines: &[ResultLine],
    class_key: &dyn Fn(&ResultLine) -> String,
    signatures: &[SignatureEntry],
) -> Vec<SpecApiCount> {
    use crate::ir::SpecApi;
    if lines
        .iter()
        .all(|l| l.spec_api.is_none_or(|a| a == SpecApi::Dim) && !l.deferred_asserts)
    {
        return vec![];
    }
    let label = |api: SpecApi, deferred: bool| {
        if deferred {
            format!("{} + deferred asserts", api.name())
        } else {
            api.name().to_string()
        }
    };
    let rows: Vec<(SpecApi, bool)> = [
        (SpecApi::Dim, false),
        (SpecApi::Dim, true),
        (SpecApi::Shapes, false),
        (SpecApi::Shapes, true),
        (SpecApi::Additional, false),
        (SpecApi::Additional, true),
        (SpecApi::Collection, false),
        (SpecApi::Collection, true),
    ]
    .into_iter()
    .filter(|&(api, deferred)| {
        let any = |f: &dyn Fn(&ResultLine) -> bool| {
            lines
                .iter()
                .any(|l| l.spec_api.unwrap_or(SpecApi::Dim) == api && f(l))
        };
        match (api, deferred) {
            (_, true) => any(&|l| l.deferred_asserts),
            (SpecApi::Dim, false) => true,
            (_, false) => any(&|_| true),
        }
    })
    .collect();
    let by_signature: std::collections::HashMap<&str, &SignatureEntry> = signatures
        .iter()
        .map(|e| (e.signature.as_str(), e))
        .collect();
    rows.into_iter()
        .map(|(api, deferred)| {
            let mine: Vec<&ResultLine> = lines
                .iter()
                .filter(|l| {
                    l.spec_api.unwrap_or(SpecApi::Dim) == api && l.deferred_asserts == deferred
                })
                .collect();
            let mut count = SpecApiCount {
                api: label(api, deferred),
                checks: mine.len() as u64,
                ..Default::default()
            };
            // the groups and root causes as the report keys them
            let mut groups: BTreeMap<String, std::collections::BTreeSet<(&str, &str)>> =
                BTreeMap::new();
            for l in &mine {
                count.classes.entry(class_key(l)).or_default().cases += 1;
                count.seconds_per_check += l.seconds;
                let entry = l.signature.as_deref().and_then(|sig| by_signature.get(sig));
                if let (Some(c), Some(e)) = (l.class, entry) {
                    groups
                        .entry(c.name().to_string())
                        .or_default()
                        .insert((e.signature.as_str(), e.root_cause.as_str()));
                }
            }
            for (class, set) in groups {
                let cc = count.classes.entry(class).or_default();
                cc.groups = set.len() as u64;
                cc.root_causes = set
                    .iter()
                    .map(|(_, rc)| *rc)
                    .collect::<std::collections::BTreeSet<_>>()
                    .len() as u64;
            }
            count.seconds_per_check /= count.checks.max(1) as f64;
            count
        })
        .collect()
}

/// One backend's share of a campaign on several (`--backend export,decomposed,...`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BackendCount {
    pub backend: String,
    /// Cases checked on it.
    pub checks: u64,
    /// Per class (then pass, invalid, poisoned, same_as_export): its checks and groups.
    pub classes: BTreeMap<String, ClassCount>,
    /// Mean seconds of a check on it: the shared export and eager runs, its own step,
    /// inspection and probes.
    pub seconds_per_check: f64,
}

impl BackendCount {
    /// The columns of the reports' per-backend tables.
    pub const COLUMNS: [&'static str; 5] =
        ["bug", "portability", "expected", "pass", SAME_AS_EXPORT];

    /// A column's cell: its checks, and for a class its groups too (`5 (1)`).
    pub fn cell(&self, key: &str) -> String {
        let cc = self.classes.get(key).cloned().unwrap_or_default();
        if Class::ALL.iter().any(|c| c.name() == key) {
            format!("{} ({})", cc.cases, cc.groups)
        } else {
            cc.cases.to_string()
        }
    }

    /// Checks outside the columns (invalid, poisoned, crashes, ...).
    pub fn other(&self) -> u64 {
        self.classes
            .iter()
            .filter(|(k, _)| !Self::COLUMNS.contains(&k.as_str()))
            .map(|(_, c)| c.cases)
            .sum()
    }
}

/// One spec API's share of a campaign that wrote cases in both (`--spec-api mixed`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TwinCount {
    /// The groups' spec API (`dim` or `shapes`); their twins are in the other.
    pub api: String,
    /// Bug and portability groups with a record of that API.
    pub groups: u64,
    /// By the twin's outcome (`Twin::outcome`): `clean` (the finding is the API's own),
    /// `same-culprit` (the model's under either API), `other`, `not-judged`; `none` where the
    /// record has no twin (the spec says nothing in the other API, the group is another
    /// backend's, or the record predates twins).
    pub outcomes: BTreeMap<String, u64>,
}

impl TwinCount {
    pub const OUTCOMES: [&'static str; 5] =
        ["clean", "same-culprit", "other", "not-judged", "none"];

    /// The counts of groups' twins, per spec API of the groups: one item per bug or
    /// portability group with a record, its API and its twin's outcome (None: no twin).
    pub fn of(
        groups: impl IntoIterator<Item = (crate::ir::SpecApi, Option<&'static str>)>,
    ) -> Vec<TwinCount> {
        let mut out: Vec<TwinCount> = vec![];
        for (api, outcome) in groups {
            let i = match out.iter().position(|t| t.api == api.name()) {
                Some(i) => i,
                None => {
                    out.push(TwinCount {
                        api: api.name().into(),
                        ..Default::default()
                    });
                    out.len() - 1
                }
            };
            out[i].groups += 1;
            *out[i]
                .outcomes
                .entry(outcome.unwrap_or("none").into())
                .or_default() += 1;
        }
        out.sort_by(|a, b| a.api.cmp(&b.api));
        // a campaign of one API whose groups have no twin at all says nothing
        out.retain(|t| t.outcomes.get("none") != Some(&t.groups));
        out
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SpecApiCount {
    /// `dim` or `shapes`, and `+ deferred asserts` for the cases exported with them.
    pub api: String,
    /// Checks of cases written in it.
    pub checks: u64,
    /// Per class (then pass, invalid, poisoned, same_as_export): its checks, and the groups
    /// and root causes its checks fall in (a group can hold cases of both APIs).
    pub classes: BTreeMap<String, ClassCount>,
    pub seconds_per_check: f64,
}

impl SpecApiCount {
    /// A column's cell: checks, and for a class its groups and root causes (`5 (2, 1)`).
    pub fn cell(&self, key: &str) -> String {
        let cc = self.classes.get(key).cloned().unwrap_or_default();
        if Class::ALL.iter().any(|c| c.name() == key) {
            format!("{} ({}, {})", cc.cases, cc.groups, cc.root_causes)
        } else {
            cc.cases.to_string()
        }
    }

    /// Checks outside the columns of [`BackendCount::COLUMNS`].
    pub fn other(&self) -> u64 {
        self.classes
            .iter()
            .filter(|(k, _)| !BackendCount::COLUMNS.contains(&k.as_str()))
            .map(|(_, c)| c.cases)
            .sum()
    }
}

/// The `classes` key of the checks whose finding is the exported program's own.
pub const SAME_AS_EXPORT: &str = "same_as_export";

/// What a campaign's workers did (see `Summary::workers`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkerStats {
    pub recycles: u64,
    pub peak_rss_mb: u64,
    /// Workers forked from the zygote, and spawned on their own (when it is off or failed).
    #[serde(default)]
    pub forked: u64,
    #[serde(default)]
    pub spawned: u64,
    /// Workers killed after a crash, a hang or the memory limit (and replaced when more
    /// cases came).
    #[serde(default)]
    pub killed: u64,
}

/// A class row's name as the reports show it.
pub fn row_name(key: &str) -> &str {
    if key == SAME_AS_EXPORT {
        "same as export"
    } else {
        key
    }
}

/// `summary.json`'s layout; raised when a field changes meaning or goes away.
pub const SUMMARY_SCHEMA_VERSION: u32 = 2;

/// How far a campaign got when its reports were written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Written while cases still ran: everything found so far, findings as seen.
    Running,
    /// Reached its case count or time.
    Finished,
    /// Stopped by a signal (Ctrl-C, SIGTERM) before its limit.
    Stopped,
}

impl RunStatus {
    /// Of two parts of one campaign, the one that got less far: what their merge is.
    pub fn least_done(self, other: RunStatus) -> RunStatus {
        let rank = |s: RunStatus| match s {
            RunStatus::Finished => 0,
            RunStatus::Stopped => 1,
            RunStatus::Running => 2,
        };
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }
}

/// Everything the reports say about a campaign.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Summary {
    pub schema_version: u32,
    /// The shapefuzz and generator versions that made the cases: a seed names a case only
    /// under the same generator version.
    pub shapefuzz: String,
    pub generator_version: u32,
    #[serde(with = "crate::corpus::seed_string")]
    pub seed: u64,
    /// `K/N` for one shard of a campaign.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    pub status: RunStatus,
    pub torch: String,
    /// The backend, or the backends as `--backend` took them (`export,decomposed`).
    pub backend: String,
    /// Cases (indices); with several backends each was checked on every one.
    pub cases: u64,
    pub verdicts: BTreeMap<String, u64>,
    /// `bug`, `portability`, `expected`, and `pass` / `invalid` / `poisoned` for the rest;
    /// with several backends, `same_as_export` for the checks that only repeat export's
    /// finding. Counted per check (a case on one backend).
    pub classes: BTreeMap<String, ClassCount>,
    /// With several backends, the same per backend.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub by_backend: Vec<BackendCount>,
    /// With cases written in ShapesSpec, the same per spec API.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub by_spec_api: Vec<SpecApiCount>,
    /// Per spec API of the filed groups: what their records' twins (the same model under the
    /// other API) showed. Filled from the records when the reports are written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub twins: Vec<TwinCount>,
    /// Share of cases eager accepted (1 - invalid / cases).
    pub validity_rate: f64,
    /// The whole run, reduction included.
    pub elapsed_s: f64,
    /// Checking speed: the cases this run checked over its case phase.
    pub cases_per_s: f64,
    /// On `--resume`, the cases this run checked itself (the rest were checked before it);
    /// `elapsed_s` and `cases_per_s` are this run's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_now: Option<u64>,
    /// Classes whose new groups fail the run.
    pub fail_on: Vec<Class>,
    /// New root causes of the classes in `fail_on` (a new signature of a known root cause
    /// does not count).
    pub new_failing: u64,
    pub known_findings: u64,
    /// Known-issue entries that matched no group of this run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stale_known: Vec<KnownIssue>,
    /// The workers of the run that wrote this: how many were retired for their memory
    /// (or request count) and replaced, and the most resident memory one had (MB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workers: Option<WorkerStats>,
    /// What the run could not finish (reductions cut by time or a signal).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    pub signatures: Vec<SignatureEntry>,
    /// The torch mechanisms behind the signatures: what reports, the exit code and junit
    /// count first.
    #[serde(default)]
    pub root_causes: Vec<RootCauseEntry>,
}

impl Summary {
    /// How many cases and how fast: "600 cases in 60.0 s (10.0 cases/s)", and on a resume
    /// what this run itself checked, so a resume with nothing left reads as such and not
    /// as "0.0 cases/s".
    pub fn pace(&self) -> String {
        match self.checked_now {
            Some(0) => format!(
                "{} cases, all checked before this resume ({:.1} s)",
                self.cases, self.elapsed_s
            ),
            Some(k) => format!(
                "{} cases, {k} of them in this resume's {:.1} s ({:.1} cases/s)",
                self.cases, self.elapsed_s, self.cases_per_s
            ),
            None => format!(
                "{} cases in {:.1} s ({:.1} cases/s)",
                self.cases, self.elapsed_s, self.cases_per_s
            ),
        }
    }

    pub fn new(
        seed: u64,
        torch: &str,
        backend: &str,
        lines: &[ResultLine],
        known: &KnownIssues,
        elapsed_s: f64,
        fail_on: &[Class],
    ) -> Summary {
        let mut verdicts: BTreeMap<String, u64> = BTreeMap::new();
        let mut classes: BTreeMap<String, ClassCount> = BTreeMap::new();
        let names: Vec<&str> = backend.split(',').collect();
        let mut by_backend: Vec<BackendCount> = if names.len() > 1 {
            names
                .iter()
                .map(|n| BackendCount {
                    backend: n.to_string(),
                    ..Default::default()
                })
                .collect()
        } else {
            vec![]
        };
        let class_key = |l: &ResultLine| match l.class {
            _ if l.same_as_export => SAME_AS_EXPORT.to_string(),
            Some(c) => c.name().to_string(),
            None => l.verdict.name().to_string(),
        };
        for l in lines {
            *verdicts.entry(l.verdict.name().to_string()).or_default() += 1;
            classes.entry(class_key(l)).or_default().cases += 1;
            let b = l.backend.map_or(names[0], |b| b.name());
            if let Some(bc) = by_backend.iter_mut().find(|x| x.backend == b) {
                bc.checks += 1;
                bc.seconds_per_check += l.seconds;
                bc.classes.entry(class_key(l)).or_default().cases += 1;
            }
        }
        for bc in &mut by_backend {
            bc.seconds_per_check /= bc.checks.max(1) as f64;
        }
        let checks = lines.len() as u64;
        let cases = lines
            .iter()
            .map(|l| l.index)
            .collect::<std::collections::BTreeSet<_>>()
            .len() as u64;
        let invalid = verdicts.get("invalid").copied().unwrap_or(0);
        let signatures = group(lines, known);
        for e in &signatures {
            if let Some(c) = e.class {
                let cc = classes.entry(c.name().to_string()).or_default();
                cc.groups += 1;
                cc.new_groups += e.is_new() as u64;
                let b = e.signature.split('/').next().unwrap_or("");
                if let Some(bc) = by_backend.iter_mut().find(|x| x.backend == b) {
                    let cc = bc.classes.entry(c.name().to_string()).or_default();
                    cc.groups += 1;
                    cc.new_groups += e.is_new() as u64;
                }
            }
        }
        let by_spec_api = spec_api_counts(lines, &class_key, &signatures);
        let causes = root_causes(&signatures);
        for r in &causes {
            if let Some(c) = r.class {
                let cc = classes.entry(c.name().to_string()).or_default();
                cc.root_causes += 1;
                cc.new_root_causes += r.is_new() as u64;
            }
        }
        let failing = |r: &&RootCauseEntry| r.class.is_some_and(|c| fail_on.contains(&c));
        let stale_known = known.stale(
            signatures
                .iter()
                .flat_map(|e| [e.signature.as_str(), e.root_cause.as_str()]),
        );
        Summary {
            schema_version: SUMMARY_SCHEMA_VERSION,
            shapefuzz: env!("CARGO_PKG_VERSION").to_string(),
            generator_version: crate::r#gen::GENERATOR_VERSION,
            seed,
            shard: None,
            status: RunStatus::Finished,
            torch: torch.to_string(),
            backend: backend.to_string(),
            cases,
            verdicts,
            classes,
            by_backend,
            by_spec_api,
            twins: vec![],
            validity_rate: if checks == 0 {
                1.0
            } else {
                1.0 - invalid as f64 / checks as f64
            },
            elapsed_s,
            cases_per_s: cases as f64 / elapsed_s.max(1e-9),
            checked_now: None,
            fail_on: fail_on.to_vec(),
            new_failing: causes.iter().filter(failing).filter(|r| r.is_new()).count() as u64,
            known_findings: signatures
                .iter()
                .filter(|e| e.is_finding() && !e.is_new())
                .count() as u64,
            stale_known,
            workers: None,
            notes: vec![],
            signatures,
            root_causes: causes,
        }
    }

    /// 0 when no new group of a failing class was found, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        if self.new_failing > 0 { 1 } else { 0 }
    }

    fn groups_of(&self, class: Class) -> impl Iterator<Item = &SignatureEntry> {
        self.signatures
            .iter()
            .filter(move |e| e.class == Some(class))
    }

    /// The class table of the reports: every class (its cases and groups, `true`), then
    /// pass, invalid and poisoned when there were any (cases only, `false`).
    pub fn class_rows(&self) -> Vec<(&'static str, ClassCount, bool)> {
        let classes = Class::ALL.iter().map(|c| {
            let cc = self.classes.get(c.name()).cloned().unwrap_or_default();
            (c.name(), cc, true)
        });
        let others = ["pass", "invalid", "poisoned", SAME_AS_EXPORT]
            .into_iter()
            .filter_map(|o| self.classes.get(o).map(|cc| (o, cc.clone(), false)));
        classes.chain(others).collect()
    }

    /// The per-backend table of a campaign on several backends (markdown): checks per class
    /// with their groups, and the mean seconds of a check.
    pub fn backend_table(&self) -> String {
        use std::fmt::Write;
        let cols = BackendCount::COLUMNS;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "| backend | checks | {} | other | s/check |",
            cols.map(row_name).join(" | ")
        );
        let _ = writeln!(s, "|---|---|{}---|---|", "---|".repeat(cols.len()));
        for b in &self.by_backend {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {:.2} |",
                md(&b.backend),
                b.checks,
                cols.map(|k| b.cell(k)).join(" | "),
                b.other(),
                b.seconds_per_check
            );
        }
        s
    }

    /// The per-spec-API table (markdown): checks per class with their groups and root
    /// causes, and the mean seconds of a check.
    pub fn spec_api_table(&self) -> String {
        use std::fmt::Write;
        let cols = BackendCount::COLUMNS;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "| spec API | checks | {} | other | s/check |",
            cols.map(row_name).join(" | ")
        );
        let _ = writeln!(s, "|---|---|{}---|---|", "---|".repeat(cols.len()));
        for a in &self.by_spec_api {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {:.2} |",
                md(&a.api),
                a.checks,
                cols.map(|k| a.cell(k)).join(" | "),
                a.other(),
                a.seconds_per_check
            );
        }
        s
    }

    /// One line per class: `bug 3 groups (2 new), portability 14, expected 9`.
    pub fn class_line(&self) -> String {
        // with several backends a class is counted per check (a case on one backend)
        let counted = if self.by_backend.is_empty() {
            "case(s)"
        } else {
            "check(s)"
        };
        Class::ALL
            .iter()
            .map(|c| {
                let cc = self.classes.get(c.name()).cloned().unwrap_or_default();
                format!(
                    "{} {} group(s) ({} new) in {} {counted}",
                    c.name(),
                    cc.groups,
                    cc.new_groups,
                    cc.cases
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// `summary.md`; `detail(signature)` gives the reproducer (or note) of a group that has
    /// a finding record, `None` for the others.
    pub fn markdown(&self, detail: &dyn Fn(&SignatureEntry) -> Option<String>) -> String {
        let mut s = String::new();
        self.markdown_header(&mut s);
        self.markdown_groups(&mut s, detail);
        self.markdown_run(&mut s);
        self.markdown_twins(&mut s);
        self.markdown_verdicts(&mut s);
        trim_markdown(s, SUMMARY_MD_LIMIT)
    }

    /// The title, the run's state, its one line of facts, what fails it, and its notes.
    fn markdown_header(&self, s: &mut String) {
        use std::fmt::Write;
        let _ = writeln!(s, "# shapefuzz campaign\n");
        match self.status {
            RunStatus::Running => {
                let _ = writeln!(
                    s,
                    "**In progress:** written while cases still ran; findings are as seen, not yet reduced.\n"
                );
            }
            RunStatus::Stopped => {
                let _ = writeln!(
                    s,
                    "**Stopped** before its limit by a signal; `--resume` continues it.\n"
                );
            }
            RunStatus::Finished => {}
        }
        let shard = self
            .shard
            .as_ref()
            .map(|k| format!(" (shard {})", md(k)))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "seed {}{shard} · torch {} · backend {} · shapefuzz {} (generator {}) · {} · validity {:.1}%\n",
            self.seed,
            md(&self.torch),
            md(&self.backend),
            md(&self.shapefuzz),
            self.generator_version,
            self.pace(),
            self.validity_rate * 100.0
        );
        let fail_on: Vec<&str> = self.fail_on.iter().map(|c| c.name()).collect();
        let _ = writeln!(
            s,
            "**{} new root cause(s) of {} (these fail the run); {} known group(s).**\n",
            self.new_failing,
            fail_on.join(", "),
            self.known_findings
        );
        for n in &self.notes {
            let _ = writeln!(s, "{}\n", md(n));
        }
    }

    /// "The run": cases per class, per backend and per spec API.
    fn markdown_run(&self, s: &mut String) {
        use std::fmt::Write;
        let _ = writeln!(s, "\n## The run\n");
        let counted = if self.by_backend.is_empty() {
            "cases"
        } else {
            "checks"
        };
        let _ = writeln!(
            s,
            "| class | {counted} | root causes | new root causes | groups | new groups |\n|---|---|---|---|---|---|"
        );
        for (name, cc, grouped) in self.class_rows() {
            let name = row_name(name);
            if grouped {
                let _ = writeln!(
                    s,
                    "| {name} | {} | {} | {} | {} | {} |",
                    cc.cases, cc.root_causes, cc.new_root_causes, cc.groups, cc.new_groups
                );
            } else {
                let _ = writeln!(s, "| {name} | {} | | | | |", cc.cases);
            }
        }
        if !self.by_backend.is_empty() {
            let _ = writeln!(
                s,
                "\nPer backend: checks (groups). A backend's finding that is the exported program's own is counted as *same as export* and forms no group.\n"
            );
            let _ = writeln!(s, "{}", self.backend_table());
        }
        if !self.by_spec_api.is_empty() {
            let _ = writeln!(
                s,
                "\nPer spec API (`dim`: torch.export.Dim, `shapes`: ShapesSpec, `additional`: AdditionalInputs, `collection`: ShapesCollection): checks (groups, root causes).\n"
            );
            let _ = writeln!(s, "{}", self.spec_api_table());
        }
    }

    /// The groups by what their twin under the other spec API shows.
    fn markdown_twins(&self, s: &mut String) {
        use std::fmt::Write;
        if !self.twins.is_empty() {
            let _ = writeln!(
                s,
                "\nThe same models under the other spec API (each bug and portability group's record is checked once more, its spec written in the other API): groups by what the twin shows. *clean*: no bug or portability finding, the group is its API's own; *same-culprit*: the same line of the model is to blame, under either API.\n"
            );
            let _ = writeln!(
                s,
                "| groups in | twin in | groups | {} |",
                TwinCount::OUTCOMES.join(" | ")
            );
            let _ = writeln!(
                s,
                "|---|---|---|{}",
                "---|".repeat(TwinCount::OUTCOMES.len())
            );
            for t in &self.twins {
                let other = if t.api == "dim" { "shapes" } else { "dim" };
                let _ = writeln!(
                    s,
                    "| {} | {other} | {} | {} |",
                    md(&t.api),
                    t.groups,
                    TwinCount::OUTCOMES
                        .map(|o| t.outcomes.get(o).copied().unwrap_or(0).to_string())
                        .join(" | ")
                );
            }
        }
    }

    /// Cases per verdict, and the known-issue entries that matched nothing.
    fn markdown_verdicts(&self, s: &mut String) {
        use std::fmt::Write;
        let _ = writeln!(s, "\n| verdict | cases |\n|---|---|");
        for (v, c) in &self.verdicts {
            let _ = writeln!(s, "| {v} | {c} |");
        }
        if !self.stale_known.is_empty() {
            let _ = writeln!(
                s,
                "\n**Known-issue entries that matched nothing** (fixed upstream, or worth a look):\n"
            );
            for k in &self.stale_known {
                let _ = writeln!(s, "- `{}` {}", md_code(&k.pattern), link_md(&k.link));
            }
        }
    }

    /// The groups of `markdown`, by class: bugs by root cause, portability notes, expected
    /// and unjudged groups as tables.
    fn markdown_groups(&self, s: &mut String, detail: &dyn Fn(&SignatureEntry) -> Option<String>) {
        use std::fmt::Write;
        let header = |s: &mut String, e: &SignatureEntry| {
            let _ = writeln!(s, "#### `{}`\n", md_code(&e.signature));
            let _ = writeln!(
                s,
                "{} case(s) ({}); first: index {} (case seed {}); smallest: index {} (case seed {}, size {}).\n",
                e.count,
                md(&e.verdicts_text()),
                e.first.index,
                e.first.case_seed,
                e.smallest.index,
                e.smallest.case_seed,
                e.smallest.size
            );
            match &e.known {
                Some(k) if e.known_by_root_cause => {
                    let _ = writeln!(
                        s,
                        "A new signature of a known root cause: {} {}\n",
                        link_md(&k.link),
                        md(&k.note)
                    );
                }
                Some(k) => {
                    let _ = writeln!(s, "Known: {} {}\n", link_md(&k.link), md(&k.note));
                }
                None => {}
            }
            let _ = writeln!(s, "> {}\n", md(e.message.lines().next().unwrap_or("")));
        };
        // Per root cause: its key and members, then each member with its detail.
        let by_cause = |s: &mut String, class: Class| {
            for r in self.root_causes.iter().filter(|r| r.class == Some(class)) {
                let _ = writeln!(s, "### Root cause `{}`\n", md_code(&r.key));
                let _ = writeln!(
                    s,
                    "{} signature(s), {} case(s){}.\n",
                    r.signatures.len(),
                    r.count,
                    match &r.known {
                        Some(k) => format!("; known: {}", link_md(&k.link)),
                        None => "; new".into(),
                    }
                );
                for sig in &r.signatures {
                    if let Some(e) = self.signatures.iter().find(|e| &e.signature == sig) {
                        header(s, e);
                        if let Some(d) = detail(e) {
                            let _ = writeln!(s, "{d}\n");
                        }
                    }
                }
            }
        };
        if self.groups_of(Class::Bug).next().is_some() {
            let _ = writeln!(s, "\n## Bugs (torch broke its contract)\n");
            by_cause(s, Class::Bug);
        }
        if self.groups_of(Class::Portability).next().is_some() {
            let _ = writeln!(
                s,
                "\n## Notes for model authors (portability: silently wrong answers at 0/1 first, then specializations the model does not force)\n"
            );
            by_cause(s, Class::Portability);
        }
        let exp: Vec<&SignatureEntry> = self.groups_of(Class::Expected).collect();
        if !exp.is_empty() {
            let _ = writeln!(
                s,
                "\n## Expected ({} group(s), {} case(s): torch.export working as documented)\n",
                exp.len(),
                exp.iter().map(|e| e.count).sum::<u64>()
            );
            let _ = writeln!(s, "| group | cases | first case seed |\n|---|---|---|");
            for e in exp {
                let _ = writeln!(
                    s,
                    "| `{}` | {} | {} |",
                    md_code(&e.signature),
                    e.count,
                    e.first.case_seed
                );
            }
        }
        let unjudged: Vec<&SignatureEntry> =
            self.signatures.iter().filter(|e| !e.is_finding()).collect();
        if !unjudged.is_empty() {
            let _ = writeln!(s, "\n## Not judged (generator problems, poisoned cases)\n");
            for e in unjudged {
                let _ = writeln!(
                    s,
                    "- `{}`: {} case(s), first case seed {}",
                    md_code(&e.signature),
                    e.count,
                    e.first.case_seed
                );
            }
        }
    }

    /// Fills in each group's finding record and repro command from the files in
    /// `findings_dir` (paths relative to `out` when inside it).
    pub fn attach_records(&mut self, out: &Path, findings_dir: &Path) {
        for e in &mut self.signatures {
            if !matches!(e.class, Some(Class::Bug | Class::Portability)) {
                continue;
            }
            let file = findings_dir.join(crate::corpus::signature_file_name(&e.signature));
            if !file.is_file() {
                continue;
            }
            let shown = file
                .strip_prefix(out)
                .unwrap_or(&file)
                .display()
                .to_string();
            e.repro = Some(format!(
                "shapefuzz repro --format issue {}",
                crate::escape::shell_word(&file.display().to_string())
            ));
            e.record = Some(shown);
        }
    }

    /// `junit.xml`: a test case per bug and portability root cause, its member signatures
    /// in its body (new in a failing class = failure, known = skipped), and one for the expected groups together. `body` gives
    /// the reduced reproducer a failure shows.
    pub fn junit(&self, body: &dyn Fn(&SignatureEntry) -> Option<String>) -> String {
        use std::fmt::Write;
        let groups: Vec<&RootCauseEntry> = self
            .root_causes
            .iter()
            .filter(|e| matches!(e.class, Some(Class::Bug | Class::Portability)))
            .collect();
        let fails =
            |e: &RootCauseEntry| e.is_new() && e.class.is_some_and(|c| self.fail_on.contains(&c));
        let failures = groups.iter().filter(|e| fails(e)).count();
        let skipped = groups.iter().filter(|e| !e.is_new()).count();
        let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            s,
            "<testsuites><testsuite name=\"shapefuzz\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\" time=\"{:.3}\">",
            groups.len() + 2,
            self.elapsed_s
        );
        s.push_str("  <properties>\n");
        let mut props = vec![
            ("seed", self.seed.to_string()),
            ("torch", self.torch.clone()),
            ("backend", self.backend.clone()),
            ("shapefuzz", self.shapefuzz.clone()),
            ("generator_version", self.generator_version.to_string()),
            ("cases", self.cases.to_string()),
            ("status", format!("{:?}", self.status).to_lowercase()),
        ];
        if let Some(k) = &self.shard {
            props.push(("shard", k.clone()));
        }
        for (k, v) in props {
            let _ = writeln!(
                s,
                "    <property name=\"{k}\" value=\"{}\"/>",
                xml_escape(&v)
            );
        }
        s.push_str("  </properties>\n");
        let _ = writeln!(
            s,
            "  <testcase classname=\"shapefuzz.campaign\" name=\"{} cases, validity {:.1}%\"/>",
            self.cases,
            self.validity_rate * 100.0
        );
        let exp = self.groups_of(Class::Expected).count();
        let _ = writeln!(
            s,
            "  <testcase classname=\"shapefuzz.expected\" name=\"{exp} expected group(s)\"/>"
        );
        for rc in groups {
            let members: Vec<&SignatureEntry> = rc
                .signatures
                .iter()
                .filter_map(|sig| self.signatures.iter().find(|e| &e.signature == sig))
                .collect();
            let Some(e) = members.first().copied() else {
                continue;
            };
            let class = rc.class.map_or("-", Class::name);
            let _ = write!(
                s,
                "  <testcase classname=\"shapefuzz.{}\" name=\"{}\" time=\"{:.3}\">",
                xml_escape(class),
                xml_escape(&rc.key),
                members.iter().map(|m| m.seconds).sum::<f64>()
            );
            let mut detail = format!("{} case(s)\n{}\n", rc.count, e.message);
            detail.push_str("signatures:\n");
            for m in &members {
                detail.push_str(&format!("  {} ({} case(s))\n", m.signature, m.count));
            }
            if let Some(r) = &e.record {
                detail.push_str(&format!("record: {r}\n"));
            }
            if let Some(r) = &e.repro {
                detail.push_str(&format!("report: {r}\n"));
            }
            if let Some(b) = body(e) {
                detail.push_str(&format!("\n{b}"));
            }
            let message = e.message.clone();
            let e = rc;
            match &e.known {
                Some(k) => {
                    let _ = write!(
                        s,
                        "<skipped message=\"known: {} {}\"/>",
                        xml_escape(&k.link),
                        xml_escape(&k.note)
                    );
                }
                None if fails(e) => {
                    let _ = write!(
                        s,
                        "<failure message=\"{}\">{}</failure>",
                        xml_escape(message.lines().next().unwrap_or("")),
                        xml_escape(&detail)
                    );
                }
                None => {
                    let _ = write!(s, "<system-out>{}</system-out>", xml_escape(&detail));
                }
            }
            let _ = writeln!(s, "</testcase>");
        }
        s.push_str("</testsuite></testsuites>\n");
        s
    }
}

fn md(s: &str) -> String {
    crate::escape::markdown_text(s)
}

fn md_code(s: &str) -> String {
    crate::escape::markdown_code(s)
}

fn xml_escape(s: &str) -> String {
    crate::escape::xml(s)
}
