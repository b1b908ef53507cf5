// SPDX-License-Identifier: GPL-2.0-or-later
//! Log page C4h, Device Capabilities (OCP Datacenter NVMe SSD Specification 2.0,
//! "Device Capabilities Log Page", requirements DCLP-x),
//! log page version 1.
//!
//! Layout (nvme-cli 2.13 `struct ocp_device_capabilities_log_page`, 4096
//! bytes): `pcie_exp_port` @0, `oob_management_support` @2, `wz_cmd_support` @4,
//! `sanitize_cmd_support` @6, `dsm_cmd_support` @8, `wu_cmd_support` @10,
//! `fused_operation_support` @12, `min_valid_dssd_pwr_state` @14,
//! `dssd_pwr_state_desc`\[128\] @16, `log_page_version` @4078, GUID @4080.
//!
//! Values are what the device really supports ([`super::DeviceIdentity`],
//! filled by the engine): each command support field has bit 0 set when the
//! command is implemented (sanitize: bits 0–2 crypto erase, block erase,
//! overwrite as the engine supports them); OOB management is 0 (no
//! NVMe-MI/MCTP endpoint). DSSD Power State Descriptor n describes the
//! n-th supported DSSD power state, highest first: bit 7 valid, bits 6:0
//! watts; every whole watt from the minimum to the maximum is valid
//! (feature C7h accepts exactly these).

use super::OcpState;
use crate::wire::{guid_le, LeWriter};

/// Log identifier.
pub const LID: u8 = 0xc4;
/// Page size.
pub const SIZE: usize = 4096;
/// Log page version.
pub const VERSION: u16 = 1;
/// Log page GUID, printed form `B7053C914B58495D98C9E1D10D054297h`.
pub const GUID: [u8; 16] = guid_le(0xB7053C91_4B58_495D_98C9_E1D10D054297);

/// The C4h page as typed fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceCapabilitiesLog {
    /// PCI Express Ports.
    pub pcie_exp_port: u16,
    /// OOB Management Support.
    pub oob_management_support: u16,
    /// Write Zeroes Command Support.
    pub wz_cmd_support: u16,
    /// Sanitize Command Support.
    pub sanitize_cmd_support: u16,
    /// Dataset Management Command Support.
    pub dsm_cmd_support: u16,
    /// Write Uncorrectable Command Support.
    pub wu_cmd_support: u16,
    /// Fused Operation Support.
    pub fused_operation_support: u16,
    /// Minimum Valid DSSD Power State (W).
    pub min_valid_dssd_pwr_state: u16,
    /// DSSD Power State Descriptors.
    pub dssd_pwr_state_desc: [u8; 128],
}

impl DeviceCapabilitiesLog {
    /// Serializes the 4096-byte page.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = LeWriter::page::<SIZE>();
        w.u16(0, self.pcie_exp_port)
            .u16(2, self.oob_management_support)
            .u16(4, self.wz_cmd_support)
            .u16(6, self.sanitize_cmd_support)
            .u16(8, self.dsm_cmd_support)
            .u16(10, self.wu_cmd_support)
            .u16(12, self.fused_operation_support)
            .u16(14, self.min_valid_dssd_pwr_state)
            .bytes(16, &self.dssd_pwr_state_desc)
            .version_and_guid(VERSION, &GUID);
        w.finish()
    }
}

/// Power state descriptors for `min..=max` watts, highest first.
pub fn power_state_descriptors(min: u8, max: u8) -> [u8; 128] {
    let mut d = [0u8; 128];
    let max = max.min(127);
    for (slot, w) in (min..=max).rev().enumerate().take(128) {
        d[slot] = 0x80 | w;
    }
    d
}

/// Builds the page.
pub fn build(s: &OcpState) -> DeviceCapabilitiesLog {
    let c = s.identity.commands;
    let f = &s.features;
    DeviceCapabilitiesLog {
        pcie_exp_port: s.identity.pcie_ports,
        oob_management_support: 0,
        wz_cmd_support: u16::from(c.write_zeroes),
        sanitize_cmd_support: u16::from(c.sanitize & 7),
        dsm_cmd_support: u16::from(c.dataset_management),
        wu_cmd_support: u16::from(c.write_uncorrectable),
        fused_operation_support: u16::from(c.fused_compare_write),
        min_valid_dssd_pwr_state: u16::from(f.min_power_w),
        dssd_pwr_state_desc: power_state_descriptors(f.min_power_w, f.max_power_w),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests_common::*;
    use super::*;

    #[test]
    fn layout_and_consistency() {
        let mut s = state();
        let b = s.log_page(LID, &stats(), 0).unwrap();
        assert_eq!(b.len(), 4096);
        assert_eq!(&b[0..2], &[1, 0]); // pcie_exp_port
        assert_eq!(&b[2..4], &[0, 0]); // oob_management_support
        assert_eq!(&b[4..6], &[1, 0]); // wz_cmd_support
        assert_eq!(&b[6..8], &[0, 0]); // sanitize_cmd_support
        assert_eq!(&b[8..10], &[1, 0]); // dsm_cmd_support
        assert_eq!(&b[10..12], &[0, 0]); // wu_cmd_support
        assert_eq!(&b[12..14], &[0, 0]); // fused_operation_support
        assert_eq!(&b[14..16], &[10, 0]); // min_valid_dssd_pwr_state
        assert_eq!(b[16], 0x80 | 25); // dssd_pwr_state_desc[0]: highest
        assert_eq!(b[16 + 15], 0x80 | 10);
        assert_eq!(b[16 + 16], 0);
        assert_eq!(&b[4078..4080], &[1, 0]); // log_page_version
        assert_eq!(&b[4080..], &GUID);
        // Every valid descriptor is accepted by C7h, others are not.
        for d in &b[16..144] {
            if d & 0x80 != 0 {
                s.set_feature(0xc7, u32::from(d & 0x7f), false, &[], 0)
                    .unwrap();
            }
        }
        s.set_feature(0xc7, 9, false, &[], 0).unwrap_err();
    }
}
