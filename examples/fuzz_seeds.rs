//! Writes the committed `export_diff` seed corpus with real torch: three ChaCha byte
//! strings whose case (as the fuzz targets decode it) shows the seed document's class
//! (`export/lost_dim/append_value:pad/...`), and five whose case passes.
//! `cargo run --example fuzz_seeds -- corpus/fuzz/export_diff`
use rand::{RngCore, SeedableRng};
use shapefuzz::r#gen::case_from_bytes;
use shapefuzz::oracle::{self, Backend, Pool, PoolConfig, PythonEnv, Verdict};
use shapefuzz::report::signature;

fn main() {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).expect("output directory"));
    std::fs::create_dir_all(&dir).unwrap();
    let env = PythonEnv::ensure(None, true).expect("python env");
    let pool = Pool::new(env, PoolConfig::default()).expect("pool");
    let (mut pad, mut plain) = (0, 0);
    for seed in 0u64.. {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut bytes = vec![0u8; 512];
        rng.fill_bytes(&mut bytes);
        let Some(case) = case_from_bytes(&bytes) else {
            continue;
        };
        let wants_pad = pad < 3
            && case
                .nodes
                .iter()
                .any(|op| op.spelled_kind() == "append_value:pad");
        if !wants_pad && plain == 5 {
            continue;
        }
        let r = oracle::check(&pool, &case, Backend::Export);
        let sig = signature(&r).unwrap_or_default();
        if wants_pad && sig.starts_with("export/lost_dim/append_value:pad/") {
            std::fs::write(dir.join(format!("pad-{seed}")), &bytes).unwrap();
            pad += 1;
        } else if plain < 5 && r.verdict == Verdict::Pass {
            std::fs::write(dir.join(format!("plain-{seed}")), &bytes).unwrap();
            plain += 1;
        }
        if pad == 3 && plain == 5 {
            println!("searched {} byte strings", seed + 1);
            break;
        }
    }
}
