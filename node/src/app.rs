//! The replicated application: blocks `(height, parent, txs, app_hash)`, the key-value
//! transactions of the contract (`KEY=VALUE`), the chained `app_hash`, and the mempool.
//!
//! A block's hash is the engine's value id of its canonical encoding
//! (`SHA-256("conclave-bft/value/v1" ‖ encoding)`, the threshold adapter's
//! [`conclave_bft::traits::Verifier::value_id`]), so a decision certificate, which signs the
//! value id, signs the block hash.
//!
//! `app_hash` after block h is `SHA-256("conclave-node/app/v1" ‖ app_hash(h−1) ‖ h ‖ (len ‖ tx)*)`
//! with `app_hash(0)` = 32 zero bytes: every tx of a block applies (a block may not repeat a
//! committed tx, nor a tx twice), and the key-value state is a function of the ordered txs, so
//! the chained hash commits to the state after the block.

use std::collections::{HashMap, VecDeque};

use sha2::{Digest, Sha256};

/// Longest key in bytes.
pub const MAX_KEY: usize = 64;
/// Longest value in bytes.
pub const MAX_VALUE: usize = 1024;
/// Longest transaction (`KEY=VALUE`).
pub const MAX_TX: usize = MAX_KEY + 1 + MAX_VALUE;
/// Longest transaction of any kind (a resharing message, on a chain with epochs: see
/// [`crate::epochs`]).
pub const MAX_ANY_TX: usize = crate::epochs::MAX_DKG_TX;

/// Why a transaction or block is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    /// Not `KEY=VALUE` within the limits.
    #[error("invalid tx: {0}")]
    InvalidTx(&'static str),
    /// The block bytes do not decode.
    #[error("malformed block: {0}")]
    Malformed(&'static str),
    /// The block does not extend the tip correctly.
    #[error("invalid block: {0}")]
    InvalidBlock(&'static str),
}

/// Check a tx: UTF-8 `KEY=VALUE`, KEY 1..=64 bytes without `=` and not starting with one of
/// the reserved tags of [`crate::epochs`] (`cepochx1`, `cdkglog1`, `cepochm1`), VALUE at most
/// 1024 bytes.
/// Returns `(key, value)`.
pub fn parse_tx(tx: &[u8]) -> Result<(&str, &str), AppError> {
    if tx.len() > MAX_TX {
        return Err(AppError::InvalidTx("longer than KEY=VALUE allows"));
    }
    if crate::epochs::kind_of(tx) != crate::epochs::TxKind::Kv {
        return Err(AppError::InvalidTx("KEY starts with a reserved tag"));
    }
    let text = std::str::from_utf8(tx).map_err(|_| AppError::InvalidTx("not UTF-8"))?;
    let (key, value) = text
        .split_once('=')
        .ok_or(AppError::InvalidTx("no '=' in KEY=VALUE"))?;
    if key.is_empty() || key.len() > MAX_KEY {
        return Err(AppError::InvalidTx("KEY must be 1..=64 bytes"));
    }
    if value.len() > MAX_VALUE {
        return Err(AppError::InvalidTx("VALUE must be at most 1024 bytes"));
    }
    Ok((key, value))
}

/// SHA-256 of the tx bytes (the contract's tx hash).
pub fn tx_hash(tx: &[u8]) -> [u8; 32] {
    Sha256::digest(tx).into()
}

/// A block of the replicated log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// Height, from 1.
    pub height: u64,
    /// Hash of block `height − 1` (zero for block 1).
    pub parent: [u8; 32],
    /// Transactions, applied in order.
    pub txs: Vec<Vec<u8>>,
    /// The application hash after this block.
    pub app_hash: [u8; 32],
}

const BLOCK_MAGIC: &[u8; 4] = b"CNB1";

impl Block {
    /// Canonical encoding: magic ‖ height u64 ‖ parent ‖ app_hash ‖ count u32 ‖ (len u32 ‖ tx)*.
    pub fn encode(&self) -> Vec<u8> {
        let size: usize = self.txs.iter().map(|t| 4 + t.len()).sum();
        let mut out = Vec::with_capacity(80 + size);
        out.extend_from_slice(BLOCK_MAGIC);
        out.extend_from_slice(&self.height.to_be_bytes());
        out.extend_from_slice(&self.parent);
        out.extend_from_slice(&self.app_hash);
        out.extend_from_slice(&(self.txs.len() as u32).to_be_bytes());
        for tx in &self.txs {
            out.extend_from_slice(&(tx.len() as u32).to_be_bytes());
            out.extend_from_slice(tx);
        }
        out
    }

    /// Strict decoding of [`Block::encode`] (no trailing bytes; every tx at most
    /// [`MAX_ANY_TX`]; each kind's own limit is checked by [`validate_block`]).
    pub fn decode(bytes: &[u8]) -> Result<Self, AppError> {
        let mut r = bytes;
        let mut take = |n: usize| -> Result<&[u8], AppError> {
            if r.len() < n {
                return Err(AppError::Malformed("truncated"));
            }
            let (a, b) = r.split_at(n);
            r = b;
            Ok(a)
        };
        if take(4)? != BLOCK_MAGIC {
            return Err(AppError::Malformed("bad magic"));
        }
        let height = u64::from_be_bytes(take(8)?.try_into().expect("8 bytes"));
        let parent: [u8; 32] = take(32)?.try_into().expect("32 bytes");
        let app_hash: [u8; 32] = take(32)?.try_into().expect("32 bytes");
        let count = u32::from_be_bytes(take(4)?.try_into().expect("4 bytes")) as usize;
        let mut txs = Vec::with_capacity(count.min(4096));
        for _ in 0..count {
            let len = u32::from_be_bytes(take(4)?.try_into().expect("4 bytes")) as usize;
            if len > MAX_ANY_TX {
                return Err(AppError::Malformed("tx too long"));
            }
            txs.push(take(len)?.to_vec());
        }
        if !r.is_empty() {
            return Err(AppError::Malformed("trailing bytes"));
        }
        Ok(Block {
            height,
            parent,
            txs,
            app_hash,
        })
    }
}

/// The block hash: the engine's value id of the encoding (threshold adapter, see the module
/// docs; a unit test checks they agree).
pub fn block_hash(encoded: &[u8]) -> [u8; 32] {
    Sha256::new()
        .chain_update(b"conclave-bft/value/v1")
        .chain_update(encoded)
        .finalize()
        .into()
}

/// The chained application hash after applying `txs` at `height` on top of `previous`.
pub fn next_app_hash(previous: &[u8; 32], height: u64, txs: &[Vec<u8>]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"conclave-node/app/v1");
    h.update(previous);
    h.update(height.to_be_bytes());
    for tx in txs {
        h.update((tx.len() as u32).to_be_bytes());
        h.update(tx);
    }
    h.finalize().into()
}

/// The tip a block must extend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tip {
    /// Last applied height (0 before the first block).
    pub height: u64,
    /// Its block hash (zero before the first block).
    pub hash: [u8; 32],
    /// Its app hash (zero before the first block).
    pub app_hash: [u8; 32],
}

/// Validate a proposed block for `tip.height + 1`: decoding, height, parent, size limits (at
/// most `max_txs` txs and `max_bytes` bytes of encoding), every tx well-formed
/// ([`crate::epochs::check_form`]; with `epochs` false only `KEY=VALUE`), no tx twice,
/// none already committed (`any_committed` is asked once, for all the block's tx hashes), and
/// its `app_hash`.
pub fn validate_block(
    bytes: &[u8],
    tip: &Tip,
    max_txs: usize,
    max_bytes: usize,
    epochs: bool,
    any_committed: &dyn Fn(&[[u8; 32]]) -> bool,
) -> Result<Block, AppError> {
    if bytes.len() > max_bytes {
        return Err(AppError::InvalidBlock("block too large"));
    }
    let block = Block::decode(bytes)?;
    if block.height != tip.height + 1 {
        return Err(AppError::InvalidBlock("wrong height"));
    }
    if block.parent != tip.hash {
        return Err(AppError::InvalidBlock("parent is not the tip"));
    }
    if block.txs.len() > max_txs {
        return Err(AppError::InvalidBlock("block too large"));
    }
    let mut seen = std::collections::HashSet::with_capacity(block.txs.len());
    let mut hashes = Vec::with_capacity(block.txs.len());
    for tx in &block.txs {
        crate::epochs::check_form(tx, epochs)?;
        let h = tx_hash(tx);
        if !seen.insert(h) {
            return Err(AppError::InvalidBlock("repeated or committed tx"));
        }
        hashes.push(h);
    }
    if !hashes.is_empty() && any_committed(&hashes) {
        return Err(AppError::InvalidBlock("repeated or committed tx"));
    }
    if block.app_hash != next_app_hash(&tip.app_hash, block.height, &block.txs) {
        return Err(AppError::InvalidBlock("wrong app_hash"));
    }
    Ok(block)
}

/// Why the mempool refused a tx.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MempoolError {
    /// The mempool holds its maximum.
    #[error("mempool full")]
    Full,
}

/// A bounded, de-duplicating FIFO of pending transactions.
///
/// Removal is lazy: a removed tx leaves its entry in the arrival order, tagged with the
/// sequence number it was inserted under, and every walk skips entries whose tx is gone or was
/// inserted again since (so a tx re-inserted after removal is never taken twice). Dead entries
/// (`order.len() − txs.len()` of them) are popped from the front as they surface, and the order
/// is compacted once they are most of it: committing a block costs its own txs, not a pass
/// over the whole pool.
#[derive(Debug)]
pub struct Mempool {
    order: VecDeque<([u8; 32], u64)>,
    /// The arrival order of the epoch system txs (committee changes, resharing messages; also
    /// in `order`), which blocks take first.
    system: VecDeque<([u8; 32], u64)>,
    txs: HashMap<[u8; 32], (u64, Vec<u8>)>,
    since: HashMap<[u8; 32], std::time::Instant>,
    next_seq: u64,
    bytes: usize,
    max_txs: usize,
    max_bytes: usize,
}

impl Mempool {
    /// At most `max_txs` transactions and `max_bytes` bytes.
    pub fn new(max_txs: usize, max_bytes: usize) -> Self {
        Mempool {
            order: VecDeque::new(),
            system: VecDeque::new(),
            txs: HashMap::new(),
            since: HashMap::new(),
            next_seq: 0,
            bytes: 0,
            max_txs,
            max_bytes,
        }
    }

    /// Add a (well-formed) tx; `Ok(false)` if already present.
    pub fn insert(&mut self, tx: Vec<u8>) -> Result<bool, MempoolError> {
        let h = tx_hash(&tx);
        if self.txs.contains_key(&h) {
            return Ok(false);
        }
        if self.txs.len() >= self.max_txs || self.bytes + tx.len() > self.max_bytes {
            return Err(MempoolError::Full);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.bytes += tx.len();
        self.order.push_back((h, seq));
        if crate::epochs::kind_of(&tx) != crate::epochs::TxKind::Kv {
            self.system.push_back((h, seq));
        }
        self.since.insert(h, std::time::Instant::now());
        self.txs.insert(h, (seq, tx));
        Ok(true)
    }

    /// The tx of an arrival-order entry, if it is still the live one.
    fn live(&self, entry: &([u8; 32], u64)) -> Option<&Vec<u8>> {
        self.txs
            .get(&entry.0)
            .filter(|(seq, _)| *seq == entry.1)
            .map(|(_, tx)| tx)
    }

    /// The pending epoch system txs, resharing messages first, then committee changes, each
    /// oldest first, up to `max_txs` of them within `max_bytes` of block encoding; `committed` as in
    /// [`Mempool::take`]. Blocks take these before any key-value tx, so a resharing message
    /// meets its window however full the pool is.
    pub fn take_system(
        &mut self,
        max_txs: usize,
        max_bytes: usize,
        committed: &dyn Fn(&[[u8; 32]]) -> Vec<bool>,
    ) -> Vec<Vec<u8>> {
        let txs = &self.txs;
        self.system
            .retain(|(h, seq)| txs.get(h).is_some_and(|(s, _)| s == seq));
        // Resharing messages (bound to their windows) before committee changes.
        let dkg = |h: &[u8; 32]| {
            txs.get(h)
                .is_some_and(|(_, t)| crate::epochs::kind_of(t) == crate::epochs::TxKind::Dkg)
        };
        let mut hashes: Vec<[u8; 32]> = self.system.iter().map(|e| e.0).filter(dkg).collect();
        hashes.extend(self.system.iter().map(|e| e.0).filter(|h| !dkg(h)));
        if hashes.is_empty() {
            return Vec::new();
        }
        let flags = committed(&hashes);
        let mut stale = Vec::new();
        let (mut out, mut size) = (Vec::new(), 0);
        for (h, c) in hashes.iter().zip(flags) {
            if c {
                stale.push(*h);
                continue;
            }
            let tx = &self.txs[h].1;
            if out.len() >= max_txs || size + 4 + tx.len() > max_bytes {
                break;
            }
            size += 4 + tx.len();
            out.push(tx.clone());
        }
        self.remove(&stale);
        out
    }

    /// Up to `max_txs` key-value txs, oldest first, whose encodings in a block (4 bytes of
    /// length plus the tx each) fit in `max_bytes`. `committed` tells, for a batch of candidate
    /// hashes, which are already in the ledger: those are dropped and skipped (only candidates
    /// are checked, not the whole pool). System txs are left to [`Mempool::take_system`].
    pub fn take(
        &mut self,
        max_txs: usize,
        max_bytes: usize,
        committed: &dyn Fn(&[[u8; 32]]) -> Vec<bool>,
    ) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut size = 0;
        let mut stale = Vec::new();
        let mut i = 0;
        'fill: while i < self.order.len() {
            // The next candidates that would fit, checked in one batch.
            let mut batch = Vec::new();
            let mut s = size;
            let mut j = i;
            while j < self.order.len() && out.len() + batch.len() < max_txs {
                let entry = self.order[j];
                if let Some(tx) = self
                    .live(&entry)
                    .filter(|tx| crate::epochs::kind_of(tx) == crate::epochs::TxKind::Kv)
                {
                    let len = 4 + tx.len();
                    if s + len > max_bytes {
                        break;
                    }
                    s += len;
                    batch.push(entry.0);
                }
                j += 1;
            }
            if batch.is_empty() {
                break;
            }
            let flags = committed(&batch);
            for (h, c) in batch.iter().zip(flags) {
                if c {
                    stale.push(*h);
                    continue;
                }
                let tx = &self.txs[h].1;
                if out.len() >= max_txs || size + 4 + tx.len() > max_bytes {
                    break 'fill;
                }
                size += 4 + tx.len();
                out.push(tx.clone());
            }
            i = j;
        }
        self.remove(&stale);
        out
    }

    /// The pending tx with this hash.
    pub fn get(&self, hash: &[u8; 32]) -> Option<&Vec<u8>> {
        self.txs.get(hash).map(|(_, tx)| tx)
    }

    /// Drop these txs (committed).
    pub fn remove(&mut self, hashes: &[[u8; 32]]) {
        for h in hashes {
            if let Some((_, tx)) = self.txs.remove(h) {
                self.since.remove(h);
                self.bytes -= tx.len();
            }
        }
        // Dead entries at the front go at once; the rest when they are most of the order.
        while self.order.front().is_some_and(|e| self.live(e).is_none()) {
            self.order.pop_front();
        }
        while self.system.front().is_some_and(|e| self.live(e).is_none()) {
            self.system.pop_front();
        }
        let dead = self.order.len() - self.txs.len();
        if dead > 1024 && dead > self.txs.len() {
            let txs = &self.txs;
            self.order
                .retain(|(h, seq)| txs.get(h).is_some_and(|(s, _)| s == seq));
        }
    }

    /// Up to `max` of the oldest txs pending for longer than `age` (to forward again: a tx
    /// submitted while its node had no peers must still reach a proposer).
    pub fn stale(&self, age: std::time::Duration, max: usize) -> Vec<Vec<u8>> {
        self.order
            .iter()
            .filter_map(|e| self.live(e).map(|tx| (e.0, tx)))
            .take_while(|(h, _)| self.since.get(h).is_some_and(|t| t.elapsed() >= age))
            .take(max)
            .map(|(_, tx)| tx.clone())
            .collect()
    }

    /// Number of pending txs.
    pub fn len(&self) -> usize {
        self.txs.len()
    }

    /// True if empty.
    pub fn is_empty(&self) -> bool {
        self.txs.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use conclave_bft::traits::Verifier as _;

    #[test]
    fn system_txs_are_taken_first_and_once() {
        let mut m = Mempool::new(100, 1 << 20);
        for i in 0..10 {
            m.insert(format!("k{i}=v").into_bytes()).unwrap();
        }
        let mut env = conclave_dkg::log::ENVELOPE_TAG.to_vec();
        env.extend_from_slice(&[1; 40]);
        m.insert(env.clone()).unwrap();
        let none = |hs: &[[u8; 32]]| vec![false; hs.len()];
        assert_eq!(m.take_system(10, 1 << 20, &none), vec![env.clone()]);
        // The key-value walk leaves system txs to take_system.
        let kv = m.take(100, 1 << 20, &none);
        assert_eq!(kv.len(), 10);
        assert!(!kv.contains(&env));
        // Committed: dropped.
        let all = |hs: &[[u8; 32]]| vec![true; hs.len()];
        assert!(m.take_system(10, 1 << 20, &all).is_empty());
        assert!(m.get(&tx_hash(&env)).is_none());
    }

    #[test]
    fn tx_rules_follow_the_contract() {
        assert!(parse_tx(b"a=1").is_ok());
        assert!(parse_tx(b"a=").is_ok());
        assert!(parse_tx(b"a=b=c").is_ok());
        assert!(parse_tx(b"=1").is_err());
        assert!(parse_tx(b"novalue").is_err());
        assert!(parse_tx(&[0xff, b'=', b'1']).is_err());
        let long_key = format!("{}=1", "k".repeat(65));
        assert!(parse_tx(long_key.as_bytes()).is_err());
        let ok_key = format!("{}=1", "k".repeat(64));
        assert!(parse_tx(ok_key.as_bytes()).is_ok());
        let long_value = format!("k={}", "v".repeat(1025));
        assert!(parse_tx(long_value.as_bytes()).is_err());
    }

    #[test]
    fn block_round_trips_and_rejects_junk() {
        let b = Block {
            height: 3,
            parent: [7; 32],
            txs: vec![b"a=1".to_vec(), b"b=2".to_vec()],
            app_hash: [9; 32],
        };
        let bytes = b.encode();
        assert_eq!(Block::decode(&bytes).unwrap(), b);
        assert!(Block::decode(&bytes[..bytes.len() - 1]).is_err());
        let mut extra = bytes.clone();
        extra.push(0);
        assert!(Block::decode(&extra).is_err());
    }

    #[test]
    fn block_hash_is_the_threshold_adapters_value_id() {
        use conclave_threshold_sig::{deal, standard_dst, MinPk, Scheme};
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha20Rng::from_seed([3; 32]);
        let dealing = deal::<MinPk>(4, 2, &mut rng).unwrap();
        let v = conclave_bft::adapter::ThresholdVerifier::new(
            dealing.commitment,
            4,
            &standard_dst::<MinPk>(Scheme::ProofOfPossession),
            [0; 32],
        )
        .unwrap();
        let bytes = b"some block".to_vec();
        assert_eq!(v.value_id(&bytes).0, block_hash(&bytes));
    }

    #[test]
    fn validation_checks_parent_height_dups_and_app_hash() {
        let tip = Tip {
            height: 0,
            hash: [0; 32],
            app_hash: [0; 32],
        };
        let txs = vec![b"a=1".to_vec()];
        let good = Block {
            height: 1,
            parent: [0; 32],
            app_hash: next_app_hash(&tip.app_hash, 1, &txs),
            txs: txs.clone(),
        };
        let none = |_: &[[u8; 32]]| false;
        assert!(validate_block(&good.encode(), &tip, 10, 1000, false, &none).is_ok());
        let mut bad = good.clone();
        bad.parent = [1; 32];
        assert!(validate_block(&bad.encode(), &tip, 10, 1000, false, &none).is_err());
        let mut bad = good.clone();
        bad.app_hash = [1; 32];
        assert!(validate_block(&bad.encode(), &tip, 10, 1000, false, &none).is_err());
        let mut bad = good.clone();
        bad.txs = vec![b"a=1".to_vec(), b"a=1".to_vec()];
        bad.app_hash = next_app_hash(&tip.app_hash, 1, &bad.txs);
        assert!(validate_block(&bad.encode(), &tip, 10, 1000, false, &none).is_err());
        let all = |_: &[[u8; 32]]| true;
        assert!(validate_block(&good.encode(), &tip, 10, 1000, false, &all).is_err());
    }

    #[test]
    fn a_block_built_from_the_mempool_fits_its_byte_budget() {
        // Full-size txs: the budget is on the block's encoding (a 1 MiB block is an engine
        // value of at most 1 MiB), so the 4-byte length of every tx and the header count.
        let mut m = Mempool::new(10_000, 64 << 20);
        for i in 0..2_000 {
            let tx = format!("k{i:05}={}", "v".repeat(1024));
            m.insert(tx.into_bytes()).unwrap();
        }
        let budget = 1 << 20;
        let none = |hs: &[[u8; 32]]| vec![false; hs.len()];
        let txs = m.take(10_000, budget - 80, &none);
        let block = Block {
            height: 1,
            parent: [0; 32],
            txs,
            app_hash: [0; 32],
        };
        let bytes = block.encode();
        assert!(bytes.len() <= budget, "{} > {budget}", bytes.len());
        assert!(bytes.len() > budget - 1100, "the budget is used");
        let tip = Tip {
            height: 0,
            hash: [0; 32],
            app_hash: [0; 32],
        };
        let mut ok = block.clone();
        ok.app_hash = next_app_hash(&tip.app_hash, 1, &ok.txs);
        assert!(validate_block(&ok.encode(), &tip, 10_000, budget, false, &|_| false).is_ok());
        assert!(
            validate_block(&ok.encode(), &tip, 10_000, budget - 1100, false, &|_| false).is_err()
        );
    }

    #[test]
    fn a_tx_removed_and_inserted_again_is_taken_once() {
        let mut m = Mempool::new(100, 1 << 20);
        for tx in [&b"a=1"[..], b"b=1", b"c=1"] {
            m.insert(tx.to_vec()).unwrap();
        }
        // `b` leaves (committed) and comes back: its old entry is dead, the new one is last.
        m.remove(&[tx_hash(b"b=1")]);
        assert_eq!(m.get(&tx_hash(b"b=1")), None);
        assert_eq!(m.insert(b"b=1".to_vec()), Ok(true));
        let none = |hs: &[[u8; 32]]| vec![false; hs.len()];
        let got = m.take(10, 1 << 20, &none);
        assert_eq!(got, vec![b"a=1".to_vec(), b"c=1".to_vec(), b"b=1".to_vec()]);
        assert_eq!(m.len(), 3);
        let stale = m.stale(std::time::Duration::ZERO, 10);
        assert_eq!(stale, got);
    }

    #[test]
    fn removal_keeps_the_order_bounded() {
        // Remove every other tx, many times over: dead entries never pile up past the live
        // ones (plus the compaction slack), and the survivors keep their order.
        let mut m = Mempool::new(100_000, 64 << 20);
        for round in 0..20u32 {
            let txs: Vec<Vec<u8>> = (0..1000u32)
                .map(|i| format!("k{round}-{i}=v").into_bytes())
                .collect();
            for tx in &txs {
                m.insert(tx.clone()).unwrap();
            }
            let gone: Vec<[u8; 32]> = txs.iter().step_by(2).map(|t| tx_hash(t)).collect();
            m.remove(&gone);
            assert!(
                m.order.len() <= 2 * m.len() + 1024,
                "{} entries",
                m.order.len()
            );
        }
        assert_eq!(m.len(), 10_000);
        let none = |hs: &[[u8; 32]]| vec![false; hs.len()];
        let got = m.take(100_000, 64 << 20, &none);
        assert_eq!(got.len(), 10_000);
        assert_eq!(got[0], b"k0-1=v".to_vec());
        assert_eq!(got[1], b"k0-3=v".to_vec());
        assert_eq!(got[9_999], b"k19-999=v".to_vec());
        // Removing from the front drops the dead entries at once.
        let all: Vec<[u8; 32]> = got.iter().map(|t| tx_hash(t)).collect();
        m.remove(&all);
        assert!(m.is_empty());
        assert!(m.order.is_empty());
    }

    #[test]
    fn mempool_is_bounded_and_deduplicates() {
        let mut m = Mempool::new(2, 1000);
        assert_eq!(m.insert(b"a=1".to_vec()), Ok(true));
        assert_eq!(m.insert(b"a=1".to_vec()), Ok(false));
        assert_eq!(m.insert(b"b=1".to_vec()), Ok(true));
        assert_eq!(m.insert(b"c=1".to_vec()), Err(MempoolError::Full));
        let a = tx_hash(b"a=1");
        let got = m.take(10, 1000, &|hs: &[[u8; 32]]| {
            hs.iter().map(|h| *h == a).collect()
        });
        assert_eq!(got, vec![b"b=1".to_vec()]);
        assert_eq!(m.len(), 1);
    }
}
