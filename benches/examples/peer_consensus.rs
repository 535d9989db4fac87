//! A peer engine side by side (issue #14 §3): commonware-consensus's threshold simplex on its
//! deterministic runtime and simulated network, next to our BA* engine in our simulator, with the
//! same committee, latency and jitter, in one process under the same load:
//!
//! ```sh
//! cargo run --release -p conclave-benches --features peers --example peer_consensus -- 4 16 64 20
//! cargo run --release -p conclave-benches --features peers --example peer_consensus -- --silent 4 16 20
//! ```
//!
//! The arguments are committee sizes, then the number of decisions H. `--silent` makes one seat
//! a silent faulty one: ours runs `AdversaryKind::Silent` with F = 1 (the seat never sends); the
//! peer's first validator is registered on the network but never linked or started (it never
//! sends and never receives, as in commonware's own `one_offline` test). `--ours` / `--peer`
//! run one side only. The peer's timeouts are those of commonware's own tests (leader 1 s,
//! certification 2 s, retry 10 s); `--our-timeouts` gives it ours instead (2λ, 6λ, 12λ).
//!
//! **Ours**: `conclave_bft::sim` in threshold mode with real crypto (min-pk BLS threshold
//! signatures on blstrs, VRF sortition), a trusted dealer, 50 ms latency plus a uniform
//! 0–20 ms jitter, no drops or duplicates, 64-byte values. **Peer**: `simplex` with the
//! `bls12381_threshold::vrf` scheme on `MinPk` (threshold notarization/finalization certificates
//! plus a threshold seed per view) and the `Random` elector (the leader drawn from the previous
//! seed), `Sequential` strategy (no thread pool), the mock application with zero propose/verify/
//! certify latency and a minimal reporter that checks nothing (the mock reporter re-verifies
//! every vote and certificate, which would be simulator work, not engine work). The simulated
//! network's latency is a normal law (`Link { latency, jitter }` = mean, standard deviation), so
//! the peer's links get the same mean and variance as ours: mean 60 ms, standard deviation
//! 20/√12 ≈ 5.77 ms (rounded to the millisecond the network samples in).
//!
//! Figures, both sides measured the same way:
//! * CPU per node and decision: process CPU (`CLOCK_PROCESS_CPUTIME_ID`, every thread) between
//!   the first and the last decision known to every correct node, divided by the decisions in
//!   between and by the correct nodes. Ours includes the simulator's oracles (their certificate
//!   checks) and the world's event queue; the peer's includes its runtime, journal (in-memory
//!   storage), simulated sockets and framing.
//! * messages and bytes per decision: point-to-point messages handed to the network over the
//!   whole run (a broadcast to k peers counts k), divided by H; bytes are payload bytes (ours:
//!   encoded messages; peer: the encoded message each sender passed to its p2p `Sender`, not
//!   counting the 8-byte channel prefix and frame header its simulated sockets add).
//! * decisions per simulated second: H over the simulated time at which every correct node had
//!   H decisions.
//! * periods (ours) / views (peer) per decision: ours is the mean period in which the correct
//!   nodes decided; the peer's is the views elapsed per finalized block between the first and the
//!   last measured decision (a nullified view finalizes nothing).

use std::collections::BTreeMap;
use std::num::{NonZeroU16, NonZeroU32, NonZeroUsize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use commonware_actor::{Feedback, Unreliable};
use commonware_consensus::simplex::elector::Random;
use commonware_consensus::simplex::mocks::{application, relay};
use commonware_consensus::simplex::scheme::bls12381_threshold::vrf;
use commonware_consensus::simplex::types::Activity;
use commonware_consensus::simplex::{config, Engine, ForwardingPolicy};
use commonware_consensus::types::{Epoch, ViewDelta};
use commonware_consensus::{Reporter, Viewable};
use commonware_cryptography::bls12381::primitives::variant::MinPk;
use commonware_cryptography::certificate::mocks::Fixture;
use commonware_cryptography::ed25519::PublicKey;
use commonware_cryptography::sha256::Digest as Sha256Digest;
use commonware_cryptography::Sha256;
use commonware_p2p::simulated::{self, Link, Network};
use commonware_p2p::{CheckedSender, LimitedSender, Recipients};
use commonware_parallel::Sequential;
use commonware_runtime::buffer::paged::CacheRef;
use commonware_runtime::{deterministic, Clock, IoBufs, Quota, Runner, Supervisor};

use conclave_bft::adapter::{KeySetup, RealProvider};
use conclave_bft::sim::{run_simulation_with_progress, AdversaryKind, SimConfig};

/// Process CPU time (all threads) in nanoseconds.
fn process_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec and the clock id is a constant libc knows.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime");
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// One side's figures for one configuration.
struct Row {
    decisions: u64,
    cpu_ms_per_node_decision: f64,
    messages_per_decision: f64,
    bytes_per_decision: f64,
    decisions_per_sim_s: f64,
    rounds_per_decision: f64,
    wall_s: f64,
}

/// Our engine: `conclave_bft::sim` in threshold mode, real crypto, trusted dealer.
fn run_ours(nodes: u32, heights: u64, silent: bool) -> Row {
    let wall = std::time::Instant::now();
    let provider = RealProvider::new().with_key_setup(KeySetup::TrustedDealer);
    let mut c = SimConfig::new(nodes);
    c.faulty = u32::from(silent);
    c.adversary = AdversaryKind::Silent;
    c.heights = heights;
    c.seed = 1;
    c.duplicate = 0.0;
    let mut marks: Vec<(u64, u64)> = Vec::new();
    let report = run_simulation_with_progress(&c, &provider, &mut |h| {
        marks.push((h, process_cpu_ns()));
    })
    .expect("simulation runs");
    assert!(report.violations.is_empty(), "{:?}", report.violations);
    let first = marks.first().expect("a height decided");
    let last = marks.last().expect("a height decided");
    assert_eq!(last.0, heights, "every height decided");
    let measured = last.0 - first.0;
    assert!(measured > 0, "need at least two decisions");
    let correct = f64::from(nodes - c.faulty);
    let periods: Vec<u32> = report
        .decisions
        .values()
        .flat_map(|d| d.iter().map(|x| x.period))
        .collect();
    let m = &report.metrics;
    Row {
        decisions: measured,
        cpu_ms_per_node_decision: (last.1 - first.1) as f64 / 1e6 / measured as f64 / correct,
        messages_per_decision: m.messages as f64 / heights as f64,
        bytes_per_decision: m.bytes as f64 / heights as f64,
        decisions_per_sim_s: heights as f64 * 1000.0 / m.sim_time_ms as f64,
        rounds_per_decision: f64::from(periods.iter().sum::<u32>()) / periods.len() as f64,
        wall_s: wall.elapsed().as_secs_f64(),
    }
}

/// Messages and bytes handed to the simulated network, summed over every sender.
#[derive(Default)]
struct Traffic {
    messages: AtomicU64,
    bytes: AtomicU64,
}

/// A p2p sender that counts what it hands on: one message per recipient, of the encoded size.
#[derive(Clone)]
struct CountingSender<S> {
    inner: S,
    traffic: Arc<Traffic>,
}

/// [`CountingSender`]'s checked sender.
struct CountingChecked<C> {
    inner: C,
    traffic: Arc<Traffic>,
}

impl<S: LimitedSender> LimitedSender for CountingSender<S> {
    type PublicKey = S::PublicKey;
    type Checked<'a>
        = CountingChecked<S::Checked<'a>>
    where
        Self: 'a;

    fn check(
        &mut self,
        recipients: Recipients<Self::PublicKey>,
    ) -> Result<Self::Checked<'_>, SystemTime> {
        let traffic = self.traffic.clone();
        self.inner
            .check(recipients)
            .map(|inner| CountingChecked { inner, traffic })
    }
}

impl<C: CheckedSender> CheckedSender for CountingChecked<C> {
    type PublicKey = C::PublicKey;

    fn recipients(&self) -> Vec<Self::PublicKey> {
        self.inner.recipients()
    }

    fn send(self, message: impl Into<IoBufs> + Send, priority: bool) -> Unreliable<Feedback> {
        let message: IoBufs = message.into();
        let k = self.inner.recipients().len() as u64;
        let feedback = self.inner.send(message.clone(), priority);
        if feedback.outcome().is_some_and(Feedback::accepted) {
            self.traffic.messages.fetch_add(k, Ordering::Relaxed);
            self.traffic
                .bytes
                .fetch_add(k * message.len() as u64, Ordering::Relaxed);
        }
        feedback
    }
}

type PeerScheme = vrf::Scheme<PublicKey, MinPk>;

/// Decisions seen by the correct validators, with the CPU time and the simulated time at which
/// every correct validator had each one.
struct Decisions {
    /// Highest finalized view per correct validator.
    latest: Vec<u64>,
    /// Finalized payload by view (any validator); a conflicting one is a safety violation.
    finalized: BTreeMap<u64, Sha256Digest>,
    /// (decisions known to all, lowest finalized view among them, process CPU ns, simulated ms).
    marks: Vec<(u64, u64, u64, u64)>,
}

/// A reporter that records finalizations and checks nothing else (no signature re-verification).
#[derive(Clone)]
struct Tally {
    index: usize,
    decisions: Arc<Mutex<Decisions>>,
    clock: Arc<Mutex<deterministic::Context>>,
}

impl Reporter for Tally {
    type Activity = Activity<PeerScheme, Sha256Digest>;

    fn report(&mut self, activity: Self::Activity) -> Feedback {
        let Activity::Finalization(finalization) = activity else {
            return Feedback::Ok;
        };
        let view = finalization.view().get();
        let payload = finalization.proposal.payload;
        let mut d = self.decisions.lock().unwrap();
        let previous = d.finalized.insert(view, payload);
        assert!(
            previous.is_none_or(|p| p == payload),
            "conflicting finalizations at view {view}"
        );
        d.latest[self.index] = d.latest[self.index].max(view);
        let floor = *d.latest.iter().min().expect("a validator");
        let known = d.finalized.range(..=floor).count() as u64;
        if d.marks.last().is_none_or(|m| m.0 < known) {
            let now = self
                .clock
                .lock()
                .unwrap()
                .current()
                .duration_since(UNIX_EPOCH)
                .expect("simulated time after the epoch")
                .as_millis() as u64;
            d.marks.push((known, floor, process_cpu_ns(), now));
        }
        Feedback::Ok
    }
}

/// The peer engine: commonware simplex, threshold VRF scheme, on its deterministic runtime.
fn run_peer(nodes: u32, heights: u64, silent: bool, timeouts: [u64; 3]) -> Row {
    const PAGE_SIZE: NonZeroU16 = NonZeroU16::new(1024).unwrap();
    const PAGE_CACHE: NonZeroUsize = NonZeroUsize::new(10).unwrap();
    let wall = std::time::Instant::now();
    let quota = Quota::per_second(NonZeroU32::MAX);
    let correct = nodes as usize - usize::from(silent);
    let decisions = Arc::new(Mutex::new(Decisions {
        latest: vec![0; correct],
        finalized: BTreeMap::new(),
        marks: Vec::new(),
    }));
    let traffic = Arc::new(Traffic::default());
    let cfg = deterministic::Config::new()
        .with_seed(1)
        .with_timeout(Some(Duration::from_secs(3600)));
    let (d2, t2) = (decisions.clone(), traffic.clone());
    deterministic::Runner::new(cfg).start(|mut context| async move {
        let Fixture {
            participants,
            schemes,
            ..
        } = vrf::fixture::<MinPk, _>(&mut context, b"peer-consensus", nodes);
        let (network, oracle) = Network::new_with_peers(
            context.child("network"),
            simulated::Config {
                max_size: 1024 * 1024,
                disconnect_on_block: true,
                tracked_peer_sets: NonZeroUsize::new(1).unwrap(),
            },
            participants.clone(),
        )
        .await;
        network.start();
        // The same mean and variance as ours: 50 ms + U(0, 20) ms.
        let link = Link {
            latency: Duration::from_millis(60),
            jitter: Duration::from_millis(6),
            success_rate: 1.0,
        };
        let skip = usize::from(silent);
        for (i, a) in participants.iter().enumerate().skip(skip) {
            for (j, b) in participants.iter().enumerate().skip(skip) {
                if i != j {
                    oracle
                        .add_link(a.clone(), b.clone(), link.clone())
                        .await
                        .expect("link");
                }
            }
        }
        let relay = Arc::new(relay::Relay::new());
        let mut handles = Vec::new();
        for (i, validator) in participants.iter().enumerate() {
            let control = oracle.control(validator.clone());
            let (vs, vr) = control.register(0, quota).await.expect("vote channel");
            let (cs, cr) = control
                .register(1, quota)
                .await
                .expect("certificate channel");
            let (rs, rr) = control.register(2, quota).await.expect("resolver channel");
            if i < skip {
                continue;
            }
            let count = |inner| CountingSender {
                inner,
                traffic: t2.clone(),
            };
            let context = context
                .child("validator")
                .with_attribute("public_key", validator);
            let (actor, app) = application::Application::new(
                context.child("application"),
                application::Config {
                    hasher: Sha256::default(),
                    relay: relay.clone(),
                    me: validator.clone(),
                    propose_latency: (0.0, 0.0),
                    verify_latency: (0.0, 0.0),
                    certify_latency: (0.0, 0.0),
                    should_certify: application::Certifier::Always,
                },
            );
            actor.start();
            let reporter = Tally {
                index: i - skip,
                decisions: d2.clone(),
                clock: Arc::new(Mutex::new(context.child("tally"))),
            };
            let engine = Engine::new(
                context.child("engine"),
                config::Config {
                    scheme: schemes[i].clone(),
                    elector: Random,
                    blocker: oracle.control(validator.clone()),
                    automaton: app.clone(),
                    relay: app.clone(),
                    reporter,
                    strategy: Sequential,
                    partition: validator.to_string(),
                    mailbox_size: NonZeroUsize::new(1024).unwrap(),
                    epoch: Epoch::new(1),
                    floor: config::Floor::Genesis(application::genesis::<Sha256>(Epoch::new(1))),
                    leader_timeout: Duration::from_millis(timeouts[0]),
                    certification_timeout: Duration::from_millis(timeouts[1]),
                    timeout_retry: Duration::from_millis(timeouts[2]),
                    fetch_timeout: Duration::from_secs(1),
                    activity_timeout: ViewDelta::new(10),
                    skip_timeout: ViewDelta::new(5),
                    fetch_concurrent: NonZeroUsize::new(4).unwrap(),
                    replay_buffer: NonZeroUsize::new(1024 * 1024).unwrap(),
                    write_buffer: NonZeroUsize::new(1024 * 1024).unwrap(),
                    page_cache: CacheRef::from_pooler(&context, PAGE_SIZE, PAGE_CACHE),
                    forwarding: ForwardingPolicy::Disabled,
                },
            );
            handles.push(engine.start((count(vs), vr), (count(cs), cr), (count(rs), rr)));
        }
        // Bounded by the runtime's simulated-time timeout above.
        loop {
            context.sleep(Duration::from_millis(10)).await;
            let done = d2
                .lock()
                .unwrap()
                .marks
                .last()
                .is_some_and(|m| m.0 >= heights);
            if done {
                break;
            }
        }
        drop(handles);
    });
    let d = decisions.lock().unwrap();
    let first = d.marks.first().expect("a decision");
    let last = d
        .marks
        .iter()
        .find(|m| m.0 >= heights)
        .expect("H decisions");
    let measured = last.0 - first.0;
    assert!(measured > 0, "need at least two decisions");
    let messages = traffic.messages.load(Ordering::Relaxed) as f64;
    let bytes = traffic.bytes.load(Ordering::Relaxed) as f64;
    Row {
        decisions: measured,
        cpu_ms_per_node_decision: (last.2 - first.2) as f64
            / 1e6
            / measured as f64
            / correct as f64,
        messages_per_decision: messages / last.0 as f64,
        bytes_per_decision: bytes / last.0 as f64,
        decisions_per_sim_s: last.0 as f64 * 1000.0 / last.3 as f64,
        rounds_per_decision: (last.1 - first.1) as f64 / measured as f64,
        wall_s: wall.elapsed().as_secs_f64(),
    }
}

fn print(side: &str, nodes: u32, silent: bool, r: &Row) {
    println!(
        "| {side} | {nodes} | {} | {} | {:.2} | {:.0} | {:.0} | {:.2} | {:.2} | {:.1} |",
        if silent { "1 silent" } else { "none" },
        r.decisions,
        r.cpu_ms_per_node_decision,
        r.messages_per_decision,
        r.bytes_per_decision,
        r.decisions_per_sim_s,
        r.rounds_per_decision,
        r.wall_s,
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let silent = args.iter().any(|a| a == "--silent");
    let only_ours = args.iter().any(|a| a == "--ours");
    let only_peer = args.iter().any(|a| a == "--peer");
    // The peer's leader / certification / retry timeouts: commonware's own tests use 1 s, 2 s
    // and 10 s; `--our-timeouts` uses our simulator's filter, next and resend timeouts (2λ, 6λ,
    // 12λ with λ = latency + jitter + 1 = 71 ms).
    let timeouts = if args.iter().any(|a| a == "--our-timeouts") {
        [142, 426, 852]
    } else {
        [1_000, 2_000, 10_000]
    };
    let numbers: Vec<u64> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let (sizes, heights): (Vec<u32>, u64) = match numbers.as_slice() {
        [] => (vec![4, 16], 20),
        [one] => (vec![*one as u32], 20),
        [sizes @ .., h] => (sizes.iter().map(|s| *s as u32).collect(), *h),
    };
    println!("{heights} decisions; CPU per correct node per decision (process CPU, the first decision not measured)");
    println!("| engine | N | faults | measured decisions | CPU ms/node/decision | messages/decision | bytes/decision | decisions/sim s | periods or views/decision | wall s |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for n in sizes {
        if !only_peer {
            print("conclave BA*", n, silent, &run_ours(n, heights, silent));
        }
        if !only_ours {
            print(
                "commonware simplex",
                n,
                silent,
                &run_peer(n, heights, silent, timeouts),
            );
        }
    }
}
