//! Typed round messages. Everything here crosses the wire: round 1 [`Dealing`] (broadcast:
//! commitment, ephemeral key with proof of knowledge, one ciphertext per player seat), round 2
//! [`Complaint`] (broadcast, with verifiable evidence), round 3 [`Justification`] (broadcast, the
//! disputed shares in the clear). Each is wrapped in [`Signed`] by its sender's Schnorr key over
//! the configuration digest ([`crate::DkgConfig::digest`]: session id, variant, threshold, both
//! committees, previous commitment) and the canonical encoding, so signed messages serve as
//! transferable evidence and never verify in another session or configuration.
//!
//! Every signing function here takes that digest as its `context`.
//!
//! Canonical encoding: big-endian integers, length-prefixed lists and byte strings, compressed
//! points, 32-byte big-endian scalars. Decoders validate everything and never panic.

use blstrs::Scalar;
use conclave_threshold_sig::{Commitment, Variant};
use rand_core::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::codec::{Reader, Writer};
use crate::config::Limits;
use crate::encryption::SharedSecret;
use crate::error::Error;
use crate::sigma::{DleqProof, Point, SchnorrSignature, SecretScalar};

/// Round 1 (Deal): dealer seat `dealer` commits to its polynomial and encrypts `f(j)` to every
/// player seat `j`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(bound = "")]
pub struct Dealing<V: Variant> {
    /// Dealer seat (in the dealer committee).
    pub dealer: u32,
    /// Feldman commitment to the dealer's polynomial (degree must be `t`).
    pub commitment: Commitment<V>,
    /// Ephemeral encryption key `R = r·B` (ristretto255).
    pub ephemeral: Point,
    /// Schnorr proof of knowledge of `r`, bound to the session and the dealer seat.
    pub ephemeral_proof: SchnorrSignature,
    /// `ciphertexts[j-1]` encrypts the share of player seat `j`.
    pub ciphertexts: Vec<CipherText>,
}

/// The longest ciphertext a decoder accepts (a valid one is
/// [`crate::encryption::CIPHERTEXT_SIZE`] bytes; a little more is kept so that a malformed
/// dealing can still be received and proven faulty).
pub const MAX_CIPHERTEXT_SIZE: usize = 2 * crate::encryption::CIPHERTEXT_SIZE;

/// One encrypted share.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CipherText(#[serde(with = "crate::codec::hex_bytes")] pub Vec<u8>);

impl<V: Variant> Dealing<V> {
    /// Hash binding the configuration digest `context`, dealer, commitment and ephemeral key:
    /// the associated data of every ciphertext of this dealing.
    pub fn transcript_hash(&self, context: &[u8; 32]) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(b"conclave-dkg/v2/dealing");
        h.update(context);
        h.update(self.dealer.to_be_bytes());
        h.update(self.commitment.to_bytes());
        h.update(self.ephemeral.to_bytes());
        h.finalize().into()
    }

    /// The digest the dealer signs and complaints name: [`Self::digest_for`] with the transcript
    /// hash computed already.
    ///
    /// It covers the transcript hash (configuration, dealer, commitment, `R`),
    /// the ephemeral proof and every ciphertext. Taking `transcript` from
    /// [`Self::transcript_hash`] lets a verifier encode the commitment once for both uses.
    pub fn signed_digest(&self, transcript: &[u8; 32]) -> [u8; 32] {
        let mut w = Writer(Vec::with_capacity(
            64 + self.ciphertexts.len() * (4 + crate::encryption::CIPHERTEXT_SIZE),
        ));
        self.ephemeral_proof.encode(&mut w);
        w.u32(self.ciphertexts.len() as u32);
        for c in &self.ciphertexts {
            w.bytes(&c.0);
        }
        let mut h = Sha256::new();
        h.update(b"conclave-dkg/v2/signed-dealing");
        h.update(transcript);
        h.update(&w.0);
        h.finalize().into()
    }

    /// The digest that identifies this exact dealing in configuration `context`: what its dealer
    /// signs, what a complaint names and what the complaint's DLEQ proof is bound to. It covers
    /// every ciphertext, so two dealings that differ anywhere have different digests.
    pub fn digest_for(&self, context: &[u8; 32]) -> [u8; 32] {
        self.signed_digest(&self.transcript_hash(context))
    }

    /// The message the ephemeral proof of knowledge signs.
    pub(crate) fn ephemeral_context(context: &[u8; 32], dealer: u32) -> Vec<u8> {
        let mut v = context.to_vec();
        v.extend_from_slice(&dealer.to_be_bytes());
        v
    }

    /// Encrypt `shares[j-1]` to `keys[j-1]` (the encryption key of the owner of seat `j`), in
    /// the configuration with digest `context`.
    pub fn create(
        context: &[u8; 32],
        dealer: u32,
        commitment: Commitment<V>,
        shares: &[Scalar],
        keys: &[Point],
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Self {
        let r = SecretScalar::random(rng);
        let ephemeral = r.public();
        let ephemeral_proof = SchnorrSignature::sign(
            &r,
            b"ephemeral",
            &Self::ephemeral_context(context, dealer),
            rng,
        );
        let mut dealing = Dealing {
            dealer,
            commitment,
            ephemeral,
            ephemeral_proof,
            ciphertexts: Vec::new(),
        };
        let h = dealing.transcript_hash(context);
        // One Diffie–Hellman per distinct key (weighted players hold several seats), all
        // encoded with one inversion.
        let mut distinct: Vec<&Point> = Vec::new();
        let slots: Vec<usize> = keys
            .iter()
            .map(|key| {
                distinct.iter().position(|p| *p == key).unwrap_or_else(|| {
                    distinct.push(key);
                    distinct.len() - 1
                })
            })
            .collect();
        let points: Zeroizing<Vec<_>> =
            Zeroizing::new(distinct.iter().map(|key| r.dh_point(key)).collect());
        let secrets = SharedSecret::batch(&points);
        dealing.ciphertexts = shares
            .iter()
            .zip(slots)
            .zip(1..)
            .map(|((s, slot), seat)| CipherText(secrets[slot].encrypt_share(&h, seat, s)))
            .collect();
        dealing
    }

    pub(crate) fn encode(&self, w: &mut Writer) {
        w.u32(self.dealer);
        w.bytes(&self.commitment.to_bytes());
        w.point(&self.ephemeral);
        self.ephemeral_proof.encode(w);
        w.u32(self.ciphertexts.len() as u32);
        for c in &self.ciphertexts {
            w.bytes(&c.0);
        }
    }

    pub(crate) fn decode(r: &mut Reader<'_>, limits: &Limits) -> Result<Self, Error> {
        let dealer = r.u32()?;
        let commitment = r.bytes()?;
        if commitment.len() > limits.commitment_points as usize * V::PUBLIC_KEY_SIZE {
            return Err(Error::Malformed(
                "commitment longer than the configuration allows",
            ));
        }
        let commitment = Commitment::from_bytes(commitment)?;
        let ephemeral = r.point()?;
        let ephemeral_proof = SchnorrSignature::decode(r)?;
        let count = r.len_at_most(limits.player_seats)?;
        // Each ciphertext takes at least its 4-byte length prefix.
        let mut ciphertexts = Vec::with_capacity(count.min(r.rest().len() / 4));
        for _ in 0..count {
            let c = r.bytes()?;
            if c.len() > MAX_CIPHERTEXT_SIZE {
                return Err(Error::Malformed("ciphertext too long"));
            }
            ciphertexts.push(CipherText(c.to_vec()));
        }
        Ok(Dealing {
            dealer,
            commitment,
            ephemeral,
            ephemeral_proof,
            ciphertexts,
        })
    }
}

/// Round 2 evidence against one dealing: the complainer reveals `K = x·R` for that dealing with a
/// DLEQ proof, so anyone can decrypt the complainer's ciphertexts of that dealing and check them.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ComplaintEntry {
    /// The accused dealer seat.
    pub dealer: u32,
    /// The exact dealing disputed: its [`Dealing::digest_for`], which covers every
    /// ciphertext. The DLEQ proof is bound to it, and evidence about this entry must quote
    /// the dealing with this digest.
    pub dealing: [u8; 32],
    /// The complainer's seats whose shares are missing, undecryptable or inconsistent.
    pub seats: Vec<u32>,
    /// The revealed Diffie–Hellman point `x·R`.
    pub shared_point: Point,
    /// Proof that `log_B X = log_R K`, with the dealing digest as context.
    pub proof: DleqProof,
}

/// Round 2 (Complain): a player's complaints against any number of dealings.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Complaint {
    /// Complainer's participant id (player committee).
    pub complainer: u32,
    /// One entry per accused dealing.
    pub entries: Vec<ComplaintEntry>,
}

impl Complaint {
    pub(crate) fn encode(&self, w: &mut Writer) {
        w.u32(self.complainer);
        w.u32(self.entries.len() as u32);
        for e in &self.entries {
            w.u32(e.dealer);
            w.0.extend_from_slice(&e.dealing);
            w.u32(e.seats.len() as u32);
            for s in &e.seats {
                w.u32(*s);
            }
            w.point(&e.shared_point);
            e.proof.encode(w);
        }
    }
    pub(crate) fn decode(r: &mut Reader<'_>, limits: &Limits) -> Result<Self, Error> {
        let complainer = r.u32()?;
        let count = r.len_at_most(limits.dealer_seats)?;
        let mut entries: Vec<ComplaintEntry> = Vec::with_capacity(count.min(r.rest().len() / 4));
        for _ in 0..count {
            let dealer = r.u32()?;
            let dealing = r.array::<32>()?;
            let ns = r.len_at_most(limits.player_seats)?;
            let mut seats = Vec::with_capacity(ns.min(r.rest().len() / 4));
            for _ in 0..ns {
                seats.push(r.u32()?);
            }
            entries.push(ComplaintEntry {
                dealer,
                dealing,
                seats,
                shared_point: r.point()?,
                proof: DleqProof::decode(r)?,
            });
        }
        let complaint = Complaint {
            complainer,
            entries,
        };
        complaint.check_shape(limits)?;
        Ok(complaint)
    }

    /// Structural checks a complaint must pass before anything else is done with it: at most
    /// one entry per dealer seat (so one complaint costs at most one DLEQ check and decryption
    /// per dealer), every entry naming a dealer seat and at least one seat, no seat twice.
    pub fn check_shape(&self, limits: &Limits) -> Result<(), Error> {
        if self.entries.len() > limits.dealer_seats as usize {
            return Err(Error::Malformed("more complaint entries than dealer seats"));
        }
        let mut dealers = std::collections::BTreeSet::new();
        for e in &self.entries {
            if e.dealer == 0 || e.dealer > limits.dealer_seats {
                return Err(Error::Malformed("complaint names an unknown dealer seat"));
            }
            if !dealers.insert(e.dealer) {
                return Err(Error::Malformed("complaint names a dealer twice"));
            }
            if e.seats.is_empty() || e.seats.len() > limits.player_seats as usize {
                return Err(Error::Malformed(
                    "complaint entry with no or too many seats",
                ));
            }
            let mut seats = std::collections::BTreeSet::new();
            if !e.seats.iter().all(|s| seats.insert(*s)) {
                return Err(Error::Malformed("complaint entry names a seat twice"));
            }
        }
        Ok(())
    }
}

/// Round 3 (Justify): an accused dealer reveals the disputed shares in the clear.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Justification {
    /// The accused dealer seat.
    pub dealer: u32,
    /// The dealing justified ([`Dealing::digest_for`]): revealed shares are checked against
    /// its commitment only.
    pub dealing: [u8; 32],
    /// `(player seat, f(seat))` for every upheld complaint.
    pub shares: Vec<RevealedShare>,
}

/// A share revealed in a justification (public from then on).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RevealedShare {
    /// Player seat.
    pub seat: u32,
    /// The dealer's polynomial at `seat`.
    #[serde(with = "crate::codec::scalar")]
    pub value: Scalar,
}

impl Justification {
    pub(crate) fn encode(&self, w: &mut Writer) {
        w.u32(self.dealer);
        w.0.extend_from_slice(&self.dealing);
        w.u32(self.shares.len() as u32);
        for s in &self.shares {
            w.u32(s.seat);
            w.scalar(&s.value);
        }
    }
    pub(crate) fn decode(r: &mut Reader<'_>, limits: &Limits) -> Result<Self, Error> {
        let dealer = r.u32()?;
        let dealing = r.array::<32>()?;
        let count = r.len_at_most(limits.player_seats)?;
        let mut shares = Vec::with_capacity(count.min(r.rest().len() / 36));
        for _ in 0..count {
            shares.push(RevealedShare {
                seat: r.u32()?,
                value: r.scalar()?,
            });
        }
        Ok(Justification {
            dealer,
            dealing,
            shares,
        })
    }
}

/// A message body signed by its sender: Schnorr (ristretto255) over the body's domain and
/// `SHA-256(context ‖ canonical body)`, where `context` is the configuration digest.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(bound(
    serialize = "T: serde::Serialize",
    deserialize = "T: serde::Deserialize<'de>"
))]
pub struct Signed<T> {
    /// The body.
    pub body: T,
    /// The sender's signature.
    pub signature: SchnorrSignature,
}

/// A body that can be signed: its canonical encoding, signature domain and signed digest.
pub trait Body: Sized {
    /// Signature domain label.
    const DOMAIN: &'static [u8];
    /// Append the canonical encoding to `out`.
    fn encode_body(&self, out: &mut Vec<u8>);
    /// Decode from the front of `input`, advancing it, within `limits`.
    fn decode_body(input: &mut &[u8], limits: &Limits) -> Result<Self, Error>;
    /// The 32 bytes the sender signs: SHA-256 of a label, the configuration digest and the
    /// canonical body (so the Fiat–Shamir transcript absorbs 32 bytes, not a dealing of many
    /// kilobytes).
    fn digest(&self, context: &[u8; 32]) -> [u8; 32] {
        let mut out = b"conclave-dkg/v2/signed".to_vec();
        out.extend_from_slice(context);
        self.encode_body(&mut out);
        Sha256::digest(&out).into()
    }
}

macro_rules! body {
    ($ty:ty, $domain:expr $(, $g:ident)? $(; digest = $digest:expr)?) => {
        impl$(<$g: Variant>)? Body for $ty {
            const DOMAIN: &'static [u8] = $domain;
            $(
                fn digest(&self, session: &[u8; 32]) -> [u8; 32] {
                    ($digest)(self, session)
                }
            )?
            fn encode_body(&self, out: &mut Vec<u8>) {
                let mut w = Writer(std::mem::take(out));
                self.encode(&mut w);
                *out = w.0;
            }
            fn decode_body(input: &mut &[u8], limits: &Limits) -> Result<Self, Error> {
                let mut r = Reader::new(input);
                let v = Self::decode(&mut r, limits)?;
                *input = r.rest();
                Ok(v)
            }
        }
    };
}
body!(Dealing<V>, b"dealing", V; digest = |d: &Dealing<V>, s| d.signed_digest(&d.transcript_hash(s)));
body!(Complaint, b"complaint");
body!(Justification, b"justification");

impl<T: Body> Signed<T> {
    /// Sign `body` with `key` in the configuration with digest `context`.
    pub fn sign(
        context: &[u8; 32],
        body: T,
        key: &SecretScalar,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Self {
        let msg = body.digest(context);
        let signature = SchnorrSignature::sign(key, T::DOMAIN, &msg, rng);
        Signed { body, signature }
    }

    /// Verify the signature under `key` in the configuration with digest `context`.
    pub fn verify(&self, context: &[u8; 32], key: &Point) -> bool {
        self.signature
            .verify(key, T::DOMAIN, &self.body.digest(context))
    }

    pub(crate) fn encode(&self, w: &mut Writer) {
        self.body.encode_body(&mut w.0);
        self.signature.encode(w);
    }
    pub(crate) fn decode(r: &mut Reader<'_>, limits: &Limits) -> Result<Self, Error> {
        let mut rest = r.rest();
        let body = T::decode_body(&mut rest, limits)?;
        *r = Reader::new(rest);
        Ok(Signed {
            body,
            signature: SchnorrSignature::decode(r)?,
        })
    }
}

/// A broadcast message of one participant in one round; it covers all of the sender's seats.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(bound = "")]
pub enum Message<V: Variant> {
    /// Round 1: one signed dealing per dealer seat of the sender.
    Deal(Vec<Signed<Dealing<V>>>),
    /// Round 2: the sender's complaints.
    Complaint(Box<Signed<Complaint>>),
    /// Round 3: one signed justification per accused dealer seat of the sender.
    Justify(Vec<Signed<Justification>>),
}

impl<V: Variant> Message<V> {
    /// The round of this message: [`crate::Phase::Deal`], [`crate::Phase::Complain`] or
    /// [`crate::Phase::Justify`].
    pub fn round(&self) -> crate::Phase {
        match self {
            Message::Deal(_) => crate::Phase::Deal,
            Message::Complaint(_) => crate::Phase::Complain,
            Message::Justify(_) => crate::Phase::Justify,
        }
    }

    /// Check, without storing anything, that this message is one sender's in `config`: every
    /// item is signed by the member it names (the owner of each dealer seat, or the
    /// complainer) in this configuration's digest, and all items name the same member, which
    /// is returned. A host uses it to relay or order only authenticated messages, bounded
    /// per sender; [`crate::Participant`] checks the same on arrival.
    pub fn authenticate(&self, config: &crate::DkgConfig<V>) -> Result<u32, Error> {
        let context = config.digest();
        let limits = config.limits();
        let owner = |seat: u32| {
            config
                .dealers
                .owner_of(seat)
                .ok_or(Error::UnknownSender(seat))
        };
        let same = |ids: &mut Option<u32>, id: u32| match ids {
            Some(x) if *x != id => Err(Error::Malformed("items of different senders")),
            _ => {
                *ids = Some(id);
                Ok(())
            }
        };
        let mut sender = None;
        match self {
            Message::Deal(ds) => {
                if ds.len() > limits.dealer_seats as usize {
                    return Err(Error::Malformed("more dealings than dealer seats"));
                }
                for d in ds {
                    let m = owner(d.body.dealer)?;
                    same(&mut sender, m.id)?;
                    if !d.verify(&context, &m.signing_key) {
                        return Err(Error::InvalidSignature { sender: m.id });
                    }
                }
            }
            Message::Complaint(c) => {
                let id = c.body.complainer;
                let m = config.players.member(id).ok_or(Error::UnknownSender(id))?;
                c.body.check_shape(&limits)?;
                if !c.verify(&context, &m.signing_key) {
                    return Err(Error::InvalidSignature { sender: id });
                }
                sender = Some(id);
            }
            Message::Justify(js) => {
                if js.len() > limits.dealer_seats as usize {
                    return Err(Error::Malformed("more justifications than dealer seats"));
                }
                for j in js {
                    let m = owner(j.body.dealer)?;
                    same(&mut sender, m.id)?;
                    if !j.verify(&context, &m.signing_key) {
                        return Err(Error::InvalidSignature { sender: m.id });
                    }
                }
            }
        }
        sender.ok_or(Error::Malformed("a message with no items"))
    }

    /// Canonical encoding: a tag byte, then the body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::default();
        match self {
            Message::Deal(ds) => {
                w.u8(1);
                w.u32(ds.len() as u32);
                ds.iter().for_each(|d| d.encode(&mut w));
            }
            Message::Complaint(c) => {
                w.u8(2);
                c.encode(&mut w);
            }
            Message::Justify(js) => {
                w.u8(3);
                w.u32(js.len() as u32);
                js.iter().for_each(|j| j.encode(&mut w));
            }
        }
        w.0
    }

    /// Decode [`Message::to_bytes`] with no configuration at hand (every list up to
    /// [`Limits::MAX`]); rejects trailing bytes and invalid points or scalars. A participant's
    /// host should prefer [`Message::from_bytes_limited`] with [`crate::DkgConfig::limits`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        Self::from_bytes_limited(bytes, &Limits::MAX)
    }

    /// Decode [`Message::to_bytes`] within the size limits of a configuration: commitments,
    /// ciphertext lists, complaint entries and justification lists longer than the session
    /// allows are rejected before they are decoded.
    pub fn from_bytes_limited(bytes: &[u8], limits: &Limits) -> Result<Self, Error> {
        let mut r = Reader::new(bytes);
        let msg = match r.u8()? {
            1 => {
                let n = r.len_at_most(limits.dealer_seats)?;
                let mut v = Vec::with_capacity(n.min(64));
                for _ in 0..n {
                    v.push(Signed::decode(&mut r, limits)?);
                }
                Message::Deal(v)
            }
            2 => Message::Complaint(Box::new(Signed::decode(&mut r, limits)?)),
            3 => {
                let n = r.len_at_most(limits.dealer_seats)?;
                let mut v = Vec::with_capacity(n.min(64));
                for _ in 0..n {
                    v.push(Signed::decode(&mut r, limits)?);
                }
                Message::Justify(v)
            }
            _ => return Err(Error::Malformed("unknown message tag")),
        };
        r.finish()?;
        Ok(msg)
    }
}
