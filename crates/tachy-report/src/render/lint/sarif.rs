//! SARIF 2.1.0, the format GitHub code scanning uploads (`github/codeql-action/upload-sarif`):
//! one run with tachy as the driver, its rules, and one result per finding (file errors as
//! tool notifications).

use serde_json::{Value, json};

use super::RuleMeta;
use crate::lint::LintReport;

/// The SARIF log as pretty JSON.
pub fn render(report: &LintReport, rules: &[RuleMeta<'_>]) -> String {
    let rule_objs: Vec<Value> = rules
        .iter()
        .map(|r| {
            json!({
                "id": r.code,
                "name": r.name,
                "shortDescription": { "text": r.summary },
                "fullDescription": { "text": r.summary },
                "help": { "text": format!("`tachy lint --explain {}`", r.code) },
                "defaultConfiguration": { "level": "warning" },
                "properties": { "tags": ["performance"] }
            })
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let mut text = f.message.clone();
            if let Some(h) = &f.help {
                text.push_str(&format!(" Fix: {h}."));
            }
            let mut result = json!({
                "ruleId": f.code,
                "level": "warning",
                "message": { "text": text },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri(&f.path), "uriBaseId": "%SRCROOT%" },
                        "region": {
                            "startLine": f.location.line,
                            "startColumn": f.location.column,
                            "endLine": f.end_location.line,
                            "endColumn": f.end_location.column
                        }
                    }
                }]
            });
            if let Some(i) = rules.iter().position(|r| r.code == f.code) {
                result["ruleIndex"] = json!(i);
            }
            if let Some(c) = &f.cost {
                result["properties"] = json!({ "cpuLineShare": c.line_share, "cpuFunctionShare": c.function_share });
            }
            result
        })
        .collect();
    let notifications: Vec<Value> = report
        .errors
        .iter()
        .map(|e| {
            let loc = e.location.unwrap_or_default();
            json!({
                "level": "error",
                "message": { "text": e.message },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri(&e.path), "uriBaseId": "%SRCROOT%" },
                        "region": { "startLine": loc.line.max(1), "startColumn": loc.column.max(1) }
                    }
                }]
            })
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "tachy",
                    "version": report.tachy_version,
                    "informationUri": "https://example.invalid/tachy",
                    "rules": rule_objs
                }
            },
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": notifications
            }],
            "results": results
        }]
    });
    let mut s = serde_json::to_string_pretty(&log).expect("SARIF always serialises");
    s.push('\n');
    s
}

/// A relative URI for a path (forward slashes, spaces and `%` escaped).
fn uri(path: &str) -> String {
    path.replace('\\', "/").replace('%', "%25").replace(' ', "%20")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sarif_shape() {
        let rules = [
            RuleMeta { code: "TA101", name: "string-concat-in-loop", summary: "String built in a loop" },
            RuleMeta { code: "TA103", name: "comprehension-in-reducer", summary: "Reducer over a list" },
        ];
        let out = render(&super::super::fixture(), &rules);
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["version"], "2.1.0");
        let run = &v["runs"][0];
        assert_eq!(run["tool"]["driver"]["rules"].as_array().unwrap().len(), 2);
        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), 2);
        assert_eq!(results[1]["ruleIndex"], 1);
        assert_eq!(results[0]["locations"][0]["physicalLocation"]["region"]["startLine"], 4);
        assert_eq!(run["invocations"][0]["toolExecutionNotifications"].as_array().unwrap().len(), 1);
        insta::assert_snapshot!(out);
    }
}
