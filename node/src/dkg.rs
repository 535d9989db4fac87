//! The genesis DKG over the network: every node runs a `conclave_dkg::Participant` for the
//! genesis committee (t = ⌊(n+f)/2⌋), no dealer and no shared seed (each node draws its own
//! secret seed at its first start).
//!
//! **Broadcast by agreement.** The Joint-Feldman DKG assumes a broadcast on which every honest
//! node takes the same messages before the same deadline. Deadlines and relays over a network
//! do not give that: a Byzantine member that times a message (a second dealing, a late
//! complaint) to reach some honest nodes just before they close a round and others just after
//! splits their transcripts. (The first version of this module closed rounds on local deadlines
//! and converged views; its member 4 could do exactly that.) Here the DKG's messages are
//! ordered by a short BA* log of their own, run by the same engine as consensus in *identity
//! mode* ([`conclave_bft::adapter::IdentityVerifier`]: votes are Schnorr signatures under the
//! genesis DKG identity keys, certificates list a quorum of them; no threshold key is needed).
//! Each block carries DKG transactions; every node feeds the decided blocks in order to a
//! [`conclave_dkg::log::AdaptiveDriver`], whose round windows close at a block that is a
//! function of the log alone: as soon as every expected member posted (its message, or a
//! signed "nothing to say" ready statement), at the latest after `dkg_window_blocks` blocks
//! (genesis). So every honest node closes every round at the same block with the same messages,
//! and the transcripts of honest nodes are equal by construction, whatever a Byzantine member
//! sends, to whom, and when.
//!
//! **Transactions.** A node's own transactions (its dealing; later its complaint,
//! justification or ready statement) are written to the store *before* they are sent, then
//! sent to every peer and re-sent every 500 ms until a decided block carries them. A peer's
//! transaction is authenticated ([`AdaptiveDriver::check`]: signed by the member it names, in
//! this session) before it is held, relayed once to every peer and proposed; at most three per
//! member and round are held. Each proposer puts every held transaction of the current round
//! into its block (built when its height starts); validators refuse a block that carries
//! anything else (a bad signature, another round, a repeat). A faulty proposer can leave a
//! transaction out of its block, but the next block won by an honest proposer carries it, and
//! a window waiting for that member does not close without it before its limit: omission
//! delays, it does not exclude. (Validators do not demand that a block carry what they hold:
//! the engine re-proposes a node's value of the height in every period, so a value built
//! before a transaction arrived would be refused forever.)
//!
//! **Durability.** The engine's state is written and synced at each `Persist`, before any
//! later send (the persist barrier). The driver (participant inside) and the node's own
//! transactions are written in one transaction after each decided block, before the new own
//! transactions are sent; a crash between the engine's write and the driver's is repaired at
//! restart from the decision the engine state carries. The participant is deterministic given
//! its seed, so a restarted node never signs a second, different DKG message. The output (own
//! share, group commitment, QUAL, evidence) and its transcript hash replace all of that in one
//! transaction; the seed is then deleted with the participant.
//!
//! **Agreement check and adoption** (commonware PR #1917: an outcome must be agreed, not
//! decided locally). Each node broadcasts `Done(transcript hash)` = SHA-256 of the
//! configuration digest, the group commitment and QUAL, and starts consensus once a quorum
//! (t+1: 2f+1 for n = 3f+1) of nodes, this one included, reported the same hash — which the
//! log makes the common case; a peer that reports another hash is a culprit: logged and counted
//! (`conclave_dkg_culprits`), never fatal. A node that agreed announces `Agreed(hash)`. A node
//! that has not agreed adopts the transcript the others settled — `Agreed(h)` from f+1 others
//! or `Done(h)` from a quorum of others — when it was not there for the log (started after the
//! others finished, or down while they did): it asks the peers that announced h for the
//! transcript (at most once a second each), rebuilds its share with [`Participant::recover`]
//! (every dealing authenticated, its own shares decrypted from QUAL's dealings and checked,
//! bad ones replaced from justifications), checks that the result's transcript hash is h, and
//! stores it like its own outcome. It cannot if a qualified dealer dealt it a bad share that
//! nobody complained about (only a faulty dealer does that).
//!
//! A node drops its DKG engine once it finished; a peer that is still running gets this
//! node's announcement with every re-send, which is what the adoption path needs.
//!
//! Test-only faults: [`TestFault::from_env`](crate::TestFault::from_env) reads
//! `CONCLAVE_TEST_FAULT` (unset in any deployment; the node logs a warning when it is set) so
//! the process tests can run a Byzantine member: `dkg-silent` never sends a DKG message,
//! `dkg-wrong-transcript` runs the DKG but announces a wrong transcript hash from the start,
//! `dkg-partial-send` sends its dealing to one peer only (and never proposes it itself),
//! `dkg-equivocate` sends its last peer a second signed dealing (and proposes neither).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use conclave_bft::adapter::{IdentitySigner, IdentityVerifier};
use conclave_bft::types::{Decided, Height, NodeId, Seed, Time};
use conclave_bft::{Action, Adapters, Engine, PersistedState, TimerId};
use conclave_dkg::log::{AdaptiveDriver, Envelope, LogOutcome};
use conclave_dkg::{DkgConfig, DkgOutput, Input, Message, Output, Participant, Phase};
use conclave_threshold_sig::Variant;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};

use crate::config::Home;
use crate::metrics::Metrics;
use crate::net::{Inbound, NetHandle, Proto};
use crate::store::{Store, DKG_AGREED, DKG_ENGINE, DKG_OUTPUT, DKG_STATE};
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

/// The sortition seed of the DKG log's first block (bound to the session's configuration).
fn log_seed(context: &[u8; 32]) -> Seed {
    Seed(
        Sha256::new()
            .chain_update(b"conclave-node/dkg-log-seed/v1")
            .chain_update(context)
            .finalize()
            .into(),
    )
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

/// The running DKG as stored: the driver (participant inside) and this node's own
/// transactions so far (hex), re-sent after a restart until the log carries them.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(bound = "")]
struct StoredLog<V: Variant> {
    driver: AdaptiveDriver<V>,
    own: Vec<String>,
}

/// The tag of an encoded DKG log block.
const BLOCK_TAG: &[u8; 8] = b"cdkgblk1";

/// A DKG log block: its transactions, `BLOCK_TAG ‖ count u32 ‖ (len u32 ‖ tx)*`.
fn encode_block(txs: &[&[u8]]) -> Vec<u8> {
    let mut v = Vec::with_capacity(12 + txs.iter().map(|t| t.len() + 4).sum::<usize>());
    v.extend_from_slice(BLOCK_TAG);
    v.extend_from_slice(&(txs.len() as u32).to_be_bytes());
    for t in txs {
        v.extend_from_slice(&(t.len() as u32).to_be_bytes());
        v.extend_from_slice(t);
    }
    v
}

/// Decode [`encode_block`] with at most `max_txs` transactions (exact framing).
fn decode_block(b: &[u8], max_txs: usize) -> Option<Vec<Vec<u8>>> {
    let mut c = Cursor(b.strip_prefix(BLOCK_TAG)?);
    let k = c.count(4)?;
    if k > max_txs {
        return None;
    }
    let mut txs = Vec::with_capacity(k);
    for _ in 0..k {
        let len = c.u32()? as usize;
        txs.push(c.take(len)?.to_vec());
    }
    c.0.is_empty().then_some(txs)
}

/// One wire message of the DKG protocol.
#[derive(Debug, PartialEq, Eq)]
enum Wire {
    /// The sender finished with this transcript hash.
    Done([u8; 32]),
    /// The sender finished with this transcript hash and saw a quorum agree on it.
    Agreed([u8; 32]),
    /// Asks for the finished transcript with this hash.
    TranscriptRequest([u8; 32]),
    /// A finished transcript: its hash, QUAL and the signed messages that recover a share.
    Transcript {
        hash: [u8; 32],
        qualified: Vec<u32>,
        messages: Vec<Vec<u8>>,
    },
    /// A message of the DKG log's engine.
    Engine(Vec<u8>),
    /// A DKG log transaction (a DKG message envelope or a ready statement).
    Tx(Vec<u8>),
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
            Wire::Engine(m) | Wire::Tx(m) => {
                let mut v = vec![if matches!(self, Wire::Engine(_)) {
                    8
                } else {
                    9
                }];
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
            [2, rest @ ..] => rest.try_into().ok().map(Wire::Done),
            [3, rest @ ..] => rest.try_into().ok().map(Wire::Agreed),
            [5, rest @ ..] => rest.try_into().ok().map(Wire::TranscriptRequest),
            [8, rest @ ..] if !rest.is_empty() => Some(Wire::Engine(rest.to_vec())),
            [9, rest @ ..] if !rest.is_empty() => Some(Wire::Tx(rest.to_vec())),
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

fn phase_code(p: Option<Phase>) -> i64 {
    match p {
        Some(Phase::Init) => 0,
        Some(Phase::Deal) => 1,
        Some(Phase::Complain) => 2,
        Some(Phase::Justify) => 3,
        Some(Phase::Done) | None => 4,
    }
}

fn json_err(e: impl std::fmt::Display) -> NodeError {
    NodeError::Store(format!("DKG state: {e}"))
}

fn dkg_err(e: impl std::fmt::Display) -> NodeError {
    NodeError::Dkg(e.to_string())
}

/// A DKG log transaction this node holds (own or a peer's, authenticated), not yet in a
/// decided block.
struct Held {
    bytes: Vec<u8>,
    round: Phase,
    sender: u32,
    /// When this node first held it.
    since: Instant,
    own: bool,
}

/// Most transactions held per member and round (two distinct messages prove equivocation,
/// plus a ready statement).
const HELD_PER_SENDER: usize = 3;

/// Most refused transaction hashes remembered.
const MAX_REFUSED: usize = 4096;

/// The DKG log's engine adapters: identity mode over the genesis DKG keys, the genesis VRF
/// keys for proposer order.
fn log_adapters(home: &Home) -> Result<Adapters, NodeError> {
    let g = &home.genesis;
    let me = home.config.index;
    let keys = g
        .committee()?
        .members
        .iter()
        .map(|m| m.signing_key)
        .collect();
    let verifier = Arc::new(IdentityVerifier::new(keys).map_err(dkg_err)?);
    Ok(Adapters {
        committee: verifier.clone(),
        sortition: Arc::new(crate::consensus::vrf_sortition(home)?),
        signer: Arc::new(IdentitySigner::new(
            NodeId(me - 1),
            home.identity.signing.clone(),
        )),
        verifier,
    })
}

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
    let output: Option<StoredOutput<V>> = match store.meta(DKG_OUTPUT)? {
        Some(b) => Some(serde_json::from_slice(&b).map_err(json_err)?),
        None => None,
    };
    let agreed = store.meta(DKG_AGREED)?.is_some();
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
    let mut log: Option<StoredLog<V>> = None;
    let mut fresh = false;
    if output.is_none() {
        log = Some(match store.meta(DKG_STATE)? {
            Some(b) => serde_json::from_slice(&b).map_err(json_err)?,
            None => {
                let mut seed = [0u8; 32];
                OsRng.fill_bytes(&mut seed);
                let p = Participant::new(config.clone(), home.identity.clone(), seed)
                    .map_err(dkg_err)?;
                let (driver, submit) =
                    AdaptiveDriver::start(p, 0, genesis.dkg_window_blocks).map_err(dkg_err)?;
                fresh = true;
                StoredLog {
                    driver,
                    own: submit.iter().map(hex::encode).collect(),
                }
            }
        });
    }
    // Test fault: a second, validly signed dealing of this node, for its last peer.
    let alt_deal = match (fault, &log) {
        (TestFault::DkgEquivocate, Some(_)) => {
            let mut seed = [0u8; 32];
            OsRng.fill_bytes(&mut seed);
            let mut other =
                Participant::new(config.clone(), home.identity.clone(), seed).map_err(dkg_err)?;
            other
                .handle(Input::Start)
                .map_err(dkg_err)?
                .into_iter()
                .find_map(|o| match o {
                    Output::Broadcast(m) => Some(
                        Envelope {
                            session: context,
                            message: m,
                        }
                        .to_bytes(),
                    ),
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
        f_plus_1: (n.saturating_sub(1) / 3) as usize + 1,
        limits: config.limits(),
        context,
        config,
        keys: home.identity.clone(),
        store,
        net,
        metrics,
        fault,
        alt_deal,
        log,
        engine: None,
        start: Instant::now(),
        timers: BTreeMap::new(),
        queue: VecDeque::new(),
        held: BTreeMap::new(),
        in_log: BTreeSet::new(),
        refused: BTreeSet::new(),
        max_block_txs: HELD_PER_SENDER * 3 * n as usize,
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
        agreed,
        agreed_by: BTreeMap::new(),
        asked: BTreeMap::new(),
        served: BTreeMap::new(),
        done: BTreeMap::new(),
        culprits: BTreeSet::new(),
        outvoted: false,
        last_answer: BTreeMap::new(),
        finished: Some(done_tx),
    };
    if runner.log.is_some() {
        if fresh {
            runner.persist_log()?; // durable before the first send
        }
        runner.start_engine(home)?;
    }
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
    limits: conclave_dkg::config::Limits,
    context: [u8; 32],
    config: DkgConfig<V>,
    keys: conclave_dkg::IdentityKeys,
    store: Store,
    net: NetHandle,
    metrics: Arc<Metrics>,
    fault: TestFault,
    /// Test fault `dkg-equivocate`: the other dealing.
    alt_deal: Option<Vec<u8>>,
    /// The running DKG (until it finished).
    log: Option<StoredLog<V>>,
    /// The DKG log's engine (until the DKG finished).
    engine: Option<Engine>,
    start: Instant,
    timers: BTreeMap<TimerId, Time>,
    queue: VecDeque<conclave_bft::Input>,
    /// Held transactions not yet in a decided block, by SHA-256.
    held: BTreeMap<[u8; 32], Held>,
    /// Transactions already in decided blocks, by SHA-256.
    in_log: BTreeSet<[u8; 32]>,
    /// Transactions that failed [`AdaptiveDriver::check`], by SHA-256 (at most
    /// [`MAX_REFUSED`]).
    refused: BTreeSet<[u8; 32]>,
    max_block_txs: usize,
    /// The finished transcript this node serves ([`Participant::transcript`] encoded).
    transcript: Vec<Vec<u8>>,
    output: Option<(DkgOutput<V>, [u8; 32])>,
    agreed: bool,
    /// Peers that announced agreement on a transcript hash.
    agreed_by: BTreeMap<u32, [u8; 32]>,
    /// When this node last asked each peer for a transcript.
    asked: BTreeMap<u32, Instant>,
    /// When this node last served each peer a transcript.
    served: BTreeMap<u32, Instant>,
    done: BTreeMap<u32, [u8; 32]>,
    /// Peers that announced another transcript hash.
    culprits: BTreeSet<u32>,
    /// A quorum of other nodes agreed on a hash that is not ours (logged once).
    outvoted: bool,
    last_answer: BTreeMap<u32, Instant>,
    finished: Option<Finished<V>>,
}

impl<V: Variant> Runner<V> {
    /// Create or restore the log's engine; repair a crash between the engine's write of a
    /// decision and the driver's.
    fn start_engine(&mut self, home: &Home) -> Result<(), NodeError> {
        let adapters = log_adapters(home)?;
        let config = crate::consensus::engine_config(home);
        let engine = match self.store.meta(DKG_ENGINE)? {
            Some(b) => {
                let state: PersistedState = serde_json::from_slice(&b).map_err(json_err)?;
                if let Some(d) = state.last_decided.clone() {
                    let fed = self.log.as_ref().map_or(0, |l| l.driver.height());
                    if d.certificate.height.0 == fed + 1 {
                        tracing::info!(
                            height = fed + 1,
                            "recovering a DKG log decision from the engine state"
                        );
                        self.on_decided(d)?;
                    }
                }
                tracing::info!(height = state.height.0, "DKG log engine restored");
                Engine::restore(config, adapters, state)
            }
            None => Engine::new(config, adapters, log_seed(&self.context)),
        };
        if self.log.is_none() {
            return Ok(()); // the recovered decision ended the DKG
        }
        let mut engine = engine;
        engine.set_early_filter(self.n > 1);
        self.engine = Some(engine);
        let mut entropy = [0u8; 32];
        OsRng.fill_bytes(&mut entropy);
        self.queue.push_back(conclave_bft::Input::Entropy(entropy));
        self.queue.push_back(conclave_bft::Input::Start);
        // Own transactions of the current round that the log does not carry yet.
        if let Some(log) = &self.log {
            let own: Vec<Vec<u8>> = log.own.iter().filter_map(|h| hex::decode(h).ok()).collect();
            for tx in own {
                self.hold(tx, true);
            }
        }
        Ok(())
    }

    async fn main(&mut self, mut events: mpsc::Receiver<Inbound>) -> Result<(), NodeError> {
        tracing::info!(phase = self.phase_name(), "DKG started");
        self.update_phase_metric();
        for to in 1..=self.n {
            self.send_all(to);
        }
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        loop {
            if let Err(e) = self.step() {
                tracing::error!(error = %e, "DKG failed");
                if let Some(f) = self.finished.take() {
                    let _ = f.send(Err(e));
                }
                return Ok(());
            }
            let next_timer = self.timers.values().min().copied();
            let start = self.start;
            let sleep = async move {
                match next_timer {
                    Some(t) => {
                        tokio::time::sleep_until((start + Duration::from_millis(t.0)).into()).await
                    }
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                m = events.recv() => match m {
                    Some(m) => self.on_message(m),
                    None => return Ok(()),
                },
                _ = tick.tick() => self.rebroadcast(),
                _ = sleep => {
                    let now = self.now();
                    let due: Vec<TimerId> = self
                        .timers
                        .iter()
                        .filter(|(_, at)| **at <= now)
                        .map(|(id, _)| *id)
                        .collect();
                    for id in due {
                        self.timers.remove(&id);
                        self.queue.push_back(conclave_bft::Input::Timer(id));
                    }
                }
            }
        }
    }

    fn now(&self) -> Time {
        Time(self.start.elapsed().as_millis() as u64)
    }

    /// Run the queued engine inputs, then check agreement and adoption.
    fn step(&mut self) -> Result<(), NodeError> {
        let mut budget = 4096;
        while let Some(input) = self.queue.pop_front() {
            let now = self.now();
            let Some(engine) = self.engine.as_mut() else {
                self.queue.clear();
                break;
            };
            let actions = engine.handle(now, input).actions;
            self.execute(actions)?;
            budget -= 1;
            if budget == 0 {
                break;
            }
        }
        self.check_agreement()
    }

    fn execute(&mut self, actions: Vec<Action>) -> Result<(), NodeError> {
        let mut answers = Vec::new();
        for action in actions {
            if self.engine.is_none() {
                break; // finished: the log's engine is gone
            }
            match action {
                Action::Persist(state) => {
                    let b = serde_json::to_vec(&state).map_err(json_err)?;
                    self.store.put_meta(&[(DKG_ENGINE, Some(b.as_slice()))])?;
                }
                Action::Broadcast { bytes } => {
                    self.net.broadcast(Proto::Dkg, Wire::Engine(bytes).encode());
                }
                Action::Send { to, bytes } => {
                    self.net
                        .send(to.0 + 1, Proto::Dkg, Wire::Engine(bytes).encode());
                }
                Action::SetTimer { id, at } => {
                    self.timers.insert(id, at);
                }
                Action::CancelTimer { id } => {
                    self.timers.remove(&id);
                }
                Action::RequestValue { height } => {
                    if height.0 == self.fed() + 1 {
                        answers.push(conclave_bft::Input::ProposedValue {
                            height,
                            value: self.build_block(),
                        });
                    }
                }
                Action::ValidateValue {
                    height,
                    value_id,
                    value,
                } => {
                    let valid = height.0 == self.fed() + 1 && self.validate(height, &value);
                    answers.push(conclave_bft::Input::ValueValidated {
                        height,
                        value_id,
                        valid,
                    });
                }
                Action::Decide { decided } => self.on_decided(decided)?,
                Action::Evidence(e) => {
                    self.metrics.evidence.inc();
                    tracing::warn!(culprit = e.culprit.0 + 1, kind = ?e.kind, "DKG log evidence");
                }
                other => {
                    return Err(NodeError::Dkg(format!(
                        "unknown engine action {other:?}: this host is older than the engine"
                    )))
                }
            }
        }
        for a in answers.into_iter().rev() {
            self.queue.push_front(a);
        }
        Ok(())
    }

    /// The last log height the driver took in.
    fn fed(&self) -> u64 {
        self.log.as_ref().map_or(0, |l| l.driver.height())
    }

    fn round(&self) -> Option<Phase> {
        self.log.as_ref().and_then(|l| l.driver.round())
    }

    fn persist_log(&self) -> Result<(), NodeError> {
        if let Some(log) = &self.log {
            let b = serde_json::to_vec(log).map_err(json_err)?;
            self.store.put_meta(&[(DKG_STATE, Some(b.as_slice()))])?;
        }
        Ok(())
    }

    /// Take an own or a peer's transaction: authenticated, of the current round or a later
    /// one, at most [`HELD_PER_SENDER`] per member and round, not in the log. A new one is
    /// sent (own) or relayed (a peer's) to every peer once.
    fn hold(&mut self, tx: Vec<u8>, own: bool) {
        let Some(log) = &self.log else {
            return;
        };
        let hash: [u8; 32] = Sha256::digest(&tx).into();
        if self.held.contains_key(&hash)
            || self.in_log.contains(&hash)
            || self.refused.contains(&hash)
        {
            return;
        }
        let info = match log.driver.check(&tx) {
            Ok(i) => i,
            Err(e) => {
                tracing::debug!(error = %e, "DKG transaction refused");
                // Never verified twice (bounded: forgotten wholesale when full).
                if self.refused.len() >= MAX_REFUSED {
                    self.refused.clear();
                }
                self.refused.insert(hash);
                return;
            }
        };
        if self.round().is_none_or(|r| info.round < r) {
            return; // its window is over
        }
        let same = self
            .held
            .values()
            .filter(|h| h.round == info.round && h.sender == info.sender)
            .count();
        if same >= HELD_PER_SENDER {
            return;
        }
        self.send_tx(&tx, own, None);
        self.held.insert(
            hash,
            Held {
                bytes: tx,
                round: info.round,
                sender: info.sender,
                since: Instant::now(),
                own,
            },
        );
    }

    /// Send a held transaction to every peer (or to `only`). Test faults bend this for the
    /// node's own dealing.
    fn send_tx(&self, tx: &[u8], own: bool, only: Option<u32>) {
        let others: Vec<u32> = (1..=self.n).filter(|&i| i != self.me).collect();
        let deal = own && tx.starts_with(conclave_dkg::log::ENVELOPE_TAG) && self.is_deal(tx);
        for to in others.iter().copied() {
            if only.is_some_and(|o| o != to) {
                continue;
            }
            let bytes = match (self.fault, deal) {
                (TestFault::DkgPartialSend, true) if others.first() != Some(&to) => continue,
                (TestFault::DkgEquivocate, true) if others.last() == Some(&to) => {
                    match &self.alt_deal {
                        Some(alt) => alt.clone(),
                        None => tx.to_vec(),
                    }
                }
                _ => tx.to_vec(),
            };
            self.net.send(to, Proto::Dkg, Wire::Tx(bytes).encode());
        }
    }

    fn is_deal(&self, tx: &[u8]) -> bool {
        Envelope::<V>::from_bytes(tx, &self.config)
            .is_ok_and(|e| matches!(e.message, Message::Deal(_)))
    }

    /// This node's block: every held transaction of the current round not in the log, oldest
    /// first (test faults `dkg-partial-send` and `dkg-equivocate` leave their own out, so that
    /// only the peers can bring them in).
    fn build_block(&self) -> Vec<u8> {
        let round = self.round();
        let mut txs: Vec<&Held> = self
            .held
            .values()
            .filter(|h| Some(h.round) == round)
            .filter(|h| {
                !(h.own
                    && matches!(
                        self.fault,
                        TestFault::DkgPartialSend | TestFault::DkgEquivocate
                    ))
            })
            .collect();
        txs.sort_by_key(|h| h.since);
        txs.truncate(self.max_block_txs);
        encode_block(&txs.iter().map(|h| h.bytes.as_slice()).collect::<Vec<_>>())
    }

    /// A proposed block of the current height: well framed, every transaction authenticated
    /// and of the current round, none repeated.
    fn validate(&self, height: Height, value: &[u8]) -> bool {
        let (Some(log), Some(round)) = (&self.log, self.round()) else {
            return false;
        };
        let Some(txs) = decode_block(value, self.max_block_txs) else {
            tracing::warn!(height = height.0, "malformed DKG log block");
            return false;
        };
        let mut hashes = BTreeSet::new();
        for tx in &txs {
            let hash: [u8; 32] = Sha256::digest(tx).into();
            if !hashes.insert(hash) {
                tracing::warn!(height = height.0, "DKG log block repeats a transaction");
                return false;
            }
            // A held transaction was authenticated when it was taken in: not again.
            let checked = self.held.get(&hash).map(|h| Ok(h.round));
            match checked.unwrap_or_else(|| log.driver.check(tx).map(|i| i.round)) {
                Ok(r) if r == round => {}
                Ok(r) => {
                    tracing::warn!(
                        height = height.0,
                        round = r.as_str(),
                        "DKG log block carries a transaction of another round"
                    );
                    return false;
                }
                Err(e) => {
                    tracing::warn!(height = height.0, error = %e, "DKG log block carries a bad transaction");
                    return false;
                }
            }
        }
        true
    }

    /// A decided block of the DKG log: feed it to the driver, store the driver and the new
    /// own transactions, then send them.
    fn on_decided(&mut self, decided: Decided) -> Result<(), NodeError> {
        let height = decided.certificate.height.0;
        let fed = self.fed();
        let Some(log) = self.log.as_mut() else {
            return Ok(());
        };
        if height != fed + 1 {
            tracing::warn!(height, fed, "DKG log decision out of order (ignored)");
            return Ok(());
        }
        // The engine decided it, so this node's validation (or a quorum's) passed: well framed.
        let txs = decode_block(&decided.value, usize::MAX).unwrap_or_default();
        let step = log.driver.on_block(height, &txs).map_err(dkg_err)?;
        for r in &step.rejected {
            tracing::debug!(height, reason = %r.reason, "DKG log transaction not taken");
        }
        log.own.extend(step.submit.iter().map(hex::encode));
        for tx in &txs {
            let h: [u8; 32] = Sha256::digest(tx).into();
            self.held.remove(&h);
            self.in_log.insert(h);
        }
        if let Some((round, at_limit)) = step.closed {
            if at_limit {
                let expected = log.driver.participant().config().dealers.members.len();
                tracing::warn!(
                    phase = round.as_str(),
                    height,
                    expected,
                    "DKG phase deadline passed"
                );
            }
            // The held transactions of the round just closed can no longer be taken.
            self.held.retain(|_, x| x.round > round);
        }
        match step.outcome {
            Some(LogOutcome::Finished(out)) => {
                let out = *out;
                let transcript = transcript_hash(&self.context, &out);
                let messages = self
                    .log
                    .as_ref()
                    .map(|l| {
                        l.driver
                            .participant()
                            .transcript(&out.qualified)
                            .iter()
                            .map(Message::to_bytes)
                            .collect()
                    })
                    .unwrap_or_default();
                self.finish(out, transcript, messages)?;
            }
            Some(LogOutcome::Failed { reason }) => {
                return Err(NodeError::Dkg(format!("the DKG failed: {reason}")));
            }
            Some(_) => return Err(NodeError::Dkg("unknown DKG outcome".into())),
            None => {
                self.persist_log()?; // durable before the new transactions are sent
                if step.closed.is_some() {
                    tracing::info!(phase = self.phase_name(), height, "DKG phase");
                    self.update_phase_metric();
                }
                for tx in step.submit {
                    self.hold(tx, true);
                }
            }
        }
        Ok(())
    }

    fn phase_name(&self) -> &'static str {
        match (self.round(), self.agreed) {
            (Some(p), _) => p.as_str(),
            (None, false) => "done",
            (None, true) => "agreed",
        }
    }

    fn update_phase_metric(&self) {
        let code = match (self.round(), self.agreed) {
            (Some(p), _) => phase_code(Some(p)),
            (None, false) => 4,
            (None, true) => 5,
        };
        self.metrics.dkg_phase.set(code);
    }

    /// The transcript hash this node announces (its own, unless a test fault says otherwise).
    fn announced(&self) -> Option<[u8; 32]> {
        let own = self.output.as_ref().map(|(_, t)| *t);
        match self.fault {
            TestFault::DkgWrongTranscript => Some(Sha256::digest(own.unwrap_or_default()).into()),
            _ => own,
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

    /// Re-send this node's own held transactions and its announcement to `to`.
    fn send_all(&self, to: u32) {
        for h in self.held.values().filter(|h| h.own) {
            self.send_tx(&h.bytes, true, Some(to));
        }
        if let Some(w) = self.announcement() {
            self.net.send(to, Proto::Dkg, w.encode());
        }
    }

    /// Re-send to every peer that has not reported the same transcript hash as this node's.
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
            Wire::Engine(bytes) => {
                if self.engine.is_some() {
                    self.queue.push_back(conclave_bft::Input::Message {
                        from: NodeId(m.from - 1),
                        bytes,
                    });
                } else {
                    self.answer_finished(m.from);
                }
            }
            Wire::Tx(bytes) => {
                if self.log.is_some() {
                    self.hold(bytes, false);
                } else {
                    self.answer_finished(m.from);
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

    /// A finished node tells a peer that still runs the DKG its result (at most every 500 ms),
    /// so the peer can adopt the transcript.
    fn answer_finished(&mut self, to: u32) {
        let now = Instant::now();
        let due = self
            .last_answer
            .get(&to)
            .is_none_or(|t| now.duration_since(*t) > Duration::from_millis(500));
        if due {
            self.last_answer.insert(to, now);
            self.send_all(to);
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
            .map_err(dkg_err)?;
        let mut seed = [0u8; 32];
        OsRng.fill_bytes(&mut seed);
        let out = Participant::recover(
            self.config.clone(),
            self.keys.clone(),
            seed,
            &qualified,
            decoded,
        )
        .map_err(dkg_err)?;
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

    /// Store an outcome (own or adopted) with the transcript it serves, replacing the running
    /// DKG (driver, participant and seed, the log's engine state), and announce it.
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
        self.store.put_meta(&[
            (DKG_OUTPUT, Some(bytes.as_slice())),
            (DKG_STATE, None),
            (DKG_ENGINE, None),
        ])?;
        self.log = None;
        self.engine = None;
        self.timers.clear();
        self.queue.clear();
        self.held.clear();
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

    /// Adopt a settled transcript this node lacks; count culprits; agree once a quorum
    /// reports this node's hash.
    fn check_agreement(&mut self) -> Result<(), NodeError> {
        // The others settled a transcript this node does not have (it missed the DKG, or was
        // down while they finished): fetch it, check it, derive the share from it.
        if !self.agreed {
            if let Some(h) = self.adoptable() {
                if self.output.as_ref().map(|(_, t)| *t) != Some(h) {
                    self.request_transcript(h);
                }
            }
        }
        let Some((out, t)) = &self.output else {
            return Ok(());
        };
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
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_round_trips_and_rejects_junk() {
        for w in [
            Wire::Done([7; 32]),
            Wire::Agreed([8; 32]),
            Wire::Engine(vec![1, 0, 0]),
            Wire::Tx(vec![9; 40]),
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
        assert_eq!(Wire::decode(&[8]), None);
        assert_eq!(Wire::decode(&[9]), None);
        assert_eq!(
            Wire::decode(&[1, 1, 0]),
            None,
            "the old envelope tag is gone"
        );
        assert_eq!(Wire::decode(&[2, 1]), None);
        assert_eq!(Wire::decode(&[]), None);
    }

    #[test]
    fn blocks_round_trip_and_refuse_bad_framing() {
        let txs: Vec<&[u8]> = vec![b"a", b"", b"ccc"];
        let b = encode_block(&txs);
        assert_eq!(
            decode_block(&b, 3),
            Some(vec![b"a".to_vec(), Vec::new(), b"ccc".to_vec()])
        );
        assert_eq!(decode_block(&b, 2), None, "more txs than allowed");
        for cut in 0..b.len() {
            assert_eq!(decode_block(&b[..cut], 3), None, "cut at {cut}");
        }
        let mut long = b.clone();
        long.push(0);
        assert_eq!(decode_block(&long, 3), None);
        assert_eq!(decode_block(&encode_block(&[]), 0), Some(Vec::new()));
    }

    #[test]
    fn threshold_is_2f_for_3f_plus_1() {
        assert_eq!(threshold_degree(4), 2);
        assert_eq!(threshold_degree(7), 4);
        assert_eq!(threshold_degree(1), 0);
    }
}
