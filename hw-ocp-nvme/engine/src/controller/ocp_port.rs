// SPDX-License-Identifier: GPL-2.0-or-later
//! The engine's port to the OCP module: the one place the controller calls
//! `crate::ocp` (one [`OcpState`] per controller). Every hook is a
//! `Controller` method.
//!
//! | hook | engine event | OCP call |
//! |---|---|---|
//! | [`Controller::ocp_log_page`] / [`log_supported`] | Get Log Page, LID C0h-FFh | `OcpState::log_page` |
//! | [`Controller::ocp_set_feature`] / [`Controller::ocp_get_feature`] | Set/Get Features, FID C0h-FFh | `OcpState::{set,get}_feature` |
//! | [`Controller::telemetry_log`] | Get Log Page 07h (create) / 08h | `OcpState::telemetry_log` |
//! | [`Controller::before_command`] | every command, before it runs | `OcpState::injection` |
//! | [`Controller::command_completed`] | completion of a command that went to storage | `OcpState::record_latency` |
//! | [`Controller::ocp_fw_commit`] | Firmware Commit activated an image | `OcpState::record_fw_commit` |
//! | [`Controller::ocp_set_timestamp`] | Set Features Timestamp | `OcpState::set_timestamp` |
//! | [`Controller::ocp_controller_reset`] | CC.EN 1 -> 0, power cycle | `OcpState::record_{controller_reset,power_cycle}` |
//! | [`Controller::smart_log`] | Get Log Page 02h | `OcpState::{advance,smart_log}` |
//! | [`Controller::device_stats`] | any of the above | builds `DeviceStats` from `Counters` |
//! | [`Controller::check_health_events`] | after log reads, feature and property changes | `OcpState::take_async_event`, critical warning |
//!
//! The engine validates the UUID index (0 or the OCP UUID's index 1) before
//! calling the log page and feature hooks, and applies LPO, NUMD and RAE to
//! the page a log hook returns. The health model advances lazily: whenever a
//! log page (02h, C0h-C9h, 07h/08h) is read, a health property is set, or
//! [`Controller::advance_health`] is called.

use crate::config::ControllerConfig;
use crate::controller::admin::features::Features;
use crate::controller::{Controller, Delayed, Outcome, Request};
use crate::counters::LatencyClass;
use crate::namespace::Namespace;
use crate::ocp::{self, CommandKind, DeviceIdentity, DeviceStats, FwCommitEvent, OcpState};
use crate::spec::cmd::{AdminCmd, DatasetManagementCmd, GetFeaturesCmd, NvmCmd, SetFeaturesCmd};
use crate::spec::ids::aen;
use crate::spec::status::Status;
use crate::traits::Host;
use crate::wire;

/// The OCP state of a freshly created controller.
pub fn new_ocp_state(cfg: &ControllerConfig) -> OcpState {
    let identity = DeviceIdentity {
        serial: cfg.serial.as_bytes().to_vec(),
        model: cfg.model.as_bytes().to_vec(),
        firmware_rev: wire::ascii(&cfg.firmware_rev),
        capacity_bytes: cfg.capacity_bytes,
        pcie_ports: 1,
        commands: ocp::CommandSupport {
            write_zeroes: true,
            dataset_management: cfg.discard,
            write_uncorrectable: true,
            // DCLP-4: Sanitize with crypto erase, block erase, overwrite
            // and deallocation after sanitize (NVMe-AD-7, NVMe-AD-29).
            sanitize: 0x1f,
            // Compare and Write (DCLP-7 bit 0, NVMe-IO-9).
            fused_compare_write: true,
        },
        security_version: 0,
        lowest_permitted_fw_rev: wire::ascii(&cfg.firmware_rev),
        ocp_version: cfg.ocp_version,
    };
    let mut s = OcpState::new(&cfg.health, &identity);
    s.set_background_model(true);
    s
}

impl Controller {
    /// Everything the engine measured, for the OCP module: the one place
    /// `DeviceStats` is built. Media errors are the engine's count of
    /// Unrecovered Read Errors (and other media statuses) it completed,
    /// injected ones included, so each counts exactly once.
    pub(crate) fn device_stats(&self, now: u64) -> DeviceStats {
        let k = &self.counters;
        let mut busy = k.busy_ns;
        if let Some(since) = self.busy_since {
            busy = busy.saturating_add(now.saturating_sub(since));
        }
        let lba = self.ns.active(1).map_or(512, Namespace::lba_size);
        let dealloc_bytes = u128::from(k.deallocated_blocks) * u128::from(lba);
        let used = k
            .bytes_written
            .saturating_sub(dealloc_bytes)
            .min(u128::from(self.cfg.capacity_bytes));
        DeviceStats {
            host_bytes_written: k.bytes_written,
            host_bytes_read: k.bytes_read,
            host_read_commands: k.host_read_commands,
            host_write_commands: k.host_write_commands,
            controller_busy_minutes: u128::from(busy / 60_000_000_000),
            power_cycles: u64::try_from(k.power_cycles).unwrap_or(u64::MAX),
            power_on_seconds: k.power_on_ns(now) / 1_000_000_000,
            unsafe_shutdowns: u64::try_from(k.unsafe_shutdowns).unwrap_or(u64::MAX),
            incomplete_shutdowns: 0,
            media_errors: u64::try_from(k.media_errors).unwrap_or(u64::MAX),
            error_log_entries: k.error_log_entries,
            pcie_correctable_errors: 0,
            pcie_link_retrainings: 0,
            power_state_changes: k.power_state_changes,
            nvme_power_state: self.power_state(),
            unaligned_io: k.unaligned_io,
            // Limited Retry commands beyond TLER (SMART-42); injected
            // timeouts are counted by the OCP module itself.
            command_timeouts: k.tler_timeouts,
            plp_start_count: 0,
            total_nuse: self.ns.total_nuse(),
            used_bytes: u64::try_from(used).unwrap_or(u64::MAX),
            active_namespaces: self.ns.active_ids().count() as u32,
            outstanding_admin_commands: self
                .sqs
                .first()
                .and_then(Option::as_ref)
                .map_or(0, |q| q.inflight),
            deallocated_lbas: k.deallocated_blocks,
            perst_events: u64::try_from(k.power_cycles.saturating_sub(1)).unwrap_or(u64::MAX),
            timestamp_ms: self.timestamp_ms(now),
        }
    }

    /// The whole content of vendor log page `lid`, or Invalid Log Page for
    /// the ones the OCP module does not serve (NVMe 2.0 Base, 5.16).
    pub(crate) fn ocp_log_page(&mut self, lid: u8, now: u64) -> Result<Vec<u8>, Status> {
        let stats = self.device_stats(now);
        self.ocp
            .log_page(lid, &stats, now)
            .ok_or(Status::INVALID_LOG_PAGE)
    }

    /// NVMe SMART / Health Information (02h) from the health model and the
    /// engine's counters, with the engine's own critical warning bits.
    pub(crate) fn smart_log(&self, now: u64) -> Vec<u8> {
        // A plain read (SLOG-6): the model advances in the background.
        let stats = self.device_stats(now);
        let mut b = self.ocp.smart_log(&stats);
        b[0] = self.critical_warning();
        // Endurance Group Critical Warning Summary: the one group's bits.
        b[6] = b[0] & ocp::endurance::CRITICAL_WARNING_BITS;
        b
    }

    /// Endurance Group Information (09h) from the health model, with the
    /// engine's own critical warning bits (read only).
    pub(crate) fn endurance_group_log(&self, now: u64) -> Vec<u8> {
        let stats = self.device_stats(now);
        let cap = ocp::endurance::GroupCapacity {
            total: self.ns.total_bytes(),
            unallocated: self.ns.unallocated_bytes(),
        };
        let mut b = self.ocp.endurance_group_log(&stats, cap);
        b[0] = self.critical_warning() & ocp::endurance::CRITICAL_WARNING_BITS;
        b
    }

    /// Set Features for FID C0h-FFh.
    pub(crate) fn ocp_set_feature(
        &mut self,
        req: &Request,
        cmd: SetFeaturesCmd,
        host: &mut Host,
    ) -> Outcome {
        let SetFeaturesCmd { fid, sv, cdw11, .. } = cmd;
        if !self.ocp.feature_supported(fid) {
            return Status::INVALID_FIELD.into();
        }
        let len = OcpState::feature_data_len(fid, true, cdw11);
        let data = if len == 0 {
            Vec::new()
        } else {
            match self.receive_data(&req.sqe, len, host) {
                Ok(d) => d,
                Err(s) => return s.into(),
            }
        };
        let now = self.now(host);
        if fid == 0xc3 {
            // Clear PCIe correctable errors now, against the engine's count.
            let stats = self.device_stats(now);
            self.ocp.advance(&stats, now);
        }
        let r = self.ocp.set_feature(fid, cdw11, sv, &data, now);
        if fid == ocp::error_injection::FID
            && self
                .ocp
                .injection
                .holds(ocp::error_injection::CLEAR_PERSISTENT_EVENT_LOG)
        {
            // EVTDEF-29: empty now; nothing recorded until the host exits
            // event injection ([`Controller::record_event`]).
            self.pel.clear();
        }
        if fid == ocp::features::FID_DSSD_POWER_STATE && r.is_ok() {
            self.follow_dssd_power_state(sv);
        }
        self.check_health_events(host);
        match r {
            Ok(dw0) => Outcome::dw0(dw0),
            Err(e) => feature_error_status(e).into(),
        }
    }

    /// Get Features for FID C0h-FFh.
    pub(crate) fn ocp_get_feature(
        &self,
        req: &Request,
        cmd: GetFeaturesCmd,
        host: &mut Host,
    ) -> Outcome {
        let GetFeaturesCmd {
            fid, sel, cdw11, ..
        } = cmd;
        if !self.ocp.feature_supported(fid) {
            return Status::INVALID_FIELD.into();
        }
        match self.ocp.get_feature(fid, sel, cdw11) {
            Ok((dw0, None)) => Outcome::dw0(dw0),
            Ok((dw0, Some(data))) => {
                let st = self.send_data(&req.sqe, &data, host);
                if st.is_success() {
                    Outcome::dw0(dw0)
                } else {
                    st.into()
                }
            }
            Err(e) => feature_error_status(e).into(),
        }
    }

    /// The DSSD power state (FID C7h) drives the NVMe power state (feature
    /// 02h): the highest powered state whose Maximum Power fits (OCP 2.7
    /// section 4.8.11, DSSDPSS-1); a change counts as a power state change
    /// (SMART-31). With `save` the saved 02h value follows too.
    fn follow_dssd_power_state(&mut self, save: bool) {
        let ps = self.ocp.dssd_nvme_power_state();
        if self.feat.power_mgmt.ps != ps {
            self.feat.power_mgmt.ps = ps;
            self.counters.power_state_changes += 1;
        }
        if save {
            self.saved_feat.power_mgmt.ps = ps;
        }
    }

    /// A whole telemetry log, 07h (host-initiated) or 08h
    /// (controller-initiated): NVMe header with DA1LB = DA2LB = DA3LB and the
    /// OCP reason identifier, then Data Area 1.
    pub(crate) fn telemetry_log(&mut self, lid: u8, now: u64) -> Vec<u8> {
        let stats = self.device_stats(now);
        let g = self.telemetry_generation();
        self.ocp.telemetry_log(lid, &stats, now, &g)
    }

    /// Generation numbers and availability for a telemetry header.
    pub(crate) fn telemetry_generation(&self) -> ocp::telemetry::TelemetryGeneration {
        ocp::telemetry::TelemetryGeneration {
            ieee_oui: [
                self.cfg.ieee_oui[2],
                self.cfg.ieee_oui[1],
                self.cfg.ieee_oui[0],
            ],
            host_generation: self.telemetry.host_generation,
            ctrl_available: self.telemetry.ctrl_available,
            ctrl_generation: self.telemetry.ctrl_generation,
            // Host Behavior Support byte 1: ETDAS.
            data_area_4: self.feat.host_behavior[1] == 1,
        }
    }

    /// Error injection, end-of-life read-only mode and throttling delay for a
    /// command about to execute (FID C0h, C2h, C7h). A panic sets CSTS.CFS,
    /// queues the C9h-enabled notice and captures controller-initiated
    /// telemetry; the command never completes (the host resets the controller).
    /// A timeout also never completes: the command stays outstanding until a
    /// controller reset, as a hung command on a real drive would (OCP error
    /// injection types 16 and 18). Added latency postpones execution through
    /// the engine timer ([`Controller::timer_deadline`]).
    pub(crate) fn before_command(&mut self, req: &Request, now: u64, host: &mut Host) -> Gate {
        let Some(kind) = command_kind(req) else {
            return Gate::Run;
        };
        let inj = self.ocp.injection(kind, now);
        if inj.factory_defaults {
            self.feat = Features::defaults(&self.cfg);
            self.saved_feat = self.feat.clone();
            self.restart_keep_alive(now);
        }
        if inj.panic {
            if !self.cfs {
                let stats = self.device_stats(now);
                let g = ocp::telemetry::TelemetryGeneration {
                    ctrl_available: true,
                    ctrl_generation: self.telemetry.ctrl_generation.wrapping_add(1),
                    ..self.telemetry_generation()
                };
                self.telemetry.ctrl_data = self.ocp.telemetry_log(0x08, &stats, now, &g);
                self.telemetry.ctrl_generation = g.ctrl_generation;
                self.telemetry.ctrl_available = true;
                self.deliver_ocp_events(host);
                self.raise_event(
                    aen::TYPE_NOTICE,
                    aen::NOTICE_TELEMETRY_LOG_CHANGED,
                    crate::spec::ids::lid::TELEMETRY_CONTROLLER,
                    host,
                );
                // OCP 2.7 with Error Reporting AENs enabled: the AEN replaces
                // CSTS.CFS (SDAEC-14); admin commands keep running so that the
                // host can read C1h and recover (section 4.8.7 workflow).
                if !self.ocp.error_aen_replaces_cfs() {
                    self.fatal();
                }
            }
            return Gate::Hold;
        }
        if inj.timeout {
            self.timed_out.push((req.sqid, req.cid));
            return Gate::Hold;
        }
        if let Some(s) = inj.status {
            return Gate::Done(
                Status {
                    sct: s.sct,
                    sc: s.sc,
                    dnr: false,
                }
                .into(),
            );
        }
        if inj.added_latency_ns > 0 {
            self.delayed.push(Delayed {
                due_ns: now.saturating_add(inj.added_latency_ns),
                req: Request {
                    submit_ns: now,
                    ..*req
                },
            });
            return Gate::Hold;
        }
        Gate::Run
    }

    /// Called when a command that went to storage completes (latency monitor).
    pub(crate) fn command_completed(&mut self, class: LatencyClass, latency_ns: u64, now_ns: u64) {
        let class = match class {
            LatencyClass::Read => ocp::LatencyMonitorClass::Read,
            LatencyClass::Write => ocp::LatencyMonitorClass::Write,
            LatencyClass::Deallocate => ocp::LatencyMonitorClass::Deallocate,
            LatencyClass::Other => return,
        };
        self.ocp.record_latency(class, latency_ns, now_ns);
    }

    /// A Firmware Commit activated (or replaced) an image: C2h history.
    pub(crate) fn ocp_fw_commit(&mut self, ev: &FwCommitEvent) {
        self.ocp.record_fw_commit(ev);
    }

    /// The host set the Timestamp feature.
    pub(crate) fn ocp_set_timestamp(&mut self, ms: u64, now: u64) {
        self.ocp.set_timestamp(ms, now);
    }

    /// Called at a Controller Level Reset (CC.EN 1 -> 0) and, with
    /// `power_cycle`, at a power cycle: ends a panic, drops held commands.
    pub(crate) fn ocp_controller_reset(&mut self, power_cycle: bool, now_ns: u64) {
        self.delayed.clear();
        self.timed_out.clear();
        if power_cycle {
            self.ocp.record_power_cycle(now_ns);
            // Saved features are current again: a saved DSSD power state
            // selects its NVMe power state, else C7h follows feature 02h.
            if self.ocp.features.dssd_power_state.saved.is_some() {
                self.feat.power_mgmt.ps = self.ocp.dssd_nvme_power_state();
            } else {
                self.ocp.nvme_power_state_selected(self.feat.power_mgmt.ps);
            }
            self.telemetry.ctrl_data.clear();
            self.telemetry.ctrl_available = false;
        } else {
            self.ocp.record_controller_reset();
        }
    }

    /// Report the OCP module's pending asynchronous event (panic notice).
    fn deliver_ocp_events(&mut self, host: &mut Host) {
        while let Some(ev) = self.ocp.take_async_event() {
            self.raise_event(ev.event_type, ev.info, ev.log_page, host);
        }
    }

    /// Raise the SMART / Health AER for each critical warning bit (spare,
    /// temperature, reliability / read-only / PLP) that came on since the last
    /// check, and deliver the OCP module's events. Called after the health model
    /// advanced (log reads, [`Controller::advance_health`]), after OCP feature
    /// changes and health property changes: a standing condition is reported
    /// once, not at every log read. As everywhere in the engine, an event type
    /// stays masked once reported until the host reads its log with RAE = 0.
    pub(crate) fn check_health_events(&mut self, host: &mut Host) {
        let cw = self.critical_warning();
        let new = cw & !self.seen_warning;
        self.seen_warning = cw;
        if new & 2 != 0 {
            let now = self.now(host);
            self.record_thermal_excursion(now);
        }
        self.raise_warning_events(new, host);
    }

    fn raise_warning_events(&mut self, new: u8, host: &mut Host) {
        if new & 1 != 0 {
            self.raise_event(aen::TYPE_SMART, aen::SMART_SPARE, 0x02, host);
        }
        if new & 2 != 0 {
            self.raise_event(aen::TYPE_SMART, aen::SMART_TEMPERATURE, 0x02, host);
        }
        if new & !3 != 0 {
            self.raise_event(aen::TYPE_SMART, aen::SMART_RELIABILITY, 0x02, host);
        }
        self.deliver_ocp_events(host);
    }
}

fn feature_error_status(s: ocp::FeatureError) -> Status {
    match s {
        ocp::FeatureError::InvalidField => Status::INVALID_FIELD,
        ocp::FeatureError::FeatureNotSaveable => Status::FEATURE_NOT_SAVEABLE,
        ocp::FeatureError::FeatureNotChangeable => Status::FEATURE_NOT_CHANGEABLE,
    }
}

/// Is vendor log page `lid` supported (for the Supported Log Pages log)?
pub fn log_supported(lid: u8) -> bool {
    ocp::LOG_IDS.contains(&lid)
}

/// What the engine does with a command after error injection looked at it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    /// Execute it now.
    Run,
    /// Complete it with this outcome instead.
    Done(Outcome),
    /// Held: it executes later (added latency) or never (timeout, panic).
    Hold,
}

fn command_kind(req: &Request) -> Option<CommandKind> {
    if req.is_admin() {
        return match AdminCmd::parse(&req.sqe) {
            // Never inject into the commands that manage injection (FID C0h).
            AdminCmd::SetFeatures(SetFeaturesCmd { fid, .. })
            | AdminCmd::GetFeatures(GetFeaturesCmd { fid, .. })
                if fid == ocp::error_injection::FID =>
            {
                None
            }
            AdminCmd::Sanitize(_) => Some(CommandKind::Sanitize),
            AdminCmd::FormatNvm(_) => Some(CommandKind::Format),
            _ => Some(CommandKind::Admin),
        };
    }
    Some(match NvmCmd::parse(&req.sqe) {
        NvmCmd::Read(_) => CommandKind::Read,
        NvmCmd::Write(_) | NvmCmd::WriteZeroes(_) | NvmCmd::Copy(_) => CommandKind::Write,
        NvmCmd::DatasetManagement(DatasetManagementCmd { ad: true, .. }) => CommandKind::Deallocate,
        _ => CommandKind::OtherIo,
    })
}

/// Names of the health model properties (QOM properties of the device).
pub const HEALTH_PROPERTIES: &[&str] = &ocp::HealthConfig::PROPERTIES;

impl Controller {
    /// Reads a health property ([`HEALTH_PROPERTIES`]); `None` for an
    /// unknown name. Wear, spare, capacitor health and temperature are the
    /// model's current values; the others the configured ones.
    pub fn health_property(&self, name: &str) -> Option<u64> {
        self.ocp.health_property(name)
    }

    /// Sets a health property at startup or run time (QMP qom-set). The
    /// error is one line naming the property. SMART 02h, C0h and the
    /// critical warning follow at once; a newly set warning bit raises the
    /// SMART / Health asynchronous event.
    pub fn set_health_property(
        &mut self,
        name: &str,
        value: u64,
        host: &mut Host,
    ) -> Result<(), String> {
        let now = self.now(host);
        let stats = self.device_stats(now);
        self.ocp.advance(&stats, now);
        self.ocp.set_health_property(name, value)?;
        self.ocp.advance(&stats, now);
        self.check_health_events(host);
        Ok(())
    }

    /// Evolve the health model to now (temperature, wear) and raise the
    /// events it causes. The device may call it periodically; log reads do
    /// it too.
    pub fn advance_health(&mut self, host: &mut Host) {
        let now = self.now(host);
        let stats = self.device_stats(now);
        self.ocp.advance(&stats, now);
        self.check_health_events(host);
    }
}
