//! What a running campaign shows: the progress bar, and the live state the case threads
//! share (the results so far, the groups seen, the line under the bar).

use super::*;

/// The terminal's progress bar: cases, rate and live counts per class.
pub(super) fn progress_bar(
    limit: Limit,
    shard: Shard,
    progress: Progress,
) -> indicatif::ProgressBar {
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

/// What the case threads share.
#[derive(Default)]
pub(super) struct Live {
    pub(super) lines: Vec<ResultLine>,
    pub(super) counts: BTreeMap<&'static str, u64>,
    /// Every group so far and its class.
    pub(super) groups: BTreeMap<String, Option<Class>>,
    pub(super) seen: HashMap<String, Seen>,
    /// `summary.md`'s text per group with a record.
    pub(super) details: BTreeMap<String, GroupDetail>,
    /// Groups found since the last progress line.
    pub(super) new_groups: u64,
    /// Announcements of new groups, printed by the ticker.
    pub(super) announcements: Vec<String>,
    /// The reports are behind the results.
    pub(super) dirty: bool,
    pub(super) abandoned: u64,
    /// Cases this run checked (on every backend), and those a resumed run found done.
    pub(super) checked: u64,
    pub(super) resumed: u64,
}

impl Live {
    /// Takes one finished case: its line, counts, group, and for a bug or portability
    /// group a smaller case than before, its record as seen.
    pub(super) fn record(
        &mut self,
        ctx: &RunContext,
        line: ResultLine,
        case: &Case,
        r: CheckResult,
    ) {
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
    pub(super) fn groups_text(&self, cases_end: Option<Instant>) -> String {
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
    pub(super) fn progress_line(&self, started: Instant, cases_end: Option<Instant>) -> String {
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

/// `1:02:03` or `2:03`.
pub(super) fn clock(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

impl Live {
    /// The live state a run starts from: the counts and groups of the lines a resumed run
    /// already has, `whole_cases` of them done on every backend.
    pub(super) fn resumed(lines: Vec<ResultLine>, whole_cases: u64) -> Live {
        let mut live = Live::default();
        for l in &lines {
            *live
                .counts
                .entry(l.class.map_or(l.verdict.name(), Class::name))
                .or_default() += 1;
            if let Some(sig) = &l.signature {
                live.groups.insert(sig.clone(), l.class);
            }
        }
        live.lines = lines;
        live.resumed = whole_cases;
        live
    }
}

/// The ticker: progress lines, reports after new groups, the filing reserve re-estimated,
/// and the end of a stop's grace for cases in flight.
pub(super) fn tick(sh: &Shared) {
    let (cfg, ctx) = (sh.ctx.cfg, sh.ctx);
    let mut stopping_since: Option<Instant> = None;
    let mut last_line = Instant::now();
    let mut last_report = Instant::now();
    while !sh.threads_done.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(100));
        if sh.clock.cases_over() {
            let since = *stopping_since.get_or_insert_with(Instant::now);
            if since.elapsed() >= STOP_GRACE {
                sh.pool.abort(true);
            }
            sh.early_stop.store(true, Ordering::Relaxed);
        }
        let mut l = sh.live.lock().unwrap();
        if cfg.reduce.is_some() && sh.clock.run_end.is_some() && !sh.clock.cases_over() {
            sh.clock.reserve(filing_estimate(
                cfg,
                &l,
                &sh.pre.lock().unwrap(),
                sh.pool.jobs(),
            ));
        }
        for a in std::mem::take(&mut l.announcements) {
            match cfg.progress {
                Progress::Bar => sh.bar.println(a),
                Progress::Lines(_) => eprintln!("{a}"),
                Progress::Quiet => {}
            }
        }
        sh.bar.set_message(l.groups_text(sh.clock.cases_end()));
        if let Progress::Lines(every) = cfg.progress
            && last_line.elapsed() >= every
        {
            eprintln!("{}", l.progress_line(ctx.started, sh.clock.cases_end()));
            l.new_groups = 0;
            last_line = Instant::now();
        }
        if l.dirty && last_report.elapsed() >= REPORT_EVERY {
            l.dirty = false;
            let summary = ctx.summary(&l.lines, RunStatus::Running, l.checked);
            let rendered = render_reports(&summary, &l.details, &l.lines);
            drop(l);
            if let Err(e) = rendered.and_then(|files| write_rendered(&cfg.out, files)) {
                eprintln!("shapefuzz: could not rewrite the reports: {e:#}");
            }
            last_report = Instant::now();
        }
    }
}
