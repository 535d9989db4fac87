//! `conclave`: the command-line tool of the conclave toolkit (contract: CLI-CONTRACT.md).
fn main() {}
