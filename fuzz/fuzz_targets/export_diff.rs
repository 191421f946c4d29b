//! `cargo fuzz run --sanitizer none export_diff`: eager vs torch.export on generated models.
//! A new finding panics with its signature, so libFuzzer keeps the input as an artifact;
//! `shapefuzz import-artifact FILE` turns it into a case and a reproducer.
#![cfg_attr(fuzzing, no_main)]

#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(init: shapefuzz_fuzz::export_diff::init(), |data: &[u8]| {
    if let Ok(Some(sig)) = shapefuzz_fuzz::export_diff::run(&mut arbitrary::Unstructured::new(data))
    {
        panic!("shapefuzz finding: {sig}");
    }
});

/// Without libFuzzer: check the files named on the command line and print what they show.
#[cfg(not(fuzzing))]
fn main() {
    for path in std::env::args().skip(1) {
        let data = std::fs::read(&path).expect("readable input");
        let found = shapefuzz_fuzz::export_diff::run(&mut arbitrary::Unstructured::new(&data));
        println!("{path}: {found:?}");
    }
}
