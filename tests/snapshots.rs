//! Snapshots of rendered Python for the hand-written seeds and of five fixed-seed campaign
//! cases (JSON and Python), so any change to the generator or renderer shows up in review.
//! Snapshots live in the top-level `snapshots/` directory; update them with
//! `INSTA_UPDATE=always cargo test --test snapshots` and review the diff.

use shapefuzz::cli::generate;
use shapefuzz::ir::Case;
use shapefuzz::render::render;
use std::path::Path;

macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

fn seed(name: &str) -> Case {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus/seeds")
        .join(name);
    Case::load(&p).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn seed_pad_render() {
    snapshot!("seed_pad_render", render(&seed("seed_pad.json")).source);
}

#[test]
fn seed_cat_render() {
    snapshot!("seed_cat_render", render(&seed("seed_cat.json")).source);
}

#[test]
fn generated_cases() {
    for s in 1..=5u64 {
        let case = generate(s, true);
        let text = format!(
            "# case JSON\n{}\n\n# rendered Python\n{}",
            case.to_json(),
            render(&case).source
        );
        snapshot!(format!("generated_case_{s}"), text);
    }
}
