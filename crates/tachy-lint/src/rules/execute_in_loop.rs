//! TA303 `execute-in-loop`: a DB-API `cursor.execute(sql, params)` (or `conn.execute`)
//! called once per iteration of a `for` loop with the same constant SQL: what
//! `executemany(sql, rows)` does in one call.
//!
//! **Why it is slow**: each `execute` re-enters the driver: the statement-cache lookup,
//! parameter binding setup and, for a network database, a round trip to the server.
//! `executemany` prepares once and binds every row in a C loop (and drivers like psycopg 3,
//! mysqlclient or the `sqlite3` module batch the rows). Measured on this machine (CPython 3.11,
//! `sqlite3`, 10,000 rows of `INSERT INTO t VALUES (?, ?)` in one transaction, best of 7):
//! `execute` per row 29.8 ms vs `executemany` 21.2 ms in memory (1.4x), 35.2 ms vs 26.7 ms on
//! disk. Over a network the per-row round trip dominates and the gain is far larger, except
//! with psycopg2, whose `executemany` is itself a loop (use `psycopg2.extras.execute_values`).
//!
//! **Example**
//! ```python
//! for user in users:
//!     cur.execute("INSERT INTO users VALUES (?, ?)", (user.id, user.name))
//! ```
//! **Fix**: `cur.executemany("INSERT INTO users VALUES (?, ?)", [(u.id, u.name) for u in users])`.
//!
//! Only `INSERT`/`UPDATE`/`DELETE`/`REPLACE` literals (or a name bound to a string, whose
//! result is then unused) are flagged, on receivers that look like DB-API objects: named
//! `cursor`/`cur`/`conn`/`connection`/`db`/`con`, or bound to `connect(...)` or `.cursor()`.
//! Not flagged: a loop that reads the result (`fetchone()`, `lastrowid`, `rowcount`, the
//! returned cursor), commits or rolls back per row, or wraps the `execute` in `try` or `with`
//! (per-row error handling or transactions: `executemany` would abort the whole batch), loops
//! over a literal or a constant `range` (a few rows), and SQL built per iteration.

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::Ranged;

use crate::checker::{Checker, Node};
use crate::registry::Rule;
use crate::rules::helpers;
use crate::semantic::{Value, dotted};

/// Receiver names that are DB-API cursors or connections by convention.
const DB_NAMES: &[&str] =
    &["cursor", "cur", "curs", "conn", "connection", "db", "con", "cnx", "dbconn", "db_conn", "db_cursor"];

/// The check.
pub fn check(checker: &mut Checker<'_>, node: Node<'_>) {
    let Node::Stmt(Stmt::For(f)) = node else { return };
    if helpers::few_iterations(&f.iter) {
        return;
    }
    let mut scan = Scan { candidates: Vec::new(), refs: Vec::new(), in_try: 0, nested: 0, stores: Vec::new() };
    for stmt in &f.body {
        scan.visit_stmt(stmt);
    }
    let Some(call) = scan.candidates.first().copied() else { return };
    let Expr::Attribute(attr) = call.func.as_ref() else { return };
    let receiver = attr.value.as_ref();
    let Some(receiver_text) = dotted(receiver) else { return };
    if !is_db_receiver(checker, receiver) {
        return;
    }
    let sql = &call.arguments.args[0];
    match sql {
        Expr::StringLiteral(s) => {
            if !is_dml(s.value.to_str()) {
                return;
            }
        }
        Expr::Name(n) => {
            let id = n.id.as_str();
            if scan.stores.contains(&id) || !matches!(checker.bindings(id), Some([v]) if v.is_str()) {
                return;
            }
        }
        _ => return,
    }
    // Every use of the receiver (and of any DB object) in the loop is a candidate `execute`
    // with no result read; no commit, rollback, fetch or cursor attribute.
    let prefix = format!("{receiver_text}.");
    for r in &scan.refs {
        match r {
            Ref::Execute(c) if scan.candidates.iter().any(|k| std::ptr::eq(*k, *c)) => {}
            Ref::Attr(text, method) => {
                let ours = text == &receiver_text || text.starts_with(&prefix);
                let db_method = matches!(
                    *method,
                    "commit" | "rollback" | "fetchone" | "fetchall" | "fetchmany" | "lastrowid" | "rowcount" | "close"
                );
                if ours || db_method {
                    return;
                }
            }
            Ref::Execute(_) => return,
        }
    }
    let sql_text = checker.text(sql.range());
    let statement = match sql {
        Expr::StringLiteral(s) => {
            let first = s.value.to_str().trim_start().split(|c: char| !c.is_ascii_alphabetic()).next().unwrap_or("");
            format!("`{}` statement", first.to_ascii_uppercase())
        }
        _ => format!("`{sql_text}` statement"),
    };
    let sql_arg = if sql_text.len() <= 50 && !sql_text.contains('\n') { sql_text } else { "sql" };
    let params = checker.text(call.arguments.args[1].range());
    let target = checker.text(f.target.range());
    let iter = checker.text(f.iter.range());
    // The comprehension form only when the `execute` is the whole loop body.
    let only_statement = matches!(&f.body[..], [Stmt::Expr(e)] if e.value.range() == call.range());
    let help = if only_statement {
        let rows = if params == target { iter.to_string() } else { format!("[{params} for {target} in {iter}]") };
        format!("replace the loop with one call: `{receiver_text}.executemany({sql_arg}, {rows})`")
    } else {
        format!(
            "append `{params}` to a list in the loop and call `{receiver_text}.executemany({sql_arg}, rows)` once after it"
        )
    };
    checker.report(
        Rule::ExecuteInLoop,
        call.range(),
        format!("`{receiver_text}.execute()` runs the same {statement} once per iteration"),
        Some(help),
    );
}

/// `INSERT`, `UPDATE`, `DELETE`, `REPLACE` or `UPSERT` statements (after whitespace).
fn is_dml(sql: &str) -> bool {
    let first = sql.trim_start().split(|c: char| !c.is_ascii_alphabetic()).next().unwrap_or("");
    ["insert", "update", "delete", "replace", "upsert"].iter().any(|k| first.eq_ignore_ascii_case(k))
}

/// A receiver named like a DB-API object, or bound to `connect(...)` / `.cursor()`.
fn is_db_receiver(checker: &Checker<'_>, receiver: &Expr) -> bool {
    let last = match receiver {
        Expr::Name(n) => n.id.as_str(),
        Expr::Attribute(a) => a.attr.id.as_str(),
        _ => return false,
    };
    let lower = last.trim_start_matches('_').to_ascii_lowercase();
    if DB_NAMES.contains(&lower.as_str()) {
        return true;
    }
    let Expr::Name(n) = receiver else { return false };
    checker.bindings(n.id.as_str()).is_some_and(|vals| {
        !vals.is_empty()
            && vals.iter().all(|v| match v {
                Value::Call(q) | Value::WithItem(Some(q)) => q.ends_with(".cursor") || q.ends_with("connect"),
                _ => false,
            })
    })
}

/// What the loop body does with objects.
enum Ref<'a> {
    /// An `x.execute(...)` call (a candidate or not).
    Execute(&'a ast::ExprCall),
    /// Any other attribute access: (dotted text of the object, attribute name).
    Attr(String, &'a str),
}

/// Scans a loop body: the `execute` statements whose result is unused and that are not in a
/// `try` or nested loop, every attribute access, and the names stored.
struct Scan<'a> {
    candidates: Vec<&'a ast::ExprCall>,
    refs: Vec<Ref<'a>>,
    in_try: usize,
    nested: usize,
    stores: Vec<&'a str>,
}

impl<'a> Visitor<'a> for Scan<'a> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            // `try` or `with` (`with self.assertRaises(...)`, `with conn:` transactions) around
            // the call: per-row error handling or transactions `executemany` would change.
            Stmt::Try(_) | Stmt::With(_) => {
                self.in_try += 1;
                visitor::walk_stmt(self, stmt);
                self.in_try -= 1;
            }
            Stmt::Expr(e) => {
                if let Expr::Call(c) = e.value.as_ref()
                    && is_execute_with_params(c)
                {
                    if self.in_try == 0 && self.nested == 0 {
                        self.candidates.push(c);
                    }
                    self.refs.push(Ref::Execute(c));
                    // The receiver itself is not a further use; its arguments are.
                    visitor::walk_arguments(self, &c.arguments);
                    return;
                }
                visitor::walk_stmt(self, stmt);
            }
            // Nested definitions skipped, nested loops counted.
            _ => helpers::walk_loop_body_stmt(self, stmt, |s| &mut s.nested),
        }
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        match expr {
            Expr::Call(c) if is_execute(c) => {
                // An `execute` whose result is used.
                self.refs.push(Ref::Execute(c));
                visitor::walk_arguments(self, &c.arguments);
            }
            Expr::Attribute(a) => {
                if let Some(text) = dotted(&a.value) {
                    self.refs.push(Ref::Attr(text, a.attr.id.as_str()));
                }
                visitor::walk_expr(self, expr);
            }
            Expr::Name(n) => {
                if n.ctx.is_store() {
                    self.stores.push(n.id.as_str());
                } else {
                    // A bare use of a name (passed along, iterated): record it as an access.
                    self.refs.push(Ref::Attr(n.id.to_string(), ""));
                }
            }
            _ => visitor::walk_expr(self, expr),
        }
    }
}

/// `x.execute(...)`.
fn is_execute(call: &ast::ExprCall) -> bool {
    matches!(call.func.as_ref(), Expr::Attribute(a) if a.attr.id.as_str() == "execute")
}

/// `x.execute(sql, params)`: two positional arguments, no keywords.
fn is_execute_with_params(call: &ast::ExprCall) -> bool {
    is_execute(call)
        && call.arguments.args.len() == 2
        && call.arguments.keywords.is_empty()
        && !call.arguments.args.iter().any(|a| matches!(a, Expr::Starred(_)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixture() {
        crate::rules::check_fixture(crate::Rule::ExecuteInLoop);
    }
}
