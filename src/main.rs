//! The `weft` command: parse the command line, run the subcommand, exit with its status.

mod check;
mod cli;
mod collect;
mod demo;
mod interop;
mod sim;
mod tui;

use std::process::ExitCode;

use clap::Parser;

/// The exit status of a usage or input error (an unreadable file, a malformed line): the
/// spec's `2`, for every subcommand.
pub(crate) const EXIT_INPUT: u8 = 2;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cli.command {
        cli::Command::Check(args) => check::run(&args),
        cli::Command::Sim(args) => sim::run(&args),
        cli::Command::Collect(args) => collect::run(&args),
        cli::Command::Tui(args) => tui::run(&args),
        cli::Command::Demo(args) => demo::run(&args),
        cli::Command::Import(args) => interop::import(&args.format),
        cli::Command::Export(args) => interop::export(&args),
    }
}
