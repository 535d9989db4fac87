//! The engine's persisted state on disk: a compact, versioned binary encoding that never
//! rewrites a block.
//!
//! A [`PersistedState`] holds up to three copies of block-sized data: this node's own
//! proposals of the height (their values) and the last decision (its value). Re-encoding them
//! at every persist (each vote) as JSON made a 1 MiB block cost ~7 MB of JSON per persist.
//! Here the state is split:
//!
//! - the **header** (meta key [`crate::store::ENGINE_STATE`]): `"CNS" ‖ version 1 ‖ height u64 ‖
//!   period u32 ‖ seed[32] ‖ count u32 ‖ (0x00 | 0x01 ‖ id[32])* (previous period's next
//!   quorums) ‖ count u32 ‖ (len u32 ‖ vote)* (own votes, engine codec) ‖ count u32 ‖ period
//!   u32* (own proposals) ‖ last decision`, where the last decision is `0x00` (none), `0x01 ‖
//!   height u64` (the ledger holds it: it is applied in the same transaction as this header)
//!   or `0x02 ‖ len u32 ‖ decided` (engine codec, inline);
//! - each own **proposal** once, in the `engine_proposals` table under (height, period),
//!   written by the first persist that holds it and deleted when the height is left.
//!
//! All integers big-endian. Decoding is strict (typed [`StateError`], never a panic). A header
//! starting with `{` is the JSON of earlier versions and still restores.

use conclave_bft::codec;
use conclave_bft::types::{Decided, Height, Message, Period, Proposal, Seed, ValueId, VoteValue};
use conclave_bft::PersistedState;

/// The header's magic and version.
pub const STATE_MAGIC: &[u8; 4] = b"CNS\x01";

/// Why a stored engine state does not restore.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// The bytes end early, have trailing bytes or an unknown code.
    #[error("malformed engine state: {0}")]
    Malformed(&'static str),
    /// An embedded engine message does not decode.
    #[error("engine state: {0}")]
    Codec(#[from] codec::DecodeError),
    /// The legacy JSON does not parse.
    #[error("engine state (JSON): {0}")]
    Json(#[from] serde_json::Error),
    /// A part it names is not in the store.
    #[error("engine state: missing {0}")]
    Missing(String),
}

/// Where the last decision of a state goes.
pub enum LastDecided<'a> {
    /// The ledger holds it at this height (same transaction).
    InLedger(u64),
    /// Written inline.
    Inline(&'a Decided),
}

/// Encode the header of `state` (its proposals are stored apart, see the module docs).
pub fn encode_header(state: &PersistedState, last: Option<LastDecided<'_>>) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 + 300 * state.own_votes.len());
    out.extend_from_slice(STATE_MAGIC);
    out.extend_from_slice(&state.height.0.to_be_bytes());
    out.extend_from_slice(&state.period.0.to_be_bytes());
    out.extend_from_slice(&state.seed.0);
    out.extend_from_slice(&(state.previous_next_quorums.len() as u32).to_be_bytes());
    for v in &state.previous_next_quorums {
        match v {
            VoteValue::Bottom => out.push(0),
            VoteValue::Value(id) => {
                out.push(1);
                out.extend_from_slice(&id.0);
            }
        }
    }
    out.extend_from_slice(&(state.own_votes.len() as u32).to_be_bytes());
    for v in &state.own_votes {
        let b = codec::encode(&Message::Vote(v.clone()));
        out.extend_from_slice(&(b.len() as u32).to_be_bytes());
        out.extend_from_slice(&b);
    }
    out.extend_from_slice(&(state.own_proposals.len() as u32).to_be_bytes());
    for p in &state.own_proposals {
        out.extend_from_slice(&p.period.0.to_be_bytes());
    }
    match last {
        None => out.push(0),
        Some(LastDecided::InLedger(h)) => {
            out.push(1);
            out.extend_from_slice(&h.to_be_bytes());
        }
        Some(LastDecided::Inline(d)) => {
            out.push(2);
            let b = codec::encode(&Message::Decided(d.clone()));
            out.extend_from_slice(&(b.len() as u32).to_be_bytes());
            out.extend_from_slice(&b);
        }
    }
    out
}

/// The stored form of one own proposal.
pub fn encode_proposal(p: &Proposal) -> Vec<u8> {
    codec::encode(&Message::Proposal(p.clone()))
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], StateError> {
        if self.0.len() < n {
            return Err(StateError::Malformed("truncated"));
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8, StateError> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32, StateError> {
        Ok(u32::from_be_bytes(self.take(4)?.try_into().expect("4")))
    }
    fn u64(&mut self) -> Result<u64, StateError> {
        Ok(u64::from_be_bytes(self.take(8)?.try_into().expect("8")))
    }
    fn arr32(&mut self) -> Result<[u8; 32], StateError> {
        Ok(self.take(32)?.try_into().expect("32"))
    }
    /// A count of items each at least `min` bytes long (bounded by what is left).
    fn count(&mut self, min: usize) -> Result<usize, StateError> {
        let n = self.u32()? as usize;
        if n.saturating_mul(min) > self.0.len() {
            return Err(StateError::Malformed("count past the end"));
        }
        Ok(n)
    }
}

/// Decode a stored state: `proposal(height, period)` reads an own proposal, `decided(height)`
/// the ledger's decision at a height.
pub fn decode(
    bytes: &[u8],
    proposal: impl Fn(u64, u32) -> Option<Vec<u8>>,
    decided: impl Fn(u64) -> Option<Decided>,
) -> Result<PersistedState, StateError> {
    if bytes.first() == Some(&b'{') {
        return Ok(serde_json::from_slice(bytes)?);
    }
    let mut r = Reader(bytes);
    if r.take(4)? != STATE_MAGIC {
        return Err(StateError::Malformed("bad magic or version"));
    }
    let height = r.u64()?;
    let period = r.u32()?;
    let seed = Seed(r.arr32()?);
    let n = r.count(1)?;
    let mut previous_next_quorums = Vec::with_capacity(n);
    for _ in 0..n {
        previous_next_quorums.push(match r.u8()? {
            0 => VoteValue::Bottom,
            1 => VoteValue::Value(ValueId(r.arr32()?)),
            _ => return Err(StateError::Malformed("vote value code")),
        });
    }
    let n = r.count(4)?;
    let mut own_votes = Vec::with_capacity(n);
    for _ in 0..n {
        let len = r.u32()? as usize;
        match codec::decode(r.take(len)?)? {
            Message::Vote(v) => own_votes.push(v),
            _ => return Err(StateError::Malformed("not a vote")),
        }
    }
    let n = r.count(4)?;
    let mut own_proposals = Vec::with_capacity(n);
    for _ in 0..n {
        let p = r.u32()?;
        let b = proposal(height, p)
            .ok_or_else(|| StateError::Missing(format!("own proposal ({height}, {p})")))?;
        match codec::decode(&b)? {
            Message::Proposal(prop) if prop.height.0 == height && prop.period.0 == p => {
                own_proposals.push(prop)
            }
            _ => return Err(StateError::Malformed("stored proposal")),
        }
    }
    let last_decided = match r.u8()? {
        0 => None,
        1 => {
            let h = r.u64()?;
            Some(decided(h).ok_or_else(|| StateError::Missing(format!("decision {h}")))?)
        }
        2 => {
            let len = r.u32()? as usize;
            match codec::decode(r.take(len)?)? {
                Message::Decided(d) => Some(d),
                _ => return Err(StateError::Malformed("not a decision")),
            }
        }
        _ => return Err(StateError::Malformed("last decision code")),
    };
    if !r.0.is_empty() {
        return Err(StateError::Malformed("trailing bytes"));
    }
    Ok(PersistedState {
        height: Height(height),
        period: Period(period),
        seed,
        previous_next_quorums,
        own_votes,
        own_proposals,
        last_decided,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use conclave_bft::types::{Certificate, Epoch, NodeId, Vote, VoteStep};

    fn sample() -> (PersistedState, Decided) {
        let vote = |step, value| Vote {
            epoch: Epoch(0),
            height: Height(7),
            period: Period(2),
            step,
            value,
            voter: NodeId(1),
            credential: Vec::new(),
            signature: vec![3; 96],
            beacon_share: if step == VoteStep::Cert {
                vec![4; 96]
            } else {
                Vec::new()
            },
        };
        let proposal = |period| Proposal {
            epoch: Epoch(0),
            height: Height(7),
            period: Period(period),
            proposer: NodeId(1),
            credential: vec![5; 120],
            value: vec![period as u8; 100_000],
            signature: vec![6; 96],
            seal: Vec::new(),
        };
        let decided = Decided {
            certificate: Certificate {
                epoch: Epoch(0),
                height: Height(6),
                period: Period(1),
                value_id: ValueId([8; 32]),
                signature: vec![9; 96],
                beacon: vec![10; 96],
                seal: Vec::new(),
            },
            value: vec![11; 50_000],
        };
        let state = PersistedState {
            height: Height(7),
            period: Period(2),
            seed: Seed([12; 32]),
            previous_next_quorums: vec![VoteValue::Bottom, VoteValue::Value(ValueId([13; 32]))],
            own_votes: vec![
                vote(VoteStep::Soft, VoteValue::Value(ValueId([1; 32]))),
                vote(VoteStep::Cert, VoteValue::Value(ValueId([1; 32]))),
                vote(VoteStep::Next, VoteValue::Bottom),
            ],
            own_proposals: vec![proposal(1), proposal(2)],
            last_decided: Some(decided.clone()),
        };
        (state, decided)
    }

    #[test]
    fn binary_state_round_trips_without_copying_blocks() {
        let (state, decided) = sample();
        let header = encode_header(&state, Some(LastDecided::InLedger(6)));
        // The header holds no block: neither the proposals' values nor the decision's.
        assert!(header.len() < 2_000, "header is {} bytes", header.len());
        let stored: Vec<Vec<u8>> = state.own_proposals.iter().map(encode_proposal).collect();
        let back = decode(
            &header,
            |h, p| (h == 7).then(|| stored[p as usize - 1].clone()),
            |h| (h == 6).then(|| decided.clone()),
        )
        .unwrap();
        assert_eq!(back, state);
        // Inline decision, and the legacy JSON.
        let inline = encode_header(&state, Some(LastDecided::Inline(&decided)));
        let back = decode(
            &inline,
            |h, p| (h == 7).then(|| stored[p as usize - 1].clone()),
            |_| None,
        )
        .unwrap();
        assert_eq!(back, state);
        let json = serde_json::to_vec(&state).unwrap();
        assert_eq!(decode(&json, |_, _| None, |_| None).unwrap(), state);
    }

    #[test]
    fn bad_state_bytes_are_typed_errors() {
        let (state, decided) = sample();
        let header = encode_header(&state, Some(LastDecided::InLedger(6)));
        let stored: Vec<Vec<u8>> = state.own_proposals.iter().map(encode_proposal).collect();
        let get = |h: u64, p: u32| (h == 7).then(|| stored[p as usize - 1].clone());
        for cut in 0..header.len() {
            assert!(decode(&header[..cut], get, |_| Some(decided.clone())).is_err());
        }
        let mut extra = header.clone();
        extra.push(0);
        assert!(decode(&extra, get, |_| Some(decided.clone())).is_err());
        // A part the store lacks.
        assert!(matches!(
            decode(&header, |_, _| None, |_| Some(decided.clone())),
            Err(StateError::Missing(_))
        ));
        assert!(matches!(
            decode(&header, get, |_| None),
            Err(StateError::Missing(_))
        ));
        let mut bad = header.clone();
        bad[3] = 2;
        assert!(decode(&bad, get, |_| Some(decided.clone())).is_err());
    }
}
