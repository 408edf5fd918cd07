//! The reducer: [`App::apply`] takes one [`Action`], routes it to the part of the state it
//! concerns, and afterwards decides whether a live view keeps following.
//!
//! Separate so the routing table reads as one list, the work done in the modules it names.

use super::{Action, App, Overlay, Pane, PromptKind};

impl App {
    /// Applies one action.
    pub fn apply(&mut self, action: Action) {
        let from_user = !matches!(
            action,
            Action::Tick(_)
                | Action::Received(_)
                | Action::Stats(_)
                | Action::Model(_)
                | Action::Analyzing(_)
                | Action::Loaded(_)
                | Action::LoadFailed(_)
                | Action::Dropped(_)
                | Action::Link(_)
                | Action::Skipped(_)
                | Action::Resize { .. }
        );
        if from_user {
            self.message = None;
        }
        let before = (self.selected, self.top);
        let in_diagram = self.focus == Pane::Diagram;
        let to_bottom = matches!(action, Action::Bottom) && in_diagram;
        // Towards older events: browsing history, even where the view cannot move further.
        let back = in_diagram
            && matches!(
                action,
                Action::Up | Action::PageUp | Action::Top | Action::Home | Action::ScrollUp
            );
        self.dispatch(action);
        // Live: the view follows new events until the user goes somewhere else; G follows again.
        if let Some(live) = &mut self.live {
            if to_bottom {
                live.following = true;
            } else if back || (from_user && (self.selected, self.top) != before) {
                live.following = false;
            }
        }
        self.refresh_cones();
    }

    /// Routes one action to the method that does it.
    fn dispatch(&mut self, action: Action) {
        match action {
            Action::Quit => self.quit = true,
            Action::Back => self.back(),
            Action::Help => self.toggle_help(),
            Action::Up => self.vertical(-1),
            Action::Down => self.vertical(1),
            Action::PageUp => self.vertical(-(self.page_rows() as i64)),
            Action::PageDown => self.vertical(self.page_rows() as i64),
            Action::Left => self.horizontal(-1),
            Action::Right => self.horizontal(1),
            Action::Top => match self.focus {
                Pane::Diagram => self.select(self.first_visible()),
                _ => self.list_move(i64::MIN / 2),
            },
            Action::Bottom => match self.focus {
                Pane::Diagram => self.select(self.last_visible()),
                _ => self.list_move(i64::MAX / 2),
            },
            Action::Home | Action::End => self.lane_end(matches!(action, Action::Home)),
            Action::NextPane | Action::PrevPane => {
                self.cycle_pane(matches!(action, Action::NextPane))
            }
            Action::Enter => self.enter(),
            Action::StartSearch => self.start_prompt(PromptKind::Search),
            Action::StartFilter => self.start_prompt(PromptKind::Filter),
            Action::PromptInput(c) => self.prompt_input(c),
            Action::PromptBackspace => self.prompt_backspace(),
            Action::PromptSubmit => self.submit(),
            Action::SearchNext => self.search_step(true),
            Action::SearchPrev => self.search_step(false),
            Action::NextConflict => self.next_conflict(),
            Action::NextViolation => self.next_violation(),
            Action::TogglePast => self.show_past = !self.show_past,
            Action::ToggleFuture => self.show_future = !self.show_future,
            Action::Mark => self.toggle_mark(),
            Action::HideLane => self.hide_lane(),
            Action::ShowAllLanes => {
                self.hidden.clear();
                self.clamp_view();
            }
            Action::ScrollLeft => self.left = self.left.saturating_sub(1),
            Action::ScrollRight => {
                self.left += 1;
                self.clamp_view();
            }
            Action::ScrollUp => self.top = self.top.saturating_sub(3),
            Action::ScrollDown => {
                self.top += 3;
                self.clamp_view();
            }
            Action::TogglePause => self.toggle_pause(),
            Action::Faster | Action::Slower => self.change_speed(matches!(action, Action::Faster)),
            Action::StepForward => self.step(1),
            Action::StepBack => self.step(-1),
            Action::ToggleReplayOrder => self.toggle_order(),
            Action::RestartReplay => self.restart_replay(),
            Action::Click { x, y } => self.click(x, y),
            Action::Resize { w, h } => self.resize(w, h),
            Action::Tick(dt) => self.tick(dt),
            Action::Model(m) => self.set_model(m),
            Action::Loaded(m) => self.loaded(m),
            Action::LoadFailed(why) => self.load_failed(why),
            Action::Link(_)
            | Action::Stats(_)
            | Action::Received(_)
            | Action::Skipped(_)
            | Action::Dropped(_)
            | Action::Analyzing(_) => self.live_message(action),
        }
    }

    /// Opens or closes the help overlay.
    fn toggle_help(&mut self) {
        self.overlay = if self.overlay == Overlay::Help {
            Overlay::None
        } else {
            Overlay::Help
        }
    }

    /// Marks the selection as A of the happens-before query, or unmarks it.
    fn toggle_mark(&mut self) {
        self.mark = if self.mark == self.selected {
            None
        } else {
            self.selected
        };
        self.update_order();
    }

    /// The terminal has a new size: the view stays in range and on the selection.
    fn resize(&mut self, w: u16, h: u16) {
        self.size = (w, h);
        self.clamp_view();
        if let Some(n) = self.selected {
            self.scroll_to(n);
        }
    }

    fn back(&mut self) {
        if self.overlay != Overlay::None {
            self.overlay = Overlay::None;
        } else if self.focus != Pane::Diagram {
            self.focus = Pane::Diagram;
        } else if self.detail_conflict.is_some() {
            self.set_detail_conflict(None);
        } else if self.detail_read.is_some() {
            self.detail_read = None;
        } else if self.mark.is_some() {
            self.mark = None;
            self.order = None;
        } else if self.search.is_some() {
            self.search = None;
        } else if self.filter.is_some() {
            self.filter = None;
        }
    }
}
