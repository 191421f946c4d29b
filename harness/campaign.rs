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
//!
//! Its stages are modules: `schedule` (which cases are left, when taking them ends, and
//! generation feeding the checking threads), `progress` (the bar, the live state, the
//! ticker), `filing` (reducing and filing each group's record), `reports`, `merge` and
//! `replay`; `run` strings them together.

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

mod filing;
mod merge;
mod progress;
mod replay;
mod reports;
mod schedule;

use filing::*;
pub use merge::merge;
use progress::*;
pub use replay::{ReplayOutcome, ReplayStatus, replay_inputs, replay_one};
use reports::*;
pub use reports::{RunFacts, details_from_records, regenerate, write_summaries};
use schedule::*;

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
    let previous = corpus::open_results(&results_path)?;
    if previous.torn_bytes > 0 {
        eprintln!(
            "shapefuzz: dropped a torn last line ({} bytes) from {}; that case runs again",
            previous.torn_bytes,
            results_path.display()
        );
    }
    let resumed = Resumed::new(&previous.lines, &meta);
    let findings_dir = cfg.findings.clone().unwrap_or_else(|| out.join("findings"));
    let ctx = RunContext {
        meta: &meta,
        cfg,
        torch: &pool.env().torch_version,
        findings_dir: &findings_dir,
        started: Instant::now(),
        cases_ended: std::sync::OnceLock::new(),
    };
    let whole_cases = resumed.whole_cases();
    let shared = Shared {
        pool,
        ctx: &ctx,
        clock: CaseClock::new(cfg, stop),
        writer: Mutex::new(ResultsWriter::append(&results_path)?),
        live: Mutex::new(Live::resumed(previous.lines, whole_cases)),
        bar: progress_bar(cfg.limit, meta.shard(), cfg.progress),
        write_error: Mutex::new(None),
        pre: Mutex::new(HashMap::new()),
        early_stop: AtomicBool::new(false),
        threads_done: AtomicBool::new(false),
    };
    shared.bar.set_position(whole_cases);
    shared.bar.enable_steady_tick(Duration::from_millis(200));
    run_cases(&shared, &resumed);
    let run_end = shared.clock.run_end;
    let Shared {
        live,
        bar,
        write_error,
        pre,
        ..
    } = shared;
    bar.finish_and_clear();
    pool.abort(false);
    let stopped_in_cases = stop.load(Ordering::Relaxed);
    if let Some(e) = write_error.into_inner().unwrap() {
        bail!("writing {}: {e}", results_path.display());
    }
    let mut live = live.into_inner().unwrap();
    live.lines.sort_by_key(|l| l.index);
    let _ = ctx.cases_ended.set(Instant::now());
    let pre = pre.into_inner().unwrap();
    let summary = file_and_report(pool, &ctx, &live, &pre, run_end, stop)?;
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

/// After the cases: files the groups (reducing what is left, within the deadline) and
/// writes the final reports.
fn file_and_report(
    pool: &Pool,
    ctx: &RunContext,
    live: &Live,
    pre: &HashMap<String, PreReduced>,
    run_end: Option<Instant>,
    stop: &AtomicBool,
) -> Result<Summary> {
    let cfg = ctx.cfg;
    let summary = ctx.summary(&live.lines, RunStatus::Running, live.checked);
    let reduce_end = match (run_end, cfg.reduce_time) {
        (Some(end), _) => Some(end),
        (None, Some(t)) => Some(Instant::now() + t),
        (None, None) => None,
    };
    let filed = file_findings(
        pool,
        ctx,
        &summary,
        &live.seen,
        pre,
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
    write_summaries(&cfg.out, &summary, &filed.details, &live.lines)?;
    Ok(summary)
}
