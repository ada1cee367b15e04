//! The checker: one walk over a file's AST that keeps the context rules ask about (scopes,
//! enclosing loops and functions, async context, ancestors), dispatches each node to the rules
//! that declared its kind, and collects diagnostics and the file's facts for the project pass.

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::TextRange;

use crate::effects;
use crate::project::{DeferredCall, FileFacts, FunctionFacts};
use crate::registry::{CheckFn, KIND_COUNT, Kind, RULES, Rule, RuleSet};
use crate::semantic::{self, BUILTINS, Scope, ScopeKind, Value};

/// A node handed to a rule.
#[derive(Debug, Clone, Copy)]
pub enum Node<'a> {
    /// A statement.
    Stmt(&'a Stmt),
    /// An expression.
    Expr(&'a Expr),
}

/// One replacement of a source range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    /// The replaced range.
    pub range: TextRange,
    /// The new text.
    pub content: String,
}

/// A fix attached to a diagnostic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    /// What the fix does.
    pub message: String,
    /// Whether `--fix` applies it without `--unsafe-fixes`.
    pub safe: bool,
    /// The edits, in source order.
    pub edits: Vec<Edit>,
}

/// A finding in one file, before rendering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The rule.
    pub rule: Rule,
    /// Where.
    pub range: TextRange,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
    /// A fix, when known.
    pub fix: Option<Fix>,
    /// The enclosing function (for the profile join), if any.
    pub function: Option<FunctionRef>,
}

/// The function enclosing a finding, as the profile join needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionRef {
    /// `module.Class.name` (or `module.outer.name` for nested functions).
    pub qualname: String,
    /// The whole definition, decorators included.
    pub range: TextRange,
    /// Where its name is (on the `def` line).
    pub name_at: ruff_text_size::TextSize,
}

impl FunctionRef {
    fn of(f: &FunctionCtx<'_>) -> Self {
        FunctionRef { qualname: f.qualname.clone(), range: f.def.range, name_at: f.def.name.range.start() }
    }
}

/// A loop enclosing the node being checked.
#[derive(Debug, Clone, Copy)]
pub enum LoopRef<'a> {
    /// A `for` loop.
    For(&'a ast::StmtFor),
    /// A `while` loop.
    While(&'a ast::StmtWhile),
}

impl LoopRef<'_> {
    /// The loop's body.
    pub fn body(&self) -> &[Stmt] {
        match self {
            LoopRef::For(f) => &f.body,
            LoopRef::While(w) => &w.body,
        }
    }

    /// The loop's range.
    pub fn range(&self) -> TextRange {
        match self {
            LoopRef::For(f) => f.range,
            LoopRef::While(w) => w.range,
        }
    }
}

/// A function enclosing the node being checked.
#[derive(Debug, Clone)]
pub struct FunctionCtx<'a> {
    /// Its definition.
    pub def: &'a ast::StmtFunctionDef,
    /// `module.Class.name` (or `module.outer.name` for nested functions).
    pub qualname: String,
    /// The class it is a method of, if any.
    pub class: Option<&'a str>,
    loops_base: usize,
    comprehensions_base: usize,
    facts: usize,
}

/// The walk's state, and what rules see.
pub struct Checker<'a> {
    /// The file's source.
    pub source: &'a str,
    /// The module's dotted name.
    pub module: &'a str,
    is_package: bool,
    /// Whether a rule needs the project pass's facts (calls made by each function).
    needs_facts: bool,
    dispatch: [Vec<(Rule, CheckFn)>; KIND_COUNT],
    enabled: RuleSet,
    scopes: Vec<Scope<'a>>,
    loops: Vec<LoopRef<'a>>,
    comprehensions: usize,
    functions: Vec<FunctionCtx<'a>>,
    classes: Vec<&'a ast::StmtClassDef>,
    stmts: Vec<&'a Stmt>,
    /// The qualified name of the call being dispatched (keyed by its start offset).
    callee_cache: Option<(ruff_text_size::TextSize, Option<String>)>,
    /// Diagnostics reported so far.
    pub diagnostics: Vec<Diagnostic>,
    /// Facts about this file's functions, for the project pass.
    pub facts: FileFacts,
    /// Calls whose verdict needs the whole project (resolved after every file is checked).
    pub deferred: Vec<DeferredCall>,
}

impl<'a> Checker<'a> {
    /// A checker for one file. `module` is its dotted module name.
    pub fn new(source: &'a str, module: &'a str, is_package: bool, enabled: RuleSet) -> Self {
        let mut dispatch: [Vec<(Rule, CheckFn)>; KIND_COUNT] = Default::default();
        for spec in RULES {
            if enabled.contains(spec.rule) {
                for k in spec.kinds {
                    dispatch[*k as usize].push((spec.rule, spec.check));
                }
            }
        }
        Checker {
            source,
            module,
            is_package,
            needs_facts: enabled.contains(Rule::BlockingCallInAsync) || enabled.contains(Rule::ThreadsForCpuWork),
            dispatch,
            enabled,
            scopes: Vec::new(),
            loops: Vec::new(),
            comprehensions: 0,
            functions: Vec::new(),
            classes: Vec::new(),
            stmts: Vec::new(),
            callee_cache: None,
            diagnostics: Vec::new(),
            facts: FileFacts::default(),
            deferred: Vec::new(),
        }
    }

    /// Checks a module body.
    pub fn check_module(&mut self, body: &'a [Stmt]) {
        let scope = Scope::build(ScopeKind::Module, body, None, self.module, self.is_package, &[]);
        self.scopes.push(scope);
        self.visit_body(body);
        self.scopes.pop();
    }

    // ----- what rules ask -----

    /// Whether a rule is enabled (for rules that report under another rule's code).
    pub fn enabled(&self, rule: Rule) -> bool {
        self.enabled.contains(rule)
    }

    /// The source text of a range.
    pub fn text(&self, range: TextRange) -> &'a str {
        &self.source[range]
    }

    /// Enclosing `for`/`while` loops of the current function, outermost first.
    pub fn loops(&self) -> &[LoopRef<'a>] {
        let base = self.functions.last().map_or(0, |f| f.loops_base);
        &self.loops[base..]
    }

    /// Number of enclosing `for`/`while` loops in the current function.
    pub fn loop_depth(&self) -> usize {
        self.loops().len()
    }

    /// Whether the node runs once per iteration of a loop or comprehension of the current
    /// function.
    pub fn in_loop(&self) -> bool {
        let base = self.functions.last().map_or(0, |f| f.comprehensions_base);
        self.loop_depth() > 0 || self.comprehensions > base
    }

    /// The innermost enclosing function.
    pub fn function(&self) -> Option<&FunctionCtx<'a>> {
        self.functions.last()
    }

    /// Whether the node is directly inside an `async def` (not in a nested sync `def`).
    pub fn in_async(&self) -> bool {
        self.functions.last().is_some_and(|f| f.def.is_async)
    }

    /// The innermost enclosing class.
    pub fn class(&self) -> Option<&'a ast::StmtClassDef> {
        self.classes.last().copied()
    }

    /// Enclosing statements, outermost first; the last is the current statement (or the
    /// statement containing the current expression).
    pub fn ancestors(&self) -> &[&'a Stmt] {
        &self.stmts
    }

    /// Every binding of `name` visible here (function scopes, then the module; class scopes
    /// only when they are the current scope), or `None` when unbound (a builtin).
    pub fn bindings(&self, name: &str) -> Option<&[Value]> {
        let n = self.scopes.len();
        for (i, scope) in self.scopes.iter().enumerate().rev() {
            if scope.kind == ScopeKind::Class && i + 1 != n {
                continue;
            }
            if scope.declared_outer.contains(&name) {
                continue;
            }
            if let Some(v) = scope.bindings.get(name) {
                return Some(v);
            }
        }
        None
    }

    /// Whether `name` is bound in the current function's own scope.
    pub fn is_local(&self, name: &str) -> bool {
        self.functions.last().is_some()
            && self.scopes.last().is_some_and(|s| s.kind == ScopeKind::Function && s.bindings.contains_key(name))
    }

    /// Whether `name` is bound at module level (and not shadowed by an enclosing function).
    pub fn is_module_global(&self, name: &str) -> bool {
        let n = self.scopes.len();
        for scope in self.scopes[1..].iter().rev().take(n.saturating_sub(1)) {
            if scope.kind == ScopeKind::Function
                && scope.bindings.contains_key(name)
                && !scope.declared_outer.contains(&name)
            {
                return false;
            }
        }
        self.scopes.first().is_some_and(|s| s.bindings.contains_key(name))
    }

    /// What an expression is, when the semantic layer can tell: literals and comprehensions
    /// directly, names through all their bindings (only when every binding agrees).
    pub fn value(&self, expr: &Expr) -> Option<Value> {
        match expr {
            Expr::Name(n) => {
                let vals = self.bindings(n.id.as_str())?;
                let first = vals.first()?;
                vals.iter().all(|v| same_kind(v, first)).then(|| first.clone())
            }
            other => {
                let empty = Scope { kind: ScopeKind::Function, bindings: Default::default(), declared_outer: vec![] };
                match semantic::value_of(other, &empty, &self.scopes) {
                    Value::Other => None,
                    v => Some(v),
                }
            }
        }
    }

    /// Whether every binding of this expression is a list or tuple (or it is a literal one).
    pub fn is_sequence(&self, expr: &Expr) -> bool {
        match expr {
            Expr::Name(n) => {
                self.bindings(n.id.as_str()).is_some_and(|vs| !vs.is_empty() && vs.iter().all(Value::is_sequence))
            }
            other => self.value(other).is_some_and(|v| v.is_sequence()),
        }
    }

    /// The qualified name of a name or attribute chain: imports resolved (`from time import
    /// sleep as zz`: `zz` is `time.sleep`), builtins as their bare name, functions and classes
    /// of this module as `module.name`, `self.m` in a method as `module.Class.m`.
    pub fn qualified_name(&self, expr: &Expr) -> Option<String> {
        match expr {
            Expr::Name(n) => {
                let id = n.id.as_str();
                match self.bindings(id) {
                    None => BUILTINS.contains(&id).then(|| id.to_string()),
                    Some(vals) => match vals.last()? {
                        Value::Import(q) => Some(q.clone()),
                        Value::Function | Value::Class => {
                            // Defined in this module (at top level, or as a nested function).
                            let prefix = self.scope_prefix_of(id);
                            Some(format!("{prefix}.{id}"))
                        }
                        _ => None,
                    },
                }
            }
            Expr::Attribute(a) => {
                if let Expr::Name(base) = a.value.as_ref()
                    && matches!(base.id.as_str(), "self" | "cls")
                    && let (Some(f), Some(class)) = (self.functions.last(), self.functions.last().and_then(|f| f.class))
                {
                    let owner = f.qualname.rsplit_once('.').map_or(self.module, |(o, _)| o);
                    debug_assert!(owner.ends_with(class));
                    return Some(format!("{owner}.{}", a.attr.id.as_str()));
                }
                let mut base = self.qualified_name(&a.value)?;
                // Only module paths continue: attributes of builtins (`str.join`) are not names.
                if BUILTINS.contains(&base.as_str()) && !matches!(a.value.as_ref(), Expr::Name(_)) {
                    return None;
                }
                base.push('.');
                base.push_str(a.attr.id.as_str());
                Some(base)
            }
            _ => None,
        }
    }

    /// The dotted prefix for a function or class named `id` visible here: the innermost
    /// enclosing function that binds it, else the module.
    fn scope_prefix_of(&self, id: &str) -> String {
        let mut fn_index = self.functions.len();
        for scope in self.scopes.iter().rev() {
            if scope.kind == ScopeKind::Function {
                fn_index = fn_index.saturating_sub(1);
                if scope.bindings.contains_key(id) {
                    return self
                        .functions
                        .get(fn_index)
                        .map_or_else(|| self.module.to_string(), |f| f.qualname.clone());
                }
            }
        }
        self.module.to_string()
    }

    /// The qualified name of a call's callee.
    pub fn callee(&self, call: &ast::ExprCall) -> Option<String> {
        // Several rules ask about the call being dispatched: resolve it once.
        if let Some((at, q)) = &self.callee_cache
            && *at == call.range_start
        {
            return q.clone();
        }
        self.qualified_name(&call.func)
    }

    /// Reports a diagnostic; returns it so a fix can be attached.
    pub fn report(
        &mut self,
        rule: Rule,
        range: TextRange,
        message: impl Into<String>,
        help: Option<String>,
    ) -> &mut Diagnostic {
        let function = self.functions.last().map(FunctionRef::of);
        self.diagnostics.push(Diagnostic { rule, range, message: message.into(), help, fix: None, function });
        self.diagnostics.last_mut().expect("just pushed")
    }

    /// Defers a verdict on a call to the project pass.
    pub fn defer(&mut self, rule: Rule, range: TextRange, callee: String, detail: String) {
        let function = self.functions.last().map(FunctionRef::of);
        self.deferred.push(DeferredCall { rule, range, callee, detail, function, offset: range.start().to_u32() });
    }

    // ----- the walk -----

    fn dispatch(&mut self, kind: Kind, node: Node<'a>) {
        let n = self.dispatch[kind as usize].len();
        for i in 0..n {
            let check = self.dispatch[kind as usize][i].1;
            check(self, node);
        }
    }

    fn record_call(&mut self, call: &'a ast::ExprCall, q: Option<String>) {
        let Some(f) = self.functions.last() else { return };
        let idx = f.facts;
        let facts = &mut self.facts.functions[idx];
        match q {
            Some(q) => {
                if let Some(reason) = effects::blocking(&q) {
                    if facts.blocking.is_none() {
                        facts.blocking = Some((q.clone(), reason.to_string()));
                    }
                    facts.io = true;
                } else if !effects::is_pure(&q) {
                    facts.calls.push(q);
                }
            }
            None => {
                if let Expr::Attribute(a) = call.func.as_ref()
                    && effects::is_io_method(a.attr.id.as_str())
                {
                    facts.io = true;
                }
            }
        }
    }

    fn enter_function(&mut self, def: &'a ast::StmtFunctionDef) {
        let class = match self.scopes.last().map(|s| s.kind) {
            Some(ScopeKind::Class) => self.classes.last().map(|c| c.name.id.as_str()),
            _ => None,
        };
        let parent = match (class, self.functions.last()) {
            (Some(c), _) => {
                let outer = self.functions.last().map_or_else(|| self.module.to_string(), |f| f.qualname.clone());
                format!("{outer}.{c}")
            }
            (None, Some(f)) => f.qualname.clone(),
            (None, None) => self.module.to_string(),
        };
        let qualname =
            if parent.is_empty() { def.name.id.to_string() } else { format!("{parent}.{}", def.name.id.as_str()) };
        self.facts.functions.push(FunctionFacts {
            qualname: qualname.clone(),
            is_async: def.is_async,
            offset: def.range.start().to_u32(),
            ..FunctionFacts::default()
        });
        let facts = self.facts.functions.len() - 1;
        self.functions.push(FunctionCtx {
            def,
            qualname,
            class,
            loops_base: self.loops.len(),
            comprehensions_base: self.comprehensions,
            facts,
        });
        let scope = Scope::build(
            ScopeKind::Function,
            &def.body,
            Some(&def.parameters),
            self.module,
            self.is_package,
            &self.scopes,
        );
        self.scopes.push(scope);
    }

    fn mark_loop(&mut self) {
        if let Some(f) = self.functions.last() {
            self.facts.functions[f.facts].cpu_loop = true;
        }
    }
}

fn same_kind(a: &Value, b: &Value) -> bool {
    a == b || (a.is_sequence() && b.is_sequence()) || (a.is_str() && b.is_str()) || (a.is_dict() && b.is_dict())
}

impl<'a> Visitor<'a> for Checker<'a> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        self.stmts.push(stmt);
        let kind = match stmt {
            Stmt::For(_) => Some(Kind::For),
            Stmt::While(_) => Some(Kind::While),
            Stmt::AugAssign(_) => Some(Kind::AugAssign),
            Stmt::Assign(_) => Some(Kind::Assign),
            Stmt::Expr(_) => Some(Kind::ExprStmt),
            Stmt::FunctionDef(_) => Some(Kind::FunctionDef),
            Stmt::ClassDef(_) => Some(Kind::ClassDef),
            Stmt::Try(_) => Some(Kind::Try),
            _ => None,
        };
        if let Some(k) = kind {
            self.dispatch(k, Node::Stmt(stmt));
        }
        match stmt {
            Stmt::FunctionDef(def) => {
                for d in &def.decorator_list {
                    self.visit_decorator(d);
                }
                for p in def.parameters.iter_non_variadic_params() {
                    if let Some(default) = &p.default {
                        self.visit_expr(default);
                    }
                }
                self.enter_function(def);
                self.visit_body(&def.body);
                self.scopes.pop();
                self.functions.pop();
            }
            Stmt::ClassDef(class) => {
                for d in &class.decorator_list {
                    self.visit_decorator(d);
                }
                if let Some(args) = &class.arguments {
                    self.visit_arguments(args);
                }
                let scope =
                    Scope::build(ScopeKind::Class, &class.body, None, self.module, self.is_package, &self.scopes);
                self.scopes.push(scope);
                self.classes.push(class);
                self.visit_body(&class.body);
                self.classes.pop();
                self.scopes.pop();
            }
            Stmt::For(f) => {
                self.visit_expr(&f.iter);
                self.visit_expr(&f.target);
                self.mark_loop();
                self.loops.push(LoopRef::For(f));
                self.visit_body(&f.body);
                self.loops.pop();
                self.visit_body(&f.orelse);
            }
            Stmt::While(w) => {
                self.mark_loop();
                self.loops.push(LoopRef::While(w));
                self.visit_expr(&w.test);
                self.visit_body(&w.body);
                self.loops.pop();
                self.visit_body(&w.orelse);
            }
            _ => visitor::walk_stmt(self, stmt),
        }
        self.stmts.pop();
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        let kind = match expr {
            Expr::Call(call) => {
                let wanted = !self.dispatch[Kind::Call as usize].is_empty();
                if self.needs_facts || wanted {
                    let q = self.qualified_name(&call.func);
                    if self.needs_facts {
                        self.record_call(call, q.clone());
                    }
                    self.callee_cache = Some((call.range_start, q));
                }
                Some(Kind::Call)
            }
            Expr::Compare(_) => Some(Kind::Compare),
            Expr::Subscript(_) => Some(Kind::Subscript),
            Expr::Await(_) => Some(Kind::Await),
            Expr::Attribute(_) => Some(Kind::Attribute),
            _ => None,
        };
        if let Some(k) = kind {
            self.dispatch(k, Node::Expr(expr));
        }
        match expr {
            Expr::ListComp(_) | Expr::SetComp(_) | Expr::DictComp(_) | Expr::Generator(_) => {
                self.mark_loop();
                self.comprehensions += 1;
                visitor::walk_expr(self, expr);
                self.comprehensions -= 1;
            }
            _ => visitor::walk_expr(self, expr),
        }
    }
}
