// SPDX-License-Identifier: GPL-2.0-or-later
//! Sanitize (NVMe 2.0 Base, 5.24 Sanitize command, 8.21 Sanitize
//! Operations, 5.16.1.25 Sanitize Status log page; OCP NVMe-AD-7, -8,
//! -17 to -22, -29).
//!
//! A sanitize operation erases every byte of the drive (offset 0 to the
//! capacity), in the background: the command completes at once and the
//! controller issues its own storage requests ([`IoOwner::Sanitize`]),
//! [`SANITIZE_WINDOW`] chunks at a time, until every pass is done.
//! Block Erase and Crypto Erase write zeroes (deallocating unless the host
//! set No-Deallocate After Sanitize); Overwrite writes the 32-bit pattern
//! (inverted on odd passes with OIPBP) for each pass, then deallocates
//! (zeroes) unless No-Deallocate was set, so that reads return zeroes or
//! the last pass's pattern (NVMe-AD-8, NVMe-AD-29).
//!
//! The operation survives Controller Level Resets and power cycles
//! (8.21: "once started, a sanitize operation cannot be aborted and
//! continues after a Controller Level Reset, including a power cycle"):
//! its progress is part of the saved state and of the power-cycle record,
//! and it resumes from the lowest chunk not known to be done.

use crate::controller::{Controller, IoOwner, Outcome, Request};
use crate::spec::cmd::SanitizeCmd;
use crate::spec::ids::{aen, lid};
use crate::spec::status::Status;
use crate::traits::{Host, IoKind};
use crate::wire::LeWriter;

/// Sanitize Action (CDW10 bits 2:0).
pub const SANACT_EXIT_FAILURE: u8 = 0b001;
pub const SANACT_BLOCK_ERASE: u8 = 0b010;
pub const SANACT_OVERWRITE: u8 = 0b011;
pub const SANACT_CRYPTO_ERASE: u8 = 0b100;

/// SSTAT bits 2:0 (Figure 292).
pub const SSTAT_NEVER: u8 = 0;
pub const SSTAT_SUCCESS: u8 = 1;
pub const SSTAT_IN_PROGRESS: u8 = 2;
pub const SSTAT_FAILED: u8 = 3;

/// SANICAP (Identify Controller bytes 331:328): Crypto Erase, Block Erase,
/// Overwrite (NVMe-AD-7), No-Deallocate Inhibited cleared (NVMe-AD-18),
/// No-Deallocate Modifies Media After Sanitize 01b: media is not modified
/// further (NVMe-AD-17).
pub const SANICAP: u32 = 1 | 1 << 1 | 1 << 2 | 0b01 << 30;

/// Storage requests of one sanitize operation in flight at once.
pub const SANITIZE_WINDOW: usize = 4;
/// Bytes of one zeroing request.
pub const ZERO_PIECE: u64 = 64 << 20;
/// Bytes of one pattern write (the host builds a buffer of this size).
pub const PATTERN_PIECE: u64 = 1 << 20;

/// Throughput the estimated times of the Sanitize Status log assume
/// (bytes per second): zeroing and one overwrite pass.
const ERASE_BPS: u64 = 2 << 30;
const OVERWRITE_BPS: u64 = 1 << 30;

/// Size of the Sanitize Status log page (Figure 291).
const SANITIZE_LOG_SIZE: usize = 512;

/// A sanitize operation in progress.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SanitizeOp {
    /// SANACT: block erase, overwrite or crypto erase.
    pub sanact: u8,
    /// Allow Unrestricted Sanitize Exit.
    pub ause: bool,
    /// Overwrite passes (1 to 16).
    pub owpass: u8,
    /// Overwrite Invert Pattern Between Passes.
    pub oipbp: bool,
    /// No-Deallocate After Sanitize.
    pub ndas: bool,
    /// Overwrite Pattern.
    pub pattern: u32,
    /// Current pass, 0-based (an overwrite's final deallocation is a pass).
    pub pass: u8,
    /// Next byte to issue in this pass.
    pub next: u64,
    /// Offsets of the chunks in flight.
    pub inflight: Vec<u64>,
    /// A chunk failed: the operation fails once the others are back.
    pub failed: bool,
}

crate::persist::persist_struct!(SanitizeOp {
    sanact,
    ause,
    owpass,
    oipbp,
    ndas,
    pattern,
    pass,
    next,
    inflight,
    failed,
});

impl SanitizeOp {
    /// Passes including an overwrite's final deallocation.
    fn total_passes(&self) -> u8 {
        if self.sanact == SANACT_OVERWRITE {
            self.owpass + u8::from(!self.ndas)
        } else {
            1
        }
    }

    /// What pass `pass` writes.
    fn kind(&self, pass: u8) -> IoKind {
        if self.sanact == SANACT_OVERWRITE && pass < self.owpass {
            let invert = self.oipbp && pass % 2 == 1;
            IoKind::WritePattern {
                pattern: if invert { !self.pattern } else { self.pattern },
            }
        } else {
            IoKind::WriteZeroes {
                may_unmap: !self.ndas,
            }
        }
    }

    /// The first byte of the current pass not known to be done.
    fn done_in_pass(&self) -> u64 {
        self.inflight.iter().copied().fold(self.next, u64::min)
    }

    /// Forget the chunks in flight (their completions will not come: a
    /// reset or a power cycle): they are issued again.
    fn rewind(&mut self) {
        self.next = self.done_in_pass();
        self.inflight.clear();
    }
}

/// The Sanitize Status log's state, kept across power cycles.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SanitizeState {
    /// SSTAT bits 2:0 of the most recent operation.
    pub status: u8,
    /// SSTAT bits 7:3: overwrite passes completed by the most recent one.
    pub passes_done: u8,
    /// SSTAT bit 8, Global Data Erased: nothing written since the factory
    /// (NVMe-AD-22) or since the last successful sanitize.
    pub global_erased: bool,
    /// SCDW10 of the command that started the most recent operation.
    pub scdw10: u32,
    /// The operation in progress.
    pub op: Option<SanitizeOp>,
    /// The most recent operation failed and no later one succeeded: Some
    /// with its AUSE (true: unrestricted, Exit Failure Mode may leave).
    pub failure: Option<bool>,
}

crate::persist::persist_struct!(SanitizeState {
    status,
    passes_done,
    global_erased,
    scdw10,
    op,
    failure,
});

impl Default for SanitizeState {
    /// As shipped: never sanitized, Global Data Erased (NVMe-AD-22).
    fn default() -> Self {
        SanitizeState {
            status: SSTAT_NEVER,
            passes_done: 0,
            global_erased: true,
            scdw10: 0,
            op: None,
            failure: None,
        }
    }
}

impl SanitizeState {
    /// The state as a power cycle leaves it: chunks in flight are lost and
    /// issued again when the drive comes back.
    pub fn after_power_loss(&self) -> SanitizeState {
        let mut s = self.clone();
        if let Some(op) = s.op.as_mut() {
            op.rewind();
        }
        s
    }

    /// Whether the loaded state can be run: a known action, 1 to 16 passes,
    /// the current pass and offsets within the drive.
    pub fn check(&self, capacity: u64) -> Result<(), String> {
        if self.status > SSTAT_FAILED || self.passes_done > 16 {
            return Err(format!("sanitize status {}", self.status));
        }
        let Some(op) = &self.op else { return Ok(()) };
        let action_ok = matches!(
            op.sanact,
            SANACT_BLOCK_ERASE | SANACT_OVERWRITE | SANACT_CRYPTO_ERASE
        );
        if !action_ok
            || !(1..=16).contains(&op.owpass)
            || op.pass > op.total_passes()
            || op.next > capacity
            || op.inflight.len() > SANITIZE_WINDOW
            || op.inflight.iter().any(|&o| o >= capacity)
        {
            return Err(format!("sanitize operation {op:?}"));
        }
        Ok(())
    }
}

impl Controller {
    /// Bytes a sanitize operation covers: every whole 512-byte block of the
    /// drive, as Format NVM.
    fn sanitize_bytes(&self) -> u64 {
        self.ns.total_bytes() & !511
    }

    /// Sanitize command (NVMe 2.0 Base, 5.24).
    pub(crate) fn sanitize(&mut self, req: &Request, cmd: SanitizeCmd, host: &mut Host) -> Outcome {
        let SanitizeCmd {
            sanact,
            ause,
            owpass,
            oipbp,
            ndas,
            emvs,
            ovrpat,
        } = cmd;
        if self.sanitize.op.is_some() {
            return Status::SANITIZE_IN_PROGRESS.into();
        }
        let restricted_failure = self.sanitize.failure == Some(false);
        match sanact {
            SANACT_EXIT_FAILURE => {
                // 8.21: only a new operation leaves a restricted failure; with
                // no failure the command succeeds and does nothing.
                if restricted_failure {
                    return Status::SANITIZE_FAILED.into();
                }
                self.sanitize.failure = None;
                self.persist_request = true;
                return Outcome::ok();
            }
            SANACT_BLOCK_ERASE | SANACT_OVERWRITE | SANACT_CRYPTO_ERASE => {}
            _ => return Status::INVALID_FIELD.into(),
        }
        // Media verification (EMVS) is not supported (SANICAP.VERS = 0).
        if emvs {
            return Status::INVALID_FIELD.into();
        }
        if restricted_failure && ause {
            return Status::SANITIZE_FAILED.into();
        }
        if self.cfg.read_only {
            return Status::NAMESPACE_WRITE_PROTECTED.into();
        }
        if self.formatting {
            return Status::FORMAT_IN_PROGRESS.into();
        }
        let now = self.now(host);
        self.abort_self_test_on_sanitize(now);
        // 8.21: starting an operation clears a pending completion event.
        self.aer
            .forget(aen::TYPE_IO_SPECIFIC, aen::IO_SANITIZE_COMPLETED);
        self.sanitize.status = SSTAT_IN_PROGRESS;
        self.sanitize.passes_done = 0;
        self.sanitize.global_erased = false;
        self.sanitize.scdw10 = req.sqe.cdw(10);
        self.sanitize.op = Some(SanitizeOp {
            sanact,
            ause,
            owpass: if owpass == 0 { 16 } else { owpass },
            oipbp,
            ndas,
            pattern: ovrpat,
            pass: 0,
            next: 0,
            inflight: Vec::new(),
            // OCP error injection type 1Dh (EVTDEF-30): the command
            // succeeds, the operation fails.
            failed: self
                .ocp
                .injection
                .take(crate::ocp::error_injection::SANITIZE_OPERATION_FAILURE),
        });
        self.persist_request = true;
        self.record_sanitize_start(req.sqe.cdw(10), ovrpat, now);
        self.sanitize_pump(host);
        Outcome::ok()
    }

    /// Keep up to [`SANITIZE_WINDOW`] chunks in flight; move to the next
    /// pass when one is done, finish after the last.
    pub(crate) fn sanitize_pump(&mut self, host: &mut Host) {
        let end = self.sanitize_bytes();
        loop {
            let Some(op) = self.sanitize.op.as_mut() else {
                return;
            };
            if op.failed || op.next >= end {
                if !op.inflight.is_empty() {
                    return;
                }
                if op.failed {
                    self.finish_sanitize(false, host);
                    return;
                }
                op.pass += 1;
                op.next = 0;
                if op.pass >= op.total_passes() {
                    self.finish_sanitize(true, host);
                    return;
                }
                continue;
            }
            if op.inflight.len() >= SANITIZE_WINDOW {
                return;
            }
            let kind = op.kind(op.pass);
            let piece = match kind {
                IoKind::WritePattern { .. } => PATTERN_PIECE,
                _ => ZERO_PIECE,
            };
            let off = op.next;
            let len = piece.min(end - off);
            if !self.submit(host, IoOwner::Sanitize(off), kind, off, len, Vec::new()) {
                // No request slot: the next completion pumps again.
                return;
            }
            if let Some(running) = self.sanitize.op.as_mut() {
                running.inflight.push(off);
                running.next = off + len;
            }
        }
    }

    /// A sanitize chunk at `offset` completed.
    pub(crate) fn sanitize_chunk_done(&mut self, offset: u64, ok: bool, host: &mut Host) {
        let Some(op) = self.sanitize.op.as_mut() else {
            return;
        };
        let Some(i) = op.inflight.iter().position(|&o| o == offset) else {
            return;
        };
        op.inflight.swap_remove(i);
        if !ok {
            op.failed = true;
        }
        self.sanitize_pump(host);
    }

    /// A Controller Level Reset dropped the storage requests in flight: the
    /// operation goes on from the first chunk not known to be done.
    pub(crate) fn sanitize_after_reset(&mut self, host: &mut Host) {
        if let Some(op) = self.sanitize.op.as_mut() {
            op.rewind();
        }
        self.sanitize_pump(host);
    }

    fn finish_sanitize(&mut self, success: bool, host: &mut Host) {
        let Some(op) = self.sanitize.op.take() else {
            return;
        };
        if success {
            self.sanitize.status = SSTAT_SUCCESS;
            self.sanitize.passes_done = if op.sanact == SANACT_OVERWRITE {
                op.owpass
            } else {
                0
            };
            self.sanitize.global_erased = true;
            self.sanitize.failure = None;
            self.media_erased();
        } else {
            self.sanitize.status = SSTAT_FAILED;
            self.sanitize.passes_done = op.pass.min(op.owpass);
            self.sanitize.failure = Some(op.ause);
        }
        self.persist_request = true;
        let now = self.now(host);
        self.record_sanitize_completion(self.sstat(), now);
        self.raise_event(
            aen::TYPE_IO_SPECIFIC,
            aen::IO_SANITIZE_COMPLETED,
            lid::SANITIZE_STATUS,
            host,
        );
    }

    /// The drive's user data is gone (a sanitize operation completed): the
    /// one place where what depends on the media's content is reset. Every
    /// namespace has nothing allocated and nothing uncorrectable, and is
    /// in the Changed Namespace List.
    fn media_erased(&mut self) {
        self.ns.media_erased();
        let ids: Vec<u32> = self.ns.active_ids().collect();
        for id in ids {
            if !self.changed_ns.contains(&id) {
                self.changed_ns.push(id);
            }
        }
    }

    /// Whether a sanitize operation runs.
    pub(crate) fn sanitize_in_progress(&self) -> bool {
        self.sanitize.op.is_some()
    }

    /// A write reached the media: Global Data Erased no longer holds.
    pub(crate) fn media_written(&mut self) {
        self.sanitize.global_erased = false;
    }

    /// The status an admin command gets while a sanitize operation runs or
    /// after one failed (8.21, Figure "Sanitize Operations – Admin
    /// Commands Allowed"): Format NVM, Firmware Commit and Image Download,
    /// Device Self-test, Namespace Management and Namespace Attachment are
    /// refused; Get Log Page only for the pages without user data.
    pub(crate) fn sanitize_admin_gate(&self, opcode: u8, log_id: Option<u8>) -> Option<Status> {
        use crate::spec::ids::admin_op;
        let status = self.sanitize_block_status()?;
        let refused = match opcode {
            admin_op::FORMAT_NVM
            | admin_op::FIRMWARE_COMMIT
            | admin_op::FIRMWARE_IMAGE_DOWNLOAD
            | admin_op::DEVICE_SELF_TEST
            | admin_op::NAMESPACE_MANAGEMENT
            | admin_op::NAMESPACE_ATTACHMENT => true,
            admin_op::GET_LOG_PAGE => !log_id.is_some_and(log_allowed_during_sanitize),
            _ => false,
        };
        refused.then_some(status)
    }

    /// The status an I/O command other than Flush gets while a sanitize
    /// operation runs or after one failed.
    pub(crate) fn sanitize_io_gate(&self) -> Result<(), Status> {
        match self.sanitize_block_status() {
            Some(s) => Err(s),
            None => Ok(()),
        }
    }

    fn sanitize_block_status(&self) -> Option<Status> {
        if self.sanitize.op.is_some() {
            Some(Status::SANITIZE_IN_PROGRESS)
        } else if self.sanitize.failure.is_some() {
            Some(Status::SANITIZE_FAILED)
        } else {
            None
        }
    }

    /// SPROG: the fraction done, in 1/65536 (`FFFFh` when none runs).
    pub(crate) fn sanitize_progress(&self) -> u16 {
        let Some(op) = &self.sanitize.op else {
            return 0xffff;
        };
        let end = u128::from(self.sanitize_bytes().max(1));
        let total = u128::from(op.total_passes()) * end;
        let done = u128::from(op.pass) * end + u128::from(op.done_in_pass());
        u16::try_from((done * 65536 / total).min(65535)).unwrap_or(65535)
    }

    /// SSTAT: status, overwrite passes, Global Data Erased.
    fn sstat(&self) -> u16 {
        let s = &self.sanitize;
        let status = if s.op.is_some() {
            SSTAT_IN_PROGRESS
        } else {
            s.status
        };
        u16::from(status) | u16::from(s.passes_done & 0x1f) << 3 | u16::from(s.global_erased) << 8
    }

    /// Sanitize Status log page (Figure 291).
    pub(crate) fn sanitize_log(&self) -> Vec<u8> {
        let s = &self.sanitize;
        let sstat = self.sstat();
        let bytes = self.sanitize_bytes();
        let secs = |bps: u64| u32::try_from(bytes.div_ceil(bps).max(1)).unwrap_or(u32::MAX - 1);
        // SSI (NVMe 2.1): Sanitize State in bits 3:0, Failure State 7:4.
        let ssi = match (&s.op, s.failure) {
            (Some(op), _) => {
                if op.ause {
                    3
                } else {
                    1
                }
            }
            (None, Some(true)) => 4 | 3 << 4,
            (None, Some(false)) => 2 | 1 << 4,
            (None, None) => 0,
        };
        let mut w = LeWriter::page::<SANITIZE_LOG_SIZE>();
        w.u16(0, self.sanitize_progress())
            .u16(2, sstat)
            .u32(4, s.scdw10)
            // ETO: 16 overwrite passes; ETBE, ETCE.
            .u32(8, secs(OVERWRITE_BPS / 16))
            .u32(12, secs(ERASE_BPS))
            .u32(16, secs(ERASE_BPS))
            // ETOND, ETBEND, ETCEND: NODMMAS is not 10b, so not reported;
            // ETPVDS: no media verification.
            .u32(20, u32::MAX)
            .u32(24, u32::MAX)
            .u32(28, u32::MAX)
            .u32(32, u32::MAX)
            .u8(36, ssi);
        w.finish()
    }
}

/// Log pages Get Log Page may read during a sanitize operation (8.21):
/// Error Information, SMART / Health, Telemetry, Sanitize Status, the
/// Persistent Event log (no user data, STD-LOG-19), and the Firmware Slot
/// Information (OCP STD-LOG-26).
fn log_allowed_during_sanitize(l: u8) -> bool {
    matches!(
        l,
        lid::ERROR_INFORMATION
            | lid::SMART_HEALTH
            | lid::FIRMWARE_SLOT
            | lid::TELEMETRY_HOST
            | lid::TELEMETRY_CONTROLLER
            | lid::SANITIZE_STATUS
            | lid::PERSISTENT_EVENT
    )
}
