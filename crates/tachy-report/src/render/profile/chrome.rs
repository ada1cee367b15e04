//! Chrome trace events (chrome://tracing, Perfetto): per thread, a begin/end event pair for
//! every stretch of consecutive samples in which a frame stayed on the stack.

use std::io::Write;

use super::ProfileRenderError;
use crate::profile::Profile;

/// Renders the timeline as trace events (timestamps in microseconds), written straight to
/// bytes: a long profile makes millions of events.
pub fn render(profile: &Profile) -> Result<Vec<u8>, ProfileRenderError> {
    let rate = if profile.meta.rate_achieved > 0.0 { profile.meta.rate_achieved } else { profile.meta.rate_requested };
    let interval_us = if rate > 0.0 { (1e6 / rate) as u64 } else { 10_000 };
    // Every frame's name, already a JSON string literal.
    let names: Vec<String> = profile
        .frames
        .iter()
        .map(|f| serde_json::to_string(&format!("{} ({})", f.function, f.display_file())))
        .collect::<Result<_, _>>()?;
    let ids: Vec<(u32, u64)> = profile.threads.iter().map(|t| (t.pid, t.os_thread_id.unwrap_or(t.thread_id))).collect();
    let mut out: Vec<u8> = Vec::with_capacity(64 * profile.timeline.stacks.len().min(1 << 22));
    out.extend_from_slice(b"{\"displayTimeUnit\":\"ms\",\"traceEvents\":[");
    let mut first = true;
    let mut sep = |out: &mut Vec<u8>| {
        if !std::mem::take(&mut first) {
            out.push(b',');
        }
    };
    for (t, &(pid, tid)) in profile.threads.iter().zip(&ids) {
        sep(&mut out);
        let label = serde_json::to_string(&t.label())?;
        write!(out, "{{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":{pid},\"tid\":{tid},\"args\":{{\"name\":{label}}}}}")?;
    }
    let mut open: Vec<Vec<u32>> = vec![Vec::new(); profile.threads.len()];
    let mut last_ts: Vec<u64> = vec![0; profile.threads.len()];
    let mut event = |out: &mut Vec<u8>, fr: u32, ph: char, ts: u64, (pid, tid): (u32, u64)| -> std::io::Result<()> {
        sep(out);
        let name = names.get(fr as usize).map_or("\"?\"", String::as_str);
        write!(out, "{{\"name\":{name},\"ph\":\"{ph}\",\"ts\":{ts},\"pid\":{pid},\"tid\":{tid}}}")
    };
    for (&stack, &ts) in profile.timeline.stacks.iter().zip(&profile.timeline.offsets_us) {
        let Some(s) = profile.stacks.get(stack as usize) else { continue };
        let ti = s.thread as usize;
        let (Some(current), Some(&id)) = (open.get_mut(ti), ids.get(ti)) else { continue };
        let common = current.iter().zip(&s.frames).take_while(|(a, b)| a == b).count();
        while current.len() > common {
            let fr = current.pop().unwrap_or_default();
            event(&mut out, fr, 'E', ts, id)?;
        }
        for &fr in &s.frames[common..] {
            event(&mut out, fr, 'B', ts, id)?;
            current.push(fr);
        }
        last_ts[ti] = ts;
    }
    for (ti, current) in open.iter_mut().enumerate() {
        let end = last_ts[ti] + interval_us;
        while let Some(fr) = current.pop() {
            event(&mut out, fr, 'E', end, ids[ti])?;
        }
    }
    out.extend_from_slice(b"]}");
    Ok(out)
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
