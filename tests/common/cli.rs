//! Running the `weft` binary the way a user's shell would (fixed terminal size, no timing
//! output).

use std::process::Command;

/// What one run of the binary did.
#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// The `weft` binary under test, with a 100×50 terminal and `WEFT_TIMING` unset.
pub fn weft_cmd() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_weft"));
    cmd.env_remove("WEFT_TIMING")
        .env("COLUMNS", "100")
        .env("LINES", "50");
    cmd
}
