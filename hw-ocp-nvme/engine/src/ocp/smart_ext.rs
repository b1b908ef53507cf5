// SPDX-License-Identifier: GPL-2.0-or-later
//! Log page C0h, SMART / Health Information Extended (OCP Datacenter NVMe
//! SSD Specification 2.0, "SMART / Health Information Extended",
//! requirements SMART-1 ff.). The page follows the drive's OCP version:
//! log page version 4 (OCP 2.5: the fields from 216 on are reserved), 5
//! (OCP 2.6) or 6 (OCP 2.7: SMART-30 proactive bad die retirement, SMART-40
//! form factor, SMART-52 dies in use bad NAND blocks, SMART-47 current
//! average power, SMART-48 lifetime power in kWh).
//!
//! Layout: nvme-cli 2.13 `struct ocp_smart_extended_log`
//! (`plugins/ocp/ocp-smart-extended-log.h`), 512 bytes; offsets are in
//! [`SmartExtendedLog::to_bytes`] and checked field by field in the tests.
//! Readers of versions 2–4 parse the same offsets (OCP only appended fields
//! in formerly reserved space), so older tools keep working.
//!
//! Where each value comes from is listed in `docs/ocp-support.md`:
//! measured by the engine ([`DeviceStats`]), modelled ([`HealthModel`]),
//! counted here (injections, clears) or fixed.

use super::health::HealthModel;
use super::{DeviceStats, OcpState, OcpVersion};
use crate::wire::{guid_le, LeWriter};

/// Log identifier.
pub const LID: u8 = 0xc0;
/// Page size.
pub const SIZE: usize = 512;
/// Log page version of OCP 2.6 (2.5: 4, 2.7: 6, SMART-27).
pub const VERSION: u16 = 5;

/// Log page version for `v` (SMART-27: 0006h in OCP 2.7).
pub fn version(v: OcpVersion) -> u16 {
    match v {
        OcpVersion::V2_5 => 4,
        OcpVersion::V2_6 => 5,
        OcpVersion::V2_7 => 6,
    }
}

/// DSSD specification version reported for `v` (SMART-13): 2.x.0, errata 0.
pub fn dssd_version(v: OcpVersion) -> (u8, u16, u16, u8) {
    (2, v.minor(), 0, 0)
}

/// Form factor reported in C0h byte 223 (SMART-40): the Form Factor (FF)
/// field of the NVMe-MI `MultiRecord` Area. An emulated drive has no
/// physical form factor; 0 = not reported (*interpretation*).
pub const FORM_FACTOR: u8 = 0;
/// Log page GUID, printed form `AFD514C97C6F4F9CA4F2BFEA2810AFC5h`.
pub const GUID: [u8; 16] = guid_le(0xAFD514C9_7C6F_4F9C_A4F2_BFEA2810AFC5);

/// The C0h page as typed fields (names as in nvme-cli).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmartExtendedLog {
    /// \[15:0\] Physical Media Units Written (bytes).
    pub physical_media_units_written: u128,
    /// \[31:16\] Physical Media Units Read (bytes).
    pub physical_media_units_read: u128,
    /// \[37:32\] Bad User NAND Blocks, raw (48 bits).
    pub bad_user_nand_blocks_raw: u64,
    /// \[39:38\] Bad User NAND Blocks, normalized.
    pub bad_user_nand_blocks_normalized: u16,
    /// \[45:40\] Bad System NAND Blocks, raw (48 bits).
    pub bad_system_nand_blocks_raw: u64,
    /// \[47:46\] Bad System NAND Blocks, normalized.
    pub bad_system_nand_blocks_normalized: u16,
    /// \[55:48\] XOR Recovery Count.
    pub xor_recovery_count: u64,
    /// \[63:56\] Uncorrectable Read Error Count.
    pub uncorrectable_read_err_count: u64,
    /// \[71:64\] Soft ECC Error Count.
    pub soft_ecc_err_count: u64,
    /// \[75:72\] End to End Detected Errors.
    pub end_to_end_detected_err: u32,
    /// \[79:76\] End to End Corrected Errors.
    pub end_to_end_corrected_err: u32,
    /// \[80\] System Data % Used.
    pub system_data_used_percent: u8,
    /// \[87:81\] Refresh Counts (56 bits).
    pub refresh_counts: u64,
    /// \[91:88\] Maximum User Data Erase Count.
    pub user_data_erase_count_max: u32,
    /// \[95:92\] Minimum User Data Erase Count.
    pub user_data_erase_count_min: u32,
    /// \[96\] Number of Thermal Throttling Events.
    pub thermal_throttling_event_count: u8,
    /// \[97\] Current Throttling Status.
    pub thermal_throttling_current_status: u8,
    /// \[98\] DSSD Errata Version.
    pub dssd_errata_version: u8,
    /// \[100:99\] DSSD Point Version.
    pub dssd_point_version: u16,
    /// \[102:101\] DSSD Minor Version.
    pub dssd_minor_version: u16,
    /// \[103\] DSSD Major Version.
    pub dssd_major_version: u8,
    /// \[111:104\] PCIe Correctable Error Count.
    pub pcie_correctable_err_count: u64,
    /// \[115:112\] Incomplete Shutdowns.
    pub incomplete_shoutdowns: u32,
    /// \[120\] % Free Blocks.
    pub percent_free_blocks: u8,
    /// \[129:128\] Capacitor Health.
    pub capacitor_health: u16,
    /// \[130\] NVMe Base Errata Version.
    pub nvme_base_errata_version: u8,
    /// \[131\] NVMe Command Set Errata Version.
    pub nvme_cmdset_errata_version: u8,
    /// \[132\] NVMe over PCIe Errata Version.
    pub nvme_over_pcie_errate_version: u8,
    /// \[133\] NVMe-MI Errata Version.
    pub nvme_mi_errata_version: u8,
    /// \[143:136\] Unaligned I/O.
    pub unaligned_io: u64,
    /// \[151:144\] Security Version Number.
    pub security_version: u64,
    /// \[159:152\] Total NUSE.
    pub total_nuse: u64,
    /// \[175:160\] PLP Start Count.
    pub plp_start_count: u128,
    /// \[191:176\] Endurance Estimate (bytes).
    pub endurance_estimate: u128,
    /// \[199:192\] PCIe Link Retraining Count.
    pub pcie_link_retaining_count: u64,
    /// \[207:200\] Power State Change Count.
    pub power_state_change_count: u64,
    /// \[215:208\] Lowest Permitted Firmware Revision.
    pub lowest_permitted_fw_rev: [u8; 8],
    /// \[217:216\] Total Media Dies.
    pub total_media_dies: u16,
    /// \[219:218\] Total Die Failure Tolerance.
    pub total_die_failure_tolerance: u16,
    /// \[221:220\] Media Dies Offline.
    pub media_dies_offline: u16,
    /// \[222\] Max Temperature Recorded (°C).
    pub max_temperature_recorded: u8,
    /// \[231:224\] NAND Average Erase Count.
    pub nand_avg_erase_count: u64,
    /// \[235:232\] Command Timeouts.
    pub command_timeouts: u32,
    /// \[239:236\] System Area Program Fail Count, raw.
    pub sys_area_program_fail_count_raw: u32,
    /// \[240\] System Area Program Fail Count, normalized.
    pub sys_area_program_fail_count_normalized: u8,
    /// \[247:244\] System Area Uncorrectable Read Count, raw.
    pub sys_area_uncorr_read_count_raw: u32,
    /// \[248\] System Area Uncorrectable Read Count, normalized.
    pub sys_area_uncorr_read_count_normalized: u8,
    /// \[255:252\] System Area Erase Fail Count, raw.
    pub sys_area_erase_fail_count_raw: u32,
    /// \[256\] System Area Erase Fail Count, normalized.
    pub sys_area_erase_fail_count_normalized: u8,
    /// \[261:260\] Max Peak Power Capability (W).
    pub max_peak_power_capability: u16,
    /// \[263:262\] Current Max Average Power (W).
    pub current_max_avg_power: u16,
    /// \[269:264\] Lifetime Power Consumed (Wh, 48 bits).
    pub lifetime_power_consumed: u64,
    /// \[277:270\] DSSD Firmware Revision.
    pub dssd_firmware_revision: [u8; 8],
    /// \[293:278\] DSSD Firmware Build UUID.
    pub dssd_firmware_build_uuid: [u8; 16],
    /// \[357:294\] DSSD Firmware Build Label.
    pub dssd_firmware_build_label: [u8; 64],
    /// \[135:134\] Proactive Bad Die Retirement (OCP 2.7, SMART-30).
    pub proactive_bad_die_retirement: u16,
    /// \[223\] Form Factor (OCP 2.7, SMART-40).
    pub form_factor: u8,
    /// \[363:358\] Dies In Use Bad NAND Blocks, raw (OCP 2.7, SMART-52).
    pub dies_in_use_bad_blocks_raw: u64,
    /// \[365:364\] Dies In Use Bad NAND Blocks, normalized (SMART-52).
    pub dies_in_use_bad_blocks_normalized: u16,
    /// \[495:494\] Log Page Version (SMART-27).
    pub log_page_version: u16,
}

impl SmartExtendedLog {
    /// Serializes the 512-byte page with version and GUID.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = LeWriter::page::<SIZE>();
        w.u128(0, self.physical_media_units_written)
            .u128(16, self.physical_media_units_read)
            .uint_n(32, 6, self.bad_user_nand_blocks_raw)
            .u16(38, self.bad_user_nand_blocks_normalized)
            .uint_n(40, 6, self.bad_system_nand_blocks_raw)
            .u16(46, self.bad_system_nand_blocks_normalized)
            .u64(48, self.xor_recovery_count)
            .u64(56, self.uncorrectable_read_err_count)
            .u64(64, self.soft_ecc_err_count)
            .u32(72, self.end_to_end_detected_err)
            .u32(76, self.end_to_end_corrected_err)
            .u8(80, self.system_data_used_percent)
            .uint_n(81, 7, self.refresh_counts)
            .u32(88, self.user_data_erase_count_max)
            .u32(92, self.user_data_erase_count_min)
            .u8(96, self.thermal_throttling_event_count)
            .u8(97, self.thermal_throttling_current_status)
            .u8(98, self.dssd_errata_version)
            .u16(99, self.dssd_point_version)
            .u16(101, self.dssd_minor_version)
            .u8(103, self.dssd_major_version)
            .u64(104, self.pcie_correctable_err_count)
            .u32(112, self.incomplete_shoutdowns)
            .u8(120, self.percent_free_blocks)
            .u16(128, self.capacitor_health)
            .u8(130, self.nvme_base_errata_version)
            .u8(131, self.nvme_cmdset_errata_version)
            .u8(132, self.nvme_over_pcie_errate_version)
            .u8(133, self.nvme_mi_errata_version)
            .u64(136, self.unaligned_io)
            .u64(144, self.security_version)
            .u64(152, self.total_nuse)
            .u128(160, self.plp_start_count)
            .u128(176, self.endurance_estimate)
            .u64(192, self.pcie_link_retaining_count)
            .u64(200, self.power_state_change_count)
            .bytes(208, &self.lowest_permitted_fw_rev)
            .u16(216, self.total_media_dies)
            .u16(218, self.total_die_failure_tolerance)
            .u16(220, self.media_dies_offline)
            .u8(222, self.max_temperature_recorded)
            .u64(224, self.nand_avg_erase_count)
            .u32(232, self.command_timeouts)
            .u32(236, self.sys_area_program_fail_count_raw)
            .u8(240, self.sys_area_program_fail_count_normalized)
            .u32(244, self.sys_area_uncorr_read_count_raw)
            .u8(248, self.sys_area_uncorr_read_count_normalized)
            .u32(252, self.sys_area_erase_fail_count_raw)
            .u8(256, self.sys_area_erase_fail_count_normalized)
            .u16(260, self.max_peak_power_capability)
            .u16(262, self.current_max_avg_power)
            .uint_n(264, 6, self.lifetime_power_consumed)
            .bytes(270, &self.dssd_firmware_revision)
            .bytes(278, &self.dssd_firmware_build_uuid)
            .bytes(294, &self.dssd_firmware_build_label)
            .u16(134, self.proactive_bad_die_retirement)
            .u8(223, self.form_factor)
            .uint_n(358, 6, self.dies_in_use_bad_blocks_raw)
            .u16(364, self.dies_in_use_bad_blocks_normalized)
            .version_and_guid(self.log_page_version, &GUID);
        w.finish()
    }
}

fn normalized(fails: u32) -> u8 {
    100u8.saturating_sub(u8::try_from(fails).unwrap_or(u8::MAX))
}

/// Kelvin to a Celsius byte.
pub fn kelvin_to_celsius_u8(k: u16) -> u8 {
    u8::try_from(k.saturating_sub(273)).unwrap_or(u8::MAX)
}

/// A deterministic firmware build UUID (RFC 9562 version 8) derived from the
/// firmware revision, so that the same firmware always reports the same UUID.
pub fn firmware_build_uuid(fw: &[u8; 8]) -> [u8; 16] {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut out = [0u8; 16];
    for (i, o) in out.iter_mut().enumerate() {
        h ^= u64::from(fw[i % 8]) ^ (i as u64);
        h = h.wrapping_mul(0x0100_0000_01b3);
        *o = (h >> 32) as u8;
    }
    out[6] = (out[6] & 0x0f) | 0x80;
    out[8] = (out[8] & 0x3f) | 0x80;
    out
}

/// Builds the page from the engine's stats and this module's state.
pub fn build(s: &OcpState, st: &DeviceStats) -> SmartExtendedLog {
    let h: &HealthModel = &s.health;
    let c = &s.counters;
    let v = s.identity.ocp_version;
    let (major, minor, point, errata) = dssd_version(v);
    let mut label = [0u8; 64];
    let text = b"ocp-nvme emulated firmware ";
    label[..text.len()].copy_from_slice(text);
    label[text.len()..text.len() + 8].copy_from_slice(&s.identity.firmware_rev);
    let mut l = SmartExtendedLog {
        physical_media_units_written: h.nand_bytes_written_now(st.host_bytes_written),
        physical_media_units_read: h.nand_bytes_read_now(st.host_bytes_read),
        bad_user_nand_blocks_raw: h.bad_user_blocks(),
        bad_user_nand_blocks_normalized: h.bad_user_normalized(),
        bad_system_nand_blocks_raw: h.bad_system_blocks(),
        bad_system_nand_blocks_normalized: h.bad_system_normalized(),
        xor_recovery_count: (h.soft_ecc_errors() / 1000).saturating_add(c.xor_recoveries),
        uncorrectable_read_err_count: h.cfg.media_errors.saturating_add(st.media_errors),
        soft_ecc_err_count: h.soft_ecc_errors(),
        end_to_end_detected_err: c.e2e_detected,
        end_to_end_corrected_err: c.e2e_corrected,
        system_data_used_percent: h.system_data_used_pct(),
        refresh_counts: h.refresh_count(st.power_on_seconds),
        user_data_erase_count_max: h.max_erase_count(),
        user_data_erase_count_min: h.min_erase_count(),
        thermal_throttling_event_count: h.throttle_events(),
        thermal_throttling_current_status: h.throttling_status(),
        dssd_errata_version: errata,
        dssd_point_version: point,
        dssd_minor_version: minor,
        dssd_major_version: major,
        pcie_correctable_err_count: st.pcie_correctable_errors.saturating_sub(c.pcie_baseline),
        incomplete_shoutdowns: st
            .incomplete_shutdowns
            .saturating_add(c.incomplete_shutdowns),
        percent_free_blocks: h.percent_free_blocks(st.used_bytes),
        capacitor_health: u16::from(h.capacitor_health()),
        nvme_base_errata_version: 0,
        nvme_cmdset_errata_version: 0,
        nvme_over_pcie_errate_version: 0,
        nvme_mi_errata_version: 0,
        unaligned_io: st.unaligned_io,
        security_version: s.identity.security_version,
        total_nuse: st.total_nuse,
        plp_start_count: u128::from(st.plp_start_count.saturating_add(c.plp_starts)),
        endurance_estimate: h.endurance_estimate(),
        pcie_link_retaining_count: st.pcie_link_retrainings,
        power_state_change_count: st.power_state_changes,
        lowest_permitted_fw_rev: s.identity.lowest_permitted_fw_rev,
        total_media_dies: h.cfg.total_media_dies,
        total_die_failure_tolerance: h.cfg.die_failure_tolerance,
        media_dies_offline: c.dies_offline,
        max_temperature_recorded: kelvin_to_celsius_u8(h.max_temperature_k()),
        nand_avg_erase_count: h.avg_erase_count(),
        command_timeouts: st.command_timeouts.saturating_add(c.command_timeouts),
        sys_area_program_fail_count_raw: c.sys_program_fail,
        sys_area_program_fail_count_normalized: normalized(c.sys_program_fail),
        sys_area_uncorr_read_count_raw: c.sys_uncorr_read,
        sys_area_uncorr_read_count_normalized: normalized(c.sys_uncorr_read),
        sys_area_erase_fail_count_raw: c.sys_erase_fail,
        sys_area_erase_fail_count_normalized: normalized(c.sys_erase_fail),
        max_peak_power_capability: u16::from(h.cfg.max_power_w),
        current_max_avg_power: h.max_avg_power_w(),
        lifetime_power_consumed: h.lifetime_wh(),
        dssd_firmware_revision: s.identity.firmware_rev,
        dssd_firmware_build_uuid: firmware_build_uuid(&s.identity.firmware_rev),
        dssd_firmware_build_label: label,
        proactive_bad_die_retirement: 0,
        form_factor: FORM_FACTOR,
        dies_in_use_bad_blocks_raw: h.bad_user_blocks(),
        dies_in_use_bad_blocks_normalized: h.bad_user_normalized(),
        log_page_version: version(v),
    };
    match v {
        OcpVersion::V2_7 => {
            // SMART-47: the current average power (1 s window), SMART-48:
            // lifetime energy in kWh.
            l.current_max_avg_power = h.current_power_w();
            l.lifetime_power_consumed = h.lifetime_wh() / 1000;
        }
        OcpVersion::V2_6 => {
            l.dies_in_use_bad_blocks_raw = 0;
            l.dies_in_use_bad_blocks_normalized = 0;
        }
        OcpVersion::V2_5 => l.clear_after_2_5(),
    }
    l
}

impl SmartExtendedLog {
    /// Log page version 4 (OCP 2.5) ends at the Lowest Permitted Firmware
    /// Revision: everything from byte 216 on is reserved.
    fn clear_after_2_5(&mut self) {
        self.total_media_dies = 0;
        self.total_die_failure_tolerance = 0;
        self.media_dies_offline = 0;
        self.max_temperature_recorded = 0;
        self.nand_avg_erase_count = 0;
        self.command_timeouts = 0;
        self.sys_area_program_fail_count_raw = 0;
        self.sys_area_program_fail_count_normalized = 0;
        self.sys_area_uncorr_read_count_raw = 0;
        self.sys_area_uncorr_read_count_normalized = 0;
        self.sys_area_erase_fail_count_raw = 0;
        self.sys_area_erase_fail_count_normalized = 0;
        self.max_peak_power_capability = 0;
        self.current_max_avg_power = 0;
        self.lifetime_power_consumed = 0;
        self.dssd_firmware_revision = [0; 8];
        self.dssd_firmware_build_uuid = [0; 16];
        self.dssd_firmware_build_label = [0; 64];
        self.dies_in_use_bad_blocks_raw = 0;
        self.dies_in_use_bad_blocks_normalized = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests_common::*;
    use super::*;

    fn le(b: &[u8], off: usize, n: usize) -> u128 {
        let mut a = [0u8; 16];
        a[..n].copy_from_slice(&b[off..off + n]);
        u128::from_le_bytes(a)
    }

    #[test]
    fn every_field_offset() {
        // Distinct values per field; offsets from struct ocp_smart_extended_log.
        let mut l = SmartExtendedLog {
            physical_media_units_written: 0x0101,
            physical_media_units_read: 0x0202,
            bad_user_nand_blocks_raw: 0x0303,
            bad_user_nand_blocks_normalized: 0x0404,
            bad_system_nand_blocks_raw: 0x0505,
            bad_system_nand_blocks_normalized: 0x0606,
            xor_recovery_count: 0x0707,
            uncorrectable_read_err_count: 0x0808,
            soft_ecc_err_count: 0x0909,
            end_to_end_detected_err: 0x0a0a,
            end_to_end_corrected_err: 0x0b0b,
            system_data_used_percent: 0x0c,
            refresh_counts: 0x0d0d,
            user_data_erase_count_max: 0x0e0e,
            user_data_erase_count_min: 0x0f0f,
            thermal_throttling_event_count: 0x10,
            thermal_throttling_current_status: 0x11,
            dssd_errata_version: 0x12,
            dssd_point_version: 0x1313,
            dssd_minor_version: 0x1414,
            dssd_major_version: 0x15,
            pcie_correctable_err_count: 0x1616,
            incomplete_shoutdowns: 0x1717,
            percent_free_blocks: 0x18,
            capacitor_health: 0x1919,
            nvme_base_errata_version: 0x1a,
            nvme_cmdset_errata_version: 0x1b,
            nvme_over_pcie_errate_version: 0x1c,
            nvme_mi_errata_version: 0x1d,
            unaligned_io: 0x1e1e,
            security_version: 0x1f1f,
            total_nuse: 0x2020,
            plp_start_count: 0x2121,
            endurance_estimate: 0x2222,
            pcie_link_retaining_count: 0x2323,
            power_state_change_count: 0x2424,
            lowest_permitted_fw_rev: *b"LPFWREV1",
            total_media_dies: 0x2525,
            total_die_failure_tolerance: 0x2626,
            media_dies_offline: 0x2727,
            max_temperature_recorded: 0x28,
            nand_avg_erase_count: 0x2929,
            command_timeouts: 0x2a2a,
            sys_area_program_fail_count_raw: 0x2b2b,
            sys_area_program_fail_count_normalized: 0x2c,
            sys_area_uncorr_read_count_raw: 0x2d2d,
            sys_area_uncorr_read_count_normalized: 0x2e,
            sys_area_erase_fail_count_raw: 0x2f2f,
            sys_area_erase_fail_count_normalized: 0x30,
            max_peak_power_capability: 0x3131,
            current_max_avg_power: 0x3232,
            lifetime_power_consumed: 0x3333,
            dssd_firmware_revision: *b"FWREV001",
            dssd_firmware_build_uuid: [0x34; 16],
            dssd_firmware_build_label: [0x35; 64],
            // Version 5 (OCP 2.6) layout: the OCP 2.7 fields are reserved.
            proactive_bad_die_retirement: 0,
            form_factor: 0,
            dies_in_use_bad_blocks_raw: 0,
            dies_in_use_bad_blocks_normalized: 0,
            log_page_version: 5,
        };
        let b = l.to_bytes();
        assert_eq!(b.len(), 512);
        for (off, n, v) in [
            (0usize, 16usize, 0x0101u128), // physical_media_units_written
            (16, 16, 0x0202),              // physical_media_units_read
            (32, 6, 0x0303),               // bad_user_nand_blocks_raw
            (38, 2, 0x0404),               // bad_user_nand_blocks_normalized
            (40, 6, 0x0505),               // bad_system_nand_blocks_raw
            (46, 2, 0x0606),               // bad_system_nand_blocks_normalized
            (48, 8, 0x0707),               // xor_recovery_count
            (56, 8, 0x0808),               // uncorrectable_read_err_count
            (64, 8, 0x0909),               // soft_ecc_err_count
            (72, 4, 0x0a0a),               // end_to_end_detected_err
            (76, 4, 0x0b0b),               // end_to_end_corrected_err
            (80, 1, 0x0c),                 // system_data_used_percent
            (81, 7, 0x0d0d),               // refresh_counts
            (88, 4, 0x0e0e),               // user_data_erase_count_max
            (92, 4, 0x0f0f),               // user_data_erase_count_min
            (96, 1, 0x10),                 // thermal_throttling_event_count
            (97, 1, 0x11),                 // thermal_throttling_current_status
            (98, 1, 0x12),                 // dssd_errata_version
            (99, 2, 0x1313),               // dssd_point_version
            (101, 2, 0x1414),              // dssd_minor_version
            (103, 1, 0x15),                // dssd_major_version
            (104, 8, 0x1616),              // pcie_correctable_err_count
            (112, 4, 0x1717),              // incomplete_shoutdowns
            (120, 1, 0x18),                // percent_free_blocks
            (128, 2, 0x1919),              // capacitor_health
            (130, 1, 0x1a),                // nvme_base_errata_version
            (131, 1, 0x1b),                // nvme_cmdset_errata_version
            (132, 1, 0x1c),                // nvme_over_pcie_errate_version
            (133, 1, 0x1d),                // nvme_mi_errata_version
            (136, 8, 0x1e1e),              // unaligned_io
            (144, 8, 0x1f1f),              // security_version
            (152, 8, 0x2020),              // total_nuse
            (160, 16, 0x2121),             // plp_start_count
            (176, 16, 0x2222),             // endurance_estimate
            (192, 8, 0x2323),              // pcie_link_retaining_count
            (200, 8, 0x2424),              // power_state_change_count
            (216, 2, 0x2525),              // total_media_dies
            (218, 2, 0x2626),              // total_die_failure_tolerance
            (220, 2, 0x2727),              // media_dies_offline
            (222, 1, 0x28),                // max_temperature_recorded
            (224, 8, 0x2929),              // nand_avg_erase_count
            (232, 4, 0x2a2a),              // command_timeouts
            (236, 4, 0x2b2b),              // sys_area_program_fail_count_raw
            (240, 1, 0x2c),                // sys_area_program_fail_count_normalized
            (244, 4, 0x2d2d),              // sys_area_uncorr_read_count_raw
            (248, 1, 0x2e),                // sys_area_uncorr_read_count_normalized
            (252, 4, 0x2f2f),              // sys_area_erase_fail_count_raw
            (256, 1, 0x30),                // sys_area_erase_fail_count_normalized
            (260, 2, 0x3131),              // max_peak_power_capability
            (262, 2, 0x3232),              // current_max_avg_power
            (264, 6, 0x3333),              // lifetime_power_consumed
            (494, 2, 5),                   // log_page_version
        ] {
            assert_eq!(le(&b, off, n), v, "offset {off}");
        }
        assert_eq!(&b[208..216], b"LPFWREV1"); // lowest_permitted_fw_rev
        assert_eq!(&b[270..278], b"FWREV001"); // dssd_firmware_revision
        assert_eq!(&b[278..294], &[0x34; 16]); // dssd_firmware_build_uuid
        assert_eq!(&b[294..358], &[0x35; 64]); // dssd_firmware_build_label
        assert!(b[358..494].iter().all(|&x| x == 0)); // rsvd358
        assert_eq!(&b[496..512], &GUID); // log_page_guid
                                         // Reserved bytes stay zero.
        for r in [
            116usize, 117, 118, 119, 121, 127, 134, 135, 223, 241, 243, 249, 257, 259,
        ] {
            assert_eq!(b[r], 0, "reserved {r}");
        }
        // Raw counters saturate at their width instead of spilling over.
        l.bad_user_nand_blocks_raw = u64::MAX;
        assert_eq!(l.to_bytes()[38], 0x04);
    }

    /// OCP 2.7 fields of log page version 6 (SMART-27, SMART-30, SMART-40,
    /// SMART-52) at their byte addresses.
    #[test]
    fn smart_27_version6_fields() {
        let mut s = state_version(OcpVersion::V2_7);
        let b = s.log_page(LID, &stats(), 0).unwrap();
        assert_eq!(le(&b, 494, 2), 6, "SMART-27");
        assert_eq!(
            (b[103], le(&b, 101, 2), le(&b, 99, 2), b[98]),
            (2, 7, 0, 0),
            "SMART-13"
        );
        let l = SmartExtendedLog {
            proactive_bad_die_retirement: 0x3636,
            form_factor: 0x37,
            dies_in_use_bad_blocks_raw: 0x3838,
            dies_in_use_bad_blocks_normalized: 0x3939,
            ..build(&s, &stats())
        };
        let b2 = l.to_bytes();
        assert_eq!(le(&b2, 134, 2), 0x3636, "SMART-30");
        assert_eq!(b2[223], 0x37, "SMART-40");
        assert_eq!(le(&b2, 358, 6), 0x3838, "SMART-52 raw");
        assert_eq!(le(&b2, 364, 2), 0x3939, "SMART-52 normalized");
        assert!(b2[366..494].iter().all(|&x| x == 0), "SMART-26 reserved");
        // A fresh drive: no bad blocks in the dies in use, normalized 100 %.
        let b3 = s.log_page(LID, &stats(), 0).unwrap();
        assert_eq!(le(&b3, 358, 6), 0);
        assert_eq!(le(&b3, 364, 2), 100);
    }

    /// Each version's page: version 4 (2.5) has nothing from byte 216 on,
    /// version 5 (2.6) nothing of 2.7; versions 2.x.0.0 (SMART-13).
    #[test]
    fn smart_27_version_per_ocp_version() {
        for (v, lpv) in [
            (OcpVersion::V2_5, 4),
            (OcpVersion::V2_6, 5),
            (OcpVersion::V2_7, 6),
        ] {
            let mut s = state_version(v);
            let b = s.log_page(LID, &stats(), 0).unwrap();
            assert_eq!(le(&b, 494, 2), lpv, "{v:?}");
            assert_eq!(le(&b, 101, 2), u128::from(v.minor()));
            assert_eq!(&b[496..], &GUID, "SMART-28");
            match v {
                OcpVersion::V2_5 => assert!(b[216..494].iter().all(|&x| x == 0)),
                OcpVersion::V2_6 => {
                    assert_eq!(le(&b, 216, 2), 32); // total_media_dies
                    assert!(b[358..494].iter().all(|&x| x == 0));
                }
                OcpVersion::V2_7 => assert_eq!(le(&b, 364, 2), 100),
            }
        }
    }

    /// SMART-47 (current average power, not the maximum) and SMART-48
    /// (lifetime energy in kWh) under OCP 2.7.
    #[test]
    fn smart_47_48_units() {
        let mut s = state_version(OcpVersion::V2_7);
        let mut st = stats();
        // Ten hours of writes at full speed: several kWh would need more, so
        // drive the model directly for a long time.
        for i in 1..=400u64 {
            st.host_bytes_written += 3u128 << 30;
            st.power_on_seconds = i * 3600;
            s.advance(&st, i * 3_600_000_000_000);
        }
        let b = s.log_page(LID, &st, 400 * 3_600_000_000_000).unwrap();
        let h2 = s.health();
        assert_eq!(
            le(&b, 264, 6),
            u128::from(h2.lifetime_wh() / 1000),
            "SMART-48 kWh"
        );
        assert!(h2.lifetime_wh() >= 1000, "{} Wh", h2.lifetime_wh());
        assert_eq!(le(&b, 262, 2), u128::from(h2.current_power_w()), "SMART-47");
        // 2.6 reports the highest average since power-on, in Wh.
        let mut s6 = state_version(OcpVersion::V2_6);
        s6.advance(&st, 3_600_000_000_000);
        let b6 = s6.log_page(LID, &st, 3_600_000_000_000).unwrap();
        assert_eq!(le(&b6, 264, 6), u128::from(s6.health().lifetime_wh()));
    }

    #[test]
    fn counters_follow_stats() {
        let mut s = state_version(OcpVersion::V2_6);
        let mut st = stats();
        st.host_bytes_written = 1 << 30;
        st.host_bytes_read = 2 << 30;
        st.pcie_correctable_errors = 9;
        st.incomplete_shutdowns = 2;
        st.unaligned_io = 5;
        st.plp_start_count = 4;
        st.pcie_link_retrainings = 3;
        st.power_state_changes = 6;
        st.media_errors = 1;
        st.total_nuse = 1234;
        st.command_timeouts = 8;
        let b = s.log_page(LID, &st, 0).unwrap();
        // History present when the model starts: written at 1.5× WA.
        assert_eq!(le(&b, 0, 16), (1u128 << 30) * 3 / 2);
        assert_eq!(le(&b, 16, 16), 2 << 30);
        assert_eq!(le(&b, 104, 8), 9);
        assert_eq!(le(&b, 112, 4), 2);
        assert_eq!(le(&b, 136, 8), 5);
        assert_eq!(le(&b, 152, 8), 1234);
        assert_eq!(le(&b, 160, 16), 4);
        assert_eq!(le(&b, 192, 8), 3);
        assert_eq!(le(&b, 200, 8), 6);
        assert_eq!(le(&b, 56, 8), 1);
        assert_eq!(le(&b, 232, 4), 8);
        assert_eq!(le(&b, 128, 2), 100); // capacitor_health
        assert_eq!(b[103], 2); // dssd_major_version
        assert_eq!(le(&b, 101, 2), 6); // dssd_minor_version
        assert_eq!(le(&b, 216, 2), 32); // total_media_dies
        assert_eq!(le(&b, 260, 2), 25); // max_peak_power_capability
        assert_eq!(&b[270..278], b"1.0     ");
        // Writes move the counter.
        st.host_bytes_written += 1 << 20;
        let b2 = s.log_page(LID, &st, 1_000_000_000).unwrap();
        assert_eq!(le(&b2, 0, 16) - le(&b, 0, 16), (1u128 << 20) * 3 / 2);
    }

    #[test]
    fn clear_pcie_correctable_errors() {
        let mut s = state();
        let mut st = stats();
        st.pcie_correctable_errors = 10;
        assert_eq!(le(&s.log_page(LID, &st, 0).unwrap(), 104, 8), 10);
        s.set_feature(0xc3, 1 << 31, false, &[], 0).unwrap();
        assert_eq!(le(&s.log_page(LID, &st, 0).unwrap(), 104, 8), 0);
        st.pcie_correctable_errors = 13;
        assert_eq!(le(&s.log_page(LID, &st, 0).unwrap(), 104, 8), 3);
        s.clear_pcie_errors(&st);
        assert_eq!(le(&s.log_page(LID, &st, 0).unwrap(), 104, 8), 0);
    }

    #[test]
    fn dssd_power_state_changes_count_and_cap_power() {
        // The change count is the engine's count of NVMe power state changes,
        // DSSD-caused ones included (SMART-31; tests/ocp.rs
        // `dclp_9_dssd_power_state_drives_nvme_power_state`).
        let mut s = state();
        let mut st = stats();
        s.set_feature(0xc7, 12, false, &[], 0).unwrap();
        s.set_feature(0xc7, 12, false, &[], 0).unwrap();
        st.power_state_changes = 1;
        let b = s.log_page(LID, &st, 0).unwrap();
        assert_eq!(le(&b, 200, 8), 1);
        let mut st2 = st;
        st2.host_bytes_written = 30_000_000_000;
        let b2 = s.log_page(LID, &st2, 10_000_000_000).unwrap();
        assert!(le(&b2, 262, 2) <= 12, "current max avg power capped by C7h");
    }

    #[test]
    fn wear_fields_move_with_writes() {
        let mut s = state();
        let mut st = stats();
        let b0 = s.log_page(LID, &st, 0).unwrap();
        st.host_bytes_written = 500u128 << 40; // 500 TiB
        st.host_bytes_read = 100u128 << 40;
        let b1 = s.log_page(LID, &st, 1_000_000_000).unwrap();
        assert!(le(&b1, 224, 8) > le(&b0, 224, 8)); // nand_avg_erase_count
        assert!(le(&b1, 88, 4) >= le(&b1, 92, 4)); // max >= min erase
        assert!(le(&b1, 32, 6) > le(&b0, 32, 6)); // bad user blocks
        assert!(le(&b1, 64, 8) > 0); // soft ECC
        assert!(b1[80] > 0); // system_data_used_percent
    }

    #[test]
    fn build_uuid_is_stable_v8() {
        let u = firmware_build_uuid(b"1.0     ");
        assert_eq!(u, firmware_build_uuid(b"1.0     "));
        assert_ne!(u, firmware_build_uuid(b"2.0     "));
        assert_eq!(u[6] >> 4, 8);
    }
}
