//! The epoch simulator: several epochs of the real engine (threshold mode, BLS12-381 min-pk),
//! each under its own committee, with committee changes and the key's resharing carried in the
//! blocks the engines decide.
//!
//! Each epoch is one [`run_simulation_with`] of `E` heights (network model, adversaries, crashes
//! and oracles as usual) whose nodes run a [`SimApplication`]: proposers build blocks from a
//! mempool (faulty proposers build empty blocks: censorship), validators accept well-formed
//! blocks, and every decided block is applied in height order to the chain's
//! [`Registry`] (committee-change transactions) and to every validator's
//! [`LogDriver`] (the resharing's dealings, complaints and justifications). At the snapshot
//! height the registry freezes the changes and each validator of the old or the new committee
//! starts its participant of the resharing; its three rounds end at the epoch's boundary. The
//! next epoch's engines start with the new committee, the new shares and the sortition seed
//! [`epoch_seed`] of the boundary block's beacon; validators that left run no engine any more.
//! A resharing that fails keeps the old committee and its shares for another epoch.
//!
//! Byzantine validators: the faulty seats of an epoch's consensus (up to f of its committee)
//! also misbehave in that epoch's resharing as old holders (bad shares, silence, wrong
//! justifications, in turn), and one joining validator complains falsely when the new
//! committee's bound allows it. Oracles, besides the per-epoch ones of the simulator: every
//! certificate of every epoch verifies under the genesis group key with
//! `conclave-threshold-sig` directly (not through the adapter), every honest validator reaches
//! the same resharing result and keeps the group key, no honest validator is disqualified or
//! named by evidence, and the registry rejects the invalid committee transactions the
//! simulator also submits (a forged leave, a duplicate join, a replay of the previous epoch's
//! leave).

use super::{
    faulty_seats, run_simulation_with, AdversaryKind, CryptoProvider, CryptoSetup, Mode, SimApp,
    SimApplication, SimConfig, SimError, SimOptions,
};
use crate::adapter::{ThresholdSigner, ThresholdVerifier, VrfRoster, VrfSortition};
use crate::engine::Adapters;
use crate::epoch::{
    committee_of, epoch_seed, threshold_degree, CommitteeTx, EpochParams, Registry,
    ValidatorSecrets,
};
use crate::types::{Decided, NodeId, Seed};
use conclave_dkg::log::{resharing_session, Envelope, LogDriver, LogOutcome};
use conclave_dkg::sim::{run_parties, set_behaviour, Behaviour, SimParty};
use conclave_dkg::{Committee, DkgConfig, FaultKind, Participant};
use conclave_threshold_sig::{
    standard_dst, Ciphersuite, Commitment, MinPk, PublicKey, Scheme, SecretShare, Signature,
};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

type V = MinPk;

/// The chain id of simulated chains (it enters committee transactions and resharing sessions).
pub const SIM_CHAIN: &[u8] = b"conclave-sim-epochs";
const MAX_BLOCK_TXS: usize = 1024;
const MAX_TX_BYTES: usize = 1 << 20;

/// One committee change between two epochs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    /// Validators that join.
    pub join: u32,
    /// Validators that leave (the lowest ids of the active set).
    pub leave: u32,
}

/// Parameters of an epoch simulation. Non-exhaustive: start from [`EpochSimConfig::new`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EpochSimConfig {
    /// Genesis validators.
    pub validators: u32,
    /// Epochs to run.
    pub epochs: u32,
    /// Blocks per epoch `E`.
    pub length: u64,
    /// Blocks per resharing round `W` (`3W < E`).
    pub window: u64,
    /// RNG seed.
    pub seed: u64,
    /// What faulty seats do in consensus.
    pub adversary: AdversaryKind,
    /// Make f = ⌊(n−1)/3⌋ seats of every committee faulty (else none).
    pub byzantine: bool,
    /// The change at each boundary (boundary `k` uses `plan[k % len]`; empty: none).
    pub plan: Vec<Transition>,
    /// In this epoch an honest engine crashes and restarts, and an honest validator's resharing
    /// driver is restored from its persisted (serialized) state in the middle of the rounds.
    pub crash_epoch: Option<u32>,
    /// Make this epoch's resharing fail: enough honest old holders are offline in it that fewer
    /// than `t_old + 1` qualify.
    pub fail_epoch: Option<u32>,
    /// Base one-way latency (ms).
    pub latency_ms: u64,
    /// Jitter (ms).
    pub jitter_ms: u64,
}

impl EpochSimConfig {
    /// Defaults: 4 validators, `epochs` epochs of 20 blocks, W = 4, Byzantine committees, the
    /// plan join 1, join 3, leave 2, leave 1 (n: 4 → 5 → 8 → 6 → 5 → …, t: 2 → 3 → 5 → 3 → 3).
    pub fn new(epochs: u32) -> Self {
        EpochSimConfig {
            validators: 4,
            epochs,
            length: 20,
            window: 4,
            seed: 0,
            adversary: AdversaryKind::Mixed,
            byzantine: true,
            plan: vec![
                Transition { join: 1, leave: 0 },
                Transition { join: 3, leave: 0 },
                Transition { join: 0, leave: 2 },
                Transition { join: 0, leave: 1 },
            ],
            crash_epoch: None,
            fail_epoch: None,
            latency_ms: 20,
            jitter_ms: 10,
        }
    }
}

/// The resharing at the end of an epoch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResharingRecord {
    /// `"reshared"` or `"failed"`.
    pub outcome: String,
    /// Why it failed (empty when it did not).
    pub reason: String,
    /// Qualified old holders (validator ids).
    pub qualified: Vec<u32>,
    /// Disqualified old holders (validator id, fault).
    pub disqualified: Vec<(u32, String)>,
    /// Validators the evidence names (validator id, fault).
    pub evidence: Vec<(u32, String)>,
    /// Validators that misbehaved in it (validator id, behaviour).
    pub byzantine: Vec<(u32, String)>,
    /// Honest validators kept offline in it (the failure plan).
    pub offline: Vec<u32>,
    /// Transactions of the resharing that the drivers rejected (as seen by one validator).
    pub rejected_messages: usize,
    /// The honest validator whose driver was restored from its serialized state mid-resharing.
    pub driver_restored: Option<u32>,
}

/// One decision certificate of the chain, for checks outside the simulator (e.g.
/// `conclave bls verify`): a plain BLS signature under the group key, min-pk, with the standard
/// proof-of-possession DST.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochCertificate {
    /// Height in the chain (from 1, across epochs).
    pub height: u64,
    /// Hex of the exact message signed.
    pub message: String,
    /// Hex of the signature.
    pub signature: String,
}

/// One epoch of a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// Epoch number.
    pub epoch: u64,
    /// First and last height.
    pub heights: (u64, u64),
    /// The committee (validator ids, seat order).
    pub committee: Vec<u32>,
    /// Each member's stake (same order as `committee`).
    pub stake: Vec<u64>,
    /// Seats n.
    pub seats: u32,
    /// Threshold degree t (quorum t+1).
    pub threshold: u32,
    /// Where the epoch's shares came from: `"genesis-dkg"`, `"resharing"` or `"kept"` (the
    /// previous resharing failed).
    pub key_from: String,
    /// Qualified dealers of the DKG or resharing that produced the shares (validator ids; for
    /// `"kept"` those of the last one that succeeded).
    pub qualified_old_holders: Vec<u32>,
    /// Hex of the group public key the epoch's engines certified under.
    pub group_public_key: String,
    /// Faulty validators of the epoch's consensus.
    pub faulty: Vec<u32>,
    /// Committee transactions accepted in the epoch.
    pub accepted_txs: Vec<String>,
    /// Committee transactions rejected in the epoch, with the reason.
    pub rejected_txs: Vec<String>,
    /// Certificates checked by the independent oracle.
    pub certificates_verified: u64,
    /// One certificate per height of the epoch (the first one decided).
    pub certificates: Vec<EpochCertificate>,
    /// Honest engines that crashed and restarted in the epoch.
    pub engine_crashes: u32,
    /// The resharing at the end of the epoch (`None` after the last epoch).
    pub resharing: Option<ResharingRecord>,
}

/// The outcome of [`run_epochs`]; serialises to `conclave simulate --epochs K --json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochSimReport {
    /// The configuration.
    pub config: EpochSimConfig,
    /// Hex of the genesis group public key.
    pub group_public_key: String,
    /// The epochs.
    pub epochs: Vec<EpochRecord>,
    /// All certificates checked independently under the genesis key.
    pub certificates_verified: u64,
    /// Oracle violations (empty on a correct run).
    pub violations: Vec<String>,
}

impl EpochSimReport {
    /// The CLI exit code: 0 without violations, 3 with.
    pub fn exit_code(&self) -> i32 {
        if self.violations.is_empty() {
            0
        } else {
            3
        }
    }
}

fn derive(seed: u64, label: &[u8], i: u64) -> [u8; 32] {
    Sha256::new()
        .chain_update(b"conclave-bft/sim-epochs/v1")
        .chain_update(seed.to_be_bytes())
        .chain_update((label.len() as u64).to_be_bytes())
        .chain_update(label)
        .chain_update(i.to_be_bytes())
        .finalize()
        .into()
}

/// An epoch's key material.
struct KeyState {
    committee: Committee,
    commitment: Commitment<V>,
    shares: BTreeMap<u32, Vec<SecretShare>>,
    qualified: Vec<u32>,
}

struct Fixed(Mutex<Option<CryptoSetup>>);

impl CryptoProvider for Fixed {
    fn setup(&self, _config: &SimConfig) -> Result<CryptoSetup, String> {
        self.0
            .lock()
            .map_err(|_| "poisoned".to_string())?
            .take()
            .ok_or_else(|| "setup used twice".into())
    }
}

fn crypto_setup(
    key: &KeyState,
    secrets: &BTreeMap<u32, ValidatorSecrets>,
    epoch: u64,
    genesis: Seed,
    dst: &[u8],
    salt: [u8; 32],
) -> Result<CryptoSetup, String> {
    let n = key.committee.seats();
    let verifier = Arc::new(
        ThresholdVerifier::<V>::new(key.commitment.clone(), n, dst, salt)
            .map_err(|e| e.to_string())?,
    );
    let owners: Vec<u32> = (1..=n)
        .map(|s| {
            key.committee
                .owner_of(s)
                .map(|m| m.id)
                .ok_or("seat without owner")
        })
        .collect::<Result<_, _>>()?;
    let vrf = |id: &u32| secrets.get(id).map(|s| s.vrf.clone()).ok_or("no VRF key");
    let roster = Arc::new(
        VrfRoster::new(
            epoch,
            owners
                .iter()
                .map(|id| vrf(id).map(|k| k.public_key()))
                .collect::<Result<_, _>>()?,
            None,
        )
        .map_err(|e| e.to_string())?,
    );
    let mut adapters = Vec::with_capacity(n as usize);
    for (seat, id) in (1..=n).zip(&owners) {
        let share = key
            .shares
            .get(id)
            .and_then(|s| s.iter().find(|s| s.index() == seat))
            .cloned()
            .ok_or_else(|| format!("validator {id} holds no share for seat {seat}"))?;
        let node = NodeId(seat - 1);
        adapters.push(Adapters {
            committee: verifier.clone(),
            sortition: Arc::new(VrfSortition::new(node, vrf(id)?, roster.clone())),
            signer: Arc::new(
                ThresholdSigner::<V>::new(node, share, dst).map_err(|e| e.to_string())?,
            ),
            verifier: verifier.clone(),
        });
    }
    Ok(CryptoSetup {
        variant: "min-pk".into(),
        dst: String::from_utf8_lossy(dst).into_owned(),
        group_public_key: key.commitment.group_public_key().to_bytes().to_vec(),
        genesis_seed: genesis,
        adapters,
        verifier,
        sampled: None,
    })
}

fn encode_block(height: u64, proposer: NodeId, salt: u32, txs: &[Vec<u8>]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(b"cblk");
    b.extend_from_slice(&height.to_be_bytes());
    b.extend_from_slice(&proposer.0.to_be_bytes());
    b.extend_from_slice(&salt.to_be_bytes());
    b.extend_from_slice(&(txs.len() as u32).to_be_bytes());
    for t in txs {
        b.extend_from_slice(&(t.len() as u32).to_be_bytes());
        b.extend_from_slice(t);
    }
    b
}

/// Decode a block of `height`: its transactions, or `None` if malformed or out of bounds.
fn decode_block(height: u64, b: &[u8]) -> Option<Vec<Vec<u8>>> {
    let rest = b.strip_prefix(b"cblk")?;
    let (h, rest) = rest.split_at_checked(8)?;
    if u64::from_be_bytes(h.try_into().ok()?) != height {
        return None;
    }
    let (_, rest) = rest.split_at_checked(8)?;
    let (count, mut rest) = rest.split_at_checked(4)?;
    let count = u32::from_be_bytes(count.try_into().ok()?) as usize;
    if count > MAX_BLOCK_TXS {
        return None;
    }
    let mut txs = Vec::with_capacity(count);
    for _ in 0..count {
        let (len, r) = rest.split_at_checked(4)?;
        let len = u32::from_be_bytes(len.try_into().ok()?) as usize;
        if len > MAX_TX_BYTES {
            return None;
        }
        let (tx, r) = r.split_at_checked(len)?;
        txs.push(tx.to_vec());
        rest = r;
    }
    rest.is_empty().then_some(txs)
}

/// What a validator does in the resharing.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Offline,
    Byzantine(Behaviour),
}

/// The application state of one epoch (behind the [`SimApplication`]'s mutex).
struct EpochState {
    params: EpochParams,
    epoch: u64,
    offset: u64,
    registry: Registry,
    key: Arc<KeyState>,
    secrets: BTreeMap<u32, ValidatorSecrets>,
    /// Keys of validators whose join is submitted (matched to their ids once accepted).
    joining: Vec<ValidatorSecrets>,
    faulty_seats: BTreeSet<NodeId>,
    faulty_validators: BTreeSet<u32>,
    /// Validators given a role in the resharing (by id); absent: honest.
    roles: BTreeMap<u32, Role>,
    plan_offline: bool,
    crash_driver: Option<u32>,
    mempool: Vec<Vec<u8>>,
    in_mempool: BTreeSet<Vec<u8>>,
    log: BTreeMap<u64, Vec<u8>>,
    processed: u64,
    drivers: BTreeMap<u32, LogDriver<V>>,
    outcomes: BTreeMap<u32, LogOutcome<V>>,
    rejected_messages: usize,
    accepted_txs: Vec<String>,
    rejected_txs: Vec<String>,
    certificates: Vec<(u32, Vec<u8>, Vec<u8>)>,
    /// The first certificate of each (epoch-local) height.
    first_certificates: BTreeMap<u64, (Vec<u8>, Vec<u8>)>,
    boundary_beacon: Option<Vec<u8>>,
    violations: Vec<String>,
    next_committee: Option<Committee>,
}

impl EpochState {
    fn submit(&mut self, txs: Vec<Vec<u8>>) {
        for t in txs {
            if self.in_mempool.insert(t.clone()) {
                self.mempool.push(t);
            }
        }
    }

    fn silent(&self, id: u32) -> bool {
        matches!(
            self.roles.get(&id),
            Some(Role::Offline | Role::Byzantine(Behaviour::Silent))
        )
    }

    /// Apply canonical blocks in order as far as they are known.
    fn advance(&mut self) {
        while let Some(block) = self.log.get(&(self.processed + 1)).cloned() {
            self.processed += 1;
            let local = self.processed;
            let height = self.offset + local;
            let txs = decode_block(local, &block).unwrap_or_default();
            let mut dkg = Vec::new();
            for tx in &txs {
                self.in_mempool.remove(tx);
                if CommitteeTx::is_committee_tx(tx) {
                    match self.registry.apply_bytes(tx) {
                        Ok(change) => self.accepted_txs.push(format!("{change:?}")),
                        Err(e) => self.rejected_txs.push(e.to_string()),
                    }
                } else if Envelope::<V>::is_envelope(tx) {
                    dkg.push(tx.clone());
                }
            }
            self.mempool.retain(|t| self.in_mempool.contains(t));
            if height == self.params.snapshot(self.epoch) {
                if let Err(e) = self.start_resharing() {
                    self.violations.push(format!(
                        "epoch {}: resharing did not start: {e}",
                        self.epoch
                    ));
                }
                continue;
            }
            if self.drivers.is_empty() {
                continue;
            }
            if self.crash_driver.is_some()
                && height == self.params.snapshot(self.epoch) + self.params.window + 1
            {
                // The validator crashes and restarts from its persisted driver.
                let id = self.crash_driver.unwrap_or_default();
                if let Some(d) = self.drivers.remove(&id) {
                    match serde_json::to_vec(&d)
                        .map_err(|e| e.to_string())
                        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
                    {
                        Ok(d) => {
                            self.drivers.insert(id, d);
                        }
                        Err(e) => self
                            .violations
                            .push(format!("epoch {}: driver resume failed: {e}", self.epoch)),
                    }
                }
            }
            let ids: Vec<u32> = self.drivers.keys().copied().collect();
            let mut submit = Vec::new();
            for (k, id) in ids.into_iter().enumerate() {
                let Some(d) = self.drivers.get_mut(&id) else {
                    continue;
                };
                if d.ended() {
                    continue;
                }
                match d.on_block(height, &dkg) {
                    Ok(step) => {
                        if k == 0 {
                            self.rejected_messages += step.rejected.len();
                        }
                        if !self.silent(id) {
                            submit.extend(step.submit);
                        }
                        if let Some(o) = step.outcome {
                            self.outcomes.insert(id, o);
                        }
                    }
                    Err(e) => self.violations.push(format!(
                        "epoch {}: validator {id}'s driver: {e}",
                        self.epoch
                    )),
                }
            }
            self.submit(submit);
        }
    }

    fn start_resharing(&mut self) -> Result<(), String> {
        let target = self.registry.freeze();
        for v in target.values() {
            if !self.secrets.contains_key(&v.id) {
                let s = self
                    .joining
                    .iter()
                    .find(|s| s.public() == v.keys)
                    .ok_or("a joined validator without known keys")?;
                self.secrets.insert(v.id, s.clone());
            }
        }
        let new = committee_of(&target, self.epoch + 1, None).map_err(|e| e.to_string())?;
        let t_new = threshold_degree(new.seats());
        let old = &self.key.committee;
        let config = DkgConfig::resharing(
            resharing_session(SIM_CHAIN, self.epoch),
            old.clone(),
            new.clone(),
            t_new,
            self.key.commitment.clone(),
        );
        // Roles: the epoch's faulty validators deal badly in turn; one joiner complains
        // falsely if the new committee's bound allows; the failure plan takes honest old
        // holders offline until fewer than t_old + 1 can qualify.
        let kinds = [
            Behaviour::BadShare,
            Behaviour::Silent,
            Behaviour::WrongJustification,
        ];
        for (i, id) in self.faulty_validators.iter().enumerate() {
            self.roles
                .insert(*id, Role::Byzantine(kinds[i % kinds.len()]));
        }
        let f_new = new.seats().saturating_sub(1) / 3;
        let byzantine_in_new = new
            .members
            .iter()
            .filter(|m| self.faulty_validators.contains(&m.id))
            .count() as u32;
        if byzantine_in_new < f_new {
            if let Some(joiner) = new.members.iter().find(|m| old.member(m.id).is_none()) {
                self.roles
                    .insert(joiner.id, Role::Byzantine(Behaviour::FalseComplaint));
            }
        }
        if self.plan_offline {
            let needed = self.key.commitment.quorum();
            let honest: Vec<u32> = old
                .members
                .iter()
                .map(|m| m.id)
                .filter(|id| !self.roles.contains_key(id))
                .collect();
            let offline = (honest.len() + 1).saturating_sub(needed);
            for id in honest.into_iter().take(offline) {
                self.roles.insert(id, Role::Offline);
            }
        }
        // An honest validator in both committees restores its driver mid-resharing.
        if self.crash_driver == Some(0) {
            self.crash_driver = new
                .members
                .iter()
                .map(|m| m.id)
                .find(|id| old.member(*id).is_some() && !self.roles.contains_key(id));
        }
        let mut ids: BTreeSet<u32> = old.members.iter().map(|m| m.id).collect();
        ids.extend(new.members.iter().map(|m| m.id));
        let schedule = self.params.resharing_schedule(self.epoch);
        let mut submit = Vec::new();
        for id in ids {
            let secrets = self.secrets.get(&id).ok_or("validator without keys")?;
            let old_shares = self.key.shares.get(&id).cloned().unwrap_or_default();
            let seed = derive(u64::from(id), b"resharing-seed", self.epoch);
            let mut p = Participant::new_resharing(
                config.clone(),
                secrets.identity.clone(),
                seed,
                if old.member(id).is_some() {
                    old_shares
                } else {
                    Vec::new()
                },
            )
            .map_err(|e| e.to_string())?;
            if let Some(Role::Byzantine(b)) = self.roles.get(&id) {
                set_behaviour(&mut p, *b);
            }
            let (d, out) = LogDriver::start(p, schedule).map_err(|e| e.to_string())?;
            if !self.silent(id) {
                submit.extend(out);
            }
            self.drivers.insert(id, d);
        }
        self.submit(submit);
        self.next_committee = Some(new);
        Ok(())
    }
}

struct EpochApp(Mutex<EpochState>);

impl SimApplication for EpochApp {
    fn propose(&self, proposer: NodeId, height: u64, salt: u32) -> Vec<u8> {
        let Ok(s) = self.0.lock() else {
            return Vec::new();
        };
        if s.faulty_seats.contains(&proposer) {
            // A faulty proposer censors every transaction.
            return encode_block(height, proposer, salt, &[]);
        }
        let txs: Vec<Vec<u8>> = s.mempool.iter().take(MAX_BLOCK_TXS).cloned().collect();
        encode_block(height, proposer, salt, &txs)
    }

    fn validate(&self, height: u64, value: &[u8]) -> bool {
        decode_block(height, value).is_some()
    }

    fn decided(&self, node: NodeId, decided: &Decided) {
        let Ok(mut s) = self.0.lock() else {
            return;
        };
        let c = &decided.certificate;
        let h = c.height.0;
        if h > s.params.length {
            // Past the boundary: the epoch's engines may run on while a slow node catches up,
            // but those blocks are not the chain's (the next epoch's committee decides them).
            return;
        }
        s.certificates
            .push((node.0, c.message(), c.signature.clone()));
        s.first_certificates
            .entry(h)
            .or_insert_with(|| (c.message(), c.signature.clone()));
        match s.log.get(&h) {
            Some(b) if *b != decided.value => {
                let e = s.epoch;
                s.violations.push(format!(
                    "epoch {e}: seat {} decided another block at {h}",
                    node.0
                ));
            }
            Some(_) => {}
            None => {
                s.log.insert(h, decided.value.clone());
                if h == s.params.length {
                    s.boundary_beacon = Some(c.beacon.clone());
                }
                s.advance();
            }
        }
    }
}

fn hex_gpk(c: &Commitment<V>) -> String {
    hex::encode(c.group_public_key().to_bytes())
}

/// The genesis DKG among `committee` (one participant per validator, in-process broadcast).
fn genesis_key(
    committee: &Committee,
    secrets: &BTreeMap<u32, ValidatorSecrets>,
    seed: u64,
) -> Result<KeyState, String> {
    let t = threshold_degree(committee.seats());
    let config = DkgConfig::<V>::new(derive(seed, b"genesis-session", 0), committee.clone(), t);
    let mut parties = Vec::new();
    for m in &committee.members {
        let keys = secrets.get(&m.id).ok_or("no keys")?.identity.clone();
        parties.push(SimParty {
            participant: Participant::new(config.clone(), keys, derive(seed, b"dkg", m.id.into()))
                .map_err(|e| e.to_string())?,
            silent: false,
            honest: true,
        });
    }
    let (results, _) = run_parties(&mut parties).map_err(|e| e.to_string())?;
    let mut shares = BTreeMap::new();
    let mut commitment = None;
    let mut qualified = Vec::new();
    for (m, r) in committee.members.iter().zip(results) {
        let r = r.ok_or("a genesis participant did not finish")?;
        commitment.get_or_insert(r.commitment.clone());
        qualified = r.qualified.clone();
        shares.insert(m.id, r.shares);
    }
    Ok(KeyState {
        committee: committee.clone(),
        commitment: commitment.ok_or("empty committee")?,
        shares,
        qualified: qualified
            .iter()
            .filter_map(|s| committee.owner_of(*s).map(|m| m.id))
            .collect(),
    })
}

/// Runs the epochs. Errors only if the configuration is unusable; a run that goes wrong is a
/// report with violations.
pub fn run_epochs(cfg: &EpochSimConfig) -> Result<EpochSimReport, SimError> {
    run_epochs_with_progress(cfg, &mut |_| {})
}

/// [`run_epochs`], calling `progress(e)` after each epoch `e`.
pub fn run_epochs_with_progress(
    cfg: &EpochSimConfig,
    progress: &mut dyn FnMut(u64),
) -> Result<EpochSimReport, SimError> {
    let setup_err = |e: String| SimError::Setup(e);
    let params = EpochParams {
        min_validators: 4,
        ..EpochParams::new(cfg.length, cfg.window)
    };
    params.validate().map_err(|e| setup_err(e.to_string()))?;
    if cfg.validators < 4 || cfg.epochs == 0 {
        return Err(SimError::Committee {
            nodes: cfg.validators,
            faulty: 0,
        });
    }
    let mut rng = ChaCha20Rng::from_seed(derive(cfg.seed, b"keys", 0));
    let mut tx_rng = ChaCha20Rng::from_seed(derive(cfg.seed, b"tx", 0));
    let mut secrets: BTreeMap<u32, ValidatorSecrets> = BTreeMap::new();
    let genesis: Vec<ValidatorSecrets> = (0..cfg.validators)
        .map(|_| ValidatorSecrets::random(&mut rng))
        .collect();
    let mut registry = Registry::genesis(
        SIM_CHAIN,
        params,
        genesis.iter().map(|s| (s.public(), 1)).collect(),
    )
    .map_err(|e| setup_err(e.to_string()))?;
    for (id, s) in (1u32..).zip(genesis) {
        secrets.insert(id, s);
    }
    let committee =
        committee_of(registry.active(), 0, None).map_err(|e| setup_err(e.to_string()))?;
    let mut key = Arc::new(genesis_key(&committee, &secrets, cfg.seed).map_err(setup_err)?);
    let group_key = key.commitment.group_public_key();
    let dst = standard_dst::<V>(Scheme::ProofOfPossession);
    let suite = Ciphersuite::<V>::with_dst(Scheme::ProofOfPossession, dst.clone())
        .map_err(|e| setup_err(e.to_string()))?;
    let mut seed = Seed(derive(cfg.seed, b"genesis-seed", 0));
    let mut key_from = "genesis-dkg".to_string();
    let mut records = Vec::new();
    let mut violations = Vec::new();
    let mut verified_total = 0u64;
    let mut last_leave: Option<Vec<u8>> = None;
    // Joiners whose join was decided too late for their epoch's resharing stay in the
    // registry: their keys carry over to the next epoch's resharing.
    let mut carried_joiners: Vec<ValidatorSecrets> = Vec::new();
    for e in 0..u64::from(cfg.epochs) {
        let n = key.committee.seats();
        let mut sim = SimConfig::new(n);
        sim.faulty = if cfg.byzantine { sim.tolerated() } else { 0 };
        sim.adversary = cfg.adversary;
        sim.heights = cfg.length;
        sim.seed = u64::from_be_bytes(
            derive(cfg.seed, b"epoch", e)[..8]
                .try_into()
                .unwrap_or([0; 8]),
        );
        sim.mode = Mode::Threshold;
        sim.latency_ms = cfg.latency_ms;
        sim.jitter_ms = cfg.jitter_ms;
        sim.crashes = u32::from(cfg.crash_epoch == Some(e as u32));
        let faulty = faulty_seats(&sim);
        let faulty_validators: BTreeSet<u32> = faulty
            .iter()
            .filter_map(|s| key.committee.owner_of(s.0 + 1).map(|m| m.id))
            .collect();
        // This epoch's committee transactions, submitted at its start.
        let mut txs = Vec::new();
        let mut joining = std::mem::take(&mut carried_joiners);
        let last = e + 1 == u64::from(cfg.epochs);
        if !cfg.plan.is_empty() && !last {
            let t = cfg.plan[(e as usize) % cfg.plan.len()];
            let leavers: Vec<u32> = registry
                .view()
                .keys()
                .copied()
                .take(t.leave as usize)
                .collect();
            for id in leavers {
                let Some(s) = secrets.get(&id) else { continue };
                let tx = CommitteeTx::leave(SIM_CHAIN, e, id, &s.identity.signing, &mut tx_rng);
                txs.push(tx.to_bytes());
                // Forged: the same leave signed by another validator's key.
                if let Some(other) = secrets.values().find(|o| o.public() != s.public()) {
                    let forged =
                        CommitteeTx::leave(SIM_CHAIN, e, id, &other.identity.signing, &mut tx_rng);
                    txs.push(forged.to_bytes());
                }
            }
            for _ in 0..t.join {
                let s = ValidatorSecrets::random(&mut rng);
                txs.push(CommitteeTx::join(SIM_CHAIN, e, &s, 1, &mut tx_rng).to_bytes());
                // The same keys again: a duplicate.
                txs.push(CommitteeTx::join(SIM_CHAIN, e, &s, 1, &mut tx_rng).to_bytes());
                joining.push(s);
            }
        }
        if let Some(replay) = last_leave.take() {
            txs.push(replay); // the previous epoch's leave, replayed
        }
        last_leave = txs
            .iter()
            .find(|t| matches!(CommitteeTx::from_bytes(t), Ok(CommitteeTx::Leave { .. })))
            .cloned();
        let state = EpochState {
            params,
            epoch: e,
            offset: e * cfg.length,
            registry: registry.clone(),
            key: key.clone(),
            secrets: secrets.clone(),
            joining,
            faulty_seats: faulty.clone(),
            faulty_validators: faulty_validators.clone(),
            roles: BTreeMap::new(),
            plan_offline: cfg.fail_epoch == Some(e as u32),
            crash_driver: (cfg.crash_epoch == Some(e as u32)).then_some(0),
            mempool: Vec::new(),
            in_mempool: BTreeSet::new(),
            log: BTreeMap::new(),
            processed: 0,
            drivers: BTreeMap::new(),
            outcomes: BTreeMap::new(),
            rejected_messages: 0,
            accepted_txs: Vec::new(),
            rejected_txs: Vec::new(),
            certificates: Vec::new(),
            first_certificates: BTreeMap::new(),
            boundary_beacon: None,
            violations: Vec::new(),
            next_committee: None,
        };
        let app = Arc::new(EpochApp(Mutex::new(state)));
        if let Ok(mut s) = app.0.lock() {
            s.submit(txs);
        }
        let provider = Fixed(Mutex::new(Some(
            crypto_setup(&key, &secrets, e, seed, &dst, derive(cfg.seed, b"salt", e))
                .map_err(setup_err)?,
        )));
        let options = SimOptions {
            keep_decisions: false,
            plant: None,
            app: Some(SimApp(app.clone())),
            epoch: e,
        };
        let report = run_simulation_with(&sim, &provider, &options, &mut |_| {})?;
        drop(options);
        violations.extend(report.violations.iter().map(|v| format!("epoch {e}: {v}")));
        let mut s = match Arc::try_unwrap(app) {
            Ok(app) => app
                .0
                .into_inner()
                .map_err(|_| setup_err("poisoned".into()))?,
            Err(_) => return Err(setup_err("application still shared".into())),
        };
        violations.append(&mut s.violations);
        secrets.append(&mut s.secrets.clone());
        carried_joiners = s
            .joining
            .iter()
            .filter(|j| !secrets.values().any(|x| x.public() == j.public()))
            .cloned()
            .collect();
        // The independent oracle: every honest certificate under the ONE genesis key.
        let mut verified = 0u64;
        for (seat, message, signature) in &s.certificates {
            let ok = Signature::<V>::from_bytes(signature)
                .map(|sig| group_key.verify(&suite, message, &sig))
                .unwrap_or(false);
            if ok {
                verified += 1;
            } else {
                violations.push(format!(
                    "epoch {e}: seat {seat}'s certificate does not verify under the genesis key"
                ));
            }
        }
        if s.processed != cfg.length {
            violations.push(format!("epoch {e}: only {} blocks applied", s.processed));
        }
        verified_total += verified;
        let committee_ids: Vec<u32> = key.committee.members.iter().map(|m| m.id).collect();
        let stake = committee_ids
            .iter()
            .map(|id| registry.active().get(id).map_or(0, |v| v.stake))
            .collect();
        let offset = e * cfg.length;
        let certificates = s
            .first_certificates
            .iter()
            .map(|(h, (m, sig))| EpochCertificate {
                height: offset + h,
                message: hex::encode(m),
                signature: hex::encode(sig),
            })
            .collect();
        let mut record = EpochRecord {
            epoch: e,
            heights: (e * cfg.length + 1, (e + 1) * cfg.length),
            committee: committee_ids,
            stake,
            seats: n,
            threshold: key.commitment.degree(),
            key_from: key_from.clone(),
            qualified_old_holders: key.qualified.clone(),
            group_public_key: hex_gpk(&key.commitment),
            faulty: faulty_validators.iter().copied().collect(),
            accepted_txs: s.accepted_txs.clone(),
            rejected_txs: s.rejected_txs.clone(),
            certificates_verified: verified,
            certificates,
            engine_crashes: report.summary.crashes,
            resharing: None,
        };
        if last {
            records.push(record);
            progress(e);
            break;
        }
        // The handover.
        let (next, resharing) = conclude(&s, &key, e, &mut violations);
        record.resharing = Some(resharing);
        registry = s.registry.clone();
        let reshared = next.is_some();
        registry.advance(reshared);
        if let Some(next) = next {
            if next.commitment.group_public_key() != group_key {
                violations.push(format!("epoch {e}: resharing changed the group key"));
            }
            key = Arc::new(next);
            key_from = "resharing".into();
        } else {
            key_from = "kept".into();
        }
        match &s.boundary_beacon {
            Some(b) => seed = epoch_seed(SIM_CHAIN, e, b),
            None => violations.push(format!("epoch {e}: no beacon at the boundary")),
        }
        records.push(record);
        progress(e);
    }
    violations.extend(resharing_plan_violations(cfg.fail_epoch, &records));
    Ok(EpochSimReport {
        config: cfg.clone(),
        group_public_key: hex::encode(group_key.to_bytes()),
        epochs: records,
        certificates_verified: verified_total,
        violations,
    })
}

/// The oracle of the failure plan: every resharing that failed although `fail_epoch` did not
/// plan it (a crash, censorship or Byzantine holders up to the bound must not make a resharing
/// fail), and a planned failure that did not happen, as violations.
pub fn resharing_plan_violations(fail_epoch: Option<u32>, epochs: &[EpochRecord]) -> Vec<String> {
    let mut out = Vec::new();
    for e in epochs {
        let Some(r) = &e.resharing else { continue };
        let planned = fail_epoch.is_some_and(|f| u64::from(f) == e.epoch);
        match (r.outcome == "failed", planned) {
            (true, false) => out.push(format!(
                "epoch {}: the resharing failed unplanned (not --fail-epoch): {}",
                e.epoch, r.reason
            )),
            (false, true) => out.push(format!(
                "epoch {}: the planned resharing failure did not happen ({})",
                e.epoch, r.outcome
            )),
            _ => {}
        }
    }
    out
}

/// The resharing's result at the boundary: the next key (or `None`: keep the old one) and its
/// record; disagreements and blame of honest validators become violations.
fn conclude(
    s: &EpochState,
    key: &KeyState,
    e: u64,
    violations: &mut Vec<String>,
) -> (Option<KeyState>, ResharingRecord) {
    let honest = |id: &u32| matches!(s.roles.get(id), None | Some(Role::Offline));
    let mut record = ResharingRecord {
        outcome: "failed".into(),
        reason: String::new(),
        qualified: Vec::new(),
        disqualified: Vec::new(),
        evidence: Vec::new(),
        byzantine: s
            .roles
            .iter()
            .filter_map(|(id, r)| match r {
                Role::Byzantine(b) => Some((*id, b.name().to_string())),
                _ => None,
            })
            .collect(),
        offline: s
            .roles
            .iter()
            .filter(|(_, r)| **r == Role::Offline)
            .map(|(id, _)| *id)
            .collect(),
        rejected_messages: s.rejected_messages,
        driver_restored: s.crash_driver.filter(|id| *id != 0),
    };
    let Some(new) = &s.next_committee else {
        record.reason = "the resharing never started".into();
        return (None, record);
    };
    let old = &key.committee;
    let owner = |seat: u32| old.owner_of(seat).map_or(0, |m| m.id);
    let mut first: Option<&conclave_dkg::DkgOutput<V>> = None;
    let mut failure: Option<String> = None;
    let mut shares = BTreeMap::new();
    for id in s.drivers.keys().filter(|id| honest(id)) {
        match s.outcomes.get(id) {
            None => violations.push(format!("epoch {e}: validator {id}'s resharing never ended")),
            Some(LogOutcome::Failed { reason }) => {
                if first.is_some() {
                    violations.push(format!(
                        "epoch {e}: honest validators disagree on the resharing"
                    ));
                }
                failure.get_or_insert(reason.clone());
            }
            Some(LogOutcome::Finished(out)) => {
                if failure.is_some() {
                    violations.push(format!(
                        "epoch {e}: honest validators disagree on the resharing"
                    ));
                }
                match first {
                    Some(f) if f.commitment != out.commitment || f.qualified != out.qualified => {
                        violations.push(format!(
                            "epoch {e}: validator {id} reached another commitment or QUAL"
                        ));
                    }
                    Some(_) => {}
                    None => first = Some(out),
                }
                if new.member(*id).is_some() {
                    shares.insert(*id, out.shares.clone());
                }
            }
            Some(_) => violations.push(format!(
                "epoch {e}: validator {id}'s resharing ended in an unknown outcome"
            )),
        }
    }
    if let Some(reason) = failure {
        record.reason = reason;
        return (None, record);
    }
    let Some(out) = first else {
        record.reason = "no honest result".into();
        return (None, record);
    };
    record.outcome = "reshared".into();
    record.qualified = out.qualified.iter().map(|s| owner(*s)).collect();
    record.disqualified = out
        .disqualified
        .iter()
        .map(|d| (owner(d.index), d.reason.as_str().to_string()))
        .collect();
    record.evidence = out
        .evidence
        .iter()
        .map(|ev| {
            let id = if ev.kind.is_dealer_fault() {
                owner(ev.culprit)
            } else {
                ev.culprit
            };
            (id, ev.kind.as_str().to_string())
        })
        .collect();
    for (id, why) in record.disqualified.iter().chain(&record.evidence) {
        let offline_silence =
            why == FaultKind::Silent.as_str() && s.roles.get(id) == Some(&Role::Offline);
        if honest(id) && !offline_silence {
            violations.push(format!("epoch {e}: honest validator {id} blamed ({why})"));
        }
    }
    // Byzantine members of the new committee hold the shares their drivers computed.
    for id in s
        .drivers
        .keys()
        .filter(|id| !honest(id) && new.member(**id).is_some())
    {
        if let Some(LogOutcome::Finished(o)) = s.outcomes.get(id) {
            shares.insert(*id, o.shares.clone());
        }
    }
    for m in &new.members {
        let ok = shares.get(&m.id).is_some_and(|sh| {
            sh.len() == m.seats.len() && sh.iter().all(|x| x.verify::<V>(&out.commitment))
        });
        if !ok {
            violations.push(format!("epoch {e}: new member {} has no valid share", m.id));
            record.outcome = "failed".into();
            record.reason = format!("new member {} has no valid share", m.id);
            return (None, record);
        }
    }
    (
        Some(KeyState {
            committee: new.clone(),
            commitment: out.commitment.clone(),
            shares,
            qualified: record.qualified.clone(),
        }),
        record,
    )
}

/// The public key check a light client does, exposed for tests: `signature` over `message`
/// under `group_key` with the standard min-pk proof-of-possession DST.
pub fn verify_under(group_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    let Ok(pk) = PublicKey::<V>::from_bytes(group_key) else {
        return false;
    };
    let Ok(suite) = Ciphersuite::<V>::with_dst(
        Scheme::ProofOfPossession,
        standard_dst::<V>(Scheme::ProofOfPossession),
    ) else {
        return false;
    };
    Signature::<V>::from_bytes(signature).is_ok_and(|s| pk.verify(&suite, message, &s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn epoch(e: u64, outcome: Option<(&str, &str)>) -> EpochRecord {
        EpochRecord {
            epoch: e,
            heights: (e * 10 + 1, e * 10 + 10),
            committee: vec![1, 2, 3, 4],
            stake: vec![1; 4],
            seats: 4,
            threshold: 2,
            key_from: "kept".into(),
            qualified_old_holders: vec![1, 2, 3, 4],
            group_public_key: String::new(),
            faulty: vec![2],
            accepted_txs: Vec::new(),
            rejected_txs: Vec::new(),
            certificates_verified: 10,
            certificates: Vec::new(),
            engine_crashes: 0,
            resharing: outcome.map(|(outcome, reason)| ResharingRecord {
                outcome: outcome.into(),
                reason: reason.into(),
                qualified: Vec::new(),
                disqualified: Vec::new(),
                evidence: Vec::new(),
                byzantine: Vec::new(),
                offline: Vec::new(),
                rejected_messages: 0,
                driver_restored: None,
            }),
        }
    }

    #[test]
    fn an_unplanned_failed_resharing_is_a_violation() {
        // Issue #15's run: epoch 0 planned to fail, epoch 1 failed as well.
        let run = [
            epoch(
                0,
                Some(("failed", "not enough qualified dealers: need 3, have 2")),
            ),
            epoch(
                1,
                Some((
                    "failed",
                    "own share for seat 1 is inconsistent with the group commitment",
                )),
            ),
            epoch(2, None),
        ];
        let v = resharing_plan_violations(Some(0), &run);
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(v[0].starts_with("epoch 1: the resharing failed unplanned"));
        assert!(v[0].contains("inconsistent with the group commitment"));
        // Without a plan both are violations; with the plan on epoch 1, epoch 0's is.
        assert_eq!(resharing_plan_violations(None, &run).len(), 2);
        let v = resharing_plan_violations(Some(1), &run);
        assert_eq!(v.len(), 1);
        assert!(v[0].starts_with("epoch 0:"));
    }

    #[test]
    fn the_planned_failure_alone_or_none_is_no_violation() {
        let run = [
            epoch(
                0,
                Some(("failed", "not enough qualified dealers: need 3, have 2")),
            ),
            epoch(1, Some(("reshared", ""))),
            epoch(2, None),
        ];
        assert!(resharing_plan_violations(Some(0), &run).is_empty());
        // A planned failure that did not happen is one too.
        let v = resharing_plan_violations(Some(1), &run);
        assert_eq!(v.len(), 2, "{v:?}");
        assert!(v.iter().any(|x| x.contains("did not happen")));
        let ok = [epoch(0, Some(("reshared", ""))), epoch(1, None)];
        assert!(resharing_plan_violations(None, &ok).is_empty());
    }
}
