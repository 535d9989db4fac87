//! `conclave`: the command-line tool of the conclave toolkit (contract: CLI-CONTRACT.md).

mod committee;

use clap::Parser;

/// The conclave command-line tool.
#[derive(Parser)]
#[command(name = "conclave", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Top-level subcommands.
#[derive(clap::Subcommand)]
enum Command {
    /// VRF sortition: keygen, sortition, verify.
    #[command(subcommand)]
    Committee(committee::CommitteeCommand),
}

fn main() -> std::process::ExitCode {
    match Cli::parse().command {
        Command::Committee(cmd) => committee::run(cmd),
    }
}
