//! The starter budgets of `tachy init`: one budget of each kind, commented, with the targets
//! the Python performance guides set (p95 <= 200 ms, errors <= 1 %, timeouts <= 0.5 %,
//! >= 100 req/s per worker, base memory <= 100 MB, growth <= 5 MB/h).

/// What the starter file is filled with.
#[derive(Debug, Clone, Default)]
pub struct InitOptions {
    /// The Python command that runs the program.
    pub command: Option<String>,
    /// The URL of the service.
    pub url: Option<String>,
    /// The command that starts the server.
    pub server: Option<String>,
}

/// Checks the options before anything is written: the URL is an `http://` or `https://` URL
/// with a host, and the commands split into words (as `tachy check` will split them). The
/// error is one line naming the option.
pub fn check_options(o: &InitOptions) -> Result<(), String> {
    if let Some(url) = &o.url {
        crate::config::check_url(url).map_err(|e| format!("--url: {e}"))?;
    }
    for (flag, cmd) in [("--command", &o.command), ("--server", &o.server)] {
        if let Some(cmd) = cmd {
            crate::config::CommandLine::Line(cmd.clone()).argv().map_err(|e| format!("{flag}: {e}"))?;
        }
    }
    Ok(())
}

fn toml_string(s: &str) -> String {
    // A TOML basic string (the same escapes as JSON).
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// The starter budgets; `prefix` is `""` for tachy.toml and `"tool.tachy."` for pyproject.toml.
pub fn starter(prefix: &str, o: &InitOptions) -> String {
    let command = toml_string(o.command.as_deref().unwrap_or("python app.py"));
    // The soak needs a process that runs for its whole duration: the server when there is one.
    let (soak_command, soak_what) = match &o.server {
        Some(s) => (toml_string(s), "the server (idle after its start-up)"),
        None => (command.clone(), "the program, which must run for all of it\n# (a server or a worker)"),
    };
    let url = o.url.as_deref().unwrap_or("http://127.0.0.1:8000/");
    let url_s = toml_string(url);
    let server = match &o.server {
        Some(s) => format!(
            "[{prefix}budget.api-latency.server]\ncommand = {}\nready = {url_s}          # answers below 500 when the server is up\nready_timeout = \"30s\"\n",
            toml_string(s)
        ),
        None => format!(
            "# Start the server under test for this budget (stopped afterwards, also on failure):\n# [{prefix}budget.api-latency.server]\n# command = \"python -m uvicorn app:app --port 8000\"\n# ready = {url_s}\n# ready_timeout = \"30s\"\n"
        ),
    };
    format!(
        r#"# Performance budgets for `tachy check` (schema: docs/tachy-config.schema.json).
# Each [{prefix}budget.NAME] is measured in order; `tachy check` exits 1 when one fails.
# The defaults are the usual targets for a Python web service; tighten them as you measure.

[{prefix}check]
history = ".tachy/history"      # every run appends its measurements here (`tachy check --history`)
baselines = ".tachy/baselines"  # saved bench results, profiles and lint findings
timeout = "10m"                 # longest time one budget may take

# Latency, errors and throughput of the service under load.
[{prefix}budget.api-latency]
kind = "load"
url = {url_s}
connections = 10
duration = "10s"
slo = [
  "p95<=200ms",      # 95 % of requests answered within 200 ms
  "errors<=1%",      # at most 1 % failed requests
  "timeouts<=0.5%",  # at most 0.5 % timeouts
  "rps>=100",        # at least 100 requests/s for one worker
]
{server}
# Memory of one run of the program: base memory and leaks.
[{prefix}budget.memory]
kind = "mem"
command = {command}
max_rss = "100MB"    # resident memory at its peak
max_leak = "10MB"    # still allocated when the program ends

# A soak test: memory must not keep growing. Watches {soak_what} for `duration`.
# The growth is judged after the warm-up (start-up, first requests): it passes when resolved at
# or below max_growth, fails when resolved above it, and fails as "not enough data" when the
# run is too short or too noisy to tell (a program that ends early; 5 MB/h on a noisy process:
# lengthen `duration`). A steady process resolves 5 MB/h within a minute.
[{prefix}budget.soak]
kind = "watch"
command = {soak_command}
duration = "60s"
max_growth = "5MB/h"   # robust fit of RSS after the warm-up
max_rss = "150MB"

# Where the CPU time goes: no function may take over its share.
[{prefix}budget.hot-path]
kind = "profile"
command = {command}
limits = []          # e.g. ["parse_request <= 5%", "self:json.dumps < 10%"]
rate = 1000          # samples per second: a 1 s command gives enough samples to compare
baseline = ".tachy/baselines/profile.json"  # saved by the first run; later runs are diffed
max_share_increase = "5%"  # fails only on a significant growth above 5 points

# Run time against a saved baseline: fail on a significant slowdown above 10 %.
[{prefix}budget.startup]
kind = "bench"
commands = [{command}]
baseline = "startup"
# CPU time: a saved baseline compares runs made at different times, and on a shared machine
# wall time drifts by tens of percent between them while CPU time barely moves. For a strict
# wall-time gate, benchmark both builds side by side (`tachy bench --reference`).
metric = "cpu"
max_regression = "10%"

# Performance anti-patterns in the code: no new findings against the saved set.
[{prefix}budget.lint]
kind = "lint"
paths = ["."]
baseline = ".tachy/baselines/lint.json"
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_starter_parses_in_both_forms() {
        let o = InitOptions {
            command: Some("python 'my app.py'".into()),
            url: None,
            server: Some("python -m http.server 8000".into()),
        };
        let c = crate::config::parse(&starter("", &o), false).unwrap();
        assert_eq!(
            c.budget.keys().collect::<Vec<_>>(),
            ["api-latency", "memory", "soak", "hot-path", "startup", "lint"]
        );
        let py = format!("[project]\nname = \"x\"\n\n{}", starter("tool.tachy.", &InitOptions::default()));
        let c = crate::config::parse(&py, true).unwrap();
        assert_eq!(c.budget.len(), 6);
    }

    #[test]
    fn the_soak_watches_the_server_when_there_is_one() {
        let o = InitOptions {
            command: Some("python cli.py".into()),
            url: None,
            server: Some("python -m uvicorn app:app --port 8000".into()),
        };
        let c = crate::config::parse(&starter("", &o), false).unwrap();
        let crate::config::Budget::Watch(w) = &c.budget["soak"] else { panic!("soak is a watch budget") };
        assert_eq!(w.command.argv().unwrap(), ["python", "-m", "uvicorn", "app:app", "--port", "8000"]);
        let c = crate::config::parse(&starter("", &InitOptions { server: None, ..o }), false).unwrap();
        let crate::config::Budget::Watch(w) = &c.budget["soak"] else { panic!("soak is a watch budget") };
        assert_eq!(w.command.argv().unwrap(), ["python", "cli.py"]);
    }

    #[test]
    fn bad_options_are_refused_naming_the_option() {
        let with = |url: Option<&str>, command: Option<&str>| InitOptions {
            url: url.map(str::to_string),
            command: command.map(str::to_string),
            server: None,
        };
        check_options(&with(Some("http://127.0.0.1:8000/"), Some("python app.py"))).unwrap();
        let e = check_options(&with(Some("ftp://x"), None)).unwrap_err();
        assert!(e.starts_with("--url: \"ftp://x\" is not an http:// or https:// URL"), "{e}");
        assert!(check_options(&with(Some(":::"), None)).unwrap_err().starts_with("--url: "));
        let e = check_options(&with(None, Some("python 'app.py"))).unwrap_err();
        assert!(e.starts_with("--command: cannot split"), "{e}");
        assert!(check_options(&with(None, Some("  "))).unwrap_err().contains("empty"));
    }

    #[test]
    fn the_starter_carries_the_targets() {
        let s = starter("", &InitOptions::default());
        for target in
            ["p95<=200ms", "errors<=1%", "timeouts<=0.5%", "rps>=100", "max_rss = \"100MB\"", "max_growth = \"5MB/h\""]
        {
            assert!(s.contains(target), "{target}");
        }
    }
}
