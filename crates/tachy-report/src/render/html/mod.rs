//! The self-contained HTML report of `tachy report` and `tachy check --report`: one file with
//! inline CSS, inline SVG charts and a small inline script (interactive flamegraphs), no
//! network access of any kind.
//!
//! Layout: a header (title, generation time, tachy version, table of contents), then one
//! section per result ([`AnyResult`]); a check report also embeds the section of every budget's
//! `result_file` it can read. Static charts are SVG drawn here; flamegraphs are drawn by the
//! page's script from JSON data embedded in `<script type="application/json">`.
//!
//! Every string that comes from user data goes through [`escape`] (text and attributes) or
//! [`json_for_script`] (data read by the script with `JSON.parse`, never inserted as markup).
//! The script counts its own failures into `document.body.dataset.errors` and, when done,
//! writes the number of charts drawn to `document.body.dataset.rendered`, so a headless
//! browser's `--dump-dom` shows whether the page worked.

mod bench;
mod charts;
mod check;
mod flame;
mod lint;
mod load;
mod mem;
mod profile;
mod watch;

use std::fmt::Write;
use std::path::Path;

use serde::Serialize;

use crate::results::{AnyResult, ResultError};

/// The page's style sheet.
const CSS: &str = include_str!("page.css");
/// The page's script: flamegraphs, error counting, the `data-rendered` mark.
const JS: &str = include_str!("page.js");
/// Registered first, so that errors of any later script are counted.
const ERROR_COUNTER: &str = "window.addEventListener('error',function(){var b=document.body;\
b.dataset.errors=String((Number(b.dataset.errors)||0)+1);});\
window.addEventListener('unhandledrejection',function(){var b=document.body;\
b.dataset.errors=String((Number(b.dataset.errors)||0)+1);});";
/// No network: nothing may be fetched, only inline styles and scripts run.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:";

/// Reads the result file a check budget points to.
pub type Loader<'a> = &'a dyn Fn(&Path) -> Result<AnyResult, ResultError>;

/// A rendered page and what the caller should tell the user about it.
#[derive(Debug, Clone)]
pub struct Page {
    /// The HTML document.
    pub html: String,
    /// Result files of check budgets that were not embedded and why (the page lists them too).
    pub warnings: Vec<String>,
}

/// Renders `results` (each with the name of the file it came from) as one HTML page titled
/// `title`. Check reports embed the results their budgets point to (`result_file`, relative
/// to the folder of the check report's file name, or absolute) when they can be read and lie
/// inside that folder (see [`page`]).
pub fn render(title: &str, results: &[(String, AnyResult)]) -> String {
    page(title, results, &[]).html
}

/// [`render`], returning the warnings too. A check report's result files are read only from
/// the folder of the check report's file (and its subfolders, after `..` and symbolic links),
/// or from one of the `trusted` folders (`tachy check --report` trusts the results folder of
/// its own run): a check report can come from anywhere, and must not make the page embed
/// files from elsewhere on the disk.
pub fn page(title: &str, results: &[(String, AnyResult)], trusted: &[std::path::PathBuf]) -> Page {
    let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    page_with(title, results, &now, &|p: &Path| crate::results::load(p), trusted)
}

/// [`render`] with a fixed generation time and a loader for the files check budgets point to.
pub fn render_with(title: &str, results: &[(String, AnyResult)], generated_at: &str, loader: Loader<'_>) -> String {
    page_with(title, results, generated_at, loader, &[]).html
}

/// [`page`] with a fixed generation time and a loader for the files check budgets point to.
pub fn page_with(
    title: &str,
    results: &[(String, AnyResult)],
    generated_at: &str,
    loader: Loader<'_>,
    trusted: &[std::path::PathBuf],
) -> Page {
    let mut ctx = Ctx { next_id: 0, toc: Vec::new(), loader, trusted, warnings: Vec::new() };
    let mut body = String::new();
    for (source, result) in results {
        ctx.section(&mut body, source, result, 0);
    }
    if results.is_empty() {
        body.push_str("<p class=\"empty\">No results.</p>\n");
    }

    let mut out = String::with_capacity(body.len() + CSS.len() + JS.len() + 4096);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    let _ = writeln!(out, "<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<meta name=\"generator\" content=\"tachy report\">\n");
    let _ = writeln!(out, "<title>{}</title>", escape(title));
    let _ = writeln!(out, "<style>\n{CSS}</style>\n</head>");
    out.push_str("<body data-errors=\"0\" data-rendered=\"0\">\n");
    let _ = writeln!(out, "<script>{ERROR_COUNTER}</script>");
    out.push_str("<header class=\"page\">\n");
    let _ = writeln!(out, "<h1>{}</h1>", escape(title));
    let _ = writeln!(
        out,
        "<p class=\"meta\">Generated {} by tachy {} from {}.</p>",
        escape(generated_at),
        escape(env!("CARGO_PKG_VERSION")),
        plural(results.len() as u64, "result")
    );
    toc(&mut out, &ctx.toc);
    out.push_str("</header>\n<main>\n");
    out.push_str(&body);
    out.push_str("</main>\n");
    let _ = writeln!(out, "<script>\n{JS}</script>\n</body>\n</html>");
    Page { html: out, warnings: ctx.warnings }
}

/// One entry of the table of contents.
struct TocEntry {
    /// The section's id.
    id: String,
    /// Nesting: 0 for a result given on the command line, 1 for one a check embeds.
    depth: usize,
    /// `bench`, `load`, ...
    kind: &'static str,
    /// The file name (user data: escaped when written).
    source: String,
    /// A verdict shown beside the entry, when the result has one.
    verdict: Option<Verdict>,
}

/// A pass/fail mark for tables and the table of contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Held.
    Pass,
    /// Failed.
    Fail,
    /// Could not be measured.
    Error,
    /// Neither good nor bad (informational).
    Neutral,
}

impl Verdict {
    /// The CSS class.
    pub(crate) fn class(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Error => "error",
            Verdict::Neutral => "neutral",
        }
    }

    /// `pass` or `fail` from a flag.
    pub(crate) fn of(passed: bool) -> Verdict {
        if passed { Verdict::Pass } else { Verdict::Fail }
    }

    /// A badge with `text` in this verdict's colours.
    pub(crate) fn badge(self, text: &str) -> String {
        format!("<span class=\"badge {}\">{}</span>", self.class(), escape(text))
    }
}

/// State shared by the sections while a page is built.
pub(crate) struct Ctx<'a> {
    /// Counter behind unique element ids.
    next_id: usize,
    /// Sections written so far.
    toc: Vec<TocEntry>,
    /// Reads the result files of check budgets.
    loader: Loader<'a>,
    /// Folders besides a check report's own whose result files may be embedded.
    trusted: &'a [std::path::PathBuf],
    /// Result files not embedded, and why.
    warnings: Vec<String>,
}

impl Ctx<'_> {
    /// A new unique id starting with `prefix` (never derived from user data).
    pub(crate) fn id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}-{}", self.next_id)
    }

    /// Writes the section of one result at nesting `depth`, with the result's own verdict.
    pub(crate) fn section(&mut self, out: &mut String, source: &str, result: &AnyResult, depth: usize) {
        self.section_judged(out, source, result, depth, None);
    }

    /// Writes the section of one result; `judged` is the verdict a check gave the budget that
    /// wrote it (a lint budget with a baseline passes with old findings): the badge and the
    /// table of contents show it, never the result's own gate, so the page and `tachy check`'s
    /// exit code agree. A remark names the result's own verdict when it differs.
    pub(crate) fn section_judged(
        &mut self,
        out: &mut String,
        source: &str,
        result: &AnyResult,
        depth: usize,
        judged: Option<(&str, Verdict)>,
    ) {
        let id = self.id("result");
        let kind = result.kind();
        let own = verdict_of(result);
        let verdict = judged.map(|(_, v)| v).or(own);
        self.toc.push(TocEntry { id: id.clone(), depth, kind, source: source.to_string(), verdict });
        let h = heading(depth);
        let _ = writeln!(out, "<section class=\"result kind-{kind}\" id=\"{id}\">");
        let badge = verdict.map(|v| format!(" {}", v.badge(verdict_word(v)))).unwrap_or_default();
        let _ = writeln!(
            out,
            "<h{h}><span class=\"kind\">{}</span> <span class=\"source\">{}</span>{badge}</h{h}>",
            kind_title(kind),
            escape(source)
        );
        let _ = writeln!(
            out,
            "<p class=\"meta\">{} · written by tachy {}</p>",
            escape(result.schema()),
            escape(result.tachy_version())
        );
        if let (Some((budget, v)), Some(own)) = (judged, own)
            && own != v
        {
            remark(
                out,
                &format!(
                    "The badge is the check's verdict for budget {budget}; the result's own gate alone says {}.",
                    verdict_word(own)
                ),
            );
        }
        match result {
            AnyResult::Bench(r) => bench::section(self, out, r, depth),
            AnyResult::Load(r) => load::section(self, out, r, depth),
            AnyResult::Profile(r) => profile::section(self, out, r, depth),
            AnyResult::Mem(r) => mem::section(self, out, r, depth),
            AnyResult::Watch(r) => watch::section(self, out, r, depth),
            AnyResult::Lint(r) => lint::section(self, out, r, depth),
            AnyResult::Check(r) => check::section(self, out, r, source, depth),
        }
        out.push_str("</section>\n");
    }

    /// Reads the file a check budget points to.
    pub(crate) fn load(&self, path: &Path) -> Result<AnyResult, ResultError> {
        (self.loader)(path)
    }

    /// The trusted folders besides a check report's own.
    pub(crate) fn trusted(&self) -> &[std::path::PathBuf] {
        self.trusted
    }

    /// Records a warning for the caller.
    pub(crate) fn warn(&mut self, message: String) {
        self.warnings.push(message);
    }
}

/// The title of a kind of result.
fn kind_title(kind: &str) -> &'static str {
    match kind {
        "bench" => "Benchmark",
        "load" => "Load test",
        "profile" => "CPU profile",
        "mem" => "Memory profile",
        "watch" => "Process watch",
        "lint" => "Lint",
        "check" => "Budget check",
        _ => "Result",
    }
}

/// The word on a verdict badge.
fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::Fail => "FAIL",
        Verdict::Error => "ERROR",
        Verdict::Neutral => "",
    }
}

/// The verdict of a result with a gate: bench gate, load SLOs, mem budgets, watch alerts,
/// lint findings, check budgets.
fn verdict_of(result: &AnyResult) -> Option<Verdict> {
    match result {
        AnyResult::Bench(r) => r.gate.as_ref().map(|g| Verdict::of(!g.failed)),
        AnyResult::Load(r) => (!r.slos.is_empty()).then(|| Verdict::of(r.slos_passed())),
        AnyResult::Profile(_) => None,
        AnyResult::Mem(r) => (!r.budgets.is_empty()).then(|| Verdict::of(r.budgets_passed())),
        AnyResult::Watch(r) => (!r.alerts.is_empty()).then(|| Verdict::of(r.quiet())),
        AnyResult::Lint(r) => Some(Verdict::of(!r.failed())),
        AnyResult::Check(r) => Some(match r.verdict() {
            crate::check::Verdict::Pass => Verdict::Pass,
            crate::check::Verdict::Fail => Verdict::Fail,
            crate::check::Verdict::Error => Verdict::Error,
        }),
    }
}

/// The table of contents: results in order, the ones a check embeds nested under it.
fn toc(out: &mut String, entries: &[TocEntry]) {
    if entries.is_empty() {
        return;
    }
    let link = |e: &TocEntry| {
        let badge = e.verdict.filter(|v| *v != Verdict::Neutral).map(|v| format!(" {}", v.badge(verdict_word(v))));
        format!("<a href=\"#{}\">{}: {}</a>{}", e.id, kind_title(e.kind), escape(&e.source), badge.unwrap_or_default())
    };
    out.push_str("<nav class=\"toc\">\n<h2>Contents</h2>\n<ol>\n");
    let mut i = 0;
    while i < entries.len() {
        let _ = write!(out, "<li>{}", link(&entries[i]));
        let mut j = i + 1;
        if entries.get(j).is_some_and(|e| e.depth > 0) {
            out.push_str("\n<ol>\n");
            while let Some(e) = entries.get(j).filter(|e| e.depth > 0) {
                let _ = writeln!(out, "<li>{}</li>", link(e));
                j += 1;
            }
            out.push_str("</ol>\n");
        }
        out.push_str("</li>\n");
        i = j;
    }
    out.push_str("</ol>\n</nav>\n");
}

/// The heading level of a section at nesting `depth` (sub-headings use one more).
pub(crate) fn heading(depth: usize) -> usize {
    (2 + depth).min(5)
}

/// A sub-heading of a section at nesting `depth`.
pub(crate) fn subheading(out: &mut String, depth: usize, text: &str) {
    let h = heading(depth) + 1;
    let _ = writeln!(out, "<h{h}>{}</h{h}>", escape(text));
}

/// Escapes text for HTML content and attribute values: `&`, `<`, `>`, `"` and `'` become
/// character references; control characters other than tab and newline become spaces.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\t' => out.push(c),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Serialises `value` as JSON safe inside `<script type="application/json">`: `<`, `>`, `&`,
/// U+2028 and U+2029 are written as `\u003c`, `\u003e`, `\u0026`, `\u2028`, `\u2029` (they can
/// only occur inside JSON strings, where the escapes mean the same characters).
pub fn json_for_script<T: Serialize>(value: &T) -> String {
    let json = serde_json::to_string(value).unwrap_or_else(|_| "null".to_string());
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// A row of figures: each a label and an already-escaped HTML value.
pub(crate) fn figures(out: &mut String, items: &[(&str, String)]) {
    out.push_str("<dl class=\"figures\">\n");
    for (label, value) in items {
        let _ = writeln!(out, "<div><dt>{}</dt><dd>{value}</dd></div>", escape(label));
    }
    out.push_str("</dl>\n");
}

/// A facts line: `key: value` pairs (values escaped here).
pub(crate) fn facts(out: &mut String, items: &[(&str, String)]) {
    if items.is_empty() {
        return;
    }
    out.push_str("<p class=\"facts\">");
    for (i, (k, v)) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(" · ");
        }
        let _ = write!(out, "<span><b>{}</b> {}</span>", escape(k), escape(v));
    }
    out.push_str("</p>\n");
}

/// One column of a [`table`].
pub(crate) struct Col {
    /// The header text.
    pub(crate) title: &'static str,
    /// Right-aligned figures.
    pub(crate) num: bool,
}

/// A text column.
pub(crate) const fn text(title: &'static str) -> Col {
    Col { title, num: false }
}

/// A numeric (right-aligned) column.
pub(crate) const fn num(title: &'static str) -> Col {
    Col { title, num: true }
}

/// A table row: an optional row class and cells of already-escaped HTML.
pub(crate) struct Row {
    /// CSS class of the row (`pass`, `fail`, ...), from a fixed set.
    pub(crate) class: Option<&'static str>,
    /// The cells, escaped.
    pub(crate) cells: Vec<String>,
}

impl Row {
    /// A row without class.
    pub(crate) fn new(cells: Vec<String>) -> Row {
        Row { class: None, cells }
    }

    /// A row with the class of `verdict`.
    pub(crate) fn with(verdict: Verdict, cells: Vec<String>) -> Row {
        Row { class: Some(verdict.class()), cells }
    }
}

/// A table of `class` with `cols` and `rows`; `more` (when above zero) adds a last line
/// saying how many rows were left out.
pub(crate) fn table(out: &mut String, class: &str, cols: &[Col], rows: &[Row], more: usize) {
    let _ = writeln!(out, "<div class=\"table-wrap\"><table class=\"{class}\">");
    out.push_str("<thead><tr>");
    for c in cols {
        let cls = if c.num { " class=\"num\"" } else { "" };
        let _ = write!(out, "<th{cls}>{}</th>", escape(c.title));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for r in rows {
        match r.class {
            Some(c) => {
                let _ = write!(out, "<tr class=\"{c}\">");
            }
            None => out.push_str("<tr>"),
        }
        for (i, cell) in r.cells.iter().enumerate() {
            let cls = if cols.get(i).is_some_and(|c| c.num) { " class=\"num\"" } else { "" };
            let _ = write!(out, "<td{cls}>{cell}</td>");
        }
        out.push_str("</tr>\n");
    }
    if more > 0 {
        let _ = writeln!(
            out,
            "<tr class=\"more\"><td colspan=\"{}\">… and {} more</td></tr>",
            cols.len().max(1),
            count(more as u64)
        );
    }
    out.push_str("</tbody>\n</table></div>\n");
}

/// A list of notes or warnings (escaped), nothing when empty.
pub(crate) fn notes(out: &mut String, title: &str, items: &[String]) {
    if items.is_empty() {
        return;
    }
    let _ = writeln!(out, "<div class=\"notes\"><b>{}</b><ul>", escape(title));
    for n in items {
        let _ = writeln!(out, "<li>{}</li>", escape(n));
    }
    out.push_str("</ul></div>\n");
}

/// A grey remark paragraph (escaped).
pub(crate) fn remark(out: &mut String, text: &str) {
    let _ = writeln!(out, "<p class=\"remark\">{}</p>", escape(text));
}

/// A count with thousands separators.
pub(crate) fn count(n: u64) -> String {
    super::common::count(n)
}

/// `n thing(s)`.
pub(crate) fn plural(n: u64, thing: &str) -> String {
    super::common::plural(n, thing)
}

/// A byte count in binary units.
pub(crate) fn bytes(n: u64) -> String {
    super::common::bytes(n)
}

/// Seconds in a suitable unit.
pub(crate) fn secs(s: f64) -> String {
    super::common::secs(s)
}

/// A fraction as a percentage: `12.3%`; small non-zero shares keep two decimals.
pub(crate) fn pct(fraction: f64) -> String {
    let p = fraction * 100.0;
    if !p.is_finite() {
        "–".to_string()
    } else if p != 0.0 && p.abs() < 1.0 {
        format!("{p:.2}%")
    } else {
        format!("{p:.1}%")
    }
}

/// A number with few decimals: `1,234`, `12.3`, `0.042`.
pub(crate) fn number(v: f64) -> String {
    if !v.is_finite() {
        format!("{v}")
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        let s = count(v.abs() as u64);
        if v < 0.0 { format!("-{s}") } else { s }
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// A latency in milliseconds with about three significant digits, in a unit suited to its
/// size: `812 µs`, `3.25 ms`, `183 ms`, `1.20 s`.
pub(crate) fn ms(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v} ms");
    }
    if v == 0.0 {
        return "0 ms".to_string();
    }
    let a = v.abs();
    let (value, unit) = if a >= 999.5 {
        (v / 1000.0, "s")
    } else if a >= 0.9995 {
        (v, "ms")
    } else {
        (v * 1000.0, "µs")
    };
    let digits = if value.abs() >= 99.95 {
        0
    } else if value.abs() >= 9.995 {
        1
    } else {
        2
    };
    format!("{value:.digits$} {unit}")
}

/// A file and line: `app.py:12` (`app.py` when the line is unknown).
pub(crate) fn location(file: &str, line: i64) -> String {
    if line > 0 { format!("{file}:{line}") } else { file.to_string() }
}

#[cfg(test)]
mod tests;
