//! Embedding the engine in your own host: four nodes as tokio tasks, tokio channels for the
//! network, tokio timers, a file per node for the persist barrier, and a crash with a restore.
//!
//! Every [`Action`] is carried out in one place, [`Host::carry_out`], in the order the engine
//! gives them; the one rule that matters for safety is that a [`Action::Persist`] is durable
//! (written and fsynced) before any later action of the same step runs. Run it with
//! `cargo run -p conclave-bft --example embedding`; `docs/EMBEDDING.md` walks through it.
//!
//! The crypto is the crate's test-only mock (keyed hashes): a real host builds
//! [`Adapters`] from a DKG output with `conclave_bft::adapter::{ThresholdVerifier,
//! ThresholdSigner}`, as `conclave node` does.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use conclave_bft::mock::MockCrypto;
use conclave_bft::types::{Epoch, Height, NodeId, Time, ValueId};
use conclave_bft::{Action, Adapters, Config, Engine, Input, PersistedState, TimerId};
use tokio::sync::mpsc;
use tokio::time::Instant;

const NODES: u32 = 4;
const HEIGHTS: u64 = 8;
/// Node 2 is killed once it has decided this height, then restored from its file.
const CRASH_AFTER: u64 = 3;

/// What a node task reports to `main`.
enum Report {
    Decided(NodeId, Height, ValueId),
}

/// The "network": every node's inbox, by seat (a restarted node gets a new one).
type Network = Arc<RwLock<BTreeMap<NodeId, mpsc::Sender<(NodeId, Vec<u8>)>>>>;

/// One node's host: its engine, the network, its timers, its state file.
struct Host {
    id: NodeId,
    engine: Engine,
    network: Network,
    timers: BTreeMap<TimerId, Time>,
    state_file: PathBuf,
    start: Instant,
    reports: mpsc::Sender<Report>,
}

impl Host {
    fn now(&self) -> Time {
        Time(self.start.elapsed().as_millis() as u64)
    }

    /// Feeds one input, then carries out the actions in order (answers to value requests are
    /// fed back before anything else).
    async fn handle(&mut self, input: Input) -> std::io::Result<()> {
        let mut queue = vec![input];
        while let Some(input) = queue.pop() {
            let now = self.now();
            let step = self.engine.handle(now, input);
            for action in step.actions {
                if let Some(reply) = self.carry_out(action).await? {
                    queue.push(reply);
                }
            }
        }
        Ok(())
    }

    /// The one place where engine actions become I/O.
    async fn carry_out(&mut self, action: Action) -> std::io::Result<Option<Input>> {
        match action {
            // The write barrier: durable before anything that follows it is sent.
            Action::Persist(state) => persist(&self.state_file, &state)?,
            Action::Broadcast { bytes } => {
                let network = self.network.read().expect("network lock");
                for (peer, inbox) in network.iter() {
                    if *peer != self.id {
                        // A full or closed inbox drops the message (the peer is slow or
                        // down): the engine's re-sends and catch-up recover from that.
                        let _ = inbox.try_send((self.id, bytes.clone()));
                    }
                }
            }
            Action::Send { to, bytes } => {
                if let Some(inbox) = self.network.read().expect("network lock").get(&to) {
                    let _ = inbox.try_send((self.id, bytes));
                }
            }
            Action::SetTimer { id, at } => {
                self.timers.insert(id, at);
            }
            Action::CancelTimer { id } => {
                self.timers.remove(&id);
            }
            // The application: propose a block, and check proposals before voting on them.
            Action::RequestValue { height } => {
                let value = format!("block {} from node {}", height.0, self.id).into_bytes();
                return Ok(Some(Input::ProposedValue { height, value }));
            }
            Action::ValidateValue {
                height,
                value_id,
                value,
            } => {
                let valid = value.starts_with(format!("block {} ", height.0).as_bytes());
                return Ok(Some(Input::ValueValidated {
                    height,
                    value_id,
                    valid,
                }));
            }
            Action::Decide { decided } => {
                let c = &decided.certificate;
                let _ = self
                    .reports
                    .send(Report::Decided(self.id, c.height, c.value_id))
                    .await;
            }
            Action::Evidence(evidence) => {
                eprintln!("node {}: evidence against {}", self.id, evidence.culprit);
            }
            // `Action` is non-exhaustive: fail closed on one this host does not know.
            _ => return Err(std::io::Error::other("unknown engine action")),
        }
        Ok(None)
    }

    /// The node's event loop: the next message or the earliest timer, forever.
    async fn run(mut self, mut inbox: mpsc::Receiver<(NodeId, Vec<u8>)>) -> std::io::Result<()> {
        self.handle(Input::Entropy(*b"host randomness, once per start!"))
            .await?;
        self.handle(Input::Start).await?;
        loop {
            let next = self
                .timers
                .iter()
                .min_by_key(|(_, at)| **at)
                .map(|(id, at)| (*id, *at));
            let deadline = next.map(|(_, at)| self.start + Duration::from_millis(at.0));
            tokio::select! {
                message = inbox.recv() => match message {
                    Some((from, bytes)) => self.handle(Input::Message { from, bytes }).await?,
                    None => return Ok(()),
                },
                _ = sleep_until(deadline) => {
                    if let Some((id, _)) = next {
                        self.timers.remove(&id);
                        self.handle(Input::Timer(id)).await?;
                    }
                }
            }
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Write, fsync, rename, fsync the directory: after a crash the file holds either the old or
/// the new state, never a torn one.
fn persist(path: &Path, state: &PersistedState) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(&serde_json::to_vec(state)?)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)?;
    std::fs::File::open(path.parent().unwrap_or(Path::new(".")))?.sync_all()
}

fn config(id: NodeId) -> Config {
    let mut config = Config::new(id, Epoch(0));
    config.timeouts.filter_ms = 20;
    config.timeouts.next_ms = 60;
    config.timeouts.resend_ms = 120;
    config
}

/// Starts node `id`: fresh, or restored from its state file if there is one.
fn spawn(
    id: NodeId,
    adapters: Adapters,
    crypto: &MockCrypto,
    dir: &Path,
    network: &Network,
    reports: mpsc::Sender<Report>,
    start: Instant,
) -> std::io::Result<tokio::task::JoinHandle<std::io::Result<()>>> {
    let (tx, inbox) = mpsc::channel(4096);
    network.write().expect("network lock").insert(id, tx);
    let state_file = dir.join(format!("node-{id}.json"));
    let engine = match std::fs::read(&state_file) {
        Ok(bytes) => {
            let state: PersistedState = serde_json::from_slice(&bytes)?;
            println!(
                "node {id}: restored at height {} period {}",
                state.height.0, state.period.0
            );
            Engine::restore(config(id), adapters, state)
        }
        Err(_) => Engine::new(config(id), adapters, crypto.genesis_seed()),
    };
    let host = Host {
        id,
        engine,
        network: network.clone(),
        timers: BTreeMap::new(),
        state_file,
        start,
        reports,
    };
    Ok(tokio::spawn(host.run(inbox)))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let dir = std::env::temp_dir().join(format!("conclave-embedding-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let crypto = MockCrypto::new(NODES, 1);
    let start = Instant::now();
    let (report_tx, mut reports) = mpsc::channel(1024);
    let network = Network::default();
    let launch = |id: NodeId| {
        spawn(
            id,
            crypto.adapters(id),
            &crypto,
            &dir,
            &network,
            report_tx.clone(),
            start,
        )
    };
    let mut tasks = BTreeMap::new();
    for i in 0..NODES {
        let id = NodeId(i);
        tasks.insert(id, launch(id)?);
    }

    let mut decided: BTreeMap<Height, BTreeMap<NodeId, ValueId>> = BTreeMap::new();
    let mut crashed = false;
    let deadline = tokio::time::sleep(Duration::from_secs(60));
    tokio::pin!(deadline);
    while decided.get(&Height(HEIGHTS)).map_or(0, |m| m.len()) < NODES as usize {
        let report = tokio::select! {
            r = reports.recv() => r.expect("nodes keep running"),
            _ = &mut deadline => panic!("no progress in 60 s: {decided:?}"),
        };
        let Report::Decided(id, height, value) = report;
        decided.entry(height).or_default().insert(id, value);
        if id == NodeId(2) && height == Height(CRASH_AFTER) && !crashed {
            // Crash node 2 (nothing after its last persist survives), then restore it.
            crashed = true;
            tasks.remove(&id).expect("running").abort();
            println!("node 2: killed after deciding height {CRASH_AFTER}");
            // Restored from its file; peers reach it through a new inbox (a real transport
            // reconnects), and it catches up by the certificates they send.
            tasks.insert(id, launch(id)?);
        }
    }
    for (height, by_node) in &decided {
        let first = by_node.values().next().expect("a decision");
        assert!(
            by_node.values().all(|v| v == first),
            "disagreement at {height:?}"
        );
        println!(
            "height {}: {} nodes decided {}",
            height.0,
            by_node.len(),
            hex(&first.0[..8])
        );
    }
    for task in tasks.values() {
        task.abort();
    }
    std::fs::remove_dir_all(&dir)?;
    println!("all {NODES} nodes agreed on {HEIGHTS} heights, node 2 crashed and restored once");
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
