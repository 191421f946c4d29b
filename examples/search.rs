//! Finds generated cases (campaign case seeds, swarm configuration) whose check matches a
//! pattern: how the live tests' fixed seeds were chosen.
//! `cargo run --release --example search -- 'silent-divergence-at-0-1' [--op KIND] [--min-nodes N] [--count N] [--from SEED]`
use regex::Regex;
use shapefuzz::generate;
use shapefuzz::oracle::{self, Backend, Pool, PoolConfig, PythonEnv};

fn main() {
    let mut args = std::env::args().skip(1);
    let pattern = Regex::new(&args.next().expect("a signature pattern")).expect("a regex");
    let (mut op, mut min_nodes, mut count, mut from) = (None, 0usize, 1usize, 0u64);
    while let Some(a) = args.next() {
        let v = args.next().expect("a value");
        match a.as_str() {
            "--op" => op = Some(v),
            "--min-nodes" => min_nodes = v.parse().unwrap(),
            "--count" => count = v.parse().unwrap(),
            "--from" => from = v.parse().unwrap(),
            _ => panic!("unknown option {a}"),
        }
    }
    let env = PythonEnv::ensure(None, true).expect("python env");
    let pool = Pool::new(
        env,
        PoolConfig {
            jobs: 2,
            ..Default::default()
        },
    )
    .expect("pool");
    let mut found = 0;
    let mut checked = 0u64;
    for seed in from.. {
        let case = generate(seed, true);
        if case.nodes.len() < min_nodes
            || op
                .as_ref()
                .is_some_and(|o| !case.nodes.iter().any(|n| &n.spelled_kind() == o))
        {
            continue;
        }
        checked += 1;
        let r = oracle::check(&pool, &case, Backend::Export);
        let sig = r.signature().unwrap_or_default();
        if pattern.is_match(&sig) {
            println!(
                "seed {seed}: {sig} ({} nodes, {} inputs)",
                case.nodes.len(),
                case.inputs.len()
            );
            found += 1;
            if found == count {
                break;
            }
        }
        if checked.is_multiple_of(200) {
            eprintln!("checked {checked} cases (seed {seed})");
        }
    }
}
