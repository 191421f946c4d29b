//! Validation cost on hostile cases, Rust only: `cargo run --release --example
//! validate_bench`. A grid of size-arithmetic cases (symbols x chain x fan x probes, with
//! and without two-operand nodes) is loaded and validated; prints the slowest accepted and
//! refused ones. The limits (`MAX_INFER_WORK`, `MAX_TRUTH_WORK`) must keep every case under
//! a second. Extra arguments are case files to time as well.
use shapefuzz::ir::Case;
use std::time::Instant;

fn arithmetic_case(inputs: usize, chain: usize, fan: usize, probes: usize, mix: bool) -> String {
    let dims: Vec<String> = (0..inputs)
        .map(|s| format!(r#"{{"dtype": "i64", "dims": [{{"size": {{"sym": {s}}}, "truth": {{"kind": "free"}}, "spec": {{"kind": "dynamic"}}}}]}}"#))
        .collect();
    let mut nodes: Vec<String> = (0..inputs)
        .map(|i| {
            format!(r#"{{"op": "size", "x": {{"input": {i}}}, "dim": 0, "spelling": "size_call"}}"#)
        })
        .collect();
    for _ in 0..chain {
        let prev = nodes.len() - 1;
        nodes.push(format!(
            r#"{{"op": "int_arith", "a": {{"node": {prev}}}, "f": "add", "k": 1}}"#
        ));
    }
    let end = nodes.len() - 1;
    for j in 0..fan {
        let n = nodes.len();
        nodes.push(if mix {
            format!(
                r#"{{"op": "int_binary", "a": {{"node": {}}}, "f": "max", "b": {{"node": {}}}}}"#,
                n - 1,
                (j * 7) % n
            )
        } else {
            format!(
                r#"{{"op": "int_arith", "a": {{"node": {end}}}, "f": "mul", "k": {}}}"#,
                j + 2
            )
        });
    }
    let probe: Vec<String> = (0..probes)
        .map(|p| {
            format!(
                r#"{{"sizes": [{}], "edge": false}}"#,
                vec![(6 + p).to_string(); inputs].join(", ")
            )
        })
        .collect();
    format!(
        r#"{{"schema_version": 1, "inputs": [{}], "nodes": [{}], "outputs": [{{"input": 0}}], "export": [{}], "probes": [{}]}}"#,
        dims.join(", "),
        nodes.join(", "),
        vec!["5"; inputs].join(", "),
        probe.join(", ")
    )
}

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
