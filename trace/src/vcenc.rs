//! Compact storage of sparse vector clocks.
//!
//! A reported clock is a list of `(replica, counter)` entries sorted by replica [`Sym`], with zero
//! entries left out (the spec makes them equal to absent ones). Each entry is stored as two LEB128
//! varints, the replica as a delta from the previous entry's: a 64-replica clock with counters
//! below 16,384 costs about 3 bytes an entry instead of the 16 of a `(u64, u64)` pair, which is
//! what keeps a million fully-clocked events well inside the memory budget.

use crate::intern::Sym;

/// Appends `entries` (sorted by replica, no zero counters) to `out`.
pub fn encode(entries: &[(Sym, u64)], out: &mut Vec<u8>) {
    let mut prev = 0u32;
    for &(id, v) in entries {
        put_varint(out, u64::from(id - prev));
        put_varint(out, v);
        prev = id;
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Iterates the entries of one encoded clock, in replica order.
#[derive(Clone, Debug)]
pub struct VcIter<'a> {
    bytes: &'a [u8],
    pos: usize,
    prev: u32,
}

impl<'a> VcIter<'a> {
    /// Iterates the clock encoded in `bytes` (exactly one clock's bytes).
    pub fn new(bytes: &'a [u8]) -> Self {
        VcIter {
            bytes,
            pos: 0,
            prev: 0,
        }
    }

    fn varint(&mut self) -> u64 {
        let mut v = 0u64;
        let mut shift = 0;
        loop {
            let b = self.bytes[self.pos];
            self.pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return v;
            }
            shift += 7;
        }
    }
}

impl Iterator for VcIter<'_> {
    type Item = (Sym, u64);

    #[inline]
    fn next(&mut self) -> Option<(Sym, u64)> {
        if self.pos >= self.bytes.len() {
            return None;
        }
        let id = self.prev + self.varint() as u32;
        self.prev = id;
        Some((id, self.varint()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_large_and_small_entries() {
        let entries = vec![(0, 1), (1, 127), (2, 128), (300, u64::MAX), (301, 16_384)];
        let mut buf = Vec::new();
        encode(&entries, &mut buf);
        assert_eq!(VcIter::new(&buf).collect::<Vec<_>>(), entries);
        assert_eq!(VcIter::new(&[]).count(), 0);
    }
}
