//! Reading a raw capture (`<pid>.tmc`, written by the hook; format in `docs/mem-format.md`)
//! and replaying it: sampled allocations matched with their frees, bytes per stack live at the
//! last peak step, allocated over the run and still live when the program's code finished.

use std::collections::HashMap;
use std::path::Path;

use crate::MemError;

/// One Python frame as the hook wrote it: (function string, file string, line).
pub type RawFrame = (u32, u32, u32);

/// Per-stack estimated bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StackBytes {
    /// Live at the peak.
    pub peak: u64,
    /// Allocated over the run.
    pub allocated: u64,
    /// Live when the program's code finished.
    pub leaked: u64,
    /// Estimated allocations.
    pub allocations: u64,
}

/// One counters record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter {
    /// Microseconds since the start.
    pub t_us: u64,
    /// Live traced bytes.
    pub live: u64,
    /// RSS bytes.
    pub rss: u64,
}

/// A replayed capture of one process.
#[derive(Debug, Default)]
pub struct Capture {
    /// Process id.
    pub pid: u32,
    /// Mean bytes between samples (0: exact).
    pub sample_bytes: u64,
    /// Start time, ns since the Unix epoch.
    pub start_unix_ns: u64,
    /// Strings by id.
    pub strings: Vec<String>,
    /// Stacks by id, innermost first.
    pub stacks: Vec<Vec<RawFrame>>,
    /// Bytes per stack id.
    pub bytes: Vec<StackBytes>,
    /// Counters over time.
    pub counters: Vec<Counter>,
    /// `--native`: (µs, live C-heap bytes) over time, and the C heap's peak.
    pub native: Vec<(u64, u64)>,
    /// `--native`: the largest live C heap the hook saw.
    pub native_peak: u64,
    /// Exact peak (from the end record, else the largest counter or peak step).
    pub peak: u64,
    /// When the peak was reached (µs).
    pub peak_us: u64,
    /// Exact allocation count.
    pub allocations: u64,
    /// Exact bytes allocated.
    pub allocated_bytes: u64,
    /// Samples recorded.
    pub samples: u64,
    /// Last timestamp seen (µs).
    pub end_us: u64,
    /// The end record was present (the process finished normally).
    pub complete: bool,
    /// The program's code finished (Python atexit ran).
    pub exit_marker: bool,
    /// The file ended inside a record.
    pub truncated: bool,
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let s = self.data.get(self.pos..self.pos + n)?;
        self.pos += n;
        Some(s)
    }

    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Option<u32> {
        self.take(4).map(|b| u32::from_le_bytes(b.try_into().unwrap_or([0; 4])))
    }

    fn u64(&mut self) -> Option<u64> {
        self.take(8).map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
    }
}

/// Reads and replays a capture file.
pub fn read(path: &Path) -> Result<Capture, MemError> {
    let data = std::fs::read(path).map_err(|source| MemError::Read { path: path.into(), source })?;
    parse(&data).map_err(|reason| MemError::CorruptCapture { path: path.into(), reason })
}

/// Allocations a sample of `weight` bytes stands for.
fn allocations_of(weight: u64, size: u64) -> u64 {
    if size > 0 { weight.div_ceil(size).max(1) } else { 1 }
}

/// Replays capture bytes.
pub fn parse(data: &[u8]) -> Result<Capture, String> {
    let mut r = Reader { data, pos: 0 };
    if r.take(8) != Some(b"TACHYMEM".as_slice()) {
        return Err("not a tachy mem capture (bad magic)".into());
    }
    let version = r.u32().ok_or("truncated header")?;
    // Version 2 added the `R` record (a stack given later to a C sample); 1 is read as is.
    if !(1..=2).contains(&version) {
        return Err(format!("capture version {version}, this tachy reads versions 1 and 2"));
    }
    let mut c = Capture {
        pid: r.u32().ok_or("truncated header")?,
        sample_bytes: r.u64().ok_or("truncated header")?,
        start_unix_ns: r.u64().ok_or("truncated header")?,
        ..Capture::default()
    };
    // addr -> (stack, weight)
    // Live samples by address: (stack, weight, size, position of the sample record).
    let mut live: HashMap<u64, (u32, u64, u64, usize)> = HashMap::new();
    let mut live_by_stack: Vec<u64> = Vec::new();
    // Live bytes by stack at the peak and at exit, with the position of the record taken at.
    let mut peak_snapshot: Option<(Vec<u64>, usize)> = None;
    let mut exit_snapshot: Option<(Vec<u64>, usize)> = None;
    let mut marked_peak = 0u64;
    let mut sampled = 0u64;
    let mut marked_peak_us = 0u64;
    loop {
        let start = r.pos;
        let Some(tag) = r.take(1).map(|b| b[0]) else { break };
        let ok = (|| -> Option<Result<(), String>> {
            match tag {
                b'S' => {
                    let id = r.u32()? as usize;
                    let len = r.u32()? as usize;
                    let text = String::from_utf8_lossy(r.take(len)?).into_owned();
                    if id != c.strings.len() {
                        return Some(Err(format!("string {id} out of order")));
                    }
                    c.strings.push(text);
                }
                b'K' => {
                    let id = r.u32()? as usize;
                    let depth = r.u16()? as usize;
                    let mut frames = Vec::with_capacity(depth);
                    for _ in 0..depth {
                        let f = (r.u32()?, r.u32()?, r.u32()?);
                        if f.0 as usize >= c.strings.len() || f.1 as usize >= c.strings.len() {
                            return Some(Err(format!("stack {id} names an unknown string")));
                        }
                        frames.push(f);
                    }
                    if id != c.stacks.len() {
                        return Some(Err(format!("stack {id} out of order")));
                    }
                    c.stacks.push(frames);
                    c.bytes.push(StackBytes::default());
                    live_by_stack.push(0);
                }
                b'A' => {
                    let t = r.u64()?;
                    let addr = r.u64()?;
                    let size = r.u64()?;
                    let weight = r.u64()?;
                    let stack = r.u32()?;
                    let _thread = r.u32()?;
                    let Some(b) = c.bytes.get_mut(stack as usize) else {
                        return Some(Err(format!("sample names unknown stack {stack}")));
                    };
                    // Every per-stack figure is at most the sampled total: checked once here.
                    let Some(total) = sampled.checked_add(weight) else {
                        return Some(Err(format!("the samples' bytes add up to more than 2^64 at byte {start}")));
                    };
                    sampled = total;
                    b.allocated += weight;
                    b.allocations = b.allocations.saturating_add(allocations_of(weight, size));
                    if let Some((old_stack, old_w, _, _)) = live.insert(addr, (stack, weight, size, start)) {
                        live_by_stack[old_stack as usize] -= old_w;
                    }
                    live_by_stack[stack as usize] += weight;
                    c.samples += 1;
                    c.end_us = c.end_us.max(t);
                }
                b'F' => {
                    let t = r.u64()?;
                    let addr = r.u64()?;
                    if let Some((stack, w, _, _)) = live.remove(&addr) {
                        live_by_stack[stack as usize] -= w;
                    }
                    c.end_us = c.end_us.max(t);
                }
                b'R' => {
                    // A C allocation sampled without the GIL gets its Python stack: it moves,
                    // in every figure and in the snapshots taken while it was live.
                    let t = r.u64()?;
                    let addr = r.u64()?;
                    let stack = r.u32()?;
                    if stack as usize >= c.bytes.len() {
                        return Some(Err(format!("stack change names unknown stack {stack}")));
                    }
                    if let Some(entry) = live.get_mut(&addr)
                        && entry.0 != stack
                    {
                        let (old, w, size, at) = *entry;
                        entry.0 = stack;
                        let (old, new) = (old as usize, stack as usize);
                        let n = allocations_of(w, size);
                        c.bytes[old].allocated = c.bytes[old].allocated.saturating_sub(w);
                        c.bytes[old].allocations = c.bytes[old].allocations.saturating_sub(n);
                        c.bytes[new].allocated += w;
                        c.bytes[new].allocations = c.bytes[new].allocations.saturating_add(n);
                        live_by_stack[old] -= w;
                        live_by_stack[new] += w;
                        for (snap, taken) in [&mut peak_snapshot, &mut exit_snapshot].into_iter().flatten() {
                            if at < *taken {
                                if snap.len() <= new {
                                    snap.resize(new + 1, 0);
                                }
                                snap[old] = snap[old].saturating_sub(w);
                                snap[new] += w;
                            }
                        }
                    }
                    c.end_us = c.end_us.max(t);
                }
                b'C' => {
                    let t_us = r.u64()?;
                    let live_bytes = r.u64()?;
                    let rss = r.u64()?;
                    let allocs = r.u64()?;
                    let bytes = r.u64()?;
                    c.counters.push(Counter { t_us, live: live_bytes, rss });
                    c.allocations = c.allocations.max(allocs);
                    c.allocated_bytes = c.allocated_bytes.max(bytes);
                    c.end_us = c.end_us.max(t_us);
                }
                b'N' => {
                    let t = r.u64()?;
                    let live_bytes = r.u64()?;
                    let peak = r.u64()?;
                    c.native.push((t, live_bytes));
                    c.native_peak = c.native_peak.max(peak);
                    c.end_us = c.end_us.max(t);
                }
                b'P' => {
                    let t = r.u64()?;
                    let peak = r.u64()?;
                    if peak >= marked_peak {
                        marked_peak = peak;
                        marked_peak_us = t;
                        peak_snapshot = Some((live_by_stack.clone(), start));
                    }
                    c.end_us = c.end_us.max(t);
                }
                b'X' => {
                    let t = r.u64()?;
                    c.exit_marker = true;
                    exit_snapshot = Some((live_by_stack.clone(), start));
                    c.end_us = c.end_us.max(t);
                }
                b'E' => {
                    let t = r.u64()?;
                    c.peak = r.u64()?;
                    c.peak_us = r.u64()?;
                    c.allocations = r.u64()?;
                    c.allocated_bytes = r.u64()?;
                    let _samples = r.u64()?;
                    c.complete = true;
                    c.end_us = c.end_us.max(t);
                }
                other => return Some(Err(format!("unknown record tag 0x{other:02x} at byte {start}"))),
            }
            Some(Ok(()))
        })();
        match ok {
            Some(Ok(())) => {}
            Some(Err(e)) => return Err(e),
            None => {
                c.truncated = true;
                break;
            }
        }
    }
    if !c.complete {
        let from_counters = c.counters.iter().map(|k| k.live).max().unwrap_or(0);
        c.peak = marked_peak.max(from_counters);
        c.peak_us = if marked_peak >= from_counters {
            marked_peak_us
        } else {
            c.counters.iter().find(|k| k.live == from_counters).map_or(0, |k| k.t_us)
        };
    }
    let peak = peak_snapshot.map_or_else(|| live_by_stack.clone(), |(v, _)| v);
    let exit = exit_snapshot.map_or(live_by_stack, |(v, _)| v);
    for (i, b) in c.bytes.iter_mut().enumerate() {
        b.peak = peak.get(i).copied().unwrap_or(0);
        b.leaked = exit.get(i).copied().unwrap_or(0);
    }
    Ok(c)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds capture bytes record by record.
    #[derive(Default)]
    pub struct Writer(pub Vec<u8>);

    impl Writer {
        pub fn new(sample_bytes: u64) -> Self {
            let mut w = Writer(b"TACHYMEM".to_vec());
            w.u32(1).u32(42).u64(sample_bytes).u64(1_700_000_000_000_000_000);
            w
        }
        pub fn u32(&mut self, v: u32) -> &mut Self {
            self.0.extend_from_slice(&v.to_le_bytes());
            self
        }
        pub fn u64(&mut self, v: u64) -> &mut Self {
            self.0.extend_from_slice(&v.to_le_bytes());
            self
        }
        pub fn tag(&mut self, t: u8) -> &mut Self {
            self.0.push(t);
            self
        }
        pub fn string(&mut self, id: u32, s: &str) -> &mut Self {
            self.tag(b'S').u32(id).u32(s.len() as u32);
            self.0.extend_from_slice(s.as_bytes());
            self
        }
        pub fn stack(&mut self, id: u32, frames: &[(u32, u32, u32)]) -> &mut Self {
            self.tag(b'K').u32(id);
            self.0.extend_from_slice(&(frames.len() as u16).to_le_bytes());
            for f in frames {
                self.u32(f.0).u32(f.1).u32(f.2);
            }
            self
        }
        pub fn alloc(&mut self, t: u64, addr: u64, size: u64, weight: u64, stack: u32) -> &mut Self {
            self.tag(b'A').u64(t).u64(addr).u64(size).u64(weight).u32(stack).u32(7)
        }
        pub fn free(&mut self, t: u64, addr: u64) -> &mut Self {
            self.tag(b'F').u64(t).u64(addr)
        }
    }

    /// A capture with a transient peak from stack 0 and a leak from stack 1.
    pub fn sample() -> Vec<u8> {
        let mut w = Writer::new(0);
        w.string(0, "transient").string(1, "app.py").string(2, "leak").string(3, "<module>");
        w.stack(0, &[(0, 1, 5), (3, 1, 20)]).stack(1, &[(2, 1, 11), (3, 1, 21)]);
        w.alloc(10, 0x1000, 100, 100, 0).alloc(11, 0x2000, 200, 200, 0);
        w.tag(b'P').u64(12).u64(300);
        w.free(13, 0x1000).free(14, 0x2000);
        w.alloc(15, 0x3000, 50, 50, 1);
        w.tag(b'C').u64(16).u64(50).u64(4096).u64(3).u64(350);
        w.tag(b'X').u64(17);
        w.free(18, 0x3000);
        w.tag(b'E').u64(19).u64(300).u64(12).u64(3).u64(350).u64(3);
        w.0
    }

    #[test]
    fn replays_peak_and_leaks() {
        let c = parse(&sample()).unwrap();
        assert!(c.complete && c.exit_marker && !c.truncated);
        assert_eq!(c.peak, 300);
        assert_eq!(c.bytes[0], StackBytes { peak: 300, allocated: 300, leaked: 0, allocations: 2 });
        assert_eq!(c.bytes[1], StackBytes { peak: 0, allocated: 50, leaked: 50, allocations: 1 });
        assert_eq!(c.counters.len(), 1);
        assert_eq!(c.strings[2], "leak");
    }

    #[test]
    fn a_truncated_capture_keeps_what_precedes() {
        let bytes = sample();
        let cut = &bytes[..bytes.len() - 30];
        let c = parse(cut).unwrap();
        assert!(c.truncated && !c.complete);
        assert_eq!(c.peak, 300, "from the peak step");
        assert_eq!(c.bytes[0].allocated, 300);
    }

    #[test]
    fn corrupt_captures_are_errors() {
        assert!(parse(b"NOTATACHYMEMFILE").unwrap_err().contains("magic"));
        let mut bytes = sample();
        bytes[50] = b'Z'; // the tag of the second string record
        assert!(parse(&bytes).is_err());
        let mut w = Writer::new(0);
        w.alloc(1, 1, 1, 1, 9);
        assert!(parse(&w.0).unwrap_err().contains("unknown stack"));
    }
}
