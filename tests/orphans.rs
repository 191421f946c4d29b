//! Workers die with shapefuzz, and what they start dies with them: SIGKILL of the
//! shapefuzz process (nothing of it runs after that) while its worker imports torch or
//! checks a case leaves no worker behind; a process a probed model starts ends with the
//! probe; a stopped zygote is replaced. Live.

mod common;

use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// Pids of the worker processes under `ppid`: its children that run the worker script (the
/// zygote, or spawned workers) and their children (workers forked from the zygote).
fn workers_of(ppid: u32) -> Vec<u32> {
    let mut procs = vec![];
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        // `pid (comm) state ppid ...`; comm may hold spaces, so split after the last `)`.
        let parent = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        if let Some(parent) = parent
            && String::from_utf8_lossy(&cmdline).contains("/worker-")
        {
            procs.push((pid, parent));
        }
    }
    let mut out: Vec<u32> = procs
        .iter()
        .filter(|(_, parent)| *parent == ppid)
        .map(|(pid, _)| *pid)
        .collect();
    let grandchildren: Vec<u32> = procs
        .iter()
        .filter(|(_, parent)| out.contains(parent))
        .map(|(pid, _)| *pid)
        .collect();
    out.extend(grandchildren);
    out
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
}

fn wait_for<T>(limit: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(x) = f() {
            return Some(x);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

/// Kills `shapefuzz` with SIGKILL once `ready` holds, then expects its workers gone
/// within `limit`.
fn killed_leaves_no_worker(mut child: Child, limit: Duration, ready: impl Fn(&[u32]) -> bool) {
    let pid = child.id();
    let workers = wait_for(Duration::from_secs(120), || {
        let w = workers_of(pid);
        ready(&w).then_some(w)
    })
    .expect("shapefuzz started a worker");
    child.kill().unwrap();
    child.wait().unwrap();
    let gone = wait_for(limit, || (!workers.iter().any(|&w| alive(w))).then_some(()));
    let left: Vec<u32> = workers.iter().copied().filter(|&w| alive(w)).collect();
    for w in &left {
        let _ = Command::new("kill").args(["-9", &w.to_string()]).status();
    }
    assert!(gone.is_some(), "workers {left:?} outlived shapefuzz");
}

#[test]
fn sigkill_of_shapefuzz_leaves_no_worker() {
    let python = common::env().python;
    let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/seeds/seed_pad.json");
    // While the worker imports torch.
    let check = Command::new(env!("CARGO_BIN_EXE_shapefuzz"))
        .arg("check")
        .arg(&seed)
        .arg("--python")
        .arg(&python)
        .spawn()
        .unwrap();
    // The kernel ends it (PR_SET_PDEATHSIG) mid-import; the bound leaves room for a loaded
    // machine's teardown of a process of several hundred MB.
    killed_leaves_no_worker(check, Duration::from_secs(10), |w| !w.is_empty());

    // While workers check cases: after the first results are written.
    let out = std::env::temp_dir().join(format!("shapefuzz-orphans-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let fuzz = Command::new(env!("CARGO_BIN_EXE_shapefuzz"))
        .args([
            "fuzz",
            "--cases",
            "100000",
            "--jobs",
            "1",
            "--no-reduce",
            "--python",
        ])
        .arg(&python)
        .arg("--out")
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let results = out.join("results.jsonl");
    killed_leaves_no_worker(fuzz, Duration::from_secs(10), |w| {
        !w.is_empty() && std::fs::read_to_string(&results).is_ok_and(|t| t.lines().count() >= 3)
    });
    std::fs::remove_dir_all(&out).ok();
}

#[test]
fn a_worker_busy_with_a_case_exits_when_its_parent_dies() {
    // The worker under a parent we can kill, stuck in a case that never ends (the `test_hang`
    // hook) with its stdin still open: only the parent watch can end it.
    use std::io::{BufRead, BufReader, Write};
    let env = common::env();
    let script = format!(
        "exec 3<&0; SHAPEFUZZ_WORKER_TEST_HOOKS=1 '{}' -u '{}' <&3 & echo $!; wait",
        env.python.display(),
        env.worker.display()
    );
    let mut parent = Command::new("sh")
        .args(["-c", &script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(parent.stdout.take().unwrap()).lines();
    let worker: u32 = lines.next().unwrap().unwrap().trim().parse().unwrap();
    let hello = lines.next().unwrap().unwrap();
    assert!(hello.contains("\"ready\": true"), "{hello}");
    let mut stdin = parent.stdin.take().unwrap();
    writeln!(stdin, "{{\"id\": 1, \"cmd\": \"test_hang\"}}").unwrap();
    stdin.flush().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert!(alive(worker), "the worker runs its case");
    parent.kill().unwrap();
    parent.wait().unwrap();
    let gone = wait_for(Duration::from_secs(10), || (!alive(worker)).then_some(()));
    if gone.is_none() {
        let _ = Command::new("kill")
            .args(["-9", &worker.to_string()])
            .status();
    }
    assert!(gone.is_some(), "the worker outlived its parent");
    drop(stdin);
}

/// Pids a test model wrote to `file`, one per line.
fn pids_in(file: &Path) -> Vec<u32> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

#[test]
fn processes_a_probed_model_starts_end_with_the_probe() {
    let python = common::env().python;
    let dir = std::env::temp_dir().join(format!("shapefuzz-probe-procs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let pidfile = dir.join("pids");
    let model =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/hostile/probe_starts_a_process.py");
    // With and without the zygote: forked and spawned workers alike.
    for zygote in ["1", "0"] {
        let _ = std::fs::remove_file(&pidfile);
        let out = Command::new(env!("CARGO_BIN_EXE_shapefuzz"))
            .arg("probe")
            .arg(&model)
            .arg("--python")
            .arg(&python)
            .env("SHAPEFUZZ_TEST_PIDFILE", &pidfile)
            .env("SHAPEFUZZ_ZYGOTE", zygote)
            .output()
            .unwrap();
        let started = pids_in(&pidfile);
        assert!(
            !started.is_empty(),
            "the model started no process: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let gone = wait_for(Duration::from_secs(5), || {
            (!started.iter().any(|&p| alive(p))).then_some(())
        });
        let left: Vec<u32> = started.iter().copied().filter(|&p| alive(p)).collect();
        for p in &left {
            let _ = Command::new("kill").args(["-9", &p.to_string()]).status();
        }
        assert!(
            gone.is_some(),
            "zygote={zygote}: processes {left:?} the model started outlived the probe"
        );
    }
    std::fs::remove_dir_all(dir).ok();
}

/// A zygote stopped with SIGSTOP answers nothing: the hung worker it should kill is killed
/// anyway, and the zygote is replaced, so the pool serves the next request.
#[test]
fn a_stopped_zygote_is_replaced() {
    use serde_json::json;
    use shapefuzz::oracle::{Outcome, Pool, PoolConfig};
    let cfg = PoolConfig {
        jobs: 1,
        timeout: Duration::from_secs(3),
        test_hooks: true,
        zygote: true,
        ..Default::default()
    };
    let pool = Pool::new(common::env(), cfg).expect("workers start");
    let worker = pool.pids()[0];
    let stat = std::fs::read_to_string(format!("/proc/{worker}/stat")).unwrap();
    let zygote: u32 = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().nth(1))
        .and_then(|p| p.parse().ok())
        .unwrap();
    assert!(
        std::fs::read_to_string(format!("/proc/{zygote}/cmdline"))
            .unwrap_or_default()
            .contains("--zygote"),
        "the worker was forked from a zygote"
    );
    let stopped = Command::new("kill")
        .args(["-STOP", &zygote.to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    let started = Instant::now();
    assert!(matches!(
        pool.request(json!({"cmd": "test_hang"})),
        Outcome::Hang { .. }
    ));
    // SIGKILL takes a moment to tear down a process of 750 MB.
    let killed = wait_for(Duration::from_secs(5), || (!alive(worker)).then_some(()));
    assert!(killed.is_some(), "the hung worker was killed");
    match pool.request(json!({"cmd": "ping"})) {
        Outcome::Reply { .. } => {}
        other => panic!("the pool serves again after its zygote stopped: {other:?}"),
    }
    assert!(
        started.elapsed() < Duration::from_secs(120),
        "{:?}",
        started.elapsed()
    );
    let gone = wait_for(Duration::from_secs(5), || (!alive(zygote)).then_some(()));
    if gone.is_none() {
        let _ = Command::new("kill")
            .args(["-9", &zygote.to_string()])
            .status();
    }
    assert!(gone.is_some(), "the stopped zygote was killed");
}
