//! One renderer per output format. Each takes a report and returns the rendered bytes.
//!
//! | format   | module       | used by                       |
//! |----------|--------------|-------------------------------|
//! | text     | [`text`]     | the terminal summary          |
//! | JSON     | [`json`]     | `--json`, `--export-json`     |
//! | CSV      | [`csv`]      | `--export-csv`                |
//! | Markdown | [`markdown`] | `--export-markdown`           |
//! | load     | [`load`]     | `tachy load`: text, live line, timeline CSV, JSON |
//! | memory   | [`mem`]      | `tachy mem`: text, JSON, flamegraphs, speedscope, pprof, plot |
//! | watch    | [`watch`]    | `tachy watch`: text, live view, alert lines, CSV/JSON lines, plot, JSON |

pub mod check;
pub(crate) mod common;
pub mod csv;
pub mod dump;
pub mod html;
pub mod json;
pub mod lint;
pub mod load;
pub mod markdown;
pub mod mem;
pub mod profile;
pub(crate) mod svg;
pub mod text;
pub mod top;
pub mod watch;

/// A renderer failed (only writers that can fail, such as CSV, return this).
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// Serialising JSON failed.
    #[error("cannot serialise JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// Writing CSV failed.
    #[error("cannot write CSV: {0}")]
    Csv(#[from] ::csv::Error),
}

/// Output formats of a bench report that can be written to a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BenchFormat {
    /// The terminal summary.
    Text,
    /// The JSON report (hyperfine-compatible superset).
    Json,
    /// One CSV row per command.
    Csv,
    /// Markdown tables for pull-request comments.
    Markdown,
}

/// Renders a bench report in `format`.
pub fn bench(report: &crate::BenchReport, format: BenchFormat) -> Result<Vec<u8>, RenderError> {
    Ok(match format {
        BenchFormat::Text => text::bench(report).into_bytes(),
        BenchFormat::Json => json::bench(report)?.into_bytes(),
        BenchFormat::Csv => csv::bench(report)?,
        BenchFormat::Markdown => markdown::bench(report).into_bytes(),
    })
}

/// Helpers shared by the renderers' tests: a deterministic report.
#[cfg(test)]
pub(crate) mod fixture {
    use std::collections::BTreeMap;

    use tachy_stats::{Comparison, ConfidenceInterval, MannWhitney, MwMethod, RatioEstimate};

    use crate::bench::*;

    fn result(name: &str, base: f64, params: &[(&str, &str)]) -> BenchResult {
        let times: Vec<f64> = (0..10).map(|i| base * (1.0 + 0.01 * i as f64)).collect();
        BenchResult {
            command: name.to_string(),
            mean: base * 1.045,
            stddev: base * 0.03,
            median: base * 1.045,
            user: base * 0.8,
            system: base * 0.1,
            min: base,
            max: base * 1.09,
            times,
            exit_codes: vec![0; 10],
            parameters: params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>(),
            memory_usage_byte: vec![9 * 1024 * 1024; 10],
            command_line: format!("python3 {name}.py"),
            stats: Some(ResultStats {
                runs: 10,
                warmup_runs: 2,
                mad: base * 0.025,
                p5: base * 1.004,
                p95: base * 1.085,
                p99: base * 1.089,
                cv: 0.0287,
                median_ci: ConfidenceInterval { low: base * 1.01, high: base * 1.08, level: 0.979 },
                outliers: 0,
                max_rss_mean: 9 * 1024 * 1024,
                cpu: None,
            }),
            user_times: vec![base * 0.8; 10],
            system_times: vec![base * 0.1; 10],
        }
    }

    fn comparison(ratio: f64, p: f64) -> Comparison {
        Comparison {
            ratio: RatioEstimate {
                ratio,
                ci: ConfidenceInterval { low: ratio * 0.98, high: ratio * 1.02, level: 0.95 },
            },
            test: MannWhitney { u: 0.0, p_value: p, method: MwMethod::Exact },
            alpha: 0.05,
            significant: p < 0.05,
        }
    }

    /// Two commands, a relative table, a gate and a warning.
    pub fn report() -> BenchReport {
        BenchReport {
            schema: BENCH_SCHEMA.to_string(),
            tachy_version: "0.0.0-test".to_string(),
            results: vec![result("fast", 0.012, &[("n", "1")]), result("slow", 0.022, &[("n", "2")])],
            relative: vec![
                RelativeRow {
                    command: "fast".into(),
                    is_reference: true,
                    comparison: None,
                    verdict: SpeedVerdict::Reference,
                },
                RelativeRow {
                    command: "slow".into(),
                    is_reference: false,
                    comparison: Some(comparison(1.833, 0.00001)),
                    verdict: SpeedVerdict::Slower,
                },
            ],
            gate: Some(GateReport {
                baseline: "main".into(),
                metric: Metric::Wall,
                max_regression: 0.05,
                alpha: 0.05,
                rows: vec![
                    GateRow {
                        command: "fast".into(),
                        baseline_median: 0.0124,
                        current_median: 0.012_54,
                        comparison: comparison(1.011, 0.4),
                        verdict: GateVerdict::Unchanged,
                    },
                    GateRow {
                        command: "slow".into(),
                        baseline_median: 0.02,
                        current_median: 0.022_99,
                        comparison: comparison(1.15, 0.0002),
                        verdict: GateVerdict::Regressed,
                    },
                ],
                missing_in_baseline: vec![],
                missing_in_current: vec!["gone".into()],
                failed: true,
            }),
            context: RunContext {
                started_at: "2026-01-01T00:00:00Z".into(),
                shell: Some("sh".into()),
                shell_overhead: Some(0.0006),
                metric: Metric::Wall,
                interleaved: true,
                cpus: 2,
                load_average: Some([0.5, 0.4, 0.3]),
            },
            warnings: vec!["the machine is noisy".into()],
            interrupted: false,
        }
    }
}
