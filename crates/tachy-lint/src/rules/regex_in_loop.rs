//! TA113 `regex-in-loop`: a `re` module function called with a constant pattern inside a loop
//! or comprehension (`re.match(r"\d+", s)`, `re.compile("...")`, `re.sub(...)`, ...).
//!
//! **Why it is slow**: `re` keeps a cache of compiled patterns, so the pattern is not
//! recompiled, but every call still goes through `re._compile`: type checks, a cache lookup
//! keyed by `(type, pattern, flags)` and an extra Python-level call. A compiled pattern's
//! method skips all of that. Measured on this machine (CPython 3.11, `python -m timeit`,
//! `s = "hello world 123"`): `re.match(r"\w+ (\w+)", s)` 1.32 µs vs `P.match(s)` 0.50 µs
//! (2.6x); `re.search(r"\d+", s)` 1.79 µs vs `P.search(s)` 0.98 µs; `re.compile(r"\d+")` on a
//! cache hit still costs 0.60 µs per iteration, for nothing.
//!
//! **Example**
//! ```python
//! for line in lines:
//!     m = re.match(r"(\w+)=(\d+)", line)
//! ```
//! **Fix**: compile the pattern once at module level and call its method:
//! `ASSIGN = re.compile(r"(\w+)=(\d+)")` then `m = ASSIGN.match(line)`.
//!
//! Not flagged: loops over a literal collection or a constant `range` (a few iterations),
//! loops that also run a process, sleep or do file/network I/O (the lookup is noise next to
//! it), and the first `for ... in re.finditer(...)` of a comprehension (evaluated once).
//! Only constant patterns are flagged (a string literal, or a module-level name bound once to
//! a string); a pattern built per iteration, or flags that are not constant, cannot be
//! hoisted and are left alone.

use ruff_python_ast::visitor::{Visitor, walk_expr};
use ruff_python_ast::{self as ast, Expr};
use ruff_text_size::{Ranged, TextRange};

use crate::checker::{Checker, LoopRef, Node};
use crate::effects;
use crate::registry::Rule;
use crate::rules::helpers;
use crate::semantic::Value;

/// `re` functions whose first argument is the pattern.
const FUNCTIONS: &[&str] = &["compile", "match", "search", "fullmatch", "findall", "finditer", "sub", "subn", "split"];

/// The check.
pub fn check(checker: &mut Checker<'_>, node: Node<'_>) {
    let Node::Expr(Expr::Call(call)) = node else { return };
    if !checker.in_loop() || !runs_many_times(checker, call.range()) || loop_blocks(checker) {
        return;
    }
    let Some(q) = checker.callee(call) else { return };
    let Some(func) = q.strip_prefix("re.") else { return };
    if !FUNCTIONS.contains(&func) {
        return;
    }
    let Some(pattern) = call.arguments.find_argument_value("pattern", 0) else { return };
    if !is_constant_pattern(checker, pattern) {
        return;
    }
    // The `flags` argument (keyword or positional) must be the same on every iteration.
    let flags_pos = match func {
        "compile" => 1,
        "match" | "search" | "fullmatch" | "findall" | "finditer" => 2,
        "split" => 3,
        _ => 4, // sub, subn: (pattern, repl, string, count, flags)
    };
    let flags = call.arguments.find_argument_value("flags", flags_pos);
    if flags.is_some_and(|f| !is_constant_flags(f)) {
        return;
    }
    if call.arguments.args.iter().any(|a| matches!(a, Expr::Starred(_)))
        || call.arguments.keywords.iter().any(|k| k.arg.is_none())
    {
        return;
    }
    let shown = checker.text(pattern.range());
    let shown = if shown.len() > 40 { format!("{}...", &shown[..floor_char(shown, 37)]) } else { shown.to_string() };
    let compile_args = match flags {
        Some(f) => format!("{shown}, {}", checker.text(f.range())),
        None => shown.clone(),
    };
    let (message, help) = if func == "compile" {
        (
            format!("`re.compile({shown})` runs on every iteration: the pattern is constant"),
            "compile the pattern once at module level (`PATTERN = re.compile(...)`) and use it in the loop".to_string(),
        )
    } else {
        (
            format!("`re.{func}({shown}, ...)` looks up the pattern in `re`'s cache on every iteration"),
            format!(
                "compile the pattern once at module level (`PATTERN = re.compile({compile_args})`) and call `PATTERN.{func}(...)` in the loop"
            ),
        )
    };
    checker.report(Rule::RegexInLoop, call.range(), message, Some(help));
}

/// Whether the call runs on many iterations: inside a `while`, a `for` over something other
/// than a literal or a constant `range`, or the element/condition part of a comprehension
/// (the first `for ... in <iter>` of a comprehension is evaluated once).
fn runs_many_times(checker: &Checker<'_>, call: TextRange) -> bool {
    let hot_loop = checker.loops().iter().any(|l| match l {
        LoopRef::While(_) => true,
        LoopRef::For(f) => !few_iterations(&f.iter),
    });
    if hot_loop {
        return true;
    }
    let Some(stmt) = checker.ancestors().last() else { return false };
    let mut finder = ComprehensionFinder { call, hot: false };
    finder.visit_stmt(stmt);
    finder.hot
}

/// Whether the innermost loop also waits on I/O or a process (`subprocess.run`, `open`,
/// `time.sleep`, ...): next to that, the pattern lookup is noise.
fn loop_blocks(checker: &Checker<'_>) -> bool {
    /// Looks for a blocking call.
    struct Calls<'c, 'a> {
        checker: &'c Checker<'a>,
        found: bool,
    }
    impl<'x> Visitor<'x> for Calls<'_, '_> {
        fn visit_expr(&mut self, expr: &'x Expr) {
            if let Expr::Call(c) = expr
                && self.checker.callee(c).is_some_and(|q| effects::blocking(&q).is_some())
            {
                self.found = true;
            }
            walk_expr(self, expr);
        }
    }
    let Some(innermost) = checker.loops().last() else { return false };
    let mut calls = Calls { checker, found: false };
    for stmt in innermost.body() {
        calls.visit_stmt(stmt);
    }
    calls.found
}

/// Finds whether a call sits in the per-element part of a comprehension.
struct ComprehensionFinder {
    call: TextRange,
    hot: bool,
}

impl<'a> Visitor<'a> for ComprehensionFinder {
    fn visit_expr(&mut self, expr: &'a Expr) {
        if self.hot || !expr.range().contains_range(self.call) {
            return;
        }
        let generators = match expr {
            Expr::ListComp(c) => Some(&c.generators),
            Expr::SetComp(c) => Some(&c.generators),
            Expr::DictComp(c) => Some(&c.generators),
            Expr::Generator(c) => Some(&c.generators),
            _ => None,
        };
        match generators.and_then(|g| g.first()) {
            Some(first) if first.iter.range().contains_range(self.call) => self.visit_expr(&first.iter),
            Some(first)
                if first.iter.range().end() <= self.call.start() || self.call.end() <= first.iter.range().start() =>
            {
                self.hot = true;
            }
            _ => walk_expr(self, expr),
        }
    }
}

/// A literal tuple/list/set/string or `range(<literal>)`: a loop of a few iterations.
fn few_iterations(iter: &Expr) -> bool {
    helpers::few_iterations(iter) || matches!(iter, Expr::StringLiteral(_) | Expr::BytesLiteral(_))
}

/// The largest char boundary at or below `i`.
fn floor_char(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A string literal, or a module-level name bound exactly once, to a string.
fn is_constant_pattern(checker: &Checker<'_>, pattern: &Expr) -> bool {
    match pattern {
        Expr::StringLiteral(_) | Expr::BytesLiteral(_) => true,
        Expr::Name(n) => {
            let id = n.id.as_str();
            !checker.is_local(id)
                && checker.is_module_global(id)
                && checker.bindings(id).is_some_and(|b| matches!(b, [Value::Str] | [Value::Bytes]))
        }
        _ => false,
    }
}

/// `re.I`, `re.I | re.M`, an integer: flags that are the same on every iteration.
fn is_constant_flags(flags: &Expr) -> bool {
    match flags {
        Expr::NumberLiteral(_) => true,
        Expr::Attribute(a) => matches!(a.value.as_ref(), Expr::Name(n) if n.id.as_str() == "re"),
        Expr::BinOp(ast::ExprBinOp { left, right, .. }) => is_constant_flags(left) && is_constant_flags(right),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixture() {
        crate::rules::check_fixture(crate::Rule::RegexInLoop);
    }
}
