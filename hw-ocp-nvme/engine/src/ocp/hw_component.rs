// SPDX-License-Identifier: GPL-2.0-or-later
//! Log page C6h, Hardware Component (OCP Datacenter NVMe SSD Specification
//! 2.5, "Hardware Component Log Page"),
//! log page version 1 (OCP 2.5: size in dwords, GUID zero) or 2 (OCP 2.6 and
//! 2.7: size in bytes, GUID `BCB6821F30CD4ED0B76B31B99F0F57DCh`, HWCLOG-1,
//! HWCLOG-3, HWCLOG-4); nvme-cli multiplies the size by 4 only for version 1.
//!
//! Layout (nvme-cli 2.13 `struct hwcomp_log`): version (u16) @0, reserved,
//! GUID @16, log size (128 bits) @32 (in dwords for version 1, which nvme-cli
//! multiplies by 4), reserved, component descriptors @64. nvme-cli reads the
//! 64-byte header, then the rest at Log Page Offset 64.
//!
//! Descriptor (`struct hwcomp_desc`, 44 bytes packed): date/lot size (u64,
//! dwords) @0, additional information size (u64, dwords) @8, identifier
//! (u32, `enum hwcomp_id`) @16, manufacturer (u64) @20, revision (u64) @28,
//! manufacturer code (u64) @36, then the date/lot code and the additional
//! information.
//!
//! The components describe the emulation: manufacturer "QEMU", revision 1,
//! manufacturer code 1AF4h (the virtio/QEMU PCI vendor); the serial number
//! component carries the device serial. The GUID of this page is not known
//! to nvme-cli (it does not check it) and is left zero.

use super::{DeviceIdentity, OcpVersion};
use crate::wire::{guid_le, LeWriter};

/// Log identifier.
pub const LID: u8 = 0xc6;
/// Log page version of OCP 2.5 (size in dwords).
pub const VERSION: u16 = 1;
/// Log page version of OCP 2.6 and 2.7 (size in bytes, HWCLOG-1).
pub const VERSION_2: u16 = 2;
/// Log page GUID of version 2, printed form
/// `BCB6821F30CD4ED0B76B31B99F0F57DCh` (HWCLOG-3).
pub const GUID: [u8; 16] = guid_le(0xBCB6821F_30CD_4ED0_B76B_31B99F0F57DC);
/// Header size; descriptors start here.
pub const HEADER_SIZE: usize = 64;
/// Descriptor header size.
pub const DESC_SIZE: usize = 44;

/// Component identifiers (nvme-cli `enum hwcomp_id`).
pub mod id {
    /// Controller ASIC.
    pub const ASIC: u32 = 1;
    /// NAND.
    pub const NAND: u32 = 2;
    /// DRAM.
    pub const DRAM: u32 = 3;
    /// PMIC.
    pub const PMIC: u32 = 4;
    /// PCB.
    pub const PCB: u32 = 5;
    /// Capacitor.
    pub const CAP: u32 = 6;
    /// Device serial number.
    pub const SN: u32 = 9;
    /// Country of origin.
    pub const COUNTRY: u32 = 10;
    /// Global device hardware revision.
    pub const HW_REV: u32 = 11;
    /// Born-on date.
    pub const BORN_ON_DATE: u32 = 12;
}

/// One component descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HwComponent {
    /// Identifier.
    pub id: u32,
    /// Manufacturer.
    pub manufacturer: u64,
    /// Revision.
    pub revision: u64,
    /// Manufacturer code.
    pub manufacturer_code: u64,
    /// Date/lot code (padded with NUL to whole dwords).
    pub date_lot: Vec<u8>,
    /// Additional information (padded with NUL to whole dwords).
    pub add_info: Vec<u8>,
}

fn dword_pad(v: &[u8]) -> Vec<u8> {
    let mut out = v.to_vec();
    while out.len() % 4 != 0 {
        out.push(0);
    }
    out
}

impl HwComponent {
    /// Serializes the descriptor and its data.
    pub fn to_bytes(&self) -> Vec<u8> {
        let dl = dword_pad(&self.date_lot);
        let ai = dword_pad(&self.add_info);
        let mut w = LeWriter::new(DESC_SIZE + dl.len() + ai.len());
        w.u64(0, (dl.len() / 4) as u64)
            .u64(8, (ai.len() / 4) as u64)
            .u32(16, self.id)
            .u64(20, self.manufacturer)
            .u64(28, self.revision)
            .u64(36, self.manufacturer_code)
            .bytes(DESC_SIZE, &dl)
            .bytes(DESC_SIZE + dl.len(), &ai);
        w.finish()
    }
}

/// The C6h page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HwComponentLog {
    /// Log page version: 1 (size in dwords) or 2 (size in bytes).
    pub version: u16,
    /// Log page GUID (zero in version 1).
    pub guid: [u8; 16],
    /// Components.
    pub components: Vec<HwComponent>,
}

impl HwComponentLog {
    /// Serializes header and descriptors.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut body = Vec::new();
        for c in &self.components {
            body.extend_from_slice(&c.to_bytes());
        }
        let total = HEADER_SIZE + body.len();
        let mut w = LeWriter::new(total);
        let size = if self.version == VERSION {
            total / 4
        } else {
            total
        };
        w.u16(0, self.version)
            .bytes(16, &self.guid)
            .u128(32, size as u128)
            .bytes(HEADER_SIZE, &body);
        w.finish()
    }
}

const QEMU: u64 = u64::from_le_bytes(*b"QEMU\0\0\0\0");

/// The components of this device.
pub fn build(identity: &DeviceIdentity) -> HwComponentLog {
    let comp = |id: u32, date_lot: &[u8], add_info: &[u8]| HwComponent {
        id,
        manufacturer: QEMU,
        revision: 1,
        manufacturer_code: 0x1af4,
        date_lot: date_lot.to_vec(),
        add_info: add_info.to_vec(),
    };
    let mut serial = identity.serial.clone();
    serial.truncate(20);
    let (version, guid) = match identity.ocp_version {
        OcpVersion::V2_5 => (VERSION, [0; 16]),
        OcpVersion::V2_6 | OcpVersion::V2_7 => (VERSION_2, GUID),
    };
    HwComponentLog {
        version,
        guid,
        components: vec![
            comp(id::ASIC, b"EMU0", b"emulated controller"),
            comp(id::NAND, b"EMU0", b"modelled TLC NAND"),
            comp(id::DRAM, b"EMU0", b""),
            comp(id::PCB, b"EMU0", b""),
            comp(id::CAP, b"EMU0", b"modelled PLP capacitor"),
            comp(id::SN, b"", &serial),
            comp(id::COUNTRY, b"", b"ZZ"),
            comp(id::HW_REV, b"", b"1"),
            comp(id::BORN_ON_DATE, b"2025", b""),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Version 2 (OCP 2.6, 2.7): size in bytes, GUID (HWCLOG-1, -3, -4).
    #[test]
    fn hwclog_1_3_4_version2() {
        for v in [OcpVersion::V2_6, OcpVersion::V2_7] {
            let id = DeviceIdentity {
                ocp_version: v,
                ..DeviceIdentity::default()
            };
            let b = build(&id).to_bytes();
            assert_eq!(u16::from_le_bytes([b[0], b[1]]), 2, "HWCLOG-1");
            assert_eq!(&b[16..32], &GUID, "HWCLOG-3");
            let mut sz = [0u8; 16];
            sz.copy_from_slice(&b[32..48]);
            assert_eq!(u128::from_le_bytes(sz) as usize, b.len(), "HWCLOG-4");
            assert!(b[48..64].iter().all(|&x| x == 0), "HWCLOG-5");
        }
    }

    #[test]
    fn header_and_walk_like_nvme_cli() {
        let id = DeviceIdentity {
            ocp_version: OcpVersion::V2_5,
            ..DeviceIdentity::default()
        };
        let b = build(&id).to_bytes();
        assert_eq!(u16::from_le_bytes([b[0], b[1]]), 1); // ver
        let mut sz = [0u8; 16];
        sz.copy_from_slice(&b[32..48]); // size
        let log_bytes = u128::from_le_bytes(sz) as usize * 4; // ver 1: dwords
        assert_eq!(log_bytes, b.len());
        assert!(log_bytes > HEADER_SIZE);
        // Walk the descriptors as stdout_hwcomp_log does.
        let mut off = HEADER_SIZE;
        let mut ids = Vec::new();
        while off < log_bytes {
            let d = &b[off..];
            let date_lot = u64::from_le_bytes(d[0..8].try_into().unwrap()) as usize * 4;
            let add = u64::from_le_bytes(d[8..16].try_into().unwrap()) as usize * 4;
            let idv = u32::from_le_bytes(d[16..20].try_into().unwrap());
            if idv == id::SN {
                assert_eq!(
                    &d[DESC_SIZE + date_lot..DESC_SIZE + date_lot + 10],
                    b"OCPEMU0001"
                );
            }
            assert_eq!(&d[20..24], b"QEMU"); // mfg
            ids.push(idv);
            off += DESC_SIZE + date_lot + add;
        }
        assert_eq!(off, log_bytes);
        assert_eq!(ids, vec![1, 2, 3, 5, 6, 9, 10, 11, 12]);
    }
}
