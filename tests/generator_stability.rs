//! The cases behind the first 1,000 seeds (swarm and default configuration) hash to the
//! committed list in `tests/data/generated_hashes.txt`, so a refactoring of the generator
//! cannot silently change which case a stored `gen --seed N` stands for. When the generator
//! is changed on purpose, regenerate the list with `SHAPEFUZZ_BLESS=1 cargo test --test
//! generator_stability` and say so in the commit.

use sha2::{Digest, Sha256};
use shapefuzz::generate;
use std::path::Path;

fn hashes() -> String {
    let mut out = String::new();
    for seed in 0..1000u64 {
        for swarm in [true, false] {
            let json = generate(seed, swarm).to_json();
            let h = Sha256::digest(json.as_bytes());
            let hex: String = h[..8].iter().map(|b| format!("{b:02x}")).collect();
            out.push_str(&format!(
                "{seed} {} {hex}\n",
                if swarm { "swarm" } else { "default" }
            ));
        }
    }
    out
}

#[test]
fn the_first_thousand_seeds_give_the_committed_cases() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/generated_hashes.txt");
    let now = hashes();
    if std::env::var_os("SHAPEFUZZ_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &now).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).expect("tests/data/generated_hashes.txt");
    let differ: Vec<(&str, &str)> = committed
        .lines()
        .zip(now.lines())
        .filter(|(a, b)| a != b)
        .take(5)
        .collect();
    assert!(
        differ.is_empty() && committed.lines().count() == now.lines().count(),
        "the generator makes other cases from the same seeds (first differences: {differ:?}); \
         if that is intended, bless the list (see this file's header)"
    );
}
