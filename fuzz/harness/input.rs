//! A tiny, dependency-free reader that turns fuzzer bytes into choices. Reads past the end yield
//! zeros, so every byte string is a valid input and the fuzzer's mutations stay meaningful.
//!
//! Shared by the fuzz targets (`fuzz/fuzz_targets/*.rs`) and the stable corpus regression tests
//! in the crates' `tests/fuzz_corpus.rs`; it uses no libFuzzer types.

/// A cursor over fuzzer bytes.
pub struct Input<'a> {
    data: &'a [u8],
}

#[allow(dead_code)] // each harness uses a subset
impl<'a> Input<'a> {
    /// A cursor at the start of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Input { data }
    }

    /// True when every byte was consumed.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// One byte (0 past the end).
    pub fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    /// A big-endian `u32` (missing bytes read as 0).
    pub fn u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        for x in &mut b {
            *x = self.u8();
        }
        u32::from_be_bytes(b)
    }

    /// A big-endian `u64` (missing bytes read as 0).
    pub fn u64(&mut self) -> u64 {
        (u64::from(self.u32()) << 32) | u64::from(self.u32())
    }

    /// A boolean from one byte's low bit.
    pub fn bool(&mut self) -> bool {
        self.u8() & 1 == 1
    }

    /// A number in `0..n` (`n ≥ 1`) from one byte.
    pub fn below(&mut self, n: usize) -> usize {
        usize::from(self.u8()) % n.max(1)
    }

    /// Up to `n` bytes (fewer at the end).
    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.data.len());
        let (head, tail) = self.data.split_at(n);
        self.data = tail;
        head
    }

    /// Exactly `N` bytes (zero-padded at the end).
    pub fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        let got = self.bytes(N);
        out[..got.len()].copy_from_slice(got);
        out
    }

    /// A byte string with a one-byte length prefix (at most `max` bytes).
    pub fn short_bytes(&mut self, max: usize) -> &'a [u8] {
        let n = self.below(max + 1);
        self.bytes(n)
    }

    /// Everything that is left.
    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.data)
    }
}
