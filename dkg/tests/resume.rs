//! Crash and resume: participants serialized with serde_json mid-protocol (after every single
//! input: mid-round, between rounds), dropped and deserialized, finish with exactly the result
//! of an uninterrupted run.

use conclave_dkg::sim::{
    dkg_parties, parse_byzantine, run_parties, SimConfig, SimParty, SimVariant,
};
use conclave_dkg::{DkgOutput, Input, Output, Participant, Phase};
use conclave_threshold_sig::{MinPk, Variant};

fn config() -> SimConfig {
    SimConfig::new(SimVariant::MinPk, 7, 3, [33u8; 32]).with_byzantine(
        parse_byzantine("2:wrong-justification,5:false-complaint,6:bad-share").unwrap(),
    )
}

/// Serialize, drop, deserialize.
fn crash_and_resume<V: Variant>(party: &mut SimParty<V>) {
    let json = serde_json::to_string(&party.participant).unwrap();
    let resumed: Participant<V> = serde_json::from_str(&json).unwrap();
    party.participant = resumed; // The old state is dropped here.
}

/// The simulator's schedule, with every party crashing and resuming after each input.
fn run_with_restarts<V: Variant>(parties: &mut [SimParty<V>]) -> Vec<Option<DkgOutput<V>>> {
    let mut results: Vec<Option<DkgOutput<V>>> = (0..parties.len()).map(|_| None).collect();
    for input in [
        Input::Start,
        Input::DeadlinePassed(Phase::Deal),
        Input::DeadlinePassed(Phase::Complain),
        Input::DeadlinePassed(Phase::Justify),
    ] {
        let mut outbox = Vec::new();
        for (i, p) in parties.iter_mut().enumerate().filter(|(_, p)| !p.silent) {
            for out in p.participant.handle(input.clone()).unwrap() {
                match out {
                    Output::Broadcast(m) => outbox.push(m),
                    Output::Finished(r) => results[i] = Some(*r),
                }
            }
            crash_and_resume(p);
        }
        for m in outbox {
            for p in parties.iter_mut().filter(|p| !p.silent) {
                p.participant.handle(Input::Message(m.clone())).unwrap();
                crash_and_resume(p);
            }
        }
    }
    results
}

#[test]
fn resumed_participants_reach_the_same_result() {
    let mut reference = dkg_parties::<MinPk>(&config()).unwrap();
    let (expected, _) = run_parties(&mut reference).unwrap();
    let mut parties = dkg_parties::<MinPk>(&config()).unwrap();
    let resumed = run_with_restarts(&mut parties);
    assert_eq!(expected.len(), resumed.len());
    let mut finished = 0;
    for (a, b) in expected.iter().zip(&resumed) {
        // Compared through their JSON encodings (shares included).
        let a = serde_json::to_string(a).unwrap();
        let b = serde_json::to_string(b).unwrap();
        assert_eq!(a, b);
        finished += usize::from(a != "null");
    }
    assert_eq!(finished, 7);
    // The run exercised complaints and justifications.
    let out = expected[0].as_ref().unwrap();
    assert_eq!(out.qualified, vec![1, 3, 4, 5, 7]);
    assert!(out.evidence.iter().any(|e| e.culprit == 5));
}

/// A participant persisted in the middle of the deal round (half the dealings received)
/// resumes and rejects a replayed start.
#[test]
fn resume_mid_round_keeps_phase() {
    let mut parties = dkg_parties::<MinPk>(&config()).unwrap();
    let mut dealings = Vec::new();
    for p in parties.iter_mut() {
        for o in p.participant.handle(Input::Start).unwrap() {
            if let Output::Broadcast(m) = o {
                dealings.push(m);
            }
        }
    }
    let p = &mut parties[0];
    for m in &dealings[..3] {
        p.participant.handle(Input::Message(m.clone())).unwrap();
    }
    crash_and_resume(p);
    assert_eq!(p.participant.phase(), Phase::Deal);
    assert!(p.participant.handle(Input::Start).is_err());
}
