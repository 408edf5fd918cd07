//! `weft-bench`: a deterministic synthetic trace generator ([`gen`]), an end-to-end
//! benchmark of `weft check` ([`bench`]) against a serde_json parse floor ([`floor`]), and
//! benchmarks of the simulator `weft sim` ([`sim`]), the collector `weft collect` ([`ingest`])
//! and the terminal UI `weft tui` ([`tui`], and following a live stream: [`live`]), and
//! conflict detection on hot keys ([`hotkeys`]), and the memory of `weft check` on very many
//! replicas with one event each ([`shapes`]), and importing a large Loro document ([`loro`]).

pub mod automerge;
pub mod bench;
pub mod engine;
pub mod floor;
pub mod gen;
pub mod hotkeys;
pub mod ingest;
pub mod live;
pub mod loro;
pub mod parquet;
pub mod shapes;
pub mod sim;
pub mod stats;
pub mod sys;
pub mod tui;
