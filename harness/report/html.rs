//! `report.html`: one self-contained page per campaign, for a person to look at.
//!
//! It holds, without any network at view time: first, on the first screen, the new bug
//! root causes, each a title, one line and a link to its section; an index of every group;
//! the run's facts and class counts; a findings-over-time chart (distinct groups per class,
//! cumulative) and a cases/s chart, from the timestamps of `results.jsonl`; every group by
//! class, bugs first, with its reproducer or workaround diff folded, and for a group with
//! per-dim data a strip of the sizes eager takes the same path on against the sizes the
//! exported program accepts; a coverage table of op kinds (cases, findings by class); and
//! the known-issue entries that matched nothing. Charts are SVG drawn by `plotters` at
//! report time. Every foreign string is escaped for HTML; the page's one small script only
//! filters groups by class and counts the charts.

use super::{GroupDetail, SignatureEntry, Summary};
use crate::corpus::ResultLine;
use crate::escape::xml as esc;
use crate::ir::SCAN_MAX;
use crate::oracle::{Class, DimReport};
use plotters::prelude::*;
use std::collections::{BTreeMap, HashSet};
use std::fmt::Write;

const CLASS_COLORS: [(Class, RGBColor); 3] = [
    (Class::Bug, RGBColor(200, 40, 40)),
    (Class::Portability, RGBColor(220, 140, 20)),
    (Class::Expected, RGBColor(110, 110, 110)),
];

/// The page.
pub fn render(
    summary: &Summary,
    lines: &[ResultLine],
    details: &BTreeMap<String, GroupDetail>,
) -> String {
    let mut s = String::with_capacity(64 << 10);
    let title = format!("shapefuzz campaign, seed {}", summary.seed);
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body>\n",
        esc(&title)
    );
    let _ = writeln!(s, "<h1>{}</h1>", esc(&title));
    headline(&mut s, summary);
    new_bugs(&mut s, summary);
    index(&mut s, summary);
    facts(&mut s, summary);
    let timeline = Timeline::of(lines);
    let _ = writeln!(s, "<h2>Over time</h2><div class=\"charts\">");
    let _ = writeln!(
        s,
        "<figure class=\"chart\" id=\"findings-over-time\">{}<figcaption>Distinct groups per class as the campaign ran: a curve that flattens is a campaign that saturates.</figcaption></figure>",
        findings_chart(&timeline)
    );
    let _ = writeln!(
        s,
        "<figure class=\"chart\" id=\"cases-per-second\">{}<figcaption>Cases checked per second.</figcaption></figure>",
        rate_chart(&timeline)
    );
    let _ = writeln!(s, "</div>");
    groups(&mut s, summary, details);
    coverage(&mut s, lines);
    stale_known(&mut s, summary);
    let _ = write!(s, "<script>{SCRIPT}</script>\n</body></html>\n");
    s
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;color:#222}\
h1{font-size:1.5em}h2{margin-top:1.6em;border-bottom:1px solid #ddd}\
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:.2em .6em;text-align:left}\
td.n{text-align:right}.charts{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0}\
figcaption{font-size:.85em;color:#555;max-width:640px}\
.group{border-left:4px solid #aaa;padding:.3em .8em;margin:.8em 0;background:#fafafa}\
.group.bug{border-color:#c82828}.group.portability{border-color:#dc8c14}\
code,pre{font-family:ui-monospace,monospace;font-size:.85em}pre{background:#f3f3f3;padding:.6em;overflow-x:auto}\
.sig{font-weight:600;word-break:break-all}.meta{color:#555;font-size:.9em}.filters label{margin-right:1em}\
.status{padding:.4em .8em;background:#fff3cd;border:1px solid #e0c060}\
#new-bugs ol{padding-left:1.4em}#new-bugs li{margin:.35em 0}#new-bugs .title{font-weight:600}\
#new-bugs .line{color:#444;font-size:.9em;display:block}\
#index ul{columns:2;font-size:.85em;padding-left:1.2em}#index li{break-inside:avoid;word-break:break-all}\
.dimlabel{font-size:.85em;margin:.3em 0 0}";

const SCRIPT: &str = "document.querySelectorAll('.filters input').forEach(function(box){\
box.addEventListener('change',function(){\
document.querySelectorAll('.group.'+box.value).forEach(function(g){g.hidden=!box.checked;});});});\
document.body.dataset.charts=String(document.querySelectorAll('figure.chart svg').length);";

/// The run in a line, and what must be read before anything else (its status, notes such
/// as missing shards).
fn headline(s: &mut String, summary: &Summary) {
    let status = match summary.status {
        super::RunStatus::Running => {
            "In progress: written while cases still ran; findings are as seen, not yet reduced."
        }
        super::RunStatus::Stopped => "Stopped before its limit by a signal; --resume continues it.",
        super::RunStatus::Finished => "",
    };
    if !status.is_empty() {
        let _ = writeln!(s, "<p class=\"status\">{}</p>", esc(status));
    }
    let shard = summary
        .shard
        .as_ref()
        .map(|k| format!(" (shard {k})"))
        .unwrap_or_default();
    let _ = writeln!(
        s,
        "<p class=\"meta\">seed {}{} · torch {} · backend {} · shapefuzz {} (generator {}) · {} · validity {:.1}%</p>",
        summary.seed,
        esc(&shard),
        esc(&summary.torch),
        esc(&summary.backend),
        esc(&summary.shapefuzz),
        summary.generator_version,
        esc(&summary.pace()),
        summary.validity_rate * 100.0
    );
    let _ = writeln!(
        s,
        "<p><strong>{} new root cause(s) of a failing class; {} known group(s).</strong></p>",
        summary.new_failing, summary.known_findings
    );
    for n in &summary.notes {
        let _ = writeln!(s, "<p class=\"status\">{}</p>", esc(n));
    }
}

/// The group's anchor on the page.
fn anchor(i: usize) -> String {
    format!("g-{i}")
}

/// A group's title: its contract outcome, culprit and torch site, from its signature
/// (`backend/class/contract/culprit/site`).
fn title(e: &SignatureEntry) -> String {
    let mut parts = e.signature.splitn(5, '/');
    let backend = parts.next().unwrap_or("");
    let _class = parts.next();
    match (parts.next(), parts.next(), parts.next()) {
        (Some(contract), Some(culprit), Some(site)) => {
            let on = if backend == "export" {
                String::new()
            } else {
                format!(" [{backend}]")
            };
            let culprit = if culprit == "-" {
                String::new()
            } else {
                format!(": {culprit}")
            };
            let site = if site == "-" {
                String::new()
            } else {
                format!(" in {site}")
            };
            format!("{contract}{culprit}{site}{on}")
        }
        _ => e.signature.clone(),
    }
}

/// The first line of a message, cut to a line's length.
fn one_line(message: &str) -> String {
    let line = message.lines().next().unwrap_or("");
    if line.chars().count() > 200 {
        format!("{}…", line.chars().take(200).collect::<String>())
    } else {
        line.to_string()
    }
}

/// The new bug root causes: what a maintainer opens the page for, so it comes first. One
/// entry per root cause (its worst signature), linking to the group.
fn new_bugs(s: &mut String, summary: &Summary) {
    let mut seen = HashSet::new();
    let firsts: Vec<(usize, &SignatureEntry)> = summary
        .signatures
        .iter()
        .enumerate()
        .filter(|(_, e)| e.class == Some(Class::Bug) && e.is_new())
        .filter(|(_, e)| seen.insert(e.root_cause.as_str()))
        .collect();
    let _ = writeln!(
        s,
        "<section id=\"new-bugs\"><h2>New bugs: {} root cause(s)</h2>",
        firsts.len()
    );
    if firsts.is_empty() {
        let _ = writeln!(s, "<p>No new bug root cause in this campaign.</p>");
    } else {
        let _ = writeln!(s, "<ol>");
        for (i, e) in &firsts {
            let more = summary
                .signatures
                .iter()
                .filter(|o| o.root_cause == e.root_cause && o.signature != e.signature)
                .count();
            let more = if more > 0 {
                format!(", {more} more signature(s) of this root cause")
            } else {
                String::new()
            };
            let _ = writeln!(
                s,
                "<li><a class=\"title\" href=\"#{}\">{}</a><span class=\"line\">{}</span><span class=\"meta\">{} case(s){more}</span></li>",
                anchor(*i),
                esc(&title(e)),
                esc(&one_line(&e.message)),
                e.count
            );
        }
        let _ = writeln!(s, "</ol>");
    }
    let count = |class: Class, new: bool| {
        summary
            .signatures
            .iter()
            .filter(|e| e.class == Some(class) && e.is_new() == new)
            .count()
    };
    let _ = writeln!(
        s,
        "<p class=\"meta\">Also: {} known bug group(s) · <a href=\"#portability\">{} note(s) for model authors</a> (portability) · <a href=\"#expected\">{} expected group(s)</a> · <a href=\"#run\">the run</a></p></section>",
        count(Class::Bug, false),
        count(Class::Portability, true) + count(Class::Portability, false),
        count(Class::Expected, true) + count(Class::Expected, false),
    );
}

/// Every group, by section, linked.
fn index(s: &mut String, summary: &Summary) {
    let _ = writeln!(s, "<nav id=\"index\"><h2>Index</h2>");
    for (class, heading) in SECTIONS {
        let members: Vec<(usize, &SignatureEntry)> = summary
            .signatures
            .iter()
            .enumerate()
            .filter(|(_, e)| e.class == class)
            .collect();
        if members.is_empty() {
            continue;
        }
        let _ = writeln!(
            s,
            "<details><summary>{heading} ({})</summary><ul>",
            members.len()
        );
        for (i, e) in members {
            let known = if e.is_new() { "" } else { " (known)" };
            let _ = writeln!(
                s,
                "<li><a href=\"#{}\">{}</a>{known}</li>",
                anchor(i),
                esc(&title(e))
            );
        }
        let _ = writeln!(s, "</ul></details>");
    }
    let _ = writeln!(s, "</nav>");
}

/// The page's sections of groups, in order, with their headings.
const SECTIONS: [(Option<Class>, &str); 4] = [
    (Some(Class::Bug), "Bugs"),
    (
        Some(Class::Portability),
        "Notes for model authors (portability)",
    ),
    (Some(Class::Expected), "Expected"),
    (None, "Not judged"),
];

fn section_id(class: Option<Class>) -> &'static str {
    class.map_or("unjudged", Class::name)
}

/// The run's tables: counts per class and per backend.
fn facts(s: &mut String, summary: &Summary) {
    let _ = writeln!(s, "<h2 id=\"run\">The run</h2>");
    let counted = if summary.by_backend.is_empty() {
        "cases"
    } else {
        "checks"
    };
    let _ = writeln!(
        s,
        "<table><tr><th>class</th><th>{counted}</th><th>groups</th><th>new groups</th></tr>"
    );
    for (name, cc, grouped) in summary.class_rows() {
        let name = crate::report::row_name(name);
        let (groups, new) = if grouped {
            (cc.groups.to_string(), cc.new_groups.to_string())
        } else {
            (String::new(), String::new())
        };
        let _ = writeln!(
            s,
            "<tr><td>{name}</td><td class=\"n\">{}</td><td class=\"n\">{groups}</td><td class=\"n\">{new}</td></tr>",
            cc.cases
        );
    }
    let _ = writeln!(s, "</table>");
    if !summary.by_backend.is_empty() {
        let cols = crate::report::BackendCount::COLUMNS;
        let _ = write!(s, "<table><tr><th>backend</th><th>checks</th>");
        for c in cols {
            let _ = write!(s, "<th>{}</th>", crate::report::row_name(c));
        }
        let _ = writeln!(s, "<th>s/check</th></tr>");
        for b in &summary.by_backend {
            let _ = write!(
                s,
                "<tr><td>{}</td><td class=\"n\">{}</td>",
                esc(&b.backend),
                b.checks
            );
            for c in cols {
                let _ = write!(s, "<td class=\"n\">{}</td>", b.cell(c));
            }
            let _ = writeln!(s, "<td class=\"n\">{:.2}</td></tr>", b.seconds_per_check);
        }
        let _ = writeln!(
            s,
            "</table><p>Per backend: checks (groups); a backend's finding that is the exported program's own is counted as same as export and forms no group.</p>"
        );
    }
    if !summary.by_spec_api.is_empty() {
        let cols = crate::report::BackendCount::COLUMNS;
        let _ = write!(s, "<table><tr><th>spec API</th><th>checks</th>");
        for c in cols {
            let _ = write!(s, "<th>{}</th>", crate::report::row_name(c));
        }
        let _ = writeln!(s, "<th>other</th><th>s/check</th></tr>");
        for a in &summary.by_spec_api {
            let _ = write!(
                s,
                "<tr><td>{}</td><td class=\"n\">{}</td>",
                esc(&a.api),
                a.checks
            );
            for c in cols {
                let _ = write!(s, "<td class=\"n\">{}</td>", esc(&a.cell(c)));
            }
            let _ = writeln!(
                s,
                "<td class=\"n\">{}</td><td class=\"n\">{:.2}</td></tr>",
                a.other(),
                a.seconds_per_check
            );
        }
        let _ = writeln!(
            s,
            "</table><p>Per spec API (dim: torch.export.Dim, shapes: ShapesSpec, additional: AdditionalInputs, collection: ShapesCollection): checks (groups, root causes).</p>"
        );
    }
    if !summary.twins.is_empty() {
        let outcomes = crate::report::TwinCount::OUTCOMES;
        let _ = write!(
            s,
            "<table><tr><th>groups in</th><th>twin in</th><th>groups</th>"
        );
        for o in outcomes {
            let _ = write!(s, "<th>{}</th>", esc(o));
        }
        let _ = writeln!(s, "</tr>");
        for t in &summary.twins {
            let other = if t.api == "dim" { "shapes" } else { "dim" };
            let _ = write!(
                s,
                "<tr><td>{}</td><td>{other}</td><td class=\"n\">{}</td>",
                esc(&t.api),
                t.groups
            );
            for o in outcomes {
                let _ = write!(
                    s,
                    "<td class=\"n\">{}</td>",
                    t.outcomes.get(o).copied().unwrap_or(0)
                );
            }
            let _ = writeln!(s, "</tr>");
        }
        let _ = writeln!(
            s,
            "</table><p>The same models under the other spec API: each bug and portability group's record checked once more with its spec in the other API, by what that twin shows (clean: the group is its API's own; same-culprit: the same line is to blame under either API).</p>"
        );
    }
}

/// Known-issue entries that matched nothing: housekeeping for the file's owner, last.
fn stale_known(s: &mut String, summary: &Summary) {
    if !summary.stale_known.is_empty() {
        let _ = writeln!(
            s,
            "<h2 id=\"stale\">Known-issue entries that matched nothing</h2><p>Fixed upstream, or worth a look.</p><ul>"
        );
        for k in &summary.stale_known {
            let _ = writeln!(
                s,
                "<li><code>{}</code> {}</li>",
                esc(&k.pattern),
                esc(&k.link)
            );
        }
        let _ = writeln!(s, "</ul>");
    }
}

/// The lines in the order they finished, at minutes since the campaign started (`stamped`);
/// when some line has no timestamp (older results) they are spread evenly by index instead.
struct Timeline<'a> {
    points: Vec<(f64, &'a ResultLine)>,
    stamped: bool,
}

impl<'a> Timeline<'a> {
    fn of(lines: &'a [ResultLine]) -> Timeline<'a> {
        let stamped = !lines.is_empty() && lines.iter().all(|l| l.at.is_some());
        let points = if stamped {
            let mut v: Vec<(f64, &ResultLine)> =
                lines.iter().map(|l| (l.at.unwrap_or(0.0), l)).collect();
            v.sort_by(|a, b| a.0.total_cmp(&b.0));
            let t0 = v[0].0 - v[0].1.seconds;
            v.into_iter().map(|(t, l)| ((t - t0) / 60.0, l)).collect()
        } else {
            let n = lines.len().max(1) as f64;
            lines
                .iter()
                .enumerate()
                .map(|(i, l)| ((i + 1) as f64 / n, l))
                .collect()
        };
        Timeline { points, stamped }
    }

    fn end(&self) -> f64 {
        self.points.last().map_or(0.0, |p| p.0)
    }
}

fn findings_chart(tl: &Timeline) -> String {
    let mut seen: HashSet<&str> = HashSet::new();
    let mut series: Vec<(Class, RGBColor, Points)> = CLASS_COLORS
        .iter()
        .map(|(c, col)| (*c, *col, vec![(0.0, 0.0)]))
        .collect();
    for (t, l) in &tl.points {
        let (Some(sig), Some(class)) = (&l.signature, l.class) else {
            continue;
        };
        if seen.insert(sig)
            && let Some((_, _, pts)) = series.iter_mut().find(|s| s.0 == class)
        {
            let last = pts.last().map_or(0.0, |p| p.1);
            pts.push((*t, last + 1.0));
        }
    }
    let end = tl.end().max(1e-3);
    for (_, _, pts) in &mut series {
        let last = pts.last().map_or(0.0, |p| p.1);
        pts.push((end, last));
    }
    let x_label = if tl.stamped {
        "minutes"
    } else {
        "share of cases"
    };
    line_chart(
        "Groups found",
        x_label,
        "groups",
        &series
            .into_iter()
            .map(|(c, col, pts)| (c.name(), col, pts))
            .collect::<Vec<_>>(),
    )
}

fn rate_chart(tl: &Timeline) -> String {
    let mut pts = vec![];
    if tl.stamped {
        let end = tl.end() * 60.0;
        // About 40 buckets, none shorter than a second.
        let bucket = (end / 40.0).max(1.0);
        let n = (end / bucket).ceil().max(1.0) as usize;
        let mut counts = vec![0u64; n];
        for (t, _) in &tl.points {
            let i = ((t * 60.0 / bucket) as usize).min(n - 1);
            counts[i] += 1;
        }
        for (i, c) in counts.iter().enumerate() {
            pts.push(((i as f64 + 0.5) * bucket / 60.0, *c as f64 / bucket));
        }
    }
    line_chart(
        "Cases per second",
        "minutes",
        "cases/s",
        &[("cases/s", RGBColor(40, 90, 180), pts)],
    )
}

type Points = Vec<(f64, f64)>;
type Series = (&'static str, RGBColor, Points);

/// An SVG line chart (plotters' SVG backend; no fonts needed, text stays text).
fn line_chart(title: &str, x_label: &str, y_label: &str, series: &[Series]) -> String {
    let mut svg = String::new();
    // Axes stay finite and bounded whatever the points hold: plotters' tick search never
    // ends on an infinite range.
    let clamp = |x: f64| {
        if x.is_finite() {
            x.clamp(0.0, 1e12)
        } else {
            0.0
        }
    };
    let xmax = series
        .iter()
        .flat_map(|s| s.2.iter().map(|p| clamp(p.0)))
        .fold(0.0f64, f64::max)
        .max(1e-3);
    let ymax = series
        .iter()
        .flat_map(|s| s.2.iter().map(|p| clamp(p.1)))
        .fold(0.0f64, f64::max)
        .max(1.0)
        * 1.1;
    let drawn = (|| -> Result<(), Box<dyn std::error::Error>> {
        let root = SVGBackend::with_string(&mut svg, (640, 300)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(48)
            .build_cartesian_2d(0f64..xmax, 0f64..ymax)?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            .light_line_style(RGBColor(235, 235, 235))
            .draw()?;
        for (name, color, pts) in series {
            let color = *color;
            chart
                .draw_series(LineSeries::new(pts.iter().copied(), color.stroke_width(2)))?
                .label(*name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(RGBColor(200, 200, 200))
            .position(SeriesLabelPosition::UpperLeft)
            .draw()?;
        root.present()?;
        Ok(())
    })();
    match drawn {
        Ok(()) => svg,
        Err(e) => format!("<p>chart not drawn: {}</p>", esc(&e.to_string())),
    }
}

fn groups(s: &mut String, summary: &Summary, details: &BTreeMap<String, GroupDetail>) {
    let _ = writeln!(
        s,
        "<h2>Groups</h2><p class=\"filters\">Show: \
         <label><input type=\"checkbox\" value=\"bug\" checked> bug</label>\
         <label><input type=\"checkbox\" value=\"portability\" checked> portability</label>\
         <label><input type=\"checkbox\" value=\"expected\" checked> expected</label>\
         <label><input type=\"checkbox\" value=\"unjudged\" checked> not judged</label></p>"
    );
    let mut section: Option<Option<Class>> = None;
    for (i, e) in summary.signatures.iter().enumerate() {
        if section != Some(e.class) {
            section = Some(e.class);
            let heading = SECTIONS
                .iter()
                .find(|(c, _)| *c == e.class)
                .map_or("Groups", |(_, h)| h);
            let _ = writeln!(s, "<h2 id=\"{}\">{heading}</h2>", section_id(e.class));
        }
        let class = e.class.map_or("unjudged", Class::name);
        let label = match e.class {
            Some(Class::Portability) => "note for model authors",
            _ => class,
        };
        let _ = writeln!(s, "<div class=\"group {class}\" id=\"{}\">", anchor(i));
        let _ = writeln!(s, "<h3>{}</h3>", esc(&title(e)));
        let _ = writeln!(
            s,
            "<div class=\"sig\">{label}: <code>{}</code></div>",
            esc(&e.signature)
        );
        if e.root_cause != e.signature {
            let _ = writeln!(
                s,
                "<p class=\"meta\">Root cause: <code>{}</code>{}</p>",
                esc(&e.root_cause),
                if e.known_by_root_cause {
                    " (a new signature of a known root cause)"
                } else {
                    ""
                }
            );
        }
        group_meta(s, e);
        if let Some(d) = details.get(&e.signature) {
            if let Some(c) = &d.culprit {
                let _ = writeln!(s, "<p>Culprit: <code>{}</code></p>", esc(c));
            }
            if !d.dims.is_empty() && d.dims.iter().any(|x| parse_runs(&x.accepts).is_some()) {
                let _ = writeln!(
                    s,
                    "<figure class=\"dims\">{}<figcaption>Per dim, sizes 0..{SCAN_MAX}: green where eager takes the export path and the exported program accepts, red where it takes it and the program rejects, grey outside the trace region.</figcaption></figure>",
                    dims_chart(&d.dims)
                );
            }
            if let Some((_, twin)) = &d.twin {
                let _ = writeln!(s, "<p>{}</p>", esc(twin));
            }
            match &d.workaround_diff {
                Some(diff) => {
                    let _ = writeln!(
                        s,
                        "<details><summary>Workaround ({} lines)</summary><pre>{}</pre></details>",
                        diff.lines().count(),
                        esc(diff)
                    );
                }
                None if e.class == Some(Class::Portability) => {
                    let _ = writeln!(
                        s,
                        "<p>No working respelling is recorded (none found, or none tried when the run was cut short).</p>"
                    );
                }
                None => {}
            }
            let _ = writeln!(
                s,
                "<details><summary>Reproducer ({} lines)</summary><pre>{}</pre></details>",
                d.script.lines().count(),
                esc(&d.script)
            );
        }
        if let Some(r) = &e.repro {
            let what = match e.class {
                Some(Class::Portability) => "Note for model authors",
                _ => "Bug report",
            };
            let _ = writeln!(s, "<p class=\"meta\">{what}: <code>{}</code></p>", esc(r));
        }
        let _ = writeln!(s, "</div>");
    }
}

fn group_meta(s: &mut String, e: &SignatureEntry) {
    let _ = writeln!(
        s,
        "<p class=\"meta\">{} case(s) ({}); smallest: index {}, case seed {}, size {}</p>",
        e.count,
        esc(&e.verdicts_text()),
        e.smallest.index,
        e.smallest.case_seed,
        e.smallest.size
    );
    if let Some(k) = &e.known {
        let _ = writeln!(s, "<p>Known: {} {}</p>", esc(&k.link), esc(&k.note));
    }
    let _ = writeln!(
        s,
        "<blockquote>{}</blockquote>",
        esc(e.message.lines().next().unwrap_or(""))
    );
}

/// Runs as reports write them (`2..`, `3..=7`, `5`, `none`); `None` for `-` (unknown).
pub fn parse_runs(text: &str) -> Option<Vec<[i64; 2]>> {
    let text = text.trim();
    if text == "none" {
        return Some(vec![]);
    }
    let mut out = vec![];
    for part in text.split(',') {
        let part = part.trim();
        let run = if let Some((a, b)) = part.split_once("..=") {
            [a.parse().ok()?, b.parse().ok()?]
        } else if let Some(a) = part.strip_suffix("..") {
            [a.parse().ok()?, SCAN_MAX]
        } else {
            let n = part.parse().ok()?;
            [n, n]
        };
        out.push(run);
    }
    Some(out)
}

fn in_runs(n: i64, runs: &[[i64; 2]]) -> bool {
    runs.iter().any(|r| r[0] <= n && n <= r[1])
}

/// A strip per dim over sizes 0..=SCAN_MAX, each its own small chart named by the dim.
fn dims_chart(dims: &[DimReport]) -> String {
    let mut out = String::new();
    for d in dims {
        let (Some(region), Some(accepts)) = (parse_runs(&d.trace_region), parse_runs(&d.accepts))
        else {
            continue;
        };
        // The label is HTML, which wraps; inside the SVG a long one was cut off.
        let _ = writeln!(
            out,
            "<p class=\"dimlabel\">{}: asked {}, kept {}, accepts {}</p>",
            esc(&d.label),
            esc(&d.requested),
            esc(&d.kept),
            esc(&d.accepts)
        );
        let mut svg = String::new();
        let drawn = (|| -> Result<(), Box<dyn std::error::Error>> {
            let root = SVGBackend::with_string(&mut svg, (640, 56)).into_drawing_area();
            root.fill(&WHITE)?;
            let mut chart = ChartBuilder::on(&root)
                .margin(6)
                .x_label_area_size(22)
                .build_cartesian_2d(0f64..(SCAN_MAX + 1) as f64, 0f64..1f64)?;
            chart
                .configure_mesh()
                .disable_mesh()
                .disable_y_axis()
                .x_labels(14)
                .x_label_style(("sans-serif", 11))
                .x_label_formatter(&|x| format!("{x:.0}"))
                .draw()?;
            let color = |n: i64| match (in_runs(n, &region), in_runs(n, &accepts)) {
                (true, true) => RGBColor(60, 160, 80),
                (true, false) => RGBColor(200, 40, 40),
                (false, _) => RGBColor(210, 210, 210),
            };
            // One bar per run of sizes of one colour: a rectangle per size made these strips
            // most of a long campaign's page.
            let mut bars: Vec<(i64, i64, RGBColor)> = vec![];
            for n in 0..=SCAN_MAX {
                match bars.last_mut() {
                    Some((_, end, c)) if *c == color(n) => *end = n,
                    _ => bars.push((n, n, color(n))),
                }
            }
            chart.draw_series(bars.into_iter().map(|(from, to, c)| {
                Rectangle::new(
                    [(from as f64 + 0.06, 0.0), (to as f64 + 0.94, 1.0)],
                    c.filled(),
                )
            }))?;
            root.present()?;
            Ok(())
        })();
        match drawn {
            Ok(()) => out.push_str(&svg),
            Err(e) => {
                let _ = write!(out, "<p>diagram not drawn: {}</p>", esc(&e.to_string()));
            }
        }
    }
    out
}

fn coverage(s: &mut String, lines: &[ResultLine]) {
    #[derive(Default)]
    struct Row {
        cases: u64,
        by_class: [u64; 3],
    }
    let mut rows: BTreeMap<&str, Row> = BTreeMap::new();
    for l in lines {
        let ops: HashSet<&str> = l.ops.iter().map(String::as_str).collect();
        for op in ops {
            let r = rows.entry(op).or_default();
            r.cases += 1;
            if let Some(c) = l.class {
                r.by_class[c as usize] += 1;
            }
        }
    }
    let mut rows: Vec<(&str, Row)> = rows.into_iter().collect();
    rows.sort_by(|a, b| b.1.cases.cmp(&a.1.cases).then(a.0.cmp(b.0)));
    let _ = writeln!(
        s,
        "<h2>Coverage</h2><p>Op kinds and channels the cases exercised, and the findings among those cases.</p>\
         <table id=\"coverage\"><tr><th>op</th><th>cases</th><th>bug</th><th>portability</th><th>expected</th></tr>"
    );
    for (op, r) in rows {
        let _ = writeln!(
            s,
            "<tr><td><code>{}</code></td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(op),
            r.cases,
            r.by_class[Class::Bug as usize],
            r.by_class[Class::Portability as usize],
            r.by_class[Class::Expected as usize]
        );
    }
    let _ = writeln!(s, "</table>");
}
