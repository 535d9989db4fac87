//! The DKG over the network: every node runs a `conclave_dkg::Participant` for the genesis
//! committee (t = ⌊(n+f)/2⌋), no dealer and no shared seed (each node draws its own secret seed
//! at its first start).
//!
//! Broadcast: each node sends, for every phase it has reached, an *envelope* `(phase, its
//! message of that phase or none)`, so every node knows when it has heard all n nodes for a
//! phase. A phase ends when the envelopes of every node it *expects* are in, or when its
//! deadline (`tuning.dkg_phase_ms` in `config.toml` after the node entered it) passes: that
//! deadline is the synchrony the Joint-Feldman DKG assumes. The deal phase expects all n; a
//! later phase expects only the nodes whose envelope of the previous phase was in when that
//! phase closed (a node that missed a deadline is late, i.e. faulty, under that assumption;
//! its later messages are still taken if they arrive in time). So with up to f silent nodes
//! the DKG takes about one deadline (the deal phase's), not one per phase.
//!
//! Envelopes are re-sent every 500 ms to every node that has not reported the end of its DKG
//! with this node's transcript hash, and a finished node answers any envelope with all of its
//! own, so a node killed at any moment and restarted gets what it missed.
//!
//! Durability: the participant (its seed and everything it received) and the node's own
//! envelopes are written in one synced transaction *before* the envelope of a new phase is
//! sent, so a restarted node re-sends byte-identical messages (the participant is
//! deterministic given its seed) and never equivocates. The output (own share, group
//! commitment, QUAL, evidence) and its transcript hash replace the participant in one
//! transaction; the seed is then deleted.
//!
//! Agreement (commonware PR #1917: an outcome must be agreed, not decided locally): each node
//! broadcasts `Done(transcript hash)` = SHA-256 of the configuration digest, the group
//! commitment and QUAL. Consensus starts once a quorum (t+1, the engine's quorum of partial
//! signatures: 2f+1 for n = 3f+1) of nodes, this one included, reported the same hash. A
//! peer that reports another hash is a culprit: logged and counted (`conclave_dkg_culprits`),
//! never fatal, so one Byzantine member cannot stop the honest ones. If a quorum of *other*
//! nodes agrees on a hash that is not this node's, its share is useless: it logs that and
//! waits (it never starts consensus with a share nobody else shares).
//!
//! Test-only faults: [`TestFault::from_env`](crate::TestFault::from_env) reads `CONCLAVE_TEST_FAULT` (unset in any
//! deployment; the node logs a warning when it is set) so the process tests can run a
//! Byzantine member: `dkg-silent` never sends a DKG message, `dkg-wrong-transcript` runs the
//! DKG but announces a wrong transcript hash from the start.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use conclave_dkg::{DkgConfig, DkgOutput, Input, Message, Output, Participant, Phase};
use conclave_threshold_sig::Variant;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};

use crate::config::Home;
use crate::metrics::Metrics;
use crate::net::{Inbound, NetHandle, Proto};
use crate::store::{Store, DKG_AGREED, DKG_OUTPUT, DKG_SENT, DKG_STATE};
use crate::{NodeError, TestFault};

/// The threshold degree for n seats: ⌊(n+f)/2⌋ with f = ⌊(n−1)/3⌋ (2f for n = 3f+1).
pub fn threshold_degree(n: u32) -> u32 {
    (n + n.saturating_sub(1) / 3) / 2
}

/// The DKG session id of a chain.
pub fn session(chain_id: &str) -> [u8; 32] {
    Sha256::new()
        .chain_update(b"conclave-node/dkg-session/v1")
        .chain_update(chain_id.as_bytes())
        .finalize()
        .into()
}

/// The transcript hash of a DKG outcome: configuration digest, group commitment and QUAL.
pub fn transcript_hash<V: Variant>(context: &[u8; 32], output: &DkgOutput<V>) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"conclave-node/dkg-transcript/v1");
    h.update(context);
    let c = output.commitment.to_bytes();
    h.update((c.len() as u32).to_be_bytes());
    h.update(&c);
    h.update((output.qualified.len() as u32).to_be_bytes());
    for q in &output.qualified {
        h.update(q.to_be_bytes());
    }
    h.finalize().into()
}

/// What the DKG gives the node.
pub struct DkgResult<V: Variant> {
    /// The output.
    pub output: DkgOutput<V>,
    /// Its transcript hash (agreed by a quorum).
    pub transcript: [u8; 32],
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(bound = "")]
struct StoredOutput<V: Variant> {
    output: DkgOutput<V>,
    transcript: String,
}

/// One wire message of the DKG protocol.
#[derive(Debug, PartialEq, Eq)]
enum Wire {
    /// The sender's message of `phase` (1 deal, 2 complain, 3 justify), or none.
    Envelope { phase: u8, message: Option<Vec<u8>> },
    /// The sender finished with this transcript hash.
    Done([u8; 32]),
}

impl Wire {
    fn encode(&self) -> Vec<u8> {
        match self {
            Wire::Envelope { phase, message } => {
                let mut v = vec![1, *phase];
                if let Some(m) = message {
                    v.push(1);
                    v.extend_from_slice(m);
                } else {
                    v.push(0);
                }
                v
            }
            Wire::Done(h) => {
                let mut v = vec![2];
                v.extend_from_slice(h);
                v
            }
        }
    }

    fn decode(b: &[u8]) -> Option<Wire> {
        match b {
            [1, phase @ 1..=3, 0] => Some(Wire::Envelope {
                phase: *phase,
                message: None,
            }),
            [1, phase @ 1..=3, 1, rest @ ..] => Some(Wire::Envelope {
                phase: *phase,
                message: Some(rest.to_vec()),
            }),
            [2, rest @ ..] => rest.try_into().ok().map(Wire::Done),
            _ => None,
        }
    }
}

fn phase_code(p: Phase) -> u8 {
    match p {
        Phase::Init => 0,
        Phase::Deal => 1,
        Phase::Complain => 2,
        Phase::Justify => 3,
        Phase::Done => 4,
    }
}

fn code_phase(c: u8) -> Phase {
    match c {
        1 => Phase::Deal,
        2 => Phase::Complain,
        _ => Phase::Justify,
    }
}

fn json_err(e: impl std::fmt::Display) -> NodeError {
    NodeError::Store(format!("DKG state: {e}"))
}

type Sent = Vec<(u8, Option<Vec<u8>>)>;

/// Run the DKG (or resume it, or load its result) and keep answering peers afterwards on a
/// spawned task. Resolves once a quorum agreed on the transcript hash.
pub async fn run<V: Variant>(
    home: &Home,
    store: Store,
    net: NetHandle,
    events: mpsc::Receiver<Inbound>,
    metrics: Arc<Metrics>,
) -> Result<DkgResult<V>, NodeError> {
    let genesis = &home.genesis;
    let n = genesis.n();
    let me = home.config.index;
    let committee = genesis.committee()?;
    let config = DkgConfig::<V>::new(session(&genesis.chain_id), committee, threshold_degree(n));
    let context = config.digest();
    let sent: Sent = match store.meta(DKG_SENT)? {
        Some(b) => serde_json::from_slice(&b).map_err(json_err)?,
        None => Vec::new(),
    };
    let output: Option<StoredOutput<V>> = match store.meta(DKG_OUTPUT)? {
        Some(b) => Some(serde_json::from_slice(&b).map_err(json_err)?),
        None => None,
    };
    let agreed = store.meta(DKG_AGREED)?.is_some();
    let participant = if output.is_some() {
        None
    } else {
        Some(match store.meta(DKG_STATE)? {
            Some(b) => serde_json::from_slice::<Participant<V>>(&b).map_err(json_err)?,
            None => {
                let mut seed = [0u8; 32];
                OsRng.fill_bytes(&mut seed);
                Participant::new(config.clone(), home.identity.clone(), seed)
                    .map_err(|e| NodeError::Dkg(e.to_string()))?
            }
        })
    };
    let fault = TestFault::from_env();
    if fault != TestFault::None {
        tracing::warn!(
            ?fault,
            "test fault injection active: this node misbehaves on purpose"
        );
    }
    if fault == TestFault::DkgSilent {
        // Receives and drops everything, sends nothing, never finishes.
        let mut events = events;
        while events.recv().await.is_some() {}
        return std::future::pending().await;
    }
    let (done_tx, done_rx) = oneshot::channel();
    let mut runner = Runner {
        n,
        me,
        quorum: threshold_degree(n) as usize + 1,
        limits: config.limits(),
        context,
        deadline: Duration::from_millis(home.config.tuning.dkg_phase_ms),
        store,
        net,
        metrics,
        participant,
        sent,
        output: output
            .map(|o| {
                let t = hex::decode(&o.transcript)
                    .ok()
                    .and_then(|v| <[u8; 32]>::try_from(v).ok())
                    .ok_or_else(|| json_err("bad transcript"))?;
                Ok::<_, NodeError>((o.output, t))
            })
            .transpose()?,
        agreed,
        heard: BTreeMap::new(),
        expected: (1..=n).collect(),
        done: BTreeMap::new(),
        culprits: BTreeSet::new(),
        outvoted: false,
        fault,
        phase_started: Instant::now(),
        last_answer: BTreeMap::new(),
        finished: Some(done_tx),
    };
    let task = tokio::spawn(async move { runner.main(events).await });
    tokio::select! {
        r = done_rx => match r {
            Ok(r) => r,
            Err(_) => Err(NodeError::Dkg("the DKG task ended".into())),
        },
        r = task => Err(match r {
            Ok(Err(e)) => e,
            _ => NodeError::Dkg("the DKG task ended".into()),
        }),
    }
}

type Finished<V> = oneshot::Sender<Result<DkgResult<V>, NodeError>>;

struct Runner<V: Variant> {
    n: u32,
    me: u32,
    quorum: usize,
    limits: conclave_dkg::config::Limits,
    context: [u8; 32],
    deadline: Duration,
    store: Store,
    net: NetHandle,
    metrics: Arc<Metrics>,
    participant: Option<Participant<V>>,
    sent: Sent,
    output: Option<(DkgOutput<V>, [u8; 32])>,
    agreed: bool,
    heard: BTreeMap<u8, BTreeSet<u32>>,
    /// The nodes whose envelope closes the current phase before its deadline.
    expected: BTreeSet<u32>,
    done: BTreeMap<u32, [u8; 32]>,
    /// Peers that announced another transcript hash.
    culprits: BTreeSet<u32>,
    /// A quorum of other nodes agreed on a hash that is not ours (logged once).
    outvoted: bool,
    fault: TestFault,
    phase_started: Instant,
    last_answer: BTreeMap<u32, Instant>,
    finished: Option<Finished<V>>,
}

impl<V: Variant> Runner<V> {
    async fn main(&mut self, mut events: mpsc::Receiver<Inbound>) -> Result<(), NodeError> {
        if let Err(e) = self.start() {
            if let Some(f) = self.finished.take() {
                let _ = f.send(Err(e));
            }
            return Ok(());
        }
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        loop {
            if let Err(e) = self.advance() {
                tracing::error!(error = %e, "DKG failed");
                if let Some(f) = self.finished.take() {
                    let _ = f.send(Err(e));
                }
                return Ok(());
            }
            tokio::select! {
                m = events.recv() => match m {
                    Some(m) => self.on_message(m),
                    None => return Ok(()),
                },
                _ = tick.tick() => self.rebroadcast(),
            }
        }
    }

    fn persist(&self) -> Result<(), NodeError> {
        let sent = serde_json::to_vec(&self.sent).map_err(json_err)?;
        let state = match &self.participant {
            Some(p) => Some(serde_json::to_vec(p).map_err(json_err)?),
            None => None,
        };
        self.store.put_meta(&[
            (DKG_STATE, state.as_deref()),
            (DKG_SENT, Some(sent.as_slice())),
        ])
    }

    fn start(&mut self) -> Result<(), NodeError> {
        if let Some(p) = self.participant.as_mut() {
            if p.phase() == Phase::Init {
                let outs = p
                    .handle(Input::Start)
                    .map_err(|e| NodeError::Dkg(e.to_string()))?;
                let mut msg = None;
                for o in outs {
                    if let Output::Broadcast(m) = o {
                        msg = Some(m.to_bytes());
                        // The broadcast reaches its sender too.
                        p.handle(Input::Message(m))
                            .map_err(|e| NodeError::Dkg(e.to_string()))?;
                    }
                }
                self.sent.push((1, msg));
                self.persist()?; // durable before the first send
            }
        }
        for (phase, _) in &self.sent {
            self.heard.entry(*phase).or_default().insert(self.me);
        }
        self.update_phase_metric();
        tracing::info!(phase = self.phase_name(), "DKG started");
        for to in 1..=self.n {
            self.send_all(to);
        }
        Ok(())
    }

    fn phase_name(&self) -> &'static str {
        match (&self.participant, self.agreed) {
            (Some(p), _) => p.phase().as_str(),
            (None, false) => "done",
            (None, true) => "agreed",
        }
    }

    fn update_phase_metric(&self) {
        let code = match (&self.participant, self.agreed) {
            (Some(p), _) => phase_code(p.phase()),
            (None, false) => 4,
            (None, true) => 5,
        };
        self.metrics.dkg_phase.set(i64::from(code));
    }

    /// The transcript hash this node announces (its own, unless a test fault says otherwise).
    fn announced(&self) -> Option<[u8; 32]> {
        let own = self.output.as_ref().map(|(_, t)| *t);
        match self.fault {
            TestFault::DkgWrongTranscript => Some(Sha256::digest(own.unwrap_or_default()).into()),
            _ => own,
        }
    }

    fn send_all(&self, to: u32) {
        for (phase, message) in &self.sent {
            let w = Wire::Envelope {
                phase: *phase,
                message: message.clone(),
            };
            self.net.send(to, Proto::Dkg, w.encode());
        }
        if let Some(t) = self.announced() {
            self.net.send(to, Proto::Dkg, Wire::Done(t).encode());
        }
    }

    /// Re-send everything to every peer that has not reported the same transcript hash as
    /// this node's (a peer that claims to be done with another hash, or before this node is
    /// done, may still be missing messages: a false `Done` must not cut it off).
    fn rebroadcast(&mut self) {
        let own = self.output.as_ref().map(|(_, t)| *t);
        for to in 1..=self.n {
            let matched = own.is_some() && self.done.get(&to) == own.as_ref();
            if to != self.me && !matched {
                self.send_all(to);
            }
        }
    }

    fn on_message(&mut self, m: Inbound) {
        let Some(w) = Wire::decode(&m.bytes) else {
            tracing::warn!(from = m.from, "undecodable DKG message");
            return;
        };
        match w {
            Wire::Envelope { phase, message } => {
                self.heard.entry(phase).or_default().insert(m.from);
                if let (Some(p), Some(bytes)) = (self.participant.as_mut(), message) {
                    match Message::<V>::from_bytes_limited(&bytes, &self.limits) {
                        Ok(msg) => {
                            if let Err(e) = p.handle(Input::Message(msg)) {
                                tracing::debug!(from = m.from, error = %e, "DKG message refused");
                            }
                        }
                        Err(e) => {
                            tracing::warn!(from = m.from, error = %e, "malformed DKG message")
                        }
                    }
                }
                // A finished node answers a peer that is still running, at most every 500 ms.
                if self.output.is_some() {
                    let now = Instant::now();
                    let due = self
                        .last_answer
                        .get(&m.from)
                        .is_none_or(|t| now.duration_since(*t) > Duration::from_millis(500));
                    if due {
                        self.last_answer.insert(m.from, now);
                        self.send_all(m.from);
                    }
                }
            }
            Wire::Done(h) => {
                self.done.insert(m.from, h);
            }
        }
    }

    /// End phases whose envelopes are all in (or whose deadline passed); check agreement.
    fn advance(&mut self) -> Result<(), NodeError> {
        while let Some(p) = self.participant.as_mut() {
            let phase = p.phase();
            let code = phase_code(phase);
            let heard = self.heard.get(&code);
            let all = self
                .expected
                .iter()
                .all(|i| heard.is_some_and(|s| s.contains(i)));
            if !(all || self.phase_started.elapsed() >= self.deadline) {
                break;
            }
            // The next phase waits only for the nodes heard in this one.
            self.expected = heard.cloned().unwrap_or_default();
            self.expected.insert(self.me);
            if !all {
                tracing::warn!(
                    phase = phase.as_str(),
                    heard = ?self.expected,
                    "DKG phase deadline passed"
                );
            }
            let outs = p
                .handle(Input::DeadlinePassed(code_phase(code)))
                .map_err(|e| NodeError::Dkg(e.to_string()))?;
            let mut msg = None;
            let mut finished = None;
            for o in outs {
                match o {
                    Output::Broadcast(m) => {
                        msg = Some(m.to_bytes());
                        // The broadcast reaches its sender too.
                        p.handle(Input::Message(m))
                            .map_err(|e| NodeError::Dkg(e.to_string()))?;
                    }
                    Output::Finished(out) => finished = Some(*out),
                }
            }
            self.phase_started = Instant::now();
            if let Some(out) = finished {
                let transcript = transcript_hash(&self.context, &out);
                let stored = StoredOutput::<V> {
                    output: out.clone(),
                    transcript: hex::encode(transcript),
                };
                let bytes = serde_json::to_vec(&stored).map_err(json_err)?;
                let sent = serde_json::to_vec(&self.sent).map_err(json_err)?;
                self.store.put_meta(&[
                    (DKG_OUTPUT, Some(bytes.as_slice())),
                    (DKG_STATE, None),
                    (DKG_SENT, Some(sent.as_slice())),
                ])?;
                self.participant = None;
                tracing::info!(
                    transcript = %hex::encode(transcript),
                    qualified = ?out.qualified,
                    "DKG finished"
                );
                self.output = Some((out, transcript));
                if let Some(t) = self.announced() {
                    self.net.broadcast(Proto::Dkg, Wire::Done(t).encode());
                }
            } else {
                let next = code + 1;
                self.sent.push((next, msg.clone()));
                self.persist()?; // durable before it is sent
                self.heard.entry(next).or_default().insert(self.me);
                self.net.broadcast(
                    Proto::Dkg,
                    Wire::Envelope {
                        phase: next,
                        message: msg,
                    }
                    .encode(),
                );
                tracing::info!(phase = self.phase_name(), "DKG phase");
            }
            self.update_phase_metric();
        }
        if let Some((out, t)) = &self.output {
            // A peer with another hash is a culprit, logged and counted, never fatal: the
            // quorum decides, and this task keeps answering (restarted) peers either way.
            for (peer, h) in &self.done {
                if h != t && self.culprits.insert(*peer) {
                    tracing::warn!(
                        peer,
                        hash = %hex::encode(h),
                        "a peer reports a different DKG transcript hash (culprit)"
                    );
                    self.metrics.dkg_culprits.set(self.culprits.len() as i64);
                }
            }
            let matching = 1 + self.done.values().filter(|h| *h == t).count();
            if !self.agreed && !self.outvoted && matching < self.quorum {
                let mut others: BTreeMap<&[u8; 32], usize> = BTreeMap::new();
                for h in self.done.values().filter(|h| *h != t) {
                    *others.entry(h).or_default() += 1;
                }
                if let Some((h, k)) = others.into_iter().find(|(_, k)| *k >= self.quorum) {
                    self.outvoted = true;
                    tracing::error!(
                        nodes = k,
                        hash = %hex::encode(h),
                        "a quorum agreed on another DKG transcript: this node's share is not \
                         theirs, it cannot join consensus"
                    );
                }
            }
            if !self.agreed && matching >= self.quorum {
                self.store.put_meta(&[(DKG_AGREED, Some(&[1u8][..]))])?;
                self.agreed = true;
                tracing::info!(matching, "DKG transcript agreed");
                self.update_phase_metric();
            }
            if self.agreed {
                if let Some(f) = self.finished.take() {
                    let _ = f.send(Ok(DkgResult {
                        output: out.clone(),
                        transcript: *t,
                    }));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_round_trips_and_rejects_junk() {
        for w in [
            Wire::Envelope {
                phase: 2,
                message: None,
            },
            Wire::Envelope {
                phase: 1,
                message: Some(vec![1, 2, 3]),
            },
            Wire::Done([7; 32]),
        ] {
            assert_eq!(Wire::decode(&w.encode()), Some(w));
        }
        assert_eq!(Wire::decode(&[1, 4, 0]), None);
        assert_eq!(Wire::decode(&[2, 1]), None);
        assert_eq!(Wire::decode(&[]), None);
    }

    #[test]
    fn threshold_is_2f_for_3f_plus_1() {
        assert_eq!(threshold_degree(4), 2);
        assert_eq!(threshold_degree(7), 4);
        assert_eq!(threshold_degree(1), 0);
    }
}
