//! Canonical binary encoding of [`Message`]s and a decoder that rejects anything else.
//!
//! Layout: one tag byte (`1` proposal, `2` vote, `3` decided, `4` sync request, `5` bundle) followed by the
//! fields in declaration order; integers big-endian, byte strings as `u32` length ‖ bytes,
//! [`VoteValue`] as `0x00` or `0x01 ‖ id`. The decoder is strict: unknown tags or codes, lengths
//! beyond [`MAX_FIELD_LEN`], truncation and trailing bytes are typed errors, so every accepted
//! byte string re-encodes to itself.

use crate::types::{
    Bundle, Certificate, Decided, Epoch, Height, Message, NodeId, Period, Proposal, ValueId, Vote,
    VoteStep, VoteValue,
};
use thiserror::Error;

/// The longest byte field (value, signature, credential) the decoder accepts: 1 MiB.
pub const MAX_FIELD_LEN: usize = 1 << 20;

/// Why bytes did not decode to a [`Message`].
#[derive(Clone, Debug, PartialEq, Eq, Error)]
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

/// Decodes a message, rejecting any non-canonical input.
pub fn decode(bytes: &[u8]) -> Result<Message, DecodeError> {
    let mut r = Reader { bytes, pos: 0 };
    let message = match r.u8()? {
        1 => Message::Proposal(Proposal {
            epoch: Epoch(r.u64()?),
            height: Height(r.u64()?),
            period: Period(r.u32()?),
            proposer: NodeId(r.u32()?),
            credential: r.bytes()?,
            value: r.bytes()?,
            signature: r.bytes()?,
            seal: r.bytes()?,
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
            credential: r.bytes()?,
            signature: r.bytes()?,
            beacon_share: r.bytes()?,
        }),
        3 => Message::Decided(Decided {
            certificate: Certificate {
                epoch: Epoch(r.u64()?),
                height: Height(r.u64()?),
                period: Period(r.u32()?),
                value_id: ValueId(r.array()?),
                signature: r.bytes()?,
                beacon: r.bytes()?,
                seal: r.bytes()?,
            },
            value: r.bytes()?,
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
            signature: r.bytes()?,
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
    fn bytes(&mut self) -> Result<Vec<u8>, DecodeError> {
        let len = self.u32()? as usize;
        if len > MAX_FIELD_LEN {
            return Err(DecodeError::FieldTooLong(len));
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
        // Codes 4 ..= 3 + MAX_NEXT_K are the next_k steps; 0 and everything above are unknown.
        for code in [0u8, 4 + VoteStep::MAX_NEXT_K, 255] {
            let mut bad_step = bytes.clone();
            bad_step[1 + 8 + 8 + 4] = code;
            assert_eq!(decode(&bad_step), Err(DecodeError::UnknownStep(code)));
        }
        let mut next_k = bytes.clone();
        next_k[1 + 8 + 8 + 4] = 9;
        assert!(matches!(decode(&next_k), Ok(Message::Vote(v)) if v.step == VoteStep::NextK(6)));
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
}
