//! The case loader on hostile bytes: any input is parsed as case JSON, and loading,
//! validating and rendering it ends in a case or an error, never a panic (the target is
//! built with overflow checks, so arithmetic overflow is a crash too). Valid-looking inputs
//! come from the seed corpus (generated cases) and libFuzzer's mutations of them.

use shapefuzz::ir::Case;
use shapefuzz::render::render;

pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(case) = Case::from_json(text, "input.json") {
        let _ = render(&case);
        let _ = case.valid_runs();
        let _ = case.decisions();
    }
}

#[cfg(test)]
mod tests {
    /// Generated cases, and the same cases cut short and with numbers pushed to extremes.
    #[test]
    fn generated_and_damaged_cases_load_cleanly() {
        for seed in 0..200u64 {
            let json = shapefuzz::cli::generate(seed, seed % 2 == 0).to_json();
            super::run(json.as_bytes());
            super::run(&json.as_bytes()[..json.len() / 2]);
            for extreme in ["-9223372036854775808", "9223372036854775807", "-1", "0"] {
                let damaged =
                    json.replacen(": 2", &format!(": {extreme}"), (seed % 5) as usize + 1);
                super::run(damaged.as_bytes());
            }
        }
    }
}
