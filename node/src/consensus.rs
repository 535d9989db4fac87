//! The consensus driver: the one place where every engine [`Action`] is carried out. It is
//! the worked example of embedding `conclave_bft::Engine`.
//!
//! Each engine step's actions are carried out in order. [`Action::Persist`] is written to redb
//! in one synced transaction *before* any later action of the step (a send, a timer, a
//! decision); if that write fails the node stops (no send ever follows a failed persist).
//! [`Action::Decide`] applies the block in one transaction (block, certificate, tx index, KV
//! writes, tip): the engine persists its next-height state just before emitting it, and that
//! state carries the decision, so after a crash between the two the restart applies it from
//! the persisted state (`recover`). Application requests (build a block, validate one) are
//! answered synchronously and fed back before any other queued input, so a run of sync
//! decisions for consecutive heights is taken in order.
//!
//! Sync: a task polls the connected peers' tips and, when this node is more than one block
//! behind, fetches the missing decisions (blocks with certificates, range requests capped in
//! bytes), checks the run's shape — consecutive heights, the block hash is the certified value
//! id, the parent links — and hands it to the driver, which feeds each decision to the engine as
//! [`Input::Synced`]. The engine is the one place that checks the certificate and beacon under
//! the group key (at any period in threshold mode) and asks the application to validate the
//! block; nothing is applied before that, so the pairings are done once per synced block, and a
//! node catches up however far behind it is.

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use conclave_bft::adapter::{ThresholdSigner, ThresholdVerifier, VrfRoster, VrfSortition};
use conclave_bft::epoch::Registry;
use conclave_bft::traits::{verify_decision_certificate, Verifier};
use conclave_bft::types::{Decided, Epoch, Height, Message, NodeId, Period, Seed, Time, VoteStep};
use conclave_bft::{Action, Adapters, Config, Engine, Input, PersistedState, Timeouts, TimerId};
use conclave_committee::vrf::PublicKey as VrfPublicKey;
use conclave_threshold_sig::{Commitment, PublicKey, SecretShare, Variant};
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, watch};

use crate::app::{next_app_hash, tx_hash, validate_block, Block, Mempool, Tip};
use crate::compact::{
    fetch_request, serve_fetch, InFlight, Reassembly, MAX_PENDING_PER_PEER, SYNC_TXS,
};
use crate::config::{Genesis, Home, Tuning};
use crate::dkg::DkgResult;
use crate::epochs::{check_form, Epochs, EPOCH_STATE};
use crate::metrics::Metrics;
use crate::net::{Inbound, NetHandle, Proto, SyncRequest, MAX_SYNC_RESPONSE};
use crate::state::LastDecided;
use crate::store::{EngineStateWrite, Store, ENGINE_EPOCH, ENGINE_STATE};
use crate::timing::{TimedSigner, TimedSortition, TimedVerifier};
use crate::NodeError;

/// Consensus payload tag: an engine message.
pub const TAG_ENGINE: u8 = 0;
/// Consensus payload tag: a forwarded transaction.
pub const TAG_TX: u8 = 1;
/// Consensus payload tag: a batch of forwarded transactions, `(len u32 ‖ tx)*`.
pub const TAG_TXS: u8 = 2;
/// Consensus payload tag: a proposal in compact form (its block's txs as hashes; see
/// [`crate::compact`]).
pub const TAG_COMPACT: u8 = 3;
/// Bytes of txs kept from this node's sent proposals to serve fetches ([`Shared::sent_txs`]).
pub const SENT_TXS_CACHE: usize = 32 << 20;
/// How long a compact proposal's fetch may take before the rebuild is dropped.
pub const COMPACT_FETCH_TIMEOUT: Duration = Duration::from_secs(2);
/// A forward batch is sent once it holds this many bytes (else every [`FORWARD_EVERY`]).
pub const FORWARD_BATCH_BYTES: usize = 256 << 10;
/// Interval at which pending forwards are sent.
pub const FORWARD_EVERY: Duration = Duration::from_millis(5);

/// State shared by the driver, the API and the sync tasks.
pub struct Shared {
    /// The database.
    pub store: Store,
    /// Pending transactions.
    pub mempool: Mutex<Mempool>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// The transport.
    pub net: NetHandle,
    /// The genesis.
    pub genesis: Genesis,
    /// This node's index.
    pub me: u32,
    /// Limits.
    pub tuning: Tuning,
    /// The group public key (hex) once the DKG is agreed.
    pub group_public_key: RwLock<Option<String>>,
    /// The applied tip.
    pub tip: watch::Sender<Tip>,
    /// The txs of the compact proposals this node sent or rebuilt, to serve its peers'
    /// fetches after the txs leave the mempool (bounded: [`SENT_TXS_CACHE`]).
    pub sent_txs: Mutex<crate::compact::TxCache>,
    /// Txs to forward to the peers, batched (`TAG_TXS` body; sent by [`Shared::flush_forwards`]):
    /// one message per batch instead of one per tx and peer keeps the transport's queue free
    /// for consensus messages under load.
    pub forward: Mutex<Vec<u8>>,
    /// When the last forward batch left ([`Shared::forward_tx`] sends at once after a quiet
    /// [`FORWARD_EVERY`], so a tx under light load waits for no tick).
    pub forwarded_at: Mutex<std::time::Instant>,
    /// The epochs as the API sees them (`None` on a chain without epochs or before the DKG).
    pub epochs: RwLock<Option<EpochsView>>,
}

/// The epoch state the API reads, replaced after every applied block.
pub struct EpochsView {
    /// The validator set and the decided changes.
    pub registry: Registry,
    /// Every registered peer id (a join may not reuse one).
    pub taken_peers: BTreeSet<String>,
    /// `GET /v1/epoch`.
    pub view: serde_json::Value,
}

impl Shared {
    /// True if the chain has epochs (committee and resharing transactions exist).
    pub fn epochs_enabled(&self) -> bool {
        self.genesis.epochs.is_some()
    }

    /// True if the tx is in the ledger.
    pub fn committed(&self, hash: &[u8; 32]) -> bool {
        self.store.tx_height(hash).ok().flatten().is_some()
    }

    /// Take a new, well-formed tx into the mempool and forward it to the peers; `Ok(false)` if
    /// it was already pending or committed.
    pub fn submit(&self, tx: Vec<u8>, forward: bool) -> Result<bool, crate::app::MempoolError> {
        if self.committed(&tx_hash(&tx)) {
            return Ok(false);
        }
        let added = {
            let mut m = self.mempool.lock().unwrap_or_else(|e| e.into_inner());
            let r = m.insert(tx.clone());
            self.metrics.mempool.set(m.len() as i64);
            r?
        };
        if added && forward {
            self.forward_tx(&tx);
        }
        Ok(added)
    }

    /// Queue a tx for the next forward batch to the peers. The batch leaves at once if it is
    /// full or if nothing was forwarded for [`FORWARD_EVERY`] (light load: the tx reaches the
    /// next proposer without waiting for a tick), else at the next tick.
    pub fn forward_tx(&self, tx: &[u8]) {
        let full = {
            let mut f = self.forward.lock().unwrap_or_else(|e| e.into_inner());
            if f.is_empty() {
                f.push(TAG_TXS);
            }
            f.extend_from_slice(&(tx.len() as u32).to_be_bytes());
            f.extend_from_slice(tx);
            f.len() >= FORWARD_BATCH_BYTES
        };
        let quiet = || {
            self.forwarded_at
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .elapsed()
                >= FORWARD_EVERY
        };
        if full || quiet() {
            self.flush_forwards();
        }
    }

    /// The tx with this hash, from the mempool or the sent proposals' cache.
    pub fn known_tx(&self, hash: &[u8; 32]) -> Option<Vec<u8>> {
        if let Some(tx) = self
            .mempool
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(hash)
        {
            return Some(tx.clone());
        }
        self.sent_txs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(hash)
            .cloned()
    }

    /// Send the pending forward batch to every peer.
    pub fn flush_forwards(&self) {
        let batch = std::mem::take(&mut *self.forward.lock().unwrap_or_else(|e| e.into_inner()));
        if !batch.is_empty() {
            *self.forwarded_at.lock().unwrap_or_else(|e| e.into_inner()) =
                std::time::Instant::now();
            self.net.broadcast(Proto::Consensus, batch);
        }
    }
}

/// The genesis sortition seed: bound to the chain and the DKG'd key (unknown before the DKG).
pub fn genesis_seed(chain_id: &str, group_public_key: &[u8]) -> Seed {
    Seed(
        Sha256::new()
            .chain_update(b"conclave-node/genesis-seed/v1")
            .chain_update((chain_id.len() as u64).to_be_bytes())
            .chain_update(chain_id.as_bytes())
            .chain_update(group_public_key)
            .finalize()
            .into(),
    )
}

/// This node's proposer sortition over the genesis VRF keys (every seat votes).
pub(crate) fn vrf_sortition(home: &Home) -> Result<VrfSortition, NodeError> {
    let keys = home
        .genesis
        .nodes
        .iter()
        .map(|n| n.vrf_public())
        .collect::<Result<Vec<_>, _>>()?;
    let roster =
        Arc::new(VrfRoster::new(0, keys, None).map_err(|e| NodeError::Config(e.to_string()))?);
    Ok(VrfSortition::new(
        NodeId(home.config.index - 1),
        home.vrf.clone(),
        roster,
    ))
}

/// The engine configuration of this node from its tuning (consensus and the DKG log alike).
pub(crate) fn engine_config(home: &Home) -> Config {
    engine_config_for(home, home.config.index, 0)
}

/// [`engine_config`] for `seat` (1-based) in `epoch`.
pub(crate) fn engine_config_for(home: &Home, seat: u32, epoch: u64) -> Config {
    let t = home.config.tuning;
    let mut config = Config::new(NodeId(seat - 1), Epoch(epoch));
    config.timeouts = Timeouts::default();
    config.timeouts.filter_ms = t.filter_ms;
    config.timeouts.next_ms = t.next_ms;
    config.timeouts.resend_ms = t.resend_ms;
    config.timeouts.max_backoff = 8;
    // λ_f = 25 × next_ms, as in the engine's defaults.
    config.timeouts.recovery_ms = 25 * t.next_ms;
    config
}

/// The threshold-mode adapters of one epoch: its commitment (`n` seats), this node's share of
/// `seat`, the seats' VRF keys.
#[allow(clippy::too_many_arguments)]
fn epoch_adapters<V: Variant>(
    home: &Home,
    commitment: &Commitment<V>,
    n: u32,
    shares: &[SecretShare],
    seat: u32,
    epoch: u64,
    vrf_keys: Vec<VrfPublicKey>,
    metrics: &Arc<Metrics>,
) -> Result<(Adapters, Arc<ThresholdVerifier<V>>), NodeError> {
    let dst = home.genesis.dst.as_bytes();
    let verifier = epoch_verifier(home, commitment, n)?;
    let share = shares
        .iter()
        .find(|s| s.index() == seat)
        .cloned()
        .ok_or_else(|| NodeError::Dkg(format!("this node holds no share of seat {seat}")))?;
    let signer = ThresholdSigner::<V>::new(NodeId(seat - 1), share, dst)
        .map_err(|e| NodeError::Dkg(e.to_string()))?;
    let roster = Arc::new(
        VrfRoster::new(epoch, vrf_keys, None).map_err(|e| NodeError::Config(e.to_string()))?,
    );
    let sortition = VrfSortition::new(NodeId(seat - 1), home.vrf.clone(), roster);
    // The engine's crypto goes through timing wrappers (`/metrics`: conclave_time_seconds).
    Ok((
        Adapters {
            committee: verifier.clone(),
            sortition: Arc::new(TimedSortition::new(Arc::new(sortition), metrics.clone())),
            signer: Arc::new(TimedSigner::new(Arc::new(signer), metrics.clone())),
            verifier: Arc::new(TimedVerifier::new(verifier.clone(), metrics.clone())),
        },
        verifier,
    ))
}

/// A verifier of one epoch's key (`n` seats): all an observer needs, since certificates verify
/// under the group key alone.
fn epoch_verifier<V: Variant>(
    home: &Home,
    commitment: &Commitment<V>,
    n: u32,
) -> Result<Arc<ThresholdVerifier<V>>, NodeError> {
    let mut salt = [0u8; 32];
    OsRng.fill_bytes(&mut salt);
    Ok(Arc::new(
        ThresholdVerifier::<V>::new(commitment.clone(), n, home.genesis.dst.as_bytes(), salt)
            .map_err(|e| NodeError::Dkg(e.to_string()))?,
    ))
}

/// Inputs the driver receives besides peer messages.
pub enum DriverEvent {
    /// A verified decision fetched by sync, served by node `from`.
    Synced {
        /// The serving node.
        from: u32,
        /// The decision.
        decided: Decided,
    },
    /// The answer (or `None`: failure, timeout) of the fetch for compact proposal `id` of
    /// node `from`.
    Txs {
        /// The node that sent the compact proposal (and was asked).
        from: u32,
        /// The rebuild it is for.
        id: u64,
        /// The fetch response.
        response: Option<Vec<u8>>,
    },
}

/// A compact proposal waiting for its missing txs.
struct Rebuild {
    id: u64,
    reassembly: Reassembly,
}

/// Writes of the steps since the last flush, committed in one transaction before the next send
/// (the group commit; see [`Driver::flush`]).
#[derive(Default)]
struct Pending {
    /// The engine's latest persisted state.
    state: Option<Box<PersistedState>>,
    /// Decided blocks not yet in the ledger, in order.
    decisions: Vec<(Block, Decided)>,
    /// Their tx hashes (committed as far as building and validating blocks go).
    txs: HashSet<[u8; 32]>,
    /// The epoch state after them.
    epochs: Option<Vec<u8>>,
    /// Resharing messages to forward once the state that made them is on disk.
    submit: Vec<Vec<u8>>,
    /// Validators that joined in these blocks: connect to them once the blocks are on disk.
    new_peers: Vec<(u32, crate::epochs::NetEntry)>,
}

/// Let the transport accept and dial a validator that joined.
fn add_peer(shared: &Shared, id: u32, entry: &crate::epochs::NetEntry) {
    match (entry.peer_id.parse(), entry.p2p.parse()) {
        (Ok(peer), Ok(addr)) => shared.net.add_peer(id, peer, addr),
        _ => tracing::warn!(id, "a joined validator's network entry does not parse"),
    }
}

/// When this node reached each phase of the current height (for `conclave_time_seconds`).
struct Phases {
    start: Instant,
    proposal: Option<Instant>,
    soft: Option<Instant>,
    cert: Option<Instant>,
}

impl Phases {
    fn new() -> Self {
        Phases {
            start: Instant::now(),
            proposal: None,
            soft: None,
            cert: None,
        }
    }
}

struct Driver<V: Variant> {
    shared: Arc<Shared>,
    home: Home,
    /// `None` while this node holds no seat in the current epoch (it follows by sync).
    engine: Option<Engine>,
    /// The epoch of `engine` (or of the last key this node knows).
    engine_epoch: u64,
    /// Checks certificates under the group key (any epoch's key does: it is the same).
    verifier: Arc<ThresholdVerifier<V>>,
    /// The chain's epochs (`None`: one committee for ever).
    epochs: Option<Epochs<V>>,
    start: Instant,
    timers: BTreeMap<TimerId, Time>,
    queue: VecDeque<Input>,
    /// The tip including pending (decided, not yet committed) blocks.
    tip: Tip,
    /// The tip in the ledger.
    durable_tip: Tip,
    pending: Pending,
    /// Own proposals already in the store, by (height, period).
    stored_proposals: BTreeSet<(u64, u32)>,
    phases: Phases,
    /// Compact proposals waiting for a fetch, per sending peer (at most
    /// [`crate::compact::MAX_PENDING_PER_PEER`] each, newest kept).
    rebuilds: BTreeMap<u32, VecDeque<Rebuild>>,
    next_rebuild: u64,
    /// Fetches in flight per peer (bounded).
    fetching: InFlight,
    /// The driver's own event channel (fetch answers come back on it).
    events: mpsc::Sender<DriverEvent>,
    /// Peers' resharing messages held per (session, sender, round): at most
    /// [`MAX_ENVELOPES_PER_ROUND`] each.
    envelopes: BTreeMap<([u8; 32], u32, &'static str), usize>,
    /// Resharing messages that came while no resharing ran here (a peer that applied the
    /// snapshot block a moment earlier): at most [`MAX_EARLY_PER_PEER`] per peer, checked once
    /// this node's resharing starts.
    early: BTreeMap<u32, VecDeque<Vec<u8>>>,
    /// Test fault `reshare-silent`: post none of this node's resharing messages.
    reshare_silent: bool,
    /// Peers' committee transactions held per (epoch, signer).
    committee_txs: BTreeMap<(u64, String), usize>,
}

/// Resharing messages held per peer before this node's resharing started.
pub const MAX_EARLY_PER_PEER: usize = 4;

/// Resharing messages of one sender and round this node holds (an honest member posts one; a
/// second, different one is equivocation and still worth carrying as evidence).
pub const MAX_ENVELOPES_PER_ROUND: usize = 3;

/// Apply the decision carried by the persisted state if the crash came between the engine's
/// persist and the ledger write (the engine persists height h+1 with `last_decided` = h just
/// before it emits the decision of h).
fn recover(shared: &Shared, state: &PersistedState, tip: Tip) -> Result<Tip, NodeError> {
    if let Some(d) = &state.last_decided {
        if d.certificate.height.0 == tip.height + 1 {
            let block = Block::decode(&d.value).map_err(|e| NodeError::Store(e.to_string()))?;
            tracing::info!(
                height = block.height,
                "recovering a decision from the engine state"
            );
            return shared
                .store
                .apply(&block, d.certificate.value_id.0, d, &tip);
        }
    }
    Ok(tip)
}

/// How a node starts consensus.
pub enum Start<V: Variant> {
    /// A genesis node, with its genesis DKG's outcome.
    Genesis(DkgResult<V>),
    /// A node that is not in the genesis, with the group key it trusts (it joins by a
    /// transaction and follows the chain until its seat begins).
    Joiner(PublicKey<V>),
}

/// Run consensus until `shutdown` fires or an essential step fails.
pub async fn run<V: Variant>(
    home: &Home,
    shared: Arc<Shared>,
    start: Start<V>,
    mut inbound: mpsc::Receiver<Inbound>,
    sync_requests: mpsc::Receiver<SyncRequest>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), NodeError> {
    let (dkg, gpk_key) = match start {
        Start::Genesis(d) => {
            let k = d.output.group_public_key;
            (Some(d), k)
        }
        Start::Joiner(k) => (None, k),
    };
    let gpk = gpk_key.to_bytes();
    *shared
        .group_public_key
        .write()
        .unwrap_or_else(|e| e.into_inner()) = Some(hex::encode(&gpk));
    let genesis_seed = genesis_seed(&home.genesis.chain_id, &gpk);
    let mut tip = shared.store.tip()?;
    let stored_state = shared.store.meta(ENGINE_STATE)?;
    let mut restored = None;
    if let Some(b) = &stored_state {
        let store = &shared.store;
        let state = crate::state::decode(
            b,
            |h, p| store.own_proposal(h, p).ok().flatten(),
            |h| store.decided(h).ok().flatten(),
        )
        .map_err(|e| NodeError::Store(e.to_string()))?;
        // Only the legacy JSON state can hold a decision the ledger lacks.
        tip = recover(&shared, &state, tip)?;
        restored = Some(state);
    }
    let mut epochs = match &home.genesis.epochs {
        None => None,
        Some(cfg) => Some(load_epochs::<V>(
            home,
            &shared,
            cfg,
            dkg.as_ref(),
            &gpk_key,
            genesis_seed,
            tip,
        )?),
    };
    let stored_epoch = match shared.store.meta(ENGINE_EPOCH)? {
        Some(b) => u64::from_be_bytes(
            b.as_slice()
                .try_into()
                .map_err(|_| NodeError::Store("corrupt engine epoch".into()))?,
        ),
        None => 0,
    };
    // The key, seat and epoch this node runs (or follows) with.
    let (epoch, seat, commitment, n, shares, vrf_keys) = match (&epochs, &dkg) {
        (None, Some(dkg)) => (
            0,
            Some(home.config.index),
            dkg.output.commitment.clone(),
            home.genesis.n(),
            dkg.output.shares.clone(),
            home.genesis
                .nodes
                .iter()
                .map(|n| n.vrf_public())
                .collect::<Result<Vec<_>, _>>()?,
        ),
        (None, None) => {
            return Err(NodeError::Config(
                "a node outside the genesis needs a chain with epochs".into(),
            ))
        }
        (Some(e), _) => match e.any_key() {
            Some(k) => {
                let seat = e.my_seat();
                (
                    k.epoch,
                    seat,
                    k.commitment.clone(),
                    k.committee.seats(),
                    k.shares.clone(),
                    if seat.is_some() {
                        vrf_public_keys(e)?
                    } else {
                        Vec::new()
                    },
                )
            }
            // A joining node before block 1's marker: the group key is all it knows (a
            // commitment of degree 0 whose constant term is that key verifies certificates).
            None => (
                0,
                None,
                Commitment::<V>::from_bytes(&gpk).map_err(|e| NodeError::Dkg(e.to_string()))?,
                1,
                Vec::new(),
                Vec::new(),
            ),
        },
    };
    let verifier = epoch_verifier(home, &commitment, n)?;
    let mut stored_proposals = BTreeSet::new();
    let engine = match seat {
        None => {
            tracing::info!(epoch, "no seat in this epoch: following by sync");
            None
        }
        Some(seat) => {
            let (adapters, _) = epoch_adapters(
                home,
                &commitment,
                n,
                &shares,
                seat,
                epoch,
                vrf_keys,
                &shared.metrics,
            )?;
            let config = engine_config_for(home, seat, epoch);
            Some(match restored {
                Some(state) if stored_epoch == epoch && state.height.0 == tip.height + 1 => {
                    for p in &state.own_proposals {
                        stored_proposals.insert((p.height.0, p.period.0));
                    }
                    tracing::info!(
                        height = state.height.0,
                        period = state.period.0,
                        epoch,
                        "engine restored"
                    );
                    Engine::restore(config, adapters, state)
                }
                Some(state) if epochs.is_none() => {
                    tracing::info!(height = state.height.0, "engine restored");
                    Engine::restore(config, adapters, state)
                }
                None if tip.height == 0 => Engine::new(config, adapters, genesis_seed),
                _ => {
                    // The epoch's engine never persisted: it starts at the next height, with
                    // that height's seed from the epoch's first seed and the certificates since.
                    let invariant = || NodeError::Dkg("a seat without this epoch's key".into());
                    let k = epochs
                        .as_ref()
                        .and_then(|e| e.key())
                        .ok_or_else(invariant)?;
                    let mut seed = Seed(k.seed);
                    for h in k.first_height..=tip.height {
                        let d = shared.store.decided(h)?.ok_or_else(|| {
                            NodeError::Store(format!("block {h} missing from the ledger"))
                        })?;
                        seed = verifier.next_seed(&seed, &d.certificate);
                    }
                    tracing::info!(
                        height = tip.height + 1,
                        epoch,
                        "engine started for the epoch"
                    );
                    Engine::restore(
                        config,
                        adapters,
                        fresh_state(tip.height + 1, seed, shared.store.decided(tip.height)?),
                    )
                }
            })
        }
    };
    if let Some(e) = epochs.as_mut() {
        for (id, entry) in e.peers() {
            add_peer(&shared, *id, entry);
        }
        // Own resharing messages not yet in a block go out again.
        if crate::TestFault::from_env() != crate::TestFault::ReshareSilent {
            for tx in e.own_pending() {
                let _ = shared.submit(tx, true);
            }
        }
        publish_epochs(&shared, e);
    }
    // Soft-vote as soon as every seat's proposal is in (only *when*, never *what*: liveness).
    // With one seat every height would end at once: empty blocks stay paced by the filter.
    let mut engine = engine;
    if let Some(engine) = engine.as_mut() {
        engine.set_early_filter(n > 1);
    }
    shared.tip.send_replace(tip);
    shared.metrics.height.set(tip.height as i64);
    let (sync_tx, mut sync_rx) = mpsc::channel::<DriverEvent>(256);
    let serve = tokio::spawn(serve_sync(shared.clone(), sync_requests));
    let forwarder = {
        let shared = shared.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(FORWARD_EVERY);
            loop {
                tick.tick().await;
                shared.flush_forwards();
            }
        })
    };
    let events = sync_tx.clone();
    let fetch = tokio::spawn(fetch_sync(shared.clone(), verifier.clone(), sync_tx));
    let mut entropy = [0u8; 32];
    OsRng.fill_bytes(&mut entropy);
    let mut d = Driver {
        shared,
        home: home.clone(),
        engine,
        engine_epoch: epoch,
        verifier,
        epochs,
        start: Instant::now(),
        timers: BTreeMap::new(),
        queue: VecDeque::from([Input::Entropy(entropy), Input::Start]),
        tip,
        durable_tip: tip,
        pending: Pending::default(),
        stored_proposals,
        phases: Phases::new(),
        rebuilds: BTreeMap::new(),
        next_rebuild: 0,
        fetching: InFlight::default(),
        events,
        envelopes: BTreeMap::new(),
        early: BTreeMap::new(),
        reshare_silent: crate::TestFault::from_env() == crate::TestFault::ReshareSilent,
        committee_txs: BTreeMap::new(),
    };
    let result = d.main(&mut inbound, &mut sync_rx, &mut shutdown).await;
    serve.abort();
    fetch.abort();
    forwarder.abort();
    result
}

/// A fresh engine state at `height` with `seed` (an epoch's engine before its first persist).
fn fresh_state(height: u64, seed: Seed, last_decided: Option<Decided>) -> PersistedState {
    PersistedState {
        height: Height(height),
        period: Period(1),
        seed,
        previous_next_quorums: Vec::new(),
        own_votes: Vec::new(),
        own_proposals: Vec::new(),
        last_decided,
    }
}

/// The VRF keys of the current committee's seats.
fn vrf_public_keys<V: Variant>(e: &Epochs<V>) -> Result<Vec<VrfPublicKey>, NodeError> {
    e.seat_vrf_keys()?
        .iter()
        .map(|k| VrfPublicKey::from_bytes(k).map_err(|e| NodeError::Config(e.to_string())))
        .collect()
}

/// The epoch state at start: restored (or genesis), then brought up to the ledger's tip from
/// the stored blocks (a store written without epochs, or the legacy recovery path).
fn load_epochs<V: Variant>(
    home: &Home,
    shared: &Shared,
    cfg: &crate::epochs::GenesisEpochs,
    dkg: Option<&DkgResult<V>>,
    group_key: &PublicKey<V>,
    seed: Seed,
    tip: Tip,
) -> Result<Epochs<V>, NodeError> {
    let me = home.config.index;
    let mut e = match (shared.store.meta(EPOCH_STATE)?, dkg) {
        (Some(b), _) => Epochs::restore(&home.genesis, cfg, home.identity.clone(), &b)?,
        (None, Some(dkg)) => Epochs::genesis(
            &home.genesis,
            cfg,
            me,
            home.identity.clone(),
            &dkg.output,
            seed,
        )?,
        (None, None) => Epochs::joiner(&home.genesis, cfg, home.identity.clone(), group_key)?,
    };
    if e.last() < tip.height {
        for h in e.last() + 1..=tip.height {
            let d = shared
                .store
                .decided(h)?
                .ok_or_else(|| NodeError::Store(format!("block {h} missing from the ledger")))?;
            let block = Block::decode(&d.value).map_err(|e| NodeError::Store(e.to_string()))?;
            e.on_block(h, &block.txs, &d.certificate.beacon)?;
        }
        shared.store.put_meta(&[(EPOCH_STATE, Some(&e.encode()))])?;
    }
    if e.last() != tip.height {
        return Err(NodeError::Store(format!(
            "the epoch state is at block {}, the ledger at {}",
            e.last(),
            tip.height
        )));
    }
    Ok(e)
}

/// Publish the epoch state to the API and the metrics.
fn publish_epochs<V: Variant>(shared: &Shared, e: &Epochs<V>) {
    shared.metrics.epoch.set(e.epoch() as i64);
    *shared.epochs.write().unwrap_or_else(|p| p.into_inner()) = Some(EpochsView {
        registry: e.registry().clone(),
        taken_peers: e.taken_peers(),
        view: e.view(),
    });
}

impl<V: Variant> Driver<V> {
    fn now(&self) -> Time {
        Time(self.start.elapsed().as_millis() as u64)
    }

    async fn main(
        &mut self,
        inbound: &mut mpsc::Receiver<Inbound>,
        sync_rx: &mut mpsc::Receiver<DriverEvent>,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<(), NodeError> {
        loop {
            if *shutdown.borrow() {
                return Ok(());
            }
            // A bounded run of inputs, so a node whose heights need no peer (one seat) still
            // yields to the runtime and sees the shutdown.
            for _ in 0..256 {
                let Some(input) = self.queue.pop_front() else {
                    break;
                };
                let now = self.now();
                let m = self.shared.metrics.clone();
                let Some(engine) = self.engine.as_mut() else {
                    self.observe(input)?;
                    continue;
                };
                let step = m.timed("engine_handle", || engine.handle(now, input));
                self.execute(step.actions)?;
            }
            // Nothing stays pending while the driver waits.
            self.flush()?;
            if !self.queue.is_empty() {
                tokio::task::yield_now().await;
                continue;
            }
            let next_timer = self.timers.values().min().copied();
            let sleep = async {
                match next_timer {
                    Some(t) => {
                        tokio::time::sleep_until((self.start + Duration::from_millis(t.0)).into())
                            .await
                    }
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                m = inbound.recv() => {
                    let Some(m) = m else { return Ok(()) };
                    self.on_inbound(m);
                }
                e = sync_rx.recv() => match e {
                    Some(DriverEvent::Synced { from, decided }) => {
                        tracing::debug!(from, height = decided.certificate.height.0, "synced decision");
                        self.queue.push_back(Input::Synced { decided });
                    }
                    Some(DriverEvent::Txs { from, id, response }) => {
                        self.on_fetched(from, id, response);
                    }
                    None => {}
                },
                _ = sleep => {
                    let now = self.now();
                    let due: Vec<TimerId> = self
                        .timers
                        .iter()
                        .filter(|(_, at)| **at <= now)
                        .map(|(id, _)| *id)
                        .collect();
                    for id in due {
                        if let Some(e) = &self.engine {
                            tracing::debug!(
                                timer = ?id,
                                height = e.height().0,
                                period = e.period().0,
                                round = %e.debug_summary(),
                                "timer"
                            );
                        }
                        self.timers.remove(&id);
                        self.queue.push_back(Input::Timer(id));
                    }
                }
                _ = shutdown.changed() => return Ok(()),
            }
        }
    }

    /// The engine seat (0-based) of node `from` in the current epoch, if it holds one.
    fn seat_of(&self, from: u32) -> Option<NodeId> {
        let seat = match &self.epochs {
            None => Some(from),
            Some(e) => e.seat_of(from),
        }?;
        Some(NodeId(seat - 1))
    }

    /// The node holding engine seat `seat` (0-based) in the current epoch.
    fn node_of(&self, seat: NodeId) -> Option<u32> {
        match &self.epochs {
            None => Some(seat.0 + 1),
            Some(e) => e.validator_of(seat.0 + 1),
        }
    }

    fn on_inbound(&mut self, m: Inbound) {
        let epochs = self.shared.epochs_enabled();
        match m.bytes.split_first() {
            Some((&TAG_ENGINE, rest)) => {
                if let Some(from) = self.seat_of(m.from) {
                    self.queue.push_back(Input::Message {
                        from,
                        bytes: rest.to_vec(),
                    })
                }
            }
            Some((&TAG_COMPACT, rest)) => self.on_compact(m.from, rest),
            Some((&TAG_TX, rest)) => {
                if check_form(rest, epochs).is_ok_and(|kind| self.admit(m.from, rest, kind)) {
                    let _ = self.shared.submit(rest.to_vec(), false);
                }
            }
            Some((&TAG_TXS, mut rest)) => {
                // Stop at the first malformed entry (a peer's bad batch changes nothing else).
                while rest.len() >= 4 {
                    let len = u32::from_be_bytes(rest[..4].try_into().expect("4")) as usize;
                    let Some(tx) = rest.get(4..4 + len) else {
                        break;
                    };
                    let Ok(kind) = check_form(tx, epochs) else {
                        break;
                    };
                    if self.admit(m.from, tx, kind) {
                        let _ = self.shared.submit(tx.to_vec(), false);
                    }
                    rest = &rest[4 + len..];
                }
            }
            _ => tracing::debug!(from = m.from, "unknown consensus payload"),
        }
    }

    /// Whether a peer's well-formed tx may enter the mempool: a resharing message only if it
    /// authenticates for the running session and its sender has fewer than
    /// [`MAX_ENVELOPES_PER_ROUND`] held for that round (so no peer can fill the mempool's
    /// priority queue, which blocks take before anything else, with junk). Other kinds: yes.
    fn admit(&mut self, from: u32, tx: &[u8], kind: crate::epochs::TxKind) -> bool {
        use crate::epochs::TxKind;
        if kind == TxKind::Kv {
            return true;
        }
        let Some(e) = &self.epochs else {
            return false;
        };
        if self.shared.known_tx(&tx_hash(tx)).is_some() {
            return false;
        }
        if matches!(kind, TxKind::Committee | TxKind::Join) {
            // Only transactions the validator set would accept now, at most
            // MAX_ENVELOPES_PER_ROUND per signer and epoch: they too are taken before
            // key-value txs, so a peer must not fill that queue with forged or endless ones.
            let signer = match e.check_committee(tx) {
                Ok(s) => s,
                Err(reason) => {
                    tracing::debug!(from, %reason, "committee transaction refused");
                    return false;
                }
            };
            let epoch = e.epoch();
            self.committee_txs.retain(|k, _| k.0 == epoch);
            let held = self.committee_txs.entry((epoch, signer)).or_default();
            if *held >= MAX_ENVELOPES_PER_ROUND {
                return false;
            }
            *held += 1;
            return true;
        }
        if kind == TxKind::Marker {
            return false;
        }
        if e.session().is_none() {
            let q = self.early.entry(from).or_default();
            if q.len() >= MAX_EARLY_PER_PEER {
                q.pop_front();
            }
            q.push_back(tx.to_vec());
            return false;
        }
        let (sender, round) = match e.check_envelope(tx) {
            Ok(x) => x,
            Err(reason) => {
                tracing::debug!(from, %reason, "resharing message refused");
                return false;
            }
        };
        let session = e.session().unwrap_or_default();
        self.envelopes.retain(|k, _| k.0 == session);
        let held = self.envelopes.entry((session, sender, round)).or_default();
        if *held >= MAX_ENVELOPES_PER_ROUND {
            return false;
        }
        *held += 1;
        true
    }

    /// Carry out one step's actions, in order.
    ///
    /// [`Action::Persist`] and [`Action::Decide`] are collected and written by [`Driver::flush`]
    /// in one synced transaction, which runs before the first later send (and before the
    /// driver waits for input): the persist barrier holds exactly — nothing leaves this node
    /// before the state it depends on is on disk — with one fsync per batch instead of one per
    /// write. Building and validating blocks count the pending decisions as committed.
    fn execute(&mut self, actions: Vec<Action>) -> Result<(), NodeError> {
        let mut answers = Vec::new();
        for action in actions {
            match action {
                Action::Persist(state) => {
                    self.pending.state = Some(state);
                }
                Action::Broadcast { bytes } => {
                    self.flush()?;
                    self.note_sent(&bytes);
                    let b = self.wire(&bytes);
                    self.shared.net.broadcast(Proto::Consensus, b);
                }
                Action::Send { to, bytes } => {
                    self.flush()?;
                    let b = self.wire(&bytes);
                    if let Some(node) = self.node_of(to) {
                        self.shared.net.send(node, Proto::Consensus, b);
                    }
                }
                Action::SetTimer { id, at } => {
                    self.timers.insert(id, at);
                }
                Action::CancelTimer { id } => {
                    self.timers.remove(&id);
                }
                Action::RequestValue { height } => {
                    if height.0 == self.tip.height + 1 {
                        let m = self.shared.metrics.clone();
                        let value = m.timed("build_block", || self.build_block());
                        answers.push(Input::ProposedValue { height, value });
                    }
                }
                Action::ValidateValue {
                    height,
                    value_id,
                    value,
                } => {
                    let m = self.shared.metrics.clone();
                    let valid = height.0 == self.tip.height + 1
                        && m.timed("validate_block", || self.validate(&value))
                            .map_err(|e| {
                                tracing::warn!(height = height.0, error = %e, "block refused");
                            })
                            .is_ok();
                    answers.push(Input::ValueValidated {
                        height,
                        value_id,
                        valid,
                    });
                }
                Action::Decide { decided } => {
                    if self.decide(decided)? {
                        // The epoch ended with this decision: the engine that made it is gone,
                        // and nothing else it asked for in this step is carried out.
                        return Ok(());
                    }
                }
                Action::Evidence(e) => {
                    self.shared.metrics.evidence.inc();
                    tracing::warn!(culprit = e.culprit.0 + 1, kind = ?e.kind, height = e.height.0, "evidence");
                }
                // `Action` is non-exhaustive: an action this host does not know how to carry
                // out stops the node rather than being skipped (it could be a barrier).
                other => {
                    return Err(NodeError::Store(format!(
                        "unknown engine action {other:?}: this host is older than the engine"
                    )))
                }
            }
        }
        // The application's answers go first, in order, before any other queued input.
        for a in answers.into_iter().rev() {
            self.queue.push_front(a);
        }
        Ok(())
    }

    /// The wire form of an engine message: a proposal of a block with txs in compact form
    /// (its txs kept to serve fetches; the pending forwards go first, so a peer has the txs
    /// this node took from its API before the proposal naming them), anything else as is.
    fn wire(&mut self, bytes: &[u8]) -> Vec<u8> {
        if bytes.first() == Some(&1) {
            if let Some((body, txs)) = crate::compact::compact_message(bytes) {
                self.shared.flush_forwards();
                self.shared.metrics.compact_sent.inc();
                let mut cache = self
                    .shared
                    .sent_txs
                    .lock()
                    .unwrap_or_else(|e| e.into_inner());
                for (h, tx) in txs {
                    cache.insert(h, tx);
                }
                let mut b = Vec::with_capacity(body.len() + 1);
                b.push(TAG_COMPACT);
                b.extend_from_slice(&body);
                return b;
            }
        }
        let mut b = Vec::with_capacity(bytes.len() + 1);
        b.push(TAG_ENGINE);
        b.extend_from_slice(bytes);
        b
    }

    /// A compact proposal from node `from`: rebuilt from the txs this node holds and handed to
    /// the engine, or kept while the missing txs are fetched from `from`.
    fn on_compact(&mut self, from: u32, body: &[u8]) {
        let mut r = match Reassembly::new(body, self.shared.tuning.max_block_txs) {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!(from, error = %e, "compact proposal refused");
                return;
            }
        };
        if r.height() <= self.tip.height {
            return;
        }
        let Some(seat) = self.seat_of(from) else {
            return;
        };
        r.fill(|h| self.shared.known_tx(h));
        let r = match r.finish() {
            Ok(bytes) => {
                self.queue.push_back(Input::Message { from: seat, bytes });
                return;
            }
            Err(r) => *r,
        };
        if !self.fetching.try_start(from) {
            self.shared.metrics.compact_dropped.inc();
            tracing::debug!(
                from,
                "compact proposal dropped: fetches from this peer in flight"
            );
            return;
        }
        let missing = r.missing();
        let id = self.next_rebuild;
        self.next_rebuild += 1;
        let tip = self.tip.height;
        let pending = self.rebuilds.entry(from).or_default();
        pending.retain(|p| p.reassembly.height() > tip);
        while pending.len() >= MAX_PENDING_PER_PEER {
            pending.pop_front();
            self.shared.metrics.compact_dropped.inc();
        }
        pending.push_back(Rebuild { id, reassembly: r });
        self.shared.metrics.compact_fetches.inc();
        let (net, events) = (self.shared.net.clone(), self.events.clone());
        let request = fetch_request(&missing);
        tokio::spawn(async move {
            let response = tokio::time::timeout(COMPACT_FETCH_TIMEOUT, net.request(from, request))
                .await
                .ok()
                .flatten();
            let _ = events.send(DriverEvent::Txs { from, id, response }).await;
        });
    }

    /// The answer to the fetch of rebuild `id` from node `from`.
    fn on_fetched(&mut self, from: u32, id: u64, response: Option<Vec<u8>>) {
        self.fetching.finish(from);
        let Some(pending) = self.rebuilds.get_mut(&from) else {
            return;
        };
        let Some(i) = pending.iter().position(|p| p.id == id) else {
            return;
        };
        let Rebuild { mut reassembly, .. } = pending.remove(i).expect("found");
        let m = &self.shared.metrics;
        if let Some(resp) = response {
            let got = reassembly.accept(&resp);
            m.compact_fetched_txs.inc_by(got as u64);
        }
        // Txs may also have come in by forwarding meanwhile.
        reassembly.fill(|h| self.shared.known_tx(h));
        if reassembly.height() <= self.tip.height {
            return;
        }
        match (reassembly.finish(), self.seat_of(from)) {
            (Ok(bytes), Some(seat)) => {
                self.queue.push_back(Input::Message { from: seat, bytes });
            }
            (Ok(_), None) => {}
            (Err(_), _) => {
                m.compact_dropped.inc();
                tracing::debug!(from, "compact proposal dropped: txs missing");
            }
        }
    }

    /// Record when this node first sent its proposal, soft vote and cert vote of the height.
    fn note_sent(&mut self, bytes: &[u8]) {
        let now = Instant::now();
        let ph = &mut self.phases;
        match bytes.first() {
            // A proposal (the first one of the height is this node's own).
            Some(1) => {
                ph.proposal.get_or_insert(now);
            }
            Some(2) => {
                if let Ok(Message::Vote(v)) = conclave_bft::codec::decode(bytes) {
                    if v.height.0 == self.tip.height + 1 {
                        match v.step {
                            VoteStep::Soft => {
                                ph.soft.get_or_insert(now);
                            }
                            VoteStep::Cert => {
                                ph.cert.get_or_insert(now);
                            }
                            _ => {}
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// Write everything pending in one synced transaction (see [`Driver::execute`]), then
    /// publish the decisions: mempool, metrics, tip.
    fn flush(&mut self) -> Result<(), NodeError> {
        if self.pending.state.is_none()
            && self.pending.decisions.is_empty()
            && self.pending.epochs.is_none()
        {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        let m = self.shared.metrics.clone();
        let mut new_keys = Vec::new();
        let write = pending.state.as_ref().map(|state| {
            m.timed("state_encode", || {
                let last = state.last_decided.as_ref().map(|d| {
                    // The ledger holds it once this transaction commits.
                    if d.certificate.height.0 <= self.tip.height {
                        LastDecided::InLedger(d.certificate.height.0)
                    } else {
                        LastDecided::Inline(d)
                    }
                });
                let header = crate::state::encode_header(state, last);
                let mut proposals = Vec::new();
                for p in &state.own_proposals {
                    let key = (p.height.0, p.period.0);
                    if !self.stored_proposals.contains(&key) {
                        proposals.push((key, crate::state::encode_proposal(p)));
                        new_keys.push(key);
                    }
                }
                EngineStateWrite {
                    header,
                    proposals,
                    prune_below: if self.stored_proposals.iter().any(|k| k.0 < state.height.0) {
                        state.height.0
                    } else {
                        0
                    },
                }
            })
        });
        let decisions: Vec<(&Block, [u8; 32], &Decided)> = pending
            .decisions
            .iter()
            .map(|(b, d)| (b, d.certificate.value_id.0, d))
            .collect();
        let engine_epoch = self.engine_epoch.to_be_bytes();
        let mut extra: Vec<(&str, &[u8])> = Vec::new();
        if write.is_some() {
            extra.push((ENGINE_EPOCH, &engine_epoch));
        }
        if let Some(e) = &pending.epochs {
            extra.push((EPOCH_STATE, e));
        }
        let tip = m.timed("store_commit", || {
            self.shared
                .store
                .commit_step(&decisions, &self.durable_tip, write.as_ref(), &extra)
        })?;
        // The state that made these messages is on disk: they may leave the node now.
        for tx in &pending.submit {
            self.shared.forward_tx(tx);
        }
        for (id, entry) in &pending.new_peers {
            add_peer(&self.shared, *id, entry);
        }
        if pending.epochs.is_some() {
            if let Some(e) = &self.epochs {
                publish_epochs(&self.shared, e);
            }
            let started = self.epochs.as_ref().is_some_and(|e| e.session().is_some());
            if started && !self.early.is_empty() {
                for (from, q) in std::mem::take(&mut self.early) {
                    for tx in q {
                        if self.admit(from, &tx, crate::epochs::TxKind::Dkg) {
                            let _ = self.shared.submit(tx, false);
                        }
                    }
                }
            }
        }
        if let Some(state) = &pending.state {
            let h = state.height.0;
            self.stored_proposals.retain(|k| k.0 >= h);
            self.stored_proposals.extend(new_keys);
        }
        self.durable_tip = tip;
        if !pending.decisions.is_empty() {
            let hashes: Vec<[u8; 32]> = pending.txs.iter().copied().collect();
            {
                let mut mp = self
                    .shared
                    .mempool
                    .lock()
                    .unwrap_or_else(|e| e.into_inner());
                mp.remove(&hashes);
                m.mempool.set(mp.len() as i64);
            }
            m.height.set(tip.height as i64);
            self.shared.tip.send_replace(tip);
            for (block, decided) in &pending.decisions {
                tracing::debug!(
                    height = block.height,
                    txs = block.txs.len(),
                    period = decided.certificate.period.0,
                    "committed"
                );
            }
        }
        Ok(())
    }

    /// Pending txs for the next block: oldest first, within the block's byte budget, none
    /// committed (checked for the candidates only, in one read transaction).
    fn build_block(&self) -> Vec<u8> {
        let t = &self.shared.tuning;
        let height = self.tip.height + 1;
        let mut txs: Vec<Vec<u8>> = self
            .epochs
            .as_ref()
            .and_then(|e| e.marker_for(height))
            .into_iter()
            .collect();
        {
            let mut m = self
                .shared
                .mempool
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            let store = &self.shared.store;
            let pending = &self.pending.txs;
            let committed = |hashes: &[[u8; 32]]| -> Vec<bool> {
                let stored = store
                    .txs_committed(hashes)
                    .unwrap_or_else(|_| vec![false; hashes.len()]);
                hashes
                    .iter()
                    .zip(stored)
                    .map(|(h, s)| s || pending.contains(h))
                    .collect()
            };
            let mut budget = t.max_block_bytes.saturating_sub(BLOCK_HEADER_BYTES);
            let used = |txs: &[Vec<u8>]| txs.iter().map(|t| 4 + t.len()).sum::<usize>();
            if let Some(e) = &self.epochs {
                // This node's own resharing messages, then the other committee changes and
                // resharing messages: they have deadlines.
                let own: Vec<Vec<u8>> = if self.reshare_silent {
                    Vec::new()
                } else {
                    e.own_pending()
                };
                let own_hashes: Vec<[u8; 32]> = own.iter().map(|t| tx_hash(t)).collect();
                let done = committed(&own_hashes);
                for (tx, done) in own.into_iter().zip(done) {
                    if !done && txs.len() < t.max_block_txs && used(&txs) + 4 + tx.len() <= budget {
                        txs.push(tx);
                    }
                }
                let room = t.max_block_txs.saturating_sub(txs.len());
                let system = m.take_system(room, budget.saturating_sub(used(&txs)), &committed);
                let mine: HashSet<[u8; 32]> = own_hashes.into_iter().collect();
                txs.extend(system.into_iter().filter(|tx| !mine.contains(&tx_hash(tx))));
            }
            budget = budget.saturating_sub(used(&txs));
            let room = t.max_block_txs.saturating_sub(txs.len());
            txs.extend(m.take(room, budget, &committed));
        }
        Block {
            height,
            parent: self.tip.hash,
            app_hash: next_app_hash(&self.tip.app_hash, height, &txs),
            txs,
        }
        .encode()
    }

    fn validate(&self, value: &[u8]) -> Result<Block, crate::app::AppError> {
        let t = &self.shared.tuning;
        let store = &self.shared.store;
        let pending = &self.pending.txs;
        let block = validate_block(
            value,
            &self.tip,
            t.max_block_txs,
            t.max_block_bytes,
            self.epochs.is_some(),
            &|hashes: &[[u8; 32]]| {
                let stored = store
                    .txs_committed(hashes)
                    .unwrap_or_else(|_| vec![true; hashes.len()]);
                hashes
                    .iter()
                    .zip(stored)
                    .any(|(h, s)| s || pending.contains(h))
            },
        )?;
        if let Some(e) = &self.epochs {
            e.check_block(block.height, &block.txs)?;
        }
        Ok(block)
    }

    /// An input while this node holds no seat: a synced decision is checked as a light client
    /// would (its epoch is its height's, its certificate and beacon verify under the group key,
    /// its block is valid on the tip) and applied; everything else is dropped.
    fn observe(&mut self, input: Input) -> Result<(), NodeError> {
        let Input::Synced { decided } = input else {
            return Ok(());
        };
        let c = &decided.certificate;
        if c.height.0 != self.tip.height + 1
            || c.epoch.0 != self.shared.genesis.epoch_of(c.height.0)
            || self.verifier.value_id(&decided.value) != c.value_id
            || !verify_decision_certificate(self.verifier.as_ref(), &Seed([0; 32]), c)
        {
            tracing::debug!(height = c.height.0, "synced decision refused");
            return Ok(());
        }
        if let Err(e) = self.validate(&decided.value) {
            tracing::warn!(height = c.height.0, error = %e, "certified block refused");
            return Ok(());
        }
        self.decide(decided)?;
        self.flush()
    }

    /// The epoch of the next height begins (this node's resharing ended with the boundary block
    /// `decided`): drop the old engine and everything it asked for, start the new epoch's
    /// engine if this node holds a seat in it, and persist that engine's first state with the
    /// boundary block.
    fn hand_over(&mut self, epoch: u64, decided: &Decided) -> Result<(), NodeError> {
        let invariant = || NodeError::Dkg("a handover without the new epoch's key".into());
        let e = self.epochs.as_ref().ok_or_else(invariant)?;
        let k = e.key().ok_or_else(invariant)?;
        let n = k.committee.seats();
        self.verifier = epoch_verifier(&self.home, &k.commitment, n)?;
        self.engine_epoch = epoch;
        self.timers.clear();
        self.queue
            .retain(|i| matches!(i, Input::Message { .. } | Input::Synced { .. }));
        self.phases = Phases::new();
        match e.my_seat() {
            None => {
                tracing::info!(epoch, "no seat in the new epoch: this node stops signing");
                self.engine = None;
                self.pending.state = None;
            }
            Some(seat) => {
                let (adapters, _) = epoch_adapters(
                    &self.home,
                    &k.commitment,
                    n,
                    &k.shares,
                    seat,
                    epoch,
                    vrf_public_keys(e)?,
                    &self.shared.metrics,
                )?;
                let state = fresh_state(self.tip.height + 1, Seed(k.seed), Some(decided.clone()));
                let config = engine_config_for(&self.home, seat, epoch);
                let mut engine = Engine::restore(config, adapters, state.clone());
                engine.set_early_filter(n > 1);
                self.engine = Some(engine);
                self.pending.state = Some(Box::new(state));
                let mut entropy = [0u8; 32];
                OsRng.fill_bytes(&mut entropy);
                self.queue.push_front(Input::Start);
                self.queue.push_front(Input::Entropy(entropy));
                tracing::info!(
                    epoch,
                    seat,
                    seats = n,
                    height = self.tip.height + 1,
                    "epoch started"
                );
            }
        }
        Ok(())
    }

    /// A decision: the block joins the pending writes (applied by the next flush, in the same
    /// transaction as the engine state that records it and the epoch state it makes) and the
    /// in-memory tip moves on. Returns true if the block ended an epoch and the engine was
    /// handed over.
    fn decide(&mut self, decided: Decided) -> Result<bool, NodeError> {
        let m = self.shared.metrics.clone();
        let block = m
            .timed("apply_prepare", || Block::decode(&decided.value))
            .map_err(|e| NodeError::Store(e.to_string()))?;
        if block.height != self.tip.height + 1 || block.parent != self.tip.hash {
            return Err(NodeError::Store(format!(
                "decided block {} does not extend tip {}",
                block.height, self.tip.height
            )));
        }
        self.tip = Tip {
            height: block.height,
            hash: decided.certificate.value_id.0,
            app_hash: block.app_hash,
        };
        for t in &block.txs {
            self.pending.txs.insert(tx_hash(t));
        }
        m.periods.observe(f64::from(decided.certificate.period.0));
        let now = Instant::now();
        let ph = std::mem::replace(&mut self.phases, Phases::new());
        let secs = |a: Instant, b: Instant| b.saturating_duration_since(a).as_secs_f64();
        m.commit_latency.observe(secs(ph.start, now));
        m.observe("height", secs(ph.start, now));
        // Phases only for heights this node went through itself (not sync catch-up).
        if decided.certificate.period.0 == 1 {
            if let (Some(p), Some(s), Some(c)) = (ph.proposal, ph.soft, ph.cert) {
                m.observe("to_proposal", secs(ph.start, p));
                m.observe("to_soft_vote", secs(ph.start, s));
                m.observe("soft_to_cert", secs(s, c));
                m.observe("cert_to_decide", secs(c, now));
            }
        }
        let mut handover = None;
        if let Some(e) = self.epochs.as_mut() {
            let mut effects = e.on_block(block.height, &block.txs, &decided.certificate.beacon)?;
            if self.reshare_silent {
                effects.submit.clear();
            }
            if effects.changed {
                // A quiet block is not stored: a restart replays it from the ledger.
                self.pending.epochs = Some(e.encode());
            }
            {
                // In the own mempool now (so this node's next block can carry them); sent to
                // the peers only after the flush.
                let mut mp = self
                    .shared
                    .mempool
                    .lock()
                    .unwrap_or_else(|e| e.into_inner());
                for tx in &effects.submit {
                    let _ = mp.insert(tx.clone());
                }
            }
            self.pending.submit.extend(effects.submit);
            self.pending.new_peers.extend(effects.new_peers);
            handover = effects.handover;
        }
        self.pending.decisions.push((block, decided.clone()));
        if let Some(epoch) = handover {
            self.hand_over(epoch, &decided)?;
            return Ok(true);
        }
        Ok(false)
    }
}

/// Bytes of a block's encoding besides its txs' bytes (magic, height, parent, app_hash, count);
/// each tx adds 4 bytes of length.
pub const BLOCK_HEADER_BYTES: usize = 4 + 8 + 32 + 32 + 4;

/// Sync request: `[1]` status, `[2] ‖ from u64 ‖ count u32` blocks.
const SYNC_STATUS: u8 = 1;
// (`compact::SYNC_TXS` = 3: a compact proposal's missing txs.)
const SYNC_BLOCKS: u8 = 2;
/// Most decisions per sync response.
const SYNC_BATCH: u32 = 256;

/// Answer peers' sync requests from the ledger (read transactions; responses capped in bytes).
async fn serve_sync(shared: Arc<Shared>, mut requests: mpsc::Receiver<SyncRequest>) {
    while let Some(req) = requests.recv().await {
        let tip = *shared.tip.borrow();
        let response = match req.bytes.as_slice() {
            [SYNC_STATUS] => tip.height.to_be_bytes().to_vec(),
            [SYNC_TXS, hashes @ ..] => {
                serve_fetch(hashes, MAX_SYNC_RESPONSE, |h| shared.known_tx(h))
            }
            [SYNC_BLOCKS, rest @ ..] if rest.len() == 12 => {
                let from = u64::from_be_bytes(rest[..8].try_into().expect("8"));
                let count = u32::from_be_bytes(rest[8..].try_into().expect("4")).min(SYNC_BATCH);
                let mut out = Vec::new();
                for h in from..from.saturating_add(u64::from(count)) {
                    if h == 0 || h > tip.height {
                        break;
                    }
                    let Ok(Some(b)) = shared.store.block_bytes(h) else {
                        break;
                    };
                    if out.len() + 4 + b.len() > MAX_SYNC_RESPONSE {
                        break;
                    }
                    out.extend_from_slice(&(b.len() as u32).to_be_bytes());
                    out.extend_from_slice(&b);
                }
                out
            }
            _ => Vec::new(),
        };
        let _ = req.reply.send(response);
    }
}

/// Check a fetched run of decisions from `tip`: each decodes, its block hash is the certified
/// value id, heights are consecutive and each block's parent is the previous hash. Returns the
/// well-formed prefix. The certificates are checked by the engine (`Input::Synced`), once; a
/// forged one is rejected there and nothing of it is applied.
pub fn verify_chain(
    verifier: &dyn Verifier,
    tip: &Tip,
    response: &[u8],
) -> Vec<(Decided, Vec<u8>)> {
    let mut out = Vec::new();
    let (mut height, mut parent) = (tip.height, tip.hash);
    let mut r = response;
    while r.len() >= 4 {
        let len = u32::from_be_bytes(r[..4].try_into().expect("4")) as usize;
        if r.len() < 4 + len {
            break;
        }
        let bytes = r[4..4 + len].to_vec();
        r = &r[4 + len..];
        let Ok(Message::Decided(d)) = conclave_bft::codec::decode(&bytes) else {
            break;
        };
        let Ok(block) = Block::decode(&d.value) else {
            break;
        };
        let cert = &d.certificate;
        let ok = cert.height.0 == height + 1
            && block.height == height + 1
            && block.parent == parent
            && verifier.value_id(&d.value) == cert.value_id;
        if !ok {
            break;
        }
        height += 1;
        parent = cert.value_id.0;
        out.push((d, bytes));
    }
    out
}

/// Poll the peers' tips; when more than one block behind, fetch, verify and hand over. Also
/// forwards txs that stayed pending for over a second again.
async fn fetch_sync<V: Variant>(
    shared: Arc<Shared>,
    verifier: Arc<ThresholdVerifier<V>>,
    to_driver: mpsc::Sender<DriverEvent>,
) {
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tick.tick().await;
        // Pending txs older than a second go to the peers again (bounded per tick).
        let stale = shared
            .mempool
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .stale(Duration::from_secs(1), 256);
        if !stale.is_empty() {
            let mut b = vec![TAG_TXS];
            for tx in stale {
                b.extend_from_slice(&(tx.len() as u32).to_be_bytes());
                b.extend_from_slice(&tx);
            }
            shared.net.broadcast(Proto::Consensus, b);
        }
        let tip = *shared.tip.borrow();
        for peer in shared.net.connected() {
            let Some(status) = shared.net.request(peer, vec![SYNC_STATUS]).await else {
                continue;
            };
            let Ok(their) = <[u8; 8]>::try_from(status.as_slice()).map(u64::from_be_bytes) else {
                continue;
            };
            if their <= tip.height + 1 {
                continue;
            }
            let mut req = vec![SYNC_BLOCKS];
            req.extend_from_slice(&(tip.height + 1).to_be_bytes());
            req.extend_from_slice(&SYNC_BATCH.to_be_bytes());
            let Some(resp) = shared.net.request(peer, req).await else {
                continue;
            };
            let chain = verify_chain(verifier.as_ref(), &tip, &resp);
            tracing::info!(peer, from = tip.height + 1, blocks = chain.len(), "sync");
            for (decided, _) in chain {
                shared.metrics.synced_blocks.inc();
                if to_driver
                    .send(DriverEvent::Synced {
                        from: peer,
                        decided,
                    })
                    .await
                    .is_err()
                {
                    return;
                }
            }
            // Wait until the driver applied them before asking again.
            let mut rx = shared.tip.subscribe();
            let _ = tokio::time::timeout(Duration::from_secs(5), async {
                while rx.borrow().height <= tip.height {
                    if rx.changed().await.is_err() {
                        break;
                    }
                }
            })
            .await;
            break;
        }
    }
}
