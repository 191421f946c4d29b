//! The Python environment: a virtual environment shapefuzz creates and owns, keyed by the
//! hash of the pinned requirements, so a changed pin gets a fresh environment and an
//! unchanged one is reused by every run (and every CI job on the machine).
//!
//! `PythonEnv::ensure` finds or builds it, with progress on stderr, and verifies that
//! `import torch` works and reports the pinned version. Every failure is one line naming
//! what to do about it.

use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const REQUIREMENTS: &str = include_str!("../python/requirements.txt");
/// Every package of the environment, pinned with hashes (sympy too: guard reasoning
/// depends on it), generated from `REQUIREMENTS`.
pub const REQUIREMENTS_LOCK: &str = include_str!("../python/requirements.lock");
/// The installer, pinned with hashes.
pub const TOOLS_LOCK: &str = include_str!("../python/tools.lock");
pub const WORKER_PY: &str = include_str!("../python/worker.py");
/// The onnx backend's packages, installed on top of `REQUIREMENTS_LOCK` when first needed.
pub const ONNX_LOCK: &str = include_str!("../python/requirements-onnx.lock");

#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    #[error(
        "no Python 3 found (tried {tried}); install python3 with the venv module, or set SHAPEFUZZ_PYTHON to an interpreter that has torch {want}"
    )]
    NoPython { tried: String, want: String },
    #[error(
        "creating the virtual environment {path} failed: {detail}; install python3-venv, or set SHAPEFUZZ_PYTHON"
    )]
    Venv { path: String, detail: String },
    #[error(
        "installing packages into {path} failed (log: {log}); check network access to PyPI and rerun `shapefuzz setup`"
    )]
    Install { path: String, log: String },
    #[error(
        "{python} cannot be run ({detail}): give --python (or SHAPEFUZZ_PYTHON) an interpreter that exists, such as an environment's bin/python with torch {want}, or leave it out to use shapefuzz's own"
    )]
    NoInterpreter {
        python: String,
        detail: String,
        want: String,
    },
    #[error(
        "{python} cannot import torch: {detail}; run `shapefuzz setup`, or point SHAPEFUZZ_PYTHON at an environment with torch {want}"
    )]
    Import {
        python: String,
        detail: String,
        want: String,
    },
    #[error(
        "{python} has torch {found}, shapefuzz is pinned to {want}; unset SHAPEFUZZ_PYTHON to use shapefuzz's own environment, or install torch=={want} there"
    )]
    WrongTorch {
        python: String,
        found: String,
        want: String,
    },
    #[error(
        "{python} has no {missing}, which --backend onnx needs; install them there (pip install -r harness/python/requirements-onnx.txt), or leave out --python to use shapefuzz's own environment"
    )]
    MissingExtra { python: String, missing: String },
    #[error("{0}")]
    Io(String),
}

/// A ready interpreter and the worker script it runs.
#[derive(Clone, Debug)]
pub struct PythonEnv {
    pub python: PathBuf,
    pub worker: PathBuf,
    pub torch_version: String,
}

/// The torch version the requirements pin.
pub fn pinned_torch() -> String {
    REQUIREMENTS
        .lines()
        .find_map(|l| l.trim().strip_prefix("torch=="))
        .map(|v| v.trim().to_string())
        .expect("requirements.txt pins torch")
}

/// The first 8 bytes of a text's SHA-256 in hex: names environments, scripts and tools by
/// their content.
pub fn short_hash(text: &str) -> String {
    let d = Sha256::digest(text.as_bytes());
    d.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Where shapefuzz keeps its environments: `SHAPEFUZZ_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/shapefuzz`, else `~/.cache/shapefuzz`.
pub fn cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("SHAPEFUZZ_CACHE_DIR") {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(d).join("shapefuzz");
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    home.join(".cache").join("shapefuzz")
}

pub fn venv_dir() -> PathBuf {
    cache_dir().join(format!(
        "venv-{}",
        short_hash(&format!("{REQUIREMENTS}{REQUIREMENTS_LOCK}{TOOLS_LOCK}"))
    ))
}

const READY_MARKER: &str = ".shapefuzz-ready";

/// Whether a built environment can be used as it is: its build finished, and the interpreter
/// its `bin/python` links to is still there. A venv links to the Python it was made from, so
/// a runner whose Python was updated (a restored cache on a new patch release) holds a venv
/// whose marker is there and whose interpreter is not: that one is rebuilt, not trusted.
fn is_ready(venv: &Path) -> bool {
    venv.join(READY_MARKER).exists() && venv.join("bin").join("python").exists()
}

/// A venv whose build finished but whose interpreter is gone.
fn lost_its_interpreter(venv: &Path) -> bool {
    venv.join(READY_MARKER).exists() && !venv.join("bin").join("python").exists()
}

impl PythonEnv {
    /// Finds the environment, creating it when missing. `SHAPEFUZZ_PYTHON` (or `python`)
    /// names an interpreter to use as is, without a managed venv.
    pub fn ensure(
        python_override: Option<&Path>,
        show_progress: bool,
    ) -> Result<PythonEnv, EnvError> {
        Self::ensure_with(python_override, show_progress, true)
    }

    /// Like `ensure`, but an interpreter given by the user may have any torch: how
    /// `replay --python` compares findings across torch versions. shapefuzz's own
    /// environment is always the pinned one.
    pub fn ensure_any_torch(
        python_override: Option<&Path>,
        show_progress: bool,
    ) -> Result<PythonEnv, EnvError> {
        Self::ensure_with(python_override, show_progress, false)
    }

    fn ensure_with(
        python_override: Option<&Path>,
        show_progress: bool,
        pinned: bool,
    ) -> Result<PythonEnv, EnvError> {
        let want = pinned_torch();
        let overridden = python_override
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("SHAPEFUZZ_PYTHON").map(PathBuf::from));
        // shapefuzz's own venv recorded its torch when it was verified: reading that saves an
        // `import torch` (2-3 s) before every command. An interpreter of the user's is asked.
        let (python, recorded) = match overridden {
            Some(p) => (p, None),
            None => {
                let venv = venv_dir();
                if lost_its_interpreter(&venv) {
                    eprintln!(
                        "shapefuzz: the Python environment {} lost its interpreter (the Python it was made from was updated or removed); rebuilding it",
                        venv.display()
                    );
                }
                if !is_ready(&venv) {
                    create_venv(&venv, show_progress)?;
                }
                let recorded = std::fs::read_to_string(venv.join(READY_MARKER))
                    .ok()
                    .map(|t| t.trim().to_string())
                    .filter(|t| crate::escape::is_version(t));
                (venv.join("bin").join("python"), recorded)
            }
        };
        let found = match recorded {
            Some(v) if python.exists() => v,
            _ => torch_version(&python, &want)?,
        };
        if pinned && found.split('+').next() != Some(want.as_str()) {
            return Err(EnvError::WrongTorch {
                python: python.display().to_string(),
                found,
                want,
            });
        }
        let worker = write_worker()?;
        Ok(PythonEnv {
            python,
            worker,
            torch_version: found,
        })
    }
}

/// Longest `import torch` may take in the version check (2 s is usual; a cold disk cache
/// takes longer). `SHAPEFUZZ_IMPORT_TIMEOUT` (seconds) overrides it.
fn import_timeout() -> Duration {
    std::env::var("SHAPEFUZZ_IMPORT_TIMEOUT")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .map_or(Duration::from_secs(180), Duration::from_secs)
}

/// Runs a command to its end, or kills it after `limit` (`None`).
fn output_within(cmd: &mut Command, limit: Duration) -> std::io::Result<Option<Output>> {
    use std::io::Read;
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
    let mut pipes = [
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    ];
    let readers: Vec<_> = pipes
        .iter_mut()
        .map(|p| {
            let mut p = p.take();
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                if let Some(p) = p.as_mut() {
                    let _ = p.take(1 << 20).read_to_end(&mut buf);
                }
                buf
            })
        })
        .collect();
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut outs = readers.into_iter().map(|r| r.join().unwrap_or_default());
    Ok(Some(Output {
        status,
        stdout: outs.next().unwrap_or_default(),
        stderr: outs.next().unwrap_or_default(),
    }))
}

fn torch_version(python: &Path, want: &str) -> Result<String, EnvError> {
    let import_error = |detail: String| EnvError::Import {
        python: python.display().to_string(),
        detail,
        want: want.into(),
    };
    let out = output_within(
        Command::new(python)
            .args(["-c", "import torch; print(torch.__version__)"])
            .stdin(Stdio::null()),
        import_timeout(),
    )
    .map_err(|e| match e.kind() {
        // Not an environment to repair with `setup`: the path names no interpreter.
        std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => {
            EnvError::NoInterpreter {
                python: python.display().to_string(),
                detail: e.to_string(),
                want: want.into(),
            }
        }
        _ => import_error(e.to_string()),
    })?
    .ok_or_else(|| {
        import_error(format!(
            "`import torch` did not finish in {} s (SHAPEFUZZ_IMPORT_TIMEOUT)",
            import_timeout().as_secs()
        ))
    })?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = super::last_line(&err);
        return Err(EnvError::Import {
            python: python.display().to_string(),
            detail: if last.is_empty() {
                "no output".into()
            } else {
                last.to_string()
            },
            want: want.into(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The worker script, written once per content hash so that running workers never see a
/// half-written file.
fn write_worker() -> Result<PathBuf, EnvError> {
    let dir = cache_dir();
    std::fs::create_dir_all(&dir).map_err(|e| EnvError::Io(format!("{}: {e}", dir.display())))?;
    let path = dir.join(format!("worker-{}.py", short_hash(WORKER_PY)));
    if !path.exists() {
        let tmp = dir.join(format!("worker.{}.tmp", std::process::id()));
        std::fs::write(&tmp, WORKER_PY)
            .map_err(|e| EnvError::Io(format!("{}: {e}", tmp.display())))?;
        std::fs::rename(&tmp, &path)
            .map_err(|e| EnvError::Io(format!("{}: {e}", path.display())))?;
    }
    Ok(path)
}

fn bootstrap_python() -> Result<PathBuf, EnvError> {
    let candidates = [
        "python3",
        "python3.13",
        "python3.12",
        "python3.11",
        "python",
    ];
    for c in candidates {
        let ok = Command::new(c)
            .args([
                "-c",
                "import sys, venv; sys.exit(0 if sys.version_info >= (3, 11) else 1)",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Ok(PathBuf::from(c));
        }
    }
    Err(EnvError::NoPython {
        tried: candidates.join(", "),
        want: pinned_torch(),
    })
}

/// One process at a time builds the venv; others wait for its marker.
struct BuildLock(PathBuf);

impl Drop for BuildLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Whether a process with this pid exists (a lock's holder).
fn pid_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Takes the setup lock (a file holding the builder's pid), or waits for its holder to
/// finish, saying so. A lock whose holder is gone (a setup killed half way) is stale and
/// taken over at once.
fn take_lock(venv: &Path) -> Result<Option<BuildLock>, EnvError> {
    let lock = venv.with_extension("lock");
    let start = Instant::now();
    let mut told = false;
    loop {
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&lock)
        {
            Ok(mut f) => {
                let _ = writeln!(f, "{}", std::process::id());
                return Ok(Some(BuildLock(lock)));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                if is_ready(venv) {
                    return Ok(None);
                }
                let holder = std::fs::read_to_string(&lock)
                    .ok()
                    .and_then(|t| t.trim().parse::<u32>().ok());
                // A lock just created may not hold its pid yet: give it a moment.
                let young = std::fs::metadata(&lock)
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| t.elapsed().unwrap_or_default() < Duration::from_secs(2));
                let gone = match holder {
                    Some(pid) => !pid_alive(pid),
                    None => !young,
                };
                if gone || start.elapsed() > Duration::from_secs(1800) {
                    eprintln!(
                        "shapefuzz: taking over the setup lock {} (its holder{} is gone)",
                        lock.display(),
                        holder.map(|p| format!(", pid {p},")).unwrap_or_default()
                    );
                    let _ = std::fs::remove_file(&lock);
                    continue;
                }
                if !told {
                    eprintln!(
                        "shapefuzz: waiting for {} to finish setting up {}",
                        holder.map_or("another shapefuzz".to_string(), |p| format!("pid {p}")),
                        venv.display()
                    );
                    told = true;
                }
                std::thread::sleep(Duration::from_millis(500));
            }
            Err(e) => return Err(EnvError::Io(format!("{}: {e}", lock.display()))),
        }
    }
}

impl PythonEnv {
    /// Makes onnx, onnxruntime and onnxscript importable for `--backend onnx`: installed
    /// into shapefuzz's own environment from `requirements-onnx.lock` (hash-checked, once,
    /// one installer at a time, recorded by a marker named by the lock's hash); an
    /// interpreter of the user's must have them already.
    pub fn ensure_onnx(&self, show_progress: bool) -> Result<(), EnvError> {
        let venv = venv_dir();
        let own = self.python == venv.join("bin").join("python");
        let marker = venv.join(format!(".shapefuzz-onnx-{}", short_hash(ONNX_LOCK)));
        if own && marker.exists() {
            return Ok(());
        }
        let probe = "import importlib.util as u\nprint(','.join(m for m in ('onnx', 'onnxruntime', 'onnxscript') if u.find_spec(m) is None))";
        let missing = || -> Result<String, EnvError> {
            let out = Command::new(&self.python)
                .args(["-c", probe])
                .stdin(Stdio::null())
                .output()
                .map_err(|e| EnvError::Io(format!("{}: {e}", self.python.display())))?;
            if !out.status.success() {
                return Err(EnvError::Io(format!(
                    "{} failed while looking for the onnx packages: {}",
                    self.python.display(),
                    super::last_line(&String::from_utf8_lossy(&out.stderr))
                )));
            }
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
        };
        if !own {
            let m = missing()?;
            return if m.is_empty() {
                Ok(())
            } else {
                Err(EnvError::MissingExtra {
                    python: self.python.display().to_string(),
                    missing: m.replace(',', ", "),
                })
            };
        }
        let _lock = take_extra_lock(&venv.join(".onnx-install.lock"))?;
        if marker.exists() {
            return Ok(());
        }
        if show_progress {
            eprintln!(
                "shapefuzz: first use of --backend onnx: installing onnx, onnxruntime and onnxscript into {} (hash-checked, about 60 MB)",
                venv.display()
            );
        }
        let bar = progress_spinner(false, "");
        if show_progress {
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        }
        let started = Instant::now();
        let lock = venv.join("requirements-onnx.lock");
        std::fs::write(&lock, ONNX_LOCK)
            .map_err(|e| EnvError::Io(format!("{}: {e}", lock.display())))?;
        let log_path = venv.join("install-onnx.log");
        let mut log = std::fs::File::create(&log_path)
            .map_err(|e| EnvError::Io(format!("{}: {e}", log_path.display())))?;
        let uv = venv.join("bin").join("uv");
        let mut installed = false;
        if uv.exists() && std::env::var("SHAPEFUZZ_INSTALLER").as_deref() != Ok("pip") {
            installed = run_logged(
                &mut uv_install(&uv, &self.python, &lock),
                &mut log,
                &bar,
                "uv",
            )?;
        }
        if !installed && !run_logged(&mut pip_install(&self.python, &lock), &mut log, &bar, "pip")?
        {
            bar.finish_and_clear();
            return Err(EnvError::Install {
                path: venv.display().to_string(),
                log: log_path.display().to_string(),
            });
        }
        let m = missing()?;
        bar.finish_and_clear();
        if !m.is_empty() {
            return Err(EnvError::MissingExtra {
                python: self.python.display().to_string(),
                missing: m.replace(',', ", "),
            });
        }
        std::fs::write(&marker, ONNX_LOCK).map_err(|e| EnvError::Io(e.to_string()))?;
        eprintln!(
            "shapefuzz: onnx backend installed into {} ({:.0?})",
            venv.display(),
            started.elapsed()
        );
        Ok(())
    }
}

/// A lock file held while an extra is installed; waits for a live holder, takes over a dead
/// one's.
fn take_extra_lock(path: &Path) -> Result<BuildLock, EnvError> {
    let start = Instant::now();
    loop {
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
        {
            Ok(mut f) => {
                let _ = writeln!(f, "{}", std::process::id());
                return Ok(BuildLock(path.to_path_buf()));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let holder = std::fs::read_to_string(path)
                    .ok()
                    .and_then(|t| t.trim().parse::<u32>().ok());
                let young = std::fs::metadata(path)
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| t.elapsed().unwrap_or_default() < Duration::from_secs(2));
                let gone = match holder {
                    Some(pid) => !pid_alive(pid),
                    None => !young,
                };
                if gone {
                    let _ = std::fs::remove_file(path);
                    continue;
                }
                if start.elapsed() > Duration::from_secs(900) {
                    return Err(EnvError::Io(format!(
                        "{}: another shapefuzz has been installing the onnx backend for 15 minutes; stop it or remove the file",
                        path.display()
                    )));
                }
                std::thread::sleep(Duration::from_millis(500));
            }
            Err(e) => return Err(EnvError::Io(format!("{}: {e}", path.display()))),
        }
    }
}

fn create_venv(venv: &Path, show_progress: bool) -> Result<(), EnvError> {
    install_locked(
        venv,
        REQUIREMENTS_LOCK,
        Some(&pinned_torch()),
        show_progress,
    )
    .map(|_| ())
}

/// Builds a virtual environment at `venv` from a hash-checked lock (the way shapefuzz's
/// own is built: one builder at a time, a ready marker, uv with pip as fallback), unless it
/// is ready already, and returns its interpreter. `want` is the torch version it must have;
/// `None` accepts any that imports. Also how tests build a second torch to replay against.
pub fn install_locked(
    venv: &Path,
    requirements_lock: &str,
    want: Option<&str>,
    show_progress: bool,
) -> Result<PathBuf, EnvError> {
    let python = venv.join("bin").join("python");
    let parent = venv.parent().expect("venv has a parent");
    std::fs::create_dir_all(parent)
        .map_err(|e| EnvError::Io(format!("{}: {e}", parent.display())))?;
    let Some(_lock) = take_lock(venv)? else {
        return Ok(python);
    };
    if is_ready(venv) {
        return Ok(python);
    }
    let bar = progress_spinner(show_progress, want.unwrap_or("from the lock"));
    let started = Instant::now();
    // A previous attempt may have died half way; start clean.
    let _ = std::fs::remove_dir_all(venv);
    let py = bootstrap_python()?;
    bar.set_message(format!("creating virtual environment {}", venv.display()));
    let out = Command::new(&py)
        .arg("-m")
        .arg("venv")
        .arg(venv)
        .stdin(Stdio::null())
        .output();
    match out {
        Ok(o) if o.status.success() => {}
        Ok(o) => {
            let detail = super::last_line(&String::from_utf8_lossy(&o.stderr)).to_string();
            return Err(EnvError::Venv {
                path: venv.display().to_string(),
                detail,
            });
        }
        Err(e) => {
            return Err(EnvError::Venv {
                path: venv.display().to_string(),
                detail: e.to_string(),
            });
        }
    }
    let lock = venv.join("requirements.lock");
    let tools = venv.join("tools.lock");
    for (path, text) in [(&lock, requirements_lock), (&tools, TOOLS_LOCK)] {
        std::fs::write(path, text).map_err(|e| EnvError::Io(format!("{}: {e}", path.display())))?;
    }
    let log_path = venv.join("install.log");
    let mut log = std::fs::File::create(&log_path)
        .map_err(|e| EnvError::Io(format!("{}: {e}", log_path.display())))?;
    let pip = |lock: &Path| pip_install(&python, lock);
    // uv installs the same hash-checked lock in 21 s where pip takes 53 s (fresh caches,
    // measured in the notes); pip stays the fallback, and SHAPEFUZZ_INSTALLER=pip picks it.
    let use_uv = std::env::var("SHAPEFUZZ_INSTALLER").as_deref() != Ok("pip");
    let mut installed = false;
    if use_uv {
        bar.set_message("installing uv (hash-checked)");
        if run_logged(&mut pip(&tools), &mut log, &bar, "pip")? {
            let mut uv = uv_install(&venv.join("bin").join("uv"), &python, &lock);
            installed = run_logged(&mut uv, &mut log, &bar, "uv")?;
        }
        if !installed {
            let _ = writeln!(log, "-- uv failed; falling back to pip");
        }
    }
    if !installed && !run_logged(&mut pip(&lock), &mut log, &bar, "pip")? {
        bar.finish_and_clear();
        return Err(EnvError::Install {
            path: venv.display().to_string(),
            log: log_path.display().to_string(),
        });
    }
    bar.set_message("verifying import torch");
    let found = torch_version(&python, want.unwrap_or("(any)"))?;
    if let Some(want) = want
        && found.split('+').next() != Some(want)
    {
        return Err(EnvError::WrongTorch {
            python: venv.display().to_string(),
            found,
            want: want.to_string(),
        });
    }
    std::fs::write(venv.join(READY_MARKER), &found).map_err(|e| EnvError::Io(e.to_string()))?;
    bar.finish_and_clear();
    eprintln!(
        "shapefuzz: Python environment ready at {} (torch {found}, {:.0?})",
        venv.display(),
        started.elapsed()
    );
    Ok(python)
}

/// `pip install` of a hash-checked lock into `python`'s environment.
fn pip_install(python: &Path, lock: &Path) -> Command {
    let mut c = Command::new(python);
    c.args([
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--progress-bar",
        "off",
        "--require-hashes",
        "--no-deps",
        "-r",
    ])
    .arg(lock);
    c
}

/// The same with uv.
fn uv_install(uv: &Path, python: &Path, lock: &Path) -> Command {
    let mut c = Command::new(uv);
    c.args([
        "pip",
        "install",
        "--require-hashes",
        "--no-deps",
        "--python",
    ])
    .arg(python)
    .arg("-r")
    .arg(lock)
    .env("UV_NO_PROGRESS", "1");
    c
}

/// Runs an installer to its end, its output lines going to the log and the spinner.
/// `Ok(false)` when it ran and failed.
fn run_logged(
    cmd: &mut Command,
    log: &mut std::fs::File,
    bar: &indicatif::ProgressBar,
    label: &str,
) -> Result<bool, EnvError> {
    let mut child = match cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(log, "-- {label} did not start: {e}");
            return Ok(false);
        }
    };
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let readers: Vec<_> = [
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
    ]
    .into_iter()
    .flatten()
    .map(|pipe| {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        })
    })
    .collect();
    drop(tx);
    for line in rx {
        let _ = writeln!(log, "{line}");
        let short: String = line.trim().chars().take(100).collect();
        if !short.is_empty() {
            bar.set_message(format!("{label}: {short}"));
        }
    }
    for r in readers {
        let _ = r.join();
    }
    let status = child.wait().map_err(|e| EnvError::Io(e.to_string()))?;
    let _ = writeln!(log, "-- {label} exited with {status}");
    Ok(status.success())
}

fn progress_spinner(show: bool, torch: &str) -> indicatif::ProgressBar {
    let bar = if show {
        indicatif::ProgressBar::new_spinner()
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed}] setting up Python: {wide_msg}",
        )
        .expect("valid template"),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    if show {
        eprintln!(
            "shapefuzz: first run: installing torch {} into a private environment (about 5 GB, a few minutes)",
            torch
        );
    }
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_venv_whose_interpreter_is_gone_is_rebuilt_not_trusted() {
        // The layout a restored cache leaves after the runner's Python was updated: the
        // marker is there, bin/python links to a toolcache path that no longer exists.
        let venv = std::env::temp_dir().join(format!("shapefuzz-venv-gone-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&venv);
        std::fs::create_dir_all(venv.join("bin")).unwrap();
        std::fs::write(venv.join(READY_MARKER), "2.15.0").unwrap();
        let gone = venv.join("toolcache-3.12.7-python3");
        std::fs::write(&gone, "").unwrap();
        std::os::unix::fs::symlink(&gone, venv.join("bin/python")).unwrap();
        assert!(is_ready(&venv) && !lost_its_interpreter(&venv));
        std::fs::remove_file(&gone).unwrap();
        assert!(!is_ready(&venv) && lost_its_interpreter(&venv));
        // A build that never finished is neither ready nor a lost interpreter.
        std::fs::remove_file(venv.join(READY_MARKER)).unwrap();
        assert!(!is_ready(&venv) && !lost_its_interpreter(&venv));
        std::fs::remove_dir_all(&venv).ok();
    }

    #[test]
    fn the_lock_pins_what_the_requirements_pin_each_with_hashes() {
        let entries_of = |lock: &'static str| -> Vec<&'static str> {
            lock.lines()
                .filter(|l| !l.starts_with(' ') && !l.starts_with('#') && l.contains("=="))
                .collect()
        };
        let locked = entries_of(REQUIREMENTS_LOCK);
        let onnx_locked = entries_of(ONNX_LOCK);
        for (requirements, locked, name) in [
            (REQUIREMENTS, &locked, "requirements.lock"),
            (
                include_str!("../python/requirements-onnx.txt"),
                &onnx_locked,
                "requirements-onnx.lock",
            ),
        ] {
            for pin in requirements
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
            {
                assert!(
                    locked
                        .iter()
                        .any(|l| l.starts_with(&format!("{pin} ")) || *l == pin),
                    "the requirements pin {pin}, {name} does not: regenerate the lock (see its header)"
                );
            }
        }
        // The extra's lock agrees with the base on every package both hold.
        for entry in &onnx_locked {
            let name = entry.split("==").next().unwrap();
            if let Some(base) = locked.iter().find(|l| l.split("==").next() == Some(name)) {
                assert_eq!(
                    base.split_whitespace().next(),
                    entry.split_whitespace().next(),
                    "requirements-onnx.lock and requirements.lock disagree on {name}"
                );
            }
        }
        for lock in [REQUIREMENTS_LOCK, TOOLS_LOCK, ONNX_LOCK] {
            let entries = lock
                .lines()
                .filter(|l| !l.starts_with(' ') && !l.starts_with('#') && l.contains("=="))
                .count();
            let hashed = lock.matches("\\\n    --hash=sha256:").count();
            assert!(
                entries > 0 && hashed >= entries,
                "every entry carries a hash"
            );
        }
        assert!(
            locked.iter().any(|l| l.starts_with("sympy==")),
            "sympy is pinned"
        );
    }

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("shapefuzz-env-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn a_setup_lock_whose_holder_is_gone_is_taken_over() {
        let dir = scratch("stale");
        let venv = dir.join("venv");
        // A pid above the kernel's maximum is never alive.
        std::fs::write(venv.with_extension("lock"), "4194305\n").unwrap();
        let t = Instant::now();
        let lock = take_lock(&venv).unwrap();
        assert!(lock.is_some());
        assert!(t.elapsed() < Duration::from_secs(5));
        let held = std::fs::read_to_string(venv.with_extension("lock")).unwrap();
        assert_eq!(held.trim(), std::process::id().to_string());
        drop(lock);
        assert!(!venv.with_extension("lock").exists());
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn an_interpreter_whose_import_blocks_is_given_up_on() {
        let dir = scratch("blocking");
        let fake = dir.join("python");
        std::fs::write(&fake, "#!/bin/sh\nexec sleep 600\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let t = Instant::now();
        let out = output_within(
            Command::new(&fake).arg("-c").arg("import torch"),
            Duration::from_secs(1),
        )
        .unwrap();
        assert!(out.is_none());
        assert!(t.elapsed() < Duration::from_secs(5));
        std::fs::remove_dir_all(dir).ok();
    }
}
