// SPDX-License-Identifier: GPL-2.0-or-later
//! The controller: its state (plain data) and public entry points.
//!
//! The work is split by job: `mmio` register file and CC state
//! machine (NVMe 2.0 Base, 3.5 Controller Initialization and Shutdown
//! Processing), `doorbell` (doorbells, shadow doorbells), `fetch` (round robin
//! arbitration, 4.13), `io` (storage requests and their completions),
//! `completion` (CQEs, interrupts per NVMe over PCIe 1.0, 3.5, and
//! asynchronous events) and `timers`.

mod admin;
mod completion;
mod copy;
mod doorbell;
mod fetch;
mod fused;
mod io;
mod mmio;
mod nvm;
mod ocp_port;
mod request;

pub use ocp_port::HEALTH_PROPERTIES;
pub(crate) use request::{
    Accounting, CmdState, CopyState, CopyStep, Delayed, ErrorContext, FusedPair, IoOwner, Outcome,
    PostAction, Request,
};
mod state;
mod timers;

use std::collections::VecDeque;

use bilge::prelude::*;

use crate::config::ControllerConfig;
use crate::controller::admin::aer::AerState;
use crate::controller::admin::features::Features;
use crate::controller::admin::firmware::FirmwareState;
use crate::controller::admin::lockdown::LockdownState;
use crate::controller::admin::log::{ErrorLog, TelemetryState};
use crate::controller::admin::pel::PelState;
use crate::controller::admin::sanitize::SanitizeState;
use crate::controller::admin::selftest::SelfTestState;
use crate::counters::{Counters, LatencyClass};
use crate::namespace::Namespaces;
use crate::queues::{CompQueue, SubQueue};
use crate::spec::cmd::{Sqe, SQE_SIZE};
use crate::spec::cqe::Cqe;
use crate::spec::ids::aen;
use crate::spec::regs::{self, off, Aqa, Cap, Cc, Csts, Doorbell};
use crate::spec::status::Status;
use crate::traits::{DmaError, GuestRange, Host, IoKind, IoRequest, IoResult, IoToken};

/// Most commands fetched and not yet completed (including held-back CQEs).
pub const MAX_OUTSTANDING: usize = 2048;
/// Most storage requests in flight.
pub const MAX_REQUESTS: usize = 4096;
/// Most storage requests one command may issue (DSM ranges, SGL runs).
pub const MAX_REQUESTS_PER_CMD: usize = 256;
/// Largest data-less storage request (write zeroes, discard): block layers
/// limit one request to under 2 GiB.
pub const ZERO_CHUNK: u64 = 1 << 30;
/// Data-less requests of one command in flight at once.
pub const ZERO_WINDOW: u32 = 8;
/// CAP.TO in 500 ms units.
pub const CAP_TIMEOUT: u8 = 30;

/// Shadow doorbell buffers (Doorbell Buffer Config, NVMe 2.0 Base, 5.8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DbBuf {
    pub shadow: u64,
    pub eventidx: u64,
}

crate::persist::persist_struct!(DbBuf { shadow, eventidx });

/// Address of SQ `qid`'s tail in a shadow doorbell or EventIdx buffer.
pub(crate) fn db_sq_slot(base: u64, qid: u64) -> u64 {
    base.wrapping_add(qid * 8)
}

/// Address of CQ `qid`'s head in a shadow doorbell or EventIdx buffer.
pub(crate) fn db_cq_slot(base: u64, qid: u64) -> u64 {
    base.wrapping_add(qid * 8 + 4)
}

/// An emulated NVMe controller with its namespaces. Plain data throughout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Controller {
    cfg: ControllerConfig,
    // Registers.
    cc: Cc,
    intms: u32,
    aqa: Aqa,
    asq: u64,
    acq: u64,
    rdy: bool,
    cfs: bool,
    shst: u8,
    /// CSTS.NSSRO: an NVM Subsystem Reset happened since power-on or since
    /// the host cleared the bit.
    nssro: bool,
    // Queues, indexed by queue ID (0 = admin).
    sqs: Vec<Option<SubQueue>>,
    cqs: Vec<Option<CompQueue>>,
    rr_next: usize,
    /// Weighted round robin position and credits (CC.AMS = 001b).
    wrr: fetch::WrrState,
    dbbuf: Option<DbBuf>,
    /// Bumped when the I/O SQs that take doorbell notifications change
    /// ([`Controller::sq_notifier_generation`]).
    sq_notifier_gen: u32,
    /// The fused Compare and Write in progress: no other I/O command is
    /// fetched meanwhile.
    fused: Option<FusedPair>,
    /// The SQ whose fused pair waits at its head for the I/O in flight to
    /// finish: no other I/O SQ is fetched from meanwhile.
    fused_wait: Option<u16>,
    // Commands and storage requests in flight.
    cmds: Vec<Option<CmdState>>,
    free_cmds: Vec<u16>,
    io_owners: Vec<Option<IoOwner>>,
    free_io_slots: Vec<u16>,
    epoch: u16,
    overflow_total: usize,
    io_outstanding: u32,
    busy_since: Option<u64>,
    // Admin state.
    /// The namespace table (NSIDs 1..=NN, extents, NUSE, uncorrectable blocks).
    ns: Namespaces,
    feat: Features,
    saved_feat: Features,
    /// Allocated I/O queues (0's based NSQA, NCQA) and whether Set Features
    /// Number of Queues may still change them.
    nsqa: u16,
    ncqa: u16,
    io_queues_created: bool,
    aer: AerState,
    errlog: ErrorLog,
    fw: FirmwareState,
    selftest: SelfTestState,
    telemetry: TelemetryState,
    changed_ns: Vec<u32>,
    keep_alive_deadline: Option<u64>,
    /// Next background update of the health model (1 s grid while running;
    /// SLOG-6, SLOG-7).
    health_tick_ns: u64,
    /// Timestamp feature: host value (ms) and the time it was set.
    timestamp_ms: u64,
    timestamp_set_ns: u64,
    timestamp_origin: u8,
    /// OCP log pages, features, health model and error injection.
    ocp: crate::ocp::OcpState,
    /// Commands held back by injected latency, executed when due.
    delayed: Vec<Delayed>,
    /// Commands (SQID, CID) an injected timeout swallowed: completed only
    /// by Abort or ended by a reset.
    timed_out: Vec<(u16, u16)>,
    /// Critical warning bits as last seen by a health check (the model's
    /// own changes raise events on the rising edge only).
    seen_warning: u8,
    formatting: bool,
    /// Sanitize Status and the sanitize operation in progress.
    sanitize: SanitizeState,
    /// Admin commands and features prohibited by Lockdown.
    lockdown: LockdownState,
    /// The Persistent Event log.
    pel: PelState,
    /// A doorbell or completion left work for `process_pending`.
    work_pending: bool,
    /// The host stopped the machine or is removing the device
    /// ([`Controller::quiesce`]): nothing is fetched, held commands wait and
    /// storage requests are parked until [`Controller::resume`].
    quiesced: bool,
    /// Storage requests issued while quiesced, in order.
    parked: Vec<IoRequest>,
    // Power-cycle bookkeeping.
    enabled_since_power_on: bool,
    /// The machine's reset right after power-on (QEMU resets every device
    /// once after creating it) has happened; later resets are power cycles.
    power_on_reset_done: bool,
    shutdown_clean: bool,
    counters: Counters,
    /// A change the drive must keep happened ([`Controller::take_persist_request`]).
    persist_request: bool,
}

impl Controller {
    /// Create a controller in its power-on state.
    pub fn new(cfg: ControllerConfig) -> Result<Self, String> {
        cfg.validate()?;
        let nq = cfg.max_ioqpairs as usize + 1;
        let feat = Features::defaults(&cfg);
        let ocp = ocp_port::new_ocp_state(&cfg);
        let aer = AerState::new(cfg.aer_max_queued);
        let mut c = Controller {
            ns: Namespaces::new(cfg.capacity_bytes, cfg.lba_size),
            fw: FirmwareState::new(&cfg.firmware_rev),
            saved_feat: feat.clone(),
            feat,
            nsqa: cfg.max_ioqpairs - 1,
            ncqa: cfg.max_ioqpairs - 1,
            cfg,
            cc: Cc::from(0u32),
            intms: 0,
            aqa: Aqa::from(0u32),
            asq: 0,
            acq: 0,
            rdy: false,
            cfs: false,
            shst: 0,
            nssro: false,
            sqs: vec![None; nq],
            cqs: vec![None; nq],
            rr_next: 0,
            wrr: fetch::WrrState::default(),
            dbbuf: None,
            sq_notifier_gen: 0,
            fused: None,
            fused_wait: None,
            cmds: Vec::new(),
            free_cmds: Vec::new(),
            io_owners: Vec::new(),
            free_io_slots: Vec::new(),
            epoch: 0,
            overflow_total: 0,
            io_outstanding: 0,
            busy_since: None,
            io_queues_created: false,
            aer,
            errlog: ErrorLog::default(),
            selftest: SelfTestState::default(),
            telemetry: TelemetryState::default(),
            changed_ns: Vec::new(),
            keep_alive_deadline: None,
            health_tick_ns: 0,
            timestamp_ms: 0,
            timestamp_set_ns: 0,
            timestamp_origin: 0,
            ocp,
            delayed: Vec::new(),
            timed_out: Vec::new(),
            seen_warning: 0,
            formatting: false,
            sanitize: SanitizeState::default(),
            lockdown: LockdownState::default(),
            pel: PelState::default(),
            work_pending: false,
            quiesced: false,
            parked: Vec::new(),
            enabled_since_power_on: false,
            power_on_reset_done: false,
            shutdown_clean: false,
            persist_request: false,
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

    /// Whether the host wants the volatile write cache on (Set Features
    /// Volatile Write Cache, WCE; NVMe 2.0 Base, 5.27.1.4).  The host
    /// applies it to its storage.
    pub fn volatile_write_cache(&self) -> bool {
        self.feat.vwc
    }

    /// Current power state (Set Features Power Management, PS).
    pub fn power_state(&self) -> u8 {
        self.feat.power_mgmt.ps
    }

    /// The Timestamp feature's current value in milliseconds.
    pub fn timestamp_ms(&self, now_ns: u64) -> u64 {
        let b = self.timestamp_bytes(now_ns);
        u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], 0, 0])
    }

    /// Current composite temperature in Kelvin (the health model's).
    pub fn temperature(&self) -> u16 {
        self.ocp.temperature_k()
    }

    /// The OCP state (log pages, features, health model).
    pub fn ocp(&self) -> &crate::ocp::OcpState {
        &self.ocp
    }

    /// SMART Critical Warning (NVMe 2.0 Base, Figure 207, byte 0): the
    /// health model's bits, plus temperature against the host's thresholds
    /// and read-only media.
    pub(crate) fn critical_warning(&self) -> u8 {
        let mut cw = self.ocp.critical_warning();
        if self.temperature_warning() {
            cw |= 1 << 1;
        }
        if self.cfg.read_only {
            cw |= 1 << 3;
        }
        cw
    }

    pub(crate) fn temperature_warning(&self) -> bool {
        let t = self.ocp.temperature_k();
        t >= self.feat.temp_over || t <= self.feat.temp_under
    }

    /// Temperature Threshold changed: raise the temperature event while the
    /// temperature is beyond a threshold (masked until log 02h is read).
    pub(crate) fn check_temperature(&mut self, host: &mut Host) {
        if self.temperature_warning() {
            self.raise_event(aen::TYPE_SMART, aen::SMART_TEMPERATURE, 0x02, host);
        }
    }

    /// Stop starting work: from now on no command is fetched, no held
    /// command runs and every storage request the controller would issue
    /// (the rest of a Write Zeroes, a flush, ...) is parked. Completions of
    /// requests already in flight are still taken and posted. The host
    /// calls this when the machine stops (so that nothing new reaches the
    /// storage while it drains and saves state) and before it removes the
    /// device (so that nothing starts that would outlive it).
    pub fn quiesce(&mut self) {
        self.quiesced = true;
    }

    /// Undo [`Controller::quiesce`]: issue the parked requests, then fetch
    /// what the guest queued meanwhile.
    pub fn resume(&mut self, host: &mut Host) {
        if !self.quiesced {
            return;
        }
        self.quiesced = false;
        for req in std::mem::take(&mut self.parked) {
            host.storage.submit(req);
        }
        self.process_pending(host);
    }

    /// Whether the controller is quiesced ([`Controller::quiesce`]).
    pub fn is_quiesced(&self) -> bool {
        self.quiesced
    }

    fn clear_tables(&mut self) {
        self.cmds = vec![None; MAX_OUTSTANDING];
        self.free_cmds = (0..MAX_OUTSTANDING as u16).rev().collect();
        self.io_owners = vec![None; MAX_REQUESTS];
        self.free_io_slots = (0..MAX_REQUESTS as u16).rev().collect();
        self.overflow_total = 0;
        self.io_outstanding = 0;
        // Parked requests belong to the commands just forgotten.
        self.parked.clear();
    }

    pub(crate) fn cap(&self) -> u64 {
        let mut cap = Cap::from(0u64);
        cap.set_mqes(self.cfg.mqes);
        cap.set_cqr(true);
        // NVM Subsystem Reset (OCP NVMeR-1).
        cap.set_nssrs(true);
        // Weighted round robin with urgent priority class (OCP NVMe-CFG-1).
        cap.set_ams(u2::new(1));
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
        c.set_nssro(self.nssro);
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
}
