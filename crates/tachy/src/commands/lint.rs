//! `tachy lint`: arguments and `[tool.tachy.lint]` -> settings -> lint -> one renderer per
//! `--output-format` -> exit 1 when findings remain.

use std::path::Path;

use anyhow::{Context, Result, bail};
use tachy_lint::config::{self, LoadedConfig};
use tachy_lint::registry::{self, RULES};
use tachy_lint::{FixMode, LintError, LintSettings};
use tachy_report::render::lint::{self as render, LintFormat, RuleMeta};

use crate::ExitStatus;
use crate::args::LintArgs;
use crate::printer;

/// Runs `tachy lint`.
pub fn run(args: &LintArgs) -> Result<ExitStatus> {
    if args.list_rules {
        let mut out = String::new();
        for s in RULES {
            out.push_str(&format!("{}  {:<34} {}\n", s.code, s.name, s.summary));
        }
        printer::stdout(out.as_bytes())?;
        return Ok(ExitStatus::Success);
    }
    if let Some(code) = &args.explain {
        let rule = tachy_lint::Rule::from_code(code)
            .with_context(|| format!("no rule `{code}`: `tachy lint --list-rules` lists the codes"))?;
        let spec = rule.spec();
        let text = format!("{} ({})\n\n{}", spec.name, spec.code, spec.doc());
        printer::stdout(text.as_bytes())?;
        return Ok(ExitStatus::Success);
    }

    let settings = settings(args)?;
    let outcome = tachy_lint::lint(&settings)?;
    let report = &outcome.report;

    let metas: Vec<RuleMeta<'_>> =
        RULES.iter().map(|s| RuleMeta { code: s.code, name: s.name, summary: s.summary }).collect();
    let body = if args.diff {
        outcome.diff.clone()
    } else if args.statistics && args.output_format == LintFormat::Text {
        render::text::statistics(report)
    } else if args.statistics && args.output_format == LintFormat::Json {
        let mut s = serde_json::to_string_pretty(&report.statistics())?;
        s.push('\n');
        s
    } else {
        render::render(report, args.output_format, &metas)
    };
    match &args.output_file {
        Some(path) => crate::output::write_atomic(path, body.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => printer::stdout(body.as_bytes())?,
    }
    let failed = if args.diff { report.fixed > 0 } else { report.failed() };
    Ok(if failed { ExitStatus::Failure } else { ExitStatus::Success })
}

/// Command line and config file -> settings. Command-line `--select` replaces the config's;
/// `--ignore` and `--exclude` add to it.
fn settings(args: &LintArgs) -> Result<LintSettings> {
    let loaded: Option<LoadedConfig> = if args.isolated {
        None
    } else if let Some(path) = &args.config {
        if path.is_dir() {
            let inside = path.join("pyproject.toml");
            if inside.is_file() {
                bail!("--config {}: it is a folder; give its file: --config {}", path.display(), inside.display());
            }
            bail!("--config {}: it is a folder, not a config file (give the path of a pyproject.toml)", path.display());
        }
        if !path.is_file() {
            bail!("{}: no such config file (give the path of a pyproject.toml)", path.display());
        }
        let cfg = config::load(path)?;
        if cfg.is_none() {
            bail!("{}: has no [tool.tachy.lint] table", path.display());
        }
        cfg
    } else {
        let start =
            args.paths.first().map(|p| if p.is_dir() { p.as_path() } else { p.parent().unwrap_or(Path::new(".")) });
        let start = match start {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        config::find(start)?
    };

    let (mut select, mut ignore, mut exclude) = (Vec::new(), Vec::new(), Vec::new());
    let mut per_file = Vec::new();
    if let Some(cfg) = &loaded {
        select = cfg.config.select.clone();
        ignore = cfg.config.ignore.clone();
        exclude = cfg.config.exclude.clone();
        for s in select.iter().chain(&ignore) {
            if registry::select(s).is_none() {
                return Err(cfg
                    .error(
                        s,
                        format!("unknown rule selector `{s}` (accepted: codes like TA101, prefixes like TA1, or ALL)"),
                    )
                    .into());
            }
        }
        for (glob, codes) in &cfg.config.per_file_ignores {
            let set = registry::resolve(codes, &[]).map_err(|bad| {
                cfg.error(
                    &bad,
                    format!(
                        "unknown rule selector `{bad}` in per-file-ignores (accepted: codes like TA101, prefixes, ALL)"
                    ),
                )
            })?;
            // Globs are relative to the config's folder; also match them as given.
            per_file.push((glob.clone(), set));
            let rooted = cfg.root.join(glob);
            per_file.push((rooted.to_string_lossy().into_owned(), set));
        }
    }
    if !args.select.is_empty() {
        select = args.select.clone();
    }
    ignore.extend(args.ignore.iter().cloned());
    exclude.extend(args.exclude.iter().cloned());
    let rules = registry::resolve(&select, &ignore).map_err(LintError::UnknownSelector)?;

    let profile = match &args.profile {
        Some(path) => {
            let p = tachy_profile::store::load(path)?;
            Some((path.clone(), p))
        }
        None => None,
    };
    let fix = if args.fix {
        FixMode::Apply
    } else if args.diff {
        FixMode::Diff
    } else {
        FixMode::Report
    };
    Ok(LintSettings {
        paths: args.paths.clone(),
        rules,
        exclude,
        per_file_ignores: per_file,
        fix,
        unsafe_fixes: args.unsafe_fixes,
        profile,
        min_share: args.min_share,
    })
}
