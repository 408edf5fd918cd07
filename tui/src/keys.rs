//! Terminal input to [`Action`]s: the one place that knows which key does what.
//!
//! The help overlay is generated from [`HELP`], so the list users read and the bindings cannot
//! drift apart silently: a test checks that every key in the list maps to an action.

use crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEventKind,
};

use crate::state::{Action, InputMode};

/// Every binding as shown in the help overlay: (keys, what they do).
pub const HELP: &[(&str, &str)] = &[
    (
        "↑ ↓  k j",
        "previous / next event of the lane (list entry in a pane)",
    ),
    ("← →  h l", "nearest event in the lane to the left / right"),
    ("PgUp PgDn", "a page up / down"),
    ("g  G", "first / last event (G also resumes following live)"),
    ("Home End", "first / last event of the lane"),
    ("< >", "scroll the lanes left / right"),
    (
        "Tab  Shift-Tab",
        "next / previous pane: diagram, conflicts, violations",
    ),
    (
        "Enter",
        "jump to the send/recv partner, or to the finding's event",
    ),
    (
        "/  n  N",
        "search replica, id, key, values, attrs; next / previous match",
    ),
    (
        ":",
        "filter: replica=a,b key=k kind=write op=set, ! negates",
    ),
    ("c  v", "next conflict / next violation"),
    ("p  f", "toggle causal past / future highlight"),
    ("m", "mark A; then select B: does A happen before B?"),
    ("x  X", "hide the selected lane / show every lane"),
    ("Space", "pause / resume (live following or replay)"),
    ("+  -", "replay faster / slower"),
    (".  ,", "replay one event forward / back"),
    (
        "o  r",
        "replay in arrival / causal order; rewind the replay",
    ),
    ("?", "this help"),
    (
        "Esc",
        "back: close, leave a pane, clear mark, search, filter",
    ),
    ("q  Ctrl-C", "quit"),
];

/// Maps one terminal event to an action, given what the keyboard is typing into.
pub fn action(ev: &Event, mode: InputMode) -> Option<Action> {
    match ev {
        Event::Key(k) if k.kind != KeyEventKind::Release => key(k, mode),
        Event::Mouse(m) => match m.kind {
            MouseEventKind::Down(MouseButton::Left) => Some(Action::Click {
                x: m.column,
                y: m.row,
            }),
            MouseEventKind::ScrollUp => Some(Action::ScrollUp),
            MouseEventKind::ScrollDown => Some(Action::ScrollDown),
            MouseEventKind::ScrollLeft => Some(Action::ScrollLeft),
            MouseEventKind::ScrollRight => Some(Action::ScrollRight),
            _ => None,
        },
        Event::Resize(w, h) => Some(Action::Resize { w: *w, h: *h }),
        _ => None,
    }
}

fn key(k: &KeyEvent, mode: InputMode) -> Option<Action> {
    let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && k.code == KeyCode::Char('c') {
        return Some(Action::Quit);
    }
    match mode {
        InputMode::Prompt => match k.code {
            KeyCode::Enter => Some(Action::PromptSubmit),
            KeyCode::Esc => Some(Action::Back),
            KeyCode::Backspace => Some(Action::PromptBackspace),
            KeyCode::Char(c) if !ctrl => Some(Action::PromptInput(c)),
            _ => None,
        },
        InputMode::Help => match k.code {
            KeyCode::Char('q') => Some(Action::Quit),
            _ => Some(Action::Back),
        },
        InputMode::Normal => normal(k, ctrl),
    }
}

fn normal(k: &KeyEvent, ctrl: bool) -> Option<Action> {
    Some(match k.code {
        KeyCode::Up | KeyCode::Char('k') => Action::Up,
        KeyCode::Down | KeyCode::Char('j') => Action::Down,
        KeyCode::Left | KeyCode::Char('h') => Action::Left,
        KeyCode::Right | KeyCode::Char('l') => Action::Right,
        KeyCode::PageUp => Action::PageUp,
        KeyCode::PageDown => Action::PageDown,
        KeyCode::Char('b') if ctrl => Action::PageUp,
        KeyCode::Char('f') if ctrl => Action::PageDown,
        KeyCode::Char('g') => Action::Top,
        KeyCode::Char('G') => Action::Bottom,
        KeyCode::Home => Action::Home,
        KeyCode::End => Action::End,
        KeyCode::Char('<') => Action::ScrollLeft,
        KeyCode::Char('>') => Action::ScrollRight,
        KeyCode::Tab => Action::NextPane,
        KeyCode::BackTab => Action::PrevPane,
        KeyCode::Enter => Action::Enter,
        KeyCode::Char('/') => Action::StartSearch,
        KeyCode::Char('n') => Action::SearchNext,
        KeyCode::Char('N') => Action::SearchPrev,
        KeyCode::Char(':') => Action::StartFilter,
        KeyCode::Char('c') => Action::NextConflict,
        KeyCode::Char('v') => Action::NextViolation,
        KeyCode::Char('p') => Action::TogglePast,
        KeyCode::Char('f') => Action::ToggleFuture,
        KeyCode::Char('m') => Action::Mark,
        KeyCode::Char('x') => Action::HideLane,
        KeyCode::Char('X') => Action::ShowAllLanes,
        KeyCode::Char(' ') => Action::TogglePause,
        KeyCode::Char('+') | KeyCode::Char('=') => Action::Faster,
        KeyCode::Char('-') => Action::Slower,
        KeyCode::Char('.') => Action::StepForward,
        KeyCode::Char(',') => Action::StepBack,
        KeyCode::Char('o') => Action::ToggleReplayOrder,
        KeyCode::Char('r') => Action::RestartReplay,
        KeyCode::Char('?') => Action::Help,
        KeyCode::Esc => Action::Back,
        KeyCode::Char('q') => Action::Quit,
        _ => return None,
    })
}
