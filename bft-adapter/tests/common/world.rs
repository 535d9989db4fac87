// A deterministic host for four engines (mock crypto): per-message delivery policy before
// GST, everything delivered within `latency` after; timers fired in time order. Textually
// included by the integration tests that drive real engines through schedules.

#[path = "app.rs"]
mod app;

const N: u32 = 4;
const A: NodeId = NodeId(0);
const B: NodeId = NodeId(1);
const C: NodeId = NodeId(2);
const Z: NodeId = NodeId(3);

/// A policy's verdict for a message lost before GST.
const LOST: u64 = u64::MAX;

/// Delivery decision for a message sent before GST: deliver after `Some(delay_ms)`, lose it
/// (`Some(LOST)`), or hold it until GST (`None`).
type Policy = Box<dyn FnMut(u64, NodeId, NodeId, &Message) -> Option<u64>>;

struct World {
    /// If set, the absent seat Z answers every next-vote for ⊥ sent to it before GST with its
    /// own signed ⊥ next-vote for the same step (a Byzantine helper for ⊥ quorums).
    echo_bottom: Option<MockCrypto>,
    engines: Vec<Option<Engine>>,
    now: u64,
    gst: u64,
    flushed: bool,
    seq: u64,
    queue: BTreeMap<(u64, u64), (NodeId, NodeId, Vec<u8>)>,
    held: Vec<(NodeId, NodeId, Vec<u8>)>,
    timers: BTreeMap<(NodeId, TimerId), u64>,
    decided: BTreeMap<u32, (Period, ValueId)>,
    period_at_gst: u32,
    policy: Policy,
    /// After GST every message arrives within this many ms.
    latency: u64,
}

impl World {
    fn new(engines: Vec<Option<Engine>>, gst: u64, policy: Policy) -> Self {
        World {
            echo_bottom: None,
            engines,
            now: 0,
            gst,
            flushed: false,
            seq: 0,
            queue: BTreeMap::new(),
            held: Vec::new(),
            timers: BTreeMap::new(),
            decided: BTreeMap::new(),
            period_at_gst: 0,
            policy,
            latency: 10,
        }
    }

    fn send(&mut self, from: NodeId, to: NodeId, bytes: Vec<u8>) {
        if self.engines[to.0 as usize].is_none() {
            if let (Some(crypto), Ok(Message::Vote(v))) = (&self.echo_bottom, codec::decode(&bytes))
            {
                if to == Z
                    && self.now < self.gst
                    && v.step.is_next()
                    && v.value == VoteValue::Bottom
                {
                    let echo = vote(crypto, Z, v.period.0, v.step, VoteValue::Bottom);
                    self.inject(self.now + 10, Z, from, &Message::Vote(echo));
                }
            }
            return;
        }
        let delay = if self.now >= self.gst {
            Some(self.latency)
        } else {
            let message = codec::decode(&bytes).expect("engines send canonical messages");
            (self.policy)(self.now, from, to, &message)
        };
        match delay {
            Some(LOST) => {}
            Some(d) => {
                self.seq += 1;
                self.queue
                    .insert((self.now + d, self.seq), (to, from, bytes));
            }
            None => self.held.push((to, from, bytes)),
        }
    }

    fn handle(&mut self, node: NodeId, input: Input) {
        let Some(engine) = self.engines[node.0 as usize].as_mut() else {
            return;
        };
        let step = engine.handle(Time(self.now), input);
        let height = engine.height();
        let mut follow = Vec::new();
        for action in step.actions {
            match action {
                Action::Broadcast { bytes } => {
                    for j in (0..N).filter(|j| *j != node.0) {
                        self.send(node, NodeId(j), bytes.clone());
                    }
                }
                Action::Send { to, bytes } => self.send(node, to, bytes),
                Action::SetTimer { id, at } => {
                    self.timers.insert((node, id), at.0);
                }
                Action::CancelTimer { id } => {
                    self.timers.remove(&(node, id));
                }
                Action::RequestValue { .. } | Action::ValidateValue { .. } => {
                    follow.extend(app::answer(node, &action));
                }
                Action::Decide { decided } => {
                    let c = decided.certificate;
                    self.decided.entry(node.0).or_insert((c.period, c.value_id));
                }
                _ => {}
            }
        }
        let _ = height;
        for input in follow {
            self.handle(node, input);
        }
    }

    fn honest_decided(&self, honest: &[NodeId]) -> bool {
        honest.iter().all(|n| self.decided.contains_key(&n.0))
    }

    /// Runs events in time order until `until` ms or every node in `honest` decided.
    fn run(&mut self, until: u64, honest: &[NodeId]) {
        loop {
            if self.honest_decided(honest) {
                return;
            }
            if !self.flushed && self.now >= self.gst {
                self.flush();
            }
            let next_message = self.queue.keys().next().map(|k| k.0);
            let next_timer = self
                .timers
                .iter()
                .min_by_key(|(k, at)| (**at, **k))
                .map(|(k, at)| (*at, *k));
            let t = match (next_message, next_timer) {
                (None, None) => return,
                (Some(m), None) => m,
                (None, Some((t, _))) => t,
                (Some(m), Some((t, _))) => m.min(t),
            };
            if !self.flushed && t >= self.gst {
                self.now = self.now.max(self.gst);
                self.flush();
                continue;
            }
            if t > until {
                return;
            }
            self.now = self.now.max(t);
            if next_message == Some(t) {
                let (key, (to, from, bytes)) = self.queue.pop_first().expect("non-empty");
                debug_assert_eq!(key.0, t);
                self.handle(to, Input::Message { from, bytes });
            } else if let Some((_, key)) = next_timer {
                self.timers.remove(&key);
                self.handle(key.0, Input::Timer(key.1));
            }
        }
    }

    /// GST: every held message is delivered.
    fn flush(&mut self) {
        self.flushed = true;
        self.period_at_gst = self
            .engines
            .iter()
            .flatten()
            .filter(|e| !self.decided.contains_key(&e.id().0))
            .map(|e| e.period().0)
            .max()
            .unwrap_or(1);
        for (to, from, bytes) in std::mem::take(&mut self.held) {
            self.seq += 1;
            self.queue
                .insert((self.now + self.latency, self.seq), (to, from, bytes));
        }
    }

    fn inject(&mut self, at: u64, from: NodeId, to: NodeId, message: &Message) {
        self.seq += 1;
        self.queue
            .insert((at, self.seq), (to, from, codec::encode(message)));
    }
}

fn vote(crypto: &MockCrypto, voter: NodeId, p: u32, step: VoteStep, value: VoteValue) -> Vote {
    let message = vote_message(Epoch(0), Height(1), Period(p), step, value);
    Vote {
        epoch: Epoch(0),
        height: Height(1),
        period: Period(p),
        step,
        value,
        voter,
        credential: Vec::new(),
        signature: crypto.adapters(voter).signer.sign(&message).unwrap(),
        beacon_share: Vec::new(),
    }
}
