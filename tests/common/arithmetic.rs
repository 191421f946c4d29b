//! Hostile cases of size arithmetic, shared by `tests/hostile_cases.rs` and
//! `examples/validate_bench.rs`.

/// A case of size arithmetic: `inputs` symbols, a chain of `chain` nodes on the first
/// input's size, a fan of `fan` nodes reading the chain's end (or, with `mix`, two earlier
/// values), and `probes` probes.
pub fn arithmetic_case(
    inputs: usize,
    chain: usize,
    fan: usize,
    probes: usize,
    mix: bool,
) -> String {
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
