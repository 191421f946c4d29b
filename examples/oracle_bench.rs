//! Oracle costs with real torch: worker start time, per-case phase split, and worker RSS
//! over many cases with recycling.
//! `cargo run --release --example oracle_bench -- [CASES] [RECYCLE_AFTER]`
use shapefuzz::cli::generate;
use shapefuzz::oracle::{self, Backend, Pool, PoolConfig, PythonEnv, Verdict};
use std::collections::BTreeMap;

fn rss_mb(pid: u32) -> Option<f64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: f64 = s
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

fn stats(name: &str, mut v: Vec<f64>) {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let p = |q: f64| v[((v.len() - 1) as f64 * q) as usize];
    println!(
        "{name:>8}: mean {:7.2} ms  median {:7.2} ms  p90 {:7.2} ms  max {:8.2} ms",
        mean * 1e3,
        p(0.5) * 1e3,
        p(0.9) * 1e3,
        p(1.0) * 1e3
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(1000);
    let recycle: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(200);
    let env = PythonEnv::ensure(None, true).expect("python env");
    let t = std::time::Instant::now();
    let pool = Pool::new(
        env,
        PoolConfig {
            jobs: 1,
            recycle_after: recycle,
            ..Default::default()
        },
    )
    .expect("pool");
    println!(
        "worker start (spawn -> ready, torch imported): {:.2} s",
        t.elapsed().as_secs_f64()
    );
    let info = pool.worker_info();
    println!("worker reports import_s = {}", info["import_s"]);
    let mut phases: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let mut verdicts: BTreeMap<&str, u64> = BTreeMap::new();
    let mut rss = vec![];
    let t = std::time::Instant::now();
    for i in 0..n {
        let case = generate(i, true);
        let r = oracle::check(&pool, &case, Backend::Export);
        *verdicts.entry(r.verdict.name()).or_default() += 1;
        if r.verdict != Verdict::Hang && r.verdict != Verdict::Crash && i > 0 {
            let tm = &r.timings;
            for (k, v) in [
                ("render", tm.render_s),
                ("ipc", tm.ipc_s),
                ("load", tm.load_s),
                ("eager", tm.eager_s),
                ("export", tm.export_s),
                ("inspect", tm.inspect_s),
                ("probes", tm.probes_s),
                ("total", tm.total_s),
            ] {
                phases.entry(k).or_default().push(v);
            }
        }
        if i % 50 == 49
            && let Some(m) = pool.pids().first().and_then(|p| rss_mb(*p))
        {
            rss.push((i + 1, m));
        }
    }
    let el = t.elapsed().as_secs_f64();
    println!(
        "{n} cases in {el:.1} s ({:.1} cases/s, 1 worker, recycle after {recycle})",
        n as f64 / el
    );
    println!("verdicts: {verdicts:?}");
    for (k, v) in phases {
        stats(k, v);
    }
    println!(
        "worker RSS (MB) after N cases: {}",
        rss.iter()
            .map(|(i, m)| format!("{i}:{m:.0}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
}
