//! # conclave-node
//!
//! The reference host of the sans-IO engine: one OS process per node, a real transport between
//! processes (rust-libp2p: TCP, Noise, Yamux; [`net`]), the DKG run among the nodes over that
//! transport ([`dkg`]), BA* consensus with threshold-signed certificates ([`consensus`], the one
//! place where every engine action is carried out), a hash-chained log of blocks applied to the
//! contract's key-value application ([`app`]), all of it in an embedded crash-safe database
//! (redb; [`store`]), an HTTP/JSON API (axum; [`api`]) and Prometheus metrics ([`metrics`]).
//!
//! Startup ([`run`]): load the home (config, genesis, keys), open the database, start the
//! transport and the API, run (or resume, or load) the DKG and agree on its transcript, then
//! run consensus from the persisted engine state. SIGINT/SIGTERM stop it gracefully (every
//! write is already synced; exit 0); if an essential task ends, the process ends.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod api;
pub mod app;
pub mod cluster;
pub mod compact;
pub mod config;
pub mod consensus;
pub mod dkg;
pub mod epochs;
pub mod metrics;
pub mod net;
pub mod state;
pub mod store;
pub mod timing;

use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};

use conclave_threshold_sig::{MinPk, MinSig, Variant};
use tokio::sync::watch;

pub use config::{
    init_testnet, init_testnet_with, Genesis, Home, NodeConfig, RateLimit, RateLimits,
    TestnetOptions, Tuning,
};

/// A deliberate fault of this node, for the process tests only: selected by the
/// `CONCLAVE_TEST_FAULT` environment variable, which no deployment sets (the node warns when
/// it is set).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TestFault {
    /// Honest (the default, and the only value outside tests).
    None,
    /// Send no DKG message at all (and so never finish the DKG).
    DkgSilent,
    /// Run the DKG, but announce a wrong transcript hash, before and after finishing.
    DkgWrongTranscript,
    /// Send this node's signed dealing to one peer only (the lowest other index), so only a
    /// relay can bring it to the others.
    DkgPartialSend,
    /// Send one peer (the highest other index) a second, validly signed dealing: equivocation.
    DkgEquivocate,
    /// Flood every peer with junk consensus frames (about 5,000 of 1 KiB per second each).
    FloodConsensus,
    /// Take part in consensus but post none of this node's resharing messages (a silent old
    /// holder: enough of them make a resharing fail).
    ReshareSilent,
}

impl TestFault {
    /// The environment variable that selects a test fault.
    pub const ENV: &'static str = "CONCLAVE_TEST_FAULT";

    /// Read [`Self::ENV`]: `dkg-silent`, `dkg-wrong-transcript`, `dkg-partial-send`,
    /// `dkg-equivocate`, `flood-consensus` or `reshare-silent`;
    /// anything else (or unset) is [`TestFault::None`].
    pub fn from_env() -> Self {
        match std::env::var(Self::ENV).as_deref() {
            Ok("dkg-silent") => TestFault::DkgSilent,
            Ok("dkg-wrong-transcript") => TestFault::DkgWrongTranscript,
            Ok("dkg-partial-send") => TestFault::DkgPartialSend,
            Ok("dkg-equivocate") => TestFault::DkgEquivocate,
            Ok("flood-consensus") => TestFault::FloodConsensus,
            Ok("reshare-silent") => TestFault::ReshareSilent,
            _ => TestFault::None,
        }
    }
}

/// Why the node stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    /// Configuration, genesis or key files.
    #[error("config: {0}")]
    Config(String),
    /// The database (a failed write stops the node).
    #[error("store: {0}")]
    Store(String),
    /// The transport or the API listener.
    #[error("net: {0}")]
    Net(String),
    /// The DKG or its outcome.
    #[error("dkg: {0}")]
    Dkg(String),
}

/// Run the node whose home is `home` until SIGINT/SIGTERM.
pub fn run(home: &Path) -> Result<(), NodeError> {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .try_init();
    let home = Home::load(home)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| NodeError::Net(format!("tokio runtime: {e}")))?;
    match home.genesis.variant.as_str() {
        "min-pk" => runtime.block_on(run_variant::<MinPk>(home)),
        _ => runtime.block_on(run_variant::<MinSig>(home)),
    }
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            return std::future::pending().await;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The group key a joining node trusts: its config's, else the one a quorum (t+1 of n) of the
/// genesis nodes report on `GET /v1/status` (asked once a second until they agree).
async fn trusted_group_key<V: Variant>(
    home: &Home,
) -> Result<conclave_threshold_sig::PublicKey<V>, NodeError> {
    let parse = |hex_key: &str| {
        hex::decode(hex_key)
            .ok()
            .and_then(|b| conclave_threshold_sig::PublicKey::<V>::from_bytes(&b).ok())
    };
    if let Some(k) = &home.config.group_public_key {
        return parse(k)
            .ok_or_else(|| NodeError::Config("group_public_key does not decode".into()));
    }
    let n = home.genesis.n();
    let quorum = dkg::threshold_degree(n) as usize + 1;
    let apis: Vec<String> = home.genesis.nodes.iter().map(|n| n.api.clone()).collect();
    loop {
        let apis = apis.clone();
        let answers = tokio::task::spawn_blocking(move || {
            let agent = ureq::AgentBuilder::new()
                .timeout(std::time::Duration::from_secs(2))
                .build();
            apis.iter()
                .filter_map(|a| {
                    let body = agent
                        .get(&format!("http://{a}/v1/status"))
                        .call()
                        .ok()?
                        .into_string()
                        .ok()?;
                    let v: serde_json::Value = serde_json::from_str(&body).ok()?;
                    v["group_public_key"].as_str().map(str::to_string)
                })
                .collect::<Vec<String>>()
        })
        .await
        .map_err(|e| NodeError::Net(e.to_string()))?;
        let mut counts = std::collections::BTreeMap::new();
        for a in answers {
            *counts.entry(a).or_insert(0usize) += 1;
        }
        if let Some((k, _)) = counts.into_iter().find(|(_, c)| *c >= quorum) {
            if let Some(key) = parse(&k) {
                tracing::info!(group_public_key = %k, quorum, "group key from the genesis nodes");
                return Ok(key);
            }
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

async fn run_variant<V: Variant>(home: Home) -> Result<(), NodeError> {
    let me = home.config.index;
    let metrics = Arc::new(metrics::Metrics::new());
    let store = store::Store::open(&home.data_dir())?;
    let (net, events, net_task) = net::start(
        &home.genesis,
        me,
        home.entry().multiaddr()?,
        home.p2p_key.clone(),
        &home.config.dial,
        &home.config.rate,
        metrics.clone(),
    )?;
    if TestFault::from_env() == TestFault::FloodConsensus {
        tracing::warn!("test fault injection active: flooding every peer");
        let net = net.clone();
        tokio::spawn(async move {
            let mut junk = vec![0xAB; 1024];
            junk[0] = consensus::TAG_ENGINE; // an engine frame that does not decode
            let mut tick = tokio::time::interval(std::time::Duration::from_millis(2));
            loop {
                tick.tick().await;
                for _ in 0..10 {
                    net.broadcast(net::Proto::Consensus, junk.clone());
                }
            }
        });
    }
    let tip = store.tip()?;
    let (tip_tx, _) = watch::channel(tip);
    let t = home.config.tuning;
    let shared = Arc::new(consensus::Shared {
        store: store.clone(),
        mempool: Mutex::new(app::Mempool::new(t.mempool_txs, 64 << 20)),
        metrics: metrics.clone(),
        net: net.clone(),
        genesis: home.genesis.clone(),
        me,
        tuning: t,
        group_public_key: RwLock::new(None),
        sent_txs: Mutex::new(compact::TxCache::new(consensus::SENT_TXS_CACHE)),
        tip: tip_tx,
        forward: Mutex::new(Vec::new()),
        forwarded_at: Mutex::new(std::time::Instant::now()),
        epochs: RwLock::new(None),
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down");
        let _ = stop_tx.send(true);
    });
    let mut api_stop = stop_rx.clone();
    let api = tokio::spawn(api::serve(
        home.entry().api.clone(),
        shared.clone(),
        async move {
            let _ = api_stop.changed().await;
        },
    ));
    tracing::info!(node = me, api = %home.entry().api, p2p = %home.entry().p2p, "node started");
    let net::NetEvents {
        dkg: dkg_events,
        consensus: consensus_events,
        sync,
    } = events;
    let mut stop = stop_rx.clone();
    let essential = async {
        let start = if home.is_joiner() {
            // Not in the genesis: no DKG of its own; it trusts the group key and follows.
            drop(dkg_events);
            let key = tokio::select! {
                r = trusted_group_key::<V>(&home) => r?,
                _ = stop.changed() => return Ok(()),
            };
            consensus::Start::Joiner(key)
        } else {
            let dkg = tokio::select! {
                r = dkg::run::<V>(&home, store.clone(), net.clone(), dkg_events, metrics.clone()) => r?,
                _ = stop.changed() => return Ok(()),
            };
            consensus::Start::Genesis(dkg)
        };
        consensus::run::<V>(&home, shared, start, consensus_events, sync, stop_rx).await
    };
    tokio::select! {
        r = essential => r?,
        r = api => match r {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e),
            Err(e) => return Err(NodeError::Net(format!("API task: {e}"))),
        },
        _ = net_task => return Err(NodeError::Net("the transport task ended".into())),
    }
    Ok(())
}
