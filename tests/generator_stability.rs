//! The cases behind the first 1,000 seeds (swarm and default configuration) hash to the
//! committed list in `tests/data/generated_hashes.txt`, so a refactoring of the generator
//! cannot silently change which case a stored `gen --seed N` stands for. When the generator
//! is changed on purpose, raise `GENERATOR_VERSION`, regenerate the list with
//! `SHAPEFUZZ_BLESS=1 cargo test --test generator_stability` and say so in the commit: the
//! list's first line names the version its hashes belong to.

use sha2::{Digest, Sha256};
use shapefuzz::r#gen::GENERATOR_VERSION;
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
    let header = format!("# generator version {GENERATOR_VERSION}\n");
    let file = std::fs::read_to_string(&path).unwrap_or_default();
    let (committed_header, committed) = file.split_at(file.find('\n').map_or(0, |i| i + 1));
    if std::env::var_os("SHAPEFUZZ_BLESS").is_some() {
        assert!(
            committed == now || committed_header != header,
            "the cases changed but GENERATOR_VERSION is still {GENERATOR_VERSION}: raise it, then bless"
        );
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, header + &now).unwrap();
        return;
    }
    assert_eq!(
        committed_header, header,
        "tests/data/generated_hashes.txt belongs to another generator version; bless it (see this file's header)"
    );
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
