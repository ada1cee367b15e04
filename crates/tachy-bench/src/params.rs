//! Parameter sweeps (`--parameter-scan`, `--parameter-list`) and expansion of the command
//! templates into one [`BenchCommand`] per command and parameter combination.

use std::collections::BTreeMap;

use crate::{BenchCommand, BenchError};

/// The most commands a sweep may expand to.
pub const MAX_EXPANDED: usize = 10_000;

/// One swept parameter and its values, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter {
    /// Name used as `{NAME}` in templates.
    pub name: String,
    /// Values, as they are substituted.
    pub values: Vec<String>,
}

fn check_name(name: &str) -> Result<(), BenchError> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(BenchError::InvalidSetting(format!(
            "parameter name '{name}' is invalid: use letters, digits and '_' (it is written as {{{name}}} in commands)"
        )));
    }
    Ok(())
}

fn decimals(s: &str) -> usize {
    s.split_once('.').map_or(0, |(_, frac)| frac.len())
}

/// Builds a `--parameter-scan NAME MIN MAX [--step STEP]` parameter.
///
/// Integers stay integers; with a decimal bound or step, values are printed with as many
/// decimals as the most precise of them. `MAX` is included when the steps land on it.
pub fn scan(name: &str, min: &str, max: &str, step: Option<&str>) -> Result<Parameter, BenchError> {
    check_name(name)?;
    let bad = |what: &str, v: &str| {
        BenchError::InvalidSetting(format!("--parameter-scan {name}: {what} '{v}' is not a number"))
    };
    let lo: f64 = min.trim().parse().map_err(|_| bad("minimum", min))?;
    let hi: f64 = max.trim().parse().map_err(|_| bad("maximum", max))?;
    let step_s = step.unwrap_or("1");
    let st: f64 = step_s.trim().parse().map_err(|_| bad("step", step_s))?;
    if !(lo.is_finite() && hi.is_finite() && st.is_finite()) {
        return Err(BenchError::InvalidSetting(format!("--parameter-scan {name}: bounds and step must be finite")));
    }
    if st <= 0.0 {
        return Err(BenchError::InvalidSetting(format!(
            "--parameter-scan {name}: the step must be positive, got {step_s}"
        )));
    }
    if lo > hi {
        return Err(BenchError::InvalidSetting(format!(
            "--parameter-scan {name}: the minimum {min} is greater than the maximum {max}"
        )));
    }
    let count = ((hi - lo) / st + 1e-9).floor() as u64 + 1;
    if count as usize > MAX_EXPANDED {
        return Err(BenchError::InvalidSetting(format!(
            "--parameter-scan {name}: {count} values is too many (at most {MAX_EXPANDED}); use a larger --step"
        )));
    }
    let places = decimals(min).max(decimals(max)).max(decimals(step_s));
    let values = (0..count)
        .map(|i| {
            let v = lo + st * i as f64;
            if places == 0 { format!("{}", v.round() as i64) } else { format!("{v:.places$}") }
        })
        .collect();
    Ok(Parameter { name: name.to_string(), values })
}

/// Builds a `--parameter-list NAME a,b,c` parameter.
pub fn list(name: &str, values: &str) -> Result<Parameter, BenchError> {
    check_name(name)?;
    let values: Vec<String> = values.split(',').map(str::to_string).collect();
    if values.iter().all(String::is_empty) {
        return Err(BenchError::InvalidSetting(format!("--parameter-list {name}: the list of values is empty")));
    }
    Ok(Parameter { name: name.to_string(), values })
}

/// Command templates and the options that go with them, as given on the command line.
#[derive(Debug, Clone, Default)]
pub struct Templates {
    /// Command lines, possibly containing `{NAME}`.
    pub commands: Vec<String>,
    /// `--command-name`: none, or one per command.
    pub names: Vec<String>,
    /// `--setup`: none, one for all, or one per command.
    pub setup: Vec<String>,
    /// `--prepare`: none, one for all, or one per command.
    pub prepare: Vec<String>,
    /// `--cleanup`: none, one for all, or one per command.
    pub cleanup: Vec<String>,
}

fn per_command<'a>(flag: &str, values: &'a [String], n: usize) -> Result<Vec<Option<&'a String>>, BenchError> {
    match values.len() {
        0 => Ok(vec![None; n]),
        1 => Ok(vec![values.first(); n]),
        k if k == n => Ok(values.iter().map(Some).collect()),
        k => Err(BenchError::InvalidSetting(format!(
            "{k} {flag} values for {n} commands: give one for all commands or exactly one per command"
        ))),
    }
}

fn substitute(template: &str, values: &BTreeMap<String, String>) -> String {
    let mut out = template.to_string();
    for (k, v) in values {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

/// Expands the templates over every combination of parameter values (command-major order).
pub fn expand(t: &Templates, parameters: &[Parameter]) -> Result<Vec<BenchCommand>, BenchError> {
    let n = t.commands.len();
    if n == 0 {
        return Err(BenchError::NoCommands);
    }
    if let Some(empty) = t.commands.iter().find(|c| c.trim().is_empty()) {
        return Err(BenchError::InvalidSetting(format!("command '{empty}' is empty")));
    }
    if !t.names.is_empty() && t.names.len() != n {
        return Err(BenchError::InvalidSetting(format!(
            "{} --command-name values for {n} commands: give exactly one per command",
            t.names.len()
        )));
    }
    let setup = per_command("--setup", &t.setup, n)?;
    let prepare = per_command("--prepare", &t.prepare, n)?;
    let cleanup = per_command("--cleanup", &t.cleanup, n)?;
    let mut seen = std::collections::BTreeSet::new();
    for p in parameters {
        if !seen.insert(p.name.as_str()) {
            return Err(BenchError::InvalidSetting(format!("parameter '{}' is defined twice", p.name)));
        }
        let needle = format!("{{{}}}", p.name);
        if !t.commands.iter().any(|c| c.contains(&needle)) {
            return Err(BenchError::InvalidSetting(format!(
                "parameter '{}' is not used: write {needle} in a command",
                p.name
            )));
        }
    }

    // Every combination of parameter values, first parameter varying slowest.
    let mut combos: Vec<BTreeMap<String, String>> = vec![BTreeMap::new()];
    for p in parameters {
        let mut next = Vec::with_capacity(combos.len() * p.values.len());
        for c in &combos {
            for v in &p.values {
                let mut c = c.clone();
                c.insert(p.name.clone(), v.clone());
                next.push(c);
            }
        }
        combos = next;
        if combos.len() * n > MAX_EXPANDED {
            return Err(BenchError::InvalidSetting(format!(
                "the parameters expand to more than {MAX_EXPANDED} commands; sweep fewer values"
            )));
        }
    }

    let mut out = Vec::with_capacity(n * combos.len());
    for (i, template) in t.commands.iter().enumerate() {
        for values in &combos {
            let command_line = substitute(template, values);
            let name = t.names.get(i).map_or_else(|| command_line.clone(), |nm| substitute(nm, values));
            out.push(BenchCommand {
                name,
                command_line,
                parameters: values.clone(),
                setup: setup[i].map(|s| substitute(s, values)),
                prepare: prepare[i].map(|s| substitute(s, values)),
                cleanup: cleanup[i].map(|s| substitute(s, values)),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn templates(cmds: &[&str]) -> Templates {
        Templates { commands: cmds.iter().map(|s| s.to_string()).collect(), ..Default::default() }
    }

    #[test]
    fn integer_scan_includes_both_ends() {
        assert_eq!(scan("n", "1", "4", None).unwrap().values, ["1", "2", "3", "4"]);
        assert_eq!(scan("n", "0", "10", Some("5")).unwrap().values, ["0", "5", "10"]);
    }

    #[test]
    fn decimal_scan_keeps_precision() {
        assert_eq!(scan("d", "0.1", "0.3", Some("0.1")).unwrap().values, ["0.1", "0.2", "0.3"]);
        assert_eq!(scan("d", "0", "1", Some("0.25")).unwrap().values, ["0.00", "0.25", "0.50", "0.75", "1.00"]);
    }

    #[test]
    fn bad_ranges_are_rejected() {
        let msg = |r: Result<Parameter, BenchError>| r.unwrap_err().to_string();
        assert!(msg(scan("n", "5", "1", None)).contains("greater than the maximum"));
        assert!(msg(scan("n", "1", "5", Some("0"))).contains("step must be positive"));
        assert!(msg(scan("n", "a", "5", None)).contains("minimum 'a' is not a number"));
        assert!(msg(scan("n", "0", "1e9", None)).contains("too many"));
        assert!(msg(scan("bad name", "0", "1", None)).contains("invalid"));
        assert!(msg(list("n", "")).contains("empty"));
    }

    #[test]
    fn expansion_substitutes_everywhere() {
        let mut t = templates(&["sleep {t}", "echo {t}"]);
        t.names = vec!["sleep-{t}".into(), "echo-{t}".into()];
        t.prepare = vec!["touch /tmp/{t}".into()];
        let cmds = expand(&t, &[list("t", "1,2").unwrap()]).unwrap();
        let names: Vec<_> = cmds.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["sleep-1", "sleep-2", "echo-1", "echo-2"]);
        assert_eq!(cmds[1].command_line, "sleep 2");
        assert_eq!(cmds[3].prepare.as_deref(), Some("touch /tmp/2"));
        assert_eq!(cmds[3].parameters["t"], "2");
    }

    #[test]
    fn cartesian_product_of_two_parameters() {
        let t = templates(&["run {a} {b}"]);
        let cmds = expand(&t, &[list("a", "x,y").unwrap(), list("b", "1,2,3").unwrap()]).unwrap();
        assert_eq!(cmds.len(), 6);
        assert_eq!(cmds[0].command_line, "run x 1");
        assert_eq!(cmds[5].command_line, "run y 3");
    }

    #[test]
    fn mismatched_counts_and_unused_parameters_fail() {
        let mut t = templates(&["a", "b", "c"]);
        t.setup = vec!["s1".into(), "s2".into()];
        assert!(expand(&t, &[]).unwrap_err().to_string().contains("2 --setup values for 3 commands"));
        let t = templates(&["a"]);
        assert!(expand(&t, &[list("n", "1").unwrap()]).unwrap_err().to_string().contains("not used"));
        assert!(matches!(expand(&templates(&[]), &[]), Err(BenchError::NoCommands)));
    }
}
