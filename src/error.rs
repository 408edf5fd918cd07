//! How a subcommand ends, typed: the verdict of a run that went to its end ([`Verdict`]) or
//! what stopped it ([`CliError`]), and the exit status each maps to (the spec's: 0 success, 1 a
//! failing verdict, 2 a usage or input error). Subcommands return these instead of printing
//! and exiting themselves; `main` alone says the message and picks the status.

use std::fmt::Display;
use std::process::ExitCode;

/// The exit status of a usage or input error (an unreadable file, a malformed line): the
/// spec's `2`, for every subcommand.
const EXIT_INPUT: u8 = 2;

/// The exit status of a failing verdict, or of a run that could not finish correctly.
const EXIT_FAIL: u8 = 1;

/// How a subcommand that ran to its end judged what it saw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing reaches the failing level (findings, divergence): exit 0.
    Pass,
    /// Something does (`weft check` findings at the `--fail-on` level, replicas that
    /// diverged): exit 1.
    Fail,
}

impl Verdict {
    /// [`Verdict::Fail`] when `failed`, else [`Verdict::Pass`].
    pub fn fail_if(failed: bool) -> Verdict {
        if failed {
            Verdict::Fail
        } else {
            Verdict::Pass
        }
    }

    /// The process exit status.
    pub fn exit_code(self) -> ExitCode {
        match self {
            Verdict::Pass => ExitCode::SUCCESS,
            Verdict::Fail => ExitCode::from(EXIT_FAIL),
        }
    }
}

/// What stopped a subcommand, by the exit status it maps to. The text of a message is the
/// whole line `main` prints on stderr.
#[derive(Debug)]
pub enum CliError {
    /// A usage or input error (exit 2): a bad flag value, an unreadable or malformed input, an
    /// output that cannot be written.
    Input(String),
    /// The run could not finish correctly (exit 1): the collector's shutdown failed, two
    /// simulations of one configuration differed.
    Failed(String),
    /// Standard output was closed by its reader (`weft check x --format json | head -1`): not
    /// an error; nothing said, exit 0 (a subcommand that reached a verdict returns the verdict
    /// instead, as `weft check` does).
    BrokenPipe,
}

impl CliError {
    /// A usage or input error of `command` (`weft sim`): `COMMAND: reason`.
    pub fn input(command: &str, reason: impl Display) -> CliError {
        CliError::Input(format!("{command}: {reason}"))
    }

    /// A usage or input error said as it is: a reason that names its own place (`FILE:LINE:
    /// reason`), or one to be said [`within`](CliError::within) a command.
    pub fn bare(reason: impl Display) -> CliError {
        CliError::Input(reason.to_string())
    }

    /// A run of `command` that could not finish correctly: `COMMAND: reason`.
    pub fn failed(command: &str, reason: impl Display) -> CliError {
        CliError::Failed(format!("{command}: {reason}"))
    }

    /// A failed write to standard output: a closed pipe is [`CliError::BrokenPipe`], any other
    /// error a usage or input error `what: error` (to be said [`within`](CliError::within) a
    /// command).
    pub fn stdout(what: &str, e: &std::io::Error) -> CliError {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            CliError::BrokenPipe
        } else {
            CliError::Input(format!("{what}: {e}"))
        }
    }

    /// The same error said as part of `command`: `COMMAND: ` before the message.
    pub fn within(self, command: &str) -> CliError {
        match self {
            CliError::Input(m) => CliError::input(command, m),
            CliError::Failed(m) => CliError::failed(command, m),
            CliError::BrokenPipe => CliError::BrokenPipe,
        }
    }

    /// The line to say on stderr, if any.
    pub fn message(&self) -> Option<&str> {
        match self {
            CliError::Input(m) | CliError::Failed(m) => Some(m),
            CliError::BrokenPipe => None,
        }
    }

    /// The process exit status.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            CliError::Input(_) => ExitCode::from(EXIT_INPUT),
            CliError::Failed(_) => ExitCode::from(EXIT_FAIL),
            CliError::BrokenPipe => ExitCode::SUCCESS,
        }
    }
}

/// A bare reason (the `String` errors of the readers and importers) is an input error, said as
/// it is.
impl From<String> for CliError {
    fn from(reason: String) -> CliError {
        CliError::Input(reason)
    }
}

/// Whether `e`, or an error it wraps, is a closed pipe.
pub fn is_broken_pipe(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut at = Some(e);
    while let Some(e) = at {
        if e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
        {
            return true;
        }
        at = e.source();
    }
    false
}
