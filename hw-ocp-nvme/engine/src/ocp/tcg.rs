// SPDX-License-Identifier: GPL-2.0-or-later
//! Log page C7h, TCG Configuration (OCP Datacenter NVMe SSD Specification 2.5,
//! "TCG Configuration Log Page"),
//! log page version 1.
//!
//! Layout (nvme-cli 2.13 `struct tcg_configuration_log`, 512 bytes): state
//! @0, locking SP activation count @4, `TPer` revert count @5, locking SP
//! revert count @6, locking object counts @7–14, SID authentication try
//! count (u32) @16, limit @20, programmatic TCG reset count @24, reset lock
//! count @28, TCG error count @32, namespace-provisioned locking objects
//! (extended, u16) @36, `log_page_version` @494, GUID @496.
//!
//! This emulation has no TCG security subsystem (listed in C5h), so every
//! field is 0 (state 0: TCG not supported / inactive) and only the version
//! and GUID are set.

use crate::wire::{guid_le, LeWriter};

/// Log identifier.
pub const LID: u8 = 0xc7;
/// Page size.
pub const SIZE: usize = 512;
/// Log page version.
pub const VERSION: u16 = 1;
/// Log page GUID, printed form 54E02A9DFA5447C083E6E07EBD244006h.
pub const GUID: [u8; 16] = guid_le(0x54E02A9D_FA54_47C0_83E6_E07EBD244006);

/// The C7h page as typed fields.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TcgConfiguration {
    /// State.
    pub state: u8,
    /// Locking SP activation count.
    pub locking_sp_act_count: u8,
    /// `TPer` revert count.
    pub type_rev_count: u8,
    /// Locking SP revert count.
    pub locking_sp_rev_count: u8,
    /// Locking object counts, bytes 7–14 in nvme-cli order.
    pub locking_objects: [u8; 8],
    /// SID authentication try count.
    pub sid_auth_try_count: u32,
    /// SID authentication try limit.
    pub sid_auth_try_limit: u32,
    /// Programmatic TCG reset count.
    pub pro_tcg_rc: u32,
    /// Programmatic reset lock count.
    pub pro_rlc: u32,
    /// TCG error count.
    pub tcg_ec: u32,
    /// Namespace-provisioned locking objects (extended).
    pub no_of_ns_prov_locking_obj_ext: u16,
}

impl TcgConfiguration {
    /// The page of a device without TCG.
    pub fn no_tcg() -> Self {
        TcgConfiguration::default()
    }

    /// Serializes the 512-byte page.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = LeWriter::page::<SIZE>();
        w.u8(0, self.state)
            .u8(4, self.locking_sp_act_count)
            .u8(5, self.type_rev_count)
            .u8(6, self.locking_sp_rev_count)
            .bytes(7, &self.locking_objects)
            .u32(16, self.sid_auth_try_count)
            .u32(20, self.sid_auth_try_limit)
            .u32(24, self.pro_tcg_rc)
            .u32(28, self.pro_rlc)
            .u32(32, self.tcg_ec)
            .u16(36, self.no_of_ns_prov_locking_obj_ext)
            .version_and_guid(VERSION, &GUID);
        w.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout() {
        let t = TcgConfiguration {
            state: 1,
            locking_sp_act_count: 2,
            type_rev_count: 3,
            locking_sp_rev_count: 4,
            locking_objects: [5, 6, 7, 8, 9, 10, 11, 12],
            sid_auth_try_count: 13,
            sid_auth_try_limit: 14,
            pro_tcg_rc: 15,
            pro_rlc: 16,
            tcg_ec: 17,
            no_of_ns_prov_locking_obj_ext: 18,
        };
        let b = t.to_bytes();
        assert_eq!(b.len(), 512);
        assert_eq!(b[0], 1); // state
        assert_eq!(b[4], 2); // locking_sp_act_count
        assert_eq!(b[5], 3); // type_rev_count
        assert_eq!(b[6], 4); // locking_sp_rev_count
        assert_eq!(b[7], 5); // no_of_locking_obj
        assert_eq!(b[14], 12); // no_of_write_unlock_locking_obj
        assert_eq!(b[16], 13); // sid_auth_try_count
        assert_eq!(b[20], 14); // sid_auth_try_limit
        assert_eq!(b[24], 15); // pro_tcg_rc
        assert_eq!(b[28], 16); // pro_rlc
        assert_eq!(b[32], 17); // tcg_ec
        assert_eq!(b[36], 18); // no_of_ns_prov_locking_obj_ext
        assert_eq!(&b[494..496], &[1, 0]); // log_page_version
        assert_eq!(&b[496..], &GUID);
        let z = TcgConfiguration::no_tcg().to_bytes();
        assert!(z[..494].iter().all(|&x| x == 0));
    }
}
