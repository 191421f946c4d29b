//! `report.html` of a real small campaign, opened in a real headless Chromium (Debian's
//! package; installed by the test when missing and it may, as CI's root can): the charts
//! render as SVG with their lines, the group filter works, and the page logs no console
//! error. A page that throws is shown to fail the same check. A screenshot is left in
//! `target/report-screenshot.png`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const CHROMIUM: &str = "/usr/bin/chromium";

/// Debian's Chromium, installed with apt when missing (once per test process).
fn chromium() -> &'static str {
    static READY: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    READY.get_or_init(|| {
        if Path::new(CHROMIUM).exists() {
            return;
        }
        let install = || {
            Command::new("apt-get")
                .args(["install", "-y", "--no-install-recommends", "chromium"])
                .env("DEBIAN_FRONTEND", "noninteractive")
                .stdin(Stdio::null())
                .output()
                .is_ok_and(|o| o.status.success())
        };
        let ok = install()
            || (Command::new("apt-get")
                .arg("update")
                .stdin(Stdio::null())
                .output()
                .is_ok_and(|o| o.status.success())
                && install());
        assert!(
            ok && Path::new(CHROMIUM).exists(),
            "this test needs Chromium at {CHROMIUM}: apt-get install chromium (as root)"
        );
    });
    CHROMIUM
}

fn headless(args: &[&str], page: &Path) -> Output {
    // One profile per browser: the tests run side by side, and Chromium refuses a profile
    // another instance holds.
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let profile =
        std::env::temp_dir().join(format!("shapefuzz-chromium-{}-{n}", std::process::id()));
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .output()
        .expect("chromium runs");
    let _ = std::fs::remove_dir_all(profile);
    out
}

/// What the page printed to its console as errors (uncaught exceptions, console.error).
fn console_errors(o: &Output) -> Vec<String> {
    String::from_utf8_lossy(&o.stderr)
        .lines()
        .filter(|l| l.contains("CONSOLE") && (l.contains("Uncaught") || l.contains(":ERROR:")))
        .map(str::to_string)
        .collect()
}

fn campaign() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("shapefuzz-report-html-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let o = Command::new(env!("CARGO_BIN_EXE_shapefuzz"))
        .args(["fuzz", "--seed", "21", "--cases", "60", "--jobs", "2", "-q"])
        .args(["--reduce-budget", "20", "--out"])
        .arg(&dir)
        .stdin(Stdio::null())
        .output()
        .expect("shapefuzz runs");
    assert!(matches!(o.status.code(), Some(0 | 1)), "{o:?}");
    dir
}

#[test]
fn the_report_of_a_campaign_renders_its_charts_in_chromium() {
    let dir = campaign();
    let page = dir.join("report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    for external in ["<script src", "<link", "src=\"http", "url(http"] {
        assert!(
            !html.contains(external),
            "the page loads nothing from elsewhere"
        );
    }
    let o = headless(&["--dump-dom"], &page);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let dom = String::from_utf8_lossy(&o.stdout);
    // The page's own script ran and counted both charts.
    assert!(
        dom.contains("data-charts=\"2\""),
        "{}",
        &dom[..dom.len().min(2000)]
    );
    for id in ["findings-over-time", "cases-per-second"] {
        let at = dom.find(&format!("id=\"{id}\"")).expect(id);
        let figure = &dom[at..at + dom[at..].find("</figure>").unwrap()];
        assert!(figure.contains("<svg"), "{id} has no SVG");
        assert!(
            figure.contains("<polyline") || figure.contains("<path"),
            "{id} draws no line"
        );
    }
    assert!(dom.contains("id=\"coverage\""));
    assert!(dom.contains("class=\"group "), "groups are listed");
    let errors = console_errors(&o);
    assert!(errors.is_empty(), "console errors: {errors:#?}");

    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("../report-screenshot.png");
    let o = headless(
        &[
            "--window-size=1200,2400",
            &format!("--screenshot={}", shot.display()),
        ],
        &page,
    );
    assert!(o.status.success());
    let png = std::fs::read(&shot).expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG") && png.len() > 20_000);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_page_that_throws_fails_the_same_check() {
    let page = std::env::temp_dir().join(format!("shapefuzz-throws-{}.html", std::process::id()));
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><body><script>undefinedFunction();</script></body></html>",
    )
    .unwrap();
    let o = headless(&["--dump-dom"], &page);
    assert!(
        !console_errors(&o).is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    std::fs::remove_file(page).ok();
}

/// A campaign directory of 6,000 cases written by hand, as a long nightly leaves it: every
/// committed finding record filed, its group's cases spread over the run, most cases
/// passing. `shapefuzz report` writes its pages without torch.
fn large_campaign() -> PathBuf {
    use shapefuzz::corpus::{FindingRecord, ResultLine, signature_file_name};
    use shapefuzz::oracle::Verdict;
    let dir = std::env::temp_dir().join(format!("shapefuzz-report-large-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("findings")).unwrap();
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/findings");
    let mut records: Vec<FindingRecord> = std::fs::read_dir(&corpus)
        .unwrap()
        .filter_map(|e| FindingRecord::load(&e.unwrap().path()).ok())
        .filter(|r| r.backend.name() == "export")
        .collect();
    records.sort_by(|a, b| a.signature.cmp(&b.signature));
    assert!(records.len() >= 20, "{}", records.len());
    for r in &records {
        r.save(&dir.join("findings").join(signature_file_name(&r.signature)))
            .unwrap();
    }
    let seed = 77u64;
    let meta = serde_json::json!({
        "seed": seed.to_string(), "backend": "export", "schema_version": 1,
        "generator_version": shapefuzz::r#gen::GENERATOR_VERSION,
    });
    std::fs::write(dir.join("campaign.json"), meta.to_string()).unwrap();
    let mut text = String::new();
    for index in 0..6000u64 {
        let found = (index % 10 >= 6).then(|| &records[(index as usize / 10) % records.len()]);
        let line = ResultLine {
            index,
            case_seed: shapefuzz::campaign::case_seed(seed, index),
            verdict: found.map_or(Verdict::Pass, |r| r.verdict),
            class: found.and_then(|r| r.contract.map(|c| c.class())),
            contract: found.and_then(|r| r.contract),
            kind: found.and_then(|r| r.kind.clone()),
            message: found.map_or(String::new(), |r| r.message.clone()),
            signature: found.map(|r| r.signature.clone()),
            root_cause: None,
            ops: ["pad", "binary.add", "reshape", "cat"][..1 + index as usize % 4]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            backend: None,
            same_as_export: false,
            spec_api: None,
            deferred_asserts: false,
            size: 3 + index as usize % 9,
            cause: None,
            edge: vec![],
            seconds: 0.06,
            at: Some(1_790_000_000.0 + index as f64 * 0.035),
            timings: None,
        };
        text += &serde_json::to_string(&line).unwrap();
        text.push('\n');
    }
    std::fs::write(dir.join("results.jsonl"), text).unwrap();
    let facts = serde_json::json!({"torch": "2.15.0", "elapsed_s": 210.0, "status": "finished"});
    std::fs::write(dir.join("summary.json"), facts.to_string()).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_shapefuzz"))
        .arg("report")
        .arg(&dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "new bugs: {o:?}");
    dir
}

/// What the page shows in a 1280x800 window, measured by the page in Chromium: a copy of it
/// with a script that records where the first new bug's title ends.
fn first_screen(page: &Path) -> (i64, i64, String) {
    let html = std::fs::read_to_string(page).unwrap();
    let probe = "<script>(function(){var a=document.querySelector('#new-bugs .title');\
var r=a?a.getBoundingClientRect():null;var b=document.body.dataset;\
b.firstTitleBottom=r?String(Math.round(r.bottom)):'-1';b.firstTitleRight=r?String(Math.round(r.right)):'-1';\
b.viewport=String(window.innerHeight)+'x'+String(window.innerWidth);\
b.firstTitle=a?a.textContent:'';})();</script></body>";
    let measured = page.with_file_name("report-measured.html");
    std::fs::write(&measured, html.replacen("</body>", probe, 1)).unwrap();
    let o = headless(&["--window-size=1280,800", "--dump-dom"], &measured);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let dom = String::from_utf8_lossy(&o.stdout).into_owned();
    let attr = |name: &str| {
        let at = dom
            .find(&format!("{name}=\""))
            .unwrap_or_else(|| panic!("no {name}"))
            + name.len()
            + 2;
        dom[at..at + dom[at..].find('"').unwrap()].to_string()
    };
    let bottom: i64 = attr("data-first-title-bottom").parse().unwrap();
    let viewport = attr("data-viewport");
    let height: i64 = viewport.split('x').next().unwrap().parse().unwrap();
    (bottom, height, attr("data-first-title"))
}

#[test]
fn a_long_campaign_s_page_shows_its_new_bugs_first_and_stays_small() {
    let dir = large_campaign();
    let page = dir.join("report.html");
    let size = std::fs::metadata(&page).unwrap().len();
    assert!(
        size < 1_500_000,
        "report.html of 6,000 cases is {size} bytes"
    );
    let html = std::fs::read_to_string(&page).unwrap();
    // An index with anchors to every bug and portability group; nothing expanded.
    let index = &html[html.find("id=\"index\"").expect("an index")..];
    let groups = html.matches("class=\"group bug").count()
        + html.matches("class=\"group portability").count();
    assert!(groups > 0);
    for id in html.split("<div class=\"group ").skip(1).filter_map(|g| {
        let g = g.split('>').next().unwrap();
        g.split("id=\"")
            .nth(1)
            .map(|r| r.split('"').next().unwrap().to_string())
    }) {
        assert!(
            index.contains(&format!("href=\"#{id}\"")),
            "the index lacks #{id}"
        );
    }
    assert!(!html.contains("<details open"), "something is expanded");
    let notes: Vec<&str> = html
        .split("<div class=\"group portability")
        .skip(1)
        .map(|g| g.split("<div class=\"group ").next().unwrap())
        .collect();
    assert!(!notes.is_empty());
    for g in notes {
        assert!(
            !g.contains("Bug report") && g.contains("note for model authors"),
            "portability findings are notes for model authors, not bug reports: {g}"
        );
    }
    // The first new bug's title is on the first screen of a 1280x800 window.
    let (bottom, height, title) = first_screen(&page);
    // A 1280x800 window leaves the page about 660 px of height below the browser's bars.
    assert!(height >= 600, "viewport {height}");
    assert!(!title.is_empty(), "no new bug title on the page");
    assert!(
        (1..=height).contains(&bottom),
        "the first new bug's title ({title:?}) ends at {bottom}px, below the {height}px window"
    );
    // A screenshot of that first screen, for people.
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("../report-first-screen.png");
    let o = headless(
        &[
            "--window-size=1280,800",
            &format!("--screenshot={}", shot.display()),
        ],
        &page,
    );
    assert!(o.status.success());

    // summary.md: bugs before the run's tables, long parts folded, within the job-summary
    // limit, and every fence closed.
    let md = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(md.len() <= 1_000_000, "{}", md.len());
    let first_bug = md.find("## Bugs").expect("a bugs section");
    let verdicts = md.find("| verdict | cases |").expect("the verdict table");
    assert!(first_bug < verdicts, "the bugs come after the run's tables");
    assert!(
        md.contains("<details><summary>Reproducer"),
        "reproducers are not folded"
    );
    let fences = md
        .lines()
        .filter(|l| l.trim_start().starts_with("```"))
        .count();
    assert_eq!(fences % 2, 0, "an open fence");
    std::fs::remove_dir_all(dir).ok();
}
