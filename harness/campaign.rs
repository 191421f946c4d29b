//! Campaigns: generate, check and record cases until a case count or a time budget is
//! reached, reduce what was found, and report; `merge`, which joins the directories of a
//! campaign's shards; and `replay`, which re-checks stored findings on a torch.
//!
//! Promises: case `i` of a campaign with seed `S` is always `generate(case_seed(S, i))`
//! under the same generator version, so the same seed, generator and torch give the same
//! cases; shard `K/N` takes the indices `i` with `i % N == K - 1`. Every finished case is
//! one flushed line of `results.jsonl`; `--resume` skips the indices already recorded, so
//! after any kill each index ends with exactly one verdict. While cases run, each new group
//! is filed as seen and the reports are rewritten, so even a run killed outright leaves
//! readable reports. `--time` bounds the whole run, reduction included. A stop (SIGINT,
//! SIGTERM) takes no new cases, gives the ones in flight a short grace, ends reductions,
//! and still writes the reports.

use crate::corpus::{self, FindingRecord, ResultLine, ResultsWriter};
use crate::r#gen::{GENERATOR_VERSION, GenConfig};
use crate::ir::Case;
use crate::oracle::{self, Backend, CheckResult, Class, Contract, Pool, Verdict};
use crate::report::{GroupDetail, KnownIssues, RunStatus, SignatureEntry, Summary};
use crate::repro::Repro;
use crate::triage;
use anyhow::{Context, Result, bail};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

/// When a campaign stops taking cases.
#[derive(Clone, Copy, Debug)]
pub enum Limit {
    /// The case indices below this count (those of this shard).
    Cases(u64),
    /// This long for the whole run, reduction included.
    Time(Duration),
}

/// Most shards a campaign splits into.
pub const MAX_SHARDS: u64 = 1 << 20;

/// One part of a campaign's case list: index `i` belongs to shard `index` of `count` when
/// `i % count == index`. The shards of one seed never overlap and together are the whole
/// list, so runners that each take one shard and `merge` their directories get the cases of
/// one unsharded campaign.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// 0-based; shown and parsed 1-based (`K/N`).
    pub index: u64,
    pub count: u64,
}

impl Shard {
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Parses `K/N` with `1 <= K <= N`.
    pub fn parse(s: &str) -> Result<Shard, String> {
        let err = || format!("{s:?} is not a shard: expected K/N with 1 <= K <= N, e.g. 2/4");
        let (k, n) = s.trim().split_once('/').ok_or_else(err)?;
        let k: u64 = k.trim().parse().map_err(|_| err())?;
        let n: u64 = n.trim().parse().map_err(|_| err())?;
        if k == 0 || k > n || n > MAX_SHARDS {
            return Err(err());
        }
        Ok(Shard {
            index: k - 1,
            count: n,
        })
    }

    /// Whether a shard read from a file is one (a count of 0 would divide by zero).
    pub fn is_valid(self) -> bool {
        self.count >= 1 && self.count <= MAX_SHARDS && self.index < self.count
    }

    pub fn holds(self, i: u64) -> bool {
        i % self.count == self.index
    }

    /// How many of the indices below `n` are this shard's.
    pub fn cases_below(self, n: u64) -> u64 {
        if n <= self.index {
            0
        } else {
            (n - self.index).div_ceil(self.count)
        }
    }

    pub fn is_whole(self) -> bool {
        self.count == 1
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index + 1, self.count)
    }
}

/// How a campaign shows its progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// A live bar, for a terminal.
    Bar,
    /// A plain line this often, for logs (CI runners have no terminal).
    Lines(Duration),
    /// Nothing but errors and the last line.
    Quiet,
}

pub struct CampaignConfig {
    /// `None` on `--resume` means "the seed the campaign was started with".
    pub seed: Option<u64>,
    pub limit: Limit,
    pub shard: Shard,
    pub out: PathBuf,
    /// Every case is checked on each, in this order (one export shared, see
    /// `oracle::check_many`).
    pub backends: Vec<Backend>,
    pub known: KnownIssues,
    pub resume: bool,
    pub progress: Progress,
    /// Announce every new group as it appears (expected ones too, not only bug and
    /// portability).
    pub verbose: bool,
    /// Reduce each finding with at most this many oracle calls (`None`: keep it as seen).
    pub reduce: Option<usize>,
    /// Longest the reduction phase may take. With `Limit::Time` it is taken from the end of
    /// the time (default: a quarter of it); with a case count it has no default bound.
    pub reduce_time: Option<Duration>,
    /// Where finding records go (default: `<out>/findings`).
    pub findings: Option<PathBuf>,
    /// Classes whose new groups fail the run (exit 1).
    pub fail_on: Vec<Class>,
    /// One generator configuration for every case; `None` draws one per case (swarm).
    pub gen_config: Option<GenConfig>,
    /// The percent of cases written with ShapesSpec (`--spec-api`); `None`: the
    /// configuration's own.
    pub shapes_percent: Option<u32>,
    /// When a `Limit::Time` starts counting: the command's start, so that `--time` bounds
    /// the wall time from start to exit, torch's start-up in the workers included.
    pub clock_start: Instant,
}

/// What `campaign.json` records, so that `--resume` continues the same case list and
/// `merge` joins only parts of one campaign.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CampaignMeta {
    #[serde(with = "corpus::seed_string")]
    pub seed: u64,
    /// The first backend (the only one, in a campaign of one).
    pub backend: Backend,
    /// Every backend, when there are several.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub backends: Vec<Backend>,
    pub schema_version: u32,
    /// The generator that turns this seed's indices into cases (absent: written before
    /// generator versions were recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generator_version: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shapefuzz: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<Shard>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gen_config: Option<GenConfig>,
    /// `--spec-api` as the percent of cases written with ShapesSpec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shapes_percent: Option<u32>,
    /// The known-issues file the campaign was started (or last resumed) with: `--resume`,
    /// `report` and `merge` use it unless given another.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known: Option<PathBuf>,
    /// The classes whose new groups fail the campaign (`--fail-on`), for `--resume`,
    /// `report` and `merge` to keep.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_on: Option<Vec<Class>>,
}

impl CampaignMeta {
    /// The classes that fail a command on this campaign: `given`, else what it recorded,
    /// else bug.
    pub fn fail_on_or(&self, given: Option<&[Class]>) -> Vec<Class> {
        given
            .map(<[Class]>::to_vec)
            .or_else(|| self.fail_on.clone())
            .unwrap_or_else(|| vec![Class::Bug])
    }

    /// The known issues for a command on this campaign: `given` when there is one, else the
    /// file the campaign recorded (said once), else none. A recorded file that is gone is
    /// said and skipped: the campaign's results are still worth a report.
    pub fn known_issues(&self, given: Option<&Path>) -> Result<KnownIssues> {
        if let Some(p) = given {
            return KnownIssues::load(p);
        }
        match &self.known {
            Some(p) if p.is_file() => {
                eprintln!(
                    "shapefuzz: known issues from {} (recorded in campaign.json; --known overrides)",
                    p.display()
                );
                KnownIssues::load(p)
            }
            Some(p) => {
                eprintln!(
                    "shapefuzz: campaign.json names the known-issues file {}, which is not there: no group counts as known",
                    p.display()
                );
                Ok(KnownIssues::none())
            }
            None => Ok(KnownIssues::none()),
        }
    }

    /// Reads `<dir>/campaign.json`.
    pub fn load(dir: &Path) -> Result<CampaignMeta> {
        let path = dir.join("campaign.json");
        let text = crate::ir::read_bounded(&path)
            .map_err(|e| anyhow::anyhow!("{}: cannot read: {e}", path.display()))?;
        let m: CampaignMeta = serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{}: not a campaign record ({e})", path.display()))?;
        if m.shard.is_some_and(|s| !s.is_valid()) {
            bail!(
                "{}: not a campaign record (its shard is not K/N with 1 <= K <= N)",
                path.display()
            );
        }
        Ok(m)
    }

    fn shard(&self) -> Shard {
        self.shard.unwrap_or(Shard::WHOLE)
    }

    /// The campaign's backends, in order.
    pub fn backends(&self) -> Vec<Backend> {
        if self.backends.is_empty() {
            vec![self.backend]
        } else {
            self.backends.clone()
        }
    }

    /// The backends as `--backend` takes them: `export,decomposed`.
    pub fn backend_names(&self) -> String {
        backend_names(&self.backends())
    }

    /// Why this campaign's indices would not be the same cases under this shapefuzz.
    fn generator_mismatch(&self, dir: &Path) -> Option<String> {
        match self.generator_version {
            Some(v) if v != GENERATOR_VERSION => Some(format!(
                "{} was started by shapefuzz {} with generator version {v}; this shapefuzz's generator is version {GENERATOR_VERSION}, which makes other cases from the same seed: finish it with that shapefuzz, or start a new --out",
                dir.display(),
                self.shapefuzz.as_deref().unwrap_or("(unknown)")
            )),
            _ => None,
        }
    }
}

/// The case behind a case seed: from the campaign's configuration, or swarm.
pub fn case_for(config: Option<&GenConfig>, shapes_percent: Option<u32>, case_seed: u64) -> Case {
    crate::r#gen::generate_with(case_seed, config, shapes_percent)
}

/// The generator seed of case `index` of a campaign: SplitMix64 over both, so campaigns
/// with nearby seeds do not share cases.
pub fn case_seed(seed: u64, index: u64) -> u64 {
    fn mix(mut z: u64) -> u64 {
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    mix(seed ^ mix(index))
}

/// The backend a group was found on: its signature's first part.
pub fn group_backend(signature: &str) -> Option<Backend> {
    Backend::parse(signature.split('/').next()?)
}

/// `export,decomposed`: a backend list as `--backend` takes it.
pub fn backend_names(backends: &[Backend]) -> String {
    backends
        .iter()
        .map(|b| b.name())
        .collect::<Vec<_>>()
        .join(",")
}

/// A fresh campaign seed from the operating system's randomness.
pub fn random_seed() -> u64 {
    rand::random()
}

/// The size a report compares cases by.
pub fn case_size(case: &Case) -> usize {
    case.inputs.len() + case.nodes.len()
}

/// Turns a check into the line `results.jsonl` stores.
pub fn result_line(index: u64, case_seed: u64, case: &Case, r: &oracle::CheckResult) -> ResultLine {
    ResultLine {
        index,
        case_seed,
        verdict: r.verdict,
        class: r.class(),
        contract: r.contract(),
        kind: r.kind().map(str::to_string),
        message: r.message().lines().next().unwrap_or("").to_string(),
        signature: r.signature(),
        root_cause: r.root_cause(),
        ops: case.op_kinds(),
        backend: Some(r.backend),
        same_as_export: r.same_as_export,
        spec_api: Some(case.spec_api()).filter(|a| *a != crate::ir::SpecApi::Dim),
        deferred_asserts: case.deferred_asserts,
        size: case_size(case),
        cause: r.cause().cloned(),
        edge: r.edge.iter().map(corpus::EdgeRecord::from).collect(),
        seconds: r.timings.total_s,
        at: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
            .map(|d| (d.as_millis() as f64) / 1000.0),
        timings: Some(r.timings.clone()),
    }
}

/// Reads `campaign.json` of a campaign to resume (checking it is the same campaign), or
/// writes it for a new one (refusing a directory that already holds one).
fn open_meta(cfg: &CampaignConfig, results_path: &Path) -> Result<CampaignMeta> {
    let out = &cfg.out;
    let meta_path = out.join("campaign.json");
    Ok(match (cfg.resume, meta_path.exists()) {
        (true, true) => {
            let m = CampaignMeta::load(out)?;
            if cfg.seed.is_some_and(|s| s != m.seed)
                || m.backends() != cfg.backends
                || (cfg.gen_config.is_some() && cfg.gen_config != m.gen_config)
                || (cfg.shapes_percent.is_some() && cfg.shapes_percent != m.shapes_percent)
            {
                crate::usage_bail!(
                    "{} was started with seed {} on --backend {} and another generator configuration; resume it with those, or use another --out",
                    out.display(),
                    m.seed,
                    m.backend_names()
                );
            }
            if m.shard() != cfg.shard {
                crate::usage_bail!(
                    "{} holds shard {} of its campaign; resume it with --shard {}",
                    out.display(),
                    m.shard(),
                    m.shard()
                );
            }
            if let Some(why) = m.generator_mismatch(out) {
                bail!("{why}");
            }
            // Resumed with another known-issues file: the next command remembers that one.
            let mut m = m;
            let known = cfg.known.path().map(Path::to_path_buf).or(m.known.clone());
            let fail_on = Some(cfg.fail_on.clone());
            if (&known, &fail_on) != (&m.known, &m.fail_on) {
                m.known = known;
                m.fail_on = fail_on;
                corpus::write_atomic(&meta_path, serde_json::to_string_pretty(&m)?.as_bytes())?;
            }
            m
        }
        (true, false) => crate::usage_bail!(
            "{} holds no campaign to resume (no campaign.json)",
            out.display()
        ),
        (false, _) => {
            if results_path.metadata().is_ok_and(|m| m.len() > 0) {
                crate::usage_bail!(
                    "{} already holds a campaign; pass --resume to continue it, or choose another --out",
                    out.display()
                );
            }
            let m = CampaignMeta {
                seed: cfg.seed.unwrap_or_else(random_seed),
                backend: cfg.backends.first().copied().unwrap_or_default(),
                backends: if cfg.backends.len() > 1 {
                    cfg.backends.clone()
                } else {
                    vec![]
                },
                schema_version: crate::ir::SCHEMA_VERSION,
                generator_version: Some(GENERATOR_VERSION),
                shapefuzz: Some(env!("CARGO_PKG_VERSION").to_string()),
                shard: (!cfg.shard.is_whole()).then_some(cfg.shard),
                gen_config: cfg.gen_config.clone(),
                shapes_percent: cfg.shapes_percent,
                known: cfg.known.path().map(Path::to_path_buf),
                fail_on: Some(cfg.fail_on.clone()),
            };
            corpus::write_atomic(&meta_path, serde_json::to_string_pretty(&m)?.as_bytes())?;
            m
        }
    })
}

/// The terminal's progress bar: cases, rate and live counts per class.
fn progress_bar(limit: Limit, shard: Shard, progress: Progress) -> indicatif::ProgressBar {
    let bar = match (limit, progress) {
        (Limit::Cases(n), Progress::Bar) => indicatif::ProgressBar::new(shard.cases_below(n)),
        (_, Progress::Bar) => indicatif::ProgressBar::new_spinner(),
        _ => indicatif::ProgressBar::hidden(),
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {pos}{len} cases ({per_sec}) {wide_msg}",
        )
        .expect("valid template")
        .with_key(
            "len",
            |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                if let Some(l) = s.len() {
                    let _ = write!(w, "/{l}");
                }
            },
        )
        .with_key(
            "per_sec",
            |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.1}/s", s.per_sec());
            },
        ),
    );
    bar
}

/// Takes the campaign directory's advisory lock (`<out>/.lock`, holding the owner's pid),
/// creating the directory. A second campaign on the same directory gets an error naming the
/// holder; the lock goes with the process, however it ends.
pub fn lock_out_dir(out: &Path) -> Result<std::fs::File> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let path = out.join(".lock");
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = std::io::Read::read_to_string(&mut file, &mut holder);
            let holder: String = holder
                .trim()
                .chars()
                .filter(char::is_ascii_digit)
                .take(10)
                .collect();
            bail!(
                "{} is in use by another shapefuzz campaign (pid {}); wait for it to end, or use another --out",
                out.display(),
                if holder.is_empty() {
                    "unknown"
                } else {
                    &holder
                }
            );
        }
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(e).with_context(|| format!("locking {}", path.display()));
        }
    }
    file.set_len(0)?;
    std::io::Write::write_all(&mut file, format!("{}\n", std::process::id()).as_bytes())?;
    Ok(file)
}

/// Everything about `--out` that can be wrong, found before any worker starts: a campaign
/// record that does not fit the options, a results file that cannot be read or appended to.
/// Returns the campaign's seed (a new campaign's is chosen and recorded here).
pub fn preflight(cfg: &CampaignConfig) -> Result<u64> {
    let results_path = cfg.out.join("results.jsonl");
    let meta = open_meta(cfg, &results_path)?;
    // Only opened here: reading it (and dropping a torn last line) is the campaign's.
    if results_path.exists() {
        crate::ir::open_regular(&results_path)
            .with_context(|| format!("reading {}", results_path.display()))?;
    }
    ResultsWriter::append(&results_path)
        .with_context(|| format!("opening {} to append", results_path.display()))?;
    Ok(meta.seed)
}

/// How long cases in flight may run on after a stop or the end of the case time before
/// their workers are killed and the cases left for `--resume`.
const STOP_GRACE: Duration = Duration::from_secs(3);
/// Shortest gap between two rewrites of the reports while cases run.
const REPORT_EVERY: Duration = Duration::from_secs(1);

/// The smallest case this run saw of a bug or portability group, with its check: what the
/// group's record holds until reduction, and where reduction starts without a re-check.
struct Seen {
    key: (usize, u64),
    case: Case,
    check: CheckResult,
}

/// A group reduced while cases still ran (`pre_reduce`), from the case `key` names.
struct PreReduced {
    key: (usize, u64),
    case: Case,
    check: CheckResult,
    tests: usize,
    /// Seconds its checks kept a worker busy.
    seconds: f64,
    /// The reduction ended by itself (not cut by the end of the case phase).
    complete: bool,
}

impl PreReduced {
    /// Whether the filing of group `e` takes this reduction: when it started from the
    /// group's smallest case, as the filing's would (so a run bounded by cases stays
    /// deterministic), or, in a run bounded by time, whose cases depend on timing anyway,
    /// from whatever case was the smallest then.
    fn serves(&self, e: &SignatureEntry, timed: bool) -> bool {
        timed || self.key == (e.smallest.size, e.smallest.index)
    }
}

/// Whether a group seen in this run is one campaigns reduce: a new one (no known issue),
/// not a hang or crash, whose every test would cost the timeout.
fn reducible(cfg: &CampaignConfig, signature: &str, seen: &Seen) -> bool {
    cfg.known.matching(signature).is_none()
        && !matches!(
            seen.check.contract(),
            Some(Contract::Hang | Contract::Crash)
        )
}

/// What the case threads share.
#[derive(Default)]
struct Live {
    lines: Vec<ResultLine>,
    counts: BTreeMap<&'static str, u64>,
    /// Every group so far and its class.
    groups: BTreeMap<String, Option<Class>>,
    seen: HashMap<String, Seen>,
    /// `summary.md`'s text per group with a record.
    details: BTreeMap<String, GroupDetail>,
    /// Groups found since the last progress line.
    new_groups: u64,
    /// Announcements of new groups, printed by the ticker.
    announcements: Vec<String>,
    /// The reports are behind the results.
    dirty: bool,
    abandoned: u64,
    /// Cases this run checked (on every backend), and those a resumed run found done.
    checked: u64,
    resumed: u64,
}

impl GroupDetail {
    /// What the reports show of the record at `record`.
    fn of_record(rec: &FindingRecord, record: &Path) -> GroupDetail {
        let repro = Repro::from_record(rec);
        GroupDetail {
            markdown: group_detail(&repro, record),
            script: repro.script(),
            workaround_diff: repro.workaround_diff(),
            culprit: repro.culprit_code(),
            dims: repro.dims.clone(),
            spec_api: rec.case.spec_api(),
            twin: repro
                .twin
                .as_ref()
                .map(|t| (t.outcome(), t.describe(repro.probe.as_deref()))),
        }
    }
}

/// Files a finding record unless the one already there for the same group is better: a
/// smaller case, or as small with a workaround where the new one has none, or as small and
/// as worked around with a twin where the new one has none (a reduced record is never
/// replaced by a case as seen). Returns what is on disk.
fn file_record(path: &Path, record: &FindingRecord) -> Result<FindingRecord> {
    if let Ok(old) = FindingRecord::load(path)
        && old.signature == record.signature
    {
        let (old_size, new_size) = (case_size(&old.case), case_size(&record.case));
        let extras = |r: &FindingRecord| (r.workaround.is_some(), r.twin.is_some());
        let keep = old_size < new_size || (old_size == new_size && extras(&old) >= extras(record));
        if keep {
            return Ok(old);
        }
    }
    record.save(path)?;
    Ok(record.clone())
}

/// The parts of a run its reports need to say where they came from.
struct RunContext<'a> {
    meta: &'a CampaignMeta,
    cfg: &'a CampaignConfig,
    torch: &'a str,
    findings_dir: &'a Path,
    started: Instant,
    /// When the case phase ended (reduction time is not checking time).
    cases_ended: std::sync::OnceLock<Instant>,
}

impl RunContext<'_> {
    /// The reports' view of the run; `new_cases` were checked by this run (not resumed).
    fn summary(&self, lines: &[ResultLine], status: RunStatus, new_cases: u64) -> Summary {
        let mut s = Summary::new(
            self.meta.seed,
            self.torch,
            &self.meta.backend_names(),
            lines,
            &self.cfg.known,
            self.started.elapsed().as_secs_f64(),
            &self.cfg.fail_on,
        );
        s.shard = self.meta.shard.map(|k| k.to_string());
        s.status = status;
        let checking = self
            .cases_ended
            .get()
            .map_or(self.started.elapsed(), |end| *end - self.started);
        s.cases_per_s = new_cases as f64 / checking.as_secs_f64().max(1e-9);
        s.checked_now = (new_cases < s.cases).then_some(new_cases);
        s.attach_records(&self.cfg.out, self.findings_dir);
        s
    }

    fn origin(&self, index: u64, case_seed: u64) -> String {
        format!(
            "campaign seed {}, index {index}, case seed {case_seed} (generator version {GENERATOR_VERSION})",
            self.meta.seed
        )
    }
}

/// Runs a campaign to its limit (or a stop) and writes its reports. The reports are also
/// rewritten while cases run, after each new group, so a run killed outright still leaves
/// readable reports of everything it found.
pub fn run(pool: &Pool, cfg: &CampaignConfig, stop: &AtomicBool) -> Result<Summary> {
    let out = &cfg.out;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let results_path = out.join("results.jsonl");
    let meta = open_meta(cfg, &results_path)?;
    let shard = meta.shard();
    let previous = corpus::open_results(&results_path)?;
    if previous.torn_bytes > 0 {
        eprintln!(
            "shapefuzz: dropped a torn last line ({} bytes) from {}; that case runs again",
            previous.torn_bytes,
            results_path.display()
        );
    }
    let backends = meta.backends();
    // The backends each index has a verdict on: a kill between the lines of one case's
    // backends leaves some, and resume checks the rest.
    let mut done: HashMap<u64, Vec<Backend>> = HashMap::new();
    for l in &previous.lines {
        done.entry(l.index)
            .or_default()
            .push(l.backend.unwrap_or(meta.backend));
    }
    let todo = |i: u64| -> Vec<Backend> {
        backends
            .iter()
            .copied()
            .filter(|b| !done.get(&i).is_some_and(|d| d.contains(b)))
            .collect()
    };
    let whole_cases = done.keys().filter(|i| todo(**i).is_empty()).count() as u64;
    let writer = Mutex::new(ResultsWriter::append(&results_path)?);
    let findings_dir = cfg.findings.clone().unwrap_or_else(|| out.join("findings"));
    let started = Instant::now();
    let ctx = RunContext {
        meta: &meta,
        cfg,
        torch: &pool.env().torch_version,
        findings_dir: &findings_dir,
        started,
        cases_ended: std::sync::OnceLock::new(),
    };
    // A run bounded by time keeps, at its end, what filing its groups will need: reducing
    // those not reduced while cases ran, and looking for each one's workaround (the
    // ticker re-estimates it from the reductions so far), never more than `--reduce-time`
    // (a quarter of the run by default).
    let (reserve_cap, run_end) = match cfg.limit {
        Limit::Time(t) => {
            let reserve = match cfg.reduce {
                Some(_) => cfg.reduce_time.unwrap_or(t / 4).min(t),
                None => Duration::ZERO,
            };
            (reserve, Some(cfg.clock_start + t))
        }
        Limit::Cases(_) => (Duration::ZERO, None),
    };
    let reserve_ms =
        std::sync::atomic::AtomicU64::new(reserve_cap.min(FILING_SLACK).as_millis() as u64);
    let cases_end =
        || run_end.map(|e| e - Duration::from_millis(reserve_ms.load(Ordering::Relaxed)));
    let cases_over =
        || stop.load(Ordering::Relaxed) || cases_end().is_some_and(|e| Instant::now() >= e);
    let bar = progress_bar(cfg.limit, shard, cfg.progress);
    let mut live = Live::default();
    for l in &previous.lines {
        *live
            .counts
            .entry(l.class.map_or(l.verdict.name(), Class::name))
            .or_default() += 1;
        if let Some(sig) = &l.signature {
            live.groups.insert(sig.clone(), l.class);
        }
    }
    live.lines = previous.lines;
    live.resumed = whole_cases;
    bar.set_position(whole_cases);
    bar.enable_steady_tick(Duration::from_millis(200));
    let live = Mutex::new(live);
    let write_error: Mutex<Option<std::io::Error>> = Mutex::new(None);
    let threads_done = AtomicBool::new(false);
    let pre: Mutex<HashMap<String, PreReduced>> = Mutex::new(HashMap::new());
    let early_stop = AtomicBool::new(false);

    // Generation (rayon, in batches) feeds the checking threads through a bounded channel.
    let (tx, rx) = mpsc::sync_channel::<(u64, u64, Case, Vec<Backend>)>(64);
    let rx = Arc::new(Mutex::new(rx));
    let seed = meta.seed;
    let gen_config = meta.gen_config.clone();
    let shapes_percent = meta.shapes_percent;
    std::thread::scope(|s| {
        s.spawn(move || {
            let mut next = shard.index;
            loop {
                if cases_over() {
                    break;
                }
                let mut batch = vec![];
                while batch.len() < 32 {
                    if let Limit::Cases(n) = cfg.limit
                        && next >= n
                    {
                        break;
                    }
                    let left = todo(next);
                    if !left.is_empty() {
                        batch.push((next, left));
                    }
                    next = match next.checked_add(shard.count) {
                        Some(n) => n,
                        None => break,
                    };
                }
                if batch.is_empty() {
                    break;
                }
                let cases: Vec<(u64, u64, Case, Vec<Backend>)> = batch
                    .into_par_iter()
                    .map(|(i, left)| {
                        let cs = case_seed(seed, i);
                        (
                            i,
                            cs,
                            case_for(gen_config.as_ref(), shapes_percent, cs),
                            left,
                        )
                    })
                    .collect();
                for c in cases {
                    if tx.send(c).is_err() {
                        return;
                    }
                }
            }
        });
        let case_threads: Vec<_> = (0..pool.jobs())
            .map(|_| {
                let rx = rx.clone();
                let (writer, live, bar, write_error, ctx) =
                    (&writer, &live, &bar, &write_error, &ctx);
                s.spawn(move || {
                    loop {
                        if cases_over() {
                            break;
                        }
                        let Ok((index, cs, case, left)) = rx.lock().unwrap().recv() else {
                            break;
                        };
                        let results = oracle::check_many(pool, &case, &left);
                        if pool.is_aborting()
                            && results.iter().any(|r| r.verdict == Verdict::Poisoned)
                        {
                            live.lock().unwrap().abandoned += 1;
                            break;
                        }
                        let lines: Vec<ResultLine> = results
                            .iter()
                            .map(|r| result_line(index, cs, &case, r))
                            .collect();
                        let written = {
                            let mut w = writer.lock().unwrap();
                            lines.iter().try_for_each(|line| w.write(line))
                        };
                        if let Err(e) = written {
                            *write_error.lock().unwrap() = Some(e);
                            stop.store(true, Ordering::Relaxed);
                            break;
                        }
                        let mut l = live.lock().unwrap();
                        l.checked += 1;
                        for (line, r) in lines.into_iter().zip(results) {
                            l.record(ctx, line, &case, r);
                        }
                        drop(l);
                        bar.inc(1);
                    }
                    // Dropping the receiver's last handle stops the generator.
                    drop(rx);
                })
            })
            .collect();
        drop(rx);
        if let Some(budget) = cfg.reduce {
            let (live, ctx, pre, early_stop) = (&live, &ctx, &pre, &early_stop);
            s.spawn(move || pre_reduce(pool, ctx, live, budget, pre, early_stop));
        }
        // The ticker: progress lines, reports after new groups, and the end of a stop's
        // grace for cases in flight.
        s.spawn(|| {
            let mut stopping_since: Option<Instant> = None;
            let mut last_line = Instant::now();
            let mut last_report = Instant::now();
            while !threads_done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                if cases_over() {
                    let since = *stopping_since.get_or_insert_with(Instant::now);
                    if since.elapsed() >= STOP_GRACE {
                        pool.abort(true);
                    }
                }
                if cases_over() {
                    early_stop.store(true, Ordering::Relaxed);
                }
                let mut l = live.lock().unwrap();
                if cfg.reduce.is_some() && run_end.is_some() && !cases_over() {
                    let need = filing_estimate(ctx.cfg, &l, &pre.lock().unwrap(), pool.jobs());
                    reserve_ms.store(need.min(reserve_cap).as_millis() as u64, Ordering::Relaxed);
                }
                for a in std::mem::take(&mut l.announcements) {
                    match cfg.progress {
                        Progress::Bar => bar.println(a),
                        Progress::Lines(_) => eprintln!("{a}"),
                        Progress::Quiet => {}
                    }
                }
                bar.set_message(l.groups_text(cases_end()));
                if let Progress::Lines(every) = cfg.progress
                    && last_line.elapsed() >= every
                {
                    eprintln!("{}", l.progress_line(started, cases_end()));
                    l.new_groups = 0;
                    last_line = Instant::now();
                }
                if l.dirty && last_report.elapsed() >= REPORT_EVERY {
                    l.dirty = false;
                    let summary = ctx.summary(&l.lines, RunStatus::Running, l.checked);
                    let rendered = render_reports(&summary, &l.details, &l.lines);
                    drop(l);
                    if let Err(e) = rendered.and_then(|files| write_rendered(out, files)) {
                        eprintln!("shapefuzz: could not rewrite the reports: {e:#}");
                    }
                    last_report = Instant::now();
                }
            }
        });
        for t in case_threads {
            let _ = t.join();
        }
        // The reduction in flight is abandoned (its worker freed at once): what it had is
        // kept, and the filing goes on from it.
        early_stop.store(true, Ordering::Relaxed);
        if cfg.reduce.is_some() {
            pool.abort(true);
        }
        threads_done.store(true, Ordering::Relaxed);
    });
    let pre = pre.into_inner().unwrap();
    bar.finish_and_clear();
    pool.abort(false);
    let stopped_in_cases = stop.load(Ordering::Relaxed);
    if let Some(e) = write_error.into_inner().unwrap() {
        bail!("writing {}: {e}", results_path.display());
    }
    let mut live = live.into_inner().unwrap();
    live.lines.sort_by_key(|l| l.index);
    let _ = ctx.cases_ended.set(Instant::now());
    let summary = ctx.summary(&live.lines, RunStatus::Running, live.checked);
    let reduce_end = match (run_end, cfg.reduce_time) {
        (Some(end), _) => Some(end),
        (None, Some(t)) => Some(Instant::now() + t),
        (None, None) => None,
    };
    let filed = file_findings(
        pool,
        &ctx,
        &summary,
        &live.seen,
        &pre,
        &FilingConfig {
            reduce: cfg.reduce,
            progress: cfg.progress,
            deadline: reduce_end,
            stop,
            timed: matches!(cfg.limit, Limit::Time(_)),
        },
    )?;
    let status = if stop.load(Ordering::Relaxed) {
        RunStatus::Stopped
    } else {
        RunStatus::Finished
    };
    let mut summary = ctx.summary(&live.lines, status, live.checked);
    summary.notes = filed.notes;
    summary.workers = Some(crate::report::WorkerStats {
        recycles: pool.recycles.load(Ordering::Relaxed),
        peak_rss_mb: pool.peak_rss.load(Ordering::Relaxed) >> 20,
        forked: pool.forked.load(Ordering::Relaxed),
        spawned: pool.spawned.load(Ordering::Relaxed),
        killed: pool.kills.load(Ordering::Relaxed),
    });
    write_summaries(out, &summary, &filed.details, &live.lines)?;
    if stopped_in_cases {
        eprintln!(
            "shapefuzz: stopped after {} new case(s){}; `--resume` continues the campaign",
            live.checked,
            if live.abandoned > 0 {
                format!(
                    " ({} case(s) in flight abandoned, to run again on resume)",
                    live.abandoned
                )
            } else {
                String::new()
            }
        );
    } else if stop.load(Ordering::Relaxed) {
        eprintln!(
            "shapefuzz: stopped while reducing findings; their records hold the smallest cases found so far"
        );
    }
    Ok(summary)
}

impl Live {
    /// Takes one finished case: its line, counts, group, and for a bug or portability
    /// group a smaller case than before, its record as seen.
    fn record(&mut self, ctx: &RunContext, line: ResultLine, case: &Case, r: CheckResult) {
        *self
            .counts
            .entry(r.class().map_or(r.verdict.name(), Class::name))
            .or_default() += 1;
        let key = (line.size, line.index);
        if let Some(sig) = &line.signature
            && !self.groups.contains_key(sig)
        {
            self.groups.insert(sig.clone(), line.class);
            self.new_groups += 1;
            self.dirty = true;
            let loud = matches!(line.class, Some(Class::Bug | Class::Portability));
            if loud || ctx.cfg.verbose {
                let class = line.class.map_or(line.verdict.name(), Class::name);
                self.announcements.push(match ctx.cfg.known.matching(sig) {
                    Some(k) => format!("known {class} group: {sig} ({})", k.link),
                    None => format!("new {class} group: {sig}"),
                });
            }
        }
        if let Some(sig) = line.signature.clone()
            && matches!(line.class, Some(Class::Bug | Class::Portability))
            && self.seen.get(&sig).is_none_or(|s| key < s.key)
        {
            let repro = Repro::from_check(case, &r, None, ctx.torch);
            let path = ctx.findings_dir.join(corpus::signature_file_name(&sig));
            if let Some(mut record) = repro.to_record(&ctx.origin(line.index, line.case_seed)) {
                record.signature = sig.clone();
                match file_record(&path, &record) {
                    Ok(on_disk) => {
                        self.details
                            .insert(sig.clone(), GroupDetail::of_record(&on_disk, &path));
                        self.dirty = true;
                    }
                    Err(e) => eprintln!("shapefuzz: could not file a finding: {e:#}"),
                }
            }
            self.seen.insert(
                sig,
                Seen {
                    key,
                    case: case.clone(),
                    check: r,
                },
            );
        }
        self.lines.push(line);
    }

    /// Groups by class so far, e.g. `groups: bug 2, portability 5, expected 9`.
    fn groups_text(&self, cases_end: Option<Instant>) -> String {
        let mut by: BTreeMap<&str, u64> = BTreeMap::new();
        for c in self.groups.values().flatten() {
            *by.entry(c.name()).or_default() += 1;
        }
        let groups = Class::ALL
            .iter()
            .map(|c| format!("{} {}", c.name(), by.get(c.name()).unwrap_or(&0)))
            .collect::<Vec<_>>()
            .join(", ");
        let left = cases_end
            .map(|e| {
                format!(
                    "; {} left",
                    clock(e.saturating_duration_since(Instant::now()))
                )
            })
            .unwrap_or_default();
        format!("groups: {groups}{left}")
    }

    /// The plain progress line: elapsed, cases, rate, groups by class, new groups.
    fn progress_line(&self, started: Instant, cases_end: Option<Instant>) -> String {
        let t = started.elapsed();
        format!(
            "shapefuzz: [{}] {} cases ({:.1}/s); {}; {} new group(s) since the last line",
            clock(t),
            self.resumed + self.checked,
            self.checked as f64 / t.as_secs_f64().max(1e-9),
            self.groups_text(cases_end),
            self.new_groups
        )
    }
}

/// The least a run bounded by time keeps for filing: the last cases in flight, records,
/// reports.
const FILING_SLACK: Duration = Duration::from_secs(3);
/// A reduction's seconds, and an oracle call's, before any has been measured in the run
/// (BENCHMARKS.md's reductions: about 15 calls of 20-30 ms).
const REDUCTION_GUESS: Duration = Duration::from_secs(1);
const CALL_GUESS: Duration = Duration::from_millis(50);
/// A group's filing besides its reduction: the workaround search (a check per respelling
/// of its culprit) and its record, in oracle calls.
const FILING_CALLS_PER_GROUP: f64 = 2.0;

/// What filing the groups found so far would take on `jobs` workers: the reduction of each
/// new bug or portability group not yet reduced while cases ran, and the filing of every
/// group, at the cost (worker time, not waits) of the reductions made while cases ran;
/// with a quarter again as margin, plus `FILING_SLACK`.
fn filing_estimate(
    cfg: &CampaignConfig,
    live: &Live,
    pre: &HashMap<String, PreReduced>,
    jobs: usize,
) -> Duration {
    let jobs = jobs.max(1) as f64;
    let done: Vec<&PreReduced> = pre.values().filter(|p| p.complete).collect();
    let (reduction_s, call_s) = if done.is_empty() {
        (REDUCTION_GUESS.as_secs_f64(), CALL_GUESS.as_secs_f64())
    } else {
        let seconds: f64 = done.iter().map(|p| p.seconds).sum::<f64>();
        let calls = done.iter().map(|p| p.tests).sum::<usize>().max(1) as f64;
        (seconds / done.len() as f64, seconds / calls)
    };
    let pending = live
        .seen
        .iter()
        .filter(|(sig, s)| reducible(cfg, sig, s) && !pre.get(*sig).is_some_and(|p| p.complete))
        .count();
    let work =
        pending as f64 * reduction_s + live.seen.len() as f64 * FILING_CALLS_PER_GROUP * call_s;
    FILING_SLACK + Duration::from_secs_f64((1.25 * work / jobs).min(1e6))
}

/// Reduces groups while cases still run, bugs first, one group at a time beside the case
/// threads (so a reduction takes about one worker in `jobs + 1`), from each group's smallest
/// case at the time; `file_findings` uses the results. Stops, keeping what it has, when
/// `stop` is set at the end of the case phase. Only new bug and portability groups that are
/// not hangs or crashes are reduced, as at filing.
fn pre_reduce(
    pool: &Pool,
    ctx: &RunContext,
    live: &Mutex<Live>,
    budget: usize,
    pre: &Mutex<HashMap<String, PreReduced>>,
    stop: &AtomicBool,
) {
    let mut taken: HashSet<String> = HashSet::new();
    while !stop.load(Ordering::Relaxed) {
        let next = {
            let l = live.lock().unwrap();
            l.seen
                .iter()
                .filter(|(sig, s)| !taken.contains(*sig) && reducible(ctx.cfg, sig, s))
                .min_by_key(|(sig, s)| (s.check.class(), (*sig).clone()))
                .map(|(sig, s)| (sig.clone(), s.key, s.case.clone(), s.check.clone()))
        };
        let Some((sig, key, case, check)) = next else {
            std::thread::sleep(Duration::from_millis(200));
            continue;
        };
        taken.insert(sig.clone());
        let backend = group_backend(&sig).unwrap_or(ctx.meta.backend);
        let r = triage::reduce(
            pool,
            backend,
            &case,
            Some(check),
            budget,
            1,
            |_, _| Ok(()),
            Some(stop),
        );
        if let Ok(r) = r
            && r.check.signature().as_deref() == Some(sig.as_str())
        {
            let complete = !stop.load(Ordering::Relaxed);
            pre.lock().unwrap().insert(
                sig,
                PreReduced {
                    key,
                    case: r.case,
                    check: r.check,
                    tests: r.tests,
                    seconds: r.busy_seconds,
                    complete,
                },
            );
        }
    }
}

/// `1:02:03` or `2:03`.
fn clock(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// How `file_findings` reduces and files.
struct FilingConfig<'a> {
    reduce: Option<usize>,
    progress: Progress,
    /// When reduction must end (`None`: only the call budget bounds it).
    deadline: Option<Instant>,
    /// A signal: reductions stop with the smallest case so far.
    stop: &'a AtomicBool,
    /// The run is bounded by time (`Limit::Time`), not by a number of cases.
    timed: bool,
}

struct Filed {
    details: BTreeMap<String, GroupDetail>,
    notes: Vec<String>,
}

/// A finding record per bug and portability group in the findings directory: new groups
/// reduced (within the deadline and the call budget, never hangs or crashes, whose every
/// test costs the timeout), with the workaround a respelling of the culprit gives; the rest
/// filed as seen. Expected groups are counted in the reports and get no record.
fn file_findings(
    pool: &Pool,
    ctx: &RunContext,
    summary: &Summary,
    seen: &HashMap<String, Seen>,
    pre: &HashMap<String, PreReduced>,
    fc: &FilingConfig,
) -> Result<Filed> {
    let gen_config = ctx.meta.gen_config.as_ref();
    let findings: Vec<&SignatureEntry> = summary
        .signatures
        .iter()
        .filter(|e| matches!(e.class, Some(Class::Bug | Class::Portability)))
        .collect();
    let halt = AtomicBool::new(false);
    let finished = AtomicBool::new(false);
    let bar = match fc.progress {
        Progress::Bar => indicatif::ProgressBar::new(findings.len() as u64),
        _ => indicatif::ProgressBar::hidden(),
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] reducing {pos}/{len} groups (eta {eta}) {wide_msg}",
        )
        .expect("valid template"),
    );
    // A resumed campaign's groups that an earlier run already reduced from the same
    // smallest case keep their records: only what is new or not yet reduced is reduced.
    let reduced_before = |e: &SignatureEntry| -> Option<(FindingRecord, PathBuf)> {
        let path = ctx
            .findings_dir
            .join(corpus::signature_file_name(&e.signature));
        let rec = FindingRecord::load(&path).ok()?;
        let same = rec.signature == e.signature
            && rec.origin == ctx.origin(e.smallest.index, e.smallest.case_seed)
            && case_size(&rec.case) < e.smallest.size;
        same.then_some((rec, path))
    };
    let before: HashMap<&str, (FindingRecord, PathBuf)> = findings
        .iter()
        .filter_map(|e| reduced_before(e).map(|r| (e.signature.as_str(), r)))
        .collect();
    let to_reduce = findings
        .iter()
        .filter(|e| e.is_new() && !matches!(e.contract, Some(Contract::Hang | Contract::Crash)))
        .filter(|e| !before.contains_key(e.signature.as_str()))
        .count();
    if fc.reduce.is_some()
        && to_reduce > 0
        && !fc.stop.load(Ordering::Relaxed)
        && let Progress::Lines(_) = fc.progress
    {
        let early = findings
            .iter()
            .filter(|e| {
                pre.get(&e.signature)
                    .is_some_and(|p| p.complete && p.serves(e, fc.timed))
            })
            .count();
        eprintln!(
            "shapefuzz: reducing {to_reduce} new finding group(s){}{}",
            if early > 0 {
                format!(" ({early} reduced while cases ran)")
            } else {
                String::new()
            },
            fc.deadline
                .map(|d| format!(
                    " within {}",
                    clock(d.saturating_duration_since(Instant::now()))
                ))
                .unwrap_or_default()
        );
    }
    let details: Mutex<BTreeMap<String, GroupDetail>> = Mutex::new(BTreeMap::new());
    let (reduced, cut) = (
        std::sync::atomic::AtomicUsize::new(0),
        std::sync::atomic::AtomicUsize::new(0),
    );
    std::thread::scope(|s| -> Result<()> {
        // The watcher ends reductions at the deadline or a signal, and abandons the
        // candidate in flight.
        s.spawn(|| {
            while !finished.load(Ordering::Relaxed) {
                let late = fc.deadline.is_some_and(|d| Instant::now() >= d);
                if fc.stop.load(Ordering::Relaxed) || late {
                    // A candidate in flight is worth nothing now: its worker is freed at once.
                    halt.store(true, Ordering::Relaxed);
                    pool.abort(true);
                }
                let budget = fc
                    .reduce
                    .map(|b| format!("up to {b} oracle calls each"))
                    .unwrap_or_default();
                match fc.deadline {
                    Some(d) => bar.set_message(format!(
                        "{budget}; {} of reduction time left",
                        clock(d.saturating_duration_since(Instant::now()))
                    )),
                    None => bar.set_message(budget),
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        // Groups are reduced side by side, one per worker, each one candidate at a time: no
        // worker waits for a slower candidate of the same group, and a group's reduction
        // is the same whatever the timing. The list is in report order, bugs first.
        let next = std::sync::atomic::AtomicUsize::new(0);
        let file_one = |e: &SignatureEntry| -> Result<()> {
            let halted = || halt.load(Ordering::Relaxed);
            if let Some((rec, path)) = before.get(e.signature.as_str()) {
                details
                    .lock()
                    .unwrap()
                    .insert(e.signature.clone(), GroupDetail::of_record(rec, path));
                reduced.fetch_add(1, Ordering::Relaxed);
                bar.inc(1);
                return Ok(());
            }
            let path = ctx
                .findings_dir
                .join(corpus::signature_file_name(&e.signature));
            let from_run = seen
                .get(&e.signature)
                .filter(|s| s.key == (e.smallest.size, e.smallest.index));
            let worth = fc.reduce.is_some()
                && e.is_new()
                && !matches!(e.contract, Some(Contract::Hang | Contract::Crash));
            let early = pre
                .get(&e.signature)
                .filter(|p| worth && p.serves(e, fc.timed));
            let reduced_early = early
                .filter(|p| p.complete)
                .map(|p| (p.case.clone(), p.check.clone()));
            let partial = early.filter(|p| !p.complete && fc.timed);
            if worth && halted() && reduced_early.is_none() {
                cut.fetch_add(1, Ordering::Relaxed);
            }
            if reduced_early.is_none() && partial.is_none() && halted() && path.is_file() {
                // Filed as seen while cases ran (or by an earlier run); no time for more.
                if let Ok(rec) = FindingRecord::load(&path) {
                    details
                        .lock()
                        .unwrap()
                        .insert(e.signature.clone(), GroupDetail::of_record(&rec, &path));
                    bar.inc(1);
                    return Ok(());
                }
            }
            if reduced_early.is_none() && partial.is_none() && halted() && from_run.is_none() {
                bar.inc(1);
                return Ok(());
            }
            // A group is reduced on the backend that found it (its signature's first part).
            let backend = group_backend(&e.signature).unwrap_or(ctx.meta.backend);
            // A reduction cut by the end of the case phase goes on from where it was.
            let original = match (partial, from_run) {
                (Some(p), _) => p.case.clone(),
                (None, Some(s)) => s.case.clone(),
                (None, None) => case_for(gen_config, ctx.meta.shapes_percent, e.smallest.case_seed),
            };
            let first = match (partial, from_run) {
                (Some(p), _) => p.check.clone(),
                (None, Some(s)) => s.check.clone(),
                (None, None) => oracle::check_on(pool, &original, backend),
            };
            let budget = fc
                .reduce
                .map(|b| b.saturating_sub(partial.map_or(0, |p| p.tests)))
                .filter(|_| worth && !halted() && reduced_early.is_none());
            let (case, check) = match (reduced_early, budget) {
                (Some(done), _) => {
                    reduced.fetch_add(1, Ordering::Relaxed);
                    done
                }
                (None, Some(max_tests)) => match triage::reduce(
                    pool,
                    backend,
                    &original,
                    Some(first.clone()),
                    max_tests,
                    1,
                    |_, _| Ok(()),
                    Some(&halt),
                ) {
                    Ok(r) if r.check.signature().as_deref() == Some(e.signature.as_str()) => {
                        if halted() {
                            cut.fetch_add(1, Ordering::Relaxed);
                        } else {
                            reduced.fetch_add(1, Ordering::Relaxed);
                        }
                        (r.case, r.check)
                    }
                    // Not reproducible on its own (a flaky finding): keep it as seen.
                    _ => (original.clone(), first),
                },
                (None, None) => (original.clone(), first),
            };
            let workaround = if halted() {
                None
            } else {
                triage::find_workaround(pool, backend, &case, &check)
            };
            let mut repro = Repro::from_check(&case, &check, workaround, ctx.torch);
            if !halted() {
                repro.twin = triage::check_twin(pool, backend, &case, &check);
            }
            // The record is filed under the campaign's signature even if a re-check differs.
            repro.signature = Some(e.signature.clone());
            let record = repro
                .to_record(&ctx.origin(e.smallest.index, e.smallest.case_seed))
                .expect("a finding has a signature");
            let on_disk = file_record(&path, &record)?;
            details
                .lock()
                .unwrap()
                .insert(e.signature.clone(), GroupDetail::of_record(&on_disk, &path));
            bar.inc(1);
            Ok(())
        };
        let failed: Mutex<Option<anyhow::Error>> = Mutex::new(None);
        std::thread::scope(|filers| {
            for _ in 0..pool.jobs().min(findings.len()).max(1) {
                filers.spawn(|| {
                    while failed.lock().unwrap().is_none() {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(e) = findings.get(i) else { break };
                        if let Err(err) = file_one(e) {
                            failed.lock().unwrap().get_or_insert(err);
                        }
                    }
                });
            }
        });
        let result = match failed.into_inner().unwrap() {
            Some(e) => Err(e),
            None => Ok(()),
        };
        finished.store(true, Ordering::Relaxed);
        result
    })?;
    bar.finish_and_clear();
    pool.abort(false);
    let (reduced, cut) = (reduced.into_inner(), cut.into_inner());
    let details = details.into_inner().unwrap();
    let mut notes = vec![];
    if cut > 0 {
        let why = if fc.stop.load(Ordering::Relaxed) {
            "the run was stopped"
        } else {
            "the reduction time ran out (--time, --reduce-time)"
        };
        notes.push(format!(
            "{cut} of {to_reduce} new group(s) were filed as seen or partly reduced: {why}; shapefuzz reduce RECORD --out RECORD finishes one."
        ));
    }
    if fc.reduce.is_some()
        && to_reduce > 0
        && cut < to_reduce
        && let Progress::Lines(_) = fc.progress
    {
        eprintln!("shapefuzz: reduced {reduced} of {to_reduce} new group(s)");
    }
    Ok(Filed { details, notes })
}

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
fn render_reports(
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

fn write_rendered(out: &Path, files: Vec<(&'static str, String)>) -> Result<()> {
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
fn group_detail(repro: &Repro, record: &Path) -> String {
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

/// Joins the directories of one campaign's parts (its shards, or copies of it) into `out`,
/// holding its campaign lock:
/// results by index, finding records by group (the smallest case wins), `campaign.json`,
/// and the reports, regenerated. Needs no torch. Parts of different campaigns (seed,
/// backend, generator, its configuration) or torch versions are refused, and so is an
/// index that two parts recorded as different cases.
///
/// Shards must come whole: a shard given twice is refused before anything is written, and
/// a missing or unfinished one (a lost or failed runner) fails the merge after its reports
/// are written, naming the shard, unless `partial` accepts it; either way the reports say
/// so.
pub fn merge(
    out: &Path,
    parts: &[PathBuf],
    known: &KnownIssues,
    fail_on: &[Class],
    partial: bool,
) -> Result<Summary> {
    let Some(first_dir) = parts.first() else {
        bail!("nothing to merge: name the campaign directories");
    };
    let metas: Vec<CampaignMeta> = parts
        .iter()
        .map(|d| CampaignMeta::load(d))
        .collect::<Result<_>>()?;
    let first = &metas[0];
    for (d, m) in parts.iter().zip(&metas) {
        if let Some(why) = m.generator_mismatch(d) {
            bail!("{why}");
        }
        if (
            m.seed,
            m.backends(),
            &m.gen_config,
            m.shapes_percent,
            m.generator_version,
        ) != (
            first.seed,
            first.backends(),
            &first.gen_config,
            first.shapes_percent,
            first.generator_version,
        ) {
            bail!(
                "{} is part of another campaign than {} (seed {} against {}, or another backend, generator or configuration); only parts of one campaign merge",
                d.display(),
                first_dir.display(),
                m.seed,
                first.seed
            );
        }
    }
    let missing = missing_shards(parts, &metas)?;
    // Only now, with every part known to be one campaign's, is --out created (and held).
    let _lock = lock_out_dir(out)?;
    // A link in --out (a `findings` pointing elsewhere) would carry the merge's writes
    // out of the directory the user named.
    for entry in std::fs::read_dir(out).with_context(|| format!("reading {}", out.display()))? {
        let entry = entry?;
        if entry.file_type().is_ok_and(|t| t.is_symlink()) {
            bail!(
                "{} is a link; merge writes only into a directory of its own: remove it or merge into a new directory",
                entry.path().display()
            );
        }
    }
    let out_results = out.join("results.jsonl");
    if out_results.metadata().is_ok_and(|m| m.len() > 0) {
        bail!(
            "{} already holds a campaign; merge into a new directory",
            out.display()
        );
    }
    // What each part's last report says: its torch, its time, how far it got.
    // What each part's last report says; a part killed before its first report reads as
    // running, and its results still count.
    let mut torch: Option<(String, &PathBuf)> = None;
    let mut elapsed: f64 = 0.0;
    let mut status = RunStatus::Finished;
    // Shards that did not reach their limit (a runner that failed, was stopped, or died
    // before its first report): present, but they leave cases unchecked, as a lost one does.
    let mut unfinished: Vec<String> = vec![];
    for (d, m) in parts.iter().zip(&metas) {
        let facts = RunFacts::read(d);
        if let Some(k) = m.shard
            && facts.status != RunStatus::Finished
        {
            let why = match facts.status {
                RunStatus::Stopped => "stopped before its limit",
                _ => "never finished (no final report)",
            };
            unfinished.push(format!("shard {k} {why} ({})", d.display()));
        }
        if let Some(t) = facts.torch {
            match &torch {
                Some((have, from)) if *have != t => bail!(
                    "{} ran on torch {t}, {} on torch {have}: results of two torch versions do not merge (compare them with `replay --python`)",
                    d.display(),
                    from.display()
                ),
                _ => torch = Some((t, d)),
            }
        }
        elapsed = elapsed.max(facts.elapsed_s);
        status = status.least_done(facts.status);
    }
    // One line per index and backend (the campaign's first, for lines that name none).
    let mut by_index: BTreeMap<(u64, usize), ResultLine> = BTreeMap::new();
    let backends = first.backends();
    // Lines a part should not hold: refused when forged, counted when repeated or torn.
    let mut repeated: Vec<String> = vec![];
    let mut torn: Vec<String> = vec![];
    for (d, m) in parts.iter().zip(&metas) {
        let path = d.join("results.jsonl");
        let results = corpus::read_results(&path)?;
        if results.torn_bytes > 0 {
            torn.push(format!("{} ({} bytes)", path.display(), results.torn_bytes));
        }
        let mut own: std::collections::HashSet<(u64, Option<&str>)> = Default::default();
        for l in results.lines {
            if l.case_seed != case_seed(first.seed, l.index)
                || m.shard.is_some_and(|k| !k.holds(l.index))
            {
                bail!(
                    "{}: index {} with case seed {} is not a case of {} (seed {}): the line is forged or from another campaign; only parts of one campaign merge",
                    path.display(),
                    l.index,
                    l.case_seed,
                    m.shard
                        .map_or("this campaign".to_string(), |k| format!("shard {k}")),
                    first.seed
                );
            }
            if !own.insert((l.index, l.backend.map(Backend::name))) {
                repeated.push(format!("{} index {}", path.display(), l.index));
                continue;
            }
            let b = l.backend.unwrap_or(first.backend);
            let Some(slot) = backends.iter().position(|x| *x == b) else {
                bail!(
                    "{}: index {} was checked on {}, which is not one of the campaign's backends ({})",
                    path.display(),
                    l.index,
                    b.name(),
                    first.backend_names()
                );
            };
            let key = (l.index, slot);
            match by_index.get(&key) {
                Some(have) if have.case_seed != l.case_seed => bail!(
                    "{}: index {} is case seed {}, another part has {} there: not parts of one campaign",
                    path.display(),
                    l.index,
                    l.case_seed,
                    have.case_seed
                ),
                Some(_) => {}
                None => {
                    by_index.insert(key, l);
                }
            }
        }
    }
    let mut records: BTreeMap<String, FindingRecord> = BTreeMap::new();
    for d in parts {
        let dir = d.join("findings");
        if !dir.is_dir() {
            continue;
        }
        for f in corpus::scan_dir(&dir)? {
            let rec = FindingRecord::load(&f)?;
            let smaller = records
                .get(&rec.signature)
                .is_none_or(|have| case_size(&rec.case) < case_size(&have.case));
            if smaller {
                records.insert(rec.signature.clone(), rec);
            }
        }
    }
    let meta = CampaignMeta {
        shard: None,
        ..first.clone()
    };
    corpus::write_atomic(
        &out.join("campaign.json"),
        serde_json::to_string_pretty(&meta)?.as_bytes(),
    )?;
    let lines: Vec<ResultLine> = by_index.into_values().collect();
    let mut text = Vec::new();
    for l in &lines {
        text.extend(serde_json::to_vec(l)?);
        text.push(b'\n');
    }
    corpus::write_atomic(&out_results, &text)?;
    let findings_dir = out.join("findings");
    for rec in records.values() {
        file_record(
            &findings_dir.join(corpus::signature_file_name(&rec.signature)),
            rec,
        )?;
    }
    let note = format!(
        "Merged from {} part(s): {}.",
        parts.len(),
        parts
            .iter()
            .zip(&metas)
            .map(|(d, m)| match m.shard {
                Some(k) => format!("{} (shard {k})", d.display()),
                None => d.display().to_string(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut notes = vec![note];
    let mut gaps: Vec<String> = vec![];
    if !missing.is_empty() {
        gaps.push(format!("{} missing", shard_list(&missing)));
    }
    gaps.extend(unfinished);
    let gaps = gaps.join("; ");
    if !gaps.is_empty() {
        notes.push(format!(
            "Partial: {gaps}, so some of the campaign's cases were never checked."
        ));
    }
    if let Some(first) = repeated.first() {
        notes.push(format!(
            "{} repeated result line(s) kept once (first: {first}).",
            repeated.len()
        ));
    }
    if let Some(first) = torn.first() {
        notes.push(format!(
            "{} part(s) end in a torn line, left out (first: {first}).",
            torn.len()
        ));
    }
    for n in &notes[1..] {
        eprintln!("merge: {n}");
    }
    let facts = RunFacts {
        torch: torch.map(|(t, _)| t),
        elapsed_s: elapsed,
        status,
        notes,
    };
    let summary = regenerate(out, &facts, known, fail_on)?;
    if !gaps.is_empty() && !partial {
        bail!(
            "{gaps}: a lost or failed shard leaves its cases unchecked. The reports in {} cover what the shards checked; re-run the shard and merge again, or pass --partial to accept a partial campaign",
            out.display()
        );
    }
    Ok(summary)
}

/// The shards of the campaign that no part holds, when the parts are shards; a shard that
/// two parts hold, or shards of different splits, are refused.
fn missing_shards(parts: &[PathBuf], metas: &[CampaignMeta]) -> Result<Vec<Shard>> {
    // A part that is a whole campaign (a copy) covers every index.
    if metas.iter().any(|m| m.shard.is_none()) {
        return Ok(vec![]);
    }
    let count = metas[0].shard().count;
    let mut holder: BTreeMap<u64, &PathBuf> = BTreeMap::new();
    for (d, m) in parts.iter().zip(metas) {
        let k = m.shard();
        if k.count != count {
            bail!(
                "{} is shard {k}, {} is shard {}: shards of different splits do not merge",
                d.display(),
                parts[0].display(),
                metas[0].shard()
            );
        }
        if let Some(other) = holder.insert(k.index, d) {
            bail!(
                "shard {k} is given twice ({} and {}): merge each shard once (a re-run shard replaces its first run)",
                other.display(),
                d.display()
            );
        }
    }
    // At most as many missing as the campaign has shards, and never more than we list.
    Ok((0..count)
        .filter(|i| !holder.contains_key(i))
        .map(|index| Shard { index, count })
        .collect())
}

/// "shard 2/4", "shards 2/4, 3/4", or the first few of a long list.
fn shard_list(shards: &[Shard]) -> String {
    const SHOWN: usize = 8;
    let mut names: Vec<String> = shards.iter().take(SHOWN).map(Shard::to_string).collect();
    if shards.len() > SHOWN {
        names.push(format!("and {} more", shards.len() - SHOWN));
    }
    let noun = if shards.len() == 1 { "shard" } else { "shards" };
    format!("{noun} {}", names.join(", "))
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
                .filter(|t| corpus::is_version(t))
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

/// How a stored finding fares on the installed torch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplayStatus {
    Fixed,
    StillFailing,
    Changed,
    /// A plain case file: no stored signature to compare with.
    Checked,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReplayOutcome {
    pub path: String,
    pub status: ReplayStatus,
    pub verdict: Verdict,
    pub stored: Option<String>,
    pub now: Option<String>,
    /// The torch the record was found on, and the one it was replayed on.
    pub found_on: Option<String>,
    pub replayed_on: String,
}

/// The files `replay` takes from a path: the file itself, or every JSON file below a
/// directory that is a finding record or a case (others, like `summary.json`, are skipped).
pub fn replay_inputs(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = vec![];
    for p in paths {
        if p.is_dir() {
            for f in corpus::scan_dir(p)? {
                let keep = crate::ir::read_bounded(&f)
                    .ok()
                    .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
                    .is_some_and(|v| {
                        (v.get("signature").is_some() && v.get("case").is_some())
                            || (v.get("nodes").is_some() && v.get("inputs").is_some())
                    });
                if keep {
                    files.push(f);
                }
            }
        } else {
            files.push(p.clone());
        }
    }
    Ok(files)
}

/// Re-checks one file: a finding record on the backend it was found on, compared by
/// signature; a plain case on `for_cases`.
pub fn replay_one(pool: &Pool, path: &Path, for_cases: Backend) -> Result<ReplayOutcome> {
    let (case, stored, backend, found_on) = match corpus::load_stored(path)? {
        corpus::Stored::Record(r) => (r.case, Some(r.signature), r.backend, Some(r.torch)),
        corpus::Stored::Case(c) => (c, None, for_cases, None),
    };
    let r = oracle::check_on(pool, &case, backend);
    // A step's finding that is now the exported program's own has changed group, not gone.
    let now = r.signature().or_else(|| r.inherited_signature());
    let status = match (&stored, &now) {
        (None, _) => ReplayStatus::Checked,
        (Some(_), None) => ReplayStatus::Fixed,
        (Some(a), Some(b)) if a == b => ReplayStatus::StillFailing,
        _ if r.verdict == Verdict::Pass => ReplayStatus::Fixed,
        _ => ReplayStatus::Changed,
    };
    Ok(ReplayOutcome {
        path: path.display().to_string(),
        status,
        verdict: r.verdict,
        stored,
        now,
        found_on,
        replayed_on: pool.env().torch_version.clone(),
    })
}
