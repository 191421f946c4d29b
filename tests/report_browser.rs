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
    let profile = std::env::temp_dir().join(format!("shapefuzz-chromium-{}", std::process::id()));
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
