//! TA105 `unbounded-cache`: an unbounded `functools.cache` / `lru_cache(maxsize=None)`, or an
//! `lru_cache` of any size on an instance method.
//!
//! **Why it is slow**: this is a memory problem that becomes a speed problem. An unbounded
//! cache never evicts: every distinct argument tuple and its result stay referenced for the
//! life of the process, so a long-running service that calls the function with ever-new
//! arguments (ids, paths, user input) grows until it swaps or is killed, and the garbage
//! collector walks the growing cache on every full collection. On a method, `self` is part of
//! the key: the cache (shared by the whole class) keeps every instance that called it alive,
//! with everything those instances reference, until evicted, or forever when unbounded. No
//! micro-benchmark fits: the cost is the memory held, which grows with the number of distinct
//! calls rather than with any per-call time.
//!
//! **Example**
//! ```python
//! class Order:
//!     @functools.lru_cache
//!     def total(self):
//!         return sum(line.price for line in self.lines)
//!
//! @functools.cache
//! def parse_user_agent(header): ...
//! ```
//! **Fix**: on a method, cache per instance: `functools.cached_property` for a method without
//! arguments, or a dict on the instance; or make it a `@staticmethod` or module function when
//! it does not need `self`. Elsewhere, bound the cache: `@functools.lru_cache(maxsize=1024)`.
//!
//! Not flagged: bounded caches on plain functions; functions with no parameters (one entry at
//! most); functions that never return a value (a "warn once per argument" guard, where
//! remembering every argument is the point); bounded caches on methods of value classes
//! (`NamedTuple`s, frozen dataclasses, classes defining `__hash__`: equal instances share an
//! entry); functions whose parameters are all annotated `bool` or `Literal[...]`; self-recursive
//! functions (memoized recursion, where the cache is the algorithm and is bounded by the
//! problem); `@staticmethod`s (no `self` in the key); `@classmethod`s, `__new__` and
//! `__init_subclass__` (the key holds the class, which lives as long as the module anyway:
//! they are treated as plain functions); methods of `Enum` classes (members live forever);
//! `functools.cached_property` (per instance).

use ruff_python_ast::visitor::{Visitor, walk_expr, walk_stmt};
use ruff_python_ast::{self as ast, Expr, Stmt};

use crate::checker::{Checker, Node};
use crate::registry::Rule;

/// How a function is placed.
#[derive(Debug, Clone, Copy)]
enum Place<'a> {
    /// An instance method of this class.
    Method(&'a ast::StmtClassDef),
    /// A class method (or `__new__`): the first parameter is the class.
    ClassBound,
    /// Anything else: module function, nested function, static method.
    Function,
}

/// The check.
pub fn check(checker: &mut Checker<'_>, node: Node<'_>) {
    let Node::Stmt(Stmt::FunctionDef(def)) = node else { return };
    for decorator in &def.decorator_list {
        let Some((shown, unbounded)) = cache_decorator(checker, &decorator.expression) else { continue };
        let name = def.name.id.as_str();
        match place(checker, def) {
            Place::Method(class) => {
                // Value objects (hashed by value) share entries between equal instances; only
                // an unbounded cache is a problem there.
                if !unbounded && is_value_class(class) {
                    continue;
                }
                let class_name = class.name.id.as_str();
                let lifetime = if unbounded { "forever (the cache is unbounded)" } else { "until it is evicted" };
                checker.report(
                    Rule::UnboundedCache,
                    decorator.range,
                    format!("`@{shown}` on method `{class_name}.{name}` keys the cache on `self`: every instance that calls it is kept alive {lifetime}, and all instances share one cache"),
                    Some(if params_besides_self(def) == 0 {
                        format!("use `@functools.cached_property` (cached per instance, freed with it) instead of caching `{name}` on the class")
                    } else {
                        format!("cache per instance (a dict on `self`), or make `{name}` a `@staticmethod` or module function if it does not need `self`")
                    }),
                );
            }
            place @ (Place::Function | Place::ClassBound) => {
                let skip_first = matches!(place, Place::ClassBound);
                if !unbounded || !has_unbounded_key(def, skip_first) || is_recursive(def) || !returns_value(def) {
                    continue;
                }
                checker.report(
                    Rule::UnboundedCache,
                    decorator.range,
                    format!("`@{shown}` on `{name}` never evicts: every distinct argument tuple and its result stay in memory for the life of the process"),
                    Some(format!("bound the cache, e.g. `@functools.lru_cache(maxsize=1024)`, unless `{name}` can only ever be called with a handful of distinct arguments")),
                );
            }
        }
        return;
    }
}

/// `Some((source text, unbounded))` when the decorator is `functools.cache` or
/// `functools.lru_cache` in any form.
fn cache_decorator(checker: &Checker<'_>, expr: &Expr) -> Option<(String, bool)> {
    let shown = checker.text(ruff_text_size::Ranged::range(expr));
    let shown = if shown.len() > 60 { "functools.lru_cache(...)".to_string() } else { shown.to_string() };
    match expr {
        Expr::Call(call) => {
            let q = checker.qualified_name(&call.func)?;
            if q != "functools.lru_cache" {
                return None;
            }
            let maxsize = call.arguments.find_argument_value("maxsize", 0);
            // `lru_cache(user_function)` is not a decorator factory call; `maxsize` defaults to 128.
            let unbounded = matches!(maxsize, Some(Expr::NoneLiteral(_)));
            Some((shown, unbounded))
        }
        Expr::Name(_) | Expr::Attribute(_) => match checker.qualified_name(expr)?.as_str() {
            "functools.cache" => Some((shown, true)),
            "functools.lru_cache" => Some((shown, false)),
            _ => None,
        },
        _ => None,
    }
}

/// Whether `def` is an instance method (directly in a class body, possibly under `if`/`try`),
/// and of which class.
fn place<'a>(checker: &Checker<'a>, def: &ast::StmtFunctionDef) -> Place<'a> {
    let ancestors = checker.ancestors();
    // The last ancestor is `def` itself.
    let class = ancestors.iter().rev().skip(1).find_map(|s| match *s {
        Stmt::ClassDef(c) => Some(Some(c)),
        Stmt::FunctionDef(_) => Some(None),
        _ => None,
    });
    let Some(Some(class)) = class else { return Place::Function };
    let decorated = |name: &str| {
        def.decorator_list.iter().any(|d| {
            checker.qualified_name(&d.expression).as_deref() == Some(name)
                || matches!(&d.expression, Expr::Name(n) if n.id.as_str() == name)
        })
    };
    let has_first = def.parameters.posonlyargs.iter().chain(def.parameters.args.iter()).next().is_some();
    if decorated("staticmethod") || !has_first {
        return Place::Function;
    }
    if decorated("classmethod")
        || matches!(def.name.id.as_str(), "__new__" | "__init_subclass__" | "__class_getitem__")
        || is_enum(checker, class)
    {
        return Place::ClassBound;
    }
    Place::Method(class)
}

/// Whether the class derives from an `enum` class (its members live as long as the class).
fn is_enum(checker: &Checker<'_>, class: &ast::StmtClassDef) -> bool {
    class.bases().iter().any(|b| {
        let q = checker.qualified_name(b).unwrap_or_default();
        let last = semantic_last(b);
        q.starts_with("enum.") || matches!(last, "Enum" | "IntEnum" | "StrEnum" | "Flag" | "IntFlag")
    })
}

fn semantic_last(expr: &Expr) -> &str {
    match expr {
        Expr::Name(n) => n.id.as_str(),
        Expr::Attribute(a) => a.attr.id.as_str(),
        _ => "",
    }
}

/// Number of parameters after `self`.
fn params_besides_self(def: &ast::StmtFunctionDef) -> usize {
    let p = &def.parameters;
    (p.posonlyargs.len() + p.args.len()).saturating_sub(1)
        + p.kwonlyargs.len()
        + usize::from(p.vararg.is_some())
        + usize::from(p.kwarg.is_some())
}

/// Whether the cache key can take unboundedly many values: some parameter (after the class
/// parameter when `skip_first`) that is variadic or not annotated `bool` / `Literal[...]`.
fn has_unbounded_key(def: &ast::StmtFunctionDef, skip_first: bool) -> bool {
    let p = &def.parameters;
    if p.vararg.is_some() || p.kwarg.is_some() {
        return true;
    }
    let positional = p.posonlyargs.iter().chain(p.args.iter()).skip(usize::from(skip_first));
    positional.chain(p.kwonlyargs.iter()).any(|a| {
        !a.parameter.annotation.as_deref().is_some_and(|ann| match ann {
            Expr::Name(n) => n.id.as_str() == "bool",
            Expr::Subscript(s) => semantic_last(&s.value) == "Literal",
            _ => false,
        })
    })
}

/// Whether the class is a value object: a `NamedTuple`/`namedtuple`/`tuple`/`str`/`int`
/// subclass, a frozen dataclass, or a class defining `__hash__`.
fn is_value_class(class: &ast::StmtClassDef) -> bool {
    let value_base = class.bases().iter().any(|b| {
        let b = match b {
            Expr::Call(c) => c.func.as_ref(),
            other => other,
        };
        matches!(
            semantic_last(b),
            "NamedTuple" | "namedtuple" | "tuple" | "str" | "int" | "float" | "frozenset" | "bytes"
        )
    });
    let frozen = class.decorator_list.iter().any(|d| {
        matches!(&d.expression, Expr::Call(c) if semantic_last(&c.func) == "dataclass"
            && c.arguments.find_keyword("frozen").is_some_and(|k| matches!(&k.value, Expr::BooleanLiteral(b) if b.value)))
    });
    let hashes = class.body.iter().any(|s| matches!(s, Stmt::FunctionDef(f) if f.name.id.as_str() == "__hash__"));
    value_base || frozen || hashes
}

/// Whether the function returns a value somewhere (or yields). A cached function that only
/// returns `None` is a "once per argument" guard (warn once, register once): the cache is
/// the feature.
fn returns_value(def: &ast::StmtFunctionDef) -> bool {
    struct Finder {
        found: bool,
    }
    impl<'a> Visitor<'a> for Finder {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            match stmt {
                Stmt::FunctionDef(_) | Stmt::ClassDef(_) => {}
                Stmt::Return(r) => self.found |= r.value.as_deref().is_some_and(|v| !v.is_none_literal_expr()),
                _ => walk_stmt(self, stmt),
            }
        }
        fn visit_expr(&mut self, expr: &'a Expr) {
            match expr {
                Expr::Yield(_) | Expr::YieldFrom(_) => self.found = true,
                Expr::Lambda(_) => {}
                _ => walk_expr(self, expr),
            }
        }
    }
    let mut f = Finder { found: false };
    f.visit_body(&def.body);
    f.found
}

/// Whether the function calls itself by name (memoized recursion).
fn is_recursive(def: &ast::StmtFunctionDef) -> bool {
    struct Finder<'n> {
        name: &'n str,
        found: bool,
    }
    impl<'a> Visitor<'a> for Finder<'_> {
        fn visit_expr(&mut self, expr: &'a Expr) {
            if let Expr::Call(c) = expr
                && let Expr::Name(n) = c.func.as_ref()
                && n.id.as_str() == self.name
            {
                self.found = true;
            }
            if !self.found {
                walk_expr(self, expr);
            }
        }
    }
    let mut f = Finder { name: def.name.id.as_str(), found: false };
    f.visit_body(&def.body);
    f.found
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixture() {
        crate::rules::check_fixture(crate::Rule::UnboundedCache);
    }
}
