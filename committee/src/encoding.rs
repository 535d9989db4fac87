//! Canonical byte and hex encodings shared by the public types.
//!
//! Hex is written lowercase without `0x`; on input an optional `0x`/`0X` prefix and uppercase digits
//! are accepted. With serde, fixed-size types are hex strings in human-readable formats (JSON) and
//! raw bytes otherwise. Every decoder validates and returns a typed [`Error`]; none panics.

use crate::error::Error;

/// Decodes hex (optional `0x` prefix, any case) into bytes.
pub fn decode_hex(what: &'static str, text: &str) -> Result<Vec<u8>, Error> {
    let trimmed = text.trim();
    let digits = trimmed
        .strip_prefix("0x")
        .or_else(|| trimmed.strip_prefix("0X"))
        .unwrap_or(trimmed);
    hex::decode(digits).map_err(|_| Error::InvalidHex { what })
}

/// Decodes hex into exactly `N` bytes.
pub fn decode_hex_array<const N: usize>(what: &'static str, text: &str) -> Result<[u8; N], Error> {
    array_from_slice(what, &decode_hex(what, text)?)
}

/// Copies a slice into an array of exactly `N` bytes.
pub(crate) fn array_from_slice<const N: usize>(
    what: &'static str,
    bytes: &[u8],
) -> Result<[u8; N], Error> {
    bytes.try_into().map_err(|_| Error::InvalidLength {
        what,
        expected: N,
        got: bytes.len(),
    })
}

/// Implements `Display`/`FromStr` (hex) and serde (hex string or bytes) for a type with
/// `to_bytes() -> [u8; N]` and `from_slice(&[u8]) -> Result<Self, Error>`.
macro_rules! impl_hex_encoding {
    ($ty:ty, $what:expr) => {
        impl core::fmt::Display for $ty {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(&hex::encode(self.to_bytes()))
            }
        }

        impl core::str::FromStr for $ty {
            type Err = $crate::error::Error;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                <$ty>::from_slice(&$crate::encoding::decode_hex($what, text)?)
            }
        }

        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                if serializer.is_human_readable() {
                    serializer.serialize_str(&hex::encode(self.to_bytes()))
                } else {
                    serializer.serialize_bytes(&self.to_bytes()[..])
                }
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let bytes = if deserializer.is_human_readable() {
                    let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                    $crate::encoding::decode_hex($what, &text).map_err(serde::de::Error::custom)?
                } else {
                    deserializer.deserialize_byte_buf($crate::encoding::BytesVisitor)?
                };
                <$ty>::from_slice(&bytes).map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use impl_hex_encoding;

/// Accepts bytes or a sequence of `u8` from binary serde formats.
pub(crate) struct BytesVisitor;

impl<'de> serde::de::Visitor<'de> for BytesVisitor {
    type Value = Vec<u8>;

    fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("a byte string")
    }

    fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
        Ok(v.to_vec())
    }

    fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
        Ok(v)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
        let mut out = Vec::new();
        while let Some(byte) = seq.next_element::<u8>()? {
            if out.len() >= 1024 {
                return Err(serde::de::Error::custom("byte string too long"));
            }
            out.push(byte);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_input_forms() {
        assert_eq!(decode_hex("x", "0xABcd").unwrap(), vec![0xab, 0xcd]);
        assert_eq!(decode_hex("x", "0Xab").unwrap(), vec![0xab]);
        assert_eq!(decode_hex("x", "abc"), Err(Error::InvalidHex { what: "x" }));
        assert_eq!(decode_hex("x", "zz"), Err(Error::InvalidHex { what: "x" }));
        assert_eq!(
            decode_hex_array::<2>("x", "aabbcc"),
            Err(Error::InvalidLength {
                what: "x",
                expected: 2,
                got: 3
            })
        );
    }
}
