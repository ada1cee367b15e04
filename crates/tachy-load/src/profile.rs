//! `--profile-pid`: samples the server process with tachy's profiler while the load runs,
//! writes the profile beside the results and keeps its hottest functions for the summary.
//! By default every running thread is sampled (wall-clock), so in a threaded server a line
//! that releases the GIL and keeps working (a database call, I/O) gets a share for each
//! thread in it; `--gil` samples only the GIL holder, `--idle` idle threads too. The report
//! says which view it is and recommends `--gil` when several threads ran at once.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use tachy_profile::{ProfileSettings, Session, Target};
use tachy_report::load::{ProfileLine, ProfileView, ServerProfile};
use tachy_report::profile::EndReason;

use crate::{LoadError, LoadSettings};

/// Functions listed in the summary.
const TOP: usize = 10;
/// Mean threads sampled per round from which `--gil` is recommended for a wall-clock view.
pub const SEVERAL_THREADS: f64 = 1.5;

/// A profiler running on its own thread.
pub struct ServerProfiler {
    pid: u32,
    out: PathBuf,
    view: ProfileView,
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Result<tachy_profile::ProfileOutcome, String>>,
}

impl ServerProfiler {
    /// Attaches to `pid` (failing now, before any load, when it cannot be read).
    pub fn start(pid: u32, settings: &LoadSettings) -> Result<Self, LoadError> {
        let mut ps = ProfileSettings::new(Target::Pid(pid));
        ps.rate = settings.profile_rate;
        ps.gil_only = settings.profile_gil;
        ps.idle = settings.profile_idle;
        let view = if settings.profile_gil {
            ProfileView::GilHolder
        } else if settings.profile_idle {
            ProfileView::AllThreads
        } else {
            ProfileView::RunningThreads
        };
        let out =
            settings.profile_out.clone().unwrap_or_else(|| PathBuf::from(format!("tachy-load-server-{pid}.json")));
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("tachy-load-profiler".into())
            .spawn(move || {
                let mut session = match Session::start(&ps) {
                    Ok(s) => {
                        let _ = tx.send(Ok(()));
                        s
                    }
                    Err(e) => {
                        let msg = e.to_string();
                        let _ = tx.send(Err(e));
                        return Err(msg);
                    }
                };
                let end = loop {
                    if flag.load(Ordering::SeqCst) {
                        break EndReason::Stopped;
                    }
                    if let Some(end) = session.step() {
                        break end;
                    }
                };
                session.finish(end).map_err(|e| e.to_string())
            })
            .map_err(LoadError::Runtime)?;
        match rx.recv() {
            Ok(Ok(())) => Ok(ServerProfiler { pid, out, view, stop, thread }),
            Ok(Err(e)) => Err(LoadError::InvalidSetting(format!("--profile-pid {pid}: {e}"))),
            Err(_) => Err(LoadError::InvalidSetting(format!("--profile-pid {pid}: the profiler stopped at once"))),
        }
    }

    /// Stops sampling, writes the profile and summarises it.
    pub fn finish(self) -> ServerProfile {
        self.stop.store(true, Ordering::SeqCst);
        let mut sp = ServerProfile {
            pid: self.pid,
            path: self.out.display().to_string(),
            samples: 0,
            view: self.view,
            threads_per_round: 0.0,
            top: Vec::new(),
            notes: Vec::new(),
            write_error: None,
        };
        let outcome = match self.thread.join() {
            Ok(Ok(o)) => o,
            Ok(Err(e)) => {
                sp.notes.push(format!("profiling failed: {e}"));
                return sp;
            }
            Err(_) => {
                sp.notes.push("the profiler thread panicked".into());
                return sp;
            }
        };
        sp.notes.extend(outcome.notes);
        let profile = outcome.profile;
        let total = profile.total_samples();
        sp.samples = total;
        if let Err(e) = tachy_profile::store::save(&profile, &self.out) {
            sp.notes.push(format!("cannot write the profile: {e}"));
            sp.write_error = Some(e.to_string());
        }
        sp.threads_per_round = threads_per_round(&profile.timeline.offsets_us);
        if sp.view != ProfileView::GilHolder && sp.threads_per_round >= SEVERAL_THREADS {
            sp.notes.push(format!(
                "several threads ran at once ({:.1} sampled per round on average): in this wall-clock view a line that releases the GIL (a database call, I/O, C code) is counted once per thread in it; add --gil to see where the thread holding the GIL spends its time",
                sp.threads_per_round
            ));
        }
        if total > 0 {
            let mut functions = profile.functions();
            functions.sort_by(|a, b| b.self_samples.cmp(&a.self_samples).then(b.total_samples.cmp(&a.total_samples)));
            sp.top = functions
                .into_iter()
                .take(TOP)
                .map(|f| ProfileLine {
                    location: format!("{}:{}", f.file, f.line),
                    function: f.function,
                    self_share: f.self_samples as f64 / total as f64,
                    total_share: f.total_samples as f64 / total as f64,
                })
                .collect();
        }
        sp
    }
}

/// Mean samples per sampling round that recorded any (samples of one round share an offset).
fn threads_per_round(offsets_us: &[u64]) -> f64 {
    let mut rounds = 0u64;
    let mut last = None;
    for &o in offsets_us {
        if last != Some(o) {
            rounds += 1;
            last = Some(o);
        }
    }
    if rounds == 0 { 0.0 } else { offsets_us.len() as f64 / rounds as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_per_round_counts_samples_of_a_round_together() {
        assert_eq!(threads_per_round(&[]), 0.0);
        assert_eq!(threads_per_round(&[10, 20, 30]), 1.0);
        assert_eq!(threads_per_round(&[10, 10, 10, 20, 20, 30]), 2.0);
    }
}
