//! Validation cost on hostile cases, Rust only: `cargo run --release --example
//! validate_bench`. A grid of size-arithmetic cases (symbols x chain x fan x probes, with
//! and without two-operand nodes) is loaded and validated; prints the slowest accepted and
//! refused ones. The limits (`MAX_INFER_WORK`, `MAX_TRUTH_WORK`) must keep every case under
//! a second. Extra arguments are case files to time as well.
use shapefuzz::ir::Case;

#[path = "../tests/common/arithmetic.rs"]
mod arithmetic;
use arithmetic::arithmetic_case;
use std::time::Instant;

fn main() {
    let mut timed: Vec<(f64, bool, String)> = vec![];
    let mut time = |name: String, text: &str| {
        let t = Instant::now();
        let ok = Case::from_json(text, &name).is_ok();
        timed.push((t.elapsed().as_secs_f64(), ok, name));
    };
    for inputs in [1, 2, 4, 8, 16, 32, 64] {
        for chain in [0, 10, 30, 100, 300, 1000] {
            for fan in [0, 10, 30, 100, 300, 1000] {
                for probes in [0, 3, 15] {
                    for mix in [false, true] {
                        if chain + fan > 1000 {
                            continue;
                        }
                        let name = format!(
                            "inputs={inputs} chain={chain} fan={fan} probes={probes} mix={mix}"
                        );
                        time(name, &arithmetic_case(inputs, chain, fan, probes, mix));
                    }
                }
            }
        }
    }
    for path in std::env::args().skip(1) {
        let text = std::fs::read_to_string(&path).expect("a readable case file");
        time(path, &text);
    }
    timed.sort_by(|a, b| b.0.total_cmp(&a.0));
    let accepted = timed.iter().filter(|t| t.1).count();
    println!("{} cases, {accepted} valid", timed.len());
    for (what, ok) in [("valid", true), ("refused", false)] {
        for (s, _, name) in timed.iter().filter(|t| t.1 == ok).take(3) {
            println!("slowest {what}: {:.3} s  {name}", s);
        }
    }
}
