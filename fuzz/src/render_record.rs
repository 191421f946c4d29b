//! A finding record's text -> the Python shapefuzz writes for it. Records travel between
//! machines, so their strings are an attacker's: whatever the signature, kind, message,
//! traceback, fix and torch version hold (PEP 263 coding declarations, line and paragraph
//! separators, form feeds, NUL, quotes, fences), the script and the pytest file are the
//! benign record's code line for line, and the record's text sits only in `#` comments
//! after the fixed preamble. Rust only: the same promise is checked against Python's own
//! parser by `tests/hostile_python.rs`.

use arbitrary::Unstructured;
use shapefuzz::oracle::{Backend, Contract, Verdict};
use shapefuzz::repro::{Repro, differs_outside_comments};

/// Pieces that have broken a reproducer before, or that Python's reader treats specially.
pub const HOSTILE: &[&str] = &[
    "\n",
    "\r",
    "\r\n",
    "\u{2028}",
    "\u{2029}",
    "\u{85}",
    "\u{c}",
    "\u{b}",
    "\0",
    "\u{feff}",
    "\u{fffe}",
    "# -*- coding: unicode_escape -*-",
    "# vim: set fileencoding=utf-7 :",
    "coding=raw_unicode_escape",
    "+AAo-import os+ADs-os.system(+ACI-id+ACI-)",
    "\\nimport os; os.system('id')",
    "\\u000aimport os",
    "\"\"\"",
    "'''",
    "\\",
    "#",
    "```",
    "__import__('os').system('id')",
];

/// A string built from arbitrary text and the pieces above.
pub fn text(u: &mut Unstructured) -> arbitrary::Result<String> {
    let mut s = String::new();
    for _ in 0..u.int_in_range(0..=6)? {
        if u.ratio(1, 2)? {
            s.push_str(u.choose(HOSTILE)?);
        } else {
            s.push_str(u.arbitrary::<&str>()?);
        }
    }
    Ok(s)
}

pub fn run(u: &mut Unstructured) -> arbitrary::Result<()> {
    let seed = u.int_in_range(0..=31u64)?;
    let benign = Repro {
        case: shapefuzz::cli::generate(seed, seed % 2 == 0),
        backend: *u.choose(Backend::ALL)?,
        verdict: *u.choose(Verdict::ALL)?,
        contract: if u.arbitrary()? {
            Some(*u.choose(Contract::ALL)?)
        } else {
            None
        },
        kind: Some("RuntimeError".into()),
        message: "benign".into(),
        signature: Some("export/bug/internal-error/-/-".into()),
        probe: None,
        cause: None,
        traceback: None,
        fix: None,
        workaround: None,
        torch: "2.15.0".into(),
        dims: vec![],
        twin: None,
    };
    let hostile = Repro {
        kind: Some(text(u)?),
        message: text(u)?,
        signature: Some(text(u)?),
        traceback: Some(text(u)?),
        fix: Some(text(u)?),
        torch: text(u)?,
        twin: Some(shapefuzz::oracle::Twin {
            api: shapefuzz::ir::SpecApi::Dim,
            verdict: *u.choose(Verdict::ALL)?,
            contract: None,
            message: text(u)?,
            same_culprit: u.arbitrary()?,
            at_probe: None,
        }),
        ..benign.clone()
    };
    for (what, a, b) in [
        ("script", benign.script(), hostile.script()),
        ("pytest", benign.pytest(), hostile.pytest()),
    ] {
        if let Some(e) = differs_outside_comments(&a, &b) {
            panic!("{what}: record text became code: {e}\n{b}");
        }
    }
    Ok(())
}

#[test]
fn smoke() {
    crate::test_n_times(300, run);
}
