//! The case phase of a run: which indices are left (a resumed run skips the backends an
//! index already has a verdict on), when taking cases ends (a stop, or the deadline less
//! what filing will need), generation feeding the checking threads, and each checked case
//! written as one flushed line before it counts.

use super::*;
use std::sync::atomic::AtomicU64;

/// A case ready to check: its index, its seed, the case and the backends it still needs.
type Scheduled = (u64, u64, Case, Vec<Backend>);

/// What the threads of the case phase share.
pub(super) struct Shared<'a> {
    pub(super) pool: &'a Pool,
    pub(super) ctx: &'a RunContext<'a>,
    pub(super) clock: CaseClock<'a>,
    pub(super) writer: Mutex<ResultsWriter>,
    pub(super) live: Mutex<Live>,
    pub(super) bar: indicatif::ProgressBar,
    pub(super) write_error: Mutex<Option<std::io::Error>>,
    pub(super) pre: Mutex<HashMap<String, PreReduced>>,
    /// Ends the reduction in flight.
    pub(super) early_stop: AtomicBool,
    pub(super) threads_done: AtomicBool,
}

/// When the case phase ends.
pub(super) struct CaseClock<'a> {
    pub(super) stop: &'a AtomicBool,
    pub(super) run_end: Option<Instant>,
    reserve_cap: Duration,
    reserve_ms: AtomicU64,
}

impl<'a> CaseClock<'a> {
    pub(super) fn new(cfg: &CampaignConfig, stop: &'a AtomicBool) -> CaseClock<'a> {
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
        CaseClock {
            stop,
            run_end,
            reserve_cap,
            reserve_ms: AtomicU64::new(reserve_cap.min(FILING_SLACK).as_millis() as u64),
        }
    }

    /// When taking cases ends: the run's end less the filing reserve.
    pub(super) fn cases_end(&self) -> Option<Instant> {
        self.run_end
            .map(|e| e - Duration::from_millis(self.reserve_ms.load(Ordering::Relaxed)))
    }

    pub(super) fn cases_over(&self) -> bool {
        self.stop.load(Ordering::Relaxed) || self.cases_end().is_some_and(|e| Instant::now() >= e)
    }

    /// Keeps `need` for filing, up to the reserve's cap.
    pub(super) fn reserve(&self, need: Duration) {
        self.reserve_ms.store(
            need.min(self.reserve_cap).as_millis() as u64,
            Ordering::Relaxed,
        );
    }
}

/// The backends each index has a verdict on: a kill between the lines of one case's
/// backends leaves some, and resume checks the rest.
pub(super) struct Resumed {
    backends: Vec<Backend>,
    done: HashMap<u64, Vec<Backend>>,
}

impl Resumed {
    pub(super) fn new(lines: &[ResultLine], meta: &CampaignMeta) -> Resumed {
        let mut done: HashMap<u64, Vec<Backend>> = HashMap::new();
        for l in lines {
            done.entry(l.index)
                .or_default()
                .push(l.backend.unwrap_or(meta.backend));
        }
        Resumed {
            backends: meta.backends(),
            done,
        }
    }

    /// The backends index `i` still needs.
    pub(super) fn todo(&self, i: u64) -> Vec<Backend> {
        self.backends
            .iter()
            .copied()
            .filter(|b| !self.done.get(&i).is_some_and(|d| d.contains(b)))
            .collect()
    }

    /// Indices with a verdict on every backend.
    pub(super) fn whole_cases(&self) -> u64 {
        self.done
            .keys()
            .filter(|i| self.todo(**i).is_empty())
            .count() as u64
    }
}

/// The case phase: generation (rayon, in batches) feeds the checking threads through a
/// bounded channel; the reduction of new groups and the ticker run beside them until the
/// cases are over.
pub(super) fn run_cases(sh: &Shared, resumed: &Resumed) {
    let (tx, rx) = mpsc::sync_channel::<Scheduled>(64);
    let rx = Arc::new(Mutex::new(rx));
    std::thread::scope(|s| {
        s.spawn(move || feed_cases(sh, resumed, tx));
        let case_threads: Vec<_> = (0..sh.pool.jobs())
            .map(|_| {
                let rx = rx.clone();
                s.spawn(move || check_cases(sh, rx))
            })
            .collect();
        drop(rx);
        if let Some(budget) = sh.ctx.cfg.reduce {
            s.spawn(move || pre_reduce(sh.pool, sh.ctx, &sh.live, budget, &sh.pre, &sh.early_stop));
        }
        s.spawn(|| tick(sh));
        for t in case_threads {
            let _ = t.join();
        }
        // The reduction in flight is abandoned (its worker freed at once): what it had is
        // kept, and the filing goes on from it.
        sh.early_stop.store(true, Ordering::Relaxed);
        if sh.ctx.cfg.reduce.is_some() {
            sh.pool.abort(true);
        }
        sh.threads_done.store(true, Ordering::Relaxed);
    });
}

/// Generates the shard's cases in index order, skipping what a resumed run has, until the
/// limit, the cases' end, or the checking threads are gone.
fn feed_cases(sh: &Shared, resumed: &Resumed, tx: mpsc::SyncSender<Scheduled>) {
    let (cfg, meta) = (sh.ctx.cfg, sh.ctx.meta);
    let shard = meta.shard();
    let mut next = shard.index;
    loop {
        if sh.clock.cases_over() {
            break;
        }
        let mut batch = vec![];
        while batch.len() < 32 {
            if let Limit::Cases(n) = cfg.limit
                && next >= n
            {
                break;
            }
            let left = resumed.todo(next);
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
        let cases: Vec<Scheduled> = batch
            .into_par_iter()
            .map(|(i, left)| {
                let cs = case_seed(meta.seed, i);
                let case = case_for(meta.gen_config.as_ref(), meta.shapes_percent, cs);
                (i, cs, case, left)
            })
            .collect();
        for c in cases {
            if tx.send(c).is_err() {
                return;
            }
        }
    }
}

/// One checking thread: checks cases on the backends they need and writes each as lines
/// before it counts; a write error stops the run.
fn check_cases(sh: &Shared, rx: Arc<Mutex<mpsc::Receiver<Scheduled>>>) {
    loop {
        if sh.clock.cases_over() {
            break;
        }
        let Ok((index, cs, case, left)) = rx.lock().unwrap().recv() else {
            break;
        };
        let results = oracle::check_many(sh.pool, &case, &left);
        if sh.pool.is_aborting() && results.iter().any(|r| r.verdict == Verdict::Poisoned) {
            sh.live.lock().unwrap().abandoned += 1;
            break;
        }
        let lines: Vec<ResultLine> = results
            .iter()
            .map(|r| result_line(index, cs, &case, r))
            .collect();
        let written = {
            let mut w = sh.writer.lock().unwrap();
            lines.iter().try_for_each(|line| w.write(line))
        };
        if let Err(e) = written {
            *sh.write_error.lock().unwrap() = Some(e);
            sh.clock.stop.store(true, Ordering::Relaxed);
            break;
        }
        let mut l = sh.live.lock().unwrap();
        l.checked += 1;
        for (line, r) in lines.into_iter().zip(results) {
            l.record(sh.ctx, line, &case, r);
        }
        drop(l);
        sh.bar.inc(1);
    }
    // Dropping the receiver's last handle stops the generator.
    drop(rx);
}
