//! Generation speed, Rust only: `cargo run --release --example gen_bench [N]`.
use shapefuzz::{GenConfig, case_from_seed, cli::generate, render::render};
use std::time::Instant;

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let cfg = GenConfig::default();
    let t = Instant::now();
    let mut nodes = 0;
    for seed in 0..n {
        nodes += case_from_seed(&cfg, seed).nodes.len();
    }
    let gen_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    for seed in 0..n {
        nodes += generate(seed, true).nodes.len();
    }
    let swarm_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut bytes = 0;
    for seed in 0..n.min(2000) {
        bytes += render(&case_from_seed(&cfg, seed)).source.len();
    }
    let render_s = t.elapsed().as_secs_f64();
    println!(
        "default config: {n} cases in {gen_s:.2}s = {:.0} cases/s",
        n as f64 / gen_s
    );
    println!(
        "swarm config:   {n} cases in {swarm_s:.2}s = {:.0} cases/s",
        n as f64 / swarm_s
    );
    println!(
        "generate+render: {} cases in {render_s:.2}s ({bytes} bytes); avg nodes {:.1}",
        n.min(2000),
        nodes as f64 / (2 * n) as f64
    );
}
