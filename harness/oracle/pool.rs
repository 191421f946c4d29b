//! The worker pool: long-lived Python processes (one torch import each) speaking JSON lines.
//!
//! A request goes to a free worker and waits at most the configured timeout. A worker that
//! exceeds it is killed and replaced (`Outcome::Hang`); one that dies answers
//! `Outcome::Crash` with its exit status and the tail of its stderr; a worker whose resident
//! memory passed `recycle_rss` (or that served `recycle_after` requests) is retired and a
//! fresh one started, since torch keeps a little memory alive per export. The pool itself
//! never fails because a worker did.

use super::env::PythonEnv;
use serde_json::Value;
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
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
    /// Longest a worker may take to import torch and say it is ready.
    pub start_timeout: Duration,
    /// Resident memory a worker may reach while it serves a request before it is killed
    /// (`Outcome::Oom`). A warm worker holds about 0.8 GB.
    pub memory_limit: u64,
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
            start_timeout: Duration::from_secs(120),
            memory_limit: 6 << 30,
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

struct Worker {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    stderr_tail: Arc<Mutex<VecDeque<u8>>>,
    served: usize,
    ready: Value,
}

const STDERR_KEEP: usize = 8192;

impl Worker {
    fn spawn(env: &PythonEnv, cfg: &PoolConfig) -> Result<Worker, String> {
        let mut cmd = Command::new(&env.python);
        cmd.arg("-u")
            .arg(&env.worker)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("OMP_NUM_THREADS", "1");
        // Own process group: a Ctrl-C at the terminal stops the campaign, which lets the
        // workers finish the cases in flight instead of dying with them.
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        if cfg.test_hooks {
            cmd.env("SHAPEFUZZ_WORKER_TEST_HOOKS", "1");
        } else {
            cmd.env_remove("SHAPEFUZZ_WORKER_TEST_HOOKS");
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", env.python.display()))?;
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            // Bytes that are not UTF-8 make a reply that fails to parse (a protocol error,
            // the harness's fault), not a dead channel that reads as a torch crash.
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
        let tail = Arc::new(Mutex::new(VecDeque::with_capacity(STDERR_KEEP)));
        let tail2 = tail.clone();
        // Drain stderr continuously: a full pipe would block the worker.
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
        let mut w = Worker {
            child,
            stdin,
            lines: rx,
            stderr_tail: tail,
            served: 0,
            ready: Value::Null,
        };
        match w.lines.recv_timeout(cfg.start_timeout) {
            Ok(line) => {
                w.ready = serde_json::from_str(&line)
                    .map_err(|e| format!("worker said {line:?}: {e}"))?;
                let spoken = w.ready.get("protocol").and_then(Value::as_u64);
                if spoken != Some(super::protocol::PROTOCOL_VERSION as u64) {
                    let _ = w.kill();
                    return Err(format!(
                        "{} speaks protocol {}, this shapefuzz speaks {}; run `shapefuzz setup` to refresh it",
                        env.worker.display(),
                        spoken.map_or("none".into(), |v| v.to_string()),
                        super::protocol::PROTOCOL_VERSION
                    ));
                }
                // The environment's torch was read from its record, not asked: the hello is
                // where a changed environment shows.
                let torch = w
                    .ready
                    .get("torch")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                if torch != env.torch_version {
                    let _ = w.kill();
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
                Ok(w)
            }
            Err(_) => {
                let (status, tail) = w.kill();
                Err(format!("worker did not start ({status}): {tail}"))
            }
        }
    }

    /// The last lines the worker wrote to stderr.
    fn tail(&self) -> String {
        let bytes: Vec<u8> = self.stderr_tail.lock().unwrap().iter().copied().collect();
        let text = String::from_utf8_lossy(&bytes);
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Kills the worker; returns how it ended and its last words on stderr.
    fn kill(mut self) -> (String, String) {
        let _ = self.child.kill();
        let status = self
            .child
            .wait()
            .map(|s| describe_status(&s))
            .unwrap_or_else(|e| e.to_string());
        remove_worker_tmp(&self.ready);
        // Let the stderr thread catch the last words.
        std::thread::sleep(Duration::from_millis(20));
        (status, self.tail())
    }
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
    next_id: std::sync::atomic::AtomicU64,
    /// Workers retired by `recycle_after` or `recycle_rss`.
    pub recycles: std::sync::atomic::AtomicU64,
    /// The most resident memory a worker was seen with (polled while it works and read
    /// after each answer), in bytes.
    pub peak_rss: std::sync::atomic::AtomicU64,
    /// Set by `abort`: requests in flight kill their worker and answer `Outcome::Aborted`.
    aborting: std::sync::atomic::AtomicBool,
    /// Time each worker took to start, in the order they started.
    pub start_times: Mutex<Vec<Duration>>,
}

impl Pool {
    /// Starts `cfg.jobs` workers in parallel and waits until all are ready.
    pub fn new(env: PythonEnv, cfg: PoolConfig) -> Result<Pool, String> {
        let jobs = cfg.jobs.max(1);
        let started: Vec<Result<(Worker, Duration), String>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..jobs)
                .map(|_| {
                    s.spawn(|| {
                        let t = Instant::now();
                        Worker::spawn(&env, &cfg).map(|w| (w, t.elapsed()))
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut slots = vec![];
        let mut times = vec![];
        for r in started {
            let (w, t) = r?;
            slots.push(Mutex::new(Some(w)));
            times.push(t);
        }
        Ok(Pool {
            env,
            cfg,
            slots,
            free: Mutex::new((0..jobs).collect()),
            freed: Condvar::new(),
            next_id: 0.into(),
            aborting: false.into(),
            recycles: 0.into(),
            peak_rss: 0.into(),
            start_times: Mutex::new(times),
        })
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
        self.aborting.store(on, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn is_aborting(&self) -> bool {
        self.aborting.load(std::sync::atomic::Ordering::SeqCst)
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
        let out = self.request_on(slot, &mut req);
        self.free.lock().unwrap().push(slot);
        self.freed.notify_one();
        out
    }

    fn request_on(&self, slot: usize, req: &mut Value) -> Outcome {
        let mut guard = self.slots[slot].lock().unwrap();
        if guard.is_none() {
            match Worker::spawn(&self.env, &self.cfg) {
                Ok(w) => *guard = Some(w),
                Err(e) => return Outcome::NoWorker { error: e },
            }
        }
        let id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        req["id"] = id.into();
        let line = serde_json::to_string(req).expect("requests serialize");
        let started = Instant::now();
        let w = guard.as_mut().unwrap();
        if writeln!(w.stdin, "{line}")
            .and_then(|_| w.stdin.flush())
            .is_err()
        {
            let (status, stderr_tail) = guard.take().unwrap().kill();
            return Outcome::Crash {
                status,
                stderr_tail,
            };
        }
        let pid = w.child.id();
        loop {
            if self.is_aborting() {
                guard.take().unwrap().kill();
                return Outcome::Aborted;
            }
            let left = self.cfg.timeout.saturating_sub(started.elapsed());
            let resident = resident_bytes(pid);
            self.peak_rss
                .fetch_max(resident, std::sync::atomic::Ordering::Relaxed);
            if resident > self.cfg.memory_limit {
                guard.take().unwrap().kill();
                return Outcome::Oom {
                    resident,
                    limit: self.cfg.memory_limit,
                };
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
                    self.peak_rss
                        .fetch_max(rss, std::sync::atomic::Ordering::Relaxed);
                    if w.served >= self.cfg.recycle_after || rss > self.cfg.recycle_rss {
                        self.recycles
                            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let old = guard.take().unwrap();
                        retire(old);
                    }
                    return Outcome::Reply {
                        value: v,
                        round_trip: started.elapsed(),
                    };
                }
                Err(RecvTimeoutError::Timeout) if left > MEMORY_POLL => {}
                Err(RecvTimeoutError::Timeout) => {
                    let (_, stderr_tail) = guard.take().unwrap().kill();
                    return Outcome::Hang {
                        after: started.elapsed(),
                        stderr_tail,
                    };
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let (status, stderr_tail) = guard.take().unwrap().kill();
                    return Outcome::Crash {
                        status,
                        stderr_tail,
                    };
                }
            }
        }
    }

    /// Pids of live workers (for tests and memory measurements).
    pub fn pids(&self) -> Vec<u32> {
        self.slots
            .iter()
            .filter_map(|s| s.lock().unwrap().as_ref().map(|w| w.child.id()))
            .collect()
    }
}

/// Asks a worker to exit and reaps it in the background.
fn retire(mut w: Worker) {
    let _ = writeln!(w.stdin, "{{\"id\": 0, \"cmd\": \"exit\"}}");
    let _ = w.stdin.flush();
    std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = w.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = w.child.kill();
        let _ = w.child.wait();
        remove_worker_tmp(&w.ready);
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
