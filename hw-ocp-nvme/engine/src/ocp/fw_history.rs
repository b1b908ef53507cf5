// SPDX-License-Identifier: GPL-2.0-or-later
//! Log page C2h, Firmware Activation History (OCP Datacenter NVMe SSD 2.0
//! "Firmware Activation History Log Page", requirements FAHL-x), log page version 1.
//!
//! Layout (nvme-cli 2.13 `struct fw_activation_history`, 4096 bytes):
//! `log_id` (C2h) @0, `valid_entries` (u32) @4, 20 entries of 64 bytes @8,
//! reserved, `log_page_version` (u16) @4078, `log_page_guid` @4080.
//!
//! Entry (`struct fw_activation_history_entry`): `ver_num` @0 (1),
//! `entry_length` @1 (64), `activation_count` (u16) @4, timestamp
//! (`struct nvme_timestamp`: 48-bit ms @6, attributes @12) @6,
//! `power_cycle_count` (u64) @22, `previous_fw` @30, `new_fw` @38, `slot_number`
//! @46, `commit_action` @47, result (u16) @48.
//!
//! Entries come from Firmware Commit commands the engine executed
//! ([`super::OcpState::record_fw_commit`]), oldest first; when 20 are held the
//! oldest is dropped. The activation count numbers activations since the
//! last clear (FID C1h). History survives resets and power cycles.

use super::FwCommitEvent;
use crate::wire::{guid_le, LeWriter};

/// Log identifier.
pub const LID: u8 = 0xc2;
/// Page size.
pub const SIZE: usize = 4096;
/// Log page version.
pub const VERSION: u16 = 1;
/// Log page GUID, printed form `D11CF3AC8AB24DE2A3F6DAB4769A796Dh`.
pub const GUID: [u8; 16] = guid_le(0xD11CF3AC_8AB2_4DE2_A3F6_DAB4769A796D);
/// Entries held.
pub const MAX_ENTRIES: usize = 20;
/// Bytes per entry.
pub const ENTRY_SIZE: usize = 64;
/// Entry version number.
pub const ENTRY_VERSION: u8 = 1;

/// One history entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FwActivationEntry {
    /// Activation count.
    pub activation_count: u16,
    /// Timestamp, ms (48 bits used).
    pub timestamp_ms: u64,
    /// Power cycle count.
    pub power_cycle_count: u64,
    /// Previous firmware revision.
    pub previous_fw: [u8; 8],
    /// New firmware revision.
    pub new_fw: [u8; 8],
    /// Slot number.
    pub slot_number: u8,
    /// Commit action type.
    pub commit_action: u8,
    /// Result (0 = success, else NVMe status SCT << 8 | SC).
    pub result: u16,
}

crate::persist::persist_struct!(FwActivationEntry {
    activation_count,
    timestamp_ms,
    power_cycle_count,
    previous_fw,
    new_fw,
    slot_number,
    commit_action,
    result,
});

impl FwActivationEntry {
    /// Serializes one 64-byte entry.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = LeWriter::page::<ENTRY_SIZE>();
        w.u8(0, ENTRY_VERSION)
            .u8(1, ENTRY_SIZE as u8)
            .u16(4, self.activation_count)
            .uint_n(6, 6, self.timestamp_ms)
            .u64(22, self.power_cycle_count)
            .bytes(30, &self.previous_fw)
            .bytes(38, &self.new_fw)
            .u8(46, self.slot_number)
            .u8(47, self.commit_action)
            .u16(48, self.result);
        w.finish()
    }
}

/// The history. Plain data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FwHistory {
    entries: Vec<FwActivationEntry>,
    activations: u16,
}

crate::persist::persist_struct!(FwHistory {
    entries,
    activations
});

impl FwHistory {
    /// Adds an entry for a Firmware Commit.
    pub fn record(&mut self, ev: &FwCommitEvent) {
        self.activations = self.activations.wrapping_add(1);
        if self.entries.len() == MAX_ENTRIES {
            self.entries.remove(0);
        }
        self.entries.push(FwActivationEntry {
            activation_count: self.activations,
            timestamp_ms: ev.timestamp_ms,
            power_cycle_count: ev.power_cycles,
            previous_fw: ev.previous_fw,
            new_fw: ev.new_fw,
            slot_number: ev.slot,
            commit_action: ev.commit_action,
            result: ev.result,
        });
    }

    /// FID C1h: clears the history.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.activations = 0;
    }

    /// Entries, oldest first.
    pub fn entries(&self) -> &[FwActivationEntry] {
        &self.entries
    }

    /// Serializes the 4096-byte page.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = LeWriter::page::<SIZE>();
        w.u8(0, LID).u32(4, self.entries.len() as u32);
        for (i, e) in self.entries.iter().enumerate() {
            w.bytes(8 + i * ENTRY_SIZE, &e.to_bytes());
        }
        w.version_and_guid(VERSION, &GUID);
        w.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests_common::*;
    use super::*;

    fn ev(n: u8) -> FwCommitEvent {
        FwCommitEvent {
            timestamp_ms: 0x0000_1122_3344_5566,
            power_cycles: 7,
            previous_fw: *b"1.0     ",
            new_fw: [b'2', b'.', b'0' + n, b' ', b' ', b' ', b' ', b' '],
            slot: 2,
            commit_action: 3,
            result: 0,
        }
    }

    #[test]
    fn layout() {
        let mut h = FwHistory::default();
        h.record(&ev(1));
        let b = h.to_bytes();
        assert_eq!(b.len(), 4096);
        assert_eq!(b[0], 0xc2); // log_id
        assert_eq!(&b[4..8], &[1, 0, 0, 0]); // valid_entries
        let e = &b[8..72];
        assert_eq!(e[0], 1); // ver_num
        assert_eq!(e[1], 64); // entry_length
        assert_eq!(&e[4..6], &[1, 0]); // activation_count
        assert_eq!(&e[6..12], &[0x66, 0x55, 0x44, 0x33, 0x22, 0x11]); // ts.timestamp
        assert_eq!(e[22], 7); // power_cycle_count
        assert_eq!(&e[30..38], b"1.0     "); // previous_fw
        assert_eq!(&e[38..41], b"2.1"); // new_fw
        assert_eq!(e[46], 2); // slot_number
        assert_eq!(e[47], 3); // commit_action
        assert_eq!(&e[48..50], &[0, 0]); // result
        assert_eq!(&b[4078..4080], &[1, 0]); // log_page_version
        assert_eq!(&b[4080..], &GUID); // log_page_guid
    }

    #[test]
    fn keeps_last_twenty_and_clears() {
        let mut s = state();
        for i in 0..25u8 {
            s.record_fw_commit(&ev(i % 10));
        }
        let b = s.log_page(LID, &stats(), 0).unwrap();
        assert_eq!(b[4], 20);
        assert_eq!(u16::from_le_bytes([b[12], b[13]]), 6, "oldest kept is #6");
        s.set_feature(0xc1, 1 << 31, false, &[], 0).unwrap();
        let cleared = s.log_page(LID, &stats(), 0).unwrap();
        assert_eq!(cleared[4], 0);
        assert_eq!(&cleared[4080..], &GUID);
        // Without the clear bit nothing happens.
        s.record_fw_commit(&ev(1));
        s.set_feature(0xc1, 0, false, &[], 0).unwrap();
        assert_eq!(s.log_page(LID, &stats(), 0).unwrap()[4], 1);
    }
}
