//! Filing: each new group's best case is reduced (within the time left), checked once more
//! with its twin, written as a finding record and a reproducer, and kept unless the record
//! already filed for that group is better. Promises: a record is only replaced by a smaller
//! or better-judged one, and filing never outlives the run's deadline.

use super::*;

/// The smallest case this run saw of a bug or portability group, with its check: what the
/// group's record holds until reduction, and where reduction starts without a re-check.
pub(super) struct Seen {
    pub(super) key: (usize, u64),
    pub(super) case: Case,
    pub(super) check: CheckResult,
}

/// A group reduced while cases still ran (`pre_reduce`), from the case `key` names.
pub(super) struct PreReduced {
    pub(super) key: (usize, u64),
    pub(super) case: Case,
    pub(super) check: CheckResult,
    pub(super) tests: usize,
    /// Seconds its checks kept a worker busy.
    pub(super) seconds: f64,
    /// The reduction ended by itself (not cut by the end of the case phase).
    pub(super) complete: bool,
}

impl PreReduced {
    /// Whether the filing of group `e` takes this reduction: when it started from the
    /// group's smallest case, as the filing's would (so a run bounded by cases stays
    /// deterministic), or, in a run bounded by time, whose cases depend on timing anyway,
    /// from whatever case was the smallest then.
    pub(super) fn serves(&self, e: &SignatureEntry, timed: bool) -> bool {
        timed || self.key == (e.smallest.size, e.smallest.index)
    }
}

/// Whether a group seen in this run is one campaigns reduce: a new one (no known issue),
/// not a hang or crash, whose every test would cost the timeout.
pub(super) fn reducible(cfg: &CampaignConfig, signature: &str, seen: &Seen) -> bool {
    cfg.known.matching(signature).is_none()
        && !matches!(
            seen.check.contract(),
            Some(Contract::Hang | Contract::Crash)
        )
}

impl GroupDetail {
    /// What the reports show of the record at `record`.
    pub(super) fn of_record(rec: &FindingRecord, record: &Path) -> GroupDetail {
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
pub(super) fn file_record(path: &Path, record: &FindingRecord) -> Result<FindingRecord> {
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

/// The least a run bounded by time keeps for filing: the last cases in flight, records,
/// reports.
pub(super) const FILING_SLACK: Duration = Duration::from_secs(3);

/// A reduction's seconds, and an oracle call's, before any has been measured in the run
/// (BENCHMARKS.md's reductions: about 15 calls of 20-30 ms).
pub(super) const REDUCTION_GUESS: Duration = Duration::from_secs(1);

pub(super) const CALL_GUESS: Duration = Duration::from_millis(50);

/// A group's filing besides its reduction: the workaround search (a check per respelling
/// of its culprit) and its record, in oracle calls.
pub(super) const FILING_CALLS_PER_GROUP: f64 = 2.0;

/// What filing the groups found so far would take on `jobs` workers: the reduction of each
/// new bug or portability group not yet reduced while cases ran, and the filing of every
/// group, at the cost (worker time, not waits) of the reductions made while cases ran;
/// with a quarter again as margin, plus `FILING_SLACK`.
pub(super) fn filing_estimate(
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
pub(super) fn pre_reduce(
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

/// How `file_findings` reduces and files.
pub(super) struct FilingConfig<'a> {
    pub(super) reduce: Option<usize>,
    pub(super) progress: Progress,
    /// When reduction must end (`None`: only the call budget bounds it).
    pub(super) deadline: Option<Instant>,
    /// A signal: reductions stop with the smallest case so far.
    pub(super) stop: &'a AtomicBool,
    /// The run is bounded by time (`Limit::Time`), not by a number of cases.
    pub(super) timed: bool,
}

pub(super) struct Filed {
    pub(super) details: BTreeMap<String, GroupDetail>,
    pub(super) notes: Vec<String>,
}

/// A finding record per bug and portability group in the findings directory: new groups
/// reduced (within the deadline and the call budget, never hangs or crashes, whose every
/// test costs the timeout), with the workaround a respelling of the culprit gives; the rest
/// filed as seen. Expected groups are counted in the reports and get no record.
pub(super) fn file_findings(
    pool: &Pool,
    ctx: &RunContext,
    summary: &Summary,
    seen: &HashMap<String, Seen>,
    pre: &HashMap<String, PreReduced>,
    fc: &FilingConfig,
) -> Result<Filed> {
    let findings: Vec<&SignatureEntry> = summary
        .signatures
        .iter()
        .filter(|e| matches!(e.class, Some(Class::Bug | Class::Portability)))
        .collect();
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
    let before: HashMap<&str, (FindingRecord, PathBuf)> = findings
        .iter()
        .filter_map(|e| reduced_before(ctx, e).map(|r| (e.signature.as_str(), r)))
        .collect();
    let to_reduce = findings
        .iter()
        .filter(|e| e.is_new() && !matches!(e.contract, Some(Contract::Hang | Contract::Crash)))
        .filter(|e| !before.contains_key(e.signature.as_str()))
        .count();
    announce(fc, &findings, pre, to_reduce);
    let filing = Filing {
        pool,
        ctx,
        seen,
        pre,
        fc,
        before,
        bar,
        halt: AtomicBool::new(false),
        details: Mutex::new(BTreeMap::new()),
        reduced: std::sync::atomic::AtomicUsize::new(0),
        cut: std::sync::atomic::AtomicUsize::new(0),
    };
    let finished = AtomicBool::new(false);
    std::thread::scope(|s| -> Result<()> {
        s.spawn(|| filing.watch(&finished));
        let result = filing.file_all(&findings);
        finished.store(true, Ordering::Relaxed);
        result
    })?;
    filing.bar.finish_and_clear();
    pool.abort(false);
    let (reduced, cut) = (filing.reduced.into_inner(), filing.cut.into_inner());
    let details = filing.details.into_inner().unwrap();
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

/// The record an earlier run of a resumed campaign filed for this group from the same
/// smallest case, reduced: kept as it is.
fn reduced_before(ctx: &RunContext, e: &SignatureEntry) -> Option<(FindingRecord, PathBuf)> {
    let path = ctx
        .findings_dir
        .join(corpus::signature_file_name(&e.signature));
    let rec = FindingRecord::load(&path).ok()?;
    let same = rec.signature == e.signature
        && rec.origin == ctx.origin(e.smallest.index, e.smallest.case_seed)
        && case_size(&rec.case) < e.smallest.size;
    same.then_some((rec, path))
}

/// The line that says how many groups filing reduces, and in how long.
fn announce(
    fc: &FilingConfig,
    findings: &[&SignatureEntry],
    pre: &HashMap<String, PreReduced>,
    to_reduce: usize,
) {
    if fc.reduce.is_none()
        || to_reduce == 0
        || fc.stop.load(Ordering::Relaxed)
        || !matches!(fc.progress, Progress::Lines(_))
    {
        return;
    }
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

/// What the filing threads share.
struct Filing<'a> {
    pool: &'a Pool,
    ctx: &'a RunContext<'a>,
    seen: &'a HashMap<String, Seen>,
    pre: &'a HashMap<String, PreReduced>,
    fc: &'a FilingConfig<'a>,
    before: HashMap<&'a str, (FindingRecord, PathBuf)>,
    bar: indicatif::ProgressBar,
    /// Set at the deadline or a signal: reductions end with what they have.
    halt: AtomicBool,
    details: Mutex<BTreeMap<String, GroupDetail>>,
    reduced: std::sync::atomic::AtomicUsize,
    cut: std::sync::atomic::AtomicUsize,
}

impl Filing<'_> {
    fn halted(&self) -> bool {
        self.halt.load(Ordering::Relaxed)
    }

    /// The watcher: ends reductions at the deadline or a signal, abandoning the candidate
    /// in flight, and keeps the bar's message.
    fn watch(&self, finished: &AtomicBool) {
        let fc = self.fc;
        while !finished.load(Ordering::Relaxed) {
            let late = fc.deadline.is_some_and(|d| Instant::now() >= d);
            if fc.stop.load(Ordering::Relaxed) || late {
                // A candidate in flight is worth nothing now: its worker is freed at once.
                self.halt.store(true, Ordering::Relaxed);
                self.pool.abort(true);
            }
            let budget = fc
                .reduce
                .map(|b| format!("up to {b} oracle calls each"))
                .unwrap_or_default();
            match fc.deadline {
                Some(d) => self.bar.set_message(format!(
                    "{budget}; {} of reduction time left",
                    clock(d.saturating_duration_since(Instant::now()))
                )),
                None => self.bar.set_message(budget),
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Groups are reduced side by side, one per worker, each one candidate at a time: no
    /// worker waits for a slower candidate of the same group, and a group's reduction is
    /// the same whatever the timing. The list is in report order, bugs first.
    fn file_all(&self, findings: &[&SignatureEntry]) -> Result<()> {
        let next = std::sync::atomic::AtomicUsize::new(0);
        let failed: Mutex<Option<anyhow::Error>> = Mutex::new(None);
        std::thread::scope(|filers| {
            for _ in 0..self.pool.jobs().min(findings.len()).max(1) {
                filers.spawn(|| {
                    while failed.lock().unwrap().is_none() {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(e) = findings.get(i) else { break };
                        if let Err(err) = self.file_one(e) {
                            failed.lock().unwrap().get_or_insert(err);
                        }
                    }
                });
            }
        });
        match failed.into_inner().unwrap() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn detail(&self, e: &SignatureEntry, rec: &FindingRecord, path: &Path) {
        self.details
            .lock()
            .unwrap()
            .insert(e.signature.clone(), GroupDetail::of_record(rec, path));
        self.bar.inc(1);
    }

    /// Files one group: its record reduced (from where the case phase left it, or from
    /// the start), with its workaround and twin, unless time is out.
    fn file_one(&self, e: &SignatureEntry) -> Result<()> {
        let (fc, ctx) = (self.fc, self.ctx);
        if let Some((rec, path)) = self.before.get(e.signature.as_str()) {
            self.detail(e, rec, path);
            self.reduced.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        let path = ctx
            .findings_dir
            .join(corpus::signature_file_name(&e.signature));
        let from_run = self
            .seen
            .get(&e.signature)
            .filter(|s| s.key == (e.smallest.size, e.smallest.index));
        let worth = fc.reduce.is_some()
            && e.is_new()
            && !matches!(e.contract, Some(Contract::Hang | Contract::Crash));
        let early = self
            .pre
            .get(&e.signature)
            .filter(|p| worth && p.serves(e, fc.timed));
        let reduced_early = early
            .filter(|p| p.complete)
            .map(|p| (p.case.clone(), p.check.clone()));
        let partial = early.filter(|p| !p.complete && fc.timed);
        if worth && self.halted() && reduced_early.is_none() {
            self.cut.fetch_add(1, Ordering::Relaxed);
        }
        if reduced_early.is_none() && partial.is_none() && self.halted() {
            // Filed as seen while cases ran (or by an earlier run); no time for more.
            if path.is_file()
                && let Ok(rec) = FindingRecord::load(&path)
            {
                self.detail(e, &rec, &path);
                return Ok(());
            }
            if from_run.is_none() {
                self.bar.inc(1);
                return Ok(());
            }
        }
        // A group is reduced on the backend that found it (its signature's first part).
        let backend = group_backend(&e.signature).unwrap_or(ctx.meta.backend);
        // A reduction cut by the end of the case phase goes on from where it was.
        let (original, first) = match (partial, from_run) {
            (Some(p), _) => (p.case.clone(), p.check.clone()),
            (None, Some(s)) => (s.case.clone(), s.check.clone()),
            (None, None) => {
                let case = case_for(
                    ctx.meta.gen_config.as_ref(),
                    ctx.meta.shapes_percent,
                    e.smallest.case_seed,
                );
                let check = oracle::check_on(self.pool, &case, backend);
                (case, check)
            }
        };
        let budget = fc
            .reduce
            .map(|b| b.saturating_sub(partial.map_or(0, |p| p.tests)))
            .filter(|_| worth && !self.halted() && reduced_early.is_none());
        let (case, check) = match (reduced_early, budget) {
            (Some(done), _) => {
                self.reduced.fetch_add(1, Ordering::Relaxed);
                done
            }
            (None, Some(max_tests)) => self.reduce(e, backend, original, first, max_tests),
            (None, None) => (original, first),
        };
        self.file(e, backend, &path, &case, &check)
    }

    /// Reduces a group's case within `max_tests` oracle calls, keeping it as seen when the
    /// reduction does not reproduce the group (a flaky finding).
    fn reduce(
        &self,
        e: &SignatureEntry,
        backend: Backend,
        original: Case,
        first: CheckResult,
        max_tests: usize,
    ) -> (Case, CheckResult) {
        match triage::reduce(
            self.pool,
            backend,
            &original,
            Some(first.clone()),
            max_tests,
            1,
            |_, _| Ok(()),
            Some(&self.halt),
        ) {
            Ok(r) if r.check.signature().as_deref() == Some(e.signature.as_str()) => {
                if self.halted() {
                    self.cut.fetch_add(1, Ordering::Relaxed);
                } else {
                    self.reduced.fetch_add(1, Ordering::Relaxed);
                }
                (r.case, r.check)
            }
            _ => (original, first),
        }
    }

    /// Writes the group's record, with its workaround and twin while there is time.
    fn file(
        &self,
        e: &SignatureEntry,
        backend: Backend,
        path: &Path,
        case: &Case,
        check: &CheckResult,
    ) -> Result<()> {
        let workaround = if self.halted() {
            None
        } else {
            triage::find_workaround(self.pool, backend, case, check)
        };
        let mut repro = Repro::from_check(case, check, workaround, self.ctx.torch);
        if !self.halted() {
            repro.twin = triage::check_twin(self.pool, backend, case, check);
        }
        // The record is filed under the campaign's signature even if a re-check differs.
        repro.signature = Some(e.signature.clone());
        let record = repro
            .to_record(&self.ctx.origin(e.smallest.index, e.smallest.case_seed))
            .expect("a finding has a signature");
        let on_disk = file_record(path, &record)?;
        self.detail(e, &on_disk, path);
        Ok(())
    }
}
