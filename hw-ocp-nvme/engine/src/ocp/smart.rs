// SPDX-License-Identifier: GPL-2.0-or-later
//! NVMe SMART / Health Information (log 02h, NVMe Base 2.0 "SMART / Health
//! Information"),
//! controller scope, built from the same stats and health model as C0h.
//!
//! The OCP telemetry Data Area 1 embeds a copy (nvme-cli
//! `struct nvme_ocp_telemetry_smart`), and the engine can serve it as its
//! own log 02h so both agree.

use super::{DeviceStats, OcpState};
use crate::wire::LeWriter;

/// Page size.
pub const SIZE: usize = 512;

/// The 02h page as typed fields.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SmartLog {
    /// 0 Critical Warning.
    pub critical_warning: u8,
    /// 1 Composite Temperature (K).
    pub composite_temperature: u16,
    /// 3 Available Spare (%).
    pub available_spare: u8,
    /// 4 Available Spare Threshold (%).
    pub available_spare_threshold: u8,
    /// 5 Percentage Used.
    pub percentage_used: u8,
    /// 32 Data Units Read (thousands of 512-byte units, rounded up).
    pub data_units_read: u128,
    /// 48 Data Units Written.
    pub data_units_written: u128,
    /// 64 Host Read Commands.
    pub host_read_commands: u128,
    /// 80 Host Write Commands.
    pub host_write_commands: u128,
    /// 96 Controller Busy Time (minutes).
    pub controller_busy_time: u128,
    /// 112 Power Cycles.
    pub power_cycles: u128,
    /// 128 Power On Hours.
    pub power_on_hours: u128,
    /// 144 Unsafe Shutdowns.
    pub unsafe_shutdowns: u128,
    /// 160 Media and Data Integrity Errors.
    pub media_errors: u128,
    /// 176 Number of Error Information Log Entries.
    pub error_log_entries: u128,
    /// 192 Warning Composite Temperature Time (minutes).
    pub warning_temp_time: u32,
    /// 196 Critical Composite Temperature Time (minutes).
    pub critical_temp_time: u32,
    /// 200 Temperature Sensor 1 (K).
    pub temperature_sensor1: u16,
    /// 216 Thermal Management Temperature 1 Transition Count.
    pub tmt1_transitions: u32,
    /// 224 Total Time For Thermal Management Temperature 1 (s).
    pub tmt1_time: u32,
    /// 232 Operational Lifetime Energy Consumed (Wh, rounded up; NVMe 2.1,
    /// OCP 2.7 SLOG-13); 0 = not reported (before OCP 2.7).
    pub lifetime_energy_wh: u64,
    /// 240 Interval Power Measurement: bits 15:0 value, 17:16 scale (10b =
    /// 0.01 W), 25:20 type (0h = NVM subsystem total power) (SLOG-14); 0 =
    /// not reported (before OCP 2.7).
    pub interval_power: u32,
}

/// Interval Power Measurement Scale 10b: the value counts 0.01 W.
const IPM_SCALE_CENTIWATT: u32 = 0b10 << 16;

impl SmartLog {
    /// Serializes the 512-byte page.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = LeWriter::page::<SIZE>();
        w.u8(0, self.critical_warning)
            .u16(1, self.composite_temperature)
            .u8(3, self.available_spare)
            .u8(4, self.available_spare_threshold)
            .u8(5, self.percentage_used)
            .u128(32, self.data_units_read)
            .u128(48, self.data_units_written)
            .u128(64, self.host_read_commands)
            .u128(80, self.host_write_commands)
            .u128(96, self.controller_busy_time)
            .u128(112, self.power_cycles)
            .u128(128, self.power_on_hours)
            .u128(144, self.unsafe_shutdowns)
            .u128(160, self.media_errors)
            .u128(176, self.error_log_entries)
            .u32(192, self.warning_temp_time)
            .u32(196, self.critical_temp_time)
            .u16(200, self.temperature_sensor1)
            .u32(216, self.tmt1_transitions)
            .u32(224, self.tmt1_time)
            .u64(232, self.lifetime_energy_wh)
            .u32(240, self.interval_power);
        w.finish()
    }
}

/// Thousands of 512-byte units, rounded up (NVMe Data Units).
pub fn data_units(bytes: u128) -> u128 {
    bytes.div_ceil(512_000)
}

/// Builds the page.
pub fn build(s: &OcpState, st: &DeviceStats) -> SmartLog {
    let h = &s.health;
    let (warn_min, crit_min) = h.temperature_time_min();
    let v27 = s.identity.ocp_version >= super::OcpVersion::V2_7;
    SmartLog {
        critical_warning: s.critical_warning(),
        composite_temperature: h.temperature_k(),
        available_spare: h.available_spare(),
        available_spare_threshold: h.cfg.available_spare_threshold,
        percentage_used: h.percentage_used(),
        data_units_read: data_units(st.host_bytes_read),
        data_units_written: data_units(st.host_bytes_written),
        host_read_commands: st.host_read_commands,
        host_write_commands: st.host_write_commands,
        controller_busy_time: st.controller_busy_minutes,
        power_cycles: u128::from(st.power_cycles),
        power_on_hours: u128::from(st.power_on_seconds / 3600),
        unsafe_shutdowns: u128::from(st.unsafe_shutdowns),
        media_errors: u128::from(h.cfg.media_errors) + u128::from(st.media_errors),
        error_log_entries: u128::from(st.error_log_entries),
        warning_temp_time: warn_min,
        critical_temp_time: crit_min,
        temperature_sensor1: h.temperature_k(),
        tmt1_transitions: u32::from(h.throttle_events()),
        tmt1_time: warn_min.saturating_mul(60),
        lifetime_energy_wh: if v27 { h.lifetime_wh_rounded_up() } else { 0 },
        interval_power: if v27 {
            IPM_SCALE_CENTIWATT | u32::from(h.interval_power_cw())
        } else {
            0
        },
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests_common::*;
    use super::super::HealthConfig;
    use super::*;

    #[test]
    fn layout_and_values() {
        let cfg = HealthConfig {
            percentage_used: 7,
            media_errors: 3,
            ..HealthConfig::default()
        };
        let s = OcpState::new(&cfg, &super::super::DeviceIdentity::default());
        let mut st = stats();
        st.host_bytes_read = 512_001;
        st.host_bytes_written = 512_000 * 5;
        st.host_read_commands = 11;
        st.power_on_seconds = 7200;
        st.media_errors = 2;
        st.error_log_entries = 4;
        let b = s.smart_log(&st);
        assert_eq!(b.len(), 512);
        assert_eq!(b[0], 0); // critical_warning
        assert_eq!(u16::from_le_bytes([b[1], b[2]]), 313); // composite_temperature
        assert_eq!(b[3], 100); // available_spare
        assert_eq!(b[4], 10); // available_spare_threshold
        assert_eq!(b[5], 7); // percentage_used
        assert_eq!(b[32], 2); // data_units_read rounded up
        assert_eq!(b[48], 5); // data_units_written
        assert_eq!(b[64], 11); // host_read_commands
        assert_eq!(b[128], 2); // power_on_hours
        assert_eq!(b[160], 5); // media errors: history + measured
        assert_eq!(b[176], 4); // error log entries
        assert_eq!(u16::from_le_bytes([b[200], b[201]]), 313); // temperature_sensor1
    }
}
