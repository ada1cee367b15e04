//! Flamegraph SVG (self-contained, with inferno's built-in search), drawn by inferno.

use inferno::flamegraph::{self, Options};

use super::ProfileRenderError;
use crate::profile::Profile;

fn title(profile: &Profile) -> String {
    let cmd = profile.meta.command.join(" ");
    format!("tachy profile: {cmd}")
}

/// Draws a flamegraph of the profile.
pub fn render(profile: &Profile, lines: bool) -> Result<Vec<u8>, ProfileRenderError> {
    let collapsed = super::collapsed::render(profile, lines);
    let mut opts = Options::default();
    opts.title = title(profile);
    opts.subtitle = Some(format!(
        "{} samples at {:.0} Hz, {:.1} s",
        profile.total_samples(),
        profile.meta.rate_achieved,
        profile.meta.duration_secs
    ));
    opts.count_name = "samples".to_string();
    opts.colors = flamegraph::Palette::Multi(flamegraph::color::MultiPalette::Python);
    draw(&mut opts, &collapsed)
}

/// Draws collapsed text (one or two counts per line) with the given options.
pub fn draw(opts: &mut Options<'_>, collapsed: &str) -> Result<Vec<u8>, ProfileRenderError> {
    let mut out = Vec::new();
    if collapsed.trim().is_empty() {
        return Err(ProfileRenderError::Flamegraph("the profile has no samples".into()));
    }
    flamegraph::from_lines(opts, collapsed.lines(), &mut out)
        .map_err(|e| ProfileRenderError::Flamegraph(e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn svg_is_self_contained_and_searchable() {
        let svg = String::from_utf8(super::render(&crate::profile::fixture::profile(), false).unwrap()).unwrap();
        assert!(svg.starts_with("<?xml"));
        assert!(svg.contains("work (main.py)"));
        assert!(svg.contains("search"), "inferno's search UI is embedded");
        assert!(!svg.contains("http://") || !svg.contains("<script src="), "no external scripts");
    }
}
