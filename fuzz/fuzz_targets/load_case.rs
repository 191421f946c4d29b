//! `cargo fuzz run --sanitizer none load_case`: the case loader on hostile bytes (no torch).
#![cfg_attr(fuzzing, no_main)]

#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    shapefuzz_fuzz::load_case::run(data);
});

/// Without libFuzzer: run the loader over the files named on the command line.
#[cfg(not(fuzzing))]
fn main() {
    for path in std::env::args().skip(1) {
        let data = std::fs::read(&path).expect("readable input");
        shapefuzz_fuzz::load_case::run(&data);
    }
}
