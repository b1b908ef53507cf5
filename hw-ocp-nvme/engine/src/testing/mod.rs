// SPDX-License-Identifier: GPL-2.0-or-later
//! Test host: in-memory guest memory, storage that completes when (and in
//! the order) the test says, interrupts and a manual clock, and a driver
//! that brings the controller up the way the Linux nvme driver does.
//! Used by the unit, integration, random and fuzz tests; [`stress`] drives
//! the whole controller the way a hostile guest and a busy host would.
#![cfg(any(test, feature = "testing"))]

pub mod stress;

use std::cell::Cell;
use std::collections::BTreeMap;

use crate::spec::cmd::Sqe;
use crate::spec::regs::off;
use crate::spec::status::Status;
use crate::traits::{
    Clock, DmaError, GuestLog, GuestMemory, GuestRange, Host, Interrupts, IoError, IoKind,
    IoRequest, IoResult, IoToken, Storage,
};
use crate::{Controller, ControllerConfig};

/// Sparse guest memory below `limit`; accesses at or above it (or inside a
/// fault window) fail, and so does any access to or transfer through a
/// device register window (`mmio`, like the device's own BAR0).
#[derive(Default)]
pub struct TestMemory {
    pages: BTreeMap<u64, Vec<u8>>,
    pub limit: u64,
    pub faults: Vec<(u64, u64)>,
    pub mmio: Vec<(u64, u64)>,
}

impl TestMemory {
    pub fn new(limit: u64) -> Self {
        TestMemory {
            pages: BTreeMap::new(),
            limit,
            faults: Vec::new(),
            mmio: Vec::new(),
        }
    }
    fn check(&self, addr: u64, len: usize) -> Result<(), DmaError> {
        let end = addr.checked_add(len as u64).ok_or(DmaError)?;
        if end > self.limit {
            return Err(DmaError);
        }
        let overlaps = |&(a, l): &(u64, u64)| addr < a + l && a < end;
        if self.faults.iter().any(overlaps) || self.mmio.iter().any(overlaps) {
            return Err(DmaError);
        }
        Ok(())
    }
}

impl GuestMemory for TestMemory {
    fn read(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), DmaError> {
        self.check(addr, buf.len())?;
        for (i, b) in buf.iter_mut().enumerate() {
            let a = addr + i as u64;
            *b = self
                .pages
                .get(&(a >> 12))
                .map_or(0, |p| p[(a & 0xfff) as usize]);
        }
        Ok(())
    }
    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), DmaError> {
        self.check(addr, data.len())?;
        for (i, &b) in data.iter().enumerate() {
            let a = addr + i as u64;
            self.pages.entry(a >> 12).or_insert_with(|| vec![0u8; 4096])[(a & 0xfff) as usize] = b;
        }
        Ok(())
    }
    fn check_range(&self, range: GuestRange) -> Result<(), DmaError> {
        let end = range.addr.checked_add(range.len).ok_or(DmaError)?;
        if self
            .mmio
            .iter()
            .any(|&(a, l)| range.addr < a + l && a < end)
        {
            return Err(DmaError);
        }
        Ok(())
    }
}

/// Storage over a byte vector. Requests wait in `pending` until the test
/// completes them.
#[derive(Default)]
pub struct TestStorage {
    pub disk: Vec<u8>,
    pub pending: Vec<IoRequest>,
    /// Every request ever submitted (kind, offset, len).
    pub log: Vec<(IoKind, u64, u64)>,
    /// Error for the next completed request.
    pub fail_next: Option<IoError>,
    pub drains: u32,
}

impl Storage for TestStorage {
    fn submit(&mut self, req: IoRequest) {
        self.log.push((req.kind, req.offset, req.len));
        self.pending.push(req);
    }
    fn drain(&mut self) {
        self.drains += 1;
    }
}

impl TestStorage {
    /// Perform `req` against the disk and guest memory; the bytes read by
    /// an [`IoKind::ReadBuffered`] request come back with the result.
    pub fn perform(&mut self, req: &IoRequest, mem: &mut TestMemory) -> (IoResult, Vec<u8>) {
        if let Some(e) = self.fail_next.take() {
            return (IoResult::Error(e), Vec::new());
        }
        let off = req.offset as usize;
        let end = off.saturating_add(req.len as usize);
        if !matches!(req.kind, IoKind::Flush) && end > self.disk.len() {
            return (IoResult::Error(IoError::Other), Vec::new());
        }
        if req.kind == IoKind::ReadBuffered {
            return (IoResult::Ok, self.disk[off..end].to_vec());
        }
        if let IoKind::WriteBuffered { .. } = req.kind {
            if req.data.len() as u64 != req.len {
                return (IoResult::Error(IoError::Other), Vec::new());
            }
            self.disk[off..end].copy_from_slice(&req.data);
            return (IoResult::Ok, Vec::new());
        }
        (self.transfer(req, mem), Vec::new())
    }

    fn transfer(&mut self, req: &IoRequest, mem: &mut TestMemory) -> IoResult {
        let off = req.offset as usize;
        let end = off + req.len as usize;
        match req.kind {
            IoKind::Read => {
                let mut pos = off;
                for r in &req.sg {
                    let l = r.len as usize;
                    if mem.write(r.addr, &self.disk[pos..pos + l]).is_err() {
                        return IoResult::Error(IoError::Dma);
                    }
                    pos += l;
                }
            }
            IoKind::Write { .. } => {
                let mut pos = off;
                for r in &req.sg {
                    let l = r.len as usize;
                    if mem.read(r.addr, &mut self.disk[pos..pos + l]).is_err() {
                        return IoResult::Error(IoError::Dma);
                    }
                    pos += l;
                }
            }
            IoKind::Discard | IoKind::WriteZeroes { .. } => self.disk[off..end].fill(0),
            IoKind::WritePattern { pattern } => {
                let p = pattern.to_le_bytes();
                for (i, b) in self.disk[off..end].iter_mut().enumerate() {
                    *b = p[(off + i) % 4];
                }
            }
            IoKind::Flush | IoKind::ReadBuffered | IoKind::WriteBuffered { .. } => {}
        }
        IoResult::Ok
    }
}

/// Interrupt recorder.
#[derive(Default)]
pub struct TestIrq {
    pub msix: bool,
    pub notified: Vec<u16>,
    pub intx: bool,
}

impl Interrupts for TestIrq {
    fn msix_enabled(&self) -> bool {
        self.msix
    }
    fn msix_notify(&mut self, vector: u16) {
        self.notified.push(vector);
    }
    fn set_intx(&mut self, level: bool) {
        self.intx = level;
    }
}

/// A clock the test moves.
#[derive(Default)]
pub struct TestClock {
    pub ns: Cell<u64>,
}

impl Clock for TestClock {
    fn now_ns(&self) -> u64 {
        self.ns.get()
    }
}

/// Records guest-error messages.
#[derive(Default)]
pub struct TestLog {
    pub messages: Vec<String>,
}

impl GuestLog for TestLog {
    fn guest_error(&mut self, msg: &str) {
        self.messages.push(msg.to_string());
    }
}

/// Everything behind the host traits.
pub struct Env {
    pub mem: TestMemory,
    pub storage: TestStorage,
    pub irq: TestIrq,
    pub clock: TestClock,
    pub log: TestLog,
}

impl Env {
    pub fn new(disk_bytes: usize) -> Self {
        Env {
            mem: TestMemory::new(1 << 32),
            storage: TestStorage {
                disk: vec![0; disk_bytes],
                ..Default::default()
            },
            irq: TestIrq {
                msix: true,
                ..Default::default()
            },
            clock: TestClock::default(),
            log: TestLog::default(),
        }
    }
    pub fn host(&mut self) -> Host<'_> {
        Host {
            mem: &mut self.mem,
            storage: &mut self.storage,
            irq: &mut self.irq,
            clock: &self.clock,
            log: &mut self.log,
        }
    }
}

/// A completion read back from guest memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawCqe {
    pub dw0: u32,
    pub dw1: u32,
    pub sqhd: u16,
    pub sqid: u16,
    pub cid: u16,
    /// Status field bits 15:1 (phase removed).
    pub sf: u16,
    pub phase: bool,
}

impl RawCqe {
    pub fn parse(b: &[u8; 16]) -> RawCqe {
        let sfp = u16::from_le_bytes([b[14], b[15]]);
        RawCqe {
            dw0: u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            dw1: u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
            sqhd: u16::from_le_bytes([b[8], b[9]]),
            sqid: u16::from_le_bytes([b[10], b[11]]),
            cid: u16::from_le_bytes([b[12], b[13]]),
            sf: sfp & !1,
            phase: sfp & 1 != 0,
        }
    }
    /// Same status code type and code as `s`.
    pub fn is(&self, s: Status) -> bool {
        (self.sf >> 1) & 0x7ff == (s.field() >> 1) & 0x7ff
    }
    pub fn ok(&self) -> bool {
        self.is(Status::SUCCESS)
    }
    pub fn dnr(&self) -> bool {
        self.sf & 0x8000 != 0
    }
}

/// Host-side view of one queue.
#[derive(Clone, Copy, Debug, Default)]
pub struct HostQueue {
    pub base: u64,
    pub size: u32,
    /// SQ tail or CQ head.
    pub ptr: u32,
    pub phase: bool,
}

impl HostQueue {
    /// Step the CQ head past an entry; the phase flips at the wrap.
    pub fn consume(&mut self) {
        self.ptr += 1;
        if self.ptr == self.size {
            self.ptr = 0;
            self.phase = !self.phase;
        }
    }

    /// A new queue of `size` entries at `base`: pointer 0, phase 1.
    pub fn new(base: u64, size: u32) -> HostQueue {
        HostQueue {
            base,
            size,
            ptr: 0,
            phase: true,
        }
    }
}

/// Where the `{:#?}` renderings of two values first differ (a few lines
/// before the first differing one), to name the field a comparison failed
/// on.
pub fn first_difference<T: std::fmt::Debug>(a: &T, b: &T) -> String {
    let (a, b) = (format!("{a:#?}"), format!("{b:#?}"));
    let (la, lb): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let Some(i) = (0..la.len().max(lb.len())).find(|&i| la.get(i) != lb.get(i)) else {
        return "no difference in their Debug output".into();
    };
    let from = i.saturating_sub(6);
    format!(
        "line {i}:\n  left:  {}\n  right: {}\n  context:\n{}",
        la.get(i).unwrap_or(&"<end>"),
        lb.get(i).unwrap_or(&"<end>"),
        la[from.min(la.len())..i.min(la.len())].join("\n")
    )
}

/// Admin queue depth used by the driver.
pub const ADMIN_DEPTH: u32 = 32;
/// I/O queue depth used by the driver.
pub const IO_DEPTH: u32 = 64;

/// A host driver over [`Env`].
pub struct Driver {
    pub ctrl: Controller,
    pub env: Env,
    pub sq: Vec<HostQueue>,
    pub cq: Vec<HostQueue>,
    next_alloc: u64,
    next_cid: u16,
    /// Completions reaped but not yet asked for, per CQ.
    pub stash: Vec<Vec<RawCqe>>,
    /// Deliver storage completions in reverse order.
    pub reverse_completion: bool,
    /// Complete storage requests automatically after each submission.
    pub auto_complete: bool,
    /// Leave storage requests pending while waiting for a completion (a
    /// test completes them one by one: background operations).
    pub hold_storage: bool,
}

impl Driver {
    /// A controller that has been through its power-on reset, as QEMU
    /// resets every device once after creating it.
    pub fn new(cfg: ControllerConfig) -> Driver {
        let mut d = Driver::unreset(cfg);
        let mut h = d.env.host();
        d.ctrl.reset(&mut h);
        d
    }

    /// A controller straight from `Controller::new`.
    fn unreset(cfg: ControllerConfig) -> Driver {
        let disk = cfg.capacity_bytes as usize;
        let n = cfg.max_ioqpairs as usize + 1;
        Driver {
            ctrl: Controller::new(cfg).expect("valid config"),
            env: Env::new(disk),
            sq: vec![HostQueue::default(); n],
            cq: vec![HostQueue::default(); n],
            next_alloc: 0x10_0000,
            next_cid: 1,
            stash: vec![Vec::new(); n],
            reverse_completion: false,
            auto_complete: true,
            hold_storage: false,
        }
    }

    /// Small default configuration for tests (4 MiB, 4 queue pairs).
    pub fn small_config() -> ControllerConfig {
        ControllerConfig {
            capacity_bytes: 4 << 20,
            max_ioqpairs: 4,
            msix_vectors: 5,
            ..Default::default()
        }
    }

    /// Page-aligned guest buffer of `len` bytes (zeroed).
    pub fn alloc(&mut self, len: u64) -> u64 {
        let a = self.next_alloc;
        self.next_alloc += len.div_ceil(4096).max(1) * 4096;
        a
    }

    pub fn w32(&mut self, offset: u64, v: u32) {
        let mut h = self.env.host();
        self.ctrl.mmio_write(offset, u64::from(v), 4, &mut h);
    }
    pub fn w64(&mut self, offset: u64, v: u64) {
        let mut h = self.env.host();
        self.ctrl.mmio_write(offset, v, 8, &mut h);
    }
    pub fn r32(&mut self, offset: u64) -> u32 {
        let mut h = self.env.host();
        self.ctrl.mmio_read(offset, 4, &mut h) as u32
    }
    pub fn r64(&mut self, offset: u64) -> u64 {
        let mut h = self.env.host();
        self.ctrl.mmio_read(offset, 8, &mut h)
    }
    pub fn csts(&mut self) -> u32 {
        self.r32(off::CSTS)
    }

    pub fn write_mem(&mut self, addr: u64, data: &[u8]) {
        self.env.mem.write(addr, data).expect("guest write");
    }
    pub fn read_mem(&mut self, addr: u64, len: usize) -> Vec<u8> {
        let mut b = vec![0u8; len];
        self.env.mem.read(addr, &mut b).expect("guest read");
        b
    }

    /// CC handshake: AQA/ASQ/ACQ, then CC.EN with Linux's CC values.
    pub fn enable(&mut self) -> bool {
        self.enable_cc(0x0046_0001)
    }

    /// CC handshake writing `cc` (CC.EN set) to CC.
    pub fn enable_cc(&mut self, cc: u32) -> bool {
        let asq = self.alloc(u64::from(ADMIN_DEPTH) * 64);
        let acq = self.alloc(u64::from(ADMIN_DEPTH) * 16);
        self.sq[0] = HostQueue::new(asq, ADMIN_DEPTH);
        self.cq[0] = HostQueue::new(acq, ADMIN_DEPTH);
        self.w32(off::AQA, (ADMIN_DEPTH - 1) << 16 | (ADMIN_DEPTH - 1));
        self.w64(off::ASQ, asq);
        self.w64(off::ACQ, acq);
        self.w32(off::CC, cc);
        self.csts() & 1 == 1
    }

    pub fn next_cid(&mut self) -> u16 {
        let c = self.next_cid;
        self.next_cid = self.next_cid.wrapping_add(1).max(1);
        c
    }

    /// Write an SQE (its CID is set here) and ring the doorbell; returns the CID.
    pub fn submit(&mut self, qid: u16, mut sqe: Sqe) -> u16 {
        let cid = self.next_cid();
        sqe.dw[0] = (sqe.dw[0] & 0xffff) | u32::from(cid) << 16;
        self.submit_raw(qid, sqe);
        cid
    }

    /// Write an SQE as is and ring the doorbell.
    pub fn submit_raw(&mut self, qid: u16, sqe: Sqe) {
        let q = self.sq[qid as usize];
        self.write_mem(q.base + u64::from(q.ptr) * 64, &sqe.to_bytes());
        let tail = (q.ptr + 1) % q.size;
        self.sq[qid as usize].ptr = tail;
        self.w32(off::DOORBELLS + u64::from(qid) * 8, tail);
        if self.auto_complete {
            self.complete_storage();
        }
    }

    /// Complete every pending storage request (in reverse order if asked).
    pub fn complete_storage(&mut self) -> usize {
        let mut n = 0;
        // Completions may issue more requests; bounded by the test.
        for _ in 0..64 {
            let mut reqs = std::mem::take(&mut self.env.storage.pending);
            if reqs.is_empty() {
                break;
            }
            if self.reverse_completion {
                reqs.reverse();
            }
            for r in reqs {
                let (res, data) = self.env.storage.perform(&r, &mut self.env.mem);
                let mut h = self.env.host();
                self.ctrl.complete_io_data(r.token, res, &data, &mut h);
                n += 1;
            }
        }
        n
    }

    /// Perform and complete the oldest pending request only; returns how
    /// many were completed (0 or 1).
    pub fn complete_storage_one(&mut self) -> usize {
        if self.env.storage.pending.is_empty() {
            return 0;
        }
        let r = self.env.storage.pending.remove(0);
        let (res, data) = self.env.storage.perform(&r, &mut self.env.mem);
        let mut h = self.env.host();
        self.ctrl.complete_io_data(r.token, res, &data, &mut h);
        1
    }

    /// Complete one pending request by token with `res` (without performing it).
    pub fn complete_token(&mut self, token: IoToken, res: IoResult) {
        self.complete_token_data(token, res, &[]);
    }

    /// Complete one pending request by token with `res` and the bytes a
    /// buffered read returned.
    pub fn complete_token_data(&mut self, token: IoToken, res: IoResult, data: &[u8]) {
        let mut h = self.env.host();
        self.ctrl.complete_io_data(token, res, data, &mut h);
    }

    /// Read new CQEs from `cqid` and ring its head doorbell.
    pub fn reap(&mut self, cqid: u16) -> Vec<RawCqe> {
        let mut out = std::mem::take(&mut self.stash[cqid as usize]);
        let mut q = self.cq[cqid as usize];
        if q.size == 0 {
            return out;
        }
        let mut moved = false;
        for _ in 0..q.size {
            let mut b = [0u8; 16];
            self.env
                .mem
                .read(q.base + u64::from(q.ptr) * 16, &mut b)
                .expect("cq read");
            let c = RawCqe::parse(&b);
            if c.phase != q.phase {
                break;
            }
            out.push(c);
            q.consume();
            moved = true;
        }
        self.cq[cqid as usize] = q;
        if moved {
            self.w32(off::DOORBELLS + u64::from(cqid) * 8 + 4, q.ptr);
        }
        out
    }

    /// Wait for the completion of `cid` on `cqid`.
    pub fn wait(&mut self, cqid: u16, cid: u16) -> Option<RawCqe> {
        for _ in 0..4 {
            if !self.hold_storage {
                self.complete_storage();
            }
            let all = self.reap(cqid);
            let mut found = None;
            for c in all {
                if c.cid == cid && found.is_none() {
                    found = Some(c);
                } else {
                    self.stash[cqid as usize].push(c);
                }
            }
            if found.is_some() {
                return found;
            }
        }
        None
    }

    /// Submit an admin command and wait for its completion.
    pub fn admin(&mut self, sqe: Sqe) -> RawCqe {
        let cid = self.submit(0, sqe);
        self.wait(0, cid).expect("admin completion")
    }

    /// Submit an I/O command and wait for its completion.
    pub fn io(&mut self, qid: u16, sqe: Sqe) -> RawCqe {
        let cid = self.submit(qid, sqe);
        self.wait(qid, cid).expect("io completion")
    }

    /// Admin command with a data buffer of `len` bytes; returns (cqe, data).
    pub fn admin_read(&mut self, mut sqe: Sqe, len: usize) -> (RawCqe, Vec<u8>) {
        let buf = self.alloc(len as u64);
        set_prps(self, &mut sqe, buf, len as u64);
        let c = self.admin(sqe);
        let data = self.read_mem(buf, len);
        (c, data)
    }

    /// Admin command sending `data`.
    pub fn admin_write(&mut self, mut sqe: Sqe, data: &[u8]) -> RawCqe {
        let buf = self.alloc(data.len() as u64);
        self.write_mem(buf, data);
        set_prps(self, &mut sqe, buf, data.len() as u64);
        self.admin(sqe)
    }

    pub fn create_cq(&mut self, qid: u16, size: u32, iv: u16) -> RawCqe {
        let base = self.alloc(u64::from(size) * 16);
        let c = self.admin(sqe_of(
            0x05,
            0,
            &[
                (10, (size - 1) << 16 | u32::from(qid)),
                (11, u32::from(iv) << 16 | 0x3),
            ],
            base,
        ));
        if c.ok() {
            self.cq[qid as usize] = HostQueue::new(base, size);
        }
        c
    }

    pub fn create_sq(&mut self, qid: u16, size: u32, cqid: u16) -> RawCqe {
        let base = self.alloc(u64::from(size) * 64);
        let c = self.admin(sqe_of(
            0x01,
            0,
            &[
                (10, (size - 1) << 16 | u32::from(qid)),
                (11, u32::from(cqid) << 16 | 1),
            ],
            base,
        ));
        if c.ok() {
            self.sq[qid as usize] = HostQueue::new(base, size);
        }
        c
    }

    /// Linux-style bring-up: enable, identify, number of queues, create
    /// `nq` I/O queue pairs (vector = qid).
    pub fn bring_up(&mut self, nq: u16) {
        assert!(self.enable(), "controller ready");
        let (ident, id) = self.admin_read(sqe_of(0x06, 0, &[(10, 1)], 0), 4096);
        assert!(ident.ok());
        assert_eq!(id[512], 0x66);
        let (ident_ns, _) = self.admin_read(sqe_of(0x06, 1, &[(10, 0)], 0), 4096);
        assert!(ident_ns.ok());
        let c = self.admin(sqe_of(
            0x09,
            0,
            &[
                (10, 7),
                (11, ((u32::from(nq) - 1) << 16) | (u32::from(nq) - 1)),
            ],
            0,
        ));
        assert!(c.ok());
        for q in 1..=nq {
            assert!(self.create_cq(q, IO_DEPTH, q).ok());
            assert!(self.create_sq(q, IO_DEPTH, q).ok());
        }
    }

    /// Normal shutdown: delete I/O queues, CC.SHN = 01b, wait for SHST = 10b.
    pub fn shutdown(&mut self) -> bool {
        for q in (1..self.sq.len() as u16).rev() {
            if self.sq[q as usize].size != 0 {
                assert!(self.admin(sqe_of(0x00, 0, &[(10, u32::from(q))], 0)).ok());
                self.sq[q as usize] = HostQueue::default();
            }
            if self.cq[q as usize].size != 0 {
                assert!(self.admin(sqe_of(0x04, 0, &[(10, u32::from(q))], 0)).ok());
                self.cq[q as usize] = HostQueue::default();
            }
        }
        let cc = self.r32(off::CC);
        self.w32(off::CC, (cc & !(3 << 14)) | 1 << 14);
        self.complete_storage();
        (self.csts() >> 2) & 3 == 2
    }

    /// CC.EN = 0 and wait for RDY = 0; host queues forgotten.
    pub fn disable(&mut self) {
        let cc = self.r32(off::CC);
        self.w32(off::CC, cc & !1 & !(3 << 14));
        self.complete_storage();
        for q in self.sq.iter_mut().chain(self.cq.iter_mut()) {
            *q = HostQueue::default();
        }
        for s in self.stash.iter_mut() {
            s.clear();
        }
    }

    /// Move the clock and run due timers.
    pub fn advance(&mut self, ns: u64) {
        let t = self.env.clock.ns.get() + ns;
        self.env.clock.ns.set(t);
        self.fire_due_timers();
    }

    /// Run the engine's timer as QEMU's timer lists do: the timer fires
    /// while its deadline is not in the future. Panics if a fired timer
    /// leaves its deadline at or before now (QEMU would re-fire it for ever,
    /// holding the BQL).
    pub fn fire_due_timers(&mut self) {
        let now = self.env.clock.ns.get();
        if self.ctrl.timer_deadline().is_some_and(|d| d <= now) {
            let mut h = self.env.host();
            self.ctrl.timer_fired(&mut h);
            check_timer_deadline(&self.ctrl, now);
        }
    }
}

/// The invariant QEMU's timer semantics need: after
/// [`Controller::timer_fired`] at `now`, the deadline is absent or later.
pub fn check_timer_deadline(ctrl: &Controller, now: u64) {
    if let Some(d) = ctrl.timer_deadline() {
        assert!(
            d > now,
            "timer deadline {d} not after now {now} once the timer fired: QEMU would re-fire it for ever"
        );
    }
}

impl Driver {}

/// Build an SQE: opcode, NSID, (dword index, value) pairs and PRP1.
pub fn sqe_of(opcode: u8, nsid: u32, dws: &[(usize, u32)], prp1: u64) -> Sqe {
    let mut s = Sqe { dw: [0; 16] };
    s.dw[0] = u32::from(opcode);
    s.dw[1] = nsid;
    s.dw[6] = prp1 as u32;
    s.dw[7] = (prp1 >> 32) as u32;
    for &(i, v) in dws {
        s.dw[i] = v;
    }
    s
}

/// Set PRP1/PRP2 (building a PRP list in guest memory if needed) for a
/// page-aligned contiguous buffer.
pub fn set_prps(d: &mut Driver, sqe: &mut Sqe, buf: u64, len: u64) {
    set_prps_with_list(d, sqe, buf, len, |d, pages| d.alloc(pages * 8));
}

/// [`set_prps`] with the PRP list (of the given number of entries) where
/// `list` says.
pub fn set_prps_with_list(
    d: &mut Driver,
    sqe: &mut Sqe,
    buf: u64,
    len: u64,
    list: impl FnOnce(&mut Driver, u64) -> u64,
) {
    sqe.dw[6] = buf as u32;
    sqe.dw[7] = (buf >> 32) as u32;
    let first = 4096 - (buf % 4096);
    let prp2 = if len <= first {
        0
    } else if len <= first + 4096 {
        buf + first
    } else {
        let pages = (len - first).div_ceil(4096);
        let list = list(d, pages);
        let mut v = Vec::new();
        for i in 0..pages {
            v.extend_from_slice(&(buf + first + i * 4096).to_le_bytes());
        }
        d.write_mem(list, &v);
        list
    };
    sqe.dw[8] = prp2 as u32;
    sqe.dw[9] = (prp2 >> 32) as u32;
}

/// Seeded xorshift64* generator for the random tests.
#[derive(Clone, Debug)]
pub struct XorShift(pub u64);

impl XorShift {
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }
    pub fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
}
