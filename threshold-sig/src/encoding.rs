//! Hex parsing and the serde convention of the crate: hex strings in human-readable formats
//! (JSON, TOML), raw bytes otherwise (bincode and friends).

use crate::error::Error;

/// Decode hex, accepting an optional `0x` prefix and either case.
pub fn decode_hex(s: &str) -> Result<Vec<u8>, Error> {
    let s = s.trim();
    let s = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    hex::decode(s).map_err(|_| Error::InvalidHex)
}

/// Serialize bytes as lowercase hex (human-readable) or raw bytes.
pub(crate) fn serialize_bytes<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    if s.is_human_readable() {
        // Secret keys and shares pass through here: wipe the hex copy.
        s.serialize_str(&zeroize::Zeroizing::new(hex::encode(bytes)))
    } else {
        s.serialize_bytes(bytes)
    }
}

/// Deserialize what [`serialize_bytes`] wrote.
pub(crate) fn deserialize_bytes<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<u8>, D::Error> {
    use serde::de::Error as _;
    if d.is_human_readable() {
        // An owned copy that is wiped (the hex of a secret is as secret as its bytes).
        let s: zeroize::Zeroizing<String> =
            zeroize::Zeroizing::new(serde::Deserialize::deserialize(d)?);
        decode_hex(&s).map_err(D::Error::custom)
    } else {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                Ok(v.to_vec())
            }
            fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
                Ok(v)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Vec<u8>, A::Error> {
                let mut out = Vec::new();
                while let Some(b) = seq.next_element::<u8>()? {
                    out.push(b);
                }
                Ok(out)
            }
        }
        d.deserialize_bytes(V)
    }
}

/// Implement `to_bytes`-based `Display`/`FromStr` (hex), `TryFrom<&[u8]>` and serde for a type
/// with `fn to_bytes(&self) -> Vec<u8>` and `fn from_bytes(&[u8]) -> Result<Self, Error>`.
macro_rules! impl_byte_encoding {
    ($ty:ident $(<$g:ident: $bound:path>)?) => {
        impl$(<$g: $bound>)? std::fmt::Display for $ty$(<$g>)? {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&hex::encode(self.to_bytes()))
            }
        }
        impl$(<$g: $bound>)? std::str::FromStr for $ty$(<$g>)? {
            type Err = $crate::error::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::from_bytes(&$crate::encoding::decode_hex(s)?)
            }
        }
        impl$(<$g: $bound>)? TryFrom<&[u8]> for $ty$(<$g>)? {
            type Error = $crate::error::Error;
            fn try_from(bytes: &[u8]) -> Result<Self, Self::Error> {
                Self::from_bytes(bytes)
            }
        }
        impl$(<$g: $bound>)? serde::Serialize for $ty$(<$g>)? {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                $crate::encoding::serialize_bytes(&self.to_bytes(), s)
            }
        }
        impl<'de $(, $g: $bound)?> serde::Deserialize<'de> for $ty$(<$g>)? {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                use serde::de::Error as _;
                let bytes = $crate::encoding::deserialize_bytes(d)?;
                Self::from_bytes(&bytes).map_err(D::Error::custom)
            }
        }
    };
}
pub(crate) use impl_byte_encoding;
