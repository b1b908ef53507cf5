// SPDX-License-Identifier: GPL-2.0-or-later
//! The controller: register file, enable/reset/shutdown state machine
//! (NVMe 2.0 Base, 3.5 Controller Initialization and Shutdown Processing),
//! command fetch with round robin arbitration (4.13), completion posting and
//! interrupts (NVMe over PCIe 1.0, 3.5), storage request tracking and timers.

use std::collections::VecDeque;

use bilge::prelude::*;

use crate::admin;
use crate::admin::aer::AerState;
use crate::admin::features::Features;
use crate::admin::firmware::FirmwareState;
use crate::admin::log::{ErrorContext, ErrorLog, TelemetryState};
use crate::admin::selftest::SelfTestState;
use crate::config::ControllerConfig;
use crate::namespace::Namespace;
use crate::nvm;
use crate::queues::{CompQueue, SubQueue};
use crate::spec::cmd::{Sqe, SQE_SIZE};
use crate::spec::cqe::Cqe;
use crate::spec::feat::{Arbitration, AsyncEventConfig, InterruptCoalescing, PowerManagement};
use crate::spec::ids::aen;
use crate::spec::regs::{self, off, Aqa, Cap, Cc, Csts, Doorbell};
use crate::spec::status::Status;
use crate::telemetry::{Counters, LatencyClass};
use crate::traits::{GuestRange, Host, IoKind, IoRequest, IoResult, IoToken};

/// Most commands fetched and not yet completed (including held-back CQEs).
pub const MAX_OUTSTANDING: usize = 2048;
/// Most storage requests in flight.
pub const MAX_REQUESTS: usize = 4096;
/// Most storage requests one command may issue (DSM ranges, SGL runs).
pub const MAX_REQUESTS_PER_CMD: usize = 256;
/// SMART Available Spare Threshold (percent).
pub const SPARE_THRESHOLD: u8 = 10;
/// Largest data-less storage request (write zeroes, discard): block layers
/// limit one request to under 2 GiB.
pub const ZERO_CHUNK: u64 = 1 << 30;
/// Data-less requests of one command in flight at once.
pub const ZERO_WINDOW: u32 = 8;
/// CAP.TO in 500 ms units.
pub const CAP_TIMEOUT: u8 = 30;

/// The result of executing a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Complete now.
    Done { status: Status, dw0: u32 },
    /// Completed later (storage, AER, Delete I/O SQ).
    Pending,
}

impl Outcome {
    pub(crate) fn status(status: Status) -> Outcome {
        Outcome::Done { status, dw0: 0 }
    }
    pub(crate) fn ok() -> Outcome {
        Outcome::Done {
            status: Status::SUCCESS,
            dw0: 0,
        }
    }
    pub(crate) fn dw0(dw0: u32) -> Outcome {
        Outcome::Done {
            status: Status::SUCCESS,
            dw0,
        }
    }
}

impl From<Status> for Outcome {
    fn from(s: Status) -> Outcome {
        Outcome::status(s)
    }
}

/// What finishing a command must also do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PostAction {
    None,
    /// Format NVM: switch to this LBA format.
    Format {
        lbaf: u8,
    },
}

/// How a command counts in the SMART log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Accounting {
    Read {
        bytes: u64,
    },
    Write {
        bytes: u64,
    },
    /// Write Zeroes; `deallocated` blocks when DEAC unmapped them.
    WriteZeroes {
        deallocated: u64,
    },
    Flush,
    /// Dataset Management deallocate of this many blocks.
    Deallocate {
        blocks: u64,
    },
    Admin,
}

/// A command waiting for storage requests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CmdState {
    pub sqid: u16,
    pub cid: u16,
    pub start_ns: u64,
    /// Storage requests not yet completed.
    pub pending: u32,
    pub status: Status,
    pub acct: Accounting,
    pub post: PostAction,
    pub err: ErrorContext,
    /// Data-less requests (write zeroes, discard) still to issue, split
    /// into [`ZERO_CHUNK`] pieces and kept [`ZERO_WINDOW`] deep.
    pub backlog: VecDeque<(IoKind, u64, u64)>,
}

/// Who owns a storage request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReqOwner {
    Cmd(u16),
    /// The flush of a normal shutdown.
    Shutdown,
}

/// Shadow doorbell buffers (Doorbell Buffer Config, NVMe 2.0 Base, 5.8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DbBuf {
    pub shadow: u64,
    pub eventidx: u64,
}

/// Address of SQ `qid`'s tail in a shadow doorbell or EventIdx buffer.
pub(crate) fn db_sq_slot(base: u64, qid: u64) -> u64 {
    base.wrapping_add(qid * 8)
}

/// Address of CQ `qid`'s head in a shadow doorbell or EventIdx buffer.
pub(crate) fn db_cq_slot(base: u64, qid: u64) -> u64 {
    base.wrapping_add(qid * 8 + 4)
}

/// An emulated NVMe controller with one namespace. Plain data throughout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Controller {
    pub(crate) cfg: ControllerConfig,
    // Registers.
    pub(crate) cc: u32,
    pub(crate) intms: u32,
    pub(crate) aqa: u32,
    pub(crate) asq: u64,
    pub(crate) acq: u64,
    pub(crate) rdy: bool,
    pub(crate) cfs: bool,
    pub(crate) shst: u8,
    // Queues, indexed by queue ID (0 = admin).
    pub(crate) sqs: Vec<Option<SubQueue>>,
    pub(crate) cqs: Vec<Option<CompQueue>>,
    pub(crate) rr_next: usize,
    pub(crate) dbbuf: Option<DbBuf>,
    // Commands and storage requests in flight.
    pub(crate) cmds: Vec<Option<CmdState>>,
    pub(crate) free_cmds: Vec<u16>,
    pub(crate) reqs: Vec<Option<ReqOwner>>,
    pub(crate) free_reqs: Vec<u16>,
    pub(crate) epoch: u16,
    pub(crate) overflow_total: usize,
    pub(crate) io_outstanding: u32,
    pub(crate) busy_since: Option<u64>,
    // Admin state.
    pub(crate) ns: Namespace,
    pub(crate) feat: Features,
    pub(crate) saved_feat: Features,
    /// Allocated I/O queues (0's based NSQA, NCQA) and whether Set Features
    /// Number of Queues may still change them.
    pub(crate) nsqa: u16,
    pub(crate) ncqa: u16,
    pub(crate) io_queues_created: bool,
    pub(crate) aer: AerState,
    pub(crate) errlog: ErrorLog,
    pub(crate) fw: FirmwareState,
    pub(crate) selftest: SelfTestState,
    pub(crate) telemetry: TelemetryState,
    pub(crate) changed_ns: Vec<u32>,
    pub(crate) keep_alive_deadline: Option<u64>,
    /// Timestamp feature: host value (ms) and the time it was set.
    pub(crate) timestamp_ms: u64,
    pub(crate) timestamp_set_ns: u64,
    pub(crate) timestamp_origin: u8,
    pub(crate) temperature_k: u16,
    pub(crate) available_spare: u8,
    pub(crate) percentage_used: u8,
    pub(crate) formatting: bool,
    /// NSID and LBA of the command being executed or finished, for the
    /// Error Information log.
    pub(crate) err_ctx: ErrorContext,
    /// A doorbell or completion left work for `process_pending`.
    pub(crate) work_pending: bool,
    // Power-cycle bookkeeping.
    pub(crate) enabled_since_power_on: bool,
    pub(crate) shutdown_clean: bool,
    pub(crate) counters: Counters,
}

impl Controller {
    /// Create a controller in its power-on state.
    pub fn new(cfg: ControllerConfig) -> Result<Self, String> {
        cfg.validate()?;
        let nq = cfg.max_ioqpairs as usize + 1;
        let feat = Features::defaults(&cfg);
        let mut c = Controller {
            ns: Namespace::new(cfg.capacity_bytes, cfg.lba_size),
            fw: FirmwareState::new(&cfg.firmware_rev),
            saved_feat: feat.clone(),
            feat,
            nsqa: cfg.max_ioqpairs - 1,
            ncqa: cfg.max_ioqpairs - 1,
            cfg,
            cc: 0,
            intms: 0,
            aqa: 0,
            asq: 0,
            acq: 0,
            rdy: false,
            cfs: false,
            shst: 0,
            sqs: vec![None; nq],
            cqs: vec![None; nq],
            rr_next: 0,
            dbbuf: None,
            cmds: Vec::new(),
            free_cmds: Vec::new(),
            reqs: Vec::new(),
            free_reqs: Vec::new(),
            epoch: 0,
            overflow_total: 0,
            io_outstanding: 0,
            busy_since: None,
            io_queues_created: false,
            aer: AerState::default(),
            errlog: ErrorLog::default(),
            selftest: SelfTestState::default(),
            telemetry: TelemetryState::default(),
            changed_ns: Vec::new(),
            keep_alive_deadline: None,
            timestamp_ms: 0,
            timestamp_set_ns: 0,
            timestamp_origin: 0,
            temperature_k: 313,
            available_spare: 100,
            percentage_used: 0,
            formatting: false,
            err_ctx: ErrorContext::default(),
            work_pending: false,
            enabled_since_power_on: false,
            shutdown_clean: false,
            counters: Counters {
                power_cycles: 1,
                ..Counters::default()
            },
        };
        c.clear_tables();
        Ok(c)
    }

    /// Size of BAR0: registers and doorbells, a power of two.
    pub fn bar_size(&self) -> u64 {
        let end = off::DOORBELLS + (u64::from(self.cfg.max_ioqpairs) + 1) * 8;
        end.next_power_of_two()
    }

    /// The counters the SMART and OCP logs read.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// The configuration this controller was built with.
    pub fn config(&self) -> &ControllerConfig {
        &self.cfg
    }

    /// Current power state (Set Features Power Management, PS).
    pub fn power_state(&self) -> u8 {
        PowerManagement::decode(self.feat.power_mgmt).ps
    }

    /// The Timestamp feature's current value in milliseconds.
    pub fn timestamp_ms(&self, now_ns: u64) -> u64 {
        let b = admin::features::timestamp_bytes(self, now_ns);
        u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], 0, 0])
    }

    /// Current composite temperature in Kelvin.
    pub fn temperature(&self) -> u16 {
        self.temperature_k
    }

    /// Move the composite temperature (a health model drives this); raises
    /// the SMART temperature event when a threshold is crossed.
    pub fn set_temperature(&mut self, kelvin: u16, host: &mut Host) {
        self.temperature_k = kelvin;
        self.check_temperature(host);
    }

    /// Available spare (percent) and percentage used as a wear model sets
    /// them; spare below the threshold raises the SMART spare event.
    pub fn set_wear(&mut self, available_spare: u8, percentage_used: u8, host: &mut Host) {
        self.available_spare = available_spare.min(100);
        self.percentage_used = percentage_used;
        if self.available_spare < SPARE_THRESHOLD {
            self.raise_event(aen::TYPE_SMART, aen::SMART_SPARE, 0x02, host);
        }
    }

    /// SMART Critical Warning (NVMe 2.0 Base, Figure 207, byte 0).
    pub(crate) fn critical_warning(&self) -> u8 {
        let mut cw = 0u8;
        if self.available_spare < SPARE_THRESHOLD {
            cw |= 1 << 0;
        }
        if self.temperature_warning() {
            cw |= 1 << 1;
        }
        if self.percentage_used >= 100 {
            cw |= 1 << 2;
        }
        if self.cfg.read_only {
            cw |= 1 << 3;
        }
        cw
    }

    pub(crate) fn temperature_warning(&self) -> bool {
        self.temperature_k >= self.feat.temp_over || self.temperature_k <= self.feat.temp_under
    }

    pub(crate) fn check_temperature(&mut self, host: &mut Host) {
        if self.temperature_warning() {
            self.raise_event(aen::TYPE_SMART, aen::SMART_TEMPERATURE, 0x02, host);
        }
    }

    fn clear_tables(&mut self) {
        self.cmds = vec![None; MAX_OUTSTANDING];
        self.free_cmds = (0..MAX_OUTSTANDING as u16).rev().collect();
        self.reqs = vec![None; MAX_REQUESTS];
        self.free_reqs = (0..MAX_REQUESTS as u16).rev().collect();
        self.overflow_total = 0;
        self.io_outstanding = 0;
    }

    fn cc(&self) -> Cc {
        Cc::from(self.cc)
    }

    pub(crate) fn cap(&self) -> u64 {
        let mut cap = Cap::from(0u64);
        cap.set_mqes(self.cfg.mqes);
        cap.set_cqr(true);
        cap.set_to(CAP_TIMEOUT);
        cap.set_css(0x01);
        cap.set_mpsmin(u4::new(0));
        cap.set_mpsmax(u4::new(0));
        u64::from(cap)
    }

    fn csts(&self) -> u32 {
        let mut c = Csts::from(0u32);
        c.set_rdy(self.rdy);
        c.set_cfs(self.cfs);
        c.set_shst(u2::new(self.shst));
        u32::from(c)
    }

    /// Commands are fetched and executed only in this state.
    pub(crate) fn running(&self) -> bool {
        self.rdy && !self.cfs && self.shst == regs::SHST_NORMAL
    }

    pub(crate) fn now(&self, host: &Host) -> u64 {
        host.clock.now_ns()
    }

    // ---------------------------------------------------------------- MMIO

    fn reg_dword(&self, offset: u64) -> u32 {
        match offset {
            0x00 => self.cap() as u32,
            0x04 => (self.cap() >> 32) as u32,
            off::VS => regs::NVME_VERSION,
            off::INTMS | off::INTMC => self.intms,
            off::CC => self.cc,
            off::CSTS => self.csts(),
            off::AQA => self.aqa,
            0x28 => self.asq as u32,
            0x2c => (self.asq >> 32) as u32,
            0x30 => self.acq as u32,
            0x34 => (self.acq >> 32) as u32,
            // CRTO: CRWMT and CRIMT equal CAP.TO.
            off::CRTO => u32::from(CAP_TIMEOUT) << 16 | u32::from(CAP_TIMEOUT),
            _ => 0,
        }
    }

    /// Register read. Registers are little endian; any size of 1, 2, 4 or 8
    /// bytes is served from the register image, reserved space and the
    /// write-only doorbells read as zero.
    pub fn mmio_read(&mut self, offset: u64, size: u32, _host: &mut Host) -> u64 {
        if !matches!(size, 1 | 2 | 4 | 8) || offset >= off::DOORBELLS {
            return 0;
        }
        let base = offset & !3;
        let mut bytes = [0u8; 12];
        for i in 0..3u64 {
            let o = base + i * 4;
            let v = if o < off::DOORBELLS {
                self.reg_dword(o)
            } else {
                0
            };
            bytes[(i * 4) as usize..(i * 4 + 4) as usize].copy_from_slice(&v.to_le_bytes());
        }
        let shift = (offset - base) as usize;
        let mut out = [0u8; 8];
        out[..size as usize].copy_from_slice(&bytes[shift..shift + size as usize]);
        u64::from_le_bytes(out)
    }

    /// Register or doorbell write. Registers take naturally aligned 4- or
    /// 8-byte writes (an 8-byte write is two dword writes, low first);
    /// doorbells take aligned 4-byte writes. Other accesses are ignored
    /// (NVMe over PCIe 1.0, 3.1: other widths are not supported).
    pub fn mmio_write(&mut self, offset: u64, value: u64, size: u32, host: &mut Host) {
        if offset >= off::DOORBELLS {
            if size == 4 && offset % 4 == 0 {
                self.doorbell_write(offset, value as u32, host);
            }
            return;
        }
        match size {
            4 if offset % 4 == 0 => self.reg_write(offset, value as u32, host),
            8 if offset % 8 == 0 => {
                self.reg_write(offset, value as u32, host);
                self.reg_write(offset + 4, (value >> 32) as u32, host);
            }
            _ => {}
        }
    }

    fn reg_write(&mut self, offset: u64, v: u32, host: &mut Host) {
        let disabled = !self.cc().en();
        match offset {
            off::INTMS if !host.irq.msix_enabled() => {
                self.intms |= v;
                self.update_intx(host);
            }
            off::INTMC if !host.irq.msix_enabled() => {
                self.intms &= !v;
                self.update_intx(host);
            }
            off::CC => self.cc_write(v, host),
            off::AQA if disabled => self.aqa = v & 0x0fff_0fff,
            0x28 if disabled => self.asq = (self.asq & !0xffff_ffff) | (u64::from(v) & !0xfff),
            0x2c if disabled => self.asq = (self.asq & 0xffff_ffff) | u64::from(v) << 32,
            0x30 if disabled => self.acq = (self.acq & !0xffff_ffff) | (u64::from(v) & !0xfff),
            0x34 if disabled => self.acq = (self.acq & 0xffff_ffff) | u64::from(v) << 32,
            _ => {}
        }
    }

    fn cc_write(&mut self, v: u32, host: &mut Host) {
        let old = self.cc();
        let new = Cc::from(v);
        match (old.en(), new.en()) {
            (true, false) => {
                self.controller_reset(host, false);
                self.cc = v;
            }
            (false, true) => {
                self.cc = v;
                self.enable(host);
            }
            (true, true) => {
                // Only SHN may change while enabled.
                let shn_mask = 0x3 << 14;
                self.cc = (self.cc & !shn_mask) | (v & shn_mask);
                let shn = new.shn().value();
                if old.shn().value() == regs::SHN_NONE && shn != regs::SHN_NONE {
                    self.shutdown(shn, host);
                }
            }
            (false, false) => {
                // A disabled controller has nothing to shut down: SHST
                // follows SHN at once.
                self.cc = v;
                self.shst = if new.shn().value() == regs::SHN_NONE {
                    regs::SHST_NORMAL
                } else {
                    regs::SHST_COMPLETE
                };
            }
        }
    }

    /// CC.EN 0 -> 1 (NVMe 2.0 Base, 3.5.1). Invalid settings leave the
    /// controller not ready and set CSTS.CFS.
    fn enable(&mut self, host: &mut Host) {
        let cc = self.cc();
        let aqa = Aqa::from(self.aqa);
        let iosqes = cc.iosqes().value();
        let iocqes = cc.iocqes().value();
        let valid = !self.cfs
            && cc.mps().value() == 0
            && cc.css().value() == 0
            && cc.ams().value() == 0
            && (iosqes == 0 || iosqes == 6)
            && (iocqes == 0 || iocqes == 4)
            && aqa.asqs().value() != 0
            && aqa.acqs().value() != 0;
        if !valid {
            self.cfs = true;
            return;
        }
        let mut cq = CompQueue::new(0, self.acq, u32::from(aqa.acqs().value()) + 1, true, 0);
        cq.sq_refs = 1;
        self.cqs[0] = Some(cq);
        self.sqs[0] = Some(SubQueue::new(
            0,
            self.asq,
            u32::from(aqa.asqs().value()) + 1,
            0,
            0,
        ));
        self.rdy = true;
        self.shst = regs::SHST_NORMAL;
        self.enabled_since_power_on = true;
        self.shutdown_clean = false;
        let now = self.now(host);
        self.restart_keep_alive(now);
    }

    /// CC.SHN written (NVMe 2.0 Base, 3.6 Controller Shutdown).
    fn shutdown(&mut self, shn: u8, host: &mut Host) {
        self.shst = regs::SHST_PROCESSING;
        self.keep_alive_deadline = None;
        host.storage.drain();
        if shn == regs::SHN_NORMAL && self.cfg.volatile_write_cache {
            if !self.submit(host, ReqOwner::Shutdown, IoKind::Flush, 0, 0, Vec::new()) {
                self.finish_shutdown(false);
            }
        } else {
            self.finish_shutdown(shn == regs::SHN_NORMAL);
        }
    }

    fn finish_shutdown(&mut self, normal: bool) {
        self.shst = regs::SHST_COMPLETE;
        if normal {
            self.shutdown_clean = true;
            self.counters.normal_shutdowns += 1;
        } else {
            self.counters.abrupt_shutdowns += 1;
        }
    }

    /// Controller Level Reset (CC.EN 1 -> 0; NVMe 2.0 Base, 3.7.2).
    /// With `power_cycle` this is part of [`Controller::reset`].
    fn controller_reset(&mut self, host: &mut Host, power_cycle: bool) {
        host.storage.drain();
        self.epoch = self.epoch.wrapping_add(1);
        self.clear_tables();
        self.account_busy_end(self.now(host));
        for q in self.sqs.iter_mut() {
            *q = None;
        }
        for q in self.cqs.iter_mut() {
            *q = None;
        }
        self.rr_next = 0;
        self.dbbuf = None;
        self.aer.reset();
        let now = self.now(host);
        admin::selftest::abort_on_reset(self, now);
        admin::firmware::activate_on_reset(self, now);
        self.feat = self.saved_feat.clone();
        // The Timestamp is cleared by a Controller Level Reset (origin 000b).
        self.timestamp_ms = 0;
        self.timestamp_set_ns = now;
        self.timestamp_origin = 0;
        self.nsqa = self.cfg.max_ioqpairs - 1;
        self.ncqa = self.cfg.max_ioqpairs - 1;
        self.io_queues_created = false;
        self.keep_alive_deadline = None;
        self.formatting = false;
        self.work_pending = false;
        self.rdy = false;
        self.cfs = false;
        self.shst = regs::SHST_NORMAL;
        self.intms = 0;
        if !host.irq.msix_enabled() {
            host.irq.set_intx(false);
        }
        if !power_cycle {
            self.counters.controller_resets += 1;
        }
        admin::vendor::controller_reset(self, power_cycle, now);
    }

    /// PCI function level / conventional reset: back to the power-on state.
    /// Counts a power cycle, and an unsafe shutdown if the controller was
    /// enabled without a completed normal shutdown since.
    pub fn reset(&mut self, host: &mut Host) {
        if self.enabled_since_power_on && !self.shutdown_clean {
            self.counters.unsafe_shutdowns += 1;
        }
        self.counters.power_cycles += 1;
        self.controller_reset(host, true);
        self.cc = 0;
        self.aqa = 0;
        self.asq = 0;
        self.acq = 0;
        self.fw.staging.clear();
        self.fw.staging_bad = false;
        self.enabled_since_power_on = false;
        self.shutdown_clean = false;
    }

    /// Enter the Controller Fatal Status state (CSTS.CFS = 1).
    pub(crate) fn fatal(&mut self) {
        self.cfs = true;
    }

    // ----------------------------------------------------------- doorbells

    fn doorbell_write(&mut self, offset: u64, value: u32, host: &mut Host) {
        if !self.running() {
            return;
        }
        let Some(db) = Doorbell::decode(offset) else {
            return;
        };
        match db {
            Doorbell::SqTail(qid) => {
                let Some(sq) = self.sqs.get_mut(qid as usize).and_then(|q| q.as_mut()) else {
                    self.invalid_doorbell(aen::ERR_INVALID_DB_REGISTER, host);
                    return;
                };
                if !sq.tail_valid(value) {
                    self.invalid_doorbell(aen::ERR_INVALID_DB_VALUE, host);
                    return;
                }
                sq.tail = value;
                self.publish_sq_eventidx(qid, host);
                self.kick(host);
            }
            Doorbell::CqHead(qid) => {
                let Some(cq) = self.cqs.get_mut(qid as usize).and_then(|q| q.as_mut()) else {
                    self.invalid_doorbell(aen::ERR_INVALID_DB_REGISTER, host);
                    return;
                };
                if !cq.head_valid(value) {
                    self.invalid_doorbell(aen::ERR_INVALID_DB_VALUE, host);
                    return;
                }
                cq.head = value;
                self.mirror_cq_head(qid, host);
                self.publish_cq_eventidx(qid, host);
                self.cq_head_moved(qid, host);
                self.kick(host);
            }
        }
    }

    /// An invalid doorbell write is ignored; it is reported by an Error
    /// event only if an AER is outstanding (NVMe 2.0 Base, 3.3.1.2).
    fn invalid_doorbell(&mut self, info: u8, host: &mut Host) {
        self.counters.invalid_doorbells += 1;
        if !self.aer.outstanding.is_empty() {
            self.raise_event(aen::TYPE_ERROR, info, 0x01, host);
        }
    }

    /// After the host consumed CQ entries: post held-back completions and
    /// update the interrupt line.
    fn cq_head_moved(&mut self, cqid: u16, host: &mut Host) {
        let mut posted = false;
        while let Some(cq) = self.cqs.get_mut(cqid as usize).and_then(|q| q.as_mut()) {
            if cq.is_full() {
                break;
            }
            let Some(cqe) = cq.overflow.pop_front() else {
                break;
            };
            self.overflow_total -= 1;
            if !self.write_cqe(cqid, &cqe, host) {
                break;
            }
            posted = true;
        }
        if posted {
            self.signal(cqid, host);
        } else {
            self.update_intx(host);
        }
    }

    /// Shadow doorbells (NVMe 2.0 Base, 5.8) for I/O queues: the host
    /// writes the MMIO doorbell whenever it moves past the EventIdx the
    /// controller published, so publishing the last value seen keeps every
    /// update visible. The admin queue always uses MMIO (as Linux does).
    fn publish_sq_eventidx(&self, qid: u16, host: &mut Host) {
        let (Some(db), Some(sq)) = (
            self.dbbuf,
            self.sqs.get(qid as usize).and_then(|q| q.as_ref()),
        ) else {
            return;
        };
        if qid != 0 {
            let _ = host.mem.write(
                db_sq_slot(db.eventidx, u64::from(qid)),
                &sq.tail.to_le_bytes(),
            );
        }
    }

    fn publish_cq_eventidx(&self, qid: u16, host: &mut Host) {
        let (Some(db), Some(cq)) = (
            self.dbbuf,
            self.cqs.get(qid as usize).and_then(|q| q.as_ref()),
        ) else {
            return;
        };
        if qid != 0 {
            let _ = host.mem.write(
                db_cq_slot(db.eventidx, u64::from(qid)),
                &cq.head.to_le_bytes(),
            );
        }
    }

    /// Keep the shadow CQ head equal to an MMIO head write, so that a host
    /// that rings MMIO without updating the shadow never leaves a stale
    /// value there for [`Self::refresh_cq_head`] to trust.
    fn mirror_cq_head(&self, qid: u16, host: &mut Host) {
        let (Some(db), Some(cq)) = (
            self.dbbuf,
            self.cqs.get(qid as usize).and_then(|q| q.as_ref()),
        ) else {
            return;
        };
        if qid != 0 {
            let _ = host.mem.write(
                db_cq_slot(db.shadow, u64::from(qid)),
                &cq.head.to_le_bytes(),
            );
        }
    }

    /// Before holding a completion back, see whether the host already
    /// consumed entries in its shadow CQ head.
    fn refresh_cq_head(&mut self, qid: u16, host: &mut Host) {
        let Some(db) = self.dbbuf else {
            return;
        };
        if qid == 0 {
            return;
        }
        if let Some(cq) = self.cqs.get_mut(qid as usize).and_then(|q| q.as_mut()) {
            let mut b = [0u8; 4];
            if host
                .mem
                .read(db_cq_slot(db.shadow, u64::from(qid)), &mut b)
                .is_ok()
            {
                let v = u32::from_le_bytes(b);
                if cq.head_valid(v) {
                    cq.head = v;
                }
            }
        }
    }

    // ------------------------------------------------------------ fetching

    /// New work may be available: process it now, or leave it for the
    /// device to run [`Controller::process_pending`] later when
    /// `ControllerConfig::defer_processing` is set.
    fn kick(&mut self, host: &mut Host) {
        if self.cfg.defer_processing {
            self.work_pending = true;
        } else {
            self.process_pending(host);
        }
    }

    /// With `defer_processing`, true when [`Controller::process_pending`]
    /// should be scheduled (e.g. in a bottom half).
    pub fn work_pending(&self) -> bool {
        self.work_pending
    }

    /// May another command be fetched?
    fn can_fetch(&self) -> bool {
        !self.free_cmds.is_empty()
            && self.free_reqs.len() >= MAX_REQUESTS_PER_CMD
            && (MAX_OUTSTANDING - self.free_cmds.len()) + self.overflow_total < MAX_OUTSTANDING
            && self.outstanding_fetched() < MAX_OUTSTANDING
    }

    fn outstanding_fetched(&self) -> usize {
        self.sqs
            .iter()
            .flatten()
            .map(|q| q.inflight as usize)
            .sum::<usize>()
            + self.overflow_total
    }

    /// Fetch and execute commands from all SQs, round robin with the
    /// Arbitration Burst (NVMe 2.0 Base, 4.13.1). Bounded: every iteration
    /// consumes an SQ entry and tails do not move during the loop.
    pub fn process_pending(&mut self, host: &mut Host) {
        self.work_pending = false;
        if !self.running() {
            return;
        }
        let burst = Arbitration::decode(self.feat.arbitration).burst();
        let n = self.sqs.len();
        'outer: loop {
            let mut progressed = false;
            for k in 0..n {
                let qid = (self.rr_next + k) % n;
                let mut taken = 0;
                while taken < burst {
                    if !self.running() || !self.can_fetch() {
                        break 'outer;
                    }
                    let Some(sq) = self.sqs[qid].as_mut() else {
                        break;
                    };
                    if !sq.has_work() {
                        break;
                    }
                    let addr = sq.head_addr();
                    let mut raw = [0u8; SQE_SIZE];
                    if host.mem.read(addr, &mut raw).is_err() {
                        // The command cannot even be identified: fatal.
                        self.fatal();
                        break 'outer;
                    }
                    sq.advance_head();
                    sq.inflight += 1;
                    taken += 1;
                    progressed = true;
                    self.execute(qid as u16, &Sqe::from_bytes(&raw), host);
                }
            }
            self.rr_next = (self.rr_next + 1) % n;
            if !progressed {
                break;
            }
        }
    }

    fn execute(&mut self, sqid: u16, sqe: &Sqe, host: &mut Host) {
        let start = self.now(host);
        self.err_ctx = ErrorContext {
            nsid: sqe.nsid(),
            lba: if sqid == 0 { 0 } else { sqe.slba() },
        };
        let outcome = if let Some(o) = admin::vendor::before_command(self, sqid, sqe, start) {
            o
        } else if sqid == 0 {
            admin::execute(self, sqe, host)
        } else {
            nvm::execute(self, sqid, sqe, host)
        };
        if let Outcome::Done { status, dw0 } = outcome {
            self.complete(sqid, sqe.cid(), status, dw0, host);
            let now = self.now(host);
            let class = if sqid == 0 {
                LatencyClass::Other
            } else {
                nvm::latency_class(sqe)
            };
            self.counters
                .record_latency(class, now.saturating_sub(start), now);
        }
    }

    // ---------------------------------------------------- storage requests

    /// Register a command that will complete through storage requests.
    pub(crate) fn begin_cmd(
        &mut self,
        sqid: u16,
        cid: u16,
        acct: Accounting,
        post: PostAction,
        host: &Host,
    ) -> Option<u16> {
        let idx = self.free_cmds.pop()?;
        self.cmds[idx as usize] = Some(CmdState {
            sqid,
            cid,
            start_ns: self.now(host),
            pending: 0,
            status: Status::SUCCESS,
            acct,
            post,
            err: self.err_ctx,
            backlog: VecDeque::new(),
        });
        if sqid != 0 {
            if self.io_outstanding == 0 {
                self.busy_since = Some(self.now(host));
            }
            self.io_outstanding += 1;
        }
        Some(idx)
    }

    /// Issue one storage request; false if no request slot was free.
    pub(crate) fn submit(
        &mut self,
        host: &mut Host,
        owner: ReqOwner,
        kind: IoKind,
        offset: u64,
        len: u64,
        sg: Vec<GuestRange>,
    ) -> bool {
        let Some(slot) = self.free_reqs.pop() else {
            return false;
        };
        self.reqs[slot as usize] = Some(owner);
        if let ReqOwner::Cmd(ci) = owner {
            if let Some(c) = self.cmds[ci as usize].as_mut() {
                c.pending += 1;
            }
        }
        let token: IoToken = u32::from(self.epoch) << 16 | u32::from(slot);
        host.storage.submit(IoRequest {
            token,
            kind,
            offset,
            len,
            sg,
        });
        true
    }

    /// A command registered with `begin_cmd` issued all its requests (or
    /// failed to): finish it now if nothing is pending.
    pub(crate) fn cmd_issued(&mut self, ci: u16, status: Status, host: &mut Host) {
        if let Some(c) = self.cmds[ci as usize].as_mut() {
            if !status.is_success() && c.status.is_success() {
                c.status = status;
            }
        }
        self.pump(ci, host);
    }

    /// Queue a data-less request (write zeroes, discard) of a command; it is
    /// issued in chunks by [`Self::pump`].
    pub(crate) fn queue_dataless(&mut self, ci: u16, kind: IoKind, offset: u64, len: u64) {
        if let Some(c) = self.cmds[ci as usize].as_mut() {
            c.backlog.push_back((kind, offset, len));
        }
    }

    /// Keep up to [`ZERO_WINDOW`] backlog chunks in flight; finish the
    /// command when nothing is left (or after an error, once in-flight
    /// requests are back).
    fn pump(&mut self, ci: u16, host: &mut Host) {
        loop {
            let Some(c) = self.cmds[ci as usize].as_mut() else {
                return;
            };
            if !c.status.is_success() {
                c.backlog.clear();
            }
            if c.pending >= ZERO_WINDOW {
                return;
            }
            let Some((kind, off, len)) = c.backlog.pop_front() else {
                break;
            };
            let piece = len.min(ZERO_CHUNK);
            if piece < len {
                c.backlog.push_front((kind, off + piece, len - piece));
            }
            if !self.submit(host, ReqOwner::Cmd(ci), kind, off, piece, Vec::new()) {
                if let Some(failed) = self.cmds[ci as usize].as_mut() {
                    failed.status = Status::INTERNAL_ERROR;
                    failed.backlog.clear();
                }
                break;
            }
        }
        if self.cmds[ci as usize]
            .as_ref()
            .is_some_and(|c| c.pending == 0)
        {
            self.finish_cmd(ci, host);
        }
    }

    /// A storage request finished. Unknown or stale tokens are ignored.
    pub fn complete_io(&mut self, token: IoToken, result: IoResult, host: &mut Host) {
        if (token >> 16) as u16 != self.epoch {
            return;
        }
        let slot = (token & 0xffff) as usize;
        let Some(owner) = self.reqs.get_mut(slot).and_then(std::option::Option::take) else {
            return;
        };
        self.free_reqs.push(slot as u16);
        match owner {
            ReqOwner::Shutdown => self.finish_shutdown(true),
            ReqOwner::Cmd(ci) => {
                let Some(c) = self.cmds[ci as usize].as_mut() else {
                    return;
                };
                c.pending = c.pending.saturating_sub(1);
                if let IoResult::Error(e) = result {
                    if c.status.is_success() {
                        c.status = nvm::io_error_status(e, c.acct);
                    }
                }
                self.pump(ci, host);
            }
        }
        self.kick(host);
    }

    fn account_busy_end(&mut self, now: u64) {
        if let Some(since) = self.busy_since.take() {
            self.counters.busy_ns = self
                .counters
                .busy_ns
                .saturating_add(now.saturating_sub(since));
        }
    }

    fn finish_cmd(&mut self, ci: u16, host: &mut Host) {
        let Some(c) = self.cmds[ci as usize].take() else {
            return;
        };
        self.free_cmds.push(ci);
        self.err_ctx = c.err;
        let now = self.now(host);
        if c.sqid != 0 {
            self.io_outstanding = self.io_outstanding.saturating_sub(1);
            if self.io_outstanding == 0 {
                self.account_busy_end(now);
            }
        }
        if let PostAction::Format { lbaf } = c.post {
            admin::format::finish(self, lbaf, c.status, host);
        }
        if c.status.is_success() {
            nvm::account(&mut self.counters, c.acct);
        }
        let class = match c.acct {
            Accounting::Read { .. } => LatencyClass::Read,
            Accounting::Write { .. } | Accounting::WriteZeroes { .. } => LatencyClass::Write,
            Accounting::Deallocate { .. } => LatencyClass::Deallocate,
            _ => LatencyClass::Other,
        };
        let latency = now.saturating_sub(c.start_ns);
        self.counters.record_latency(class, latency, now);
        admin::vendor::command_completed(self, class, latency, c.status, now);
        self.complete(c.sqid, c.cid, c.status, 0, host);
    }

    // ---------------------------------------------------------- completion

    /// Complete a command: error log, CQE, interrupt, SQ deletion.
    pub(crate) fn complete(
        &mut self,
        sqid: u16,
        cid: u16,
        status: Status,
        dw0: u32,
        host: &mut Host,
    ) {
        if !status.is_success()
            && status != Status::ABORT_REQUESTED
            && status != Status::ABORTED_SQ_DELETION
        {
            self.errlog
                .record(&mut self.counters, sqid, cid, status, self.err_ctx);
            if status.sct == crate::spec::status::sct::MEDIA {
                self.counters.media_errors += 1;
            }
        }
        let Some(sq) = self.sqs.get_mut(sqid as usize).and_then(|q| q.as_mut()) else {
            return;
        };
        sq.inflight = sq.inflight.saturating_sub(1);
        let cqe = Cqe {
            dw0,
            dw1: 0,
            sqhd: sq.head as u16,
            sqid,
            cid,
            status,
        };
        let cqid = sq.cqid;
        let delete_done = if sq.inflight == 0 { sq.deleting } else { None };
        self.post_cqe(cqid, cqe, host);
        if let Some(del_cid) = delete_done {
            admin::queue::finish_sq_delete(self, sqid, del_cid, host);
        }
    }

    /// Post a CQE, or hold it back while the CQ is full.
    pub(crate) fn post_cqe(&mut self, cqid: u16, cqe: Cqe, host: &mut Host) {
        if self
            .cqs
            .get(cqid as usize)
            .and_then(|q| q.as_ref())
            .is_some_and(CompQueue::is_full)
        {
            self.refresh_cq_head(cqid, host);
            self.publish_cq_eventidx(cqid, host);
        }
        let Some(cq) = self.cqs.get_mut(cqid as usize).and_then(|q| q.as_mut()) else {
            return;
        };
        if cq.is_full() || !cq.overflow.is_empty() {
            cq.overflow.push_back(cqe);
            self.overflow_total += 1;
            if !cq.is_full() {
                // Room appeared (shadow head): post held entries in order.
                self.cq_head_moved(cqid, host);
            }
            return;
        }
        if self.write_cqe(cqid, &cqe, host) {
            self.signal(cqid, host);
        }
    }

    fn write_cqe(&mut self, cqid: u16, cqe: &Cqe, host: &mut Host) -> bool {
        let Some(cq) = self.cqs.get_mut(cqid as usize).and_then(|q| q.as_mut()) else {
            return false;
        };
        let bytes = cqe.to_bytes(cq.phase);
        if host.mem.write(cq.tail_addr(), &bytes).is_err() {
            self.fatal();
            return false;
        }
        cq.advance_tail();
        true
    }

    /// Interrupt for new entries in `cqid`, honouring Interrupt Coalescing
    /// (NVMe 2.0 Base, 5.27.1.8) for I/O queues.
    fn signal(&mut self, cqid: u16, host: &mut Host) {
        let coal = InterruptCoalescing::decode(self.feat.coalescing);
        let thr = u32::from(coal.thr);
        let time_ns = coal.time_ns();
        let Some(cq) = self.cqs.get_mut(cqid as usize).and_then(|q| q.as_mut()) else {
            return;
        };
        if !cq.ien {
            return;
        }
        if !host.irq.msix_enabled() {
            self.update_intx(host);
            return;
        }
        let iv = cq.iv;
        let coalesce = cqid != 0 && time_ns != 0 && !self.feat.vector_cd(iv);
        if coalesce {
            cq.coalesced += 1;
            if cq.coalesced <= thr {
                if cq.coalesce_deadline.is_none() {
                    cq.coalesce_deadline = Some(host.clock.now_ns().saturating_add(time_ns));
                }
                return;
            }
        }
        cq.coalesced = 0;
        cq.coalesce_deadline = None;
        host.irq.msix_notify(iv);
    }

    /// Pin-based interrupt level: any enabled CQ with unconsumed entries
    /// whose vector is not masked by INTMS.
    pub(crate) fn update_intx(&self, host: &mut Host) {
        if host.irq.msix_enabled() {
            return;
        }
        let level = self
            .cqs
            .iter()
            .flatten()
            .any(|cq| cq.ien && cq.pending() && self.intms & (1u32 << (cq.iv & 31)) == 0);
        host.irq.set_intx(level);
    }

    // -------------------------------------------------------------- events

    /// Queue an asynchronous event and deliver it if an AER is outstanding.
    pub(crate) fn raise_event(&mut self, etype: u8, info: u8, lid: u8, host: &mut Host) {
        if !self.aer_enabled(etype, info) {
            return;
        }
        self.aer.queue(etype, info, lid);
        self.deliver_events(host);
    }

    fn aer_enabled(&self, etype: u8, info: u8) -> bool {
        let aec = AsyncEventConfig::decode(self.feat.async_event_config);
        match etype {
            // SMART events follow the Critical Warning bit they report.
            aen::TYPE_SMART => match info {
                aen::SMART_TEMPERATURE => aec.smart & 0x02 != 0,
                aen::SMART_SPARE => aec.smart & 0x01 != 0,
                _ => aec.smart & 0x04 != 0,
            },
            aen::TYPE_NOTICE => match info {
                aen::NOTICE_NS_ATTR_CHANGED => aec.ns_attr,
                aen::NOTICE_FW_ACTIVATION_STARTING => aec.fw_activation,
                aen::NOTICE_TELEMETRY_LOG_CHANGED => aec.telemetry,
                _ => false,
            },
            _ => true,
        }
    }

    pub(crate) fn deliver_events(&mut self, host: &mut Host) {
        while let Some((cid, dw0)) = self.aer.next_delivery() {
            self.complete(0, cid, Status::SUCCESS, dw0, host);
        }
    }

    // -------------------------------------------------------------- timers

    pub(crate) fn restart_keep_alive(&mut self, now: u64) {
        let kato = u64::from(self.feat.kato_ms);
        self.keep_alive_deadline = if kato != 0 && self.rdy {
            Some(now.saturating_add(kato * 1_000_000))
        } else {
            None
        };
    }

    /// The next virtual time at which [`Controller::timer_fired`] must run.
    /// It can change after any call into the controller: query it again
    /// after each one.
    pub fn timer_deadline(&self) -> Option<u64> {
        let mut d = self.selftest.deadline();
        let mut take = |v: Option<u64>| {
            if let Some(v) = v {
                d = Some(d.map_or(v, |x| x.min(v)));
            }
        };
        take(self.keep_alive_deadline);
        for cq in self.cqs.iter().flatten() {
            take(cq.coalesce_deadline);
        }
        d
    }

    /// Run the timers that are due.
    pub fn timer_fired(&mut self, host: &mut Host) {
        let now = self.now(host);
        admin::selftest::tick(self, now);
        if let Some(d) = self.keep_alive_deadline {
            if now >= d && self.running() {
                // Keep Alive Timer expired: memory-based transports report it
                // as a fatal controller status (NVMe 2.0 Base, 3.9.4).
                self.keep_alive_deadline = None;
                self.errlog.record(
                    &mut self.counters,
                    0,
                    0xffff,
                    Status::KEEP_ALIVE_TIMER_EXPIRED,
                    ErrorContext::default(),
                );
                self.fatal();
            }
        }
        let mut due = Vec::new();
        for cq in self.cqs.iter_mut().flatten() {
            if let Some(d) = cq.coalesce_deadline {
                if now >= d {
                    cq.coalesce_deadline = None;
                    cq.coalesced = 0;
                    if cq.ien {
                        due.push(cq.iv);
                    }
                }
            }
        }
        if host.irq.msix_enabled() {
            for iv in due {
                host.irq.msix_notify(iv);
            }
        }
    }
}
