//! An in-process simulator: every participant in one process over an in-memory authenticated
//! broadcast, with named Byzantine participants. The CLI (`conclave dkg run|reshare`), the
//! benchmarks and the property tests use it.

use std::str::FromStr;
use std::time::Instant;

use conclave_threshold_sig::{Commitment, MinPk, MinSig, SecretShare, Variant};
use group::GroupEncoding;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use sha2::{Digest, Sha256};

use crate::config::{Committee, DkgConfig, IdentityKeys};
use crate::error::Error;
use crate::evidence::SignedMessage;
use crate::participant::{DkgOutput, Input, Misbehaviour, Output, Participant, Phase};

/// A Byzantine behaviour of the simulator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Behaviour {
    /// Sends nothing at all.
    Silent,
    /// Deals wrong shares to every other player and does not justify.
    BadShare,
    /// Commits to a polynomial of the wrong degree.
    BadCommitment,
    /// Deals wrong shares to every other player and justifies with wrong shares.
    WrongJustification,
    /// Complains against every other dealer (half with forged evidence).
    FalseComplaint,
}

impl FromStr for Behaviour {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Ok(match s {
            "silent" => Behaviour::Silent,
            "bad-share" => Behaviour::BadShare,
            "bad-commitment" => Behaviour::BadCommitment,
            "wrong-justification" => Behaviour::WrongJustification,
            "false-complaint" => Behaviour::FalseComplaint,
            _ => return Err(Error::InvalidInput(format!("unknown byzantine kind {s:?}"))),
        })
    }
}

impl Behaviour {
    /// The kind's name, as `--byzantine` and the JSON spell it (`bad-share`, …).
    pub fn name(self) -> &'static str {
        match self {
            Behaviour::Silent => "silent",
            Behaviour::BadShare => "bad-share",
            Behaviour::BadCommitment => "bad-commitment",
            Behaviour::WrongJustification => "wrong-justification",
            Behaviour::FalseComplaint => "false-complaint",
        }
    }

    fn misbehaviour(self) -> Option<Misbehaviour> {
        match self {
            Behaviour::Silent => None,
            Behaviour::BadShare => Some(Misbehaviour::BadShare),
            Behaviour::BadCommitment => Some(Misbehaviour::BadCommitment),
            Behaviour::WrongJustification => Some(Misbehaviour::WrongJustification),
            Behaviour::FalseComplaint => Some(Misbehaviour::FalseComplaint),
        }
    }
    fn is_dealer_kind(self) -> bool {
        self != Behaviour::FalseComplaint
    }
}

/// Make `participant` deviate as `behaviour` does (for hosts that simulate Byzantine
/// participants themselves, e.g. over a consensus log). [`Behaviour::Silent`] changes nothing
/// here: a silent host simply does not submit the participant's messages.
pub fn set_behaviour<V: Variant>(participant: &mut Participant<V>, behaviour: Behaviour) {
    participant.misbehaviour = behaviour.misbehaviour();
}

/// Parse `I:KIND,I:KIND,...` (empty string: none). Indices must be distinct.
pub fn parse_byzantine(s: &str) -> Result<Vec<(u32, Behaviour)>, Error> {
    let mut out: Vec<(u32, Behaviour)> = Vec::new();
    for item in s.split(',').map(str::trim).filter(|x| !x.is_empty()) {
        let (i, k) = item
            .split_once(':')
            .ok_or_else(|| Error::InvalidInput(format!("expected I:KIND, got {item:?}")))?;
        let i: u32 = i
            .trim()
            .parse()
            .map_err(|_| Error::InvalidInput(format!("bad index in {item:?}")))?;
        if out.iter().any(|(j, _)| *j == i) {
            return Err(Error::InvalidInput(format!("index {i} listed twice")));
        }
        out.push((i, k.trim().parse()?));
    }
    Ok(out)
}

/// The BLS variant a simulated DKG runs in.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum SimVariant {
    /// Public keys in G1, signatures in G2.
    #[default]
    MinPk,
    /// Public keys in G2, signatures in G1.
    MinSig,
}

impl SimVariant {
    /// The variant of the type parameter `V` (the trait is sealed: [`MinPk`] or [`MinSig`]).
    pub fn of<V: Variant>() -> Self {
        if V::NAME == MinSig::NAME {
            SimVariant::MinSig
        } else {
            SimVariant::MinPk
        }
    }

    /// `"min-pk"` or `"min-sig"` (as in the report and the CLI).
    pub fn name(self) -> &'static str {
        match self {
            SimVariant::MinPk => MinPk::NAME,
            SimVariant::MinSig => MinSig::NAME,
        }
    }
}

impl std::fmt::Display for SimVariant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SimVariant {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "min-pk" => Ok(SimVariant::MinPk),
            "min-sig" => Ok(SimVariant::MinSig),
            _ => Err(Error::InvalidInput(format!("unknown variant {s:?}"))),
        }
    }
}

/// Parameters of a simulated fresh DKG (built with [`SimConfig::new`]; fields may be added).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SimConfig {
    /// The BLS variant.
    pub variant: SimVariant,
    /// Seats (one participant per seat).
    pub n: u32,
    /// Degree.
    pub t: u32,
    /// Seed of all randomness.
    pub seed: [u8; 32],
    /// Byzantine participants (seat, behaviour).
    pub byzantine: Vec<(u32, Behaviour)>,
}

impl SimConfig {
    /// A fresh DKG of `n` seats with degree `t` in `variant`, all randomness from `seed`, every
    /// participant honest.
    pub fn new(variant: SimVariant, n: u32, t: u32, seed: [u8; 32]) -> Self {
        SimConfig {
            variant,
            n,
            t,
            seed,
            byzantine: Vec::new(),
        }
    }

    /// The same run with these Byzantine participants (seat, behaviour).
    pub fn with_byzantine(mut self, byzantine: Vec<(u32, Behaviour)>) -> Self {
        self.byzantine = byzantine;
        self
    }
}

/// A disqualified dealer in a report.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReportDisqualified {
    /// Dealer index.
    pub index: u32,
    /// Fault name (`"bad-share"`, …).
    pub reason: String,
}

/// An honest player's result in a report.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReportPlayer {
    /// Seat.
    pub index: u32,
    /// Compressed public share, hex.
    pub public_share: String,
    /// Secret share, 32-byte big-endian hex.
    pub secret_share: String,
}

/// Evidence in a report.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReportEvidence {
    /// Dealer index (dealer faults) or player index (false complaints).
    pub culprit: u32,
    /// Fault name.
    pub kind: String,
    /// Human-readable detail.
    pub detail: String,
    /// Canonical encodings (hex) of the signed messages that prove the fault.
    pub messages: Vec<String>,
}

/// Simulation metrics.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Metrics {
    /// Broadcast messages sent.
    pub messages: u64,
    /// Bytes of their canonical encodings.
    pub bytes: u64,
    /// Wall-clock milliseconds.
    pub wall_ms: u64,
}

/// The JSON report of `conclave dkg run|reshare`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DkgReport {
    /// The BLS variant (`"min-pk"` or `"min-sig"` in JSON; any other name does not parse).
    pub variant: SimVariant,
    /// Seats.
    pub n: u32,
    /// Degree.
    pub t: u32,
    /// Compressed group public key, hex.
    pub group_public_key: String,
    /// The `t+1` commitment points, hex.
    pub commitment: Vec<String>,
    /// Qualified dealers.
    pub qualified: Vec<u32>,
    /// Disqualified dealers.
    pub disqualified: Vec<ReportDisqualified>,
    /// Honest players.
    pub players: Vec<ReportPlayer>,
    /// Evidence.
    pub evidence: Vec<ReportEvidence>,
    /// Metrics.
    pub metrics: Metrics,
}

fn derive(seed: &[u8; 32], label: &[u8], i: u32) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"conclave-dkg/sim");
    h.update(seed);
    h.update(label);
    h.update(i.to_be_bytes());
    h.finalize().into()
}

fn keys(seed: &[u8; 32], label: &[u8], i: u32) -> IdentityKeys {
    IdentityKeys::random(&mut ChaCha20Rng::from_seed(derive(seed, label, i)))
}

/// One simulated party: the state machine, and whether it is silent or honest.
pub struct SimParty<V: Variant> {
    /// The participant.
    pub participant: Participant<V>,
    /// Sends nothing.
    pub silent: bool,
    /// Follows the protocol.
    pub honest: bool,
}

/// Each party's output (`None` for silent ones) and the run's metrics.
pub type PartyOutputs<V> = (Vec<Option<DkgOutput<V>>>, Metrics);

/// Run parties to completion over an in-memory broadcast. Returns each party's output (`None`
/// for silent ones) and the metrics.
pub fn run_parties<V: Variant>(parties: &mut [SimParty<V>]) -> Result<PartyOutputs<V>, Error> {
    run_parties_with_progress(parties, &mut |_, _| {})
}

/// [`run_parties`], calling `progress(done, total)` after each party has handled a phase's
/// input and after it has received a phase's broadcasts (`total` = 8 × parties: four phases,
/// two halves each), for progress bars. Called from the running thread.
pub fn run_parties_with_progress<V: Variant>(
    parties: &mut [SimParty<V>],
    progress: &mut dyn FnMut(u64, u64),
) -> Result<PartyOutputs<V>, Error> {
    let start = Instant::now();
    let total = 8 * parties.len() as u64;
    let mut done = 0u64;
    let (mut messages, mut bytes) = (0u64, 0u64);
    let mut results: Vec<Option<DkgOutput<V>>> = (0..parties.len()).map(|_| None).collect();
    let mut step = |parties: &mut [SimParty<V>], input: &dyn Fn() -> Input<V>| {
        let mut outbox = Vec::new();
        for (i, p) in parties.iter_mut().enumerate() {
            if !p.silent {
                for out in p.participant.handle(input())? {
                    match out {
                        Output::Broadcast(m) => outbox.push(m),
                        Output::Finished(r) => results[i] = Some(*r),
                    }
                }
            }
            done += 1;
            progress(done, total);
        }
        for m in &outbox {
            messages += 1;
            bytes += m.to_bytes().len() as u64;
        }
        // Every party receives the whole outbox in broadcast order (parties share no state, so
        // delivering party by party is the same as message by message).
        for p in parties.iter_mut() {
            if !p.silent {
                for m in &outbox {
                    p.participant.handle(Input::Message(m.clone()))?;
                }
            }
            done += 1;
            progress(done, total);
        }
        Ok::<(), Error>(())
    };
    step(parties, &|| Input::Start)?;
    step(parties, &|| Input::DeadlinePassed(Phase::Deal))?;
    step(parties, &|| Input::DeadlinePassed(Phase::Complain))?;
    step(parties, &|| Input::DeadlinePassed(Phase::Justify))?;
    let metrics = Metrics {
        messages,
        bytes,
        wall_ms: start.elapsed().as_millis() as u64,
    };
    Ok((results, metrics))
}

fn hex_point<P: GroupEncoding>(p: &P) -> String {
    hex::encode(p.to_bytes().as_ref())
}

fn report<V: Variant>(
    n: u32,
    t: u32,
    parties: &[SimParty<V>],
    results: &[Option<DkgOutput<V>>],
    metrics: Metrics,
) -> Result<DkgReport, Error> {
    let honest: Vec<&DkgOutput<V>> = parties
        .iter()
        .zip(results)
        .filter(|(p, _)| p.honest)
        .filter_map(|(_, r)| r.as_ref())
        .collect();
    let first = honest
        .first()
        .ok_or(Error::Disagreement("no honest party"))?;
    for o in &honest {
        if o.commitment != first.commitment
            || o.qualified != first.qualified
            || o.disqualified != first.disqualified
        {
            return Err(Error::Disagreement("results differ"));
        }
    }
    let mut players = Vec::new();
    for o in &honest {
        for s in &o.shares {
            let public = &first.public_shares[(s.index() - 1) as usize];
            if s.public_share::<V>().point() != public.point() {
                return Err(Error::Disagreement("share inconsistent with commitment"));
            }
            players.push(ReportPlayer {
                index: s.index(),
                public_share: hex_point(public.point()),
                secret_share: hex::encode(s.value().to_bytes_be()),
            });
        }
    }
    players.sort_by_key(|p| p.index);
    Ok(DkgReport {
        variant: SimVariant::of::<V>(),
        n,
        t,
        group_public_key: hex::encode(first.group_public_key.to_bytes()),
        commitment: first.commitment.points().iter().map(hex_point).collect(),
        qualified: first.qualified.clone(),
        disqualified: first
            .disqualified
            .iter()
            .map(|d| ReportDisqualified {
                index: d.index,
                reason: d.reason.as_str().to_string(),
            })
            .collect(),
        players,
        evidence: first
            .evidence
            .iter()
            .map(|e| ReportEvidence {
                culprit: e.culprit,
                kind: e.kind.as_str().to_string(),
                detail: e.detail.clone(),
                messages: e
                    .messages
                    .iter()
                    .map(|m| hex::encode(signed_bytes(m)))
                    .collect(),
            })
            .collect(),
        metrics,
    })
}

fn signed_bytes<V: Variant>(m: &SignedMessage<V>) -> Vec<u8> {
    use crate::messages::Message;
    match m {
        SignedMessage::Dealing(d) => Message::Deal(vec![(**d).clone()]).to_bytes(),
        SignedMessage::Complaint(c) => Message::<V>::Complaint(Box::new(c.clone())).to_bytes(),
        SignedMessage::Justification(j) => Message::<V>::Justify(vec![j.clone()]).to_bytes(),
    }
}

fn session(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"conclave-dkg/sim/session");
    for p in parts {
        h.update((p.len() as u32).to_be_bytes());
        h.update(p);
    }
    h.finalize().into()
}

fn check_byzantine(byz: &[(u32, Behaviour)], n: u32) -> Result<(), Error> {
    for (i, _) in byz {
        if *i == 0 || *i > n {
            return Err(Error::InvalidInput(format!(
                "byzantine index {i} not in 1..={n}"
            )));
        }
    }
    Ok(())
}

/// Build the parties of a fresh DKG (one participant per seat).
pub fn dkg_parties<V: Variant>(cfg: &SimConfig) -> Result<Vec<SimParty<V>>, Error> {
    if cfg.n == 0 || cfg.t >= cfg.n {
        return Err(Error::InvalidInput(format!(
            "need 0 <= t < n, got n = {}, t = {}",
            cfg.n, cfg.t
        )));
    }
    check_byzantine(&cfg.byzantine, cfg.n)?;
    let ids: Vec<IdentityKeys> = (1..=cfg.n)
        .map(|i| keys(&cfg.seed, b"identity", i))
        .collect();
    let committee = Committee::one_seat_each(&ids);
    let config = DkgConfig::<V> {
        session: session(&[
            &cfg.seed,
            &cfg.n.to_be_bytes(),
            &cfg.t.to_be_bytes(),
            V::NAME.as_bytes(),
        ]),
        dealers: committee.clone(),
        players: committee,
        t: cfg.t,
        previous: None,
    };
    ids.into_iter()
        .zip(1u32..)
        .map(|(k, i)| {
            let behaviour = cfg.byzantine.iter().find(|(j, _)| *j == i).map(|b| b.1);
            let mut participant =
                Participant::new(config.clone(), k, derive(&cfg.seed, b"seed", i))?;
            participant.misbehaviour = behaviour.and_then(Behaviour::misbehaviour);
            Ok(SimParty {
                participant,
                silent: behaviour == Some(Behaviour::Silent),
                honest: behaviour.is_none(),
            })
        })
        .collect()
}

/// Run a fresh DKG with every participant in process.
pub fn run_dkg(cfg: &SimConfig) -> Result<DkgReport, Error> {
    run_dkg_with_progress(cfg, &mut |_, _| {})
}

/// [`run_dkg`], reporting progress as [`run_parties_with_progress`] does.
pub fn run_dkg_with_progress(
    cfg: &SimConfig,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<DkgReport, Error> {
    match cfg.variant {
        SimVariant::MinPk => run_dkg_generic::<MinPk>(cfg, progress),
        SimVariant::MinSig => run_dkg_generic::<MinSig>(cfg, progress),
    }
}

fn run_dkg_generic<V: Variant>(
    cfg: &SimConfig,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<DkgReport, Error> {
    let mut parties = dkg_parties::<V>(cfg)?;
    let (results, metrics) = run_parties_with_progress(&mut parties, progress)?;
    report(cfg.n, cfg.t, &parties, &results, metrics)
}

/// Parameters of a simulated resharing (built with [`ReshareConfig::new`]; fields may be
/// added).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ReshareConfig {
    /// New number of seats.
    pub new_n: u32,
    /// New degree.
    pub new_t: u32,
    /// Seed.
    pub seed: [u8; 32],
    /// Byzantine parties: dealer kinds apply to old holder `I`, `false-complaint` to new
    /// player `I`.
    pub byzantine: Vec<(u32, Behaviour)>,
}

impl ReshareConfig {
    /// A resharing to `new_n` seats with degree `new_t`, all randomness from `seed`, every party
    /// honest.
    pub fn new(new_n: u32, new_t: u32, seed: [u8; 32]) -> Self {
        ReshareConfig {
            new_n,
            new_t,
            seed,
            byzantine: Vec::new(),
        }
    }

    /// The same resharing with these Byzantine parties (dealer kinds: old holder `I`;
    /// `false-complaint`: new player `I`).
    pub fn with_byzantine(mut self, byzantine: Vec<(u32, Behaviour)>) -> Self {
        self.byzantine = byzantine;
        self
    }
}

/// Build the parties of a resharing from a previous report: old holders (the report's honest
/// players; the others cannot deal and stay silent) deal to a new committee of `new_n` seats.
pub fn reshare_parties<V: Variant>(
    previous: &DkgReport,
    cfg: &ReshareConfig,
) -> Result<Vec<SimParty<V>>, Error> {
    if cfg.new_n == 0 || cfg.new_t >= cfg.new_n {
        return Err(Error::InvalidInput(format!(
            "need 0 <= new-t < new-n, got {} and {}",
            cfg.new_t, cfg.new_n
        )));
    }
    let bad = |what: &str| Error::InvalidInput(format!("previous report: invalid {what}"));
    let mut points = Vec::new();
    for c in &previous.commitment {
        points.extend(conclave_threshold_sig::decode_hex(c).map_err(|_| bad("commitment"))?);
    }
    let previous_commitment =
        Commitment::<V>::from_bytes(&points).map_err(|_| bad("commitment"))?;
    let old_n = previous.n;
    if previous_commitment.degree() >= old_n
        || previous
            .players
            .iter()
            .any(|p| p.index == 0 || p.index > old_n)
    {
        return Err(bad("n, t or player index"));
    }
    for (i, b) in &cfg.byzantine {
        let bound = if b.is_dealer_kind() { old_n } else { cfg.new_n };
        if *i == 0 || *i > bound {
            return Err(Error::InvalidInput(format!(
                "byzantine index {i} not in 1..={bound}"
            )));
        }
    }
    let old_keys: Vec<IdentityKeys> = (1..=old_n)
        .map(|i| keys(&cfg.seed, b"old-identity", i))
        .collect();
    let new_keys: Vec<IdentityKeys> = (1..=cfg.new_n)
        .map(|i| keys(&cfg.seed, b"new-identity", i))
        .collect();
    let config = DkgConfig::<V> {
        session: session(&[
            &cfg.seed,
            &points,
            &cfg.new_n.to_be_bytes(),
            &cfg.new_t.to_be_bytes(),
        ]),
        dealers: Committee::one_seat_each(&old_keys),
        players: Committee::one_seat_each(&new_keys),
        t: cfg.new_t,
        previous: Some(previous_commitment),
    };
    let mut parties = Vec::new();
    for (k, i) in old_keys.into_iter().zip(1u32..) {
        let behaviour = cfg
            .byzantine
            .iter()
            .find(|(j, b)| *j == i && b.is_dealer_kind())
            .map(|b| b.1);
        let Some(player) = previous.players.iter().find(|p| p.index == i) else {
            continue; // No share: this old seat cannot deal.
        };
        let value = crate::codec::decode_scalar(
            &conclave_threshold_sig::decode_hex(&player.secret_share).map_err(|_| bad("share"))?,
        )
        .map_err(|_| bad("share"))?;
        let share = SecretShare::new(i, value)?;
        let mut participant = Participant::new_resharing(
            config.clone(),
            k,
            derive(&cfg.seed, b"old-seed", i),
            vec![share],
        )
        .map_err(|e| Error::InvalidInput(format!("previous report: {e}")))?;
        participant.misbehaviour = behaviour.and_then(Behaviour::misbehaviour);
        parties.push(SimParty {
            participant,
            silent: behaviour == Some(Behaviour::Silent),
            honest: behaviour.is_none(),
        });
    }
    for (k, i) in new_keys.into_iter().zip(1u32..) {
        let behaviour = cfg
            .byzantine
            .iter()
            .find(|(j, b)| *j == i && !b.is_dealer_kind())
            .map(|b| b.1);
        let mut participant =
            Participant::new(config.clone(), k, derive(&cfg.seed, b"new-seed", i))?;
        participant.misbehaviour = behaviour.and_then(Behaviour::misbehaviour);
        parties.push(SimParty {
            participant,
            silent: false,
            honest: behaviour.is_none(),
        });
    }
    Ok(parties)
}

/// Reshare the key of a previous report to a new committee; the group public key is unchanged.
pub fn run_reshare(previous: &DkgReport, cfg: &ReshareConfig) -> Result<DkgReport, Error> {
    run_reshare_with_progress(previous, cfg, &mut |_, _| {})
}

/// [`run_reshare`], reporting progress as [`run_parties_with_progress`] does.
pub fn run_reshare_with_progress(
    previous: &DkgReport,
    cfg: &ReshareConfig,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<DkgReport, Error> {
    match previous.variant {
        SimVariant::MinPk => run_reshare_generic::<MinPk>(previous, cfg, progress),
        SimVariant::MinSig => run_reshare_generic::<MinSig>(previous, cfg, progress),
    }
}

fn run_reshare_generic<V: Variant>(
    previous: &DkgReport,
    cfg: &ReshareConfig,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<DkgReport, Error> {
    let mut parties = reshare_parties::<V>(previous, cfg)?;
    let (results, metrics) = run_parties_with_progress(&mut parties, progress)?;
    // Old holders only deal: report the new players (they hold shares).
    let (p, r): (Vec<_>, Vec<_>) = parties
        .into_iter()
        .zip(results)
        .filter(|(p, _)| !p.participant.player_seats().is_empty())
        .unzip();
    let report = report(cfg.new_n, cfg.new_t, &p, &r, metrics)?;
    if report.group_public_key != previous.group_public_key {
        return Err(Error::Disagreement(
            "resharing changed the group public key",
        ));
    }
    Ok(report)
}

/// Benchmark support: the parties of a fresh honest DKG after round 1 (every dealing delivered),
/// so one party's [`Participant::handle`] of the deal deadline can be timed alone.
#[doc(hidden)]
pub fn parties_after_dealing<V: Variant>(n: u32, t: u32) -> Result<Vec<SimParty<V>>, Error> {
    let (mut parties, outbox) = parties_and_dealings::<V>(n, t)?;
    for m in outbox {
        for p in parties.iter_mut() {
            p.participant.handle(Input::Message(m.clone()))?;
        }
    }
    Ok(parties)
}

/// Started parties and the dealings they broadcast, not yet delivered.
pub type StartedParties<V> = (Vec<SimParty<V>>, Vec<crate::Message<V>>);

/// Honest parties of a fresh DKG (n seats, degree t, seed `[3; 32]`) that have started, and the
/// dealings they broadcast, not yet delivered (benchmarks time the arrival checks with this).
pub fn parties_and_dealings<V: Variant>(n: u32, t: u32) -> Result<StartedParties<V>, Error> {
    let cfg = SimConfig {
        variant: SimVariant::of::<V>(),
        n,
        t,
        seed: [3u8; 32],
        byzantine: vec![],
    };
    let mut parties = dkg_parties::<V>(&cfg)?;
    let mut outbox = Vec::new();
    for p in parties.iter_mut() {
        for o in p.participant.handle(Input::Start)? {
            if let Output::Broadcast(m) = o {
                outbox.push(m);
            }
        }
    }
    Ok((parties, outbox))
}
