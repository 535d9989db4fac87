//! The event loop: virtual time, the network model, node lifecycles and bookkeeping.

use super::adversary::Byzantine;
use super::oracle::{self, ForensicLog};
use super::{
    CertificateRecord, CryptoSetup, DecisionRecord, Metrics, SimConfig, SimReport, Summary,
};
use crate::codec::encode;
use crate::engine::{Action, Config, Engine, Input, PersistedState, Timeouts, TimerId};
use crate::evidence::{Evidence, EvidenceKind};
use crate::types::{Decided, Epoch, Height, Message, NodeId, Time};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

const EPOCH: Epoch = Epoch(0);
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
}

struct SimNode {
    instances: Vec<Engine>,
    byzantine: Option<Byzantine>,
    persisted: Option<PersistedState>,
    crashed: bool,
    timers: BTreeMap<(usize, TimerId), u64>,
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
    decisions: BTreeMap<u32, Vec<Decided>>,
    integrity: Vec<String>,
    evidence: BTreeMap<(NodeId, EvidenceKind, Height), Evidence>,
    log: ForensicLog,
    messages: u64,
    bytes: u64,
}

impl World {
    pub fn new(config: SimConfig, setup: CryptoSetup) -> Self {
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
        };
        let mut engine_config = Config::new(NodeId(0), EPOCH);
        engine_config.timeouts = timeouts;
        let value_len = config.value_bytes;
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
                    EPOCH,
                    adapters.signer.clone(),
                    setup.verifier.clone(),
                    side_a.clone(),
                    side_b.clone(),
                    faulty.clone(),
                    3 * timeouts.next_ms,
                    Box::new(move |h, p, salt| make_value(value_len, h, p, salt)),
                )
            });
            let twins = byzantine
                .as_ref()
                .is_some_and(|b| b.kind == super::AdversaryKind::Twins);
            let instances = (0..if twins { 2 } else { 1 })
                .map(|_| Engine::new(cfg, adapters.clone(), setup.genesis_seed))
                .collect();
            nodes.push(SimNode {
                instances,
                byzantine,
                persisted: None,
                crashed: false,
                timers: BTreeMap::new(),
            });
        }
        let mut world = World {
            config,
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
            decisions: BTreeMap::new(),
            integrity: Vec::new(),
            evidence: BTreeMap::new(),
            log: ForensicLog::default(),
            messages: 0,
            bytes: 0,
        };
        world.plan_crashes(timeouts);
        world
    }

    fn plan_crashes(&mut self, t: Timeouts) {
        let candidates: Vec<NodeId> = self
            .honest
            .iter()
            .copied()
            .take(self.config.crashes as usize)
            .collect();
        let horizon = (self.config.heights * 4 * t.filter_ms).max(t.filter_ms + 1);
        for node in candidates {
            let at = self.rng.gen_range(t.filter_ms..horizon);
            self.push(at, Event::Crash(node));
            self.push(at + 3 * t.next_ms, Event::Restart(node));
        }
    }

    fn push(&mut self, at: u64, event: Event) {
        self.seq += 1;
        self.queue.insert((at, self.seq), event);
    }

    fn heights_done(&self) -> u64 {
        self.honest
            .iter()
            .map(|n| self.decisions.get(&n.0).map_or(0, |d| d.len() as u64))
            .min()
            .unwrap_or(0)
    }

    fn all_done(&self) -> bool {
        self.honest.iter().all(|n| {
            self.decisions
                .get(&n.0)
                .is_some_and(|d| d.len() as u64 >= self.config.heights)
        })
    }

    /// Runs to completion; `progress` hears the number of heights every honest node decided
    /// whenever it grows.
    pub fn run(mut self, progress: &mut dyn FnMut(u64)) -> SimReport {
        let started = std::time::Instant::now();
        let t = self.engine_config.timeouts;
        let limit = if self.config.max_sim_ms > 0 {
            self.config.max_sim_ms
        } else {
            self.config.gst_ms + self.config.heights * 40 * t.next_ms + 20 * t.resend_ms
        };
        for i in 0..self.config.nodes {
            for instance in 0..self.nodes[i as usize].instances.len() {
                self.process(NodeId(i), instance, Input::Start);
            }
        }
        let mut reported = 0;
        while !self.all_done() {
            let Some(((at, _), event)) = self.queue.pop_first() else {
                break;
            };
            if at > limit {
                break;
            }
            self.now = at;
            self.dispatch(event);
            let done = self.heights_done();
            if done > reported {
                reported = done;
                progress(done);
            }
        }
        self.report(started.elapsed().as_millis() as u64)
    }

    fn dispatch(&mut self, event: Event) {
        match event {
            Event::Deliver { to, from, bytes } => {
                let node = &mut self.nodes[to.0 as usize];
                if node.crashed {
                    return;
                }
                if let Some(b) = node.byzantine.as_mut() {
                    let outs = b.incoming(from, &bytes);
                    for o in outs {
                        self.send(to, o.to, o.bytes, o.delay_ms);
                    }
                } else {
                    self.log.record(from, &bytes, self.setup.verifier.as_ref());
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
                self.process(node, instance, Input::Timer(id));
            }
            Event::Crash(node) => {
                let n = &mut self.nodes[node.0 as usize];
                n.crashed = true;
                n.timers.clear();
                n.instances.clear();
            }
            Event::Restart(node) => {
                let adapters = self.setup.adapters[node.0 as usize].clone();
                let cfg = Config {
                    id: node,
                    ..self.engine_config
                };
                let n = &mut self.nodes[node.0 as usize];
                let engine = match n.persisted.clone() {
                    Some(state) => Engine::restore(cfg, adapters, state),
                    None => Engine::new(cfg, adapters, self.setup.genesis_seed),
                };
                n.instances = vec![engine];
                n.crashed = false;
                self.process(node, 0, Input::Start);
            }
        }
    }

    /// Feeds one input to one engine instance and carries out its actions in order.
    fn process(&mut self, node: NodeId, instance: usize, input: Input) {
        let mut work = VecDeque::from([input]);
        let honest = !self.faulty.contains(&node);
        let len = self.config.value_bytes;
        while let Some(input) = work.pop_front() {
            let Some(engine) = self.nodes[node.0 as usize].instances.get_mut(instance) else {
                return;
            };
            let step = engine.handle(Time(self.now), input);
            for action in step.actions {
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
                        work.push_back(Input::ProposedValue {
                            height,
                            value: make_value(len, height.0, node, instance as u32),
                        });
                    }
                    Action::ValidateValue {
                        height,
                        value_id,
                        value,
                    } => {
                        let valid = validate_value(len, self.config.nodes, height.0, &value);
                        work.push_back(Input::ValueValidated {
                            height,
                            value_id,
                            valid,
                        });
                    }
                    Action::Persist(state) => self.nodes[node.0 as usize].persisted = Some(*state),
                    Action::Decide { decided } if honest => self.record_decision(node, decided),
                    Action::Evidence(e) if honest => {
                        self.evidence
                            .entry((e.culprit, e.kind, e.height))
                            .or_insert(e);
                    }
                    Action::Decide { .. } | Action::Evidence(_) => {}
                }
            }
        }
    }

    fn record_decision(&mut self, node: NodeId, decided: Decided) {
        let list = self.decisions.entry(node.0).or_default();
        let expected = list.len() as u64 + 1;
        if decided.certificate.height.0 != expected {
            self.integrity.push(format!(
                "integrity: node {} decided height {} when {expected} was next",
                node.0, decided.certificate.height.0
            ));
            return;
        }
        list.push(decided);
    }

    fn emit(&mut self, node: NodeId, instance: usize, to: Option<NodeId>, bytes: Vec<u8>) {
        if let Some(b) = self.nodes[node.0 as usize].byzantine.as_mut() {
            for o in b.outgoing(instance, to, bytes) {
                self.send(node, o.to, o.bytes, o.delay_ms);
            }
            return;
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
        let mut evidence: BTreeMap<(NodeId, EvidenceKind, Height), Evidence> = self.evidence;
        for e in self.log.analyse(verifier.as_ref()) {
            evidence.entry((e.culprit, e.kind, e.height)).or_insert(e);
        }
        let evidence: Vec<Evidence> = evidence.into_values().collect();
        let (len, nodes) = (self.config.value_bytes, self.config.nodes);
        let validate = move |h: u64, v: &[u8]| validate_value(len, nodes, h, v);
        let violations = oracle::check(&oracle::Outcome {
            heights: self.config.heights,
            tolerated: self.config.tolerated(),
            honest: &self.honest,
            decisions: &self.decisions,
            integrity: &self.integrity,
            evidence: &evidence,
            verifier: verifier.as_ref(),
            genesis_seed: self.setup.genesis_seed,
            validate: &validate,
        });
        let mut decisions = BTreeMap::new();
        let mut max_period = 0;
        let mut certificate_bytes = 0;
        for node in &self.honest {
            let list = self
                .decisions
                .get(&node.0)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let records = list
                .iter()
                .take(self.config.heights as usize)
                .map(|d| {
                    let c = &d.certificate;
                    max_period = max_period.max(c.period.0);
                    let cert_only = Decided {
                        certificate: c.clone(),
                        value: Vec::new(),
                    };
                    certificate_bytes = encode(&Message::Decided(cert_only)).len();
                    DecisionRecord {
                        height: c.height.0,
                        value: hex::encode(&d.value),
                        period: c.period.0,
                        certificate: CertificateRecord {
                            message: hex::encode(c.message()),
                            signature: hex::encode(&c.signature),
                        },
                    }
                })
                .collect();
            decisions.insert(node.0, records);
        }
        let heights_decided = self
            .honest
            .iter()
            .map(|n| self.decisions.get(&n.0).map_or(0, |d| d.len() as u64))
            .min()
            .unwrap_or(0)
            .min(self.config.heights);
        SimReport {
            variant: self.setup.variant.clone(),
            dst: self.setup.dst.clone(),
            group_public_key: hex::encode(&self.setup.group_public_key),
            honest: self.honest.iter().map(|n| n.0).collect(),
            faulty: self.faulty.iter().map(|n| n.0).collect(),
            decisions,
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
                certificate_bytes,
            },
            config: self.config,
        }
    }
}
