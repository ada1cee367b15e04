//! Saving and loading `tachy-profile/1` files, with validation of everything read.

use std::path::Path;

use tachy_report::profile::{PROFILE_SCHEMA, Profile};

use crate::ProfileError;

/// The profile as compact JSON (what [`save`] writes).
pub fn to_bytes(profile: &Profile) -> Result<Vec<u8>, ProfileError> {
    serde_json::to_vec(profile).map_err(|e| ProfileError::InvalidSetting(format!("cannot serialise: {e}")))
}

/// Writes the profile as compact JSON.
pub fn save(profile: &Profile, path: &Path) -> Result<(), ProfileError> {
    let bytes = to_bytes(profile)?;
    std::fs::write(path, bytes).map_err(|e| ProfileError::Io { action: "write", path: path.to_path_buf(), source: e })
}

/// Reads and validates a saved profile.
pub fn load(path: &Path) -> Result<Profile, ProfileError> {
    let bytes =
        std::fs::read(path).map_err(|e| ProfileError::Io { action: "read", path: path.to_path_buf(), source: e })?;
    parse(path, &bytes)
}

/// Parses and validates profile bytes (`path` only names the file in messages).
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Profile, ProfileError> {
    let foreign = |detail: String| ProfileError::Foreign { path: path.to_path_buf(), detail };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ProfileError::EmptyFile { path: path.to_path_buf() });
    }
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return Err(foreign("it is gzip-compressed (a pprof file?); give the JSON written by -o".into()));
    }
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| ProfileError::InvalidJson {
        path: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        message: e.to_string().split(" at line").next().unwrap_or_default().to_string(),
    })?;
    match value.get("schema").and_then(|s| s.as_str()) {
        Some(PROFILE_SCHEMA) => {}
        Some(s) if s.starts_with("tachy-profile/") => {
            return Err(ProfileError::UnsupportedVersion { path: path.to_path_buf(), found: s.to_string() });
        }
        Some(s) => return Err(foreign(format!("its schema is '{s}'"))),
        None => return Err(foreign("it has no `schema` field (expected 'tachy-profile/1')".into())),
    }
    let profile: Profile =
        serde_json::from_value(value).map_err(|e| foreign(format!("a field is missing or malformed ({e})")))?;
    validate(&profile).map_err(foreign)?;
    Ok(profile)
}

fn validate(p: &Profile) -> Result<(), String> {
    let (nf, nt, ns) = (p.frames.len(), p.threads.len(), p.stacks.len());
    for (i, s) in p.stacks.iter().enumerate() {
        if s.thread as usize >= nt {
            return Err(format!("stack {i} names thread {} of {nt}", s.thread));
        }
        if let Some(f) = s.frames.iter().find(|&&f| f as usize >= nf) {
            return Err(format!("stack {i} names frame {f} of {nf}"));
        }
    }
    if p.stacks.iter().try_fold(0u64, |sum, s| sum.checked_add(s.count)).is_none() {
        return Err("its stack counts add up to more than 2^64 samples".into());
    }
    if p.timeline.offsets_us.len() != p.timeline.stacks.len() {
        return Err("the timeline's two arrays differ in length".into());
    }
    if let Some(s) = p.timeline.stacks.iter().find(|&&s| s as usize >= ns) {
        return Err(format!("the timeline names stack {s} of {ns}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use tachy_report::profile::{ProfileBuilder, ProfileMeta};

    use super::*;

    fn sample() -> Profile {
        let mut b = ProfileBuilder::new();
        let f = b.frame("f", "/a.py", 1, None);
        let t = b.thread(1, 1, None, None);
        b.sample(t, &[f], 0);
        b.finish(ProfileMeta::default())
    }

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.json");
        save(&sample(), &path).unwrap();
        assert_eq!(load(&path).unwrap(), sample());
    }

    #[test]
    fn bad_files_are_named_precisely() {
        let err = |b: &[u8]| parse(Path::new("x.json"), b).unwrap_err().to_string();
        assert!(err(b"").contains("is empty"));
        assert!(err(b"{oops").contains("not valid JSON"));
        assert!(err(b"{\"results\": []}").contains("no `schema` field"));
        assert!(err(b"{\"schema\": \"tachy-bench/1\"}").contains("its schema is 'tachy-bench/1'"));
        assert!(err(b"{\"schema\": \"tachy-profile/7\"}").contains("cannot read"));
        assert!(err(&[0x1f, 0x8b, 8, 0]).contains("gzip"));
        let mut broken = serde_json::to_value(sample()).unwrap();
        broken["stacks"][0]["frames"][0] = 99.into();
        assert!(err(&serde_json::to_vec(&broken).unwrap()).contains("names frame 99"));
        let mut broken = serde_json::to_value(sample()).unwrap();
        broken["meta"] = serde_json::json!(1);
        assert!(err(&serde_json::to_vec(&broken).unwrap()).contains("malformed"));
    }
}
