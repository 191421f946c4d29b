//! The command line: `gen`, `setup`, `check`, `fuzz`, `reduce`, `repro`, `import-artifact`
//! and `replay`, one function each; options that mean the same thing are declared once
//! (`OracleArgs`, `GenArgs`) and flattened into every subcommand that takes them.
//!
//! Exit codes are for CI: 0 when nothing failing was found, 1 when a check or campaign found
//! something of a failing class (by default a torch bug), 2 when the harness itself could not
//! do its job (bad input file, no Python, wrong torch), 64 when the command was called wrong
//! (a usage error: clap's, or a [`UsageError`]). Errors are one line that names the file or
//! the fix. A flag is declared only on the commands it does something for.

use crate::campaign::{self, CampaignConfig, Limit, Progress, ReplayStatus, Shard};
use crate::corpus::Stored;
use crate::r#gen::GenConfig;
pub use crate::r#gen::generate;
use crate::ir::Case;
use crate::oracle::{self, Backend, CheckResult, Class, Pool, PoolConfig, PythonEnv, Verdict};
use crate::render::render;
use crate::report::KnownIssues;
use crate::repro::Repro;
use crate::triage::{self, find_workaround};
use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(
    name = "shapefuzz",
    version,
    about = "Fuzz torch.export with dynamic shapes and check the exported program against eager PyTorch",
    long_about = "shapefuzz generates random valid PyTorch models with dynamic-shape specs, exports them \
with torch.export, runs the exported program against eager PyTorch at other input sizes, and judges \
what it sees against torch.export's contract: a `bug` (torch broke a documented promise), `portability` \
(a specialization the model does not force, usually avoidable with another spelling) or `expected`.\n\n\
Exit codes: 0 nothing of a failing class found; 1 something of a failing class found (--fail-on, \
by default a new torch bug); 2 the harness could not do its job (a bad input file, no Python, the \
wrong torch, a shard missing from a merge); 64 a usage error (an unknown flag, a bad value, flags \
that do not go together or do not fit the campaign in --out).",
    after_help = "Examples:\n  shapefuzz fuzz --time 60s              a one-minute campaign; open its report.html\n  shapefuzz check corpus/seeds/seed_pad.json\n  shapefuzz repro <finding.json> --format issue\n  shapefuzz explain                      what verdicts, classes and signatures mean\n\nEvery time option takes 90, 90s, 2m or 1h30m."
)]
pub struct Cli {
    /// The same as a command's own --python, accepted before the command for the scripts
    /// that put it there; hidden, since a command that runs no Python refuses it.
    #[arg(long, value_name = "PATH", hide = true)]
    python: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

/// The interpreter of a command that runs Python.
#[derive(Args, Debug, Clone, Default)]
struct PythonArg {
    /// Python interpreter to use instead of shapefuzz's own environment (also
    /// SHAPEFUZZ_PYTHON).
    #[arg(long, value_name = "PATH")]
    python: Option<PathBuf>,
}

/// How cases are checked against torch.
#[derive(Args, Debug, Clone)]
struct OracleArgs {
    #[command(flatten)]
    python: PythonArg,
    /// Use torch.export's strict mode (TorchDynamo) instead of the default non-strict (the
    /// same as --backend export-strict).
    #[arg(long, conflicts_with = "backend")]
    strict: bool,
    /// What is probed: export, export-strict, decomposed, saved, aoti, onnx or compile; fuzz
    /// and check take several (comma-separated, or `all`: all but compile). `shapefuzz
    /// explain backends` says what each one checks.
    #[arg(long, default_value = "export", value_parser = parse_backends, value_name = "BACKEND[,BACKEND...]")]
    backend: BackendList,
    /// How long one case may take before its worker is killed (verdict `hang`): 60, 90s, 2m.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    timeout: Duration,
    /// The same for --backend aoti or compile, which compile C++ for every case (seconds).
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    aoti_timeout: Duration,
}

impl OracleArgs {
    /// A pool on shapefuzz's environment (or `python`), with what the backends need
    /// installed.
    fn pool(&self, python: Option<&Path>, jobs: usize) -> Result<Pool> {
        self.pool_forking(python, jobs, true)
    }

    /// `pool`, with workers forked from a zygote only when `fork` (and not turned off by
    /// `SHAPEFUZZ_ZYGOTE=0`). A command that checks one case has no worker to replace but
    /// after a crash: its warm-up case and fork would only add to its time.
    fn pool_forking(&self, python: Option<&Path>, jobs: usize, fork: bool) -> Result<Pool> {
        check_pool_args(jobs, self.timeout())?;
        let e = env(python)?;
        if self.backends().contains(&Backend::Onnx) {
            e.ensure_onnx(true)?;
        }
        let warm = oracle::warm_request(&self.backends());
        pool_on(e, jobs, self.timeout(), fork, warm)
    }

    /// The per-case timeout of the chosen backends.
    fn timeout(&self) -> Duration {
        if self
            .backends()
            .iter()
            .any(|b| matches!(b, Backend::Aoti | Backend::Compile))
        {
            self.aoti_timeout
        } else {
            self.timeout
        }
    }

    /// Every backend asked for, in the order given.
    fn backends(&self) -> Vec<Backend> {
        if self.strict {
            vec![Backend::ExportStrict]
        } else {
            self.backend.0.clone()
        }
    }

    /// The one backend of a command that checks on one (reduce, repro, import-artifact).
    fn backend(&self) -> Result<Backend> {
        match self.backends()[..] {
            [b] => Ok(b),
            _ => crate::usage_bail!(
                "--backend {}: this command checks on one backend; pass one of them",
                self.backend.names()
            ),
        }
    }
}

/// `--backend`'s value: one or more backends, in the order given, each once.
#[derive(Clone, Debug)]
struct BackendList(Vec<Backend>);

impl BackendList {
    fn names(&self) -> String {
        self.0
            .iter()
            .map(|b| b.name())
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// How cases are generated.
#[derive(Args, Debug, Clone)]
struct GenArgs {
    /// A generator configuration (TOML or JSON; see `GenConfig`): every case uses it instead
    /// of a configuration drawn per case (swarm testing).
    #[arg(long, value_name = "FILE")]
    gen_config: Option<PathBuf>,
    /// The spec API cases are written in: dim (torch.export.Dim; in swarm cases also its
    /// AdditionalInputs and ShapesCollection spellings), shapes (ShapesSpec:
    /// unbacked ShapeVar ranges, never specialized) or mixed [default: the configuration's
    /// share; swarm: mixed].
    #[arg(long, value_enum, value_name = "API")]
    spec_api: Option<SpecMix>,
}

/// `--spec-api`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum SpecMix {
    Dim,
    Shapes,
    Mixed,
}

impl GenArgs {
    fn config(&self) -> Result<Option<GenConfig>> {
        self.gen_config.as_deref().map(GenConfig::load).transpose()
    }

    /// The percent of cases written with ShapesSpec that `--spec-api` asks for.
    fn shapes_percent(&self) -> Option<u32> {
        self.spec_api.map(|m| match m {
            SpecMix::Dim => 0,
            SpecMix::Shapes => 100,
            SpecMix::Mixed => crate::r#gen::MIXED_SHAPES_PERCENT,
        })
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Generate cases: write each as JSON (the IR) and rendered Python.
    #[command(after_help = "Examples:
  shapefuzz gen --seed 7                        print case 7's Python
  shapefuzz gen --seed 0 --count 50 --out cases/  write 50 cases as JSON + Python
  shapefuzz gen --swarm --seed 123              the case a campaign's `case_seed` 123 is")]
    Gen {
        /// First seed; case i uses seed S+i.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Number of cases.
        #[arg(long, default_value_t = 1)]
        count: u64,
        /// Directory for `case-<seed>.json` and `case-<seed>.py`; without it the Python is
        /// printed to stdout.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Draw a random generator configuration per case (swarm testing, what campaigns do)
        /// instead of the default one.
        #[arg(long, conflicts_with = "gen_config")]
        swarm: bool,
        /// The cases of the campaign with this seed (`fuzz --seed SEED`), indices
        /// `--seed`..`--seed`+`--count`: each named by its case seed.
        #[arg(long, value_name = "SEED", conflicts_with = "swarm")]
        campaign: Option<u64>,
        /// Also write each case's worker request (`case-<seed>.request.json`), what
        /// `benches/plain_loop.py` checks without shapefuzz around it.
        #[arg(long, requires = "out")]
        requests: bool,
        #[command(flatten)]
        generation: GenArgs,
    },
    /// Create the Python environment (a venv with the pinned torch) and verify it.
    #[command(after_help = "Examples:
  shapefuzz setup                    create ~/.cache/shapefuzz/venv-<hash> (uv, hash-checked)
  SHAPEFUZZ_INSTALLER=pip shapefuzz setup   the same with pip
  shapefuzz setup --with onnx        also the onnx backend's packages")]
    Setup {
        #[command(flatten)]
        python: PythonArg,
        /// Also install an optional backend's packages: onnx (onnx, onnxruntime, onnxscript,
        /// hash-checked from requirements-onnx.lock).
        #[arg(long = "with", value_name = "EXTRA", value_parser = ["onnx"])]
        with: Vec<String>,
    },
    /// Check case files against real torch and print the verdict and its class.
    #[command(after_help = "Examples:
  shapefuzz check corpus/seeds/seed_pad.json         verdict, class, culprit, group
  shapefuzz check --json cases/*.json                one JSON object per case
  shapefuzz check --fail-on bug,portability case.json   exit 1 on either class")]
    Check {
        /// Case JSON files (or finding records, whose case is checked).
        #[arg(required = true, value_name = "CASE.json")]
        cases: Vec<PathBuf>,
        /// Print one JSON object per case and backend instead of text.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        oracle: OracleArgs,
        /// Classes that make the exit code 1: bug, portability, expected.
        #[arg(long, value_delimiter = ',', default_value = "bug", value_parser = parse_class)]
        fail_on: Vec<Class>,
    },
    /// Run a fuzz campaign: generate, check, and record every verdict; write
    /// results.jsonl, summary.md, summary.json, junit.xml and findings/ under --out.
    #[command(after_help = "Examples:
  shapefuzz fuzz --time 60s                          a minute on a fresh random seed
  shapefuzz fuzz --seed 7 --cases 1000 --out run/    reproducible: the same seed, the same cases
  shapefuzz fuzz --resume --cases 2000 --out run/    continue it
  shapefuzz fuzz --time 1h30m --shard 2/4 --seed 7 --out shard-2/   one of four runners
  shapefuzz fuzz --time 30m --known known-issues.toml --findings corpus/findings

`shapefuzz explain` says what verdicts, classes, contracts and signatures mean.")]
    Fuzz(FuzzArgs),
    /// Minimize a case while it keeps its group signature; write the smallest as a finding
    /// record.
    #[command(after_help = "Examples:
  shapefuzz reduce case.json --out finding.json      minimize while its group holds
  shapefuzz reduce fuzz-out/run-1/findings/<f>.json --out <f>.json   finish a cut reduction")]
    Reduce {
        /// A case JSON file, or a finding record (its reduction goes on from its case).
        #[arg(value_name = "CASE.json")]
        case: PathBuf,
        /// Where to write the finding record (updated atomically on every new smallest).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Worker processes checking candidates in parallel.
        #[arg(long, default_value_t = 2)]
        jobs: usize,
        /// Oracle calls a reduction may spend.
        #[arg(long, default_value_t = DEFAULT_REDUCE_BUDGET)]
        reduce_budget: usize,
        #[command(flatten)]
        oracle: OracleArgs,
    },
    /// Print a reproducer for a case or finding record: a standalone script (exit 1 while the
    /// behaviour is present), a Markdown report (a bug report with the promise torch broke,
    /// or a note for model authors with the workaround), or a pytest test.
    #[command(after_help = "Examples:
  shapefuzz repro finding.json > repro.py            standalone: exit 1 while the behaviour is there
  shapefuzz repro finding.json --format issue        a bug report (runs the script here)
  shapefuzz repro finding.json --format pytest       a test that passes once fixed")]
    Repro {
        /// A finding record (its stored check and backend are used, no torch is run but for
        /// --format issue), or a case JSON file (checked here first, on --backend).
        #[arg(value_name = "CASE.json")]
        case: PathBuf,
        /// script (a standalone Python file), issue (a Markdown bug report) or pytest (a test
        /// that passes once torch is fixed).
        #[arg(long, value_enum, default_value_t = ReproFormat::Script)]
        format: ReproFormat,
        #[command(flatten)]
        oracle: OracleArgs,
    },
    /// Turn a libFuzzer input or artifact (of the `export_diff` or `generate` target) into a
    /// case file, and print its reproducer script.
    #[command(after_help = "Examples:
  shapefuzz import-artifact fuzz/artifacts/export_diff/crash-1a2b   -> crash-1a2b.json + script")]
    ImportArtifact {
        /// A libFuzzer input or artifact (crash-*, timeout-*, a corpus entry) of the
        /// export_diff or generate target.
        #[arg(value_name = "FILE")]
        artifact: PathBuf,
        /// Where to write the case [default: FILE.json].
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        #[command(flatten)]
        oracle: OracleArgs,
    },
    /// Re-check stored findings (finding records or case files, or directories of them, such
    /// as a campaign's --out or corpus/) on a torch: fixed, still failing, or changed group.
    /// With --python, on whatever torch that interpreter has (e.g. a nightly), reporting the
    /// torch each finding was found on and the one it was replayed on.
    #[command(after_help = "Examples:
  shapefuzz replay corpus/findings                   on the pinned torch
  shapefuzz replay corpus/findings --python ~/nightly/bin/python   on another torch
  shapefuzz replay run/ --known known-issues.toml --json")]
    Replay {
        /// Finding records and case files, or directories searched for them (a campaign's
        /// --out, corpus/). A record is checked on the backend it was found on, a case file
        /// on --backend.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// One JSON object per file.
        #[arg(long)]
        json: bool,
        /// known-issues.toml: report its entries that no finding still matches (stale).
        #[arg(long, value_name = "FILE")]
        known: Option<PathBuf>,
        #[command(flatten)]
        oracle: OracleArgs,
    },
    /// Merge the directories of one campaign's shards (or other parts) into one: results by
    /// index, finding records by group, reports regenerated. Needs no torch.
    #[command(after_help = "Examples:
  shapefuzz merge shard-1/ shard-2/ shard-3/ shard-4/ --out merged/
  shapefuzz merge parts/* --out merged/ --known known-issues.toml   exit 1 on new bugs")]
    Merge {
        /// The campaign directories to merge.
        #[arg(required = true, value_name = "DIR")]
        parts: Vec<PathBuf>,
        /// Where the merged campaign goes (a new directory).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// known-issues.toml, as for `fuzz` [default: the file the parts' campaign.json
        /// records].
        #[arg(long, value_name = "FILE")]
        known: Option<PathBuf>,
        /// Classes whose new groups fail (exit 1): bug, portability, expected [default: what
        /// campaign.json records, else bug].
        #[arg(long, value_delimiter = ',', value_parser = parse_class)]
        fail_on: Option<Vec<Class>>,
        /// Accept parts that are not all the campaign's shards (a runner was lost): the
        /// reports say which shards are missing. Without it a missing shard fails the merge
        /// (exit 2) after the reports are written.
        #[arg(long)]
        partial: bool,
    },
    /// Rewrite a campaign directory's reports (summary.md, summary.json, junit.xml,
    /// report.html) from its results and finding records, e.g. after editing the known-issues
    /// file. Needs no torch.
    #[command(after_help = "Examples:
  shapefuzz report fuzz-out/run-1795731529            rewrite its reports, report.html included
  shapefuzz report merged/ --known known-issues.toml")]
    Report {
        /// The campaign directory.
        #[arg(value_name = "DIR")]
        dir: PathBuf,
        /// known-issues.toml, as for `fuzz` [default: the file the campaign's campaign.json
        /// records].
        #[arg(long, value_name = "FILE")]
        known: Option<PathBuf>,
        /// Classes whose new groups fail (exit 1): bug, portability, expected [default: what
        /// campaign.json records, else bug].
        #[arg(long, value_delimiter = ',', value_parser = parse_class)]
        fail_on: Option<Vec<Class>>,
    },
    /// Probe your own model: export it with its dynamic shapes, run the exported program
    /// against eager at other sizes, and say which sizes it rejects or gets wrong, and which
    /// line of the model is to blame.
    #[command(
        long_about = concat!(
            "Probe your own model: export it with its dynamic shapes, run the exported program ",
            "against eager at other sizes, and say which sizes it rejects or gets wrong, and which ",
            "line of the model is to blame.\n\n",
            "FILE.py defines three functions (and may define a fourth):\n",
            "  model()              the torch.nn.Module to export (random weights are fine)\n",
            "  example_inputs()     a tuple of positional inputs to export with\n",
            "  dynamic_shapes()     the dynamic_shapes argument of torch.export.export: a dict keyed\n",
            "                       by forward's parameter names, or a tuple\n",
            "  make_inputs(shapes)  optional: inputs of the given shapes (a tuple per input, None for\n",
            "                       a non-tensor); without it, inputs are drawn like the examples (same\n",
            "                       dtype, values within the examples' range, so index inputs stay valid)\n\n",
            "Each named Dim is one size; Dim.AUTO and Dim.DYNAMIC dims of equal example size move ",
            "together (give them different example sizes to probe them apart). The file runs in a ",
            "shapefuzz worker, never in shapefuzz itself, and only when you run this command. Use ",
            "--python for an interpreter that has the model's own packages (any torch).\n\n",
            "Exit codes: 0 nothing of a --fail-on class found, 1 found, 2 the model could not be ",
            "probed (its code raised, hung or crashed before it could be judged) or a harness error, ",
            "64 a usage error."
        ),
        after_help = "Examples:
  shapefuzz probe mymodel.py                         the report, per dim and per finding
  shapefuzz probe mymodel.py --json                  the same as JSON
  shapefuzz probe mymodel.py --format issue          a torch issue for the first bug found
  shapefuzz probe --entry mypkg.export:build         build() returns (model, example_inputs, dynamic_shapes)
  shapefuzz probe mymodel.py --python .venv/bin/python   with your own environment's torch and packages"
    )]
    Probe {
        /// A Python file defining model(), example_inputs() and dynamic_shapes().
        #[arg(
            value_name = "FILE.py",
            required_unless_present = "entry",
            conflicts_with = "entry"
        )]
        file: Option<PathBuf>,
        #[command(flatten)]
        python: PythonArg,
        /// `module:function` returning (model, example_inputs, dynamic_shapes), or a dict of
        /// them (with an optional make_inputs); `module` alone follows the file convention.
        /// Imported from the current directory.
        #[arg(long, value_name = "MODULE:FUNCTION")]
        entry: Option<String>,
        /// Print the report as JSON (the same as --format json).
        #[arg(long)]
        json: bool,
        /// text (the human report), json, or issue (a torch issue for the first bug).
        #[arg(long, default_value = "text", value_parser = ["text", "json", "issue"])]
        format: String,
        /// The largest size tried per dim.
        #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(i64).range(4..=4096))]
        scan_max: i64,
        /// Sizes per dim the exported program is compared with eager at, beyond the probes.
        #[arg(long, default_value_t = 8)]
        sweep: usize,
        /// Use torch.export's strict mode.
        #[arg(long)]
        strict: bool,
        /// How long the whole probe may take before its worker is stopped.
        #[arg(long, default_value = "5m", value_parser = parse_duration)]
        timeout: Duration,
        /// Classes that make the exit code 1: bug, portability, expected.
        #[arg(long, value_delimiter = ',', default_value = "bug", value_parser = parse_class)]
        fail_on: Vec<Class>,
    },
    /// Say what a verdict, class, contract outcome, backend, signature or exit code means
    /// (all of them without a term).
    #[command(
        after_help = "Examples:\n  shapefuzz explain                   everything\n  shapefuzz explain lost_dim\n  shapefuzz explain portability\n  shapefuzz explain backends          what each --backend checks\n  shapefuzz explain exit-codes"
    )]
    Explain {
        /// A verdict (lost_dim), class (bug), contract outcome (trace-region), backend
        /// (saved), a kind of them all (`verdicts`, `backends`), `signature` or `exit-codes`.
        #[arg(value_name = "TERM")]
        term: Option<String>,
    },
    /// Write known-issues.toml entries for a campaign's groups (by default its bug and
    /// portability groups that the file does not match yet), each matching its signature
    /// exactly, with the upstream link left to fill in.
    #[command(after_help = "Examples:
  shapefuzz known --from run/                         print entries for its new groups
  shapefuzz known --from merged/ --file known-issues.toml   append them (then fill in the links)")]
    Known {
        /// The campaign directory.
        #[arg(long, value_name = "DIR")]
        from: PathBuf,
        /// The known-issues file to append to (created when missing); without it the entries
        /// are printed.
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
        /// Classes to write entries for.
        #[arg(long, value_delimiter = ',', default_value = "bug,portability", value_parser = parse_class)]
        class: Vec<Class>,
    },
}

impl Command {
    /// The `--python` of a command that runs Python; `None` for one that runs none.
    fn python(&self) -> Option<Option<&Path>> {
        match self {
            Command::Setup { python, .. } | Command::Probe { python, .. } => {
                Some(python.python.as_deref())
            }
            Command::Check { oracle, .. }
            | Command::Reduce { oracle, .. }
            | Command::Repro { oracle, .. }
            | Command::ImportArtifact { oracle, .. }
            | Command::Replay { oracle, .. } => Some(oracle.python.python.as_deref()),
            Command::Fuzz(a) => Some(a.oracle.python.python.as_deref()),
            Command::Gen { .. }
            | Command::Merge { .. }
            | Command::Report { .. }
            | Command::Explain { .. }
            | Command::Known { .. } => None,
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Command::Gen { .. } => "gen",
            Command::Setup { .. } => "setup",
            Command::Check { .. } => "check",
            Command::Fuzz(_) => "fuzz",
            Command::Reduce { .. } => "reduce",
            Command::Repro { .. } => "repro",
            Command::ImportArtifact { .. } => "import-artifact",
            Command::Replay { .. } => "replay",
            Command::Merge { .. } => "merge",
            Command::Report { .. } => "report",
            Command::Probe { .. } => "probe",
            Command::Explain { .. } => "explain",
            Command::Known { .. } => "known",
        }
    }
}

#[derive(Args, Debug)]
struct FuzzArgs {
    /// Campaign seed: the same seed, shapefuzz generator and torch give the same cases
    /// [default: a fresh random seed, printed first and recorded; on --resume, the
    /// campaign's].
    #[arg(long)]
    seed: Option<u64>,
    /// Run the case indices below this count (those of this shard; counting those already
    /// recorded on --resume).
    #[arg(long, conflicts_with = "time")]
    cases: Option<u64>,
    /// Stop the whole run, reduction included, after this long (e.g. 60s, 30m, 1h30m).
    /// Without --cases or --time: 100 cases.
    #[arg(long, value_parser = parse_duration)]
    time: Option<Duration>,
    /// Longest the reduction of findings may take once cases stop (groups are also reduced
    /// while cases run) [default with --time: at most a quarter of it, taken from its end,
    /// less when the groups left need less; with --cases: bounded only by --reduce-budget].
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    reduce_time: Option<Duration>,
    /// Run only shard K of N (1-based): the indices i with i % N == K-1. Shards of one seed
    /// never overlap and together are the whole campaign; `shapefuzz merge` joins them.
    #[arg(long, value_parser = Shard::parse, value_name = "K/N")]
    shard: Option<Shard>,
    /// No progress output, only the last line and errors.
    #[arg(short, long, conflicts_with = "verbose")]
    quiet: bool,
    /// Also announce expected groups as they appear.
    #[arg(short, long)]
    verbose: bool,
    /// Without a terminal, print a progress line this often.
    #[arg(long, default_value = "15s", value_parser = parse_duration, value_name = "DURATION")]
    progress_every: Duration,
    /// Worker processes.
    #[arg(long, default_value_t = 2)]
    jobs: usize,
    /// Output directory [default: a new fuzz-out/run-<time>].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Continue the campaign in --out, skipping cases it already recorded.
    #[arg(long)]
    resume: bool,
    /// known-issues.toml: groups whose signature matches a `pattern` are reported with their
    /// upstream link and do not fail the run (an entry whose link is still TODO does not
    /// count). Recorded in campaign.json: --resume, `report` and `merge` use it by default.
    #[arg(long, value_name = "FILE")]
    known: Option<PathBuf>,
    #[command(flatten)]
    oracle: OracleArgs,
    #[command(flatten)]
    generation: GenArgs,
    /// Keep findings as seen instead of reducing them.
    #[arg(long)]
    no_reduce: bool,
    /// Oracle calls a reduction may spend per finding.
    #[arg(long, default_value_t = DEFAULT_REDUCE_BUDGET)]
    reduce_budget: usize,
    /// Directory for finding records, e.g. corpus/findings [default: <out>/findings].
    #[arg(long, value_name = "DIR")]
    findings: Option<PathBuf>,
    /// Classes whose new groups fail the run (exit 1): bug, portability, expected [default:
    /// bug; on --resume, what campaign.json records].
    #[arg(long, value_delimiter = ',', value_parser = parse_class)]
    fail_on: Option<Vec<Class>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum ReproFormat {
    Script,
    Issue,
    Pytest,
}

fn parse_class(s: &str) -> Result<Class, String> {
    Class::parse(s.trim())
        .ok_or_else(|| format!("unknown class {s:?} (use bug, portability or expected)"))
}

/// The longest any time option may be: a year. Longer ones are typos, and a deadline
/// that far away overflows the clock's arithmetic.
pub const MAX_DURATION: Duration = Duration::from_secs(366 * 24 * 3600);

/// Every time option's parser: a bare number is seconds (`90`), anything else is read by
/// `humantime` (`90s`, `2m`, `1h30m`, `1h 30m`, `500ms`); at most [`MAX_DURATION`].
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let d = if !t.is_empty() && t.chars().all(|c| c.is_ascii_digit() || c == '.') {
        t.parse::<f64>()
            .ok()
            .filter(|x| x.is_finite() && *x <= 1e9)
            .map(Duration::from_secs_f64)
            .ok_or_else(|| format!("not a duration: {s:?} (try 60s, 30m, 1h30m)"))?
    } else {
        humantime::parse_duration(t)
            .map_err(|e| format!("not a duration: {s:?} ({e}; try 60s, 30m, 1h30m)"))?
    };
    if d > MAX_DURATION {
        return Err(format!("{s:?} is longer than the limit of 366 days"));
    }
    Ok(d)
}

/// Oracle calls one reduction may spend, in `fuzz` and `reduce` alike.
pub const DEFAULT_REDUCE_BUDGET: usize = 200;

/// The command line's definition, for the tests that read every argument's help.
pub fn definition() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

/// When this command started (the first call; `main` makes it at once).
pub fn process_start() -> std::time::Instant {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    *START.get_or_init(std::time::Instant::now)
}

pub fn main() -> i32 {
    process_start();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // --help and --version are errors to clap, and a success to the user.
            return if e.use_stderr() { crate::EXIT_USAGE } else { 0 };
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("shapefuzz: error: {e:#}");
            if e.downcast_ref::<crate::UsageError>().is_some() {
                crate::EXIT_USAGE
            } else {
                2
            }
        }
    }
}

fn env(python: Option<&Path>) -> Result<PythonEnv> {
    Ok(PythonEnv::ensure(python, true)?)
}

fn run(cli: Cli) -> Result<i32> {
    let python: Option<PathBuf> = match cli.command.python() {
        Some(own) => own.map(Path::to_path_buf).or(cli.python.clone()),
        None if cli.python.is_some() => crate::usage_bail!(
            "`shapefuzz {}` runs no Python: leave out --python",
            cli.command.name()
        ),
        None => None,
    };
    let python = python.as_deref();
    match cli.command {
        Command::Gen {
            seed,
            count,
            out,
            swarm,
            campaign,
            requests,
            generation,
        } => cmd_gen(seed, count, out, swarm, campaign, requests, &generation),
        Command::Setup { with, .. } => cmd_setup(python, &with),
        Command::Check {
            cases,
            json,
            oracle,
            fail_on,
        } => cmd_check(python, &cases, json, &oracle, &fail_on),
        Command::Fuzz(args) => cmd_fuzz(python, args),
        Command::Reduce {
            case,
            out,
            jobs,
            reduce_budget,
            oracle,
        } => cmd_reduce(python, &case, out.as_deref(), jobs, reduce_budget, &oracle),
        Command::Repro {
            case,
            format,
            oracle,
        } => cmd_repro(python, &case, format, &oracle),
        Command::ImportArtifact {
            artifact,
            out,
            oracle,
        } => cmd_import_artifact(python, &artifact, out, &oracle),
        Command::Replay {
            paths,
            json,
            known,
            oracle,
        } => cmd_replay(python, &paths, json, known.as_deref(), &oracle),
        Command::Merge {
            parts,
            out,
            known,
            fail_on,
            partial,
        } => cmd_merge(&parts, &out, known.as_deref(), fail_on.as_deref(), partial),
        Command::Known { from, file, class } => cmd_known(&from, file.as_deref(), &class),
        Command::Explain { term } => cmd_explain(term.as_deref()),
        Command::Probe {
            file,
            entry,
            json,
            format,
            scan_max,
            sweep,
            strict,
            timeout,
            fail_on,
            ..
        } => {
            let target = match (file, entry) {
                (Some(f), _) => crate::probe::Target::File(f),
                (None, Some(e)) => crate::probe::Target::Entry(e),
                (None, None) => {
                    crate::usage_bail!("probe needs FILE.py or --entry MODULE:FUNCTION")
                }
            };
            let format = if json { "json".to_string() } else { format };
            cmd_probe(
                python, target, &format, scan_max, sweep, strict, timeout, &fail_on,
            )
        }
        Command::Report {
            dir,
            known,
            fail_on,
        } => cmd_report(&dir, known.as_deref(), fail_on.as_deref()),
    }
}

#[allow(clippy::too_many_arguments)]
fn cmd_probe(
    python: Option<&Path>,
    target: crate::probe::Target,
    format: &str,
    scan_max: i64,
    sweep: usize,
    strict: bool,
    timeout: Duration,
    fail_on: &[Class],
) -> Result<i32> {
    use crate::probe::{self, ProbeConfig};
    // Everything that can be wrong with the arguments is found before torch starts.
    let (source, mut sys_path) = probe_source(&target)?;
    if let Ok(cwd) = std::env::current_dir() {
        sys_path.push(cwd);
    }
    check_pool_args(1, timeout)?;
    // One model, one worker: a zygote would only add its warm-up.
    let warm = oracle::warm_request(&[Backend::Export]);
    let pool = pool_on(
        PythonEnv::ensure_any_torch(python, true)?,
        1,
        timeout,
        false,
        warm,
    )?;
    let cfg = ProbeConfig {
        target: target.clone(),
        scan_max,
        sweep,
        strict,
        sys_path,
    };
    if format == "text" && std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        eprintln!(
            "shapefuzz: probing {} (export, then eager vs exported at other sizes) ...",
            target.text()
        );
    }
    let report = probe::probe(&pool, &cfg);
    print_probe_report(&pool, &report, &target, format, source.as_deref())?;
    if report.error.is_some() {
        return Ok(2);
    }
    // A silently wrong answer fails the probe whenever a finding would: at 0/1 it is the
    // author's note, but the most dangerous one.
    let wrong_at_zero_one = report
        .findings
        .iter()
        .any(|f| f.contract == oracle::Contract::SilentDivergenceAtZeroOne);
    Ok(i32::from(
        report.classes().iter().any(|c| fail_on.contains(c))
            || (wrong_at_zero_one && !fail_on.is_empty()),
    ))
}

/// The text of a probe's model file (None for an entry) and the directories its imports
/// come from, checked before torch starts: a file of at most 4 MB of UTF-8, or an entry
/// `MODULE[:FUNCTION]` of Python identifiers.
fn probe_source(target: &crate::probe::Target) -> Result<(Option<String>, Vec<PathBuf>)> {
    use crate::probe::Target;
    let mut sys_path = vec![];
    let source = match target {
        Target::File(p) => {
            let meta = std::fs::metadata(p)
                .with_context(|| format!("{}: cannot read the model file", p.display()))?;
            if !meta.is_file() {
                bail!(
                    "{}: not a file; probe takes a Python file defining model(), example_inputs() and dynamic_shapes()",
                    p.display()
                );
            }
            if meta.len() > 4 << 20 {
                bail!(
                    "{}: {} bytes is not a model file (the limit is 4 MB)",
                    p.display(),
                    meta.len()
                );
            }
            let text = std::fs::read_to_string(p).with_context(|| {
                format!("{}: not UTF-8 text; probe takes a Python file", p.display())
            })?;
            if let Some(dir) = std::path::absolute(p)
                .ok()
                .and_then(|a| a.parent().map(Path::to_path_buf))
            {
                sys_path.push(dir);
            }
            Some(text)
        }
        Target::Entry(e) => {
            let (module, func) = e.split_once(':').unwrap_or((e.as_str(), ""));
            let ident = |s: &str| {
                !s.is_empty()
                    && s.split('.').all(|part| {
                        part.chars()
                            .next()
                            .is_some_and(|c| c.is_alphabetic() || c == '_')
                            && part.chars().all(|c| c.is_alphanumeric() || c == '_')
                    })
            };
            if !ident(module) || (!func.is_empty() && (!ident(func) || func.contains('.'))) {
                crate::usage_bail!(
                    "--entry {e:?}: expected MODULE or MODULE:FUNCTION, e.g. mypkg.export:build"
                );
            }
            None
        }
    };
    Ok((source, sys_path))
}

/// Prints a probe's report as `format` asks: JSON, an issue for its first bug (or first
/// finding), or text.
fn print_probe_report(
    pool: &Pool,
    report: &crate::probe::ProbeReport,
    target: &crate::probe::Target,
    format: &str,
    source: Option<&str>,
) -> Result<()> {
    use crate::probe;
    match format {
        "json" => println!("{}", serde_json::to_string_pretty(&report)?),
        "issue" => {
            let pick = report
                .findings
                .iter()
                .find(|f| f.class == Class::Bug)
                .or_else(|| report.findings.first());
            match pick {
                Some(f) => {
                    let versions = oracle::env_info(pool);
                    print!(
                        "{}",
                        probe::issue(report, f, target, source, versions.as_deref())
                    );
                    if f.class != Class::Bug {
                        eprintln!(
                            "shapefuzz: the first finding is {} ({}), not a torch bug: read it before filing",
                            f.class.name(),
                            f.contract.name()
                        );
                    }
                }
                None => print!("{}", probe::text(report)),
            }
        }
        _ => print!("{}", probe::text(report)),
    }
    Ok(())
}

fn parse_backends(s: &str) -> Result<BackendList, String> {
    let mut out: Vec<Backend> = vec![];
    for part in s.split(',').map(str::trim) {
        let these = if part == "all" {
            // every step on the exported program: compile takes ShapesSpec cases only
            Backend::ALL
                .iter()
                .copied()
                .filter(|&b| b != Backend::Compile)
                .collect()
        } else {
            vec![parse_backend(part)?]
        };
        for b in these {
            if b == Backend::Aoti || b == Backend::Compile {
                parse_backend(b.name())?;
            }
            if !out.contains(&b) {
                out.push(b);
            }
        }
    }
    Ok(BackendList(out))
}

fn parse_backend(s: &str) -> Result<Backend, String> {
    let b = Backend::parse(s).ok_or_else(|| {
        let names: Vec<&str> = Backend::ALL.iter().map(|b| b.name()).collect();
        format!(
            "unknown backend {s:?}; one of: {}, or all (a comma-separated list takes several)",
            names.join(", ")
        )
    })?;
    if b == Backend::Aoti || b == Backend::Compile {
        // AOTInductor and Inductor compile each program with the C++ compiler torch's cpp_builder picks:
        // $CXX, else g++.
        let cxx = std::env::var("CXX").unwrap_or_else(|_| "g++".into());
        let found = std::process::Command::new(&cxx)
            .arg("--version")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|st| st.success());
        if !found {
            return Err(format!(
                "{} compiles C++ with {cxx}, which is not installed: install it (Debian/Ubuntu: apt-get install g++) or point CXX at a C++ compiler",
                b.name()
            ));
        }
    }
    Ok(b)
}

#[allow(clippy::too_many_arguments)]
fn cmd_gen(
    seed: u64,
    count: u64,
    out: Option<PathBuf>,
    swarm: bool,
    campaign: Option<u64>,
    requests: bool,
    generation: &GenArgs,
) -> Result<i32> {
    let config = generation.config()?;
    if let Some(dir) = &out {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    for i in seed..seed.saturating_add(count) {
        // A campaign's case i is the swarm case of its case seed.
        let (s, case) = match campaign {
            Some(c) => {
                let s = campaign::case_seed(c, i);
                (
                    s,
                    campaign::case_for(config.as_ref(), generation.shapes_percent(), s),
                )
            }
            None => (
                i,
                match (&config, swarm) {
                    (None, false) => crate::r#gen::generate_with(
                        i,
                        Some(&GenConfig::default()),
                        generation.shapes_percent(),
                    ),
                    (c, _) => {
                        crate::r#gen::generate_with(i, c.as_ref(), generation.shapes_percent())
                    }
                },
            ),
        };
        let rendered = render(&case);
        match &out {
            Some(dir) => {
                std::fs::write(dir.join(format!("case-{s}.json")), case.to_json())?;
                std::fs::write(dir.join(format!("case-{s}.py")), &rendered.source)?;
                if requests {
                    let truth = oracle::Truth::of(&case);
                    let request = oracle::request_for(&case, &rendered, Backend::Export, &truth);
                    std::fs::write(
                        dir.join(format!("case-{s}.request.json")),
                        serde_json::to_string(&request)?,
                    )?;
                }
            }
            None => println!("# shapefuzz gen --seed {s}\n{}", rendered.source),
        }
    }
    if let Some(dir) = out {
        eprintln!("wrote {count} case(s) to {}", dir.display());
    }
    Ok(0)
}

fn cmd_setup(python: Option<&Path>, with: &[String]) -> Result<i32> {
    let e = env(python)?;
    if with.iter().any(|w| w == "onnx") {
        e.ensure_onnx(true)?;
    }
    println!(
        "python: {}\ntorch: {}\nworker: {}",
        e.python.display(),
        e.torch_version,
        e.worker.display()
    );
    Ok(0)
}

fn cmd_check(
    python: Option<&Path>,
    cases: &[PathBuf],
    json: bool,
    oracle: &OracleArgs,
    fail_on: &[Class],
) -> Result<i32> {
    if let Some(py) = cases
        .iter()
        .find(|p| p.extension().is_some_and(|e| e == "py"))
    {
        crate::usage_bail!(
            "{}: a Python file, not a shapefuzz case (JSON); to check your own model, run `shapefuzz probe {}`",
            py.display(),
            crate::escape::shell_word(&py.display().to_string())
        );
    }
    // Read every file first: a bad file is reported before any torch start-up.
    let loaded: Vec<(PathBuf, Case)> = cases
        .iter()
        .map(|p| {
            // A finding record holds its case: `check` re-checks it like the case file.
            crate::corpus::load_stored(p).map(|s| match s {
                Stored::Record(r) => (p.clone(), r.case),
                Stored::Case(c) => (p.clone(), c),
            })
        })
        .collect::<Result<_, _>>()?;
    let pool = oracle.pool_forking(python, 1, loaded.len() > 1)?;
    let mut code = 0;
    let backends = oracle.backends();
    for (path, case) in loaded {
        for r in oracle::check_many(&pool, &case, &backends) {
            let counts = !r.same_as_export && r.class().is_some_and(|c| fail_on.contains(&c));
            if counts || r.verdict == Verdict::Invalid {
                code = 1;
            }
            if json {
                let mut v = serde_json::to_value(&r)?;
                v["case"] = path.display().to_string().into();
                // what a machine needs first: the class and the groups it falls in
                v["class"] = serde_json::to_value(r.class())?;
                v["signature"] = serde_json::to_value(r.signature())?;
                v["root_cause"] = serde_json::to_value(r.root_cause())?;
                println!("{}", serde_json::to_string(&v)?);
            } else if r.same_as_export {
                println!(
                    "{}: {} [{}]: same as export ({}: {})",
                    path.display(),
                    r.verdict.name(),
                    r.backend.name(),
                    r.class().map_or(r.verdict.name(), Class::name),
                    r.message().lines().next().unwrap_or("")
                );
            } else {
                print!("{}", describe(&path, &case, &r));
            }
        }
    }
    Ok(code)
}

/// The ShapesSpec share of a campaign: `--spec-api`'s, and with `--backend compile` (whose
/// torch.compile takes only a ShapesSpec) every case, unless asked otherwise.
fn campaign_shapes_percent(generation: &GenArgs, backends: &[Backend]) -> Result<Option<u32>> {
    if !backends.contains(&Backend::Compile) {
        return Ok(generation.shapes_percent());
    }
    match generation.spec_api {
        None | Some(SpecMix::Shapes) => Ok(Some(100)),
        Some(other) => crate::usage_bail!(
            "--backend compile judges ShapesSpec cases only (torch.compile's dynamic_shapes= takes no Dim spec), and --spec-api {} asks for Dim ones: leave out --spec-api or give --spec-api shapes",
            format!("{other:?}").to_lowercase()
        ),
    }
}

fn cmd_fuzz(python: Option<&Path>, a: FuzzArgs) -> Result<i32> {
    let (jobs, timeout) = (a.jobs, a.oracle.timeout());
    let oracle = a.oracle.clone();
    let cfg = campaign_config(a)?;
    check_pool_args(jobs, timeout)?;
    // One campaign per directory: held until this process exits.
    let _lock = campaign::lock_out_dir(&cfg.out)?;
    let seed = campaign::preflight(&cfg)?;
    let shard = if cfg.shard.is_whole() {
        String::new()
    } else {
        format!(" --shard {}", cfg.shard)
    };
    eprintln!(
        "shapefuzz: campaign seed {seed}{shard} (`--seed {seed}` runs the same cases); out {}",
        cfg.out.display()
    );
    let stop = stop_on_signal();
    let pool = oracle.pool(python, jobs)?;
    if stop.load(Ordering::SeqCst) {
        // Stopped while torch started: the campaign is recorded, with nothing run yet.
        eprintln!("shapefuzz: stopped before the first case; `--resume` starts it");
    }
    let summary = campaign::run(&pool, &cfg, stop)?;
    print_campaign_end(&summary, &cfg);
    Ok(summary.exit_code())
}

/// A campaign's configuration from its arguments. Everything that can be wrong with the
/// inputs is found before torch starts.
fn campaign_config(a: FuzzArgs) -> Result<CampaignConfig> {
    let limit = match (a.cases, a.time) {
        (Some(n), _) => Limit::Cases(n),
        (None, Some(t)) => Limit::Time(t),
        (None, None) => Limit::Cases(100),
    };
    // A resumed campaign keeps the known-issues file it was started with.
    let recorded = match (&a.out, a.resume) {
        (Some(out), true) => campaign::CampaignMeta::load(out).ok(),
        _ => None,
    };
    let known = match (&a.known, &recorded) {
        (Some(p), _) => KnownIssues::load(p)?,
        (None, Some(meta)) => meta.known_issues(None)?,
        (None, None) => KnownIssues::none(),
    };
    let fail_on = match (&recorded, a.resume) {
        (Some(meta), true) => meta.fail_on_or(a.fail_on.as_deref()),
        _ => a.fail_on.clone().unwrap_or_else(|| vec![Class::Bug]),
    };
    let gen_config = a.generation.config()?;
    let out = match a.out {
        Some(o) => o,
        None if a.resume => {
            crate::usage_bail!("--resume needs the --out of the campaign to continue")
        }
        None => {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            PathBuf::from("fuzz-out").join(format!("run-{}", t.as_secs()))
        }
    };
    let progress = if a.quiet {
        Progress::Quiet
    } else if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        Progress::Bar
    } else {
        Progress::Lines(a.progress_every.max(Duration::from_secs(1)))
    };
    Ok(CampaignConfig {
        // A new campaign's seed is drawn here, so that every part of the run sees one.
        seed: a.seed.or_else(|| (!a.resume).then(campaign::random_seed)),
        limit,
        shard: a.shard.unwrap_or(Shard::WHOLE),
        out,
        backends: a.oracle.backends(),
        known,
        resume: a.resume,
        progress,
        verbose: a.verbose,
        reduce: (!a.no_reduce).then_some(a.reduce_budget),
        reduce_time: a.reduce_time,
        findings: a.findings,
        fail_on,
        gen_config,
        shapes_percent: campaign_shapes_percent(&a.generation, &a.oracle.backends())?,
        clock_start: process_start(),
    })
}

/// First signal (Ctrl-C, SIGTERM, SIGHUP): stop taking cases, give the ones in flight a
/// moment, write the reports. Second: leave now, never in the middle of a result line.
fn stop_on_signal() -> &'static AtomicBool {
    let stop: &'static AtomicBool = Box::leak(Box::new(AtomicBool::new(false)));
    let _ = ctrlc::set_handler(move || {
        if stop.swap(true, Ordering::SeqCst) {
            let _whole_line = crate::corpus::RESULT_WRITE
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            std::process::exit(130);
        }
        eprintln!("\nshapefuzz: stopping: writing the reports (signal again to quit now)");
    });
    stop
}

/// The lines a campaign ends with: stale known issues, its pace and classes, the workers,
/// and each backend's share.
fn print_campaign_end(summary: &crate::report::Summary, cfg: &CampaignConfig) {
    if let Some(first) = summary.stale_known.first() {
        // One line: on a short run most entries match nothing, and a line each is noise.
        eprintln!(
            "shapefuzz: {} known-issue entr{} matched no group of this run (first: {:?}); summary.md lists them",
            summary.stale_known.len(),
            if summary.stale_known.len() == 1 {
                "y"
            } else {
                "ies"
            },
            first.pattern
        );
    }
    eprintln!(
        "{}, validity {:.1}%: {}; {} new failing root cause(s), {} known group(s); reports in {}",
        summary.pace(),
        summary.validity_rate * 100.0,
        summary.class_line(),
        summary.new_failing,
        summary.known_findings,
        cfg.out.display()
    );
    if let Some(w) = &summary.workers {
        eprintln!(
            "  workers: {} forked from the zygote, {} spawned; {} recycled, {} killed after a crash, hang or the memory limit; at most {} MB resident in a worker",
            w.forked, w.spawned, w.recycles, w.killed, w.peak_rss_mb
        );
    }
    for b in &summary.by_backend {
        let class = |k: &str| b.classes.get(k).cloned().unwrap_or_default();
        eprintln!(
            "  {}: {} checks; bug {} ({} group(s)), portability {} ({}), expected {} ({}), pass {}, same as export {}; {:.2} s a check",
            b.backend,
            b.checks,
            class("bug").cases,
            class("bug").groups,
            class("portability").cases,
            class("portability").groups,
            class("expected").cases,
            class("expected").groups,
            class("pass").cases,
            class(crate::report::SAME_AS_EXPORT).cases,
            b.seconds_per_check
        );
    }
}

fn cmd_reduce(
    python: Option<&Path>,
    case: &Path,
    out: Option<&Path>,
    jobs: usize,
    budget: usize,
    oracle: &OracleArgs,
) -> Result<i32> {
    let original = Case::load(case)?;
    let backend = oracle.backend()?;
    let pool = oracle.pool(python, jobs)?;
    let torch = pool.env().torch_version.clone();
    let origin = format!("reduced from {}", case.display());
    let save = |c: &Case, r: &CheckResult| -> Result<()> {
        if let Some(path) = out
            && let Some(rec) = Repro::from_check(c, r, None, &torch).to_record(&origin)
        {
            // Each new smallest replaces the file whole: a kill never leaves half.
            rec.save(path)?;
        }
        Ok(())
    };
    let reduced = triage::reduce(
        &pool,
        backend,
        &original,
        None,
        budget,
        pool.jobs(),
        save,
        None,
    )?;
    let workaround = find_workaround(&pool, backend, &reduced.case, &reduced.check);
    let mut repro = Repro::from_check(&reduced.case, &reduced.check, workaround, &torch);
    repro.twin = triage::check_twin(&pool, backend, &reduced.case, &reduced.check);
    if let Some(path) = out {
        repro
            .to_record(&origin)
            .expect("reduced cases keep their finding")
            .save(path)?;
    }
    eprintln!(
        "{}: {} -> {} nodes, {} -> {} inputs; {} oracle calls in {:.1}s; group {}{}",
        case.display(),
        original.nodes.len(),
        reduced.case.nodes.len(),
        original.inputs.len(),
        reduced.case.inputs.len(),
        reduced.tests,
        reduced.seconds,
        repro.signature.as_deref().unwrap_or("-"),
        if repro.workaround.is_some() {
            "; a respelling works around it"
        } else {
            ""
        }
    );
    print!("{}", render(&reduced.case).source);
    Ok(0)
}

fn cmd_repro(
    python: Option<&Path>,
    case: &Path,
    format: ReproFormat,
    oracle: &OracleArgs,
) -> Result<i32> {
    let (repro, pool) = match crate::corpus::load_stored(case)? {
        Stored::Record(rec) => (Repro::from_record(&rec), None),
        Stored::Case(c) => {
            let backend = oracle.backend()?;
            let pool = oracle.pool_forking(python, 1, false)?;
            let r = oracle::check_on(&pool, &c, backend);
            if r.verdict == Verdict::Pass {
                eprintln!(
                    "shapefuzz: {} passes on torch {}; the reproducer will not reproduce anything",
                    case.display(),
                    pool.env().torch_version
                );
            } else if let Some(sig) = r.inherited_signature() {
                eprintln!(
                    "shapefuzz: {}: the finding on {} is the exported program's own ({sig}); --backend export reproduces it where it starts",
                    case.display(),
                    backend.name()
                );
            }
            let workaround = find_workaround(&pool, backend, &c, &r);
            let mut repro = Repro::from_check(&c, &r, workaround, &pool.env().torch_version);
            repro.twin = triage::check_twin(&pool, backend, &c, &r);
            (repro, Some(pool))
        }
    };
    let text = match format {
        ReproFormat::Script => repro.script(),
        ReproFormat::Pytest => repro.pytest(),
        ReproFormat::Issue => {
            // The report shows what the script prints on this machine's torch, and torch's
            // own environment report.
            let pool = match pool {
                Some(p) => p,
                None => oracle.pool(python, 1)?,
            };
            let (_, observed) =
                crate::repro::run_script(&pool.env().python, &repro.script(), oracle.timeout())?;
            let versions = oracle::env_info(&pool);
            repro.issue(Some(&observed), versions.as_deref())
        }
    };
    print!("{text}");
    Ok(0)
}

fn cmd_import_artifact(
    python: Option<&Path>,
    artifact: &Path,
    out: Option<PathBuf>,
    oracle: &OracleArgs,
) -> Result<i32> {
    let backend = oracle.backend()?;
    let data = crate::ir::read_capped(artifact, crate::ir::MAX_FILE_BYTES)
        .with_context(|| format!("{}: cannot read", artifact.display()))?;
    let Some(case) = crate::r#gen::case_from_bytes(&data) else {
        bail!("{}: these bytes decode to no case", artifact.display());
    };
    let out = out.unwrap_or_else(|| {
        let mut p = artifact.to_path_buf().into_os_string();
        p.push(".json");
        PathBuf::from(p)
    });
    crate::corpus::write_atomic(&out, case.to_json().as_bytes())?;
    let pool = oracle.pool_forking(python, 1, false)?;
    let r = oracle::check_on(&pool, &case, backend);
    let workaround = find_workaround(&pool, backend, &case, &r);
    let repro = Repro::from_check(&case, &r, workaround, &pool.env().torch_version);
    let class = r.class().map_or(r.verdict.name(), Class::name);
    eprintln!(
        "{} -> {}: {class}: {}{}",
        artifact.display(),
        out.display(),
        repro.signature.as_deref().unwrap_or(r.verdict.name()),
        if repro.workaround.is_some() {
            " (a respelling works around it)"
        } else {
            ""
        }
    );
    print!("{}", repro.script());
    Ok(if r.class() == Some(Class::Bug) { 1 } else { 0 })
}

fn cmd_merge(
    parts: &[PathBuf],
    out: &Path,
    known: Option<&Path>,
    fail_on: Option<&[Class]>,
    partial: bool,
) -> Result<i32> {
    // The parts' own known-issues file and failing classes, unless given others (parts
    // of one campaign share them); merge itself names what is wrong with a part.
    let meta = parts
        .first()
        .and_then(|first| campaign::CampaignMeta::load(first).ok());
    let known = match (known, &meta) {
        (Some(p), _) => KnownIssues::load(p)?,
        (None, Some(meta)) => meta.known_issues(None)?,
        (None, None) => KnownIssues::none(),
    };
    let fail_on = match &meta {
        Some(meta) => meta.fail_on_or(fail_on),
        None => fail_on.map_or(vec![Class::Bug], <[Class]>::to_vec),
    };
    let summary = campaign::merge(out, parts, &known, &fail_on, partial)?;
    eprintln!(
        "merged {} part(s): {} cases: {}; {} new failing root cause(s), {} known group(s); reports in {}",
        parts.len(),
        summary.cases,
        summary.class_line(),
        summary.new_failing,
        summary.known_findings,
        out.display()
    );
    Ok(summary.exit_code())
}

/// The glossary `explain` prints.
pub fn glossary() -> Vec<(String, String, String)> {
    let mut rows: Vec<(String, String, String)> = vec![];
    for v in Verdict::ALL {
        rows.push(("verdict".into(), v.name().into(), v.meaning().into()));
    }
    for c in Class::ALL {
        let meaning = match c {
            Class::Bug => {
                "torch broke a documented promise: the reproducer is an issue for torch maintainers. New bug groups fail a run (exit 1)."
            }
            Class::Portability => {
                "A size inside the trace region is lost to a specialization the model does not force; usually another spelling keeps it (the workaround). A note for model authors."
            }
            Class::Expected => {
                "What torch documents: the trace region, 0/1 specialization, a branch on data. Counted, collapsed, nobody acts."
            }
        };
        rows.push(("class".into(), c.name().into(), meaning.into()));
    }
    for c in crate::oracle::Contract::ALL {
        rows.push((
            format!("contract ({})", c.class().name()),
            c.name().into(),
            c.meaning().into(),
        ));
    }
    for b in Backend::ALL {
        rows.push(("backend".into(), b.name().into(), b.meaning().into()));
    }
    rows.push((
        "term".into(),
        "backends".into(),
        "What --backend probes. fuzz and check take several, comma-separated or `all`; reduce, repro, import-artifact and replay take one (replay checks a finding record on the backend it was found on, a case file on --backend). The backends after a step (decomposed, saved, aoti, onnx) also run the exported program at every probe and report where they disagree with it. Several backends share one export and one eager run per case. A step is always judged beside the exported program it was given, asked for or not: its finding that is the exported program's own is counted as `same as export` and forms no group, so a backend's groups are what its step changed.".into(),
    ));
    rows.push((
        "term".into(),
        "exit-codes".into(),
        format!("0: nothing of a failing class found. 1: something of a failing class found (--fail-on; by default a new torch bug, a group no known-issues entry matches). 2: the harness could not do its job (a bad input file, no Python, the wrong torch, a shard missing from a merge; probe: the model could not be probed). {}: a usage error (an unknown flag, a bad value, flags that do not go together or do not fit the campaign in --out).", crate::EXIT_USAGE),
    ));
    rows.push((
        "term".into(),
        "signature".into(),
        "A group's key, `backend/class/contract/culprit-op[:spelling]/torch-site`, e.g. `export/portability/avoidable-specialization/append_value:pad/torch/nn/functional.py in pad`: the same promise kept or broken the same way, by the same op and spelling, at the same torch function (no line number). Cases with one signature are one group, reduced and reported once.".into(),
    ));
    rows.push((
        "term".into(),
        "trace-region".into(),
        "The sizes on which the model's own Python takes the same path as at the export sizes. torch.export traces one path, so sizes outside it may be rejected (expected); a size inside it that is rejected is a portability finding or a bug.".into(),
    ));
    rows.push((
        "term".into(),
        "culprit".into(),
        "The node of the case on the line that added the guard that fails at the witness sizes (or raised, or whose Python decision differs at the probe), and its spelling.".into(),
    ));
    rows
}

fn cmd_explain(term: Option<&str>) -> Result<i32> {
    let rows = glossary();
    let wanted = term.map(|t| t.trim().to_lowercase().replace('_', "-"));
    // A term by its name, or a kind (`backend`, `verdicts`) by all of its members.
    let hits: Vec<&(String, String, String)> = rows
        .iter()
        .filter(|(kind, name, _)| {
            wanted.as_deref().is_none_or(|w| {
                let kind = kind.split_whitespace().next().unwrap_or("");
                name.to_lowercase().replace('_', "-") == w
                    || (kind != "term"
                        && [Some(w), w.strip_suffix('s'), w.strip_suffix("es")]
                            .contains(&Some(kind)))
            })
        })
        .collect();
    if hits.is_empty() {
        crate::usage_bail!(
            "{:?} is no verdict, class, contract outcome, backend or term shapefuzz uses; `shapefuzz explain` lists them all",
            term.unwrap_or("")
        );
    }
    for (kind, name, meaning) in hits {
        println!("{name} [{kind}]\n    {meaning}\n");
    }
    Ok(0)
}

fn cmd_report(dir: &Path, known: Option<&Path>, fail_on: Option<&[Class]>) -> Result<i32> {
    let meta = campaign::CampaignMeta::load(dir)?;
    let known = meta.known_issues(known)?;
    let fail_on = meta.fail_on_or(fail_on);
    let fail_on = fail_on.as_slice();
    let _lock = campaign::lock_out_dir(dir)?;
    let facts = campaign::RunFacts::read(dir);
    let summary = campaign::regenerate(dir, &facts, &known, fail_on)?;
    eprintln!(
        "{} cases: {}; reports in {} (report.html to look at)",
        summary.cases,
        summary.class_line(),
        dir.display()
    );
    Ok(summary.exit_code())
}

fn cmd_known(from: &Path, file: Option<&Path>, classes: &[Class]) -> Result<i32> {
    let results = from.join("results.jsonl");
    if !results.is_file() {
        bail!(
            "{}: no results.jsonl; --from takes a campaign directory",
            from.display()
        );
    }
    let lines = crate::corpus::read_results(&results)?.lines;
    let existing = match file {
        Some(f) if f.exists() => KnownIssues::load(f)?,
        _ => KnownIssues::none(),
    };
    let groups = crate::report::group(&lines, &existing);
    // one entry per new root cause (its first signature speaks for it): a known root cause
    // covers every signature that reaches it
    let mut causes = std::collections::HashSet::new();
    let fresh: Vec<&crate::report::SignatureEntry> = groups
        .iter()
        .filter(|e| e.is_new() && e.class.is_some_and(|c| classes.contains(&c)))
        .filter(|e| causes.insert(e.root_cause.clone()))
        .collect();
    let text = crate::report::known_entries(&fresh);
    match file {
        Some(f) => {
            let mut old = if f.exists() {
                crate::ir::read_bounded(f)
                    .map_err(|e| anyhow::anyhow!("{}: cannot read: {e}", f.display()))?
            } else {
                String::new()
            };
            if !old.is_empty() && !old.ends_with('\n') {
                old.push('\n');
            }
            if !old.is_empty() && !text.is_empty() {
                old.push('\n');
            }
            old.push_str(&text);
            crate::corpus::write_atomic(f, old.as_bytes())?;
            // What was written must load: a broken file would stop every later campaign.
            KnownIssues::load(f)?;
            eprintln!(
                "{}: {} new entr{} from {} (fill in each link)",
                f.display(),
                fresh.len(),
                if fresh.len() == 1 { "y" } else { "ies" },
                from.display()
            );
        }
        None => print!("{text}"),
    }
    Ok(0)
}

fn cmd_replay(
    python: Option<&Path>,
    paths: &[PathBuf],
    json: bool,
    known: Option<&Path>,
    oracle: &OracleArgs,
) -> Result<i32> {
    let known = known.map(KnownIssues::load).transpose()?;
    let files = campaign::replay_inputs(paths)?;
    if files.is_empty() {
        bail!(
            "no finding records or cases under {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let for_cases = oracle.backend()?;
    let pool = start_pool_any_torch(python, 1, oracle.timeout())?;
    let torch_now = pool.env().torch_version.clone();
    if !json {
        println!(
            "replaying {} file(s) on torch {} ({})",
            files.len(),
            torch_now,
            pool.env().python.display()
        );
    }
    let mut code = 0;
    let mut unreadable = 0;
    let mut failing_now: Vec<String> = vec![];
    for f in files {
        // One stale or broken file is reported and skipped; the rest are still replayed.
        let o = match campaign::replay_one(&pool, &f, for_cases) {
            Ok(o) => o,
            Err(e) => {
                eprintln!("shapefuzz: error: {e:#}");
                unreadable += 1;
                continue;
            }
        };
        if matches!(o.status, ReplayStatus::StillFailing | ReplayStatus::Changed)
            || (o.status == ReplayStatus::Checked && o.verdict.is_finding())
        {
            code = 1;
        }
        failing_now.extend(o.now.clone());
        if json {
            println!("{}", serde_json::to_string(&o)?);
        } else {
            let status = match o.status {
                ReplayStatus::Fixed => "fixed".to_string(),
                ReplayStatus::StillFailing => "still failing".to_string(),
                ReplayStatus::Changed => format!(
                    "changed: {} -> {}",
                    o.stored.as_deref().unwrap_or("-"),
                    o.now.as_deref().unwrap_or("pass")
                ),
                ReplayStatus::Checked => format!("checked: {}", o.verdict.name()),
            };
            let found_on = match &o.found_on {
                Some(t) if *t != torch_now => format!(" (found on torch {t})"),
                _ => String::new(),
            };
            println!("{}: {status}{found_on}", o.path);
        }
    }
    if let Some(k) = &known {
        for e in k.stale(failing_now.iter().map(String::as_str)) {
            eprintln!(
                "shapefuzz: known-issue entry {:?} ({}) matches no finding that still fails: stale, or fixed upstream",
                e.pattern, e.link
            );
        }
    }
    if unreadable > 0 {
        eprintln!(
            "shapefuzz: {unreadable} file(s) could not be replayed (above); fix or remove them"
        );
        return Ok(2);
    }
    Ok(code)
}

/// A warm worker's resident memory (0.79-0.96 GB measured on torch 2.15 during a campaign,
/// from /proc/<pid>/status): what `--jobs` is bounded by, with the memory available.
const WORKER_RSS_BYTES: u64 = 800 << 20;
/// Below this a case's export alone can time out on a loaded machine.
const MIN_TIMEOUT: Duration = Duration::from_secs(5);

/// The most workers this machine can hold: one per core, and as many as fit in the memory
/// available now (`MemAvailable`), leaving a quarter of it.
fn max_jobs() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let available = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemAvailable:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map(|kb| kb * 1024);
    let by_memory = available.map_or(cores, |b| ((b / 4 * 3) / WORKER_RSS_BYTES).max(1) as usize);
    cores.min(by_memory).max(1)
}

/// Checks `--jobs` and `--timeout` before any worker starts.
fn check_pool_args(jobs: usize, timeout: Duration) -> Result<()> {
    if jobs == 0 {
        crate::usage_bail!("--jobs 0: at least one worker is needed");
    }
    let max = max_jobs();
    if jobs > max {
        crate::usage_bail!(
            "--jobs {jobs}: this machine holds at most {max} worker(s) ({} core(s); a warm worker takes about {} MB of the memory available); use --jobs {max} or fewer",
            std::thread::available_parallelism().map_or(1, |n| n.get()),
            WORKER_RSS_BYTES >> 20
        );
    }
    if timeout < MIN_TIMEOUT {
        crate::usage_bail!(
            "--timeout {:?}: below {}s a slow export would count as a torch hang; use --timeout {}s or more",
            timeout,
            MIN_TIMEOUT.as_secs(),
            MIN_TIMEOUT.as_secs()
        );
    }
    Ok(())
}

/// A pool on the given interpreter whatever its torch (`replay` compares versions).
fn start_pool_any_torch(python: Option<&Path>, jobs: usize, timeout: Duration) -> Result<Pool> {
    check_pool_args(jobs, timeout)?;
    let warm = oracle::warm_request(&[Backend::Export]);
    pool_on(
        PythonEnv::ensure_any_torch(python, true)?,
        jobs,
        timeout,
        true,
        warm,
    )
}

/// A pool on `e`; workers are forked from a zygote that ran `warm` when `fork` (see
/// `OracleArgs::pool_forking`).
fn pool_on(
    e: PythonEnv,
    jobs: usize,
    timeout: Duration,
    fork: bool,
    warm: serde_json::Value,
) -> Result<Pool> {
    let default = PoolConfig::default();
    let cfg = PoolConfig {
        jobs,
        timeout,
        zygote: default.zygote && fork,
        warm: Some(warm),
        ..default
    };
    Pool::new(e, cfg).map_err(|e| anyhow::anyhow!("starting workers: {e}"))
}

/// The text report of one check.
pub fn describe(path: &Path, case: &Case, r: &CheckResult) -> String {
    let mut s = String::new();
    use std::fmt::Write as _;
    let kind = r.kind().map(|k| format!(" ({k})")).unwrap_or_default();
    let class = match (r.class(), r.contract()) {
        (Some(c), Some(k)) => format!(": {} ({})", c.name(), k.name()),
        _ => String::new(),
    };
    let _ = writeln!(
        s,
        "{}: {}{kind} [{}]{class}",
        path.display(),
        r.verdict.name(),
        r.backend.name()
    );
    for d in &r.dims {
        let _ = writeln!(
            s,
            "  {}: requested {}, truth {}, trace region {}, torch kept {}, accepts {}",
            d.label, d.requested, d.truth, d.trace_region, d.kept, d.accepts
        );
    }
    for f in &r.findings {
        let probe = f
            .probe
            .as_ref()
            .map(|p| {
                // A lost dim's sizes are a witness from the guard scan, not a probe.
                let at = if f.verdict == Verdict::LostDim {
                    "e.g. at"
                } else {
                    "at"
                };
                format!(" {at} {}", case.shapes_text(p))
            })
            .unwrap_or_default();
        let first = f.message.lines().next().unwrap_or("");
        let what = match f.verdict {
            Verdict::SpuriousGuard => format!("eager runs, the exported program raises {first}"),
            _ => first.to_string(),
        };
        let class = f
            .contract
            .map(|c| format!(" [{} {}]", c.class().name(), c.name()))
            .unwrap_or_default();
        let _ = writeln!(s, "  {}{class}{probe}: {what}", f.verdict.name());
    }
    if let Some(c) = r.cause() {
        let node = match (c.node, &c.op) {
            (Some(n), Some(_)) => format!("v{n} ({})", c.op_text()),
            _ => "no node of the case".into(),
        };
        let line = c.line.map(|l| format!(" at line {l}")).unwrap_or_default();
        let site = c
            .site
            .as_ref()
            .map(|x| format!(" in {x}"))
            .unwrap_or_default();
        let _ = writeln!(s, "  cause: {node}{line}{site}: {}", c.guard);
    }
    if let Some(fix) = &r.fix {
        let _ = writeln!(s, "  suggested fixes: {}", fix.replace('\n', " | "));
    }
    for e in &r.edge {
        let _ = writeln!(
            s,
            "  0/1 probe {}: {}",
            case.shapes_text(&e.sizes),
            e.outcome()
        );
    }
    if r.swept > 0 {
        let _ = writeln!(
            s,
            "  sweep: {} of {} accepted sizes (export sizes included) match eager",
            r.swept_matching, r.swept
        );
    }
    if let Some(sig) = r.signature() {
        let _ = writeln!(s, "  group: {sig}");
    }
    let _ = writeln!(s, "  time: {}", oracle::describe_timings(&r.timings));
    s
}
