//! `tachy lint` end to end: findings and exit codes, formats, config, noqa, fixes, bad input
//! (syntax errors, non-UTF-8, unreadable files, symlink loops, empty folders, broken config)
//! and the profile-guided ranking with a real `tachy profile` run.

use std::path::Path;

use tachy_test::python;

use crate::{json, tachy};

const SLOW: &str =
    "def render(rows):\n    out = \"\"\n    for row in rows:\n        out += f\"<td>{row}</td>\"\n    return out\n";
const CLEAN: &str = "def render(rows):\n    return \"\".join(f\"<td>{row}</td>\" for row in rows)\n";

fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let p = dir.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

fn lint_json(dir: &Path, extra: &[&str]) -> (Option<i32>, serde_json::Value) {
    let out = tachy().current_dir(dir).args(["lint", "--output-format", "json"]).args(extra).output().unwrap();
    (out.status.code(), json(&out))
}

#[test]
fn findings_exit_1_with_ruff_like_text() {
    let dir = project(&[("app/render.py", SLOW), ("app/ok.py", CLEAN)]);
    let out = tachy().current_dir(dir.path()).args(["lint"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("app/render.py:4:9: TA101 "), "{text}");
    assert!(text.contains("4 |         out += f\"<td>{row}</td>\""), "code frame: {text}");
    assert!(text.contains("= help: "), "{text}");
    assert!(text.contains("Found 1 finding in 2 files"), "{text}");

    let clean = project(&[("ok.py", CLEAN)]);
    tachy().current_dir(clean.path()).args(["lint"]).assert().code(0);
}

#[test]
fn json_sarif_github_and_statistics() {
    let dir = project(&[("a.py", SLOW)]);
    let (code, v) = lint_json(dir.path(), &[]);
    assert_eq!(code, Some(1));
    assert_eq!(v["schema"], "tachy-lint/1");
    let f = &v["findings"][0];
    assert_eq!(f["code"], "TA101");
    assert_eq!(f["name"], "string-concat-in-loop");
    assert_eq!(f["location"]["line"], 4);
    assert_eq!(f["end_location"]["line"], 4);

    let out = tachy().current_dir(dir.path()).args(["lint", "--output-format", "sarif"]).output().unwrap();
    let sarif = json(&out);
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(sarif["runs"][0]["results"][0]["ruleId"], "TA101");
    assert_eq!(sarif["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap().len(), 22);

    let out = tachy().current_dir(dir.path()).args(["lint", "--output-format", "github"]).output().unwrap();
    let gh = String::from_utf8_lossy(&out.stdout);
    assert!(gh.starts_with("::warning title=tachy (TA101),file=a.py,line=4,col=9,"), "{gh}");

    let out = tachy().current_dir(dir.path()).args(["lint", "--statistics"]).output().unwrap();
    let st = String::from_utf8_lossy(&out.stdout);
    assert!(st.lines().next().unwrap().contains("1  TA101"), "{st}");
}

#[test]
fn select_ignore_noqa_and_config() {
    let noqa = SLOW.replace("</td>\"\n", "</td>\"  # noqa: TA101\n");
    let dir = project(&[("a.py", SLOW), ("b.py", &noqa)]);
    let (_, v) = lint_json(dir.path(), &[]);
    assert_eq!(v["findings"].as_array().unwrap().len(), 1, "noqa silences b.py: {v}");
    let (code, v) = lint_json(dir.path(), &["--ignore", "TA1"]);
    assert_eq!((code, v["findings"].as_array().unwrap().len()), (Some(0), 0));
    let (_, v) = lint_json(dir.path(), &["--select", "TA2"]);
    assert_eq!(v["findings"].as_array().unwrap().len(), 0);

    // per-file-ignores and exclude from pyproject.toml.
    let dir = project(&[
        (
            "pyproject.toml",
            "[tool.tachy.lint]\nper-file-ignores = { \"tests/*\" = [\"TA101\"] }\nexclude = [\"generated\"]\n",
        ),
        ("src/a.py", SLOW),
        ("tests/test_a.py", SLOW),
        ("generated/g.py", SLOW),
        (".venv/lib/x.py", SLOW),
        ("build/lib/x.py", SLOW),
        ("src/__pycache__/x.py", SLOW),
        (".gitignore", "scratch/\n"),
        ("scratch/tmp.py", SLOW),
    ]);
    let (_, v) = lint_json(dir.path(), &[]);
    let paths: Vec<&str> = v["findings"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(paths, vec!["src/a.py"], "{v}");
    let (_, v) = lint_json(dir.path(), &["--isolated"]);
    assert_eq!(
        v["findings"].as_array().unwrap().len(),
        3,
        "--isolated ignores the config (still skips .venv, build, __pycache__ and .gitignore'd files): {v}"
    );
}

#[test]
fn broken_config_names_file_and_line() {
    let dir =
        project(&[("pyproject.toml", "[tool.tachy.lint]\nselect = [\"TA1\"]\nselcet = [\"TA2\"]\n"), ("a.py", SLOW)]);
    let out = tachy().current_dir(dir.path()).args(["lint"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("pyproject.toml:3:") && err.contains("selcet"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");

    let dir = project(&[("pyproject.toml", "[tool.tachy.lint]\nselect = [\"TA1\"\n"), ("a.py", SLOW)]);
    let out = tachy().current_dir(dir.path()).args(["lint"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("pyproject.toml:"), "{:?}", out);

    let dir = project(&[("pyproject.toml", "[tool.tachy.lint]\nignore = [\"NOPE9\"]\n"), ("a.py", SLOW)]);
    let out = tachy().current_dir(dir.path()).args(["lint"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(err.contains("pyproject.toml:2:") && err.contains("NOPE9"), "{err}");
}

#[test]
fn bad_files_are_reported_and_the_rest_is_linted() {
    let dir = project(&[("good.py", SLOW), ("broken.py", "def f(:\n    pass\n")]);
    std::fs::write(dir.path().join("latin1.py"), b"s = '\xe9t\xe9'\n").unwrap();
    std::os::unix::fs::symlink(dir.path(), dir.path().join("loop")).unwrap();
    let (code, v) = lint_json(dir.path(), &[]);
    assert_eq!(code, Some(1));
    assert_eq!(v["findings"].as_array().unwrap().len(), 1, "good.py still linted: {v}");
    let errors = v["errors"].as_array().unwrap();
    let kinds: Vec<(&str, &str)> =
        errors.iter().map(|e| (e["path"].as_str().unwrap(), e["kind"].as_str().unwrap())).collect();
    assert!(kinds.contains(&("broken.py", "syntax-error")), "{v}");
    assert!(kinds.contains(&("latin1.py", "encoding")), "{v}");
    assert!(kinds.iter().any(|(p, k)| p.contains("loop") && *k == "io"), "symlink loop reported: {v}");
    let syntax = errors.iter().find(|e| e["kind"] == "syntax-error").unwrap();
    assert_eq!(syntax["location"]["line"], 1);

    // The text output says it in one line each, and never panics.
    let out = tachy().current_dir(dir.path()).args(["lint"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("broken.py:1:") && text.contains("syntax error"), "{text}");
    assert!(text.contains("latin1.py: not valid UTF-8"), "{text}");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}

#[test]
fn unreadable_file_and_empty_folder() {
    let empty = tempfile::tempdir().unwrap();
    let out = tachy().current_dir(empty.path()).args(["lint"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Found 0 findings in 0 files"));

    let out = tachy().args(["lint", "/definitely/not/here"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such file or directory"));

    // Unreadable: root reads everything, so drop privileges when running as root.
    use std::os::unix::fs::PermissionsExt;
    let dir = project(&[("secret.py", SLOW), ("open.py", SLOW)]);
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(dir.path().join("open.py"), std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::set_permissions(dir.path().join("secret.py"), std::fs::Permissions::from_mode(0o000)).unwrap();
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let out = if root {
        if tachy_process::python::which(std::ffi::OsStr::new("setpriv")).is_none() {
            return;
        }
        let bin_dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(bin_dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let bin = bin_dir.path().join("tachy");
        std::fs::copy(assert_cmd::cargo::cargo_bin("tachy"), &bin).unwrap();
        std::process::Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(&bin)
            .args(["lint", "--output-format", "json", "--isolated"])
            .current_dir(dir.path())
            .output()
            .unwrap()
    } else {
        tachy().current_dir(dir.path()).args(["lint", "--output-format", "json"]).output().unwrap()
    };
    let v = json(&out);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(v["findings"].as_array().unwrap().len(), 1, "open.py linted: {v}");
    let e = &v["errors"][0];
    assert_eq!((e["path"].as_str(), e["kind"].as_str()), (Some("secret.py"), Some("io")), "{v}");
    assert!(e["message"].as_str().unwrap().contains("ermission denied"), "{v}");
}

#[test]
fn profile_guided_ranking() {
    // A hot anti-pattern (most of the run) and a cold one (once).
    let program = r#"
import sys, time

def hot(deadline):
    out = ""
    n = 0
    while time.perf_counter() < deadline:
        out += "x" * 10
        if len(out) > 100000:
            out = ""
        n += 1
    return n

def cold(items):
    s = ""
    for i in items:
        s += str(i)
    return s

cold(range(10))
hot(time.perf_counter() + float(sys.argv[1]))
"#;
    let dir = project(&[("app.py", program)]);
    let prof = dir.path().join("app.json");
    let out = tachy()
        .current_dir(dir.path())
        .args(["profile", "-q", "-o"])
        .arg(&prof)
        .arg("--")
        .arg(python())
        .args(["app.py", "1.5"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let (code, v) = lint_json(dir.path(), &["--select", "TA101", "--profile", "app.json", "app.py"]);
    assert_eq!(code, Some(1));
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 2, "{v}");
    assert_eq!(findings[0]["location"]["line"], 8, "hot finding first: {v}");
    let hot = findings[0]["cost"]["line_share"].as_f64().unwrap();
    let cold = findings[1]["cost"]["line_share"].as_f64().unwrap();
    assert!(hot > 0.3 && cold < 0.05, "hot {hot}, cold {cold}");
    assert_eq!(findings[0]["cost"]["function"], "hot");
    assert!(v["profile"]["samples"].as_u64().unwrap() > 0);

    // --min-share hides the cold one; the text shows the cost.
    let (_, v) = lint_json(dir.path(), &["--select", "TA101", "--profile", "app.json", "--min-share", "5%", "app.py"]);
    assert_eq!(v["findings"].as_array().unwrap().len(), 1);
    assert_eq!(v["hidden_cold"], 1);
    let out = tachy().current_dir(dir.path()).args(["lint", "--profile", "app.json", "app.py"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("= cost: ") && text.contains("in `hot`"), "{text}");

    // A file that is not a profile: one clear line, exit 2.
    std::fs::write(dir.path().join("bad.json"), "{}").unwrap();
    let out = tachy().current_dir(dir.path()).args(["lint", "--profile", "bad.json", "app.py"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1);
}

#[test]
fn profile_join_gives_methods_and_nested_functions_their_share() {
    // The hot code is a method and a function nested in it: the profile names them
    // `Builder.run` and `Builder.run.<locals>.pad` (Python 3.11+).
    let program = r#"
import sys, time


def traced(f):
    return f


class Builder:
    @traced
    def run(self, deadline):
        def pad(text):
            out = ""
            for c in text:
                out += c + " "
            return out

        out = ""
        n = 0
        while time.perf_counter() < deadline:
            out += pad("abcdefgh")
            if len(out) > 100000:
                out = ""
            n += 1
        return n


Builder().run(time.perf_counter() + float(sys.argv[1]))
"#;
    let dir = project(&[("app.py", program)]);
    let out = tachy()
        .current_dir(dir.path())
        .args(["profile", "-q", "-o", "app.json", "--"])
        .arg(python())
        .args(["app.py", "1.5"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (_, v) = lint_json(dir.path(), &["--select", "TA101", "--profile", "app.json", "app.py"]);
    let findings = v["findings"].as_array().unwrap();
    let at = |line: u64| findings.iter().find(|f| f["location"]["line"] == line).unwrap_or_else(|| panic!("{v}"));
    // Line 15 is `out += c + " "` in pad, line 21 `out += pad(...)` in run.
    let (pad, run) = (&at(15)["cost"], &at(21)["cost"]);
    assert_eq!(run["function"], "Builder.run", "{v}");
    assert_eq!(pad["function"], "Builder.run.<locals>.pad", "{v}");
    let share = |c: &serde_json::Value| c["function_share"].as_f64().unwrap();
    // run is on the stack in nearly every sample; pad in a good part of them.
    assert!(share(run) > 0.5, "{v}");
    assert!(share(pad) > 0.05 && share(pad) <= share(run), "{v}");
}

#[test]
fn fix_and_diff() {
    let src = "def check(values, scores):\n    ok = any([v < 0 for v in values])\n    low = sorted(scores)[0]\n    return ok, low\n";
    let dir = project(&[("m.py", src)]);

    // --diff shows the fixes and writes nothing.
    let out = tachy().current_dir(dir.path()).args(["lint", "--diff", "m.py"]).output().unwrap();
    let diff = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{diff}");
    assert!(
        diff.contains("-    ok = any([v < 0 for v in values])")
            && diff.contains("+    ok = any(v < 0 for v in values)"),
        "{diff}"
    );
    assert!(diff.contains("+    low = min(scores)"), "{diff}");
    assert_eq!(std::fs::read_to_string(dir.path().join("m.py")).unwrap(), src);

    // --fix writes them; what remains parses and has no findings left.
    let out =
        tachy().current_dir(dir.path()).args(["lint", "--fix", "--output-format", "json", "m.py"]).output().unwrap();
    let v = json(&out);
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(v["fixed"], 2);
    let fixed = std::fs::read_to_string(dir.path().join("m.py")).unwrap();
    assert_eq!(
        fixed,
        "def check(values, scores):\n    ok = any(v < 0 for v in values)\n    low = min(scores)\n    return ok, low\n"
    );
    let check = std::process::Command::new(python())
        .args(["-c", "import ast,sys; ast.parse(open(sys.argv[1]).read())"])
        .arg(dir.path().join("m.py"))
        .status()
        .unwrap();
    assert!(check.success(), "the fixed file parses with CPython");
}

#[test]
fn blocking_helper_in_another_file_is_reported_at_the_coroutine() {
    let dir = project(&[
        ("app/__init__.py", ""),
        ("app/storage.py", "from time import sleep as zz\n\ndef slow_read(path):\n    zz(0.1)\n    return path\n"),
        ("app/service.py", "from .storage import slow_read\n\ndef load(path):\n    return slow_read(path)\n"),
        (
            "app/handlers.py",
            "import asyncio\nfrom app.service import load\n\nasync def handle(path):\n    data = load(path)\n    ok = await asyncio.to_thread(load, path)\n    return data, ok\n",
        ),
    ]);
    let (code, v) = lint_json(dir.path(), &["--select", "TA201"]);
    assert_eq!(code, Some(1));
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "only the direct call, not the to_thread one: {v}");
    let f = &findings[0];
    assert_eq!((f["path"].as_str(), f["location"]["line"].as_u64()), (Some("app/handlers.py"), Some(5)));
    let msg = f["message"].as_str().unwrap();
    assert!(msg.contains("slow_read") && msg.contains("time.sleep"), "names the chain: {msg}");
}

#[test]
fn one_pathological_file_is_reported_and_the_rest_is_linted() {
    // A generated `1+1+...` of 20,000 terms (40 KB) used to overflow a worker's stack and abort
    // the whole run; 4,000 terms is deep but lintable.
    let huge = format!("x = {}1\n", "1+".repeat(20_000));
    let deep = format!("y = {}1\n", "1+".repeat(4_000));
    let dir = project(&[("gen/huge.py", &huge), ("gen/deep.py", &deep), ("app/render.py", SLOW)]);
    let (code, v) = lint_json(dir.path(), &[]);
    assert_eq!(code, Some(1), "{v}");
    assert_eq!(v["findings"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["findings"][0]["code"], "TA101", "{v}");
    let errors = v["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{v}");
    assert_eq!(errors[0]["kind"], "too-complex", "{v}");
    assert!(errors[0]["path"].as_str().unwrap().ends_with("huge.py"), "{v}");
    // A bad --exclude glob is called a bad glob, not an unknown rule selector.
    let out = tachy().current_dir(dir.path()).args(["lint", "--exclude", "["]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("bad glob `[`") && !stderr.contains("selector"), "{stderr}");
}
