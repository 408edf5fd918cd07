//! Adjacency lists that cost 4 bytes an entry when they hold at most one item: most events have
//! no cross predecessor or one (the send of the message they receive), and most have no cross
//! successor or one, so a `Vec` per node (24 bytes, plus an allocation) was most of the
//! engine's edge memory. Most messages likewise have one send and one recv, so the engine
//! keeps those per message (by interned id) the same way.

use rustc_hash::FxHashMap;

const EMPTY: u32 = u32::MAX;
const MANY: u32 = u32::MAX - 1;

/// Per node: a list of nodes (node numbers below `u32::MAX - 1`).
#[derive(Default, Debug)]
pub(super) struct Adj {
    /// The single entry, or `EMPTY`, or `MANY` (the list is in `many`).
    one: Vec<u32>,
    many: FxHashMap<u32, Vec<u32>>,
}

impl Adj {
    /// Makes room for nodes `0..n` (new ones empty).
    pub fn resize(&mut self, n: usize) {
        self.one.resize(n, EMPTY);
    }

    pub fn is_empty(&self) -> bool {
        self.one.is_empty()
    }

    /// The list of node `v`.
    #[inline]
    pub fn get(&self, v: u32) -> &[u32] {
        match &self.one[v as usize] {
            &EMPTY => &[],
            &MANY => &self.many[&v],
            one => std::slice::from_ref(one),
        }
    }

    /// Replaces the list of `v`.
    pub fn set(&mut self, v: u32, list: &[u32]) {
        match list.len() {
            0 | 1 => {
                if self.one[v as usize] == MANY {
                    self.many.remove(&v);
                }
                self.one[v as usize] = list.first().copied().unwrap_or(EMPTY);
            }
            _ => {
                self.one[v as usize] = MANY;
                self.many.insert(v, list.to_vec());
            }
        }
    }

    /// Appends `x` to the list of `v`.
    pub fn push(&mut self, v: u32, x: u32) {
        match self.one[v as usize] {
            EMPTY => self.one[v as usize] = x,
            MANY => self.many.get_mut(&v).expect("MANY has a list").push(x),
            y => {
                self.one[v as usize] = MANY;
                self.many.insert(v, vec![y, x]);
            }
        }
    }

    /// Removes one `x` from the list of `v` (the order of the rest may change).
    pub fn remove(&mut self, v: u32, x: u32) {
        match self.one[v as usize] {
            EMPTY => {}
            MANY => {
                let list = self.many.get_mut(&v).expect("MANY has a list");
                if let Some(i) = list.iter().position(|&y| y == x) {
                    list.swap_remove(i);
                }
                if list.len() < 2 {
                    let list = self.many.remove(&v).expect("present");
                    self.one[v as usize] = list.first().copied().unwrap_or(EMPTY);
                }
            }
            y if y == x => self.one[v as usize] = EMPTY,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_of_every_length_round_trip() {
        let mut a = Adj::default();
        a.resize(4);
        assert!(a.get(0).is_empty());
        a.push(1, 7);
        assert_eq!(a.get(1), &[7]);
        a.push(1, 9);
        a.push(1, 11);
        assert_eq!(a.get(1), &[7, 9, 11]);
        a.remove(1, 7);
        a.remove(1, 11);
        assert_eq!(a.get(1), &[9]);
        a.remove(1, 9);
        assert!(a.get(1).is_empty());
        a.set(2, &[1, 2, 3]);
        assert_eq!(a.get(2), &[1, 2, 3]);
        a.set(2, &[5]);
        assert_eq!(a.get(2), &[5]);
        assert!(a.many.is_empty());
    }
}
