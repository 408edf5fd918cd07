//! The `weft` command: parse the command line, run the subcommand, and map how it ended to
//! what is said on stderr and the exit status — here and nowhere else.

mod check;
mod cli;
mod collect;
mod demo;
mod error;
mod interop;
mod sim;
mod tui;

use std::process::ExitCode;

use clap::Parser;

use error::{CliError, Verdict};

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match run(cli.command) {
        Ok(verdict) => verdict.exit_code(),
        Err(e) => {
            if let Some(message) = e.message() {
                eprintln!("{message}");
            }
            e.exit_code()
        }
    }
}

/// Runs the subcommand: its verdict, or what stopped it.
fn run(command: cli::Command) -> Result<Verdict, CliError> {
    match command {
        cli::Command::Check(args) => check::run(&args),
        cli::Command::Sim(args) => sim::run(&args),
        cli::Command::Collect(args) => collect::run(&args),
        cli::Command::Tui(args) => tui::run(&args),
        cli::Command::Demo(args) => demo::run(&args),
        cli::Command::Import(args) => interop::import(&args.format),
        cli::Command::Export(args) => interop::export(&args),
    }
}
