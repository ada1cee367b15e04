//! `--profile-pid`: samples the server process with tachy's profiler while the load runs,
//! writes the profile beside the results and keeps its hottest functions for the summary.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use tachy_profile::{ProfileSettings, Session, Target};
use tachy_report::load::{ProfileLine, ServerProfile};
use tachy_report::profile::EndReason;

use crate::{LoadError, LoadSettings};

/// Functions listed in the summary.
const TOP: usize = 10;

/// A profiler running on its own thread.
pub struct ServerProfiler {
    pid: u32,
    out: PathBuf,
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Result<tachy_profile::ProfileOutcome, String>>,
}

impl ServerProfiler {
    /// Attaches to `pid` (failing now, before any load, when it cannot be read).
    pub fn start(pid: u32, settings: &LoadSettings) -> Result<Self, LoadError> {
        let mut ps = ProfileSettings::new(Target::Pid(pid));
        ps.rate = settings.profile_rate;
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
            Ok(Ok(())) => Ok(ServerProfiler { pid, out, stop, thread }),
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
            top: Vec::new(),
            notes: Vec::new(),
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
