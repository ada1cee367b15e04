//! Reading any tachy result file by its `schema` string: bench, load, profile, mem, watch,
//! lint and check reports, for `tachy report` and `tachy check --report`.
//!
//! The top-level `schema` field picks the model; an unknown schema or version, a file without
//! one, malformed JSON or a document that does not match its schema are errors naming what was
//! found and what is accepted. Saved profiles and memory reports are also checked for frame and
//! stack indices out of range, so renderers never meet a dangling index.

use std::path::Path;

use serde::Deserialize;

use crate::bench::{BENCH_SCHEMA, BenchReport};
use crate::check::{CHECK_SCHEMA, CheckReport};
use crate::lint::{LINT_SCHEMA, LintReport};
use crate::load::{LOAD_SCHEMA, LoadReport};
use crate::mem::{MEM_SCHEMA, MemReport};
use crate::profile::{PROFILE_SCHEMA, Profile};
use crate::watch::{WATCH_SCHEMA, WatchReport};

/// Every schema [`from_json`] reads, in the order of the [`AnyResult`] variants.
pub const ACCEPTED_SCHEMAS: [&str; 7] =
    [BENCH_SCHEMA, LOAD_SCHEMA, PROFILE_SCHEMA, MEM_SCHEMA, WATCH_SCHEMA, LINT_SCHEMA, CHECK_SCHEMA];

/// One tachy result of any kind.
// A handful of values per page: boxing the large reports would only complicate matching.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum AnyResult {
    /// `tachy bench --export-json` (`tachy-bench/1`).
    Bench(BenchReport),
    /// `tachy load --export-json` (`tachy-load/1`).
    Load(LoadReport),
    /// `tachy profile -o` (`tachy-profile/1`).
    Profile(Profile),
    /// `tachy mem -o` (`tachy-mem/1`).
    Mem(MemReport),
    /// `tachy watch --json` (`tachy-watch/1`).
    Watch(WatchReport),
    /// `tachy lint --output-format json` (`tachy-lint/1`).
    Lint(LintReport),
    /// `tachy check --json` (`tachy-check/1`).
    Check(CheckReport),
}

impl AnyResult {
    /// The kind of result: `bench`, `load`, `profile`, `mem`, `watch`, `lint` or `check`.
    pub fn kind(&self) -> &'static str {
        match self {
            AnyResult::Bench(_) => "bench",
            AnyResult::Load(_) => "load",
            AnyResult::Profile(_) => "profile",
            AnyResult::Mem(_) => "mem",
            AnyResult::Watch(_) => "watch",
            AnyResult::Lint(_) => "lint",
            AnyResult::Check(_) => "check",
        }
    }

    /// The schema string of the result, as written in the file.
    pub fn schema(&self) -> &str {
        match self {
            AnyResult::Bench(r) => &r.schema,
            AnyResult::Load(r) => &r.schema,
            AnyResult::Profile(r) => &r.schema,
            AnyResult::Mem(r) => &r.schema,
            AnyResult::Watch(r) => &r.schema,
            AnyResult::Lint(r) => &r.schema,
            AnyResult::Check(r) => &r.schema,
        }
    }

    /// The tachy version that wrote the result.
    pub fn tachy_version(&self) -> &str {
        match self {
            AnyResult::Bench(r) => &r.tachy_version,
            AnyResult::Load(r) => &r.tachy_version,
            AnyResult::Profile(r) => &r.tachy_version,
            AnyResult::Mem(r) => &r.tachy_version,
            AnyResult::Watch(r) => &r.tachy_version,
            AnyResult::Lint(r) => &r.tachy_version,
            AnyResult::Check(r) => &r.tachy_version,
        }
    }
}

/// A result file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ResultError {
    /// The file could not be read.
    #[error("cannot read {path}: {error}")]
    Io {
        /// The file.
        path: String,
        /// Why (part of the message, so not a separate source).
        error: std::io::Error,
    },
    /// The bytes are not JSON.
    #[error("not valid JSON ({0}); expected a tachy result file")]
    Json(serde_json::Error),
    /// The JSON has no string `schema` field at the top.
    #[error("no \"schema\" field: not a tachy result file (accepted schemas: {})", accepted())]
    NoSchema,
    /// The schema is not one this version reads.
    #[error("unknown schema \"{found}\"{hint} (accepted schemas: {})", accepted())]
    UnknownSchema {
        /// The schema found in the file.
        found: String,
        /// Extra words for a known kind of another version.
        hint: &'static str,
    },
    /// The document does not match its schema.
    #[error("invalid {schema} file: {message}")]
    Invalid {
        /// The schema of the file.
        schema: String,
        /// What is wrong.
        message: String,
    },
}

/// The accepted schemas as one comma-separated list.
fn accepted() -> String {
    ACCEPTED_SCHEMAS.join(", ")
}

/// Only the `schema` field of a document.
#[derive(Deserialize)]
struct Head {
    /// The schema, when it is a string.
    #[serde(default)]
    schema: Option<serde_json::Value>,
}

/// Reads a result from JSON bytes, choosing the model by the top-level `schema` string.
pub fn from_json(bytes: &[u8]) -> Result<AnyResult, ResultError> {
    let head: Head = serde_json::from_slice(bytes).map_err(ResultError::Json)?;
    let schema = match head.schema {
        Some(serde_json::Value::String(s)) => s,
        _ => return Err(ResultError::NoSchema),
    };
    fn parse<T: serde::de::DeserializeOwned>(bytes: &[u8], schema: &str) -> Result<T, ResultError> {
        serde_json::from_slice(bytes)
            .map_err(|e| ResultError::Invalid { schema: schema.to_string(), message: e.to_string() })
    }
    let result = match schema.as_str() {
        BENCH_SCHEMA => AnyResult::Bench(parse(bytes, &schema)?),
        LOAD_SCHEMA => AnyResult::Load(parse(bytes, &schema)?),
        PROFILE_SCHEMA => AnyResult::Profile(validate_profile(parse(bytes, &schema)?)?),
        MEM_SCHEMA => AnyResult::Mem(validate_mem(parse(bytes, &schema)?)?),
        WATCH_SCHEMA => AnyResult::Watch(parse(bytes, &schema)?),
        LINT_SCHEMA => AnyResult::Lint(parse(bytes, &schema)?),
        CHECK_SCHEMA => AnyResult::Check(parse(bytes, &schema)?),
        _ => {
            let kind = schema.split('/').next().unwrap_or_default();
            let known = ACCEPTED_SCHEMAS.iter().any(|s| s.split('/').next() == Some(kind));
            let hint = if known { ": a version this tachy does not read (written by a newer tachy?)" } else { "" };
            return Err(ResultError::UnknownSchema { found: schema, hint });
        }
    };
    Ok(result)
}

/// Reads a result file (see [`from_json`]).
pub fn load(path: impl AsRef<Path>) -> Result<AnyResult, ResultError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|error| ResultError::Io { path: path.display().to_string(), error })?;
    from_json(&bytes)
}

/// An [`ResultError::Invalid`] of `schema` saying `message`.
fn invalid(schema: &str, message: String) -> ResultError {
    ResultError::Invalid { schema: schema.to_string(), message }
}

/// Checks that every stack of a profile names existing frames and threads.
fn validate_profile(p: Profile) -> Result<Profile, ResultError> {
    for (i, s) in p.stacks.iter().enumerate() {
        if s.thread as usize >= p.threads.len() && !p.threads.is_empty() {
            return Err(invalid(PROFILE_SCHEMA, format!("stack {i} names thread {} of {}", s.thread, p.threads.len())));
        }
        if let Some(f) = s.frames.iter().find(|&&f| f as usize >= p.frames.len()) {
            return Err(invalid(PROFILE_SCHEMA, format!("stack {i} names frame {f} of {}", p.frames.len())));
        }
    }
    if let Some(s) = p.timeline.stacks.iter().find(|&&s| s as usize >= p.stacks.len()) {
        return Err(invalid(PROFILE_SCHEMA, format!("the timeline names stack {s} of {}", p.stacks.len())));
    }
    if let Some(problem) = p.count_problem() {
        return Err(invalid(PROFILE_SCHEMA, problem));
    }
    Ok(p)
}

/// Checks that every stack of a memory report names existing frames, and every site an
/// existing stack.
fn validate_mem(m: MemReport) -> Result<MemReport, ResultError> {
    for (i, s) in m.stacks.iter().enumerate() {
        if let Some(f) = s.frames.iter().find(|&&f| f as usize >= m.frames.len()) {
            return Err(invalid(MEM_SCHEMA, format!("stack {i} names frame {f} of {}", m.frames.len())));
        }
    }
    let sites = m.peak_sites.iter().chain(&m.allocated_sites).chain(&m.leak_sites);
    if let Some(s) = sites.into_iter().find(|s| s.stack as usize >= m.stacks.len() && !m.stacks.is_empty()) {
        return Err(invalid(MEM_SCHEMA, format!("a site names stack {} of {}", s.stack, m.stacks.len())));
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to_json<T: serde::Serialize>(v: &T) -> Vec<u8> {
        serde_json::to_vec(v).unwrap()
    }

    #[test]
    fn dispatches_on_the_schema() {
        let bench = to_json(&crate::render::fixture::report());
        assert!(matches!(from_json(&bench).unwrap(), AnyResult::Bench(_)));
        let profile = to_json(&crate::profile::fixture::profile());
        let r = from_json(&profile).unwrap();
        assert_eq!((r.kind(), r.schema()), ("profile", PROFILE_SCHEMA));
        let lint = to_json(&crate::render::lint::fixture());
        assert!(matches!(from_json(&lint).unwrap(), AnyResult::Lint(_)));
        let mem = to_json(&crate::render::mem::fixture::report());
        assert!(matches!(from_json(&mem).unwrap(), AnyResult::Mem(_)));
        let watch = to_json(&crate::render::watch::fixture::report());
        assert!(matches!(from_json(&watch).unwrap(), AnyResult::Watch(_)));
        let load = to_json(&crate::render::load::fixture::closed());
        assert!(matches!(from_json(&load).unwrap(), AnyResult::Load(_)));
    }

    #[test]
    fn unknown_versions_name_the_schema_and_the_accepted_ones() {
        let err = from_json(br#"{"schema": "tachy-bench/2"}"#).unwrap_err().to_string();
        assert!(err.contains("\"tachy-bench/2\""), "{err}");
        assert!(err.contains("newer tachy"), "{err}");
        assert!(err.contains("tachy-bench/1, tachy-load/1, tachy-profile/1"), "{err}");
        let err = from_json(br#"{"schema": "other/1"}"#).unwrap_err().to_string();
        assert!(err.starts_with("unknown schema \"other/1\" (accepted"), "{err}");
        let err = from_json(br#"{"results": []}"#).unwrap_err().to_string();
        assert!(err.starts_with("no \"schema\" field"), "{err}");
        let err = from_json(br#"{"schema": 3}"#).unwrap_err().to_string();
        assert!(err.starts_with("no \"schema\" field"), "{err}");
        let err = from_json(b"[1, 2]").unwrap_err().to_string();
        assert!(err.starts_with("not valid JSON"), "{err}");
    }

    #[test]
    fn malformed_and_mismatched_documents_are_errors() {
        assert!(matches!(from_json(b"{\"schema\": ").unwrap_err(), ResultError::Json(_)));
        assert!(matches!(from_json(b"").unwrap_err(), ResultError::Json(_)));
        let err = from_json(br#"{"schema": "tachy-lint/1", "files": "many"}"#).unwrap_err().to_string();
        assert!(err.starts_with("invalid tachy-lint/1 file: "), "{err}");
    }

    #[test]
    fn dangling_indices_are_refused() {
        let mut p = crate::profile::fixture::profile();
        p.stacks[0].frames.push(99);
        let err = from_json(&to_json(&p)).unwrap_err().to_string();
        assert!(err.contains("names frame 99 of 4"), "{err}");
        let mut p = crate::profile::fixture::profile();
        p.timeline.stacks.push(7);
        assert!(from_json(&to_json(&p)).unwrap_err().to_string().contains("timeline names stack 7"));
        let mut m = crate::render::mem::fixture::report();
        m.stacks[0].frames.push(1000);
        assert!(from_json(&to_json(&m)).unwrap_err().to_string().contains("names frame 1000"));
    }

    #[test]
    fn load_names_a_missing_file() {
        let err = load("/no/such/result.json").unwrap_err().to_string();
        assert!(err.starts_with("cannot read /no/such/result.json: "), "{err}");
    }
}
