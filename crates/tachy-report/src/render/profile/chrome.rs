//! Chrome trace events (chrome://tracing, Perfetto): per thread, a begin/end event pair for
//! every stretch of consecutive samples in which a frame stayed on the stack.

use serde_json::{Value, json};

use super::ProfileRenderError;
use crate::profile::Profile;

/// Renders the timeline as trace events (timestamps in microseconds).
pub fn render(profile: &Profile) -> Result<Vec<u8>, ProfileRenderError> {
    let rate = if profile.meta.rate_achieved > 0.0 { profile.meta.rate_achieved } else { profile.meta.rate_requested };
    let interval_us = if rate > 0.0 { (1e6 / rate) as u64 } else { 10_000 };
    let mut events: Vec<Value> = Vec::new();
    for t in &profile.threads {
        let tid = t.os_thread_id.unwrap_or(t.thread_id);
        events.push(json!({"name": "thread_name", "ph": "M", "pid": t.pid, "tid": tid, "args": {"name": t.label()}}));
    }
    let mut open: Vec<Vec<u32>> = vec![Vec::new(); profile.threads.len()];
    let mut last_ts: Vec<u64> = vec![0; profile.threads.len()];
    let name = |fr: u32| {
        profile
            .frames
            .get(fr as usize)
            .map_or_else(|| "?".to_string(), |f| format!("{} ({})", f.function, f.display_file()))
    };
    for (&stack, &ts) in profile.timeline.stacks.iter().zip(&profile.timeline.offsets_us) {
        let Some(s) = profile.stacks.get(stack as usize) else { continue };
        let ti = s.thread as usize;
        let Some(t) = profile.threads.get(ti) else { continue };
        let (pid, tid) = (t.pid, t.os_thread_id.unwrap_or(t.thread_id));
        let current = &mut open[ti];
        let common = current.iter().zip(&s.frames).take_while(|(a, b)| a == b).count();
        while current.len() > common {
            let fr = current.pop().unwrap_or_default();
            events.push(json!({"name": name(fr), "ph": "E", "ts": ts, "pid": pid, "tid": tid}));
        }
        for &fr in &s.frames[common..] {
            events.push(json!({"name": name(fr), "ph": "B", "ts": ts, "pid": pid, "tid": tid}));
            current.push(fr);
        }
        last_ts[ti] = ts;
    }
    for (ti, current) in open.iter_mut().enumerate() {
        let t = &profile.threads[ti];
        let end = last_ts[ti] + interval_us;
        while let Some(fr) = current.pop() {
            events.push(json!({"name": name(fr), "ph": "E", "ts": end, "pid": t.pid, "tid": t.os_thread_id.unwrap_or(t.thread_id)}));
        }
    }
    Ok(serde_json::to_vec(&json!({"traceEvents": events, "displayTimeUnit": "ms"}))?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn begin_and_end_events_balance_per_thread() {
        let p = crate::profile::fixture::profile();
        let v: serde_json::Value = serde_json::from_slice(&super::render(&p).unwrap()).unwrap();
        let events = v["traceEvents"].as_array().unwrap();
        let mut depth: std::collections::HashMap<u64, i64> = Default::default();
        let mut last = 0;
        for e in events.iter().filter(|e| e["ph"] != "M") {
            let tid = e["tid"].as_u64().unwrap();
            let ts = e["ts"].as_u64().unwrap();
            assert!(ts >= last || e["ph"] == "E", "time goes forward");
            last = last.max(ts);
            *depth.entry(tid).or_default() += if e["ph"] == "B" { 1 } else { -1 };
            assert!(depth[&tid] >= 0);
        }
        assert!(depth.values().all(|&d| d == 0));
        assert!(events.iter().any(|e| e["ph"] == "M" && e["args"]["name"] == "worker (tid 4243)"));
    }
}
