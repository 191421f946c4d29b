//! Campaigns: generate, check and record cases until a case count or a time budget is
//! reached, then report; and `replay`, which re-checks stored findings on the installed torch.
//!
//! Promises: case `i` of a campaign with seed `S` is always `generate(case_seed(S, i))`, so
//! the same seed and torch give the same cases. Every finished case is one flushed line of
//! `results.jsonl`; `--resume` skips the indices already recorded, so after any kill each
//! index ends with exactly one verdict. Ctrl-C stops taking new cases, lets the ones in
//! flight finish, and still writes the reports.

use crate::corpus::{self, ResultLine, ResultsWriter};
use crate::r#gen::{GenConfig, case_from_seed, generate};
use crate::ir::Case;
use crate::oracle::{self, Backend, Class, Contract, Pool, Verdict};
use crate::report::{KnownIssues, SignatureEntry, Summary};
use crate::repro::Repro;
use crate::triage;
use anyhow::{Context, Result, bail};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

/// When a campaign stops.
#[derive(Clone, Copy, Debug)]
pub enum Limit {
    Cases(u64),
    Time(Duration),
}

pub struct CampaignConfig {
    /// `None` on `--resume` means "the seed the campaign was started with".
    pub seed: Option<u64>,
    pub limit: Limit,
    pub out: PathBuf,
    pub backend: Backend,
    pub known: KnownIssues,
    pub resume: bool,
    pub progress: bool,
    /// Reduce each finding with at most this many oracle calls (`None`: keep it as seen).
    pub reduce: Option<usize>,
    /// Where finding records go (default: `<out>/findings`).
    pub findings: Option<PathBuf>,
    /// Classes whose new groups fail the run (exit 1).
    pub fail_on: Vec<Class>,
    /// One generator configuration for every case; `None` draws one per case (swarm).
    pub gen_config: Option<GenConfig>,
}

/// What `campaign.json` records so that `--resume` continues the same case list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct CampaignMeta {
    seed: u64,
    backend: Backend,
    schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gen_config: Option<GenConfig>,
}

/// The case behind a case seed: from the campaign's configuration, or swarm.
pub fn case_for(config: Option<&GenConfig>, case_seed: u64) -> Case {
    match config {
        Some(c) => case_from_seed(c, case_seed),
        None => generate(case_seed, true),
    }
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
        ops: case.op_kinds(),
        size: case_size(case),
        cause: r.cause().cloned(),
        edge: r.edge.iter().map(corpus::EdgeRecord::from).collect(),
        seconds: r.timings.total_s,
    }
}

/// Reads `campaign.json` of a campaign to resume (checking it is the same campaign), or
/// writes it for a new one (refusing a directory that already holds one).
fn open_meta(cfg: &CampaignConfig, results_path: &Path) -> Result<CampaignMeta> {
    let out = &cfg.out;
    let meta_path = out.join("campaign.json");
    Ok(match (cfg.resume, meta_path.exists()) {
        (true, true) => {
            let m: CampaignMeta = serde_json::from_str(&std::fs::read_to_string(&meta_path)?)
                .map_err(|e| {
                    anyhow::anyhow!("{}: not a campaign record ({e})", meta_path.display())
                })?;
            if cfg.seed.is_some_and(|s| s != m.seed)
                || m.backend != cfg.backend
                || (cfg.gen_config.is_some() && cfg.gen_config != m.gen_config)
            {
                bail!(
                    "{} was started with seed {} on {} and another generator configuration; resume it with those, or use another --out",
                    out.display(),
                    m.seed,
                    m.backend.name()
                );
            }
            m
        }
        (true, false) => bail!(
            "{} holds no campaign to resume (no campaign.json)",
            out.display()
        ),
        (false, _) => {
            if results_path.metadata().is_ok_and(|m| m.len() > 0) {
                bail!(
                    "{} already holds a campaign; pass --resume to continue it, or choose another --out",
                    out.display()
                );
            }
            let m = CampaignMeta {
                seed: cfg.seed.unwrap_or(0),
                backend: cfg.backend,
                schema_version: crate::ir::SCHEMA_VERSION,
                gen_config: cfg.gen_config.clone(),
            };
            corpus::write_atomic(&meta_path, serde_json::to_string_pretty(&m)?.as_bytes())?;
            m
        }
    })
}

/// The terminal's progress bar: cases, rate and live counts per class.
fn progress_bar(limit: Limit, progress: bool) -> indicatif::ProgressBar {
    let bar = match limit {
        Limit::Cases(n) if progress => indicatif::ProgressBar::new(n),
        _ if progress => indicatif::ProgressBar::new_spinner(),
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
pub fn preflight(cfg: &CampaignConfig) -> Result<()> {
    let results_path = cfg.out.join("results.jsonl");
    open_meta(cfg, &results_path)?;
    // Only opened here: reading it (and dropping a torn last line) is the campaign's.
    if results_path.exists() {
        std::fs::File::open(&results_path)
            .with_context(|| format!("reading {}", results_path.display()))?;
    }
    ResultsWriter::append(&results_path)
        .with_context(|| format!("opening {} to append", results_path.display()))?;
    Ok(())
}

/// Runs a campaign to its limit (or Ctrl-C) and writes its reports.
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
    let done: HashSet<u64> = previous.lines.iter().map(|l| l.index).collect();
    let writer = Mutex::new(ResultsWriter::append(&results_path)?);
    let all_lines = Mutex::new(previous.lines);

    let started = Instant::now();
    let limit = cfg.limit;
    let over_time = || matches!(limit, Limit::Time(t) if started.elapsed() >= t);
    let bar = progress_bar(limit, cfg.progress);
    bar.set_position(done.len() as u64);
    bar.enable_steady_tick(Duration::from_millis(200));
    let counts: Mutex<BTreeMap<&'static str, u64>> = Mutex::new(BTreeMap::new());
    for l in all_lines.lock().unwrap().iter() {
        *counts
            .lock()
            .unwrap()
            .entry(l.class.map_or(l.verdict.name(), Class::name))
            .or_default() += 1;
    }
    let write_error: Mutex<Option<std::io::Error>> = Mutex::new(None);

    // Generation (rayon, in batches) feeds the checking threads through a bounded channel.
    let (tx, rx) = mpsc::sync_channel::<(u64, u64, Case)>(64);
    let rx = Arc::new(Mutex::new(rx));
    let seed = meta.seed;
    let gen_config = meta.gen_config.clone();
    let checked = AtomicU64::new(0);
    std::thread::scope(|s| {
        s.spawn(move || {
            let mut next = 0u64;
            loop {
                if stop.load(Ordering::Relaxed) || over_time() {
                    break;
                }
                let mut batch = vec![];
                while batch.len() < 32 {
                    if let Limit::Cases(n) = limit
                        && next >= n
                    {
                        break;
                    }
                    if !done.contains(&next) {
                        batch.push(next);
                    }
                    next += 1;
                }
                if batch.is_empty() {
                    break;
                }
                let cases: Vec<(u64, u64, Case)> = batch
                    .par_iter()
                    .map(|&i| {
                        let cs = case_seed(seed, i);
                        (i, cs, case_for(gen_config.as_ref(), cs))
                    })
                    .collect();
                for c in cases {
                    if tx.send(c).is_err() {
                        return;
                    }
                }
            }
        });
        for _ in 0..pool.jobs() {
            let rx = rx.clone();
            let (writer, all_lines, counts, bar, write_error, checked) =
                (&writer, &all_lines, &counts, &bar, &write_error, &checked);
            s.spawn(move || {
                loop {
                    if stop.load(Ordering::Relaxed) || over_time() {
                        break;
                    }
                    let Ok((index, cs, case)) = rx.lock().unwrap().recv() else {
                        break;
                    };
                    let r = oracle::check(pool, &case, cfg.backend);
                    let line = result_line(index, cs, &case, &r);
                    if let Err(e) = writer.lock().unwrap().write(&line) {
                        *write_error.lock().unwrap() = Some(e);
                        stop.store(true, Ordering::Relaxed);
                        break;
                    }
                    checked.fetch_add(1, Ordering::Relaxed);
                    all_lines.lock().unwrap().push(line);
                    let mut c = counts.lock().unwrap();
                    *c.entry(r.class().map_or(r.verdict.name(), Class::name))
                        .or_default() += 1;
                    bar.set_message(
                        c.iter()
                            .map(|(k, v)| format!("{k}={v}"))
                            .collect::<Vec<_>>()
                            .join(" "),
                    );
                    bar.inc(1);
                }
                // Dropping the receiver's last handle stops the generator.
                drop(rx);
            });
        }
        drop(rx);
    });
    bar.finish_and_clear();
    // A stop that came while cases ran, as opposed to during reduction.
    let stopped_in_cases = stop.load(Ordering::Relaxed);
    if let Some(e) = write_error.into_inner().unwrap() {
        bail!("writing {}: {e}", results_path.display());
    }
    let mut lines = all_lines.into_inner().unwrap();
    lines.sort_by_key(|l| l.index);
    let summary = Summary::new(
        seed,
        &pool.env().torch_version,
        cfg.backend.name(),
        &lines,
        &cfg.known,
        started.elapsed().as_secs_f64(),
        &cfg.fail_on,
    );
    let findings_dir = cfg.findings.clone().unwrap_or_else(|| out.join("findings"));
    write_reports(
        pool,
        out,
        &summary,
        &ReportConfig {
            backend: cfg.backend,
            reduce: cfg.reduce,
            findings_dir: &findings_dir,
            progress: cfg.progress,
            gen_config: meta.gen_config.as_ref(),
            stop: Some(stop),
        },
    )?;
    if stopped_in_cases {
        eprintln!(
            "shapefuzz: stopped after {} new case(s); `--resume` continues the campaign",
            checked.load(Ordering::Relaxed)
        );
    } else if stop.load(Ordering::Relaxed) {
        eprintln!(
            "shapefuzz: stopped while reducing findings; their records hold the smallest cases found so far"
        );
    }
    Ok(summary)
}

/// How `write_reports` files findings.
pub struct ReportConfig<'a> {
    pub backend: Backend,
    /// Reduce each new finding with at most this many oracle calls.
    pub reduce: Option<usize>,
    pub findings_dir: &'a Path,
    pub progress: bool,
    /// The campaign's generator configuration (`None`: swarm).
    pub gen_config: Option<&'a GenConfig>,
    /// Set by Ctrl-C: reductions stop with the smallest case so far, and groups not yet
    /// reached are filed as seen.
    pub stop: Option<&'a AtomicBool>,
}

/// `summary.json`, `summary.md`, `junit.xml`, and a finding record per bug and portability
/// group in `findings_dir`: the smallest case seen, reduced (new groups only) unless
/// `reduce` is off, with the workaround a respelling of its culprit node gives. Expected
/// groups are counted in the reports and get no record.
pub fn write_reports(pool: &Pool, out: &Path, summary: &Summary, rc: &ReportConfig) -> Result<()> {
    let ReportConfig {
        backend,
        reduce,
        findings_dir,
        progress,
        gen_config,
        stop,
    } = *rc;
    let stopped = || stop.is_some_and(|s| s.load(Ordering::Relaxed));
    let findings: Vec<&SignatureEntry> = summary
        .signatures
        .iter()
        .filter(|e| matches!(e.class, Some(Class::Bug | Class::Portability)))
        .collect();
    let bar = if progress {
        indicatif::ProgressBar::new(findings.len() as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] reducing findings {pos}/{len} {wide_msg}",
        )
        .expect("valid template"),
    );
    let mut details: BTreeMap<String, String> = BTreeMap::new();
    for e in findings {
        bar.set_message(e.signature.chars().take(60).collect::<String>());
        let original = case_for(gen_config, e.smallest.case_seed);
        let origin = format!(
            "campaign seed {}, index {}, case seed {}",
            summary.seed, e.smallest.index, e.smallest.case_seed
        );
        let first = oracle::check(pool, &original, backend);
        // Known findings are filed as seen; only new ones are worth the reduction, and not
        // hangs or crashes, whose every test costs the time limit.
        let worth = e.is_new()
            && !matches!(e.contract, Some(Contract::Hang | Contract::Crash))
            && !stopped();
        let (case, check) = match reduce.filter(|_| worth) {
            Some(max_tests) => match triage::reduce(
                pool,
                backend,
                &original,
                Some(first.clone()),
                max_tests,
                |_, _| Ok(()),
                stop,
            ) {
                Ok(r) if r.check.signature().as_deref() == Some(e.signature.as_str()) => {
                    (r.case, r.check)
                }
                // Not reproducible on its own (a flaky finding): keep it as it was seen.
                _ => (original.clone(), first),
            },
            None => (original.clone(), first),
        };
        let workaround = if stopped() {
            None
        } else {
            triage::find_workaround(pool, backend, &case, &check)
        };
        let mut repro = Repro::from_check(&case, &check, workaround, &summary.torch);
        // The record is filed under the campaign's signature even if a re-check differs.
        repro.signature = Some(e.signature.clone());
        let record = repro.to_record(&origin).expect("a finding has a signature");
        let file = corpus::signature_file_name(&e.signature);
        record.save(&findings_dir.join(&file))?;
        details.insert(
            e.signature.clone(),
            group_detail(&repro, &findings_dir.join(&file)),
        );
        bar.inc(1);
    }
    bar.finish_and_clear();
    let detail = |e: &SignatureEntry| details.get(&e.signature).cloned();
    corpus::write_atomic(
        &out.join("summary.json"),
        serde_json::to_string_pretty(summary)?.as_bytes(),
    )?;
    corpus::write_atomic(
        &out.join("summary.md"),
        summary.markdown(&detail).as_bytes(),
    )?;
    corpus::write_atomic(&out.join("junit.xml"), summary.junit().as_bytes())?;
    Ok(())
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
            let _ = writeln!(
                s,
                "```python\n{}```\n",
                crate::escape::markdown_fence(&repro.script())
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
                let _ = writeln!(s, "No respelling keeps it dynamic.\n");
            }
        },
    }
    let _ = write!(
        s,
        "Record: `{}` (`shapefuzz repro --format issue <record>`)",
        crate::escape::markdown_code(&record.display().to_string())
    );
    s
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

/// Re-checks one file. Finding records are compared by signature.
pub fn replay_one(pool: &Pool, path: &Path) -> Result<ReplayOutcome> {
    let (case, stored, backend) = match corpus::load_stored(path)? {
        corpus::Stored::Record(r) => (r.case, Some(r.signature), r.backend),
        corpus::Stored::Case(c) => (c, None, Backend::Export),
    };
    let r = oracle::check(pool, &case, backend);
    let now = r.signature();
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
    })
}
