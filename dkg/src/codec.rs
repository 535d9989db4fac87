//! Canonical byte encodings (length-prefixed, big-endian) and serde helpers (hex strings in
//! human-readable formats). Readers never panic: every read is bounds-checked.

use blstrs::Scalar;

use crate::error::Error;

/// Maximum number of elements in any encoded list (bounds allocations on hostile input).
pub const MAX_LIST: u32 = 1 << 16;

/// Append-only canonical encoder.
#[derive(Default)]
pub(crate) struct Writer(pub(crate) Vec<u8>);

impl Writer {
    pub(crate) fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    pub(crate) fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    pub(crate) fn bytes(&mut self, b: &[u8]) {
        self.u32(b.len() as u32);
        self.0.extend_from_slice(b);
    }
    pub(crate) fn scalar(&mut self, s: &Scalar) {
        self.0.extend_from_slice(&s.to_bytes_be());
    }
}

/// Bounds-checked decoder over a byte slice.
pub(crate) struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    pub(crate) fn new(b: &'a [u8]) -> Self {
        Reader(b)
    }
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        if self.0.len() < n {
            return Err(Error::Malformed("truncated"));
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }
    pub(crate) fn u8(&mut self) -> Result<u8, Error> {
        Ok(self.take(1)?[0])
    }
    pub(crate) fn u32(&mut self) -> Result<u32, Error> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    /// A list length, bounded by [`MAX_LIST`].
    pub(crate) fn len(&mut self) -> Result<usize, Error> {
        let n = self.u32()?;
        if n > MAX_LIST {
            return Err(Error::Malformed("list too long"));
        }
        Ok(n as usize)
    }
    /// A list length, bounded by `max` (and [`MAX_LIST`]).
    pub(crate) fn len_at_most(&mut self, max: u32) -> Result<usize, Error> {
        let n = self.len()?;
        if n > max as usize {
            return Err(Error::Malformed(
                "list longer than the configuration allows",
            ));
        }
        Ok(n)
    }
    pub(crate) fn bytes(&mut self) -> Result<&'a [u8], Error> {
        let n = self.u32()? as usize;
        self.take(n)
    }
    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
    pub(crate) fn scalar(&mut self) -> Result<Scalar, Error> {
        let b = self.array::<32>()?;
        Option::from(Scalar::from_bytes_be(&b)).ok_or(Error::Crypto(
            conclave_threshold_sig::Error::NonCanonicalScalar,
        ))
    }
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.0
    }
    pub(crate) fn finish(self) -> Result<(), Error> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Malformed("trailing bytes"))
        }
    }
}

/// Decode a 32-byte big-endian scalar (< r).
pub(crate) fn decode_scalar(b: &[u8]) -> Result<Scalar, Error> {
    Reader::new(b).scalar()
}

fn ser_bytes<S: serde::Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
    if s.is_human_readable() {
        // Secrets (keys, shares, seeds) pass through here: wipe the hex copy.
        s.serialize_str(&zeroize::Zeroizing::new(hex::encode(b)))
    } else {
        s.serialize_bytes(b)
    }
}

fn de_bytes<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    use serde::de::Error as _;
    if d.is_human_readable() {
        let s: zeroize::Zeroizing<String> =
            zeroize::Zeroizing::new(serde::Deserialize::deserialize(d)?);
        conclave_threshold_sig::decode_hex(&s).map_err(D::Error::custom)
    } else {
        let v: serde_bytes_compat::Buf = serde::Deserialize::deserialize(d)?;
        Ok(v.0)
    }
}

mod serde_bytes_compat {
    /// Owned bytes that accept both byte strings and sequences.
    pub(crate) struct Buf(pub(crate) Vec<u8>);
    impl<'de> serde::Deserialize<'de> for Buf {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> serde::de::Visitor<'de> for V {
                type Value = Buf;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("bytes")
                }
                fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Buf, E> {
                    Ok(Buf(v.to_vec()))
                }
                fn visit_seq<A: serde::de::SeqAccess<'de>>(
                    self,
                    mut s: A,
                ) -> Result<Buf, A::Error> {
                    let mut out = Vec::new();
                    while let Some(b) = s.next_element::<u8>()? {
                        out.push(b);
                    }
                    Ok(Buf(out))
                }
            }
            d.deserialize_bytes(V)
        }
    }
}

/// serde for `Vec<u8>` as hex.
pub(crate) mod hex_bytes {
    pub(crate) fn serialize<S: serde::Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
        super::ser_bytes(b, s)
    }
    pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        super::de_bytes(d)
    }
}

/// serde for `[u8; 32]` as hex.
pub(crate) mod hex32 {
    pub(crate) fn serialize<S: serde::Serializer>(b: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        super::ser_bytes(b, s)
    }
    pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<[u8; 32], D::Error> {
        use serde::de::Error as _;
        let v = super::de_bytes(d)?;
        v.try_into()
            .map_err(|_| D::Error::custom("expected 32 bytes"))
    }
}

/// serde for a [`Scalar`] as 32-byte big-endian hex.
pub(crate) mod scalar {
    use blstrs::Scalar;
    pub(crate) fn serialize<S: serde::Serializer>(v: &Scalar, s: S) -> Result<S::Ok, S::Error> {
        super::ser_bytes(&v.to_bytes_be(), s)
    }
    pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Scalar, D::Error> {
        use serde::de::Error as _;
        let v = zeroize::Zeroizing::new(super::de_bytes(d)?);
        super::decode_scalar(&v).map_err(D::Error::custom)
    }
}
