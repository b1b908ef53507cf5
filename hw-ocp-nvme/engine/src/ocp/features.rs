// SPDX-License-Identifier: GPL-2.0-or-later
//! OCP features C1h–C4h and C6h–C9h (OCP Datacenter NVMe SSD Specification 2.0,
//! "Set Features Identifiers"; 2.5 adds C8h and C9h), with NVMe Get Features select
//! semantics (NVMe Base 2.0, Get Features "Select": SEL 0 current, 1 default, 2 saved,
//! 3 supported capabilities) and saveable values that survive a power cycle.
//!
//! Feature C0h (Error Injection) is in [`super::error_injection`], C5h
//! (Latency Monitor) in [`super::latency`]; their saved/current values still
//! live in [`FeatureStore`].
//!
//! Encodings follow nvme-cli 2.13 `plugins/ocp/ocp-nvme.c` and
//! `ocp-clear-features.c`, which is what a guest sends:
//! each sub-module documents its CDW11 and DW0.

use super::health::HealthConfig;
use super::latency::LatencyMonitorConfig;
use super::FeatureError;

/// Supported capabilities (SEL 3) DW0 bit 0: saveable.
pub const CAP_SAVEABLE: u32 = 1 << 0;
/// SEL 3 DW0 bit 1: namespace specific.
pub const CAP_NS_SPECIFIC: u32 = 1 << 1;
/// SEL 3 DW0 bit 2: changeable.
pub const CAP_CHANGEABLE: u32 = 1 << 2;

/// The "clear" bit of C1h and C3h (CDW11 bit 31).
pub const CLEAR_BIT: u32 = 1 << 31;

/// FID C1h Clear Firmware Update History.
pub const FID_CLEAR_FW_HISTORY: u8 = clear_fw_history::FID;
/// FID C2h EOL/PLP Failure Mode.
pub const FID_EOL_PLP: u8 = eol_plp::FID;
/// FID C3h Clear PCIe Correctable Error Counters.
pub const FID_CLEAR_PCIE: u8 = clear_pcie::FID;
/// FID C4h Enable IEEE1667 Silo.
pub const FID_IEEE1667: u8 = ieee1667::FID;
/// FID C6h PLP Health Check Interval.
pub const FID_PLP_INTERVAL: u8 = plp_interval::FID;
/// FID C7h DSSD Power State.
pub const FID_DSSD_POWER_STATE: u8 = dssd_power_state::FID;
/// FID C8h Telemetry Profile.
pub const FID_TELEMETRY_PROFILE: u8 = telemetry_profile::FID;
/// FID C9h DSSD Asynchronous Event Configuration.
pub const FID_ASYNC_EVENT: u8 = async_event::FID;

/// EOL/PLP mode 1: read-only.
pub const EOL_READ_ONLY: u8 = eol_plp::READ_ONLY;
/// EOL/PLP mode 2: write-through.
pub const EOL_WRITE_THROUGH: u8 = eol_plp::WRITE_THROUGH;
/// EOL/PLP mode 3: normal.
pub const EOL_NORMAL: u8 = eol_plp::NORMAL;

/// Set Features with SV = 1 on a feature without a saved value.
pub fn check_not_saveable(save: bool) -> Result<(), FeatureError> {
    if save {
        Err(FeatureError::FeatureNotSaveable)
    } else {
        Ok(())
    }
}

/// A feature value with its default and (if saved) saved value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Saved<T: Copy> {
    /// Current value.
    pub current: T,
    /// Default (factory) value.
    pub default: T,
    /// Saved value, if the host ever saved one.
    pub saved: Option<T>,
}

impl<T: Copy + crate::persist::Persist> crate::persist::Persist for Saved<T> {
    fn save(&self, w: &mut crate::wire::LeWriter) {
        self.current.save(w);
        self.default.save(w);
        self.saved.save(w);
    }
    fn load(r: &mut crate::wire::LeReader<'_>) -> Result<Self, String> {
        Ok(Saved {
            current: T::load(r)?,
            default: T::load(r)?,
            saved: Option::<T>::load(r)?,
        })
    }
}

impl<T: Copy> Saved<T> {
    /// A feature at its default.
    pub fn new(default: T) -> Self {
        Saved {
            current: default,
            default,
            saved: None,
        }
    }

    /// Sets the current value, and the saved one when `save`.
    pub fn set(&mut self, v: T, save: bool) {
        self.current = v;
        if save {
            self.saved = Some(v);
        }
    }

    /// The value a Get Features SEL 0/1/2 returns.
    pub fn select(&self, sel: u8) -> T {
        match sel {
            1 => self.default,
            2 => self.saved.unwrap_or(self.default),
            _ => self.current,
        }
    }

    /// After a power cycle: the saved value, else the default.
    pub fn power_cycle(&mut self) {
        self.current = self.saved.unwrap_or(self.default);
    }
}

/// Values of all OCP features. Plain data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureStore {
    /// C2h: mode 1 read-only, 2 write-through, 3 normal.
    pub eol_mode: Saved<u8>,
    /// C4h: IEEE1667 silo enabled.
    pub ieee1667: Saved<bool>,
    /// C5h: latency monitor configuration.
    pub latency: Saved<LatencyMonitorConfig>,
    /// C6h: PLP health check interval, minutes.
    pub plp_interval: Saved<u16>,
    /// C7h: DSSD power state, watts.
    pub dssd_power_state: Saved<u8>,
    /// C8h: telemetry profile.
    pub telemetry_profile: Saved<u8>,
    /// C9h: Error Reporting AEN (bit 0, panic notices before 2.7) enabled.
    pub async_panic: Saved<bool>,
    /// C9h bit 1 (OCP 2.7): Media Ready AEN enabled.
    pub media_ready_aen: Saved<bool>,
    /// FID `CAh` (OCP 2.7): Idle Wake Up Time, ms (0 = disabled).
    pub idle_wake: Saved<u16>,
    /// FID `CBh` (OCP 2.7): Max PCIe Interface Configuration; `current` is what
    /// the device runs with, a Set takes effect at the next power cycle.
    pub pcie_config: Saved<u16>,
    /// The OCP version whose feature set applies.
    pub version: super::OcpVersion,
    /// Lowest valid DSSD power state, watts (C4h DCLP-8): the Maximum
    /// Power of the lowest powered NVMe power state.
    pub min_power_w: u8,
    /// Highest DSSD power state with its own NVMe power state, watts (the
    /// Maximum Power of NVMe power state 0; the default).
    pub max_power_w: u8,
    /// Maximum Power of each NVMe power state in watts, PS0 first.
    pub nvme_states_w: [u8; 3],
}

crate::persist::persist_struct!(FeatureStore {
    eol_mode,
    ieee1667,
    latency,
    plp_interval,
    dssd_power_state,
    telemetry_profile,
    async_panic,
    media_ready_aen,
    idle_wake,
    pcie_config,
    version,
    min_power_w,
    max_power_w,
    nvme_states_w,
});

impl FeatureStore {
    /// Factory defaults for a device with `cfg`'s power range.
    pub fn new(cfg: &HealthConfig, version: super::OcpVersion) -> Self {
        let nvme_states_w = super::nvme_power_states_w(cfg);
        let max = nvme_states_w[0];
        let min = nvme_states_w[2];
        FeatureStore {
            nvme_states_w,
            eol_mode: Saved::new(eol_plp::READ_ONLY),
            ieee1667: Saved::new(false),
            latency: Saved::new(LatencyMonitorConfig::default()),
            plp_interval: Saved::new(plp_interval::DEFAULT_MIN),
            dssd_power_state: Saved::new(max),
            telemetry_profile: Saved::new(0),
            // NVMe-AD-31: Error Reporting AENs enabled by default in 2.7.
            async_panic: Saved::new(version >= super::OcpVersion::V2_7),
            media_ready_aen: Saved::new(false),
            idle_wake: Saved::new(idle_wake::MIN_MS),
            pcie_config: Saved::new(pcie_config::DEVICE_MAX),
            version,
            min_power_w: min,
            max_power_w: max,
        }
    }

    /// Power cycle: saved values (else defaults) become current.
    pub fn power_cycle(&mut self) {
        self.eol_mode.power_cycle();
        self.ieee1667.power_cycle();
        self.latency.power_cycle();
        self.plp_interval.power_cycle();
        self.dssd_power_state.power_cycle();
        self.telemetry_profile.power_cycle();
        self.async_panic.power_cycle();
        self.media_ready_aen.power_cycle();
        self.idle_wake.power_cycle();
        self.pcie_config.power_cycle();
    }

    /// Whether FID `fid` exists in this drive's OCP version (`CAh` and `CBh`
    /// are OCP 2.7 features).
    pub fn exists(&self, fid: u8) -> bool {
        match fid {
            idle_wake::FID | pcie_config::FID => self.version >= super::OcpVersion::V2_7,
            _ => true,
        }
    }

    /// Get Features DW0 for the CDW11-only features.
    pub fn get(&self, fid: u8, sel: u8) -> Result<u32, FeatureError> {
        let saveable_cap = CAP_SAVEABLE | CAP_CHANGEABLE;
        match fid {
            clear_fw_history::FID | clear_pcie::FID => {
                Ok(if sel == 3 { CAP_CHANGEABLE } else { 0 })
            }
            eol_plp::FID if sel == 3 => Ok(saveable_cap),
            eol_plp::FID => Ok(eol_plp::dw0(self.eol_mode.select(sel))),
            ieee1667::FID if sel == 3 => Ok(saveable_cap),
            ieee1667::FID => Ok(ieee1667::dw0(self.ieee1667.select(sel))),
            plp_interval::FID if sel == 3 => Ok(saveable_cap),
            plp_interval::FID => Ok(plp_interval::dw0(self.plp_interval.select(sel))),
            dssd_power_state::FID if sel == 3 => Ok(saveable_cap),
            dssd_power_state::FID => Ok(u32::from(self.dssd_power_state.select(sel))),
            telemetry_profile::FID if sel == 3 => Ok(saveable_cap),
            telemetry_profile::FID => Ok(u32::from(self.telemetry_profile.select(sel))),
            async_event::FID if self.version >= super::OcpVersion::V2_7 => {
                // Not saveable (SDAEC-10): SEL 2 returns the default (GDAEC-2/3).
                if sel == 3 {
                    return Ok(CAP_CHANGEABLE);
                }
                let sel = if sel == 2 { 1 } else { sel };
                Ok(u32::from(self.async_panic.select(sel))
                    | u32::from(self.media_ready_aen.select(sel)) << 1)
            }
            async_event::FID if sel == 3 => Ok(saveable_cap),
            async_event::FID => Ok(u32::from(self.async_panic.select(sel))),
            idle_wake::FID if !self.exists(fid) => Err(FeatureError::InvalidField),
            idle_wake::FID if sel == 3 => Ok(saveable_cap),
            idle_wake::FID => Ok(u32::from(self.idle_wake.select(sel))),
            pcie_config::FID if !self.exists(fid) => Err(FeatureError::InvalidField),
            pcie_config::FID if sel == 3 => Ok(saveable_cap),
            pcie_config::FID => Ok(u32::from(self.pcie_config.select(sel))),
            _ => Err(FeatureError::InvalidField),
        }
    }

    /// Set Features for the CDW11-only features; returns DW0.
    pub fn set(&mut self, fid: u8, cdw11: u32, save: bool) -> Result<u32, FeatureError> {
        match fid {
            eol_plp::FID => {
                let m = eol_plp::parse(cdw11).unwrap_or(self.eol_mode.default);
                self.eol_mode.set(m, save);
                Ok(0)
            }
            ieee1667::FID => {
                self.ieee1667.set(ieee1667::parse(cdw11), save);
                Ok(0)
            }
            plp_interval::FID => {
                self.plp_interval.set(plp_interval::parse(cdw11), save);
                Ok(0)
            }
            dssd_power_state::FID => {
                let w = dssd_power_state::parse(cdw11, self.min_power_w)?;
                self.dssd_power_state.set(w, save);
                Ok(0)
            }
            telemetry_profile::FID => {
                let p = telemetry_profile::parse(cdw11)?;
                self.telemetry_profile.set(p, save);
                Ok(0)
            }
            async_event::FID if self.version >= super::OcpVersion::V2_7 => {
                check_not_saveable(save)?;
                self.async_panic.set(async_event::parse(cdw11), false);
                self.media_ready_aen.set(cdw11 & 2 != 0, false);
                Ok(0)
            }
            async_event::FID => {
                self.async_panic.set(async_event::parse(cdw11), save);
                Ok(0)
            }
            idle_wake::FID if self.exists(fid) => {
                self.idle_wake.set(idle_wake::parse(cdw11), save);
                Ok(0)
            }
            pcie_config::FID if self.exists(fid) => {
                // Takes effect at the next power cycle; SV is treated as 1
                // (MPCS-10, MPCS-14).
                let v = pcie_config::parse(cdw11);
                self.pcie_config.saved = Some(v);
                Ok(0)
            }
            _ => Err(FeatureError::InvalidField),
        }
    }
}

/// FID C1h Clear Firmware Update History (OCP 2.0 "Clear Firmware Update History", obsolete in 2.5
/// but still sent by `nvme ocp clear-fw-activate-history`): CDW11 bit 31 = 1
/// clears the C2h log. Not saveable; Get returns 0.
pub mod clear_fw_history {
    /// Feature identifier.
    pub const FID: u8 = 0xc1;
}

/// FID C2h EOL/PLP Failure Mode (OCP 2.0 "EOL/PLP Failure Mode"): CDW11\[31:30\] = 1 read-only
/// mode, 2 write-through mode, 3 normal mode; 0 restores the default
/// (nvme-cli: "[0-3]: default/rom/wtm/normal"). Get DW0\[1:0\] = the mode
/// (nvme-cli prints DW0 through `eol_plp_failure_mode_to_string`).
/// Saveable. The mode applies once the media reached end of life or the PLP
/// circuit failed.
pub mod eol_plp {
    /// Feature identifier.
    pub const FID: u8 = 0xc2;
    /// Read-only mode.
    pub const READ_ONLY: u8 = 1;
    /// Write-through mode.
    pub const WRITE_THROUGH: u8 = 2;
    /// Normal mode.
    pub const NORMAL: u8 = 3;

    /// The mode in CDW11, `None` for 0 (= default).
    pub fn parse(cdw11: u32) -> Option<u8> {
        match (cdw11 >> 30) as u8 {
            0 => None,
            m => Some(m),
        }
    }

    /// Get Features DW0.
    pub fn dw0(mode: u8) -> u32 {
        u32::from(mode & 3)
    }
}

/// FID C3h Clear PCIe Correctable Error Counters (OCP 2.0 "Clear PCIe Correctable Error Counters"): CDW11
/// bit 31 = 1 clears the C0h PCIe Correctable Error Count. Not saveable.
pub mod clear_pcie {
    /// Feature identifier.
    pub const FID: u8 = 0xc3;
}

/// FID C4h Enable IEEE1667 Silo (OCP 2.0 "Enable IEEE1667 Silo"): CDW11 bit 31 enables.
/// Get DW0\[2:0\] = 1 when enabled (nvme-cli `ieee1667_get_cq_entry.enabled`).
/// Saveable. The emulation has no IEEE 1667 silo behind it (see C5h): the
/// value is stored and reported, nothing else changes.
pub mod ieee1667 {
    /// Feature identifier.
    pub const FID: u8 = 0xc4;

    /// Enable bit.
    pub fn parse(cdw11: u32) -> bool {
        cdw11 & (1 << 31) != 0
    }

    /// Get Features DW0.
    pub fn dw0(enabled: bool) -> u32 {
        u32::from(enabled)
    }
}

/// FID C6h PLP Health Check Interval (OCP 2.0 "PLP Health Check Interval"): CDW11\[31:16\] =
/// interval in minutes between capacitor health checks (0 = no periodic
/// check). Get DW0\[31:16\] the same. Saveable. The C0h Capacitor Health value
/// is refreshed at each check.
pub mod plp_interval {
    /// Feature identifier.
    pub const FID: u8 = 0xc6;
    /// Default interval, minutes.
    pub const DEFAULT_MIN: u16 = 60;

    /// Interval in CDW11.
    pub fn parse(cdw11: u32) -> u16 {
        (cdw11 >> 16) as u16
    }

    /// Get Features DW0.
    pub fn dw0(minutes: u16) -> u32 {
        u32::from(minutes) << 16
    }
}

/// FID C7h DSSD Power State (OCP 2.7 section 4.15.15, SDSSDPS-14): CDW11\[6:0\] =
/// DSSD power state in watts, CDW11\[31:7\] reserved (ignored, NVMe-OPT-14).
/// Valid states are every whole watt from the C4h Minimum Valid DSSD Power
/// State (DCLP-8) to 127; lower ones fail with Invalid Field (DSSDPSS-2).
/// The device then runs at the highest powered NVMe power state whose
/// Maximum Power is at most that many watts (DSSDPSS-1, section 4.8.11), and
/// feature 02h reports that state; Set Features 02h in turn makes C7h report
/// that state's Maximum Power (DSSDPSG-2). Get DW0 = watts. Saveable
/// (SDSSDPS-10). The NVMe power state caps modelled power and heat and adds
/// latency below the maximum.
pub mod dssd_power_state {
    use super::FeatureError;
    /// Feature identifier.
    pub const FID: u8 = 0xc7;

    /// Watts in CDW11\[6:0\] if a valid DSSD power state (at least `min`).
    pub fn parse(cdw11: u32, min: u8) -> Result<u8, FeatureError> {
        let w = (cdw11 & 0x7f) as u8;
        if w < min {
            return Err(FeatureError::InvalidField);
        }
        Ok(w)
    }
}

/// FID C8h Telemetry Profile (OCP 2.5 "Telemetry Profile"): CDW11\[7:0\] = Telemetry
/// Profile Select; this device supports profiles 0 (basic statistics) and 1
/// (adds vendor statistics). Saveable (nvme-cli sets it with SV = 1).
/// Get DW0\[7:0\] = profile.
pub mod telemetry_profile {
    use super::FeatureError;
    /// Feature identifier.
    pub const FID: u8 = 0xc8;
    /// Number of telemetry profiles supported.
    pub const PROFILES: u8 = 2;

    /// Profile in CDW11 if supported.
    pub fn parse(cdw11: u32) -> Result<u8, FeatureError> {
        if cdw11 >= u32::from(PROFILES) {
            return Err(FeatureError::InvalidField);
        }
        Ok(cdw11 as u8)
    }
}

/// FID C9h DSSD Asynchronous Event Configuration (OCP 2.5 "DSSD Asynchronous Event
/// Configuration"): CDW11
/// bit 0 = Enable Panic Notices. When set, a device panic queues a vendor
/// specific asynchronous event pointing at log C1h. Get DW0 bit 0. Saveable
/// before 2.7. OCP 2.7 (section 4.15.19/20): bit 0 Enable Error Reporting
/// AENs, default 1 (NVMe-AD-31), bit 1 Enable Media Ready AENs, default 0
/// (NVMe-AD-32); not saveable (SDAEC-10: SV = 1 fails with Feature
/// Identifier Not Saveable; SEL 2 returns the default). With bit 0 set a
/// panic sends the Error Reporting AEN (DSSD-AEN-1) instead of setting
/// CSTS.CFS (SDAEC-14).
pub mod async_event {
    /// Feature identifier.
    pub const FID: u8 = 0xc9;

    /// Enable Panic Notices.
    pub fn parse(cdw11: u32) -> bool {
        cdw11 & 1 != 0
    }
}

/// FID `CAh` Idle Wake Up Time Configuration (OCP 2.7 sections 4.15.21/22):
/// CDW11\[15:0\] = the longest time in ms a 4 KiB read may take when the
/// drive wakes from low power idle; 0 disables; a non-zero value below the
/// minimum supported becomes the minimum (SIDLE-14), which is the factory
/// default (GIDLE-2). Saveable (SIDLE-10). The emulated drive has no idle
/// power mode, so it never needs that long: stored and reported.
pub mod idle_wake {
    /// Feature identifier.
    pub const FID: u8 = 0xca;
    /// Minimum supported (and default) wake up time, ms.
    pub const MIN_MS: u16 = 5;

    /// The wake up time to store for CDW11.
    pub fn parse(cdw11: u32) -> u16 {
        match cdw11 as u16 {
            0 => 0,
            t => t.max(MIN_MS),
        }
    }
}

/// FID `CBh` Max PCIe Interface Configuration (OCP 2.7 sections 4.15.23/24):
/// CDW11\[15:0\]: bit 8 factory default revert, bits 7:4 lanes (0 x1, 1 x2,
/// 2 x4, 3 x8), bits 3:0 speed (0 Gen 3 ... 4 Gen 7). Unsupported
/// combinations select the next lower supported value; the setting takes
/// effect at the next power cycle and SV is treated as 1 (MPCS-10,
/// MPCS-14). The emulated link is x4 Gen 5 at most (default 0022h); the
/// value is reported, QEMU's PCIe link registers do not change.
pub mod pcie_config {
    /// Feature identifier.
    pub const FID: u8 = 0xcb;
    /// Lanes x4 (2h), Gen 5 (2h): the device's maximum and factory default.
    pub const DEVICE_MAX: u16 = 0x22;

    /// The configuration CDW11 asks for, clamped to what the device supports.
    pub fn parse(cdw11: u32) -> u16 {
        if cdw11 & (1 << 8) != 0 {
            return DEVICE_MAX;
        }
        let lanes = ((cdw11 >> 4) & 0xf).min(2) as u16;
        let speed = (cdw11 & 0xf).min(2) as u16;
        lanes << 4 | speed
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests_common::*;
    use super::*;

    #[test]
    fn select_semantics_and_save() {
        let mut s = state();
        // Default C7h = max power.
        assert_eq!(s.get_feature(0xc7, 0, 0), Ok((25, None)));
        s.set_feature(0xc7, 15, false, &[], 0).unwrap();
        assert_eq!(s.get_feature(0xc7, 0, 0).unwrap().0, 15);
        assert_eq!(s.get_feature(0xc7, 1, 0).unwrap().0, 25);
        assert_eq!(s.get_feature(0xc7, 2, 0).unwrap().0, 25, "not saved yet");
        s.set_feature(0xc7, 12, true, &[], 0).unwrap();
        assert_eq!(s.get_feature(0xc7, 2, 0).unwrap().0, 12);
        assert_eq!(s.get_feature(0xc7, 3, 0).unwrap().0, 0b101);
        s.set_feature(0xc7, 20, false, &[], 0).unwrap();
        s.record_power_cycle(0);
        assert_eq!(s.get_feature(0xc7, 0, 0).unwrap().0, 12, "saved survives");
        assert_eq!(s.get_feature(0xc7, 4, 0), Err(FeatureError::InvalidField));
    }

    /// DSSDPSS-2: below the Minimum Valid DSSD Power State fails; every state
    /// up to 127 W is valid and runs at the highest NVMe power state that
    /// fits (DSSDPSS-1); reserved CDW11 bits are ignored (NVMe-OPT-14).
    #[test]
    fn dssdpss_1_2_dssd_power_state_validation() {
        let mut s = state();
        for w in [0, 1, 9] {
            assert_eq!(
                s.set_feature(0xc7, w, false, &[], 0),
                Err(FeatureError::InvalidField)
            );
        }
        assert_eq!(s.set_feature(0xc7, 26, false, &[], 0), Ok(0));
        assert_eq!(s.dssd_nvme_power_state(), 0);
        assert_eq!(s.get_feature(0xc7, 0, 0).unwrap().0, 26, "DSSDPSG-1");
        assert_eq!(s.set_feature(0xc7, 0x100 | 12, false, &[], 0), Ok(0));
        assert_eq!(s.get_feature(0xc7, 0, 0).unwrap().0, 12);
        assert_eq!(s.dssd_nvme_power_state(), 2);
        assert_eq!(s.set_feature(0xc7, 10, false, &[], 0), Ok(0));
        assert_eq!(s.set_feature(0xc7, 127, false, &[], 0), Ok(0));
        // DSSDPSG-2: an NVMe power state chosen with feature 02h is reported
        // as its Maximum Power.
        s.nvme_power_state_selected(1);
        assert_eq!(s.get_feature(0xc7, 0, 0).unwrap().0, 17);
        assert_eq!(s.dssd_nvme_power_state(), 1);
    }

    #[test]
    fn eol_plp_mode() {
        let mut s = state();
        assert_eq!(s.get_feature(0xc2, 0, 0).unwrap().0, 1);
        s.set_feature(0xc2, 2 << 30, true, &[], 0).unwrap();
        assert_eq!(s.get_feature(0xc2, 0, 0).unwrap().0, 2);
        assert_eq!(s.get_feature(0xc2, 2, 0).unwrap().0, 2);
        s.set_feature(0xc2, 0, false, &[], 0).unwrap();
        assert_eq!(
            s.get_feature(0xc2, 0, 0).unwrap().0,
            1,
            "0 restores default"
        );
        assert_eq!(
            s.get_feature(0xc2, 3, 0).unwrap().0,
            CAP_SAVEABLE | CAP_CHANGEABLE
        );
    }

    #[test]
    fn clear_features_not_saveable() {
        let mut s = state();
        assert_eq!(
            s.set_feature(0xc1, CLEAR_BIT, true, &[], 0),
            Err(FeatureError::FeatureNotSaveable)
        );
        assert_eq!(
            s.set_feature(0xc3, CLEAR_BIT, true, &[], 0),
            Err(FeatureError::FeatureNotSaveable)
        );
        assert_eq!(s.set_feature(0xc3, CLEAR_BIT, false, &[], 0), Ok(0));
        assert_eq!(s.get_feature(0xc1, 0, 0).unwrap().0, 0);
        assert_eq!(s.get_feature(0xc3, 3, 0).unwrap().0, CAP_CHANGEABLE);
    }

    #[test]
    fn ieee1667_plp_profile_async() {
        // C9h saveable, bit 0 only, default 0: OCP 2.5 and 2.6.
        let mut s = state_version(super::super::OcpVersion::V2_6);
        assert_eq!(s.get_feature(0xc4, 0, 0).unwrap().0, 0);
        s.set_feature(0xc4, 1 << 31, false, &[], 0).unwrap();
        assert_eq!(s.get_feature(0xc4, 0, 0).unwrap().0, 1);
        assert_eq!(s.get_feature(0xc6, 0, 0).unwrap().0, 60 << 16);
        s.set_feature(0xc6, 5 << 16, true, &[], 0).unwrap();
        assert_eq!(s.get_feature(0xc6, 2, 0).unwrap().0, 5 << 16);
        assert_eq!(
            s.set_feature(0xc8, 2, true, &[], 0),
            Err(FeatureError::InvalidField)
        );
        s.set_feature(0xc8, 1, true, &[], 0).unwrap();
        assert_eq!(s.get_feature(0xc8, 0, 0).unwrap().0, 1);
        s.set_feature(0xc9, 1, false, &[], 0).unwrap();
        assert_eq!(s.get_feature(0xc9, 0, 0).unwrap().0, 1);
        assert_eq!(s.get_feature(0xc9, 2, 0).unwrap().0, 0);
        s.record_power_cycle(0);
        assert_eq!(s.get_feature(0xc9, 0, 0).unwrap().0, 0, "not saved");
        assert_eq!(s.get_feature(0xc4, 0, 0).unwrap().0, 0);
    }

    #[test]
    #[allow(clippy::shadow_unrelated)]
    fn unknown_fid() {
        // CAh and CBh do not exist before OCP 2.7; CCh never.
        let mut s = state_version(super::super::OcpVersion::V2_6);
        for fid in [0xca, 0xcb] {
            assert!(!s.feature_supported(fid));
            assert_eq!(s.get_feature(fid, 0, 0), Err(FeatureError::InvalidField));
            assert_eq!(
                s.set_feature(fid, 0, false, &[], 0),
                Err(FeatureError::InvalidField)
            );
        }
        let mut s = state();
        assert!(!s.feature_supported(0xcc));
        assert_eq!(s.get_feature(0xcc, 0, 0), Err(FeatureError::InvalidField));
        assert_eq!(
            s.set_feature(0xcc, 0, false, &[], 0),
            Err(FeatureError::InvalidField)
        );
    }

    /// NVMe-AD-31, NVMe-AD-32, SDAEC-10, GDAEC-2, GDAEC-3: FID C9h under OCP 2.7.
    #[test]
    #[allow(clippy::shadow_unrelated)]
    fn nvme_ad_31_c9_default_enabled_not_saveable() {
        let mut s = state();
        assert_eq!(s.get_feature(0xc9, 0, 0).unwrap().0, 1, "NVMe-AD-31/32");
        assert_eq!(s.get_feature(0xc9, 1, 0).unwrap().0, 1);
        assert_eq!(s.get_feature(0xc9, 3, 0).unwrap().0, CAP_CHANGEABLE);
        assert_eq!(
            s.set_feature(0xc9, 3, true, &[], 0),
            Err(FeatureError::FeatureNotSaveable),
            "SDAEC-10"
        );
        s.set_feature(0xc9, 2, false, &[], 0).unwrap();
        assert_eq!(s.get_feature(0xc9, 0, 0).unwrap().0, 2, "GDAEC-3");
        assert_eq!(s.get_feature(0xc9, 2, 0).unwrap().0, 1, "saved = default");
        assert!(!s.error_aen_replaces_cfs());
        s.record_power_cycle(0);
        assert_eq!(s.get_feature(0xc9, 0, 0).unwrap().0, 1);
        assert!(s.error_aen_replaces_cfs());
    }

    /// SIDLE-10, SIDLE-14, GIDLE-2 (FID `CAh`); MPCS-10, MPCS-14 (FID `CBh`).
    #[test]
    #[allow(clippy::shadow_unrelated)]
    fn sidle_14_mpcs_14_features_of_2_7() {
        let mut s = state();
        assert!(s.feature_supported(0xca) && s.feature_supported(0xcb));
        let min = u32::from(idle_wake::MIN_MS);
        assert_eq!(
            s.get_feature(0xca, 1, 0).unwrap().0,
            min,
            "default = minimum"
        );
        s.set_feature(0xca, 1, false, &[], 0).unwrap();
        assert_eq!(
            s.get_feature(0xca, 0, 0).unwrap().0,
            min,
            "raised to the minimum"
        );
        s.set_feature(0xca, 0, false, &[], 0).unwrap();
        assert_eq!(s.get_feature(0xca, 0, 0).unwrap().0, 0, "disabled");
        s.set_feature(0xca, 250, true, &[], 0).unwrap();
        assert_eq!(s.get_feature(0xca, 2, 0).unwrap().0, 250);
        assert_eq!(
            s.get_feature(0xca, 3, 0).unwrap().0,
            CAP_SAVEABLE | CAP_CHANGEABLE
        );
        // CBh: x2 Gen 4 at the next power cycle, SV treated as 1.
        assert_eq!(s.get_feature(0xcb, 0, 0).unwrap().0, 0x22);
        s.set_feature(0xcb, 0x11, false, &[], 0).unwrap();
        assert_eq!(
            s.get_feature(0xcb, 0, 0).unwrap().0,
            0x22,
            "not before a power cycle"
        );
        assert_eq!(s.get_feature(0xcb, 2, 0).unwrap().0, 0x11);
        s.record_power_cycle(0);
        assert_eq!(s.get_feature(0xcb, 0, 0).unwrap().0, 0x11);
        assert_eq!(s.get_feature(0xca, 0, 0).unwrap().0, 250);
        // x8 Gen 7 is beyond the device: the next lower supported values.
        s.set_feature(0xcb, 0x34, false, &[], 0).unwrap();
        assert_eq!(s.get_feature(0xcb, 2, 0).unwrap().0, 0x22);
        // Factory default revert.
        s.set_feature(0xcb, 0x100, false, &[], 0).unwrap();
        assert_eq!(s.get_feature(0xcb, 2, 0).unwrap().0, 0x22);
    }
}
