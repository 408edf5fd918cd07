//! # weft-tui: browse the causality graph in a terminal
//!
//! One lane per replica, logical time flowing down, message and merge edges between lanes; the
//! causal past and future of the selected event, the events concurrent with it, conflicts and
//! violations that jump into the diagram; a recorded trace replayed step by step, or a collector
//! followed live.
//!
//! The crate is split so that everything but drawing is plain data:
//! - [`model`]: a trace, its analysis (from `weft-analyzer`: no second implementation of
//!   happens-before or conflicts) and its layout;
//! - [`grow`]: a live model grown batch by batch from the incremental engine;
//! - [`pvec`]: the chunked arrays that let a growing model hand out cheap snapshots;
//! - [`state`]: [`state::App`], changed only by [`state::Action`]s;
//! - [`witness`]: a read violation opened in the details pane, its witness chain resolved;
//! - [`keys`]: terminal events to actions;
//! - [`render`]: `render(&App, &mut Frame)`; [`read_view`] draws a read violation's evidence;
//! - [`live`]: following a collector's `/v1/stream`;
//! - [`run`]: the terminal and the event loop.
//!
//! ```
//! use std::sync::Arc;
//! use weft_trace::{ReadOptions, Trace};
//! use weft_tui::model::Model;
//! use weft_tui::state::{Action, App, Config};
//!
//! let text = "{\"replica\":\"a\",\"seq\":1,\"kind\":\"send\",\"msg\":\"m\"}\n\
//!             {\"replica\":\"b\",\"seq\":1,\"kind\":\"recv\",\"msg\":\"m\"}\n";
//! let trace = Trace::from_ndjson_str("t.jsonl", text, &ReadOptions::default()).unwrap();
//! let mut app = App::new(Arc::new(Model::build(trace)), "t.jsonl", Config::default());
//! app.apply(Action::Enter); // from the send to its receive
//! assert_eq!(app.model.id(app.selected.unwrap()).to_string(), "b@1");
//! ```

pub mod grow;
pub mod headless;
pub mod keys;
pub mod live;
pub mod model;
pub mod pvec;
pub mod render;
pub mod run;
pub mod state;

pub use render::read_view;
pub use run::{
    run, spawn_loader, Loader, OnQuit, Options, Source, TuiError, FIRST_LOOK_BYTES,
    FIRST_LOOK_MIN_BYTES,
};
pub use state::witness;
