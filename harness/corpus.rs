//! Storage: a campaign's `results.jsonl` and the finding records kept per signature.
//!
//! `results.jsonl` gets one line per finished case, appended and flushed as the case
//! completes, so a killed campaign loses at most the cases in flight. On reopening, a torn
//! last line (no newline, or not JSON) is cut off and reported; everything before it is
//! kept. A `FindingRecord` is a case plus what it showed, written atomically (temp file and
//! rename) so a reader never sees half of one.

use crate::escape::is_version;
use crate::ir::Case;
use crate::oracle::{Backend, Cause, Class, Contract, EdgeOutcome, Verdict};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// One finished case of a campaign.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResultLine {
    /// Position in the campaign's case list.
    pub index: u64,
    /// The generator seed of this case (`shapefuzz gen --swarm --seed` rebuilds it), a
    /// string in JSON (see `seed_string`).
    #[serde(with = "seed_string")]
    pub case_seed: u64,
    pub verdict: Verdict,
    /// What the finding means under torch.export's contract (none for pass, invalid,
    /// poisoned).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<Class>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract: Option<Contract>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    pub message: String,
    /// The group key (see `CheckResult::signature`).
    pub signature: Option<String>,
    /// The torch mechanism the group belongs to (see `oracle::root_cause_key`); reports
    /// recompute it from the fields above, so lines written before it existed group too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_cause: Option<String>,
    pub ops: Vec<String>,
    /// The backend the case was checked on (absent: the campaign's first backend).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<crate::oracle::Backend>,
    /// The backend's finding is the exported program's own on this case (see
    /// `CheckResult::same_as_export`): no group of its own.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub same_as_export: bool,
    /// The spec API the case is written in, when it is not the `Dim` API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec_api: Option<crate::ir::SpecApi>,
    /// Exported with `prefer_deferred_runtime_asserts_over_guards=True`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deferred_asserts: bool,
    /// Size of the case (inputs + nodes), to find the smallest per signature.
    pub size: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<Cause>,
    /// Every 0/1 probe: its sizes and `rejected` / `matches` / `differs` / `eager-fails`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub edge: Vec<EdgeRecord>,
    pub seconds: f64,
    /// When the case finished (Unix time, seconds), and where its time went.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timings: Option<crate::oracle::Timings>,
}

/// Longest time a case or one of its stages can have taken (a little over the longest
/// timeout, a year), and the latest Unix time a line can have been written (year 5138).
const MAX_CASE_SECONDS: f64 = 4e7;
const MAX_UNIX_TIME: f64 = 1e11;

impl ResultLine {
    /// Its numbers, which reports sum, sort and chart: finite and in a range that makes
    /// sense, named when not (an infinite time would make a chart's axis endless).
    pub fn check(&self) -> Result<(), String> {
        let in_range = |field: &str, x: f64, max: f64| {
            if x.is_finite() && (0.0..=max).contains(&x) {
                Ok(())
            } else {
                let x = if x.abs() < 1e6 {
                    x.to_string()
                } else {
                    format!("{x:e}")
                };
                Err(format!("`{field}` is {x}, outside 0..={max:e}"))
            }
        };
        in_range("seconds", self.seconds, MAX_CASE_SECONDS)?;
        if let Some(at) = self.at {
            in_range("at", at, MAX_UNIX_TIME)?;
        }
        if let Some(t) = &self.timings {
            for (field, x) in [
                ("timings.render_s", t.render_s),
                ("timings.ipc_s", t.ipc_s),
                ("timings.load_s", t.load_s),
                ("timings.eager_s", t.eager_s),
                ("timings.export_s", t.export_s),
                ("timings.inspect_s", t.inspect_s),
                ("timings.probes_s", t.probes_s),
                ("timings.total_s", t.total_s),
            ] {
                in_range(field, x, MAX_CASE_SECONDS)?;
            }
        }
        if self.size > 1 << 20 {
            return Err(format!("`size` is {}, above any case's", self.size));
        }
        Ok(())
    }
}

/// Seeds are full 64-bit numbers: JSON readers that hold numbers as doubles (`jq`,
/// JavaScript, GitHub's `fromJSON`) would round one above 2^53 to another case's seed, so
/// they are written as decimal strings. Numbers are still read, for files written before.
pub mod seed_string {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(seed: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&seed.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Seed {
            Text(String),
            Number(u64),
        }
        match Seed::deserialize(d)? {
            Seed::Number(n) => Ok(n),
            Seed::Text(t) => t
                .parse()
                .map_err(|_| serde::de::Error::custom(format!("not a seed: {t:?}"))),
        }
    }
}

/// A 0/1 probe as `results.jsonl` records it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EdgeRecord {
    pub sizes: Vec<i64>,
    pub outcome: String,
}

impl From<&EdgeOutcome> for EdgeRecord {
    fn from(e: &EdgeOutcome) -> Self {
        EdgeRecord {
            sizes: e.sizes.clone(),
            outcome: e.outcome().to_string(),
        }
    }
}

/// What a campaign directory already holds.
#[derive(Debug, Default)]
pub struct Results {
    pub lines: Vec<ResultLine>,
    /// Bytes cut from the end of the file because the last line was torn.
    pub torn_bytes: usize,
}

/// Reads `results.jsonl`, cutting a torn last line off the file itself so that appends
/// continue from a clean line boundary.
pub fn open_results(path: &Path) -> anyhow::Result<Results> {
    let r = read_results(path)?;
    if r.torn_bytes > 0 {
        let len = std::fs::metadata(path)?.len();
        let f = std::fs::OpenOptions::new().write(true).open(path)?;
        f.set_len(len - r.torn_bytes as u64)?;
    }
    Ok(r)
}

/// Largest `results.jsonl` read: about a million cases.
pub const MAX_RESULTS_BYTES: u64 = 2 << 30;

/// Reads `results.jsonl` without changing it; a torn last line is counted, not kept.
pub fn read_results(path: &Path) -> anyhow::Result<Results> {
    let text = match crate::ir::read_capped(path, MAX_RESULTS_BYTES) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Results::default()),
        Err(e) => anyhow::bail!("{}: cannot read: {e}", path.display()),
    };
    let mut lines = vec![];
    let mut good_end = 0usize;
    let mut start = 0usize;
    while start < text.len() {
        let Some(nl) = text[start..].iter().position(|&b| b == b'\n') else {
            break;
        };
        let line = &text[start..start + nl];
        match serde_json::from_slice::<ResultLine>(line) {
            Ok(r) => {
                if let Err(e) = r.check() {
                    anyhow::bail!(
                        "{}: line {}: {e}; the file is damaged: move it away to start over",
                        path.display(),
                        lines.len() + 1
                    );
                }
                lines.push(r)
            }
            Err(_) if start + nl + 1 == text.len() => break, // torn but newline-terminated
            Err(e) => anyhow::bail!(
                "{}: line {} is not a result ({e}); the file is damaged in the middle: move it away to start over",
                path.display(),
                lines.len() + 1
            ),
        }
        start += nl + 1;
        good_end = start;
    }
    let torn_bytes = text.len() - good_end;
    Ok(Results { lines, torn_bytes })
}

/// Held while a result line is written: a process that must exit at once (a second
/// signal) takes it first, so it never leaves half a line behind.
pub static RESULT_WRITE: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Appends result lines, one write and flush per line.
pub struct ResultsWriter {
    file: std::fs::File,
}

impl ResultsWriter {
    pub fn append(path: &Path) -> anyhow::Result<ResultsWriter> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| anyhow::anyhow!("{}: cannot open for appending: {e}", path.display()))?;
        Ok(ResultsWriter { file })
    }

    pub fn write(&mut self, r: &ResultLine) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(r).expect("results serialize");
        line.push(b'\n');
        let _whole_line = RESULT_WRITE.lock().unwrap_or_else(|e| e.into_inner());
        self.file.write_all(&line)?;
        self.file.flush()
    }
}

/// A stored finding: the case and what it showed on which torch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FindingRecord {
    pub signature: String,
    pub backend: Backend,
    pub verdict: Verdict,
    /// The contract outcome, which fixes the class (bug / portability / expected).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract: Option<Contract>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    pub message: String,
    /// The culprit: guard, error or decision, the IR node on its line, the torch site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<Cause>,
    /// The export error's traceback as the worker saw it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceback: Option<String>,
    /// torch's suggested fixes and what applying them did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    pub torch: String,
    /// The shapefuzz that wrote it and its generator's version: a campaign seed means
    /// this case only under the same generator version; the case itself is the ground truth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shapefuzz: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generator: Option<u32>,
    /// Where it came from: `seed <n>` of a campaign, `reduced from ...`, or a file.
    pub origin: String,
    /// Sizes (one per symbol) at which eager and the exported program part ways.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe: Option<Vec<i64>>,
    /// The working rewrite, when a respelling of the causing node passes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workaround: Option<Case>,
    /// Per input dim: what was asked, the trace region, what torch kept and accepts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dims: Vec<crate::oracle::DimReport>,
    /// The same model under the other spec API, checked beside it (`triage::check_twin`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub twin: Option<crate::oracle::Twin>,
    pub case: Case,
}

impl FindingRecord {
    pub fn load(path: &Path) -> anyhow::Result<FindingRecord> {
        let text = crate::ir::read_bounded(path)
            .map_err(|e| anyhow::anyhow!("{}: cannot read: {e}", path.display()))?;
        let raw: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "{}: not a finding record ({e}); fix or remove the file",
                path.display()
            )
        })?;
        // Check the embedded case through the case loader, for its version and validity.
        let case_text = raw.get("case").map(|c| c.to_string()).unwrap_or_default();
        Case::from_json(&case_text, &path.display().to_string())?;
        let record: FindingRecord = serde_json::from_value(raw).map_err(|e| {
            anyhow::anyhow!(
                "{}: not a finding record ({e}); fix or remove the file",
                path.display()
            )
        })?;
        record.check().map_err(|e| {
            anyhow::anyhow!(
                "{}: not a finding record ({e}); fix or remove the file",
                path.display()
            )
        })?;
        Ok(record)
    }

    /// What a record's strings may hold, beyond their JSON types. Records travel between
    /// machines and repositories: the signature is parsed against the grammar shapefuzz
    /// writes (`backend/class/contract/op/site` or `backend/verdict/message`) and must agree
    /// with the record's backend, verdict and contract; one-line fields hold one line; the
    /// torch version looks like one. Every output still escapes what it writes.
    pub fn check(&self) -> Result<(), String> {
        let one_line = |field: &str, s: &str, max: usize| {
            if s.chars().count() > max {
                Err(format!("`{field}` is longer than {max} characters"))
            } else if s.chars().any(char::is_control) {
                Err(format!("`{field}` holds a control character"))
            } else {
                Ok(())
            }
        };
        one_line("signature", &self.signature, 1024)?;
        one_line("origin", &self.origin, 4096)?;
        if let Some(t) = &self.twin {
            if t.message.chars().count() > 16384 {
                return Err("`twin`: its message is longer than 16384 characters".into());
            }
            if t.at_probe
                .as_deref()
                .is_some_and(|o| !["matches", "differs", "rejected", "eager-fails"].contains(&o))
            {
                return Err(
                    "`twin`: at_probe is not matches, differs, rejected or eager-fails".into(),
                );
            }
        }
        if !is_version(&self.torch) {
            return Err("`torch` is not a version string".into());
        }
        if self.shapefuzz.as_deref().is_some_and(|v| !is_version(v)) {
            return Err("`shapefuzz` is not a version string".into());
        }
        // A crash or hang is what the worker did, whatever else a record claims.
        match (self.contract, self.verdict) {
            (Some(Contract::Crash), v) if v != Verdict::Crash => {
                return Err("`contract` crash with another `verdict`".into());
            }
            (Some(Contract::Hang), v) if v != Verdict::Hang => {
                return Err("`contract` hang with another `verdict`".into());
            }
            _ => {}
        }
        let mut parts = self.signature.splitn(5, '/');
        let mut next = |what: &str| {
            parts
                .next()
                .filter(|p| !p.is_empty())
                .ok_or_else(|| format!("`signature` has no {what}"))
        };
        if next("backend")? != self.backend.name() {
            return Err("`signature` names another backend than `backend`".into());
        }
        let second = next("class or verdict")?;
        match self.contract {
            Some(c) => {
                if second != c.class().name() || next("contract")? != c.name() {
                    return Err("`signature` disagrees with `contract`".into());
                }
                let op = next("op")?;
                if !op
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_.:-".contains(c))
                {
                    return Err("`signature` has an op that is not an op kind".into());
                }
                next("site")?;
            }
            None if second != self.verdict.name() => {
                return Err("`signature` disagrees with `verdict`".into());
            }
            None => {}
        }
        Ok(())
    }

    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        write_atomic(path, serde_json::to_string_pretty(self)?.as_bytes())
    }
}

/// What a stored file holds: a finding record, or a plain case.
pub enum Stored {
    Record(Box<FindingRecord>),
    Case(Case),
}

/// Loads a finding record or a case file, telling them apart by the record's `case` field.
pub fn load_stored(path: &Path) -> anyhow::Result<Stored> {
    let text = crate::ir::read_bounded(path)
        .map_err(|e| anyhow::anyhow!("{}: cannot read: {e}", path.display()))?;
    let is_record =
        serde_json::from_str::<serde_json::Value>(&text).is_ok_and(|v| v.get("case").is_some());
    Ok(if is_record {
        Stored::Record(Box::new(FindingRecord::load(path)?))
    } else {
        Stored::Case(Case::from_json(&text, &path.display().to_string())?)
    })
}

/// Writes through a temp file and a rename, so readers see the old or the new file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file"),
        std::process::id()
    ));
    // A full disk or a read-only directory leaves no temp file behind.
    let written = std::fs::write(&tmp, bytes)
        .map_err(|e| anyhow::anyhow!("{}: {e}", tmp.display()))
        .and_then(|()| {
            std::fs::rename(&tmp, path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
        });
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// A file name for a signature: readable, short, and unique by a hash of the whole.
pub fn signature_file_name(signature: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut slug: String = signature
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    while slug.contains("__") {
        slug = slug.replace("__", "_");
    }
    let slug: String = slug.trim_matches('_').chars().take(60).collect();
    let hash = Sha256::digest(signature.as_bytes());
    format!(
        "{}_{:02x}{:02x}{:02x}{:02x}.json",
        slug.trim_end_matches('_'),
        hash[0],
        hash[1],
        hash[2],
        hash[3]
    )
}

/// Finding records (`*.json` holding a `signature` and a `case`) and plain case files
/// under a directory, sorted by path. A directory is anyone's: symbolic links to
/// directories are not followed (no loops, nothing outside the tree), a linked file counts
/// only when it resolves inside the tree, and the walk stops at `MAX_SCAN_FILES` files.
pub fn scan_dir(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let root = std::fs::canonicalize(dir)
        .map_err(|e| anyhow::anyhow!("{}: cannot read: {e}", dir.display()))?;
    let mut out = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d)
            .map_err(|e| anyhow::anyhow!("{}: cannot read: {e}", d.display()))?;
        for e in entries {
            let e = e?;
            let p = e.path();
            let ty = e.file_type()?;
            let is_json = p.extension().is_some_and(|x| x == "json");
            if ty.is_dir() {
                stack.push(p);
            } else if ty.is_symlink() {
                let inside =
                    std::fs::canonicalize(&p).is_ok_and(|t| t.starts_with(&root) && t.is_file());
                if inside && is_json {
                    out.push(p);
                }
            } else if is_json {
                if !ty.is_file() {
                    // A pipe or device named like a case would block or never end.
                    if let Err(e) = crate::ir::open_regular(&p) {
                        anyhow::bail!("{}: {e}", p.display());
                    }
                }
                out.push(p);
            }
            if out.len() > MAX_SCAN_FILES {
                anyhow::bail!(
                    "{}: more than {MAX_SCAN_FILES} case files; point at a smaller directory",
                    dir.display()
                );
            }
        }
    }
    out.sort();
    // A file linked from inside the tree is still one file.
    let mut seen = std::collections::HashSet::new();
    out.retain(|p| seen.insert(std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())));
    Ok(out)
}

/// Most files one directory walk collects.
pub const MAX_SCAN_FILES: usize = 100_000;

/// Counts per key, sorted, for reports.
pub type Counts = BTreeMap<String, u64>;
