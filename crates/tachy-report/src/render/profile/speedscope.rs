//! speedscope JSON: one sampled profile per thread, in time order, over a shared frame table.

use serde::Serialize;

use super::ProfileRenderError;
use crate::profile::Profile;

#[derive(Serialize)]
struct Doc<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    name: String,
    exporter: String,
    #[serde(rename = "activeProfileIndex")]
    active_profile_index: usize,
    shared: Shared<'a>,
    profiles: Vec<Sampled<'a>>,
}

#[derive(Serialize)]
struct Shared<'a> {
    frames: Vec<Frame<'a>>,
}

#[derive(Serialize)]
struct Frame<'a> {
    name: &'a str,
    file: &'a str,
    line: i32,
}

#[derive(Serialize)]
struct Sampled<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    name: String,
    unit: &'static str,
    #[serde(rename = "startValue")]
    start_value: f64,
    #[serde(rename = "endValue")]
    end_value: f64,
    samples: Vec<&'a [u32]>,
    weights: Vec<f64>,
}

/// Renders the profile as a speedscope file (serialised straight from borrowed data).
pub fn render(profile: &Profile) -> Result<Vec<u8>, ProfileRenderError> {
    let frames =
        profile.frames.iter().map(|f| Frame { name: &f.function, file: f.display_file(), line: f.line }).collect();
    let rate = profile.meta.effective_rate();
    let interval = if rate > 0.0 { 1.0 / rate } else { 0.01 };
    let mut per_thread: Vec<(Vec<&[u32]>, f64, f64)> = vec![(Vec::new(), f64::MAX, 0.0); profile.threads.len()];
    for (&stack, &t_us) in profile.timeline.stacks.iter().zip(&profile.timeline.offsets_us) {
        let Some(s) = profile.stacks.get(stack as usize) else { continue };
        if let Some(entry) = per_thread.get_mut(s.thread as usize) {
            let t = t_us as f64 / 1e6;
            entry.0.push(&s.frames);
            entry.1 = entry.1.min(t);
            entry.2 = entry.2.max(t + interval);
        }
    }
    let multi = profile.multi_process();
    let profiles = profile
        .threads
        .iter()
        .zip(per_thread)
        .filter(|(_, (samples, _, _))| !samples.is_empty())
        .map(|(t, (samples, start, end))| Sampled {
            kind: "sampled",
            name: if multi { format!("{} · process {}", t.label(), t.pid) } else { t.label() },
            unit: "seconds",
            start_value: start,
            end_value: end,
            weights: vec![interval; samples.len()],
            samples,
        })
        .collect();
    let doc = Doc {
        schema: "https://www.speedscope.app/file-format-schema.json",
        name: profile.meta.command.join(" "),
        exporter: format!("tachy {}", profile.tachy_version),
        active_profile_index: 0,
        shared: Shared { frames },
        profiles,
    };
    Ok(serde_json::to_vec(&doc)?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn follows_the_speedscope_schema() {
        let p = crate::profile::fixture::profile();
        let v: serde_json::Value = serde_json::from_slice(&super::render(&p).unwrap()).unwrap();
        assert_eq!(v["$schema"], "https://www.speedscope.app/file-format-schema.json");
        let frames = v["shared"]["frames"].as_array().unwrap();
        assert!(frames.iter().all(|f| f["name"].is_string()));
        let profiles = v["profiles"].as_array().unwrap();
        assert_eq!(profiles.len(), 2);
        let mut total = 0;
        for pr in profiles {
            assert_eq!(pr["type"], "sampled");
            assert!(pr["unit"] == "seconds");
            let samples = pr["samples"].as_array().unwrap();
            assert_eq!(samples.len(), pr["weights"].as_array().unwrap().len());
            for s in samples {
                for idx in s.as_array().unwrap() {
                    assert!((idx.as_u64().unwrap() as usize) < frames.len());
                }
            }
            assert!(pr["endValue"].as_f64().unwrap() > pr["startValue"].as_f64().unwrap());
            total += samples.len();
        }
        assert_eq!(total as u64, p.total_samples());
    }
}
