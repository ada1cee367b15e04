//! Per-worker recording: whole-run figures per request kind and the current second's interval,
//! kept behind one uncontended mutex per worker thread.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use tachy_report::load::ErrorClass;

use crate::hdr;

/// How one request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A complete response.
    Response {
        /// HTTP status.
        status: u16,
        /// Bytes received.
        bytes: u64,
        /// Whether the status was expected.
        ok: bool,
    },
    /// A failure.
    Error(ErrorClass),
}

fn class_index(c: ErrorClass) -> usize {
    ErrorClass::ALL.iter().position(|x| *x == c).unwrap_or(ErrorClass::ALL.len() - 1)
}

/// Counts without the histogram: what merges by addition.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    /// Ended requests.
    pub requests: u64,
    /// Complete responses.
    pub responses: u64,
    /// Expected statuses.
    pub ok: u64,
    /// Failures (transport + unexpected status).
    pub errors: u64,
    /// Bytes received.
    pub bytes: u64,
    /// Per status.
    pub statuses: BTreeMap<u16, u64>,
    /// Per error class.
    pub error_counts: BTreeMap<ErrorClass, u64>,
}

impl Counts {
    /// Adds `other`.
    pub fn add(&mut self, other: &Counts) {
        self.requests += other.requests;
        self.responses += other.responses;
        self.ok += other.ok;
        self.errors += other.errors;
        self.bytes += other.bytes;
        for (k, v) in &other.statuses {
            *self.statuses.entry(*k).or_default() += v;
        }
        for (k, v) in &other.error_counts {
            *self.error_counts.entry(*k).or_default() += v;
        }
    }

    /// Timeouts.
    pub fn timeouts(&self) -> u64 {
        self.error_counts.get(&ErrorClass::Timeout).copied().unwrap_or(0)
    }
}

/// Figures of one request kind (or all) over the whole run, in fast-to-update form.
#[derive(Debug, Clone)]
pub struct Stats {
    /// Latency of responses in microseconds.
    pub hist: Histogram<u64>,
    statuses: Vec<u64>,
    errors: [u64; ErrorClass::ALL.len()],
    requests: u64,
    responses: u64,
    ok: u64,
    bytes: u64,
}

impl Stats {
    /// Empty figures; `sigfig` sets the histogram's precision.
    pub fn new(sigfig: u8) -> Self {
        Stats {
            hist: hdr::new(sigfig),
            statuses: vec![0; 600],
            errors: [0; ErrorClass::ALL.len()],
            requests: 0,
            responses: 0,
            ok: 0,
            bytes: 0,
        }
    }

    /// Records one ended request; `latency_us` is used for responses only.
    pub fn record(&mut self, outcome: Outcome, latency_us: u64) {
        self.requests += 1;
        match outcome {
            Outcome::Response { status, bytes, ok } => {
                self.responses += 1;
                self.bytes += bytes;
                let _ = self.hist.record(latency_us.max(1));
                if let Some(slot) = self.statuses.get_mut(status as usize) {
                    *slot += 1;
                }
                if ok {
                    self.ok += 1;
                } else {
                    self.errors[class_index(ErrorClass::UnexpectedStatus)] += 1;
                }
            }
            Outcome::Error(class) => self.errors[class_index(class)] += 1,
        }
    }

    /// Adds `other` (histograms merged).
    pub fn add(&mut self, other: &Stats) {
        let _ = self.hist.add(&other.hist);
        for (a, b) in self.statuses.iter_mut().zip(&other.statuses) {
            *a += b;
        }
        for (a, b) in self.errors.iter_mut().zip(&other.errors) {
            *a += b;
        }
        self.requests += other.requests;
        self.responses += other.responses;
        self.ok += other.ok;
        self.bytes += other.bytes;
    }

    /// Clears everything, keeping the allocations.
    pub fn reset(&mut self) {
        self.hist.reset();
        self.statuses.iter_mut().for_each(|x| *x = 0);
        self.errors = [0; ErrorClass::ALL.len()];
        self.requests = 0;
        self.responses = 0;
        self.ok = 0;
        self.bytes = 0;
    }

    /// The counts.
    pub fn counts(&self) -> Counts {
        let errors: u64 = self.errors.iter().sum();
        Counts {
            requests: self.requests,
            responses: self.responses,
            ok: self.ok,
            errors,
            bytes: self.bytes,
            statuses: self.statuses.iter().enumerate().filter(|(_, n)| **n > 0).map(|(s, n)| (s as u16, *n)).collect(),
            error_counts: ErrorClass::ALL
                .iter()
                .zip(self.errors)
                .filter(|(_, n)| *n > 0)
                .map(|(c, n)| (*c, n))
                .collect(),
        }
    }
}

/// Everything one worker thread records.
#[derive(Debug)]
pub struct WorkerStats {
    /// Whole run, every request.
    pub total: Stats,
    /// Whole run, per request kind.
    pub endpoints: Vec<Stats>,
    /// The current second (taken by the coordinator once a second).
    pub interval: Stats,
    /// Open model: requests sent.
    pub sent: u64,
    /// Open model: requests sent later than the threshold.
    pub late: u64,
    /// Open model: the largest lateness in microseconds.
    pub max_lateness_us: u64,
    /// Open model: planned requests a busy connection never sent (see [`crate::engine`]).
    pub dropped: u64,
    /// Open model: the longest wait of a dropped request at the end, in microseconds.
    pub max_dropped_wait_us: u64,
}

impl WorkerStats {
    /// Empty figures for `endpoints` request kinds.
    pub fn new(endpoints: usize) -> Self {
        WorkerStats {
            total: Stats::new(hdr::SIGFIG),
            endpoints: (0..endpoints).map(|_| Stats::new(hdr::SIGFIG)).collect(),
            interval: Stats::new(hdr::SIGFIG_INTERVAL),
            sent: 0,
            late: 0,
            max_lateness_us: 0,
            dropped: 0,
            max_dropped_wait_us: 0,
        }
    }

    /// Records an ended request of kind `endpoint`.
    pub fn record(&mut self, endpoint: usize, outcome: Outcome, latency_us: u64) {
        self.total.record(outcome, latency_us);
        if let Some(e) = self.endpoints.get_mut(endpoint) {
            e.record(outcome, latency_us);
        }
        self.interval.record(outcome, latency_us);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_split_statuses_and_errors() {
        let mut w = WorkerStats::new(2);
        w.record(0, Outcome::Response { status: 200, bytes: 10, ok: true }, 1500);
        w.record(1, Outcome::Response { status: 500, bytes: 5, ok: false }, 900);
        w.record(1, Outcome::Error(ErrorClass::Timeout), 0);
        let c = w.total.counts();
        assert_eq!((c.requests, c.responses, c.ok, c.errors, c.bytes), (3, 2, 1, 2, 15));
        assert_eq!(c.statuses[&200], 1);
        assert_eq!(c.error_counts[&ErrorClass::UnexpectedStatus], 1);
        assert_eq!(c.timeouts(), 1);
        assert_eq!(w.total.hist.len(), 2);
        assert_eq!(w.endpoints[1].counts().requests, 2);
        let mut sum = Stats::new(3);
        sum.add(&w.total);
        sum.add(&w.total);
        assert_eq!(sum.counts().requests, 6);
        sum.reset();
        assert_eq!(sum.counts(), Counts::default());
    }
}
