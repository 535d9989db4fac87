//! CPU per node and decision against the protocol's cryptographic floor (issue #14 §1):
//!
//! ```sh
//! cargo run --release -p conclave-benches --example decision_floor              # N = 4, 16, 64, 128
//! cargo run --release -p conclave-benches --example decision_floor -- 16 64 6    # sizes, then heights
//! cargo run --release -p conclave-benches --example decision_floor -- 4 16 3 --json target/decision-floor.json
//! ```
//!
//! Runs the engine in the simulator (threshold mode, min-pk, real crypto, trusted dealer, no
//! faults, default latency 50 ms + jitter ≤ 20 ms) with every crypto adapter wrapped to count
//! and time (process CPU time: blst runs MSMs of 32 points and more on its thread pool) each call. Decisions after the first height are measured: the
//! process CPU time between the first and the last height decided by every node, divided by N
//! and by the decisions, minus the oracles' own certificate checks (simulator work, timed
//! apart). The floor of one decision in period 1, per node, is what the protocol cannot avoid:
//!
//! * the best proposal: one proposer-credential check and one signature check;
//! * one's own proposer credential (every seat evaluates its sortition each period);
//! * one batch verification of the soft quorum (`q = t+1`);
//! * the cert quorum: its votes and beacon shares, combined as they are into the decision's
//!   certificate and beacon and checked together (one `combine_with_beacon`: two MSMs and one
//!   pairing product), which proves the quorum without checking its votes one by one;
//! * one's own signatures (each a hash to the curve and a scalar multiplication): soft vote,
//!   cert vote, beacon share, plus the proposers' signatures spread over the seats.
//!
//! Each primitive is timed in the same process on the same keys (median of repeated calls
//! through the same adapters), and the floor is Σ count × time. The table prints measured CPU,
//! the crypto part of it (the timed calls), the floor, measured / floor and the calls per node
//! and decision by kind (measured count / floor count).
//!
//! `--json PATH` also writes every row (with the floor's items: count × unit cost, the crypto
//! CPU by kind and the unit costs), the command line and the load average at start and end to
//! PATH, for `benches/report --floor PATH`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use conclave_bft::adapter::{KeySetup, RealProvider};
use conclave_bft::sim::{
    run_simulation_with_progress, AdversaryKind, CryptoProvider, CryptoSetup, SimConfig,
};
use conclave_bft::traits::{
    CombineError, Committee, InvalidSeal, Share, Signer, Sortition, Verifier,
};
use conclave_bft::types::{Certificate, Height, NodeId, Period, Priority, Seed, ValueId, VoteStep};
use conclave_bft::Adapters;
use serde_json::{json, Map, Value};

#[path = "support/record.rs"]
mod record;

/// CPU time of the calling thread, in nanoseconds.
fn thread_cpu_ns() -> u64 {
    cpu_ns(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// CPU time of the whole process, in nanoseconds.
fn process_cpu_ns() -> u64 {
    cpu_ns(libc::CLOCK_PROCESS_CPUTIME_ID)
}

fn cpu_ns(clock: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; both clocks exist on Linux.
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime");
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// The primitives that are counted and timed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Op {
    Sign,
    ProposerCredential,
    VerifyProposer,
    VerifyShare,
    VerifyBatch,
    Combine,
    CombineWithBeacon,
    VerifyCertificate,
    Other,
}

/// How many kinds of [`Op`].
const KINDS: usize = 9;

const OPS: [Op; KINDS] = [
    Op::Sign,
    Op::ProposerCredential,
    Op::VerifyProposer,
    Op::VerifyShare,
    Op::VerifyBatch,
    Op::Combine,
    Op::CombineWithBeacon,
    Op::VerifyCertificate,
    Op::Other,
];

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Sign => "sign",
            Op::ProposerCredential => "own credential",
            Op::VerifyProposer => "credential check",
            Op::VerifyShare => "share check",
            Op::VerifyBatch => "batch check",
            Op::Combine => "combine",
            Op::CombineWithBeacon => "certificate+beacon combine",
            Op::VerifyCertificate => "certificate check",
            Op::Other => "other",
        }
    }
}

/// Calls and CPU nanoseconds per primitive.
#[derive(Default)]
struct Stats {
    calls: [AtomicU64; KINDS],
    nanos: [AtomicU64; KINDS],
}

impl Stats {
    /// Process CPU time (blst runs MSMs of 32 points and more on its thread pool; the
    /// simulator itself is single-threaded).
    fn time<T>(&self, op: Op, f: impl FnOnce() -> T) -> T {
        let start = process_cpu_ns();
        let out = f();
        let spent = process_cpu_ns().saturating_sub(start);
        self.calls[op as usize].fetch_add(1, Ordering::Relaxed);
        self.nanos[op as usize].fetch_add(spent, Ordering::Relaxed);
        out
    }

    fn snapshot(&self) -> [(u64, u64); KINDS] {
        std::array::from_fn(|i| {
            (
                self.calls[i].load(Ordering::Relaxed),
                self.nanos[i].load(Ordering::Relaxed),
            )
        })
    }
}

struct TimedSigner(Arc<dyn Signer>, Arc<Stats>);

impl Signer for TimedSigner {
    fn id(&self) -> NodeId {
        self.0.id()
    }
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, conclave_bft::traits::SignError> {
        self.1.time(Op::Sign, || self.0.sign(message))
    }
}

struct TimedSortition(Arc<dyn Sortition>, Arc<Stats>);

impl Sortition for TimedSortition {
    fn proposer_credential(&self, seed: &Seed, height: Height, period: Period) -> Option<Vec<u8>> {
        self.1.time(Op::ProposerCredential, || {
            self.0.proposer_credential(seed, height, period)
        })
    }
    fn verify_proposer(
        &self,
        node: NodeId,
        seed: &Seed,
        height: Height,
        period: Period,
        credential: &[u8],
    ) -> Option<Priority> {
        self.1.time(Op::VerifyProposer, || {
            self.0
                .verify_proposer(node, seed, height, period, credential)
        })
    }
    fn voter_credential(
        &self,
        seed: &Seed,
        height: Height,
        period: Period,
        step: VoteStep,
    ) -> Option<Vec<u8>> {
        self.1.time(Op::Other, || {
            self.0.voter_credential(seed, height, period, step)
        })
    }
    fn verify_voter(
        &self,
        node: NodeId,
        seed: &Seed,
        height: Height,
        period: Period,
        step: VoteStep,
        credential: &[u8],
    ) -> Option<u64> {
        self.1.time(Op::Other, || {
            self.0
                .verify_voter(node, seed, height, period, step, credential)
        })
    }
    fn seed_seal(&self, seed: &Seed, height: Height) -> Vec<u8> {
        self.1.time(Op::Other, || self.0.seed_seal(seed, height))
    }
    fn credential_sizes(&self) -> conclave_bft::traits::CredentialSizes {
        self.0.credential_sizes()
    }
}

struct TimedVerifier(Arc<dyn Verifier>, Arc<Stats>);

impl Verifier for TimedVerifier {
    fn verify_share(&self, signer: NodeId, message: &[u8], signature: &[u8]) -> bool {
        self.1.time(Op::VerifyShare, || {
            self.0.verify_share(signer, message, signature)
        })
    }
    fn verify_batch(&self, message: &[u8], shares: &[Share<'_>]) -> Result<(), Vec<NodeId>> {
        self.1
            .time(Op::VerifyBatch, || self.0.verify_batch(message, shares))
    }
    fn combine(&self, message: &[u8], shares: &[Share<'_>]) -> Result<Vec<u8>, CombineError> {
        self.1.time(Op::Combine, || self.0.combine(message, shares))
    }
    fn verify_certificate(&self, seed: &Seed, message: &[u8], certificate: &[u8]) -> bool {
        self.1.time(Op::VerifyCertificate, || {
            self.0.verify_certificate(seed, message, certificate)
        })
    }
    fn combine_beacon(
        &self,
        message: &[u8],
        period: Period,
        shares: &[Share<'_>],
    ) -> Result<Vec<u8>, CombineError> {
        self.1.time(Op::Combine, || {
            self.0.combine_beacon(message, period, shares)
        })
    }
    fn combine_with_beacon(
        &self,
        message: &[u8],
        shares: &[Share<'_>],
        beacon_message: &[u8],
        period: Period,
        beacon_shares: &[Share<'_>],
    ) -> Result<(Vec<u8>, Vec<u8>), CombineError> {
        self.1.time(Op::CombineWithBeacon, || {
            self.0
                .combine_with_beacon(message, shares, beacon_message, period, beacon_shares)
        })
    }
    fn combine_unverified_with_beacon(
        &self,
        message: &[u8],
        shares: &[Share<'_>],
        beacon_message: &[u8],
        period: Period,
        beacon_shares: &[Share<'_>],
    ) -> Option<(Vec<u8>, Vec<u8>)> {
        self.1.time(Op::CombineWithBeacon, || {
            self.0.combine_unverified_with_beacon(
                message,
                shares,
                beacon_message,
                period,
                beacon_shares,
            )
        })
    }
    fn verify_beacon(&self, seed: &Seed, message: &[u8], period: Period, cert: &[u8]) -> bool {
        self.1.time(Op::VerifyCertificate, || {
            self.0.verify_beacon(seed, message, period, cert)
        })
    }
    fn value_id(&self, value: &[u8]) -> ValueId {
        self.0.value_id(value)
    }
    fn next_seed(&self, previous: &Seed, certificate: &Certificate) -> Seed {
        self.0.next_seed(previous, certificate)
    }
    fn verify_seal(
        &self,
        seed: &Seed,
        height: Height,
        seal: &[u8],
    ) -> Result<Option<NodeId>, InvalidSeal> {
        self.1
            .time(Op::Other, || self.0.verify_seal(seed, height, seal))
    }
    fn attributable(&self) -> bool {
        self.0.attributable()
    }
    fn certificates_bind_quorum_at_any_period(&self) -> bool {
        self.0.certificates_bind_quorum_at_any_period()
    }
    fn signature_sizes(&self) -> conclave_bft::traits::SignatureSizes {
        self.0.signature_sizes()
    }
}

/// The real provider with every adapter timed: `engine` for the seats' adapters, `oracle`
/// for the simulator's own verifier. Keeps the untimed adapters for the primitive timings.
struct Timed {
    real: RealProvider,
    engine: Arc<Stats>,
    oracle: Arc<Stats>,
    raw: Mutex<Option<Vec<Adapters>>>,
}

impl CryptoProvider for Timed {
    fn setup(&self, config: &SimConfig) -> Result<CryptoSetup, String> {
        let s = self.real.setup(config)?;
        let e = &self.engine;
        let adapters = s
            .adapters
            .iter()
            .map(|a| Adapters {
                committee: a.committee.clone() as Arc<dyn Committee>,
                sortition: Arc::new(TimedSortition(a.sortition.clone(), e.clone())),
                signer: Arc::new(TimedSigner(a.signer.clone(), e.clone())),
                verifier: Arc::new(TimedVerifier(a.verifier.clone(), e.clone())),
            })
            .collect();
        *self.raw.lock().unwrap() = Some(s.adapters.clone());
        Ok(CryptoSetup {
            variant: s.variant,
            dst: s.dst,
            group_public_key: s.group_public_key,
            genesis_seed: s.genesis_seed,
            adapters,
            verifier: Arc::new(TimedVerifier(s.verifier, self.oracle.clone())),
            sampled: s.sampled,
        })
    }
}

/// Median process CPU time of `f` over `reps` calls, in nanoseconds.
fn median_ns(reps: usize, mut f: impl FnMut()) -> f64 {
    f(); // warm caches (and the combiner's weight cache, as the engine's stable quorums do)
    let mut v: Vec<u64> = (0..reps)
        .map(|_| {
            let s = process_cpu_ns();
            f();
            process_cpu_ns() - s
        })
        .collect();
    v.sort_unstable();
    v[v.len() / 2] as f64
}

/// The signatures of seats `0..quorum` over `message`.
fn quorum_signatures(adapters: &[Adapters], quorum: usize, message: &[u8]) -> Vec<Vec<u8>> {
    adapters[..quorum]
        .iter()
        .map(|a| a.signer.sign(message).unwrap())
        .collect()
}

/// Seat i's share for the i-th signature.
fn as_shares(signatures: &[Vec<u8>]) -> Vec<Share<'_>> {
    signatures
        .iter()
        .enumerate()
        .map(|(i, s)| Share {
            signer: NodeId(i as u32),
            credential: &[],
            signature: s,
        })
        .collect()
}

/// Unit costs of the floor's primitives on the run's own keys, through the same adapters.
fn unit_costs(adapters: &[Adapters], quorum: usize) -> BTreeMap<Op, f64> {
    let msg = b"decision floor: unit cost message".to_vec();
    let seed = Seed([7; 32]);
    let (h, p) = (Height(1), Period(1));
    let reps = 15;
    let signatures = quorum_signatures(adapters, quorum, &msg);
    let shares = as_shares(&signatures);
    let v = &adapters[0].verifier;
    let mut out = BTreeMap::new();
    out.insert(
        Op::Sign,
        median_ns(reps, || {
            std::hint::black_box(adapters[1].signer.sign(&msg).unwrap());
        }),
    );
    out.insert(
        Op::ProposerCredential,
        median_ns(reps, || {
            std::hint::black_box(adapters[1].sortition.proposer_credential(&seed, h, p));
        }),
    );
    // A credential check of a selected seat (the first one the sortition picks).
    let proposer = (0..adapters.len())
        .find_map(|i| {
            adapters[i]
                .sortition
                .proposer_credential(&seed, h, p)
                .map(|c| (NodeId(i as u32), c))
        })
        .expect("some seat is selected");
    out.insert(
        Op::VerifyProposer,
        median_ns(reps, || {
            let ok = adapters[0]
                .sortition
                .verify_proposer(proposer.0, &seed, h, p, &proposer.1);
            assert!(ok.is_some());
        }),
    );
    out.insert(
        Op::VerifyShare,
        median_ns(reps, || {
            assert!(v.verify_share(NodeId(0), &msg, &signatures[0]));
        }),
    );
    out.insert(
        Op::VerifyBatch,
        median_ns(reps, || {
            assert!(v.verify_batch(&msg, &shares).is_ok());
        }),
    );
    out.insert(
        Op::Combine,
        median_ns(reps, || {
            assert!(v.combine(&msg, &shares).is_ok());
        }),
    );
    // The decision's certificate and its beacon, combined and checked together (the engine's
    // call): the beacon shares are over another message, from the same quorum.
    let beacon_msg = b"decision floor: unit cost beacon".to_vec();
    let beacon_signatures = quorum_signatures(adapters, quorum, &beacon_msg);
    let beacon_shares = as_shares(&beacon_signatures);
    out.insert(
        Op::CombineWithBeacon,
        median_ns(reps, || {
            assert!(v
                .combine_with_beacon(&msg, &shares, &beacon_msg, p, &beacon_shares)
                .is_ok());
        }),
    );
    out
}

/// At a height decided by all: (heights, process CPU, engine stats, oracle stats, CPU of the
/// simulating thread).
type Mark = (u64, u64, [(u64, u64); KINDS], [(u64, u64); KINDS], u64);

fn run(nodes: u32, heights: u64) -> Value {
    let t = Timed {
        real: RealProvider::new().with_key_setup(KeySetup::TrustedDealer),
        engine: Arc::default(),
        oracle: Arc::default(),
        raw: Mutex::new(None),
    };
    let mut c = SimConfig::new(nodes);
    c.faulty = 0;
    c.adversary = AdversaryKind::Silent;
    c.heights = heights;
    c.seed = 1;
    c.duplicate = 0.0;
    let mut marks: Vec<Mark> = Vec::new();
    let report = run_simulation_with_progress(&c, &t, &mut |h| {
        marks.push((
            h,
            process_cpu_ns(),
            t.engine.snapshot(),
            t.oracle.snapshot(),
            thread_cpu_ns(),
        ));
    })
    .expect("simulation runs");
    assert!(report.violations.is_empty(), "{:?}", report.violations);
    let first = marks.first().expect("a height decided");
    let last = marks.last().expect("a height decided");
    let decisions = last.0 - first.0;
    assert!(decisions > 0, "need at least two heights");
    let per = |x: f64| x / decisions as f64 / f64::from(nodes);
    let oracle_ns: u64 = (0..KINDS).map(|i| last.3[i].1 - first.3[i].1).sum();
    let measured = per((last.1 - first.1).saturating_sub(oracle_ns) as f64);
    // CPU of threads other than the simulating one (blst's pool).
    let elsewhere = per(((last.1 - first.1) as f64) - (last.4 - first.4) as f64);
    let calls: Vec<f64> = (0..KINDS)
        .map(|i| per((last.2[i].0 - first.2[i].0) as f64))
        .collect();
    let crypto: f64 = (0..KINDS)
        .map(|i| per((last.2[i].1 - first.2[i].1) as f64))
        .sum();
    let periods: Vec<u32> = report
        .decisions
        .values()
        .flat_map(|d| d.iter().skip(1).map(|x| x.period))
        .collect();
    let mean_period = f64::from(periods.iter().sum::<u32>()) / periods.len().max(1) as f64;

    let raw = t.raw.lock().unwrap().take().expect("setup ran");
    let quorum = raw[0].committee.quorum(VoteStep::Soft) as usize;
    let unit = unit_costs(&raw, quorum);
    // Proposers per period, spread over the seats: τ = 10 expected, capped at N.
    let proposers = (conclave_bft::adapter::sortition::TAU_PROPOSER as f64).min(f64::from(nodes));
    let floor_counts: BTreeMap<Op, f64> = [
        (Op::Sign, 3.0 + proposers / f64::from(nodes)),
        (Op::ProposerCredential, 1.0),
        (Op::VerifyProposer, 1.0),
        (Op::VerifyShare, 1.0),
        (Op::VerifyBatch, 1.0),
        (Op::CombineWithBeacon, 1.0),
    ]
    .into_iter()
    .collect();
    let floor: f64 = floor_counts.iter().map(|(op, k)| k * unit[op]).sum();
    let ms = |ns: f64| ns / 1e6;
    let kinds: Vec<String> = OPS
        .iter()
        .filter(|op| calls[**op as usize] > 0.0 || floor_counts.contains_key(op))
        .map(|op| {
            format!(
                "{} {:.2}/{:.2}",
                op.name(),
                calls[*op as usize],
                floor_counts.get(op).copied().unwrap_or(0.0)
            )
        })
        .collect();
    println!(
        "| {nodes} | {quorum} | {decisions} | {mean_period:.2} | {:.2} | {:.2} | {:.2} | **{:.2}** | {} |",
        ms(measured),
        ms(crypto),
        ms(floor),
        measured / floor,
        kinds.join(", ")
    );
    let spent: Vec<String> = OPS
        .iter()
        .map(|op| {
            let i = *op as usize;
            format!(
                "{} {:.2}",
                op.name(),
                ms(per((last.2[i].1 - first.2[i].1) as f64))
            )
        })
        .collect();
    println!(
        "|   | crypto CPU ms per node per decision by kind: {}; oracles {:.2}; on other threads {:.2} | | | | | | | |",
        spent.join(", "),
        ms(per(oracle_ns as f64)),
        ms(elsewhere)
    );
    let units: Vec<String> = unit
        .iter()
        .map(|(op, ns)| format!("{} {:.3} ms", op.name(), ms(*ns)))
        .collect();
    println!(
        "|   | unit costs (q = {quorum}): {} | | | | | | | |",
        units.join(", ")
    );
    json!({
        "nodes": nodes,
        "quorum": quorum,
        "heights": heights,
        "decisions": decisions,
        "mean_period": mean_period,
        "measured_ms": ms(measured),
        "crypto_ms": ms(crypto),
        "floor_ms": ms(floor),
        "ratio": measured / floor,
        "oracle_ms": ms(per(oracle_ns as f64)),
        "other_threads_ms": ms(elsewhere),
        "floor_items": floor_counts
            .iter()
            .map(|(op, k)| json!({
                "kind": op.name(),
                "count": k,
                "unit_ms": ms(unit[op]),
                "ms": ms(k * unit[op]),
            }))
            .collect::<Vec<_>>(),
        "calls": OPS
            .iter()
            .filter(|op| calls[**op as usize] > 0.0 || floor_counts.contains_key(op))
            .map(|op| json!({
                "kind": op.name(),
                "measured": calls[*op as usize],
                "floor": floor_counts.get(op).copied().unwrap_or(0.0),
            }))
            .collect::<Vec<_>>(),
        "crypto_ms_by_kind": OPS
            .iter()
            .map(|op| {
                let i = *op as usize;
                (op.name().to_string(), json!(ms(per((last.2[i].1 - first.2[i].1) as f64))))
            })
            .collect::<Map<_, _>>(),
        "unit_costs_ms": unit
            .iter()
            .map(|(op, ns)| (op.name().to_string(), json!(ms(*ns))))
            .collect::<Map<_, _>>(),
    })
}

fn main() {
    let run_record = record::RunRecord::start(&[]);
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let json_path = record::take_json_flag(&mut args);
    let args: Vec<u64> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let (sizes, heights): (Vec<u32>, u64) = match args.as_slice() {
        [] => (vec![4, 16, 64, 128], 6),
        [one] => (vec![*one as u32], 6),
        [sizes @ .., h] => (sizes.iter().map(|s| *s as u32).collect(), *h),
    };
    println!(
        "threshold mode, min-pk, trusted dealer, no faults, {heights} heights (the first not measured)"
    );
    println!("| N | q | decisions | periods | CPU ms/node/decision | of which crypto | floor ms | measured/floor | calls per node per decision (measured/floor) |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let rows: Vec<Value> = sizes.into_iter().map(|n| run(n, heights)).collect();
    if let Some(path) = json_path {
        let mut body = Map::new();
        body.insert("heights".into(), json!(heights));
        body.insert(
            "setup".into(),
            json!("simulator, threshold mode, min-pk, real crypto, trusted dealer, no faults, 50 ms + <= 20 ms jitter, no duplicates, seed 1; the first height not measured"),
        );
        body.insert("rows".into(), json!(rows));
        run_record.write(&path, "decision_floor", body);
    }
}
