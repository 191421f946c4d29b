//! The nightly workflow (`examples/github/shapefuzz-nightly.yml`) rehearsed on this
//! machine: its jobs and steps are read from the file itself and its `run:` blocks run in
//! bash as a runner runs them, in a workspace of their own per job, with real torch. The
//! actions it uses are stood in for by what they do to files (checkout, artifacts up and
//! down, with GitHub's refusal to overwrite an artifact unless asked). The story is a first
//! night on a fork: a fresh cache, no known-issues.toml, 2 shards of which the second fails,
//! a merge that fails naming it, a re-run of that shard, and a merge whose artifact holds
//! what `report` and `fuzz --resume` need.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use yaml_rust2::{Yaml, YamlLoader};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn workflow() -> Yaml {
    let text = std::fs::read_to_string(root().join("examples/github/shapefuzz-nightly.yml"))
        .expect("the nightly workflow");
    YamlLoader::load_from_str(&text)
        .expect("the workflow is YAML")
        .remove(0)
}

fn copy_tree(from: &Path, to: &Path) {
    if from.is_file() {
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(from, to).unwrap();
        return;
    }
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        copy_tree(&e.path(), &to.join(e.file_name()));
    }
}

/// What a step did.
#[derive(Debug)]
struct StepLog {
    name: String,
    ok: bool,
    output: String,
}

/// One run of the workflow: the artifact store its jobs share, and the run's facts.
struct Rehearsal {
    base: PathBuf,
    artifacts: PathBuf,
    /// The Python cache every job restores (actions/cache): fresh at the start.
    cache: PathBuf,
    run_id: String,
    time: String,
    shards: Vec<i64>,
    jobs_run: usize,
}

impl Rehearsal {
    fn new(base: &Path) -> Rehearsal {
        let artifacts = base.join("artifacts");
        let cache = base.join("cache");
        std::fs::create_dir_all(&artifacts).unwrap();
        std::fs::create_dir_all(&cache).unwrap();
        Rehearsal {
            base: base.to_path_buf(),
            artifacts,
            cache,
            run_id: "424242".into(),
            time: "25s".into(),
            shards: vec![],
            jobs_run: 0,
        }
    }

    /// The value of a `${{ }}` expression, for the expressions the workflow uses.
    fn expression(
        &self,
        e: &str,
        shard: Option<i64>,
        outputs: &BTreeMap<String, String>,
    ) -> String {
        match e.trim() {
            "inputs.time || '40m'" => self.time.clone(),
            "matrix.shard" => shard.expect("a matrix job").to_string(),
            "strategy.job-total" => self.shards.len().to_string(),
            "github.run_id" => self.run_id.clone(),
            "runner.os" => "Linux".into(),
            x if x.starts_with("steps.") => outputs
                .get(x)
                .cloned()
                .unwrap_or_else(|| panic!("no step output {x}")),
            x if x.starts_with("hashFiles(") => "hash".into(),
            other => panic!("the rehearsal does not know the expression {other:?}"),
        }
    }

    fn substitute(
        &self,
        s: &str,
        shard: Option<i64>,
        outputs: &BTreeMap<String, String>,
    ) -> String {
        let mut out = String::new();
        let mut rest = s;
        while let Some(i) = rest.find("${{") {
            out.push_str(&rest[..i]);
            let end = rest[i..].find("}}").expect("a closed expression") + i;
            out.push_str(&self.expression(&rest[i + 3..end], shard, outputs));
            rest = &rest[end + 2..];
        }
        out.push_str(rest);
        out
    }

    fn env_of(
        &self,
        y: &Yaml,
        shard: Option<i64>,
        outputs: &BTreeMap<String, String>,
    ) -> Vec<(String, String)> {
        let Some(h) = y["env"].as_hash() else {
            return vec![];
        };
        h.iter()
            .map(|(k, v)| {
                let v = match v {
                    Yaml::Integer(i) => i.to_string(),
                    v => v.as_str().expect("an env value").to_string(),
                };
                (
                    k.as_str().unwrap().to_string(),
                    self.substitute(&v, shard, outputs),
                )
            })
            .collect()
    }

    /// Runs job `name` of the workflow in a fresh workspace; `broken` adds environment to
    /// its Fuzz step (how a failing runner is staged). Returns each step's log.
    fn job(&mut self, name: &str, shard: Option<i64>, broken: &[(&str, &str)]) -> Vec<StepLog> {
        let wf = workflow();
        let job = &wf["jobs"][name];
        assert!(!job.is_badvalue(), "no job {name}");
        self.jobs_run += 1;
        let ws = self.base.join(format!("ws-{}-{name}", self.jobs_run));
        std::fs::create_dir_all(&ws).unwrap();
        let summary_file = ws.join("step-summary.md");
        let mut outputs: BTreeMap<String, String> = BTreeMap::new();
        let mut env: Vec<(String, String)> = self.env_of(&wf, shard, &outputs);
        env.extend(self.env_of(job, shard, &outputs));
        let mut failed = false;
        let mut logs = vec![];
        for step in job["steps"].as_vec().expect("steps") {
            let cond = step["if"].as_str().unwrap_or("");
            // A step without `if` runs only while all went well; the workflow's conditions
            // are `!cancelled()` (and a file test), which a rehearsal is never.
            if failed && !cond.contains("!cancelled()") {
                continue;
            }
            if let Some(f) = cond
                .split("hashFiles('")
                .nth(1)
                .and_then(|r| r.split('\'').next())
                && !ws.join(f).exists()
            {
                continue;
            }
            let with = |k: &str| {
                step["with"][k]
                    .as_str()
                    .map(|v| self.substitute(v, shard, &outputs))
            };
            let name = step["name"]
                .as_str()
                .or(step["uses"].as_str())
                .or(step["run"].as_str())
                .unwrap_or("?")
                .to_string();
            let (ok, output) = if let Some(run) = step["run"].as_str() {
                // Expressions in a script are injection; the workflow passes them by env.
                assert!(!run.contains("${{"), "{name}: an expression inside run:");
                if run.trim_start().starts_with("cargo build") {
                    // The suite built this very binary.
                    let to = ws.join("target/release/shapefuzz");
                    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
                    std::fs::copy(env!("CARGO_BIN_EXE_shapefuzz"), &to).unwrap();
                    (true, "built".into())
                } else {
                    let mut cmd = Command::new("bash");
                    cmd.args(["--noprofile", "--norc", "-eo", "pipefail", "-c", run])
                        .current_dir(&ws)
                        .env("SHAPEFUZZ_CACHE_DIR", &self.cache)
                        .env("GITHUB_STEP_SUMMARY", &summary_file)
                        .env_remove("SHAPEFUZZ_PYTHON")
                        .stdin(Stdio::null());
                    cmd.envs(env.iter().map(|(k, v)| (k, v)));
                    cmd.envs(self.env_of(step, shard, &outputs));
                    if name == "Fuzz" {
                        cmd.envs(broken.iter().copied());
                    }
                    let o = cmd.output().expect("bash runs");
                    (
                        o.status.success(),
                        format!(
                            "{}{}",
                            String::from_utf8_lossy(&o.stdout),
                            String::from_utf8_lossy(&o.stderr)
                        ),
                    )
                }
            } else {
                let uses = step["uses"].as_str().expect("run or uses");
                let action = uses.split('@').next().unwrap();
                match action {
                    // The workspace is the checkout: the repository has no known-issues.toml
                    // (a fork on its first night), and nothing else of it is read by a step.
                    "actions/checkout" => {
                        if root().join("known-issues.toml").exists() {
                            std::fs::copy(
                                root().join("known-issues.toml"),
                                ws.join("known-issues.toml"),
                            )
                            .unwrap();
                        }
                        (true, String::new())
                    }
                    "actions/setup-python" => {
                        let v = Command::new("python3")
                            .args(["-c", "import platform; print(platform.python_version())"])
                            .output()
                            .unwrap();
                        let v = String::from_utf8_lossy(&v.stdout).trim().to_string();
                        if let Some(id) = step["id"].as_str() {
                            outputs.insert(format!("steps.{id}.outputs.python-version"), v);
                        }
                        (true, String::new())
                    }
                    "actions/cache" => {
                        let key = with("key").unwrap();
                        // The venv links to the interpreter it was made from.
                        let py = outputs.values().next().cloned().unwrap_or_default();
                        assert!(
                            !py.is_empty() && key.contains(&format!("py{py}")),
                            "the cache key names the interpreter's version: {key}"
                        );
                        (true, String::new())
                    }
                    "Swatinem/rust-cache" => (true, String::new()),
                    "actions/upload-artifact" => {
                        let art = with("name").unwrap();
                        let path = ws.join(with("path").unwrap());
                        let dest = self.artifacts.join(&art);
                        if !path.exists() {
                            let missing = with("if-no-files-found").unwrap_or_default();
                            (
                                missing != "error",
                                format!("no files at {}", path.display()),
                            )
                        } else if dest.exists() && step["with"]["overwrite"].as_bool() != Some(true)
                        {
                            (
                                false,
                                format!("Conflict: an artifact named {art} already exists (409)"),
                            )
                        } else {
                            let _ = std::fs::remove_dir_all(&dest);
                            let inside = if path.is_file() {
                                dest.join(path.file_name().unwrap())
                            } else {
                                dest.clone()
                            };
                            copy_tree(&path, &inside);
                            (true, String::new())
                        }
                    }
                    "actions/download-artifact" => {
                        let to = ws.join(with("path").unwrap());
                        if let Some(art) = with("name") {
                            let from = self.artifacts.join(&art);
                            if from.exists() {
                                copy_tree(&from, &to);
                                (true, String::new())
                            } else {
                                (false, format!("artifact {art} not found"))
                            }
                        } else {
                            let pattern = with("pattern").unwrap();
                            let prefix = pattern.strip_suffix('*').expect("a prefix pattern");
                            for e in std::fs::read_dir(&self.artifacts).unwrap() {
                                let e = e.unwrap();
                                let n = e.file_name().to_string_lossy().into_owned();
                                if n.starts_with(prefix) {
                                    copy_tree(&e.path(), &to.join(&n));
                                }
                            }
                            (true, String::new())
                        }
                    }
                    "mikepenz/action-junit-report" => {
                        let report =
                            std::fs::read_to_string(ws.join(with("report_paths").unwrap()))
                                .expect("the junit report exists");
                        (report.contains("<testsuite"), String::new())
                    }
                    other => panic!("the rehearsal does not stand in for {other}"),
                }
            };
            failed |= !ok;
            logs.push(StepLog { name, ok, output });
        }
        logs
    }
}

fn step<'a>(logs: &'a [StepLog], name: &str) -> &'a StepLog {
    logs.iter()
        .find(|l| l.name.starts_with(name))
        .unwrap_or_else(|| panic!("no step {name} ran: {logs:#?}"))
}

#[test]
fn a_first_night_on_a_fork_with_a_failed_shard_and_its_rerun() {
    let base = common::tmp("rehearsal");
    let mut r = Rehearsal::new(&base);
    let wf = workflow();
    let matrix: Vec<i64> = wf["jobs"]["fuzz"]["strategy"]["matrix"]["shard"]
        .as_vec()
        .unwrap()
        .iter()
        .map(|s| s.as_i64().unwrap())
        .collect();
    assert!(matrix.len() >= 2, "{matrix:?}");
    // Two shards here, on two cores.
    r.shards = vec![1, 2];
    assert!(
        !root().join("known-issues.toml").exists(),
        "the rehearsal stages a fork without known-issues.toml"
    );

    let build = r.job("build", None, &[]);
    assert!(build.iter().all(|s| s.ok), "{build:#?}");

    // Shard 1 builds the Python environment from nothing (the fresh cache) and fuzzes.
    let one = r.job("fuzz", Some(1), &[]);
    assert!(one.iter().all(|s| s.ok), "{one:#?}");
    let setup = step(&one, "Set up Python");
    assert!(setup.output.contains("torch: 2.15"), "{setup:#?}");
    // Shard 2's runner breaks: its Fuzz step fails, and what it had is uploaded.
    let two = r.job(
        "fuzz",
        Some(2),
        &[("SHAPEFUZZ_PYTHON", "/nonexistent/bin/python")],
    );
    assert!(!step(&two, "Fuzz").ok, "{two:#?}");
    assert!(step(&two, "Upload the shard").ok, "{two:#?}");

    // The merge fails, naming the shard, and still publishes what it has.
    let merge = r.job("merge", None, &[]);
    let m = step(&merge, "Merge");
    assert!(!m.ok, "{merge:#?}");
    assert!(
        m.output.contains("shard 2/2 never finished") && m.output.contains("re-run the shard"),
        "{m:#?}"
    );
    assert!(step(&merge, "Upload the merged campaign").ok, "{merge:#?}");
    let merged = r.artifacts.join("shapefuzz-nightly");
    let md = std::fs::read_to_string(merged.join("summary.md")).unwrap();
    assert!(md.contains("shard 2/2 never finished"), "{md}");

    // "Re-run failed jobs": shard 2 again (its upload replaces the first), then the merge.
    let two = r.job("fuzz", Some(2), &[]);
    assert!(two.iter().all(|s| s.ok), "{two:#?}");
    let merge = r.job("merge", None, &[]);
    let m = step(&merge, "Merge");
    // Exit 1 (a new bug group; no known-issues.toml yet) is the merge's verdict, not a gap.
    assert!(
        m.ok || !m.output.contains("missing") && !m.output.contains("never finished"),
        "{m:#?}"
    );
    assert!(m.output.contains("merged 2 part(s)"), "{m:#?}");
    assert!(step(&merge, "Job summary").ok, "{merge:#?}");
    assert!(
        step(&merge, "Proposed known-issue entries").ok,
        "{merge:#?}"
    );
    assert!(step(&merge, "Upload the merged campaign").ok, "{merge:#?}");
    for f in [
        "campaign.json",
        "results.jsonl",
        "summary.md",
        "summary.json",
        "junit.xml",
        "report.html",
        "findings",
        "known-issues.proposed.toml",
    ] {
        assert!(merged.join(f).exists(), "the merged artifact lacks {f}");
    }
    let step_summary =
        std::fs::read_to_string(base.join(format!("ws-{}-merge/step-summary.md", r.jobs_run)))
            .expect("the job summary was written");
    assert!(step_summary.contains("shapefuzz"), "{step_summary}");

    // The downloaded artifact is a campaign: report rewrites it, --resume continues it.
    let run = |args: &[&str]| {
        common::bin()
            .args(args)
            .env("SHAPEFUZZ_CACHE_DIR", &r.cache)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let o = run(&["report", merged.to_str().unwrap()]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{o:?}");
    // The shards stopped at their time at different indices: resuming to a count fills
    // every index below it that neither shard reached.
    let top = common::results(&merged)
        .iter()
        .map(|l| l.index)
        .max()
        .unwrap();
    let more = (top + 3).to_string();
    let o = run(&[
        "fuzz",
        "--resume",
        "--cases",
        &more,
        "--no-reduce",
        "-q",
        "--out",
        merged.to_str().unwrap(),
    ]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{o:?}");
    let done: std::collections::BTreeSet<u64> =
        common::results(&merged).iter().map(|l| l.index).collect();
    assert!((0..top + 3).all(|i| done.contains(&i)), "{done:?}");
    std::fs::remove_dir_all(&base).ok();
}
