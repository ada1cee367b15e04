//! The benchmark loop: setup, warmup, interleaved timed runs, cleanup, then analysis.

use tachy_report::BenchReport;

use crate::executor::tail_suffix;
use crate::{BenchCommand, BenchError, BenchSettings, Executor, RunCount, Sample, analysis};

/// Receives progress while the benchmark runs (the binary draws progress bars with it).
pub trait Observer {
    /// Untimed warmup runs are starting (`total` runs over all commands).
    fn warmup(&mut self, _total: usize) {}
    /// A timed run of `commands[index]` finished; `done` runs so far, `planned` once known.
    fn run_done(&mut self, _index: usize, _command: &BenchCommand, _done: usize, _planned: Option<usize>) {}
}

/// An observer that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Observer for NoProgress {}

struct State {
    samples: Vec<Sample>,
    planned: Option<usize>,
    warmups: usize,
}

impl State {
    fn remaining(&self) -> bool {
        self.planned.is_none_or(|p| self.samples.len() < p)
    }
}

fn plan(runs: RunCount, first: &Sample) -> usize {
    match runs {
        RunCount::Fixed(n) => n,
        RunCount::Auto { min_runs, min_time, max_runs } => {
            let t = first.raw_wall.max(1e-6);
            let by_time = (min_time.as_secs_f64() / t).ceil();
            let by_time = if by_time.is_finite() { by_time as usize } else { usize::MAX };
            let n = by_time.max(min_runs);
            max_runs.map_or(n, |m| n.min(m)).max(1)
        }
    }
}

struct Runner<'a> {
    settings: &'a BenchSettings,
    exec: &'a mut dyn Executor,
    obs: &'a mut dyn Observer,
    states: Vec<State>,
}

impl Runner<'_> {
    fn command(&self, i: usize) -> &BenchCommand {
        &self.settings.commands[i]
    }

    fn aux(&mut self, what: &'static str, line: Option<&String>) -> Result<(), BenchError> {
        match line {
            Some(l) => self.exec.run_aux(what, l),
            None => Ok(()),
        }
    }

    fn one(&mut self, i: usize) -> Result<Sample, BenchError> {
        let cmd = &self.settings.commands[i];
        if let Some(p) = &cmd.prepare {
            self.exec.run_aux("prepare", p)?;
        }
        let s = self.exec.run(&cmd.command_line)?;
        if let (Some(exit), false) = (&s.failure, self.settings.ignore_failure) {
            return Err(BenchError::CommandFailed {
                command: cmd.command_line.clone(),
                exit: exit.clone(),
                stderr: tail_suffix(s.stderr_tail.as_deref()),
            });
        }
        Ok(s)
    }

    fn warm(&mut self, i: usize) -> Result<(), BenchError> {
        self.one(i)?;
        self.states[i].warmups += 1;
        Ok(())
    }

    fn timed(&mut self, i: usize) -> Result<(), BenchError> {
        let s = self.one(i)?;
        let st = &mut self.states[i];
        if st.planned.is_none() {
            st.planned = Some(plan(self.settings.runs, &s));
        }
        st.samples.push(s);
        let (done, planned) = (st.samples.len(), st.planned);
        let cmd = &self.settings.commands[i];
        self.obs.run_done(i, cmd, done, planned);
        Ok(())
    }

    fn interleaved(&mut self) -> Result<(), BenchError> {
        let n = self.states.len();
        for i in 0..n {
            let setup = self.command(i).setup.clone();
            self.aux("setup", setup.as_ref())?;
        }
        self.obs.warmup(self.settings.warmup * n);
        for _ in 0..self.settings.warmup {
            for i in 0..n {
                self.warm(i)?;
            }
        }
        while self.states.iter().any(State::remaining) {
            for i in 0..n {
                if self.states[i].remaining() {
                    self.timed(i)?;
                }
            }
        }
        for i in 0..n {
            let cleanup = self.command(i).cleanup.clone();
            self.aux("cleanup", cleanup.as_ref())?;
        }
        Ok(())
    }

    fn sequential(&mut self) -> Result<(), BenchError> {
        for i in 0..self.states.len() {
            let setup = self.command(i).setup.clone();
            self.aux("setup", setup.as_ref())?;
            self.obs.warmup(self.settings.warmup);
            for _ in 0..self.settings.warmup {
                self.warm(i)?;
            }
            while self.states[i].remaining() {
                self.timed(i)?;
            }
            let cleanup = self.command(i).cleanup.clone();
            self.aux("cleanup", cleanup.as_ref())?;
        }
        Ok(())
    }
}

/// Runs the benchmark and analyses it.
///
/// Ctrl-C (a [`BenchError::Interrupted`] from the executor) ends the loop early: the report
/// then covers the runs completed so far and has `interrupted` set. It is an error only when
/// no timed run had completed.
pub fn run(
    settings: &BenchSettings,
    exec: &mut dyn Executor,
    obs: &mut dyn Observer,
) -> Result<BenchReport, BenchError> {
    if settings.commands.is_empty() {
        return Err(BenchError::NoCommands);
    }
    if let RunCount::Fixed(0) = settings.runs {
        return Err(BenchError::InvalidSetting("--runs must be at least 1".into()));
    }
    let context = analysis::context(exec, settings.interleave, settings.metric);
    let states = settings.commands.iter().map(|_| State { samples: Vec::new(), planned: None, warmups: 0 }).collect();
    let mut runner = Runner { settings, exec, obs, states };
    let outcome = if settings.interleave { runner.interleaved() } else { runner.sequential() };
    let interrupted = interrupted(outcome, runner.states.iter().any(|s| !s.samples.is_empty()))?;
    let results = settings
        .commands
        .iter()
        .zip(&runner.states)
        .map(|(cmd, st)| analysis::result(cmd, &st.samples, st.warmups))
        .collect();
    Ok(analysis::report(results, settings, context, interrupted))
}

/// Whether a run ended by Ctrl-C: an interrupted run keeps what it measured, and is an error
/// only when nothing was measured. Other errors pass through.
pub(crate) fn interrupted(outcome: Result<(), BenchError>, measured_any: bool) -> Result<bool, BenchError> {
    match outcome {
        Ok(()) => Ok(false),
        Err(BenchError::Interrupted) if measured_any => Ok(true),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::MockExecutor;

    fn settings(cmds: &[&str]) -> BenchSettings {
        BenchSettings { commands: cmds.iter().map(|c| BenchCommand::new(*c)).collect(), ..Default::default() }
    }

    #[test]
    fn interleaves_by_default() {
        let mut s = settings(&["10", "20"]);
        s.runs = RunCount::Fixed(3);
        s.warmup = 1;
        let mut m = MockExecutor::new();
        let r = run(&s, &mut m, &mut NoProgress).unwrap();
        assert_eq!(m.log, ["10", "20", "10", "20", "10", "20", "10", "20"]);
        assert_eq!(r.results[0].times.len(), 3);
        assert_eq!(r.results[0].stats.as_ref().unwrap().warmup_runs, 1);
    }

    #[test]
    fn no_interleave_runs_commands_one_after_the_other() {
        let mut s = settings(&["10", "20"]);
        s.runs = RunCount::Fixed(2);
        s.interleave = false;
        let mut m = MockExecutor::new();
        run(&s, &mut m, &mut NoProgress).unwrap();
        assert_eq!(m.log, ["10", "10", "20", "20"]);
    }

    #[test]
    fn setup_prepare_cleanup_order() {
        let mut s = settings(&["10"]);
        s.commands[0].setup = Some("1".into());
        s.commands[0].prepare = Some("2".into());
        s.commands[0].cleanup = Some("3".into());
        s.runs = RunCount::Fixed(2);
        let mut m = MockExecutor::new();
        run(&s, &mut m, &mut NoProgress).unwrap();
        assert_eq!(m.log, ["1", "2", "10", "2", "10", "3"]);
    }

    #[test]
    fn auto_runs_fill_min_time_with_at_least_min_runs() {
        let mut s = settings(&["100", "1"]);
        s.runs = RunCount::Auto { min_runs: 10, min_time: Duration::from_secs(3), max_runs: Some(200) };
        let r = run(&s, &mut MockExecutor::new(), &mut NoProgress).unwrap();
        let slow = r.results[0].times.len();
        let fast = r.results[1].times.len();
        assert!((30..=32).contains(&slow), "{slow}");
        assert_eq!(fast, 200, "capped by max_runs");
        s.runs = RunCount::Auto { min_runs: 10, min_time: Duration::from_millis(1), max_runs: None };
        let r = run(&s, &mut MockExecutor::new(), &mut NoProgress).unwrap();
        assert_eq!(r.results[0].times.len(), 10);
    }

    #[test]
    fn failures_stop_unless_ignored() {
        let mut s = settings(&["10 fail"]);
        s.runs = RunCount::Fixed(3);
        let err = run(&s, &mut MockExecutor::new(), &mut NoProgress).unwrap_err().to_string();
        assert!(err.contains("'10 fail' failed (exit code 1): mock failure"), "{err}");
        s.ignore_failure = true;
        let r = run(&s, &mut MockExecutor::new(), &mut NoProgress).unwrap();
        assert_eq!(r.results[0].exit_codes, [1, 1, 1]);
        assert!(r.warnings.iter().any(|w| w.contains("non-zero")));
    }

    #[test]
    fn interruption_keeps_completed_runs() {
        let mut s = settings(&["10 interrupt-after 5", "20 interrupt-after 5"]);
        s.runs = RunCount::Fixed(10);
        let r = run(&s, &mut MockExecutor::new(), &mut NoProgress).unwrap();
        assert!(r.interrupted);
        assert_eq!(r.results[0].times.len(), 3);
        assert_eq!(r.results[1].times.len(), 2);
        let mut s = settings(&["10 interrupt-after 0"]);
        s.runs = RunCount::Fixed(10);
        assert!(matches!(run(&s, &mut MockExecutor::new(), &mut NoProgress), Err(BenchError::Interrupted)));
    }

    #[test]
    fn relative_speed_is_against_the_fastest_by_default() {
        let mut s = settings(&["20", "10"]);
        s.runs = RunCount::Fixed(20);
        let r = run(&s, &mut MockExecutor::new(), &mut NoProgress).unwrap();
        use tachy_report::bench::SpeedVerdict;
        assert_eq!(r.relative[1].verdict, SpeedVerdict::Reference);
        assert_eq!(r.relative[0].verdict, SpeedVerdict::Slower);
        let c = r.relative[0].comparison.unwrap();
        assert!((c.ratio.ratio - 2.0).abs() < 0.05);
        assert!(c.test.p_value < 0.001);
        s.reference = Some(0);
        let r = run(&s, &mut MockExecutor::new(), &mut NoProgress).unwrap();
        assert_eq!(r.relative[1].verdict, SpeedVerdict::Faster);
    }
}
