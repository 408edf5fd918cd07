//! `weft-bench`: a deterministic synthetic trace generator ([`gen`]), an end-to-end
//! benchmark of `weft check` ([`bench`]) against a serde_json parse floor ([`floor`]), and a
//! benchmark of the simulator `weft sim` ([`sim`]).

pub mod bench;
pub mod floor;
pub mod gen;
pub mod sim;
pub mod sys;
