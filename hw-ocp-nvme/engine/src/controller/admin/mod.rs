// SPDX-License-Identifier: GPL-2.0-or-later
//! Admin command set (NVMe 2.0 Base, 5): dispatch and shared helpers.

pub mod aer;
pub mod features;
pub mod firmware;
pub mod format;
pub mod identify;
pub mod lockdown;
pub mod log;
pub mod namespace;
pub mod pel;
pub mod queue;
pub mod sanitize;
pub mod selftest;

use crate::controller::{Controller, DbBuf, Outcome, Request};
use crate::spec::cmd::{AdminCmd, DoorbellBufferConfigCmd, Psdt, Sqe};
use crate::spec::status::Status;
use crate::traits::Host;
use crate::transfer;
use features::FeatureOwner;

impl Controller {
    /// Execute one admin command.
    pub(crate) fn execute_admin(&mut self, req: &Request, host: &mut Host) -> Outcome {
        let sqe = &req.sqe;
        // Fused operations are not supported (Identify FUSES = 0), and admin
        // commands over PCIe use PRPs only.
        if sqe.fuse() != 0 || sqe.psdt() != Psdt::Prp {
            return Status::INVALID_FIELD.into();
        }
        let cmd = AdminCmd::parse(sqe);
        // OCP NVMe-AD-11: a non-zero NSID on a command that does not use the
        // NSID field is Invalid Field in Command.
        if sqe.nsid() != 0 && !uses_nsid(&cmd) {
            return Status::INVALID_FIELD.into();
        }
        if let Some(s) = self.lockdown_gate(sqe.opcode(), sqe.cdw(10)) {
            return s.into();
        }
        let log_id = match cmd {
            AdminCmd::GetLogPage(c) => Some(c.lid),
            _ => None,
        };
        if let Some(s) = self.sanitize_admin_gate(sqe.opcode(), log_id) {
            return s.into();
        }
        match cmd {
            AdminCmd::DeleteIoSq(cmd) => self.delete_io_sq(req, cmd),
            AdminCmd::CreateIoSq(cmd) => self.create_io_sq(req, cmd),
            AdminCmd::DeleteIoCq(cmd) => self.delete_io_cq(cmd),
            AdminCmd::CreateIoCq(cmd) => self.create_io_cq(req, cmd, host),
            AdminCmd::GetLogPage(cmd) => self.get_log_page(req, cmd, host),
            AdminCmd::Identify(cmd) => self.identify(req, cmd, host),
            AdminCmd::Abort(cmd) => self.abort_command(cmd, host),
            AdminCmd::SetFeatures(cmd) => {
                let now = self.now(host);
                let before = self.timestamp_bytes(now);
                let o = match self.feature_owner(cmd.fid, cmd.uuid) {
                    Ok(FeatureOwner::Controller(cap)) => self.set_features(req, cmd, cap, host),
                    Ok(FeatureOwner::Ocp) => self.ocp_set_feature(req, cmd, host),
                    Err(s) => s.into(),
                };
                if let Outcome::Done { status, .. } = o {
                    if status.is_success() {
                        self.record_set_feature(req, cmd.fid, before, now);
                    }
                }
                o
            }
            AdminCmd::GetFeatures(cmd) => match self.feature_owner(cmd.fid, cmd.uuid) {
                Ok(FeatureOwner::Controller(cap)) => self.get_features(req, cmd, cap, host),
                Ok(FeatureOwner::Ocp) => self.ocp_get_feature(req, cmd, host),
                Err(s) => s.into(),
            },
            AdminCmd::AsyncEventRequest => self.async_event_request(req, host),
            AdminCmd::FirmwareCommit(cmd) => {
                let old = self.fw.active_rev();
                let o = self.firmware_commit(cmd, host);
                let now = self.now(host);
                self.record_firmware_commit_event(old, cmd, o, now);
                o
            }
            AdminCmd::FirmwareImageDownload(cmd) => self.firmware_download(req, cmd, host),
            AdminCmd::DeviceSelfTest(cmd) => self.device_self_test(req, cmd, host),
            AdminCmd::KeepAlive => {
                let now = self.now(host);
                self.restart_keep_alive(now);
                Outcome::ok()
            }
            AdminCmd::DoorbellBufferConfig(cmd) => self.doorbell_buffer_config(cmd, host),
            AdminCmd::FormatNvm(cmd) => self.format_nvm(req, cmd, host),
            AdminCmd::NamespaceManagement(cmd) => self.namespace_management(req, cmd, host),
            AdminCmd::NamespaceAttachment(cmd) => self.namespace_attachment(req, cmd, host),
            AdminCmd::Sanitize(cmd) => self.sanitize(req, cmd, host),
            AdminCmd::Lockdown(cmd) => self.lockdown(cmd),
            AdminCmd::Unknown { .. } => Status::INVALID_OPCODE.into(),
        }
    }

    /// Doorbell Buffer Config (NVMe 2.0 Base, 5.8): both buffers page aligned.
    fn doorbell_buffer_config(&mut self, cmd: DoorbellBufferConfigCmd, host: &mut Host) -> Outcome {
        let DoorbellBufferConfigCmd { shadow, eventidx } = cmd;
        if shadow == 0
            || eventidx == 0
            || shadow % transfer::PAGE_SIZE != 0
            || eventidx % transfer::PAGE_SIZE != 0
        {
            return Status::INVALID_FIELD.into();
        }
        self.dbbuf = Some(DbBuf { shadow, eventidx });
        self.sq_notifiers_changed();
        // Start the shadow copies from the current doorbell values.
        let nq = u16::try_from(self.sqs.len()).unwrap_or(u16::MAX);
        for qid in 1..nq {
            self.mirror_sq_tail(qid, host);
            self.publish_sq_eventidx(qid, host);
            self.mirror_cq_head(qid, host);
            self.publish_cq_eventidx(qid, host);
        }
        Outcome::ok()
    }

    /// Transfer a controller-to-host data structure through PRP1/PRP2.
    /// `data.len()` is bounded by the caller (a data structure, or MDTS).
    pub(crate) fn send_data(&self, sqe: &Sqe, data: &[u8], host: &mut Host) -> Status {
        if data.len() as u64 > self.cfg.max_transfer_bytes() {
            return Status::INVALID_FIELD;
        }
        match transfer::resolve(host.mem, sqe, data.len() as u64, false, false) {
            Ok(t) => match t.write_to_guest(host.mem, data) {
                Ok(()) => Status::SUCCESS,
                Err(s) => s,
            },
            Err(s) => s,
        }
    }

    /// Transfer `len` bytes host-to-controller through PRP1/PRP2.
    pub(crate) fn receive_data(
        &self,
        sqe: &Sqe,
        len: usize,
        host: &mut Host,
    ) -> Result<Vec<u8>, Status> {
        if len as u64 > self.cfg.max_transfer_bytes() {
            return Err(Status::INVALID_FIELD);
        }
        let t = transfer::resolve(host.mem, sqe, len as u64, false, false)?;
        let mut buf = vec![0u8; len];
        t.read_from_guest(host.mem, &mut buf)?;
        Ok(buf)
    }
}

/// Whether the admin command uses the NSID field (NVMe 2.0 Base, Figure
/// 28): queue management, Abort, Asynchronous Event Request, Firmware
/// Commit / Image Download, Keep Alive, Doorbell Buffer Config, Sanitize
/// and Lockdown do not.
fn uses_nsid(cmd: &AdminCmd) -> bool {
    !matches!(
        cmd,
        AdminCmd::DeleteIoSq(_)
            | AdminCmd::CreateIoSq(_)
            | AdminCmd::DeleteIoCq(_)
            | AdminCmd::CreateIoCq(_)
            | AdminCmd::Abort(_)
            | AdminCmd::AsyncEventRequest
            | AdminCmd::FirmwareCommit(_)
            | AdminCmd::FirmwareImageDownload(_)
            | AdminCmd::KeepAlive
            | AdminCmd::DoorbellBufferConfig(_)
            | AdminCmd::Sanitize(_)
            | AdminCmd::Lockdown(_)
    )
}

/// Validate a UUID Index (CDW14 bits 6:0): 0 (none) or the OCP UUID's index.
pub fn uuid_index_ok(uuid: u8) -> bool {
    uuid == 0 || uuid == crate::ocp::OCP_UUID_INDEX
}

/// Is `nsid` an active namespace or the broadcast value?
pub fn nsid_is_ns_or_all(ns: &crate::namespace::Namespaces, nsid: u32) -> bool {
    ns.active(nsid).is_some() || nsid == 0xffff_ffff
}
