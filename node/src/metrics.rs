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

/// Every metric of the node.
pub struct Metrics {
    registry: Registry,
    /// Last committed height.
    pub height: Gauge,
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
    /// Evidence of misbehaviour reported by the engine.
    pub evidence: Counter,
    /// Peers that announced a DKG transcript hash other than this node's (culprits).
    pub dkg_culprits: Gauge,
}

impl Metrics {
    /// A fresh registry with every metric registered.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("conclave");
        let m = Metrics {
            height: Gauge::default(),
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
            evidence: Counter::default(),
            dkg_culprits: Gauge::default(),
            registry: Registry::default(),
        };
        registry.register("height", "Last committed height", m.height.clone());
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
        registry.register("evidence", "Evidence reported", m.evidence.clone());
        registry.register(
            "dkg_culprits",
            "Peers that announced another DKG transcript hash",
            m.dkg_culprits.clone(),
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

    /// The Prometheus text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
