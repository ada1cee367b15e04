//! `tachy report`: reads tachy result files of any kind (bench, load, profile, mem, watch,
//! lint, check; chosen by their `schema`) and writes one self-contained HTML page. Silent on
//! success; a missing, malformed or unknown file is an error (exit 2) naming it. A check
//! report's result files that are not shown (outside its folder, unreadable, not tachy
//! results) are listed in the page and warned about on stderr.

use anyhow::Context;
use tachy_report::render::html;
use tachy_report::results::{self, ResultError};

use crate::ExitStatus;
use crate::args::ReportArgs;

/// The title when `--title` is not given.
const DEFAULT_TITLE: &str = "tachy report";

/// Runs `tachy report`.
pub fn run(args: &ReportArgs) -> anyhow::Result<ExitStatus> {
    crate::output::check(&args.output, "-o")?;
    let mut loaded = Vec::with_capacity(args.results.len());
    for path in &args.results {
        let result = results::load(path).map_err(|e| match e {
            // The I/O error already names the file.
            ResultError::Io { .. } => anyhow::Error::new(e),
            e => anyhow::Error::new(e).context(format!("cannot read result {}", path.display())),
        })?;
        loaded.push((path.display().to_string(), result));
    }
    let title = args.title.as_deref().unwrap_or(DEFAULT_TITLE);
    let page = html::page(title, &loaded, &[]);
    for w in &page.warnings {
        crate::printer::warn(w);
    }
    crate::output::write_atomic(&args.output, page.html.as_bytes())
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    Ok(ExitStatus::Success)
}
