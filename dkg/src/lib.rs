//! # conclave-dkg
//!
//! Joint-Feldman distributed key generation with GJKR-style complaint handling, as a sans-IO
//! state machine per participant ([`Participant`]): Deal → Complain → Justify → Finalize, driven
//! by broadcast messages and "deadline passed" inputs. Shares are encrypted inside the broadcast
//! dealing (hashed ElGamal on ristretto255 + HKDF-SHA256 + ChaCha20-Poly1305, see
//! [`encryption`]); complaints carry a revealed Diffie–Hellman point with a DLEQ proof, so anyone
//! can check them. Resharing (same group key, new n and t), refresh, and weighted seats are supported.
//!
//! ## Design
//!
//! * Round 1 (Deal, `deal.rs`): every dealer seat samples `f` of degree `t` (resharing: constant
//!   term = its old share), broadcasts the Feldman commitment, an ephemeral key `R` with a
//!   Schnorr proof of knowledge, and one ciphertext per player seat, signed. Every received
//!   message's signature is checked on arrival (one ristretto255 double-base multiplication). Identity keys,
//!   signatures, proofs and encryption use ristretto255 ([`sigma`]): no pairing is needed there,
//!   and its scalar multiplications are ~3× faster than in BLS12-381 G1. Only the Feldman
//!   commitments and shares live in the BLS12-381 group of the chosen variant.
//! * End of round 1 (`deal.rs`, `verify.rs`): all ephemeral-key proofs in one batched MSM; one Diffie–Hellman `x·R` per dealing to decrypt own shares; all received
//!   shares checked in one batch (`Σ ρ_{d,j}·C_d(j) == (Σ ρ_{d,j}·s_{d,j})·G` with secret 64-bit
//!   weights, each `C_d(j)` by Horner with the small index `j`); only on failure are shares
//!   checked one by one. Bad shares become complaints that reveal `x·R` with a DLEQ proof.
//! * Round 2/3 (`complain.rs`): everyone re-checks each complaint from public data; upheld ones
//!   require the dealer to reveal the disputed shares (justification); false ones become
//!   evidence against the complainer and never disqualify an honest dealer.
//! * Finalize (`finalize.rs`): QUAL, the group commitment (a sum; resharing: the Lagrange
//!   combination of the first `t_old+1` qualified dealings, with short weights when the
//!   coefficients are small integers), own shares, all public shares
//!   ([`conclave_threshold_sig::Commitment::public_shares`], `O(n·t)` additions), and
//!   [`Evidence`] against every culprit.
//! * Every [`Evidence`] can be re-checked by a third party from its signed messages and the
//!   public [`DkgConfig`] alone ([`Evidence::verify`]); silence cannot (it is attested by the
//!   synchronous broadcast, not by a message).
//! * A [`Participant`] is serializable at any point (serde); randomness is derived from its
//!   seed, so a participant that crashes and resumes from its last persisted state reaches the
//!   same result (tested after every single input).
//!
//! ## Security assumptions and caveats
//!
//! * A reliable, synchronous broadcast (phase deadlines): every honest participant sees the
//!   same messages before each deadline. Without it, honest participants may disagree on
//!   QUAL; this crate does not implement the broadcast. It need *not* be authenticated:
//!   every message is verified on arrival against the identity key of the sender it claims
//!   and stored only then (at most two different bodies per sender and round; two prove
//!   equivocation), so junk sent first, before `Start` or in any volume takes no slot of an
//!   honest message. Decisions depend on the set of authenticated messages, not their order.
//!   Echoing what [`Participant::receive_new`] reports as new is **not** enough over a real
//!   network: a member that times a message to reach some honest hosts just before their
//!   deadline and others just after splits their views. Order the messages by a consensus log
//!   instead: [`log::LogDriver`] (fixed windows of block heights) or [`log::AdaptiveDriver`]
//!   (windows that close once every expected member posted, bounded in blocks), where every
//!   honest node that feeds the same blocks closes every round at the same block with the same
//!   messages (`conclave-node` runs its genesis DKG over a BA* log of its own for this reason).
//!   A member that missed the protocol rebuilds its share from a finished participant's
//!   [`Participant::transcript`] with [`Participant::recover`], to be checked against the
//!   agreed commitment and QUAL.
//! * Everything is bound to the configuration digest ([`DkgConfig::digest`]: session id,
//!   variant, `t`, both committees with their keys and seats, the previous commitment), not
//!   only to the session id: signatures, ephemeral-key proofs, transcripts and ciphertexts of
//!   one configuration are void in any other. Committees with repeated identity keys are
//!   rejected.
//! * A fresh DKG needs at least `t+1` qualified dealers (a resharing `t_old+1`): fewer is
//!   [`Error::NotEnoughQualified`], never a key that `t` colluding dealers could know. A
//!   player checks its final share against the group commitment and returns
//!   [`Error::InconsistentShare`] rather than output an inconsistent one.
//! * A complaint names the exact dealing it disputes (its signed digest, which covers every
//!   ciphertext) and its DLEQ proof is bound to that digest; a justification names it too.
//!   Evidence about a complaint must quote that very dealing, so a dealer that signs a second
//!   dealing cannot frame an honest complainer with it (the two dealings are themselves
//!   equivocation evidence against the dealer).
//! * Nonces of Schnorr signatures and DLEQ proofs are derived from the witness, the whole
//!   statement and the participant's randomness (merlin's witness-rekeyed transcript RNG):
//!   a repeated randomness stream with another statement never repeats a nonce.
//! * Secrecy against at most `t` corrupted seats; robustness (every honest player gets a share)
//!   with `n ≥ 2t+1`. The consensus engine uses `t = 2f`, `n = 3f+1` (quorum `2f+1`): a fresh DKG
//!   still completes there because every honest dealer qualifies. Any `t < n` is accepted.
//! * Joint-Feldman, not Pedersen-VSS/New-DKG: a rushing adversary that sees honest commitments
//!   before committing can bias the distribution of the group public key (GJKR 1999). The key
//!   is still unknown to it; this is acceptable for threshold BLS signing, not for protocols
//!   that need a uniformly random key.
//! * A justification reveals the disputed shares publicly, and a complaint reveals the
//!   complainer's Diffie–Hellman point for that one dealing (its shares of that dealing only).
//!   A corrupted player can thus make a dealer publish that player's own share: nothing new.
//! * Batched checks have soundness error ≤ 2^-63 (shares, 64-bit weights) and ≤ 2^-127
//!   (signatures and proofs, 128-bit weights); the weights come from the participant's secret
//!   seed, so a dealer cannot predict them.
//! * Secret scalars (seeds, shares, polynomial coefficients, identity keys) are zeroized on drop
//!   and redacted in `Debug`; multiplications by secret scalars are constant time (Feldman
//!   commitments: the fixed-base generator tables of
//!   [`conclave_threshold_sig::FixedBase`]; Diffie–Hellman, signatures and proofs:
//!   curve25519-dalek's constant-time scalar multiplication). Public data (indices, batch
//!   checks of public values) use variable-time arithmetic.
//! * Participants are deterministic given their seed and configuration (a resumed participant
//!   re-sends identical bodies, so a restart is never equivocation). The configuration digest
//!   enters every derivation, so a seed reused in another session or configuration gives other
//!   polynomials; still, use a fresh secret seed per session.
//!
//! ## Performance
//!
//! `cargo bench -p conclave-benches --bench dkg -- --warm-up-time 1 --measurement-time 3
//! --sample-size 10` (t = 2f, n = 3f+1; min-pk up to 64, min-sig from 128;
//! `dkg/verify_all_dealings/<n>` is one player's whole processing of the deal round: the
//! signature check of each of the n dealings on arrival (`dkg/receive_dealings/<n>` alone), then
//! the proofs, decryption of its n shares and their check; `dkg/full/<n>` and
//! `dkg/reshare/<n>` run every participant in one process, single-threaded apart from blst's
//! MSM thread pool). Side by side with commonware-cryptography 2026.7.1's Joint-Feldman DKG
//! (same n, t, variant; every party checking for itself; its `dealer_message` is likewise
//! arrival plus checks): `cargo run --release -p conclave-benches --features peers --example
//! dkg_peers -- <n> <variant> both <reps>` (n = 64: best of 5 at load ≈ 1.5; n = 128: one run
//! each at load ≈ 2), pinned to one core of the shared 2-core development VM (`taskset`). The
//! other columns: best of 3 of `examples/profile_verify.rs` (n = 128 and the reshares: one run,
//! at load ≈ 3, which slows `full/64` by 1.19× against the quiet 1.455 s).
//!
//! | n (variant)   | verify_all_dealings (arrival) | full     | reshare  | commonware verify / full | ratio         |
//! |---------------|-------------------------------|----------|----------|--------------------------|---------------|
//! | 16 (min-pk)   | 1.89 ms (0.58 ms)             | 0.060 s  | 0.120 s  |                          |               |
//! | 64 (min-pk)   | 7.79 ms (2.21 ms)             | 1.455 s  | 3.80 s   | 45.0 ms / 8.20 s         | 5.8× / 5.6×   |
//! | 128 (min-sig) | 33.1 ms (6.81 ms)             | 22.6 s   | 62.4 s¹  | 770 ms / 130 s           | 23× / 5.8×    |
//! | 256 (min-sig) | 114 ms¹                       | 175 s¹   |          |                          |               |
//!
//! ¹ Before the arrival checks (the figures of the previous release); the others are after.
//! The arrival check (one ristretto255 signature verification per dealing, after hashing its
//! commitment and ciphertexts) costs 35 µs per dealing at n = 64 and 53 µs at n = 128; it
//! replaced the batched signature check at the deadline, so the whole round went from 7.35 ms
//! to 7.79 ms at n = 64 and stayed at 33 ms at n = 128 (the transcript hash computed on
//! arrival is reused there).
//!
//! Where the time goes (`full/64`, perf): Horner evaluation of every dealer's commitment at
//! the player's own index, batched across dealers in affine coordinates (~35%: `n·t·log2 j`
//! group doublings per player are inherent to checking one share per dealer); the public
//! shares of all players (~15%); the `2n²` ristretto255 Diffie–Hellman operations (~13%);
//! the signature and proof checks (~7%) and the fixed-base commitments (~5%). A resharing
//! in the simulator has twice the participants (old holders deal, new players receive; both
//! verify the dealings' signatures and finalize), and each also checks the dealers' constant
//! terms against the old commitment and combines `t_old+1` commitments with Lagrange weights
//! ([`conclave_threshold_sig::Commitment::combine_points`]); `reshare/64`: deal 0.22 s, checks
//! 0.33 s (old holders) + 1.07 s (new players), finalize 0.87 s + 0.87 s.
//! Earlier figures on the same machine (end of the first session, G1 identity keys and hashed
//! ElGamal on G1, projective Horner): 18.8 ms / 2.81 s / 5.01 s at n = 64 and 67.2 ms / 30.7 s /
//! 82.3 s at n = 128.
//!
//! ## Features
//!
//! * `sim` (off by default): the in-process simulator [`sim`] (`run_dkg`, `run_reshare`,
//!   Byzantine behaviours) and the misbehaviour hooks inside [`Participant`] it drives. A host
//!   that embeds [`Participant`] does not need it; the CLI, tests, benchmarks and fuzz targets
//!   enable it. The example below needs it (`conclave-dkg = { features = ["sim"] }`).
//!
//! ```
//! # #[cfg(feature = "sim")] {
//! use conclave_dkg::sim::{parse_byzantine, run_dkg, SimConfig, SimVariant};
//! let cfg = SimConfig::new(SimVariant::MinPk, 4, 1, [1; 32])
//!     .with_byzantine(parse_byzantine("2:bad-share").unwrap());
//! let report = run_dkg(&cfg).unwrap();
//! assert_eq!(report.disqualified[0].reason, "bad-share");
//! # }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod codec;
mod complain;
pub mod config;
mod deal;
pub mod encryption;
pub mod error;
pub mod evidence;
mod finalize;
pub mod log;
pub mod messages;
pub mod participant;
mod recover;
pub mod sigma;
mod verify;

pub use config::{Committee, DkgConfig, IdentityKeys, Member};
pub use error::Error;
pub use evidence::{Evidence, FaultKind, SignedMessage};
pub use log::{AdaptiveDriver, LogDriver, LogOutcome, LogSchedule};
pub use messages::{Complaint, ComplaintEntry, Dealing, Justification, Message, Signed};
pub use participant::{Disqualified, DkgOutput, Input, Output, Participant, Phase};
#[cfg(feature = "sim")]
pub mod sim;
