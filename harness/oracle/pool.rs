//! The worker pool: long-lived Python processes speaking JSON lines.
//!
//! A request goes to a free worker and waits at most the configured timeout. A worker that
//! exceeds it is killed and replaced (`Outcome::Hang`); one that dies answers
//! `Outcome::Crash` with its exit status and the tail of its stderr; a worker whose resident
//! memory passed `recycle_rss` (or that served `recycle_after` requests) is retired and a
//! fresh one started, since torch keeps a little memory alive per export. The pool itself
//! never fails because a worker did.
//!
//! Workers are forked from a zygote (`worker.py --zygote`): one process that imports torch
//! and checks a small case once, so that a new worker (at start, after a crash, hang or
//! oom, or a recycle) is ready in milliseconds instead of the seconds of `import torch` and
//! the first export's lazy imports. A forked worker is still a process of its own with its
//! own socket and stderr, killed and replaced on its own; the zygote, its parent, reports
//! its exit status. Should the zygote fail, workers are spawned directly as before.

use super::env::PythonEnv;
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub struct PoolConfig {
    /// Number of worker processes.
    pub jobs: usize,
    /// Longest a single request may take before the worker is killed.
    pub timeout: Duration,
    /// Requests a worker serves before it is replaced, whatever its memory (a backstop).
    pub recycle_after: usize,
    /// Resident memory after which a worker is replaced between requests. torch keeps a
    /// little alive per export (10-15 MB per 100 cases measured), so this, not a count,
    /// says when a fresh worker is worth its 2-3 s start.
    pub recycle_rss: u64,
    /// Longest a worker may take to import torch and say it is ready (default 120 s, or
    /// `SHAPEFUZZ_START_TIMEOUT` seconds for a loaded machine).
    pub start_timeout: Duration,
    /// Resident memory a worker may reach while it serves a request before it is killed
    /// (`Outcome::Oom`). A warm worker holds about 0.8 GB.
    pub memory_limit: u64,
    /// Forks workers from a zygote (see the module's documentation) instead of spawning
    /// each. `SHAPEFUZZ_ZYGOTE=0` in the environment turns it off for a run.
    pub zygote: bool,
    /// What the zygote runs once before it forks (`warm_request`): a check of a small case
    /// on the run's backends, so that no worker pays the first export's lazy imports.
    pub warm: Option<Value>,
    /// Enables the worker's fault-injection commands. Only tests set this.
    #[doc(hidden)]
    pub test_hooks: bool,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            jobs: 1,
            timeout: Duration::from_secs(60),
            recycle_after: 20_000,
            recycle_rss: 2 << 30,
            start_timeout: std::env::var("SHAPEFUZZ_START_TIMEOUT")
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .filter(|s| (1..=86_400).contains(s))
                .map_or(Duration::from_secs(120), Duration::from_secs),
            memory_limit: 6 << 30,
            zygote: std::env::var("SHAPEFUZZ_ZYGOTE").map_or(true, |v| v != "0"),
            warm: None,
            test_hooks: false,
        }
    }
}

/// What came of one request.
#[derive(Clone, Debug)]
pub enum Outcome {
    Reply {
        value: Value,
        round_trip: Duration,
    },
    Hang {
        after: Duration,
        /// The end of what the worker wrote to stderr before it was killed.
        stderr_tail: String,
    },
    Crash {
        status: String,
        stderr_tail: String,
    },
    /// The worker's resident memory passed `PoolConfig::memory_limit`; it was killed.
    Oom {
        resident: u64,
        limit: u64,
        /// The end of what the worker wrote to stderr before it was killed (the stage it
        /// was in).
        stderr_tail: String,
    },
    /// The pool was told to abandon its requests (`Pool::abort`): the run is stopping.
    Aborted,
    /// No worker could be started for the request (the environment's fault, not the case's).
    NoWorker {
        error: String,
    },
}

/// Resident memory of a process, from `/proc/<pid>/statm` (0 when unreadable).
fn resident_bytes(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/statm"))
        .ok()
        .and_then(|t| t.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

/// How often a busy worker's memory is looked at.
const MEMORY_POLL: Duration = Duration::from_millis(100);

/// A worker's process: spawned by shapefuzz, or forked by the zygote (which is then its
/// parent and reports how it ended).
enum Proc {
    Spawned(Child),
    Forked { pid: u32, zygote: Arc<Zygote> },
}

impl Proc {
    fn id(&self) -> u32 {
        match self {
            Proc::Spawned(c) => c.id(),
            Proc::Forked { pid, .. } => *pid,
        }
    }

    /// Kills the process and says how it ended.
    fn kill(&mut self) -> String {
        match self {
            Proc::Spawned(c) => {
                // The worker leads its own process group (see `worker_command`): the group
                // goes too, so nothing a case started (a probed model's subprocess)
                // outlives it. The group's id stays reserved while a member lives.
                kill_group(c.id());
                let _ = c.kill();
                let status = c
                    .wait()
                    .map(|s| describe_status(&s))
                    .unwrap_or_else(|e| e.to_string());
                kill_group(c.id());
                status
            }
            Proc::Forked { pid, zygote } => zygote.kill(*pid),
        }
    }

    /// Waits up to `limit` for the process to end by itself.
    fn ended_within(&mut self, limit: Duration) -> bool {
        match self {
            Proc::Spawned(c) => exited_within(c, limit).is_some(),
            Proc::Forked { pid, zygote } => zygote.exit_status(*pid, limit).is_some(),
        }
    }
}

/// How often a wait for torch's import says it is still waiting.
const IMPORT_NOTICE: Duration = Duration::from_secs(15);

/// Waits up to `limit` for `poll` (given how long it may block) to return something,
/// saying on stderr every 15 s that it still waits when `aloud`: a first `import torch`
/// after an install, or on a slow disk, takes a minute, and silence looks like a hang.
fn waiting_aloud<T>(
    limit: Duration,
    aloud: bool,
    mut poll: impl FnMut(Duration) -> Option<T>,
) -> Option<T> {
    let started = Instant::now();
    loop {
        let left = limit.saturating_sub(started.elapsed());
        if left.is_zero() {
            return None;
        }
        if let Some(x) = poll(left.min(IMPORT_NOTICE)) {
            return Some(x);
        }
        let waited = started.elapsed();
        if aloud && waited < limit {
            eprintln!(
                "shapefuzz: still waiting for a worker to import torch ({} s of at most {} s)",
                waited.as_secs(),
                limit.as_secs()
            );
        }
    }
}

/// Longest the zygote may take to answer a fork or report a killed worker: both take
/// milliseconds, so a zygote that takes this long is stopped or stuck.
const ZYGOTE_ANSWER: Duration = Duration::from_secs(10);

/// SIGKILL to the process group `pgid` (a worker's or the zygote's own).
fn kill_group(pgid: u32) {
    if let Ok(id) = i32::try_from(pgid)
        && id > 1
    {
        // SAFETY: kill(2) with a negative pid only sends a signal.
        unsafe {
            libc::kill(-id, libc::SIGKILL);
        }
    }
}

/// How `child` ended, if it does within `limit`.
fn exited_within(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Ok(Some(s)) = child.try_wait() {
            return Some(s);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

struct Worker {
    proc: Proc,
    stdin: Box<dyn Write + Send>,
    lines: Receiver<String>,
    stderr_tail: Arc<Mutex<VecDeque<u8>>>,
    served: usize,
    ready: Value,
}

const STDERR_KEEP: usize = 8192;

/// Reads `stdout` line by line into a channel. Bytes that are not UTF-8 make a reply that
/// fails to parse (a protocol error, the harness's fault), not a dead channel that reads as
/// a torch crash.
fn line_channel(stdout: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            let line = String::from_utf8_lossy(&buf)
                .trim_end_matches(['\n', '\r'])
                .to_string();
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Keeps the last `STDERR_KEEP` bytes of `stderr`, draining it continuously: a full pipe
/// would block the process.
fn stderr_tail(mut stderr: impl Read + Send + 'static) -> Arc<Mutex<VecDeque<u8>>> {
    let tail = Arc::new(Mutex::new(VecDeque::with_capacity(STDERR_KEEP)));
    let tail2 = tail.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stderr.read(&mut buf) {
            if n == 0 {
                break;
            }
            let mut t = tail2.lock().unwrap();
            t.extend(&buf[..n]);
            let excess = t.len().saturating_sub(STDERR_KEEP);
            t.drain(..excess);
        }
    });
    tail
}

fn last_lines(tail: &Mutex<VecDeque<u8>>) -> String {
    let bytes: Vec<u8> = tail.lock().unwrap().iter().copied().collect();
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// The worker script started with the pool's environment variables.
fn worker_command(env: &PythonEnv, cfg: &PoolConfig) -> Command {
    let mut cmd = Command::new(&env.python);
    cmd.arg("-u")
        .arg(&env.worker)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("OMP_NUM_THREADS", "1")
        // The worker watches for this parent's death from its first line on.
        .env("SHAPEFUZZ_PARENT_PID", std::process::id().to_string());
    // Own process group: a Ctrl-C at the terminal stops the campaign, which lets the
    // workers finish the cases in flight instead of dying with them.
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    if cfg.test_hooks {
        cmd.env("SHAPEFUZZ_WORKER_TEST_HOOKS", "1");
    } else {
        cmd.env_remove("SHAPEFUZZ_WORKER_TEST_HOOKS");
    }
    cmd
}

/// Checks a hello (a worker's or the zygote's) against this shapefuzz and its environment.
fn check_hello(env: &PythonEnv, ready: &Value) -> Result<(), String> {
    let spoken = ready.get("protocol").and_then(Value::as_u64);
    if spoken != Some(super::protocol::PROTOCOL_VERSION as u64) {
        return Err(format!(
            "{} speaks protocol {}, this shapefuzz speaks {}; run `shapefuzz setup` to refresh it",
            env.worker.display(),
            spoken.map_or("none".into(), |v| v.to_string()),
            super::protocol::PROTOCOL_VERSION
        ));
    }
    // The environment's torch was read from its record, not asked: the hello is where a
    // changed environment shows.
    let torch = ready.get("torch").and_then(Value::as_str).unwrap_or("");
    if torch != env.torch_version {
        return Err(format!(
            "{} runs torch {torch:?}, its environment recorded {}; run `shapefuzz setup` again (or remove {} to rebuild it)",
            env.python.display(),
            env.torch_version,
            env.python
                .parent()
                .and_then(Path::parent)
                .map_or_else(String::new, |p| p.display().to_string())
        ));
    }
    Ok(())
}

impl Worker {
    fn spawn(env: &PythonEnv, cfg: &PoolConfig) -> Result<Worker, String> {
        let mut child = worker_command(env, cfg)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", env.python.display()))?;
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        Worker::greet(
            Proc::Spawned(child),
            Box::new(stdin),
            stdout,
            stderr,
            env,
            cfg,
        )
    }

    /// Forks a worker from `zygote`.
    fn fork(zygote: &Arc<Zygote>, env: &PythonEnv, cfg: &PoolConfig) -> Result<Worker, String> {
        let (pid, io, err) = zygote.fork(cfg.start_timeout)?;
        let proc = Proc::Forked {
            pid,
            zygote: zygote.clone(),
        };
        let writer = match io.try_clone() {
            Ok(w) => w,
            Err(e) => {
                zygote.kill(pid);
                return Err(format!("forked worker's socket: {e}"));
            }
        };
        Worker::greet(proc, Box::new(writer), io, err, env, cfg)
    }

    /// Wires a started worker up and waits for its hello.
    fn greet(
        proc: Proc,
        stdin: Box<dyn Write + Send>,
        stdout: impl Read + Send + 'static,
        stderr: impl Read + Send + 'static,
        env: &PythonEnv,
        cfg: &PoolConfig,
    ) -> Result<Worker, String> {
        let mut w = Worker {
            proc,
            stdin,
            lines: line_channel(stdout),
            stderr_tail: stderr_tail(stderr),
            served: 0,
            ready: Value::Null,
        };
        let forked = matches!(w.proc, Proc::Forked { .. });
        let hello = waiting_aloud(cfg.start_timeout, !forked, |slice| {
            match w.lines.recv_timeout(slice) {
                Ok(line) => Some(Ok(line)),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => Some(Err(())),
            }
        });
        match hello.ok_or(None).and_then(|h| h.map_err(Some)) {
            Ok(line) => {
                w.ready = match serde_json::from_str(&line) {
                    Ok(v) => v,
                    Err(e) => {
                        let _ = w.kill();
                        return Err(format!("worker said {line:?}: {e}"));
                    }
                };
                if let Err(e) = check_hello(env, &w.ready) {
                    let _ = w.kill();
                    return Err(e);
                }
                Ok(w)
            }
            Err(Some(())) => {
                let (status, tail) = w.kill();
                Err(format!(
                    "worker ended before it was ready ({status}): {tail}"
                ))
            }
            Err(None) => {
                // The pool's own deadline, not the worker's death: say so.
                let (_, tail) = w.kill();
                Err(format!(
                    "worker was not ready within the pool's start timeout of {} s (torch's import is slow on a loaded machine: raise it with SHAPEFUZZ_START_TIMEOUT=<seconds>), and was stopped: {tail}",
                    cfg.start_timeout.as_secs()
                ))
            }
        }
    }

    /// The last lines the worker wrote to stderr.
    fn tail(&self) -> String {
        last_lines(&self.stderr_tail)
    }

    /// The outcome of a worker that stopped answering: a crash, or (`Err`) the death of the
    /// zygote it was forked from, which takes its children with it.
    fn crashed(self) -> Result<Outcome, Outcome> {
        let zygote_gone = match &self.proc {
            Proc::Forked { zygote, .. } => zygote.is_gone(),
            Proc::Spawned(_) => false,
        };
        let (status, stderr_tail) = self.kill();
        let crash = Outcome::Crash {
            status,
            stderr_tail,
        };
        if zygote_gone { Err(crash) } else { Ok(crash) }
    }

    /// Kills the worker; returns how it ended and its last words on stderr.
    fn kill(mut self) -> (String, String) {
        let status = self.proc.kill();
        remove_worker_tmp(&self.ready);
        // Let the stderr thread catch the last words.
        std::thread::sleep(Duration::from_millis(20));
        (status, self.tail())
    }
}

/// The process workers are forked from (`worker.py --zygote`, PROTOCOL.md "Zygote").
struct Zygote {
    child: Mutex<Child>,
    /// Commands; held for the whole of a fork, so forks are one at a time.
    commands: Mutex<ChildStdin>,
    events: Arc<(Mutex<ZygoteEvents>, Condvar)>,
    stderr_tail: Arc<Mutex<VecDeque<u8>>>,
    /// Where the sockets forked workers connect to are made: the zygote's own scratch
    /// directory (private to this user, and removed by whichever of the two ends last).
    dir: PathBuf,
    forks: AtomicU64,
    /// It refused to fork (it runs threads): workers are spawned instead.
    refuses: std::sync::atomic::AtomicBool,
    ready: Value,
}

#[derive(Default)]
struct ZygoteEvents {
    hello: Option<Value>,
    warmed: Option<Value>,
    /// Fork token -> pid, or why the zygote would not fork.
    forked: HashMap<u64, Result<u32, String>>,
    /// Pid -> how the child ended, until someone asks.
    exited: HashMap<u32, String>,
    /// The zygote's stdout closed: it is gone.
    gone: bool,
}

impl Zygote {
    /// Starts the zygote, checks its hello and runs the warm-up. `Ok(Err(..))` is a zygote
    /// that failed where a spawned worker might not; `Err(..)` is the environment's fault,
    /// which a spawned worker would meet as well.
    fn start(env: &PythonEnv, cfg: &PoolConfig) -> Result<Result<Zygote, String>, String> {
        let mut child = worker_command(env, cfg)
            .arg("--zygote")
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", env.python.display()))?;
        let commands = child.stdin.take().unwrap();
        let lines = line_channel(child.stdout.take().unwrap());
        let tail = stderr_tail(child.stderr.take().unwrap());
        let events: Arc<(Mutex<ZygoteEvents>, Condvar)> = Arc::default();
        let ev = events.clone();
        std::thread::spawn(move || {
            for line in lines.iter() {
                let Ok(v) = serde_json::from_str::<Value>(&line) else {
                    continue;
                };
                let (lock, cv) = &*ev;
                let mut e = lock.lock().unwrap();
                if let (Some(pid), Some(status)) = (
                    v.get("exited").and_then(Value::as_u64),
                    v.get("status").and_then(Value::as_str),
                ) {
                    e.exited.insert(pid as u32, status.to_string());
                } else if let (Some(forked), Some(token)) =
                    (v.get("forked"), v.get("token").and_then(Value::as_u64))
                {
                    let pid = forked.as_u64().map(|p| p as u32).ok_or_else(|| {
                        v.get("error")
                            .and_then(Value::as_str)
                            .unwrap_or("the zygote did not fork")
                            .to_string()
                    });
                    e.forked.insert(token, pid);
                } else if v.get("warmed").is_some() {
                    e.warmed = Some(v);
                } else if e.hello.is_none() {
                    e.hello = Some(v);
                }
                cv.notify_all();
            }
            let (lock, cv) = &*ev;
            lock.lock().unwrap().gone = true;
            cv.notify_all();
        });
        let mut z = Zygote {
            child: Mutex::new(child),
            commands: Mutex::new(commands),
            events,
            stderr_tail: tail,
            dir: PathBuf::new(),
            forks: 0.into(),
            refuses: false.into(),
            ready: Value::Null,
        };
        let hello = waiting_aloud(cfg.start_timeout, true, |slice| {
            let got = z.wait_for(slice, |e| e.hello.clone());
            // Gone: stop waiting at once; its `None` is the answer.
            if got.is_none() && z.is_gone() {
                return Some(None);
            }
            got.map(Some)
        })
        .flatten();
        let Some(hello) = hello else {
            // Whatever stopped it (no torch, a broken interpreter) stops a spawned worker
            // too, which reports it in the words users know.
            return Ok(Err(format!(
                "the zygote did not start ({}): {}",
                z.stop(),
                last_lines(&z.stderr_tail)
            )));
        };
        check_hello(env, &hello)?;
        let tmp = Path::new(hello.get("tmp").and_then(Value::as_str).unwrap_or(""));
        if !tmp.is_absolute() || !tmp.is_dir() {
            return Ok(Err(format!(
                "the zygote's scratch directory {tmp:?} is not there"
            )));
        }
        z.dir = tmp.to_path_buf();
        z.ready = hello;
        if let Some(warm) = &cfg.warm {
            let mut cmd = warm.clone();
            cmd["cmd"] = "warm".into();
            // A warm-up that fails only costs the first case its lazy imports; one that
            // stalls past the start timeout leaves a zygote not worth keeping.
            let warmed = z
                .send(&cmd)
                .ok()
                .and_then(|()| z.wait_for(cfg.start_timeout, |e| e.warmed.clone()));
            if warmed.is_none() {
                return Ok(Err(format!(
                    "the zygote's warm-up did not end ({})",
                    z.stop()
                )));
            }
        }
        Ok(Ok(z))
    }

    fn send(&self, cmd: &Value) -> Result<(), String> {
        let mut w = self.commands.lock().unwrap();
        writeln!(w, "{cmd}")
            .and_then(|_| w.flush())
            .map_err(|e| format!("the zygote is gone: {e}"))
    }

    /// Waits until `f` finds what it looks for in the zygote's events, it is gone, or
    /// `limit` passes.
    fn wait_for<T>(
        &self,
        limit: Duration,
        mut f: impl FnMut(&mut ZygoteEvents) -> Option<T>,
    ) -> Option<T> {
        let deadline = Instant::now() + limit;
        let (lock, cv) = &*self.events;
        let mut e = lock.lock().unwrap();
        loop {
            if let Some(x) = f(&mut e) {
                return Some(x);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if e.gone || left.is_zero() {
                return None;
            }
            e = cv.wait_timeout(e, left).unwrap().0;
        }
    }

    fn is_gone(&self) -> bool {
        self.events.0.lock().unwrap().gone
    }

    /// Forks a worker: returns its pid, its protocol socket and its stderr socket.
    fn fork(&self, limit: Duration) -> Result<(u32, UnixStream, UnixStream), String> {
        let mut commands = self.commands.lock().unwrap();
        let token = self.forks.fetch_add(1, Ordering::Relaxed);
        let path = self.dir.join(format!("w{token}.sock"));
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path)
            .map_err(|e| format!("cannot listen on {}: {e}", path.display()))?;
        let _ = listener.set_nonblocking(true);
        let cmd =
            serde_json::json!({"cmd": "fork", "socket": path.to_string_lossy(), "token": token});
        writeln!(commands, "{cmd}")
            .and_then(|_| commands.flush())
            .map_err(|e| format!("the zygote is gone: {e}"))?;
        drop(commands);
        let deadline = Instant::now() + limit;
        let accepted = (|| {
            let answer = limit.min(ZYGOTE_ANSWER);
            let pid = match self.wait_for(answer, |e| e.forked.remove(&token)) {
                Some(Ok(pid)) => pid,
                Some(Err(why)) => {
                    self.refuses.store(true, Ordering::Relaxed);
                    return Err(why);
                }
                None => {
                    // A fork takes milliseconds: a zygote that does not answer is stopped
                    // or stuck, and is replaced like a hung worker.
                    self.abandon();
                    return Err(format!(
                        "the zygote did not answer a fork in {} s; replaced",
                        answer.as_secs()
                    ));
                }
            };
            let mut io = None;
            let mut err = None;
            while io.is_none() || err.is_none() {
                match listener.accept() {
                    Ok((mut s, _)) => {
                        let _ = s.set_nonblocking(false);
                        let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
                        match read_tag(&mut s).as_deref() {
                            Some("io") => io = Some(s),
                            Some("err") => err = Some(s),
                            _ => {}
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        if let Some(status) = self.exit_status(pid, Duration::ZERO) {
                            return Err(format!("the forked worker ended at once ({status})"));
                        }
                        if Instant::now() > deadline {
                            self.kill(pid);
                            return Err("the forked worker did not connect".to_string());
                        }
                        std::thread::sleep(Duration::from_millis(2));
                    }
                    Err(e) => {
                        self.kill(pid);
                        return Err(format!("accepting the forked worker: {e}"));
                    }
                }
            }
            let (io, err) = (io.unwrap(), err.unwrap());
            let _ = io.set_read_timeout(None);
            let _ = err.set_read_timeout(None);
            Ok((pid, io, err))
        })();
        let _ = std::fs::remove_file(&path);
        accepted
    }

    /// How the child `pid` ended, once it has (waiting at most `limit`).
    fn exit_status(&self, pid: u32, limit: Duration) -> Option<String> {
        self.wait_for(limit, |e| e.exited.remove(&pid))
    }

    /// Kills a forked worker and says how it ended.
    fn kill(&self, pid: u32) -> String {
        // The zygote kills only a child it has not reaped, so a reused pid is never hit.
        if self
            .send(&serde_json::json!({"cmd": "kill", "pid": pid}))
            .is_err()
        {
            return "status unknown: the zygote is gone".to_string();
        }
        self.exit_status(pid, ZYGOTE_ANSWER).unwrap_or_else(|| {
            // Stopped or stuck: it cannot have reaped the worker, so the pid is still the
            // worker's. Kill its group from here, and replace the zygote.
            kill_group(pid);
            self.abandon();
            "killed; the zygote did not answer and was replaced".to_string()
        })
    }

    /// Kills a zygote that stopped answering (SIGKILL ends a stopped process too) and
    /// marks it gone, so the pool starts another or spawns workers. Its forked workers see
    /// their parent change and exit.
    fn abandon(&self) {
        if let Ok(mut child) = self.child.lock() {
            kill_group(child.id());
            let _ = child.kill();
        }
        let (lock, cv) = &*self.events;
        lock.lock().unwrap().gone = true;
        cv.notify_all();
    }

    /// Stops the zygote (and with it any child it still has); says how it ended.
    fn stop(&self) -> String {
        let _ = self.send(&serde_json::json!({"cmd": "exit"}));
        let mut child = self.child.lock().unwrap();
        let status = exited_within(&mut child, Duration::from_secs(5)).or_else(|| {
            let _ = child.kill();
            child.wait().ok()
        });
        status.map_or_else(|| "status unknown".to_string(), |s| describe_status(&s))
    }
}

impl Drop for Zygote {
    fn drop(&mut self) {
        self.stop();
        remove_worker_tmp(&self.ready);
    }
}

/// The tag a forked worker's connection starts with (`io` or `err`), read byte by byte so
/// that nothing after it is consumed.
fn read_tag(s: &mut UnixStream) -> Option<String> {
    let mut tag = Vec::new();
    let mut byte = [0u8; 1];
    while tag.len() < 8 {
        match s.read(&mut byte) {
            Ok(1) if byte[0] == b'\n' => return String::from_utf8(tag).ok(),
            Ok(1) => tag.push(byte[0]),
            _ => return None,
        }
    }
    None
}

/// Removes the scratch directory a killed worker could not remove itself (named in its
/// hello). Only a directory of the worker's own naming is touched.
fn remove_worker_tmp(ready: &Value) {
    let Some(tmp) = ready.get("tmp").and_then(Value::as_str) else {
        return;
    };
    let path = std::path::Path::new(tmp);
    let ours = path
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("shapefuzz_worker_"));
    if ours && path.is_absolute() && !path.is_symlink() {
        let _ = std::fs::remove_dir_all(path);
    }
}

fn describe_status(s: &std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (s.code(), s.signal()) {
        (Some(c), _) => format!("exit code {c}"),
        (None, Some(sig)) => format!("killed by signal {sig}"),
        _ => s.to_string(),
    }
}

pub struct Pool {
    env: PythonEnv,
    cfg: PoolConfig,
    slots: Vec<Mutex<Option<Worker>>>,
    free: Mutex<Vec<usize>>,
    freed: Condvar,
    next_id: AtomicU64,
    /// The zygote workers are forked from; `None` when `cfg.zygote` is off or it failed.
    zygote: Mutex<Option<Arc<Zygote>>>,
    /// Zygotes started (1 unless one died and was replaced).
    pub zygote_starts: AtomicU64,
    /// Workers forked from the zygote, and workers spawned on their own.
    pub forked: AtomicU64,
    pub spawned: AtomicU64,
    /// Workers retired by `recycle_after` or `recycle_rss`.
    pub recycles: AtomicU64,
    /// Workers killed because they crashed, hung or passed the memory limit.
    pub kills: AtomicU64,
    /// The most resident memory a worker was seen with (polled while it works and read
    /// after each answer), in bytes.
    pub peak_rss: AtomicU64,
    /// Set by `abort`: requests in flight kill their worker and answer `Outcome::Aborted`.
    aborting: std::sync::atomic::AtomicBool,
    /// Time each worker took to start (the zygote's start included in the first ones'),
    /// in the order they started.
    pub start_times: Mutex<Vec<Duration>>,
}

/// How many zygotes a pool starts before it spawns its workers on their own.
const ZYGOTE_STARTS: u64 = 3;

impl Pool {
    /// Starts the zygote (when configured) and `cfg.jobs` workers, and waits until all are
    /// ready.
    pub fn new(env: PythonEnv, cfg: PoolConfig) -> Result<Pool, String> {
        let jobs = cfg.jobs.max(1);
        let pool = Pool {
            env,
            cfg,
            slots: (0..jobs).map(|_| Mutex::new(None)).collect(),
            free: Mutex::new((0..jobs).collect()),
            freed: Condvar::new(),
            next_id: 0.into(),
            zygote: Mutex::new(None),
            zygote_starts: 0.into(),
            forked: 0.into(),
            spawned: 0.into(),
            aborting: false.into(),
            recycles: 0.into(),
            kills: 0.into(),
            peak_rss: 0.into(),
            start_times: Mutex::new(vec![]),
        };
        let t = Instant::now();
        pool.live_zygote()?;
        // Forks are one at a time and take milliseconds; spawns import torch in parallel.
        let started: Vec<Result<(Worker, Duration), String>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..jobs)
                .map(|_| s.spawn(|| pool.start_worker().map(|w| (w, t.elapsed()))))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for (slot, r) in pool.slots.iter().zip(started) {
            let (w, took) = r?;
            *slot.lock().unwrap() = Some(w);
            pool.start_times.lock().unwrap().push(took);
        }
        Ok(pool)
    }

    /// The zygote, started (again) when there is none or it died. `Ok(None)` means workers
    /// are spawned on their own: the zygote is off, or failed `ZYGOTE_STARTS` times.
    fn live_zygote(&self) -> Result<Option<Arc<Zygote>>, String> {
        if !self.cfg.zygote {
            return Ok(None);
        }
        let mut z = self.zygote.lock().unwrap();
        if let Some(live) = z.as_ref().filter(|z| !z.is_gone()) {
            if live.refuses.load(Ordering::Relaxed) {
                return Ok(None);
            }
            return Ok(Some(live.clone()));
        }
        *z = None;
        while self.zygote_starts.load(Ordering::Relaxed) < ZYGOTE_STARTS {
            self.zygote_starts.fetch_add(1, Ordering::Relaxed);
            if let Ok(started) = Zygote::start(&self.env, &self.cfg)? {
                *z = Some(Arc::new(started));
                return Ok(z.clone());
            }
        }
        Ok(None)
    }

    /// A new worker: forked from the zygote, or spawned when there is none.
    fn start_worker(&self) -> Result<Worker, String> {
        if let Some(z) = self.live_zygote()? {
            // A fork that fails for any reason leaves the spawned worker of old.
            if let Ok(w) = Worker::fork(&z, &self.env, &self.cfg) {
                self.forked.fetch_add(1, Ordering::Relaxed);
                return Ok(w);
            }
        }
        let w = Worker::spawn(&self.env, &self.cfg)?;
        self.spawned.fetch_add(1, Ordering::Relaxed);
        Ok(w)
    }

    pub fn jobs(&self) -> usize {
        self.slots.len()
    }

    pub fn env(&self) -> &PythonEnv {
        &self.env
    }

    /// The ready line of some live worker (torch and Python versions).
    pub fn worker_info(&self) -> Value {
        self.slots
            .iter()
            .find_map(|s| s.lock().unwrap().as_ref().map(|w| w.ready.clone()))
            .unwrap_or(Value::Null)
    }

    /// Abandons every request in flight and refuses new ones (`Outcome::Aborted`) until
    /// `abort(false)`: how a stopping run gets its workers back from cases that would run to
    /// their timeout. Workers that were busy are killed and start afresh on the next request.
    pub fn abort(&self, on: bool) {
        self.aborting.store(on, Ordering::SeqCst);
    }

    pub fn is_aborting(&self) -> bool {
        self.aborting.load(Ordering::SeqCst)
    }

    /// Sends one request (an object; `id` is filled in) and waits for its outcome.
    pub fn request(&self, mut req: Value) -> Outcome {
        if self.is_aborting() {
            return Outcome::Aborted;
        }
        let slot = {
            let mut free = self.free.lock().unwrap();
            loop {
                if let Some(i) = free.pop() {
                    break i;
                }
                free = self.freed.wait(free).unwrap();
            }
        };
        let mut out = self.request_on(slot, &mut req);
        // A forked worker dies with its zygote: that is the harness's fault, not the case's,
        // so the case runs again on a worker of the next zygote.
        if out.is_err() {
            out = self.request_on(slot, &mut req);
        }
        let out = out.unwrap_or_else(|o| o);
        self.free.lock().unwrap().push(slot);
        self.freed.notify_one();
        out
    }

    /// One request on the worker of `slot`. `Err` is an outcome that was the zygote's
    /// death, not the request's.
    fn request_on(&self, slot: usize, req: &mut Value) -> Result<Outcome, Outcome> {
        let mut guard = self.slots[slot].lock().unwrap();
        if guard.is_none() {
            match self.start_worker() {
                Ok(w) => *guard = Some(w),
                Err(e) => return Ok(Outcome::NoWorker { error: e }),
            }
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        req["id"] = id.into();
        let line = serde_json::to_string(req).expect("requests serialize");
        let started = Instant::now();
        let w = guard.as_mut().unwrap();
        if writeln!(w.stdin, "{line}")
            .and_then(|_| w.stdin.flush())
            .is_err()
        {
            self.kills.fetch_add(1, Ordering::Relaxed);
            return guard.take().unwrap().crashed();
        }
        let pid = w.proc.id();
        loop {
            if self.is_aborting() {
                guard.take().unwrap().kill();
                return Ok(Outcome::Aborted);
            }
            let left = self.cfg.timeout.saturating_sub(started.elapsed());
            let resident = resident_bytes(pid);
            self.peak_rss.fetch_max(resident, Ordering::Relaxed);
            if resident > self.cfg.memory_limit {
                self.kills.fetch_add(1, Ordering::Relaxed);
                let (_, stderr_tail) = guard.take().unwrap().kill();
                return Ok(Outcome::Oom {
                    resident,
                    limit: self.cfg.memory_limit,
                    stderr_tail,
                });
            }
            match w.lines.recv_timeout(left.min(MEMORY_POLL)) {
                Ok(l) => {
                    let Ok(v) = serde_json::from_str::<Value>(&l) else {
                        continue;
                    };
                    if v.get("id").and_then(Value::as_u64) != Some(id) {
                        continue; // a late answer to an earlier request
                    }
                    w.served += 1;
                    let rss = resident_bytes(pid);
                    self.peak_rss.fetch_max(rss, Ordering::Relaxed);
                    if w.served >= self.cfg.recycle_after || rss > self.cfg.recycle_rss {
                        self.recycles.fetch_add(1, Ordering::Relaxed);
                        let old = guard.take().unwrap();
                        retire(old);
                    }
                    return Ok(Outcome::Reply {
                        value: v,
                        round_trip: started.elapsed(),
                    });
                }
                Err(RecvTimeoutError::Timeout) if left > MEMORY_POLL => {}
                Err(RecvTimeoutError::Timeout) => {
                    self.kills.fetch_add(1, Ordering::Relaxed);
                    let (_, stderr_tail) = guard.take().unwrap().kill();
                    return Ok(Outcome::Hang {
                        after: started.elapsed(),
                        stderr_tail,
                    });
                }
                Err(RecvTimeoutError::Disconnected) => {
                    self.kills.fetch_add(1, Ordering::Relaxed);
                    return guard.take().unwrap().crashed();
                }
            }
        }
    }

    /// The zygote's pid, when workers are forked from one (for tests).
    pub fn zygote_pid(&self) -> Option<u32> {
        let z = self.zygote.lock().unwrap();
        z.as_ref().map(|z| z.child.lock().unwrap().id())
    }

    /// Pids of live workers (for tests and memory measurements).
    pub fn pids(&self) -> Vec<u32> {
        self.slots
            .iter()
            .filter_map(|s| s.lock().unwrap().as_ref().map(|w| w.proc.id()))
            .collect()
    }
}

/// Asks a worker to exit and reaps it in the background.
fn retire(mut w: Worker) {
    let _ = writeln!(w.stdin, "{{\"id\": 0, \"cmd\": \"exit\"}}");
    let _ = w.stdin.flush();
    std::thread::spawn(move || {
        if w.proc.ended_within(Duration::from_secs(5)) {
            // What its cases started goes with it (a forked worker's zygote does this).
            if let Proc::Spawned(c) = &w.proc {
                kill_group(c.id());
            }
            remove_worker_tmp(&w.ready);
        } else {
            w.kill();
        }
    });
}

impl Drop for Pool {
    fn drop(&mut self) {
        for s in &self.slots {
            if let Some(w) = s.lock().unwrap().take() {
                w.kill();
            }
        }
    }
}
