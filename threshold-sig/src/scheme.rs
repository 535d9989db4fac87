//! The IETF BLS ciphersuites (draft-irtf-cfrg-bls-signature-05, section 4): basic (`NUL`),
//! message augmentation (`AUG`) and proof of possession (`POP`), with their exact domain
//! separation tags, plus custom tags (for example drand's).

use std::marker::PhantomData;

use crate::variant::Variant;

/// Which IETF BLS scheme a ciphersuite follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    /// `NUL`: plain signatures; AggregateVerify requires distinct messages.
    Basic,
    /// `AUG`: every message is prefixed with the signer's public key before hashing.
    #[serde(rename = "aug")]
    MessageAugmentation,
    /// `POP`: signers prove possession of their keys; enables FastAggregateVerify.
    #[serde(rename = "pop")]
    ProofOfPossession,
}

impl Scheme {
    /// The suffix of the standard DST: `NUL`, `AUG` or `POP`.
    pub fn tag(self) -> &'static str {
        match self {
            Scheme::Basic => "NUL",
            Scheme::MessageAugmentation => "AUG",
            Scheme::ProofOfPossession => "POP",
        }
    }
}

impl std::str::FromStr for Scheme {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "basic" | "nul" => Ok(Scheme::Basic),
            "aug" => Ok(Scheme::MessageAugmentation),
            "pop" => Ok(Scheme::ProofOfPossession),
            other => Err(format!("unknown scheme {other:?} (basic|aug|pop)")),
        }
    }
}

/// A ciphersuite: a scheme and the domain separation tag used to hash messages, for variant `V`.
/// Serializes as `{"scheme": "pop", "dst": HEX}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(bound = "")]
pub struct Ciphersuite<V: Variant> {
    scheme: Scheme,
    #[serde(
        serialize_with = "crate::encoding::serialize_bytes",
        deserialize_with = "crate::encoding::deserialize_bytes"
    )]
    dst: Vec<u8>,
    #[serde(skip)]
    _variant: PhantomData<V>,
}

impl<V: Variant> Ciphersuite<V> {
    /// The standard ciphersuite of `scheme`, e.g. `BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_`
    /// for min-pk.
    pub fn new(scheme: Scheme) -> Self {
        Self::with_dst(scheme, standard_dst::<V>(scheme))
    }

    /// `scheme` with a custom DST (for example drand's NUL suites, or an application tag).
    pub fn with_dst(scheme: Scheme, dst: impl Into<Vec<u8>>) -> Self {
        Self {
            scheme,
            dst: dst.into(),
            _variant: PhantomData,
        }
    }

    /// The basic (`NUL`) ciphersuite.
    pub fn basic() -> Self {
        Self::new(Scheme::Basic)
    }

    /// The message-augmentation (`AUG`) ciphersuite.
    pub fn aug() -> Self {
        Self::new(Scheme::MessageAugmentation)
    }

    /// The proof-of-possession (`POP`) ciphersuite.
    pub fn pop() -> Self {
        Self::new(Scheme::ProofOfPossession)
    }

    /// The scheme.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The domain separation tag used for message signatures.
    pub fn dst(&self) -> &[u8] {
        &self.dst
    }
}

/// The standard signature DST of `scheme` for variant `V`.
pub fn standard_dst<V: Variant>(scheme: Scheme) -> Vec<u8> {
    format!(
        "BLS_SIG_BLS12381{}_XMD:SHA-256_SSWU_RO_{}_",
        V::SIGNATURE_GROUP,
        scheme.tag()
    )
    .into_bytes()
}

/// The DST for proofs of possession (PopProve / PopVerify) of variant `V`:
/// `BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_` for min-pk.
pub fn pop_dst<V: Variant>() -> Vec<u8> {
    format!(
        "BLS_POP_BLS12381{}_XMD:SHA-256_SSWU_RO_POP_",
        V::SIGNATURE_GROUP
    )
    .into_bytes()
}
