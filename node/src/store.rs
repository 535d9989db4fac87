//! The node's embedded database: redb (a pure-Rust, crash-safe, copy-on-write B-tree store
//! whose commits are atomic and, with the default durability, fsynced before `commit` returns).
//!
//! Tables: `meta` (DKG state and output, the engine's persisted state, the tip), `blocks`
//! (height → the engine-encoded `Decided`: the block bytes with their certificate), `txs` (tx
//! hash → height), `kv` (key → height ‖ value) and `engine_proposals` ((height, period) → this
//! node's own proposal, see [`crate::state`]). Each block applies in one write transaction
//! together with its certificate, KV writes, tx index and the new tip, so a `kill -9` at any
//! instant leaves either the block fully applied or not at all.

use std::path::Path;
use std::sync::Arc;

use conclave_bft::types::{Decided, Message};
use redb::{Database, ReadableTable, TableDefinition};

use crate::app::{tx_hash, Block, Tip};
use crate::NodeError;

const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const BLOCKS: TableDefinition<u64, &[u8]> = TableDefinition::new("blocks");
const TXS: TableDefinition<&[u8], u64> = TableDefinition::new("txs");
const KV: TableDefinition<&str, &[u8]> = TableDefinition::new("kv");
const PROPOSALS: TableDefinition<(u64, u32), &[u8]> = TableDefinition::new("engine_proposals");

/// Meta key: the running DKG (its log driver with the participant, and this node's own
/// transactions) until the DKG is done.
pub const DKG_STATE: &str = "dkg/log";
/// Meta key: the DKG log engine's last persisted state (until the DKG is done).
pub const DKG_ENGINE: &str = "dkg/engine";
/// Meta key: the DKG output (own share, group commitment, QUAL) and transcript hash.
pub const DKG_OUTPUT: &str = "dkg/output";
/// Meta key: set once a quorum of nodes reported the same DKG transcript hash.
pub const DKG_AGREED: &str = "dkg/agreed";
/// Meta key: the engine's last persisted state (the binary header of [`crate::state`]; JSON
/// in earlier versions).
pub const ENGINE_STATE: &str = "engine/state";
/// Meta key: the epoch of the engine whose state [`ENGINE_STATE`] holds (u64 big-endian;
/// absent: 0), written with it.
pub const ENGINE_EPOCH: &str = "engine/epoch";
const TIP: &str = "tip";

fn err(e: impl std::fmt::Display) -> NodeError {
    NodeError::Store(e.to_string())
}

/// The engine-state part of a [`Store::commit_step`] (see [`crate::state`]).
pub struct EngineStateWrite {
    /// The encoded header.
    pub header: Vec<u8>,
    /// Own proposals not stored yet: (height, period) → encoded proposal.
    pub proposals: Vec<((u64, u32), Vec<u8>)>,
    /// Stored proposals of heights below this are deleted (0: none).
    pub prune_below: u64,
}

/// Handle to the database (cheap to clone; one writer at a time, readers in parallel).
#[derive(Clone)]
pub struct Store {
    db: Arc<Database>,
}

impl Store {
    /// Open (or create) `dir/node.redb` with all tables.
    pub fn open(dir: &Path) -> Result<Self, NodeError> {
        std::fs::create_dir_all(dir).map_err(err)?;
        let db = Database::create(dir.join("node.redb")).map_err(err)?;
        let tx = db.begin_write().map_err(err)?;
        tx.open_table(META).map_err(err)?;
        tx.open_table(BLOCKS).map_err(err)?;
        tx.open_table(TXS).map_err(err)?;
        tx.open_table(KV).map_err(err)?;
        tx.open_table(PROPOSALS).map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(Store { db: Arc::new(db) })
    }

    /// A meta value.
    pub fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, NodeError> {
        let tx = self.db.begin_read().map_err(err)?;
        let t = tx.open_table(META).map_err(err)?;
        Ok(t.get(key).map_err(err)?.map(|v| v.value().to_vec()))
    }

    /// Write (Some) or delete (None) several meta values in one synced transaction.
    pub fn put_meta(&self, entries: &[(&str, Option<&[u8]>)]) -> Result<(), NodeError> {
        let tx = self.db.begin_write().map_err(err)?;
        {
            let mut t = tx.open_table(META).map_err(err)?;
            for (k, v) in entries {
                match v {
                    Some(v) => {
                        t.insert(*k, *v).map_err(err)?;
                    }
                    None => {
                        t.remove(*k).map_err(err)?;
                    }
                }
            }
        }
        tx.commit().map_err(err)
    }

    /// The applied tip.
    pub fn tip(&self) -> Result<Tip, NodeError> {
        Ok(match self.meta(TIP)? {
            Some(b) if b.len() == 72 => Tip {
                height: u64::from_be_bytes(b[..8].try_into().expect("8")),
                hash: b[8..40].try_into().expect("32"),
                app_hash: b[40..72].try_into().expect("32"),
            },
            Some(_) => return Err(NodeError::Store("corrupt tip".into())),
            None => Tip {
                height: 0,
                hash: [0; 32],
                app_hash: [0; 32],
            },
        })
    }

    /// Apply decided block `block` (already validated against the tip) with its decision, in
    /// one synced transaction: block + certificate, tx index, KV writes and the new tip. Fails
    /// (changing nothing) unless it is exactly the next height over `expected` tip.
    pub fn apply(
        &self,
        block: &Block,
        hash: [u8; 32],
        decided: &Decided,
        expected: &Tip,
    ) -> Result<Tip, NodeError> {
        self.commit_step(&[(block, hash, decided)], expected, None, &[])
    }

    /// One engine step's writes in one synced transaction (the driver's group commit): the
    /// decided blocks in order over `expected` tip (each as in [`Store::apply`]), then, if
    /// given, the engine state: its header, the own proposals not yet stored, and the removal
    /// of stored proposals of heights below the state's, and the `extra` meta entries (the
    /// epoch state that the same blocks produced). Returns the new tip. Fails, changing
    /// nothing, if a block is not the next height.
    pub fn commit_step(
        &self,
        decisions: &[(&Block, [u8; 32], &Decided)],
        expected: &Tip,
        state: Option<&EngineStateWrite>,
        extra: &[(&str, &[u8])],
    ) -> Result<Tip, NodeError> {
        let tx = self.db.begin_write().map_err(err)?;
        let mut tip = *expected;
        {
            let mut meta = tx.open_table(META).map_err(err)?;
            for (k, v) in extra {
                meta.insert(*k, *v).map_err(err)?;
            }
            if !decisions.is_empty() {
                let current = match meta.get(TIP).map_err(err)? {
                    Some(b) => u64::from_be_bytes(b.value()[..8].try_into().expect("8")),
                    None => 0,
                };
                if current != expected.height {
                    return Err(NodeError::Store(format!(
                        "apply over tip {current}, expected {}",
                        expected.height
                    )));
                }
                let mut blocks = tx.open_table(BLOCKS).map_err(err)?;
                let mut txs = tx.open_table(TXS).map_err(err)?;
                let mut kv = tx.open_table(KV).map_err(err)?;
                for (block, hash, decided) in decisions {
                    if block.height != tip.height + 1 {
                        return Err(NodeError::Store(format!(
                            "apply: block {} over tip {}",
                            block.height, tip.height
                        )));
                    }
                    let encoded =
                        conclave_bft::codec::encode(&Message::Decided((*decided).clone()));
                    blocks
                        .insert(block.height, encoded.as_slice())
                        .map_err(err)?;
                    let mut val = Vec::new();
                    for t in &block.txs {
                        txs.insert(tx_hash(t).as_slice(), block.height)
                            .map_err(err)?;
                        if crate::epochs::kind_of(t) != crate::epochs::TxKind::Kv {
                            continue;
                        }
                        let (k, v) = crate::app::parse_tx(t).map_err(err)?;
                        val.clear();
                        val.extend_from_slice(&block.height.to_be_bytes());
                        val.extend_from_slice(v.as_bytes());
                        kv.insert(k, val.as_slice()).map_err(err)?;
                    }
                    tip = Tip {
                        height: block.height,
                        hash: *hash,
                        app_hash: block.app_hash,
                    };
                }
                let mut b = tip.height.to_be_bytes().to_vec();
                b.extend_from_slice(&tip.hash);
                b.extend_from_slice(&tip.app_hash);
                meta.insert(TIP, b.as_slice()).map_err(err)?;
            }
            if let Some(s) = state {
                meta.insert(ENGINE_STATE, s.header.as_slice())
                    .map_err(err)?;
                let mut props = tx.open_table(PROPOSALS).map_err(err)?;
                if s.prune_below > 0 {
                    props
                        .retain_in(..(s.prune_below, 0), |_, _| false)
                        .map_err(err)?;
                }
                for (key, bytes) in &s.proposals {
                    props.insert(*key, bytes.as_slice()).map_err(err)?;
                }
            }
        }
        tx.commit().map_err(err)?;
        Ok(tip)
    }

    /// One of this node's own proposals stored with the engine state.
    pub fn own_proposal(&self, height: u64, period: u32) -> Result<Option<Vec<u8>>, NodeError> {
        let tx = self.db.begin_read().map_err(err)?;
        let t = tx.open_table(PROPOSALS).map_err(err)?;
        Ok(t.get((height, period))
            .map_err(err)?
            .map(|v| v.value().to_vec()))
    }

    /// For each tx hash, whether it is in the ledger (one read transaction).
    pub fn txs_committed(&self, hashes: &[[u8; 32]]) -> Result<Vec<bool>, NodeError> {
        let tx = self.db.begin_read().map_err(err)?;
        let t = tx.open_table(TXS).map_err(err)?;
        hashes
            .iter()
            .map(|h| Ok(t.get(h.as_slice()).map_err(err)?.is_some()))
            .collect()
    }

    /// The stored decision (block bytes + certificate) at `height`, engine-encoded.
    pub fn block_bytes(&self, height: u64) -> Result<Option<Vec<u8>>, NodeError> {
        let tx = self.db.begin_read().map_err(err)?;
        let t = tx.open_table(BLOCKS).map_err(err)?;
        Ok(t.get(height).map_err(err)?.map(|v| v.value().to_vec()))
    }

    /// The decision at `height`, decoded.
    pub fn decided(&self, height: u64) -> Result<Option<Decided>, NodeError> {
        match self.block_bytes(height)? {
            None => Ok(None),
            Some(b) => match conclave_bft::codec::decode(&b).map_err(err)? {
                Message::Decided(d) => Ok(Some(d)),
                _ => Err(NodeError::Store("corrupt block entry".into())),
            },
        }
    }

    /// The height at which a tx committed.
    pub fn tx_height(&self, hash: &[u8; 32]) -> Result<Option<u64>, NodeError> {
        let tx = self.db.begin_read().map_err(err)?;
        let t = tx.open_table(TXS).map_err(err)?;
        Ok(t.get(hash.as_slice()).map_err(err)?.map(|v| v.value()))
    }

    /// A key's value and the height that last set it.
    pub fn kv(&self, key: &str) -> Result<Option<(String, u64)>, NodeError> {
        let tx = self.db.begin_read().map_err(err)?;
        let t = tx.open_table(KV).map_err(err)?;
        let Some(v) = t.get(key).map_err(err)? else {
            return Ok(None);
        };
        let v = v.value();
        if v.len() < 8 {
            return Err(NodeError::Store("corrupt kv entry".into()));
        }
        let height = u64::from_be_bytes(v[..8].try_into().expect("8"));
        let value = String::from_utf8(v[8..].to_vec()).map_err(err)?;
        Ok(Some((value, height)))
    }
}
