//! The DKG over the network: every node runs a `conclave_dkg::Participant` for the genesis
//! committee (t = ⌊(n+f)/2⌋), no dealer and no shared seed (each node draws its own secret seed
//! at its first start).
//!
//! Broadcast: each node sends, for every phase it has reached, an *envelope* `(phase, its
//! message of that phase or none)`, so every node knows when it has heard all n nodes for a
//! phase. The transport authenticates the deliverer, not the author: a signed DKG message is
//! taken as X's only on X's signature in this session's configuration (the participant checks
//! it), whoever delivered it.
//!
//! Relay (echo): every signed message a node accepts as a *new* authenticated body
//! ([`Participant::receive_new`]) is sent on to every other peer at once and with every
//! re-send. The participant keeps at most two bodies per signer and round, so what a node
//! relays is bounded per signer and round. A dealing that reaches one honest node thus reaches
//! every honest node one relay later; two different signed dealings of one dealer (sent to
//! different nodes) reach everybody, and every honest node disqualifies that dealer for
//! equivocation with the same two signed messages as evidence.
//!
//! Deadlines and relays: each node reports, per round, the hash of the set of signed messages
//! of that round it holds (its *view*). A phase closes early only when the envelopes of every
//! node it expects are in **and** every one of them reports this node's view, i.e. the relays
//! have converged; otherwise it closes at its deadline (`tuning.dkg_phase_ms` in `config.toml`
//! after the node entered it): that deadline is the synchrony the Joint-Feldman DKG assumes.
//! The deal phase expects all n; a later phase expects only the nodes whose envelope of the
//! previous phase was in when that phase closed (a node that missed a deadline is late, i.e.
//! faulty, under that assumption; its later messages are still taken if they arrive in time).
//! So with up to f silent nodes the DKG takes about one deadline (the deal phase's), not one
//! per phase. What the deadline cannot give: a dealing that first reaches an honest node less
//! than one relay delay before that node's deadline (or after another honest node's deadline,
//! which start-time skew makes wider) still splits the honest views. The split is detected
//! (different transcript hashes) and repaired when one side is a quorum (the other side adopts
//! its transcript, below); it stalls when the Byzantine nodes side with the minority, which
//! needs exact timing. Closing that needs an agreement step on the deal round (e.g. f+1
//! signed relay rounds, Dolev–Strong), not done.
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
//! nodes agrees on a hash that is not this node's, its share is useless: it logs that.
//! A node that agreed announces `Agreed(hash)` instead of `Done(hash)`.
//!
//! Adoption (late joiner, split-off node): a node that has not agreed adopts the transcript the
//! others settled — `Agreed(h)` from f+1 others (one of them honest, which saw a quorum on h),
//! or `Done(h)` from a quorum of others (two quorums intersect in an honest node, so at most one
//! hash qualifies; a node never changes its hash once it agreed). It asks the peers that
//! announced h for the transcript (at most once a second each), takes only an answer it asked
//! for, rebuilds its share with [`Participant::recover`] (every dealing authenticated, its own
//! shares decrypted from QUAL's dealings and checked, bad ones replaced from justifications),
//! checks that the result's transcript hash (group commitment and QUAL) is h, and stores it like
//! its own outcome. A node started after the others finished, or cut off for the deal phase,
//! gets its share this way and joins consensus; it cannot if a qualified dealer dealt it a bad
//! share that nobody complained about (only a faulty dealer does that).
//!
//! Test-only faults: [`TestFault::from_env`](crate::TestFault::from_env) reads `CONCLAVE_TEST_FAULT` (unset in any
//! deployment; the node logs a warning when it is set) so the process tests can run a
//! Byzantine member: `dkg-silent` never sends a DKG message, `dkg-wrong-transcript` runs the
//! DKG but announces a wrong transcript hash from the start, `dkg-partial-send` sends its
//! dealing to one peer only, `dkg-equivocate` sends one peer a second signed dealing.

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
    /// The signed messages a node that missed the DKG recovers its share from (hex; absent
    /// in a store written before they were kept).
    #[serde(default)]
    messages: Vec<String>,
}

/// One wire message of the DKG protocol.
#[derive(Debug, PartialEq, Eq)]
enum Wire {
    /// The sender's message of `phase` (1 deal, 2 complain, 3 justify), or none.
    Envelope { phase: u8, message: Option<Vec<u8>> },
    /// The sender finished with this transcript hash.
    Done([u8; 32]),
    /// The sender finished with this transcript hash and saw a quorum agree on it.
    Agreed([u8; 32]),
    /// A signed DKG message of another node that the sender accepted (echo).
    Relay(Vec<u8>),
    /// The hash of the set of signed messages of `phase` the sender holds.
    View { phase: u8, hash: [u8; 32] },
    /// Asks for the finished transcript with this hash.
    TranscriptRequest([u8; 32]),
    /// A finished transcript: its hash, QUAL and the signed messages that recover a share.
    Transcript {
        hash: [u8; 32],
        qualified: Vec<u32>,
        messages: Vec<Vec<u8>>,
    },
}

/// A bounded reader for [`Wire::decode`].
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, k: usize) -> Option<&'a [u8]> {
        if self.0.len() < k {
            return None;
        }
        let (a, b) = self.0.split_at(k);
        self.0 = b;
        Some(a)
    }

    fn u32(&mut self) -> Option<u32> {
        self.take(4)?.try_into().ok().map(u32::from_be_bytes)
    }

    /// A count of items of at least `min_size` bytes each that must fit in what is left.
    fn count(&mut self, min_size: usize) -> Option<usize> {
        let k = self.u32()? as usize;
        (k.checked_mul(min_size)? <= self.0.len()).then_some(k)
    }
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
            Wire::Done(h) | Wire::Agreed(h) | Wire::TranscriptRequest(h) => {
                let tag = match self {
                    Wire::Done(_) => 2,
                    Wire::Agreed(_) => 3,
                    _ => 5,
                };
                let mut v = vec![tag];
                v.extend_from_slice(h);
                v
            }
            Wire::View { phase, hash } => {
                let mut v = vec![7, *phase];
                v.extend_from_slice(hash);
                v
            }
            Wire::Relay(m) => {
                let mut v = vec![4];
                v.extend_from_slice(m);
                v
            }
            Wire::Transcript {
                hash,
                qualified,
                messages,
            } => {
                let mut v = vec![6];
                v.extend_from_slice(hash);
                v.extend_from_slice(&(qualified.len() as u32).to_be_bytes());
                for q in qualified {
                    v.extend_from_slice(&q.to_be_bytes());
                }
                v.extend_from_slice(&(messages.len() as u32).to_be_bytes());
                for m in messages {
                    v.extend_from_slice(&(m.len() as u32).to_be_bytes());
                    v.extend_from_slice(m);
                }
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
            [3, rest @ ..] => rest.try_into().ok().map(Wire::Agreed),
            [4, rest @ ..] if !rest.is_empty() => Some(Wire::Relay(rest.to_vec())),
            [5, rest @ ..] => rest.try_into().ok().map(Wire::TranscriptRequest),
            [7, phase @ 1..=3, rest @ ..] => rest.try_into().ok().map(|hash| Wire::View {
                phase: *phase,
                hash,
            }),
            [6, rest @ ..] => {
                let mut c = Cursor(rest);
                let hash = c.take(32)?.try_into().ok()?;
                let k = c.count(4)?;
                let qualified = (0..k).map(|_| c.u32()).collect::<Option<Vec<_>>>()?;
                let k = c.count(4)?;
                let mut messages = Vec::with_capacity(k);
                for _ in 0..k {
                    let len = c.u32()? as usize;
                    messages.push(c.take(len)?.to_vec());
                }
                c.0.is_empty().then_some(Wire::Transcript {
                    hash,
                    qualified,
                    messages,
                })
            }
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
    // Test fault: a second, validly signed dealing of this node, for one of its peers.
    let alt_deal = match (fault, &participant) {
        (TestFault::DkgEquivocate, Some(_)) => {
            let mut seed = [0u8; 32];
            OsRng.fill_bytes(&mut seed);
            let mut other = Participant::new(config.clone(), home.identity.clone(), seed)
                .map_err(|e| NodeError::Dkg(e.to_string()))?;
            other
                .handle(Input::Start)
                .map_err(|e| NodeError::Dkg(e.to_string()))?
                .into_iter()
                .find_map(|o| match o {
                    Output::Broadcast(m) => Some(m.to_bytes()),
                    Output::Finished(_) => None,
                })
        }
        _ => None,
    };
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
        transcript: output
            .as_ref()
            .map(|o| o.messages.iter().map(hex::decode).collect())
            .transpose()
            .map_err(json_err)?
            .unwrap_or_default(),
        output: output
            .map(|o| {
                let t = hex::decode(&o.transcript)
                    .ok()
                    .and_then(|v| <[u8; 32]>::try_from(v).ok())
                    .ok_or_else(|| json_err("bad transcript"))?;
                Ok::<_, NodeError>((o.output, t))
            })
            .transpose()?,
        config,
        keys: home.identity.clone(),
        f_plus_1: (n.saturating_sub(1) / 3) as usize + 1,
        relayed: Vec::new(),
        agreed_by: BTreeMap::new(),
        asked: BTreeMap::new(),
        served: BTreeMap::new(),
        alt_deal,
        views: BTreeMap::new(),
        peer_views: BTreeMap::new(),
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
    /// f+1: announcements of agreement from this many others include an honest one.
    f_plus_1: usize,
    config: DkgConfig<V>,
    keys: conclave_dkg::IdentityKeys,
    /// Signed messages of other nodes this node accepted (each new authenticated body once;
    /// at most two per sender and round, the participant's bound), echoed to every peer.
    relayed: Vec<Vec<u8>>,
    /// The finished transcript this node serves ([`Participant::transcript`] encoded).
    transcript: Vec<Vec<u8>>,
    /// Peers that announced agreement on a transcript hash.
    agreed_by: BTreeMap<u32, [u8; 32]>,
    /// When this node last asked each peer for a transcript.
    asked: BTreeMap<u32, Instant>,
    /// When this node last served each peer a transcript.
    served: BTreeMap<u32, Instant>,
    /// Test fault `dkg-equivocate`: the other dealing.
    alt_deal: Option<Vec<u8>>,
    /// Per round, the SHA-256 of every signed message this node holds (own and accepted).
    views: BTreeMap<u8, BTreeSet<[u8; 32]>>,
    /// The last view hash each peer reported per round.
    peer_views: BTreeMap<(u8, u32), [u8; 32]>,
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
        let own: Vec<(u8, Vec<u8>)> = self
            .sent
            .iter()
            .filter_map(|(r, m)| Some((*r, m.clone()?)))
            .collect();
        for (round, m) in own {
            self.views
                .entry(round)
                .or_default()
                .insert(Sha256::digest(&m).into());
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
        let others: Vec<u32> = (1..=self.n).filter(|&i| i != self.me).collect();
        for (phase, message) in &self.sent {
            let message = match (self.fault, *phase) {
                // Byzantine test faults: the dealing reaches one peer only, or one peer gets
                // another validly signed dealing.
                (TestFault::DkgPartialSend, 1) if others.first() != Some(&to) => continue,
                (TestFault::DkgEquivocate, 1) if others.last() == Some(&to) => {
                    self.alt_deal.clone()
                }
                _ => message.clone(),
            };
            let w = Wire::Envelope {
                phase: *phase,
                message,
            };
            self.net.send(to, Proto::Dkg, w.encode());
        }
        for m in &self.relayed {
            self.net
                .send(to, Proto::Dkg, Wire::Relay(m.clone()).encode());
        }
        if self.participant.is_some() {
            for round in self.sent.iter().map(|(r, _)| *r) {
                let w = Wire::View {
                    phase: round,
                    hash: self.view_hash(round),
                };
                self.net.send(to, Proto::Dkg, w.encode());
            }
        }
        if let Some(w) = self.announcement() {
            self.net.send(to, Proto::Dkg, w.encode());
        }
    }

    /// `Done` or, once a quorum agreed, `Agreed`, with the announced hash.
    fn announcement(&self) -> Option<Wire> {
        let t = self.announced()?;
        Some(if self.agreed {
            Wire::Agreed(t)
        } else {
            Wire::Done(t)
        })
    }

    /// The hash of this node's set of signed messages of `round`.
    fn view_hash(&self, round: u8) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(b"conclave-node/dkg-view/v1");
        h.update([round]);
        for m in self.views.get(&round).into_iter().flatten() {
            h.update(m);
        }
        h.finalize().into()
    }

    /// Add a signed message to this node's view of `round` and, if that changed it (or for
    /// none: this node entered the round), tell every peer the new view.
    fn note_view(&mut self, round: u8, bytes: Option<&[u8]>) {
        let set = self.views.entry(round).or_default();
        if let Some(b) = bytes {
            if !set.insert(Sha256::digest(b).into()) {
                return; // unchanged
            }
        }
        let w = Wire::View {
            phase: round,
            hash: self.view_hash(round),
        };
        self.net.broadcast(Proto::Dkg, w.encode());
    }

    /// The sender and round (1 deal, 2 complain, 3 justify) a signed message claims.
    fn origin(&self, m: &Message<V>) -> (u8, Option<u32>) {
        let owner = |seat: u32| self.config.dealers.owner_of(seat).map(|m| m.id);
        match m {
            Message::Deal(ds) => (1, ds.first().and_then(|d| owner(d.body.dealer))),
            Message::Complaint(c) => (2, Some(c.body.complainer)),
            Message::Justify(js) => (3, js.first().and_then(|j| owner(j.body.dealer))),
        }
    }

    /// Take in a signed message delivered by `from` (its sender's envelope or a relay). If it
    /// is a new authenticated body it is echoed to every other peer: the participant verifies
    /// it against the key of the node that signed it, whoever delivered it, and keeps at most
    /// two bodies per sender and round, so what is relayed is authenticated and bounded. Two
    /// different signed messages of one sender and round reach every honest node this way,
    /// and each disqualifies that sender with the same evidence.
    fn take_signed(&mut self, from: u32, bytes: &[u8]) {
        let msg = match Message::<V>::from_bytes_limited(bytes, &self.limits) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(from, error = %e, "malformed DKG message");
                return;
            }
        };
        let (round, signer) = self.origin(&msg);
        let Some(p) = self.participant.as_mut() else {
            return;
        };
        match p.receive_new(msg) {
            Ok(new) => {
                if let Some(signer) = signer {
                    // Authenticated: the signer is heard for that round, however it came.
                    self.heard.entry(round).or_default().insert(signer);
                }
                if new && signer != Some(self.me) {
                    for to in 1..=self.n {
                        if to != self.me && to != from && Some(to) != signer {
                            self.net
                                .send(to, Proto::Dkg, Wire::Relay(bytes.to_vec()).encode());
                        }
                    }
                    self.relayed.push(bytes.to_vec());
                }
                // Also a repeat: after a restart the view is rebuilt from what peers re-send.
                if (1..=3).contains(&round) {
                    self.note_view(round, Some(bytes));
                }
            }
            Err(e) => tracing::debug!(from, error = %e, "DKG message refused"),
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
                if let Some(bytes) = message {
                    self.take_signed(m.from, &bytes);
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
                self.agreed_by.remove(&m.from);
            }
            Wire::Agreed(h) => {
                self.done.insert(m.from, h);
                self.agreed_by.insert(m.from, h);
            }
            Wire::Relay(bytes) => self.take_signed(m.from, &bytes),
            Wire::View { phase, hash } => {
                self.peer_views.insert((phase, m.from), hash);
            }
            Wire::TranscriptRequest(h) => {
                let now = Instant::now();
                let due = self
                    .served
                    .get(&m.from)
                    .is_none_or(|t| now.duration_since(*t) > Duration::from_millis(500));
                if let Some((out, t)) = &self.output {
                    if *t == h && due && !self.transcript.is_empty() {
                        self.served.insert(m.from, now);
                        let w = Wire::Transcript {
                            hash: h,
                            qualified: out.qualified.clone(),
                            messages: self.transcript.clone(),
                        };
                        self.net.send(m.from, Proto::Dkg, w.encode());
                    }
                }
            }
            Wire::Transcript {
                hash,
                qualified,
                messages,
            } => {
                if let Err(e) = self.on_transcript(m.from, hash, qualified, messages) {
                    tracing::warn!(from = m.from, error = %e, "DKG transcript refused");
                }
            }
        }
    }

    /// The transcript hash this node should adopt, if the others settled one: `Agreed` from
    /// f+1 others (so from an honest node, which saw a quorum), or `Done` from a quorum of
    /// others. Two quorums of one-hash announcements intersect in an honest node, so at most
    /// one hash qualifies.
    fn adoptable(&self) -> Option<[u8; 32]> {
        let mut agreed: BTreeMap<[u8; 32], usize> = BTreeMap::new();
        for h in self.agreed_by.values() {
            *agreed.entry(*h).or_default() += 1;
        }
        let mut done: BTreeMap<[u8; 32], usize> = BTreeMap::new();
        for (peer, h) in &self.done {
            if *peer != self.me {
                *done.entry(*h).or_default() += 1;
            }
        }
        agreed
            .into_iter()
            .find(|(_, k)| *k >= self.f_plus_1)
            .or_else(|| done.into_iter().find(|(_, k)| *k >= self.quorum))
            .map(|(h, _)| h)
    }

    /// Ask the peers that announced `h` for its transcript (each at most once a second).
    fn request_transcript(&mut self, h: [u8; 32]) {
        let now = Instant::now();
        let peers: Vec<u32> = self
            .done
            .iter()
            .filter(|(p, x)| **x == h && **p != self.me)
            .map(|(p, _)| *p)
            .collect();
        for p in peers {
            let due = self
                .asked
                .get(&p)
                .is_none_or(|t| now.duration_since(*t) > Duration::from_secs(1));
            if due {
                self.asked.insert(p, now);
                tracing::info!(peer = p, hash = %hex::encode(h), "asking for the DKG transcript");
                self.net
                    .send(p, Proto::Dkg, Wire::TranscriptRequest(h).encode());
            }
        }
    }

    /// A transcript this node asked for: adopted only if the others settled its hash, every
    /// message authenticates, this node's share derives from it, and the result's hash (group
    /// commitment and QUAL) is the settled one.
    fn on_transcript(
        &mut self,
        from: u32,
        hash: [u8; 32],
        qualified: Vec<u32>,
        messages: Vec<Vec<u8>>,
    ) -> Result<(), NodeError> {
        if self.agreed || !self.asked.contains_key(&from) {
            return Ok(()); // unsolicited, or not needed any more
        }
        if self.adoptable() != Some(hash) || self.output.as_ref().map(|(_, t)| *t) == Some(hash) {
            return Ok(());
        }
        if qualified.len() > self.n as usize || messages.len() > 2 * self.n as usize {
            return Err(NodeError::Dkg(
                "transcript larger than the committee".into(),
            ));
        }
        let decoded = messages
            .iter()
            .map(|b| Message::<V>::from_bytes_limited(b, &self.limits))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| NodeError::Dkg(e.to_string()))?;
        let mut seed = [0u8; 32];
        OsRng.fill_bytes(&mut seed);
        let out = Participant::recover(
            self.config.clone(),
            self.keys.clone(),
            seed,
            &qualified,
            decoded,
        )
        .map_err(|e| NodeError::Dkg(e.to_string()))?;
        let t = transcript_hash(&self.context, &out);
        if t != hash {
            return Err(NodeError::Dkg(
                "the transcript's commitment and QUAL do not have the agreed hash".into(),
            ));
        }
        self.finish(out, t, messages)?;
        tracing::info!(
            from,
            "DKG transcript adopted (this node missed or lost the DKG)"
        );
        Ok(())
    }

    /// Store an outcome (own or adopted) with the transcript it serves, replacing the
    /// participant, and announce it.
    fn finish(
        &mut self,
        out: DkgOutput<V>,
        transcript: [u8; 32],
        messages: Vec<Vec<u8>>,
    ) -> Result<(), NodeError> {
        let stored = StoredOutput::<V> {
            output: out.clone(),
            transcript: hex::encode(transcript),
            messages: messages.iter().map(hex::encode).collect(),
        };
        let bytes = serde_json::to_vec(&stored).map_err(json_err)?;
        let sent = serde_json::to_vec(&self.sent).map_err(json_err)?;
        self.store.put_meta(&[
            (DKG_OUTPUT, Some(bytes.as_slice())),
            (DKG_STATE, None),
            (DKG_SENT, Some(sent.as_slice())),
        ])?;
        self.participant = None;
        self.transcript = messages;
        tracing::info!(
            transcript = %hex::encode(transcript),
            qualified = ?out.qualified,
            disqualified = ?out.disqualified,
            "DKG finished"
        );
        self.output = Some((out, transcript));
        if let Some(w) = self.announcement() {
            self.net.broadcast(Proto::Dkg, w.encode());
        }
        self.update_phase_metric();
        Ok(())
    }

    /// End phases whose envelopes are all in (or whose deadline passed); check agreement.
    fn advance(&mut self) -> Result<(), NodeError> {
        while let Some(phase) = self.participant.as_ref().map(Participant::phase) {
            let code = phase_code(phase);
            let heard = self.heard.get(&code);
            // Early close: every expected node posted, and every expected peer reports the
            // same set of signed messages of this round as this node (so relays are done:
            // whatever one of them accepted, all of them hold).
            let mine = self.view_hash(code);
            let all = self.expected.iter().all(|i| {
                heard.is_some_and(|s| s.contains(i))
                    && (*i == self.me || self.peer_views.get(&(code, *i)) == Some(&mine))
            });
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
            let Some(p) = self.participant.as_mut() else {
                break;
            };
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
                let messages = p
                    .transcript(&out.qualified)
                    .iter()
                    .map(Message::to_bytes)
                    .collect();
                self.finish(out, transcript, messages)?;
                continue;
            } else {
                let next = code + 1;
                self.sent.push((next, msg.clone()));
                self.persist()?; // durable before it is sent
                self.heard.entry(next).or_default().insert(self.me);
                self.note_view(next, msg.as_deref());
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
        // The others settled a transcript this node does not have (it missed the DKG, or its
        // view was split off): fetch it, check it, derive the share from it.
        if !self.agreed {
            if let Some(h) = self.adoptable() {
                if self.output.as_ref().map(|(_, t)| *t) != Some(h) {
                    self.request_transcript(h);
                }
            }
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
                if let Some(w) = self.announcement() {
                    self.net.broadcast(Proto::Dkg, w.encode());
                }
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
            Wire::Agreed([8; 32]),
            Wire::Relay(vec![1, 0, 0]),
            Wire::View {
                phase: 3,
                hash: [9; 32],
            },
            Wire::TranscriptRequest([6; 32]),
            Wire::Transcript {
                hash: [5; 32],
                qualified: vec![1, 2, 4],
                messages: vec![vec![1, 2], vec![], vec![3; 70]],
            },
        ] {
            assert_eq!(Wire::decode(&w.encode()), Some(w));
        }
        // A transcript whose counts or lengths overrun the frame, or with trailing bytes.
        let t = Wire::Transcript {
            hash: [5; 32],
            qualified: vec![1],
            messages: vec![vec![1, 2]],
        }
        .encode();
        for cut in 1..t.len() {
            assert_eq!(Wire::decode(&t[..cut]), None, "cut at {cut}");
        }
        let mut long = t.clone();
        long.push(0);
        assert_eq!(Wire::decode(&long), None);
        let mut huge = t.clone();
        huge[33..37].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(Wire::decode(&huge), None);
        assert_eq!(Wire::decode(&[4]), None);
        assert_eq!(Wire::decode(&[7, 0, 1]), None);
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
