//! The event loop: virtual time, the network model, node lifecycles (crashes at any persist
//! point, restarts from a two-slot store), and the bookkeeping the oracles need.

use super::adversary::Byzantine;
use super::forensics::{self, Transcript};
use super::independent::Independent;
use super::oracle::{Oracle, OracleConfig};
use super::{
    CertificateRecord, CrashPoint, CryptoSetup, DecisionRecord, LastWrite, Metrics, Plant, SimApp,
    SimConfig, SimOptions, SimReport, Summary,
};
use crate::codec::encode;
use crate::engine::{Action, Config, Engine, Input, PersistedState, Timeouts, TimerId};
use crate::evidence::{Evidence, EvidenceKind};
use crate::types::{
    Decided, Epoch, Height, Message, NodeId, Period, Time, Vote, VoteStep, VoteValue,
};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

const MAGIC: &[u8; 4] = b"CNCL";

enum Event {
    Deliver {
        to: NodeId,
        from: NodeId,
        bytes: Vec<u8>,
    },
    Timer {
        node: NodeId,
        instance: usize,
        id: TimerId,
        generation: u64,
    },
    Crash(NodeId),
    Restart(NodeId),
    /// The global stabilisation time.
    Gst,
}

/// A host's durable store: two slots written alternately, each record checked on read (a real
/// host would use a checksum), so a torn write leaves the previous record readable. A lost
/// write leaves the store as it was. Either way the node restarts from its previous state,
/// which is safe because the host carried out nothing after the lost write (the barrier).
#[derive(Default)]
struct Store {
    slots: [Option<(u64, Option<PersistedState>)>; 2],
    seq: u64,
}

impl Store {
    fn write(&mut self, state: Option<PersistedState>) {
        self.seq += 1;
        self.slots[(self.seq % 2) as usize] = Some((self.seq, state));
    }

    /// The newest intact record.
    fn read(&self) -> Option<PersistedState> {
        let mut records: Vec<&(u64, Option<PersistedState>)> =
            self.slots.iter().flatten().collect();
        records.sort_by_key(|r| std::cmp::Reverse(r.0));
        records.into_iter().find_map(|r| r.1.clone())
    }
}

/// When one honest node crashes: at or after `after_ms`, at the point `point`.
#[derive(Clone, Copy)]
struct CrashPlan {
    after_ms: u64,
    point: CrashPoint,
    last_write: LastWrite,
}

struct SimNode {
    instances: Vec<Engine>,
    byzantine: Option<Byzantine>,
    store: Store,
    crashed: bool,
    timers: BTreeMap<(usize, TimerId), u64>,
    plan: Option<CrashPlan>,
    incarnation: u32,
    transcript: Transcript,
    /// The slots (height, period, step, value) of own votes handed to the network at heights
    /// not yet decided, for the barrier check on restart.
    sent_votes: BTreeSet<(u64, u32, VoteStep, VoteValue)>,
}

/// The application every simulated node runs: values name their height and proposer.
fn make_value(len: usize, height: u64, proposer: NodeId, salt: u32) -> Vec<u8> {
    let mut v = Vec::with_capacity(len.max(20));
    v.extend_from_slice(MAGIC);
    v.extend_from_slice(&height.to_be_bytes());
    v.extend_from_slice(&proposer.0.to_be_bytes());
    v.extend_from_slice(&salt.to_be_bytes());
    let filler = Sha256::digest(&v);
    while v.len() < len {
        v.push(filler[v.len() % 32]);
    }
    v
}

fn validate_value(len: usize, nodes: u32, height: u64, value: &[u8]) -> bool {
    value.len() == len.max(20)
        && value.starts_with(MAGIC)
        && value[4..12] == height.to_be_bytes()
        && u32::from_be_bytes([value[12], value[13], value[14], value[15]]) < nodes
}

/// Places the faulty seats: the first draw from the run's RNG (see [`super::faulty_seats`]).
pub(crate) fn choose_faulty(config: &SimConfig, rng: &mut ChaCha20Rng) -> BTreeSet<NodeId> {
    let mut ids: Vec<NodeId> = (0..config.nodes).map(NodeId).collect();
    ids.shuffle(rng);
    ids.into_iter().take(config.faulty as usize).collect()
}

pub(crate) struct World {
    config: SimConfig,
    options: SimOptions,
    setup: CryptoSetup,
    engine_config: Config,
    rng: ChaCha20Rng,
    now: u64,
    seq: u64,
    queue: BTreeMap<(u64, u64), Event>,
    nodes: Vec<SimNode>,
    honest: Vec<NodeId>,
    faulty: BTreeSet<NodeId>,
    side_b: BTreeSet<NodeId>,
    oracle: Oracle,
    decisions: BTreeMap<u32, Vec<DecisionRecord>>,
    certificate_bytes: usize,
    messages: u64,
    bytes: u64,
    crashes: u32,
    barrier_violations: Vec<String>,
    peak_transcript: usize,
}

/// Entropy for one engine incarnation, from the run's seed.
fn entropy(seed: u64, node: NodeId, incarnation: u32) -> [u8; 32] {
    Sha256::new()
        .chain_update(b"conclave-sim/entropy/v1")
        .chain_update(seed.to_be_bytes())
        .chain_update(node.0.to_be_bytes())
        .chain_update(incarnation.to_be_bytes())
        .finalize()
        .into()
}

impl World {
    pub fn new(
        config: SimConfig,
        setup: CryptoSetup,
        independent: Independent,
        options: SimOptions,
    ) -> Self {
        let mut rng = ChaCha20Rng::seed_from_u64(config.seed);
        let n = config.nodes;
        let faulty = choose_faulty(&config, &mut rng);
        let honest: Vec<NodeId> = (0..n).map(NodeId).filter(|i| !faulty.contains(i)).collect();
        let side_a: BTreeSet<NodeId> = honest.iter().copied().step_by(2).collect();
        let side_b: BTreeSet<NodeId> = honest.iter().copied().skip(1).step_by(2).collect();
        let lambda = config.latency_ms + config.jitter_ms + 1;
        let timeouts = Timeouts {
            filter_ms: 2 * lambda,
            next_ms: 6 * lambda,
            resend_ms: 12 * lambda,
            max_backoff: 8,
            // λ_f = 25 × next_ms, as in the engine's defaults.
            recovery_ms: 150 * lambda,
        };
        let epoch = Epoch(options.epoch);
        let app = options.app.clone();
        let mut engine_config = Config::new(NodeId(0), epoch);
        // The aggregated soft and cert steps take two more one-way delays each (voter →
        // aggregator → everyone); the aggregation fallback sits at next − (next − filter)/4.
        let timeouts = if config.aggregators > 0 {
            Timeouts {
                next_ms: 8 * lambda,
                ..timeouts
            }
        } else {
            timeouts
        };
        engine_config.timeouts = timeouts;
        engine_config.aggregators = config.aggregators;
        let value_len = config.value_bytes;
        let propose = |app: &Option<SimApp>| -> Box<dyn Fn(u64, NodeId, u32) -> Vec<u8>> {
            match app.clone() {
                Some(app) => Box::new(move |h, p, salt| app.0.propose(p, h, salt)),
                None => Box::new(move |h, p, salt| make_value(value_len, h, p, salt)),
            }
        };
        let mut nodes = Vec::new();
        let mut faulty_index = 0;
        for i in 0..n {
            let id = NodeId(i);
            let adapters = setup.adapters[i as usize].clone();
            let cfg = Config {
                id,
                ..engine_config
            };
            let byzantine = faulty.contains(&id).then(|| {
                let kind = config.adversary.for_faulty(faulty_index);
                faulty_index += 1;
                Byzantine::new(
                    kind,
                    id,
                    epoch,
                    adapters.signer.clone(),
                    setup.verifier.clone(),
                    side_a.clone(),
                    side_b.clone(),
                    faulty.clone(),
                    timeouts,
                    propose(&app),
                )
            });
            let twins = byzantine
                .as_ref()
                .is_some_and(|b| b.kind == super::AdversaryKind::Twins);
            let instances = (0..if twins { 2 } else { 1 })
                .map(|t| {
                    let mut e = Engine::new(cfg, adapters.clone(), setup.genesis_seed);
                    e.handle(Time(0), Input::Entropy(entropy(config.seed, id, t)));
                    e
                })
                .collect();
            nodes.push(SimNode {
                instances,
                byzantine,
                store: Store::default(),
                crashed: false,
                timers: BTreeMap::new(),
                plan: None,
                incarnation: if twins { 2 } else { 1 },
                transcript: Transcript::default(),
                sent_votes: BTreeSet::new(),
            });
        }
        let (len, nodes_n) = (config.value_bytes, config.nodes);
        let seats = setup.adapters.clone();
        let leader = move |seed: &crate::types::Seed, h: u64, p: u32| {
            seats
                .iter()
                .enumerate()
                .filter_map(|(i, a)| {
                    let (node, h, p) = (NodeId(i as u32), Height(h), Period(p));
                    let c = a.sortition.proposer_credential(seed, h, p)?;
                    a.sortition
                        .verify_proposer(node, seed, h, p, &c)
                        .map(|priority| (priority, node))
                })
                .min()
                .map(|(_, node)| node)
        };
        let oracle = Oracle::new(OracleConfig {
            leader: Box::new(leader),
            heights: config.heights,
            tolerated: config.tolerated(),
            epoch,
            honest: honest.iter().copied().collect(),
            verifier: setup.verifier.clone(),
            independent,
            genesis_seed: setup.genesis_seed,
            validate: match app {
                Some(app) => Box::new(move |h, v| app.0.validate(h, v)),
                None => Box::new(move |h, v| validate_value(len, nodes_n, h, v)),
            },
        });
        let mut world = World {
            config,
            options,
            setup,
            engine_config,
            rng,
            now: 0,
            seq: 0,
            queue: BTreeMap::new(),
            nodes,
            honest,
            faulty,
            side_b,
            oracle,
            decisions: BTreeMap::new(),
            certificate_bytes: 0,
            messages: 0,
            bytes: 0,
            crashes: 0,
            barrier_violations: Vec::new(),
            peak_transcript: 0,
        };
        world.plan_crashes(timeouts);
        world.push(world.config.gst_ms, Event::Gst);
        world
    }

    fn plan_crashes(&mut self, t: Timeouts) {
        let candidates: Vec<NodeId> = self
            .honest
            .iter()
            .copied()
            .take(self.config.crashes as usize)
            .collect();
        let horizon = (self.config.heights * 2 * t.filter_ms).max(t.filter_ms + 1);
        for node in candidates {
            let at = self.rng.gen_range(t.filter_ms..horizon);
            let plan = CrashPlan {
                after_ms: at,
                point: self.config.crash_point,
                last_write: self.config.last_write,
            };
            if plan.point == CrashPoint::Timed {
                self.push(at, Event::Crash(node));
            } else {
                self.nodes[node.0 as usize].plan = Some(plan);
            }
        }
    }

    fn push(&mut self, at: u64, event: Event) {
        self.seq += 1;
        self.queue.insert((at, self.seq), event);
    }

    fn restart_delay(&self) -> u64 {
        3 * self.engine_config.timeouts.next_ms
    }

    /// Runs to completion; `progress` hears the number of heights every honest node decided
    /// whenever it grows.
    pub fn run(mut self, progress: &mut dyn FnMut(u64)) -> SimReport {
        let started = std::time::Instant::now();
        let t = self.engine_config.timeouts;
        let limit = if self.config.max_sim_ms > 0 {
            self.config.max_sim_ms
        } else {
            let restarts = u64::from(self.config.crashes)
                * (self.config.heights * 4 * t.filter_ms + self.restart_delay());
            self.config.gst_ms + restarts + self.config.heights * 40 * t.next_ms + 20 * t.resend_ms
        };
        for i in 0..self.config.nodes {
            for instance in 0..self.nodes[i as usize].instances.len() {
                self.process(NodeId(i), instance, Input::Start);
            }
        }
        let mut reported = 0;
        while self.oracle.heights_done() < self.config.heights {
            let Some(((at, _), event)) = self.queue.pop_first() else {
                break;
            };
            if at > limit {
                break;
            }
            self.now = at;
            self.dispatch(event);
            let done = self.oracle.heights_done();
            if done > reported {
                reported = done;
                progress(done);
                self.prune_transcripts();
            }
        }
        self.report(started.elapsed().as_millis() as u64)
    }

    /// Transcripts are kept for heights some honest node has not decided, and forked ones.
    /// Before a height is dropped, the forensic exchange runs on it too: at a height that did
    /// not fork, whatever verifying evidence it finds must name faulty seats only (the framing
    /// oracle), so every run checks that honest nodes never sign conflicting statements.
    fn prune_transcripts(&mut self) {
        let done = self.oracle.heights_done();
        let keep = self.oracle.forked.clone();
        let mut heights = BTreeSet::new();
        for n in &self.honest {
            heights.extend(self.nodes[n.0 as usize].transcript.heights_below(done + 1));
        }
        for h in heights.difference(&keep) {
            let transcripts = self
                .honest
                .iter()
                .map(|n| &self.nodes[n.0 as usize].transcript);
            let found = forensics::exchange(*h, transcripts, self.setup.verifier.as_ref());
            self.oracle.audit(found);
        }
        let mut held = 0;
        for n in &mut self.nodes {
            held += n.transcript.len();
            n.transcript.prune_below(done + 1, &keep);
        }
        self.peak_transcript = self.peak_transcript.max(held);
    }

    /// The honest nodes' positions, for the liveness oracle's baseline.
    fn stabilise(&mut self) {
        if self.now < self.config.gst_ms
            || self.honest.iter().any(|n| {
                let node = &self.nodes[n.0 as usize];
                node.crashed || node.plan.is_some() && self.config.crash_point == CrashPoint::Timed
            })
        {
            return;
        }
        let positions: Vec<(u64, u32)> = self
            .honest
            .iter()
            .filter_map(|n| self.nodes[n.0 as usize].instances.first())
            .map(|e| (e.height().0, e.period().0))
            .collect();
        self.oracle.stabilised(&positions);
    }

    fn crash(&mut self, node: NodeId) {
        let n = &mut self.nodes[node.0 as usize];
        n.crashed = true;
        n.timers.clear();
        n.instances.clear();
        n.plan = None;
        self.crashes += 1;
        self.oracle.destabilised();
        let at = self.now + self.restart_delay();
        self.push(at, Event::Restart(node));
    }

    fn dispatch(&mut self, event: Event) {
        match event {
            Event::Gst => self.stabilise(),
            Event::Deliver { to, from, bytes } => {
                let node = &mut self.nodes[to.0 as usize];
                if node.crashed {
                    return;
                }
                if let Some(b) = node.byzantine.as_mut() {
                    let outs = b.incoming(from, &bytes, self.now);
                    for o in outs {
                        self.send(to, o.to, o.bytes, o.delay_ms);
                    }
                } else if self.options.plant != Some(Plant::ForgedAccountability) {
                    node.transcript
                        .record(from, &bytes, self.setup.verifier.as_ref());
                }
                for instance in 0..self.nodes[to.0 as usize].instances.len() {
                    self.process(
                        to,
                        instance,
                        Input::Message {
                            from,
                            bytes: bytes.clone(),
                        },
                    );
                }
            }
            Event::Timer {
                node,
                instance,
                id,
                generation,
            } => {
                let n = &mut self.nodes[node.0 as usize];
                if n.crashed || n.timers.get(&(instance, id)) != Some(&generation) {
                    return;
                }
                n.timers.remove(&(instance, id));
                if let (Some(Plant::DropFilterTimers(periods)), TimerId::Filter(_, p)) =
                    (self.options.plant, id)
                {
                    if n.byzantine.is_none() && p.0 <= periods {
                        return;
                    }
                }
                self.process(node, instance, Input::Timer(id));
            }
            Event::Crash(node) => self.crash(node),
            Event::Restart(node) => {
                let adapters = self.setup.adapters[node.0 as usize].clone();
                let cfg = Config {
                    id: node,
                    ..self.engine_config
                };
                let n = &mut self.nodes[node.0 as usize];
                let state = n.store.read();
                // The host's recovery: a decision the engine persisted but the host never
                // applied (a crash between the height's persist and `Decide`) is applied now.
                let missed = state
                    .as_ref()
                    .and_then(|s| s.last_decided.clone())
                    .filter(|d| d.certificate.height.0 == self.oracle.decided(node) + 1);
                if let Some(s) = &state {
                    let lost: Vec<String> = n
                        .sent_votes
                        .iter()
                        .filter(|(h, p, step, value)| {
                            *h > s.height.0
                                || *h == s.height.0
                                    && !s.own_votes.iter().any(|v| {
                                        v.period.0 == *p && v.step == *step && v.value == *value
                                    })
                        })
                        .map(|(h, p, step, _)| format!("h{h} p{p} {step:?}"))
                        .collect();
                    if !lost.is_empty() {
                        self.barrier_violations.push(format!(
                            "barrier: node {} restarted without votes it had sent: {}",
                            node.0,
                            lost.join(", ")
                        ));
                    }
                }
                let mut engine = match state {
                    Some(state) => Engine::restore(cfg, adapters, state),
                    None => Engine::new(cfg, adapters, self.setup.genesis_seed),
                };
                n.incarnation += 1;
                engine.handle(
                    Time(self.now),
                    Input::Entropy(entropy(self.config.seed, node, n.incarnation)),
                );
                n.instances = vec![engine];
                n.crashed = false;
                if let Some(decided) = missed {
                    let period = decided.certificate.period.0;
                    self.record_decision(node, decided, period);
                }
                self.stabilise();
                self.process(node, 0, Input::Start);
            }
        }
    }

    /// Feeds one input to one engine instance and carries out its actions in order (a crash
    /// planned at a persist point stops it right after that `Persist`).
    fn process(&mut self, node: NodeId, instance: usize, input: Input) {
        let mut work = VecDeque::from([input]);
        let honest = !self.faulty.contains(&node);
        let len = self.config.value_bytes;
        while let Some(input) = work.pop_front() {
            let Some(engine) = self.nodes[node.0 as usize].instances.get_mut(instance) else {
                return;
            };
            let (height_before, period_before) = (engine.height(), engine.period().0);
            let step = engine.handle(Time(self.now), input);
            let mut actions = step.actions.into_iter().peekable();
            while let Some(action) = actions.next() {
                match action {
                    Action::Broadcast { bytes } => self.emit(node, instance, None, bytes),
                    Action::Send { to, bytes } => self.emit(node, instance, Some(to), bytes),
                    Action::SetTimer { id, at } => {
                        self.seq += 1;
                        let generation = self.seq;
                        self.nodes[node.0 as usize]
                            .timers
                            .insert((instance, id), generation);
                        self.push(
                            at.0.max(self.now),
                            Event::Timer {
                                node,
                                instance,
                                id,
                                generation,
                            },
                        );
                    }
                    Action::CancelTimer { id } => {
                        self.nodes[node.0 as usize].timers.remove(&(instance, id));
                    }
                    Action::RequestValue { height } => {
                        let value = match &self.options.app {
                            Some(app) => app.0.propose(node, height.0, instance as u32),
                            None => make_value(len, height.0, node, instance as u32),
                        };
                        work.push_back(Input::ProposedValue { height, value });
                    }
                    Action::ValidateValue {
                        height,
                        value_id,
                        value,
                    } => {
                        let valid = match &self.options.app {
                            Some(app) => app.0.validate(height.0, &value),
                            None => validate_value(len, self.config.nodes, height.0, &value),
                        };
                        work.push_back(Input::ValueValidated {
                            height,
                            value_id,
                            valid,
                        });
                    }
                    Action::Persist(state) => {
                        let n = &mut self.nodes[node.0 as usize];
                        let crash_here = n.plan.filter(|p| {
                            self.now >= p.after_ms
                                && match p.point {
                                    CrashPoint::AfterPersist => true,
                                    CrashPoint::BeforeDecide => {
                                        matches!(actions.peek(), Some(Action::Decide { .. }))
                                    }
                                    CrashPoint::Timed => false,
                                }
                        });
                        match crash_here.map(|p| p.last_write) {
                            None | Some(LastWrite::Kept) => n.store.write(Some(*state)),
                            Some(LastWrite::Lost) => {}
                            Some(LastWrite::Torn) => n.store.write(None),
                        }
                        if crash_here.is_some() {
                            self.crash(node);
                            return;
                        }
                    }
                    Action::Decide { decided } if honest => {
                        let period = if decided.certificate.height == height_before {
                            period_before
                        } else {
                            period_before.max(decided.certificate.period.0)
                        };
                        self.record_decision(node, decided, period);
                    }
                    Action::Evidence(e) if honest => self.oracle.reported(node, e),
                    Action::Decide { .. } | Action::Evidence(_) => {}
                }
            }
        }
    }

    fn record_decision(&mut self, node: NodeId, mut decided: Decided, period: u32) {
        let first_honest = self.honest.first() == Some(&node);
        if first_honest && decided.certificate.height.0 == 1 {
            match self.options.plant {
                Some(Plant::WrongValue) => {
                    decided.value = make_value(self.config.value_bytes, 1, node, 7);
                }
                Some(Plant::TamperCertificate) => {
                    if let Some(b) = decided.certificate.signature.last_mut() {
                        *b ^= 1;
                    }
                }
                Some(Plant::BlameHonest) => {
                    if let Some(&victim) = self.honest.get(1) {
                        self.oracle.reported(
                            node,
                            Evidence {
                                culprit: victim,
                                kind: EvidenceKind::InvalidSignature,
                                height: Height(1),
                                proof: Vec::new(),
                                attributable: false,
                            },
                        );
                    }
                }
                _ => {}
            }
        }
        if !self.oracle.decide(node, &decided, period) {
            return;
        }
        if let Some(app) = &self.options.app {
            app.0.decided(node, &decided);
        }
        let c = &decided.certificate;
        if self.certificate_bytes == 0 {
            let cert_only = Decided {
                certificate: c.clone(),
                value: Vec::new(),
            };
            self.certificate_bytes = encode(&Message::Decided(cert_only)).len();
        }
        if self.options.keep_decisions {
            self.decisions
                .entry(node.0)
                .or_default()
                .push(DecisionRecord {
                    height: c.height.0,
                    value: hex::encode(&decided.value),
                    period: c.period.0,
                    certificate: CertificateRecord {
                        message: hex::encode(c.message()),
                        signature: hex::encode(&c.signature),
                    },
                });
        }
    }

    fn emit(&mut self, node: NodeId, instance: usize, to: Option<NodeId>, bytes: Vec<u8>) {
        let now = self.now;
        if let Some(b) = self.nodes[node.0 as usize].byzantine.as_mut() {
            for o in b.outgoing(instance, to, bytes, now) {
                self.send(node, o.to, o.bytes, o.delay_ms);
            }
            return;
        }
        if let Ok(Message::Vote(v)) = crate::codec::decode(&bytes) {
            let n = &mut self.nodes[node.0 as usize];
            let current = n.instances.get(instance).map_or(0, |e| e.height().0);
            n.sent_votes.retain(|s| s.0 >= current);
            n.sent_votes
                .insert((v.height.0, v.period.0, v.step, v.value));
        }
        match to {
            Some(to) => self.send(node, to, bytes, 0),
            None => {
                for i in 0..self.config.nodes {
                    if i != node.0 {
                        self.send(node, NodeId(i), bytes.clone(), 0);
                    }
                }
            }
        }
    }

    /// The network model: count, maybe drop (before GST), delay with jitter, maybe duplicate.
    fn send(&mut self, from: NodeId, to: NodeId, bytes: Vec<u8>, extra_delay: u64) {
        if from == to {
            return;
        }
        self.messages += 1;
        self.bytes += bytes.len() as u64;
        if self.now < self.config.gst_ms {
            let split = self.config.partition
                && !self.faulty.contains(&from)
                && !self.faulty.contains(&to)
                && self.side_b.contains(&from) != self.side_b.contains(&to);
            if split || self.rng.gen_bool(self.config.drop) {
                return;
            }
        }
        let copies = if self.rng.gen_bool(self.config.duplicate) {
            2
        } else {
            1
        };
        for _ in 0..copies {
            let delay = self.config.latency_ms
                + self.rng.gen_range(0..=self.config.jitter_ms)
                + extra_delay;
            self.push(
                self.now + delay,
                Event::Deliver {
                    to,
                    from,
                    bytes: bytes.clone(),
                },
            );
        }
    }

    fn report(self, wall_ms: u64) -> SimReport {
        if std::env::var_os("CONCLAVE_SIM_DEBUG").is_some() {
            for (i, n) in self.nodes.iter().enumerate() {
                for e in &n.instances {
                    eprintln!(
                        "node {i} faulty={} h={} p={} {}",
                        self.faulty.contains(&NodeId(i as u32)),
                        e.height().0,
                        e.period().0,
                        e.debug_summary()
                    );
                }
            }
        }
        let verifier = self.setup.verifier.clone();
        let mut forensic = Vec::new();
        for h in &self.oracle.forked {
            let transcripts = self
                .honest
                .iter()
                .map(|n| &self.nodes[n.0 as usize].transcript);
            forensic.extend(forensics::exchange(*h, transcripts, verifier.as_ref()));
        }
        if self.options.plant == Some(Plant::ForgedAccountability) {
            // Claims against every faulty seat whose "proof" is a pair of unsigned votes.
            for f in &self.faulty {
                let vote = |value| {
                    encode(&Message::Vote(Vote {
                        epoch: Epoch(self.options.epoch),
                        height: Height(1),
                        period: Period(1),
                        step: VoteStep::Soft,
                        value,
                        voter: *f,
                        credential: Vec::new(),
                        signature: vec![0; 32],
                        beacon_share: Vec::new(),
                    }))
                };
                forensic.push(Evidence {
                    culprit: *f,
                    kind: EvidenceKind::Equivocation,
                    height: Height(1),
                    proof: vec![
                        vote(VoteValue::Value(verifier.value_id(b"a"))),
                        vote(VoteValue::Value(verifier.value_id(b"b"))),
                    ],
                    attributable: true,
                });
            }
        }
        let stopped: BTreeMap<NodeId, (u64, u32)> = self
            .honest
            .iter()
            .filter_map(|n| {
                self.nodes[n.0 as usize]
                    .instances
                    .first()
                    .map(|e| (*n, (e.height().0, e.period().0)))
            })
            .collect();
        let heights_decided = self.oracle.heights_done().min(self.config.heights);
        let max_period = self.oracle.max_period;
        let (mut violations, evidence) = self.oracle.finish(forensic, &stopped);
        violations.extend(self.barrier_violations);
        SimReport {
            variant: self.setup.variant.clone(),
            dst: self.setup.dst.clone(),
            group_public_key: hex::encode(&self.setup.group_public_key),
            honest: self.honest.iter().map(|n| n.0).collect(),
            faulty: self.faulty.iter().map(|n| n.0).collect(),
            decisions: self.decisions,
            evidence,
            metrics: Metrics {
                messages: self.messages,
                bytes: self.bytes,
                max_period,
                sim_time_ms: self.now,
                wall_ms,
            },
            violations,
            summary: Summary {
                heights_decided,
                certificate_bytes: self.certificate_bytes,
                crashes: self.crashes,
                peak_transcript_messages: self.peak_transcript,
            },
            config: self.config,
        }
    }
}
