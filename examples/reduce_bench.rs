//! Oracle calls and seconds a reduction spends, with and without skipping the candidates
//! that lost the finding's culprit op (`Reducer::only_if`), on the same finding records,
//! interleaved: each record is reduced both ways, one after the other.
//! `cargo run --release --example reduce_bench -- DIR_OF_RECORDS [BUDGET]`
use shapefuzz::corpus::FindingRecord;
use shapefuzz::oracle::{self, Pool, PoolConfig, PythonEnv};
use shapefuzz::reduce::Reducer;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().expect("a directory of finding records"));
    let budget: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(200);
    let env = PythonEnv::ensure(None, true).expect("python env");
    let pool = Pool::new(
        env,
        PoolConfig {
            jobs: 1,
            warm: Some(oracle::warm_request(&[oracle::Backend::Export])),
            ..Default::default()
        },
    )
    .expect("pool");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("records")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    let mut totals = [(0usize, 0.0f64, 0usize, 0usize); 2];
    for path in &paths {
        let Ok(record) = FindingRecord::load(path) else {
            continue;
        };
        let first = oracle::check(&pool, &record.case, record.backend);
        let Some(target) = first.signature() else {
            continue;
        };
        let mut line = format!("{:<90}", target.chars().take(88).collect::<String>());
        for (i, skip) in [false, true].into_iter().enumerate() {
            let mut reducer = Reducer::new(1).max_tests(budget);
            if skip {
                reducer = reducer.only_if(shapefuzz::triage::can_keep_culprit(&first));
            }
            let backend = record.backend;
            let r = reducer
                .run(&record.case, Some(first.clone()), |c| {
                    let r = oracle::check(&pool, c, backend);
                    (r.signature().as_deref() == Some(target.as_str())).then_some(r)
                })
                .expect("reduces");
            totals[i].0 += r.tests;
            totals[i].1 += r.seconds;
            totals[i].2 += r.case.nodes.len();
            totals[i].3 += 1;
            line += &format!(
                " | {:>3} tests {:>6.1} s {:>2} nodes",
                r.tests,
                r.seconds,
                r.case.nodes.len()
            );
        }
        println!("{line}");
    }
    for (name, t) in ["every candidate", "culprit kept"].iter().zip(totals) {
        println!(
            "{name:>16}: {} reductions, {} oracle calls, {:.1} s, {:.2} nodes on average at the end",
            t.3,
            t.0,
            t.1,
            t.2 as f64 / t.3.max(1) as f64
        );
    }
}
