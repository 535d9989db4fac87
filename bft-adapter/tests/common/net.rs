//! A deterministic host for `n` real engines over any adapters: every message between two
//! online nodes arrives after `latency` ms (unless a `filter` drops it), timers fire in time
//! order, values are `value-<height>-<seat>` and valid iff they start with `value-`. A node
//! that is offline neither sends, receives nor fires timers. Used as a module
//! (`#[path = "common/net.rs"] mod net;`) by the sync, relay and flood tests.

#![allow(dead_code)]

#[path = "app.rs"]
mod app;

use conclave_bft::evidence::Evidence;
use conclave_bft::types::{Decided, Height, NodeId, Time};
use conclave_bft::{Action, Engine, Input, TimerId};
use std::collections::BTreeMap;

/// Decides whether a message `from → to` is delivered (`true`) or lost.
pub type Filter = Box<dyn FnMut(NodeId, NodeId, &[u8]) -> bool>;

pub struct Net {
    pub engines: Vec<Engine>,
    pub online: Vec<bool>,
    pub now: u64,
    pub latency: u64,
    seq: u64,
    queue: BTreeMap<(u64, u64), (NodeId, NodeId, Vec<u8>)>,
    timers: BTreeMap<(u32, TimerId), u64>,
    /// Every decision of each node, in order.
    pub decisions: Vec<Vec<Decided>>,
    /// Every action of each node's last [`Net::handle`] call chain (for assertions).
    pub last_actions: Vec<Vec<Action>>,
    pub filter: Filter,
    /// Messages delivered to each node.
    pub delivered: Vec<u64>,
    /// Every piece of evidence each node reported, in order.
    pub evidence: Vec<Vec<Evidence>>,
}

impl Net {
    pub fn new(engines: Vec<Engine>) -> Self {
        let n = engines.len();
        Net {
            engines,
            online: vec![true; n],
            now: 0,
            latency: 10,
            seq: 0,
            queue: BTreeMap::new(),
            timers: BTreeMap::new(),
            decisions: vec![Vec::new(); n],
            last_actions: vec![Vec::new(); n],
            filter: Box::new(|_, _, _| true),
            delivered: vec![0; n],
            evidence: vec![Vec::new(); n],
        }
    }

    pub fn start(&mut self) {
        for i in 0..self.engines.len() {
            self.handle(NodeId(i as u32), Input::Start);
        }
    }

    fn send(&mut self, from: NodeId, to: NodeId, bytes: Vec<u8>) {
        if !self.online[from.0 as usize] || !self.online[to.0 as usize] {
            return;
        }
        if !(self.filter)(from, to, &bytes) {
            return;
        }
        self.seq += 1;
        self.queue
            .insert((self.now + self.latency, self.seq), (to, from, bytes));
    }

    /// Queues `bytes` from `from` to `to` at time `at`, bypassing the filter.
    pub fn inject(&mut self, at: u64, from: NodeId, to: NodeId, bytes: Vec<u8>) {
        self.seq += 1;
        self.queue.insert((at, self.seq), (to, from, bytes));
    }

    /// Feeds one input and carries out the actions (answering the application's requests at
    /// once); returns every action produced, follow-ups included.
    pub fn handle(&mut self, node: NodeId, input: Input) -> Vec<Action> {
        let i = node.0 as usize;
        let step = self.engines[i].handle(Time(self.now), input);
        let mut all = Vec::new();
        let mut follow = Vec::new();
        for action in step.actions {
            all.push(action.clone());
            match action {
                Action::Broadcast { bytes } => {
                    for j in (0..self.engines.len() as u32).filter(|j| *j != node.0) {
                        self.send(node, NodeId(j), bytes.clone());
                    }
                }
                Action::Send { to, bytes } => self.send(node, to, bytes),
                Action::SetTimer { id, at } => {
                    self.timers.insert((node.0, id), at.0);
                }
                Action::CancelTimer { id } => {
                    self.timers.remove(&(node.0, id));
                }
                Action::RequestValue { .. } | Action::ValidateValue { .. } => {
                    follow.extend(app::answer(node, &action));
                }
                Action::Decide { decided } => self.decisions[i].push(decided),
                Action::Evidence(e) => self.evidence[i].push(e),
                _ => {}
            }
        }
        for input in follow {
            all.extend(self.handle(node, input));
        }
        self.last_actions[i] = all.clone();
        all
    }

    /// Drops every queued message from or to `node` and every timer of `node`.
    pub fn disconnect(&mut self, node: NodeId) {
        self.online[node.0 as usize] = false;
        self.queue
            .retain(|_, (to, from, _)| *to != node && *from != node);
        self.timers.retain(|(n, _), _| *n != node.0);
    }

    /// Brings `node` back online and restarts its timers ([`Input::Start`]).
    pub fn reconnect(&mut self, node: NodeId) -> Vec<Action> {
        self.online[node.0 as usize] = true;
        self.handle(node, Input::Start)
    }

    /// Runs events in time order until `done(self)` holds or time passes `until` (ms);
    /// returns whether `done` held.
    pub fn run_until(&mut self, until: u64, mut done: impl FnMut(&Net) -> bool) -> bool {
        loop {
            if done(self) {
                return true;
            }
            let next_message = self.queue.keys().next().map(|k| k.0);
            let next_timer = self
                .timers
                .iter()
                .min_by_key(|(k, at)| (**at, **k))
                .map(|(k, at)| (*at, *k));
            let t = match (next_message, next_timer) {
                (None, None) => return false,
                (Some(m), None) => m,
                (None, Some((t, _))) => t,
                (Some(m), Some((t, _))) => m.min(t),
            };
            if t > until {
                return false;
            }
            self.now = self.now.max(t);
            if next_message == Some(t) {
                let (_, (to, from, bytes)) = self.queue.pop_first().expect("non-empty");
                if self.online[to.0 as usize] {
                    self.delivered[to.0 as usize] += 1;
                    self.handle(to, Input::Message { from, bytes });
                }
            } else if let Some((_, key)) = next_timer {
                self.timers.remove(&key);
                if self.online[key.0 as usize] {
                    self.handle(NodeId(key.0), Input::Timer(key.1));
                }
            }
        }
    }

    /// The height each of `nodes` has decided up to (all of them).
    pub fn all_decided(&self, nodes: &[NodeId], height: u64) -> bool {
        nodes
            .iter()
            .all(|n| self.decisions[n.0 as usize].len() as u64 >= height)
    }

    pub fn height(&self, node: NodeId) -> Height {
        self.engines[node.0 as usize].height()
    }
}
