//! A screen without a terminal: the whole app rendered into an in-memory buffer, exactly as a
//! frame on a real terminal is (render, diff against the previous frame, write). For programs
//! that drive the UI without a tty — benchmarks timing frames, end-to-end tests reading what is
//! on screen — so that only this crate depends on ratatui.
//!
//! ```
//! use weft_tui::headless::Screen;
//! use weft_tui::state::{Action, App, Config};
//!
//! let mut app = App::live("http://127.0.0.1:4318", Config::default());
//! app.apply(Action::Resize { w: 80, h: 20 });
//! let mut screen = Screen::new(80, 20);
//! screen.draw(&app);
//! assert!(screen.text().contains("no events yet"));
//! ```

use ratatui::backend::TestBackend;
use ratatui::Terminal;

use crate::state::App;

/// An in-memory terminal of a fixed size.
pub struct Screen {
    terminal: Terminal<TestBackend>,
}

impl Screen {
    /// A blank screen of `width` × `height` cells.
    pub fn new(width: u16, height: u16) -> Screen {
        Screen {
            terminal: Terminal::new(TestBackend::new(width, height))
                .expect("an in-memory backend cannot fail to start"),
        }
    }

    /// Draws one frame of `app`, as `weft tui` does on every update (in memory: it cannot
    /// fail).
    pub fn draw(&mut self, app: &App) {
        match self.terminal.draw(|f| crate::render::render(app, f)) {
            Ok(_) => {}
            Err(never) => match never {},
        }
    }

    /// What is on the screen, row by row (each row quoted, one per line, as ratatui's test
    /// backend prints it).
    pub fn text(&self) -> String {
        self.terminal.backend().to_string()
    }

    /// What is on the screen, the cells' symbols in row order without separators (for
    /// searching a phrase that a row holds).
    pub fn symbols(&self) -> String {
        self.terminal
            .backend()
            .buffer()
            .content()
            .iter()
            .map(|c| c.symbol())
            .collect()
    }
}
