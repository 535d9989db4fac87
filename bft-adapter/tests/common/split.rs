// The split schedule's building blocks (#11 §1), shared by `liveness.rs` and `recovery.rs`:
// included after `world.rs`, whose names (N, B, C, MockCrypto, …) they use.

/// A next-quorum bundle of period 1 for `value`, as the seats that formed it would send it.
fn next_bundle(crypto: &MockCrypto, value: VoteValue) -> Bundle {
    let message = vote_message(Epoch(0), Height(1), Period(1), VoteStep::Next, value);
    let signatures: Vec<Vec<u8>> = (0..N)
        .map(|i| crypto.adapters(NodeId(i)).signer.sign(&message).unwrap())
        .collect();
    let shares: Vec<Share<'_>> = signatures
        .iter()
        .enumerate()
        .map(|(i, s)| Share {
            signer: NodeId(i as u32),
            credential: &[],
            signature: s,
        })
        .collect();
    Bundle {
        epoch: Epoch(0),
        height: Height(1),
        period: Period(1),
        step: VoteStep::Next,
        value,
        signature: crypto
            .verifier()
            .combine(&message, &shares)
            .expect("quorum"),
    }
}

/// A mock committee whose period-2 proposer priorities rank B's proposal above C's, so that
/// C (seeing both) soft-votes B's value v.
fn crypto_where_b_outranks_c() -> MockCrypto {
    for seed in 0..64 {
        let crypto = MockCrypto::new(N, seed);
        let genesis = crypto.genesis_seed();
        let priority = |node: NodeId| {
            let s = crypto.adapters(node).sortition;
            let credential = s.proposer_credential(&genesis, Height(1), Period(2))?;
            s.verify_proposer(node, &genesis, Height(1), Period(2), &credential)
        };
        if priority(B) < priority(C) {
            return crypto;
        }
    }
    panic!("no seed ranks B above C");
}

/// At `at`, the period-1 next bundles each side of the split missed: ⊥'s to A, w's to B and C.
fn inject_missed_bundles(world: &mut World, crypto: &MockCrypto, w: ValueId, at: u64) {
    world.inject(
        at,
        B,
        A,
        &Message::Bundle(next_bundle(crypto, VoteValue::Bottom)),
    );
    for to in [B, C] {
        world.inject(
            at,
            A,
            to,
            &Message::Bundle(next_bundle(crypto, VoteValue::Value(w))),
        );
    }
}
