//! Committee-change transactions and the registry (`conclave_bft::epoch`): encoding, proofs of
//! possession bound to chain and epoch, validation, snapshot and boundary semantics.

use conclave_bft::epoch::{
    committee_of, threshold_degree, Change, CommitteeTx, EpochParams, Registry, TxError,
    ValidatorSecrets,
};
use conclave_committee::seed::Seed;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

const CHAIN: &[u8] = b"test-chain";

fn setup(n: usize) -> (Registry, Vec<ValidatorSecrets>, ChaCha20Rng) {
    let mut rng = ChaCha20Rng::from_seed([4; 32]);
    let secrets: Vec<ValidatorSecrets> =
        (0..n).map(|_| ValidatorSecrets::random(&mut rng)).collect();
    let reg = Registry::genesis(
        CHAIN,
        EpochParams::new(20, 4),
        secrets.iter().map(|s| (s.public(), 10)).collect(),
    )
    .unwrap();
    (reg, secrets, rng)
}

#[test]
fn join_leave_stake_round_trip_and_take_effect_at_the_boundary() {
    let (mut reg, secrets, mut rng) = setup(4);
    assert_eq!(
        reg.active().keys().copied().collect::<Vec<_>>(),
        vec![1, 2, 3, 4]
    );
    let new = ValidatorSecrets::random(&mut rng);
    let join = CommitteeTx::join(CHAIN, 0, &new, 7, &mut rng);
    let bytes = join.to_bytes();
    assert_eq!(CommitteeTx::from_bytes(&bytes).unwrap(), join);
    assert!(
        matches!(reg.apply_bytes(&bytes).unwrap(), Change::Join(v) if v.id == 5 && v.stake == 7)
    );
    let stake = CommitteeTx::stake(CHAIN, 0, 2, 99, &secrets[1].identity.signing, &mut rng);
    assert_eq!(CommitteeTx::from_bytes(&stake.to_bytes()).unwrap(), stake);
    reg.apply(&stake).unwrap();
    // Nothing changes before the boundary.
    assert_eq!(reg.active().len(), 4);
    assert_eq!(reg.view().len(), 5);
    let target = reg.freeze();
    assert_eq!(target.len(), 5);
    assert_eq!(target[&2].stake, 99);
    // After the snapshot, a leave waits for the next boundary.
    let leave = CommitteeTx::leave(CHAIN, 0, 1, &secrets[0].identity.signing, &mut rng);
    reg.apply(&leave).unwrap();
    assert_eq!(reg.target().len(), 5);
    reg.advance(true);
    assert_eq!(reg.epoch(), 1);
    assert_eq!(
        reg.active().keys().copied().collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5]
    );
    assert_eq!(reg.pending(), &[Change::Leave(1)]);
    reg.freeze();
    reg.advance(true);
    assert_eq!(
        reg.active().keys().copied().collect::<Vec<_>>(),
        vec![2, 3, 4, 5]
    );
}

#[test]
fn a_failed_resharing_puts_the_frozen_changes_back_first() {
    let (mut reg, _, mut rng) = setup(4);
    let a = ValidatorSecrets::random(&mut rng);
    let b = ValidatorSecrets::random(&mut rng);
    reg.apply(&CommitteeTx::join(CHAIN, 0, &a, 1, &mut rng))
        .unwrap();
    reg.freeze();
    reg.apply(&CommitteeTx::join(CHAIN, 0, &b, 1, &mut rng))
        .unwrap();
    reg.advance(false);
    assert_eq!(reg.active().len(), 4);
    let ids: Vec<u32> = reg
        .pending()
        .iter()
        .map(|c| match c {
            Change::Join(v) => v.id,
            _ => 0,
        })
        .collect();
    assert_eq!(ids, vec![5, 6]);
    reg.freeze();
    reg.advance(true);
    assert_eq!(reg.active().len(), 6);
}

#[test]
fn invalid_transactions_are_rejected_and_change_nothing() {
    let (mut reg, secrets, mut rng) = setup(4);
    let before = reg.clone();
    let new = ValidatorSecrets::random(&mut rng);
    // Another chain, another epoch: the proofs do not verify / the epoch is refused.
    let other_chain = CommitteeTx::join(b"other-chain", 0, &new, 1, &mut rng);
    assert!(matches!(reg.apply(&other_chain), Err(TxError::BadProof(_))));
    let next_epoch = CommitteeTx::join(CHAIN, 1, &new, 1, &mut rng);
    assert_eq!(
        reg.apply(&next_epoch),
        Err(TxError::WrongEpoch { tx: 1, current: 0 })
    );
    // A join whose encryption-key proof is swapped in from another registration (PoP missing).
    let good = CommitteeTx::join(CHAIN, 0, &new, 1, &mut rng);
    let mut swapped = good.clone();
    if let (
        CommitteeTx::Join {
            encryption_proof, ..
        },
        CommitteeTx::Join {
            signing_proof: other,
            ..
        },
    ) = (&mut swapped, &good)
    {
        *encryption_proof = *other;
    }
    assert_eq!(
        reg.apply(&swapped),
        Err(TxError::BadProof("encryption-key proof of possession"))
    );
    // A stake change with a different stake than signed.
    let mut stake = CommitteeTx::stake(CHAIN, 0, 3, 5, &secrets[2].identity.signing, &mut rng);
    if let CommitteeTx::Stake { stake: s, .. } = &mut stake {
        *s = 500;
    }
    assert_eq!(reg.apply(&stake), Err(TxError::BadProof("stake signature")));
    // A leave signed by another member.
    let forged = CommitteeTx::leave(CHAIN, 0, 1, &secrets[1].identity.signing, &mut rng);
    assert_eq!(
        reg.apply(&forged),
        Err(TxError::BadProof("leave signature"))
    );
    // Unknown validator; set below the minimum; stake out of bounds.
    let unknown = CommitteeTx::leave(CHAIN, 0, 9, &secrets[1].identity.signing, &mut rng);
    assert_eq!(reg.apply(&unknown), Err(TxError::UnknownValidator(9)));
    let leave = CommitteeTx::leave(CHAIN, 0, 1, &secrets[0].identity.signing, &mut rng);
    assert_eq!(reg.apply(&leave), Err(TxError::SetBounds(3)));
    let zero = CommitteeTx::join(CHAIN, 0, &new, 0, &mut rng);
    assert_eq!(reg.apply(&zero), Err(TxError::StakeBounds(0)));
    // Re-registering an existing member's keys.
    let dup = CommitteeTx::join(CHAIN, 0, &secrets[0], 1, &mut rng);
    assert_eq!(reg.apply(&dup), Err(TxError::DuplicateKey(1)));
    assert_eq!(reg, before);
    // The valid one goes through, and then its keys are taken.
    reg.apply(&good).unwrap();
    let again = CommitteeTx::join(CHAIN, 0, &new, 3, &mut rng);
    assert_eq!(reg.apply(&again), Err(TxError::DuplicateKey(5)));
    // Malformed encodings never panic.
    let bytes = good.to_bytes();
    for cut in 0..bytes.len() {
        assert!(CommitteeTx::from_bytes(&bytes[..cut]).is_err());
    }
    let mut bad = bytes.clone();
    bad[20] ^= 0xff; // inside the signing key
    let _ = CommitteeTx::from_bytes(&bad);
    let mut ident = bytes;
    ident[17..49].fill(0); // the identity point
    assert!(CommitteeTx::from_bytes(&ident).is_err());
}

#[test]
fn weighted_committees_draw_seats_by_stake_and_params_are_checked() {
    let (reg, _, _) = setup(5);
    let one = committee_of(reg.active(), 1, None).unwrap();
    assert_eq!(one.seats(), 5);
    one.validate().unwrap();
    let seed = Seed::from_bytes([9; 32]);
    let weighted = committee_of(reg.active(), 1, Some((&seed, 16, "test"))).unwrap();
    assert_eq!(weighted.seats(), 16);
    weighted.validate().unwrap();
    assert!(weighted.members.iter().any(|m| m.seats.len() > 1));
    assert_eq!(threshold_degree(4), 2);
    assert_eq!(threshold_degree(7), 4);
    assert_eq!(threshold_degree(8), 5);
    assert!(EpochParams::new(12, 4).validate().is_err());
    assert!(EpochParams::new(13, 4).validate().is_ok());
    assert!(EpochParams::new(13, 0).validate().is_err());
    let p = EpochParams::new(20, 4);
    assert_eq!(p.snapshot(0), 8);
    assert_eq!(p.resharing_schedule(1).end(), Some(40));
    assert_eq!(p.epoch_of(20), 0);
    assert_eq!(p.epoch_of(21), 1);
}
