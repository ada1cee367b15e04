//! Chrome trace events (chrome://tracing, Perfetto): per thread, one complete (`X`) event for
//! every stretch of consecutive samples in which a frame stayed on the stack.

use std::io::Write;

use super::ProfileRenderError;
use crate::profile::Profile;

/// Renders the timeline as trace events (timestamps in microseconds), written straight to
/// bytes: a long profile makes millions of events.
pub fn render(profile: &Profile) -> Result<Vec<u8>, ProfileRenderError> {
    let rate = profile.meta.effective_rate();
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
        write!(
            out,
            "{{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":{pid},\"tid\":{tid},\"args\":{{\"name\":{label}}}}}"
        )?;
    }
    // Per thread, the frames on the stack with the time each was pushed; a frame popped becomes
    // one complete ("X") event with its duration.
    let mut open: Vec<Vec<(u32, u64)>> = vec![Vec::new(); profile.threads.len()];
    let mut last_ts: Vec<u64> = vec![0; profile.threads.len()];
    let mut event = |out: &mut Vec<u8>, fr: u32, begin: u64, end: u64, (pid, tid): (u32, u64)| -> std::io::Result<()> {
        sep(out);
        let name = names.get(fr as usize).map_or("\"?\"", String::as_str);
        let dur = end.saturating_sub(begin);
        write!(out, "{{\"name\":{name},\"ph\":\"X\",\"ts\":{begin},\"dur\":{dur},\"pid\":{pid},\"tid\":{tid}}}")
    };
    for (&stack, &ts) in profile.timeline.stacks.iter().zip(&profile.timeline.offsets_us) {
        let Some(s) = profile.stacks.get(stack as usize) else { continue };
        let ti = s.thread as usize;
        let (Some(current), Some(&id)) = (open.get_mut(ti), ids.get(ti)) else { continue };
        let common = current.iter().zip(&s.frames).take_while(|((a, _), b)| a == *b).count();
        while current.len() > common {
            let (fr, begin) = current.pop().unwrap_or_default();
            event(&mut out, fr, begin, ts, id)?;
        }
        current.extend(s.frames[common..].iter().map(|&fr| (fr, ts)));
        last_ts[ti] = ts;
    }
    for (ti, current) in open.iter_mut().enumerate() {
        let end = last_ts[ti].saturating_add(interval_us);
        while let Some((fr, begin)) = current.pop() {
            event(&mut out, fr, begin, end, ids[ti])?;
        }
    }
    out.extend_from_slice(b"]}");
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn complete_events_nest_per_thread() {
        let p = crate::profile::fixture::profile();
        let v: serde_json::Value = serde_json::from_slice(&super::render(&p).unwrap()).unwrap();
        let events = v["traceEvents"].as_array().unwrap();
        let xs: Vec<&serde_json::Value> = events.iter().filter(|e| e["ph"] == "X").collect();
        assert!(!xs.is_empty());
        for e in &xs {
            assert!(e["dur"].as_u64().unwrap() > 0, "{e}");
        }
        // Per thread, events either nest or are disjoint (a valid flame chart).
        for a in &xs {
            for b in &xs {
                if a["tid"] != b["tid"] {
                    continue;
                }
                let (a0, a1) = (a["ts"].as_u64().unwrap(), a["ts"].as_u64().unwrap() + a["dur"].as_u64().unwrap());
                let (b0, b1) = (b["ts"].as_u64().unwrap(), b["ts"].as_u64().unwrap() + b["dur"].as_u64().unwrap());
                assert!(a1 <= b0 || b1 <= a0 || (a0 <= b0 && b1 <= a1) || (b0 <= a0 && a1 <= b1));
            }
        }
        // The outermost frame spans the whole sampled time of the main thread.
        let module = xs.iter().find(|e| e["name"] == "<module> (main.py)" && e["tid"] == 4242).unwrap();
        assert_eq!(module["ts"], 10_000);
        assert!(events.iter().any(|e| e["ph"] == "M" && e["args"]["name"] == "worker (tid 4243)"));
    }
}
