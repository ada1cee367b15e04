//! speedscope JSON: one sampled profile per thread, in time order, over a shared frame table.

use std::borrow::Cow;

use serde::Serialize;

use super::ProfileRenderError;
use crate::profile::Profile;

/// The `$schema` of a speedscope file.
const SCHEMA: &str = "https://www.speedscope.app/file-format-schema.json";

/// A speedscope file: sampled profiles over a shared frame table.
#[derive(Serialize)]
struct Doc<'a, W> {
    /// The file format's schema URL.
    #[serde(rename = "$schema")]
    schema: &'static str,
    /// The file's name in speedscope's title bar.
    name: String,
    /// What wrote the file: `tachy <version>`.
    exporter: String,
    /// The profile shown first.
    #[serde(rename = "activeProfileIndex")]
    active_profile_index: usize,
    /// The frame table.
    shared: Shared<'a>,
    /// The profiles.
    profiles: Vec<Sampled<'a, W>>,
}

/// The frame table shared by the profiles.
#[derive(Serialize)]
struct Shared<'a> {
    /// The frames, referred to by index.
    frames: Vec<Frame<'a>>,
}

/// One frame of the shared table.
#[derive(Serialize)]
pub(crate) struct Frame<'a> {
    /// Function name.
    pub(crate) name: &'a str,
    /// Source file.
    pub(crate) file: &'a str,
    /// Line number.
    pub(crate) line: i64,
}

/// Stacks, root first, as indices into the shared frames (borrowed from the report or built).
pub(crate) type Stacks<'a> = Vec<Cow<'a, [u32]>>;

/// A "sampled" profile: stacks (root first, as frame indices) and their weights in `W`.
#[derive(Serialize)]
pub(crate) struct Sampled<'a, W> {
    /// Always `sampled`.
    #[serde(rename = "type")]
    kind: &'static str,
    /// The profile's name in speedscope's profile list.
    name: String,
    /// The unit of the weights, e.g. `seconds`, `bytes`.
    unit: &'static str,
    /// Where the profile starts, in the weights' unit.
    #[serde(rename = "startValue")]
    start_value: W,
    /// Where the profile ends, in the weights' unit.
    #[serde(rename = "endValue")]
    end_value: W,
    /// The stacks, root first, as indices into the shared frames.
    samples: Stacks<'a>,
    /// The weight of each stack.
    weights: Vec<W>,
}

impl<'a, W> Sampled<'a, W> {
    /// A sampled profile `name` from `start` to `end`, its weights in `unit`.
    pub(crate) fn new(
        name: String,
        unit: &'static str,
        (start, end): (W, W),
        samples: Stacks<'a>,
        weights: Vec<W>,
    ) -> Self {
        Sampled { kind: "sampled", name, unit, start_value: start, end_value: end, samples, weights }
    }
}

/// Serialises a speedscope file named `name` with the first profile active.
pub(crate) fn document<W: Serialize>(
    name: String,
    exporter: String,
    frames: Vec<Frame<'_>>,
    profiles: Vec<Sampled<'_, W>>,
) -> serde_json::Result<Vec<u8>> {
    let doc = Doc { schema: SCHEMA, name, exporter, active_profile_index: 0, shared: Shared { frames }, profiles };
    serde_json::to_vec(&doc)
}

/// Renders the profile as a speedscope file (serialised straight from borrowed data).
pub fn render(profile: &Profile) -> Result<Vec<u8>, ProfileRenderError> {
    let frames = profile
        .frames
        .iter()
        .map(|f| Frame { name: &f.function, file: f.display_file(), line: i64::from(f.line) })
        .collect();
    let rate = profile.meta.effective_rate();
    let interval = if rate > 0.0 { 1.0 / rate } else { 0.01 };
    let mut per_thread: Vec<(Stacks, f64, f64)> = vec![(Vec::new(), f64::MAX, 0.0); profile.threads.len()];
    for (&stack, &t_us) in profile.timeline.stacks.iter().zip(&profile.timeline.offsets_us) {
        let Some(s) = profile.stacks.get(stack as usize) else { continue };
        if let Some(entry) = per_thread.get_mut(s.thread as usize) {
            let t = t_us as f64 / 1e6;
            entry.0.push(Cow::Borrowed(&s.frames));
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
        .map(|(t, (samples, start, end))| {
            let name = if multi { format!("{} · process {}", t.label(), t.pid) } else { t.label() };
            let weights = vec![interval; samples.len()];
            Sampled::new(name, "seconds", (start, end), samples, weights)
        })
        .collect();
    Ok(document(profile.meta.command.join(" "), format!("tachy {}", profile.tachy_version), frames, profiles)?)
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
