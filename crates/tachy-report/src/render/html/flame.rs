//! The data of the page's interactive flamegraphs: stacks (root first, with a weight) merged
//! into a tree, pruned of invisible slivers, and flattened in pre-order for the script, plus
//! the markup of the flamegraph component (search box, reset button, status line, canvas).
//!
//! Several flamegraphs on one page never collide: each gets its own ids from the page's
//! counter, and the script only looks inside its own root element.

use std::collections::HashMap;
use std::fmt::Write;

use serde::Serialize;

use super::{Ctx, json_for_script};

/// Most nodes sent to the page; past this, the pruning threshold rises.
const MAX_NODES: usize = 20_000;

/// A flamegraph for the page's script.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct FlameData {
    /// What the values count: `samples` or `bytes`.
    pub(crate) unit: &'static str,
    /// The root's value.
    pub(crate) total: u64,
    /// Node names (functions), deduplicated.
    pub(crate) names: Vec<String>,
    /// Second line of each name's tooltip (its file), parallel to `names`.
    pub(crate) tips: Vec<String>,
    /// Nodes in pre-order as `[name index, depth, value]`; the first is the root.
    pub(crate) nodes: Vec<[u64; 3]>,
}

/// One node while building.
#[derive(Debug)]
struct Node {
    /// Index into the labels.
    label: u32,
    /// Weight of the stacks through this node.
    value: u64,
    /// Child nodes.
    children: Vec<usize>,
}

/// Builds a flamegraph tree from weighted stacks.
#[derive(Debug)]
pub(crate) struct FlameBuilder {
    /// (name, tip) of every label.
    labels: Vec<(String, String)>,
    /// Label lookup.
    label_index: HashMap<(String, String), u32>,
    /// Nodes; the first is the root.
    nodes: Vec<Node>,
    /// (parent, label) -> child node.
    child_index: HashMap<(usize, u32), usize>,
}

impl FlameBuilder {
    /// A tree whose root is called `root`.
    pub(crate) fn new(root: &str, root_tip: &str) -> FlameBuilder {
        let mut b = FlameBuilder {
            labels: Vec::new(),
            label_index: HashMap::new(),
            nodes: Vec::new(),
            child_index: HashMap::new(),
        };
        let label = b.label(root, root_tip);
        b.nodes.push(Node { label, value: 0, children: Vec::new() });
        b
    }

    /// Interns a label (a function name and its tooltip line).
    pub(crate) fn label(&mut self, name: &str, tip: &str) -> u32 {
        if let Some(&i) = self.label_index.get(&(name.to_string(), tip.to_string())) {
            return i;
        }
        let i = self.labels.len() as u32;
        self.labels.push((name.to_string(), tip.to_string()));
        self.label_index.insert((name.to_string(), tip.to_string()), i);
        i
    }

    /// Adds a stack of labels, root first, with weight `value`.
    pub(crate) fn add(&mut self, path: &[u32], value: u64) {
        if value == 0 {
            return;
        }
        let mut node = 0;
        self.nodes[0].value += value;
        for &label in path {
            let next = match self.child_index.get(&(node, label)) {
                Some(&c) => c,
                None => {
                    let c = self.nodes.len();
                    self.nodes.push(Node { label, value: 0, children: Vec::new() });
                    self.nodes[node].children.push(c);
                    self.child_index.insert((node, label), c);
                    c
                }
            };
            self.nodes[next].value += value;
            node = next;
        }
    }

    /// The tree in pre-order, children heaviest first, without nodes under 1/10,000 of the
    /// total, and at most [`MAX_NODES`] nodes.
    pub(crate) fn finish(mut self, unit: &'static str) -> FlameData {
        let total = self.nodes[0].value;
        for i in 0..self.nodes.len() {
            let mut children = std::mem::take(&mut self.nodes[i].children);
            children.sort_by(|&a, &b| {
                self.nodes[b].value.cmp(&self.nodes[a].value).then_with(|| {
                    self.labels[self.nodes[a].label as usize].cmp(&self.labels[self.nodes[b].label as usize])
                })
            });
            self.nodes[i].children = children;
        }
        // Nodes under 1/10,000 of the total are invisible even zoomed in a little; past
        // MAX_NODES, only the heaviest nodes stay (a pre-order prefix is still a tree).
        let mut min = (total / 10_000).max(1);
        if self.nodes.len() > MAX_NODES {
            let mut values: Vec<u64> = self.nodes.iter().map(|n| n.value).collect();
            values.sort_unstable_by(|a, b| b.cmp(a));
            min = min.max(values[MAX_NODES - 1]);
        }
        let mut order = self.preorder(min);
        order.truncate(MAX_NODES);
        let mut names = Vec::new();
        let mut tips = Vec::new();
        let mut remap: HashMap<u32, u64> = HashMap::new();
        let mut nodes = Vec::with_capacity(order.len());
        for (i, depth) in order {
            let n = &self.nodes[i];
            let label = *remap.entry(n.label).or_insert_with(|| {
                let (name, tip) = &self.labels[n.label as usize];
                names.push(name.clone());
                tips.push(tip.clone());
                names.len() as u64 - 1
            });
            nodes.push([label, depth as u64, n.value]);
        }
        FlameData { unit, total, names, tips, nodes }
    }

    /// (node, depth) in pre-order, skipping subtrees lighter than `min` (never the root).
    fn preorder(&self, min: u64) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut stack = vec![(0usize, 0usize)];
        while let Some((i, depth)) = stack.pop() {
            out.push((i, depth));
            for &c in self.nodes[i].children.iter().rev() {
                if self.nodes[c].value >= min {
                    stack.push((c, depth + 1));
                }
            }
        }
        out
    }
}

/// Writes the flamegraph component: a toolbar, the canvas the script fills, and the data.
/// `caption` says what the widths mean.
pub(crate) fn component(ctx: &mut Ctx<'_>, out: &mut String, data: &FlameData, caption: &str) {
    let id = ctx.id("flame");
    let _ = writeln!(out, "<div class=\"flamegraph\" id=\"{id}\" data-src=\"{id}-data\">");
    let _ = writeln!(
        out,
        "<div class=\"fg-bar\"><input class=\"fg-search\" type=\"search\" placeholder=\"Search functions\" aria-label=\"Search functions\"><button type=\"button\" class=\"fg-reset\">Reset zoom</button><span class=\"fg-status\"></span></div>"
    );
    let _ = writeln!(
        out,
        "<p class=\"remark\">{} Click a frame to zoom, the top bar to zoom out.</p>",
        super::escape(caption)
    );
    out.push_str("<div class=\"fg-canvas\"><noscript>The flamegraph needs JavaScript.</noscript></div>\n</div>\n");
    let _ = writeln!(out, "<script type=\"application/json\" id=\"{id}-data\">{}</script>", json_for_script(data));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stacks_merge_into_a_preorder_tree() {
        let mut b = FlameBuilder::new("all", "");
        let main = b.label("main", "app.py");
        let work = b.label("work", "app.py");
        let parse = b.label("parse", "parse.py");
        b.add(&[main, work], 6);
        b.add(&[main, parse], 3);
        b.add(&[main], 1);
        b.add(&[parse], 0);
        let d = b.finish("samples");
        assert_eq!(d.total, 10);
        assert_eq!(d.names, ["all", "main", "work", "parse"]);
        assert_eq!(d.tips[3], "parse.py");
        assert_eq!(d.nodes, vec![[0, 0, 10], [1, 1, 10], [2, 2, 6], [3, 2, 3]]);
    }

    #[test]
    fn slivers_are_pruned() {
        let mut b = FlameBuilder::new("all", "");
        let big = b.label("big", "");
        let tiny = b.label("tiny", "");
        b.add(&[big], 100_000);
        b.add(&[tiny], 5);
        let d = b.finish("bytes");
        assert_eq!(d.nodes.len(), 2);
        assert_eq!(d.total, 100_005);
    }

    #[test]
    fn huge_trees_are_bounded() {
        let mut b = FlameBuilder::new("all", "");
        let labels: Vec<u32> = (0..3_000).map(|i| b.label(&format!("f{i}"), "")).collect();
        // 3,000 chains of 8 frames: 24,001 nodes, all of the same weight.
        for l in &labels {
            b.add(&[*l; 8], 1);
        }
        let d = b.finish("samples");
        assert_eq!(d.nodes.len(), MAX_NODES);
        assert_eq!(d.nodes[0], [0, 0, 3_000]);
    }
}
