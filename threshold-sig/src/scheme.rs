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
    type Err = crate::Error;
    fn from_str(s: &str) -> Result<Self, crate::Error> {
        match s {
            "basic" | "nul" => Ok(Scheme::Basic),
            "aug" => Ok(Scheme::MessageAugmentation),
            "pop" => Ok(Scheme::ProofOfPossession),
            other => Err(crate::Error::UnknownScheme(other.to_string())),
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
        deserialize_with = "deserialize_dst"
    )]
    dst: Vec<u8>,
    #[serde(skip)]
    _variant: PhantomData<V>,
}

/// A DST from serde input: hex (or bytes), never empty.
fn deserialize_dst<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    use serde::de::Error as _;
    let dst = crate::encoding::deserialize_bytes(d)?;
    if dst.is_empty() {
        return Err(D::Error::custom(crate::Error::EmptyDst));
    }
    Ok(dst)
}

impl<V: Variant> Ciphersuite<V> {
    /// The standard ciphersuite of `scheme`, e.g. `BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_`
    /// for min-pk.
    pub fn new(scheme: Scheme) -> Self {
        Self {
            scheme,
            dst: standard_dst::<V>(scheme),
            _variant: PhantomData,
        }
    }

    /// `scheme` with a custom DST (for example drand's NUL suites, or an application tag).
    ///
    /// Fails with [`Error::EmptyDst`](crate::Error::EmptyDst) on an empty tag: RFC 9380 requires a
    /// non-empty DST, and an empty one gives no domain separation from any other protocol. A
    /// tag longer than 255 bytes is hashed as RFC 9380 §5.3.3 specifies (by `blst`).
    pub fn with_dst(scheme: Scheme, dst: impl Into<Vec<u8>>) -> Result<Self, crate::Error> {
        let dst = dst.into();
        if dst.is_empty() {
            return Err(crate::Error::EmptyDst);
        }
        Ok(Self {
            scheme,
            dst,
            _variant: PhantomData,
        })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    #[test]
    fn scheme_names_parse_and_an_unknown_one_is_a_typed_error() {
        assert_eq!("basic".parse::<Scheme>(), Ok(Scheme::Basic));
        assert_eq!("nul".parse::<Scheme>(), Ok(Scheme::Basic));
        assert_eq!("aug".parse::<Scheme>(), Ok(Scheme::MessageAugmentation));
        assert_eq!("pop".parse::<Scheme>(), Ok(Scheme::ProofOfPossession));
        let err = "POP!".parse::<Scheme>().unwrap_err();
        assert_eq!(err, Error::UnknownScheme("POP!".into()));
        assert_eq!(
            err.to_string(),
            "unknown scheme \"POP!\" (expected basic, aug or pop)"
        );
    }
}
