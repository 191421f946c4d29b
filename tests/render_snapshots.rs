//! insta snapshots, under the top-level `snapshots/`, of the seed renderings and of five
//! fixed-seed generated cases (IR and Python).

use shapefuzz::cli::generate;
use shapefuzz::ir::Case;
use shapefuzz::render::render;
use std::path::Path;

fn seed(name: &str) -> Case {
    Case::load(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("corpus/seeds")
            .join(name),
    )
    .unwrap()
}

macro_rules! snap {
    ($name:expr, $value:expr) => {
        insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

#[test]
fn seed_renderings() {
    snap!("seed_pad_render", render(&seed("seed_pad.json")).source);
    snap!("seed_cat_render", render(&seed("seed_cat.json")).source);
}

#[test]
fn generated_cases() {
    for s in 1..=5u64 {
        let case = generate(s, true);
        snap!(
            format!("generated_case_{s}"),
            format!("{}\n\n{}", case.to_json(), render(&case).source)
        );
    }
}
