//! The node's Prometheus metrics (prometheus-client), served at `/metrics`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Labels of per-peer traffic counters.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PeerLabels {
    /// The peer's node index.
    pub peer: u32,
    /// `sent` or `received`.
    pub direction: &'static str,
    /// `dkg`, `consensus` or `sync`.
    pub protocol: &'static str,
}

/// Labels of the time-breakdown histograms ([`Metrics::time`]).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PartLabels {
    /// What was timed (see [`Metrics::time`]).
    pub part: &'static str,
}

/// Every metric of the node.
pub struct Metrics {
    registry: Registry,
    /// Last committed height.
    pub height: Gauge,
    /// The current epoch (0 on a chain without epochs).
    pub epoch: Gauge,
    /// Periods each committed height took.
    pub periods: Histogram,
    /// Seconds from entering a height to committing it.
    pub commit_latency: Histogram,
    /// Messages per peer, direction and protocol.
    pub messages: Family<PeerLabels, Counter>,
    /// Bytes per peer, direction and protocol.
    pub bytes: Family<PeerLabels, Counter>,
    /// Inbound messages dropped because the peer's queue was full.
    pub dropped: Family<PeerLabels, Counter>,
    /// Inbound messages dropped because the peer exceeded its rate limit.
    pub rate_limited: Family<PeerLabels, Counter>,
    /// Pending transactions.
    pub mempool: Gauge,
    /// DKG phase: 0 init, 1 deal, 2 complain, 3 justify, 4 done (output stored), 5 agreed.
    pub dkg_phase: Gauge,
    /// Connected peers.
    pub peers: Gauge,
    /// Blocks fetched by sync.
    pub synced_blocks: Counter,
    /// Proposals this node sent in compact form.
    pub compact_sent: Counter,
    /// Fetches of a compact proposal's missing txs sent to its sender.
    pub compact_fetches: Counter,
    /// Txs received by those fetches (each checked against its hash).
    pub compact_fetched_txs: Counter,
    /// Compact proposals dropped unfinished (a fetch failed, timed out or left txs missing,
    /// or a newer rebuild from the same peer pushed it out).
    pub compact_dropped: Counter,
    /// Evidence of misbehaviour reported by the engine.
    pub evidence: Counter,
    /// Peers that announced a DKG transcript hash other than this node's (culprits).
    pub dkg_culprits: Gauge,
    /// Where the time goes, in seconds, by `part`:
    ///
    /// - work on the driver's thread: `engine_handle` (one `Engine::handle` call, crypto
    ///   included), `build_block`, `validate_block`, `state_encode` (the engine state's binary
    ///   encoding), `store_commit` (one redb write transaction: writes, commit and fsync),
    ///   `apply_prepare` (decoding a decided block and its KV writes, inside that transaction);
    /// - crypto inside the engine (the adapters, timed by a wrapper): `sign`, `verify_share`,
    ///   `verify_batch`, `combine`, `combine_beacon`, `combine_certificate` (a certificate and its beacon together), `verify_certificate`, `verify_beacon`,
    ///   `value_id`, `vrf_prove`, `vrf_verify`;
    /// - the protocol's phases of each committed height, on this node's clock: `height` (entering
    ///   the height to committing it), `to_proposal` (to its own proposal's send),
    ///   `to_soft_vote` (to its soft vote: the filter timer, 2λ, when the proposals were in
    ///   time), `soft_to_cert` (its soft vote to its cert vote: the soft quorum's arrival),
    ///   `cert_to_decide` (its cert vote to the decision: the cert quorum's arrival);
    /// - `consensus_rtt`: a consensus message's request-response round trip (send, the peer's
    ///   transport receiving it, its empty acknowledgement back), about twice the one-way
    ///   network latency.
    pub time: Family<PartLabels, Histogram, fn() -> Histogram>,
}

impl Metrics {
    /// A fresh registry with every metric registered.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("conclave");
        let m = Metrics {
            height: Gauge::default(),
            epoch: Gauge::default(),
            periods: Histogram::new([1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 16.0]),
            commit_latency: Histogram::new([
                0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0, 2.0, 5.0,
            ]),
            messages: Family::default(),
            bytes: Family::default(),
            dropped: Family::default(),
            rate_limited: Family::default(),
            mempool: Gauge::default(),
            dkg_phase: Gauge::default(),
            peers: Gauge::default(),
            synced_blocks: Counter::default(),
            compact_sent: Counter::default(),
            compact_fetches: Counter::default(),
            compact_fetched_txs: Counter::default(),
            compact_dropped: Counter::default(),
            evidence: Counter::default(),
            dkg_culprits: Gauge::default(),
            time: Family::new_with_constructor(time_histogram as fn() -> Histogram),
            registry: Registry::default(),
        };
        registry.register("height", "Last committed height", m.height.clone());
        registry.register("epoch", "The current epoch", m.epoch.clone());
        registry.register(
            "periods_per_height",
            "Periods each committed height took",
            m.periods.clone(),
        );
        registry.register(
            "commit_latency_seconds",
            "Seconds from entering a height to committing it",
            m.commit_latency.clone(),
        );
        registry.register("messages", "Messages per peer", m.messages.clone());
        registry.register("bytes", "Bytes per peer", m.bytes.clone());
        registry.register(
            "dropped_messages",
            "Inbound messages dropped (peer queue full)",
            m.dropped.clone(),
        );
        registry.register(
            "rate_limited_messages",
            "Inbound messages dropped (peer over its rate limit)",
            m.rate_limited.clone(),
        );
        registry.register("mempool_txs", "Pending transactions", m.mempool.clone());
        registry.register(
            "dkg_phase",
            "DKG phase (0 init .. 4 done, 5 agreed)",
            m.dkg_phase.clone(),
        );
        registry.register("peers", "Connected peers", m.peers.clone());
        registry.register(
            "synced_blocks",
            "Blocks fetched from peers by sync",
            m.synced_blocks.clone(),
        );
        registry.register(
            "compact_sent",
            "Proposals sent in compact form (txs as hashes)",
            m.compact_sent.clone(),
        );
        registry.register(
            "compact_fetches",
            "Fetches of a compact proposal's missing txs from its sender",
            m.compact_fetches.clone(),
        );
        registry.register(
            "compact_fetched_txs",
            "Txs received by compact proposal fetches",
            m.compact_fetched_txs.clone(),
        );
        registry.register(
            "compact_dropped",
            "Compact proposals dropped before they were rebuilt",
            m.compact_dropped.clone(),
        );
        registry.register("evidence", "Evidence reported", m.evidence.clone());
        registry.register(
            "dkg_culprits",
            "Peers that announced another DKG transcript hash",
            m.dkg_culprits.clone(),
        );
        registry.register(
            "time_seconds",
            "Where the time goes (by part: driver work, crypto, protocol phases, network)",
            m.time.clone(),
        );
        Metrics { registry, ..m }
    }

    /// Count one message of `len` bytes.
    pub fn count(&self, peer: u32, direction: &'static str, protocol: &'static str, len: usize) {
        let l = PeerLabels {
            peer,
            direction,
            protocol,
        };
        self.messages.get_or_create(&l).inc();
        self.bytes.get_or_create(&l).inc_by(len as u64);
    }

    /// Record `seconds` spent in `part` (see [`Metrics::time`]).
    pub fn observe(&self, part: &'static str, seconds: f64) {
        self.time
            .get_or_create(&PartLabels { part })
            .observe(seconds);
    }

    /// Time `f` as `part`.
    pub fn timed<T>(&self, part: &'static str, f: impl FnOnce() -> T) -> T {
        let t = std::time::Instant::now();
        let r = f();
        self.observe(part, t.elapsed().as_secs_f64());
        r
    }

    /// The Prometheus text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// 25 µs to ~3.4 s, doubling.
fn time_histogram() -> Histogram {
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
        25e-6, 2.0, 18,
    ))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
