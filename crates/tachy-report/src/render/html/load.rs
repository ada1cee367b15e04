//! The section of a `tachy load` result: summary figures, the latency histogram, the
//! per-second timeline (requests, errors, p50 and p99), SLO verdicts, per-request figures,
//! statuses and errors, schedule adherence, the generator check and the server profile.

use super::{
    Ctx, Row, Verdict, bytes, charts, count, escape, facts, figures, ms, notes, num, number, pct, remark, subheading,
    table, text,
};
use crate::load::{LoadEnd, LoadModel, LoadReport, LoadStats};

/// An SLO figure in its unit: `183 ms`, `0.5%`, `1,136 req/s`.
fn slo_value(v: f64, unit: &str) -> String {
    match unit {
        "ms" => ms(v),
        "%" => format!("{}%", trim(v, 3)),
        "req/s" => format!("{} req/s", number(v)),
        other => format!("{} {other}", trim(v, 3)),
    }
}

/// `v` with at most `digits` decimals and no trailing zeros.
fn trim(v: f64, digits: usize) -> String {
    let s = format!("{v:.digits$}");
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s }
}

/// A rate of requests per second: `1,219` or `12.5`.
fn rate(r: f64) -> String {
    if r >= 100.0 { count(r.round() as u64) } else { format!("{r:.1}") }
}

/// Writes the section body.
pub(crate) fn section(_ctx: &mut Ctx<'_>, out: &mut String, r: &LoadReport, depth: usize) {
    let run = &r.run;
    let mut items = vec![
        ("URL", run.url.clone()),
        (
            "model",
            match run.model {
                LoadModel::Closed => "closed".to_string(),
                LoadModel::Open => "open".to_string(),
            },
        ),
        ("HTTP", run.http_version.clone()),
        ("connections", run.connections.to_string()),
        ("threads", run.threads.to_string()),
    ];
    if let Some(rate) = run.rate {
        items.push(("target rate", format!("{} req/s", number(rate))));
    }
    if let Some(d) = run.duration_secs {
        items.push(("duration", format!("{} s", trim(d, 2))));
    }
    if let Some(n) = run.requests {
        items.push(("requests asked", count(n)));
    }
    if let Some(s) = &run.scenario {
        items.push(("scenario", s.clone()));
    }
    items.push(("started", r.started_at.clone()));
    items.push(("elapsed", format!("{} s", trim(r.elapsed_secs, 2))));
    if r.parts > 1 {
        items.push(("merged runs", r.parts.to_string()));
    }
    facts(out, &items);
    if r.end == LoadEnd::Interrupted {
        remark(out, "Interrupted: the figures cover the run until Ctrl-C.");
    }

    let t = &r.totals;
    let l = &t.latency;
    figures(
        out,
        &[
            ("requests", escape(&count(t.requests))),
            ("throughput", format!("{} req/s", escape(&rate(t.rps)))),
            ("errors", format!("{} ({})", escape(&count(t.errors)), escape(&pct(t.error_rate)))),
            ("timeouts", escape(&pct(t.timeout_rate))),
            ("p50", escape(&ms(l.p50_ms))),
            ("p95", escape(&ms(l.p95_ms))),
            ("p99", escape(&ms(l.p99_ms))),
            ("max", escape(&ms(l.max_ms))),
            ("received", format!("{}/s", escape(&bytes(t.bytes_per_sec.max(0.0) as u64)))),
        ],
    );

    subheading(out, depth, "Latency");
    out.push_str(&charts::latency_histogram(&t.histogram, l, "Latency histogram"));
    let rows = vec![Row::new(
        [l.min_ms, l.mean_ms, l.stdev_ms, l.p50_ms, l.p90_ms, l.p95_ms, l.p99_ms, l.p99_9_ms, l.max_ms]
            .iter()
            .map(|v| escape(&ms(*v)))
            .collect(),
    )];
    table(
        out,
        "latency",
        &[num("min"), num("mean"), num("σ"), num("p50"), num("p90"), num("p95"), num("p99"), num("p99.9"), num("max")],
        &rows,
        0,
    );

    subheading(out, depth, "Timeline");
    out.push_str(&charts::load_timeline(&r.timeline, "Requests, errors and latency per second"));

    if !r.slos.is_empty() {
        subheading(out, depth, "Service-level objectives");
        let rows: Vec<Row> = r
            .slos
            .iter()
            .map(|s| {
                Row::with(
                    Verdict::of(s.passed),
                    vec![
                        format!("<code>{}</code>", escape(&s.expr)),
                        escape(s.scope.as_deref().unwrap_or("all requests")),
                        escape(&s.metric),
                        escape(&slo_value(s.measured, &s.unit)),
                        escape(&slo_value(s.limit, &s.unit)),
                        format!("<span class=\"verdict\">{}</span>", if s.passed { "pass" } else { "FAIL" }),
                    ],
                )
            })
            .collect();
        table(
            out,
            "slos",
            &[text("SLO"), text("scope"), text("metric"), num("measured"), num("limit"), text("verdict")],
            &rows,
            0,
        );
    }

    if r.endpoints.len() > 1 || r.run.scenario.is_some() {
        subheading(out, depth, "Requests");
        let rows: Vec<Row> = r
            .endpoints
            .iter()
            .map(|e| {
                let s = &e.stats;
                let cells = vec![
                    escape(&e.name),
                    format!("<code>{} {}</code>", escape(&e.method), escape(&e.path)),
                    e.weight.to_string(),
                    escape(&count(s.requests)),
                    escape(&rate(s.rps)),
                    escape(&pct(s.error_rate)),
                    escape(&ms(s.latency.p50_ms)),
                    escape(&ms(s.latency.p95_ms)),
                    escape(&ms(s.latency.p99_ms)),
                ];
                if s.errors > 0 { Row::with(Verdict::Fail, cells) } else { Row::new(cells) }
            })
            .collect();
        table(
            out,
            "endpoints",
            &[
                text("name"),
                text("request"),
                num("weight"),
                num("requests"),
                num("req/s"),
                num("errors"),
                num("p50"),
                num("p95"),
                num("p99"),
            ],
            &rows,
            0,
        );
    }

    statuses(out, depth, t);

    if let Some(s) = &r.schedule {
        subheading(out, depth, "Arrival schedule (open model)");
        facts(
            out,
            &[
                ("target", format!("{} req/s", number(s.target_rate))),
                ("achieved", format!("{} req/s", number(s.achieved_rate))),
                ("scheduled", count(s.scheduled)),
                ("sent", count(s.sent)),
                ("late", format!("{} (over {})", count(s.late), ms(s.late_threshold_ms))),
                ("dropped", count(s.dropped)),
                ("max lateness", ms(s.max_lateness_ms)),
            ],
        );
    }

    let g = &r.generator;
    subheading(out, depth, "Load generator");
    facts(
        out,
        &[
            ("CPU", format!("{:.1}% of one core", g.cpu_percent)),
            ("busy", pct(g.busy_share)),
            ("timer lag p99", ms(g.lag_p99_ms)),
            ("cores", g.cores.to_string()),
            ("valid", if g.saturated { "no: saturated".to_string() } else { "yes".to_string() }),
        ],
    );
    if let Some(reason) = &g.reason {
        notes(out, "The run is not valid", std::slice::from_ref(reason));
    }

    if let Some(p) = &r.server_profile {
        subheading(out, depth, "Server profile");
        facts(
            out,
            &[
                ("pid", p.pid.to_string()),
                ("samples", count(p.samples)),
                ("view", p.view.describe().to_string()),
                ("saved to", p.path.clone()),
            ],
        );
        let rows: Vec<Row> = p
            .top
            .iter()
            .map(|f| {
                Row::new(vec![
                    format!("<code>{}</code>", escape(&f.function)),
                    escape(&f.location),
                    escape(&pct(f.self_share)),
                    escape(&pct(f.total_share)),
                ])
            })
            .collect();
        table(out, "functions", &[text("function"), text("location"), num("self"), num("total")], &rows, 0);
        notes(out, "Profiling notes", &p.notes);
    }
    notes(out, "Notes", &r.notes);
}

/// Responses per status and failures per error class.
fn statuses(out: &mut String, depth: usize, t: &LoadStats) {
    if t.status_counts.is_empty() && t.error_counts.is_empty() {
        return;
    }
    subheading(out, depth, "Statuses and errors");
    let mut rows: Vec<Row> = t
        .status_counts
        .iter()
        .map(|(code, n)| {
            let cells =
                vec![format!("HTTP {code}"), escape(&count(*n)), escape(&pct(*n as f64 / t.requests.max(1) as f64))];
            if *code >= 400 { Row::with(Verdict::Fail, cells) } else { Row::new(cells) }
        })
        .collect();
    rows.extend(t.error_counts.iter().map(|(class, n)| {
        Row::with(
            Verdict::Fail,
            vec![escape(class.describe()), escape(&count(*n)), escape(&pct(*n as f64 / t.requests.max(1) as f64))],
        )
    }));
    table(out, "statuses", &[text("outcome"), num("requests"), num("share")], &rows, 0);
}
