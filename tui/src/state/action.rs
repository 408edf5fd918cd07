//! What can happen to the state: the [`Action`]s every key, mouse event, tick and source message
//! becomes, and the [`InputMode`] that decides how keys are read.
//!
//! Separate from the reducer so that the key map and the sources can name actions without
//! seeing how they are applied.

use std::sync::Arc;
use std::time::Duration;

use crate::live::{CollectorStats, LinkState};
use crate::model::Model;

/// Everything the user or a source can ask of the state.
#[derive(Clone, Debug)]
pub enum Action {
    /// Leave the program.
    Quit,
    /// Close the overlay, clear the search or filter, or go back to the diagram.
    Back,
    /// Move up: previous event of the lane, or previous list entry.
    Up,
    /// Move down.
    Down,
    /// Move to the lane on the left.
    Left,
    /// Move to the lane on the right.
    Right,
    /// A page up.
    PageUp,
    /// A page down.
    PageDown,
    /// The first row (or list entry).
    Top,
    /// The last row (or list entry).
    Bottom,
    /// The first event of the lane.
    Home,
    /// The last event of the lane.
    End,
    /// Focus the next pane.
    NextPane,
    /// Focus the previous pane.
    PrevPane,
    /// Jump: to a send's or receive's partner, or to the finding under the cursor.
    Enter,
    /// Open the search prompt.
    StartSearch,
    /// Open the filter prompt.
    StartFilter,
    /// Next search match.
    SearchNext,
    /// Previous search match.
    SearchPrev,
    /// Select the next conflicting write.
    NextConflict,
    /// Select the next event with a violation.
    NextViolation,
    /// Toggle the causal-past highlight.
    TogglePast,
    /// Toggle the causal-future highlight.
    ToggleFuture,
    /// Mark the selected event as A of a "does A happen before B?" query.
    Mark,
    /// Hide the selected event's lane.
    HideLane,
    /// Show every hidden lane.
    ShowAllLanes,
    /// Scroll the lanes left without moving the selection.
    ScrollLeft,
    /// Scroll the lanes right.
    ScrollRight,
    /// Scroll the rows up.
    ScrollUp,
    /// Scroll the rows down.
    ScrollDown,
    /// Pause or resume: live following, or replay playback.
    TogglePause,
    /// Replay faster.
    Faster,
    /// Replay slower.
    Slower,
    /// Replay one event forward.
    StepForward,
    /// Replay one event back.
    StepBack,
    /// Switch the replay between arrival and causal order.
    ToggleReplayOrder,
    /// Rewind the replay to before the first event.
    RestartReplay,
    /// Show or hide the help overlay.
    Help,
    /// A character typed into the prompt.
    PromptInput(char),
    /// Delete the prompt's last character.
    PromptBackspace,
    /// Run the prompt.
    PromptSubmit,
    /// A mouse click at a terminal cell.
    Click {
        /// Column.
        x: u16,
        /// Row.
        y: u16,
    },
    /// The terminal has a new size.
    Resize {
        /// Columns.
        w: u16,
        /// Rows.
        h: u16,
    },
    /// Time passed (drives replay and the live rate).
    Tick(Duration),
    /// A new model: the loaded trace, or the live trace re-analysed.
    Model(Arc<Model>),
    /// The live link changed.
    Link(LinkState),
    /// The collector's counters.
    Stats(CollectorStats),
    /// Lines arrived from the live stream.
    Received(u64),
    /// The live source skipped something (a line over the limit, over the event cap).
    Skipped(String),
    /// The live source dropped this many events (over `--max-events`).
    Dropped(u64),
    /// The live source started or finished re-analysing.
    Analyzing(bool),
    /// The whole of a trace opened with a first look ([`crate::Source::Loading`]), read and
    /// analysed: it replaces the first look, the selection kept.
    Loaded(Arc<Model>),
    /// The whole of a trace opened with a first look could not be read: the program ends and
    /// says why, as it would have before showing anything.
    LoadFailed(String),
}

/// How keys are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputMode {
    /// Commands.
    Normal,
    /// The help overlay is open: most keys close it.
    Help,
    /// Typing into the prompt.
    Prompt,
}
