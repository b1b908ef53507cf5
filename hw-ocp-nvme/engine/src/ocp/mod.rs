// SPDX-License-Identifier: GPL-2.0-or-later
//! OCP Datacenter NVMe SSD log pages, features and health model.
//!
//! This module is pure data and arithmetic: it knows nothing of queues,
//! PRPs or QEMU, and depends on no other engine module. The engine owns one
//! [`OcpState`] per controller and calls it at the points listed below.
//! All state is plain data (no trait objects, `Rc` or closures) so that it
//! can be migrated later.
//!
//! # What the engine calls, and when
//!
//! | engine event | call |
//! |---|---|
//! | device realize | [`HealthConfig::validate`], then [`OcpState::new`] |
//! | Get Log Page, LID C0h–C7h, C9h (UUID index 0 or the OCP UUID's) | [`OcpState::log_page`] → whole page; the engine applies LPO, NUMD and RAE |
//! | Get Log Page 07h with "create" / 08h | [`OcpState::telemetry_log`] → whole log (header + Data Area 1), or [`OcpState::telemetry_data_area1`] alone (multiple of 512 bytes: set DA1LB = DA2LB = DA3LB = len / 512, nvme-cli reads up to DA3LB) |
//! | Get / Set Features FID C0h–C9h | [`OcpState::feature_data_len`] to size the transfer, then [`OcpState::get_feature`] / [`OcpState::set_feature`] |
//! | before executing any command | [`OcpState::injection`] → status to fail with, added latency, timeout, panic (set CSTS.CFS) |
//! | I/O completion (read, write, deallocate) | [`OcpState::record_latency`] |
//! | Firmware Commit | [`OcpState::record_fw_commit`] |
//! | Set Features Timestamp (0Eh) | [`OcpState::set_timestamp`] |
//! | controller reset (CC.EN 1→0, NSSR) | [`OcpState::record_controller_reset`] (clears CFS) |
//! | power cycle / device reset | [`OcpState::record_power_cycle`] |
//! | AER slot available | [`OcpState::take_async_event`] (panic notices, FID C9h) |
//! | periodic (e.g. each second) and SMART 02h reads | [`OcpState::advance`], [`OcpState::smart_log`] |
//! | QMP qom-set of a health property | [`OcpState::set_health_property`] (through `Controller::set_health_property`) |
//!
//! For host-initiated telemetry the engine calls [`OcpState::telemetry_log`]
//! when the host sets "Create Telemetry Host-Initiated Data" and serves
//! later chunks (LPO) from that snapshot.
//!
//! `Identify Controller` should advertise the UUID list (CNS 17h) with
//! [`OCP_UUID`]; OCP commands sent with UUID index 0 work identically.
//! [`OcpState::critical_warning`], [`OcpState::temperature_k`],
//! [`OcpState::write_policy`] and [`OcpState::cfs`] feed the engine's SMART,
//! VWC and CSTS.
//!
//! # Modules (one per log page or feature)
//! C0h [`smart_ext`], C1h [`error_recovery`], C2h [`fw_history`],
//! C3h [`latency`] (and feature C5h), C4h [`capabilities`],
//! C5h [`unsupported`], C6h [`hw_component`], C7h [`tcg`],
//! C9h and Data Area 1 [`telemetry`], feature C0h [`error_injection`],
//! features C1h–C4h and C6h–C9h [`features`], NVMe SMART 02h [`smart`],
//! the model [`health`]; pages are written with [`crate::wire`].

pub mod capabilities;
pub mod endurance;
pub mod error_injection;
pub mod error_recovery;
pub mod features;
pub mod fw_history;
pub mod health;
pub mod hw_component;
pub mod latency;
pub mod smart;
pub mod smart_ext;
pub mod tcg;
pub mod telemetry;
pub mod unsupported;

pub use health::{HealthConfig, HealthModel};

/// The OCP UUID `c194d55b-e094-4794-a21d-29998f56be6f`, in the byte order in
/// which it appears in the Identify UUID List (CNS 17h) and in which
/// nvme-cli (`plugins/ocp/ocp-utils.c`, `ocp_uuid`) compares it.
pub const OCP_UUID: [u8; 16] = [
    0xc1, 0x94, 0xd5, 0x5b, 0xe0, 0x94, 0x47, 0x94, 0xa2, 0x1d, 0x29, 0x99, 0x8f, 0x56, 0xbe, 0x6f,
];

/// The UUID index of [`OCP_UUID`] when the engine lists it first in the
/// Identify UUID List (nvme-cli uses the entry's position + 1). Commands with
/// UUID index 0 must be accepted too.
pub const OCP_UUID_INDEX: u8 = 1;

/// Log identifiers served by [`OcpState::log_page`].
pub const LOG_IDS: [u8; 9] = [0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc9];
/// Feature identifiers served by [`OcpState::get_feature`] / [`OcpState::set_feature`].
pub const FEATURE_IDS: [u8; 12] = [
    0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb,
];

/// Why a Get/Set Features of an OCP feature failed. Map with
/// [`FeatureError::sct_sc`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatureError {
    /// Invalid Field in Command (SCT 0, SC 02h): bad CDW11 value, bad data,
    /// reserved select, or an FID this module does not implement.
    InvalidField,
    /// Feature Identifier Not Saveable (SCT 1, SC 0Dh): Set with SV = 1 on a
    /// feature that has no saved value.
    FeatureNotSaveable,
    /// Feature Not Changeable (SCT 1, SC 0Eh).
    FeatureNotChangeable,
}

impl FeatureError {
    /// (Status Code Type, Status Code).
    pub fn sct_sc(self) -> (u8, u8) {
        match self {
            FeatureError::InvalidField => (0, 0x02),
            FeatureError::FeatureNotSaveable => (1, 0x0d),
            FeatureError::FeatureNotChangeable => (1, 0x0e),
        }
    }
}

/// An NVMe completion status an injection asks the engine to return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InjectedStatus {
    /// Status Code Type.
    pub sct: u8,
    /// Status Code.
    pub sc: u8,
}

impl InjectedStatus {
    /// Internal Error (0/06h).
    pub const INTERNAL_ERROR: InjectedStatus = InjectedStatus { sct: 0, sc: 0x06 };
    /// Unrecovered Read Error (2/81h).
    pub const UNRECOVERED_READ_ERROR: InjectedStatus = InjectedStatus { sct: 2, sc: 0x81 };
    /// Attempted Write to Read Only Range (1/82h): end-of-life read-only mode.
    pub const READ_ONLY: InjectedStatus = InjectedStatus { sct: 1, sc: 0x82 };
    /// Sanitize Failed (0/1Ch): error injection type 17h (EVTDEF-24).
    pub const SANITIZE_FAILED: InjectedStatus = InjectedStatus { sct: 0, sc: 0x1c };
}

/// Command classes of the latency monitor (C3h).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LatencyMonitorClass {
    /// Read.
    Read,
    /// Write (and Write Zeroes).
    Write,
    /// Dataset Management deallocate (trim).
    Deallocate,
}

/// What the engine is about to execute, for [`OcpState::injection`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandKind {
    /// Read.
    Read,
    /// Write, Write Zeroes, Write Uncorrectable.
    Write,
    /// Dataset Management deallocate.
    Deallocate,
    /// Any other I/O command (Flush, Compare, ...).
    OtherIo,
    /// Sanitize (error injection types 17h, 1Dh).
    Sanitize,
    /// Format NVM (error injection type 19h).
    Format,
    /// Any other admin command.
    Admin,
}

impl CommandKind {
    /// An admin command (on the admin queue).
    pub fn is_admin(self) -> bool {
        matches!(
            self,
            CommandKind::Sanitize | CommandKind::Format | CommandKind::Admin
        )
    }
}

/// What to inject into the command the engine is about to execute.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Injection {
    /// Complete the command with this status instead of executing it.
    pub status: Option<InjectedStatus>,
    /// Delay the completion by this much.
    pub added_latency_ns: u64,
    /// Never complete the command (a timeout the host must recover from).
    pub timeout: bool,
    /// The device panicked: set CSTS.CFS and stop processing until reset.
    pub panic: bool,
    /// Restore every NVMe feature (current and saved) to its default: the
    /// OCP ones were restored already (error injection 1Fh, EVTDEF-32).
    pub factory_defaults: bool,
}

/// How writes behave (EOL/PLP Failure Mode, FID C2h, once the media reached
/// end of life or the PLP circuit failed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WritePolicy {
    /// Normal operation (volatile write cache allowed).
    Normal,
    /// Write-through: writes complete only when on media (no volatile cache).
    WriteThrough,
    /// Read-only: writes fail with [`InjectedStatus::READ_ONLY`].
    ReadOnly,
}

/// An asynchronous event the engine should report through AER.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AsyncEvent {
    /// Asynchronous Event Type (7h = vendor specific).
    pub event_type: u8,
    /// Asynchronous Event Information.
    pub info: u8,
    /// Log page the host should read (C1h, Error Recovery).
    pub log_page: u8,
}

crate::persist::persist_struct!(AsyncEvent {
    event_type,
    info,
    log_page
});

/// The OCP Datacenter NVMe SSD Specification version a drive follows
/// (QOM property `ocp-version`). Every OCP log page (version, layout, GUID),
/// feature (set, defaults, saveability), the C5h list, the telemetry Data
/// Area 1 header and the event injection rules follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum OcpVersion {
    /// OCP 2.5 (2023-09-22).
    V2_5,
    /// OCP 2.6 (2024-09-11).
    V2_6,
    /// OCP 2.7 (2026-01-08): the default.
    #[default]
    V2_7,
}

crate::persist::persist_enum!(OcpVersion {
    V2_5 = 5,
    V2_6 = 6,
    V2_7 = 7
});

impl OcpVersion {
    /// Every version, oldest first.
    pub const ALL: [OcpVersion; 3] = [OcpVersion::V2_5, OcpVersion::V2_6, OcpVersion::V2_7];

    /// Parses the property value `"2.5"`, `"2.6"` or `"2.7"`; the error is one
    /// line naming the property.
    pub fn parse(s: &str) -> Result<OcpVersion, String> {
        match s.trim() {
            "2.5" => Ok(OcpVersion::V2_5),
            "2.6" => Ok(OcpVersion::V2_6),
            "2.7" => Ok(OcpVersion::V2_7),
            _ => Err(format!(
                "ocp-version must be 2.5, 2.6 or 2.7 (got \"{}\")",
                s.escape_default()
            )),
        }
    }

    /// The property value.
    pub fn as_str(self) -> &'static str {
        match self {
            OcpVersion::V2_5 => "2.5",
            OcpVersion::V2_6 => "2.6",
            OcpVersion::V2_7 => "2.7",
        }
    }

    /// Minor version number (5, 6, 7); the major is 2.
    pub fn minor(self) -> u16 {
        match self {
            OcpVersion::V2_5 => 5,
            OcpVersion::V2_6 => 6,
            OcpVersion::V2_7 => 7,
        }
    }
}

/// Maximum Power of each NVMe power state (Identify power state
/// descriptors, PS0 first) in watts: `max-power`, the midpoint and
/// `min-power`. DSSD power states (FID C7h, C4h descriptors) map onto them
/// (OCP 2.7 section 4.8.11).
pub fn nvme_power_states_w(cfg: &HealthConfig) -> [u8; 3] {
    let max = cfg.max_power_w.clamp(1, 127);
    let min = cfg.min_power_w.clamp(1, max);
    [max, min + (max - min) / 2, min]
}

/// The NVMe power state a DSSD power state of `watts` runs at: the highest
/// powered one whose Maximum Power is at most `watts` (OCP 2.7 section
/// 4.8.11, DSSDPSD-3, DSSDPSS-1); `None` below the lowest (invalid state).
pub fn nvme_ps_for_dssd(states_w: &[u8; 3], watts: u8) -> Option<u8> {
    states_w.iter().position(|&mp| mp <= watts).map(|i| i as u8)
}

/// Which commands the device really supports, as the engine implements
/// them; reported by the C4h page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommandSupport {
    /// Write Zeroes.
    pub write_zeroes: bool,
    /// Dataset Management (deallocate).
    pub dataset_management: bool,
    /// Write Uncorrectable.
    pub write_uncorrectable: bool,
    /// Sanitize support (DCLP-4): bit 0 the command, bits 1-3 crypto erase,
    /// block erase, overwrite, bit 4 deallocation after sanitize.
    pub sanitize: u8,
    /// Fused Compare and Write.
    pub fused_compare_write: bool,
}

crate::persist::persist_struct!(CommandSupport {
    write_zeroes,
    dataset_management,
    write_uncorrectable,
    sanitize,
    fused_compare_write,
});

/// Fixed identity of the device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceIdentity {
    /// Serial number (Identify SN), ASCII.
    pub serial: Vec<u8>,
    /// Model number (Identify MN), ASCII.
    pub model: Vec<u8>,
    /// Firmware revision of the active slot (Identify FR), ASCII, 8 bytes.
    pub firmware_rev: [u8; 8],
    /// User capacity in bytes.
    pub capacity_bytes: u64,
    /// Number of PCIe ports.
    pub pcie_ports: u16,
    /// Commands the engine supports.
    pub commands: CommandSupport,
    /// Security Version Number (C0h).
    pub security_version: u64,
    /// Lowest permitted firmware revision (C0h), ASCII, 8 bytes.
    pub lowest_permitted_fw_rev: [u8; 8],
    /// OCP specification version the drive follows.
    pub ocp_version: OcpVersion,
}

crate::persist::persist_struct!(DeviceIdentity {
    serial,
    model,
    firmware_rev,
    capacity_bytes,
    pcie_ports,
    commands,
    security_version,
    lowest_permitted_fw_rev,
    ocp_version,
});

impl Default for DeviceIdentity {
    fn default() -> Self {
        DeviceIdentity {
            serial: b"OCPEMU0001".to_vec(),
            model: b"QEMU OCP NVMe SSD".to_vec(),
            firmware_rev: *b"1.0     ",
            capacity_bytes: 1 << 30,
            pcie_ports: 1,
            commands: CommandSupport {
                write_zeroes: true,
                dataset_management: true,
                write_uncorrectable: false,
                sanitize: 0,
                fused_compare_write: false,
            },
            security_version: 0,
            lowest_permitted_fw_rev: *b"1.0     ",
            ocp_version: OcpVersion::V2_7,
        }
    }
}

/// A Firmware Commit the engine executed (for C2h).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FwCommitEvent {
    /// NVMe timestamp (ms) when the commit completed.
    pub timestamp_ms: u64,
    /// Power cycle count at that time.
    pub power_cycles: u64,
    /// Firmware revision before.
    pub previous_fw: [u8; 8],
    /// Firmware revision after (or the one that failed to activate).
    pub new_fw: [u8; 8],
    /// Firmware slot.
    pub slot: u8,
    /// Commit Action (CDW10 CA).
    pub commit_action: u8,
    /// Result: 0 success, else the NVMe status (SCT << 8 | SC).
    pub result: u16,
}

/// Everything the engine measures and hands to this module. Counters are
/// cumulative over the device's life (the engine keeps them across resets
/// and power cycles where a real drive would).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeviceStats {
    /// Host bytes written (data of Write and Write Zeroes commands).
    pub host_bytes_written: u128,
    /// Host bytes read.
    pub host_bytes_read: u128,
    /// Host read commands.
    pub host_read_commands: u128,
    /// Host write commands.
    pub host_write_commands: u128,
    /// Controller busy time in minutes.
    pub controller_busy_minutes: u128,
    /// Power cycles.
    pub power_cycles: u64,
    /// Power-on time in seconds.
    pub power_on_seconds: u64,
    /// Unsafe shutdowns (power lost without a shutdown notification).
    pub unsafe_shutdowns: u64,
    /// Incomplete shutdowns (shutdown started but did not complete).
    pub incomplete_shutdowns: u32,
    /// Media and data integrity errors the engine reported.
    pub media_errors: u64,
    /// Error Information Log entries created.
    pub error_log_entries: u64,
    /// PCIe correctable errors since manufacture (never cleared by the engine).
    pub pcie_correctable_errors: u64,
    /// PCIe link retrainings.
    pub pcie_link_retrainings: u64,
    /// NVMe power state changes (Set Features 02h).
    pub power_state_changes: u64,
    /// Current NVMe power state.
    pub nvme_power_state: u8,
    /// I/O commands whose LBA range was not aligned to the preferred
    /// granularity.
    pub unaligned_io: u64,
    /// Commands the host aborted or timed out.
    pub command_timeouts: u32,
    /// Times the power-loss-protection circuit was used (power lost while
    /// data was in flight).
    pub plp_start_count: u64,
    /// Sum of NUSE over all namespaces, in logical blocks.
    pub total_nuse: u64,
    /// Bytes of the media holding data (for percent free blocks).
    pub used_bytes: u64,
    /// Active namespaces.
    pub active_namespaces: u32,
    /// Outstanding admin commands.
    pub outstanding_admin_commands: u32,
    /// Logical blocks the host deallocated.
    pub deallocated_lbas: u64,
    /// PERST# / conventional resets seen.
    pub perst_events: u64,
    /// Current NVMe timestamp in ms (Set Features 0Eh base + elapsed).
    pub timestamp_ms: u64,
}

/// The whole OCP state of one controller. Plain data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OcpState {
    pub(crate) identity: DeviceIdentity,
    pub(crate) health: HealthModel,
    pub(crate) features: features::FeatureStore,
    pub(crate) injection: error_injection::ErrorInjection,
    pub(crate) recovery: error_recovery::ErrorRecovery,
    pub(crate) fw_history: fw_history::FwHistory,
    pub(crate) latency: latency::LatencyMonitor,
    pub(crate) counters: ModelCounters,
    pub(crate) events: telemetry::EventFifo,
    pending_aer: Option<AsyncEvent>,
    ts_base_ms: u64,
    ts_base_ns: u64,
    last_pct_used: u8,
    background: bool,
}

crate::persist::persist_struct!(OcpState {
    identity,
    health,
    features,
    injection,
    recovery,
    fw_history,
    latency,
    counters,
    events,
    pending_aer,
    ts_base_ms,
    ts_base_ns,
    last_pct_used,
    background,
});

/// Counters the OCP model keeps itself (injected errors, clear baselines).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ModelCounters {
    pub pcie_baseline: u64,
    pub pcie_clear_pending: bool,
    pub incomplete_shutdowns: u32,
    pub uncorrectable_reads: u64,
    pub xor_recoveries: u64,
    pub e2e_detected: u32,
    pub e2e_corrected: u32,
    pub command_timeouts: u32,
    pub sys_program_fail: u32,
    pub sys_uncorr_read: u32,
    pub sys_erase_fail: u32,
    pub dies_offline: u16,
    /// Injected supply voltage drops (EVTDEF-33), added to the PLP start count.
    pub plp_starts: u64,
}

crate::persist::persist_struct!(ModelCounters {
    pcie_baseline,
    pcie_clear_pending,
    incomplete_shutdowns,
    uncorrectable_reads,
    xor_recoveries,
    e2e_detected,
    e2e_corrected,
    command_timeouts,
    sys_program_fail,
    sys_uncorr_read,
    sys_erase_fail,
    dies_offline,
    plp_starts,
});

impl OcpState {
    /// A fresh device. `cfg` should have passed [`HealthConfig::validate`];
    /// out-of-range values are clamped, never a panic.
    pub fn new(cfg: &HealthConfig, identity: &DeviceIdentity) -> Self {
        let health = HealthModel::new(cfg, identity.capacity_bytes);
        let features = features::FeatureStore::new(cfg, identity.ocp_version);
        let mut s = OcpState {
            identity: identity.clone(),
            last_pct_used: health.percentage_used(),
            health,
            features,
            injection: error_injection::ErrorInjection::default(),
            recovery: error_recovery::ErrorRecovery::default(),
            fw_history: fw_history::FwHistory::default(),
            latency: latency::LatencyMonitor::new(0),
            counters: ModelCounters::default(),
            events: telemetry::EventFifo::default(),
            pending_aer: None,
            ts_base_ms: 0,
            ts_base_ns: 0,
            background: false,
        };
        s.events.push_common(telemetry::CLASS_BOOT_SEQUENCE, 0x0000);
        s
    }

    /// The health model advances only when [`OcpState::advance`] is called
    /// (the engine's background tick, SLOG-7), never because a log is read:
    /// SMART 02h, C0h and the other pages are then plain reads of the
    /// current data (SLOG-6). Off by default (every read advances).
    pub fn set_background_model(&mut self, on: bool) {
        self.background = on;
    }

    /// Advance for a log read: only without the background model.
    fn advance_for_read(&mut self, stats: &DeviceStats, now_ns: u64) {
        if self.background {
            self.sync_time(stats, now_ns);
            self.latency.tick(now_ns);
        } else {
            self.advance(stats, now_ns);
        }
    }

    /// The identity given at creation.
    pub fn identity(&self) -> &DeviceIdentity {
        &self.identity
    }

    /// The health model (read-only view).
    pub fn health(&self) -> &HealthModel {
        &self.health
    }

    /// Reads a health property (QOM getter): the configured value, except
    /// `percentage-used`, `available-spare`, `capacitor-health` and
    /// `temperature`, which report the model's current value.
    pub fn health_property(&self, name: &str) -> Option<u64> {
        let h = &self.health;
        match name {
            "percentage-used" => Some(h.percentage_used().into()),
            "available-spare" => Some(h.available_spare().into()),
            "capacitor-health" => Some(h.capacitor_health().into()),
            "temperature" => Some(h.temperature_k().into()),
            _ => h.cfg.get(name),
        }
    }

    /// Sets a health property at runtime (QOM property set through QMP
    /// qom-set). Names: [`HealthConfig::PROPERTIES`]. The error is one line
    /// naming the property.
    pub fn set_health_property(&mut self, name: &str, value: u64) -> Result<(), String> {
        self.health.set_property(name, value)
    }

    /// The NVMe timestamp (ms) at `now_ns`.
    pub fn timestamp_ms(&self, now_ns: u64) -> u64 {
        self.ts_base_ms
            .saturating_add(now_ns.saturating_sub(self.ts_base_ns) / 1_000_000)
    }

    /// The host set the NVMe Timestamp (Set Features 0Eh) to `timestamp_ms`
    /// at `now_ns`; also logged as a telemetry timestamp event.
    pub fn set_timestamp(&mut self, timestamp_ms: u64, now_ns: u64) {
        self.ts_base_ms = timestamp_ms;
        self.ts_base_ns = now_ns;
        self.events.push(
            telemetry::CLASS_TIMESTAMP,
            0x0000,
            &timestamp_ms.to_le_bytes(),
        );
    }

    fn sync_time(&mut self, stats: &DeviceStats, now_ns: u64) {
        if stats.timestamp_ms != 0 {
            self.ts_base_ms = stats.timestamp_ms;
            self.ts_base_ns = now_ns;
        }
    }

    /// Evolves the health model and windows to `now_ns`. Called by every log
    /// page read; the engine should also call it periodically.
    pub fn advance(&mut self, stats: &DeviceStats, now_ns: u64) {
        self.sync_time(stats, now_ns);
        if self.counters.pcie_clear_pending {
            self.counters.pcie_baseline = stats.pcie_correctable_errors;
            self.counters.pcie_clear_pending = false;
        }
        let inp = health::HealthInputs {
            host_bytes_written: stats.host_bytes_written,
            host_bytes_read: stats.host_bytes_read,
            power_on_seconds: stats.power_on_seconds,
            power_cap_w: self.nvme_power_state_w(),
            plp_check_interval_min: self.features.plp_interval.current,
        };
        self.health.advance(&inp, now_ns);
        for ev in self.health.take_temp_events() {
            let id = match ev {
                health::TempEvent::Decrease => 0,
                health::TempEvent::Warning => 1,
                health::TempEvent::Critical => 2,
            };
            self.events.push_common(telemetry::CLASS_TEMPERATURE, id);
        }
        let pct = self.health.percentage_used();
        if pct != self.last_pct_used {
            self.last_pct_used = pct;
            let mut d = [0u8; 12];
            d[..4].copy_from_slice(&u32::from(pct).to_le_bytes());
            d[4..8].copy_from_slice(&self.health.max_erase_count().to_le_bytes());
            let avg = u32::try_from(self.health.avg_erase_count()).unwrap_or(u32::MAX);
            d[8..12].copy_from_slice(&avg.to_le_bytes());
            self.events.push(telemetry::CLASS_MEDIA_WEAR, 0x0000, &d);
        }
        self.latency.tick(now_ns);
    }

    /// The whole log page `lid` (C0h–C7h, C9h), or `None` for an LID this
    /// module does not serve (the engine then fails with Invalid Log Page).
    pub fn log_page(&mut self, lid: u8, stats: &DeviceStats, now_ns: u64) -> Option<Vec<u8>> {
        self.advance_for_read(stats, now_ns);
        let v = self.identity.ocp_version;
        match lid {
            smart_ext::LID => Some(smart_ext::build(self, stats).to_bytes()),
            error_recovery::LID => Some(self.recovery.page().to_bytes()),
            fw_history::LID => Some(self.fw_history.to_bytes()),
            latency::LID => Some(self.latency.page(now_ns).to_bytes_for(v)),
            capabilities::LID => Some(capabilities::build(self).to_bytes()),
            unsupported::LID => Some(unsupported::UnsupportedRequirements::emulation(v).to_bytes()),
            hw_component::LID => Some(hw_component::build(&self.identity).to_bytes()),
            tcg::LID => Some(tcg::TcgConfiguration::no_tcg().to_bytes_for(v)),
            telemetry::STRING_LID => Some(telemetry::string_log()),
            _ => None,
        }
    }

    /// NVMe SMART / Health Information (02h, controller scope) built from the
    /// same stats and model, for the engine's own log 02h and Data Area 1.
    pub fn smart_log(&self, stats: &DeviceStats) -> Vec<u8> {
        smart::build(self, stats).to_bytes()
    }

    /// Endurance Group Information (log 09h) of the one Endurance Group.
    pub fn endurance_group_log(
        &self,
        stats: &DeviceStats,
        cap: endurance::GroupCapacity,
    ) -> Vec<u8> {
        endurance::build(self, stats, cap)
    }

    /// OCP telemetry Data Area 1 for logs 07h/08h (header, SMART 02h, C0h,
    /// statistics and the event FIFO), a multiple of 512 bytes.
    pub fn telemetry_data_area1(&mut self, stats: &DeviceStats, now_ns: u64) -> Vec<u8> {
        self.advance_for_read(stats, now_ns);
        telemetry::data_area1(self, stats, now_ns)
    }

    /// A whole NVMe telemetry log 07h (host-initiated, call on "create") or
    /// 08h (controller-initiated): header with the OCP reason identifier,
    /// then Data Area 1. The engine supplies the generation numbers and
    /// applies LPO/NUMD.
    pub fn telemetry_log(
        &mut self,
        lid: u8,
        stats: &DeviceStats,
        now_ns: u64,
        generation: &telemetry::TelemetryGeneration,
    ) -> Vec<u8> {
        let da1 = self.telemetry_data_area1(stats, now_ns);
        telemetry::telemetry_log(&da1, lid, generation, self.recovery.last_panic_id())
    }

    /// Bytes the engine transfers for Get (`set == false`) or Set Features of
    /// `fid` with `cdw11`: C0h Get 4064 (127 × 32), C0h Set 32 × CDW11\[6:0\],
    /// C5h 4096 both ways, 0 otherwise.
    pub fn feature_data_len(fid: u8, set: bool, cdw11: u32) -> usize {
        match fid {
            error_injection::FID if set => error_injection::ENTRY_SIZE * (cdw11 & 0x7f) as usize,
            error_injection::FID => error_injection::ENTRY_SIZE * error_injection::MAX_ENTRIES,
            latency::FID => latency::CONFIG_SIZE,
            _ => 0,
        }
    }

    /// Get Features of an OCP feature. `select` is CDW10 SEL (0 current,
    /// 1 default, 2 saved, 3 supported capabilities). Returns completion
    /// DW0 and the data to transfer to the host (C0h, C5h).
    pub fn get_feature(
        &self,
        fid: u8,
        select: u8,
        cdw11: u32,
    ) -> Result<(u32, Option<Vec<u8>>), FeatureError> {
        let _ = cdw11;
        if select > 3 {
            return Err(FeatureError::InvalidField);
        }
        match fid {
            error_injection::FID => {
                if select == 3 {
                    return Ok((features::CAP_CHANGEABLE, None));
                }
                let list = if select == 0 {
                    self.injection.entries()
                } else {
                    &[]
                };
                Ok((
                    list.len() as u32,
                    Some(error_injection::entries_to_bytes(list)),
                ))
            }
            latency::FID => {
                if select == 3 {
                    return Ok((features::CAP_SAVEABLE | features::CAP_CHANGEABLE, None));
                }
                // OCP 2.7 (LMGF-1): DW0 0 and no data (nvme-cli 2.16's
                // get-latency-monitor sends no buffer). Before, the
                // configuration is returned in a 4096-byte buffer.
                if self.identity.ocp_version >= OcpVersion::V2_7 {
                    return Ok((0, None));
                }
                let cfg = self.features.latency.select(select);
                Ok((0, Some(cfg.to_bytes())))
            }
            _ => self.features.get(fid, select).map(|dw0| (dw0, None)),
        }
    }

    /// Set Features of an OCP feature. `save` is CDW10 SV; `data` the bytes
    /// the engine transferred ([`OcpState::feature_data_len`]). Returns DW0.
    pub fn set_feature(
        &mut self,
        fid: u8,
        cdw11: u32,
        save: bool,
        data: &[u8],
        now_ns: u64,
    ) -> Result<u32, FeatureError> {
        match fid {
            error_injection::FID => {
                if save {
                    return Err(FeatureError::FeatureNotSaveable);
                }
                self.injection.set(cdw11, data, self.identity.ocp_version)?;
                if cdw11 & 0x7f == 0 {
                    self.health.clear_injected_conditions();
                }
                Ok(0)
            }
            latency::FID => {
                let cfg = latency::LatencyMonitorConfig::from_bytes(data)?;
                if cfg.discard_debug_log != 0 {
                    self.latency.discard_debug_log();
                }
                let mut stored = cfg;
                stored.discard_debug_log = 0;
                self.features.latency.set(stored, save);
                self.latency.configure(&stored, now_ns);
                Ok(0)
            }
            features::FID_CLEAR_FW_HISTORY => {
                features::check_not_saveable(save)?;
                if cdw11 & features::CLEAR_BIT != 0 {
                    self.fw_history.clear();
                }
                Ok(0)
            }
            features::FID_CLEAR_PCIE => {
                features::check_not_saveable(save)?;
                if cdw11 & features::CLEAR_BIT != 0 {
                    self.counters.pcie_clear_pending = true;
                }
                Ok(0)
            }
            features::FID_DSSD_POWER_STATE => {
                // The engine moves the NVMe power state (feature 02h) to
                // `dssd_nvme_power_state` and counts the change (SMART-31).
                self.features.set(fid, cdw11, save)
            }
            _ => self.features.set(fid, cdw11, save),
        }
    }

    /// Clears the PCIe correctable error counter now (FID C3h) using the
    /// engine's current count; [`OcpState::set_feature`] defers the clear to
    /// the next [`OcpState::advance`], which is equivalent when no error
    /// occurs in between.
    pub fn clear_pcie_errors(&mut self, stats: &DeviceStats) {
        self.counters.pcie_baseline = stats.pcie_correctable_errors;
        self.counters.pcie_clear_pending = false;
    }

    /// Counts one completed command's latency into the C3h buckets.
    pub fn record_latency(&mut self, class: LatencyMonitorClass, latency_ns: u64, now_ns: u64) {
        let ts = self.timestamp_ms(now_ns);
        self.latency.record(class, latency_ns, now_ns, ts);
    }

    /// Records a Firmware Commit in the C2h history.
    pub fn record_fw_commit(&mut self, ev: &FwCommitEvent) {
        self.fw_history.record(ev);
    }

    /// Controller reset (CC.EN 1→0, NVM Subsystem Reset): a panic is over
    /// (CSTS.CFS clears; its ID moves to the previous panic IDs in C1h).
    /// OCP features, counters and logs survive.
    pub fn record_controller_reset(&mut self) {
        self.recovery.reset();
        self.events.push(telemetry::CLASS_NVME, 0x0001, &[0u8; 8]);
    }

    /// Power cycle: features return to their saved (else default) values,
    /// error injections end, latency counters restart, a panic is over.
    /// Firmware history, panic history and the health model survive.
    pub fn record_power_cycle(&mut self, now_ns: u64) {
        self.recovery.reset();
        self.features.power_cycle();
        self.injection = error_injection::ErrorInjection::default();
        let cfg = self.features.latency.current;
        self.latency = latency::LatencyMonitor::new(now_ns);
        self.latency.configure(&cfg, now_ns);
        self.health.power_cycle();
        self.pending_aer = None;
        self.events.push_common(telemetry::CLASS_RESET, 0x0001);
        self.events
            .push_common(telemetry::CLASS_BOOT_SEQUENCE, 0x0000);
    }

    /// The NVMe power state (feature 02h) the current DSSD power state
    /// (FID C7h) runs at: the highest powered one whose Maximum Power is at
    /// most the DSSD state's watts (OCP 2.7 section 4.8.11, DSSDPSS-1).
    pub fn dssd_nvme_power_state(&self) -> u8 {
        let f = &self.features;
        nvme_ps_for_dssd(&f.nvme_states_w, f.dssd_power_state.current).unwrap_or(2)
    }

    /// Maximum Power in watts of the NVMe power state the drive runs at.
    fn nvme_power_state_w(&self) -> u8 {
        let f = &self.features;
        f.nvme_states_w[usize::from(self.dssd_nvme_power_state()).min(2)]
    }

    /// The host selected NVMe power state `ps` with Set Features 02h: the
    /// DSSD power state (FID C7h) becomes the lowest one whose number is at
    /// least that state's Maximum Power, i.e. the Maximum Power itself
    /// (DSSDPSG-2). Out-of-range states are ignored.
    pub fn nvme_power_state_selected(&mut self, ps: u8) {
        if let Some(&w) = self.features.nvme_states_w.get(usize::from(ps)) {
            self.features.dssd_power_state.current = w;
        }
    }

    /// Whether the device is panicked (CSTS.CFS should read 1 unless
    /// [`OcpState::error_aen_replaces_cfs`]).
    pub fn cfs(&self) -> bool {
        self.recovery.cfs
    }

    /// OCP 2.7 with FID C9h bit 0 set: an error event is reported with the
    /// Error Reporting AEN and CSTS.CFS stays 0 (SDAEC-14); before 2.7 a
    /// panic always sets CSTS.CFS.
    pub fn error_aen_replaces_cfs(&self) -> bool {
        self.identity.ocp_version >= OcpVersion::V2_7 && self.features.async_panic.current
    }

    /// Whether Set/Get Features of OCP feature `fid` exist on this drive
    /// (C0h-`C9h`, and `CAh`, `CBh` from OCP 2.7).
    pub fn feature_supported(&self, fid: u8) -> bool {
        FEATURE_IDS.contains(&fid) && self.features.exists(fid)
    }

    /// The next asynchronous event to report (panic notice when FID C9h
    /// enables them).
    pub fn take_async_event(&mut self) -> Option<AsyncEvent> {
        self.pending_aer.take()
    }

    /// What to inject into the command the engine is about to execute, in
    /// this order: an active panic fails everything; error injection entries
    /// (FID C0h); end-of-life read-only mode for writes; throttling delay.
    pub fn injection(&mut self, kind: CommandKind, now_ns: u64) -> Injection {
        if self.recovery.cfs {
            if self.error_aen_replaces_cfs() {
                // The host recovers in band (section 4.8.7.1): admin
                // commands run; I/O fails with Internal Error until the
                // reset the C1h log asks for.
                if kind.is_admin() {
                    return Injection::default();
                }
                return Injection {
                    status: Some(InjectedStatus::INTERNAL_ERROR),
                    ..Injection::default()
                };
            }
            return Injection {
                status: Some(InjectedStatus::INTERNAL_ERROR),
                panic: true,
                ..Injection::default()
            };
        }
        let mut inj = error_injection::apply(self, kind, now_ns);
        if inj.panic {
            return inj;
        }
        let is_write = matches!(kind, CommandKind::Write | CommandKind::Deallocate);
        // Worked out once, for writes only (it derives Available Spare).
        let policy = if is_write {
            self.write_policy()
        } else {
            WritePolicy::Normal
        };
        if is_write && inj.status.is_none() && policy == WritePolicy::ReadOnly {
            inj.status = Some(InjectedStatus::READ_ONLY);
        }
        if matches!(kind, CommandKind::Read | CommandKind::Write) {
            if self.health.throttling() {
                inj.added_latency_ns += 200_000 * u64::from(self.health.throttling_status());
            }
            let max = self.health.cfg.max_power_w;
            let ps = self.nvme_power_state_w().min(max);
            inj.added_latency_ns += u64::from(max - ps) * 10_000;
            if policy == WritePolicy::WriteThrough && kind == CommandKind::Write {
                inj.added_latency_ns += 50_000;
            }
        }
        inj
    }

    pub(crate) fn panic(&mut self, cause: u16) {
        self.recovery.panic(cause);
        self.events
            .push_common(telemetry::CLASS_FIRMWARE_ASSERT, 0x0006);
        self.events.push(telemetry::CLASS_NVME, 0x0009, &[0u8; 8]);
        if self.features.async_panic.current {
            // DSSD-AEN-1: vendor specific, information 01h, log C1h (OCP 2.7).
            let info = u8::from(self.identity.ocp_version >= OcpVersion::V2_7);
            self.pending_aer = Some(AsyncEvent {
                event_type: 7,
                info,
                log_page: error_recovery::LID,
            });
        }
    }

    /// Write behaviour now (FID C2h applies once EOL or PLP failure).
    pub fn write_policy(&self) -> WritePolicy {
        if !(self.health.end_of_life() || self.health.plp_failed()) {
            return WritePolicy::Normal;
        }
        match self.features.eol_mode.current {
            features::EOL_READ_ONLY => WritePolicy::ReadOnly,
            features::EOL_WRITE_THROUGH => WritePolicy::WriteThrough,
            _ => WritePolicy::Normal,
        }
    }

    /// NVMe SMART Critical Warning bits: 0 spare below threshold,
    /// 1 temperature, 2 reliability degraded, 3 read-only, 4 volatile memory
    /// backup (PLP) failed.
    pub fn critical_warning(&self) -> u8 {
        let h = &self.health;
        let mut w = 0;
        if h.available_spare() < h.cfg.available_spare_threshold {
            w |= 1;
        }
        let t = h.temperature_k();
        if t >= h.cfg.warning_temp_k {
            w |= 2;
        }
        // Not for Percentage Used alone (SLOG-12).
        if self.counters.dies_offline > h.cfg.die_failure_tolerance || self.recovery.cfs {
            w |= 4;
        }
        if self.write_policy() == WritePolicy::ReadOnly {
            w |= 8;
        }
        if h.backup_failed() {
            w |= 16;
        }
        w
    }

    /// Composite temperature in Kelvin.
    pub fn temperature_k(&self) -> u16 {
        self.health.temperature_k()
    }
}

#[cfg(test)]
pub(crate) mod tests_common {
    use super::*;

    pub fn state() -> OcpState {
        OcpState::new(&HealthConfig::default(), &DeviceIdentity::default())
    }

    /// A fresh drive of OCP version `v`.
    pub fn state_version(v: OcpVersion) -> OcpState {
        let id = DeviceIdentity {
            ocp_version: v,
            ..DeviceIdentity::default()
        };
        OcpState::new(&HealthConfig::default(), &id)
    }

    pub fn stats() -> DeviceStats {
        DeviceStats {
            timestamp_ms: 1_700_000_000_000,
            ..DeviceStats::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::tests_common::*;
    use super::*;

    /// Each log page GUID, in the byte order nvme-cli checks.
    #[test]
    fn guids_as_nvme_cli_checks() {
        let table: [(&str, [u8; 16], [u8; 16]); 7] = [
            // nvme-cli ocp-nvme.c dev_cap_req_guid[]
            (
                "capabilities",
                capabilities::GUID,
                [
                    0x97, 0x42, 0x05, 0x0d, 0xd1, 0xe1, 0xc9, 0x98, 0x5d, 0x49, 0x58, 0x4b, 0x91,
                    0x3c, 0x05, 0xb7,
                ],
            ),
            // nvme-cli ocp-nvme.c error_recovery_guid[]
            (
                "error_recovery",
                error_recovery::GUID,
                [
                    0x44, 0xd9, 0x31, 0x21, 0xfe, 0x30, 0x34, 0xae, 0xab, 0x4d, 0xfd, 0x3d, 0xba,
                    0x83, 0x19, 0x5a,
                ],
            ),
            // nvme-cli ocp-fw-activation-history.c ocp_fw_activation_history_guid[]
            (
                "fw_history",
                fw_history::GUID,
                [
                    0x6d, 0x79, 0x9a, 0x76, 0xb4, 0xda, 0xf6, 0xa3, 0xe2, 0x4d, 0xb2, 0x8a, 0xac,
                    0xf3, 0x1c, 0xd1,
                ],
            ),
            // nvme-cli ocp-nvme.c lat_mon_guid[]
            (
                "latency",
                latency::GUID,
                [
                    0x92, 0x7a, 0xc0, 0x8c, 0xd0, 0x84, 0x6c, 0x9c, 0x70, 0x43, 0xe6, 0xd4, 0x58,
                    0x5e, 0xd4, 0x85,
                ],
            ),
            // nvme-cli ocp-smart-extended-log.c scao_guid[]
            (
                "smart_ext",
                smart_ext::GUID,
                [
                    0xC5, 0xAF, 0x10, 0x28, 0xEA, 0xBF, 0xF2, 0xA4, 0x9C, 0x4F, 0x6F, 0x7C, 0xC9,
                    0x14, 0xD5, 0xAF,
                ],
            ),
            // nvme-cli ocp-nvme.c tcg_configuration_guid[]
            (
                "tcg",
                tcg::GUID,
                [
                    0x06, 0x40, 0x24, 0xBD, 0x7E, 0xE0, 0xE6, 0x83, 0xC0, 0x47, 0x54, 0xFA, 0x9D,
                    0x2A, 0xE0, 0x54,
                ],
            ),
            // nvme-cli ocp-nvme.c unsupported_req_guid[]
            (
                "unsupported",
                unsupported::GUID,
                [
                    0x2F, 0x72, 0x9C, 0x0E, 0x99, 0x23, 0x2C, 0xBB, 0x63, 0x48, 0x32, 0xD0, 0xB7,
                    0x98, 0xBB, 0xC7,
                ],
            ),
        ];
        for (page, guid, nvme_cli) in table {
            assert_eq!(guid, nvme_cli, "{page}");
        }
    }

    #[test]
    fn ocp_uuid_matches_nvme_cli() {
        // nvme-cli plugins/ocp/ocp-utils.c: ocp_uuid[]
        assert_eq!(OCP_UUID[0], 0xc1);
        assert_eq!(OCP_UUID[15], 0x6f);
        assert_eq!(
            u128::from_be_bytes(OCP_UUID),
            0xc194d55b_e094_4794_a21d_29998f56be6f
        );
    }

    #[test]
    fn every_log_page_has_its_size() {
        for v in OcpVersion::ALL {
            let mut s = state_version(v);
            let c3 = if v == OcpVersion::V2_7 { 4096 } else { 512 };
            for (lid, len) in [
                (0xc0u8, 512usize),
                (0xc1, 512),
                (0xc2, 4096),
                (0xc3, c3),
                (0xc4, 4096),
                (0xc5, 4096),
                (0xc7, 512),
            ] {
                assert_eq!(
                    s.log_page(lid, &stats(), 0).map(|p| p.len()),
                    Some(len),
                    "{lid:x} {v:?}"
                );
            }
        }
        let mut s = state();
        let st = stats();
        assert!(s.log_page(0xc6, &st, 0).unwrap().len() > 64);
        assert!(s.log_page(0xc9, &st, 0).unwrap().len() >= 432);
        assert_eq!(s.log_page(0xc8, &st, 0), None);
        assert_eq!(s.log_page(0x02, &st, 0), None);
        for lid in LOG_IDS {
            assert!(s.log_page(lid, &st, 1).is_some());
        }
    }

    #[test]
    fn feature_data_lengths() {
        assert_eq!(OcpState::feature_data_len(0xc0, false, 0), 4064);
        assert_eq!(OcpState::feature_data_len(0xc0, true, 3), 96);
        assert_eq!(
            OcpState::feature_data_len(0xc0, true, 0xffff_ffff),
            127 * 32
        );
        assert_eq!(OcpState::feature_data_len(0xc5, true, 0), 4096);
        assert_eq!(OcpState::feature_data_len(0xc5, false, 0), 4096);
        assert_eq!(OcpState::feature_data_len(0xc7, true, 0), 0);
    }

    #[test]
    fn status_codes() {
        assert_eq!(FeatureError::InvalidField.sct_sc(), (0, 2));
        assert_eq!(FeatureError::FeatureNotSaveable.sct_sc(), (1, 0x0d));
        assert_eq!(FeatureError::FeatureNotChangeable.sct_sc(), (1, 0x0e));
    }

    #[test]
    fn timestamps_follow_host() {
        let mut s = state();
        s.set_timestamp(1000, 5_000_000);
        assert_eq!(s.timestamp_ms(7_000_000), 1002);
    }

    #[test]
    fn read_only_at_end_of_life() {
        let mut s = state();
        assert_eq!(s.write_policy(), WritePolicy::Normal);
        s.set_health_property("percentage-used", 100).unwrap();
        // EOL-4: worn out, spare left: read/write; SLOG-12: no critical
        // warning for Percentage Used alone.
        assert_eq!(s.write_policy(), WritePolicy::Normal);
        assert_eq!(s.critical_warning(), 0, "SLOG-12");
        s.set_health_property("available-spare", 5).unwrap();
        assert_eq!(
            s.write_policy(),
            WritePolicy::Normal,
            "EOL-4: below threshold"
        );
        // EOL-5: Available Spare 0 %: read-only (the default EOL mode).
        s.set_health_property("available-spare", 0).unwrap();
        assert_eq!(s.write_policy(), WritePolicy::ReadOnly);
        assert_eq!(
            s.injection(CommandKind::Write, 0).status,
            Some(InjectedStatus::READ_ONLY)
        );
        assert_eq!(s.injection(CommandKind::Read, 0).status, None);
        assert_ne!(s.critical_warning() & 8, 0);
        // Write-through mode (C2h = 2).
        s.set_feature(0xc2, 2 << 30, false, &[], 0).unwrap();
        assert_eq!(s.write_policy(), WritePolicy::WriteThrough);
        assert_eq!(s.injection(CommandKind::Write, 0).status, None);
        s.set_feature(0xc2, 3 << 30, false, &[], 0).unwrap();
        assert_eq!(s.write_policy(), WritePolicy::Normal);
    }

    fn xorshift(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    #[test]
    fn no_panic_on_any_guest_input() {
        let mut s = state();
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let st = stats();
        for i in 0..3000u64 {
            let fid = 0xbf + (xorshift(&mut seed) % 12) as u8;
            let cdw11 = match i % 3 {
                0 => xorshift(&mut seed) as u32,
                1 => (xorshift(&mut seed) % 256) as u32,
                _ => ((xorshift(&mut seed) % 4) as u32) << 30,
            };
            let len = (xorshift(&mut seed) % 4200) as usize;
            let data: Vec<u8> = (0..len).map(|_| xorshift(&mut seed) as u8).collect();
            let save = i % 2 == 0;
            let _ = s.set_feature(fid, cdw11, save, &data, i);
            let _ = s.get_feature(fid, (i % 9) as u8, cdw11);
            let kind = [
                CommandKind::Read,
                CommandKind::Write,
                CommandKind::Deallocate,
                CommandKind::OtherIo,
                CommandKind::Admin,
            ][(i % 5) as usize];
            let _ = s.injection(kind, 0);
            if s.cfs() {
                s.record_controller_reset();
            }
            s.record_latency(
                LatencyMonitorClass::Read,
                xorshift(&mut seed),
                i * 1_000_000,
            );
        }
        for lid in 0..=255u8 {
            let _ = s.log_page(lid, &st, 5);
        }
        let _ = s.telemetry_data_area1(&st, 6);
    }

    #[test]
    fn no_overflow_on_extreme_values() {
        let cfg = HealthConfig {
            percentage_used: 255,
            rated_pe_cycles: 100_000,
            write_amplification_pct: 2000,
            media_errors: u64::MAX,
            bad_user_blocks: u32::MAX,
            bad_system_blocks: u32::MAX,
            total_media_dies: 4096,
            die_failure_tolerance: 4095,
            overprovisioning_pct: 100,
            max_power_w: 127,
            min_power_w: 1,
            ..HealthConfig::default()
        };
        assert_eq!(cfg.validate(), Ok(()));
        let id = DeviceIdentity {
            capacity_bytes: u64::MAX,
            ..DeviceIdentity::default()
        };
        let mut s = OcpState::new(&cfg, &id);
        let st = DeviceStats {
            host_bytes_written: u128::MAX,
            host_bytes_read: u128::MAX,
            host_read_commands: u128::MAX,
            host_write_commands: u128::MAX,
            controller_busy_minutes: u128::MAX,
            power_cycles: u64::MAX,
            power_on_seconds: u64::MAX,
            unsafe_shutdowns: u64::MAX,
            incomplete_shutdowns: u32::MAX,
            media_errors: u64::MAX,
            error_log_entries: u64::MAX,
            pcie_correctable_errors: u64::MAX,
            pcie_link_retrainings: u64::MAX,
            power_state_changes: u64::MAX,
            nvme_power_state: u8::MAX,
            unaligned_io: u64::MAX,
            command_timeouts: u32::MAX,
            plp_start_count: u64::MAX,
            total_nuse: u64::MAX,
            used_bytes: u64::MAX,
            active_namespaces: u32::MAX,
            outstanding_admin_commands: u32::MAX,
            deallocated_lbas: u64::MAX,
            perst_events: u64::MAX,
            timestamp_ms: u64::MAX,
        };
        for now in [0, 1, u64::MAX / 2, u64::MAX] {
            for lid in LOG_IDS {
                assert!(s.log_page(lid, &st, now).is_some());
            }
            let _ = s.telemetry_data_area1(&st, now);
            let _ = s.smart_log(&st);
            s.record_latency(LatencyMonitorClass::Write, u64::MAX, now);
            let _ = s.injection(CommandKind::Write, 0);
        }
        s.record_power_cycle(u64::MAX);
        let _ = s.log_page(0xc0, &DeviceStats::default(), 0);
    }

    #[test]
    fn health_evolves_with_writes_and_time() {
        let id = DeviceIdentity {
            capacity_bytes: 64 << 30,
            ..DeviceIdentity::default()
        };
        let mut s = OcpState::new(&HealthConfig::default(), &id);
        let mut st = stats();
        let c0 = |o: &mut OcpState, d: &DeviceStats, now: u64| o.log_page(0xc0, d, now).unwrap();
        let le64 = |b: &[u8], o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap());
        let a = c0(&mut s, &st, 0);
        let sm_a = s.smart_log(&st);
        // A year of power-on time and heavy writes, one step per hour.
        let hour = 3_600_000_000_000u64;
        for h in 1..=24 * 365u64 {
            st.power_on_seconds = h * 3600;
            st.host_bytes_written += 40u128 << 30; // 40 GiB/h
            st.host_bytes_read += 20u128 << 30;
            s.advance(&st, h * hour);
        }
        let b = c0(&mut s, &st, 24 * 365 * hour);
        let sm_b = s.smart_log(&st);
        assert!(le64(&b, 224) > le64(&a, 224), "average erase count");
        assert!(sm_b[5] > sm_a[5], "percentage used");
        assert!(b[81] > a[81], "refresh counts");
        assert!(u16::from_le_bytes([b[128], b[129]]) < 100, "capacitor aged");
        assert!(le64(&b, 264) & 0xffff_ffff_ffff > 0, "lifetime power");
        assert!(le64(&b, 64) > 0, "soft ECC");
    }

    #[test]
    fn controller_reset_keeps_state_power_cycle_restores_saved() {
        let mut s = state();
        s.set_feature(0xc6, 7 << 16, false, &[], 0).unwrap();
        s.record_fw_commit(&FwCommitEvent {
            timestamp_ms: 1,
            power_cycles: 0,
            previous_fw: *b"1.0     ",
            new_fw: *b"1.1     ",
            slot: 1,
            commit_action: 1,
            result: 0,
        });
        s.record_controller_reset();
        assert_eq!(s.get_feature(0xc6, 0, 0).unwrap().0, 7 << 16);
        s.record_power_cycle(0);
        assert_eq!(s.get_feature(0xc6, 0, 0).unwrap().0, 60 << 16);
        assert_eq!(
            s.log_page(0xc2, &stats(), 0).unwrap()[4],
            1,
            "history survives"
        );
    }

    #[test]
    fn health_properties_read_current_values() {
        let mut s = state();
        s.set_health_property("percentage-used", 42).unwrap();
        assert_eq!(s.health_property("percentage-used"), Some(42));
        assert_eq!(s.health_property("temperature"), Some(313));
        assert_eq!(s.health_property("rated-pe-cycles"), Some(3000));
        assert_eq!(s.health_property("nope"), None);
        let e = s.set_health_property("capacitor-health", 101).unwrap_err();
        assert!(e.starts_with("capacitor-health:"));
        // State is comparable (for migration tests).
        assert_eq!(s.clone(), s);
    }

    #[test]
    fn critical_warning_bits() {
        let mut s = state();
        assert_eq!(s.critical_warning(), 0);
        s.set_health_property("available-spare", 5).unwrap();
        assert_eq!(s.critical_warning() & 1, 1);
        s.set_health_property("capacitor-health", 5).unwrap();
        assert_ne!(s.critical_warning() & 16, 0);
        s.set_health_property("temperature", 350).unwrap();
        assert_ne!(s.critical_warning() & 2, 0);
    }
}
