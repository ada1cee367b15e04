//! The rule table: every rule's code, name and the node kinds it inspects, and rule selection
//! by code or prefix (`--select TA1`, `--ignore TA203`).
//!
//! Codes group rules by area: `TA1xx` loops and data structures, `TA2xx` async and
//! concurrency, `TA3xx` I/O, `TA4xx` third-party libraries.

use crate::checker::{Checker, Node};
use crate::rules;

/// A lint rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[allow(missing_docs)]
pub enum Rule {
    StringConcatInLoop,
    MembershipInListInLoop,
    ComprehensionInReducer,
    SortedForMinMax,
    UnboundedCache,
    GlobalLookupInLoop,
    DataclassWithoutSlots,
    AppendLoop,
    RedundantCopy,
    PopFrontInLoop,
    NestedLinearSearch,
    TryExceptKeyError,
    RegexInLoop,
    BlockingCallInAsync,
    GatherWithoutReturnExceptions,
    SequentialAwaitInLoop,
    DanglingTask,
    ThreadsForCpuWork,
    ReadlinesIteration,
    WritePerIteration,
    ExecuteInLoop,
    PandasRowIteration,
}

/// Which AST nodes a rule's check wants to see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `for` statements (sync and async).
    For,
    /// `while` statements.
    While,
    /// `x += y` and other augmented assignments.
    AugAssign,
    /// `x = y` assignments.
    Assign,
    /// Expression statements.
    ExprStmt,
    /// `def` and `async def`.
    FunctionDef,
    /// `class` statements.
    ClassDef,
    /// `try` statements.
    Try,
    /// Calls.
    Call,
    /// Comparisons.
    Compare,
    /// Subscripts (`x[i]`).
    Subscript,
    /// `await` expressions.
    Await,
    /// Attribute accesses (`a.b`).
    Attribute,
}

/// Number of [`Kind`]s.
pub const KIND_COUNT: usize = 13;

/// A rule's check: called for every node of the kinds the rule declares.
pub type CheckFn = for<'a, 'c> fn(&'c mut Checker<'a>, Node<'a>);

/// One row of the rule table.
pub struct RuleSpec {
    /// The rule.
    pub rule: Rule,
    /// Code, e.g. `TA101`.
    pub code: &'static str,
    /// Kebab-case name.
    pub name: &'static str,
    /// One-line summary (for `--statistics` and SARIF).
    pub summary: &'static str,
    /// Node kinds the check wants.
    pub kinds: &'static [Kind],
    /// The check.
    pub check: CheckFn,
    /// The rule's source file (its `//!` comment is the documentation).
    pub source: &'static str,
}

impl RuleSpec {
    /// The rule's documentation: the `//!` comment at the top of its file.
    pub fn doc(&self) -> String {
        let mut out = String::new();
        for line in self.source.lines().take_while(|l| l.starts_with("//!")) {
            out.push_str(line.trim_start_matches("//!").strip_prefix(' ').unwrap_or(line.trim_start_matches("//!")));
            out.push('\n');
        }
        out
    }
}

macro_rules! spec {
    ($rule:ident, $code:literal, $name:literal, $summary:literal, $module:ident, [$($kind:ident),*]) => {
        RuleSpec {
            rule: Rule::$rule,
            code: $code,
            name: $name,
            summary: $summary,
            kinds: &[$(Kind::$kind),*],
            check: rules::$module::check,
            source: include_str!(concat!("rules/", stringify!($module), ".rs")),
        }
    };
}

/// Every rule, in code order.
pub static RULES: &[RuleSpec] = &[
    spec!(
        StringConcatInLoop,
        "TA101",
        "string-concat-in-loop",
        "String built with `+=` inside a loop",
        string_concat_in_loop,
        [AugAssign, Assign]
    ),
    spec!(
        MembershipInListInLoop,
        "TA102",
        "membership-in-list-in-loop",
        "Membership test against a list or tuple inside a loop",
        membership_in_list_in_loop,
        [Compare]
    ),
    spec!(
        ComprehensionInReducer,
        "TA103",
        "comprehension-in-reducer",
        "`sum`/`any`/`all`/`min`/`max` over a list comprehension",
        comprehension_in_reducer,
        [Call]
    ),
    spec!(
        SortedForMinMax,
        "TA104",
        "sorted-for-min-max",
        "`sorted(x)[0]` or `sorted(x)[-1]` instead of `min`/`max`",
        sorted_for_min_max,
        [Subscript]
    ),
    spec!(
        UnboundedCache,
        "TA105",
        "unbounded-cache",
        "Unbounded `lru_cache`/`cache`, or `lru_cache` on a method",
        unbounded_cache,
        [FunctionDef]
    ),
    spec!(
        GlobalLookupInLoop,
        "TA106",
        "global-lookup-in-loop",
        "Module attribute or global looked up on every iteration of a hot loop",
        global_lookup_in_loop,
        [For, While]
    ),
    spec!(
        DataclassWithoutSlots,
        "TA107",
        "dataclass-without-slots",
        "Dataclass created many times without `slots=True`",
        dataclass_without_slots,
        [ClassDef]
    ),
    spec!(
        AppendLoop,
        "TA108",
        "append-loop",
        "Loop that only appends to a list: a comprehension is faster",
        append_loop,
        [For]
    ),
    spec!(
        RedundantCopy,
        "TA109",
        "redundant-copy",
        "`list(d.keys())`, `x in d.keys()` or a `list(...)` copy iterated once",
        redundant_copy,
        [Call, Compare, For]
    ),
    spec!(
        PopFrontInLoop,
        "TA110",
        "pop-front-in-loop",
        "`list.pop(0)` or `list.insert(0, x)` inside a loop",
        pop_front_in_loop,
        [Call]
    ),
    spec!(
        NestedLinearSearch,
        "TA111",
        "nested-linear-search",
        "Nested loops comparing elements: a linear search per outer element",
        nested_linear_search,
        [For]
    ),
    spec!(
        TryExceptKeyError,
        "TA112",
        "try-except-key-error",
        "`try: d[k] except KeyError` where `d.get(k)` does",
        try_except_key_error,
        [Try]
    ),
    spec!(
        RegexInLoop,
        "TA113",
        "regex-in-loop",
        "`re` function with a constant pattern inside a loop",
        regex_in_loop,
        [Call]
    ),
    spec!(
        BlockingCallInAsync,
        "TA201",
        "blocking-call-in-async",
        "Blocking call inside `async def`",
        blocking_call_in_async,
        [Call]
    ),
    spec!(
        GatherWithoutReturnExceptions,
        "TA202",
        "gather-without-return-exceptions",
        "`asyncio.gather` without `return_exceptions=True`",
        gather_without_return_exceptions,
        [Call]
    ),
    spec!(
        SequentialAwaitInLoop,
        "TA203",
        "sequential-await-in-loop",
        "`await` in a loop whose iterations are independent",
        sequential_await_in_loop,
        [For]
    ),
    spec!(DanglingTask, "TA204", "dangling-task", "`asyncio.create_task` result not kept", dangling_task, [ExprStmt]),
    spec!(
        ThreadsForCpuWork,
        "TA205",
        "threads-for-cpu-work",
        "Thread whose target does CPU work and no I/O",
        threads_for_cpu_work,
        [Call]
    ),
    spec!(
        ReadlinesIteration,
        "TA301",
        "readlines-iteration",
        "`readlines()` or a whole-file read only to iterate lines",
        readlines_iteration,
        [For, Assign]
    ),
    spec!(
        WritePerIteration,
        "TA302",
        "write-per-iteration",
        "One `write()` per loop iteration on the same file",
        write_per_iteration,
        [For]
    ),
    spec!(
        ExecuteInLoop,
        "TA303",
        "execute-in-loop",
        "One database `execute()` per loop iteration",
        execute_in_loop,
        [For]
    ),
    spec!(
        PandasRowIteration,
        "TA401",
        "pandas-row-iteration",
        "pandas `iterrows()`/`itertuples()` loop or `apply(axis=1)`",
        pandas_row_iteration,
        [Call]
    ),
];

impl Rule {
    /// This rule's table row.
    pub fn spec(self) -> &'static RuleSpec {
        &RULES[self as usize]
    }

    /// Code, e.g. `TA101`.
    pub fn code(self) -> &'static str {
        self.spec().code
    }

    /// Kebab-case name.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// Finds a rule by its exact code.
    pub fn from_code(code: &str) -> Option<Rule> {
        RULES.iter().find(|s| s.code.eq_ignore_ascii_case(code)).map(|s| s.rule)
    }
}

/// A set of rules (a bitset over [`Rule`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RuleSet(u64);

impl RuleSet {
    /// Every rule.
    pub fn all() -> Self {
        RuleSet((1u64 << RULES.len()) - 1)
    }

    /// No rule.
    pub fn empty() -> Self {
        RuleSet(0)
    }

    /// Whether `rule` is in the set.
    pub fn contains(self, rule: Rule) -> bool {
        self.0 & (1 << rule as u64) != 0
    }

    /// Adds a rule.
    pub fn insert(&mut self, rule: Rule) {
        self.0 |= 1 << rule as u64;
    }

    /// Removes a rule.
    pub fn remove(&mut self, rule: Rule) {
        self.0 &= !(1 << rule as u64);
    }

    /// The rules in the set, in code order.
    pub fn iter(self) -> impl Iterator<Item = Rule> {
        RULES.iter().map(|s| s.rule).filter(move |r| self.contains(*r))
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// The rules a selector names: `ALL`, an exact code (`TA101`), a code prefix (`TA1`, `TA`)
/// or a rule name (`append-loop`). `None` when it names nothing.
pub fn select(selector: &str) -> Option<RuleSet> {
    let s = selector.trim();
    if s.is_empty() {
        return None;
    }
    let mut set = RuleSet::empty();
    if s.eq_ignore_ascii_case("ALL") {
        return Some(RuleSet::all());
    }
    for spec in RULES {
        let by_code = spec.code.len() >= s.len() && spec.code[..s.len()].eq_ignore_ascii_case(s);
        if by_code || spec.name == s {
            set.insert(spec.rule);
        }
    }
    (!set.is_empty()).then_some(set)
}

/// Applies `select` then `ignore` lists of selectors; an unknown selector is an error naming it.
pub fn resolve(select_list: &[String], ignore_list: &[String]) -> Result<RuleSet, String> {
    let mut set = if select_list.is_empty() { RuleSet::all() } else { RuleSet::empty() };
    for s in select_list {
        let add = select(s).ok_or_else(|| s.clone())?;
        for r in add.iter() {
            set.insert(r);
        }
    }
    for s in ignore_list {
        let remove = select(s).ok_or_else(|| s.clone())?;
        for r in remove.iter() {
            set.remove(r);
        }
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_in_enum_order_with_unique_codes() {
        for (i, spec) in RULES.iter().enumerate() {
            assert_eq!(spec.rule as usize, i, "{} out of order", spec.code);
            assert!(spec.code.starts_with("TA") && spec.code.len() == 5);
            assert!(!spec.kinds.is_empty());
        }
        let mut codes: Vec<_> = RULES.iter().map(|s| s.code).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), RULES.len());
        assert_eq!(RULES.len(), 22);
    }

    #[test]
    fn selectors() {
        assert_eq!(select("TA101").unwrap().iter().collect::<Vec<_>>(), vec![Rule::StringConcatInLoop]);
        assert_eq!(select("ta2").unwrap().iter().count(), 5);
        assert_eq!(select("append-loop").unwrap().iter().collect::<Vec<_>>(), vec![Rule::AppendLoop]);
        assert!(select("XX1").is_none());
        let set = resolve(&["TA1".into()], &["TA101".into()]).unwrap();
        assert!(!set.contains(Rule::StringConcatInLoop));
        assert!(set.contains(Rule::RegexInLoop));
        assert!(!set.contains(Rule::DanglingTask));
        assert_eq!(resolve(&[], &["NOPE".into()]), Err("NOPE".to_string()));
    }
}
