//! `cargo fuzz run --sanitizer none render_record`: a record's text never becomes code in
//! the reproducer (no torch).
#![cfg_attr(fuzzing, no_main)]

#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = shapefuzz_fuzz::render_record::run(&mut arbitrary::Unstructured::new(data));
});

/// Without libFuzzer: run the oracle over the files named on the command line.
#[cfg(not(fuzzing))]
fn main() {
    for path in std::env::args().skip(1) {
        let data = std::fs::read(&path).expect("readable input");
        let _ = shapefuzz_fuzz::render_record::run(&mut arbitrary::Unstructured::new(&data));
    }
}
