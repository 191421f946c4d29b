//! Re-files a directory of finding records (and any extra case files) under the current
//! oracle: each case is re-checked, reduced while its group holds, given its workaround, and
//! written as a record named after its group; one record per group (the smallest), old files
//! removed. Cases whose export sizes make a derived size 0 or 1 are dropped: that is torch's
//! 0/1 specialization by design, not a finding.
//! `cargo run --release --example retriage -- corpus/findings [case.json ...]`
use shapefuzz::corpus::{self, Stored};
use shapefuzz::ir::Case;
use shapefuzz::oracle::{self, Backend, Pool, PoolConfig, PythonEnv};
use shapefuzz::repro::Repro;
use shapefuzz::triage;
use std::collections::BTreeMap;
use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1).map(PathBuf::from);
    let dir = args.next().expect("a findings directory");
    let extra: Vec<PathBuf> = args.collect();
    let env = PythonEnv::ensure(None, true)?;
    let pool = Pool::new(
        env,
        PoolConfig {
            jobs: 2,
            ..Default::default()
        },
    )
    .map_err(|e| anyhow::anyhow!(e))?;
    let torch = pool.env().torch_version.clone();
    let old = corpus::scan_dir(&dir)?;
    let mut inputs: Vec<(PathBuf, Case, String, Backend)> = vec![];
    for p in old.iter().chain(&extra) {
        match corpus::load_stored(p) {
            Ok(Stored::Record(r)) => inputs.push((p.clone(), r.case, r.origin, r.backend)),
            Ok(Stored::Case(c)) => {
                inputs.push((p.clone(), c, format!("{}", p.display()), Backend::Export))
            }
            // A record an older shapefuzz wrote: its case is still data this one reads.
            Err(_) => {
                let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(p)?)?;
                let case = Case::from_json(&v["case"].to_string(), &p.display().to_string())?;
                let origin = v["origin"]
                    .as_str()
                    .unwrap_or("an older record")
                    .to_string();
                inputs.push((p.clone(), case, origin, Backend::Export));
            }
        }
    }
    let mut best: BTreeMap<String, (Case, Repro, String)> = BTreeMap::new();
    for (path, case, origin, backend) in inputs {
        if let Some((node, size, at)) = case.small_derived_size_at_export() {
            println!(
                "{}: dropped: v{node} has size {size} = {at} at the export sizes (0/1 specialization)",
                path.display()
            );
            continue;
        }
        let first = oracle::check(&pool, &case, backend);
        let Some(sig) = first.signature() else {
            println!("{}: dropped: passes now", path.display());
            continue;
        };
        if !first.verdict.is_finding() {
            println!("{}: dropped: {sig}", path.display());
            continue;
        }
        let (case, check) = match triage::reduce(
            &pool,
            backend,
            &case,
            Some(first.clone()),
            150,
            pool.jobs(),
            |_, _| Ok(()),
            None,
        ) {
            Ok(r) => (r.case, r.check),
            Err(_) => (case, first),
        };
        let workaround = triage::find_workaround(&pool, backend, &case, &check);
        let mut repro = Repro::from_check(&case, &check, workaround, &torch);
        repro.signature = Some(sig.clone());
        println!("{}: {sig} ({} nodes)", path.display(), case.nodes.len());
        let size = |c: &Case| c.nodes.len() + c.inputs.len();
        let keep = best.get(&sig).is_none_or(|(c, _, _)| size(&case) < size(c));
        if keep {
            best.insert(sig, (case, repro, format!("{origin}; re-triaged")));
        }
    }
    for p in &old {
        std::fs::remove_file(p)?;
    }
    for (sig, (_, repro, origin)) in &best {
        let rec = repro.to_record(origin).expect("a signature");
        rec.save(&dir.join(corpus::signature_file_name(sig)))?;
    }
    println!("{} groups written to {}", best.len(), dir.display());
    Ok(())
}
