//! `shapefuzz probe` on user-written model files, against real torch: what a model author
//! sees for the seed document's model, for a torch bug, for code that raises or hangs, and
//! through the Python entry point.

mod common;

use common::{bin, env, run, tmp};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/probe")
        .join(name)
}

fn python() -> PathBuf {
    env().python.clone()
}

/// `shapefuzz probe` on the managed environment.
fn probe(args: &[&str]) -> Output {
    let _ = env(); // created once, before the first probe
    run(&[&["probe"], args].concat())
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "probe --json prints one JSON report ({e}):\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn all_text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Nothing of shapefuzz's own code shows to the user: no worker frames, no Rust panic.
fn assert_no_shapefuzz_traceback(text: &str) {
    for bad in [
        "worker.py",
        "shapefuzz/",
        "panicked",
        "RUST_BACKTRACE",
        "_probe_load",
    ] {
        assert!(
            !text.contains(bad),
            "{bad:?} in what the user sees:\n{text}"
        );
    }
}

/// Runs the Python block of an issue's Markdown as a standalone script in a directory of
/// its own: (the script, its run, the directory).
fn run_issue_script(md: &str, name: &str) -> (String, Output, PathBuf) {
    let script: String = md
        .split("```python\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .unwrap_or_else(|| panic!("a python fence:\n{md}"))
        .to_string();
    let dir = tmp(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("repro.py"), &script).unwrap();
    let ran = Command::new(python())
        .arg("repro.py")
        .current_dir(&dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (script, ran, dir)
}

#[test]
fn seed_model_reports_the_lost_dim_its_guard_the_pad_line_and_the_cat_spelling() {
    let file = example("seed_pad.py");
    let out = probe(&[file.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", all_text(&out));
    let r = json_of(&out);
    assert_eq!(r["outcome"], "judged");
    let f = &r["findings"][0];
    assert_eq!(f["class"], "portability", "{r:#}");
    assert_eq!(f["contract"], "avoidable_specialization");
    assert_eq!(f["dim"], "y.size(0)");
    let c = &f["culprit"];
    assert_eq!(c["guard"], "Eq(s17, 2)");
    assert!(c["site"].as_str().unwrap().ends_with("in pad"), "{c:#}");
    // the pad line, then the line that passed y.shape[0] to it
    assert_eq!(c["stack"][0]["line"], 7);
    assert!(c["stack"][0]["code"].as_str().unwrap().contains("pad("));
    assert_eq!(c["stack"][1]["line"], 12);
    assert!(
        c["stack"][1]["code"]
            .as_str()
            .unwrap()
            .contains("y.shape[0]")
    );
    assert!(
        f["suggestion"].as_str().unwrap().contains("torch.cat"),
        "{f:#}"
    );
    let y = r["dims"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["label"] == "y.size(0)")
        .unwrap();
    assert_eq!(y["kept"], "pinned to 2");
    assert_eq!(y["accepts"], "2");
    assert_eq!(y["eager_runs"], "2..=64");

    let text = probe(&[file.to_str().unwrap()]);
    let t = String::from_utf8_lossy(&text.stdout);
    assert!(t.contains("suggestion: F.pad"), "{t}");
    assert!(t.contains("at seed_pad.py:7:"), "{t}");
}

#[test]
fn a_torch_bug_in_a_user_model_gives_an_issue_whose_reproducer_runs_standalone() {
    let file = example("split_dynamic.py");
    let out = probe(&[file.to_str().unwrap(), "--json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a bug fails: {}",
        all_text(&out)
    );
    let r = json_of(&out);
    assert_eq!(r["class"], "bug");
    assert_eq!(r["findings"][0]["contract"], "dynamic_specialized_silently");
    assert_eq!(r["findings"][0]["culprit"]["stack"][0]["line"], 7);

    let issue = probe(&[file.to_str().unwrap(), "--format", "issue"]);
    assert_eq!(issue.status.code(), Some(1));
    let md = String::from_utf8_lossy(&issue.stdout).to_string();
    assert!(md.contains("Dim.DYNAMIC dimension specialized without an error"));
    assert!(md.contains("PyTorch version: 2.15.0"), "versions block");
    let (_, ran, dir) = run_issue_script(&md, "probe-repro");
    let err = String::from_utf8_lossy(&ran.stderr);
    assert!(!ran.status.success(), "the reproducer shows the bug");
    assert!(
        err.contains("Guard failed: x.size()[0] >= 8"),
        "standalone, it fails the way the report says:\n{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_branch_of_the_model_itself_is_expected_not_a_bug() {
    let dir = tmp("probe-branch");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("branch.py");
    std::fs::write(
        &file,
        "import torch\nfrom torch.export import Dim\n\nclass M(torch.nn.Module):\n    def forward(self, x):\n        if x.shape[0] > 4:\n            return x * 2\n        return x + 1\n\ndef model():\n    return M()\n\ndef example_inputs():\n    return (torch.randn(6, 3),)\n\ndef dynamic_shapes():\n    return {\"x\": {0: Dim.AUTO}}\n",
    )
    .unwrap();
    let out = probe(&[file.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", all_text(&out));
    let r = json_of(&out);
    let f = &r["findings"][0];
    assert_eq!(f["class"], "expected", "{r:#}");
    assert_eq!(f["contract"], "trace_region");
    assert_eq!(f["culprit"]["python"], true);
    assert_eq!(f["culprit"]["stack"][0]["line"], 6);
    assert_eq!(r["dims"][0]["trace_region"], "5..=64");
    assert_eq!(r["dims"][0]["accepts"], "5..=64");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn user_code_that_raises_or_hangs_gets_a_clear_verdict_and_no_shapefuzz_traceback() {
    let dir = tmp("probe-hostile");
    std::fs::create_dir_all(&dir).unwrap();
    let model_tail = "\ndef model():\n    return M()\n\ndef example_inputs():\n    return (torch.randn(3, 2),)\n\ndef dynamic_shapes():\n    return {\"x\": {0: torch.export.Dim.AUTO}}\n";
    let files = [
        (
            "at_import.py",
            "import torch\nraise RuntimeError(\"config file missing\")\n".to_string(),
        ),
        (
            "at_export.py",
            format!(
                "import torch\n\nclass M(torch.nn.Module):\n    def forward(self, x):\n        if torch.compiler.is_exporting():\n            raise ValueError(\"not exportable\")\n        return x + 1\n{model_tail}"
            ),
        ),
        (
            "hangs.py",
            format!(
                "import time\nimport torch\n\nclass M(torch.nn.Module):\n    def forward(self, x):\n        while torch.compiler.is_exporting():\n            time.sleep(0.5)\n        return x + 1\n{model_tail}"
            ),
        ),
        (
            "no_convention.py",
            "import torch\n\nclass M(torch.nn.Module):\n    def forward(self, x):\n        return x\n".to_string(),
        ),
        (
            "eager_fails.py",
            format!(
                "import torch\n\nclass M(torch.nn.Module):\n    def forward(self, x):\n        return x @ x\n{model_tail}"
            ),
        ),
    ];
    for (name, text) in &files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    let go = |name: &str, extra: &[&str]| {
        let p = dir.join(name);
        probe(&[&[p.to_str().unwrap(), "--json"], extra].concat())
    };

    let out = go("at_import.py", &[]);
    assert_eq!(out.status.code(), Some(2), "{}", all_text(&out));
    let r = json_of(&out);
    assert_eq!(r["outcome"], "setup_error");
    assert_eq!(r["error"]["stage"], "load");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("RuntimeError: config file missing")
    );
    assert_eq!(r["error"]["line"], 2);
    let tb = r["error"]["traceback"].as_str().unwrap();
    assert!(tb.contains("at_import.py\", line 2"), "{tb}");
    assert_no_shapefuzz_traceback(&all_text(&out));

    let out = go("at_export.py", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", all_text(&out));
    let r = json_of(&out);
    let f = &r["findings"][0];
    assert_eq!(f["verdict"], "export_error");
    assert_ne!(
        f["class"], "bug",
        "the model's own raise is not torch's bug"
    );
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("ValueError: not exportable")
    );
    assert_eq!(f["culprit"]["stack"][0]["line"], 6);
    assert_no_shapefuzz_traceback(&all_text(&out));

    let t = std::time::Instant::now();
    let out = go("hangs.py", &["--timeout", "8s"]);
    assert!(t.elapsed() < std::time::Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(2), "{}", all_text(&out));
    let r = json_of(&out);
    assert_eq!(r["outcome"], "hang");
    assert_eq!(r["error"]["stage"], "export");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--timeout")
    );
    assert_no_shapefuzz_traceback(&all_text(&out));

    let out = go("no_convention.py", &[]);
    assert_eq!(out.status.code(), Some(2));
    let r = json_of(&out);
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("defines no model(), example_inputs(), dynamic_shapes()"),
        "{r:#}"
    );
    assert_no_shapefuzz_traceback(&all_text(&out));

    let out = go("eager_fails.py", &[]);
    assert_eq!(out.status.code(), Some(2));
    let r = json_of(&out);
    assert_eq!(r["error"]["stage"], "eager");
    assert_no_shapefuzz_traceback(&all_text(&out));

    // What is wrong with the arguments is said before torch starts, in one line.
    // A file that cannot be read is the harness's error (2), a malformed --entry a usage
    // error (64).
    for (args, says, code) in [
        (
            vec!["probe", "/no/such/model.py"],
            "cannot read the model file",
            2,
        ),
        (vec!["probe", dir.to_str().unwrap()], "not a file", 2),
        (
            vec!["probe", "--entry", "a b:c"],
            "expected MODULE or MODULE:FUNCTION",
            64,
        ),
    ] {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(code), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_python_entry_point_and_entry_functions_probe_the_same_way() {
    let dir = tmp("probe-python");
    let pkg = dir.join("mypkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(pkg.join("__init__.py"), "").unwrap();
    std::fs::write(
        pkg.join("export_spec.py"),
        std::fs::read_to_string(example("split_dynamic.py")).unwrap()
            + "\n\ndef build():\n    return model(), example_inputs(), dynamic_shapes()\n",
    )
    .unwrap();
    let shapefuzz = env!("CARGO_BIN_EXE_shapefuzz");
    let pythonpath = Path::new(env!("CARGO_MANIFEST_DIR")).join("python");
    let _ = env();
    let py = |code: &str| {
        Command::new(python())
            .args(["-c", code])
            .current_dir(&dir)
            .env("SHAPEFUZZ", shapefuzz)
            .env("PYTHONPATH", &pythonpath)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    // A test suite's call: the report as a dict, and an assertion naming the bug.
    let seed = example("seed_pad.py");
    let code = format!(
        "from shapefuzz_probe import probe, assert_no_bugs\n\
         r = probe({seed:?})\n\
         assert r['findings'][0]['contract'] == 'avoidable_specialization', r\n\
         assert_no_bugs({seed:?})\n\
         try:\n    assert_no_bugs('mypkg.export_spec:build')\n\
         except AssertionError as e:\n    print('ASSERTED', e)\n"
    );
    let out = py(&code);
    let text = all_text(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("ASSERTED"), "{text}");
    assert!(text.contains("dynamic_specialized_silently"), "{text}");
    assert!(text.contains("export_spec.py:7"), "{text}");

    // `python -m shapefuzz_probe`: the CLI with this interpreter.
    let out = Command::new(python())
        .args([
            "-m",
            "shapefuzz_probe",
            "--entry",
            "mypkg.export_spec:build",
        ])
        .current_dir(&dir)
        .env("SHAPEFUZZ", shapefuzz)
        .env("PYTHONPATH", &pythonpath)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", all_text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("bug (dynamic-specialized-silently)"));
    let _ = bin();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Real dynamic-shape models written by other people (`examples/probe/real/`, each naming its
/// source), with what a by-hand review as a maintainer and a model author concluded: no
/// false alarm. Each line is a class of mistake the oracle once made on them.
#[test]
fn real_models_by_other_people_get_the_class_a_reviewer_gives_them() {
    let cases: &[(&str, &str, &str)] = &[
        // is_exporting() picks a scan that returns a 1-tuple, and torch._check on data:
        // the model's intent, not a divergence or a size specialization
        (
            "od_scan_decomposition_151564.py",
            "expected",
            "model_intent",
        ),
        // torch.cond's argument check: the model's call, not torch's internal error
        ("od_cond_nonzero.py", "portability", "api_argument_error"),
        // a dim tied to another input's static dim: the spec asks what the model cannot give
        ("od_while_inc.py", "expected", "trace_region"),
        // the number of chunks (and the loop over them) changes with the size
        ("hf_apply_chunking.py", "expected", "trace_region"),
        // example sizes 0/1 under Dim.DYNAMIC / Dim.AUTO: torch's documented specialization
        (
            "od_export_with_dimension0.py",
            "expected",
            "zero_one_specialization",
        ),
        ("hf_causal_mask.py", "expected", "zero_one_specialization"),
        // torch.cond on a size predicate: exports and matches eager
        ("exportdb_cond_predicate.py", "pass", ""),
        // a list of tensors as an input, with a spec of the same structure
        ("od_signature_list_fixed_length.py", "pass", ""),
    ];
    for (file, class, contract) in cases {
        let path = example(&format!("real/{file}"));
        let out = probe(&["--json", path.to_str().unwrap()]);
        let r = json_of(&out);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{file}: no bug\n{}",
            all_text(&out)
        );
        let findings = r["findings"].as_array().cloned().unwrap_or_default();
        assert!(
            findings.iter().all(|f| f["class"] != "bug"),
            "{file}: {findings:#?}"
        );
        if *class == "pass" {
            assert_eq!(r["verdict"], "pass", "{file}: {r:#}");
            continue;
        }
        assert_eq!(r["class"], *class, "{file}: {r:#}");
        assert!(
            findings.iter().any(|f| f["contract"] == *contract),
            "{file}: no {contract}: {findings:#?}"
        );
        for f in &findings {
            assert!(
                f["root_cause"].as_str().is_some_and(|k| !k.is_empty()),
                "{file}: every finding has a root cause: {f:#}"
            );
        }
    }
}

/// An int input with its own spec (`"n": Dim.DYNAMIC`) is a size symbol like a dim: probe
/// varies it, compares eager and exported at other values, and reports it by name.
#[test]
fn an_int_input_with_a_spec_is_probed_as_a_size() {
    let out = probe(&["--json", example("int_input.py").to_str().unwrap()]);
    let r = json_of(&out);
    assert_ne!(out.status.code(), Some(2), "{}", all_text(&out));
    let dims = r["dims"].as_array().cloned().unwrap_or_default();
    let n = dims
        .iter()
        .find(|d| d["label"] == "n (an int input)")
        .unwrap_or_else(|| panic!("no dim for n: {r:#}"));
    assert_eq!(n["example"], 5, "{n:#}");
    assert!(
        n["eager_runs"].as_str().is_some_and(|s| s != "none"),
        "{n:#}"
    );
    assert!(r["compared"].as_u64().unwrap_or(0) > 2, "{r:#}");
    assert!(
        r["findings"]
            .as_array()
            .is_none_or(|f| f.iter().all(|f| f["class"] != "bug")),
        "{r:#}"
    );
}

/// Lists and dicts of tensors, with a spec of the same structure (as torch.export takes
/// it): each tensor is probed as an input of its own, named as the user writes it.
#[test]
fn pytree_inputs_are_probed_leaf_by_leaf() {
    let out = probe(&["--json", example("pytree_inputs.py").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", all_text(&out));
    let r = json_of(&out);
    let labels: Vec<&str> = r["dims"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["label"].as_str())
        .collect();
    for want in [
        "feats[0].size(0)",
        "feats[1].size(2)",
        "extra['bias'].size(0)",
        "extra['scale'].size(0)",
    ] {
        assert!(labels.contains(&want), "{want} in {labels:?}");
    }
    assert!(r["compared"].as_u64().unwrap_or(0) > 2, "{r:#}");

    // The same model with its spec as a ShapesCollection, keyed by the example tensors:
    // the same dims, symbols and probes as the spec written along the inputs' structure.
    let out = probe(&["--json", example("shapes_collection.py").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", all_text(&out));
    let c = json_of(&out);
    assert_eq!(c["verdict"], r["verdict"], "{c:#}");
    assert_eq!(c["dims"], r["dims"], "{c:#}");
    assert_eq!(c["subject"]["symbols"], r["subject"]["symbols"], "{c:#}");
    assert_eq!(c["compared"], r["compared"], "{c:#}");
    // A collection keyed by other tensors than the examples: one line that says so.
    let dir = tmp("probe-collection");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("fresh_tensors.py");
    let text = std::fs::read_to_string(example("shapes_collection.py"))
        .unwrap()
        .replace(
            "    return (FEATS, EXTRA)",
            "    return ([f.clone() for f in FEATS], EXTRA)",
        );
    std::fs::write(&file, text).unwrap();
    let out = probe(&["--json", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", all_text(&out));
    let e = json_of(&out);
    let msg = e["error"]["message"].as_str().unwrap_or("");
    assert!(
        msg.contains("ShapesCollection keyed by other tensors"),
        "{e:#}"
    );
    assert_no_shapefuzz_traceback(msg);
    let _ = std::fs::remove_dir_all(&dir);

    // The seed's pad with its tensors in one list: the pinned leaf is named, the culprit
    // is the model's line, and the reproducer rebuilds the list and fails standalone.
    let file = example("pytree_pad.py");
    let out = probe(&["--json", file.to_str().unwrap()]);
    let r = json_of(&out);
    let f = &r["findings"][0];
    assert_eq!(f["contract"], "avoidable_specialization", "{r:#}");
    assert_eq!(f["dim"], "xs[1].size(0)", "{f:#}");
    assert!(
        f["culprit"]["stack"][0]["code"]
            .as_str()
            .unwrap_or("")
            .contains("xs[1].shape[0]"),
        "{f:#}"
    );
    let issue = probe(&[file.to_str().unwrap(), "--format", "issue"]);
    let md = String::from_utf8_lossy(&issue.stdout).to_string();
    let (script, ran, dir) = run_issue_script(&md, "probe-pytree-repro");
    assert!(script.contains("_pytree.tree_unflatten"), "{script}");
    let err = String::from_utf8_lossy(&ran.stderr);
    assert!(
        !ran.status.success(),
        "the reproducer shows the pin:\n{script}"
    );
    assert!(
        err.contains("Guard failed") || err.contains("Expected input"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A user's ShapesSpec: each ShapeVar is one symbol, held to ShapesSpec's own promise (no
/// trace region; 0 and 1 inside its range probed and compared; a size past its max must be
/// refused). The seed document's pad under ShapesSpec: export refuses inside F.pad, a note
/// for the author, not a bug. Assumptions hold the program to the sizes that keep them, and
/// a dim that is an expression of a ShapeVar is sized by it.
#[test]
fn a_shapes_spec_is_probed_against_its_own_promise() {
    let out = probe(&["--json", example("shapes_spec.py").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", all_text(&out));
    let r = json_of(&out);
    assert_eq!(r["verdict"], "pass", "{r:#}");
    let batch = &r["subject"]["symbols"][0];
    assert_eq!(
        (
            batch["spec"].as_str(),
            batch["lo"].as_i64(),
            batch["hi"].as_i64()
        ),
        (Some("var"), Some(0), Some(32)),
        "{batch:#}"
    );
    assert_eq!(r["dims"][0]["kept"], "dynamic [0, 32]", "{r:#}");
    assert_eq!(r["dims"][0]["accepts"], "2..=32", "{r:#}");
    // the 0/1 probes inside the ranges are compared, not set aside
    assert!(r["compared"].as_u64().unwrap_or(0) >= 8, "{r:#}");

    let dir = tmp("probe-shapes");
    std::fs::create_dir_all(&dir).unwrap();
    let head = "import torch\nimport torch.nn.functional as F\nfrom torch.fx.experimental.dynamic_spec import ShapesSpec, ShapeVar, TensorSpec\n\nclass M(torch.nn.Module):\n    def forward(self, x, y):\n        return F.pad(x, (0, 1), value=y.shape[0])\n\ndef model():\n    return M()\n\ndef example_inputs():\n    return (torch.randn(5), torch.randn(7))\n\n";
    let pad = dir.join("pad_shapes.py");
    std::fs::write(
        &pad,
        format!("{head}def dynamic_shapes():\n    return ShapesSpec({{\"x\": TensorSpec([ShapeVar(\"n\")]), \"y\": TensorSpec([ShapeVar(\"m\")])}})\n"),
    )
    .unwrap();
    let out = probe(&["--json", pad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", all_text(&out));
    let r = json_of(&out);
    assert_eq!(
        r["findings"][0]["contract"], "data_dependent_in_op",
        "{r:#}"
    );
    assert_eq!(r["findings"][0]["class"], "portability", "{r:#}");

    // an assumption (`n % 2 == 0`): only the sizes that keep it are promised, and the
    // program asserts it at run time, so the odd sizes it refuses are no finding
    let out = probe(&[
        "--json",
        example("shapes_spec_assumed.py").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", all_text(&out));
    let r = json_of(&out);
    assert_eq!(r["verdict"], "pass", "{r:#}");
    assert_eq!(r["subject"]["assumptions"][0], "Eq(Mod(n, 2), 0)", "{r:#}");
    assert_eq!(
        r["subject"]["symbols"][0]["assumed"][1],
        serde_json::json!([2, 2]),
        "{r:#}"
    );
    // a dim that is an expression of a ShapeVar (`b * 2`) is sized by it
    let out = probe(&[
        "--json",
        example("shapes_spec_derived.py").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", all_text(&out));
    let r = json_of(&out);
    assert_eq!(r["verdict"], "pass", "{r:#}");
    // the expression comes first: the ShapeVar's own dim gives its example
    let dims = &r["subject"]["symbols"][0]["dims"];
    assert_eq!(
        (dims[0]["derived"].as_str(), dims[1]["derived"].as_str()),
        (Some("2*b"), None),
        "{r:#}"
    );
    assert_eq!(r["subject"]["symbols"][0]["example"], 4, "{r:#}");
    assert!(r["compared"].as_u64().unwrap_or(0) >= 8, "{r:#}");
    let _ = std::fs::remove_dir_all(&dir);
}
