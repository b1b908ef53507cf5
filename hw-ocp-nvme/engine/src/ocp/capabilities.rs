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
//! command is implemented (sanitize, DCLP-4: bit 0 supported, bits 1-3
//! crypto erase, block erase, overwrite, bit 4 deallocation after sanitize,
//! as the engine supports them; bit 15, tested for compliance, stays 0); OOB management is 0 (no
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
/// Log page version of OCP 2.5 and 2.6.
pub const VERSION: u16 = 1;
/// Log page version of OCP 2.7 (DCLP-11).
pub const VERSION_2_7: u16 = 2;
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
    /// DSSD Power State Descriptors: byte n for DSSD power state n
    /// (byte 0, the page's byte 16, is reserved).
    pub dssd_pwr_state_desc: [u8; 128],
    /// FIPS 140 Validation Status (OCP 2.7, DCLP-13): 0, not validated.
    pub fips_validation_status: u16,
    /// Log page version (DCLP-11).
    pub log_page_version: u16,
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
            .u16(144, self.fips_validation_status)
            .version_and_guid(self.log_page_version, &GUID);
        w.finish()
    }
}

/// DSSD power state descriptors (section 4.8.11.1) in increasing power
/// state order: entry n (page byte 16 + n) describes DSSD power state n
/// watts, n = 1..=127 (DCLP-9); entry 0 is the reserved byte 16. Bit 7: valid
/// (n at least the lowest NVMe power state's Maximum Power, DSSDPSD-1);
/// bits 4:0: the highest powered NVMe power state whose Maximum Power is at
/// most n watts (DSSDPSD-3).
pub fn power_state_descriptors(nvme_states_w: &[u8; 3]) -> [u8; 128] {
    let mut d = [0u8; 128];
    for (n, e) in d.iter_mut().enumerate().skip(1) {
        if let Some(ps) = super::nvme_ps_for_dssd(nvme_states_w, n as u8) {
            *e = 0x80 | (ps & 0x1f);
        }
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
        sanitize_cmd_support: u16::from(c.sanitize & 0x1f),
        dsm_cmd_support: u16::from(c.dataset_management),
        wu_cmd_support: u16::from(c.write_uncorrectable),
        fused_operation_support: u16::from(c.fused_compare_write),
        min_valid_dssd_pwr_state: u16::from(f.min_power_w),
        dssd_pwr_state_desc: power_state_descriptors(&f.nvme_states_w),
        fips_validation_status: 0,
        log_page_version: if s.identity.ocp_version >= super::OcpVersion::V2_7 {
            VERSION_2_7
        } else {
            VERSION
        },
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
        assert_eq!(&b[14..16], &[10, 0]); // min_valid_dssd_pwr_state (DCLP-8)
                                          // DCLP-9: byte 16 reserved, byte 16 + n is DSSD power state n, in
                                          // increasing order; NVMe power states of 25, 17 and 10 W.
        assert!(
            b[16..26].iter().all(|&x| x == 0),
            "reserved, then invalid 1-9 W"
        );
        assert_eq!(b[16 + 10], 0x80 | 2, "DSSD 10 W -> NVMe PS2");
        assert_eq!(b[16 + 16], 0x80 | 2);
        assert_eq!(b[16 + 17], 0x80 | 1, "DSSD 17 W -> NVMe PS1");
        assert_eq!(b[16 + 24], 0x80 | 1);
        assert_eq!(b[16 + 25], 0x80, "DSSD 25 W -> NVMe PS0");
        assert_eq!(b[16 + 127], 0x80);
        assert_eq!(&b[144..146], &[0, 0]); // DCLP-13
        assert_eq!(&b[4078..4080], &[2, 0]); // log_page_version (DCLP-11, OCP 2.7)
        assert_eq!(&b[4080..], &GUID);
        // Every valid descriptor is accepted by C7h, others are not
        // (DSSDPSS-1, DSSDPSS-2), and selects the described NVMe state.
        for (n, d) in b[16..144].iter().enumerate() {
            let r = s.set_feature(0xc7, n as u32, false, &[], 0);
            if d & 0x80 != 0 {
                r.unwrap();
                assert_eq!(s.dssd_nvme_power_state(), d & 0x1f, "{n}");
            } else {
                r.unwrap_err();
            }
        }
        s.set_feature(0xc7, 9, false, &[], 0).unwrap_err();
    }

    /// DCLP-11: version 2 under OCP 2.7, 1 before.
    #[test]
    fn dclp_11_version_per_ocp_version() {
        use super::super::OcpVersion;
        for (v, ver) in [
            (OcpVersion::V2_5, 1u8),
            (OcpVersion::V2_6, 1),
            (OcpVersion::V2_7, 2),
        ] {
            let b = state_version(v).log_page(LID, &stats(), 0).unwrap();
            assert_eq!(&b[4078..4080], &[ver, 0], "{v:?}");
            assert_eq!(&b[4080..], &GUID, "DCLP-12");
        }
    }
}
