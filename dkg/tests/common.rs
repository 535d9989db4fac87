//! Shared checks of the simulator's report.
#![allow(dead_code)]

use conclave_dkg::sim::{Behaviour, DkgReport, SimVariant};
use conclave_threshold_sig::{
    decode_hex, interpolate_secret, MinPk, MinSig, Scalar, SecretKey, SecretShare,
};

/// Check the four properties of a run: dealers with dealer faults are disqualified with the
/// right reason; false complainers do not disqualify honest dealers; honest shares are
/// consistent (checked by the simulator, re-checked here via the public shares); any t+1 honest
/// shares interpolate to the secret key of the group public key.
pub fn check_report(report: &DkgReport, byzantine: &[(u32, Behaviour)], dealer_kinds_apply: bool) {
    for (i, b) in byzantine {
        let dq = report.disqualified.iter().find(|d| d.index == *i);
        match b {
            Behaviour::FalseComplaint => {}
            _ if dealer_kinds_apply => {
                let want = match b {
                    Behaviour::Silent => "silent",
                    Behaviour::BadShare => "bad-share",
                    Behaviour::BadCommitment => "bad-commitment",
                    Behaviour::WrongJustification => "wrong-justification",
                    Behaviour::FalseComplaint => unreachable!(),
                    _ => unreachable!("a variant this test does not know"),
                };
                assert_eq!(dq.map(|d| d.reason.as_str()), Some(want), "dealer {i}");
                assert!(!report.qualified.contains(i));
            }
            _ => {}
        }
    }
    // Honest dealers are never disqualified.
    for d in &report.disqualified {
        let b = byzantine.iter().find(|(j, _)| *j == d.index);
        assert!(
            matches!(b, Some((_, k)) if *k != Behaviour::FalseComplaint) || !dealer_kinds_apply,
            "honest dealer {} disqualified: {}",
            d.index,
            d.reason
        );
    }
    // False complainers appear in the evidence.
    for (i, b) in byzantine {
        if *b == Behaviour::FalseComplaint && report.qualified.len() > 1 {
            assert!(report
                .evidence
                .iter()
                .any(|e| e.culprit == *i && e.kind == "false-complaint"));
        }
    }
    assert_eq!(report.commitment.len() as u32, report.t + 1);
    // Interpolate t+1 honest shares (first and last window) to the group secret key.
    let shares: Vec<SecretShare> = report
        .players
        .iter()
        .map(|p| {
            let v = decode_hex(&p.secret_share).unwrap();
            let v = Scalar::from_bytes_be(&v.try_into().unwrap()).unwrap();
            SecretShare::new(p.index, v).unwrap()
        })
        .collect();
    let q = report.t as usize + 1;
    assert!(shares.len() >= q, "not enough honest shares");
    for window in [&shares[..q], &shares[shares.len() - q..]] {
        let secret = interpolate_secret(window).unwrap();
        let sk = SecretKey::from_scalar(secret).unwrap();
        let pk = match report.variant {
            SimVariant::MinPk => sk.public_key::<MinPk>().to_bytes(),
            _ => sk.public_key::<MinSig>().to_bytes(),
        };
        assert_eq!(hex::encode(pk), report.group_public_key);
    }
}
