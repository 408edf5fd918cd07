//! [`Digest`]: the deterministic 64-bit hasher replica states are compared with, apart because
//! every CRDT feeds it and it depends on none of them.

/// A small deterministic 64-bit hasher (splitmix64 finalizer over 64-bit words), independent
/// of platform and process. Not cryptographic; used to compare replica states cheaply.
#[derive(Clone, Debug)]
pub struct Digest {
    h: u64,
    n: u64,
}

#[inline]
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Digest {
    pub const fn new() -> Self {
        Digest {
            h: 0x243f_6a88_85a3_08d3,
            n: 0,
        }
    }

    #[inline]
    pub fn write_u64(&mut self, x: u64) {
        self.h = mix64(self.h ^ x).wrapping_add(0x9e37_79b9_7f4a_7c15);
        self.n += 1;
    }

    /// Writes the length, then the bytes as little-endian words (the last one zero-padded).
    pub fn write_bytes(&mut self, bytes: &[u8]) {
        self.write_u64(bytes.len() as u64);
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.write_u64(u64::from_le_bytes(c.try_into().expect("8-byte chunk")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.write_u64(u64::from_le_bytes(w));
        }
    }

    pub fn finish(&self) -> u64 {
        mix64(self.h ^ self.n.wrapping_mul(0xff51_afd7_ed55_8ccd))
    }
}

impl Default for Digest {
    fn default() -> Self {
        Digest::new()
    }
}
