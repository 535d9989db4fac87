//! Compact proposals: a proposal's block travels as its transactions' hashes.
//!
//! Every tx reaches every node's mempool before it is proposed (the submitting node forwards
//! it), so sending a proposal's block in full sends each tx a second time, once per proposer:
//! with four proposers per period that is twelve copies of every block on the wire, and under
//! load the payloads that arrive after the filter timer split the soft votes. A proposal goes
//! out instead as [`TAG_COMPACT`](crate::consensus::TAG_COMPACT) ‖ the engine's proposal
//! message whose value is the [`CompactBlock`] (header and one 32-byte hash per tx).
//!
//! The receiver rebuilds the engine's exact message: the txs come from its mempool or from a
//! small cache of recent ones ([`TxCache`]); those it lacks it fetches from the sender (the
//! sync protocol's `txs` request, [`fetch_request`] / [`serve_fetch`]), which holds every tx of
//! what it sent. Each fetched tx is checked against its hash, and the rebuilt bytes go to the
//! engine, which authenticates them as it would the full message (the proposer's signature is
//! over the id of the full block). This is a wire encoding only: the engine, the block hash,
//! the ledger and light clients see full blocks.
//!
//! What a peer can do with it: a compact proposal costs its receiver a decode, a mempool
//! lookup per hash (at most `max_block_txs`) and at most one fetch, from that same peer; a
//! node keeps at most [`MAX_PENDING_PER_PEER`] unfinished rebuilds per peer (the newest). A
//! sender that never answers the fetch has withheld its proposal, which the engine already
//! tolerates; a wrong tx fails its hash and the rebuild is dropped.

use std::collections::{HashMap, VecDeque};

use conclave_bft::codec;
use conclave_bft::types::{Message, Proposal};

use crate::app::{tx_hash, AppError, Block};

/// Magic of a [`CompactBlock`]'s encoding.
const COMPACT_MAGIC: &[u8; 4] = b"CNC1";

/// Most unfinished rebuilds kept per peer (older ones are dropped).
pub const MAX_PENDING_PER_PEER: usize = 2;

/// Most hashes in one fetch request (and so in one compact block).
pub const MAX_FETCH: usize = 1 << 14;

/// Sync request code of a tx fetch: `[3] ‖ hash*`.
pub const SYNC_TXS: u8 = 3;

/// A block as its header and its txs' hashes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompactBlock {
    /// Height.
    pub height: u64,
    /// Parent block hash.
    pub parent: [u8; 32],
    /// The application hash after the block.
    pub app_hash: [u8; 32],
    /// SHA-256 of each tx, in block order.
    pub hashes: Vec<[u8; 32]>,
}

impl CompactBlock {
    /// The compact form of `block`.
    pub fn of(block: &Block) -> Self {
        CompactBlock {
            height: block.height,
            parent: block.parent,
            app_hash: block.app_hash,
            hashes: block.txs.iter().map(|t| tx_hash(t)).collect(),
        }
    }

    /// `magic ‖ height u64 ‖ parent ‖ app_hash ‖ count u32 ‖ hash*`.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(80 + 32 * self.hashes.len());
        out.extend_from_slice(COMPACT_MAGIC);
        out.extend_from_slice(&self.height.to_be_bytes());
        out.extend_from_slice(&self.parent);
        out.extend_from_slice(&self.app_hash);
        out.extend_from_slice(&(self.hashes.len() as u32).to_be_bytes());
        for h in &self.hashes {
            out.extend_from_slice(h);
        }
        out
    }

    /// Strict decoding: at most `max_txs` hashes (and [`MAX_FETCH`]), no trailing bytes.
    pub fn decode(bytes: &[u8], max_txs: usize) -> Result<Self, AppError> {
        const HEAD: usize = 4 + 8 + 32 + 32 + 4;
        if bytes.len() < HEAD || &bytes[..4] != COMPACT_MAGIC {
            return Err(AppError::Malformed("bad compact block"));
        }
        let height = u64::from_be_bytes(bytes[4..12].try_into().expect("8"));
        let parent: [u8; 32] = bytes[12..44].try_into().expect("32");
        let app_hash: [u8; 32] = bytes[44..76].try_into().expect("32");
        let count = u32::from_be_bytes(bytes[76..80].try_into().expect("4")) as usize;
        if count > max_txs.min(MAX_FETCH) {
            return Err(AppError::InvalidBlock("block too large"));
        }
        let rest = &bytes[HEAD..];
        if rest.len() != 32 * count {
            return Err(AppError::Malformed("compact block length"));
        }
        let hashes = rest
            .chunks_exact(32)
            .map(|c| c.try_into().expect("32"))
            .collect();
        Ok(CompactBlock {
            height,
            parent,
            app_hash,
            hashes,
        })
    }
}

/// Txs with their hashes, in block order.
pub type HashedTxs = Vec<([u8; 32], Vec<u8>)>;

/// The compact wire form of an engine message, if it is a proposal of a block with txs:
/// the body to send after [`crate::consensus::TAG_COMPACT`] and the block's txs with their
/// hashes (for the sender's [`TxCache`], from which it serves fetches).
pub fn compact_message(engine_bytes: &[u8]) -> Option<(Vec<u8>, HashedTxs)> {
    let Ok(Message::Proposal(mut p)) = codec::decode(engine_bytes) else {
        return None;
    };
    let block = Block::decode(&p.value).ok()?;
    if block.txs.is_empty() || block.txs.len() > MAX_FETCH {
        return None;
    }
    let compact = CompactBlock::of(&block);
    p.value = compact.encode();
    let body = codec::encode(&Message::Proposal(p));
    if body.len() >= engine_bytes.len() {
        // Txs shorter than their hashes: the full form is the smaller one.
        return None;
    }
    let txs = compact.hashes.into_iter().zip(block.txs).collect();
    Some((body, txs))
}

/// Why a compact message was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CompactError {
    /// Not an engine proposal message.
    #[error("not a proposal: {0}")]
    Codec(String),
    /// Its value is not a compact block within the limits.
    #[error("compact block: {0}")]
    Block(#[from] AppError),
}

/// A proposal being rebuilt from its compact form.
#[derive(Debug)]
pub struct Reassembly {
    proposal: Proposal,
    block: CompactBlock,
    txs: Vec<Option<Vec<u8>>>,
}

impl Reassembly {
    /// Decode a compact message's body (what follows the tag).
    pub fn new(body: &[u8], max_txs: usize) -> Result<Self, CompactError> {
        let message = codec::decode(body).map_err(|e| CompactError::Codec(e.to_string()))?;
        let Message::Proposal(mut proposal) = message else {
            return Err(CompactError::Codec("another message kind".into()));
        };
        let block = CompactBlock::decode(&proposal.value, max_txs)?;
        proposal.value = Vec::new();
        let txs = vec![None; block.hashes.len()];
        Ok(Reassembly {
            proposal,
            block,
            txs,
        })
    }

    /// Fill what `lookup` knows (each answer is checked against its hash).
    pub fn fill(&mut self, mut lookup: impl FnMut(&[u8; 32]) -> Option<Vec<u8>>) {
        for (slot, h) in self.txs.iter_mut().zip(&self.block.hashes) {
            if slot.is_none() {
                *slot = lookup(h).filter(|tx| tx_hash(tx) == *h);
            }
        }
    }

    /// The hashes still missing, each once, in block order.
    pub fn missing(&self) -> Vec<[u8; 32]> {
        let mut seen = std::collections::HashSet::new();
        self.txs
            .iter()
            .zip(&self.block.hashes)
            .filter(|(slot, h)| slot.is_none() && seen.insert(**h))
            .map(|(_, h)| *h)
            .collect()
    }

    /// Take a fetch response ([`serve_fetch`]'s encoding); returns how many slots it filled.
    /// Entries that do not hash to a missing tx are ignored.
    pub fn accept(&mut self, response: &[u8]) -> usize {
        let mut got: HashMap<[u8; 32], Vec<u8>> = HashMap::new();
        let mut r = response;
        while r.len() >= 4 {
            let len = u32::from_be_bytes(r[..4].try_into().expect("4")) as usize;
            let Some(tx) = r.get(4..4 + len) else {
                break;
            };
            if !tx.is_empty() {
                got.insert(tx_hash(tx), tx.to_vec());
            }
            r = &r[4 + len..];
        }
        let mut filled = 0;
        for (slot, h) in self.txs.iter_mut().zip(&self.block.hashes) {
            if slot.is_none() {
                if let Some(tx) = got.get(h) {
                    *slot = Some(tx.clone());
                    filled += 1;
                }
            }
        }
        filled
    }

    /// The proposal's height (to drop rebuilds the node has moved past).
    pub fn height(&self) -> u64 {
        self.proposal.height.0
    }

    /// The engine message, byte for byte what the sender's engine encoded, once every tx is
    /// in; else the unfinished rebuild back.
    pub fn finish(self) -> Result<Vec<u8>, Box<Self>> {
        if self.txs.iter().any(Option::is_none) {
            return Err(Box::new(self));
        }
        let Reassembly {
            mut proposal,
            block,
            txs,
        } = self;
        proposal.value = Block {
            height: block.height,
            parent: block.parent,
            app_hash: block.app_hash,
            txs: txs.into_iter().map(|t| t.expect("checked")).collect(),
        }
        .encode();
        Ok(codec::encode(&Message::Proposal(proposal)))
    }
}

/// Fetches in flight per peer, at most [`MAX_PENDING_PER_PEER`] each: a peer that floods
/// compact proposals naming unknown txs gets that many fetches (tasks and transport
/// requests) from this node and no more, and cannot crowd out another peer's.
#[derive(Debug, Default)]
pub struct InFlight {
    per_peer: HashMap<u32, usize>,
}

impl InFlight {
    /// Take a fetch slot for `peer`; false if its slots are all in use.
    pub fn try_start(&mut self, peer: u32) -> bool {
        let c = self.per_peer.entry(peer).or_default();
        if *c >= MAX_PENDING_PER_PEER {
            return false;
        }
        *c += 1;
        true
    }

    /// Give back a slot of `peer` (its fetch answered or timed out).
    pub fn finish(&mut self, peer: u32) {
        if let Some(c) = self.per_peer.get_mut(&peer) {
            *c = c.saturating_sub(1);
        }
    }
}

/// A fetch request for `hashes` (at most [`MAX_FETCH`] are sent).
pub fn fetch_request(hashes: &[[u8; 32]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + 32 * hashes.len().min(MAX_FETCH));
    out.push(SYNC_TXS);
    for h in hashes.iter().take(MAX_FETCH) {
        out.extend_from_slice(h);
    }
    out
}

/// The largest fetch request's encoding.
pub const MAX_FETCH_REQUEST: usize = 1 + 32 * MAX_FETCH;

/// The answer to a fetch request's hashes (the bytes after [`SYNC_TXS`]): for each hash in
/// order `len u32 ‖ tx`, with length 0 for one `lookup` does not know, stopping before
/// `max_bytes`. A malformed request (not whole hashes, too many) gets an empty answer.
pub fn serve_fetch(
    hashes: &[u8],
    max_bytes: usize,
    mut lookup: impl FnMut(&[u8; 32]) -> Option<Vec<u8>>,
) -> Vec<u8> {
    let mut out = Vec::new();
    if hashes.len() % 32 != 0 || hashes.len() / 32 > MAX_FETCH {
        return out;
    }
    for h in hashes.chunks_exact(32) {
        let h: [u8; 32] = h.try_into().expect("32");
        let tx = lookup(&h).unwrap_or_default();
        if out.len() + 4 + tx.len() > max_bytes {
            break;
        }
        out.extend_from_slice(&(tx.len() as u32).to_be_bytes());
        out.extend_from_slice(&tx);
    }
    out
}

/// A bounded cache of recent txs by hash (the txs of the proposals this node sent, so it can
/// serve fetches after they leave its mempool), oldest evicted first.
#[derive(Debug)]
pub struct TxCache {
    map: HashMap<[u8; 32], Vec<u8>>,
    order: VecDeque<[u8; 32]>,
    bytes: usize,
    max_bytes: usize,
}

impl TxCache {
    /// A cache of at most `max_bytes` bytes of txs.
    pub fn new(max_bytes: usize) -> Self {
        TxCache {
            map: HashMap::new(),
            order: VecDeque::new(),
            bytes: 0,
            max_bytes,
        }
    }

    /// Remember `tx` under its hash `hash` (the caller computed it from `tx`).
    pub fn insert(&mut self, hash: [u8; 32], tx: Vec<u8>) {
        if tx.len() > self.max_bytes || self.map.contains_key(&hash) {
            return;
        }
        while self.bytes + tx.len() > self.max_bytes {
            let Some(old) = self.order.pop_front() else {
                break;
            };
            if let Some(t) = self.map.remove(&old) {
                self.bytes -= t.len();
            }
        }
        self.bytes += tx.len();
        self.order.push_back(hash);
        self.map.insert(hash, tx);
    }

    /// The tx with this hash, if cached.
    pub fn get(&self, hash: &[u8; 32]) -> Option<&Vec<u8>> {
        self.map.get(hash)
    }

    /// Bytes of txs held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use conclave_bft::types::{Epoch, Height, NodeId, Period};

    fn block(n: usize) -> Block {
        let txs: Vec<Vec<u8>> = (0..n)
            .map(|i| format!("k{i}={}", "v".repeat(64)).into_bytes())
            .collect();
        Block {
            height: 7,
            parent: [1; 32],
            app_hash: [2; 32],
            txs,
        }
    }

    fn proposal_bytes(value: Vec<u8>) -> Vec<u8> {
        codec::encode(&Message::Proposal(Proposal {
            epoch: Epoch(0),
            height: Height(7),
            period: Period(1),
            proposer: NodeId(2),
            credential: vec![9; 120],
            value,
            signature: vec![5; 48],
            seal: Vec::new(),
        }))
    }

    fn mempool_of(b: &Block) -> HashMap<[u8; 32], Vec<u8>> {
        b.txs.iter().map(|t| (tx_hash(t), t.clone())).collect()
    }

    #[test]
    fn compact_block_round_trips_and_is_strict() {
        let c = CompactBlock::of(&block(5));
        let e = c.encode();
        assert_eq!(e.len(), 80 + 5 * 32);
        assert_eq!(CompactBlock::decode(&e, 5).unwrap(), c);
        assert!(
            CompactBlock::decode(&e, 4).is_err(),
            "more hashes than max_txs"
        );
        assert!(
            CompactBlock::decode(&e[..e.len() - 1], 5).is_err(),
            "truncated"
        );
        let mut long = e.clone();
        long.push(0);
        assert!(CompactBlock::decode(&long, 5).is_err(), "trailing byte");
        let mut magic = e;
        magic[0] ^= 1;
        assert!(CompactBlock::decode(&magic, 5).is_err(), "bad magic");
    }

    #[test]
    fn rebuild_from_the_mempool_gives_the_exact_engine_bytes() {
        let b = block(40);
        let original = proposal_bytes(b.encode());
        let (body, txs) = compact_message(&original).expect("a proposal with txs");
        assert!(body.len() < original.len());
        assert_eq!(txs.len(), 40);
        let pool = mempool_of(&b);
        let mut r = Reassembly::new(&body, 100).unwrap();
        r.fill(|h| pool.get(h).cloned());
        assert!(r.missing().is_empty());
        assert_eq!(r.finish().unwrap(), original);
    }

    #[test]
    fn missing_txs_are_fetched_and_checked_against_their_hashes() {
        let b = block(10);
        let original = proposal_bytes(b.encode());
        let (body, sent) = compact_message(&original).unwrap();
        // The receiver holds every tx but 3 and 7.
        let mut pool = mempool_of(&b);
        pool.remove(&tx_hash(&b.txs[3]));
        pool.remove(&tx_hash(&b.txs[7]));
        let mut r = Reassembly::new(&body, 100).unwrap();
        r.fill(|h| pool.get(h).cloned());
        let missing = r.missing();
        assert_eq!(missing, vec![tx_hash(&b.txs[3]), tx_hash(&b.txs[7])]);

        // A lying sender answers with other txs: nothing is filled.
        let liar = serve_fetch(&fetch_request(&missing)[1..], 1 << 20, |_| {
            Some(b"evil=1".to_vec())
        });
        assert_eq!(r.accept(&liar), 0);
        let r = r.finish().expect_err("still missing");

        // The honest sender serves them from what it sent.
        let cache: HashMap<_, _> = sent.into_iter().collect();
        let answer = serve_fetch(&fetch_request(&missing)[1..], 1 << 20, |h| {
            cache.get(h).cloned()
        });
        let mut r = *r;
        assert_eq!(r.accept(&answer), 2);
        assert_eq!(r.finish().unwrap(), original);
    }

    #[test]
    fn a_lookup_answer_that_does_not_hash_right_is_not_used() {
        let b = block(3);
        let (body, _) = compact_message(&proposal_bytes(b.encode())).unwrap();
        let mut r = Reassembly::new(&body, 100).unwrap();
        r.fill(|_| Some(b"wrong=tx".to_vec()));
        assert_eq!(r.missing().len(), 3);
    }

    #[test]
    fn only_proposals_of_blocks_with_txs_are_compacted() {
        assert!(compact_message(&proposal_bytes(block(0).encode())).is_none());
        let tiny = Block {
            txs: vec![b"a=1".to_vec(); 8],
            ..block(0)
        };
        assert!(
            compact_message(&proposal_bytes(tiny.encode())).is_none(),
            "txs shorter than their hashes are sent in full"
        );
        assert!(compact_message(&proposal_bytes(b"not a block".to_vec())).is_none());
        let sync = codec::encode(&Message::SyncRequest { height: Height(3) });
        assert!(compact_message(&sync).is_none());
        assert!(Reassembly::new(&sync, 10).is_err());
        // A full (not compact) block as the value is refused by the receiver.
        assert!(Reassembly::new(&proposal_bytes(block(2).encode()), 10).is_err());
    }

    #[test]
    fn fetch_answers_are_bounded_and_malformed_requests_get_nothing() {
        let b = block(4);
        let pool = mempool_of(&b);
        let hashes: Vec<_> = b.txs.iter().map(|t| tx_hash(t)).collect();
        let req = fetch_request(&hashes);
        let full = serve_fetch(&req[1..], 1 << 20, |h| pool.get(h).cloned());
        let small = serve_fetch(&req[1..], 20, |h| pool.get(h).cloned());
        assert!(small.len() <= 20 && small.len() < full.len());
        assert!(serve_fetch(&req[1..req.len() - 1], 1 << 20, |h| pool.get(h).cloned()).is_empty());
        // Unknown hashes get empty entries, and an empty entry fills nothing.
        let unknown = serve_fetch(&[7u8; 64], 1 << 20, |_| None);
        assert_eq!(unknown, vec![0u8; 8]);
    }

    #[test]
    fn a_flooding_peer_gets_bounded_fetch_slots_and_others_keep_theirs() {
        let mut f = InFlight::default();
        let taken = (0..1000).filter(|_| f.try_start(2)).count();
        assert_eq!(taken, MAX_PENDING_PER_PEER);
        assert!(f.try_start(3), "another peer is not crowded out");
        f.finish(2);
        assert!(f.try_start(2), "an answered fetch frees its slot");
        assert!(!f.try_start(2));
        // Finishing more than was started gives no extra slots.
        f.finish(9);
        f.finish(9);
        assert_eq!(
            (0..10).filter(|_| f.try_start(9)).count(),
            MAX_PENDING_PER_PEER
        );
    }

    #[test]
    fn the_cache_is_bounded_and_evicts_the_oldest() {
        let mut c = TxCache::new(10);
        c.insert([1; 32], vec![0; 4]);
        c.insert([2; 32], vec![0; 4]);
        c.insert([3; 32], vec![0; 4]);
        assert!(c.get(&[1; 32]).is_none());
        assert!(c.get(&[2; 32]).is_some() && c.get(&[3; 32]).is_some());
        assert_eq!(c.bytes(), 8);
        c.insert([4; 32], vec![0; 11]);
        assert!(c.get(&[4; 32]).is_none(), "larger than the cache");
    }
}
