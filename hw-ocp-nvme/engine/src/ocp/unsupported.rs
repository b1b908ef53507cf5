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

/// Requirements this emulation does not meet, with the reason.
pub const EMULATION_GAPS: [(&str, &str); 8] = [
    ("TCG-1", "no TCG Opal / Pyrite security subsystem"),
    ("SEC-2", "no IEEE 1667 silo behind feature C4h"),
    (
        "PLP-1",
        "no physical power-loss protection; capacitor is modelled",
    ),
    ("NVMe-MI-1", "no NVMe-MI / MCTP out-of-band endpoint"),
    (
        "LMDATA-1",
        "no latency monitor debug telemetry log (LID CAh)",
    ),
    ("SLOG-1", "no persistent event log"),
    (
        "PWR-1",
        "power and thermal values are modelled, not measured",
    ),
    ("BOOT-1", "no boot partitions"),
];

/// The C5h page as typed fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsupportedRequirements {
    /// Requirement IDs (at most 253, 16 bytes each).
    pub ids: Vec<[u8; 16]>,
}

impl UnsupportedRequirements {
    /// The list for this emulation.
    pub fn emulation() -> Self {
        let ids = EMULATION_GAPS
            .iter()
            .map(|(id, _)| {
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
        let b = UnsupportedRequirements::emulation().to_bytes();
        assert_eq!(b.len(), 4096);
        let n = u16::from_le_bytes([b[0], b[1]]) as usize; // unsupported_count
        assert_eq!(n, EMULATION_GAPS.len());
        assert_eq!(&b[16..21], b"TCG-1"); // unsupported_req_list[0]
        assert_eq!(b[21], 0, "NUL terminated for nvme-cli's %s");
        for i in 0..n {
            assert_eq!(b[16 + 16 * i + 15], 0);
        }
        assert!(b[16 + 16 * n..4078].iter().all(|&x| x == 0));
        assert_eq!(&b[4078..4080], &[1, 0]); // log_page_version
        assert_eq!(&b[4080..], &GUID);
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
