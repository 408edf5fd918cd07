//! `weft-bench`: a deterministic synthetic trace generator ([`gen`]) and an end-to-end
//! benchmark of `weft check` ([`bench`]) against a serde_json parse floor ([`floor`]).

pub mod bench;
pub mod floor;
pub mod gen;
pub mod sys;
