// SPDX-License-Identifier: GPL-2.0-or-later
//! Log page C1h, Error Recovery (OCP Datacenter NVMe SSD Specification 2.0,
//! "Error Recovery Log Page", requirements EREC-x;
//! panic count and previous panic IDs from 2.5), log page version 3.
//!
//! Layout (nvme-cli 2.13 `struct ocp_error_recovery_log_page`, 512 bytes):
//!
//! | offset | field |
//! |---|---|
//! | 0x00 | `panic_reset_wait_time` (u16, ms) |
//! | 0x02 | `panic_reset_action` |
//! | 0x03 | `device_recover_action_1` |
//! | 0x04 | `panic_id` (u64) |
//! | 0x0C | `device_capabilities` (u32) |
//! | 0x10 | `vendor_specific_recovery_opcode` |
//! | 0x14 | `vendor_specific_command_cdw12` (u32) |
//! | 0x18 | `vendor_specific_command_cdw13` (u32) |
//! | 0x1C | `vendor_specific_command_timeout` |
//! | 0x1D | `device_recover_action_2` |
//! | 0x1E | `device_recover_action_2_timeout` |
//! | 0x1F | `panic_count` |
//! | 0x20 | `prev_panic_id`\[4\] (u64 each, N-1 first) |
//! | 0x1EE | `log_page_version` (u16) |
//! | 0x1F0 | `log_page_guid` |
//!
//! Values: the Panic ID is non-zero while a panic is in progress (CSTS.CFS
//! set); a controller reset ends the panic and moves its ID to the previous
//! panic IDs. Error Reset Action (EREC-2) bit 0 (NVMe controller reset) and
//! bit 2 (function level reset) recover this device. Device Recovery Action
//! 1 (EREC-3, one bit set) is 01h (no action required, data intact) for
//! firmware panics and 10h (device replacement required) for an injected
//! hardware malfunction (type 9).
//! Device Capabilities bit 0: panic AEN supported, bit 1: panic CFS
//! supported.

use crate::wire::{guid_le, LeWriter};

/// Log identifier.
pub const LID: u8 = 0xc1;
/// Page size.
pub const SIZE: usize = 512;
/// Log page version.
pub const VERSION: u16 = 3;
/// Log page GUID, printed form 5A1983BA3DFD4DABAE3430FE2131D944h.
pub const GUID: [u8; 16] = guid_le(0x5A1983BA_3DFD_4DAB_AE34_30FE2131D944);

/// Error Reset Action (EREC-2): an NVMe Controller Reset (bit 0) or a PCIe
/// Function Level Reset (bit 2) ends the panic; this controller has no NVM
/// Subsystem Reset (CAP.NSSRS = 0), so bit 1 stays clear.
pub const PANIC_RESET_ACTION: u8 = 0x05;
/// Device Recovery Action 1 (EREC-3), one bit: no action required, data
/// integrity intact (bit 0).
pub const RECOVERY_NO_ACTION: u8 = 0x01;
/// Device Recovery Action 1 (EREC-3): device replacement required (bit 4), a
/// persistent hardware failure.
pub const RECOVERY_REPLACE_DEVICE: u8 = 0x10;
/// Device capabilities: panic AEN (bit 0) and panic CFS (bit 1).
pub const DEVICE_CAPABILITIES: u32 = 0x03;
/// Panic reset wait time, ms.
pub const PANIC_RESET_WAIT_MS: u16 = 100;

/// The C1h page as typed fields.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ErrorRecoveryLog {
    /// 0x00 Panic Reset Wait Time (ms).
    pub panic_reset_wait_time: u16,
    /// 0x02 Panic Reset Action.
    pub panic_reset_action: u8,
    /// 0x03 Device Recovery Action 1.
    pub device_recover_action_1: u8,
    /// 0x04 Panic ID.
    pub panic_id: u64,
    /// 0x0C Device Capabilities.
    pub device_capabilities: u32,
    /// 0x10 Vendor Specific Recovery Opcode.
    pub vendor_specific_recovery_opcode: u8,
    /// 0x14 Vendor Specific Command CDW12.
    pub vendor_specific_command_cdw12: u32,
    /// 0x18 Vendor Specific Command CDW13.
    pub vendor_specific_command_cdw13: u32,
    /// 0x1C Vendor Specific Command Timeout.
    pub vendor_specific_command_timeout: u8,
    /// 0x1D Device Recovery Action 2.
    pub device_recover_action_2: u8,
    /// 0x1E Device Recovery Action 2 Timeout.
    pub device_recover_action_2_timeout: u8,
    /// 0x1F Panic Count.
    pub panic_count: u8,
    /// 0x20 Previous Panic IDs, N-1 first.
    pub prev_panic_id: [u64; 4],
}

impl ErrorRecoveryLog {
    /// Serializes to the 512-byte page.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = LeWriter::page::<SIZE>();
        w.u16(0x00, self.panic_reset_wait_time)
            .u8(0x02, self.panic_reset_action)
            .u8(0x03, self.device_recover_action_1)
            .u64(0x04, self.panic_id)
            .u32(0x0c, self.device_capabilities)
            .u8(0x10, self.vendor_specific_recovery_opcode)
            .u32(0x14, self.vendor_specific_command_cdw12)
            .u32(0x18, self.vendor_specific_command_cdw13)
            .u8(0x1c, self.vendor_specific_command_timeout)
            .u8(0x1d, self.device_recover_action_2)
            .u8(0x1e, self.device_recover_action_2_timeout)
            .u8(0x1f, self.panic_count);
        for (i, id) in self.prev_panic_id.iter().enumerate() {
            w.u64(0x20 + 8 * i, *id);
        }
        w.version_and_guid(VERSION, &GUID);
        w.finish()
    }
}

/// Panic state. Plain data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ErrorRecovery {
    /// CSTS.CFS should read 1.
    pub cfs: bool,
    /// Current panic ID (0 = none).
    pub panic_id: u64,
    /// Cause (injection type) of the current panic.
    pub cause: u16,
    /// Panics since manufacture (saturating).
    pub panic_count: u8,
    /// Previous panic IDs, most recent first.
    pub prev: [u64; 4],
    serial: u64,
}

crate::persist::persist_struct!(ErrorRecovery {
    cfs,
    panic_id,
    cause,
    panic_count,
    prev,
    serial
});

impl ErrorRecovery {
    /// A panic of `cause` starts; returns its ID: bits 63:48 = 0x4F43 ("OC"),
    /// 47:16 = sequence number, 15:0 = cause.
    pub fn panic(&mut self, cause: u16) -> u64 {
        if self.panic_id != 0 {
            self.retire();
        }
        self.serial = self.serial.wrapping_add(1);
        let id = (0x4f43u64 << 48) | ((self.serial & 0xffff_ffff) << 16) | u64::from(cause);
        self.panic_id = id;
        self.cause = cause;
        self.cfs = true;
        self.panic_count = self.panic_count.saturating_add(1);
        id
    }

    fn retire(&mut self) {
        self.prev.rotate_right(1);
        self.prev[0] = self.panic_id;
        self.panic_id = 0;
    }

    /// The current panic ID, else the most recent previous one, else 0.
    pub fn last_panic_id(&self) -> u64 {
        if self.panic_id != 0 {
            self.panic_id
        } else {
            self.prev[0]
        }
    }

    /// A reset ends the panic in progress.
    pub fn reset(&mut self) {
        if self.panic_id != 0 {
            self.retire();
        }
        self.cfs = false;
    }

    /// The page.
    pub fn page(&self) -> ErrorRecoveryLog {
        ErrorRecoveryLog {
            panic_reset_wait_time: PANIC_RESET_WAIT_MS,
            panic_reset_action: PANIC_RESET_ACTION,
            device_recover_action_1: match (self.panic_id, self.cause) {
                (0, _) => 0,
                (_, 9) => RECOVERY_REPLACE_DEVICE,
                _ => RECOVERY_NO_ACTION,
            },
            panic_id: self.panic_id,
            device_capabilities: DEVICE_CAPABILITIES,
            panic_count: self.panic_count,
            prev_panic_id: self.prev,
            ..ErrorRecoveryLog::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_offsets() {
        let log = ErrorRecoveryLog {
            panic_reset_wait_time: 0x0102,
            panic_reset_action: 3,
            device_recover_action_1: 4,
            panic_id: 0x1122334455667788,
            device_capabilities: 0xa0b0c0d0,
            vendor_specific_recovery_opcode: 5,
            vendor_specific_command_cdw12: 0x06060606,
            vendor_specific_command_cdw13: 0x07070707,
            vendor_specific_command_timeout: 8,
            device_recover_action_2: 9,
            device_recover_action_2_timeout: 10,
            panic_count: 11,
            prev_panic_id: [12, 13, 14, 15],
        };
        let b = log.to_bytes();
        assert_eq!(b.len(), 512);
        assert_eq!(&b[0..2], &[2, 1]); // panic_reset_wait_time
        assert_eq!(b[2], 3); // panic_reset_action
        assert_eq!(b[3], 4); // device_recover_action_1
        assert_eq!(b[4], 0x88); // panic_id
        assert_eq!(b[0x0c], 0xd0); // device_capabilities
        assert_eq!(b[0x10], 5); // vendor_specific_recovery_opcode
        assert_eq!(b[0x14], 6); // vendor_specific_command_cdw12
        assert_eq!(b[0x18], 7); // vendor_specific_command_cdw13
        assert_eq!(b[0x1c], 8); // vendor_specific_command_timeout
        assert_eq!(b[0x1d], 9); // device_recover_action_2
        assert_eq!(b[0x1e], 10); // device_recover_action_2_timeout
        assert_eq!(b[0x1f], 11); // panic_count
        assert_eq!(b[0x20], 12); // prev_panic_id[0]
        assert_eq!(b[0x38], 15); // prev_panic_id[3]
        assert_eq!(&b[0x1ee..0x1f0], &[3, 0]); // log_page_version
        assert_eq!(&b[0x1f0..], &GUID); // log_page_guid
        assert!(b[0x40..0x1ee].iter().all(|&x| x == 0)); // reserved2
    }

    #[test]
    #[allow(clippy::shadow_unrelated)]
    fn erec_2_3_5_encodings() {
        let mut r = ErrorRecovery::default();
        let p = r.page();
        assert_eq!((p.panic_reset_action, p.device_recover_action_1), (0x05, 0));
        assert_eq!(p.device_capabilities, 0x03, "EREC-5: AEN and CFS supported");
        r.panic(4);
        let p = r.page();
        assert_eq!(
            p.device_recover_action_1, 0x01,
            "EREC-3: no action required"
        );
        assert_eq!(p.device_recover_action_1.count_ones(), 1);
        assert_eq!(
            p.panic_reset_action & 0x02,
            0,
            "EREC-2: no NVM subsystem reset"
        );
        assert_eq!(
            p.panic_reset_action & 0x01,
            0x01,
            "EREC-2: controller reset"
        );
    }

    #[test]
    fn panic_history() {
        let mut r = ErrorRecovery::default();
        assert_eq!(r.page().panic_id, 0);
        let a = r.panic(1);
        assert!(r.cfs);
        assert_eq!(r.page().panic_id, a);
        r.reset();
        assert!(!r.cfs);
        let p = r.page();
        assert_eq!((p.panic_id, p.prev_panic_id[0], p.panic_count), (0, a, 1));
        let b = r.panic(9);
        assert_ne!(a, b);
        // EREC-3: a hardware malfunction needs the device replaced (bit 4).
        assert_eq!(r.page().device_recover_action_1, RECOVERY_REPLACE_DEVICE);
        r.reset();
        assert_eq!(r.page().prev_panic_id[..2], [b, a]);
    }
}
