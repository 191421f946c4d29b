//! `merge`: joins the directories of a campaign's shards into one, refusing shards of
//! another campaign, generator or torch, and a shard given twice, before anything is
//! written.

use super::*;

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
    if parts.is_empty() {
        bail!("nothing to merge: name the campaign directories");
    }
    let metas: Vec<CampaignMeta> = parts
        .iter()
        .map(|d| CampaignMeta::load(d))
        .collect::<Result<_>>()?;
    one_campaign(parts, &metas)?;
    let missing = missing_shards(parts, &metas)?;
    // Only now, with every part known to be one campaign's, is --out created (and held).
    let _lock = open_out(out)?;
    let facts = PartsFacts::read(parts, &metas)?;
    let lines = MergedLines::read(parts, &metas)?;
    let records = smallest_records(parts)?;
    let meta = CampaignMeta {
        shard: None,
        ..metas[0].clone()
    };
    corpus::write_atomic(
        &out.join("campaign.json"),
        serde_json::to_string_pretty(&meta)?.as_bytes(),
    )?;
    let mut text = Vec::new();
    for l in &lines.lines {
        text.extend(serde_json::to_vec(l)?);
        text.push(b'\n');
    }
    corpus::write_atomic(&out.join("results.jsonl"), &text)?;
    let findings_dir = out.join("findings");
    for rec in records.values() {
        file_record(
            &findings_dir.join(corpus::signature_file_name(&rec.signature)),
            rec,
        )?;
    }
    let mut gaps: Vec<String> = vec![];
    if !missing.is_empty() {
        gaps.push(format!("{} missing", shard_list(&missing)));
    }
    gaps.extend(facts.unfinished.iter().cloned());
    let gaps = gaps.join("; ");
    let notes = merge_notes(parts, &metas, &gaps, &lines);
    let facts = RunFacts {
        torch: facts.torch,
        elapsed_s: facts.elapsed_s,
        status: facts.status,
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

/// Refuses parts of different campaigns: another seed, backend, generator or
/// configuration.
fn one_campaign(parts: &[PathBuf], metas: &[CampaignMeta]) -> Result<()> {
    let first = &metas[0];
    for (d, m) in parts.iter().zip(metas) {
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
                parts[0].display(),
                m.seed,
                first.seed
            );
        }
    }
    Ok(())
}

/// Creates and locks `out`, refusing a link in it (a `findings` pointing elsewhere would
/// carry the merge's writes out of the directory the user named) and a campaign there.
fn open_out(out: &Path) -> Result<std::fs::File> {
    let lock = lock_out_dir(out)?;
    for entry in std::fs::read_dir(out).with_context(|| format!("reading {}", out.display()))? {
        let entry = entry?;
        if entry.file_type().is_ok_and(|t| t.is_symlink()) {
            bail!(
                "{} is a link; merge writes only into a directory of its own: remove it or merge into a new directory",
                entry.path().display()
            );
        }
    }
    if out
        .join("results.jsonl")
        .metadata()
        .is_ok_and(|m| m.len() > 0)
    {
        bail!(
            "{} already holds a campaign; merge into a new directory",
            out.display()
        );
    }
    Ok(lock)
}

/// What the parts' last reports say: their torch (one for all), the longest time, how far
/// the least done got, and the shards that did not reach their limit (a runner that failed,
/// was stopped, or died before its first report: present, but they leave cases unchecked,
/// as a lost one does). A part killed before its first report reads as running, and its
/// results still count.
struct PartsFacts {
    torch: Option<String>,
    elapsed_s: f64,
    status: RunStatus,
    unfinished: Vec<String>,
}

impl PartsFacts {
    fn read(parts: &[PathBuf], metas: &[CampaignMeta]) -> Result<PartsFacts> {
        let mut torch: Option<(String, &PathBuf)> = None;
        let mut elapsed_s: f64 = 0.0;
        let mut status = RunStatus::Finished;
        let mut unfinished: Vec<String> = vec![];
        for (d, m) in parts.iter().zip(metas) {
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
            elapsed_s = elapsed_s.max(facts.elapsed_s);
            status = status.least_done(facts.status);
        }
        Ok(PartsFacts {
            torch: torch.map(|(t, _)| t),
            elapsed_s,
            status,
            unfinished,
        })
    }
}

/// One line per index and backend (the campaign's first, for lines that name none), and
/// the lines a part should not hold: refused when forged, counted when repeated or torn.
struct MergedLines {
    lines: Vec<ResultLine>,
    repeated: Vec<String>,
    torn: Vec<String>,
}

impl MergedLines {
    fn read(parts: &[PathBuf], metas: &[CampaignMeta]) -> Result<MergedLines> {
        let first = &metas[0];
        let backends = first.backends();
        let mut by_index: BTreeMap<(u64, usize), ResultLine> = BTreeMap::new();
        let (mut repeated, mut torn) = (vec![], vec![]);
        for (d, m) in parts.iter().zip(metas) {
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
                match by_index.get(&(l.index, slot)) {
                    Some(have) if have.case_seed != l.case_seed => bail!(
                        "{}: index {} is case seed {}, another part has {} there: not parts of one campaign",
                        path.display(),
                        l.index,
                        l.case_seed,
                        have.case_seed
                    ),
                    Some(_) => {}
                    None => {
                        by_index.insert((l.index, slot), l);
                    }
                }
            }
        }
        Ok(MergedLines {
            lines: by_index.into_values().collect(),
            repeated,
            torn,
        })
    }
}

/// The finding records of every part, by group: the smallest case wins.
fn smallest_records(parts: &[PathBuf]) -> Result<BTreeMap<String, FindingRecord>> {
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
    Ok(records)
}

/// The merged run's notes: where it came from, what is missing, what was left out; all
/// but the first also said on stderr.
fn merge_notes(
    parts: &[PathBuf],
    metas: &[CampaignMeta],
    gaps: &str,
    lines: &MergedLines,
) -> Vec<String> {
    let note = format!(
        "Merged from {} part(s): {}.",
        parts.len(),
        parts
            .iter()
            .zip(metas)
            .map(|(d, m)| match m.shard {
                Some(k) => format!("{} (shard {k})", d.display()),
                None => d.display().to_string(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut notes = vec![note];
    if !gaps.is_empty() {
        notes.push(format!(
            "Partial: {gaps}, so some of the campaign's cases were never checked."
        ));
    }
    if let Some(first) = lines.repeated.first() {
        notes.push(format!(
            "{} repeated result line(s) kept once (first: {first}).",
            lines.repeated.len()
        ));
    }
    if let Some(first) = lines.torn.first() {
        notes.push(format!(
            "{} part(s) end in a torn line, left out (first: {first}).",
            lines.torn.len()
        ));
    }
    for n in &notes[1..] {
        eprintln!("merge: {n}");
    }
    notes
}

/// The shards of the campaign that no part holds, when the parts are shards; a shard that
/// two parts hold, or shards of different splits, are refused.
pub(super) fn missing_shards(parts: &[PathBuf], metas: &[CampaignMeta]) -> Result<Vec<Shard>> {
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
pub(super) fn shard_list(shards: &[Shard]) -> String {
    const SHOWN: usize = 8;
    let mut names: Vec<String> = shards.iter().take(SHOWN).map(Shard::to_string).collect();
    if shards.len() > SHOWN {
        names.push(format!("and {} more", shards.len() - SHOWN));
    }
    let noun = if shards.len() == 1 { "shard" } else { "shards" };
    format!("{noun} {}", names.join(", "))
}
