//! `conclave`: the command-line tool of the conclave toolkit. The stable interface is documented
//! in `CLI.md` (commands, flags, exit codes, JSON fields): exit 0 success/valid, 1 invalid input
//! or verdict (one line on stderr, `conclave: …`), 2 usage error.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

// `println!` and `print!` for every module below (declared before them, so these shadow the
// standard macros): a write to a closed stdout (`conclave … | head -c1`) is dropped instead of
// panicking (exit 101). The command still runs to its end and exits with its verdict's code.
macro_rules! println {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

#[allow(unused_macros)]
macro_rules! print {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        let _ = write!(out, $($arg)*);
        let _ = out.flush();
    }};
}

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
    ///
    /// Deals a t+1-of-n threshold key with a trusted dealer, has t+2 shares sign a message (one
    /// of them signs another message), combines robustly (the bad partial is named as the
    /// culprit and skipped) and verifies the result as an ordinary BLS signature under the group
    /// public key (POP ciphersuite).
    ///
    /// Exit 0 if the combined signature verifies, 1 otherwise or on invalid input.
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
