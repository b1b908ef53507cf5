// SPDX-License-Identifier: GPL-2.0-or-later
//! Log page C7h, TCG Configuration (OCP Datacenter NVMe SSD Specification 2.5,
//! "TCG Configuration Log Page"),
//! log page version 1 (OCP 2.5), 2 (OCP 2.6, same layout) or 3 (OCP 2.7:
//! expanded field sizes, TCGL-1 to TCGL-23).
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
/// Log page version for `v` (TCGL-21: 0003h in OCP 2.7).
pub fn version(v: super::OcpVersion) -> u16 {
    match v {
        super::OcpVersion::V2_5 => 1,
        super::OcpVersion::V2_6 => 2,
        super::OcpVersion::V2_7 => 3,
    }
}

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

    /// The page of a drive of OCP version `v`: the 1-byte count layout
    /// (2.5 as version 1, 2.6 as version 2) or version 3 (2.7) with 2-byte
    /// counts at 4–25 and 4-byte counters at 26–49 (TCGL-3 to TCGL-23).
    pub fn to_bytes_for(&self, v: super::OcpVersion) -> Vec<u8> {
        if v < super::OcpVersion::V2_7 {
            self.byte_counts(version(v))
        } else {
            self.word_counts(version(v))
        }
    }

    /// Counts of one byte at 4–14, counters at 16–35 (versions 1 and 2);
    /// version 2 (OCP 2.6) adds the extended namespace-provisioned locking
    /// object count at 36–37, reserved in version 1 (as nvme-cli decodes it).
    fn byte_counts(&self, page_version: u16) -> Vec<u8> {
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
            .version_and_guid(page_version, &GUID);
        if page_version >= 2 {
            w.u16(36, self.no_of_ns_prov_locking_obj_ext);
        }
        w.finish()
    }

    /// Counts of two bytes at 4–25, counters at 26–49 (version 3).
    fn word_counts(&self, page_version: u16) -> Vec<u8> {
        let mut w = LeWriter::page::<SIZE>();
        w.u8(0, self.state)
            .u16(4, self.locking_sp_act_count.into())
            .u16(6, self.type_rev_count.into())
            .u16(8, self.locking_sp_rev_count.into());
        for (i, &n) in self.locking_objects.iter().enumerate() {
            w.u16(10 + 2 * i, n.into());
        }
        w.u32(26, self.sid_auth_try_count)
            .u32(30, self.sid_auth_try_limit)
            .u32(34, self.pro_tcg_rc)
            .u32(38, self.pro_rlc)
            .u32(42, self.tcg_ec)
            .u32(46, self.no_of_ns_prov_locking_obj_ext.into())
            .version_and_guid(page_version, &GUID);
        w.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::super::OcpVersion;
    use super::*;

    fn sample() -> TcgConfiguration {
        TcgConfiguration {
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
        }
    }

    /// OCP 2.7 version 3 offsets (TCGL-1, TCGL-3 to TCGL-23).
    #[test]
    fn tcgl_21_version3_layout() {
        let t = sample();
        let b = t.to_bytes_for(OcpVersion::V2_7);
        let at = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]);
        assert_eq!((b[0], at(4), at(6), at(8)), (1, 2, 3, 4));
        assert_eq!((at(10), at(24)), (5, 12), "TCGL-6, TCGL-13");
        assert_eq!(
            (at(26), at(30), at(34), at(38), at(42), at(46)),
            (13, 14, 15, 16, 17, 18)
        );
        assert_eq!(at(494), 3, "TCGL-21");
        assert_eq!(&b[496..], &GUID, "TCGL-22");
        assert_eq!(at_v(&t, OcpVersion::V2_5), 1);
        assert_eq!(at_v(&t, OcpVersion::V2_6), 2);
        fn at_v(t: &TcgConfiguration, v: OcpVersion) -> u16 {
            let b = t.to_bytes_for(v);
            u16::from_le_bytes([b[494], b[495]])
        }
    }

    /// The 1-byte count layout of OCP 2.5 and 2.6.
    #[test]
    fn layout_before_2_7() {
        let b = sample().to_bytes_for(OcpVersion::V2_5);
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
        assert_eq!(b[36], 0, "reserved in version 1");
        assert_eq!(&b[494..496], &[1, 0]); // log_page_version
        let b6 = sample().to_bytes_for(OcpVersion::V2_6);
        assert_eq!((b6[36], b6[494]), (18, 2), "version 2: extended count");
        assert_eq!(&b[496..], &GUID);
        let z = TcgConfiguration::no_tcg().to_bytes_for(OcpVersion::V2_6);
        assert!(z[..494].iter().all(|&x| x == 0));
    }
}
