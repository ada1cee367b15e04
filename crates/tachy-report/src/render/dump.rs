//! Text renderer of a dump: one block per thread, innermost frame last, like a traceback.

use std::fmt::Write;

use crate::dump::DumpReport;

/// Renders every process and thread.
pub fn text(report: &DumpReport) -> String {
    let mut out = String::new();
    for (i, p) in report.processes.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = writeln!(out, "Process {}: {} (Python {})", p.pid, p.command, p.python_version);
        for t in &p.threads {
            let name = t.name.as_deref().map(|n| format!("\"{n}\" ")).unwrap_or_default();
            let tid = t.os_thread_id.map_or_else(|| format!("id {:#x}, ", t.thread_id), |id| format!("tid {id}, "));
            let _ = writeln!(out, "\nThread {name}({tid}{})", t.status());
            if t.frames.is_empty() {
                let _ = writeln!(out, "    (no Python frames)");
            }
            for f in &t.frames {
                let _ = writeln!(out, "    {} ({}:{})", f.function, f.file, f.line);
                if let Some(src) = &f.source {
                    let _ = writeln!(out, "        > {src}");
                }
                for l in &f.locals {
                    let kind = if l.arg { "arg" } else { "local" };
                    let _ = writeln!(out, "        {kind} {} = {}", l.name, l.repr);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::dump::*;

    #[test]
    fn snapshot() {
        let frame = |f: &str, line, locals: Vec<LocalVar>| DumpFrame {
            function: f.into(),
            file: "app.py".into(),
            line,
            source: Some("lock.acquire()".into()),
            locals,
        };
        let r = DumpReport {
            schema: DUMP_SCHEMA.into(),
            processes: vec![ProcessDump {
                pid: 42,
                command: "python3 app.py".into(),
                python_version: "3.11.7".into(),
                threads: vec![
                    ThreadDump {
                        thread_id: 1,
                        os_thread_id: Some(42),
                        name: Some("MainThread".into()),
                        gil: true,
                        active: true,
                        frames: vec![
                            frame("<module>", 30, vec![]),
                            frame("main", 12, vec![LocalVar { name: "n".into(), repr: "3".into(), arg: true }]),
                        ],
                    },
                    ThreadDump {
                        thread_id: 2,
                        os_thread_id: None,
                        name: None,
                        gil: false,
                        active: false,
                        frames: vec![],
                    },
                ],
            }],
        };
        insta::assert_snapshot!(super::text(&r));
    }
}
