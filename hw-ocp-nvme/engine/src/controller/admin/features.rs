// SPDX-License-Identifier: GPL-2.0-or-later
//! Get Features / Set Features (NVMe 2.0 Base, 5.15, 5.27) with current,
//! default, saved and supported-capabilities selection.

use crate::config::ControllerConfig;
use crate::controller::admin;
use crate::controller::{Controller, Outcome, Request};
use crate::spec::cmd::{GetFeaturesCmd, SetFeaturesCmd};
use crate::spec::feat::{
    capabilities_dw0, Arbitration, AsyncEventConfig, ErrorRecovery, InterruptCoalescing,
    InterruptVectorConfig, NumberOfQueues, PowerManagement, TemperatureThreshold, Timestamp,
};
use crate::spec::ids::fid;
use crate::spec::status::Status;
use crate::traits::Host;
use crate::wire::LeWriter;

/// Size of the Host Behavior Support data structure.
const HOST_BEHAVIOR_SIZE: usize = 512;

/// Number of power states minus one (Identify NPSS).
pub const NPSS: u8 = 2;

/// Feature values. One copy is current, one saved (restored on reset).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Features {
    pub arbitration: Arbitration,
    pub power_mgmt: PowerManagement,
    pub temp_over: u16,
    pub temp_under: u16,
    pub error_recovery: ErrorRecovery,
    pub vwc: bool,
    pub coalescing: InterruptCoalescing,
    /// Coalescing Disable per interrupt vector.
    pub iv_cd: Vec<bool>,
    pub write_atomicity: u32,
    pub async_event_config: AsyncEventConfig,
    pub kato_ms: u32,
    /// Host Behavior Support bytes 0..4 (ACRE, ETDAS, LBAFEE, reserved).
    pub host_behavior: [u8; 4],
}

crate::persist::persist_struct!(Features {
    arbitration,
    power_mgmt,
    temp_over,
    temp_under,
    error_recovery,
    vwc,
    coalescing,
    iv_cd,
    write_atomicity,
    async_event_config,
    kato_ms,
    host_behavior,
});

impl Features {
    pub fn defaults(cfg: &ControllerConfig) -> Features {
        let mut iv_cd = vec![false; cfg.msix_vectors as usize];
        iv_cd[0] = true;
        Features {
            arbitration: Arbitration::decode(0x3),
            power_mgmt: PowerManagement::decode(0),
            temp_over: cfg.health.warning_temp_k,
            temp_under: 0,
            error_recovery: ErrorRecovery::decode(0),
            vwc: cfg.volatile_write_cache,
            coalescing: InterruptCoalescing::decode(0),
            iv_cd,
            write_atomicity: 0,
            async_event_config: AsyncEventConfig::decode(0x1f),
            kato_ms: 0,
            host_behavior: [0; 4],
        }
    }

    /// Is coalescing disabled for vector `iv`?
    pub fn vector_cd(&self, iv: u16) -> bool {
        self.iv_cd.get(iv as usize).copied().unwrap_or(true)
    }
}

/// Capabilities of a supported feature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caps {
    saveable: bool,
    ns_specific: bool,
}

/// Who serves a Set/Get Features.
pub enum FeatureOwner {
    /// The OCP module (FID C0h-FFh).
    Ocp,
    /// The controller, with the feature's capabilities.
    Controller(Caps),
}

impl Controller {
    /// Check the UUID index (NVMe 2.0 Base, 5.27: 0 or the OCP UUID's) and
    /// find who serves feature `id`; Invalid Field for an unsupported one.
    pub(crate) fn feature_owner(&self, id: u8, uuid: u8) -> Result<FeatureOwner, Status> {
        if !admin::uuid_index_ok(uuid) {
            return Err(Status::INVALID_FIELD);
        }
        if id >= fid::VENDOR_FIRST {
            return Ok(FeatureOwner::Ocp);
        }
        self.feature_caps(id)
            .map(FeatureOwner::Controller)
            .ok_or(Status::INVALID_FIELD)
    }

    fn feature_caps(&self, f: u8) -> Option<Caps> {
        let (saveable, ns_specific) = match f {
            fid::ARBITRATION
            | fid::POWER_MANAGEMENT
            | fid::TEMPERATURE_THRESHOLD
            | fid::INTERRUPT_COALESCING
            | fid::INTERRUPT_VECTOR_CONFIG
            | fid::WRITE_ATOMICITY
            | fid::ASYNC_EVENT_CONFIG => (true, false),
            fid::ERROR_RECOVERY => (true, true),
            fid::VOLATILE_WRITE_CACHE if self.cfg.volatile_write_cache => (true, false),
            fid::NUMBER_OF_QUEUES
            | fid::TIMESTAMP
            | fid::KEEP_ALIVE_TIMER
            | fid::HOST_BEHAVIOR_SUPPORT => (false, false),
            _ => return None,
        };
        Some(Caps {
            saveable,
            ns_specific,
        })
    }

    /// Timestamp data structure (NVMe 2.0 Base, 5.27.1.11).
    pub(crate) fn timestamp_bytes(&self, now: u64) -> [u8; 8] {
        let ms = self
            .timestamp_ms
            .wrapping_add(now.saturating_sub(self.timestamp_set_ns) / 1_000_000)
            & 0xffff_ffff_ffff;
        Timestamp {
            ms,
            synch: false,
            origin: self.timestamp_origin,
        }
        .encode()
    }

    pub(crate) fn set_features(
        &mut self,
        req: &Request,
        cmd: SetFeaturesCmd,
        cap: Caps,
        host: &mut Host,
    ) -> Outcome {
        let SetFeaturesCmd {
            fid: id, sv, cdw11, ..
        } = cmd;
        let sqe = &req.sqe;
        let nsid = sqe.nsid();
        if cap.ns_specific {
            if !admin::nsid_is_ns_or_all(&self.ns, nsid) {
                return Status::INVALID_NAMESPACE.into();
            }
        } else if nsid != 0 && nsid != 0xffff_ffff {
            return if self.ns.active(nsid).is_some() {
                Status::FEATURE_NOT_NS_SPECIFIC
            } else {
                Status::INVALID_NAMESPACE
            }
            .into();
        }
        if sv && !cap.saveable {
            return Status::FEATURE_NOT_SAVEABLE.into();
        }
        let v = cdw11;
        let now = self.now(host);
        match id {
            fid::NUMBER_OF_QUEUES => {
                if self.io_queues_created {
                    return Status::COMMAND_SEQUENCE_ERROR.into();
                }
                let wanted = NumberOfQueues::decode(v);
                if wanted.nsq == 0xffff || wanted.ncq == 0xffff {
                    return Status::INVALID_FIELD.into();
                }
                let max = self.cfg.max_ioqpairs - 1;
                self.nsqa = wanted.nsq.min(max);
                self.ncqa = wanted.ncq.min(max);
                Outcome::dw0(
                    NumberOfQueues {
                        nsq: self.nsqa,
                        ncq: self.ncqa,
                    }
                    .encode(),
                )
            }
            fid::TIMESTAMP => match self.receive_data(sqe, 8, host) {
                Ok(b) => {
                    let mut raw = [0u8; 8];
                    raw.copy_from_slice(&b[..8]);
                    self.timestamp_ms = Timestamp::decode(&raw).ms;
                    self.timestamp_set_ns = now;
                    self.timestamp_origin = 1;
                    self.ocp_set_timestamp(self.timestamp_ms, now);
                    Outcome::ok()
                }
                Err(s) => s.into(),
            },
            fid::KEEP_ALIVE_TIMER => {
                // Granularity is KAS (1 s): round up.
                self.feat.kato_ms = if v == 0 {
                    0
                } else {
                    v.div_ceil(1000).saturating_mul(1000)
                };
                self.restart_keep_alive(now);
                Outcome::ok()
            }
            fid::HOST_BEHAVIOR_SUPPORT => match self.receive_data(sqe, HOST_BEHAVIOR_SIZE, host) {
                Ok(b) => {
                    if b[0] > 1 || b[1] > 1 || b[2] > 1 {
                        return Status::INVALID_FIELD.into();
                    }
                    self.feat.host_behavior.copy_from_slice(&b[..4]);
                    Outcome::ok()
                }
                Err(s) => s.into(),
            },
            _ => {
                let cfg = self.cfg.clone();
                let old_ps = self.feat.power_mgmt.ps;
                if let Err(s) = apply(&cfg, &mut self.feat, id, v) {
                    return s.into();
                }
                if id == fid::POWER_MANAGEMENT {
                    if self.feat.power_mgmt.ps != old_ps {
                        self.counters.power_state_changes += 1;
                    }
                    // DSSDPSG-2: FID C7h now reports this state's Maximum Power.
                    self.ocp.nvme_power_state_selected(self.feat.power_mgmt.ps);
                }
                if sv {
                    let _ = apply(&cfg, &mut self.saved_feat, id, v);
                    self.persist_request = true;
                }
                if id == fid::TEMPERATURE_THRESHOLD {
                    self.check_temperature(host);
                }
                Outcome::ok()
            }
        }
    }

    pub(crate) fn get_features(
        &self,
        req: &Request,
        cmd: GetFeaturesCmd,
        cap: Caps,
        host: &mut Host,
    ) -> Outcome {
        let GetFeaturesCmd {
            fid: id,
            sel,
            cdw11,
            ..
        } = cmd;
        let sqe = &req.sqe;
        // Namespace-specific features are read for one namespace.
        if cap.ns_specific && sqe.nsid() != 1 {
            return Status::INVALID_NAMESPACE.into();
        }
        let defaults = Features::defaults(&self.cfg);
        let src = match sel {
            0 => &self.feat,
            1 => &defaults,
            2 if cap.saveable => &self.saved_feat,
            2 => &defaults,
            3 => return Outcome::dw0(capabilities_dw0(cap.saveable, cap.ns_specific, true)),
            _ => return Status::INVALID_FIELD.into(),
        };
        match id {
            fid::NUMBER_OF_QUEUES => {
                let (s, q) = if sel == 0 {
                    (self.nsqa, self.ncqa)
                } else {
                    (self.cfg.max_ioqpairs - 1, self.cfg.max_ioqpairs - 1)
                };
                Outcome::dw0(NumberOfQueues { nsq: s, ncq: q }.encode())
            }
            fid::TIMESTAMP => {
                let now = self.now(host);
                let b = self.timestamp_bytes(now);
                self.send_data(sqe, &b, host).into()
            }
            fid::HOST_BEHAVIOR_SUPPORT => {
                // Host Behavior Support data structure (FID 16h, NVMe 2.0 Base, 5.27.1).
                let mut w = LeWriter::page::<HOST_BEHAVIOR_SIZE>();
                if sel == 0 {
                    w.bytes(0, &self.feat.host_behavior);
                }
                self.send_data(sqe, &w.finish(), host).into()
            }
            _ => match value(&self.cfg, src, id, cdw11) {
                Ok(v) => Outcome::dw0(v),
                Err(s) => s.into(),
            },
        }
    }
}

/// Which supported feature IDs exist (for the Supported Log Pages / docs tests).
pub const SUPPORTED_FIDS: [u8; 13] = [
    fid::ARBITRATION,
    fid::POWER_MANAGEMENT,
    fid::TEMPERATURE_THRESHOLD,
    fid::ERROR_RECOVERY,
    fid::VOLATILE_WRITE_CACHE,
    fid::NUMBER_OF_QUEUES,
    fid::INTERRUPT_COALESCING,
    fid::INTERRUPT_VECTOR_CONFIG,
    fid::WRITE_ATOMICITY,
    fid::ASYNC_EVENT_CONFIG,
    fid::TIMESTAMP,
    fid::KEEP_ALIVE_TIMER,
    fid::HOST_BEHAVIOR_SUPPORT,
];

/// Apply a register-valued feature to `f`; returns Completion DW0.
fn apply(cfg: &ControllerConfig, f: &mut Features, id: u8, v: u32) -> Result<u32, Status> {
    match id {
        fid::ARBITRATION => f.arbitration = Arbitration::decode(v),
        fid::POWER_MANAGEMENT => {
            let pm = PowerManagement::decode(v);
            if pm.ps > NPSS {
                return Err(Status::INVALID_FIELD);
            }
            f.power_mgmt = pm;
        }
        fid::TEMPERATURE_THRESHOLD => {
            let t = TemperatureThreshold::decode(v);
            // Only the composite temperature sensor exists.
            if t.tmpsel != 0 && t.tmpsel != 0xf {
                return Err(Status::INVALID_FIELD);
            }
            match t.thsel {
                0 => f.temp_over = t.tmpth,
                1 => f.temp_under = t.tmpth,
                _ => return Err(Status::INVALID_FIELD),
            }
        }
        fid::ERROR_RECOVERY => {
            let e = ErrorRecovery::decode(v);
            // DULBE needs Identify Namespace NSFEAT bit 2, not supported.
            if e.dulbe {
                return Err(Status::INVALID_FIELD);
            }
            f.error_recovery = e;
        }
        fid::VOLATILE_WRITE_CACHE => f.vwc = v & 1 != 0,
        fid::INTERRUPT_COALESCING => f.coalescing = InterruptCoalescing::decode(v),
        fid::INTERRUPT_VECTOR_CONFIG => {
            let ivc = InterruptVectorConfig::decode(v);
            // The admin vector (0) cannot be coalesced.
            if ivc.iv >= cfg.msix_vectors || (ivc.iv == 0 && !ivc.cd) {
                return Err(Status::INVALID_FIELD);
            }
            f.iv_cd[ivc.iv as usize] = ivc.cd;
        }
        fid::WRITE_ATOMICITY => f.write_atomicity = v & 1,
        fid::ASYNC_EVENT_CONFIG => {
            f.async_event_config = AsyncEventConfig::decode(v & AsyncEventConfig::SUPPORTED);
        }
        _ => return Err(Status::INVALID_FIELD),
    }
    Ok(0)
}

/// Read a register-valued feature from `f`.
fn value(cfg: &ControllerConfig, f: &Features, id: u8, cdw11: u32) -> Result<u32, Status> {
    Ok(match id {
        fid::ARBITRATION => f.arbitration.encode(),
        fid::POWER_MANAGEMENT => f.power_mgmt.encode(),
        fid::TEMPERATURE_THRESHOLD => {
            let t = TemperatureThreshold::decode(cdw11);
            if t.tmpsel != 0 {
                return Err(Status::INVALID_FIELD);
            }
            match t.thsel {
                0 => u32::from(f.temp_over),
                1 => u32::from(f.temp_under),
                _ => return Err(Status::INVALID_FIELD),
            }
        }
        fid::ERROR_RECOVERY => f.error_recovery.encode(),
        fid::VOLATILE_WRITE_CACHE => u32::from(f.vwc),
        fid::INTERRUPT_COALESCING => f.coalescing.encode(),
        fid::INTERRUPT_VECTOR_CONFIG => {
            let iv = InterruptVectorConfig::decode(cdw11).iv;
            if iv >= cfg.msix_vectors {
                return Err(Status::INVALID_FIELD);
            }
            InterruptVectorConfig {
                iv,
                cd: f.vector_cd(iv),
            }
            .encode()
        }
        fid::WRITE_ATOMICITY => f.write_atomicity,
        fid::ASYNC_EVENT_CONFIG => f.async_event_config.encode(),
        fid::KEEP_ALIVE_TIMER => f.kato_ms,
        _ => return Err(Status::INVALID_FIELD),
    })
}
