//! Canonical binary encoding of [`Message`]s and a decoder that rejects anything else.
//!
//! Layout: one tag byte (`1` proposal, `2` vote, `3` decided, `4` sync request, `5` bundle) followed by the
//! fields in declaration order; integers big-endian, byte strings as `u32` length ‖ bytes,
//! [`VoteValue`] as `0x00` or `0x01 ‖ id`. The decoder is strict: unknown tags or codes, lengths
//! beyond [`MAX_FIELD_LEN`], truncation and trailing bytes are typed errors, so every accepted
//! byte string re-encodes to itself.
//!
//! [`decode_with`] also checks every byte field against the sizes the adapters produce
//! ([`WireSizes`]: a scheme's signatures and credentials have fixed sizes, values a configured
//! maximum) from its length prefix, before the field is read or copied, so a peer cannot make
//! a node allocate or hold a field of any other size. The engine decodes with it.

use crate::types::{
    Bundle, Certificate, Decided, Epoch, Height, Message, NodeId, Period, Proposal, ValueId, Vote,
    VoteStep, VoteValue,
};
use thiserror::Error;

/// The longest byte field (value, signature, credential) the decoder accepts: 1 MiB.
pub const MAX_FIELD_LEN: usize = 1 << 20;

/// The longest seed seal the decoder accepts (sampled mode: 84 bytes; empty in threshold mode).
pub const MAX_SEAL_LEN: usize = 128;

/// The length a byte field must have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldSize {
    /// Exactly this many bytes.
    Exact(usize),
    /// At most this many bytes.
    AtMost(usize),
}

impl FieldSize {
    /// True if a field of `len` bytes has this size.
    pub fn accepts(self, len: usize) -> bool {
        match self {
            FieldSize::Exact(n) => len == n,
            FieldSize::AtMost(n) => len <= n,
        }
    }
}

/// The sizes of every byte field of a message, as one committee's adapters produce them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WireSizes {
    /// A partial (vote, proposal or beacon-share) signature.
    pub share: FieldSize,
    /// A combined signature: a certificate, its beacon, a bundle.
    pub certificate: FieldSize,
    /// A proposer credential.
    pub proposer_credential: FieldSize,
    /// A voter credential.
    pub voter_credential: FieldSize,
    /// The largest value (in a proposal or a decision).
    pub max_value: usize,
}

impl WireSizes {
    /// Any field up to [`MAX_FIELD_LEN`] (what [`decode`] accepts).
    pub const ANY: WireSizes = WireSizes {
        share: FieldSize::AtMost(MAX_FIELD_LEN),
        certificate: FieldSize::AtMost(MAX_FIELD_LEN),
        proposer_credential: FieldSize::AtMost(MAX_FIELD_LEN),
        voter_credential: FieldSize::AtMost(MAX_FIELD_LEN),
        max_value: MAX_FIELD_LEN,
    };
}

/// Why bytes did not decode to a [`Message`].
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ended inside a field.
    #[error("truncated message")]
    Truncated,
    /// The message tag is unknown.
    #[error("unknown message tag {0}")]
    UnknownTag(u8),
    /// The vote step code is unknown.
    #[error("unknown vote step {0}")]
    UnknownStep(u8),
    /// The vote value tag is neither ⊥ nor value.
    #[error("unknown vote value tag {0}")]
    UnknownValueTag(u8),
    /// A byte field is longer than [`MAX_FIELD_LEN`].
    #[error("field of {0} bytes exceeds the limit")]
    FieldTooLong(usize),
    /// Bytes remain after a complete message.
    #[error("{0} trailing bytes")]
    TrailingBytes(usize),
    /// A byte field does not have the size the committee's scheme gives it ([`WireSizes`]).
    #[error("{field} of {len} bytes has the wrong size")]
    WrongFieldSize {
        /// Which field.
        field: &'static str,
        /// Its length prefix.
        len: usize,
    },
}

/// Encodes a message canonically.
pub fn encode(message: &Message) -> Vec<u8> {
    let mut w = Writer(Vec::with_capacity(128));
    match message {
        Message::Proposal(p) => {
            w.u8(1);
            w.u64(p.epoch.0);
            w.u64(p.height.0);
            w.u32(p.period.0);
            w.u32(p.proposer.0);
            w.bytes(&p.credential);
            w.bytes(&p.value);
            w.bytes(&p.signature);
            w.bytes(&p.seal);
        }
        Message::Vote(v) => {
            w.u8(2);
            w.u64(v.epoch.0);
            w.u64(v.height.0);
            w.u32(v.period.0);
            w.u8(v.step.code());
            w.value(v.value);
            w.u32(v.voter.0);
            w.bytes(&v.credential);
            w.bytes(&v.signature);
            w.bytes(&v.beacon_share);
        }
        Message::Decided(d) => {
            w.u8(3);
            let c = &d.certificate;
            w.u64(c.epoch.0);
            w.u64(c.height.0);
            w.u32(c.period.0);
            w.0.extend_from_slice(&c.value_id.0);
            w.bytes(&c.signature);
            w.bytes(&c.beacon);
            w.bytes(&c.seal);
            w.bytes(&d.value);
        }
        Message::SyncRequest { height } => {
            w.u8(4);
            w.u64(height.0);
        }
        Message::Bundle(b) => {
            w.u8(5);
            w.u64(b.epoch.0);
            w.u64(b.height.0);
            w.u32(b.period.0);
            w.u8(b.step.code());
            w.value(b.value);
            w.bytes(&b.signature);
        }
    }
    w.0
}

/// Decodes a message, rejecting any non-canonical input (byte fields up to [`MAX_FIELD_LEN`]).
pub fn decode(bytes: &[u8]) -> Result<Message, DecodeError> {
    decode_with(bytes, &WireSizes::ANY)
}

/// Decodes a message whose byte fields have the given sizes (a beacon share is empty or a
/// share; no field beyond [`MAX_FIELD_LEN`] in any case), rejecting any non-canonical input.
/// Each size is checked on the field's length prefix, before the field is copied.
pub fn decode_with(bytes: &[u8], sizes: &WireSizes) -> Result<Message, DecodeError> {
    let mut r = Reader { bytes, pos: 0 };
    let value_size = FieldSize::AtMost(sizes.max_value);
    let message = match r.u8()? {
        1 => Message::Proposal(Proposal {
            epoch: Epoch(r.u64()?),
            height: Height(r.u64()?),
            period: Period(r.u32()?),
            proposer: NodeId(r.u32()?),
            credential: r.sized("proposer credential", sizes.proposer_credential)?,
            value: r.sized("value", value_size)?,
            signature: r.sized("signature", sizes.share)?,
            seal: r.sized("seal", FieldSize::AtMost(MAX_SEAL_LEN))?,
        }),
        2 => Message::Vote(Vote {
            epoch: Epoch(r.u64()?),
            height: Height(r.u64()?),
            period: Period(r.u32()?),
            step: {
                let code = r.u8()?;
                VoteStep::from_code(code).ok_or(DecodeError::UnknownStep(code))?
            },
            value: r.value()?,
            voter: NodeId(r.u32()?),
            credential: r.sized("voter credential", sizes.voter_credential)?,
            signature: r.sized("signature", sizes.share)?,
            beacon_share: {
                let share = sizes.share;
                let empty_or_share = move |len| len == 0 || share.accepts(len);
                r.sized_by("beacon share", &empty_or_share)?
            },
        }),
        3 => Message::Decided(Decided {
            certificate: Certificate {
                epoch: Epoch(r.u64()?),
                height: Height(r.u64()?),
                period: Period(r.u32()?),
                value_id: ValueId(r.array()?),
                signature: r.sized("certificate", sizes.certificate)?,
                beacon: r.sized("beacon", sizes.certificate)?,
                seal: r.sized("seal", FieldSize::AtMost(MAX_SEAL_LEN))?,
            },
            value: r.sized("value", value_size)?,
        }),
        4 => Message::SyncRequest {
            height: Height(r.u64()?),
        },
        5 => Message::Bundle(Bundle {
            epoch: Epoch(r.u64()?),
            height: Height(r.u64()?),
            period: Period(r.u32()?),
            step: {
                let code = r.u8()?;
                VoteStep::from_code(code).ok_or(DecodeError::UnknownStep(code))?
            },
            value: r.value()?,
            signature: r.sized("bundle signature", sizes.certificate)?,
        }),
        tag => return Err(DecodeError::UnknownTag(tag)),
    };
    let rest = bytes.len() - r.pos;
    if rest != 0 {
        return Err(DecodeError::TrailingBytes(rest));
    }
    Ok(message)
}

struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn bytes(&mut self, b: &[u8]) {
        // Lengths above u32::MAX cannot be produced by the engine (fields are bounded).
        self.u32(b.len() as u32);
        self.0.extend_from_slice(b);
    }
    fn value(&mut self, v: VoteValue) {
        match v {
            VoteValue::Bottom => self.u8(0),
            VoteValue::Value(id) => {
                self.u8(1);
                self.0.extend_from_slice(&id.0);
            }
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], DecodeError> {
        let end = self.pos.checked_add(n).ok_or(DecodeError::Truncated)?;
        let out = self
            .bytes
            .get(self.pos..end)
            .ok_or(DecodeError::Truncated)?;
        self.pos = end;
        Ok(out)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }
    fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array()?))
    }
    fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array()?))
    }
    fn sized(&mut self, field: &'static str, size: FieldSize) -> Result<Vec<u8>, DecodeError> {
        self.sized_by(field, &|len| size.accepts(len))
    }
    fn sized_by(
        &mut self,
        field: &'static str,
        ok: &dyn Fn(usize) -> bool,
    ) -> Result<Vec<u8>, DecodeError> {
        let len = self.u32()? as usize;
        if len > MAX_FIELD_LEN {
            return Err(DecodeError::FieldTooLong(len));
        }
        if !ok(len) {
            return Err(DecodeError::WrongFieldSize { field, len });
        }
        Ok(self.take(len)?.to_vec())
    }
    fn value(&mut self) -> Result<VoteValue, DecodeError> {
        match self.u8()? {
            0 => Ok(VoteValue::Bottom),
            1 => Ok(VoteValue::Value(ValueId(self.array()?))),
            tag => Err(DecodeError::UnknownValueTag(tag)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_vote() -> Message {
        Message::Vote(Vote {
            epoch: Epoch(1),
            height: Height(7),
            period: Period(2),
            step: VoteStep::Cert,
            value: VoteValue::Value(ValueId([9; 32])),
            voter: NodeId(3),
            credential: vec![],
            signature: vec![1, 2, 3],
            beacon_share: vec![4, 5],
        })
    }

    #[test]
    fn round_trips_every_message_kind() {
        let messages = vec![
            sample_vote(),
            Message::SyncRequest { height: Height(5) },
            Message::Bundle(Bundle {
                epoch: Epoch(3),
                height: Height(4),
                period: Period(5),
                step: VoteStep::Next,
                value: VoteValue::Bottom,
                signature: vec![6; 32],
            }),
            Message::Proposal(Proposal {
                epoch: Epoch(0),
                height: Height(1),
                period: Period(1),
                proposer: NodeId(2),
                credential: vec![7; 32],
                value: b"hello".to_vec(),
                signature: vec![8; 32],
                seal: vec![9; 84],
            }),
            Message::Decided(Decided {
                certificate: Certificate {
                    epoch: Epoch(0),
                    height: Height(1),
                    period: Period(1),
                    value_id: ValueId([1; 32]),
                    signature: vec![2; 32],
                    beacon: vec![3; 32],
                    seal: vec![4; 84],
                },
                value: b"v".to_vec(),
            }),
        ];
        for m in messages {
            assert_eq!(decode(&encode(&m)), Ok(m));
        }
    }

    #[test]
    fn rejects_truncation_trailing_and_bad_codes() {
        let bytes = encode(&sample_vote());
        for cut in 0..bytes.len() {
            assert_eq!(
                decode(&bytes[..cut]),
                Err(DecodeError::Truncated),
                "cut at {cut}"
            );
        }
        let mut long = bytes.clone();
        long.push(0);
        assert_eq!(decode(&long), Err(DecodeError::TrailingBytes(1)));
        // Codes 4 ..= 3 + MAX_NEXT_K are the next_k steps and 253 ..= 255 the fast-recovery
        // steps; 0 and everything in between are unknown.
        for code in [0u8, 4 + VoteStep::MAX_NEXT_K, 252] {
            let mut bad_step = bytes.clone();
            bad_step[1 + 8 + 8 + 4] = code;
            assert_eq!(decode(&bad_step), Err(DecodeError::UnknownStep(code)));
        }
        let mut next_k = bytes.clone();
        next_k[1 + 8 + 8 + 4] = 9;
        assert!(matches!(decode(&next_k), Ok(Message::Vote(v)) if v.step == VoteStep::NextK(6)));
        for (code, step) in [
            (253, VoteStep::Late),
            (254, VoteStep::Redo),
            (255, VoteStep::Down),
        ] {
            let mut recovery = bytes.clone();
            recovery[1 + 8 + 8 + 4] = code;
            assert!(matches!(decode(&recovery), Ok(Message::Vote(v)) if v.step == step));
            assert_eq!(VoteStep::from_code(code), Some(step));
            assert_eq!(step.code(), code);
            // Same length as any other vote: the step is one byte.
            assert_eq!(encode(&decode(&recovery).unwrap()).len(), bytes.len());
        }
        let mut bad_value = bytes.clone();
        bad_value[1 + 8 + 8 + 4 + 1] = 2;
        assert_eq!(decode(&bad_value), Err(DecodeError::UnknownValueTag(2)));
        assert_eq!(decode(&[0]), Err(DecodeError::UnknownTag(0)));
        let mut huge = vec![2u8];
        huge.extend_from_slice(&[0; 20]); // epoch, height, period
        huge.extend_from_slice(&[1, 1]); // step soft, value tag
        huge.extend_from_slice(&[0; 32]); // value id
        huge.extend_from_slice(&[0, 0, 0, 1]); // voter
        huge.extend_from_slice(&u32::MAX.to_be_bytes()); // credential length
        assert_eq!(
            decode(&huge),
            Err(DecodeError::FieldTooLong(u32::MAX as usize))
        );
    }

    #[test]
    fn sized_decoding_rejects_other_lengths_from_the_prefix() {
        let sizes = WireSizes {
            share: FieldSize::Exact(3),
            certificate: FieldSize::Exact(32),
            proposer_credential: FieldSize::Exact(32),
            voter_credential: FieldSize::Exact(0),
            max_value: 8,
        };
        let Message::Vote(vote) = sample_vote() else {
            unreachable!()
        };
        let mut ok = vote.clone();
        ok.beacon_share = vec![4, 5, 6];
        let ok = Message::Vote(ok);
        assert_eq!(decode_with(&encode(&ok), &sizes), Ok(ok));
        // The sample's 2-byte beacon share is neither empty nor a share.
        assert_eq!(
            decode_with(&encode(&sample_vote()), &sizes),
            Err(DecodeError::WrongFieldSize {
                field: "beacon share",
                len: 2
            })
        );
        let mut long = vote.clone();
        long.signature = vec![0; MAX_FIELD_LEN];
        assert_eq!(
            decode_with(&encode(&Message::Vote(long)), &sizes),
            Err(DecodeError::WrongFieldSize {
                field: "signature",
                len: MAX_FIELD_LEN
            })
        );
        let mut credential = vote;
        credential.credential = vec![1];
        assert_eq!(
            decode_with(&encode(&Message::Vote(credential)), &sizes),
            Err(DecodeError::WrongFieldSize {
                field: "voter credential",
                len: 1
            })
        );
        let proposal = Proposal {
            epoch: Epoch(0),
            height: Height(1),
            period: Period(1),
            proposer: NodeId(2),
            credential: vec![7; 32],
            value: vec![1; 9],
            signature: vec![8; 3],
            seal: Vec::new(),
        };
        assert_eq!(
            decode_with(&encode(&Message::Proposal(proposal)), &sizes),
            Err(DecodeError::WrongFieldSize {
                field: "value",
                len: 9
            })
        );
        // A length prefix announcing a huge field fails before anything is read.
        let Message::Vote(mut empty) = sample_vote() else {
            unreachable!()
        };
        empty.credential.clear();
        empty.signature.clear();
        empty.beacon_share.clear();
        let mut huge = encode(&Message::Vote(empty));
        huge.truncate(huge.len() - 12); // the three empty fields' length prefixes
        huge.extend_from_slice(&(MAX_FIELD_LEN as u32).to_be_bytes());
        assert_eq!(
            decode_with(&huge, &sizes),
            Err(DecodeError::WrongFieldSize {
                field: "voter credential",
                len: MAX_FIELD_LEN
            })
        );
    }
}
