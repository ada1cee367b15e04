//! TA106 `global-lookup-in-loop`: an innermost loop of a function that calls cheap module
//! functions through their module on every iteration (`math.sqrt(x)`, `random.random()`,
//! `operator.itemgetter(...)`), where binding the function to a local before the loop is safe.
//!
//! **Why it is slow**: `math.sqrt` is two lookups per iteration (the global `math`, then its
//! attribute `sqrt`) where a local is one `LOAD_FAST`. CPython 3.11 specialises both loads
//! (`LOAD_GLOBAL_MODULE`, `LOAD_ATTR_MODULE`), so the gain is smaller than folklore says, and
//! it only matters when the called function itself is cheap and the loop body is short: the
//! saving is a fixed 4 to 10 ns per lookup per iteration. Measured on this machine (CPython
//! 3.11, 100,000 iterations inside a function, best of 7 to 15 runs, per iteration):
//! `math.sqrt(x)` 46.8 ns vs a local `sqrt(x)` 40.4 ns (14%); `math.floor(x)` 58.7 vs 49.5 ns;
//! `operator.add(x, x)` 66.4 vs 55.8 ns; `struct.pack('d', x)` 123.5 vs 118.0 ns; but
//! `random.randint(1, 6)` 741 vs 732 ns and `os.path.join("a", "b")` 1,333 vs 1,327 ns (noise:
//! the call dominates). So only cheap C functions are flagged (`math`, `cmath`, `operator`,
//! `bisect`, `heapq`, `struct`, `unicodedata`, `binascii`, `zlib.crc32`/`adler32`,
//! `random.random`/`getrandbits`, the `time` clocks), only in loop bodies of at most five
//! statements; `os.path`, `json`, `numpy`, `random.randint` and the like are not.
//!
//! **Example**
//! ```python
//! def norms(points):
//!     out = []
//!     for x, y in points:
//!         out.append(math.sqrt(x * x + y * y))
//!     return out
//! ```
//! **Fix**: `sqrt = math.sqrt` before the loop and `sqrt(x * x + y * y)` in it (or `from
//! math import sqrt` at the top of the module).
//!
//! Not flagged: loops whose body also makes a call that costs far more than a lookup or whose
//! cost is unknown (`print`, functions of this project, other modules, methods other than cheap
//! container and string methods like `append` or `startswith`), loops that `yield` or
//! `await`, loops at module level (their names are globals anyway), loops that contain
//! another loop (only the innermost loop is hot enough to matter), loops over a literal
//! tuple/list or a constant `range` (a handful of iterations), a module name that is rebound
//! anywhere in its scope (hoisting could change which object is called), and `re` calls
//! (TA113 covers them).

use std::collections::BTreeMap;

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::{Ranged, TextRange};

use crate::checker::{Checker, Node};
use crate::registry::Rule;
use crate::rules::helpers;
use crate::semantic::{BUILTINS, Value};

/// Modules whose functions are C functions cheap enough that the lookup is a visible share.
const CHEAP_MODULES: &[&str] = &["math", "cmath", "operator", "bisect", "heapq", "struct", "unicodedata", "binascii"];

/// Methods of builtin containers and strings that cost about as much as a lookup.
const CHEAP_METHODS: &[&str] = &[
    "append",
    "appendleft",
    "add",
    "pop",
    "popleft",
    "get",
    "setdefault",
    "extend",
    "insert",
    "discard",
    "remove",
    "update",
    "items",
    "keys",
    "values",
    "copy",
    "clear",
    "startswith",
    "endswith",
    "strip",
    "lstrip",
    "rstrip",
    "lower",
    "upper",
    "isdigit",
    "isalpha",
    "isalnum",
    "isspace",
    "find",
    "rfind",
    "index",
    "count",
    "decode",
    "encode",
    "bit_length",
    "to_bytes",
    "is_integer",
    "conjugate",
];

/// Most statements (nested ones included) a loop body may have to count as a tight loop.
const MAX_BODY_STATEMENTS: usize = 5;

/// The check.
pub fn check(checker: &mut Checker<'_>, node: Node<'_>) {
    if checker.function().is_none() {
        return;
    }
    let mut finder =
        Finder { calls: Vec::new(), nested_loop: false, stores: Vec::new(), statements: 0, suspends: false };
    let (body, header) = match node {
        Node::Stmt(Stmt::For(f)) => {
            if helpers::few_iterations(&f.iter) {
                return;
            }
            finder.visit_expr(&f.target);
            (&f.body[..], TextRange::new(f.range.start(), f.iter.range().end()))
        }
        Node::Stmt(Stmt::While(w)) => {
            // The condition runs on every iteration too.
            finder.visit_expr(&w.test);
            (&w.body[..], TextRange::new(w.range.start(), w.test.range().end()))
        }
        _ => return,
    };
    for stmt in body {
        finder.visit_stmt(stmt);
    }
    if finder.nested_loop || finder.suspends || finder.calls.is_empty() || finder.statements > MAX_BODY_STATEMENTS {
        return;
    }
    // dotted text -> (number of calls, attribute loads per call)
    let mut lookups: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for call in &finder.calls {
        match call_kind(checker, call, &finder.stores) {
            CallKind::Lookup(depth) => {
                let text = checker.text(call.func.range()).to_string();
                lookups.entry(text).or_insert((0, depth + 1)).0 += 1;
            }
            CallKind::Cheap => {}
            // A costly or unknown call in the body: the lookup would be noise next to it.
            CallKind::Costly => return,
        }
    }
    if lookups.is_empty() {
        return;
    }
    let loads: usize = lookups.values().map(|(n, loads)| n * loads).sum();
    let names: Vec<String> = lookups.keys().map(|k| format!("`{k}`")).collect();
    let message = format!(
        "Loop looks up {} through the module on every iteration ({loads} global and attribute loads per iteration)",
        join_names(&names)
    );
    let locals: Vec<String> = lookups
        .keys()
        .map(|dotted| {
            let (base, func) = dotted.rsplit_once('.').unwrap_or(("", dotted));
            let root = base.split('.').next().unwrap_or(base);
            let local =
                if func == root || finder.stores.contains(&func) { format!("_{func}") } else { func.to_string() };
            format!("`{local} = {dotted}`")
        })
        .collect();
    let help = format!(
        "bind {} to a local before the loop ({}) and call the local inside it",
        if locals.len() == 1 { "the function" } else { "each function" },
        locals.join(", ")
    );
    checker.report(Rule::GlobalLookupInLoop, header, message, Some(help));
}

/// What a call in the loop body is, for this rule.
enum CallKind {
    /// A cheap module function called through its module: the flagged lookup, with the number
    /// of loads to reach its owner.
    Lookup(usize),
    /// A cheap call (a builtin, a method on a local object).
    Cheap,
    /// A call that costs far more than a lookup, or whose cost is unknown.
    Costly,
}

/// Classifies a call of the loop body.
fn call_kind(checker: &Checker<'_>, call: &ast::ExprCall, stores: &[&str]) -> CallKind {
    match call.func.as_ref() {
        Expr::Name(n) => match checker.qualified_name(&call.func) {
            Some(q) if q == n.id.as_str() && BUILTINS.contains(&q.as_str()) => {
                if matches!(q.as_str(), "print" | "open" | "input") { CallKind::Costly } else { CallKind::Cheap }
            }
            Some(q) if is_cheap(&q) => CallKind::Cheap,
            _ => CallKind::Costly,
        },
        Expr::Attribute(attr) => {
            let Some((base, depth)) = base_name(&attr.value) else { return CallKind::Cheap };
            let imported = checker
                .bindings(base)
                .is_some_and(|vals| !vals.is_empty() && vals.iter().any(|v| matches!(v, Value::Import(_))));
            if !imported {
                // A method of some object: cheap only when it is a known cheap container or
                // string method (`append`, `get`, `startswith`, ...).
                return if CHEAP_METHODS.contains(&attr.attr.id.as_str()) { CallKind::Cheap } else { CallKind::Costly };
            }
            let only_imports =
                checker.bindings(base).is_some_and(|vals| vals.iter().all(|v| matches!(v, Value::Import(_))));
            match checker.qualified_name(&call.func) {
                Some(q) if is_cheap(&q) && only_imports && !stores.contains(&base) => CallKind::Lookup(depth),
                Some(q) if is_cheap(&q) => CallKind::Cheap,
                _ => CallKind::Costly,
            }
        }
        _ => CallKind::Costly,
    }
}

/// `a, b and c` from a list.
fn join_names(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Whether calls to `q` are cheap enough that the module lookup shows.
fn is_cheap(q: &str) -> bool {
    let Some((module, func)) = q.rsplit_once('.') else { return false };
    CHEAP_MODULES.contains(&module)
        || matches!(
            (module, func),
            ("zlib", "crc32" | "adler32")
                | ("random", "random" | "getrandbits")
                | ("time", "time" | "perf_counter" | "monotonic" | "time_ns" | "perf_counter_ns" | "monotonic_ns")
        )
}

/// The name at the root of an attribute chain, and how many attributes lead to the callee's
/// owner (`math` in `math.sqrt`: 1 load for `math`, `os.path` in `os.path.join`: 2).
fn base_name(expr: &Expr) -> Option<(&str, usize)> {
    match expr {
        Expr::Name(n) => Some((n.id.as_str(), 1)),
        Expr::Attribute(a) => base_name(&a.value).map(|(b, d)| (b, d + 1)),
        _ => None,
    }
}

/// Collects the calls of a loop body (nested definitions excluded), whether the body
/// has a nested loop, and the names stored in it.
struct Finder<'a> {
    calls: Vec<&'a ast::ExprCall>,
    nested_loop: bool,
    stores: Vec<&'a str>,
    statements: usize,
    suspends: bool,
}

impl<'a> Visitor<'a> for Finder<'a> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        self.statements += 1;
        match stmt {
            Stmt::For(_) | Stmt::While(_) => self.nested_loop = true,
            Stmt::FunctionDef(_) | Stmt::ClassDef(_) => {}
            Stmt::Import(i) => {
                for a in &i.names {
                    let bound = a.asname.as_ref().unwrap_or(&a.name);
                    self.stores.push(bound.id.as_str().split('.').next().unwrap_or(""));
                }
            }
            _ => visitor::walk_stmt(self, stmt),
        }
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        match expr {
            Expr::Lambda(_) => {}
            // A suspended iteration costs whatever the caller or the event loop does meanwhile.
            Expr::Yield(_) | Expr::YieldFrom(_) | Expr::Await(_) => self.suspends = true,
            Expr::Call(c) => {
                self.calls.push(c);
                visitor::walk_expr(self, expr);
            }
            Expr::Name(n) if n.ctx.is_store() || n.ctx.is_del() => {
                self.stores.push(n.id.as_str());
            }
            _ => visitor::walk_expr(self, expr),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixture() {
        crate::rules::check_fixture(crate::Rule::GlobalLookupInLoop);
    }
}
