//! The prompt line: opening it for a `/` search or a `:` filter, typing into it, and running it.
//!
//! Separate because running the prompt is where search and filter text meet the state.

use super::{App, Filter, Overlay, PromptKind, Search};

impl App {
    /// Opens the prompt: empty for a search, with the current filter's text for a filter.
    pub(super) fn start_prompt(&mut self, kind: PromptKind) {
        self.overlay = match kind {
            PromptKind::Search => Overlay::Prompt {
                kind: PromptKind::Search,
                text: String::new(),
            },
            PromptKind::Filter => Overlay::Prompt {
                kind: PromptKind::Filter,
                text: self
                    .filter
                    .as_ref()
                    .map(|f| f.text.clone())
                    .unwrap_or_default(),
            },
        }
    }

    /// A character typed into the prompt (up to 256 bytes).
    pub(super) fn prompt_input(&mut self, c: char) {
        if let Overlay::Prompt { text, .. } = &mut self.overlay {
            if text.len() < 256 {
                text.push(c);
            }
        }
    }

    /// Deletes the prompt's last character.
    pub(super) fn prompt_backspace(&mut self) {
        if let Overlay::Prompt { text, .. } = &mut self.overlay {
            text.pop();
        }
    }

    /// Runs the prompt: a search, or a filter (the selection moves to a shown event).
    pub(super) fn submit(&mut self) {
        let Overlay::Prompt { kind, text } = std::mem::replace(&mut self.overlay, Overlay::None)
        else {
            return;
        };
        match kind {
            PromptKind::Search => {
                if text.is_empty() {
                    self.search = None;
                    return;
                }
                let matches = self.search_matches(&text);
                let count = matches.len();
                self.search = Some(Search {
                    query: text.clone(),
                    matches,
                });
                if count == 0 {
                    self.message = Some(format!("no event matches `{text}`"));
                } else {
                    self.search_step(true);
                    self.message = Some(format!("{count} events match `{text}`"));
                }
            }
            PromptKind::Filter => {
                if text.trim().is_empty() {
                    self.filter = None;
                    return;
                }
                match Filter::parse(&text) {
                    Ok(mut f) => {
                        f.compile(&self.model);
                        self.filter = Some(f);
                        if let Some(n) = self.selected.filter(|&n| !self.visible(n)) {
                            let near = self.model.nearest_in_lane(
                                self.model.lane(n),
                                self.model.row[n as usize],
                                |k| self.visible(k),
                            );
                            self.select(near.or_else(|| self.first_visible()));
                        }
                    }
                    Err(e) => self.message = Some(e),
                }
            }
        }
    }
}
