//! TA201 `blocking-call-in-async`: a blocking call (`time.sleep`, `requests.get`, `open`,
//! `subprocess.run`, socket I/O, ...) made inside `async def`, directly or through a sync
//! helper function of the project that makes one.
//!
//! **Why it is slow**: a coroutine runs on the event loop's only thread. While a blocking call
//! waits, no other task runs: every concurrent request, timer and callback stalls. Measured on
//! this machine (CPython 3.11): 20 coroutines gathered, each waiting 10 ms, take 202.8 ms with
//! `time.sleep(0.01)` (they run one after another) and 10.7 ms with `await asyncio.sleep(0.01)`.
//!
//! **Example**
//! ```python
//! async def fetch(url):
//!     return requests.get(url).json()  # the whole loop waits for the server
//! ```
//! **Fix**: the async counterpart (`await asyncio.sleep`, an async HTTP client such as
//! `httpx.AsyncClient` or `aiohttp`, `asyncio.create_subprocess_exec`, `asyncio.open_connection`),
//! or run the blocking function in a thread: `await asyncio.to_thread(requests.get, url)`.
//!
//! The rule follows calls across functions and files: `await`-less calls of sync project
//! functions are settled after every file is read, and flagged when the function (or one it
//! calls) makes a known blocking call; the message names the chain. Calls inside a `lambda`
//! (usually handed to `run_in_executor`) and functions passed by reference to
//! `asyncio.to_thread(f, ...)` / `loop.run_in_executor(None, f, ...)` are not calls made on the
//! loop, and are not flagged. Socket methods (`recv`, `sendall`, ...) are flagged only on a
//! name bound to `socket.socket(...)`/`socket.create_connection(...)` that the function does
//! not switch to non-blocking mode.

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::{Ranged, TextRange};

use crate::checker::{Checker, Diagnostic, Edit, Fix, Node};
use crate::effects;
use crate::project::{DeferredCall, ProjectIndex};
use crate::registry::Rule;
use crate::rules::helpers::{self, SEP};
use crate::semantic::Value;

/// The check.
pub fn check(checker: &mut Checker<'_>, node: Node<'_>) {
    let Node::Expr(Expr::Call(call)) = node else { return };
    if !checker.in_async() {
        return;
    }
    let Some(stmt) = checker.ancestors().last().copied() else { return };
    let site = CallSite::find(stmt, call.range());
    if site.in_lambda {
        // `run_in_executor(None, lambda: requests.get(url))`: runs in a thread, not here.
        return;
    }
    let func_name = checker.function().map_or_else(String::new, |f| f.def.name.id.to_string());
    match checker.callee(call) {
        Some(q) => {
            if let Some(reason) = effects::blocking(&q) {
                let message = format!(
                    "`{q}()` in `async def {func_name}` {reason}, blocking the event loop: no other task runs until it returns"
                );
                let fix = sleep_fix(checker, call, stmt, &q);
                let d = checker.report(Rule::BlockingCallInAsync, call.range(), message, Some(help_for(&q)));
                d.fix = fix;
            } else if !site.awaited && !effects::is_pure(&q) && !q.starts_with("asyncio.") {
                // A sync helper may block somewhere down its calls: the project pass decides.
                // Detail: the callee as written, then the arguments' text.
                let args = call.arguments.range().add_start(1.into()).sub_end(1.into());
                let detail = format!("{}{SEP}{}", checker.text(call.func.range()), checker.text(args).trim());
                checker.defer(Rule::BlockingCallInAsync, call.range(), q, detail);
            }
        }
        None => {
            if let Some(receiver) = blocking_socket(checker, call) {
                let Expr::Attribute(a) = call.func.as_ref() else { return };
                let method = a.attr.id.as_str();
                checker.report(
                    Rule::BlockingCallInAsync,
                    call.range(),
                    format!(
                        "`{receiver}.{method}()` on a blocking socket in `async def {func_name}` waits on the network, blocking the event loop"
                    ),
                    Some(
                        "use asyncio streams (`reader, writer = await asyncio.open_connection(host, port)`), or make the socket non-blocking and `await loop.sock_recv(sock, n)` / `await loop.sock_sendall(sock, data)`"
                            .to_string(),
                    ),
                );
            }
        }
    }
}

/// Settles a deferred call: flagged when the called project function blocks, directly or
/// through the sync project functions it calls.
pub fn settle(d: &DeferredCall, index: &ProjectIndex) -> Option<Diagnostic> {
    let chain = index.blocking_chain(&d.callee)?;
    let (written, args) = d.detail.split_once(SEP).unwrap_or((d.detail.as_str(), ""));
    let written = if written.is_empty() { short(&d.callee) } else { written };
    let args = match args {
        "" => String::new(),
        a if a.contains('\n') || a.len() > 60 => ", ...".to_string(),
        a => format!(", {a}"),
    };
    let mut message = format!("`{written}()` blocks the event loop: it calls ");
    for name in chain.chain.iter().skip(1) {
        message.push_str(&format!("`{}()`, which calls ", short(name)));
    }
    message.push_str(&format!("`{}()` ({})", chain.call, chain.reason));
    let last = chain.chain.last().map_or(written, |s| short(s));
    let help = format!(
        "run it in a thread (`await asyncio.to_thread({written}{args})`), or make `{last}` async and replace `{}()` with its async counterpart",
        chain.call
    );
    Some(helpers::deferred_diagnostic(d, message, help))
}

/// The last segment of a dotted name.
fn short(q: &str) -> &str {
    q.rsplit('.').next().unwrap_or(q)
}

/// The concrete replacement for a known blocking call.
fn help_for(q: &str) -> String {
    let (module, _) = q.rsplit_once('.').unwrap_or(("", q));
    let text = match (module, q) {
        (_, "time.sleep") => "use `await asyncio.sleep(...)`",
        (
            "requests"
            | "requests.api"
            | "httpx"
            | "urllib3"
            | "urllib3.PoolManager"
            | "urllib.request"
            | "urllib"
            | "urllib2",
            _,
        ) => {
            "use an async HTTP client (`httpx.AsyncClient`, `aiohttp`), or run the call in a thread: `await asyncio.to_thread(...)`"
        }
        ("subprocess" | "os", _) => {
            "use `proc = await asyncio.create_subprocess_exec(...)` and `await proc.communicate()` (or `await proc.wait()`)"
        }
        ("socket", _) => {
            "use `await loop.getaddrinfo(...)` for name lookups and `await asyncio.open_connection(host, port)` for connections"
        }
        (_, "input" | "getpass.getpass") => "read standard input in a thread: `await asyncio.to_thread(input, prompt)`",
        (_, "sqlite3.connect" | "psycopg2.connect" | "pymysql.connect" | "MySQLdb.connect") => {
            "use an async driver (`aiosqlite`, `asyncpg`/`psycopg` async, `aiomysql`) or run the queries in a thread with `asyncio.to_thread`"
        }
        _ => "do the file I/O in a thread (`data = await asyncio.to_thread(path.read_bytes)`), or use `aiofiles`",
    };
    text.to_string()
}

/// An unsafe fix for `time.sleep(x)` used as a statement when `asyncio` is imported:
/// `await asyncio.sleep(x)`.
fn sleep_fix(checker: &Checker<'_>, call: &ast::ExprCall, stmt: &Stmt, q: &str) -> Option<Fix> {
    if q != "time.sleep" {
        return None;
    }
    let Stmt::Expr(e) = stmt else { return None };
    if e.value.range() != call.range() {
        return None;
    }
    let asyncio_imported = checker
        .bindings("asyncio")
        .is_some_and(|vs| !vs.is_empty() && vs.iter().all(|v| *v == Value::Import("asyncio".into())));
    if !asyncio_imported {
        return None;
    }
    let args = checker.text(call.arguments.range());
    Some(Fix {
        message: "replace with `await asyncio.sleep(...)`".to_string(),
        safe: false,
        edits: vec![Edit { range: call.range(), content: format!("await asyncio.sleep{args}") }],
    })
}

/// The receiver's name when the call is a waiting method of a blocking socket.
fn blocking_socket(checker: &Checker<'_>, call: &ast::ExprCall) -> Option<String> {
    let Expr::Attribute(a) = call.func.as_ref() else { return None };
    if !effects::SOCKET_METHODS.contains(&a.attr.id.as_str()) {
        return None;
    }
    let Expr::Name(receiver) = a.value.as_ref() else { return None };
    let name = receiver.id.as_str();
    let vals = checker.bindings(name)?;
    let is_socket = |v: &Value| match v {
        Value::Call(q) | Value::WithItem(Some(q)) => {
            matches!(q.as_str(), "socket.socket" | "socket.create_connection" | "socket.create_server")
        }
        _ => false,
    };
    if vals.is_empty() || !vals.iter().all(is_socket) {
        return None;
    }
    // Switched to non-blocking mode (for `loop.sock_*` or a manual readiness loop): fine.
    let body = checker.function().map_or("", |f| checker.text(f.def.range));
    if body.contains(&format!("{name}.setblocking(")) || body.contains(&format!("{name}.settimeout(0")) {
        return None;
    }
    Some(name.to_string())
}

/// Where a call sits inside its statement.
#[derive(Default)]
struct CallSite {
    /// `await f(...)`: the call is a coroutine (or awaitable) call.
    awaited: bool,
    /// Inside a `lambda`: not run here.
    in_lambda: bool,
}

impl CallSite {
    fn find(stmt: &Stmt, call: TextRange) -> CallSite {
        let mut finder = Finder { call, site: CallSite::default() };
        finder.visit_stmt(stmt);
        finder.site
    }
}

/// Walks only the subtrees containing the call.
struct Finder {
    call: TextRange,
    site: CallSite,
}

impl<'a> Visitor<'a> for Finder {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        if stmt.range().contains_range(self.call) {
            visitor::walk_stmt(self, stmt);
        }
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        if !expr.range().contains_range(self.call) {
            return;
        }
        match expr {
            Expr::Await(a) if a.value.range() == self.call => self.site.awaited = true,
            Expr::Lambda(_) => self.site.in_lambda = true,
            _ => {}
        }
        visitor::walk_expr(self, expr);
    }
}

#[cfg(test)]
mod tests {
    use crate::project::ProjectIndex;
    use crate::{Rule, RuleSet};

    #[test]
    fn fixture() {
        crate::rules::check_fixture(Rule::BlockingCallInAsync);
    }

    fn only() -> RuleSet {
        let mut set = RuleSet::empty();
        set.insert(Rule::BlockingCallInAsync);
        set
    }

    #[test]
    fn follows_calls_across_files() {
        let helpers = "import time\n\ndef read_file(path):\n    with open(path) as f:\n        return f.read()\n\ndef fetch(path):\n    return read_file(path)\n\nasync def afetch(path):\n    return 1\n\ndef pure(x):\n    return x + 1\n";
        for import in ["from app.helpers import fetch, afetch, pure", "from .helpers import fetch, afetch, pure"] {
            let main = format!(
                "{import}\n\nasync def handler(p):\n    a = fetch(p)\n    b = await afetch(p)\n    c = pure(1)\n    return a, b, c\n"
            );
            let crate::FileCheck { diagnostics: d1, facts: f1, deferred: def1, .. } =
                crate::check_source(helpers, "app.helpers", false, only());
            let crate::FileCheck { diagnostics: d2, facts: f2, deferred: def2, .. } =
                crate::check_source(&main, "app.main", false, only());
            assert!(d1.is_empty() && d2.is_empty() && def1.is_empty());
            // `fetch(p)` and `pure(1)` are deferred; the awaited `afetch(p)` is not.
            assert_eq!(
                def2.iter().map(|d| d.callee.as_str()).collect::<Vec<_>>(),
                ["app.helpers.fetch", "app.helpers.pure"]
            );
            let index = ProjectIndex::new([f1, f2]);
            let found: Vec<_> = def2.iter().filter_map(|d| super::settle(d, &index)).collect();
            assert_eq!(found.len(), 1, "{found:?}");
            assert_eq!(&main[found[0].range], "fetch(p)");
            assert_eq!(
                found[0].message,
                "`fetch()` blocks the event loop: it calls `read_file()`, which calls `open()` (does file I/O)"
            );
            assert_eq!(found[0].function.as_ref().map(|f| f.qualname.as_str()), Some("app.main.handler"));
        }
    }
}
