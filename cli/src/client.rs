//! `conclave client`: talk to a running node over its HTTP API — submit a transaction, read
//! its status, and verify committed blocks as a light client (one pairing check per block
//! under the group key, the block hash recomputed from its contents, the parent chain).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use conclave_bft::types::{vote_message, Epoch, Height, Period, ValueId, VoteStep, VoteValue};
use conclave_node::app::{block_hash, Block};
use serde_json::{json, Value};

use crate::common::{Invalid, Outcome};

/// `conclave client …`.
#[derive(Debug, clap::Subcommand)]
pub enum ClientCommand {
    /// Submit a transaction (`KEY=VALUE`) to a node; print its hash (and, with --wait, the
    /// height it committed at).
    Submit {
        /// The node's API address (`HOST:PORT`, the `api` of its genesis entry).
        #[arg(long)]
        node: String,
        /// The transaction text `KEY=VALUE` (sent hex-encoded as the contract says).
        #[arg(long)]
        tx: String,
        /// Wait up to this many seconds for the transaction to commit (0: do not wait).
        #[arg(long, default_value_t = 0)]
        wait: u64,
    },
    /// Leave the committee (on a chain with epochs): a leave of this node's validator, signed
    /// with its identity key and bound to the chain and the current epoch, submitted to a node.
    /// It takes effect at the first epoch boundary whose snapshot comes after it.
    Leave {
        /// The leaving node's home (its config.toml, genesis and identity key).
        #[arg(long)]
        home: PathBuf,
        /// The node to submit to (default: the home's own API address).
        #[arg(long)]
        node: Option<String>,
        /// Wait up to this many seconds for the transaction to commit (0: do not wait).
        #[arg(long, default_value_t = 0)]
        wait: u64,
    },
    /// Join the committee with a node that is not in the genesis (a home written by
    /// `testnet init --spares`): a node join — the committee join with proofs of possession of
    /// its identity and VRF keys, and the node's peer id and addresses, signed by its signing
    /// key — submitted to a node. Its seat begins at the first boundary whose snapshot comes
    /// after it; until then the node follows the chain.
    Join {
        /// The joining node's home.
        #[arg(long)]
        home: PathBuf,
        /// The node to submit to (a genesis node's API address).
        #[arg(long)]
        node: String,
        /// Its stake.
        #[arg(long, default_value_t = 1)]
        stake: u64,
        /// Wait up to this many seconds for the transaction to commit (0: do not wait).
        #[arg(long, default_value_t = 0)]
        wait: u64,
    },
    /// Set this node's validator stake (on a chain with epochs), signed like `leave`.
    Stake {
        /// The node's home.
        #[arg(long)]
        home: PathBuf,
        /// The new stake.
        #[arg(long)]
        stake: u64,
        /// The node to submit to (default: the home's own API address).
        #[arg(long)]
        node: Option<String>,
        /// Wait up to this many seconds for the transaction to commit (0: do not wait).
        #[arg(long, default_value_t = 0)]
        wait: u64,
    },
    /// Print a node's epoch state (`GET /v1/epoch`) as JSON.
    Epoch {
        /// The node's API address (`HOST:PORT`).
        #[arg(long)]
        node: String,
    },
    /// Print a node's status as JSON.
    Status {
        /// The node's API address (`HOST:PORT`).
        #[arg(long)]
        node: String,
    },
    /// Verify blocks FROM..=TO from a node as a light client: each block's hash recomputed
    /// from its contents, its certificate message rebuilt from (height, period, hash), its
    /// signature checked with one pairing under the group key, and the parent links.
    Verify {
        /// The chain's genesis.json (variant, DST and the nodes' API addresses).
        #[arg(long)]
        genesis: PathBuf,
        /// The node to fetch blocks from (default: node 1 of the genesis).
        #[arg(long)]
        node: Option<String>,
        /// First height (from 1).
        #[arg(long, default_value_t = 1)]
        from: u64,
        /// Last height (default: the node's current height).
        #[arg(long)]
        to: Option<u64>,
        /// The trusted group public key (hex). Without it, the key a quorum of the genesis
        /// nodes report (t+1 of n identical answers) is used.
        #[arg(long)]
        group_key: Option<String>,
        /// Print the result as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(10))
        .build()
}

/// GET a JSON document: `Ok(None)` on 404.
fn get(addr: &str, path: &str) -> Result<Option<Value>, Invalid> {
    match agent().get(&format!("http://{addr}{path}")).call() {
        Ok(r) => serde_json::from_reader(r.into_reader())
            .map(Some)
            .map_err(|e| Invalid(format!("{addr}{path}: invalid JSON: {e}"))),
        Err(ureq::Error::Status(404, _)) => Ok(None),
        Err(ureq::Error::Status(code, r)) => {
            let v: Value = serde_json::from_reader(r.into_reader()).unwrap_or(Value::Null);
            Err(Invalid(format!(
                "{addr}{path}: HTTP {code}: {}",
                v["error"].as_str().unwrap_or("no error message")
            )))
        }
        Err(e) => Err(Invalid(format!("{addr}{path}: {e}"))),
    }
}

fn field<'a>(v: &'a Value, path: &[&str]) -> Result<&'a Value, Invalid> {
    let mut cur = v;
    for p in path {
        cur = cur
            .get(p)
            .ok_or_else(|| Invalid(format!("response lacks {}", path.join("."))))?;
    }
    Ok(cur)
}

fn hex_field(v: &Value, path: &[&str]) -> Result<Vec<u8>, Invalid> {
    let s = field(v, path)?
        .as_str()
        .ok_or_else(|| Invalid(format!("{} is not a string", path.join("."))))?;
    hex::decode(s).map_err(|_| Invalid(format!("{} is not hex", path.join("."))))
}

fn hex32_field(v: &Value, path: &[&str]) -> Result<[u8; 32], Invalid> {
    hex_field(v, path)?
        .try_into()
        .map_err(|_| Invalid(format!("{} is not 32 bytes", path.join("."))))
}

fn print(v: &Value) {
    println!("{v}");
}

/// Run `conclave client …`.
pub fn run(cmd: ClientCommand) -> Outcome {
    match cmd {
        ClientCommand::Submit { node, tx, wait } => {
            conclave_node::app::parse_tx(tx.as_bytes())
                .map_err(|e| Invalid(format!("--tx: {e}")))?;
            submit(&node, tx.as_bytes(), wait)
        }
        ClientCommand::Leave { home, node, wait } => committee_tx(&home, node, None, wait),
        ClientCommand::Join {
            home,
            node,
            stake,
            wait,
        } => join(&home, &node, stake, wait),
        ClientCommand::Stake {
            home,
            stake,
            node,
            wait,
        } => committee_tx(&home, node, Some(stake), wait),
        ClientCommand::Epoch { node } => {
            let v = get(&node, "/v1/epoch")?
                .ok_or_else(|| Invalid(format!("{node}: this chain has no epochs")))?;
            print(&v);
            Ok(())
        }
        ClientCommand::Status { node } => {
            let v = get(&node, "/v1/status")?
                .ok_or_else(|| Invalid(format!("{node}: no /v1/status")))?;
            print(&v);
            Ok(())
        }
        ClientCommand::Verify {
            genesis,
            node,
            from,
            to,
            group_key,
            json,
        } => verify(&genesis, node, from, to, group_key, json),
    }
}

/// The epoch `node` is in (`GET /v1/epoch`).
fn node_epoch(node: &str) -> Result<Value, Invalid> {
    get(node, "/v1/epoch")?.ok_or_else(|| Invalid(format!("{node}: this chain has no epochs")))
}

/// Submit the committee transaction `make(epoch)` builds for the epoch `node` is in. A
/// committee transaction is valid only in blocks of its epoch, so with `wait` it is signed
/// again for the new epoch and resubmitted if it landed in a later one or the epoch ended
/// before it landed (the stale one changes nothing).
fn submit_for_epoch(
    node: &str,
    genesis: &conclave_node::Genesis,
    wait: u64,
    mut make: impl FnMut(u64, &Value) -> Result<Vec<u8>, Invalid>,
) -> Outcome {
    let deadline = Instant::now() + Duration::from_secs(wait);
    loop {
        let v = node_epoch(node)?;
        let epoch = field(&v, &["epoch"])?
            .as_u64()
            .ok_or_else(|| Invalid("epoch is not a number".into()))?;
        let hash = post_tx(node, &make(epoch, &v)?)?;
        if wait == 0 {
            print(&json!({ "hash": hash }));
            return Ok(());
        }
        loop {
            if let Some(t) = get(node, &format!("/v1/tx/{hash}"))? {
                let h = field(&t, &["height"])?.as_u64().unwrap_or(0);
                if genesis.epoch_of(h) == epoch {
                    print(&json!({ "hash": hash, "height": h, "epoch": epoch }));
                    return Ok(());
                }
                eprintln!("tx {hash} of epoch {epoch} landed in block {h} of a later epoch: signing again");
                break;
            }
            let now = node_epoch(node)?["epoch"].as_u64().unwrap_or(epoch);
            if now > epoch {
                eprintln!("epoch {epoch} ended before tx {hash} landed: signing again");
                break;
            }
            if Instant::now() > deadline {
                return Err(Invalid(format!("tx {hash} not committed within {wait} s")));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        if Instant::now() > deadline {
            return Err(Invalid(format!(
                "no committee tx committed within {wait} s"
            )));
        }
    }
}

/// A leave (`stake` = None) or stake change of the validator whose home is `home` (its id: the
/// active validator with the home's signing key), submitted to `node`.
fn committee_tx(
    home: &std::path::Path,
    node: Option<String>,
    stake: Option<u64>,
    wait: u64,
) -> Outcome {
    use conclave_bft::epoch::CommitteeTx;
    let home = conclave_node::Home::load(home).map_err(|e| Invalid(e.to_string()))?;
    let node = node.unwrap_or_else(|| home.entry().api.clone());
    let chain = home.genesis.chain_id.as_bytes();
    let signing = &home.identity.signing;
    let key = hex::encode(signing.public().to_bytes());
    submit_for_epoch(&node, &home.genesis, wait, |epoch, v| {
        let id = v["active"]
            .as_array()
            .and_then(|a| {
                a.iter()
                    .find(|x| x["signing_key"].as_str() == Some(key.as_str()))
            })
            .and_then(|x| x["id"].as_u64())
            .and_then(|id| u32::try_from(id).ok())
            .ok_or_else(|| Invalid("this home's validator is not active".into()))?;
        let mut rng = rand_core::OsRng;
        Ok(match stake {
            None => CommitteeTx::leave(chain, epoch, id, signing, &mut rng),
            Some(s) => CommitteeTx::stake(chain, epoch, id, s, signing, &mut rng),
        }
        .to_bytes())
    })
}

/// The node join of the node whose home is `home`, for the epoch `node` reports.
fn join(home: &std::path::Path, node: &str, stake: u64, wait: u64) -> Outcome {
    use conclave_node::epochs::{NetEntry, NodeJoin};
    let home = conclave_node::Home::load(home).map_err(|e| Invalid(e.to_string()))?;
    if !home.is_joiner() {
        return Err(Invalid(
            "this home is a genesis node's: it is a validator already".into(),
        ));
    }
    let own = home.entry().clone();
    let secrets = conclave_bft::epoch::ValidatorSecrets {
        identity: home.identity.clone(),
        vrf: home.vrf.clone(),
    };
    submit_for_epoch(node, &home.genesis, wait, |epoch, _| {
        Ok(NodeJoin::new(
            home.genesis.chain_id.as_bytes(),
            epoch,
            &secrets,
            stake,
            NetEntry {
                peer_id: own.peer_id.clone(),
                p2p: own.p2p.clone(),
                api: own.api.clone(),
            },
            &home.p2p_key,
            &mut rand_core::OsRng,
        )
        .map_err(Invalid)?
        .to_bytes())
    })
}

/// POST one tx; its hash.
fn post_tx(node: &str, tx: &[u8]) -> Result<String, Invalid> {
    let body = json!({ "tx": hex::encode(tx) }).to_string();
    let v: Value = match agent()
        .post(&format!("http://{node}/v1/tx"))
        .set("content-type", "application/json")
        .send_string(&body)
    {
        Ok(r) => serde_json::from_reader(r.into_reader())
            .map_err(|e| Invalid(format!("{node}: invalid JSON: {e}")))?,
        Err(ureq::Error::Status(code, r)) => {
            let v: Value = serde_json::from_reader(r.into_reader()).unwrap_or(Value::Null);
            return Err(Invalid(format!(
                "{node}: HTTP {code}: {}",
                v["error"].as_str().unwrap_or("no error message")
            )));
        }
        Err(e) => return Err(Invalid(format!("{node}: {e}"))),
    };
    Ok(field(&v, &["hash"])?
        .as_str()
        .ok_or_else(|| Invalid("hash is not a string".into()))?
        .to_string())
}

fn submit(node: &str, tx: &[u8], wait: u64) -> Outcome {
    let hash = post_tx(node, tx)?;
    if wait == 0 {
        print(&json!({ "hash": hash }));
        return Ok(());
    }
    let deadline = Instant::now() + Duration::from_secs(wait);
    loop {
        if let Some(v) = get(node, &format!("/v1/tx/{hash}"))? {
            print(&json!({ "hash": hash, "height": field(&v, &["height"])? }));
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(Invalid(format!("tx {hash} not committed within {wait} s")));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The group key a quorum (t+1 of n) of the genesis nodes report.
fn quorum_key(genesis: &conclave_node::Genesis) -> Result<String, Invalid> {
    let n = genesis.n();
    let quorum = conclave_node::dkg::threshold_degree(n) as usize + 1;
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for node in &genesis.nodes {
        if let Ok(Some(v)) = get(&node.api, "/v1/status") {
            if let Some(k) = v["group_public_key"].as_str() {
                *counts.entry(k.to_ascii_lowercase()).or_default() += 1;
            }
        }
    }
    counts
        .into_iter()
        .find(|(_, c)| *c >= quorum)
        .map(|(k, _)| k)
        .ok_or_else(|| {
            Invalid(format!(
                "no group key reported by a quorum of {quorum} of the {n} genesis nodes \
                 (pass --group-key)"
            ))
        })
}

fn verify(
    genesis_path: &std::path::Path,
    node: Option<String>,
    from: u64,
    to: Option<u64>,
    group_key: Option<String>,
    json: bool,
) -> Outcome {
    let genesis = conclave_node::Genesis::load(genesis_path).map_err(|e| Invalid(e.to_string()))?;
    let node = match node {
        Some(n) => n,
        None => genesis
            .node(1)
            .map(|n| n.api.clone())
            .ok_or_else(|| Invalid("the genesis has no node 1".into()))?,
    };
    let (gpk_hex, source) = match group_key {
        Some(k) => (k.trim_start_matches("0x").to_ascii_lowercase(), "given"),
        None => (quorum_key(&genesis)?, "quorum"),
    };
    let gpk = hex::decode(&gpk_hex).map_err(|_| Invalid("--group-key is not hex".into()))?;
    let to = match to {
        Some(t) => t,
        None => field(
            &get(&node, "/v1/status")?.ok_or_else(|| Invalid(format!("{node}: no status")))?,
            &["height"],
        )?
        .as_u64()
        .ok_or_else(|| Invalid("height is not a number".into()))?,
    };
    if from == 0 || from > to {
        return Err(Invalid(format!("empty or invalid range {from}..={to}")));
    }
    let mut parent: Option<[u8; 32]> = (from == 1).then_some([0u8; 32]);
    let mut blocks = Vec::new();
    let mut txs = 0usize;
    for h in from..=to {
        let b = get(&node, &format!("/v1/block/{h}"))?
            .ok_or_else(|| Invalid(format!("block {h} is not committed on {node}")))?;
        let block = Block {
            height: field(&b, &["height"])?.as_u64().unwrap_or(0),
            parent: hex32_field(&b, &["parent"])?,
            txs: field(&b, &["txs"])?
                .as_array()
                .ok_or_else(|| Invalid("txs is not a list".into()))?
                .iter()
                .map(|t| {
                    t.as_str()
                        .and_then(|s| hex::decode(s).ok())
                        .ok_or_else(|| Invalid(format!("block {h}: a tx is not hex")))
                })
                .collect::<Result<_, _>>()?,
            app_hash: hex32_field(&b, &["app_hash"])?,
        };
        if block.height != h {
            return Err(Invalid(format!(
                "block {h}: the node served height {}",
                block.height
            )));
        }
        let hash = block_hash(&block.encode());
        if hash != hex32_field(&b, &["hash"])? {
            return Err(Invalid(format!(
                "block {h}: hash does not match its contents"
            )));
        }
        if let Some(p) = parent {
            if block.parent != p {
                return Err(Invalid(format!(
                    "block {h}: parent is not block {}'s hash",
                    h - 1
                )));
            }
        }
        let period = field(&b, &["certificate", "period"])?
            .as_u64()
            .and_then(|p| u32::try_from(p).ok())
            .ok_or_else(|| Invalid(format!("block {h}: bad certificate period")))?;
        // The certificate signs its height's epoch (the schedule is the genesis's).
        let message = vote_message(
            Epoch(genesis.epoch_of(h)),
            Height(h),
            Period(period),
            VoteStep::Cert,
            VoteValue::Value(ValueId(hash)),
        );
        if message != hex_field(&b, &["certificate", "message"])? {
            return Err(Invalid(format!(
                "block {h}: the certificate does not sign this height and hash"
            )));
        }
        let sig = hex_field(&b, &["certificate", "signature"])?;
        if !crate::testnet::verify_certificate(&genesis.variant, &gpk, &genesis.dst, &message, &sig)
        {
            return Err(Invalid(format!(
                "block {h}: the certificate does not verify under the group key"
            )));
        }
        txs += block.txs.len();
        parent = Some(hash);
        blocks.push(json!({ "height": h, "hash": hex::encode(hash), "txs": block.txs.len() }));
        if !json {
            println!(
                "block {h} ok: {} ({} txs)",
                hex::encode(hash),
                block.txs.len()
            );
        }
    }
    if json {
        print(&json!({
            "ok": true,
            "from": from,
            "to": to,
            "group_public_key": gpk_hex,
            "group_key_source": source,
            "txs": txs,
            "blocks": blocks,
        }));
    } else {
        println!("verified blocks {from}..={to} ({txs} txs) under group key {gpk_hex} ({source})");
    }
    Ok(())
}
