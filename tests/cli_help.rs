//! Every subcommand's `--help`, as a user reads it, in a snapshot: a change of wording,
//! default or example shows in review.

use std::process::Command;

const SUBCOMMANDS: &[&str] = &[
    "",
    "gen",
    "setup",
    "check",
    "fuzz",
    "reduce",
    "repro",
    "import-artifact",
    "replay",
    "merge",
    "report",
    "explain",
    "known",
    "probe",
];

#[test]
fn help_of_every_subcommand() {
    for sub in SUBCOMMANDS {
        let mut c = Command::new(env!("CARGO_BIN_EXE_shapefuzz"));
        if !sub.is_empty() {
            c.arg(sub);
        }
        let o = c.arg("--help").env("COLUMNS", "100").output().unwrap();
        assert!(o.status.success(), "{sub} --help");
        let text = String::from_utf8(o.stdout).unwrap();
        if !sub.is_empty() {
            assert!(text.contains("Examples:"), "{sub} --help has no examples");
        }
        let name = if sub.is_empty() { "shapefuzz" } else { sub };
        insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!(format!("help@{name}"), text);
        });
    }
}

#[test]
fn durations_read_as_people_write_them() {
    use shapefuzz::cli::parse_duration;
    use std::time::Duration;
    for (text, secs) in [
        ("60", 60.0),
        ("90s", 90.0),
        ("2m", 120.0),
        ("1h30m", 5400.0),
        ("1h 30m", 5400.0),
        ("500ms", 0.5),
        ("2.5", 2.5),
    ] {
        assert_eq!(
            parse_duration(text),
            Ok(Duration::from_secs_f64(secs)),
            "{text}"
        );
    }
    for bad in ["", "soon", "1x", "-5s", "1e400"] {
        let e = parse_duration(bad).unwrap_err();
        assert!(e.contains("try 60s"), "{bad}: {e}");
    }
}

#[test]
fn explain_says_what_each_term_means() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_shapefuzz"))
            .arg("explain")
            .args(args)
            .output()
            .unwrap()
    };
    let all = String::from_utf8(run(&[]).stdout).unwrap();
    for v in shapefuzz::oracle::Verdict::ALL {
        assert!(
            all.contains(&format!("{} [verdict]", v.name())),
            "{}",
            v.name()
        );
    }
    for c in shapefuzz::oracle::Contract::ALL {
        assert!(all.contains(c.name()), "{}", c.name());
    }
    let one = run(&["lost_dim"]);
    assert!(String::from_utf8_lossy(&one.stdout).contains("pinned"));
    let none = run(&["no-such-term"]);
    assert_eq!(none.status.code(), Some(64), "a usage error");
    // A kind by all its members, the backends and the exit codes among them.
    let backends = String::from_utf8(run(&["backends"]).stdout).unwrap();
    for b in shapefuzz::oracle::Backend::ALL {
        assert!(
            backends.contains(&format!("{} [backend]", b.name())),
            "{}",
            b.name()
        );
    }
    assert!(backends.contains("same as export"), "{backends}");
    let codes = String::from_utf8(run(&["exit-codes"]).stdout).unwrap();
    assert!(codes.contains("64: a usage error"), "{codes}");
}
