//! A trace opened with a first look ([`crate::Source::Loading`]): its first events are shown at
//! once, the whole replaces them when read and analysed, and the program ends if the whole
//! cannot be read.
//!
//! Separate because it is the one way a recorded trace's model changes after it is opened.

use std::sync::Arc;

use super::App;
use crate::model::Model;

impl App {
    /// Marks the model shown as the first look of a trace still being read whole.
    pub fn loading(mut self) -> App {
        self.loading = Some(self.model.len() as u64);
        self
    }

    /// The whole trace replaces the first look. The selection, the mark, the shown conflict and
    /// the view are kept (events are found again by id, as for a live update); a replay that
    /// stood at the end of the first look (not started, or stepped there) stands at the end of
    /// the whole, and a playing one plays on.
    pub(super) fn loaded(&mut self, m: Arc<Model>) {
        let shown = self.model.len() as u32;
        let at_end = self
            .replay
            .as_ref()
            .is_some_and(|r| !r.playing && r.pos == shown);
        self.loading = None;
        self.set_model(m);
        if at_end {
            if let Some(r) = &mut self.replay {
                r.pos = self.model.len() as u32;
            }
        }
    }

    /// The whole trace could not be read: the program ends and says why.
    pub(super) fn load_failed(&mut self, why: String) {
        self.loading = None;
        self.failed = Some(why);
        self.quit = true;
    }
}
