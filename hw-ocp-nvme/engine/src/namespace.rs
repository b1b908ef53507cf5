// SPDX-License-Identifier: GPL-2.0-or-later
//! The single namespace (NSID 1) and its LBA formats (NVM Command Set 1.0,
//! 4.1.5.1 Identify Namespace).

/// Supported LBA data sizes as powers of two: LBAF0 = 512, LBAF1 = 4096.
pub const LBA_FORMATS: [u8; 2] = [9, 12];

/// The one namespace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Namespace {
    /// Current LBA format index (FLBAS).
    pub lbaf: u8,
    pub capacity_bytes: u64,
}

crate::persist::persist_struct!(Namespace {
    lbaf,
    capacity_bytes
});

impl Namespace {
    pub fn new(capacity_bytes: u64, lba_size: u32) -> Namespace {
        let lbaf = u8::from(lba_size == 4096);
        Namespace {
            lbaf,
            capacity_bytes,
        }
    }
    /// log2 of the LBA data size.
    pub fn lbads(&self) -> u8 {
        LBA_FORMATS[self.lbaf as usize]
    }
    pub fn lba_size(&self) -> u64 {
        1u64 << self.lbads()
    }
    /// Namespace size in logical blocks.
    pub fn nsze(&self) -> u64 {
        self.capacity_bytes >> self.lbads()
    }
    /// Check that `nlb` blocks from `slba` lie inside the namespace.
    pub fn range_ok(&self, slba: u64, nlb: u64) -> bool {
        match slba.checked_add(nlb) {
            Some(end) => end <= self.nsze(),
            None => false,
        }
    }
}

#[cfg(test)]
#[allow(clippy::shadow_unrelated)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let ns = Namespace::new(1 << 20, 512);
        assert_eq!(ns.nsze(), 2048);
        assert!(ns.range_ok(0, 2048));
        assert!(!ns.range_ok(1, 2048));
        assert!(!ns.range_ok(u64::MAX, 2));
        let ns = Namespace::new(1 << 20, 4096);
        assert_eq!(ns.nsze(), 256);
        assert_eq!(ns.lba_size(), 4096);
    }
}
