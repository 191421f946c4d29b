//! Every rendered case is valid Python, checked by the real parser (`ast.parse`).

use shapefuzz::cli::generate;
use shapefuzz::ir::Case;
use shapefuzz::render::render;
use std::process::Command;

#[test]
fn rendered_cases_parse_as_python() {
    let dir = std::env::temp_dir().join(format!("shapefuzz-parse-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = vec![];
    let mut cases: Vec<(String, Case)> = (0..300)
        .map(|s| (format!("swarm-{s}"), generate(s, true)))
        .collect();
    cases.extend((0..100).map(|s| (format!("default-{s}"), generate(s, false))));
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/seeds")).unwrap() {
        let p = entry.unwrap().path();
        cases.push((
            p.file_stem().unwrap().to_string_lossy().into_owned(),
            Case::load(&p).unwrap(),
        ));
    }
    for (name, case) in &cases {
        let p = dir.join(format!("{name}.py"));
        std::fs::write(&p, render(case).source).unwrap();
        files.push(p);
    }
    let out = Command::new("python3")
        .args(["-c", "import ast, sys\nfor p in sys.argv[1:]:\n    ast.parse(open(p).read(), p)\nprint(len(sys.argv) - 1)"])
        .args(&files)
        .output()
        .expect("python3 must be on PATH to check rendered cases (the test does not skip)");
    assert!(
        out.status.success(),
        "syntax error: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        files.len().to_string()
    );
    std::fs::remove_dir_all(&dir).ok();
}
