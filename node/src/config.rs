//! Genesis (`genesis.json`, shared by every node), per-node configuration (`config.toml`) and
//! the node's secret key files (mode 0600, only in its own folder), and `testnet init`.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use conclave_committee::vrf::{PublicKey as VrfPublicKey, SecretKey as VrfSecretKey};
use conclave_dkg::sigma::Point;
use conclave_dkg::{Committee, IdentityKeys, Member};
use conclave_threshold_sig::{standard_dst, MinPk, MinSig, Scheme};
use libp2p::identity::Keypair;
use libp2p::{Multiaddr, PeerId};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};

use crate::NodeError;

/// The libp2p identity key file in a node's home.
pub const P2P_KEY_FILE: &str = "p2p.key";
/// The DKG identity keys (Schnorr signing + encryption) file.
pub const IDENTITY_KEY_FILE: &str = "identity.key";
/// The VRF (proposer sortition) secret key file.
pub const VRF_KEY_FILE: &str = "vrf.key";

/// One node's public entry in the genesis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisNode {
    /// The node's index `1..=n` (its DKG share index; engine seat `index - 1`).
    pub index: u32,
    /// HTTP API address (`127.0.0.1:PORT`).
    pub api: String,
    /// libp2p listen address (`/ip4/127.0.0.1/tcp/PORT`).
    pub p2p: String,
    /// libp2p peer id (hash of its ed25519 key): connections map to this seat only via it.
    pub peer_id: String,
    /// DKG identity: ristretto255 signing and encryption public keys, hex.
    pub identity: GenesisIdentity,
    /// VRF public key (proposer sortition), hex.
    pub vrf_key: String,
}

/// The DKG identity public keys of one node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisIdentity {
    /// Schnorr signing key, hex.
    pub signing_key: String,
    /// Static encryption key, hex.
    pub encryption_key: String,
}

/// The genesis: what every node of the chain agrees on before it starts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Genesis {
    /// Chain id (random per `testnet init`): domain of the DKG session and the genesis seed.
    pub chain_id: String,
    /// `min-pk` or `min-sig`.
    pub variant: String,
    /// The DST of every BLS signature (the variant's IETF POP suite).
    pub dst: String,
    /// The nodes, by index.
    pub nodes: Vec<GenesisNode>,
    /// The genesis DKG: the most blocks of its agreement log one round's window lasts when
    /// some expected node does not post (a chain parameter: every node must close each
    /// window at the same block). Blocks come about one `filter_ms` apart while a node is
    /// missing, so the default 600 is about a minute at the default tuning.
    #[serde(default = "default_dkg_window_blocks")]
    pub dkg_window_blocks: u64,
    /// Epochs: committee changes and resharing over the log ([`crate::epochs`]). Absent: one
    /// committee (the genesis nodes) for ever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epochs: Option<crate::epochs::GenesisEpochs>,
}

fn default_dkg_window_blocks() -> u64 {
    600
}

/// Decode a 32-byte hex field.
fn hex32(s: &str, what: &str) -> Result<[u8; 32], NodeError> {
    hex::decode(s)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| NodeError::Config(format!("{what} is not 32 bytes of hex")))
}

impl Genesis {
    /// Read and check a genesis file.
    pub fn load(path: &Path) -> Result<Self, NodeError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| NodeError::Config(format!("cannot read {}: {e}", path.display())))?;
        let g: Genesis = serde_json::from_str(&text)
            .map_err(|e| NodeError::Config(format!("invalid genesis: {e}")))?;
        g.validate()?;
        Ok(g)
    }

    /// Check indices `1..=n`, variant, and that every key decodes.
    pub fn validate(&self) -> Result<(), NodeError> {
        if self.variant != "min-pk" && self.variant != "min-sig" {
            return Err(NodeError::Config(format!(
                "unknown variant {:?}",
                self.variant
            )));
        }
        if self.dkg_window_blocks == 0 || self.dkg_window_blocks > 1_000_000 {
            return Err(NodeError::Config(
                "dkg_window_blocks must be in 1..=1000000".into(),
            ));
        }
        if self.nodes.is_empty() || self.nodes.len() > 256 {
            return Err(NodeError::Config("1..=256 nodes are supported".into()));
        }
        for (i, n) in self.nodes.iter().enumerate() {
            if n.index as usize != i + 1 {
                return Err(NodeError::Config(
                    "node indices must be 1..=n in order".into(),
                ));
            }
            n.peer()?;
            n.multiaddr()?;
            n.member()?;
            n.vrf_public()?;
        }
        self.committee()?
            .validate()
            .map_err(|e| NodeError::Config(e.to_string()))?;
        if let Some(e) = &self.epochs {
            e.params()
                .validate()
                .map_err(|_| NodeError::Config("epochs: need length > 3 × window ≥ 3".into()))?;
            if self.n() < e.min_validators {
                return Err(NodeError::Config(format!(
                    "epochs: {} nodes, below min_validators = {}",
                    self.n(),
                    e.min_validators
                )));
            }
        }
        Ok(())
    }

    /// The epoch of `height` (0 on a chain without epochs): what its certificate signs.
    pub fn epoch_of(&self, height: u64) -> u64 {
        self.epochs.map_or(0, |e| e.params().epoch_of(height))
    }

    /// The number of nodes.
    pub fn n(&self) -> u32 {
        self.nodes.len() as u32
    }

    /// The DKG committee: member `i` holds seat `i`.
    pub fn committee(&self) -> Result<Committee, NodeError> {
        Ok(Committee {
            members: self
                .nodes
                .iter()
                .map(GenesisNode::member)
                .collect::<Result<_, _>>()?,
        })
    }

    /// The node with this libp2p peer id.
    pub fn index_of_peer(&self, peer: &PeerId) -> Option<u32> {
        self.nodes
            .iter()
            .find(|n| n.peer().ok().as_ref() == Some(peer))
            .map(|n| n.index)
    }

    /// The node with index `i`.
    pub fn node(&self, index: u32) -> Option<&GenesisNode> {
        self.nodes.get(index.checked_sub(1)? as usize)
    }
}

impl GenesisNode {
    /// The peer id.
    pub fn peer(&self) -> Result<PeerId, NodeError> {
        self.peer_id
            .parse()
            .map_err(|_| NodeError::Config(format!("node {}: invalid peer_id", self.index)))
    }

    /// The listen address.
    pub fn multiaddr(&self) -> Result<Multiaddr, NodeError> {
        self.p2p
            .parse()
            .map_err(|_| NodeError::Config(format!("node {}: invalid p2p address", self.index)))
    }

    /// The DKG committee member (id = index, seat = index).
    pub fn member(&self) -> Result<Member, NodeError> {
        let point = |s: &str, what: &str| {
            Point::from_bytes(&hex32(s, what)?)
                .map_err(|e| NodeError::Config(format!("node {}: {what}: {e}", self.index)))
        };
        Ok(Member {
            id: self.index,
            signing_key: point(&self.identity.signing_key, "signing_key")?,
            encryption_key: point(&self.identity.encryption_key, "encryption_key")?,
            seats: vec![self.index],
        })
    }

    /// The VRF public key.
    pub fn vrf_public(&self) -> Result<VrfPublicKey, NodeError> {
        VrfPublicKey::from_bytes(&hex32(&self.vrf_key, "vrf_key")?)
            .map_err(|e| NodeError::Config(format!("node {}: vrf_key: {e}", self.index)))
    }
}

/// Engine timeouts and node limits in `config.toml` (milliseconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tuning {
    /// Period start to soft vote (Algorand's 2λ): also the pace of empty blocks.
    pub filter_ms: u64,
    /// Period start to the first next vote.
    pub next_ms: u64,
    /// Re-send interval of the node's own votes.
    pub resend_ms: u64,
    /// Most transactions per block.
    pub max_block_txs: usize,
    /// Most bytes of a block's encoding (its value in the engine: at most 1 MiB, the engine's
    /// value cap; each tx takes its length plus 4 bytes, the header 80).
    pub max_block_bytes: usize,
    /// Most transactions in the mempool.
    pub mempool_txs: usize,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            filter_ms: 100,
            next_ms: 1_000,
            resend_ms: 1_000,
            max_block_txs: 2_000,
            max_block_bytes: 512 * 1024,
            mempool_txs: 10_000,
        }
    }
}

/// One protocol's inbound rate limit per peer: two token buckets, each holding one second of
/// its rate (the bytes bucket at least one largest frame). A message that finds either empty
/// is dropped and counted (`conclave_rate_limited_messages_total`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimit {
    /// Messages per second.
    pub messages_per_s: u64,
    /// Bytes per second.
    pub bytes_per_s: u64,
}

/// The inbound rate limits of the three protocols, per peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RateLimits {
    /// DKG broadcast (`/conclave/dkg/1`).
    pub dkg: RateLimit,
    /// Engine messages and forwarded txs (`/conclave/consensus/1`).
    pub consensus: RateLimit,
    /// Sync range requests (`/conclave/sync/1`).
    pub sync: RateLimit,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            dkg: RateLimit {
                messages_per_s: 500,
                bytes_per_s: 32 << 20,
            },
            consensus: RateLimit {
                messages_per_s: 20_000,
                bytes_per_s: 64 << 20,
            },
            sync: RateLimit {
                messages_per_s: 200,
                bytes_per_s: 1 << 20,
            },
        }
    }
}

impl Tuning {
    /// Timers for a testnet on one machine (loopback). The node soft-votes as soon as every
    /// seat's proposal is in (the engine's early filter), so the filter (2λ) is only waited
    /// out when a proposal is missing (a node down); it covers a proposal's trip — the
    /// proposer's fsync, loopback, the receiver's checks — with margin on a busy machine, and
    /// the first next vote comes well after a height normally decides. Timers only affect
    /// liveness: too short a filter splits the soft votes (the period ends without a decision
    /// and the next one, with doubled timers, decides), never safety. The filter is waited out
    /// at every height while a seat is down, so it is kept short for the 4-node demo (with
    /// 200 ms its commit latency across the SIGKILL went from p50 85 / p99 162 ms to 140 / 430);
    /// larger committees on few cores, or large blocks, need a longer one (7 nodes on 2 cores
    /// under load split their soft votes at 64% of heights with 60 ms, 8% with 200 ms).
    pub fn loopback() -> Self {
        Tuning {
            filter_ms: 60,
            next_ms: 600,
            resend_ms: 500,
            ..Tuning::default()
        }
    }

    /// Refuse limits the engine or the transport cannot carry: a block's encoding is an
    /// engine value (at most 1 MiB, [`conclave_bft::codec::MAX_FIELD_LEN`]; with its proposal
    /// envelope it fits the 1.25 MiB consensus frame), and every timer is positive.
    pub fn check(&self) -> Result<(), NodeError> {
        if self.max_block_bytes > conclave_bft::codec::MAX_FIELD_LEN
            || self.max_block_bytes < crate::consensus::BLOCK_HEADER_BYTES
        {
            return Err(NodeError::Config(format!(
                "max_block_bytes must be {}..={} (a block is an engine value)",
                crate::consensus::BLOCK_HEADER_BYTES,
                conclave_bft::codec::MAX_FIELD_LEN
            )));
        }
        if self.filter_ms == 0 || self.next_ms <= self.filter_ms || self.resend_ms == 0 {
            return Err(NodeError::Config(
                "timers: need 0 < filter_ms < next_ms and resend_ms > 0".into(),
            ));
        }
        Ok(())
    }
}

/// `node-<i>/config.toml`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeConfig {
    /// This node's index in the genesis (0 for a node that joins later: see `join`).
    pub index: u32,
    /// Path of the genesis, relative to the node's home.
    pub genesis: String,
    /// Data directory (the redb database), relative to the home.
    pub data_dir: String,
    /// Timeouts and limits.
    #[serde(default)]
    pub tuning: Tuning,
    /// Inbound rate limits per peer and protocol (`[rate.dkg]`, `[rate.consensus]`,
    /// `[rate.sync]`).
    #[serde(default)]
    pub rate: RateLimits,
    /// Optional per-peer dial addresses (node index → multiaddr) replacing the genesis `p2p`
    /// address when this node dials that peer: a deployment routes through a relay or proxy
    /// with it (the partition tests put a TCP proxy they control between every pair).
    #[serde(default)]
    pub dial: std::collections::BTreeMap<String, String>,
    /// Set for a node that is not in the genesis (`index` 0): where it listens. It joins the
    /// committee with a node join (`conclave client join`) on a chain with epochs, and follows
    /// the chain from block 1 until its seat begins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join: Option<JoinConfig>,
    /// The chain's group public key (hex), trusted by a joining node. Without it, a joining
    /// node takes the key that a quorum (t+1 of n) of the genesis nodes report on their API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_public_key: Option<String>,
}

/// The addresses of a node that is not in the genesis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinConfig {
    /// HTTP API address (`127.0.0.1:PORT`).
    pub api: String,
    /// libp2p listen address.
    pub p2p: String,
}

/// A node's home, loaded: config, genesis and secret keys.
#[derive(Clone)]
pub struct Home {
    /// The home directory.
    pub dir: PathBuf,
    /// `config.toml`.
    pub config: NodeConfig,
    /// The genesis.
    pub genesis: Genesis,
    /// libp2p identity.
    pub p2p_key: Keypair,
    /// DKG identity keys.
    pub identity: IdentityKeys,
    /// VRF secret key.
    pub vrf: VrfSecretKey,
    /// This node's entry: its genesis entry, or (a joining node) one built from its config and
    /// keys with index 0.
    pub own: GenesisNode,
}

impl Home {
    /// Load `DIR/config.toml`, the genesis it names and the key files, and check that the keys
    /// are this node's entry of the genesis.
    pub fn load(dir: &Path) -> Result<Self, NodeError> {
        let cfg_path = dir.join("config.toml");
        let text = std::fs::read_to_string(&cfg_path)
            .map_err(|e| NodeError::Config(format!("cannot read {}: {e}", cfg_path.display())))?;
        let config: NodeConfig = toml::from_str(&text)
            .map_err(|e| NodeError::Config(format!("invalid config.toml: {e}")))?;
        let genesis = Genesis::load(&dir.join(&config.genesis))?;
        let read = |name: &str| {
            std::fs::read(dir.join(name))
                .map_err(|e| NodeError::Config(format!("cannot read {name}: {e}")))
        };
        let p2p_key = Keypair::from_protobuf_encoding(&read(P2P_KEY_FILE)?)
            .map_err(|_| NodeError::Config(format!("{P2P_KEY_FILE} is not a libp2p key")))?;
        let identity: IdentityKeys = serde_json::from_slice(&read(IDENTITY_KEY_FILE)?)
            .map_err(|_| NodeError::Config(format!("{IDENTITY_KEY_FILE} is invalid")))?;
        let vrf_hex = String::from_utf8(read(VRF_KEY_FILE)?)
            .map_err(|_| NodeError::Config(format!("{VRF_KEY_FILE} is invalid")))?;
        let vrf = VrfSecretKey::from_bytes(&hex32(vrf_hex.trim(), VRF_KEY_FILE)?)
            .map_err(|e| NodeError::Config(format!("{VRF_KEY_FILE}: {e}")))?;
        let entry = match &config.join {
            None => {
                let entry = genesis
                    .node(config.index)
                    .ok_or_else(|| {
                        NodeError::Config(format!("index {} not in genesis", config.index))
                    })?
                    .clone();
                if PeerId::from(p2p_key.public()) != entry.peer()?
                    || identity.member(entry.index, vec![entry.index]) != entry.member()?
                    || vrf.public_key() != entry.vrf_public()?
                {
                    return Err(NodeError::Config(
                        "the key files do not match this node's genesis entry".into(),
                    ));
                }
                entry
            }
            Some(j) => {
                if config.index != 0 || genesis.epochs.is_none() {
                    return Err(NodeError::Config(
                        "a joining node has index 0, on a chain with epochs".into(),
                    ));
                }
                let peer = PeerId::from(p2p_key.public());
                if genesis.index_of_peer(&peer).is_some() {
                    return Err(NodeError::Config(
                        "a joining node's p2p key is a genesis node's".into(),
                    ));
                }
                let entry = GenesisNode {
                    index: 0,
                    api: j.api.clone(),
                    p2p: j.p2p.clone(),
                    peer_id: peer.to_string(),
                    identity: GenesisIdentity {
                        signing_key: hex::encode(identity.signing.public().to_bytes()),
                        encryption_key: hex::encode(identity.encryption.public().to_bytes()),
                    },
                    vrf_key: hex::encode(vrf.public_key().to_bytes()),
                };
                entry.multiaddr()?;
                entry
            }
        };
        config.tuning.check()?;
        Ok(Home {
            dir: dir.to_path_buf(),
            config,
            genesis,
            p2p_key,
            identity,
            vrf,
            own: entry,
        })
    }

    /// True for a node that is not in the genesis.
    pub fn is_joiner(&self) -> bool {
        self.config.join.is_some()
    }

    /// The data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.join(&self.config.data_dir)
    }

    /// This node's entry (see [`Home::own`]).
    pub fn entry(&self) -> &GenesisNode {
        &self.own
    }
}

/// Write `bytes` to a new file readable only by its owner (mode 0600).
fn write_secret(path: &Path, bytes: &[u8]) -> Result<(), NodeError> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .map_err(|e| NodeError::Config(format!("cannot write {}: {e}", path.display())))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(|e| NodeError::Config(format!("cannot write {}: {e}", path.display())))
}

/// `conclave testnet init`: write `DIR/genesis.json` and `DIR/node-<i>/` (config.toml and the
/// node's own secret keys, mode 0600) for `n` nodes on 127.0.0.1 with ports from `base_port`
/// (node i: API `base_port + 2(i−1)`, p2p the next one). Refuses a non-empty `dir` unless
/// `force`.
pub fn init_testnet(
    dir: &Path,
    n: u32,
    base_port: u16,
    variant: &str,
    force: bool,
    tuning: Tuning,
) -> Result<Genesis, NodeError> {
    init_testnet_with(
        dir,
        n,
        base_port,
        variant,
        force,
        tuning,
        TestnetOptions::default(),
    )
}

/// What a testnet has beyond a fixed committee of genesis nodes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TestnetOptions {
    /// The chain's epochs (`None`: a fixed committee).
    pub epochs: Option<crate::epochs::GenesisEpochs>,
    /// Node homes `node-(n+1)..` that are not in the genesis (ports after the genesis nodes';
    /// they join with `conclave client join`).
    pub spares: u32,
}

/// [`init_testnet`] with [`TestnetOptions`].
pub fn init_testnet_with(
    dir: &Path,
    n: u32,
    base_port: u16,
    variant: &str,
    force: bool,
    tuning: Tuning,
    options: TestnetOptions,
) -> Result<Genesis, NodeError> {
    let TestnetOptions { epochs, spares } = options;
    if spares > 0 && epochs.is_none() {
        return Err(NodeError::Config(
            "spare nodes need a chain with epochs (they join by a transaction)".into(),
        ));
    }
    if !(1..=256).contains(&n) {
        return Err(NodeError::Config("--nodes must be 1..=256".into()));
    }
    tuning.check()?;
    if u32::from(base_port) + 2 * (n + spares) > 65_535 {
        return Err(NodeError::Config("ports past 65535".into()));
    }
    let dst = match variant {
        "min-pk" => standard_dst::<MinPk>(Scheme::ProofOfPossession),
        "min-sig" => standard_dst::<MinSig>(Scheme::ProofOfPossession),
        other => return Err(NodeError::Config(format!("unknown variant {other:?}"))),
    };
    if dir.exists() {
        let non_empty = std::fs::read_dir(dir)
            .map_err(|e| NodeError::Config(format!("cannot read {}: {e}", dir.display())))?
            .next()
            .is_some();
        if non_empty && !force {
            return Err(NodeError::Config(format!(
                "{} is not empty (use --force)",
                dir.display()
            )));
        }
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| NodeError::Config(format!("cannot create {}: {e}", dir.display())))?;
    let mut chain = [0u8; 8];
    OsRng.fill_bytes(&mut chain);
    let mut nodes = Vec::new();
    for i in 1..=n + spares {
        let home = dir.join(format!("node-{i}"));
        if home.exists() {
            std::fs::remove_dir_all(&home)
                .map_err(|e| NodeError::Config(format!("cannot clear {}: {e}", home.display())))?;
        }
        std::fs::create_dir_all(&home)
            .map_err(|e| NodeError::Config(format!("cannot create {}: {e}", home.display())))?;
        let p2p = Keypair::generate_ed25519();
        let identity = IdentityKeys::random(&mut OsRng);
        let mut vrf_seed = [0u8; 32];
        OsRng.fill_bytes(&mut vrf_seed);
        let vrf = VrfSecretKey::derive(&vrf_seed, 0);
        write_secret(
            &home.join(P2P_KEY_FILE),
            &p2p.to_protobuf_encoding()
                .map_err(|e| NodeError::Config(e.to_string()))?,
        )?;
        write_secret(
            &home.join(IDENTITY_KEY_FILE),
            &serde_json::to_vec(&identity).map_err(|e| NodeError::Config(e.to_string()))?,
        )?;
        write_secret(
            &home.join(VRF_KEY_FILE),
            hex::encode(&vrf.to_bytes()[..]).as_bytes(),
        )?;
        let port = base_port as u32 + 2 * (i - 1);
        let (api, p2p_addr) = (
            format!("127.0.0.1:{port}"),
            format!("/ip4/127.0.0.1/tcp/{}", port + 1),
        );
        let spare = i > n;
        let cfg = NodeConfig {
            index: if spare { 0 } else { i },
            genesis: "../genesis.json".into(),
            data_dir: "data".into(),
            tuning,
            rate: RateLimits::default(),
            dial: Default::default(),
            join: spare.then(|| JoinConfig {
                api: api.clone(),
                p2p: p2p_addr.clone(),
            }),
            group_public_key: None,
        };
        std::fs::write(
            home.join("config.toml"),
            toml::to_string(&cfg).map_err(|e| NodeError::Config(e.to_string()))?,
        )
        .map_err(|e| NodeError::Config(format!("cannot write config.toml: {e}")))?;
        if spare {
            continue;
        }
        nodes.push(GenesisNode {
            index: i,
            api,
            p2p: p2p_addr,
            peer_id: PeerId::from(p2p.public()).to_string(),
            identity: GenesisIdentity {
                signing_key: hex::encode(identity.signing.public().to_bytes()),
                encryption_key: hex::encode(identity.encryption.public().to_bytes()),
            },
            vrf_key: hex::encode(vrf.public_key().to_bytes()),
        });
    }
    let genesis = Genesis {
        chain_id: format!("conclave-testnet-{}", hex::encode(chain)),
        variant: variant.into(),
        dst: String::from_utf8_lossy(&dst).into_owned(),
        nodes,
        dkg_window_blocks: default_dkg_window_blocks(),
        epochs,
    };
    genesis.validate()?;
    std::fs::write(
        dir.join("genesis.json"),
        serde_json::to_string_pretty(&genesis).map_err(|e| NodeError::Config(e.to_string()))?,
    )
    .map_err(|e| NodeError::Config(format!("cannot write genesis.json: {e}")))?;
    Ok(genesis)
}
