//! The light semantic layer: scopes with their bindings (what each name was assigned), imports
//! resolved to qualified names, and helpers to classify expressions.
//!
//! A scope is pre-scanned when the checker enters it (module, class or function body, without
//! descending into nested definitions), so a rule sees every binding of a name in its scope,
//! including ones made after the node being checked.

use rustc_hash::FxHashMap as HashMap;

use ruff_python_ast::{self as ast, Expr, Stmt};

/// What a name was bound to.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `[...]`
    List,
    /// `(...)`
    Tuple,
    /// `{a, b}`
    Set,
    /// `{k: v}`
    Dict,
    /// A string literal or f-string (or `str(...)`).
    Str,
    /// A bytes literal.
    Bytes,
    /// An integer literal (or `int(...)`, `len(...)`).
    Int,
    /// A float literal (or `float(...)`).
    Float,
    /// `True`/`False`.
    Bool,
    /// `None`.
    NoneLit,
    /// `[x for ...]`
    ListComp,
    /// `{x for ...}`
    SetComp,
    /// `{k: v for ...}`
    DictComp,
    /// `(x for ...)`
    Generator,
    /// A call; the callee's qualified name when known, else its dotted source text.
    Call(String),
    /// An import of this qualified name.
    Import(String),
    /// A `def`.
    Function,
    /// A `class`.
    Class,
    /// A parameter, with what its annotation says when it names a known type.
    Param(Option<Box<Value>>),
    /// A `for` target or comprehension variable.
    LoopVar,
    /// A `with ... as name` target: the context expression's callee when it is a call.
    WithItem(Option<String>),
    /// Anything else (augmented assignment, unpacking, walrus, ...).
    Other,
}

impl Value {
    /// Whether values of this kind are lists or tuples (linear membership tests).
    pub fn is_sequence(&self) -> bool {
        match self {
            Value::List | Value::Tuple | Value::ListComp => true,
            Value::Call(q) => matches!(q.as_str(), "list" | "tuple" | "sorted"),
            Value::Param(Some(v)) => v.is_sequence(),
            _ => false,
        }
    }

    /// Whether values of this kind are strings.
    pub fn is_str(&self) -> bool {
        match self {
            Value::Str => true,
            Value::Call(q) => matches!(q.as_str(), "str" | "repr" | "format" | "chr"),
            Value::Param(Some(v)) => v.is_str(),
            _ => false,
        }
    }

    /// Whether values of this kind are numbers.
    pub fn is_number(&self) -> bool {
        match self {
            Value::Int | Value::Float | Value::Bool => true,
            Value::Call(q) => matches!(q.as_str(), "int" | "float" | "len" | "sum" | "abs" | "round"),
            Value::Param(Some(v)) => v.is_number(),
            _ => false,
        }
    }

    /// Whether values of this kind are dicts.
    pub fn is_dict(&self) -> bool {
        match self {
            Value::Dict | Value::DictComp => true,
            Value::Call(q) => {
                matches!(
                    q.as_str(),
                    "dict" | "collections.defaultdict" | "collections.OrderedDict" | "collections.Counter"
                )
            }
            Value::Param(Some(v)) => v.is_dict(),
            _ => false,
        }
    }
}

/// The kind of a scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeKind {
    /// The module.
    Module,
    /// A class body.
    Class,
    /// A function body.
    Function,
}

/// Names bound in one scope.
#[derive(Debug)]
pub struct Scope<'a> {
    /// Module, class or function.
    pub kind: ScopeKind,
    /// Every binding of each name, in source order.
    pub bindings: HashMap<&'a str, Vec<Value>>,
    /// Names declared `global` or `nonlocal` here.
    pub declared_outer: Vec<&'a str>,
}

impl<'a> Scope<'a> {
    fn new(kind: ScopeKind) -> Self {
        Scope { kind, bindings: HashMap::default(), declared_outer: Vec::new() }
    }

    /// Builds the scope of `body`, with `params` for a function. `module` is the dotted name
    /// of the file's module (for relative imports); `outer` resolves calls in assigned values.
    pub fn build(
        kind: ScopeKind,
        body: &'a [Stmt],
        params: Option<&'a ast::Parameters>,
        module: &str,
        is_package: bool,
        outer: &[Scope<'a>],
    ) -> Self {
        let mut scope = Scope::new(kind);
        if let Some(p) = params {
            for param in p.iter() {
                let ann = param.annotation().and_then(annotation_value).map(Box::new);
                scope.bind(param.name().id.as_str(), Value::Param(ann));
            }
        }
        // Imports first, so that assigned calls resolve through them.
        collect_imports(body, module, is_package, &mut scope);
        collect(body, &mut scope, outer);
        scope
    }

    fn bind(&mut self, name: &'a str, value: Value) {
        self.bindings.entry(name).or_default().push(value);
    }
}

fn collect_imports<'a>(body: &'a [Stmt], module: &str, is_package: bool, scope: &mut Scope<'a>) {
    for stmt in body {
        match stmt {
            Stmt::Import(imp) => {
                for alias in &imp.names {
                    let full = alias.name.id.as_str();
                    match &alias.asname {
                        Some(asname) => scope.bind(asname.id.as_str(), Value::Import(full.to_string())),
                        None => {
                            let first = full.split('.').next().unwrap_or(full);
                            // `import a.b` binds `a`, the top package.
                            let first_name = &alias.name.id.as_str()[..first.len()];
                            scope.bind(first_name, Value::Import(first.to_string()));
                        }
                    }
                }
            }
            Stmt::ImportFrom(imp) => {
                let base = resolve_relative(module, is_package, imp.level, imp.module.as_ref().map(|m| m.id.as_str()));
                for alias in &imp.names {
                    if alias.name.id.as_str() == "*" {
                        continue;
                    }
                    let q = if base.is_empty() {
                        alias.name.id.to_string()
                    } else {
                        format!("{base}.{}", alias.name.id.as_str())
                    };
                    let bound = alias.asname.as_ref().unwrap_or(&alias.name);
                    scope.bind(bound.id.as_str(), Value::Import(q));
                }
            }
            Stmt::If(s) => {
                collect_imports(&s.body, module, is_package, scope);
                for c in &s.elif_else_clauses {
                    collect_imports(&c.body, module, is_package, scope);
                }
            }
            Stmt::Try(s) => {
                collect_imports(&s.body, module, is_package, scope);
                for h in &s.handlers {
                    let ast::ExceptHandler::ExceptHandler(h) = h;
                    collect_imports(&h.body, module, is_package, scope);
                }
                collect_imports(&s.orelse, module, is_package, scope);
                collect_imports(&s.finalbody, module, is_package, scope);
            }
            _ => {}
        }
    }
}

/// The absolute module of `from <level dots><name> import ...` inside `module`.
pub fn resolve_relative(module: &str, is_package: bool, level: u32, name: Option<&str>) -> String {
    if level == 0 {
        return name.unwrap_or("").to_string();
    }
    let mut parts: Vec<&str> = if module.is_empty() { Vec::new() } else { module.split('.').collect() };
    // In a package's __init__, `.` is the package itself; in a module, its parent.
    let drop = if is_package { level - 1 } else { level };
    for _ in 0..drop {
        parts.pop();
    }
    if let Some(n) = name {
        parts.push(n);
    }
    parts.join(".")
}

fn collect<'a>(body: &'a [Stmt], scope: &mut Scope<'a>, outer: &[Scope<'a>]) {
    for stmt in body {
        match stmt {
            Stmt::FunctionDef(f) => scope.bind(f.name.id.as_str(), Value::Function),
            Stmt::ClassDef(c) => scope.bind(c.name.id.as_str(), Value::Class),
            Stmt::Assign(a) => {
                let v = value_of(&a.value, scope, outer);
                for t in &a.targets {
                    bind_target(t, v.clone(), scope);
                }
                collect_walrus(&a.value, scope);
            }
            Stmt::AnnAssign(a) => {
                let v = match (&a.value, annotation_value(&a.annotation)) {
                    (_, Some(ann)) => ann,
                    (Some(val), None) => value_of(val, scope, outer),
                    (None, None) => Value::Other,
                };
                bind_target(&a.target, v, scope);
            }
            Stmt::AugAssign(a) => {
                if let Expr::Name(n) = a.target.as_ref() {
                    let v = match value_of(&a.value, scope, outer) {
                        Value::Str => Value::Str,
                        _ => Value::Other,
                    };
                    scope.bind(n.id.as_str(), v);
                }
            }
            Stmt::For(f) => {
                bind_target(&f.target, Value::LoopVar, scope);
                collect(&f.body, scope, outer);
                collect(&f.orelse, scope, outer);
            }
            Stmt::While(w) => {
                collect(&w.body, scope, outer);
                collect(&w.orelse, scope, outer);
            }
            Stmt::If(s) => {
                collect_walrus(&s.test, scope);
                collect(&s.body, scope, outer);
                for c in &s.elif_else_clauses {
                    collect(&c.body, scope, outer);
                }
            }
            Stmt::With(w) => {
                for item in &w.items {
                    if let Some(vars) = &item.optional_vars {
                        let callee = match &item.context_expr {
                            Expr::Call(c) => Some(callee_name(&c.func, scope, outer)),
                            _ => None,
                        };
                        bind_target(vars, Value::WithItem(callee), scope);
                    }
                }
                collect(&w.body, scope, outer);
            }
            Stmt::Try(s) => {
                collect(&s.body, scope, outer);
                for h in &s.handlers {
                    let ast::ExceptHandler::ExceptHandler(h) = h;
                    if let Some(n) = &h.name {
                        scope.bind(n.id.as_str(), Value::Other);
                    }
                    collect(&h.body, scope, outer);
                }
                collect(&s.orelse, scope, outer);
                collect(&s.finalbody, scope, outer);
            }
            Stmt::Match(m) => {
                for case in &m.cases {
                    collect(&case.body, scope, outer);
                }
            }
            Stmt::Global(g) => scope.declared_outer.extend(g.names.iter().map(|n| n.id.as_str())),
            Stmt::Nonlocal(g) => scope.declared_outer.extend(g.names.iter().map(|n| n.id.as_str())),
            Stmt::Expr(e) => collect_walrus(&e.value, scope),
            Stmt::Delete(d) => {
                for t in &d.targets {
                    if let Expr::Name(n) = t {
                        scope.bind(n.id.as_str(), Value::Other);
                    }
                }
            }
            _ => {}
        }
    }
}

fn collect_walrus<'a>(expr: &'a Expr, scope: &mut Scope<'a>) {
    if let Expr::Named(n) = expr
        && let Expr::Name(name) = n.target.as_ref()
    {
        scope.bind(name.id.as_str(), Value::Other);
    }
}

fn bind_target<'a>(target: &'a Expr, value: Value, scope: &mut Scope<'a>) {
    match target {
        Expr::Name(n) => scope.bind(n.id.as_str(), value),
        Expr::Tuple(t) => {
            for e in &t.elts {
                bind_target(e, if value == Value::LoopVar { Value::LoopVar } else { Value::Other }, scope);
            }
        }
        Expr::List(t) => {
            for e in &t.elts {
                bind_target(e, Value::Other, scope);
            }
        }
        Expr::Starred(s) => bind_target(&s.value, Value::Other, scope),
        _ => {}
    }
}

/// What an annotation says about a value, for the types the rules care about.
pub fn annotation_value(ann: &Expr) -> Option<Value> {
    let base = match ann {
        Expr::Subscript(s) => s.value.as_ref(),
        other => other,
    };
    let name = match base {
        Expr::Name(n) => n.id.as_str(),
        Expr::Attribute(a) => a.attr.id.as_str(),
        Expr::StringLiteral(_) => return None,
        _ => return None,
    };
    Some(match name {
        "list" | "List" => Value::List,
        "tuple" | "Tuple" => Value::Tuple,
        "set" | "Set" | "frozenset" | "FrozenSet" => Value::Set,
        "dict" | "Dict" | "defaultdict" | "OrderedDict" | "Counter" => Value::Dict,
        "str" => Value::Str,
        "bytes" => Value::Bytes,
        "int" => Value::Int,
        "float" => Value::Float,
        "bool" => Value::Bool,
        "DataFrame" => Value::Call("pandas.DataFrame".into()),
        _ => return None,
    })
}

/// Classifies an assigned value.
pub fn value_of(expr: &Expr, scope: &Scope<'_>, outer: &[Scope<'_>]) -> Value {
    match expr {
        Expr::List(_) => Value::List,
        Expr::Tuple(_) => Value::Tuple,
        Expr::Set(_) => Value::Set,
        Expr::Dict(_) => Value::Dict,
        Expr::StringLiteral(_) | Expr::FString(_) => Value::Str,
        Expr::BytesLiteral(_) => Value::Bytes,
        Expr::NumberLiteral(n) => match n.value {
            ast::Number::Int(_) => Value::Int,
            _ => Value::Float,
        },
        Expr::BooleanLiteral(_) => Value::Bool,
        Expr::NoneLiteral(_) => Value::NoneLit,
        Expr::ListComp(_) => Value::ListComp,
        Expr::SetComp(_) => Value::SetComp,
        Expr::DictComp(_) => Value::DictComp,
        Expr::Generator(_) => Value::Generator,
        Expr::Call(c) => {
            // `"".join(...)`, `x.format(...)`: strings.
            if let Expr::Attribute(a) = c.func.as_ref()
                && matches!(a.value.as_ref(), Expr::StringLiteral(_))
            {
                return Value::Str;
            }
            Value::Call(callee_name(&c.func, scope, outer))
        }
        Expr::BinOp(b) => {
            let l = value_of(&b.left, scope, outer);
            let r = value_of(&b.right, scope, outer);
            if l == Value::Str || r == Value::Str {
                Value::Str
            } else if matches!(l, Value::Int | Value::Float) && matches!(r, Value::Int | Value::Float) {
                l
            } else if matches!(b.op, ast::Operator::Add) && l == Value::List && r == Value::List {
                Value::List
            } else {
                Value::Other
            }
        }
        _ => Value::Other,
    }
}

/// The callee's qualified name (through imports of `scope` and `outer`) or its dotted text.
pub fn callee_name(func: &Expr, scope: &Scope<'_>, outer: &[Scope<'_>]) -> String {
    match func {
        Expr::Name(n) => {
            let id = n.id.as_str();
            let found = scope.bindings.get(id).or_else(|| outer.iter().rev().find_map(|s| s.bindings.get(id)));
            match found.and_then(|v| v.last()) {
                Some(Value::Import(q)) => q.clone(),
                _ => id.to_string(),
            }
        }
        Expr::Attribute(a) => {
            let base = callee_name(&a.value, scope, outer);
            if base.is_empty() { String::new() } else { format!("{base}.{}", a.attr.id.as_str()) }
        }
        _ => String::new(),
    }
}

/// The dotted source form of a name or attribute chain (`a.b.c`), else `None`.
pub fn dotted(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Name(n) => Some(n.id.to_string()),
        Expr::Attribute(a) => dotted(&a.value).map(|b| format!("{b}.{}", a.attr.id.as_str())),
        _ => None,
    }
}

/// Names of Python's builtins that rules resolve (a builtin resolves to its bare name).
pub const BUILTINS: &[&str] = &[
    "abs",
    "all",
    "any",
    "ascii",
    "bin",
    "bool",
    "bytearray",
    "bytes",
    "callable",
    "chr",
    "dict",
    "divmod",
    "enumerate",
    "filter",
    "float",
    "format",
    "frozenset",
    "getattr",
    "hasattr",
    "hash",
    "hex",
    "id",
    "input",
    "int",
    "isinstance",
    "issubclass",
    "iter",
    "len",
    "list",
    "map",
    "max",
    "min",
    "next",
    "object",
    "oct",
    "open",
    "ord",
    "pow",
    "print",
    "range",
    "repr",
    "reversed",
    "round",
    "set",
    "setattr",
    "slice",
    "sorted",
    "str",
    "sum",
    "super",
    "tuple",
    "type",
    "vars",
    "zip",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_imports() {
        assert_eq!(resolve_relative("pkg.mod", false, 1, Some("helpers")), "pkg.helpers");
        assert_eq!(resolve_relative("pkg", true, 1, Some("helpers")), "pkg.helpers");
        assert_eq!(resolve_relative("pkg.sub.mod", false, 2, None), "pkg");
        assert_eq!(resolve_relative("a", false, 0, Some("time")), "time");
    }

    #[test]
    fn import_aliases_resolve() {
        let src = "from time import sleep as zz\nimport os.path\nimport numpy as np\nx = [1, 2]\ns = ''\nt = zz(1)\n";
        let parsed = ruff_python_parser::parse_module(src).unwrap();
        let scope = Scope::build(ScopeKind::Module, parsed.suite(), None, "m", false, &[]);
        assert_eq!(scope.bindings["zz"], vec![Value::Import("time.sleep".into())]);
        assert_eq!(scope.bindings["os"], vec![Value::Import("os".into())]);
        assert_eq!(scope.bindings["np"], vec![Value::Import("numpy".into())]);
        assert_eq!(scope.bindings["x"], vec![Value::List]);
        assert_eq!(scope.bindings["s"], vec![Value::Str]);
        assert_eq!(scope.bindings["t"], vec![Value::Call("time.sleep".into())]);
    }
}
