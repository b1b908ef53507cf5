// SPDX-License-Identifier: GPL-2.0-or-later
//! Endurance Group Information (log 09h, NVMe 2.0 Base, 5.16.1.10; OCP
//! STD-LOG-17: one Endurance Group for the whole device), from the same
//! stats and health model as the SMART / Health Information log (02h) and
//! C0h, so that the three agree.

use super::smart::{self, data_units};
use super::{DeviceStats, OcpState};
use crate::wire::LeWriter;

/// Page size.
pub const SIZE: usize = 512;

/// The one Endurance Group's identifier (ENDGID).
pub const ENDGID: u16 = 1;

/// Endurance Group Critical Warning bits (byte 0): available spare below
/// its threshold (0), reliability degraded (2), read only (3); the same
/// positions as in SMART's Critical Warning.
pub const CRITICAL_WARNING_BITS: u8 = 1 | 1 << 2 | 1 << 3;

/// The group's NVM capacity: all of the device's (TEGCAP) and the part no
/// namespace holds (UNEGCAP), in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupCapacity {
    pub total: u64,
    pub unallocated: u64,
}

/// Builds the page.
pub fn build(s: &OcpState, st: &DeviceStats, cap: GroupCapacity) -> Vec<u8> {
    let h = &s.health;
    let sm = smart::build(s, st);
    let mut w = LeWriter::page::<SIZE>();
    w.u8(0, sm.critical_warning & CRITICAL_WARNING_BITS)
        .u8(3, sm.available_spare)
        .u8(4, sm.available_spare_threshold)
        .u8(5, sm.percentage_used)
        // Endurance Estimate in billions of bytes (OCP SMART-25: C0h
        // reports the same estimate in bytes).
        .u128(32, h.endurance_estimate() / 1_000_000_000)
        .u128(48, sm.data_units_read)
        .u128(64, sm.data_units_written)
        // Media Units Written: what reached the NAND, in data units.
        .u128(
            80,
            data_units(h.nand_bytes_written_now(st.host_bytes_written)),
        )
        .u128(96, sm.host_read_commands)
        .u128(112, sm.host_write_commands)
        .u128(128, sm.media_errors)
        .u128(144, sm.error_log_entries)
        // TEGCAP, UNEGCAP.
        .u128(160, u128::from(cap.total))
        .u128(176, u128::from(cap.unallocated));
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::super::tests_common::*;
    use super::*;

    #[test]
    fn layout_follows_smart() {
        let s = state();
        let st = DeviceStats {
            host_bytes_written: 1_024_000,
            host_bytes_read: 512_001,
            host_read_commands: 3,
            host_write_commands: 4,
            error_log_entries: 5,
            ..DeviceStats::default()
        };
        let p = build(
            &s,
            &st,
            GroupCapacity {
                total: 1 << 30,
                unallocated: 1 << 20,
            },
        );
        let sm = s.smart_log(&st);
        assert_eq!(p.len(), 512);
        assert_eq!(&p[3..6], &sm[3..6]);
        let at = |o: usize| u128::from_le_bytes(p[o..o + 16].try_into().unwrap());
        assert_eq!(at(48), 2); // data units read, rounded up
        assert_eq!(at(64), 2);
        assert_eq!(at(96), 3);
        assert_eq!(at(112), 4);
        assert_eq!(at(144), 5);
        assert_eq!(at(160), 1 << 30);
        assert_eq!(at(176), 1 << 20);
        assert_eq!(at(32), s.health.endurance_estimate() / 1_000_000_000);
        assert!(at(80) >= at(64));
    }
}
