//! The project pass: facts gathered per function while each file is checked (direct blocking
//! calls, calls made, whether it may do I/O, whether it loops), joined into one index so that
//! rules can follow calls across functions and files (a coroutine calling a sync helper that
//! sleeps; a thread whose target only computes).

use std::collections::HashSet;

use rustc_hash::FxHashMap;

use ruff_text_size::TextRange;

use crate::registry::Rule;

/// What one function does, as seen from its own body.
#[derive(Debug, Clone, Default)]
pub struct FunctionFacts {
    /// `module.Class.name`.
    pub qualname: String,
    /// `async def`.
    pub is_async: bool,
    /// Byte offset of the definition.
    pub offset: u32,
    /// The first known blocking call made directly: (callee, why it blocks).
    pub blocking: Option<(String, String)>,
    /// Qualified names of other calls (project functions or libraries).
    pub calls: Vec<String>,
    /// Some call may do I/O or wait (a blocking call or an I/O-looking method).
    pub io: bool,
    /// The body has a loop or comprehension.
    pub cpu_loop: bool,
}

/// Facts of one file.
#[derive(Debug, Clone, Default)]
pub struct FileFacts {
    /// Every function of the file, nested ones included.
    pub functions: Vec<FunctionFacts>,
}

/// A call whose verdict needs the whole project.
#[derive(Debug, Clone)]
pub struct DeferredCall {
    /// The rule that will report it.
    pub rule: Rule,
    /// The call's range.
    pub range: TextRange,
    /// The callee's qualified name.
    pub callee: String,
    /// Rule-specific detail (for example the kind of thread).
    pub detail: String,
    /// Enclosing function.
    pub function: Option<crate::checker::FunctionRef>,
    /// Start offset (for sorting).
    pub offset: u32,
}

/// Every function of the project, with call-graph summaries.
#[derive(Debug, Default)]
pub struct ProjectIndex {
    functions: Vec<FunctionFacts>,
    /// Function name (last component) -> indices of the functions so named.
    by_name: FxHashMap<Box<str>, Vec<usize>>,
}

/// How a function may block: the chain of calls from it to a blocking call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockingChain {
    /// Qualified names from the called function to the one making the blocking call.
    pub chain: Vec<String>,
    /// The blocking call at the end.
    pub call: String,
    /// Why it blocks.
    pub reason: String,
}

impl ProjectIndex {
    /// Builds the index from every file's facts.
    pub fn new(files: impl IntoIterator<Item = FileFacts>) -> Self {
        let mut index = ProjectIndex::default();
        for file in files {
            for f in file.functions {
                let i = index.functions.len();
                let last = f.qualname.rsplit('.').next().unwrap_or(&f.qualname);
                index.by_name.entry(last.into()).or_default().push(i);
                index.functions.push(f);
            }
        }
        index
    }

    /// The project function a qualified name refers to: the one whose qualified name is
    /// `name`, else the only one whose qualified name ends with `.name` (so `helpers.fetch`
    /// finds `app.helpers.fetch` when the linted root is above the package).
    pub fn find(&self, name: &str) -> Option<&FunctionFacts> {
        let last = name.rsplit('.').next().unwrap_or(name);
        let candidates = self.by_name.get(last)?;
        let mut suffix_match = None;
        let mut suffix_matches = 0;
        for &i in candidates {
            let f = &self.functions[i];
            if f.qualname == name {
                return Some(f);
            }
            if f.qualname.len() > name.len()
                && f.qualname.ends_with(name)
                && f.qualname.as_bytes()[f.qualname.len() - name.len() - 1] == b'.'
            {
                suffix_match = Some(f);
                suffix_matches += 1;
            }
        }
        if suffix_matches == 1 { suffix_match } else { None }
    }

    /// Whether calling `name` may block: a sync project function that makes a blocking call
    /// directly or through other sync project functions (depth-first, shortest found first).
    pub fn blocking_chain(&self, name: &str) -> Option<BlockingChain> {
        let mut seen = HashSet::new();
        self.blocking_from(name, &mut seen, 0)
    }

    fn blocking_from(&self, name: &str, seen: &mut HashSet<String>, depth: usize) -> Option<BlockingChain> {
        if depth > 8 {
            return None;
        }
        let f = self.find(name)?;
        if f.is_async || !seen.insert(f.qualname.clone()) {
            return None;
        }
        if let Some((call, reason)) = &f.blocking {
            return Some(BlockingChain { chain: vec![f.qualname.clone()], call: call.clone(), reason: reason.clone() });
        }
        for callee in &f.calls {
            if let Some(mut c) = self.blocking_from(callee, seen, depth + 1) {
                c.chain.insert(0, f.qualname.clone());
                return Some(c);
            }
        }
        None
    }

    /// Whether `name` is a project function that computes (has a loop, directly or through
    /// callees) and does no I/O anywhere it calls (every callee is pure or a project function
    /// that is itself free of I/O).
    pub fn is_cpu_only(&self, name: &str) -> Option<bool> {
        let f = self.find(name)?;
        let mut seen = HashSet::new();
        let mut looped = false;
        Some(self.io_free(f, &mut seen, &mut looped, 0) && looped)
    }

    fn io_free<'s>(
        &'s self,
        f: &'s FunctionFacts,
        seen: &mut HashSet<&'s str>,
        looped: &mut bool,
        depth: usize,
    ) -> bool {
        if !seen.insert(f.qualname.as_str()) {
            return true;
        }
        if depth > 8 || f.io || f.is_async || f.blocking.is_some() {
            return false;
        }
        *looped |= f.cpu_loop;
        let root = f.qualname.split('.').next().unwrap_or("");
        for callee in &f.calls {
            match self.find(callee) {
                Some(g) if !self.io_free(g, seen, looped, depth + 1) => return false,
                Some(_) => {}
                // Another library, not known to be pure: it may do I/O.
                None if callee.contains('.') && callee.split('.').next() != Some(root) => return false,
                // A class or closure of the project, or a name the index cannot see.
                None => {}
            }
        }
        true
    }
}
