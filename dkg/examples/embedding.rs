//! Embedding a DKG [`Participant`] in your own host: five participants as tokio tasks, a
//! shared bulletin board standing in for the synchronous broadcast, phase deadlines on tokio
//! timers, each participant's state persisted to a file before it sends, and one participant
//! killed in the middle of the DKG and resumed from its file.
//!
//! Run it with `cargo run -p conclave-dkg --example embedding`; `docs/EMBEDDING.md` walks
//! through it. `conclave node` does the same over libp2p with its state in redb.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use conclave_dkg::{
    Committee, DkgConfig, DkgOutput, IdentityKeys, Input, Message, Output, Participant, Phase,
};
use conclave_threshold_sig::MinPk;
use rand::rngs::OsRng;
use rand::RngCore;
use tokio::sync::{mpsc, Notify};
use tokio::time::Instant;

const N: u32 = 5;
const T: u32 = 2;
/// Phase deadlines after the common start (the synchrony assumption of the DKG).
const PHASES: [(Phase, u64); 3] = [
    (Phase::Deal, 400),
    (Phase::Complain, 800),
    (Phase::Justify, 1200),
];

/// The broadcast: every message in the order it was posted; participants read it from the
/// start (a restarted one re-reads what it missed; duplicates are ignored by the participant).
#[derive(Default)]
struct Board {
    messages: Mutex<Vec<Message<MinPk>>>,
    posted: Notify,
}

impl Board {
    fn post(&self, message: Message<MinPk>) {
        self.messages.lock().expect("board lock").push(message);
        self.posted.notify_waiters();
    }
    fn read_from(&self, position: usize) -> Vec<Message<MinPk>> {
        self.messages.lock().expect("board lock")[position..].to_vec()
    }
}

/// What survives a crash: the participant and every message it has sent (re-sent on resume:
/// it may have crashed after persisting and before posting).
#[derive(serde::Serialize, serde::Deserialize)]
struct Durable {
    participant: Participant<MinPk>,
    sent: Vec<Message<MinPk>>,
}

/// Write, fsync, rename: the file holds the old or the new state, never a torn one.
fn persist(path: &Path, durable: &Durable) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(&serde_json::to_vec(durable)?)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}

struct Host {
    durable: Durable,
    file: PathBuf,
    board: Arc<Board>,
}

impl Host {
    /// One input; the new state and its messages are durable before they are posted.
    fn handle(&mut self, input: Input<MinPk>) -> Result<Option<DkgOutput<MinPk>>, String> {
        let outputs = self
            .durable
            .participant
            .handle(input)
            .map_err(|e| e.to_string())?;
        let mut finished = None;
        let mut posts = Vec::new();
        for output in outputs {
            match output {
                Output::Broadcast(message) => posts.push(message),
                Output::Finished(result) => finished = Some(*result),
            }
        }
        self.durable.sent.extend(posts.iter().cloned());
        persist(&self.file, &self.durable).map_err(|e| e.to_string())?;
        for message in posts {
            self.board.post(message);
        }
        Ok(finished)
    }

    /// Reads the board and reports deadlines until the participant finishes.
    async fn run(mut self, start: Instant, fresh: bool) -> Result<DkgOutput<MinPk>, String> {
        if fresh {
            self.handle(Input::Start)?;
        } else {
            for message in self.durable.sent.clone() {
                self.board.post(message); // peers ignore the copies they already have
            }
        }
        let mut position = 0;
        loop {
            let board = self.board.clone();
            let notified = board.posted.notified();
            for message in board.read_from(position) {
                position += 1;
                // A message the participant rejects (late, duplicate in a later phase, forged)
                // is dropped: the state machine reports it and carries on.
                match self.handle(Input::Message(message)) {
                    Ok(Some(done)) => return Ok(done),
                    Ok(None) => {}
                    Err(e) => eprintln!("rejected a message: {e}"),
                }
            }
            let next = PHASES
                .iter()
                .find(|(phase, _)| *phase >= self.durable.participant.phase())
                .copied();
            let Some((phase, at)) = next else {
                return Err("no phase left and no result".into());
            };
            tokio::select! {
                _ = notified => {}
                _ = tokio::time::sleep_until(start + Duration::from_millis(at)) => {
                    if self.durable.participant.phase() == phase {
                        if let Some(done) = self.handle(Input::DeadlinePassed(phase))? {
                            return Ok(done);
                        }
                    }
                }
            }
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("conclave-dkg-embedding-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    // Each participant's identity keys; the committee (public keys and seats) is public.
    let keys: Vec<IdentityKeys> = (0..N).map(|_| IdentityKeys::random(&mut OsRng)).collect();
    let committee = Committee::one_seat_each(&keys);
    let mut session = [0u8; 32];
    OsRng.fill_bytes(&mut session);
    let config = DkgConfig::<MinPk>::new(session, committee, T);
    config.validate().map_err(|e| e.to_string())?;

    let board = Arc::new(Board::default());
    let start = Instant::now();
    let (done_tx, mut done) = mpsc::channel(N as usize);
    let mut tasks = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let mut seed = [0u8; 32];
        OsRng.fill_bytes(&mut seed); // each participant's own randomness, never shared
        let participant =
            Participant::new(config.clone(), key.clone(), seed).map_err(|e| e.to_string())?;
        let host = Host {
            durable: Durable {
                participant,
                sent: Vec::new(),
            },
            file: dir.join(format!("participant-{}.json", i + 1)),
            board: board.clone(),
        };
        let tx = done_tx.clone();
        tasks.push(tokio::spawn(async move {
            let _ = tx.send((i, host.run(start, true).await)).await;
        }));
    }

    // Kill participant 3 once the dealings are out, resume it from its file 500 ms later.
    tokio::time::sleep(Duration::from_millis(200)).await;
    tasks[2].abort();
    println!("participant 3: killed during the deal phase");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let file = dir.join("participant-3.json");
    let state = std::fs::read(&file).map_err(|e| e.to_string())?;
    let durable: Durable = serde_json::from_slice(&state).map_err(|e| e.to_string())?;
    println!(
        "participant 3: resumed in phase {}",
        durable.participant.phase().as_str()
    );
    let host = Host {
        durable,
        file,
        board: board.clone(),
    };
    let tx = done_tx.clone();
    tasks[2] = tokio::spawn(async move {
        let _ = tx.send((2, host.run(start, false).await)).await;
    });

    let mut outputs = Vec::new();
    while outputs.len() < N as usize {
        let (i, result) = tokio::time::timeout(Duration::from_secs(30), done.recv())
            .await
            .map_err(|_| "the DKG did not finish in 30 s".to_string())?
            .ok_or("participants stopped")?;
        outputs.push((i, result?));
    }
    let key = outputs[0].1.group_public_key;
    for (i, output) in &outputs {
        assert_eq!(
            output.group_public_key,
            key,
            "participant {} disagrees",
            i + 1
        );
        assert_eq!(
            output.qualified.len(),
            N as usize,
            "an honest dealer was disqualified"
        );
    }
    std::fs::remove_dir_all(&dir).map_err(|e| e.to_string())?;
    println!(
        "{N} participants agree on group key {} (t = {T}, QUAL = {:?}); participant 3 crashed and resumed",
        key,
        outputs[0].1.qualified
    );
    Ok(())
}
