//! Model-based tests: traces of the Quint model of the engine (`spec/bastar.qnt`, exported
//! as ITF JSON by `quint run --out-itf`) replayed into real [`Engine`]s with mock crypto.
//!
//! Every transition of a trace is one model action: a vote, proposal, bundle or certificate
//! reaching one honest node, the f Byzantine seats' votes or a Byzantine proposal reaching it,
//! or one of its timers firing. The driver turns it into the engine inputs it stands for
//! (honest messages are the very bytes the engines broadcast; Byzantine votes, proposals,
//! bundles and certificates are signed here with the Byzantine seats' keys and combined from
//! real signatures), then checks, for every honest node, that the engine's period, decision,
//! own votes and own proposals are exactly the model's. The model is independent of the engine
//! (it was written from the protocol rules), so a mismatch is a bug in one of them.
//!
//! The corpus in `spec/traces/` (gzipped ITF) is checked in, so this runs on stable without Quint;
//! `spec/generate-traces.sh` makes a fresh batch when Quint is installed (replayed with
//! `CONCLAVE_TRACES_DIR`).

#[path = "common/sortition.rs"]
mod sortition;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use conclave_bft::codec::{decode, encode};
use conclave_bft::mock::MockCrypto;
use conclave_bft::traits::{Share, Sortition, Verifier};
use conclave_bft::types::{
    beacon_message, proposal_message, vote_message, Bundle, Certificate, Decided, Epoch, Height,
    Message, NodeId, Period, Priority, Proposal, Time, ValueId, Vote, VoteStep, VoteValue,
};
use conclave_bft::{Action, Adapters, Config, Engine, Input, TimerId};
use serde_json::Value;
use sortition::Hooked;

const EPOCH: Epoch = Epoch(0);
const H: Height = Height(1);
const BAD: i64 = 3;

fn credential(node: NodeId, period: Period) -> Vec<u8> {
    let mut c = node.0.to_be_bytes().to_vec();
    c.extend(period.0.to_be_bytes());
    c
}

/// The model's sortition: seat j in period p has proposer rank (j + p) mod n, lower wins;
/// every seat votes with weight 1 and an empty credential (nothing of `inner` is used).
fn ranked(inner: Arc<dyn Sortition>, id: NodeId, n: u32) -> Hooked {
    use conclave_bft::codec::FieldSize;
    Hooked::new(inner)
        .proposer_credential(move |_, _, _, period| Some(credential(id, period)))
        .verify_proposer(move |_, node, _, _, period, credential_bytes| {
            if node.0 >= n || credential_bytes != credential(node, period).as_slice() {
                return None;
            }
            let rank = (u64::from(node.0) + u64::from(period.0)) % u64::from(n);
            let mut priority = [0u8; 32];
            priority[..8].copy_from_slice(&rank.to_be_bytes());
            Some(Priority(priority))
        })
        .voter_credential(|_, _, _, _, _| Some(Vec::new()))
        .verify_voter(move |_, node, _, _, _, _, credential_bytes| {
            (node.0 < n && credential_bytes.is_empty()).then_some(1)
        })
        .sizes(conclave_bft::traits::CredentialSizes {
            proposer: FieldSize::Exact(8),
            voter: FieldSize::Exact(0),
        })
}

// ------------------------------------------------------------------ the model's state (ITF)

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct MVote {
    src: i64,
    p: i64,
    s: i64,
    x: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct MProp {
    src: i64,
    p: i64,
    x: i64,
}

type Key = (i64, i64, i64);

#[derive(Clone, Debug, PartialEq, Eq)]
struct MNode {
    period: i64,
    filter_exp: bool,
    next_exp: bool,
    k: i64,
    proposed_in: BTreeSet<i64>,
    decided: i64,
    votes: BTreeSet<MVote>,
    byz: BTreeSet<Key>,
    bundles: BTreeSet<Key>,
    props: BTreeSet<MProp>,
}

struct MState {
    nodes: BTreeMap<i64, MNode>,
    last_action: String,
}

fn int(v: &Value) -> i64 {
    match v {
        Value::Object(o) => o["#bigint"].as_str().unwrap().parse().unwrap(),
        Value::Number(n) => n.as_i64().unwrap(),
        other => panic!("not an ITF integer: {other}"),
    }
}

fn set(v: &Value) -> &Vec<Value> {
    v["#set"].as_array().expect("ITF set")
}

fn tuple(v: &Value) -> Key {
    let t = v["#tup"].as_array().expect("ITF tuple");
    (int(&t[0]), int(&t[1]), int(&t[2]))
}

/// The variable `name` of a state, whatever module prefix the trace gives it.
fn var<'a>(state: &'a Value, name: &str) -> &'a Value {
    state
        .as_object()
        .unwrap()
        .iter()
        .find(|(k, _)| k.rsplit("::").next() == Some(name))
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no variable {name}"))
}

fn parse_state(state: &Value) -> MState {
    let mut nodes = BTreeMap::new();
    for entry in var(state, "nodes")["#map"].as_array().unwrap() {
        let (i, n) = (int(&entry[0]), &entry[1]);
        nodes.insert(
            i,
            MNode {
                period: int(&n["period"]),
                filter_exp: n["filterExp"].as_bool().unwrap(),
                next_exp: n["nextExp"].as_bool().unwrap(),
                k: int(&n["k"]),
                proposed_in: set(&n["proposedIn"]).iter().map(int).collect(),
                decided: int(&n["decided"]),
                votes: set(&n["votes"])
                    .iter()
                    .map(|v| MVote {
                        src: int(&v["src"]),
                        p: int(&v["p"]),
                        s: int(&v["s"]),
                        x: int(&v["x"]),
                    })
                    .collect(),
                byz: set(&n["byz"]).iter().map(tuple).collect(),
                bundles: set(&n["bundles"]).iter().map(tuple).collect(),
                props: set(&n["props"])
                    .iter()
                    .map(|v| MProp {
                        src: int(&v["src"]),
                        p: int(&v["p"]),
                        x: int(&v["x"]),
                    })
                    .collect(),
            },
        );
    }
    MState {
        nodes,
        last_action: var(state, "lastAction").as_str().unwrap().to_string(),
    }
}

// ------------------------------------------------------------------ the driver

struct Driver {
    n: u32,
    f: u32,
    crypto: MockCrypto,
    engines: BTreeMap<i64, Engine>,
    /// Honest votes broadcast so far, by (src, p, step, x).
    sent_votes: BTreeMap<MVote, Vote>,
    /// Honest proposals broadcast so far, by (src, p) (and the value).
    sent_props: BTreeMap<(i64, i64), (i64, Vec<u8>)>,
    decided: BTreeMap<i64, ValueId>,
    now: u64,
}

fn value_bytes(x: i64) -> Vec<u8> {
    match x {
        BAD => b"model value BAD (the application rejects it)".to_vec(),
        x => format!("model value {x}").into_bytes(),
    }
}

fn step_of(s: i64) -> VoteStep {
    VoteStep::from_code(u8::try_from(s).unwrap()).expect("model step code")
}

impl Driver {
    fn new(n_honest: u32, f: u32) -> Self {
        let n = n_honest + f;
        let crypto = MockCrypto::new(n, 7);
        let mut driver = Driver {
            n,
            f,
            crypto,
            engines: BTreeMap::new(),
            sent_votes: BTreeMap::new(),
            sent_props: BTreeMap::new(),
            decided: BTreeMap::new(),
            now: 0,
        };
        for i in 0..n_honest {
            let mut config = Config::new(NodeId(i), EPOCH);
            config.period_window = 64;
            let engine = Engine::new(
                config,
                driver.adapters(NodeId(i)),
                driver.crypto.genesis_seed(),
            );
            driver.engines.insert(i64::from(i), engine);
        }
        for i in 0..i64::from(n_honest) {
            driver.feed(i, Input::Start);
        }
        driver
    }

    fn adapters(&self, id: NodeId) -> Adapters {
        let mock = self.crypto.adapters(id);
        Adapters {
            sortition: Arc::new(ranked(mock.sortition.clone(), id, self.n)),
            ..mock
        }
    }

    fn verifier(&self) -> Arc<dyn Verifier> {
        self.crypto.adapters(NodeId(0)).verifier
    }

    fn x_of(&self, value: VoteValue) -> i64 {
        match value {
            VoteValue::Bottom => 0,
            VoteValue::Value(id) => (1..=BAD)
                .find(|x| self.verifier().value_id(&value_bytes(*x)) == id)
                .expect("a model value"),
        }
    }

    fn vote_value(&self, x: i64) -> VoteValue {
        if x == 0 {
            VoteValue::Bottom
        } else {
            VoteValue::Value(self.verifier().value_id(&value_bytes(x)))
        }
    }

    /// Feeds one input and carries out the engine's actions (answers value requests and
    /// validations at once; records broadcasts and decisions; timers are the model's).
    fn feed(&mut self, i: i64, input: Input) {
        self.now += 1;
        let mut queue = vec![input];
        while let Some(input) = queue.pop() {
            let step = self
                .engines
                .get_mut(&i)
                .unwrap()
                .handle(Time(self.now), input);
            for action in step.actions {
                match action {
                    Action::RequestValue { height } => queue.push(Input::ProposedValue {
                        height,
                        value: value_bytes(1 + (i % 2)),
                    }),
                    Action::ValidateValue {
                        height, value_id, ..
                    } => queue.push(Input::ValueValidated {
                        height,
                        value_id,
                        valid: value_id != self.verifier().value_id(&value_bytes(BAD)),
                    }),
                    Action::Broadcast { bytes } | Action::Send { bytes, .. } => {
                        self.record(i, &bytes)
                    }
                    Action::Decide { decided } => {
                        self.decided.insert(i, decided.certificate.value_id);
                    }
                    _ => {}
                }
            }
        }
    }

    fn record(&mut self, i: i64, bytes: &[u8]) {
        match decode(bytes).expect("engines send what they can decode") {
            Message::Vote(v) if i64::from(v.voter.0) == i => {
                let key = MVote {
                    src: i,
                    p: i64::from(v.period.0),
                    s: i64::from(v.step.code()),
                    x: self.x_of(v.value),
                };
                self.sent_votes.entry(key).or_insert(v);
            }
            Message::Proposal(p) if i64::from(p.proposer.0) == i => {
                let x = self.x_of(VoteValue::Value(self.verifier().value_id(&p.value)));
                self.sent_props
                    .entry((i, i64::from(p.period.0)))
                    .or_insert((x, bytes.to_vec()));
            }
            _ => {} // bundles, decisions, relayed proposals, sync requests: the model's own
        }
    }

    fn byzantine(&self) -> Vec<NodeId> {
        (self.n - self.f..self.n).map(NodeId).collect()
    }

    fn byzantine_vote(&self, seat: NodeId, (p, s, x): Key) -> Vote {
        let (period, step, value) = (Period(p as u32), step_of(s), self.vote_value(x));
        let signer = self.crypto.adapters(seat).signer;
        Vote {
            epoch: EPOCH,
            height: H,
            period,
            step,
            value,
            voter: seat,
            credential: Vec::new(),
            signature: signer
                .sign(&vote_message(EPOCH, H, period, step, value))
                .unwrap(),
            beacon_share: if step == VoteStep::Cert {
                signer.sign(&beacon_message(EPOCH, H)).unwrap()
            } else {
                Vec::new()
            },
        }
    }

    /// 2f+1 real signatures on the key's vote: the honest ones sent, then Byzantine ones.
    fn quorum_votes(&self, key: Key) -> Vec<Vote> {
        let quorum = (2 * self.f + 1) as usize;
        let mut votes: Vec<Vote> = self
            .sent_votes
            .iter()
            .filter(|(k, _)| (k.p, k.s, k.x) == key)
            .map(|(_, v)| v.clone())
            .collect();
        for seat in self.byzantine() {
            votes.push(self.byzantine_vote(seat, key));
        }
        votes.truncate(quorum);
        assert_eq!(
            votes.len(),
            quorum,
            "the model delivered a quorum that cannot exist"
        );
        votes
    }

    fn bundle_message(&self, key: Key) -> Vec<u8> {
        let votes = self.quorum_votes(key);
        let verifier = self.verifier();
        let shares = |f: fn(&Vote) -> &[u8]| -> Vec<Share<'_>> {
            votes
                .iter()
                .map(|v| Share {
                    signer: v.voter,
                    credential: &v.credential,
                    signature: f(v),
                })
                .collect()
        };
        let (period, step, value) = (Period(key.0 as u32), step_of(key.1), self.vote_value(key.2));
        if step == VoteStep::Cert {
            let VoteValue::Value(value_id) = value else {
                panic!("a certificate for ⊥")
            };
            let mut certificate = Certificate {
                epoch: EPOCH,
                height: H,
                period,
                value_id,
                signature: Vec::new(),
                beacon: Vec::new(),
                seal: Vec::new(),
            };
            certificate.signature = verifier
                .combine(&certificate.message(), &shares(|v| &v.signature))
                .unwrap();
            certificate.beacon = verifier
                .combine_beacon(
                    &certificate.beacon_message(),
                    period,
                    &shares(|v| &v.beacon_share),
                )
                .unwrap();
            encode(&Message::Decided(Decided {
                certificate,
                value: value_bytes(key.2),
            }))
        } else {
            let mut bundle = Bundle {
                epoch: EPOCH,
                height: H,
                period,
                step,
                value,
                signature: Vec::new(),
            };
            bundle.signature = verifier
                .combine(&bundle.message(), &shares(|v| &v.signature))
                .unwrap();
            encode(&Message::Bundle(bundle))
        }
    }

    fn byzantine_proposal(&self, prop: &MProp) -> Vec<u8> {
        let seat = NodeId(prop.src as u32);
        let period = Period(prop.p as u32);
        let value = value_bytes(prop.x);
        let value_id = self.verifier().value_id(&value);
        let signature = self
            .crypto
            .adapters(seat)
            .signer
            .sign(&proposal_message(EPOCH, H, period, value_id))
            .unwrap();
        encode(&Message::Proposal(Proposal {
            epoch: EPOCH,
            height: H,
            period,
            proposer: seat,
            credential: credential(seat, period),
            value,
            signature,
            seal: Vec::new(),
        }))
    }

    fn message(&mut self, i: i64, from: NodeId, bytes: Vec<u8>) {
        self.feed(i, Input::Message { from, bytes });
    }

    /// Carries out the model's transition `before → after` for every honest node.
    fn apply(&mut self, before: &MState, after: &MState) {
        assert!(
            !matches!(after.last_action.as_str(), "flush" | "fireAll"),
            "batched actions are for scripted runs, not for replay"
        );
        let timer = after.last_action == "timer";
        for (&i, b) in &before.nodes {
            let a = &after.nodes[&i];
            if timer {
                // The one node that changed fired its next timer in local order.
                if a != b {
                    let (h, p) = (H, Period(b.period as u32));
                    let id = if !b.filter_exp {
                        TimerId::Filter(h, p)
                    } else if !b.next_exp {
                        TimerId::Next(h, p)
                    } else {
                        TimerId::NextK(h, p, u8::try_from(b.k + 1).unwrap())
                    };
                    self.feed(i, Input::Timer(id));
                }
                continue;
            }
            for prop in a.props.difference(&b.props) {
                if prop.src == i {
                    continue; // its own
                }
                let bytes = if (prop.src as u32) < self.n - self.f {
                    let (x, bytes) = self.sent_props[&(prop.src, prop.p)].clone();
                    assert_eq!(
                        x, prop.x,
                        "the model's honest proposal differs from the engine's"
                    );
                    bytes
                } else {
                    self.byzantine_proposal(prop)
                };
                self.message(i, NodeId(prop.src as u32), bytes);
            }
            for vote in a.votes.difference(&b.votes) {
                if vote.src == i {
                    continue;
                }
                let v = self
                    .sent_votes
                    .get(vote)
                    .unwrap_or_else(|| panic!("model delivers {vote:?}, which no engine sent"))
                    .clone();
                self.message(i, v.voter, encode(&Message::Vote(v)));
            }
            for key in a.byz.difference(&b.byz) {
                for seat in self.byzantine() {
                    let v = self.byzantine_vote(seat, *key);
                    self.message(i, seat, encode(&Message::Vote(v)));
                }
            }
            for key in a.bundles.difference(&b.bundles) {
                // A bundle or certificate is self-verifying: any seat may carry it. The
                // model's adversary or an honest forwarder — the first Byzantine seat here.
                let bytes = self.bundle_message(*key);
                self.message(
                    i,
                    self.byzantine().first().copied().unwrap_or(NodeId(0)),
                    bytes,
                );
            }
        }
    }

    /// The engines' observable state against the model's.
    fn check(&self, state: &MState, trace: &Path, index: usize) {
        for (&i, m) in &state.nodes {
            let engine = &self.engines[&i];
            let at = format!(
                "{} state {index} ({}), node {i}",
                trace.display(),
                state.last_action
            );
            let decided = self
                .decided
                .get(&i)
                .map(|id| self.x_of(VoteValue::Value(*id)));
            assert_eq!(decided.unwrap_or(0), m.decided, "{at}: decision");
            let own: BTreeSet<MVote> = self
                .sent_votes
                .keys()
                .filter(|v| v.src == i)
                .cloned()
                .collect();
            let model_own: BTreeSet<MVote> =
                m.votes.iter().filter(|v| v.src == i).cloned().collect();
            assert_eq!(own, model_own, "{at}: own votes");
            let props: BTreeSet<i64> = self
                .sent_props
                .keys()
                .filter(|(src, _)| *src == i)
                .map(|(_, p)| *p)
                .collect();
            assert_eq!(props, m.proposed_in, "{at}: own proposals");
            if m.decided == 0 {
                assert_eq!(i64::from(engine.period().0), m.period, "{at}: period");
                assert_eq!(engine.height(), H, "{at}: height");
            } else {
                assert_eq!(
                    engine.height(),
                    Height(2),
                    "{at}: height after the decision"
                );
            }
        }
    }
}

/// The checked-in corpus, or the directory `CONCLAVE_TRACES_DIR` names (a fresh batch from
/// `spec/generate-traces.sh SEED DIR`, as `.ci/run` makes when Quint is installed).
fn traces() -> Vec<PathBuf> {
    let dir = std::env::var_os("CONCLAVE_TRACES_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/traces"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".itf.json.gz"))
        .collect();
    files.sort();
    files
}

fn read_trace(path: &Path) -> Value {
    let file = std::fs::File::open(path).unwrap();
    serde_json::from_reader(flate2::read::GzDecoder::new(std::io::BufReader::new(file)))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn replay(path: &Path) -> usize {
    let json = read_trace(path);
    let states: Vec<MState> = json["states"]
        .as_array()
        .unwrap()
        .iter()
        .map(parse_state)
        .collect();
    let n_honest = states[0].nodes.len() as u32;
    let f = if n_honest == 3 { 1 } else { 2 };
    let mut driver = Driver::new(n_honest, f);
    driver.check(&states[0], path, 0);
    for (index, pair) in states.windows(2).enumerate() {
        driver.apply(&pair[0], &pair[1]);
        driver.check(&pair[1], path, index + 1);
    }
    states.len()
}

#[test]
fn quint_traces_replay_on_the_engine() {
    let files = traces();
    let corpus = std::env::var_os("CONCLAVE_TRACES_DIR").is_none();
    assert!(!files.is_empty(), "no traces");
    assert!(
        !corpus || files.len() >= 10,
        "the checked-in corpus is missing"
    );
    let mut states = 0;
    let mut decided = 0;
    for file in &files {
        states += replay(file);
        let json = read_trace(file);
        let last = parse_state(json["states"].as_array().unwrap().last().unwrap());
        decided += last.nodes.values().filter(|n| n.decided != 0).count();
    }
    eprintln!(
        "{} traces, {states} states replayed, {decided} decisions",
        files.len()
    );
    assert!(
        decided > 0,
        "no trace of the corpus reaches a decision: it exercises too little"
    );
}
