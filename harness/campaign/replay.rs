//! `replay`: re-checks stored findings on a torch and says of each whether it is fixed,
//! still there, or changed.

use super::*;

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
