//! Property tests over generated cases: every case the generator (default config, the
//! campaign's swarm config, and `Case::arbitrary` over raw bytes) produces is valid at every
//! valuation it is checked at, survives a JSON round trip unchanged, renders
//! deterministically with one line range per node, and stays valid under `compact`.

use arbitrary::{Arbitrary, Unstructured};
use proptest::prelude::*;
use shapefuzz::cli::generate;
use shapefuzz::ir::Case;
use shapefuzz::render::render;
use shapefuzz::{GenConfig, case_from_seed};

const CASES: u32 = 128;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: CASES,
        ..ProptestConfig::default()
    }
}

/// Cases from all three generator entry points, tagged with where they came from.
fn any_case() -> impl Strategy<Value = (String, Case)> {
    prop_oneof![
        any::<u64>().prop_map(|s| (
            format!("default seed {s}"),
            case_from_seed(&GenConfig::default(), s)
        )),
        any::<u64>().prop_map(|s| (format!("swarm seed {s}"), generate(s, true))),
        prop::collection::vec(any::<u8>(), 0..2048).prop_map(|bytes| {
            let case = Case::arbitrary(&mut Unstructured::new(&bytes))
                .unwrap_or_else(|e| panic!("Case::arbitrary failed ({e}) on bytes {bytes:?}"));
            (format!("arbitrary over {} bytes", bytes.len()), case)
        }),
    ]
}

fn check_valid(origin: &str, case: &Case) -> Result<(), TestCaseError> {
    if let Err(e) = case.validate() {
        return Err(TestCaseError::fail(format!(
            "{origin}: validate failed: {e}\n{}",
            case.to_json()
        )));
    }
    for v in case.checked_valuations() {
        if let Err(e) = case.infer_types(std::slice::from_ref(&v)) {
            return Err(TestCaseError::fail(format!(
                "{origin}: infer_types failed at {v:?}: {e}\n{}",
                case.to_json()
            )));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn default_config_cases_are_valid(seed in any::<u64>()) {
        let case = case_from_seed(&GenConfig::default(), seed);
        check_valid(&format!("default seed {seed}"), &case)?;
    }

    #[test]
    fn swarm_cases_are_valid(seed in any::<u64>()) {
        let case = generate(seed, true);
        check_valid(&format!("swarm seed {seed}"), &case)?;
    }

    #[test]
    fn arbitrary_bytes_cases_are_valid(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        let case = Case::arbitrary(&mut Unstructured::new(&bytes));
        prop_assert!(case.is_ok(), "Case::arbitrary failed: {:?}", case.err());
        check_valid(&format!("arbitrary over {} bytes", bytes.len()), &case.unwrap())?;
    }

    #[test]
    fn generation_is_deterministic(seed in any::<u64>()) {
        prop_assert_eq!(generate(seed, true), generate(seed, true));
        prop_assert_eq!(
            case_from_seed(&GenConfig::default(), seed),
            case_from_seed(&GenConfig::default(), seed)
        );
    }

    #[test]
    fn json_round_trip_is_identity((origin, case) in any_case()) {
        let json = case.to_json();
        let back = Case::from_json(&json, "x");
        prop_assert!(back.is_ok(), "{}: from_json failed: {}\n{}", origin, back.as_ref().err().unwrap(), json);
        let back = back.unwrap();
        prop_assert_eq!(&back, &case, "{}", origin);
        prop_assert_eq!(back.to_json(), json, "{}: re-serialization differs", origin);
    }

    #[test]
    fn rendering_is_deterministic_with_one_range_per_node((origin, case) in any_case()) {
        let r1 = render(&case);
        let r2 = render(&case);
        prop_assert_eq!(&r1.source, &r2.source, "{}", origin);
        prop_assert_eq!(&r1.node_lines, &r2.node_lines, "{}", origin);
        // The same case read back from JSON renders identically.
        let r3 = render(&Case::from_json(&case.to_json(), "x").unwrap());
        prop_assert_eq!(&r1, &r3, "{}", origin);

        prop_assert_eq!(r1.node_lines.len(), case.nodes.len(), "{}: one range per node", origin);
        let lines: Vec<&str> = r1.source.lines().collect();
        let mut prev_end = 0u32;
        for (i, &(a, b)) in r1.node_lines.iter().enumerate() {
            prop_assert!(a >= 1 && a <= b, "{}: node {} has range ({}, {})", origin, i, a, b);
            prop_assert!(a > prev_end, "{}: node {} range ({}, {}) overlaps or precedes the previous (ends {})",
                origin, i, a, b, prev_end);
            prop_assert!((b as usize) <= lines.len(), "{}: node {} range past end of source", origin, i);
            prev_end = b;
            // The node's code names the value it defines.
            let text = lines[a as usize - 1..b as usize].join("\n");
            prop_assert!(text.contains(&format!("v{i} =")), "{}: node {} lines do not define v{}:\n{}",
                origin, i, i, text);
            prop_assert_eq!(r1.node_at_line(a), Some(i as u32));
            prop_assert_eq!(r1.node_at_line(b), Some(i as u32));
        }
    }

    #[test]
    fn compact_keeps_cases_valid((origin, case) in any_case(), keep in any::<prop::sample::Index>()) {
        let mut c = case.clone();
        c.compact();
        check_valid(&format!("{origin}, compacted"), &c)?;
        // Compacting a compacted case changes nothing.
        let mut again = c.clone();
        again.compact();
        prop_assert_eq!(&again, &c, "{}: compact is not idempotent", origin);

        // Dropping all outputs but one makes compact actually remove nodes and inputs.
        let mut one = case.clone();
        one.outputs = vec![one.outputs[keep.index(one.outputs.len())]];
        one.compact();
        check_valid(&format!("{origin}, one output kept, compacted"), &one)?;
        prop_assert!(one.nodes.len() <= case.nodes.len());
        prop_assert!(one.inputs.len() <= case.inputs.len());
        prop_assert!(one.unused_values().iter().all(|v| one.outputs.contains(v)),
            "{}: compact left dead nodes", origin);
    }
}
