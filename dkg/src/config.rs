//! Session configuration: committees of members with seats, thresholds, and identity keys.

use conclave_threshold_sig::{Commitment, Variant};
use rand_core::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::sigma::{Point, SecretScalar};

/// The largest number of seats a committee may have (bounds every allocation that depends on
/// `n`; encodings cap lists at the same size).
pub const MAX_SEATS: u32 = crate::codec::MAX_LIST;

/// A member of a committee: a participant id, its public identity keys and the seats it holds.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Member {
    /// Participant id, unique within the committee.
    pub id: u32,
    /// Schnorr (ristretto255) public key that signs this member's messages.
    pub signing_key: Point,
    /// Static ristretto255 encryption key shares are encrypted to.
    pub encryption_key: Point,
    /// The seats (share indices, `1..=n`) this member holds; several for weighted members.
    pub seats: Vec<u32>,
}

/// A committee: members whose seats partition `1..=n`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Committee {
    /// The members.
    pub members: Vec<Member>,
}

impl Committee {
    /// The committee where the member with `keys[i]` has participant id `i + 1` and the single
    /// seat `i + 1`.
    pub fn one_seat_each(keys: &[IdentityKeys]) -> Self {
        Committee {
            members: keys
                .iter()
                .zip(1..)
                .map(|(k, i)| k.member(i, vec![i]))
                .collect(),
        }
    }

    /// The number of seats `n`.
    pub fn seats(&self) -> u32 {
        self.members.iter().map(|m| m.seats.len() as u32).sum()
    }

    /// Feed the committee's canonical bytes to `h`: the member count, then each member's id,
    /// signing and encryption keys and seats, in order (what [`DkgConfig::digest`] binds).
    pub fn hash_into(&self, h: &mut Sha256) {
        h.update((self.members.len() as u32).to_be_bytes());
        for m in &self.members {
            h.update(m.id.to_be_bytes());
            h.update(m.signing_key.to_bytes());
            h.update(m.encryption_key.to_bytes());
            h.update((m.seats.len() as u32).to_be_bytes());
            for s in &m.seats {
                h.update(s.to_be_bytes());
            }
        }
    }

    /// The member holding `seat`.
    pub fn owner_of(&self, seat: u32) -> Option<&Member> {
        self.members.iter().find(|m| m.seats.contains(&seat))
    }

    /// The member with participant id `id`.
    pub fn member(&self, id: u32) -> Option<&Member> {
        self.members.iter().find(|m| m.id == id)
    }

    /// The member with this signing key.
    pub fn by_signing_key(&self, key: &Point) -> Option<&Member> {
        self.members.iter().find(|m| &m.signing_key == key)
    }

    /// Check that seats are exactly `1..=n` with `n ≤` [`MAX_SEATS`], each held once, and that
    /// ids, signing keys and encryption keys are unique (two members sharing a key could
    /// speak for each other).
    pub fn validate(&self) -> Result<(), Error> {
        let total: u64 = self.members.iter().map(|m| m.seats.len() as u64).sum();
        if total == 0 {
            return Err(Error::InvalidConfig("committee has no seats".into()));
        }
        if total > u64::from(MAX_SEATS) {
            return Err(Error::InvalidConfig(format!(
                "{total} seats; at most {MAX_SEATS} are supported"
            )));
        }
        let n = total as u32;
        let mut seen = vec![false; n as usize];
        let mut ids = std::collections::BTreeSet::new();
        let mut signing = std::collections::BTreeSet::new();
        let mut encryption = std::collections::BTreeSet::new();
        for m in &self.members {
            if !ids.insert(m.id) {
                return Err(Error::InvalidConfig(format!(
                    "duplicate member id {}",
                    m.id
                )));
            }
            if !signing.insert(m.signing_key.to_bytes()) {
                return Err(Error::InvalidConfig(format!(
                    "member {} reuses another member's signing key",
                    m.id
                )));
            }
            if !encryption.insert(m.encryption_key.to_bytes()) {
                return Err(Error::InvalidConfig(format!(
                    "member {} reuses another member's encryption key",
                    m.id
                )));
            }
            if m.seats.is_empty() {
                return Err(Error::InvalidConfig(format!("member {} has no seat", m.id)));
            }
            for &s in &m.seats {
                if s == 0 || s > n || std::mem::replace(&mut seen[(s - 1) as usize], true) {
                    return Err(Error::InvalidConfig(format!(
                        "seats must partition 1..={n}; bad seat {s}"
                    )));
                }
            }
        }
        Ok(())
    }
}

/// The parameters of one DKG (or resharing) session, identical at every participant.
///
/// Thresholds: the new sharing has degree `t` (any `t+1` of the `n` player seats reconstruct);
/// any `t < n` is accepted. The conclave consensus engine uses `t = 2f` with `n = 3f+1` (quorum
/// `2f+1`). Robustness (every honest player gets a share even if Byzantine dealers withhold)
/// needs `n ≥ 2t+1`; with `t = 2f`, `n = 3f+1` a fresh DKG still completes because every honest
/// dealer qualifies, and secrecy holds against up to `t` corrupted seats.
///
/// Non-exhaustive: build one with [`DkgConfig::new`] or [`DkgConfig::resharing`].
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(bound = "")]
#[non_exhaustive]
pub struct DkgConfig<V: Variant> {
    /// A unique session id (domain separation of every signature, proof and ciphertext).
    #[serde(with = "crate::codec::hex32")]
    pub session: [u8; 32],
    /// Who deals. For a fresh DKG the same committee as `players`; for a resharing the current
    /// share holders, whose seats are the old share indices.
    pub dealers: Committee,
    /// Who receives shares: seats `1..=n` are the new share indices.
    pub players: Committee,
    /// Degree of the new sharing.
    pub t: u32,
    /// For a resharing: the current group commitment (its degree is the old threshold).
    pub previous: Option<Commitment<V>>,
}

impl<V: Variant> DkgConfig<V> {
    /// A fresh DKG: `committee` both deals and receives, the new sharing has degree `t`.
    /// Call [`DkgConfig::validate`] (or [`crate::Participant::new`], which does) before use.
    pub fn new(session: [u8; 32], committee: Committee, t: u32) -> Self {
        DkgConfig {
            session,
            dealers: committee.clone(),
            players: committee,
            t,
            previous: None,
        }
    }

    /// A resharing of the key committed to by `previous`: the current holders `dealers` deal
    /// their shares to `players` under a new degree `t` (the group key stays the same).
    pub fn resharing(
        session: [u8; 32],
        dealers: Committee,
        players: Committee,
        t: u32,
        previous: Commitment<V>,
    ) -> Self {
        DkgConfig {
            session,
            dealers,
            players,
            t,
            previous: Some(previous),
        }
    }

    /// Validate committees and thresholds.
    pub fn validate(&self) -> Result<(), Error> {
        self.dealers.validate()?;
        self.players.validate()?;
        let n = self.players.seats();
        if self.t >= n {
            return Err(Error::InvalidConfig(format!(
                "threshold t = {} must be < n = {n}",
                self.t
            )));
        }
        if let Some(prev) = &self.previous {
            if prev.degree() >= self.dealers.seats() {
                return Err(Error::InvalidConfig(format!(
                    "old threshold {} must be < old seats {}",
                    prev.degree(),
                    self.dealers.seats()
                )));
            }
        }
        Ok(())
    }

    /// Qualified dealers needed to finish: `t + 1` for a fresh DKG (so that at least one honest
    /// dealer contributes whenever at most `t` seats are corrupt: fewer would let the
    /// corrupt dealers know the group secret), `t_old + 1` for a resharing.
    pub fn dealers_needed(&self) -> usize {
        self.previous
            .as_ref()
            .map_or(self.t as usize + 1, |p| p.quorum())
    }

    /// The digest of the whole configuration: session id, variant, threshold, both committees
    /// (ids, seats, signing and encryption keys) and, for a resharing, the previous
    /// commitment. Every signature, proof, transcript and ciphertext of the session is bound
    /// to it, so a message from another session *or another configuration with the same
    /// session id* never verifies.
    pub fn digest(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(b"conclave-dkg/v2/config");
        h.update(self.session);
        h.update((V::NAME.len() as u32).to_be_bytes());
        h.update(V::NAME.as_bytes());
        h.update(self.t.to_be_bytes());
        for committee in [&self.dealers, &self.players] {
            committee.hash_into(&mut h);
        }
        match &self.previous {
            None => h.update([0u8]),
            Some(prev) => {
                h.update([1u8]);
                let bytes = prev.to_bytes();
                h.update((bytes.len() as u32).to_be_bytes());
                h.update(bytes);
            }
        }
        h.finalize().into()
    }

    /// The size limits of this session's messages, for [`crate::Message::from_bytes_limited`]
    /// and the checks on arrival.
    pub fn limits(&self) -> Limits {
        Limits {
            dealer_seats: self.dealers.seats(),
            player_seats: self.players.seats(),
            commitment_points: self.t.saturating_add(2),
        }
    }
}

/// Size limits of decoded messages: every list a peer controls is bounded by the configuration
/// before anything is allocated for it or any point is decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Dealer seats: dealings per message, entries per complaint, justifications per message.
    pub dealer_seats: u32,
    /// Player seats: ciphertexts per dealing, seats per complaint entry, shares per
    /// justification.
    pub player_seats: u32,
    /// Points per commitment (`t + 2`: one more than valid, so that a dealing of the wrong
    /// degree can still be received and proven faulty).
    pub commitment_points: u32,
}

impl Limits {
    /// The limits without a configuration: every list up to [`MAX_SEATS`].
    pub const MAX: Limits = Limits {
        dealer_seats: MAX_SEATS,
        player_seats: MAX_SEATS,
        commitment_points: MAX_SEATS,
    };
}

/// A participant's long-term secret keys: a Schnorr signing key and a static encryption key.
/// Zeroized on drop; `Debug` is redacted.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct IdentityKeys {
    /// Signing key.
    pub signing: SecretScalar,
    /// Encryption key.
    pub encryption: SecretScalar,
}

impl IdentityKeys {
    /// Fresh random keys.
    pub fn random(rng: &mut (impl RngCore + CryptoRng)) -> Self {
        IdentityKeys {
            signing: SecretScalar::random(rng),
            encryption: SecretScalar::random(rng),
        }
    }

    /// A committee member with these keys.
    pub fn member(&self, id: u32, seats: Vec<u32>) -> Member {
        Member {
            id,
            signing_key: self.signing.public(),
            encryption_key: self.encryption.public(),
            seats,
        }
    }
}
