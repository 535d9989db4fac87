//! The oracles, checked as the run goes (so memory stays bounded however many heights run)
//! and completed at the end. None of them trusts the code it checks:
//!
//! - **Integrity**: each honest node decides heights 1, 2, … in order, once each.
//! - **Agreement**: all honest decisions of a height carry one value (each height's first
//!   decision is kept until every honest node has decided it).
//! - **Validity**: the application accepts every decided value.
//! - **Certificates**: every decided value matches its certificate, the certificate verifies
//!   with the adapter's public verifier against the node's own seed chain, and, with real
//!   crypto, without the adapter's code ([`Independent`], `super::independent`): in threshold
//!   mode as a plain BLS signature under the group public key with `conclave-threshold-sig`
//!   directly; in sampled mode by re-deriving every voter credential with the committee crate's
//!   sortition API on the oracle's own seed chain (each seal a VRF proof), summing the weights
//!   against `⌈T·τ⌉` and checking the aggregate as plain BLS under the listed voters' keys.
//! - **Liveness**: every honest node decides every height, and a height that ends after the
//!   stabilisation time (GST, or the last restart of a crashed node if later) ends within
//!   [`super::LIVENESS_PERIODS`] honest-led periods after the highest period an honest node had
//!   reached at that height at stabilisation (period 1 for heights started later). A period is
//!   honest-led when the best proposer credential of the period (computed from every seat's
//!   sortition, not by the engine) is an honest seat's; a faulty leader can cost its period, so
//!   those are not counted. The bound is in periods, not in time.
//! - **No honest node blamed**: no evidence an honest node reports names an honest seat.
//! - **Accountability**: when agreement breaks, evidence against at least f+1 seats that
//!   [`Evidence::verify`] accepts on its own must come from honest nodes (their engines' reports
//!   and the forensic exchange of their transcripts, [`super::forensics`]); nothing from the
//!   simulator's own view counts. With non-attributable signatures (plain threshold partials)
//!   no evidence verifies, and a fork is reported as unaccountable.

use super::independent::Independent;
use crate::evidence::{Evidence, EvidenceKind};
use crate::traits::{verify_decision_certificate, Verifier};
use crate::types::{Decided, Epoch, NodeId, Seed, ValueId};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// At most this many violation messages are kept (the rest are counted).
const MAX_VIOLATIONS: usize = 64;
/// At most this many pieces of evidence are kept for the report.
const MAX_EVIDENCE: usize = 4_096;

/// The application's validity predicate: (height, value) → valid.
pub(crate) type Validate = Box<dyn Fn(u64, &[u8]) -> bool>;
/// The seat with the best proposer credential of (seed, height, period).
pub(crate) type Leader = Box<dyn Fn(&Seed, u64, u32) -> Option<NodeId>>;

/// Static inputs of the oracles.
pub(crate) struct OracleConfig {
    pub heights: u64,
    pub tolerated: u32,
    pub epoch: Epoch,
    pub honest: BTreeSet<NodeId>,
    pub verifier: Arc<dyn Verifier>,
    pub independent: Independent,
    pub genesis_seed: Seed,
    pub validate: Validate,
    /// The seat with the best proposer credential of (seed, height, period).
    pub leader: Leader,
}

/// The oracles' running state.
pub(crate) struct Oracle {
    config: OracleConfig,
    /// Per honest node: heights decided and the seed of the next one (its own chain).
    chains: BTreeMap<NodeId, (u64, Seed)>,
    /// Per honest node: the next height's seed by the independent check's own seed chain
    /// (sampled mode; empty otherwise).
    independent_seeds: BTreeMap<NodeId, Seed>,
    /// Each height's first decision (value, node, certificate period) and how many honest
    /// nodes decided it.
    first: BTreeMap<u64, (ValueId, NodeId, u32, usize)>,
    /// Heights where agreement broke.
    pub forked: BTreeSet<u64>,
    /// The certificate periods of the two conflicting decisions of each forked height.
    fork_periods: BTreeMap<u64, (u32, u32)>,
    /// Highest period an honest node had reached at each height at stabilisation.
    baseline: Option<BTreeMap<u64, u32>>,
    violations: Vec<String>,
    suppressed: usize,
    evidence: BTreeMap<(NodeId, EvidenceKind, u64), (NodeId, Evidence)>,
    /// Highest period of any honest decision.
    pub max_period: u32,
}

impl Oracle {
    pub fn new(config: OracleConfig) -> Self {
        let chains = config
            .honest
            .iter()
            .map(|n| (*n, (0, config.genesis_seed)))
            .collect();
        let independent_seeds = match config.independent.genesis_seed() {
            Some(seed) => config.honest.iter().map(|n| (*n, seed)).collect(),
            None => BTreeMap::new(),
        };
        Oracle {
            config,
            chains,
            independent_seeds,
            first: BTreeMap::new(),
            forked: BTreeSet::new(),
            fork_periods: BTreeMap::new(),
            baseline: None,
            violations: Vec::new(),
            suppressed: 0,
            evidence: BTreeMap::new(),
            max_period: 0,
        }
    }

    fn violation(&mut self, message: String) {
        if self.violations.len() < MAX_VIOLATIONS {
            self.violations.push(message);
        } else {
            self.suppressed += 1;
        }
    }

    /// Heights every honest node has decided.
    pub fn heights_done(&self) -> u64 {
        self.chains.values().map(|c| c.0).min().unwrap_or(0)
    }

    /// Heights `node` has decided.
    pub fn decided(&self, node: NodeId) -> u64 {
        self.chains.get(&node).map_or(0, |c| c.0)
    }

    /// Stabilisation: `positions` holds every honest node's (height, period).
    pub fn stabilised(&mut self, positions: &[(u64, u32)]) {
        let mut baseline = BTreeMap::new();
        for (h, p) in positions {
            let e = baseline.entry(*h).or_insert(1);
            *e = (*e).max(*p);
        }
        self.baseline = Some(baseline);
    }

    /// An honest node crashed: no liveness bound applies until the next stabilisation.
    pub fn destabilised(&mut self) {
        self.baseline = None;
    }

    /// An honest node decided; `period` is the period it was in at that height (at least the
    /// certificate's). Returns false if the decision is out of order (and not recorded).
    pub fn decide(&mut self, node: NodeId, decided: &Decided, period: u32) -> bool {
        let c = &decided.certificate;
        let h = c.height.0;
        let Some(&(done, seed)) = self.chains.get(&node) else {
            return false;
        };
        if h != done + 1 {
            self.violation(format!(
                "integrity: node {} decided height {h} when {} was next",
                node.0,
                done + 1
            ));
            return false;
        }
        let verifier = self.config.verifier.clone();
        self.chains.insert(node, (h, verifier.next_seed(&seed, c)));
        let period = period.max(c.period.0);
        self.max_period = self.max_period.max(c.period.0);
        if !(self.config.validate)(h, &decided.value) {
            self.violation(format!(
                "validity: node {} decided an invalid value at height {h}",
                node.0
            ));
        }
        let id = verifier.value_id(&decided.value);
        if id != c.value_id
            || c.epoch != self.config.epoch
            || !verify_decision_certificate(verifier.as_ref(), &seed, c)
        {
            self.violation(format!(
                "certificate: node {}'s certificate for height {h} does not verify",
                node.0
            ));
        }
        // The independent check, on its own seed chain where it keeps one (sampled mode).
        let own_seed = self.independent_seeds.get(&node).copied();
        if let Some(own) = own_seed.filter(|s| *s != seed) {
            self.violation(format!(
                "certificate: node {}'s seed of height {h} is {} by the adapter but {} by the \
                 independent seed chain",
                node.0,
                hex::encode(&seed.0[..6]),
                hex::encode(&own.0[..6])
            ));
        }
        match self.config.independent.check(own_seed.as_ref(), c) {
            Ok(next) => {
                if let Some(next) = next {
                    self.independent_seeds.insert(node, next);
                }
            }
            Err(reason) => {
                // Keep the chain going on the adapter's seed, so one bad height is one report.
                self.independent_seeds
                    .insert(node, verifier.next_seed(&seed, c));
                self.violation(format!(
                    "certificate: node {}'s certificate for height {h} fails the independent \
                     check: {reason}",
                    node.0
                ));
            }
        }
        if let Some(from) = self
            .baseline
            .as_ref()
            .map(|b| b.get(&h).copied().unwrap_or(1))
        {
            // Periods wholly after stabilisation that an honest proposer led, before the one
            // in which this node decided.
            let honest_led = (from + 1..period)
                .filter(|q| {
                    (self.config.leader)(&seed, h, *q)
                        .is_some_and(|l| self.config.honest.contains(&l))
                })
                .count() as u32;
            if honest_led > super::LIVENESS_PERIODS {
                self.violation(format!(
                    "liveness: node {} decided height {h} in period {period}, after {honest_led} \
                     honest-led periods since period {from} at stabilisation (bound {})",
                    node.0,
                    super::LIVENESS_PERIODS
                ));
            }
        }
        let honest = self.config.honest.len();
        let entry = self.first.entry(h).or_insert((id, node, c.period.0, 0));
        entry.3 += 1;
        let (first_id, first_node, first_period, count) = *entry;
        if first_id != id && self.forked.insert(h) {
            self.fork_periods.insert(h, (first_period, c.period.0));
            self.violation(format!(
                "agreement: height {h} decided differently: node {} {} vs node {} {}",
                first_node.0,
                hex::encode(&first_id.0[..6]),
                node.0,
                hex::encode(&id.0[..6])
            ));
        }
        if count >= honest {
            self.first.remove(&h);
        }
        true
    }

    /// Evidence an honest node's engine (or host) reported.
    pub fn reported(&mut self, reporter: NodeId, evidence: Evidence) {
        if self.config.honest.contains(&evidence.culprit) {
            self.violation(format!(
                "blame: honest node {} reported {:?} evidence against honest node {} at height {}",
                reporter.0, evidence.kind, evidence.culprit.0, evidence.height.0
            ));
        }
        if self.evidence.len() < MAX_EVIDENCE {
            self.evidence
                .entry((evidence.culprit, evidence.kind, evidence.height.0))
                .or_insert((reporter, evidence));
        }
    }

    /// The forensic exchange of a height that did not fork: evidence that verifies and names
    /// an honest seat is a framing violation (the rest proves nothing new and is dropped).
    pub fn audit(&mut self, found: Vec<Evidence>) {
        let verifier = self.config.verifier.clone();
        for e in found {
            if self.config.honest.contains(&e.culprit)
                && e.verify(self.config.epoch, verifier.as_ref()).is_ok()
            {
                self.violation(format!(
                    "framing: evidence that verifies names honest node {} ({:?} at height {})",
                    e.culprit.0, e.kind, e.height.0
                ));
            }
        }
    }

    /// Completes the checks; `forensic` is what the honest nodes' transcripts of the forked
    /// heights yielded. Returns the violations and the evidence for the report.
    pub fn finish(
        mut self,
        forensic: Vec<Evidence>,
        stopped_in: &BTreeMap<NodeId, (u64, u32)>,
    ) -> (Vec<String>, Vec<Evidence>) {
        for (node, (done, _)) in self.chains.clone() {
            if done < self.config.heights {
                let (h, p) = stopped_in.get(&node).copied().unwrap_or((done + 1, 0));
                self.violation(format!(
                    "liveness: node {} did not decide height {} (stopped at height {h}, period {p})",
                    node.0,
                    done + 1
                ));
            }
        }
        for e in forensic {
            if self.evidence.len() < MAX_EVIDENCE {
                self.evidence
                    .entry((e.culprit, e.kind, e.height.0))
                    .or_insert((NodeId(u32::MAX), e));
            }
        }
        let verifier = self.config.verifier.clone();
        let mut proven = BTreeSet::new();
        let mut framed = Vec::new();
        for (_, e) in self.evidence.values() {
            if e.verify(self.config.epoch, verifier.as_ref()).is_ok() {
                if self.config.honest.contains(&e.culprit) {
                    framed.push(e.culprit);
                }
                proven.insert(e.culprit);
            }
        }
        for culprit in framed {
            self.violation(format!(
                "framing: evidence that verifies names honest node {}",
                culprit.0
            ));
        }
        if !self.forked.is_empty() && proven.len() <= self.config.tolerated as usize {
            // Forks between certificates of different periods need the lock argument (see
            // `EvidenceKind::LockViolation`), which is provable only in part: named apart.
            let cross: Vec<String> = self
                .fork_periods
                .iter()
                .filter(|(_, (a, b))| a != b)
                .map(|(h, (a, b))| format!("height {h}: periods {a} and {b}"))
                .collect();
            self.violation(format!(
                "accountability: safety broke but only {} culprits are proven by evidence that \
                 verifies{}{}",
                proven.len(),
                if verifier.attributable() {
                    ""
                } else {
                    " (the signatures are not attributable)"
                },
                if cross.is_empty() {
                    String::new()
                } else {
                    format!(" (unaccountable: cross-period, {})", cross.join(", "))
                }
            ));
        }
        if self.suppressed > 0 {
            self.violations
                .push(format!("... and {} more violations", self.suppressed));
        }
        let evidence = self.evidence.into_values().map(|(_, e)| e).collect();
        (self.violations, evidence)
    }
}
