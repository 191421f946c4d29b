//! insta snapshots, under the top-level `snapshots/`, of every seed in `corpus/seeds` (the
//! module the worker runs and the top of the standalone reproducer) and of five fixed-seed
//! generated cases (IR and Python).

use shapefuzz::generate;
use shapefuzz::ir::Case;
use shapefuzz::render::{render, render_standalone};

macro_rules! snap {
    ($name:expr, $value:expr) => {
        insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

#[test]
fn seed_renderings() {
    let mut seen = 0;
    insta::glob!("../corpus/seeds", "*.json", |path| {
        let case = Case::load(path).expect("a seed loads");
        insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!(format!(
                "{}\n# --- standalone ---\n{}",
                render(&case).source,
                render_standalone(&case).source
            ));
        });
        seen += 1;
    });
    assert!(seen >= 8, "corpus/seeds holds {seen} seeds");
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
