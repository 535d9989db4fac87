//! `conclave`: the command-line tool of the conclave toolkit. The stable interface is documented
//! in `CLI.md` (commands, flags, exit codes, JSON fields): exit 0 success/valid, 1 invalid input
//! or verdict (one line on stderr), 2 usage error.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod bls;
mod client;
mod committee;
mod common;
mod demo;
mod dkg;
mod simulate;
mod testnet;
mod threshold;

/// conclave: BLS threshold signatures, DKG, sortition and committee BFT agreement.
#[derive(Debug, Parser)]
#[command(name = "conclave", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// BLS12-381 signatures (IETF ciphersuites), aggregation, hash to curve.
    Bls {
        #[command(subcommand)]
        cmd: bls::BlsCommand,
    },
    /// t+1-of-n threshold signatures with a trusted dealer.
    Threshold {
        #[command(subcommand)]
        cmd: threshold::ThresholdCommand,
    },
    /// VRF sortition: keygen, sortition, verify.
    Committee {
        #[command(subcommand)]
        cmd: committee::CommitteeCommand,
    },
    /// Joint-Feldman DKG and resharing, all participants in process (Byzantine kinds optional).
    Dkg {
        #[command(subcommand)]
        cmd: dkg::DkgCommand,
    },
    /// Deal a threshold key, sign with t+1 shares (one corrupted), combine robustly, verify.
    Demo(demo::DemoArgs),
    /// Run the DKG among the seats, then H heights of BFT agreement under attack (simulated).
    Simulate(simulate::SimulateArgs),
    /// Run one node of a testnet (libp2p, DKG over the network, BA*, redb, HTTP API).
    Node(testnet::NodeArgs),
    /// `testnet init` writes a testnet; `testnet` runs the end-to-end demo of N processes.
    Testnet(testnet::TestnetArgs),
    /// Talk to a running node: submit a tx, status, verify blocks as a light client.
    Client {
        #[command(subcommand)]
        cmd: client::ClientCommand,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Bls { cmd } => common::finish(bls::run(cmd)),
        Command::Threshold { cmd } => common::finish(threshold::run(cmd)),
        Command::Committee { cmd } => committee::run(cmd),
        Command::Dkg { cmd } => dkg::run(cmd),
        Command::Demo(args) => common::finish(demo::run(args)),
        Command::Simulate(args) => simulate::run(args),
        Command::Node(args) => testnet::run_node(args),
        Command::Testnet(args) => testnet::run(args),
        Command::Client { cmd } => common::finish(client::run(cmd)),
    }
}
