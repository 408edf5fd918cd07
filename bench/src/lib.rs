//! `weft-bench`: a deterministic synthetic trace generator ([`gen`]), an end-to-end
//! benchmark of `weft check` ([`bench`]) against a serde_json parse floor ([`floor`]), and a
//! benchmark of the simulator `weft sim` ([`sim`]) and one of the collector `weft collect`
//! ([`ingest`]).

pub mod bench;
pub mod floor;
pub mod gen;
pub mod ingest;
pub mod sim;
pub mod sys;
