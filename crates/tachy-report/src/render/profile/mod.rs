//! Renderers of a [`Profile`]: one module per format.
//!
//! | format      | module         | readable by |
//! |-------------|----------------|-------------|
//! | text        | [`text`]       | people (top functions, hot lines) |
//! | json        | (serde)        | `tachy profile show/diff`, `tachy lint --profile` |
//! | collapsed   | [`collapsed`]  | flamegraph.pl, inferno, speedscope |
//! | flamegraph  | [`flamegraph`] | any browser (self-contained, searchable SVG) |
//! | speedscope  | [`speedscope`] | speedscope.app |
//! | pprof       | [`pprof`]      | `go tool pprof`, Pyroscope, Parca |
//! | chrome      | [`chrome`]     | chrome://tracing, Perfetto |

pub mod chrome;
pub mod collapsed;
pub mod diff;
pub mod flamegraph;
pub mod pprof;
pub mod speedscope;
pub mod text;

use crate::profile::Profile;

/// Output formats of a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum ProfileFormat {
    /// Terminal summary.
    Text,
    /// The saved tachy profile (compact JSON).
    Json,
    /// Collapsed stacks, one `a;b;c count` line per stack.
    Collapsed,
    /// Flamegraph SVG.
    Flamegraph,
    /// speedscope JSON.
    Speedscope,
    /// pprof protobuf, gzipped.
    Pprof,
    /// Chrome trace event JSON.
    Chrome,
}

impl ProfileFormat {
    /// The conventional file extension.
    pub fn extension(self) -> &'static str {
        match self {
            ProfileFormat::Text => "txt",
            ProfileFormat::Json => "json",
            ProfileFormat::Collapsed => "collapsed.txt",
            ProfileFormat::Flamegraph => "svg",
            ProfileFormat::Speedscope => "speedscope.json",
            ProfileFormat::Pprof => "pb.gz",
            ProfileFormat::Chrome => "trace.json",
        }
    }

    /// True for formats that are not text.
    pub fn is_binary(self) -> bool {
        self == ProfileFormat::Pprof
    }
}

/// Options shared by the profile renderers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProfileRenderOptions {
    /// Label frames by line (`func (file:line)`) instead of by function.
    pub lines: bool,
    /// Rows per table in the text summary.
    pub top: usize,
}

impl Default for ProfileRenderOptions {
    fn default() -> Self {
        ProfileRenderOptions { lines: false, top: 15 }
    }
}

/// A profile renderer failed.
#[derive(Debug, thiserror::Error)]
pub enum ProfileRenderError {
    /// JSON serialisation failed.
    #[error("cannot serialise JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The flamegraph could not be drawn.
    #[error("cannot draw the flamegraph: {0}")]
    Flamegraph(String),
    /// Compression or I/O failed.
    #[error("cannot write: {0}")]
    Io(#[from] std::io::Error),
}

/// Renders `profile` in `format`.
pub fn render(
    profile: &Profile,
    format: ProfileFormat,
    opts: ProfileRenderOptions,
) -> Result<Vec<u8>, ProfileRenderError> {
    Ok(match format {
        ProfileFormat::Text => text::render(profile, opts).into_bytes(),
        ProfileFormat::Json => serde_json::to_vec(profile)?,
        ProfileFormat::Collapsed => collapsed::render(profile, opts.lines).into_bytes(),
        ProfileFormat::Flamegraph => flamegraph::render(profile, opts.lines)?,
        ProfileFormat::Speedscope => speedscope::render(profile)?,
        ProfileFormat::Pprof => pprof::render(profile)?,
        ProfileFormat::Chrome => chrome::render(profile)?,
    })
}
