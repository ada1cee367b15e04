//! TA301 `readlines-iteration`: a whole file read into memory only to be iterated line by
//! line: `for line in f.readlines():`, `for line in f.read().splitlines():` (or
//! `.split("\n")`), and `lines = f.readlines()` whose only use is one `for` loop over `lines`.
//!
//! **Why it is slow**: `readlines()` builds a list of every line before the loop starts: the
//! peak memory is the whole file plus one string object per line, and the first line waits for
//! the last one to be read. A file object is its own line iterator, reading in buffered
//! chunks. Measured on this machine (CPython 3.11, a 34 MB file of 1,000,000 lines, summing
//! `len(line)`, best of 5): `for line in f.readlines()` 240 ms and 91 MB peak (`tracemalloc`),
//! `for line in f` 177 ms and no measurable peak. For `f.read().splitlines()` the gain is
//! memory, not time: 250-263 ms and a 124 MB peak vs 295 ms for `for line in f:` plus
//! `line.rstrip("\n")` (177 ms when the newline can stay).
//!
//! **Example**
//! ```python
//! with open(path) as f:
//!     for line in f.readlines():
//!         handle(line)
//! ```
//! **Fix**: `for line in f:` (lines keep their `"\n"`, exactly like `readlines()`; after
//! `.read().splitlines()` use `line.rstrip("\n")` or `line.rstrip("\r\n")`).
//!
//! Not flagged: `readlines(hint)`, a loop body that uses the file itself (`f.readline()`,
//! `next(f)`, `f.seek()`: iterating the file would interleave with them), `self.readlines()`
//! (a file-like class implementing its own iteration), `.read()` on anything but a file from
//! `open()`, and a `lines` list used any other way (indexed, `len()`, sliced, passed on,
//! iterated twice, or iterated after the file is closed).

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::Ranged;

use crate::checker::{Checker, Edit, Fix, Node};
use crate::registry::Rule;
use crate::rules::helpers;
use crate::semantic::{Value, dotted};

/// How the lines are produced.
enum Source<'a> {
    /// `R.readlines()`.
    Readlines(&'a Expr),
    /// `R.read().splitlines()` / `R.read().split("\n")`.
    ReadSplit(&'a Expr),
}

/// The check.
pub fn check(checker: &mut Checker<'_>, node: Node<'_>) {
    match node {
        Node::Stmt(Stmt::For(f)) => check_for(checker, f),
        Node::Stmt(Stmt::Assign(a)) => check_assign(checker, a),
        _ => {}
    }
}

/// `for line in f.readlines():` and the `.read().splitlines()` forms.
fn check_for(checker: &mut Checker<'_>, f: &ast::StmtFor) {
    let Expr::Call(call) = f.iter.as_ref() else { return };
    let Some(source) = lines_source(checker, call) else { return };
    let receiver = match source {
        Source::Readlines(r) | Source::ReadSplit(r) => r,
    };
    if let Some(r) = dotted(receiver)
        && (body_mentions(&f.body, &r) || body_mentions(&f.orelse, &r))
    {
        return;
    }
    let r = checker.text(receiver.range());
    let call_text = checker.text(call.range());
    match source {
        Source::Readlines(_) => {
            let diag = checker.report(
                Rule::ReadlinesIteration,
                call.range(),
                format!("`{call_text}` reads the whole file into a list before the loop starts"),
                Some(format!("iterate the file directly: `for {} in {r}:`", checker.text(f.target.range()))),
            );
            diag.fix = Some(Fix {
                message: format!("Iterate `{r}` directly"),
                safe: false,
                edits: vec![Edit { range: call.range(), content: r.to_string() }],
            });
        }
        Source::ReadSplit(_) => {
            let target = checker.text(f.target.range());
            checker.report(
                Rule::ReadlinesIteration,
                call.range(),
                format!("`{call_text}` holds the whole file and a list of all its lines in memory before the loop starts"),
                Some(format!("iterate the file directly: `for {target} in {r}:` (and `{target} = {target}.rstrip(\"\\n\")` if the newline matters)")),
            );
        }
    }
}

/// `lines = f.readlines()` followed by a single `for line in lines:`.
fn check_assign(checker: &mut Checker<'_>, a: &ast::StmtAssign) {
    if checker.function().is_none() || a.targets.len() != 1 {
        return;
    }
    let Expr::Name(target) = &a.targets[0] else { return };
    let Expr::Call(call) = a.value.as_ref() else { return };
    let Some(Source::Readlines(receiver)) = lines_source(checker, call) else { return };
    let name = target.id.as_str();
    if !matches!(checker.bindings(name), Some([_])) {
        return;
    }
    let Some(root) = dotted(receiver) else { return };
    let root = root.as_str();
    // The block holding the assignment: the parent statement's body that contains it.
    let ancestors = checker.ancestors();
    let Some(parent) = ancestors.len().checked_sub(2).map(|i| ancestors[i]) else { return };
    let Some(block) = helpers::child_bodies(parent).into_iter().find(|b| b.iter().any(|s| s.range() == a.range)) else {
        return;
    };
    let Some(pos) = block.iter().position(|s| s.range() == a.range) else { return };
    // The first later statement that mentions `lines` must be `for x in lines:`, with the file
    // untouched in between and in the loop.
    let mut the_loop = None;
    for stmt in &block[pos + 1..] {
        if stmt_mentions(stmt, name) {
            match stmt {
                Stmt::For(f) if matches!(f.iter.as_ref(), Expr::Name(n) if n.id.as_str() == name) => the_loop = Some(f),
                _ => return,
            }
            break;
        }
        if stmt_mentions(stmt, root) {
            return;
        }
    }
    let Some(the_loop) = the_loop else { return };
    if body_mentions(&the_loop.body, root) || body_mentions(&the_loop.orelse, root) {
        return;
    }
    // `lines` read exactly once in the whole function: by that loop.
    let Some(func) = checker.function() else { return };
    let mut counter = NameUses { name, loads: 0 };
    for s in &func.def.body {
        counter.visit_stmt(s);
    }
    if counter.loads != 1 {
        return;
    }
    let line = checker.source[..the_loop.range.start().to_usize()].matches('\n').count() + 1;
    let r = checker.text(receiver.range());
    let target_text = checker.text(the_loop.target.range());
    checker.report(
        Rule::ReadlinesIteration,
        call.range(),
        format!(
            "`{name} = {}` reads the whole file into a list only to loop over it once (line {line})",
            checker.text(call.range())
        ),
        Some(format!("drop `{name}` and iterate the file directly: `for {target_text} in {r}:`")),
    );
}

/// Recognises `R.readlines()`, `R.read().splitlines()` and `R.read().split("\n")`.
fn lines_source<'a>(checker: &Checker<'_>, call: &'a ast::ExprCall) -> Option<Source<'a>> {
    let Expr::Attribute(attr) = call.func.as_ref() else { return None };
    let method = attr.attr.id.as_str();
    match method {
        "readlines" if call.arguments.is_empty() => {
            let r = attr.value.as_ref();
            if matches!(r, Expr::Name(n) if matches!(n.id.as_str(), "self" | "cls")) {
                return None;
            }
            Some(Source::Readlines(r))
        }
        "splitlines" | "split" => {
            let ok_args = match method {
                "splitlines" => call.arguments.is_empty(),
                _ => {
                    call.arguments.keywords.is_empty()
                        && matches!(&call.arguments.args[..], [Expr::StringLiteral(s)] if s.value.to_str() == "\n")
                }
            };
            if !ok_args {
                return None;
            }
            let Expr::Call(read) = attr.value.as_ref() else { return None };
            let Expr::Attribute(read_attr) = read.func.as_ref() else { return None };
            if read_attr.attr.id.as_str() != "read" || !read.arguments.is_empty() {
                return None;
            }
            let r = read_attr.value.as_ref();
            is_open_file(checker, r).then_some(Source::ReadSplit(r))
        }
        _ => None,
    }
}

/// `open(...)`, or a name bound only by `with open(...) as f` / `f = open(...)`.
fn is_open_file(checker: &Checker<'_>, expr: &Expr) -> bool {
    let is_open = |q: &str| matches!(q, "open" | "io.open" | "codecs.open");
    match expr {
        Expr::Call(c) => checker.callee(c).is_some_and(|q| is_open(&q)),
        Expr::Name(n) => checker.bindings(n.id.as_str()).is_some_and(|vals| {
            !vals.is_empty()
                && vals.iter().all(|v| match v {
                    Value::WithItem(Some(q)) | Value::Call(q) => is_open(q),
                    _ => false,
                })
        }),
        _ => false,
    }
}

/// Whether any statement of `body` mentions `reference`.
fn body_mentions(body: &[Stmt], reference: &str) -> bool {
    body.iter().any(|s| stmt_mentions(s, reference))
}

/// Whether a statement mentions `reference` (a name, or a dotted chain like `self.f`)
/// anywhere: loads, stores, nested functions.
fn stmt_mentions(stmt: &Stmt, reference: &str) -> bool {
    let mut m = Mentions { reference, found: false };
    m.visit_stmt(stmt);
    m.found
}

/// Finds a name or attribute chain.
struct Mentions<'n> {
    reference: &'n str,
    found: bool,
}

impl<'a> Visitor<'a> for Mentions<'_> {
    fn visit_expr(&mut self, expr: &'a Expr) {
        match expr {
            Expr::Name(n) if n.id.as_str() == self.reference => self.found = true,
            Expr::Attribute(_) if self.reference.contains('.') && dotted(expr).as_deref() == Some(self.reference) => {
                self.found = true;
            }
            _ => {}
        }
        visitor::walk_expr(self, expr);
    }
}

/// Counts the loads of a name (nested functions included: a closure use counts).
struct NameUses<'n> {
    name: &'n str,
    loads: usize,
}

impl<'a> Visitor<'a> for NameUses<'_> {
    fn visit_expr(&mut self, expr: &'a Expr) {
        if let Expr::Name(n) = expr
            && n.id.as_str() == self.name
            && !n.ctx.is_store()
        {
            self.loads += 1;
        }
        visitor::walk_expr(self, expr);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixture() {
        crate::rules::check_fixture(crate::Rule::ReadlinesIteration);
    }
}
