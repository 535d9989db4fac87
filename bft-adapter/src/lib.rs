//! # conclave-bft
//!
//! A committee Byzantine agreement engine in the style of Algorand's BA* (Chen, Gorbunov,
//! Micali, Vlachos, "Algorand Agreement: Super Fast and Partition Resilient Byzantine
//! Agreement"), with threshold-signed certificates, written as a sans-IO state machine, plus a
//! deterministic simulator that attacks it.
//!
//! - [`engine`]: `Engine::handle(now, Input) -> Step { actions }`. Periods with propose → soft →
//!   cert → next votes, v̄ pinning, lazy batch verification with bisection, cert quorums combined
//!   unverified and checked as a whole (the batch checks only if that fails), soft/next bundles,
//!   catch-up by certificate, a persist barrier before every send. No clock, RNG, socket or disk.
//! - [`traits`]: the adapter traits (committee, sortition, signer, verifier with batch verify and
//!   combine, application), the engine's only view of crypto. They fit threshold signatures
//!   (default), plain multisignatures and sampled committees.
//! - [`types`] and [`codec`]: messages, the exact signed byte strings, a strict canonical codec.
//! - [`evidence`]: fault evidence (culprit, kind, proof).
//! - [`mock`]: a **test-only** keyed-hash scheme with threshold semantics (`--crypto mock`).
//! - [`sim`]: the simulator (network model, adversaries, oracles) and [`sim::run_simulation`],
//!   which the CLI's `conclave simulate` calls.
//!
//! **Modes.** Threshold mode (the default) holds one DKG'd key per epoch committee and is safe
//! with at most f = ⌊(n−1)/3⌋ faulty seats. Sampled mode (per-step VRF committees,
//! [`adapter::sampled`]) is safe only under a stated honest-*stake* fraction: its parameters are
//! an [`adapter::SampledParams`], whose constructor computes the exact per-step safety and
//! liveness failure probabilities and refuses them above a target (10⁻⁹ by default). At
//! n ≤ 1000 seats and 80% honest stake no committee smaller than about two thirds of the seats
//! meets 10⁻⁹ (table in `conclave_committee::safety`), which is why threshold mode is the
//! default and sampled mode is for large populations. A decision from a peer is accepted only
//! within `Config::period_window` periods of the node's own and only after the application
//! validated its value (in sampled mode next-quorum bundles count only within that window too,
//! and a node further behind is moved by a chain of them, or syncs from its host's ledger
//! through [`Input::Synced`], verifying each certificate in order); sampled seeds follow
//! Algorand's VRF seed chain, from the decided value's proposer's VRF proof (see
//! [`adapter::sampled`] for what an
//! adversary can still precompute).
//!
//! Certificate size: epoch, height, period, value id and two signatures (decision and beacon).
//! With BLS MinPk threshold signatures (96-byte G2 signatures) a [`types::Certificate`] is
//! 8 + 8 + 4 + 32 + 2 × 96 = 244 bytes (256 encoded with length prefixes, the empty seed seal's
//! included, plus the message tag and value inside a `Decided`), whatever the committee size;
//! with MinSig, 148 bytes.
//!
//! ## Features
//!
//! * `sim` (off by default): the simulator [`sim`] (network model, adversaries, oracles),
//!   the test-only [`mock`] crypto, and `adapter::RealProvider`, which builds real keys for
//!   simulations. A host embedding [`Engine`] with the real adapters does not need it (and does
//!   not compile `serde_json` or the DKG's simulator); the CLI, tests, benchmarks and fuzz
//!   targets enable it. The example below needs it (`conclave-bft = { features = ["sim"] }`);
//!   `docs/EMBEDDING.md` shows a host driving the engine.
//!
//! ```
//! # #[cfg(feature = "sim")] {
//! use conclave_bft::sim::{run_simulation, AdversaryKind, MockProvider, SimConfig};
//!
//! let mut config = SimConfig::new(7); // f = 2 faulty nodes
//! config.adversary = AdversaryKind::Equivocate;
//! config.heights = 3;
//! let report = run_simulation(&config, &MockProvider).expect("valid configuration");
//! assert!(report.violations.is_empty());
//! assert_eq!(report.summary.heights_decided, 3);
//! assert!(report.evidence.iter().all(|e| report.faulty.contains(&e.culprit.0)));
//! println!("{}", serde_json::to_string(&report).unwrap());
//! # }
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod adapter;
pub mod codec;
pub mod engine;
pub mod epoch;
pub mod evidence;
#[cfg(any(test, feature = "sim"))]
pub mod mock;
#[cfg(feature = "sim")]
pub mod sim;
pub mod traits;
pub mod types;

pub use engine::{
    aggregators, Action, Adapters, Config, Engine, Input, Limits, PersistedState, Step, Timeouts,
    TimerId,
};
