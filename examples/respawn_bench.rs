//! What a worker's replacement costs, forked from the zygote or spawned: the pool's start,
//! then rounds of a crash (the `test_crash` hook) followed by a check of a seed case, whose
//! time includes starting the replacement and its first case.
//! `cargo run --release --example respawn_bench -- [ROUNDS]`
use shapefuzz::oracle::{self, Backend, Outcome, Pool, PoolConfig, PythonEnv};
use std::time::{Duration, Instant};

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let env = PythonEnv::ensure(None, true).expect("python env");
    let case = shapefuzz::ir::Case::load(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/seeds/seed_pad.json"),
    )
    .expect("seed loads");
    for zygote in [true, false] {
        let t = Instant::now();
        let pool = Pool::new(
            env.clone(),
            PoolConfig {
                jobs: 1,
                timeout: Duration::from_secs(60),
                zygote,
                warm: Some(oracle::warm_request(&[Backend::Export])),
                test_hooks: true,
                ..Default::default()
            },
        )
        .expect("pool");
        let start = t.elapsed().as_secs_f64();
        let t = Instant::now();
        oracle::check(&pool, &case, Backend::Export);
        let first = t.elapsed().as_secs_f64();
        let mut after_crash = vec![];
        for _ in 0..rounds {
            assert!(matches!(
                pool.request(serde_json::json!({"cmd": "test_crash"})),
                Outcome::Crash { .. }
            ));
            let t = Instant::now();
            oracle::check(&pool, &case, Backend::Export);
            after_crash.push(t.elapsed().as_secs_f64());
        }
        after_crash.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!(
            "{}: pool start {start:.2} s, first check {first:.3} s, check after a crash: median {:.3} s (min {:.3}, max {:.3}, {rounds} rounds)",
            if zygote { "forked " } else { "spawned" },
            after_crash[rounds / 2],
            after_crash[0],
            after_crash[rounds - 1]
        );
    }
}
