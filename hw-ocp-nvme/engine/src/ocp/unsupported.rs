// SPDX-License-Identifier: GPL-2.0-or-later
//! Log page C5h, Unsupported Requirements (OCP Datacenter NVMe SSD 2.0
//! "Unsupported Requirements Log Page"), log page version 1.
//!
//! Layout (nvme-cli 2.13 `struct unsupported_requirement_log`, 4096 bytes):
//! `unsupported_count` (u16) @0, 253 requirement IDs of 16 ASCII bytes
//! (NUL padded) @16, `log_page_version` @4078, GUID @4080.
//!
//! The list states honestly what this emulation does not meet. Requirement
//! IDs use the OCP specification's prefixes and numbering as best known;
//! `docs/ocp-support.md` explains each entry.

use super::OcpVersion;
use crate::wire::{guid_le, LeWriter};

/// Log identifier.
pub const LID: u8 = 0xc5;
/// Page size.
pub const SIZE: usize = 4096;
/// Log page version.
pub const VERSION: u16 = 1;
/// Log page GUID, printed form `C7BB98B7D0324863BB2C23990E9C722Fh`.
pub const GUID: [u8; 16] = guid_le(0xC7BB98B7_D032_4863_BB2C_23990E9C722F);
/// Entries the page can hold.
pub const MAX_ENTRIES: usize = 253;

/// Requirements of OCP 2.7 this emulation does not meet: (requirement ID,
/// reason, first OCP version that has the requirement among 2.5–2.7).
/// `docs/ocp-conformance.md` marks each "not yet".
pub const EMULATION_GAPS: [(&str, &str, OcpVersion); 15] = [
    (
        "NSM-1",
        "one namespace, no Namespace Management",
        OcpVersion::V2_5,
    ),
    ("NSM-4", "one namespace, not 16", OcpVersion::V2_5),
    ("NVMe-AD-14", "no Lockdown command", OcpVersion::V2_5),
    (
        "NVMe-AD-3",
        "no Namespace Management command",
        OcpVersion::V2_5,
    ),
    (
        "NVMe-AD-4",
        "no Namespace Attachment command",
        OcpVersion::V2_5,
    ),
    ("NVMe-AD-6", "no NVMe-MI Send / Receive", OcpVersion::V2_5),
    ("NVMe-AD-7", "no Sanitize command", OcpVersion::V2_5),
    (
        "NVMe-CFG-21",
        "no Power Measurement (TP4199)",
        OcpVersion::V2_7,
    ),
    ("NVMe-MI-1", "no NVMe-MI / MCTP endpoint", OcpVersion::V2_5),
    (
        "NVMe-OPT-18",
        "no Power Threshold feature (24h)",
        OcpVersion::V2_7,
    ),
    (
        "NVMe-OPT-19",
        "no Power Measurement feature (25h)",
        OcpVersion::V2_7,
    ),
    (
        "PLP-1",
        "no physical power-loss protection; the capacitor is modelled",
        OcpVersion::V2_5,
    ),
    ("SEC-1", "firmware images are not signed", OcpVersion::V2_5),
    ("SPDM-1", "no SPDM", OcpVersion::V2_5),
    (
        "TCG-FEATURE-1",
        "no TCG Opal security subsystem",
        OcpVersion::V2_5,
    ),
];

/// The C5h page as typed fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsupportedRequirements {
    /// Requirement IDs (at most 253, 16 bytes each).
    pub ids: Vec<[u8; 16]>,
}

impl UnsupportedRequirements {
    /// The list for this emulation under OCP version `v`: the gaps whose
    /// requirement exists in `v`, in alphabetical (byte) order (URLP-3).
    pub fn emulation(v: OcpVersion) -> Self {
        let mut gaps: Vec<&str> = EMULATION_GAPS
            .iter()
            .filter(|(_, _, since)| *since <= v)
            .map(|(id, _, _)| *id)
            .collect();
        gaps.sort_unstable();
        let ids = gaps
            .iter()
            .map(|id| {
                let mut a = [0u8; 16];
                let n = id.len().min(15);
                a[..n].copy_from_slice(&id.as_bytes()[..n]);
                a
            })
            .collect();
        UnsupportedRequirements { ids }
    }

    /// Serializes the 4096-byte page.
    pub fn to_bytes(&self) -> Vec<u8> {
        let n = self.ids.len().min(MAX_ENTRIES);
        let mut w = LeWriter::page::<SIZE>();
        w.u16(0, n as u16);
        for (i, id) in self.ids.iter().take(n).enumerate() {
            w.bytes(16 + 16 * i, id);
        }
        w.version_and_guid(VERSION, &GUID);
        w.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout() {
        let b = UnsupportedRequirements::emulation(OcpVersion::V2_7).to_bytes();
        assert_eq!(b.len(), 4096);
        let n = u16::from_le_bytes([b[0], b[1]]) as usize; // unsupported_count
        assert_eq!(n, EMULATION_GAPS.len());
        assert_eq!(&b[16..21], b"NSM-1"); // unsupported_req_list[0]
        assert_eq!(b[21], 0, "NUL terminated for nvme-cli's %s");
        for i in 0..n {
            assert_eq!(b[16 + 16 * i + 15], 0);
        }
        assert!(b[16 + 16 * n..4078].iter().all(|&x| x == 0));
        assert_eq!(&b[4078..4080], &[1, 0]); // log_page_version
        assert_eq!(&b[4080..], &GUID);
    }

    /// URLP-1, URLP-3: real requirement IDs of the drive's version, in
    /// alphabetical order; 2.7's new requirements only under 2.7.
    #[test]
    fn urlp_3_sorted_ids_per_version() {
        for v in OcpVersion::ALL {
            let b = UnsupportedRequirements::emulation(v).to_bytes();
            let n = usize::from(u16::from_le_bytes([b[0], b[1]]));
            let ids: Vec<&[u8]> = (0..n).map(|i| &b[16 + 16 * i..32 + 16 * i]).collect();
            assert!(ids.windows(2).all(|w| w[0] < w[1]), "{v:?} sorted");
            let has = |id: &str| {
                ids.iter()
                    .any(|e| e.starts_with(id.as_bytes()) && e[id.len()] == 0)
            };
            assert_eq!(has("NVMe-OPT-18"), v == OcpVersion::V2_7, "{v:?}");
            assert!(has("NVMe-AD-7"));
            assert_eq!(&b[4080..], &GUID, "URLP-6");
        }
    }

    #[test]
    fn never_more_than_253() {
        let u = UnsupportedRequirements {
            ids: vec![[b'A'; 16]; 300],
        };
        let b = u.to_bytes();
        assert_eq!(b.len(), 4096);
        assert_eq!(u16::from_le_bytes([b[0], b[1]]), 253);
        assert_eq!(&b[4080..], &GUID);
    }
}
