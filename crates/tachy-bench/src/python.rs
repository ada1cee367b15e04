//! `tachy bench --python`: timeit-style micro-benchmarks measured in fresh worker processes.
//!
//! Like pyperf, every statement runs in several worker processes (so address-space layout and
//! hash-seed luck average out instead of biasing one long run), each giving a few values after
//! untimed warmups. The first worker of a statement calibrates the loop count as timeit's
//! autorange does (1, 2, 5, 10, 20, ... loops until one value lasts `value_time`); every later
//! worker of that statement uses the same count, so all values time the same work. A value is
//! the time of one loop (wall, and user/system CPU from `getrusage`), so the usual statistics,
//! comparisons, baselines and gate apply unchanged. Workers of different statements alternate
//! (A B A B ...) unless interleaving is off.

use std::path::PathBuf;
use std::time::Duration;

use tachy_process::{OutputMode, RunError, RunSpec, StderrTail};
use tachy_report::BenchReport;

use crate::executor::tail_suffix;
use crate::{BenchCommand, BenchError, BenchSettings, Observer, Sample, analysis};

/// The worker program, run with `python -c`.
pub const WORKER: &str = include_str!("python_worker.py");

/// How the statements are measured.
#[derive(Debug, Clone, PartialEq)]
pub struct PythonOptions {
    /// The interpreter (a real executable, not a version-manager shim).
    pub executable: PathBuf,
    /// Worker processes per statement.
    pub processes: usize,
    /// Timed values per worker.
    pub values: usize,
    /// Untimed values per worker, before the timed ones.
    pub warmups: usize,
    /// Calibration target: the loop count makes one value last at least this long.
    pub value_time: Duration,
}

impl PythonOptions {
    /// Default worker processes per statement.
    pub const DEFAULT_PROCESSES: usize = 10;
    /// Default timed values per worker.
    pub const DEFAULT_VALUES: usize = 5;
    /// Shortest calibration target accepted: below it timer resolution and loop overhead
    /// start to show.
    pub const MIN_VALUE_TIME: Duration = Duration::from_millis(1);

    /// Splits a total timed duration per statement over `processes` x `values` values (at
    /// least [`Self::MIN_VALUE_TIME`] each).
    pub fn value_time_for(total: Duration, processes: usize, values: usize) -> Duration {
        let n = (processes.max(1) * values.max(1)) as u32;
        (total / n).max(Self::MIN_VALUE_TIME)
    }
}

/// What one worker process answered.
#[derive(Debug, Clone, PartialEq)]
struct WorkerAnswer {
    loops: u64,
    values: Vec<[f64; 3]>,
    max_rss: u64,
}

/// The line a worker writes before running the statement.
const STARTED: &str = "{\"started\": true}";

/// True when the worker started the statement but never wrote its answer: the statement (or
/// its setup) ended the process.
fn ended_before_answer(text: &str) -> bool {
    text.lines().rev().find(|l| !l.trim().is_empty()).is_some_and(|l| l.trim() == STARTED)
}

fn parse_answer(text: &str) -> Result<WorkerAnswer, String> {
    let line = text.lines().rev().find(|l| !l.trim().is_empty()).ok_or("it printed nothing")?;
    let v: serde_json::Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let loops = v.get("loops").and_then(serde_json::Value::as_u64).filter(|&l| l > 0).ok_or("no loop count")?;
    let values = v
        .get("values")
        .and_then(serde_json::Value::as_array)
        .ok_or("no values")?
        .iter()
        .map(|row| {
            let nums: Option<Vec<f64>> =
                row.as_array().map(|r| r.iter().filter_map(serde_json::Value::as_f64).collect());
            match nums.as_deref() {
                Some(&[w, u, s]) if [w, u, s].iter().all(|x| x.is_finite() && *x >= 0.0) => Ok([w, u, s]),
                _ => Err(format!("a value is not [wall, user, system]: {row}")),
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    let max_rss = v.get("maxrss").and_then(serde_json::Value::as_u64).unwrap_or(0);
    Ok(WorkerAnswer { loops, values, max_rss })
}

struct Statement {
    loops: Option<u64>,
    samples: Vec<Sample>,
    warmups: usize,
}

struct Runner<'a> {
    settings: &'a BenchSettings,
    opts: &'a PythonOptions,
    obs: &'a mut dyn Observer,
    out: Option<StderrTail>,
    err: Option<StderrTail>,
    states: Vec<Statement>,
}

impl Runner<'_> {
    fn worker(&mut self, i: usize) -> Result<(), BenchError> {
        let cmd: &BenchCommand = &self.settings.commands[i];
        let python = self.opts.executable.display().to_string();
        let spec = serde_json::json!({
            "stmt": cmd.command_line,
            "setup": cmd.setup.clone().unwrap_or_default(),
            "loops": self.states[i].loops.unwrap_or(0),
            "value_time": self.opts.value_time.as_secs_f64(),
            "warmups": self.opts.warmups,
            "values": self.opts.values,
        });
        let mut run =
            RunSpec::new(self.opts.executable.as_os_str(), ["-c".to_string(), WORKER.to_string(), spec.to_string()]);
        run.stdout = OutputMode::Tail(match self.out.take() {
            Some(t) => t,
            None => tail()?,
        });
        run.stderr = OutputMode::Tail(match self.err.take() {
            Some(t) => t,
            None => tail()?,
        });
        let result = tachy_process::run(&mut run);
        if let OutputMode::Tail(t) = std::mem::take(&mut run.stdout) {
            self.out = Some(t);
        }
        if let OutputMode::Tail(t) = std::mem::take(&mut run.stderr) {
            self.err = Some(t);
        }
        let m = result.map_err(|e| match e {
            RunError::Interrupted => BenchError::Interrupted,
            other => BenchError::Spawn { command: python.clone(), source: other },
        })?;
        if !m.exit.success() {
            let stderr = self.err.as_mut().map(|t| t.tail(4096)).unwrap_or_default();
            return Err(BenchError::PythonFailed {
                statement: cmd.command_line.clone(),
                python,
                exit: m.exit.to_string(),
                stderr: tail_suffix(Some(&stderr)),
            });
        }
        let stdout = self.out.as_mut().map(|t| t.tail(1 << 20)).unwrap_or_default();
        if ended_before_answer(&stdout) {
            return Err(BenchError::PythonEnded { statement: cmd.command_line.clone(), exit: m.exit.to_string() });
        }
        let answer = parse_answer(&stdout).map_err(|detail| BenchError::PythonWorker {
            statement: cmd.command_line.clone(),
            python: python.clone(),
            detail,
        })?;
        let planned = self.opts.processes * self.opts.values;
        let st = &mut self.states[i];
        st.loops.get_or_insert(answer.loops);
        st.warmups += self.opts.warmups;
        for [wall, user, system] in answer.values {
            st.samples.push(Sample {
                wall,
                raw_wall: wall,
                user,
                system,
                max_rss: answer.max_rss,
                exit_code: 0,
                failure: None,
                stderr_tail: None,
            });
            self.obs.run_done(i, cmd, st.samples.len(), Some(planned));
        }
        Ok(())
    }

    fn all(&mut self) -> Result<(), BenchError> {
        let n = self.states.len();
        self.obs.warmup(0);
        if self.settings.interleave {
            for _ in 0..self.opts.processes {
                for i in 0..n {
                    self.worker(i)?;
                }
            }
        } else {
            for i in 0..n {
                for _ in 0..self.opts.processes {
                    self.worker(i)?;
                }
            }
        }
        Ok(())
    }
}

fn tail() -> Result<StderrTail, BenchError> {
    StderrTail::new().map_err(|e| BenchError::Io { action: "create", path: std::env::temp_dir(), source: e })
}

/// Measures every statement of `settings.commands` (`command_line` is the statement, `setup`
/// its setup; `prepare` and `cleanup` must be empty) and analyses the values.
///
/// Ctrl-C keeps the values of the workers that completed (`interrupted` set); it is an error
/// only when no worker had completed.
pub fn run(settings: &BenchSettings, opts: &PythonOptions, obs: &mut dyn Observer) -> Result<BenchReport, BenchError> {
    if settings.commands.is_empty() {
        return Err(BenchError::NoCommands);
    }
    if settings.commands.iter().any(|c| c.prepare.is_some() || c.cleanup.is_some()) {
        return Err(BenchError::InvalidSetting(
            "--prepare and --cleanup take shell commands and do not apply to --python statements; put Python code in --setup".into(),
        ));
    }
    if opts.processes == 0 || opts.values == 0 {
        return Err(BenchError::InvalidSetting("--processes and --values must be at least 1".into()));
    }
    let context = analysis::context_now(settings.interleave, settings.metric);
    let states = settings.commands.iter().map(|_| Statement { loops: None, samples: Vec::new(), warmups: 0 }).collect();
    let mut runner = Runner { settings, opts, obs, out: None, err: None, states };
    let outcome = runner.all();
    let interrupted = crate::runner::interrupted(outcome, runner.states.iter().any(|s| !s.samples.is_empty()))?;
    let results = settings
        .commands
        .iter()
        .zip(&runner.states)
        .map(|(cmd, st)| {
            let mut r = analysis::result(cmd, &st.samples, st.warmups);
            if let Some(loops) = st.loops {
                r.parameters.entry("loops".to_string()).or_insert_with(|| loops.to_string());
            }
            r
        })
        .collect();
    // Worker warmups are the warmup: the cold-first-run warning does not apply to values.
    let analysed = BenchSettings { warmup: settings.warmup.max(opts.warmups).max(1), ..settings.clone() };
    let mut report = analysis::report(results, &analysed, context, interrupted);
    report.warnings.extend(python_warnings(&report, opts));
    Ok(report)
}

/// Warnings particular to micro-benchmarks.
fn python_warnings(report: &BenchReport, opts: &PythonOptions) -> Vec<String> {
    let mut out = Vec::new();
    for r in &report.results {
        let loops: u64 = r.parameters.get("loops").and_then(|l| l.parse().ok()).unwrap_or(0);
        if loops == 1 && r.median > 0.0 && r.median < opts.value_time.as_secs_f64() / 2.0 {
            out.push(format!(
                "'{}': one loop per value but values are shorter than the calibration target; the statement's time may vary a lot between runs",
                r.command
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_parsed_and_checked() {
        let a = parse_answer("noise\n{\"loops\": 100, \"values\": [[1e-6, 9e-7, 1e-8]], \"maxrss\": 1024}\n").unwrap();
        assert_eq!(a.loops, 100);
        assert_eq!(a.values, [[1e-6, 9e-7, 1e-8]]);
        assert_eq!(a.max_rss, 1024);
        assert!(parse_answer("").unwrap_err().contains("nothing"));
        assert!(ended_before_answer("{\"started\": true}\n"));
        assert!(!ended_before_answer("{\"started\": true}\n{\"loops\": 1}\n"));
        assert!(!ended_before_answer(""));
        assert!(parse_answer("{\"loops\": 0, \"values\": []}").unwrap_err().contains("loop count"));
        assert!(parse_answer("{\"loops\": 1, \"values\": [[1, 2]]}").unwrap_err().contains("[wall, user, system]"));
        assert!(parse_answer("{\"loops\": 1, \"values\": [[-1, 0, 0]]}").is_err());
    }

    #[test]
    fn value_time_splits_the_total() {
        let t = PythonOptions::value_time_for(Duration::from_secs(3), 10, 5);
        assert_eq!(t, Duration::from_millis(60));
        assert_eq!(PythonOptions::value_time_for(Duration::ZERO, 10, 5), PythonOptions::MIN_VALUE_TIME);
    }

    fn python() -> Option<PathBuf> {
        let exe = tachy_process::python::resolve(std::ffi::OsStr::new("python3")).ok()?.executable;
        Some(exe)
    }

    #[test]
    fn workers_measure_statements_and_report_errors() {
        let Some(executable) = python() else {
            return;
        };
        let opts =
            PythonOptions { executable, processes: 2, values: 3, warmups: 1, value_time: Duration::from_millis(2) };
        let mut cmd = BenchCommand::new("x in s");
        cmd.setup = Some("s = set(range(1000)); x = 500; print('setup output is discarded')".into());
        let settings = BenchSettings { commands: vec![cmd], ..Default::default() };
        let r = run(&settings, &opts, &mut crate::NoProgress).unwrap();
        let res = &r.results[0];
        assert_eq!(res.times.len(), 6);
        assert!(res.times.iter().all(|t| *t > 0.0));
        let loops: u64 = res.parameters["loops"].parse().unwrap();
        assert!(loops >= 10, "a set lookup needs many loops to last 2 ms, got {loops}");
        assert!(res.stats.as_ref().unwrap().cpu.is_some());

        let bad = BenchSettings { commands: vec![BenchCommand::new("undefined_name + 1")], ..Default::default() };
        let err = run(&bad, &opts, &mut crate::NoProgress).unwrap_err().to_string();
        assert!(err.contains("'undefined_name + 1' failed") && err.contains("NameError"), "{err}");
        let syntax = BenchSettings { commands: vec![BenchCommand::new("x ===")], ..Default::default() };
        let err = run(&syntax, &opts, &mut crate::NoProgress).unwrap_err().to_string();
        assert!(err.contains("SyntaxError"), "{err}");
    }

    #[test]
    fn prepare_and_cleanup_are_refused() {
        let mut cmd = BenchCommand::new("pass");
        cmd.prepare = Some("echo".into());
        let settings = BenchSettings { commands: vec![cmd], ..Default::default() };
        let opts = PythonOptions {
            executable: "python3".into(),
            processes: 1,
            values: 1,
            warmups: 0,
            value_time: Duration::from_millis(1),
        };
        assert!(run(&settings, &opts, &mut crate::NoProgress).unwrap_err().to_string().contains("--prepare"));
    }
}
