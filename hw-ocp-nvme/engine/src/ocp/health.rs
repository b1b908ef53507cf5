// SPDX-License-Identifier: GPL-2.0-or-later
//! The simulated wear and health model behind the C0h page and the NVMe
//! SMART / Health Information log (02h).
//!
//! Real drives report NAND wear, bad blocks, spare capacity, capacitor health,
//! temperature and power from their firmware. An emulated drive has none of
//! these, so this module models them from what the device really did (host
//! bytes written and read, power-on time) plus a user-controlled starting
//! point, [`HealthConfig`]. Everything here is deterministic: the same stats
//! and times give the same values, which keeps tests and migrations simple.
//!
//! The model (all integer arithmetic, saturating, never panics):
//! - NAND bytes written = host bytes written × write amplification.
//! - Average erase count = initial wear + NAND bytes written / raw capacity;
//!   percentage used = average erase count × 100 / rated P/E cycles
//!   (OCP 2.6 SMART-xx "Percentage Used" follows NVMe Base 2.0 SMART / Health Information).
//! - Grown bad blocks rise with the square of wear (2 % of all blocks at
//!   100 % used) and eat into the spare pool (available spare).
//! - Soft ECC corrections and read-disturb refreshes grow with bytes read,
//!   scaled by wear; retention refreshes grow with power-on time.
//! - Temperature = idle temperature + heat from throughput (at most 20 K,
//!   scaled by the DSSD power state cap), smoothed over ~30 s; thermal
//!   throttling engages at the warning threshold.
//! - Power = idle power + throughput share of (max − idle), capped by the
//!   DSSD power state; energy is integrated into lifetime watt-hours.
//! - Capacitor health ages 1 % per 4380 power-on hours; the reported value is
//!   refreshed by a PLP health check every PLP Health Check Interval (FID C6h).

/// Bytes in one modelled NAND erase block (16 MiB).
pub const ERASE_BLOCK_BYTES: u64 = 16 << 20;
/// Capacitor health (percent) below which the PLP circuit counts as failed.
pub const PLP_FAILED_BELOW: u8 = 20;

/// The user-controlled starting health of the device. Every field is a QOM
/// property of the device (names in [`HealthConfig::PROPERTIES`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthConfig {
    /// Initial wear as NVMe Percentage Used (0–255; ≥ 100 means end of life).
    pub percentage_used: u8,
    /// Rated program/erase cycles of the modelled NAND (100–100000).
    pub rated_pe_cycles: u32,
    /// Write amplification in percent (100 = none; 100–2000).
    pub write_amplification_pct: u16,
    /// Initial Available Spare in percent (0–100).
    pub available_spare: u8,
    /// Available Spare Threshold in percent (0–100).
    pub available_spare_threshold: u8,
    /// Idle composite temperature in Kelvin (233–373).
    pub temperature_k: u16,
    /// Warning composite temperature threshold (WCTEMP) in Kelvin.
    pub warning_temp_k: u16,
    /// Critical composite temperature threshold (CCTEMP) in Kelvin.
    pub critical_temp_k: u16,
    /// Media and data integrity errors already on record.
    pub media_errors: u64,
    /// Bad user NAND blocks already on record.
    pub bad_user_blocks: u32,
    /// Bad system NAND blocks already on record.
    pub bad_system_blocks: u32,
    /// Capacitor (PLP) health in percent (0–100).
    pub capacitor_health: u8,
    /// Number of NAND dies (1–4096).
    pub total_media_dies: u16,
    /// Dies that may fail before the device fails (less than the die count).
    pub die_failure_tolerance: u16,
    /// Over-provisioning in percent of the user capacity (1–100).
    pub overprovisioning_pct: u8,
    /// Highest DSSD power state / max peak power in watts (1–127).
    pub max_power_w: u8,
    /// Lowest valid DSSD power state in watts (1–`max_power_w`).
    pub min_power_w: u8,
}

crate::persist::persist_struct!(HealthConfig {
    percentage_used,
    rated_pe_cycles,
    write_amplification_pct,
    available_spare,
    available_spare_threshold,
    temperature_k,
    warning_temp_k,
    critical_temp_k,
    media_errors,
    bad_user_blocks,
    bad_system_blocks,
    capacitor_health,
    total_media_dies,
    die_failure_tolerance,
    overprovisioning_pct,
    max_power_w,
    min_power_w,
});

impl Default for HealthConfig {
    fn default() -> Self {
        HealthConfig {
            percentage_used: 0,
            rated_pe_cycles: 3000,
            write_amplification_pct: 150,
            available_spare: 100,
            available_spare_threshold: 10,
            temperature_k: 313,
            warning_temp_k: 343,
            critical_temp_k: 358,
            media_errors: 0,
            bad_user_blocks: 0,
            bad_system_blocks: 0,
            capacitor_health: 100,
            total_media_dies: 32,
            die_failure_tolerance: 2,
            overprovisioning_pct: 7,
            max_power_w: 25,
            min_power_w: 10,
        }
    }
}

impl HealthConfig {
    /// Property names accepted by [`HealthConfig::set`] (and by
    /// `OcpState::set_health_property`), in the order of the fields.
    pub const PROPERTIES: [&'static str; 17] = [
        "percentage-used",
        "rated-pe-cycles",
        "write-amplification",
        "available-spare",
        "available-spare-threshold",
        "temperature",
        "warning-temperature",
        "critical-temperature",
        "media-errors",
        "bad-user-blocks",
        "bad-system-blocks",
        "capacitor-health",
        "media-dies",
        "die-failure-tolerance",
        "overprovisioning",
        "max-power",
        "min-power",
    ];

    /// Checks every property; the error is one line naming the bad one.
    pub fn validate(&self) -> Result<(), String> {
        fn range(name: &str, v: u64, lo: u64, hi: u64) -> Result<(), String> {
            if v < lo || v > hi {
                Err(format!("{name}: {v} is out of range {lo}..={hi}"))
            } else {
                Ok(())
            }
        }
        range("rated-pe-cycles", self.rated_pe_cycles.into(), 100, 100_000)?;
        range(
            "write-amplification",
            self.write_amplification_pct.into(),
            100,
            2000,
        )?;
        range("available-spare", self.available_spare.into(), 0, 100)?;
        range(
            "available-spare-threshold",
            self.available_spare_threshold.into(),
            0,
            100,
        )?;
        range("temperature", self.temperature_k.into(), 233, 373)?;
        range("warning-temperature", self.warning_temp_k.into(), 273, 400)?;
        range(
            "critical-temperature",
            self.critical_temp_k.into(),
            u64::from(self.warning_temp_k) + 1,
            420,
        )?;
        range("capacitor-health", self.capacitor_health.into(), 0, 100)?;
        range("media-dies", self.total_media_dies.into(), 1, 4096)?;
        range(
            "die-failure-tolerance",
            self.die_failure_tolerance.into(),
            0,
            u64::from(self.total_media_dies) - 1,
        )?;
        range("overprovisioning", self.overprovisioning_pct.into(), 1, 100)?;
        range("max-power", self.max_power_w.into(), 1, 127)?;
        range(
            "min-power",
            self.min_power_w.into(),
            1,
            self.max_power_w.into(),
        )?;
        Ok(())
    }

    /// Reads one property by name (for QOM getters); `None` if unknown.
    pub fn get(&self, name: &str) -> Option<u64> {
        Some(match name {
            "percentage-used" => self.percentage_used.into(),
            "rated-pe-cycles" => self.rated_pe_cycles.into(),
            "write-amplification" => self.write_amplification_pct.into(),
            "available-spare" => self.available_spare.into(),
            "available-spare-threshold" => self.available_spare_threshold.into(),
            "temperature" => self.temperature_k.into(),
            "warning-temperature" => self.warning_temp_k.into(),
            "critical-temperature" => self.critical_temp_k.into(),
            "media-errors" => self.media_errors,
            "bad-user-blocks" => self.bad_user_blocks.into(),
            "bad-system-blocks" => self.bad_system_blocks.into(),
            "capacitor-health" => self.capacitor_health.into(),
            "media-dies" => self.total_media_dies.into(),
            "die-failure-tolerance" => self.die_failure_tolerance.into(),
            "overprovisioning" => self.overprovisioning_pct.into(),
            "max-power" => self.max_power_w.into(),
            "min-power" => self.min_power_w.into(),
            _ => return None,
        })
    }

    /// Sets one property by name (as a QOM property would), validating the
    /// whole configuration; on error nothing changes.
    pub fn set(&mut self, name: &str, value: u64) -> Result<(), String> {
        fn fit<T: TryFrom<u64>>(name: &str, v: u64) -> Result<T, String> {
            T::try_from(v).map_err(|_| format!("{name}: {v} does not fit the property"))
        }
        let mut c = *self;
        match name {
            "percentage-used" => c.percentage_used = fit(name, value)?,
            "rated-pe-cycles" => c.rated_pe_cycles = fit(name, value)?,
            "write-amplification" => c.write_amplification_pct = fit(name, value)?,
            "available-spare" => c.available_spare = fit(name, value)?,
            "available-spare-threshold" => c.available_spare_threshold = fit(name, value)?,
            "temperature" => c.temperature_k = fit(name, value)?,
            "warning-temperature" => c.warning_temp_k = fit(name, value)?,
            "critical-temperature" => c.critical_temp_k = fit(name, value)?,
            "media-errors" => c.media_errors = value,
            "bad-user-blocks" => c.bad_user_blocks = fit(name, value)?,
            "bad-system-blocks" => c.bad_system_blocks = fit(name, value)?,
            "capacitor-health" => c.capacitor_health = fit(name, value)?,
            "media-dies" => c.total_media_dies = fit(name, value)?,
            "die-failure-tolerance" => c.die_failure_tolerance = fit(name, value)?,
            "overprovisioning" => c.overprovisioning_pct = fit(name, value)?,
            "max-power" => c.max_power_w = fit(name, value)?,
            "min-power" => c.min_power_w = fit(name, value)?,
            _ => return Err(format!("{name}: no such health property")),
        }
        c.validate()?;
        *self = c;
        Ok(())
    }
}

/// What the model needs from the engine's measurements at each step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HealthInputs {
    /// Total host bytes written since manufacture.
    pub host_bytes_written: u128,
    /// Total host bytes read since manufacture.
    pub host_bytes_read: u128,
    /// Power-on time in seconds.
    pub power_on_seconds: u64,
    /// Current DSSD power state cap in watts.
    pub power_cap_w: u8,
    /// PLP health check interval (FID C6h) in minutes; 0 = no periodic check.
    pub plp_check_interval_min: u16,
}

/// The evolving health state. Plain data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthModel {
    /// The configuration (user-controlled starting point, runtime setters).
    pub cfg: HealthConfig,
    raw_capacity: u64,
    total_blocks: u64,
    spare_blocks: u64,
    /// Initial wear in thousandths of an erase cycle.
    initial_erase_milli: u128,
    last_host_written: Option<u128>,
    last_host_read: Option<u128>,
    last_ns: Option<u64>,
    nand_written: u128,
    nand_read: u128,
    heat_mk: u32,
    max_temp_k: u16,
    throttling: bool,
    throttle_events: u8,
    forced_throttle: Option<bool>,
    forced_critical: bool,
    over_warning_ns: u64,
    over_critical_ns: u64,
    cap_reported: u8,
    cap_defect: bool,
    last_plp_check_ns: u64,
    energy_mws: u128,
    last_power_mw: u32,
    max_avg_power_w: u16,
    /// (Available Spare set at runtime, grown bad blocks at that time).
    spare_override: Option<(u8, u64)>,
    /// Injected: Available Spare held below its threshold (EVTDEF-34).
    forced_spare_low: bool,
    /// Injected: the volatile memory backup device failed (EVTDEF-35).
    forced_backup_failure: bool,
    temp_events: Vec<TempEvent>,
}

crate::persist::persist_struct!(HealthModel {
    cfg,
    raw_capacity,
    total_blocks,
    spare_blocks,
    initial_erase_milli,
    last_host_written,
    last_host_read,
    last_ns,
    nand_written,
    nand_read,
    heat_mk,
    max_temp_k,
    throttling,
    throttle_events,
    forced_throttle,
    forced_critical,
    over_warning_ns,
    over_critical_ns,
    cap_reported,
    cap_defect,
    last_plp_check_ns,
    energy_mws,
    last_power_mw,
    max_avg_power_w,
    spare_override,
    forced_spare_low,
    forced_backup_failure,
    temp_events,
});

/// Temperature crossings reported to the telemetry event FIFO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TempEvent {
    /// Composite temperature dropped below WCTEMP − 2.
    Decrease,
    /// Composite temperature rose to WCTEMP.
    Warning,
    /// Composite temperature rose to CCTEMP.
    Critical,
}

crate::persist::persist_enum!(TempEvent {
    Decrease = 0,
    Warning = 1,
    Critical = 2
});

impl HealthModel {
    /// A model for a device of `capacity_bytes` user capacity.
    pub fn new(cfg: &HealthConfig, capacity_bytes: u64) -> Self {
        let op = u64::from(cfg.overprovisioning_pct.max(1));
        let raw = capacity_bytes
            .saturating_add(capacity_bytes / 100 * op)
            .max(ERASE_BLOCK_BYTES * 64);
        let total_blocks = raw / ERASE_BLOCK_BYTES;
        let spare_blocks = (total_blocks * op / (100 + op)).max(1);
        let mut m = HealthModel {
            cfg: *cfg,
            raw_capacity: raw,
            total_blocks,
            spare_blocks,
            initial_erase_milli: 0,
            last_host_written: None,
            last_host_read: None,
            last_ns: None,
            nand_written: 0,
            nand_read: 0,
            heat_mk: 0,
            max_temp_k: cfg.temperature_k,
            throttling: false,
            throttle_events: 0,
            forced_throttle: None,
            forced_critical: false,
            over_warning_ns: 0,
            over_critical_ns: 0,
            cap_reported: cfg.capacitor_health,
            cap_defect: false,
            last_plp_check_ns: 0,
            energy_mws: 0,
            last_power_mw: u32::from(cfg.min_power_w) * 1000,
            max_avg_power_w: 0,
            spare_override: None,
            forced_spare_low: false,
            forced_backup_failure: false,
            temp_events: Vec::new(),
        };
        m.set_percentage_used(cfg.percentage_used);
        m
    }

    /// Modelled NAND erase blocks in total.
    pub fn total_blocks(&self) -> u64 {
        self.total_blocks
    }

    /// Modelled spare blocks.
    pub fn spare_blocks(&self) -> u64 {
        self.spare_blocks
    }

    /// Sets the wear so that Percentage Used reads `pct` now.
    pub fn set_percentage_used(&mut self, pct: u8) {
        let target = u128::from(pct) * u128::from(self.cfg.rated_pe_cycles) * 10;
        let from_writes = self.erase_milli_from_writes();
        self.initial_erase_milli = target.saturating_sub(from_writes);
        self.cfg.percentage_used = pct;
    }

    /// Applies a runtime property change (validated); see
    /// [`HealthConfig::PROPERTIES`].
    pub fn set_property(&mut self, name: &str, value: u64) -> Result<(), String> {
        let mut cfg = self.cfg;
        cfg.set(name, value)?;
        self.cfg = cfg;
        match name {
            "percentage-used" => self.set_percentage_used(cfg.percentage_used),
            "available-spare" => {
                self.spare_override = Some((cfg.available_spare, self.grown_bad_blocks()))
            }
            "capacitor-health" => {
                self.cap_reported = cfg.capacitor_health;
                self.cap_defect = false;
            }
            "temperature" => self.forced_critical = false,
            _ => {}
        }
        Ok(())
    }

    fn erase_milli_from_writes(&self) -> u128 {
        self.nand_written.saturating_mul(1000) / u128::from(self.raw_capacity.max(1))
    }

    /// Average erase count in thousandths.
    pub fn avg_erase_milli(&self) -> u128 {
        self.initial_erase_milli
            .saturating_add(self.erase_milli_from_writes())
    }

    /// Average NAND erase count.
    pub fn avg_erase_count(&self) -> u64 {
        u64::try_from(self.avg_erase_milli() / 1000).unwrap_or(u64::MAX)
    }

    /// Maximum user-data erase count (wear levelling keeps it within 1/8).
    pub fn max_erase_count(&self) -> u32 {
        let a = self.avg_erase_count();
        u32::try_from(a.saturating_add(a / 8).saturating_add(u64::from(a > 0))).unwrap_or(u32::MAX)
    }

    /// Minimum user-data erase count.
    pub fn min_erase_count(&self) -> u32 {
        let a = self.avg_erase_count();
        u32::try_from(a - a / 8).unwrap_or(u32::MAX)
    }

    /// NVMe Percentage Used (saturates at 255).
    pub fn percentage_used(&self) -> u8 {
        let p = self.avg_erase_milli() / (u128::from(self.cfg.rated_pe_cycles.max(1)) * 10);
        u8::try_from(p).unwrap_or(255)
    }

    fn grown_bad_blocks(&self) -> u64 {
        let p = u64::from(self.percentage_used().min(200));
        self.total_blocks.saturating_mul(p * p) / 500_000
    }

    /// Bad user NAND blocks (raw count).
    pub fn bad_user_blocks(&self) -> u64 {
        u64::from(self.cfg.bad_user_blocks) + self.grown_bad_blocks()
    }

    /// Bad user NAND blocks, normalized (100 = none of the spare pool used).
    pub fn bad_user_normalized(&self) -> u16 {
        let used = self.bad_user_blocks().saturating_mul(100) / self.spare_blocks;
        100u16.saturating_sub(u16::try_from(used).unwrap_or(u16::MAX))
    }

    /// Bad system NAND blocks (raw count).
    pub fn bad_system_blocks(&self) -> u64 {
        u64::from(self.cfg.bad_system_blocks) + self.grown_bad_blocks() / 8
    }

    /// Bad system NAND blocks, normalized.
    pub fn bad_system_normalized(&self) -> u16 {
        let sys_spare = (self.spare_blocks / 8).max(1);
        let used = self.bad_system_blocks().saturating_mul(100) / sys_spare;
        100u16.saturating_sub(u16::try_from(used).unwrap_or(u16::MAX))
    }

    /// NVMe Available Spare in percent.
    pub fn available_spare(&self) -> u8 {
        let (base, grown_before) = self.spare_override.unwrap_or((self.cfg.available_spare, 0));
        let grown = self.grown_bad_blocks().saturating_sub(grown_before);
        let used = grown.saturating_mul(100) / self.spare_blocks;
        let spare = base.saturating_sub(u8::try_from(used).unwrap_or(u8::MAX));
        if self.forced_spare_low {
            spare.min(self.cfg.available_spare_threshold.saturating_sub(1))
        } else {
            spare
        }
    }

    /// Forces Available Spare (error injection "no more NAND spares").
    pub fn force_spare(&mut self, v: u8) {
        self.spare_override = Some((v.min(100), self.grown_bad_blocks()));
    }

    /// Holds Available Spare below its threshold (error injection 21h).
    pub fn force_spare_below_threshold(&mut self) {
        self.forced_spare_low = true;
    }

    /// Fails the volatile memory backup device (error injection 22h).
    pub fn force_backup_failure(&mut self) {
        self.forced_backup_failure = true;
    }

    /// Whether the volatile memory backup device failed: the PLP circuit
    /// failed or a failure was injected (Critical Warning bit 4).
    pub fn backup_failed(&self) -> bool {
        self.plp_failed() || self.forced_backup_failure
    }

    /// The host exits event injection (SERRI-14): injected recovery type 3
    /// conditions end (EVTREC-3).
    pub fn clear_injected_conditions(&mut self) {
        self.forced_spare_low = false;
        self.forced_backup_failure = false;
    }

    /// System data percent used (system area wears at half the rate).
    pub fn system_data_used_pct(&self) -> u8 {
        (self.percentage_used() / 2).min(100)
    }

    /// Percent of NAND blocks free (not holding valid user data).
    pub fn percent_free_blocks(&self, used_bytes: u64) -> u8 {
        let free = self.raw_capacity.saturating_sub(used_bytes);
        u8::try_from(u128::from(free) * 100 / u128::from(self.raw_capacity.max(1))).unwrap_or(100)
    }

    /// Total NAND bytes written (physical media units written, in bytes).
    pub fn nand_bytes_written(&self) -> u128 {
        self.nand_written
    }

    /// NAND bytes written counting host writes since the last advance at
    /// the configured write amplification: the current value of the
    /// counter, read without advancing the model (SLOG-6).
    pub fn nand_bytes_written_now(&self, host_bytes_written: u128) -> u128 {
        // Before the first advance everything so far counts, as there.
        let d = match self.last_host_written {
            Some(l) => host_bytes_written.saturating_sub(l),
            None => host_bytes_written,
        };
        self.nand_written
            .saturating_add(d.saturating_mul(u128::from(self.cfg.write_amplification_pct)) / 100)
    }

    /// NAND bytes read counting host reads since the last advance (SLOG-6).
    pub fn nand_bytes_read_now(&self, host_bytes_read: u128) -> u128 {
        match self.last_host_read {
            Some(l) => self
                .nand_read
                .saturating_add(host_bytes_read.saturating_sub(l)),
            None => host_bytes_read,
        }
    }

    /// Total NAND bytes read.
    pub fn nand_bytes_read(&self) -> u128 {
        self.nand_read
    }

    /// Soft ECC corrections: one per GiB read, scaled by wear.
    pub fn soft_ecc_errors(&self) -> u64 {
        let gib = u64::try_from(self.nand_read >> 30).unwrap_or(u64::MAX);
        gib.saturating_mul(10 + u64::from(self.percentage_used())) / 10
    }

    /// Refreshes: read-disturb (one per 64 GiB read) plus retention (one a day
    /// of power-on time, faster when worn).
    pub fn refresh_count(&self, power_on_seconds: u64) -> u64 {
        let disturb = u64::try_from(self.nand_read >> 36).unwrap_or(u64::MAX);
        let retention =
            (power_on_seconds / 86_400).saturating_mul(1 + u64::from(self.percentage_used()) / 25);
        disturb.saturating_add(retention)
    }

    /// Endurance estimate in bytes: what can be written over the lifetime
    /// at the modelled write amplification.
    pub fn endurance_estimate(&self) -> u128 {
        u128::from(self.raw_capacity) * u128::from(self.cfg.rated_pe_cycles) * 100
            / u128::from(self.cfg.write_amplification_pct.max(100))
    }

    /// Composite temperature in Kelvin.
    pub fn temperature_k(&self) -> u16 {
        if self.forced_critical {
            return self.cfg.critical_temp_k.saturating_add(1);
        }
        let heat = u16::try_from(self.heat_mk / 1000).unwrap_or(u16::MAX);
        self.cfg.temperature_k.saturating_add(heat)
    }

    /// Forces the temperature over CCTEMP (error injection 21).
    pub fn force_critical_temperature(&mut self) {
        self.forced_critical = true;
        self.update_thermal();
    }

    /// Forces thermal throttling on or off (error injection 19/20).
    pub fn force_throttle(&mut self, on: bool) {
        self.forced_throttle = Some(on);
        self.update_thermal();
    }

    /// Highest composite temperature seen, Kelvin.
    pub fn max_temperature_k(&self) -> u16 {
        self.max_temp_k
    }

    /// Whether the device is thermally throttling.
    pub fn throttling(&self) -> bool {
        self.throttling
    }

    /// OCP current throttling status: 0 none, 1 light (≥ WCTEMP or forced),
    /// 2 heavy (≥ CCTEMP).
    pub fn throttling_status(&self) -> u8 {
        if !self.throttling {
            0
        } else if self.temperature_k() >= self.cfg.critical_temp_k {
            2
        } else {
            1
        }
    }

    /// Thermal throttling events (saturating at 255).
    pub fn throttle_events(&self) -> u8 {
        self.throttle_events
    }

    /// Minutes spent at or above WCTEMP and CCTEMP.
    pub fn temperature_time_min(&self) -> (u32, u32) {
        let m = |ns: u64| u32::try_from(ns / 60_000_000_000).unwrap_or(u32::MAX);
        (m(self.over_warning_ns), m(self.over_critical_ns))
    }

    /// Capacitor health as last measured by a PLP health check (percent).
    pub fn capacitor_health(&self) -> u8 {
        self.cap_reported
    }

    /// Breaks the PLP circuit (error injection 3 "PLP defect").
    pub fn plp_defect(&mut self) {
        self.cap_defect = true;
        self.cap_reported = 0;
    }

    /// Whether the PLP circuit counts as failed.
    pub fn plp_failed(&self) -> bool {
        self.cap_defect || self.cap_reported < PLP_FAILED_BELOW
    }

    /// Whether the media reached end of life: Available Spare is 0 % (EOL-5).
    /// Wear alone (Percentage Used at or past 100 %) or spare below the
    /// threshold keeps the drive read/write (EOL-4).
    pub fn end_of_life(&self) -> bool {
        self.available_spare() == 0
    }

    /// Current average power in watts (last interval).
    pub fn current_power_w(&self) -> u16 {
        u16::try_from(self.last_power_mw.div_ceil(1000)).unwrap_or(u16::MAX)
    }

    /// Highest per-interval average power since power-on, watts.
    pub fn max_avg_power_w(&self) -> u16 {
        self.max_avg_power_w.max(self.current_power_w())
    }

    /// Lifetime energy in watt-hours.
    pub fn lifetime_wh(&self) -> u64 {
        u64::try_from(self.energy_mws / 3_600_000).unwrap_or(u64::MAX)
    }

    /// Lifetime energy in watt-hours rounded up (NVMe 2.1 SMART OLEC: 2
    /// means more than 1 and at most 2 Wh).
    pub fn lifetime_wh_rounded_up(&self) -> u64 {
        u64::try_from(self.energy_mws.div_ceil(3_600_000)).unwrap_or(u64::MAX)
    }

    /// Average power of the last interval in units of 0.01 W, at least 1
    /// (a powered drive draws power; SLOG-14 wants a non-zero value).
    pub fn interval_power_cw(&self) -> u16 {
        u16::try_from(self.last_power_mw.div_ceil(10))
            .unwrap_or(u16::MAX)
            .max(1)
    }

    /// Temperature crossings since the last call (for the event FIFO).
    pub fn take_temp_events(&mut self) -> Vec<TempEvent> {
        std::mem::take(&mut self.temp_events)
    }

    /// Power cycle: per-power-on maxima restart, forced conditions clear.
    pub fn power_cycle(&mut self) {
        self.max_avg_power_w = 0;
        self.heat_mk = 0;
        self.forced_throttle = None;
        self.forced_critical = false;
        self.clear_injected_conditions();
        self.last_ns = None;
        self.update_thermal();
    }

    fn update_thermal(&mut self) {
        let t = self.temperature_k();
        let was = self.throttling;
        let warn = self.cfg.warning_temp_k;
        self.throttling = match self.forced_throttle {
            Some(f) => f || t >= self.cfg.critical_temp_k,
            None if t >= warn => true,
            None if was && t + 2 > warn => true,
            None => false,
        };
        if self.throttling && !was {
            self.throttle_events = self.throttle_events.saturating_add(1);
        }
        let prev_max = self.max_temp_k;
        if t > prev_max {
            if t >= self.cfg.critical_temp_k && prev_max < self.cfg.critical_temp_k {
                self.temp_events.push(TempEvent::Critical);
            } else if t >= warn && prev_max < warn {
                self.temp_events.push(TempEvent::Warning);
            }
            self.max_temp_k = t;
        }
        if was && !self.throttling {
            self.temp_events.push(TempEvent::Decrease);
        }
    }

    /// Evolves the model to `now_ns` with the engine's cumulative counters.
    pub fn advance(&mut self, inp: &HealthInputs, now_ns: u64) {
        let dw = match self.last_host_written {
            Some(l) => inp.host_bytes_written.saturating_sub(l),
            None => 0,
        };
        let dr = match self.last_host_read {
            Some(l) => inp.host_bytes_read.saturating_sub(l),
            None => 0,
        };
        let first = self.last_host_written.is_none();
        self.last_host_written = Some(inp.host_bytes_written);
        self.last_host_read = Some(inp.host_bytes_read);
        if first {
            // History before the model existed counts once, at WA.
            self.nand_written = inp
                .host_bytes_written
                .saturating_mul(u128::from(self.cfg.write_amplification_pct))
                / 100;
            self.nand_read = inp.host_bytes_read;
        } else {
            let amp = dw.saturating_mul(u128::from(self.cfg.write_amplification_pct)) / 100;
            self.nand_written = self.nand_written.saturating_add(amp);
            self.nand_read = self.nand_read.saturating_add(dr);
        }
        let dt = match self.last_ns {
            Some(l) => now_ns.saturating_sub(l),
            None => 0,
        };
        self.last_ns = Some(now_ns);
        let cap_w = u64::from(inp.power_cap_w.clamp(1, self.cfg.max_power_w));
        if dt > 0 {
            // Throughput in bytes/s, heat target in milli-Kelvin.
            let bps = u64::try_from(
                (dw.saturating_add(dr)).saturating_mul(1_000_000_000) / u128::from(dt),
            )
            .unwrap_or(u64::MAX);
            let full = 3_000_000_000u64; // 3 GB/s = full load
            let load_pm = (bps.min(full) * 1000 / full).max(1); // per mille
            let max_w = u64::from(self.cfg.max_power_w);
            let target_mk = 20_000 * load_pm / 1000 * cap_w / max_w;
            let alpha_pm = (dt / 30_000_000).min(1000); // dt / 30 s, per mille
            let heat = i64::from(self.heat_mk);
            let delta = (i64::try_from(target_mk).unwrap_or(0) - heat)
                * i64::try_from(alpha_pm).unwrap_or(0)
                / 1000;
            self.heat_mk = u32::try_from((heat + delta).max(0)).unwrap_or(0);
            // Power.
            let idle_mw = u64::from(self.cfg.min_power_w) * 1000 / 2;
            let p_mw = (idle_mw + (max_w * 1000 - idle_mw) * load_pm / 1000).min(cap_w * 1000);
            self.last_power_mw = u32::try_from(p_mw).unwrap_or(u32::MAX);
            self.max_avg_power_w = self.max_avg_power_w.max(self.current_power_w());
            self.energy_mws = self
                .energy_mws
                .saturating_add(u128::from(p_mw) * u128::from(dt) / 1_000_000_000);
            let t = self.temperature_k();
            if t >= self.cfg.warning_temp_k {
                self.over_warning_ns = self.over_warning_ns.saturating_add(dt);
            }
            if t >= self.cfg.critical_temp_k {
                self.over_critical_ns = self.over_critical_ns.saturating_add(dt);
            }
        }
        self.update_thermal();
        // Capacitor ageing and PLP health checks.
        let interval_ns = u64::from(inp.plp_check_interval_min) * 60_000_000_000;
        if interval_ns > 0 && now_ns.saturating_sub(self.last_plp_check_ns) >= interval_ns {
            self.plp_health_check(inp.power_on_seconds, now_ns);
        }
    }

    /// Runs a PLP health check now: the reported capacitor health becomes the
    /// aged value (1 % per 4380 power-on hours), or 0 after a PLP defect.
    pub fn plp_health_check(&mut self, power_on_seconds: u64, now_ns: u64) {
        self.last_plp_check_ns = now_ns;
        let aged = u8::try_from(power_on_seconds / (4380 * 3600)).unwrap_or(u8::MAX);
        self.cap_reported = if self.cap_defect {
            0
        } else {
            self.cfg.capacitor_health.saturating_sub(aged)
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1 << 30;

    fn inputs(w: u128, r: u128) -> HealthInputs {
        HealthInputs {
            host_bytes_written: w,
            host_bytes_read: r,
            power_on_seconds: 0,
            power_cap_w: 25,
            plp_check_interval_min: 60,
        }
    }

    #[test]
    fn default_config_is_valid() {
        assert_eq!(HealthConfig::default().validate(), Ok(()));
    }

    #[test]
    fn validation_names_the_bad_property() {
        let mut c = HealthConfig {
            available_spare: 101,
            ..HealthConfig::default()
        };
        let e = c.validate().unwrap_err();
        assert!(e.starts_with("available-spare:"), "{e}");
        assert!(!e.contains('\n'));
        c.available_spare = 100;
        c.critical_temp_k = c.warning_temp_k;
        assert!(c
            .validate()
            .unwrap_err()
            .starts_with("critical-temperature:"));
        let mut c2 = HealthConfig::default();
        assert!(c2
            .set("min-power", 26)
            .unwrap_err()
            .starts_with("min-power:"));
        assert!(c2
            .set("percentage-used", 300)
            .unwrap_err()
            .starts_with("percentage-used:"));
        assert!(c2.set("bogus", 1).unwrap_err().starts_with("bogus:"));
        assert_eq!(c2, HealthConfig::default());
        c2.set("temperature", 320).unwrap();
        assert_eq!(c2.temperature_k, 320);
        // Every property reads back what was set.
        for name in HealthConfig::PROPERTIES {
            let v = c2.get(name).unwrap();
            let mut d = c2;
            d.set(name, v).unwrap();
            assert_eq!(d, c2, "{name}");
        }
        assert_eq!(c2.get("bogus"), None);
    }

    #[test]
    fn wear_follows_writes() {
        let cfg = HealthConfig {
            rated_pe_cycles: 100,
            write_amplification_pct: 100,
            ..HealthConfig::default()
        };
        let mut m = HealthModel::new(&cfg, 64 * GIB);
        m.advance(&inputs(0, 0), 0);
        assert_eq!(m.percentage_used(), 0);
        let raw = u128::from(m.raw_capacity);
        // 50 full drive writes = 50 % of 100 P/E cycles.
        m.advance(&inputs(raw * 50, 0), 1_000_000_000);
        assert_eq!(m.avg_erase_count(), 50);
        assert_eq!(m.percentage_used(), 50);
        assert!(m.max_erase_count() > 50 && m.min_erase_count() < 50);
        assert!(m.bad_user_blocks() > 0);
        assert!(m.available_spare() < 100);
        assert!(!m.end_of_life());
        m.advance(&inputs(raw * 100, 0), 2_000_000_000);
        assert_eq!(m.percentage_used(), 100);
        // EOL-4: worn out but spare left: still read/write.
        assert!(m.available_spare() > 0);
        assert!(!m.end_of_life());
    }

    #[test]
    fn initial_wear_and_setter() {
        let cfg = HealthConfig {
            percentage_used: 40,
            ..HealthConfig::default()
        };
        let mut m = HealthModel::new(&cfg, 64 * GIB);
        assert_eq!(m.percentage_used(), 40);
        assert_eq!(m.avg_erase_count(), 1200);
        m.set_property("percentage-used", 90).unwrap();
        assert_eq!(m.percentage_used(), 90);
        m.set_property("available-spare", 3).unwrap();
        assert_eq!(m.available_spare(), 3);
        assert!(!m.end_of_life(), "EOL-4: below the threshold is not EOL");
        m.set_property("available-spare", 0).unwrap();
        assert!(m.end_of_life(), "EOL-5: spare 0 %");
        assert!(m.set_property("available-spare", 101).is_err());
        assert_eq!(m.available_spare(), 0);
        // Wear keeps eating into a spare set at runtime.
        m.set_property("available-spare", 50).unwrap();
        let raw = u128::from(m.raw_capacity);
        m.advance(&inputs(0, 0), 0);
        m.advance(&inputs(raw * 100, 0), 1);
        assert!(m.available_spare() < 50);
    }

    #[test]
    fn temperature_rises_with_load_and_throttles() {
        let cfg = HealthConfig {
            temperature_k: 330,
            warning_temp_k: 343,
            ..HealthConfig::default()
        };
        let mut m = HealthModel::new(&cfg, 64 * GIB);
        m.advance(&inputs(0, 0), 0);
        assert_eq!(m.temperature_k(), 330);
        // 3 GB/s for 60 s: +20 K.
        let mut w = 0u128;
        for i in 1..=4u64 {
            w += 3_000_000_000u128 * 30;
            m.advance(&inputs(w, 0), i * 30_000_000_000);
        }
        assert!(m.temperature_k() >= 343, "{}", m.temperature_k());
        assert!(m.throttling());
        assert_eq!(m.throttle_events(), 1);
        assert!(m.max_temperature_k() >= 343);
        assert!(m.take_temp_events().contains(&TempEvent::Warning));
        // Idle again: cools down, throttling ends.
        for i in 5..=12u64 {
            m.advance(&inputs(w, 0), i * 30_000_000_000);
        }
        assert!(!m.throttling());
        assert_eq!(m.throttle_events(), 1);
        assert!(m.lifetime_wh() > 0);
    }

    #[test]
    fn capacitor_ages_at_health_checks() {
        let mut m = HealthModel::new(&HealthConfig::default(), GIB);
        let mut i = inputs(0, 0);
        i.power_on_seconds = 4380 * 3600 * 3;
        m.advance(&i, 30 * 60_000_000_000);
        assert_eq!(m.capacitor_health(), 100, "no check before the interval");
        m.advance(&i, 61 * 60_000_000_000);
        assert_eq!(m.capacitor_health(), 97);
        m.plp_defect();
        assert!(m.plp_failed());
    }
}
