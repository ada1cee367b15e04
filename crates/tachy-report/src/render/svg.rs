//! Building blocks of the self-contained SVG charts of `tachy mem` and `tachy watch` (no
//! script, no external resource): text escaping, axes with round ticks, and a plot area that
//! draws its grid, time axis, polylines and dashed threshold lines.

use std::fmt::Write;

/// Escapes text for SVG content and attribute values (control characters become spaces).
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The step of 1, 2, 5 or 10 times a power of ten near `x`: with `f` the leading part of `x`
/// (from 1 to 10), 1 when `f < cuts[0]`, 2 when `f < cuts[1]`, 5 when `f < cuts[2]`, else 10.
/// Not a positive finite `x` gives 1.
pub(crate) fn nice(x: f64, cuts: [f64; 3]) -> f64 {
    if !(x > 0.0 && x.is_finite()) {
        return 1.0;
    }
    let base = 10f64.powf(x.log10().floor());
    let f = x / base;
    let m = if f < cuts[0] {
        1.0
    } else if f < cuts[1] {
        2.0
    } else if f < cuts[2] {
        5.0
    } else {
        10.0
    };
    m * base
}

/// Decimals needed to print multiples of `step`.
fn decimals(step: f64) -> usize {
    if step >= 1.0 { 0 } else { (-step.log10().floor()).clamp(0.0, 6.0) as usize }
}

/// An axis from zero: its upper bound, tick step and how to print a tick.
pub(crate) struct Axis {
    /// The upper bound (a multiple of `step`), in data units.
    pub(crate) max: f64,
    /// Distance between ticks, in data units.
    pub(crate) step: f64,
    /// Data units per label unit (1024² for MiB labels).
    pub(crate) unit: f64,
    /// Text after each tick label, e.g. `" MiB"`.
    pub(crate) suffix: &'static str,
}

impl Axis {
    /// A linear axis from zero to at least `top`, about `ticks` ticks, labels ending in `suffix`;
    /// `cuts` round the step as in [`nice`].
    pub(crate) fn linear(top: f64, ticks: f64, suffix: &'static str, cuts: [f64; 3]) -> Axis {
        let top = if top > 0.0 && top.is_finite() { top } else { 1.0 };
        let step = nice(top / ticks, cuts);
        Axis { max: (top / step - 1e-9).ceil().max(1.0) * step, step, unit: 1.0, suffix }
    }

    /// A byte axis from zero to at least `top` bytes, about five ticks, in one binary unit;
    /// `cuts` round the step as in [`nice`].
    pub(crate) fn bytes(top: f64, cuts: [f64; 3]) -> Axis {
        const UNITS: [(&str, f64); 5] =
            [(" B", 1.0), (" KiB", 1024.0), (" MiB", 1048576.0), (" GiB", 1073741824.0), (" TiB", 1099511627776.0)];
        let top = if top >= 1.0 && top.is_finite() { top } else { 1.0 };
        let (suffix, unit) = UNITS.iter().rev().find(|(_, u)| top >= *u).copied().unwrap_or(UNITS[0]);
        let v = top / unit;
        let mut step = nice(v / 5.0, cuts);
        if unit == 1.0 {
            step = step.max(1.0);
        }
        Axis { max: (v / step - 1e-9).ceil().max(1.0) * step * unit, step: step * unit, unit, suffix }
    }

    /// The tick values, from zero to `max`.
    pub(crate) fn ticks(&self) -> Vec<f64> {
        let n = (self.max / self.step + 1e-6).floor() as usize;
        (0..=n).map(|i| i as f64 * self.step).collect()
    }

    /// The label of the tick at `v`, e.g. `120 MiB`.
    pub(crate) fn label(&self, v: f64) -> String {
        let d = decimals(self.step / self.unit);
        format!("{:.d$}{}", v / self.unit, self.suffix)
    }
}

/// Writes the opening `<svg>` tag of a `width` × `height` image, its `<title>` (`full_title`),
/// a white background and the title in bold at `left`, cut to `max_chars` characters.
pub(crate) fn open(svg: &mut String, width: f64, height: f64, left: f64, full_title: &str, max_chars: usize) {
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, "<title>{}</title>", escape(full_title));
    let title: String = if full_title.chars().count() > max_chars {
        full_title.chars().take(max_chars - 1).chain(['…']).collect()
    } else {
        full_title.to_string()
    };
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(svg, r#"<text x="{left}" y="24" font-size="16" font-weight="bold">{}</text>"#, escape(&title));
}

/// A plot area: a time axis (shared between panels) and a value axis, mapped to the rectangle
/// from (`left`, `top`) to (`right`, `bottom`).
pub(crate) struct Panel<'a> {
    /// The time axis, in seconds.
    pub(crate) x: &'a Axis,
    /// The value axis.
    pub(crate) y: Axis,
    /// Left edge of the area.
    pub(crate) left: f64,
    /// Right edge of the area.
    pub(crate) right: f64,
    /// Top edge of the area.
    pub(crate) top: f64,
    /// Bottom edge of the area.
    pub(crate) bottom: f64,
}

impl Panel<'_> {
    /// The screen x of time `t`, clamped to the area.
    pub(crate) fn x(&self, t: f64) -> f64 {
        self.left + (t / self.x.max).clamp(0.0, 1.0) * (self.right - self.left)
    }

    /// The screen y of value `v`, clamped to the area.
    pub(crate) fn y(&self, v: f64) -> f64 {
        self.bottom - (v / self.y.max).clamp(0.0, 1.0) * (self.bottom - self.top)
    }

    /// The middle of the area.
    fn centre(&self) -> (f64, f64) {
        ((self.left + self.right) / 2.0, (self.top + self.bottom) / 2.0)
    }

    /// Light horizontal grid lines at the value ticks (a group of class `class`), then the
    /// value labels left of the area.
    pub(crate) fn grid(&self, svg: &mut String, class: &str) {
        let (left, right) = (self.left, self.right);
        let _ = writeln!(svg, r##"<g class="{class}" stroke="#ddd">"##);
        for v in self.y.ticks() {
            let y = self.y(v);
            let _ = writeln!(svg, r#"<line x1="{left}" y1="{y:.1}" x2="{right}" y2="{y:.1}"/>"#);
        }
        let _ = writeln!(svg, "</g>");
        let _ = writeln!(svg, r#"<g class="y-labels" text-anchor="end">"#);
        for v in self.y.ticks() {
            let _ =
                writeln!(svg, r#"<text x="{:.1}" y="{:.1}">{}</text>"#, left - 6.0, self.y(v) + 4.0, self.y.label(v));
        }
        let _ = writeln!(svg, "</g>");
    }

    /// The bottom and left axis lines, and a tick under the area at every time tick.
    pub(crate) fn time_axis(&self, svg: &mut String) {
        let (left, right, top, bottom) = (self.left, self.right, self.top, self.bottom);
        let _ = writeln!(svg, r#"<g class="x-axis" stroke="black">"#);
        let _ = writeln!(svg, r#"<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}"/>"#);
        let _ = writeln!(svg, r#"<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}"/>"#);
        for t in self.x.ticks() {
            let x = self.x(t);
            let _ = writeln!(svg, r#"<line x1="{x:.1}" y1="{bottom}" x2="{x:.1}" y2="{:.1}"/>"#, bottom + 5.0);
        }
        let _ = writeln!(svg, "</g>");
    }

    /// The time labels under the ticks and the axis title `time since start`.
    pub(crate) fn time_labels(&self, svg: &mut String) {
        let bottom = self.bottom;
        let _ = writeln!(svg, r#"<g class="x-labels" text-anchor="middle">"#);
        for t in self.x.ticks() {
            let _ = writeln!(svg, r#"<text x="{:.1}" y="{:.1}">{}</text>"#, self.x(t), bottom + 19.0, self.x.label(t));
        }
        let _ = writeln!(svg, r#"<text x="{:.1}" y="{:.1}">time since start</text>"#, self.centre().0, bottom + 38.0);
        let _ = writeln!(svg, "</g>");
    }

    /// A grey `message` in the middle of the area, for a series with no point.
    pub(crate) fn message(&self, svg: &mut String, message: &str) {
        let (x, y) = self.centre();
        let _ = writeln!(
            svg,
            r##"<text x="{x:.1}" y="{y:.1}" text-anchor="middle" fill="#555">{}</text>"##,
            escape(message)
        );
    }

    /// A series of `(seconds, value)` points as a `<polyline>` of class `class`.
    pub(crate) fn polyline(&self, svg: &mut String, class: &str, colour: &str, points: &[(f64, f64)]) {
        let mut coords = String::new();
        for &(t, v) in points {
            if !coords.is_empty() {
                coords.push(' ');
            }
            let _ = write!(coords, "{:.1},{:.1}", self.x(t), self.y(v));
        }
        let _ = writeln!(
            svg,
            r#"<polyline class="{class}" fill="none" stroke="{colour}" stroke-width="2" stroke-linejoin="round" points="{coords}"/>"#
        );
    }

    /// A dashed horizontal line of class `class` at `value`, with `label` right-aligned above
    /// it; `keep_label_inside` keeps the label below the top edge of the area.
    pub(crate) fn dashed(
        &self,
        svg: &mut String,
        class: &str,
        colour: &str,
        value: f64,
        label: &str,
        keep_label_inside: bool,
    ) {
        let (left, right) = (self.left, self.right);
        let y = self.y(value);
        let _ = writeln!(
            svg,
            r#"<line class="{class}" x1="{left}" y1="{y:.1}" x2="{right}" y2="{y:.1}" stroke="{colour}" stroke-width="1.5" stroke-dasharray="6 4"/>"#
        );
        let label_y = if keep_label_inside { (y - 5.0).max(self.top + 12.0) } else { y - 5.0 };
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{label_y:.1}" text-anchor="end" fill="{colour}">{}</text>"#,
            right - 4.0,
            escape(label)
        );
    }
}

/// Asserts that `svg` is one `<svg>` document whose elements are all closed (for tests).
#[cfg(test)]
pub(crate) fn assert_balanced(svg: &str) {
    assert!(svg.starts_with("<svg "));
    assert_eq!(svg.matches("<svg").count(), 1);
    assert!(svg.trim_end().ends_with("</svg>"));
    // Every element is closed: opening tags minus self-closing ones equal closing tags.
    let opens = svg.matches('<').count() - svg.matches("</").count();
    let self_closing = svg.matches("/>").count();
    assert_eq!(opens - self_closing, svg.matches("</").count(), "unbalanced tags");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_control_characters() {
        assert_eq!(escape(r#"<a href="x">'&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
        assert_eq!(escape("a\tb\nc"), "a b c");
    }

    #[test]
    fn steps_are_round() {
        let cuts = [1.5, 3.5, 7.5];
        assert_eq!(nice(0.0, cuts), 1.0);
        assert_eq!(nice(f64::NAN, cuts), 1.0);
        assert_eq!(nice(1.2, cuts), 1.0);
        assert_eq!(nice(3.2, cuts), 2.0);
        assert_eq!(nice(3.2, [1.5, 3.0, 7.0]), 5.0);
        assert_eq!(nice(80.0, cuts), 100.0);
    }

    #[test]
    fn titles_are_cut_and_escaped() {
        let mut svg = String::new();
        open(&mut svg, 100.0, 50.0, 10.0, "a <b> title that is long", 10);
        assert!(svg.contains("<title>a &lt;b&gt; title that is long</title>"), "{svg}");
        assert!(svg.contains(r#"font-weight="bold">a &lt;b&gt; tit…</text>"#), "{svg}");
        assert!(svg.contains(r#"width="100" height="50" viewBox="0 0 100 50""#), "{svg}");
    }
}
