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
//!
//! The ranges are a sorted vector: lookups are binary searches over a few
//! cache lines, and random writes that keep a full set at its bound find
//! the smallest gap in one pass over at most [`MAX_RANGES`] adjacent
//! entries (a tree of ranges cost several times more per write).

use crate::persist::Persist;
use crate::wire::{LeReader, LeWriter};

/// Most ranges one set holds (what bounds the drive's state record).
pub const MAX_RANGES: usize = 128;

/// A set of logical block addresses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LbaRanges {
    /// (first block, one past the last block) of each range, sorted; no
    /// two ranges overlap or touch.
    ranges: Vec<(u64, u64)>,
}

impl LbaRanges {
    /// Number of blocks in the set.
    pub fn blocks(&self) -> u64 {
        self.ranges.iter().map(|(s, e)| e - s).sum()
    }

    /// Number of ranges.
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Forget every block.
    pub fn clear(&mut self) {
        self.ranges.clear();
    }

    /// Whether any of the `n` blocks from `start` is in the set.
    pub fn intersects(&self, start: u64, n: u64) -> bool {
        if n == 0 {
            return false;
        }
        let end = start.saturating_add(n);
        let i = self.ranges.partition_point(|&(s, _)| s < end);
        i > 0 && self.ranges[i - 1].1 > start
    }

    /// The ranges, as (first block, number of blocks).
    pub fn ranges(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.ranges.iter().map(|&(s, e)| (s, e - s))
    }

    /// Add the `n` blocks from `start`.
    pub fn insert(&mut self, start: u64, n: u64) {
        if n == 0 {
            return;
        }
        let s = start;
        let e = start.saturating_add(n);
        // The ranges touching or overlapping [s, e) are lo..hi.
        let lo = self.ranges.partition_point(|&(_, re)| re < s);
        let hi = self.ranges.partition_point(|&(rs, _)| rs <= e);
        if lo == hi {
            self.ranges.insert(lo, (s, e));
            if self.ranges.len() > MAX_RANGES {
                self.fill_smallest_gap();
            }
            return;
        }
        let merged = (s.min(self.ranges[lo].0), e.max(self.ranges[hi - 1].1));
        self.ranges[lo] = merged;
        self.ranges.drain(lo + 1..hi);
    }

    /// Remove the `n` blocks from `start`.
    pub fn remove(&mut self, start: u64, n: u64) {
        if n == 0 {
            return;
        }
        let s = start;
        let e = start.saturating_add(n);
        // The ranges overlapping [s, e) are lo..hi.
        let lo = self.ranges.partition_point(|&(_, re)| re <= s);
        let hi = self.ranges.partition_point(|&(rs, _)| rs < e);
        if lo >= hi {
            return;
        }
        let first = self.ranges[lo].0;
        let last = self.ranges[hi - 1].1;
        match (first < s, last > e) {
            (true, true) if lo + 1 == hi => {
                // A split: only with room for one more range; without,
                // the range stays whole.
                if self.ranges.len() < MAX_RANGES {
                    self.ranges[lo].1 = s;
                    self.ranges.insert(lo + 1, (e, last));
                }
            }
            (true, true) => {
                self.ranges[lo].1 = s;
                self.ranges[lo + 1] = (e, last);
                self.ranges.drain(lo + 2..hi);
            }
            (true, false) => {
                self.ranges[lo].1 = s;
                self.ranges.drain(lo + 1..hi);
            }
            (false, true) => {
                self.ranges[lo] = (e, last);
                self.ranges.drain(lo + 1..hi);
            }
            (false, false) => {
                self.ranges.drain(lo..hi);
            }
        }
    }

    /// Join the two ranges around the smallest gap (the first one of that
    /// size).
    fn fill_smallest_gap(&mut self) {
        let best = self
            .ranges
            .windows(2)
            .enumerate()
            .min_by_key(|(_, w)| w[1].0 - w[0].1);
        if let Some((i, _)) = best {
            self.ranges[i].1 = self.ranges[i + 1].1;
            self.ranges.remove(i + 1);
        }
    }

    /// Whether the set is well formed inside `limit` blocks (a loaded state).
    pub fn check(&self, limit: u64) -> Result<(), String> {
        if self.ranges.len() > MAX_RANGES {
            return Err(format!("{} LBA ranges", self.ranges.len()));
        }
        let mut prev_end: Option<u64> = None;
        for &(s, e) in &self.ranges {
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
        self.ranges.save(w);
    }
    fn load(r: &mut LeReader<'_>) -> Result<Self, String> {
        let mut ranges: Vec<(u64, u64)> = Persist::load(r)?;
        if ranges.len() > MAX_RANGES {
            return Err(format!("{} LBA ranges", ranges.len()));
        }
        ranges.sort_unstable();
        if let Some(w) = ranges.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(format!("LBA range at {} twice", w[0].0));
        }
        Ok(LbaRanges { ranges })
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
    fn insert_and_remove_match_a_block_model() {
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

    /// The old walk-based rules, on a plain list: insert merges what it
    /// touches, then joins the two ranges around the smallest gap (the
    /// first one of that size) while over the bound; remove splits unless
    /// that would go over the bound.
    fn reference_insert(v: &mut Vec<(u64, u64)>, s: u64, n: u64) {
        let (mut s, mut e) = (s, s + n);
        v.retain(|&(rs, re)| {
            let touch = rs <= e && re >= s;
            if touch {
                s = s.min(rs);
                e = e.max(re);
            }
            !touch
        });
        v.push((s, e));
        v.sort_unstable();
        while v.len() > MAX_RANGES {
            let i = (0..v.len() - 1)
                .min_by_key(|&i| (v[i + 1].0 - v[i].1, v[i].1))
                .unwrap();
            v[i].1 = v[i + 1].1;
            v.remove(i + 1);
        }
    }

    fn reference_remove(v: &mut Vec<(u64, u64)>, s: u64, n: u64) {
        let e = s + n;
        let mut out = Vec::new();
        let mut len = v.len();
        for &(rs, re) in v.iter().rev() {
            if re <= s || rs >= e {
                out.push((rs, re));
                continue;
            }
            if rs < s && re > e && len + 1 > MAX_RANGES {
                out.push((rs, re));
                continue;
            }
            len -= 1;
            if rs < s {
                out.push((rs, s));
                len += 1;
            }
            if re > e {
                out.push((e, re));
                len += 1;
            }
        }
        out.sort_unstable();
        *v = out;
    }

    #[test]
    fn fills_and_splits_as_the_reference_rules() {
        let mut set = LbaRanges::default();
        let mut reference = Vec::new();
        let mut x = 99u64;
        for i in 0..30_000 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let start = (x >> 33) % 100_000;
            let n = 1 + (x >> 20) % 16;
            if i % 5 == 4 {
                set.remove(start, n);
                reference_remove(&mut reference, start, n);
            } else {
                set.insert(start, n);
                reference_insert(&mut reference, start, n);
            }
            let got: Vec<(u64, u64)> = set
                .ranges()
                .map(|(first, len)| (first, first + len))
                .collect();
            assert_eq!(got, reference, "after operation {i}");
        }
        assert_eq!(set.len(), MAX_RANGES);
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
