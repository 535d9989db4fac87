//! Epochs: committee changes decided by consensus, taking effect at epoch boundaries, with the
//! group key handed over by a resharing whose messages travel in the blocks
//! ([`conclave_dkg::log`]).
//!
//! This module is the chain's state machine for its validator set, sans-IO and deterministic:
//!
//! * [`CommitteeTx`]: typed, canonically encoded transactions. [`CommitteeTx::Join`] registers a
//!   validator's identity keys (the DKG's ristretto255 signing and encryption keys and the VRF key
//!   of sortition) with a proof of possession of each, bound to the chain id, the epoch and the
//!   whole registration; [`CommitteeTx::Leave`] and [`CommitteeTx::Stake`] are signed by the
//!   validator's signing key, bound to chain, epoch and content (a transaction of one epoch does
//!   not verify in another, so it cannot be replayed later).
//! * [`Registry`]: the active validator set and the changes decided so far, applied in block
//!   order. [`Registry::apply`] validates a transaction against the set *with* the changes
//!   before it (unknown or duplicate member, key reuse, stake and size bounds) and rejects it
//!   with a typed [`TxError`]; invalid transactions change nothing.
//! * The schedule ([`EpochParams`]): epoch `e` covers heights `e·E+1 ..= (e+1)·E`. At the
//!   *snapshot* height `(e+1)·E − 3W` the changes decided so far are frozen
//!   ([`Registry::freeze`]) and the resharing from the current committee to the frozen target
//!   starts; its three rounds fill the last `3W` blocks of the epoch, so it ends exactly at the
//!   boundary. Changes decided after the snapshot wait for the next boundary. At the boundary,
//!   [`Registry::advance`] makes the target active if the resharing finished, or keeps the old
//!   committee for one more epoch and puts the frozen changes back first in line if it failed.
//! * [`committee_of`]: a validator set as the DKG's [`Committee`]: one seat each, or seats drawn
//!   by stake with `conclave_committee::seats::draw_seats` from the epoch's seed.
//! * [`epoch_seed`]: the next epoch's sortition seed, from the beacon of the boundary block.
//!
//! A host (the node, or the epoch simulator [`crate::sim::epochs`]) carries the transactions
//! and the DKG envelopes in blocks, feeds every decided block to its [`Registry`] and its
//! [`conclave_dkg::LogDriver`] in height order, and at the boundary starts the next epoch's
//! engine with the new committee, its shares and the new seed.

use conclave_committee::seats::draw_seats;
use conclave_committee::seed::Seed as CommitteeSeed;
use conclave_committee::vrf::{PublicKey as VrfPublicKey, SecretKey as VrfSecretKey};
use conclave_dkg::sigma::{Point, SchnorrSignature, SecretScalar};
use conclave_dkg::{Committee, IdentityKeys, Member};
use rand::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The schedule and bounds of a chain's epochs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochParams {
    /// Blocks per epoch `E`.
    pub length: u64,
    /// Blocks per resharing round `W` (see [`conclave_dkg::LogSchedule::window`]).
    pub window: u64,
    /// Smallest stake a validator may have.
    pub min_stake: u64,
    /// Largest stake a validator may have.
    pub max_stake: u64,
    /// Fewest validators (a leave below it is refused).
    pub min_validators: u32,
    /// Most validators (a join above it is refused).
    pub max_validators: u32,
}

impl EpochParams {
    /// `E` blocks per epoch, `W` per resharing round; stakes `1..=2^32`, 4 to 256 validators.
    pub fn new(length: u64, window: u64) -> Self {
        EpochParams {
            length,
            window,
            min_stake: 1,
            max_stake: 1 << 32,
            min_validators: 4,
            max_validators: 256,
        }
    }

    /// Check `E > 3W ≥ 3` and the bounds' order.
    pub fn validate(&self) -> Result<(), TxError> {
        let ok = self.window >= 1
            && self
                .window
                .checked_mul(3)
                .is_some_and(|w3| self.length > w3)
            && self.min_stake >= 1
            && self.min_stake <= self.max_stake
            && self.min_validators >= 1
            && self.min_validators <= self.max_validators
            && self.max_validators <= conclave_dkg::config::MAX_SEATS;
        if ok {
            Ok(())
        } else {
            Err(TxError::Params)
        }
    }

    /// The epoch that height `h ≥ 1` belongs to.
    pub fn epoch_of(&self, height: u64) -> u64 {
        height.saturating_sub(1) / self.length
    }

    /// The last height of epoch `e` (its boundary).
    pub fn boundary(&self, epoch: u64) -> u64 {
        (epoch + 1) * self.length
    }

    /// The snapshot height of epoch `e`: the changes decided up to it take effect at the
    /// boundary, and the resharing starts after it (see the module docs).
    pub fn snapshot(&self, epoch: u64) -> u64 {
        self.boundary(epoch) - 3 * self.window
    }

    /// The schedule of epoch `e`'s resharing (it ends at [`Self::boundary`]).
    pub fn resharing_schedule(&self, epoch: u64) -> conclave_dkg::LogSchedule {
        conclave_dkg::LogSchedule {
            start: self.snapshot(epoch),
            window: self.window,
        }
    }
}

/// A validator's public identity: the DKG identity keys and the sortition VRF key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidatorKeys {
    /// Signs the validator's DKG messages and its committee transactions.
    pub signing: Point,
    /// Shares of resharings are encrypted to it.
    pub encryption: Point,
    /// VRF public key of proposer sortition.
    pub vrf: [u8; 32],
}

/// A validator's secret keys (zeroized on drop; `Debug` redacted).
#[derive(Clone, Debug)]
pub struct ValidatorSecrets {
    /// The DKG identity keys.
    pub identity: IdentityKeys,
    /// The VRF secret key.
    pub vrf: VrfSecretKey,
}

impl ValidatorSecrets {
    /// Fresh random keys.
    pub fn random(rng: &mut (impl RngCore + CryptoRng)) -> Self {
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        let vrf = VrfSecretKey::derive(&seed, 0);
        seed.fill(0);
        ValidatorSecrets {
            identity: IdentityKeys::random(rng),
            vrf,
        }
    }

    /// The public keys.
    pub fn public(&self) -> ValidatorKeys {
        ValidatorKeys {
            signing: self.identity.signing.public(),
            encryption: self.identity.encryption.public(),
            vrf: self.vrf.public_key().to_bytes(),
        }
    }
}

/// One registered validator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validator {
    /// Id, assigned in join order (the DKG member id).
    pub id: u32,
    /// Public keys.
    pub keys: ValidatorKeys,
    /// Stake.
    pub stake: u64,
}

/// A committee-change transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // rare, short-lived values; boxing buys nothing
#[non_exhaustive]
pub enum CommitteeTx {
    /// Register a validator.
    Join {
        /// The epoch the transaction is for (it is valid only in blocks of that epoch).
        epoch: u64,
        /// The keys registered.
        keys: ValidatorKeys,
        /// Its stake.
        stake: u64,
        /// Schnorr signature by the signing key over the registration.
        signing_proof: SchnorrSignature,
        /// Schnorr signature by the encryption key over the registration (proof of possession:
        /// shares are encrypted to this key).
        encryption_proof: SchnorrSignature,
        /// VRF proof over the registration under the VRF key.
        vrf_proof: [u8; 80],
    },
    /// Deregister validator `id` (signed by its signing key).
    Leave {
        /// The epoch the transaction is for.
        epoch: u64,
        /// Validator id.
        id: u32,
        /// Signature.
        signature: SchnorrSignature,
    },
    /// Set validator `id`'s stake (signed by its signing key).
    Stake {
        /// The epoch the transaction is for.
        epoch: u64,
        /// Validator id.
        id: u32,
        /// The new stake.
        stake: u64,
        /// Signature.
        signature: SchnorrSignature,
    },
}

/// The tag that starts every encoded [`CommitteeTx`].
pub const TX_TAG: &[u8; 8] = b"cepochx1";
const SIGN_DOMAIN: &[u8] = b"conclave-bft/epoch/tx/v1";
const TAG_JOIN: u8 = 1;
const TAG_LEAVE: u8 = 2;
const TAG_STAKE: u8 = 3;
const JOIN_LEN: usize = 8 + 1 + 8 + 96 + 8 + 64 + 64 + 80;
const LEAVE_LEN: usize = 8 + 1 + 8 + 4 + 64;
const STAKE_LEN: usize = 8 + 1 + 8 + 4 + 8 + 64;

/// Why a transaction or parameter set was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TxError {
    /// Not a canonical encoding.
    #[error("malformed committee transaction: {0}")]
    Malformed(&'static str),
    /// The transaction is for another epoch.
    #[error("transaction for epoch {tx}, current epoch is {current}")]
    WrongEpoch {
        /// The transaction's epoch.
        tx: u64,
        /// The registry's.
        current: u64,
    },
    /// A signature or proof of possession does not verify.
    #[error("invalid {0}")]
    BadProof(&'static str),
    /// A key is already registered (or being registered) by a validator.
    #[error("key already registered by validator {0}")]
    DuplicateKey(u32),
    /// No such validator (or it already left).
    #[error("unknown validator {0}")]
    UnknownValidator(u32),
    /// Stake out of `min_stake..=max_stake`.
    #[error("stake {0} out of bounds")]
    StakeBounds(u64),
    /// The change would take the set outside `min_validators..=max_validators`.
    #[error("the validator set would have {0} members, outside the bounds")]
    SetBounds(usize),
    /// The epoch parameters are inconsistent.
    #[error("invalid epoch parameters: need 3·window < length, window ≥ 1 and ordered bounds")]
    Params,
}

fn registration(chain: &[u8], epoch: u64, keys: &ValidatorKeys, stake: u64) -> Vec<u8> {
    let mut m = Vec::with_capacity(64 + chain.len() + 96 + 16);
    m.extend_from_slice(b"join");
    m.extend_from_slice(&(chain.len() as u64).to_be_bytes());
    m.extend_from_slice(chain);
    m.extend_from_slice(&epoch.to_be_bytes());
    m.extend_from_slice(&keys.signing.to_bytes());
    m.extend_from_slice(&keys.encryption.to_bytes());
    m.extend_from_slice(&keys.vrf);
    m.extend_from_slice(&stake.to_be_bytes());
    m
}

fn member_message(chain: &[u8], tag: u8, epoch: u64, id: u32, stake: Option<u64>) -> Vec<u8> {
    let mut m = Vec::with_capacity(32 + chain.len());
    m.push(tag);
    m.extend_from_slice(&(chain.len() as u64).to_be_bytes());
    m.extend_from_slice(chain);
    m.extend_from_slice(&epoch.to_be_bytes());
    m.extend_from_slice(&id.to_be_bytes());
    if let Some(s) = stake {
        m.extend_from_slice(&s.to_be_bytes());
    }
    m
}

impl CommitteeTx {
    /// A join of the validator with `secrets` and `stake` on `chain` in `epoch`.
    pub fn join(
        chain: &[u8],
        epoch: u64,
        secrets: &ValidatorSecrets,
        stake: u64,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Self {
        let keys = secrets.public();
        let msg = registration(chain, epoch, &keys, stake);
        let signing_proof =
            SchnorrSignature::sign(&secrets.identity.signing, SIGN_DOMAIN, &msg, rng);
        let encryption_proof =
            SchnorrSignature::sign(&secrets.identity.encryption, SIGN_DOMAIN, &msg, rng);
        let vrf_proof = secrets.vrf.prove(&msg).0.to_bytes();
        CommitteeTx::Join {
            epoch,
            keys,
            stake,
            signing_proof,
            encryption_proof,
            vrf_proof,
        }
    }

    /// Validator `id` (with `signing`, its signing key) leaves.
    pub fn leave(
        chain: &[u8],
        epoch: u64,
        id: u32,
        signing: &SecretScalar,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Self {
        let msg = member_message(chain, TAG_LEAVE, epoch, id, None);
        CommitteeTx::Leave {
            epoch,
            id,
            signature: SchnorrSignature::sign(signing, SIGN_DOMAIN, &msg, rng),
        }
    }

    /// Validator `id` sets its stake.
    pub fn stake(
        chain: &[u8],
        epoch: u64,
        id: u32,
        stake: u64,
        signing: &SecretScalar,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Self {
        let msg = member_message(chain, TAG_STAKE, epoch, id, Some(stake));
        CommitteeTx::Stake {
            epoch,
            id,
            stake,
            signature: SchnorrSignature::sign(signing, SIGN_DOMAIN, &msg, rng),
        }
    }

    /// The epoch the transaction is for.
    pub fn epoch(&self) -> u64 {
        match self {
            CommitteeTx::Join { epoch, .. }
            | CommitteeTx::Leave { epoch, .. }
            | CommitteeTx::Stake { epoch, .. } => *epoch,
        }
    }

    /// Canonical encoding: [`TX_TAG`], a kind byte, then fixed-size big-endian fields.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Vec::with_capacity(JOIN_LEN);
        w.extend_from_slice(TX_TAG);
        match self {
            CommitteeTx::Join {
                epoch,
                keys,
                stake,
                signing_proof,
                encryption_proof,
                vrf_proof,
            } => {
                w.push(TAG_JOIN);
                w.extend_from_slice(&epoch.to_be_bytes());
                w.extend_from_slice(&keys.signing.to_bytes());
                w.extend_from_slice(&keys.encryption.to_bytes());
                w.extend_from_slice(&keys.vrf);
                w.extend_from_slice(&stake.to_be_bytes());
                w.extend_from_slice(&signing_proof.to_bytes());
                w.extend_from_slice(&encryption_proof.to_bytes());
                w.extend_from_slice(vrf_proof);
            }
            CommitteeTx::Leave {
                epoch,
                id,
                signature,
            } => {
                w.push(TAG_LEAVE);
                w.extend_from_slice(&epoch.to_be_bytes());
                w.extend_from_slice(&id.to_be_bytes());
                w.extend_from_slice(&signature.to_bytes());
            }
            CommitteeTx::Stake {
                epoch,
                id,
                stake,
                signature,
            } => {
                w.push(TAG_STAKE);
                w.extend_from_slice(&epoch.to_be_bytes());
                w.extend_from_slice(&id.to_be_bytes());
                w.extend_from_slice(&stake.to_be_bytes());
                w.extend_from_slice(&signature.to_bytes());
            }
        }
        w
    }

    /// Decode [`Self::to_bytes`] (exact length per kind; points must be canonical and not the
    /// identity; the VRF key must decode). Signatures are checked by [`Registry::check`].
    pub fn from_bytes(b: &[u8]) -> Result<Self, TxError> {
        if b.len() < 9 || &b[..8] != TX_TAG {
            return Err(TxError::Malformed("not a committee transaction"));
        }
        let want = match b[8] {
            TAG_JOIN => JOIN_LEN,
            TAG_LEAVE => LEAVE_LEN,
            TAG_STAKE => STAKE_LEN,
            _ => return Err(TxError::Malformed("unknown kind")),
        };
        if b.len() != want {
            return Err(TxError::Malformed("wrong length"));
        }
        let u64_at = |i: usize| u64::from_be_bytes(b[i..i + 8].try_into().unwrap_or([0; 8]));
        let u32_at = |i: usize| u32::from_be_bytes(b[i..i + 4].try_into().unwrap_or([0; 4]));
        let point = |i: usize| {
            Point::from_bytes(&b[i..i + 32]).map_err(|_| TxError::Malformed("bad point"))
        };
        let sig = |i: usize| {
            SchnorrSignature::from_bytes(&b[i..i + 64])
                .map_err(|_| TxError::Malformed("bad signature"))
        };
        let epoch = u64_at(9);
        Ok(match b[8] {
            TAG_JOIN => {
                let vrf: [u8; 32] = b[81..113]
                    .try_into()
                    .map_err(|_| TxError::Malformed("vrf"))?;
                VrfPublicKey::from_bytes(&vrf).map_err(|_| TxError::Malformed("bad VRF key"))?;
                CommitteeTx::Join {
                    epoch,
                    keys: ValidatorKeys {
                        signing: point(17)?,
                        encryption: point(49)?,
                        vrf,
                    },
                    stake: u64_at(113),
                    signing_proof: sig(121)?,
                    encryption_proof: sig(185)?,
                    vrf_proof: b[249..329]
                        .try_into()
                        .map_err(|_| TxError::Malformed("vrf proof"))?,
                }
            }
            TAG_LEAVE => CommitteeTx::Leave {
                epoch,
                id: u32_at(17),
                signature: sig(21)?,
            },
            _ => CommitteeTx::Stake {
                epoch,
                id: u32_at(17),
                stake: u64_at(21),
                signature: sig(29)?,
            },
        })
    }

    /// True if `bytes` start with [`TX_TAG`].
    pub fn is_committee_tx(bytes: &[u8]) -> bool {
        bytes.starts_with(TX_TAG)
    }
}

/// A validated change, as the registry keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[allow(clippy::large_enum_variant)] // rare, short-lived values; boxing buys nothing
#[non_exhaustive]
pub enum Change {
    /// A new validator (its id assigned at acceptance).
    Join(Validator),
    /// Validator leaves.
    Leave(u32),
    /// Validator's new stake.
    Stake(u32, u64),
}

/// The chain's validator set and its decided changes (see the module docs). Deterministic:
/// every node that applies the same transactions in the same order holds the same registry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registry {
    chain: Vec<u8>,
    params: EpochParams,
    epoch: u64,
    active: BTreeMap<u32, Validator>,
    /// Frozen at the snapshot: the changes the running resharing hands over to.
    frozen: Vec<Change>,
    /// Decided after the snapshot (or before the first one): for a later boundary.
    pending: Vec<Change>,
    next_id: u32,
}

impl Registry {
    /// The genesis registry of `chain`: `validators` get ids `1..`, in order.
    pub fn genesis(
        chain: &[u8],
        params: EpochParams,
        validators: Vec<(ValidatorKeys, u64)>,
    ) -> Result<Self, TxError> {
        params.validate()?;
        let mut r = Registry {
            chain: chain.to_vec(),
            params,
            epoch: 0,
            active: BTreeMap::new(),
            frozen: Vec::new(),
            pending: Vec::new(),
            next_id: 1,
        };
        for (keys, stake) in validators {
            let v = r.admit(keys, stake)?;
            r.next_id = v.id + 1;
            r.active.insert(v.id, v);
        }
        let n = r.active.len();
        if n < params.min_validators as usize || n > params.max_validators as usize {
            return Err(TxError::SetBounds(n));
        }
        Ok(r)
    }

    fn admit(&self, keys: ValidatorKeys, stake: u64) -> Result<Validator, TxError> {
        if stake < self.params.min_stake || stake > self.params.max_stake {
            return Err(TxError::StakeBounds(stake));
        }
        let view = self.view();
        // Every key is checked against every key of every other validator (the DKG refuses
        // committees that reuse a key across members, and so does the VRF roster here).
        let ours = [
            keys.signing.to_bytes(),
            keys.encryption.to_bytes(),
            keys.vrf,
        ];
        for v in view.values().chain(self.active.values()) {
            let theirs = [
                v.keys.signing.to_bytes(),
                v.keys.encryption.to_bytes(),
                v.keys.vrf,
            ];
            if ours.iter().any(|k| theirs.contains(k)) {
                return Err(TxError::DuplicateKey(v.id));
            }
        }
        if ours[0] == ours[1] || ours[0] == ours[2] || ours[1] == ours[2] {
            return Err(TxError::DuplicateKey(0));
        }
        let v = Validator {
            id: self.next_id,
            keys,
            stake,
        };
        Ok(v)
    }

    /// The parameters.
    pub fn params(&self) -> &EpochParams {
        &self.params
    }

    /// The current epoch.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The active validator set (the current epoch's committee).
    pub fn active(&self) -> &BTreeMap<u32, Validator> {
        &self.active
    }

    /// The changes the running resharing hands over to (empty before the snapshot).
    pub fn frozen(&self) -> &[Change] {
        &self.frozen
    }

    /// The changes waiting for a later boundary.
    pub fn pending(&self) -> &[Change] {
        &self.pending
    }

    fn apply_changes(set: &mut BTreeMap<u32, Validator>, changes: &[Change]) {
        for c in changes {
            match c {
                Change::Join(v) => {
                    set.insert(v.id, v.clone());
                }
                Change::Leave(id) => {
                    set.remove(id);
                }
                Change::Stake(id, s) => {
                    if let Some(v) = set.get_mut(id) {
                        v.stake = *s;
                    }
                }
            }
        }
    }

    /// The set with every decided change applied (what a new transaction is checked against).
    pub fn view(&self) -> BTreeMap<u32, Validator> {
        let mut set = self.active.clone();
        Self::apply_changes(&mut set, &self.frozen);
        Self::apply_changes(&mut set, &self.pending);
        set
    }

    /// The set the running resharing hands over to: active + frozen changes.
    pub fn target(&self) -> BTreeMap<u32, Validator> {
        let mut set = self.active.clone();
        Self::apply_changes(&mut set, &self.frozen);
        set
    }

    /// Validate a transaction against the current view without applying it.
    pub fn check(&self, tx: &CommitteeTx) -> Result<Change, TxError> {
        if tx.epoch() != self.epoch {
            return Err(TxError::WrongEpoch {
                tx: tx.epoch(),
                current: self.epoch,
            });
        }
        let view = self.view();
        let bounds = self.params.min_validators as usize..=self.params.max_validators as usize;
        match tx {
            CommitteeTx::Join {
                epoch,
                keys,
                stake,
                signing_proof,
                encryption_proof,
                vrf_proof,
            } => {
                let msg = registration(&self.chain, *epoch, keys, *stake);
                if !signing_proof.verify(&keys.signing, SIGN_DOMAIN, &msg) {
                    return Err(TxError::BadProof("signing-key proof of possession"));
                }
                if !encryption_proof.verify(&keys.encryption, SIGN_DOMAIN, &msg) {
                    return Err(TxError::BadProof("encryption-key proof of possession"));
                }
                let vrf = VrfPublicKey::from_bytes(&keys.vrf)
                    .map_err(|_| TxError::Malformed("bad VRF key"))?;
                let proof = conclave_committee::vrf::Proof::from_bytes(vrf_proof)
                    .map_err(|_| TxError::BadProof("VRF proof encoding"))?;
                vrf.verify(&msg, &proof)
                    .map_err(|_| TxError::BadProof("VRF-key proof of possession"))?;
                if !bounds.contains(&(view.len() + 1)) {
                    return Err(TxError::SetBounds(view.len() + 1));
                }
                Ok(Change::Join(self.admit(keys.clone(), *stake)?))
            }
            CommitteeTx::Leave {
                epoch,
                id,
                signature,
            } => {
                let v = view.get(id).ok_or(TxError::UnknownValidator(*id))?;
                let msg = member_message(&self.chain, TAG_LEAVE, *epoch, *id, None);
                if !signature.verify(&v.keys.signing, SIGN_DOMAIN, &msg) {
                    return Err(TxError::BadProof("leave signature"));
                }
                if !bounds.contains(&(view.len() - 1)) {
                    return Err(TxError::SetBounds(view.len() - 1));
                }
                Ok(Change::Leave(*id))
            }
            CommitteeTx::Stake {
                epoch,
                id,
                stake,
                signature,
            } => {
                let v = view.get(id).ok_or(TxError::UnknownValidator(*id))?;
                let msg = member_message(&self.chain, TAG_STAKE, *epoch, *id, Some(*stake));
                if !signature.verify(&v.keys.signing, SIGN_DOMAIN, &msg) {
                    return Err(TxError::BadProof("stake signature"));
                }
                if *stake < self.params.min_stake || *stake > self.params.max_stake {
                    return Err(TxError::StakeBounds(*stake));
                }
                Ok(Change::Stake(*id, *stake))
            }
        }
    }

    /// Validate and record a decided transaction (in block order). An invalid one changes
    /// nothing. Returns the change.
    pub fn apply(&mut self, tx: &CommitteeTx) -> Result<Change, TxError> {
        let change = self.check(tx)?;
        if let Change::Join(v) = &change {
            self.next_id = v.id + 1;
        }
        self.pending.push(change.clone());
        Ok(change)
    }

    /// Decode, validate and record the encoded transaction `bytes`.
    pub fn apply_bytes(&mut self, bytes: &[u8]) -> Result<Change, TxError> {
        self.apply(&CommitteeTx::from_bytes(bytes)?)
    }

    /// At the snapshot height: freeze the pending changes; returns the target set the
    /// resharing hands over to.
    pub fn freeze(&mut self) -> BTreeMap<u32, Validator> {
        let pending = std::mem::take(&mut self.pending);
        self.frozen.extend(pending);
        self.target()
    }

    /// At the boundary: the next epoch begins. With `reshared` the target set becomes active;
    /// without (the resharing failed), the old committee stays and the frozen changes go back
    /// to the head of the pending ones, for the next boundary.
    pub fn advance(&mut self, reshared: bool) {
        let frozen = std::mem::take(&mut self.frozen);
        if reshared {
            Self::apply_changes(&mut self.active, &frozen);
        } else {
            let later = std::mem::replace(&mut self.pending, frozen);
            self.pending.extend(later);
        }
        self.epoch += 1;
    }
}

/// A validator set as the DKG's committee. `None`: one seat each, in id order. `Some((seed,
/// seats, domain))`: `seats` seats drawn by stake for `epoch` (validators drawn no seat are
/// not in the committee). Seat `s` (1-based) is engine seat `NodeId(s − 1)`.
pub fn committee_of(
    set: &BTreeMap<u32, Validator>,
    epoch: u64,
    weighted: Option<(&CommitteeSeed, u32, &str)>,
) -> Result<Committee, conclave_committee::Error> {
    let validators: Vec<&Validator> = set.values().collect();
    let seats: Vec<Vec<u32>> = match weighted {
        None => (1..=validators.len() as u32).map(|s| vec![s]).collect(),
        Some((seed, total, domain)) => {
            let stakes: Vec<u64> = validators.iter().map(|v| v.stake).collect();
            let draw = draw_seats(domain, seed, epoch, &stakes, total)?;
            let mut seats = vec![Vec::new(); validators.len()];
            for (k, &holder) in draw.holders.iter().enumerate() {
                seats[holder].push(k as u32 + 1);
            }
            seats
        }
    };
    Ok(Committee {
        members: validators
            .into_iter()
            .zip(seats)
            .filter(|(_, s)| !s.is_empty())
            .map(|(v, seats)| Member {
                id: v.id,
                signing_key: v.keys.signing,
                encryption_key: v.keys.encryption,
                seats,
            })
            .collect(),
    })
}

/// The degree of an epoch's threshold key for `n` seats: t = ⌊(n+f)/2⌋ with f = ⌊(n−1)/3⌋, so
/// that the quorum t+1 is the BFT quorum (2f+1 for n = 3f+1) and any two quorums share an
/// honest seat.
pub fn threshold_degree(n: u32) -> u32 {
    let f = n.saturating_sub(1) / 3;
    (n + f) / 2
}

/// The sortition seed of epoch `epoch + 1`'s first height, from the beacon (the threshold
/// signature on the beacon message) of epoch `epoch`'s boundary block. The beacon is unique
/// under the group key, so nobody chooses it; the epoch enters so seeds of epochs differ.
pub fn epoch_seed(chain: &[u8], epoch: u64, boundary_beacon: &[u8]) -> crate::types::Seed {
    crate::types::Seed(
        Sha256::new()
            .chain_update(b"conclave-bft/epoch-seed/v1")
            .chain_update((chain.len() as u64).to_be_bytes())
            .chain_update(chain)
            .chain_update((epoch + 1).to_be_bytes())
            .chain_update(boundary_beacon)
            .finalize()
            .into(),
    )
}
