//! The transport: rust-libp2p over TCP with Noise and Yamux, one request-response protocol per
//! purpose, each with its own size caps, and an allow-list of the genesis peer ids.
//!
//! - A connection maps to a node index only through its Noise-authenticated [`PeerId`]
//!   (looked up in the genesis); every inbound message carries that index and nothing else
//!   names its sender. Peers not in the genesis are refused at connection time
//!   (`allow_block_list`).
//! - `/conclave/dkg/1` (DKG broadcast, 4 MiB), `/conclave/consensus/1` (engine messages and
//!   forwarded txs, 1.25 MiB), `/conclave/sync/1` (range requests of 64 B, responses of
//!   [`MAX_SYNC_RESPONSE`]). A frame is a `u32` length and the bytes; a length over the cap
//!   fails the stream before anything is allocated.
//! - Reconnect: every disconnected genesis peer is dialled on a timer with exponential backoff
//!   (250 ms doubling to 5 s); idle connections are kept for an hour (a static mesh).
//! - Inbound bounds: each peer has at most [`PER_PEER_QUEUE`] undelivered messages per protocol;
//!   more are dropped and counted (`conclave_dropped_messages`), so a flooding peer can fill
//!   only its own share of the queue and never stall the swarm.
//! - Test-only recording: with `CONCLAVE_TEST_RECORD=FILE` set (never in a deployment; the
//!   node warns when it is), every inbound consensus frame is appended to FILE as
//!   `from (u32 BE) ‖ length (u32 BE) ‖ bytes` on arrival, so a process test can check the votes
//!   another node sent without trusting that node; so is every engine frame of the DKG log
//!   (its DKG frame prefixed with [`RECORD_DKG`]).
//! - Inbound rate limits ([`TokenBucket`]): per peer and protocol, messages/s and bytes/s
//!   from `config.toml` (`[rate.*]`); a message over either budget is dropped before it is
//!   queued and counted (`conclave_rate_limited_messages`), so a flooding peer costs the
//!   node a decode of the frame, not a queue slot or a consumer's time.
//! - Outbound: the command channel is bounded; a full channel drops the message (the engine
//!   re-sends its votes, the DKG re-broadcasts), never blocks the caller.

use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use futures::StreamExt;
use libp2p::request_response::{self, OutboundRequestId, ProtocolSupport};
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{allow_block_list, connection_limits, identify, noise, tcp, yamux};
use libp2p::{Multiaddr, PeerId, StreamProtocol, Swarm};
use tokio::sync::{mpsc, oneshot};

use crate::config::{Genesis, RateLimit, RateLimits};
use crate::metrics::Metrics;
use crate::NodeError;

/// Largest sync response (a batch of blocks with certificates).
pub const MAX_SYNC_RESPONSE: usize = 8 << 20;
/// The first byte of a recorded DKG frame (consensus payloads start with a tag below it).
pub const RECORD_DKG: u8 = 0x80;

/// The environment variable of the test-only recording of inbound consensus frames.
pub const RECORD_ENV: &str = "CONCLAVE_TEST_RECORD";
/// Undelivered inbound messages per peer and protocol before new ones are dropped.
pub const PER_PEER_QUEUE: usize = 1024;

/// A token bucket in integer arithmetic: `rate` tokens per second, at most `capacity`
/// stored (the level is kept in millionths of a token, so refills are exact to the
/// microsecond).
#[derive(Clone, Debug)]
pub struct TokenBucket {
    rate: u64,
    capacity: u64,
    /// Millionths of a token.
    level: u128,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket of `capacity` tokens refilled at `rate` per second.
    pub fn new(rate: u64, capacity: u64, now: Instant) -> Self {
        TokenBucket {
            rate,
            capacity,
            level: u128::from(capacity) * 1_000_000,
            last: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        let us = now.saturating_duration_since(self.last).as_micros();
        self.last = self.last.max(now);
        let cap = u128::from(self.capacity) * 1_000_000;
        self.level = self
            .level
            .saturating_add(us.saturating_mul(u128::from(self.rate)))
            .min(cap);
    }

    /// True if `n` tokens are there now (refilled first; nothing is taken).
    pub fn has(&mut self, n: u64, now: Instant) -> bool {
        self.refill(now);
        self.level >= u128::from(n) * 1_000_000
    }

    /// Take `n` tokens if they are there.
    pub fn take(&mut self, n: u64, now: Instant) -> bool {
        if !self.has(n, now) {
            return false;
        }
        self.level -= u128::from(n) * 1_000_000;
        true
    }
}

/// One peer's budget on one protocol: a message bucket and a byte bucket.
#[derive(Clone, Debug)]
struct Budget {
    messages: TokenBucket,
    bytes: TokenBucket,
}

impl Budget {
    /// One second of each rate; the byte bucket holds at least one largest frame.
    fn new(limit: RateLimit, max_frame: usize, now: Instant) -> Self {
        Budget {
            messages: TokenBucket::new(limit.messages_per_s, limit.messages_per_s.max(1), now),
            bytes: TokenBucket::new(
                limit.bytes_per_s,
                limit.bytes_per_s.max(max_frame as u64),
                now,
            ),
        }
    }

    /// Admit one message of `len` bytes if both budgets allow it (then charge both).
    fn admit(&mut self, len: usize, now: Instant) -> bool {
        let len = len as u64;
        if self.messages.has(1, now) && self.bytes.has(len, now) {
            self.messages.take(1, now) && self.bytes.take(len, now)
        } else {
            false
        }
    }
}

/// The largest request of each protocol (dkg, consensus, sync).
const MAX_REQUEST: [usize; 3] = [
    4 << 20,
    (1 << 20) + (256 << 10),
    crate::compact::MAX_FETCH_REQUEST,
];

/// A length-prefixed frame codec with a cap per direction.
#[derive(Clone, Copy, Debug)]
pub struct CappedCodec {
    max_request: usize,
    max_response: usize,
}

async fn read_frame<T: AsyncRead + Unpin + Send>(io: &mut T, cap: usize) -> io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    io.read_exact(&mut len).await?;
    let len = u32::from_be_bytes(len) as usize;
    if len > cap {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("frame of {len} bytes over the cap of {cap}"),
        ));
    }
    let mut buf = vec![0u8; len];
    io.read_exact(&mut buf).await?;
    Ok(buf)
}

async fn write_frame<T: AsyncWrite + Unpin + Send>(
    io: &mut T,
    bytes: &[u8],
    cap: usize,
) -> io::Result<()> {
    if bytes.len() > cap {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "frame over the cap",
        ));
    }
    io.write_all(&(bytes.len() as u32).to_be_bytes()).await?;
    io.write_all(bytes).await?;
    io.close().await
}

#[async_trait::async_trait]
impl request_response::Codec for CappedCodec {
    type Protocol = StreamProtocol;
    type Request = Vec<u8>;
    type Response = Vec<u8>;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_frame(io, self.max_request).await
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_frame(io, self.max_response).await
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &req, self.max_request).await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        res: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &res, self.max_response).await
    }
}

/// The combined behaviour.
#[derive(NetworkBehaviour)]
struct Behaviour {
    allow: allow_block_list::Behaviour<allow_block_list::AllowedPeers>,
    limits: connection_limits::Behaviour,
    identify: identify::Behaviour,
    dkg: request_response::Behaviour<CappedCodec>,
    consensus: request_response::Behaviour<CappedCodec>,
    sync: request_response::Behaviour<CappedCodec>,
}

/// The protocols.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    /// DKG broadcast.
    Dkg,
    /// Engine messages and forwarded txs.
    Consensus,
}

impl Proto {
    fn name(self) -> &'static str {
        match self {
            Proto::Dkg => "dkg",
            Proto::Consensus => "consensus",
        }
    }
}

/// A queue slot of one peer: released when the message is dropped by its consumer.
#[derive(Debug)]
pub struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// An inbound one-way message.
#[derive(Debug)]
pub struct Inbound {
    /// The sender's node index (from its authenticated peer id).
    pub from: u32,
    /// The payload.
    pub bytes: Vec<u8>,
    _slot: Slot,
}

/// An inbound sync request; answer through `reply` (dropping it sends an empty response).
#[derive(Debug)]
pub struct SyncRequest {
    /// The requester's node index.
    pub from: u32,
    /// The request bytes.
    pub bytes: Vec<u8>,
    /// Where the response goes.
    pub reply: oneshot::Sender<Vec<u8>>,
    _slot: Slot,
}

enum Command {
    AddPeer {
        index: u32,
        peer: PeerId,
        addr: Multiaddr,
    },
    Send {
        to: u32,
        proto: Proto,
        bytes: Arc<Vec<u8>>,
    },
    Request {
        to: u32,
        bytes: Vec<u8>,
        reply: oneshot::Sender<Option<Vec<u8>>>,
    },
    Respond {
        channel: request_response::ResponseChannel<Vec<u8>>,
        bytes: Vec<u8>,
    },
}

/// A handle to the net task.
#[derive(Clone)]
pub struct NetHandle {
    commands: mpsc::Sender<Command>,
    me: u32,
    /// Every peer's index (the genesis nodes', then the validators that joined).
    known: Arc<std::sync::Mutex<std::collections::BTreeSet<u32>>>,
    connected: Arc<AtomicUsize>,
    connected_set: Arc<std::sync::Mutex<std::collections::BTreeSet<u32>>>,
}

impl NetHandle {
    /// Send `bytes` to node `to` (dropped if the command queue is full or `to` is this node).
    pub fn send(&self, to: u32, proto: Proto, bytes: Vec<u8>) {
        self.send_shared(to, proto, Arc::new(bytes));
    }

    fn send_shared(&self, to: u32, proto: Proto, bytes: Arc<Vec<u8>>) {
        if to == self.me || to == 0 {
            return;
        }
        let _ = self.commands.try_send(Command::Send { to, proto, bytes });
    }

    /// Send to every other node.
    pub fn broadcast(&self, proto: Proto, bytes: Vec<u8>) {
        let bytes = Arc::new(bytes);
        let known: Vec<u32> = self
            .known
            .lock()
            .map(|k| k.iter().copied().collect())
            .unwrap_or_default();
        for to in known {
            self.send_shared(to, proto, bytes.clone());
        }
    }

    /// Accept connections from `peer` as node `index` (a validator that joined) and keep
    /// dialling it at `addr`. A known index or peer id, or this node's own, changes nothing.
    pub fn add_peer(&self, index: u32, peer: PeerId, addr: Multiaddr) {
        let _ = self
            .commands
            .try_send(Command::AddPeer { index, peer, addr });
    }

    /// A sync request to node `to`; `None` on failure or timeout.
    pub async fn request(&self, to: u32, bytes: Vec<u8>) -> Option<Vec<u8>> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .try_send(Command::Request {
                to,
                bytes,
                reply: tx,
            })
            .ok()?;
        rx.await.ok().flatten()
    }

    /// Connected genesis peers.
    pub fn peers(&self) -> usize {
        self.connected.load(Ordering::Relaxed)
    }

    /// Indices of connected peers.
    pub fn connected(&self) -> Vec<u32> {
        self.connected_set
            .lock()
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default()
    }
}

/// Receivers of inbound traffic, one per consumer.
pub struct NetEvents {
    /// DKG messages.
    pub dkg: mpsc::Receiver<Inbound>,
    /// Consensus messages.
    pub consensus: mpsc::Receiver<Inbound>,
    /// Sync requests.
    pub sync: mpsc::Receiver<SyncRequest>,
}

struct PeerInfo {
    peer: PeerId,
    addr: Multiaddr,
    index: u32,
    next_dial: Instant,
    backoff: Duration,
    queues: [Arc<AtomicUsize>; 3],
    /// Inbound budgets (dkg, consensus, sync).
    budgets: [Budget; 3],
}

/// Start the transport for node `me` (0 for a node not in the genesis): listen on `listen` and
/// keep dialling the others (at `dial[index]` where given, else at their genesis address).
/// Returns the handle and the inbound receivers; the swarm runs on a spawned task.
pub fn start(
    genesis: &Genesis,
    me: u32,
    listen: Multiaddr,
    key: libp2p::identity::Keypair,
    dial: &std::collections::BTreeMap<String, String>,
    rate: &RateLimits,
    metrics: Arc<Metrics>,
) -> Result<(NetHandle, NetEvents, tokio::task::JoinHandle<()>), NodeError> {
    let n = genesis.n();
    let mut peers: Vec<PeerInfo> = Vec::new();
    for node in &genesis.nodes {
        if node.index == me {
            continue;
        }
        let addr = match dial.get(&node.index.to_string()) {
            Some(a) => a
                .parse()
                .map_err(|_| NodeError::Config(format!("invalid dial address {a:?}")))?,
            None => node.multiaddr()?,
        };
        peers.push(PeerInfo {
            peer: node.peer()?,
            addr,
            index: node.index,
            next_dial: Instant::now(),
            backoff: Duration::from_millis(250),
            queues: Default::default(),
            budgets: [rate.dkg, rate.consensus, rate.sync]
                .into_iter()
                .zip(MAX_REQUEST)
                .map(|(l, max)| Budget::new(l, max, Instant::now()))
                .collect::<Vec<_>>()
                .try_into()
                .map_err(|_| NodeError::Config("rate limits".into()))?,
        });
    }
    let rr = |proto: &'static str, max_request, max_response| {
        request_response::Behaviour::with_codec(
            CappedCodec {
                max_request,
                max_response,
            },
            [(StreamProtocol::new(proto), ProtocolSupport::Full)],
            request_response::Config::default()
                .with_request_timeout(Duration::from_secs(10))
                .with_max_concurrent_streams(512),
        )
    };
    let mut allow = allow_block_list::Behaviour::<allow_block_list::AllowedPeers>::default();
    for p in &peers {
        allow.allow_peer(p.peer);
    }
    let mut swarm: Swarm<Behaviour> = libp2p::SwarmBuilder::with_existing_identity(key)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| NodeError::Net(e.to_string()))?
        .with_behaviour(|key| Behaviour {
            allow,
            limits: connection_limits::Behaviour::new(
                connection_limits::ConnectionLimits::default()
                    .with_max_established_per_peer(Some(2))
                    .with_max_pending_incoming(Some(64)),
            ),
            identify: identify::Behaviour::new(
                identify::Config::new("/conclave/1".into(), key.public())
                    .with_interval(Duration::from_secs(60)),
            ),
            dkg: rr("/conclave/dkg/1", MAX_REQUEST[0], 16),
            consensus: rr("/conclave/consensus/1", MAX_REQUEST[1], 16),
            sync: rr("/conclave/sync/1", MAX_REQUEST[2], MAX_SYNC_RESPONSE),
        })
        .map_err(|e| NodeError::Net(e.to_string()))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(3600)))
        .build();
    swarm
        .listen_on(listen.clone())
        .map_err(|e| NodeError::Net(format!("cannot listen on {listen}: {e}")))?;

    let (cmd_tx, mut cmd_rx) = mpsc::channel::<Command>(8192);
    let (dkg_tx, dkg_rx) = mpsc::channel(PER_PEER_QUEUE * n as usize);
    let (cons_tx, cons_rx) = mpsc::channel(PER_PEER_QUEUE * n as usize);
    let (sync_tx, sync_rx) = mpsc::channel(64 * n as usize);
    let connected = Arc::new(AtomicUsize::new(0));
    let connected_set = Arc::new(std::sync::Mutex::new(std::collections::BTreeSet::new()));
    let known = Arc::new(std::sync::Mutex::new(
        peers
            .iter()
            .map(|p| p.index)
            .collect::<std::collections::BTreeSet<u32>>(),
    ));
    let handle = NetHandle {
        commands: cmd_tx.clone(),
        me,
        known: known.clone(),
        connected: connected.clone(),
        connected_set: connected_set.clone(),
    };
    let mut record = std::env::var_os(RECORD_ENV).and_then(|path| {
        tracing::warn!(path = ?path, "test recording of inbound consensus frames active");
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .ok()
    });
    let mut index_of: HashMap<PeerId, usize> =
        peers.iter().enumerate().map(|(i, p)| (p.peer, i)).collect();
    let budgets = [rate.dkg, rate.consensus, rate.sync];
    let task = tokio::spawn(async move {
        let mut pending: HashMap<OutboundRequestId, oneshot::Sender<Option<Vec<u8>>>> =
            HashMap::new();
        // Consensus sends awaiting their acknowledgement: the round trip is timed (bounded:
        // each entry leaves on its response or failure, and the map is capped).
        let mut sent_at: HashMap<OutboundRequestId, Instant> = HashMap::new();
        let mut dial_tick = tokio::time::interval(Duration::from_millis(250));
        // Take a slot in the peer's queue for `proto` (0 dkg, 1 consensus, 2 sync).
        let slot = |p: &PeerInfo, q: usize| -> Option<Slot> {
            let c = &p.queues[q];
            if c.fetch_add(1, Ordering::Relaxed) >= PER_PEER_QUEUE {
                c.fetch_sub(1, Ordering::Relaxed);
                None
            } else {
                Some(Slot(c.clone()))
            }
        };
        loop {
            tokio::select! {
                cmd = cmd_rx.recv() => {
                    let Some(cmd) = cmd else { break };
                    match cmd {
                        Command::AddPeer { index, peer, addr } => {
                            let new = peer != *swarm.local_peer_id()
                                && !index_of.contains_key(&peer)
                                && !peers.iter().any(|p| p.index == index);
                            if !new {
                                continue;
                            }
                            let now = Instant::now();
                            let Ok(b) = budgets
                                .into_iter()
                                .zip(MAX_REQUEST)
                                .map(|(l, max)| Budget::new(l, max, now))
                                .collect::<Vec<_>>()
                                .try_into() else { continue };
                            swarm.behaviour_mut().allow.allow_peer(peer);
                            index_of.insert(peer, peers.len());
                            peers.push(PeerInfo {
                                peer,
                                addr,
                                index,
                                next_dial: now,
                                backoff: Duration::from_millis(250),
                                queues: Default::default(),
                                budgets: b,
                            });
                            if let Ok(mut k) = known.lock() {
                                k.insert(index);
                            }
                            tracing::info!(peer = index, "peer added");
                        }
                        Command::Send { to, proto, bytes } => {
                            let Some(p) = peers.iter().find(|p| p.index == to) else { continue };
                            if !swarm.is_connected(&p.peer) {
                                continue; // lost: the engine re-sends, the DKG re-broadcasts
                            }
                            metrics.count(to, "sent", proto.name(), bytes.len());
                            let b = swarm.behaviour_mut();
                            let msg = bytes.as_ref().clone();
                            match proto {
                                Proto::Dkg => { b.dkg.send_request(&p.peer, msg); }
                                Proto::Consensus => {
                                    let id = b.consensus.send_request(&p.peer, msg);
                                    if sent_at.len() < 4096 {
                                        sent_at.insert(id, Instant::now());
                                    }
                                }
                            }
                        }
                        Command::Request { to, bytes, reply } => {
                            let Some(p) = peers.iter().find(|p| p.index == to) else {
                                let _ = reply.send(None);
                                continue;
                            };
                            if !swarm.is_connected(&p.peer) {
                                let _ = reply.send(None);
                                continue;
                            }
                            metrics.count(to, "sent", "sync", bytes.len());
                            let id = swarm.behaviour_mut().sync.send_request(&p.peer, bytes);
                            pending.insert(id, reply);
                        }
                        Command::Respond { channel, bytes } => {
                            let _ = swarm.behaviour_mut().sync.send_response(channel, bytes);
                        }
                    }
                }
                _ = dial_tick.tick() => {
                    let now = Instant::now();
                    for p in peers.iter_mut() {
                        if swarm.is_connected(&p.peer) || now < p.next_dial {
                            continue;
                        }
                        let opts = DialOpts::peer_id(p.peer)
                            .addresses(vec![p.addr.clone()])
                            .condition(PeerCondition::DisconnectedAndNotDialing)
                            .build();
                        let _ = swarm.dial(opts);
                        p.next_dial = now + p.backoff;
                        p.backoff = (p.backoff * 2).min(Duration::from_secs(5));
                    }
                }
                event = swarm.select_next_some() => match event {
                    SwarmEvent::ConnectionEstablished { peer_id, num_established, .. } => {
                        if let Some(&i) = index_of.get(&peer_id) {
                            peers[i].backoff = Duration::from_millis(250);
                            if num_established.get() == 1 {
                                let c = connected.fetch_add(1, Ordering::Relaxed) + 1;
                                metrics.peers.set(c as i64);
                                if let Ok(mut s) = connected_set.lock() {
                                    s.insert(peers[i].index);
                                }
                                tracing::info!(peer = peers[i].index, "connected");
                            }
                        }
                    }
                    SwarmEvent::ConnectionClosed { peer_id, num_established: 0, .. } => {
                        if let Some(&i) = index_of.get(&peer_id) {
                            let c = connected.fetch_sub(1, Ordering::Relaxed).saturating_sub(1);
                            metrics.peers.set(c as i64);
                            if let Ok(mut s) = connected_set.lock() {
                                s.remove(&peers[i].index);
                            }
                            peers[i].next_dial = Instant::now();
                            tracing::info!(peer = peers[i].index, "disconnected");
                        }
                    }
                    SwarmEvent::Behaviour(ev) => {
                        let (q, ev) = match ev {
                            BehaviourEvent::Dkg(e) => (0, e),
                            BehaviourEvent::Consensus(e) => (1, e),
                            BehaviourEvent::Sync(e) => (2, e),
                            _ => continue,
                        };
                        match ev {
                            request_response::Event::Message { peer, message, .. } => {
                                let Some(&i) = index_of.get(&peer) else { continue };
                                match message {
                                    request_response::Message::Request { request, channel, .. } => {
                                        let proto = ["dkg", "consensus", "sync"][q];
                                        let admitted = peers[i].budgets[q].admit(request.len(), Instant::now());
                                        let p = &peers[i];
                                        metrics.count(p.index, "received", proto, request.len());
                                        if !admitted {
                                            metrics.rate_limited.get_or_create(&crate::metrics::PeerLabels {
                                                peer: p.index, direction: "received", protocol: proto,
                                            }).inc();
                                            let b = swarm.behaviour_mut();
                                            match q {
                                                0 => { let _ = b.dkg.send_response(channel, Vec::new()); }
                                                1 => { let _ = b.consensus.send_response(channel, Vec::new()); }
                                                _ => { let _ = b.sync.send_response(channel, Vec::new()); }
                                            }
                                            continue;
                                        }
                                        // Consensus frames, and the DKG log's engine frames (DKG tag 8).
                                        let dkg_engine = q == 0 && request.first() == Some(&8);
                                        if let (true, Some(f)) = (q == 1 || dkg_engine, record.as_mut()) {
                                            let prefix: &[u8] = if dkg_engine { &[RECORD_DKG] } else { &[] };
                                            let len = prefix.len() + request.len();
                                            let mut frame = Vec::with_capacity(8 + len);
                                            frame.extend_from_slice(&p.index.to_be_bytes());
                                            frame.extend_from_slice(&(len as u32).to_be_bytes());
                                            frame.extend_from_slice(prefix);
                                            frame.extend_from_slice(&request);
                                            let _ = std::io::Write::write_all(f, &frame);
                                        }
                                        let Some(s) = slot(p, q) else {
                                            metrics.dropped.get_or_create(&crate::metrics::PeerLabels {
                                                peer: p.index, direction: "received", protocol: proto,
                                            }).inc();
                                            continue;
                                        };
                                        let b = swarm.behaviour_mut();
                                        match q {
                                            0 => {
                                                let _ = b.dkg.send_response(channel, Vec::new());
                                                let _ = dkg_tx.try_send(Inbound { from: p.index, bytes: request, _slot: s });
                                            }
                                            1 => {
                                                let _ = b.consensus.send_response(channel, Vec::new());
                                                let _ = cons_tx.try_send(Inbound { from: p.index, bytes: request, _slot: s });
                                            }
                                            _ => {
                                                let (tx, rx) = oneshot::channel();
                                                let req = SyncRequest { from: p.index, bytes: request, reply: tx, _slot: s };
                                                if sync_tx.try_send(req).is_ok() {
                                                    let cmd = cmd_tx.clone();
                                                    tokio::spawn(async move {
                                                        let bytes = rx.await.unwrap_or_default();
                                                        let _ = cmd.send(Command::Respond { channel, bytes }).await;
                                                    });
                                                }
                                            }
                                        }
                                    }
                                    request_response::Message::Response { request_id, response } => {
                                        if let Some(t) = sent_at.remove(&request_id) {
                                            metrics.observe("consensus_rtt", t.elapsed().as_secs_f64());
                                        }
                                        if let Some(reply) = pending.remove(&request_id) {
                                            metrics.count(peers[i].index, "received", "sync", response.len());
                                            let _ = reply.send(Some(response));
                                        }
                                    }
                                }
                            }
                            request_response::Event::OutboundFailure { request_id, error, .. } => {
                                tracing::debug!(%error, "outbound failure");
                                sent_at.remove(&request_id);
                                if let Some(reply) = pending.remove(&request_id) {
                                    let _ = reply.send(None);
                                }
                            }
                            _ => {}
                        }
                    }
                    _ => {}
                }
            }
        }
    });
    Ok((
        handle,
        NetEvents {
            dkg: dkg_rx,
            consensus: cons_rx,
            sync: sync_rx,
        },
        task,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_bucket_refills_at_its_rate_and_caps_at_its_capacity() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(100, 10, t0);
        for _ in 0..10 {
            assert!(b.take(1, t0));
        }
        assert!(!b.take(1, t0), "empty after the burst");
        // 100/s: one token per 10 ms.
        assert!(!b.take(1, t0 + Duration::from_millis(9)));
        assert!(b.take(1, t0 + Duration::from_millis(10)));
        // A long idle time refills only up to the capacity.
        let later = t0 + Duration::from_secs(3600);
        assert!(b.take(10, later));
        assert!(!b.take(1, later));
        // A clock that goes backwards adds nothing.
        assert!(!b.take(1, t0));
    }

    #[test]
    fn a_budget_needs_both_buckets_and_fits_one_largest_frame() {
        let t0 = Instant::now();
        let limit = RateLimit {
            messages_per_s: 5,
            bytes_per_s: 1000,
        };
        let mut b = Budget::new(limit, 4000, t0);
        assert!(b.admit(4000, t0), "one largest frame fits the byte bucket");
        assert!(!b.admit(1, t0), "bytes exhausted");
        let t1 = t0 + Duration::from_secs(4);
        for _ in 0..5 {
            assert!(b.admit(10, t1));
        }
        assert!(!b.admit(10, t1), "messages exhausted, bytes left");
    }
}
