//! Writes the committed `export_diff` seed corpus with real torch: three ChaCha byte
//! strings whose case (as the fuzz targets decode it) shows a torch bug (what the target
//! stops on by default), and five whose case passes.
//! `cargo run --release --example fuzz_seeds -- corpus/fuzz/export_diff`
use rand::{RngCore, SeedableRng};
use shapefuzz::r#gen::case_from_bytes;
use shapefuzz::oracle::{self, Backend, Class, Pool, PoolConfig, PythonEnv, Verdict};

fn main() {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).expect("output directory"));
    std::fs::create_dir_all(&dir).unwrap();
    let env = PythonEnv::ensure(None, true).expect("python env");
    let pool = Pool::new(env, PoolConfig::default()).expect("pool");
    let (mut bugs, mut plain) = (0, 0);
    for seed in 0u64.. {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut bytes = vec![0u8; 512];
        rng.fill_bytes(&mut bytes);
        let Some(case) = case_from_bytes(&bytes) else {
            continue;
        };
        let r = oracle::check(&pool, &case, Backend::Export);
        if bugs < 3 && r.class() == Some(Class::Bug) {
            println!("bug-{seed}: {}", r.signature().unwrap_or_default());
            std::fs::write(dir.join(format!("bug-{seed}")), &bytes).unwrap();
            bugs += 1;
        } else if plain < 5 && r.verdict == Verdict::Pass {
            std::fs::write(dir.join(format!("plain-{seed}")), &bytes).unwrap();
            plain += 1;
        }
        if bugs == 3 && plain == 5 {
            println!("searched {} byte strings", seed + 1);
            break;
        }
    }
}
