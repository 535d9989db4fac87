//! A deterministic discrete-event simulator for the engine.
//!
//! One process, one seeded ChaCha RNG, virtual time, and a priority queue (ordered by time, then
//! insertion) of message deliveries, timers and crash/restart events. The network model has a
//! base latency plus uniform jitter (which reorders messages), random duplication at any time,
//! and random drops plus a two-sided partition before the global stabilisation time (GST);
//! after GST every message between live nodes arrives. Honest nodes may crash and restart from
//! their last persisted state. Faulty nodes follow the [`AdversaryKind`] catalogue. All
//! collections are ordered, so the same seed gives the same report (except `wall_ms`).
//!
//! Honest nodes may also crash at a persist point ([`CrashPoint`]): right after a
//! `Persist` (before the next send), or between the height's persist and `Decide`, with that
//! last write kept, lost or torn ([`LastWrite`]); the host carries out nothing after the crash,
//! so a lost write never has anything depending on it on the wire (a `barrier` violation says
//! otherwise). Every engine gets [`Input::Entropy`](crate::Input::Entropy) from the run's seed.
//!
//! Oracles (reported as `violations`, see the `oracle` module): agreement, validity, integrity
//! (one decision per height, in order), certificates (also checked without the adapter's code
//! when the run uses real crypto: as plain BLS signatures with `conclave-threshold-sig` in
//! threshold mode; in sampled mode from the published [`SampledPublic`] keys, re-deriving every
//! credential and the seed chain with `conclave-committee`), liveness (every honest
//! node decides every height, within [`LIVENESS_PERIODS`] periods after stabilisation), no
//! honest node blamed, and, when agreement breaks, accountability (evidence that
//! [`Evidence::verify`] accepts names at least f+1 seats; only evidence produced by honest
//! nodes counts: their engines' reports and the forensic exchange of their own transcripts).
//! The oracles run as the simulation goes, transcripts are pruned to the undecided heights, and
//! [`SimOptions::keep_decisions`] turns off the decision lists, so long runs and sweeps run in
//! bounded memory.

mod adversary;
pub mod epochs;
mod forensics;
mod independent;
mod oracle;
mod world;

use crate::engine::Adapters;
use crate::evidence::Evidence;
use crate::mock::MockCrypto;
use crate::traits::Verifier;
use crate::types::{NodeId, Seed};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

pub use adversary::AdversaryKind;
pub use independent::SampledPublic;

/// How certificates are formed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// One DKG'd threshold key for the committee; constant-size certificates.
    Threshold,
    /// Per-step sortition committees with multisignature certificates.
    Sampled,
}

/// Simulation parameters (the CLI's `conclave simulate` flags). Non-exhaustive: start from
/// [`SimConfig::new`] (or [`SimConfig::sampled`]) and set fields.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SimConfig {
    /// Committee size N.
    pub nodes: u32,
    /// Number of faulty nodes F.
    pub faulty: u32,
    /// What the faulty nodes do.
    pub adversary: AdversaryKind,
    /// Heights to decide.
    pub heights: u64,
    /// RNG seed (network, fault placement, keys).
    pub seed: u64,
    /// Certificate mode.
    pub mode: Mode,
    /// Base one-way latency.
    pub latency_ms: u64,
    /// Uniform extra delay in `0..=jitter_ms`.
    pub jitter_ms: u64,
    /// Drop probability before GST.
    pub drop: f64,
    /// Duplication probability (any time).
    pub duplicate: f64,
    /// Global stabilisation time: drops and the partition end here.
    pub gst_ms: u64,
    /// Split the honest nodes into two halves that cannot talk until GST.
    pub partition: bool,
    /// How many honest nodes crash once and restart from their persisted state.
    pub crashes: u32,
    /// Size of each proposed value.
    pub value_bytes: usize,
    /// Give up (and report a liveness violation) at this virtual time; 0 = automatic.
    pub max_sim_ms: u64,
    /// Where the crashing honest nodes crash.
    #[serde(default)]
    pub crash_point: CrashPoint,
    /// What happens to the write a crash at a persist point interrupts.
    #[serde(default)]
    pub last_write: LastWrite,
    /// κ, vote aggregators per step ([`crate::Config::aggregators`]; 0 = off, all-to-all).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub aggregators: u32,
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

/// K of the liveness oracle: after stabilisation (GST, or the last restart of a crashed honest
/// node if later) every honest node decides each height before more than K *honest-led*
/// periods have passed, counted after the highest period an honest node had reached at that
/// height at stabilisation (period 1 for heights started later). A period is honest-led when
/// its best proposer credential is an honest seat's; a faulty leader can cost its period (it
/// may split the honest nodes), so those periods are not counted, which keeps the bound sharp
/// without making it probabilistic. K = 1: one honest-led period may be lost to the timing of
/// stabilisation within it; see `docs/CLI.md` (`--sweep`) for the measured distribution.
pub const LIVENESS_PERIODS: u32 = 1;

/// Where a crashing honest node crashes.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum CrashPoint {
    /// Between two events, at a random time.
    #[default]
    Timed,
    /// Right after a `Persist` (at or after a random time), before the next send.
    AfterPersist,
    /// Between the height's `Persist` and its `Decide` (at or after a random time).
    BeforeDecide,
}

/// The fate of the write a crash at a persist point interrupts.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum LastWrite {
    /// It reached the disk.
    #[default]
    Kept,
    /// It never reached the disk.
    Lost,
    /// It reached the disk half-written (the record fails its check on restart).
    Torn,
}

/// A fault planted into a run so a test can show that an oracle catches what it checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Plant {
    /// The host of the first honest node records its height-1 decision with another (valid)
    /// value than the one certified: agreement and certificate oracles.
    WrongValue,
    /// ... with one bit of the certificate's signature flipped: certificate oracle.
    TamperCertificate,
    /// The host of the first honest node reports evidence against the second: blame oracle.
    BlameHonest,
    /// Honest nodes keep no transcripts; instead evidence with unsigned proofs names every
    /// faulty seat: accountability oracle (it must count only evidence that verifies).
    ForgedAccountability,
    /// Honest nodes' filter timers of periods `1..=n` never fire (nobody soft-votes there):
    /// liveness oracle.
    DropFilterTimers(u32),
}

/// How a run is carried out (not part of the report).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimOptions {
    /// Keep every decision for the report (`false`: `decisions` stays empty and memory stays
    /// bounded however many heights run; the oracles check each decision as it happens).
    pub keep_decisions: bool,
    /// A fault to plant (oracle self-tests).
    pub plant: Option<Plant>,
    /// The application the nodes run (`None`: built-in values that name their height and
    /// proposer). The epoch simulator ([`epochs`]) carries its resharing in the blocks of one.
    pub app: Option<SimApp>,
    /// The committee epoch every engine votes in (votes and certificates bind it).
    pub epoch: u64,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            keep_decisions: true,
            plant: None,
            app: None,
            epoch: 0,
        }
    }
}

/// The application of a simulated chain: what proposers propose, what validators accept,
/// and what each honest node learns when it decides (in height order, once per height).
/// Interior mutability is the application's: the simulator calls it from one thread.
pub trait SimApplication: Send + Sync {
    /// The block `proposer` proposes at `height` (`salt` tells a faulty node's twin instances
    /// apart). Faulty proposers also call it (an application may censor for them).
    fn propose(&self, proposer: NodeId, height: u64, salt: u32) -> Vec<u8>;
    /// True if `value` is a well-formed block for `height` (validators vote only for those).
    fn validate(&self, height: u64, value: &[u8]) -> bool;
    /// Honest `node` decided `decided` (its value is the block, its certificate certifies it).
    fn decided(&self, node: NodeId, decided: &crate::types::Decided);
}

/// A shared [`SimApplication`] (compared by identity).
#[derive(Clone)]
pub struct SimApp(pub Arc<dyn SimApplication>);

impl std::fmt::Debug for SimApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SimApp")
    }
}

impl PartialEq for SimApp {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}
impl Eq for SimApp {}

impl SimConfig {
    /// The CLI defaults for `nodes` seats: F = ⌊(N−1)/3⌋, mixed adversary, 20 heights.
    pub fn new(nodes: u32) -> Self {
        SimConfig {
            nodes,
            faulty: nodes.saturating_sub(1) / 3,
            adversary: AdversaryKind::Mixed,
            heights: 20,
            seed: 0,
            mode: Mode::Threshold,
            latency_ms: 50,
            jitter_ms: 20,
            drop: 0.0,
            duplicate: 0.01,
            gst_ms: 0,
            partition: false,
            crashes: 0,
            value_bytes: 64,
            max_sim_ms: 0,
            crash_point: CrashPoint::Timed,
            last_write: LastWrite::Kept,
            aggregators: 0,
        }
    }

    /// Sampled mode for `params.seats()` seats with the faulty seats the stated honest
    /// fraction allows (`⌊(1−h)·N⌋`, see [`crate::adapter::SampledParams`]); use the same
    /// parameters in the crypto provider (`RealProvider::with_honest_fraction` etc.).
    pub fn sampled(params: &crate::adapter::SampledParams) -> Self {
        let mut config = SimConfig::new(params.seats());
        config.mode = Mode::Sampled;
        config.faulty = params.faulty();
        config
    }

    /// f = ⌊(N−1)/3⌋, the number of faults the committee tolerates.
    pub fn tolerated(&self) -> u32 {
        self.nodes.saturating_sub(1) / 3
    }
}

/// Everything the simulator needs from a crypto backend.
pub struct CryptoSetup {
    /// Name of the signature variant (e.g. `"MinPk"`, or `"mock"`).
    pub variant: String,
    /// Domain-separation tag certificates are signed under.
    pub dst: String,
    /// The group public key certificates verify under.
    pub group_public_key: Vec<u8>,
    /// Sortition seed of height 1.
    pub genesis_seed: Seed,
    /// One adapter bundle per seat, indexed by seat.
    pub adapters: Vec<Adapters>,
    /// The public verifier (oracles check certificates with it).
    pub verifier: Arc<dyn Verifier>,
    /// Sampled mode: the registered public keys and parameters, from which the oracles check
    /// every certificate without the adapter's code (`None`: no independent sampled check).
    pub sampled: Option<SampledPublic>,
}

/// A crypto backend: the mock ([`MockProvider`]) or the real adapter (which runs the DKG).
pub trait CryptoProvider {
    /// Creates keys for `config.nodes` seats.
    fn setup(&self, config: &SimConfig) -> Result<CryptoSetup, String>;
}

/// The test-only keyed-hash backend of [`crate::mock`].
#[derive(Clone, Copy, Debug, Default)]
pub struct MockProvider;

impl MockProvider {
    /// The simulator setup of an already built mock backend (e.g.
    /// [`MockCrypto::with_proposers`]), threshold mode.
    pub fn setup_from(config: &SimConfig, mock: &MockCrypto) -> CryptoSetup {
        CryptoSetup {
            variant: "mock".into(),
            dst: "conclave-mock-keyed-hash-v1".into(),
            group_public_key: mock.group_public_key().to_vec(),
            genesis_seed: mock.genesis_seed(),
            adapters: (0..config.nodes)
                .map(|i| mock.adapters(NodeId(i)))
                .collect(),
            verifier: mock.verifier(),
            sampled: None,
        }
    }
}

impl CryptoProvider for MockProvider {
    fn setup(&self, config: &SimConfig) -> Result<CryptoSetup, String> {
        if config.mode != Mode::Threshold {
            return Err("the mock crypto backend implements threshold mode only".into());
        }
        Ok(MockProvider::setup_from(
            config,
            &MockCrypto::new(config.nodes, config.seed),
        ))
    }
}

/// A certificate as reported: the exact signed bytes and the combined signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateRecord {
    /// Hex of the exact byte string signed.
    pub message: String,
    /// Hex of the combined signature.
    pub signature: String,
}

/// One decision of one honest node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionRecord {
    /// Height.
    pub height: u64,
    /// Hex of the decided value.
    pub value: String,
    /// Period of the cert quorum.
    pub period: u32,
    /// Its certificate.
    pub certificate: CertificateRecord,
}

/// Aggregate counters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metrics {
    /// Point-to-point messages sent (a broadcast to N−1 peers counts N−1).
    pub messages: u64,
    /// Bytes in those messages.
    pub bytes: u64,
    /// Highest period in which an honest node decided.
    pub max_period: u32,
    /// Virtual time at the end.
    pub sim_time_ms: u64,
    /// Wall-clock duration of the run (not deterministic).
    pub wall_ms: u64,
}

/// Figures for the CLI's summary table that are not part of the JSON contract.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Heights decided by every honest node.
    pub heights_decided: u64,
    /// Encoded size of one `Decided` certificate (without the value), in bytes.
    pub certificate_bytes: usize,
    /// Honest-node crashes that happened.
    pub crashes: u32,
    /// The most signed messages the honest nodes' transcripts held together (checked each time
    /// a height is decided by all, before pruning): bounded by the undecided heights, not the run.
    pub peak_transcript_messages: usize,
}

/// The outcome of a run; serialises to the `conclave simulate --json` shape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SimReport {
    /// The configuration run.
    pub config: SimConfig,
    /// Signature variant.
    pub variant: String,
    /// Domain-separation tag.
    pub dst: String,
    /// Hex of the group public key.
    pub group_public_key: String,
    /// Honest seats.
    pub honest: Vec<u32>,
    /// Faulty seats.
    pub faulty: Vec<u32>,
    /// Decisions of each honest node, by seat.
    pub decisions: BTreeMap<u32, Vec<DecisionRecord>>,
    /// Evidence reported by honest nodes' engines and found by the forensic exchange of their
    /// transcripts at forked heights (only pieces that `Evidence::verify` accepts prove anything).
    pub evidence: Vec<Evidence>,
    /// Counters.
    pub metrics: Metrics,
    /// Oracle violations (empty on a correct run).
    pub violations: Vec<String>,
    /// Non-contract figures for human output.
    #[serde(skip)]
    pub summary: Summary,
}

impl SimReport {
    /// The CLI exit code: 0 without violations, 3 with.
    pub fn exit_code(&self) -> i32 {
        if self.violations.is_empty() {
            0
        } else {
            3
        }
    }
}

/// The seats a run with `config` makes faulty (crypto providers use it to give the same seats
/// a Byzantine role in key generation).
pub fn faulty_seats(config: &SimConfig) -> std::collections::BTreeSet<NodeId> {
    use rand::SeedableRng;
    world::choose_faulty(
        config,
        &mut rand_chacha::ChaCha20Rng::seed_from_u64(config.seed),
    )
}

/// Why [`run_simulation`] could not run (a configuration or crypto setup it cannot use; a run
/// that goes wrong is a report with violations, not an error).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// The committee size and fault count do not fit: `0 < nodes` and `faulty <= nodes`.
    #[error("need 0 <= faulty ({faulty}) <= nodes ({nodes}) and nodes > 0")]
    Committee {
        /// N asked for.
        nodes: u32,
        /// F asked for.
        faulty: u32,
    },
    /// `drop` or `duplicate` is not a probability in `0..=1`.
    #[error("drop and duplicate must be probabilities")]
    Probability,
    /// The crypto provider refused the configuration (its message).
    #[error("crypto setup: {0}")]
    Setup(String),
    /// The crypto provider returned keys for another number of seats.
    #[error("crypto setup returned {got} seats for a committee of {expected}")]
    SeatCount {
        /// N.
        expected: u32,
        /// Adapter bundles returned.
        got: usize,
    },
}

/// Runs one simulation. Errors only if the configuration or the crypto setup is unusable.
pub fn run_simulation(
    config: &SimConfig,
    crypto: &dyn CryptoProvider,
) -> Result<SimReport, SimError> {
    run_simulation_with_progress(config, crypto, &mut |_| {})
}

/// [`run_simulation`], calling `progress(h)` whenever every honest node has decided `h` heights
/// (for progress bars; called after the crypto setup, from the simulating thread).
pub fn run_simulation_with_progress(
    config: &SimConfig,
    crypto: &dyn CryptoProvider,
    progress: &mut dyn FnMut(u64),
) -> Result<SimReport, SimError> {
    run_simulation_with(config, crypto, &SimOptions::default(), progress)
}

/// [`run_simulation_with_progress`] with explicit [`SimOptions`].
pub fn run_simulation_with(
    config: &SimConfig,
    crypto: &dyn CryptoProvider,
    options: &SimOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<SimReport, SimError> {
    if config.nodes == 0 || config.faulty > config.nodes {
        return Err(SimError::Committee {
            nodes: config.nodes,
            faulty: config.faulty,
        });
    }
    if !(0.0..=1.0).contains(&config.drop) || !(0.0..=1.0).contains(&config.duplicate) {
        return Err(SimError::Probability);
    }
    let setup = crypto.setup(config).map_err(SimError::Setup)?;
    if setup.adapters.len() != config.nodes as usize {
        return Err(SimError::SeatCount {
            expected: config.nodes,
            got: setup.adapters.len(),
        });
    }
    let independent = independent::Independent::for_setup(&setup).map_err(SimError::Setup)?;
    Ok(world::World::new(config.clone(), setup, independent, options.clone()).run(progress))
}
