//! `tachy profile`: a sampling CPU profiler for Python programs.
//!
//! py-spy's library reads Python stacks out of process (it tracks CPython's struct layouts
//! from 2.7 to 3.14); tachy owns everything around it: the deadline-scheduled sampling loop
//! ([`sampler`]), following child processes, aggregation into a [`tachy_report::Profile`],
//! saving and loading ([`store`]), and comparing two profiles ([`diff`]).
//!
//! This crate never prints and never exits: progress goes through [`sampler::Observer`],
//! problems come back as [`ProfileError`].

pub mod deflines;
pub mod diff;
pub mod dump;
mod error;
pub mod sampler;
pub mod store;
pub mod target;
pub mod top;

pub use error::ProfileError;
pub use sampler::{Observer, ProfileOutcome, ProfileSettings, Session, Target};
