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
//!   Schnorr proof of knowledge, and one ciphertext per player seat, signed. Identity keys,
//!   signatures, proofs and encryption use ristretto255 ([`sigma`]): no pairing is needed there,
//!   and its scalar multiplications are ~3× faster than in BLS12-381 G1. Only the Feldman
//!   commitments and shares live in the BLS12-381 group of the chosen variant.
//! * End of round 1 (`deal.rs`, `verify.rs`): all dealer signatures and ephemeral-key proofs in
//!   one batched MSM; one Diffie–Hellman `x·R` per dealing to decrypt own shares; all received
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
//! * An authenticated, synchronous broadcast (phase deadlines): every honest participant sees
//!   the same messages before each deadline. Without it, honest participants may disagree on
//!   QUAL; this crate does not implement the broadcast.
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
//!   and redacted in `Debug`; variable-base multiplications by secret scalars use blst's
//!   constant-time code. Small public integers (indices, Lagrange numerators) use
//!   variable-time double-and-add.
//! * Participants are deterministic given their seed: a seed reused in another session reuses
//!   the same secret polynomials there. Use a fresh secret seed per session.
//!
//! ## Performance
//!
//! `cargo bench -p conclave-benches --bench dkg -- --warm-up-time 1 --measurement-time 3
//! --sample-size 10` (t = 2f, n = 3f+1; min-pk up to 64, min-sig from 128;
//! `dkg/verify_all_dealings/<n>` is one player's whole end-of-deal processing: signatures,
//! proofs, decryption of its n shares and their check; `dkg/full/<n>` and `dkg/reshare/<n>` run
//! every participant in one process, single-threaded apart from blst's MSM thread pool).
//! Criterion medians on the shared 2-core development VM, pinned to one core (`taskset -c 1`),
//! load average 1–3; n ≥ 128 full and reshare and n = 256 verify: one run each (verify: best
//! of 2) of `examples/profile_verify.rs`
//! (reshare/128 measured before the last finalize change):
//!
//! | n (variant)   | verify_all_dealings | full    | reshare | commonware verify / full | ratio        |
//! |---------------|---------------------|---------|---------|--------------------------|--------------|
//! | 16 (min-pk)   | 4.6 ms              | 0.146 s | 0.25 s  |                          |              |
//! | 64 (min-pk)   | 18.8 ms             | 2.81 s  | 5.01 s  | 84 ms / 10.3 s           | 4.5× / 3.7×  |
//! | 128 (min-sig) | 67.2 ms             | 30.7 s  | 82.3 s  | 1.15 s / 182 s           | 17× / 5.9×   |
//! | 256 (min-sig) | 207 ms              | 246 s   | —       |                          |              |
//!
//! (Before the Horner share check, batched resharing checks and
//! short Lagrange weights, on the same machine under heavier load: 58.6 ms, 7.55 s and 24 s at
//! n = 64.) What remains dominant is the hashed-ElGamal Diffie–Hellman: one constant-time G1
//! multiplication per (dealer, player) pair on each side (`2n²` in a full run; about a third of
//! `verify_all_dealings` at n = 64 and, with the dealers' commitments, ~40% of `full/64`);
//! commonware delivers shares over private channels and does not decrypt. Next: Horner steps
//! (~20% of `full/64`), the signature batch (~12%), public shares (~11%).
//! `examples/profile_verify.rs` times the phases alone.
//!
//! ```
//! use conclave_dkg::sim::{parse_byzantine, run_dkg, SimConfig};
//! let cfg = SimConfig { variant: "min-pk".into(), n: 4, t: 1, seed: [1; 32],
//!                       byzantine: parse_byzantine("2:bad-share").unwrap() };
//! let report = run_dkg(&cfg).unwrap();
//! assert_eq!(report.disqualified[0].reason, "bad-share");
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
pub mod messages;
pub mod participant;
pub mod sigma;
mod verify;

pub use config::{Committee, DkgConfig, IdentityKeys, Member};
pub use error::Error;
pub use evidence::{Evidence, FaultKind, SignedMessage};
pub use messages::{Complaint, ComplaintEntry, Dealing, Justification, Message, Signed};
pub use participant::{Disqualified, DkgOutput, Input, Output, Participant, Phase};
pub mod sim;
