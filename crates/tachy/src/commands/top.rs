//! `tachy top`: a live per-function view of a Python program. Full screen (ratatui) on a
//! terminal, one plain table per refresh otherwise.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Row, Table};
use ratatui::{DefaultTerminal, Frame};
use tachy_profile::{Session, store, top};
use tachy_report::profile::EndReason;
use tachy_report::top::{SortKey, TopView};

use crate::ExitStatus;
use crate::args::TopArgs;
use crate::printer;

/// Runs `tachy top`.
pub fn run(args: &TopArgs) -> Result<ExitStatus> {
    let tty = std::io::stdout().is_terminal();
    if args.sampling.pid.is_none() && args.command.is_empty() {
        bail!("nothing to watch: give --pid PID or a command after `--` (e.g. `tachy top -- python3 app.py`)");
    }
    if !(args.refresh.is_finite() && args.refresh >= 0.05) {
        bail!("--refresh must be at least 0.05 seconds, got {}", args.refresh);
    }
    if let Some(out) = &args.output {
        crate::output::check(out, "-o")?;
    }
    let mut settings = super::profile::settings(&args.sampling, super::profile::target(&args.sampling, &args.command)?);
    settings.threads = true;
    settings.live_view = true;
    // The program's own output would tear the full-screen view.
    settings.discard_output = tty;
    let mut session = Session::start(&settings)?;
    let refresh = Duration::from_secs_f64(args.refresh);
    let end = if tty { interactive(&mut session, refresh)? } else { plain(&mut session, refresh, args.rows)? };
    let outcome = session.finish(end)?;
    let mut outputs = crate::output::Outputs::new();
    if let Some(out) = &args.output
        && outputs.write(out, &store::to_bytes(&outcome.profile)?)
    {
        printer::info(
            false,
            &format!("Saved the session ({} samples) to {}", outcome.profile.total_samples(), out.display()),
        );
    }
    for note in &outcome.notes {
        printer::warn(note);
    }
    outputs.finish()?;
    Ok(super::launched_verdict(
        end == EndReason::Interrupted || tachy_process::interrupt::interrupted(),
        super::profile::program_failure(&outcome.profile.meta),
        None,
    ))
}

/// One table per refresh on stdout.
fn plain(session: &mut Session, refresh: Duration, rows: usize) -> Result<EndReason> {
    let mut since = 0;
    let mut last = Instant::now();
    loop {
        if let Some(end) = session.step() {
            return Ok(end);
        }
        if last.elapsed() >= refresh {
            last = Instant::now();
            let view = top::view(session, since, SortKey::Own);
            since = session.builder().timeline_stacks().len();
            printer::stdout(tachy_report::render::top::table(&view, rows).as_bytes())?;
        }
    }
}

/// The full-screen view; the terminal is restored whatever happens.
fn interactive(session: &mut Session, refresh: Duration) -> Result<EndReason> {
    let mut terminal = ratatui::init();
    let result = screen(&mut terminal, session, refresh);
    ratatui::restore();
    result
}

fn screen(terminal: &mut DefaultTerminal, session: &mut Session, refresh: Duration) -> Result<EndReason> {
    let mut sort = SortKey::Own;
    let mut since = 0;
    let mut view_since = 0;
    let mut last: Option<Instant> = None;
    let mut view: Option<TopView> = None;
    loop {
        if let Some(end) = session.step() {
            return Ok(end);
        }
        let mut redraw = false;
        while event::poll(Duration::ZERO)? {
            if let Event::Key(key) = event::read()?
                && key.kind == KeyEventKind::Press
            {
                match key.code {
                    KeyCode::Char('q') | KeyCode::Esc => return Ok(EndReason::Stopped),
                    KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                        return Ok(EndReason::Interrupted);
                    }
                    KeyCode::Char('o') => sort = SortKey::Own,
                    KeyCode::Char('t') => sort = SortKey::Total,
                    KeyCode::Char('n') => sort = SortKey::Name,
                    _ => continue,
                }
                redraw = true;
            } else {
                redraw = true;
            }
        }
        if last.is_none_or(|t| t.elapsed() >= refresh) {
            last = Some(Instant::now());
            view_since = since;
            since = session.builder().timeline_stacks().len();
            view = Some(top::view(session, view_since, sort));
            redraw = true;
        } else if redraw {
            // A new sort key: the same interval, re-sorted at once.
            view = Some(top::view(session, view_since, sort));
        }
        if redraw && let Some(v) = &view {
            terminal.draw(|f| draw(f, v))?;
        }
    }
}

fn draw(f: &mut Frame, v: &TopView) {
    let [head, body] = Layout::vertical([Constraint::Length(3), Constraint::Min(1)]).areas(f.area());
    let sort = match v.sort {
        SortKey::Own => "own",
        SortKey::Total => "total",
        SortKey::Name => "name",
    };
    let header = Paragraph::new(vec![
        Line::from(format!(
            "tachy top: pid {} (Python {}), {:.1} s, {} samples, {} in the last interval",
            v.pid, v.python_version, v.elapsed_secs, v.samples, v.interval_samples
        )),
        Line::from(crate::printer::terminal_safe(&v.thread_summary()).into_owned()),
        Line::from(format!("sorted by {sort}   keys: o own, t total, n name, q quit")),
    ]);
    f.render_widget(header, head);
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let titles = ["own%", "total%", "own%*", "total%*", "own*", "function", "location"];
    let header_row = Row::new(titles.iter().enumerate().map(|(i, t)| {
        let active = matches!((v.sort, i), (SortKey::Own, 0) | (SortKey::Total, 1) | (SortKey::Name, 5));
        ratatui::text::Span::styled(*t, if active { bold.add_modifier(Modifier::REVERSED) } else { bold })
    }));
    let rows = v.rows.iter().map(|r| {
        Row::new(vec![
            format!("{:5.1}", r.own_now * 100.0),
            format!("{:5.1}", r.total_now * 100.0),
            format!("{:5.1}", r.own_all * 100.0),
            format!("{:5.1}", r.total_all * 100.0),
            r.own_samples.to_string(),
            crate::printer::terminal_safe(&r.function).into_owned(),
            crate::printer::terminal_safe(&r.location).into_owned(),
        ])
    });
    let widths = [
        Constraint::Length(6),
        Constraint::Length(7),
        Constraint::Length(6),
        Constraint::Length(7),
        Constraint::Length(7),
        Constraint::Percentage(35),
        Constraint::Fill(1),
    ];
    let table = Table::new(rows, widths).header(header_row).block(Block::bordered().title(" * since the start "));
    f.render_widget(table, body);
}
