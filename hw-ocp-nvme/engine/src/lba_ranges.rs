// SPDX-License-Identifier: GPL-2.0-or-later
//! Sets of logical blocks of one namespace, as sorted disjoint ranges: the
//! blocks a namespace has allocated (NUSE, OCP 4.4.2; NVM Command Set 1.0,
//! Figure 97) and the blocks Write Uncorrectable marked (NVM Command Set
//! 1.0, 3.2.5).
//!
//! A set lives in the drive's state record, which has a fixed size, so it
//! holds at most [`MAX_RANGES`] ranges. An insertion beyond that fills the
//! smallest gap between two ranges (the set grows by those blocks); a
//! removal that would split a range beyond that removes nothing of it but
//! what it can without a split. Both only ever happen after hundreds of
//! scattered operations, and are documented in docs/engine-support.md.

use std::collections::BTreeMap;
use std::ops::Bound;

use crate::persist::Persist;
use crate::wire::{LeReader, LeWriter};

/// Most ranges one set holds (what bounds the drive's state record).
pub const MAX_RANGES: usize = 128;

/// A set of logical block addresses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LbaRanges {
    /// First block of each range -> one past its last block.
    map: BTreeMap<u64, u64>,
}

impl LbaRanges {
    /// Number of blocks in the set.
    pub fn blocks(&self) -> u64 {
        self.map.iter().map(|(s, e)| e - s).sum()
    }

    /// Number of ranges.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Forget every block.
    pub fn clear(&mut self) {
        self.map.clear();
    }

    /// Whether any of the `n` blocks from `start` is in the set.
    pub fn intersects(&self, start: u64, n: u64) -> bool {
        let end = start.saturating_add(n);
        if n == 0 {
            return false;
        }
        self.map
            .range(..end)
            .next_back()
            .is_some_and(|(_, &e)| e > start)
    }

    /// The ranges, as (first block, number of blocks).
    pub fn ranges(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.map.iter().map(|(&s, &e)| (s, e - s))
    }

    /// Add the `n` blocks from `start`.
    pub fn insert(&mut self, start: u64, n: u64) {
        if n == 0 {
            return;
        }
        let mut s = start;
        let mut e = start.saturating_add(n);
        if self.extend_one(s, e) {
            return;
        }
        // Merge with every range touching or overlapping [s, e).
        let touching: Vec<(u64, u64)> = self
            .map
            .range(..=e)
            .rev()
            .take_while(|(_, &re)| re >= s)
            .map(|(&rs, &re)| (rs, re))
            .collect();
        for (rs, re) in touching {
            self.map.remove(&rs);
            s = s.min(rs);
            e = e.max(re);
        }
        self.map.insert(s, e);
        while self.map.len() > MAX_RANGES {
            self.fill_smallest_gap();
        }
    }

    /// The common insertions (blocks already in the set, or a sequential
    /// write growing a range) without a merge list: when [`Self::insert`]
    /// would merge [s, e) with one range that starts at or before `s`
    /// only, that range takes `e` as its end. False when it would merge
    /// more (nothing changed then).
    fn extend_one(&mut self, s: u64, e: u64) -> bool {
        let Some((&rs, &re)) = self.map.range(..=s).next_back() else {
            return false;
        };
        if re < s {
            return false;
        }
        // Another range touching [s, e): one ending at `rs == s` before
        // it, or one starting inside (s, e].
        let before = self
            .map
            .range(..rs)
            .next_back()
            .is_some_and(|(_, &pe)| pe >= s);
        let after = self
            .map
            .range((Bound::Excluded(s), Bound::Included(e)))
            .next()
            .is_some();
        if before || after {
            return false;
        }
        if re < e {
            if let Some(end) = self.map.get_mut(&rs) {
                *end = e;
            }
        }
        true
    }

    /// Remove the `n` blocks from `start`.
    pub fn remove(&mut self, start: u64, n: u64) {
        if n == 0 {
            return;
        }
        let s = start;
        let e = start.saturating_add(n);
        let hit: Vec<(u64, u64)> = self
            .map
            .range(..e)
            .rev()
            .take_while(|(_, &re)| re > s)
            .map(|(&rs, &re)| (rs, re))
            .collect();
        for (rs, re) in hit {
            self.map.remove(&rs);
            let left = rs < s;
            let right = re > e;
            if left && right && self.map.len() + 2 > MAX_RANGES {
                // No room to split: the range stays whole.
                self.map.insert(rs, re);
                continue;
            }
            if left {
                self.map.insert(rs, s);
            }
            if right {
                self.map.insert(e, re);
            }
        }
    }

    fn fill_smallest_gap(&mut self) {
        let ranges: Vec<(u64, u64)> = self.map.iter().map(|(&s, &e)| (s, e)).collect();
        let best = ranges
            .windows(2)
            .min_by_key(|w| w[1].0 - w[0].1)
            .map(|w| (w[0].0, w[1].0, w[1].1));
        if let Some((first, second, end)) = best {
            self.map.remove(&second);
            self.map.insert(first, end);
        }
    }

    /// Whether the set is well formed inside `limit` blocks (a loaded state).
    pub fn check(&self, limit: u64) -> Result<(), String> {
        if self.map.len() > MAX_RANGES {
            return Err(format!("{} LBA ranges", self.map.len()));
        }
        let mut prev_end: Option<u64> = None;
        for (&s, &e) in &self.map {
            if e <= s || e > limit || prev_end.is_some_and(|p| s <= p) {
                return Err(format!("LBA range {s}..{e} (limit {limit})"));
            }
            prev_end = Some(e);
        }
        Ok(())
    }
}

impl Persist for LbaRanges {
    fn save(&self, w: &mut LeWriter) {
        let v: Vec<(u64, u64)> = self.map.iter().map(|(&s, &e)| (s, e)).collect();
        v.save(w);
    }
    fn load(r: &mut LeReader<'_>) -> Result<Self, String> {
        let v: Vec<(u64, u64)> = Persist::load(r)?;
        if v.len() > MAX_RANGES {
            return Err(format!("{} LBA ranges", v.len()));
        }
        let mut map = BTreeMap::new();
        for (s, e) in v {
            if map.insert(s, e).is_some() {
                return Err(format!("LBA range at {s} twice"));
            }
        }
        Ok(LbaRanges { map })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_merges_and_remove_splits() {
        let mut r = LbaRanges::default();
        r.insert(10, 5);
        r.insert(20, 5);
        assert_eq!(r.blocks(), 10);
        r.insert(15, 5);
        assert_eq!(r.ranges().collect::<Vec<_>>(), vec![(10, 15)]);
        r.remove(12, 2);
        assert_eq!(r.ranges().collect::<Vec<_>>(), vec![(10, 2), (14, 11)]);
        assert!(r.intersects(11, 1));
        assert!(!r.intersects(12, 2));
        assert!(r.intersects(0, 15));
        r.remove(0, 100);
        assert!(r.is_empty());
        r.check(100).unwrap();
    }

    #[test]
    fn insert_extends_in_place_exactly_as_a_merge_would() {
        let mut r = LbaRanges::default();
        // Sequential writes grow one range; rewrites change nothing.
        for i in 0..100 {
            r.insert(i * 8, 8);
            r.insert(i * 4, 2);
        }
        assert_eq!(r.ranges().collect::<Vec<_>>(), vec![(0, 800)]);
        // Growing into the next range merges both.
        r.insert(900, 10);
        r.insert(800, 100);
        assert_eq!(r.ranges().collect::<Vec<_>>(), vec![(0, 910)]);
        // Against a block-by-block model, random insertions and removals
        // (few enough blocks to stay under MAX_RANGES).
        let mut model = [false; 200];
        let mut set = LbaRanges::default();
        let mut x = 12_345u64;
        for _ in 0..20_000 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let start = (x >> 33) % 200;
            let n = ((x >> 20) % 8).min(200 - start);
            let add = x >> 63 == 0;
            if add {
                set.insert(start, n);
            } else {
                set.remove(start, n);
            }
            for b in &mut model[start as usize..(start + n) as usize] {
                *b = add;
            }
            let mut want = Vec::new();
            let mut b = 0;
            while b < 200 {
                if model[b] {
                    let first = b;
                    while b < 200 && model[b] {
                        b += 1;
                    }
                    want.push((first as u64, (b - first) as u64));
                }
                b += 1;
            }
            assert_eq!(set.ranges().collect::<Vec<_>>(), want);
        }
    }

    #[test]
    fn bounded_by_filling_the_smallest_gap() {
        let mut r = LbaRanges::default();
        for i in 0..MAX_RANGES as u64 + 10 {
            r.insert(i * 10, 1);
        }
        assert_eq!(r.len(), MAX_RANGES);
        // Every inserted block is still in the set.
        for i in 0..MAX_RANGES as u64 + 10 {
            assert!(r.intersects(i * 10, 1));
        }
        // A split that would overflow keeps the range.
        let before = r.blocks();
        let (s, _) = r.ranges().find(|&(_, n)| n > 2).unwrap();
        r.remove(s + 1, 1);
        assert_eq!(r.len(), MAX_RANGES);
        assert_eq!(r.blocks(), before);
        r.check(u64::MAX).unwrap();
    }
}
