//! The generator's promises, checked on arbitrary bytes (no torch).

use arbitrary::{Arbitrary, Unstructured};
use shapefuzz::ir::Case;
use shapefuzz::reduce::PASSES;
use shapefuzz::render::render;

pub fn run(u: &mut Unstructured) -> arbitrary::Result<()> {
    let case = Case::arbitrary(u)?;
    if let Err(e) = case.validate() {
        panic!("generated an invalid case: {e}\n{}", case.to_json());
    }
    for v in case.checked_valuations() {
        assert!(case.valid_at(&v), "invalid at {v:?}\n{}", case.to_json());
    }
    let rendered = render(&case);
    assert_eq!(rendered, render(&case), "rendering is not deterministic");
    let back = Case::from_json(&case.to_json(), "fuzz").expect("a generated case reloads");
    assert_eq!(back, case, "JSON round trip changed the case");
    // One reducer pass per input keeps the target fast; the bytes choose which.
    let (name, pass) = PASSES[u.choose_index(PASSES.len()).unwrap_or(0)];
    for cand in pass(&case) {
        if let Err(e) = cand.validate() {
            panic!(
                "reducer pass {name:?} proposed an invalid case: {e}\n{}",
                cand.to_json()
            );
        }
    }
    Ok(())
}

#[test]
fn smoke() {
    crate::test_n_times(200, run);
}
