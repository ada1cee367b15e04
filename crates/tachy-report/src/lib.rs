//! tachy's serialisable report models and their renderers.
//!
//! Every command produces one report value (for example [`bench::BenchReport`]); each output
//! format has one renderer module under [`render`]. Reports are plain data: serde-serialisable,
//! stable, and versioned by a `schema` string, so that saved files can be re-read later.
//!
//! This crate never prints; renderers return strings or bytes.

pub mod bench;
pub mod check;
pub mod dump;
pub mod format;
pub mod function_id;
pub mod lint;
pub mod load;
pub mod mem;
pub mod profile;
pub mod render;
pub mod results;
pub mod top;
pub mod units;
pub mod watch;

pub use bench::BenchReport;
pub use profile::Profile;
