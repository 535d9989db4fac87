//! Epochs in the node: committee changes decided as transactions, the group key reshared to the
//! next committee over the node's own log, and the engine handed over at the boundary.
//!
//! A chain has epochs when its genesis has an `epochs` section ([`GenesisEpochs`]); without it
//! nothing here runs and blocks carry key-value transactions only. The state machine is
//! `conclave_bft::epoch` ([`Registry`], the schedule) and `conclave_dkg::log` ([`LogDriver`]);
//! this module feeds them every applied block, in height order, and keeps their state in the
//! store in the **same transaction** as the block, so a `kill -9` never separates the two.
//!
//! * **Transactions.** Besides `KEY=VALUE`, a block may carry committee transactions
//!   ([`CommitteeTx`]: leave, stake change, join; tag `cepochx1`), the resharing's signed
//!   messages ([`conclave_dkg::log::Envelope`], tag `cdkglog1`) and the epoch marker (tag `cepochm1`, below).
//!   Validators refuse a block whose committee transaction does not decode; a decoded one that
//!   the [`Registry`] refuses (unknown member, forged signature, another epoch) changes
//!   nothing and is counted. Envelopes are judged by the resharing driver (authenticated
//!   against the sender's identity key, in the session's window) exactly as in the simulator.
//! * **Resharing.** After the snapshot block `(e+1)·E − 3W` of epoch `e` the registry freezes the
//!   decided changes, and every validator of the old or the new committee starts a resharing
//!   participant (fresh secret seed, written with the driver before any of its messages is
//!   sent). Its dealings, complaints and justifications go into the mempool, are forwarded like
//!   any transaction and are taken in from the blocks of their windows; the driver ends at the
//!   boundary block `(e+1)·E` with new shares of the **same group key**, or fails (fewer than
//!   `t_old + 1` qualified old holders) and the old committee and shares stay one more epoch.
//! * **Handover.** At the boundary a member hands its engine over: the engine of epoch `e` is
//!   dropped right after it decided the boundary block (nothing it would send for the next
//!   height leaves the node), and the engine of epoch `e+1` starts at the next height with the
//!   new committee's seats, shares and VRF roster and the sortition seed
//!   [`epoch_seed`] of the boundary block's beacon. A node without a seat in the new epoch runs
//!   no engine: it follows the chain by sync, checking every certificate under the group key.
//! * **Epoch marker.** The first block of every epoch starts with the marker
//!   `cepochm1 ‖ epoch u64 ‖ origin u8 ‖ SHA-256(committee) ‖ len u32 ‖ commitment`, where
//!   origin is 0 (the old key was kept: the resharing failed), 1 (reshared) or 2 (the genesis
//!   DKG, in block 1): the proposer writes what its own DKG or resharing gave, and validators
//!   refuse a block whose marker differs from theirs. So the log itself carries every epoch's
//!   group commitment, certified: a node that took no part (it is in neither committee, or
//!   joins later and replays the chain from block 1) learns the outcome and the commitment its
//!   own resharing must start from from the markers, never from a peer's word.
//! * **Light clients.** Every certificate signs its epoch, and the epoch of height `h` is
//!   `(h − 1) / E` whatever the committee, so a light client that knows the genesis and the
//!   group key checks every block of every epoch with one pairing.

use std::collections::BTreeMap;

use conclave_bft::epoch::ValidatorSecrets;
use conclave_bft::epoch::{
    committee_of, epoch_seed, threshold_degree, Change, CommitteeTx, EpochParams, Registry,
    ValidatorKeys,
};
use conclave_bft::types::Seed;
use conclave_dkg::log::{resharing_session, Envelope, LogDriver, LogOutcome};
use conclave_dkg::sigma::SchnorrSignature;
use conclave_dkg::{Committee, DkgConfig, DkgOutput, IdentityKeys, Participant};
use conclave_threshold_sig::{Commitment, PublicKey, SecretShare, Variant};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::app::AppError;
use crate::config::Genesis;
use crate::NodeError;

/// The tag of the epoch marker transaction.
pub const MARKER_TAG: &[u8; 8] = b"cepochm1";
/// Bytes of an encoded marker before its commitment.
pub const MARKER_HEADER: usize = 8 + 8 + 1 + 32 + 4;
/// The longest marker (a commitment of degree 255 in G2).
pub const MAX_MARKER: usize = MARKER_HEADER + 256 * 96;
/// The longest committee transaction.
pub const MAX_COMMITTEE_TX: usize = 1024;
/// The longest resharing message (a dealing to 256 seats fits).
pub const MAX_DKG_TX: usize = 256 << 10;
/// The store key of the epoch state.
pub const EPOCH_STATE: &str = "epoch/state";
/// The tag of a node join ([`NodeJoin`]).
pub const JOIN_TAG: &[u8; 8] = b"cnodejn1";
/// The longest node join.
pub const MAX_JOIN_TX: usize = 1024;
const JOIN_DOMAIN: &[u8] = b"conclave-node/join/v1";

/// Where a validator's node listens (its libp2p identity and addresses).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetEntry {
    /// libp2p peer id: connections map to the validator only via it.
    pub peer_id: String,
    /// libp2p address.
    pub p2p: String,
    /// HTTP API address.
    pub api: String,
}

/// A validator joining with its node: the committee join ([`CommitteeTx::Join`], with its
/// proofs of possession) and the node's [`NetEntry`], with a proof of possession of the node's
/// libp2p key, all signed by the join's signing key and bound to the chain. Without the entry
/// nobody could connect to the new member.
///
/// Encoding: `body = cnodejn1 ‖ len u32 ‖ join ‖ (len u16 ‖ field)` for the peer id, the p2p
/// address, the API address and the libp2p public key (protobuf), then `len u16 ‖ p2p
/// signature` (the libp2p key's signature over `len ‖ chain ‖ body` under its own domain) and
/// the identity signature `[64]` over `len ‖ chain ‖ body ‖ len ‖ p2p signature`. The peer id
/// must be the libp2p key's. Peers accept a connection from the peer id only once the join is
/// applied; a peer id already registered is refused (the join changes nothing).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeJoin {
    /// The committee join.
    pub join: CommitteeTx,
    /// The node's entry.
    pub entry: NetEntry,
    /// The node's libp2p public key (protobuf encoding); its peer id is `entry.peer_id`.
    pub p2p_key: Vec<u8>,
    /// The libp2p key's signature (proof of possession).
    pub p2p_signature: Vec<u8>,
    /// The signing key's signature.
    pub signature: SchnorrSignature,
}

const JOIN_P2P_DOMAIN: &[u8] = b"conclave-node/join-p2p/v1";

impl NodeJoin {
    /// The join of the validator with `secrets`, stake `stake`, for `epoch` of `chain`, whose
    /// node has the libp2p key `p2p`.
    pub fn new(
        chain: &[u8],
        epoch: u64,
        secrets: &ValidatorSecrets,
        stake: u64,
        entry: NetEntry,
        p2p: &libp2p::identity::Keypair,
        rng: &mut (impl rand_core::RngCore + rand_core::CryptoRng),
    ) -> Result<Self, String> {
        let join = CommitteeTx::join(chain, epoch, secrets, stake, rng);
        let p2p_key = p2p.public().encode_protobuf();
        let body = Self::body(&join, &entry, &p2p_key);
        let p2p_signature = p2p
            .sign(&Self::message(JOIN_P2P_DOMAIN, chain, &body, &[]))
            .map_err(|e| e.to_string())?;
        let signature = SchnorrSignature::sign(
            &secrets.identity.signing,
            JOIN_DOMAIN,
            &Self::message(b"", chain, &body, &p2p_signature),
            rng,
        );
        Ok(NodeJoin {
            join,
            entry,
            p2p_key,
            p2p_signature,
            signature,
        })
    }

    fn body(join: &CommitteeTx, entry: &NetEntry, p2p_key: &[u8]) -> Vec<u8> {
        let j = join.to_bytes();
        let mut v = Vec::with_capacity(128 + j.len());
        v.extend_from_slice(JOIN_TAG);
        v.extend_from_slice(&(j.len() as u32).to_be_bytes());
        v.extend_from_slice(&j);
        for f in [
            entry.peer_id.as_bytes(),
            entry.p2p.as_bytes(),
            entry.api.as_bytes(),
            p2p_key,
        ] {
            v.extend_from_slice(&(f.len() as u16).to_be_bytes());
            v.extend_from_slice(f);
        }
        v
    }

    fn message(domain: &[u8], chain: &[u8], body: &[u8], p2p_signature: &[u8]) -> Vec<u8> {
        let mut m = Vec::with_capacity(64 + chain.len() + body.len() + p2p_signature.len());
        m.extend_from_slice(domain);
        m.extend_from_slice(&(chain.len() as u64).to_be_bytes());
        m.extend_from_slice(chain);
        m.extend_from_slice(body);
        m.extend_from_slice(&(p2p_signature.len() as u16).to_be_bytes());
        m.extend_from_slice(p2p_signature);
        m
    }

    /// The canonical encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Self::body(&self.join, &self.entry, &self.p2p_key);
        v.extend_from_slice(&(self.p2p_signature.len() as u16).to_be_bytes());
        v.extend_from_slice(&self.p2p_signature);
        v.extend_from_slice(&self.signature.to_bytes());
        v
    }

    /// Strict decoding: a canonical committee join, a peer id and a p2p address that parse,
    /// an API address of at most 64 bytes, a libp2p public key whose peer id is the entry's,
    /// nothing trailing.
    pub fn from_bytes(b: &[u8]) -> Result<Self, &'static str> {
        if b.len() > MAX_JOIN_TX || !b.starts_with(JOIN_TAG) {
            return Err("not a node join");
        }
        let mut r = &b[8..];
        let mut take = |n: usize| -> Result<&[u8], &'static str> {
            if r.len() < n {
                return Err("truncated node join");
            }
            let (a, rest) = r.split_at(n);
            r = rest;
            Ok(a)
        };
        let len = u32::from_be_bytes(take(4)?.try_into().map_err(|_| "length")?) as usize;
        let join = CommitteeTx::from_bytes(take(len)?).map_err(|_| "malformed committee join")?;
        if !matches!(join, CommitteeTx::Join { .. }) {
            return Err("a node join must carry a committee join");
        }
        let mut fields: Vec<Vec<u8>> = Vec::new();
        for _ in 0..5 {
            let len = u16::from_be_bytes(take(2)?.try_into().map_err(|_| "length")?) as usize;
            fields.push(take(len)?.to_vec());
        }
        let signature =
            SchnorrSignature::from_bytes(take(SchnorrSignature::SIZE)?).map_err(|_| "signature")?;
        if !r.is_empty() {
            return Err("trailing bytes");
        }
        let p2p_signature = fields.pop().unwrap_or_default();
        let p2p_key = fields.pop().unwrap_or_default();
        let text = |f: Vec<u8>| String::from_utf8(f).map_err(|_| "not UTF-8");
        let api = text(fields.pop().unwrap_or_default())?;
        let p2p = text(fields.pop().unwrap_or_default())?;
        let peer_id = text(fields.pop().unwrap_or_default())?;
        let peer: libp2p::PeerId = peer_id.parse().map_err(|_| "invalid peer id")?;
        let key = libp2p::identity::PublicKey::try_decode_protobuf(&p2p_key)
            .map_err(|_| "invalid libp2p key")?;
        if libp2p::PeerId::from(key) != peer {
            return Err("the peer id is not the libp2p key's");
        }
        p2p.parse::<libp2p::Multiaddr>()
            .map_err(|_| "invalid p2p address")?;
        if api.is_empty() || api.len() > 64 {
            return Err("invalid API address");
        }
        Ok(NodeJoin {
            join,
            entry: NetEntry { peer_id, p2p, api },
            p2p_key,
            p2p_signature,
            signature,
        })
    }

    /// Check both signatures: the libp2p key's over the body, the join's signing key's over
    /// the body and the libp2p signature.
    pub fn verify(&self, chain: &[u8]) -> bool {
        let CommitteeTx::Join { keys, .. } = &self.join else {
            return false;
        };
        let Ok(p2p) = libp2p::identity::PublicKey::try_decode_protobuf(&self.p2p_key) else {
            return false;
        };
        let body = Self::body(&self.join, &self.entry, &self.p2p_key);
        p2p.verify(
            &Self::message(JOIN_P2P_DOMAIN, chain, &body, &[]),
            &self.p2p_signature,
        ) && self.signature.verify(
            &keys.signing,
            JOIN_DOMAIN,
            &Self::message(b"", chain, &body, &self.p2p_signature),
        )
    }
}

/// The `epochs` section of a genesis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisEpochs {
    /// Blocks per epoch `E`.
    pub length: u64,
    /// Blocks per resharing round `W` (`3W < E`).
    pub window: u64,
    /// Fewest validators (a leave below it is refused; default 4).
    #[serde(default = "default_min_validators")]
    pub min_validators: u32,
}

fn default_min_validators() -> u32 {
    4
}

impl GenesisEpochs {
    /// The schedule and bounds as the registry takes them.
    pub fn params(&self) -> EpochParams {
        let mut p = EpochParams::new(self.length, self.window);
        p.min_validators = self.min_validators;
        p
    }
}

/// What kind of transaction a block carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxKind {
    /// `KEY=VALUE` of the key-value application.
    Kv,
    /// A committee change ([`CommitteeTx`]).
    Committee,
    /// A resharing message ([`conclave_dkg::log::Envelope`]).
    Dkg,
    /// A validator joining with its node ([`NodeJoin`]).
    Join,
    /// The epoch marker.
    Marker,
}

/// The kind of `tx`, by its tag (anything untagged is key-value).
pub fn kind_of(tx: &[u8]) -> TxKind {
    if CommitteeTx::is_committee_tx(tx) {
        TxKind::Committee
    } else if tx.starts_with(conclave_dkg::log::ENVELOPE_TAG) {
        TxKind::Dkg
    } else if tx.starts_with(MARKER_TAG) {
        TxKind::Marker
    } else if tx.starts_with(JOIN_TAG) {
        TxKind::Join
    } else {
        TxKind::Kv
    }
}

/// Check the form of a transaction (not its validity against the registry): key-value
/// transactions by the contract's rules; with epochs, committee transactions must decode,
/// resharing messages and markers must be within their sizes. Without epochs only key-value
/// transactions exist.
pub fn check_form(tx: &[u8], epochs: bool) -> Result<TxKind, AppError> {
    let kind = kind_of(tx);
    match kind {
        TxKind::Kv => {
            crate::app::parse_tx(tx)?;
        }
        _ if !epochs => return Err(AppError::InvalidTx("this chain has no epochs")),
        TxKind::Committee => match CommitteeTx::from_bytes(tx) {
            _ if tx.len() > MAX_COMMITTEE_TX => {
                return Err(AppError::InvalidTx("committee transaction too long"))
            }
            Ok(CommitteeTx::Join { .. }) => {
                return Err(AppError::InvalidTx(
                    "a join goes in a node join (cnodejn1), with the node's network entry",
                ))
            }
            Ok(_) => {}
            Err(_) => return Err(AppError::InvalidTx("malformed committee transaction")),
        },
        TxKind::Join => {
            NodeJoin::from_bytes(tx).map_err(AppError::InvalidTx)?;
        }
        TxKind::Dkg => {
            if tx.len() > MAX_DKG_TX {
                return Err(AppError::InvalidTx("resharing message too long"));
            }
        }
        TxKind::Marker => {
            Marker::decode(tx).ok_or(AppError::InvalidTx("malformed epoch marker"))?;
        }
    }
    Ok(kind)
}

/// Where an epoch's key came from, as its marker says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Origin {
    /// The resharing before the epoch failed: the old committee and key stay.
    Kept,
    /// Reshared to the epoch's committee.
    Reshared,
    /// The genesis DKG (epoch 0).
    Genesis,
}

impl Origin {
    fn code(self) -> u8 {
        match self {
            Origin::Kept => 0,
            Origin::Reshared => 1,
            Origin::Genesis => 2,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Origin::Kept => "kept",
            Origin::Reshared => "resharing",
            Origin::Genesis => "genesis-dkg",
        }
    }
}

/// The first transaction of an epoch's first block: where its key came from, its committee and
/// its group commitment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marker {
    /// The epoch that starts.
    pub epoch: u64,
    /// Where its key came from.
    pub origin: Origin,
    /// [`committee_digest`] of the epoch's committee.
    pub committee: [u8; 32],
    /// The epoch's group commitment (canonical encoding).
    pub commitment: Vec<u8>,
}

impl Marker {
    /// `MARKER_TAG ‖ epoch ‖ origin ‖ committee ‖ len u32 ‖ commitment`.
    pub fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(MARKER_HEADER + self.commitment.len());
        v.extend_from_slice(MARKER_TAG);
        v.extend_from_slice(&self.epoch.to_be_bytes());
        v.push(self.origin.code());
        v.extend_from_slice(&self.committee);
        v.extend_from_slice(&(self.commitment.len() as u32).to_be_bytes());
        v.extend_from_slice(&self.commitment);
        v
    }

    /// Strict decoding of [`Marker::encode`] (the commitment is parsed by its user, who knows
    /// the variant).
    pub fn decode(b: &[u8]) -> Option<Self> {
        if b.len() < MARKER_HEADER || b.len() > MAX_MARKER || !b.starts_with(MARKER_TAG) {
            return None;
        }
        let origin = match b[16] {
            0 => Origin::Kept,
            1 => Origin::Reshared,
            2 => Origin::Genesis,
            _ => return None,
        };
        let len = u32::from_be_bytes(b[49..53].try_into().ok()?) as usize;
        if b.len() != MARKER_HEADER + len {
            return None;
        }
        Some(Marker {
            epoch: u64::from_be_bytes(b[8..16].try_into().ok()?),
            origin,
            committee: b[17..49].try_into().ok()?,
            commitment: b[53..].to_vec(),
        })
    }

    fn of<V: Variant>(key: &EpochKey<V>, origin: Origin) -> Self {
        Marker {
            epoch: key.epoch,
            origin,
            committee: committee_digest(&key.committee),
            commitment: key.commitment.to_bytes(),
        }
    }
}

/// Decode and authenticate a node join of `chain` whose peer id is not in `taken`.
pub fn check_join(
    chain: &[u8],
    taken: &std::collections::BTreeSet<String>,
    tx: &[u8],
) -> Result<NodeJoin, String> {
    let nj = NodeJoin::from_bytes(tx).map_err(str::to_string)?;
    if !nj.verify(chain) {
        return Err("node join: bad signature".into());
    }
    if taken.contains(&nj.entry.peer_id) {
        return Err("node join: the peer id is taken".into());
    }
    Ok(nj)
}

/// Check a submitted committee transaction or node join against the registry (the API's
/// check: one it refuses would change nothing if it were carried).
pub fn check_submitted(
    chain: &[u8],
    registry: &Registry,
    taken: &std::collections::BTreeSet<String>,
    tx: &[u8],
) -> Result<(), String> {
    let committee = match kind_of(tx) {
        TxKind::Join => check_join(chain, taken, tx)?.join,
        _ => CommitteeTx::from_bytes(tx).map_err(|e| e.to_string())?,
    };
    registry
        .check(&committee)
        .map(|_| ())
        .map_err(|e| format!("committee transaction refused: {e}"))
}

/// SHA-256 over a committee: every member's id, keys and seats, in order.
pub fn committee_digest(c: &Committee) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"conclave-node/committee/v1");
    c.hash_into(&mut h);
    h.finalize().into()
}

/// One epoch's key: the committee, the group commitment (its constant term is the chain's group
/// key in every epoch) and this node's shares (none if it holds no seat).
#[derive(Clone, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct EpochKey<V: Variant> {
    /// The epoch.
    pub epoch: u64,
    /// Its committee (seats `1..=n`).
    pub committee: Committee,
    /// Its group commitment.
    pub commitment: Commitment<V>,
    /// This node's secret shares (its seats).
    pub shares: Vec<SecretShare>,
    /// `"genesis-dkg"`, `"resharing"` or `"kept"` (the resharing before it failed).
    pub from: String,
    /// Qualified dealers (validator ids) of the DKG or resharing that made the shares.
    pub qualified: Vec<u32>,
    /// The sortition seed of the epoch's first height.
    pub seed: [u8; 32],
    /// The epoch's first height.
    pub first_height: u64,
}

/// A past or current epoch, as `GET /v1/epoch` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochSummary {
    /// The epoch.
    pub epoch: u64,
    /// Its first height.
    pub first_height: u64,
    /// Its committee (validator ids, seat order).
    pub committee: Vec<u32>,
    /// Seats n.
    pub seats: u32,
    /// Threshold degree t (quorum t+1).
    pub threshold: u32,
    /// Where its shares came from.
    pub key_from: String,
    /// Qualified dealers of that DKG or resharing (validator ids).
    pub qualified: Vec<u32>,
    /// Why the resharing before it failed (empty if it did not).
    pub failure: String,
}

/// The persisted epoch state (secret: it holds shares and the resharing participant).
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
struct State<V: Variant> {
    registry: Registry,
    /// This node's validator id (`None` for a joining node until its join is applied).
    me: Option<u32>,
    /// The current epoch's key (the last one this node knows; `None` for a joining node before
    /// block 1's marker).
    key: Option<EpochKey<V>>,
    /// The next epoch's key, once this node's resharing finished (until the boundary).
    next: Option<EpochKey<V>>,
    /// Why this node's resharing failed (until the boundary).
    failed: Option<String>,
    driver: Option<LogDriver<V>>,
    /// This node's resharing messages (hex) not yet seen in a block: re-submitted after a
    /// restart.
    own: Vec<String>,
    /// The last height applied.
    last: u64,
    /// The marker the next epoch's first block must carry (this node's own outcome).
    marker: Option<Marker>,
    history: Vec<EpochSummary>,
    accepted_txs: u64,
    rejected_txs: u64,
    rejected_messages: u64,
    /// The last few rejections, with their reasons (newest last).
    recent_rejections: Vec<String>,
    /// The network entries of the validators that joined (genesis nodes are in the genesis).
    #[serde(default)]
    peers: BTreeMap<u32, NetEntry>,
    /// The chain's group key (encoded): every epoch's commitment must have it as its constant
    /// term.
    group_key: Vec<u8>,
}

/// What applying one block did.
#[derive(Default)]
pub struct BlockEffects {
    /// Resharing messages to submit (after the state that made them is on disk).
    pub submit: Vec<Vec<u8>>,
    /// Set at the boundary: the epoch that starts at the next height.
    pub handover: Option<u64>,
    /// Validators whose join was applied: connect to them.
    pub new_peers: Vec<(u32, NetEntry)>,
    /// False if the block changed nothing but [`Epochs::last`] (no epoch transaction, no
    /// resharing step, no snapshot or boundary): the host need not store the state for it,
    /// since replaying such a block from the ledger ([`Epochs::on_block`] again) gives the same
    /// state.
    pub changed: bool,
}

/// This node's view of the chain's epochs (see the module docs).
pub struct Epochs<V: Variant> {
    chain: Vec<u8>,
    /// The genesis nodes' peer ids (a join may not reuse one).
    genesis_peers: Vec<String>,
    params: EpochParams,
    identity: IdentityKeys,
    state: State<V>,
}

fn epoch_err(e: impl std::fmt::Display) -> NodeError {
    NodeError::Dkg(format!("epochs: {e}"))
}

const RECENT_REJECTIONS: usize = 16;
/// Epochs kept in the history (the state stays bounded on a long chain).
pub const MAX_HISTORY: usize = 256;

/// The genesis registry: the genesis nodes are validators `1..=n`, stake 1 each.
fn genesis_registry(genesis: &Genesis, config: &GenesisEpochs) -> Result<Registry, NodeError> {
    let mut validators = Vec::new();
    for n in &genesis.nodes {
        let m = n.member()?;
        validators.push((
            ValidatorKeys {
                signing: m.signing_key,
                encryption: m.encryption_key,
                vrf: n.vrf_public()?.to_bytes(),
            },
            1,
        ));
    }
    Registry::genesis(genesis.chain_id.as_bytes(), config.params(), validators).map_err(epoch_err)
}

impl<V: Variant> Epochs<V> {
    fn with_state(
        genesis: &Genesis,
        config: &GenesisEpochs,
        identity: IdentityKeys,
        state: State<V>,
    ) -> Self {
        Epochs {
            chain: genesis.chain_id.as_bytes().to_vec(),
            genesis_peers: genesis.nodes.iter().map(|n| n.peer_id.clone()).collect(),
            params: config.params(),
            identity,
            state,
        }
    }

    fn empty_state(registry: Registry) -> State<V> {
        State {
            registry,
            me: None,
            key: None,
            next: None,
            failed: None,
            driver: None,
            own: Vec::new(),
            last: 0,
            marker: None,
            history: Vec::new(),
            accepted_txs: 0,
            rejected_txs: 0,
            rejected_messages: 0,
            recent_rejections: Vec::new(),
            peers: BTreeMap::new(),
            group_key: Vec::new(),
        }
    }

    /// The state of genesis node `me` after the genesis DKG: epoch 0's key is the DKG's
    /// output, and block 1 must carry its marker.
    pub fn genesis(
        genesis: &Genesis,
        config: &GenesisEpochs,
        me: u32,
        identity: IdentityKeys,
        dkg: &DkgOutput<V>,
        seed: Seed,
    ) -> Result<Self, NodeError> {
        let mut state = Self::empty_state(genesis_registry(genesis, config)?);
        let committee = genesis.committee()?;
        let key = EpochKey {
            epoch: 0,
            committee: committee.clone(),
            commitment: dkg.commitment.clone(),
            shares: dkg.shares.clone(),
            from: Origin::Genesis.name().into(),
            qualified: dkg
                .qualified
                .iter()
                .filter_map(|s| committee.owner_of(*s).map(|m| m.id))
                .collect(),
            seed: seed.0,
            first_height: 1,
        };
        state.me = Some(me);
        state.group_key = dkg.group_public_key.to_bytes().to_vec();
        state.marker = Some(Marker::of(&key, Origin::Genesis));
        state.history.push(summary(&key, ""));
        state.key = Some(key);
        Ok(Self::with_state(genesis, config, identity, state))
    }

    /// The state of a node that is not in the genesis (it joins by a committee transaction and
    /// replays the chain from block 1, learning each epoch's commitment from its marker).
    pub fn joiner(
        genesis: &Genesis,
        config: &GenesisEpochs,
        identity: IdentityKeys,
        group_key: &PublicKey<V>,
    ) -> Result<Self, NodeError> {
        let mut state = Self::empty_state(genesis_registry(genesis, config)?);
        state.group_key = group_key.to_bytes().to_vec();
        Ok(Self::with_state(genesis, config, identity, state))
    }

    /// Restore from [`Epochs::encode`].
    pub fn restore(
        genesis: &Genesis,
        config: &GenesisEpochs,
        identity: IdentityKeys,
        bytes: &[u8],
    ) -> Result<Self, NodeError> {
        let state: State<V> = serde_json::from_slice(bytes).map_err(epoch_err)?;
        Ok(Self::with_state(genesis, config, identity, state))
    }

    /// The stored form (secret).
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(&self.state).expect("the epoch state serializes")
    }

    /// The schedule.
    pub fn params(&self) -> &EpochParams {
        &self.params
    }

    /// The current epoch (that of the next height).
    pub fn epoch(&self) -> u64 {
        self.state.registry.epoch()
    }

    /// The last height applied.
    pub fn last(&self) -> u64 {
        self.state.last
    }

    /// This node's validator id (`None` while a joining node's join is not applied).
    pub fn me(&self) -> Option<u32> {
        self.state.me
    }

    /// The current epoch's key, if this node knows it (it may hold no share of it).
    pub fn key(&self) -> Option<&EpochKey<V>> {
        self.state.key.as_ref().filter(|k| k.epoch == self.epoch())
    }

    /// The last epoch key this node knows (any epoch: the group key is the same).
    pub fn any_key(&self) -> Option<&EpochKey<V>> {
        self.state.key.as_ref()
    }

    /// The registry (validator set and decided changes).
    pub fn registry(&self) -> &Registry {
        &self.state.registry
    }

    /// This node's seat in the current epoch (`None`: it runs no engine).
    pub fn my_seat(&self) -> Option<u32> {
        let k = self.key()?;
        let m = k.committee.member(self.state.me?)?;
        let seat = m.seats.first().copied()?;
        k.shares.iter().any(|s| s.index() == seat).then_some(seat)
    }

    /// The seat of validator `id` in the current epoch.
    pub fn seat_of(&self, id: u32) -> Option<u32> {
        self.key()?
            .committee
            .member(id)
            .and_then(|m| m.seats.first().copied())
    }

    /// The validator holding `seat` in the current epoch.
    pub fn validator_of(&self, seat: u32) -> Option<u32> {
        self.key()?.committee.owner_of(seat).map(|m| m.id)
    }

    /// The VRF public keys of the current committee's seats, in seat order.
    pub fn seat_vrf_keys(&self) -> Result<Vec<[u8; 32]>, NodeError> {
        let k = self
            .key()
            .ok_or_else(|| epoch_err("no key of this epoch"))?;
        let active = self.state.registry.active();
        (1..=k.committee.seats())
            .map(|s| {
                let id = k
                    .committee
                    .owner_of(s)
                    .map(|m| m.id)
                    .ok_or_else(|| epoch_err(format!("seat {s} has no owner")))?;
                active
                    .get(&id)
                    .map(|v| v.keys.vrf)
                    .ok_or_else(|| epoch_err(format!("validator {id} is not active")))
            })
            .collect()
    }

    /// This node's resharing messages not yet in a block.
    pub fn own_pending(&self) -> Vec<Vec<u8>> {
        self.state
            .own
            .iter()
            .filter_map(|h| hex::decode(h).ok())
            .collect()
    }

    fn first_of_epoch(&self, height: u64) -> bool {
        height >= 1 && (height - 1) % self.params.length == 0
    }

    /// The marker block `height` must start with, if it is an epoch's first block.
    pub fn marker_for(&self, height: u64) -> Option<Vec<u8>> {
        if self.first_of_epoch(height) && height == self.state.last + 1 {
            self.state.marker.as_ref().map(Marker::encode)
        } else {
            None
        }
    }

    /// The epoch rules of a block for `height = last + 1`: an epoch's first block starts with
    /// the marker this node's own DKG or resharing gives (exactly), and no block carries a
    /// marker anywhere else. A node without an outcome of its own (it took no part) checks the
    /// marker's epoch only.
    pub fn check_block(&self, height: u64, txs: &[Vec<u8>]) -> Result<(), AppError> {
        let first = self.first_of_epoch(height);
        for (i, tx) in txs.iter().enumerate() {
            if kind_of(tx) == TxKind::Marker && !(first && i == 0) {
                return Err(AppError::InvalidBlock("epoch marker out of place"));
            }
        }
        if first {
            let Some(got) = txs.first().and_then(|t| Marker::decode(t)) else {
                return Err(AppError::InvalidBlock(
                    "an epoch's first block needs its marker",
                ));
            };
            if got.epoch != self.params.epoch_of(height) {
                return Err(AppError::InvalidBlock("epoch marker of another epoch"));
            }
            if let Some(mine) = &self.state.marker {
                if *mine != got {
                    return Err(AppError::InvalidBlock(
                        "epoch marker differs from this node's DKG or resharing outcome",
                    ));
                }
            }
        }
        Ok(())
    }

    /// Authenticate a peer's resharing message before this node holds or relays it: it decodes
    /// within the running session's limits, belongs to that session and is signed by the
    /// member it names. Returns the sender (validator id) and the round.
    pub fn check_envelope(&self, tx: &[u8]) -> Result<(u32, &'static str), String> {
        let d = self
            .state
            .driver
            .as_ref()
            .filter(|d| !d.ended())
            .ok_or("no resharing is running")?;
        let config = d.participant().config();
        let e = Envelope::<V>::from_bytes(tx, config).map_err(|e| e.to_string())?;
        if e.session != *d.participant().context() {
            return Err("a message of another session".into());
        }
        let sender = e.message.authenticate(config).map_err(|e| e.to_string())?;
        Ok((sender, e.message.round().as_str()))
    }

    /// The running resharing's session (its configuration digest).
    pub fn session(&self) -> Option<[u8; 32]> {
        self.state
            .driver
            .as_ref()
            .filter(|d| !d.ended())
            .map(|d| *d.participant().context())
    }

    fn push_history(&mut self, e: EpochSummary) {
        let h = &mut self.state.history;
        h.push(e);
        if h.len() > MAX_HISTORY {
            h.drain(..h.len() - MAX_HISTORY);
        }
    }

    fn reject(&mut self, what: String) {
        self.state.recent_rejections.push(what);
        let n = self.state.recent_rejections.len();
        if n > RECENT_REJECTIONS {
            self.state.recent_rejections.drain(..n - RECENT_REJECTIONS);
        }
    }

    /// Apply block `height` (exactly [`Epochs::last`] + 1) with its transactions and its
    /// certificate's beacon. Peer-controlled content never makes this fail; an error is a host
    /// error (out of order, a committee without owners) and stops the node.
    pub fn on_block(
        &mut self,
        height: u64,
        txs: &[Vec<u8>],
        beacon: &[u8],
    ) -> Result<BlockEffects, NodeError> {
        if height != self.state.last + 1 {
            return Err(epoch_err(format!(
                "block {height} applied after {}",
                self.state.last
            )));
        }
        self.state.last = height;
        let mut effects = BlockEffects {
            changed: txs.iter().any(|t| kind_of(t) != TxKind::Kv),
            ..BlockEffects::default()
        };
        let mut dkg = Vec::new();
        let my_key = self.identity.signing.public();
        for tx in txs {
            match kind_of(tx) {
                TxKind::Kv => {}
                TxKind::Marker => {
                    if let Some(m) = Marker::decode(tx) {
                        self.on_marker(height, m)?;
                    }
                }
                TxKind::Committee => match self.state.registry.apply_bytes(tx) {
                    Ok(change) => {
                        self.state.accepted_txs += 1;
                        if let Change::Join(v) = &change {
                            if v.keys.signing == my_key {
                                self.state.me = Some(v.id);
                            }
                        }
                        tracing::info!(height, ?change, "committee change accepted");
                    }
                    Err(e) => {
                        self.state.rejected_txs += 1;
                        tracing::info!(height, error = %e, "committee transaction refused");
                        self.reject(format!("block {height}: {e}"));
                    }
                },
                TxKind::Join => self.on_join(height, tx, &mut effects),
                TxKind::Dkg => {
                    let h = hex::encode(tx);
                    self.state.own.retain(|o| *o != h);
                    dkg.push(tx.clone());
                }
            }
        }
        let epoch = self.epoch();
        if height == self.params.snapshot(epoch) {
            effects.changed = true;
            effects.submit = self.start_resharing(epoch)?;
        } else if let Some(d) = self.state.driver.as_mut() {
            if !d.ended() && height > d.schedule().start {
                effects.changed = true;
                let step = d.on_block(height, &dkg).map_err(epoch_err)?;
                self.state.rejected_messages += step.rejected.len() as u64;
                for r in &step.rejected {
                    tracing::debug!(height, reason = %r.reason, "resharing message refused");
                }
                for s in &step.submit {
                    self.state.own.push(hex::encode(s));
                }
                effects.submit = step.submit;
                match step.outcome {
                    Some(LogOutcome::Finished(out)) => self.on_finished(epoch, *out)?,
                    Some(LogOutcome::Failed { reason }) => {
                        tracing::warn!(epoch, %reason, "the resharing failed: the committee stays");
                        self.state.failed = Some(reason);
                    }
                    Some(_) | None => {}
                }
            }
        }
        if height == self.params.boundary(epoch) {
            effects.changed = true;
            effects.handover = self.on_boundary(epoch, beacon)?;
        }
        Ok(effects)
    }

    /// A node join: signature, a peer id nobody has, then the registry's own checks.
    fn on_join(&mut self, height: u64, tx: &[u8], effects: &mut BlockEffects) {
        let refused = match self.check_join(tx) {
            Err(e) => Some(e),
            Ok(nj) => match self.state.registry.apply(&nj.join) {
                Ok(Change::Join(v)) => {
                    self.state.accepted_txs += 1;
                    if v.keys.signing == self.identity.signing.public() {
                        self.state.me = Some(v.id);
                    }
                    tracing::info!(height, id = v.id, peer = %nj.entry.peer_id, "validator joined");
                    self.state.peers.insert(v.id, nj.entry.clone());
                    effects.new_peers.push((v.id, nj.entry));
                    None
                }
                Ok(_) => Some("not a join".into()),
                Err(e) => Some(e.to_string()),
            },
        };
        if let Some(e) = refused {
            self.state.rejected_txs += 1;
            tracing::info!(height, error = %e, "node join refused");
            self.reject(format!("block {height}: {e}"));
        }
    }

    /// Decode and authenticate a node join whose peer id is new (not the registry's check).
    fn check_join(&self, tx: &[u8]) -> Result<NodeJoin, String> {
        check_join(&self.chain, &self.taken_peers(), tx)
    }

    /// Check a peer's committee transaction or node join against the current state as the API
    /// does; returns who signed it (`"v<id>"`, or the joining signing key in hex).
    pub fn check_committee(&self, tx: &[u8]) -> Result<String, String> {
        check_submitted(&self.chain, &self.state.registry, &self.taken_peers(), tx)?;
        Ok(match CommitteeTx::from_bytes(tx) {
            Ok(CommitteeTx::Leave { id, .. }) | Ok(CommitteeTx::Stake { id, .. }) => {
                format!("v{id}")
            }
            _ => match NodeJoin::from_bytes(tx).map(|nj| nj.join) {
                Ok(CommitteeTx::Join { keys, .. }) => hex::encode(keys.signing.to_bytes()),
                _ => "unknown".into(),
            },
        })
    }

    /// Every registered peer id (the genesis nodes' and the joined validators').
    pub fn taken_peers(&self) -> std::collections::BTreeSet<String> {
        self.genesis_peers
            .iter()
            .cloned()
            .chain(self.state.peers.values().map(|p| p.peer_id.clone()))
            .collect()
    }

    /// The network entries of validators that joined after the genesis.
    pub fn peers(&self) -> &BTreeMap<u32, NetEntry> {
        &self.state.peers
    }

    fn start_resharing(&mut self, epoch: u64) -> Result<Vec<Vec<u8>>, NodeError> {
        let target = self.state.registry.freeze();
        let new = committee_of(&target, epoch + 1, None).map_err(epoch_err)?;
        let t_new = threshold_degree(new.seats());
        self.state.next = None;
        self.state.failed = None;
        self.state.driver = None;
        let (Some(me), Some(key)) = (self.state.me, self.key()) else {
            // A node that knows no key of this epoch (or is no validator) only follows.
            return Ok(Vec::new());
        };
        let old = key.committee.clone();
        let in_old = old.member(me).is_some();
        if !in_old && new.member(me).is_none() {
            return Ok(Vec::new());
        }
        let config = DkgConfig::resharing(
            resharing_session(&self.chain, epoch),
            old.clone(),
            new.clone(),
            t_new,
            key.commitment.clone(),
        );
        let old_shares = if in_old {
            key.shares.clone()
        } else {
            Vec::new()
        };
        let mut seed = [0u8; 32];
        OsRng.fill_bytes(&mut seed);
        let p = Participant::new_resharing(config, self.identity.clone(), seed, old_shares)
            .map_err(epoch_err)?;
        seed.fill(0);
        let (driver, submit) =
            LogDriver::start(p, self.params.resharing_schedule(epoch)).map_err(epoch_err)?;
        tracing::info!(
            epoch,
            from = ?old.members.iter().map(|m| m.id).collect::<Vec<_>>(),
            to = ?new.members.iter().map(|m| m.id).collect::<Vec<_>>(),
            t_new,
            "resharing started"
        );
        self.state.driver = Some(driver);
        for s in &submit {
            self.state.own.push(hex::encode(s));
        }
        Ok(submit)
    }

    fn on_finished(&mut self, epoch: u64, out: DkgOutput<V>) -> Result<(), NodeError> {
        let same_key = self
            .state
            .key
            .as_ref()
            .is_some_and(|k| k.commitment.group_public_key() == out.group_public_key);
        if !same_key {
            // The resharing guarantees it; never take another key.
            self.state.failed = Some("the resharing produced another group key".into());
            return Ok(());
        }
        let Some(d) = self.state.driver.as_ref() else {
            return Ok(());
        };
        let config = d.participant().config();
        let dealers = &config.dealers;
        let players = config.players.clone();
        let qualified = out
            .qualified
            .iter()
            .filter_map(|s| dealers.owner_of(*s).map(|m| m.id))
            .collect();
        tracing::info!(epoch, qualified = ?qualified, "resharing finished");
        self.state.next = Some(EpochKey {
            epoch: epoch + 1,
            committee: players,
            commitment: out.commitment,
            shares: out.shares,
            from: Origin::Reshared.name().into(),
            qualified,
            seed: [0; 32],
            first_height: self.params.boundary(epoch) + 1,
        });
        Ok(())
    }

    /// At the boundary of `epoch`: the next epoch begins (for a node that took part in the
    /// resharing; any other node advances at the next block's marker).
    fn on_boundary(&mut self, epoch: u64, beacon: &[u8]) -> Result<Option<u64>, NodeError> {
        let took_part = self.state.driver.is_some();
        self.state.driver = None;
        self.state.own.clear();
        let Some(old) = self.state.key.clone().filter(|_| took_part) else {
            return Ok(None);
        };
        let seed = epoch_seed(&self.chain, epoch, beacon).0;
        let first = self.params.boundary(epoch) + 1;
        let failure = self.state.failed.take().unwrap_or_default();
        let reshared = self.state.next.is_some() && failure.is_empty();
        let key = match self.state.next.take() {
            Some(mut k) if reshared => {
                k.seed = seed;
                k
            }
            _ => EpochKey {
                epoch: epoch + 1,
                from: Origin::Kept.name().into(),
                seed,
                first_height: first,
                ..old
            },
        };
        self.state.registry.advance(reshared);
        let origin = if reshared {
            Origin::Reshared
        } else {
            Origin::Kept
        };
        self.state.marker = Some(Marker::of(&key, origin));
        self.push_history(summary(&key, &failure));
        self.state.key = Some(key);
        Ok(Some(epoch + 1))
    }

    /// The marker opening an epoch. A node that took part (the genesis DKG or the resharing)
    /// already holds that epoch's key and checked the marker as a validator; any other node
    /// advances by it and takes the epoch's committee and commitment from it (it holds no
    /// share of it).
    fn on_marker(&mut self, height: u64, m: Marker) -> Result<(), NodeError> {
        if !self.first_of_epoch(height) || m.epoch != self.params.epoch_of(height) {
            return Ok(()); // validators refuse such a block
        }
        if self.epoch() + 1 == m.epoch {
            self.state.registry.advance(m.origin == Origin::Reshared);
        }
        self.state.marker = None;
        if self.epoch() != m.epoch || self.key().is_some() {
            return Ok(());
        }
        let commitment = match Commitment::<V>::from_bytes(&m.commitment) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(epoch = m.epoch, error = %e, "epoch marker's commitment does not decode");
                return Ok(());
            }
        };
        if commitment.group_public_key().to_bytes() != self.state.group_key {
            tracing::warn!(epoch = m.epoch, "epoch marker names another group key");
            return Ok(());
        }
        let committee =
            committee_of(self.state.registry.active(), m.epoch, None).map_err(epoch_err)?;
        if committee_digest(&committee) != m.committee {
            tracing::warn!(epoch = m.epoch, "epoch marker names another committee");
        }
        let key = EpochKey {
            epoch: m.epoch,
            committee,
            commitment,
            shares: Vec::new(),
            from: m.origin.name().into(),
            qualified: Vec::new(),
            seed: [0; 32],
            first_height: height,
        };
        self.push_history(summary(&key, ""));
        self.state.key = Some(key);
        Ok(())
    }

    /// The `GET /v1/epoch` view.
    pub fn view(&self) -> serde_json::Value {
        let s = &self.state;
        let active: Vec<serde_json::Value> = s
            .registry
            .active()
            .values()
            .map(|v| {
                serde_json::json!({
                    "id": v.id,
                    "stake": v.stake,
                    "signing_key": hex::encode(v.keys.signing.to_bytes()),
                })
            })
            .collect();
        let resharing = s.driver.as_ref().map(|d| {
            serde_json::json!({
                "phase": d.participant().phase().as_str(),
                "started_after": d.schedule().start,
                "window": d.schedule().window,
                "finished": s.next.is_some(),
                "failed": s.failed.clone(),
            })
        });
        serde_json::json!({
            "epoch": self.epoch(),
            "length": self.params.length,
            "window": self.params.window,
            "height": s.last,
            "validator": s.me,
            "seat": self.my_seat(),
            "active": active,
            "history": s.history,
            "pending_changes": s.registry.pending().len() + s.registry.frozen().len(),
            "resharing": resharing,
            "accepted_txs": s.accepted_txs,
            "rejected_txs": s.rejected_txs,
            "rejected_messages": s.rejected_messages,
            "recent_rejections": s.recent_rejections,
        })
    }
}

fn summary<V: Variant>(k: &EpochKey<V>, failure: &str) -> EpochSummary {
    EpochSummary {
        epoch: k.epoch,
        first_height: k.first_height,
        committee: k.committee.members.iter().map(|m| m.id).collect(),
        seats: k.committee.seats(),
        threshold: k.commitment.degree(),
        key_from: k.from.clone(),
        qualified: k.qualified.clone(),
        failure: failure.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn marker() -> Marker {
        Marker {
            epoch: 7,
            origin: Origin::Reshared,
            committee: [3; 32],
            commitment: vec![9; 96],
        }
    }

    /// Five validators (validator 5 leaves at block 3) carry their resharing messages in a
    /// shared log of blocks, one node's state is dropped and restored from its stored form in
    /// the middle of the first resharing, and every node must reach the same markers, epochs
    /// and commitments. Oracles outside the code under test: t+1 of the new shares interpolate
    /// (plain Lagrange at 0) to the secret of the genesis group key, and each share matches the
    /// new commitment.
    #[test]
    fn validators_reshare_over_a_shared_log_and_resume_mid_way() {
        use crate::config::{GenesisIdentity, GenesisNode};
        use conclave_committee::vrf::SecretKey as VrfSecretKey;
        use conclave_dkg::sim::{run_parties, SimParty};
        use conclave_threshold_sig::{interpolate_secret, standard_dst, MinPk, Scheme, SecretKey};
        type V = MinPk;
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
        let n = 5u32;
        let ids: Vec<IdentityKeys> = (0..n).map(|_| IdentityKeys::random(&mut rng)).collect();
        let vrfs: Vec<VrfSecretKey> = (0..n)
            .map(|i| VrfSecretKey::derive(&[i as u8 + 1; 32], 0))
            .collect();
        let cfg = GenesisEpochs {
            length: 12,
            window: 2,
            min_validators: 4,
        };
        let genesis = Genesis {
            chain_id: "epochs-unit".into(),
            variant: "min-pk".into(),
            dst: String::from_utf8(standard_dst::<V>(Scheme::ProofOfPossession)).unwrap(),
            nodes: (1..=n)
                .map(|i| {
                    let k = &ids[i as usize - 1];
                    GenesisNode {
                        index: i,
                        api: format!("127.0.0.1:{}", 1000 + i),
                        p2p: format!("/ip4/127.0.0.1/tcp/{}", 2000 + i),
                        peer_id: libp2p::PeerId::random().to_string(),
                        identity: GenesisIdentity {
                            signing_key: hex::encode(k.signing.public().to_bytes()),
                            encryption_key: hex::encode(k.encryption.public().to_bytes()),
                        },
                        vrf_key: hex::encode(vrfs[i as usize - 1].public_key().to_bytes()),
                    }
                })
                .collect(),
            dkg_window_blocks: 600,
            epochs: Some(cfg),
        };
        genesis.validate().unwrap();
        let config =
            DkgConfig::<V>::new([1; 32], genesis.committee().unwrap(), threshold_degree(n));
        let mut parties: Vec<SimParty<V>> = ids
            .iter()
            .enumerate()
            .map(|(i, k)| SimParty {
                participant: Participant::new(config.clone(), k.clone(), [i as u8 + 10; 32])
                    .unwrap(),
                silent: false,
                honest: true,
            })
            .collect();
        let (results, _) = run_parties(&mut parties).unwrap();
        let gpk = results[0].as_ref().unwrap().group_public_key;
        let mut nodes: Vec<Epochs<V>> = results
            .iter()
            .enumerate()
            .map(|(i, r)| {
                Epochs::genesis(
                    &genesis,
                    &cfg,
                    i as u32 + 1,
                    ids[i].clone(),
                    r.as_ref().unwrap(),
                    Seed([0; 32]),
                )
                .unwrap()
            })
            .collect();
        let leave =
            CommitteeTx::leave(genesis.chain_id.as_bytes(), 0, 5, &ids[4].signing, &mut rng);
        let mut pending: Vec<Vec<u8>> = Vec::new();
        for h in 1..=25u64 {
            let mut txs = Vec::new();
            let markers: Vec<Option<Vec<u8>>> = nodes.iter().map(|e| e.marker_for(h)).collect();
            if (h - 1) % cfg.length == 0 {
                // Every node that took part has the same marker; node 5 has none after it left.
                let m = markers[0].clone().expect("node 1 took part");
                for (i, got) in markers.iter().enumerate().take(4) {
                    assert_eq!(got.as_ref(), Some(&m), "node {} at {h}", i + 1);
                }
                txs.push(m);
            }
            if h == 3 {
                txs.push(leave.to_bytes());
            }
            txs.append(&mut pending);
            for e in &nodes {
                e.check_block(h, &txs).unwrap();
            }
            let beacon = [h as u8; 96];
            for e in nodes.iter_mut() {
                let effects = e.on_block(h, &txs, &beacon).unwrap();
                pending.extend(effects.submit);
            }
            if h == 8 {
                // Node 2 crashes in the complaint window and restarts from its stored state.
                let stored = nodes[1].encode();
                nodes[1] = Epochs::restore(&genesis, &cfg, ids[1].clone(), &stored).unwrap();
            }
        }
        // Epochs 1 and 2 are reshared to 1..=4; node 5 left at the first boundary and took its
        // view of epoch 2 from the marker of block 25.
        for e in &nodes {
            assert_eq!(e.epoch(), 2);
            let k = e.key().unwrap();
            assert_eq!(k.from, "resharing");
            assert_eq!(
                k.committee.members.iter().map(|m| m.id).collect::<Vec<_>>(),
                vec![1, 2, 3, 4]
            );
            assert_eq!(
                k.commitment.to_bytes(),
                nodes[0].key().unwrap().commitment.to_bytes()
            );
            assert_eq!(k.commitment.group_public_key(), gpk);
        }
        assert!(nodes[4].my_seat().is_none());
        let mut shares = Vec::new();
        for e in nodes.iter().take(4) {
            let k = e.key().unwrap();
            assert_eq!(k.qualified, vec![1, 2, 3, 4], "every old holder qualified");
            for s in &k.shares {
                assert!(
                    s.verify(&k.commitment),
                    "share {} off the commitment",
                    s.index()
                );
                shares.push(s.clone());
            }
        }
        let t = nodes[0].key().unwrap().commitment.degree() as usize;
        let secret = interpolate_secret(&shares[..t + 1]).unwrap();
        assert_eq!(
            SecretKey::from_scalar(secret).unwrap().public_key::<V>(),
            gpk
        );
        let other = interpolate_secret(&shares[shares.len() - (t + 1)..]).unwrap();
        assert_eq!(secret, other);
    }

    #[test]
    fn marker_round_trips_and_decoding_is_strict() {
        let m = marker();
        let b = m.encode();
        assert_eq!(Marker::decode(&b), Some(m.clone()));
        assert_eq!(kind_of(&b), TxKind::Marker);
        for cut in 0..b.len() {
            assert_eq!(Marker::decode(&b[..cut]), None, "cut at {cut}");
        }
        let mut extra = b.clone();
        extra.push(0);
        assert_eq!(Marker::decode(&extra), None);
        let mut bad = b.clone();
        bad[16] = 3; // no such origin
        assert_eq!(Marker::decode(&bad), None);
        assert!(check_form(&b, true).is_ok());
        assert!(check_form(&b, false).is_err(), "no markers without epochs");
    }

    #[test]
    fn kinds_are_told_by_tag_and_keys_may_not_use_a_tag() {
        assert_eq!(kind_of(b"a=1"), TxKind::Kv);
        assert!(crate::app::parse_tx(b"cepochx1=1").is_err());
        assert!(crate::app::parse_tx(b"cdkglog1=1").is_err());
        assert!(crate::app::parse_tx(b"cepochm1=1").is_err());
        assert!(crate::app::parse_tx(b"cnodejn1=1").is_err());
        assert!(crate::app::parse_tx(b"cepoch=1").is_ok());
        // A resharing message: a size bound here, authentication by the driver.
        let mut env = conclave_dkg::log::ENVELOPE_TAG.to_vec();
        env.resize(MAX_DKG_TX, 0);
        assert_eq!(check_form(&env, true), Ok(TxKind::Dkg));
        env.push(0);
        assert!(check_form(&env, true).is_err());
        assert!(check_form(b"cepochx1junk", true).is_err());
    }

    #[test]
    fn a_plain_committee_join_is_refused_and_a_node_join_binds_its_entry() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
        let chain = b"test-chain";
        let secrets = ValidatorSecrets::random(&mut rng);
        let plain = CommitteeTx::join(chain, 0, &secrets, 1, &mut rng).to_bytes();
        assert!(
            check_form(&plain, true).is_err(),
            "a join without its node entry"
        );
        let leave = CommitteeTx::leave(chain, 0, 3, &secrets.identity.signing, &mut rng);
        assert_eq!(check_form(&leave.to_bytes(), true), Ok(TxKind::Committee));
        let p2p = libp2p::identity::Keypair::generate_ed25519();
        let peer = libp2p::PeerId::from(p2p.public()).to_string();
        let entry = NetEntry {
            peer_id: peer.clone(),
            p2p: "/ip4/127.0.0.1/tcp/4001".into(),
            api: "127.0.0.1:4000".into(),
        };
        let nj = NodeJoin::new(chain, 0, &secrets, 1, entry.clone(), &p2p, &mut rng).unwrap();
        // Someone else's peer id: refused at decoding (it is not the key's).
        let other = NodeJoin {
            entry: NetEntry {
                peer_id: libp2p::PeerId::random().to_string(),
                ..entry.clone()
            },
            ..nj.clone()
        };
        assert!(NodeJoin::from_bytes(&other.to_bytes()).is_err());
        // A signature by another libp2p key: refused.
        let stolen = NodeJoin {
            p2p_signature: libp2p::identity::Keypair::generate_ed25519()
                .sign(b"x")
                .unwrap(),
            ..nj.clone()
        };
        assert!(!NodeJoin::from_bytes(&stolen.to_bytes())
            .unwrap()
            .verify(chain));
        let b = nj.to_bytes();
        assert!(b.len() <= MAX_JOIN_TX);
        assert_eq!(check_form(&b, true), Ok(TxKind::Join));
        let back = NodeJoin::from_bytes(&b).unwrap();
        assert_eq!(back, nj);
        assert!(back.verify(chain));
        assert!(!back.verify(b"another-chain"), "bound to the chain");
        // Another entry under the same signature: refused (a relayer cannot redirect it).
        let moved = NodeJoin {
            entry: NetEntry {
                p2p: "/ip4/10.0.0.1/tcp/4001".into(),
                ..entry
            },
            ..nj.clone()
        };
        assert!(!NodeJoin::from_bytes(&moved.to_bytes())
            .unwrap()
            .verify(chain));
        let taken = [peer].into_iter().collect();
        assert!(check_join(chain, &taken, &b).is_err(), "a taken peer id");
        assert!(check_join(chain, &Default::default(), &b).is_ok());
        for cut in 0..b.len() {
            assert!(NodeJoin::from_bytes(&b[..cut]).is_err(), "cut at {cut}");
        }
    }
}
