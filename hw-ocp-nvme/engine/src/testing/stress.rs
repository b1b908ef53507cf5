// SPDX-License-Identifier: GPL-2.0-or-later
//! Stateful randomized stress of the whole controller: a guest that mixes
//! valid commands with garbage, pokes registers with odd sizes, rings
//! invalid doorbells, resets and function-level-resets at any moment, uses
//! shadow doorbells, formats and downloads firmware, arms OCP error
//! injection (feature C0h), DSSD power states (C7h) and keep alive; a host
//! whose storage completes out of order, fails, repeats and returns stale
//! completions, whose virtual time follows QEMU's timer re-fire rule and
//! which quiesces and resumes the controller (machine stop, unplug).
//!
//! Invariants checked after every step:
//! - nothing panics (the engine never panics on guest input);
//! - after the timer fires, its deadline is absent or later than now;
//! - every command is completed at most once, and at a quiet point (storage
//!   drained, time moved past every delay) every command fetched has been
//!   completed, except those deliberately held (Asynchronous Event Requests,
//!   injected timeouts and panics, commands caught by a fatal status or a
//!   shutdown);
//! - a reset always brings the controller back.
//!
//! Choices come from a [`Choices`] source: a seeded generator for the
//! bounded run in `make check` (the seed reproduces a failure), or the
//! bytes of a fuzz input (`fuzz/fuzz_targets/stress.rs`).

use std::collections::BTreeMap;

use super::{check_timer_deadline, Driver, RawCqe, XorShift};
use crate::spec::cmd::Sqe;
use crate::spec::regs::off;
use crate::traits::{GuestMemory, IoError, IoResult};
use crate::ControllerConfig;

/// Where random choices come from.
pub trait Choices {
    /// A number below `n` (0 when `n` is 0).
    fn pick(&mut self, n: u64) -> u64;
    /// No more choices: the run ends (fuzz inputs are finite).
    fn exhausted(&self) -> bool {
        false
    }
    /// True with `pct` percent probability.
    fn pct(&mut self, pct: u64) -> bool {
        self.pick(100) < pct
    }
}

impl Choices for XorShift {
    fn pick(&mut self, n: u64) -> u64 {
        self.below(n)
    }
}

/// Choices read from a fuzz input, two bytes each.
pub struct ByteChoices<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> ByteChoices<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        ByteChoices { data, pos: 0 }
    }
}

impl Choices for ByteChoices<'_> {
    fn pick(&mut self, n: u64) -> u64 {
        let lo = self.data.get(self.pos).copied().unwrap_or(0);
        let hi = self.data.get(self.pos + 1).copied().unwrap_or(0);
        self.pos += 2;
        if n == 0 {
            0
        } else {
            u64::from(u16::from_le_bytes([lo, hi])) % n
        }
    }
    fn exhausted(&self) -> bool {
        self.pos >= self.data.len()
    }
}

/// What a run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub steps: u64,
    pub commands: u64,
    pub completions: u64,
    pub storage_completions: u64,
    pub timer_fires: u64,
    pub resets: u64,
    pub quiet_checks: u64,
}

impl Stats {
    pub fn add(&mut self, o: &Stats) {
        self.steps += o.steps;
        self.commands += o.commands;
        self.completions += o.completions;
        self.storage_completions += o.storage_completions;
        self.timer_fires += o.timer_fires;
        self.resets += o.resets;
        self.quiet_checks += o.quiet_checks;
    }
}

const MS: u64 = 1_000_000;
/// Guest memory layout: nothing of the harness lives below `JUNK`, so
/// transfers through garbage pointers land in unused memory, the junk
/// arena or outside guest memory (at or above `LIMIT`).
const JUNK: u64 = 0x10_0000;
const JUNK_SIZE: u64 = 0x10_0000;
const SLOTS: u64 = 32;
const SLOT_BASE: u64 = 0x20_0000;
/// Largest transfer the harness builds (16 pages).
const MAX_XFER: u64 = 0x1_0000;
const SLOT_SIZE: u64 = MAX_XFER + 0x1000;
/// Queues and controller data structures, far from where data goes.
const STRUCT_BASE: u64 = 0xc000_0000;
const LIMIT: u64 = 1 << 32;
const NSID: u32 = 1;

/// A command the harness submitted and has not seen complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Outstanding {
    opcode: u8,
    /// May legitimately never complete (AER, Abort targets of injected
    /// timeouts are still checked when aborted).
    may_hold: bool,
}

/// The stateful harness.
pub struct Stress<'c> {
    d: Driver,
    ch: &'c mut dyn Choices,
    cfg: ControllerConfig,
    /// I/O queue pairs created at the last bring-up, and their depth.
    nq: u16,
    depth: u32,
    outstanding: BTreeMap<(u16, u16), Outstanding>,
    next_cid: u16,
    /// Error injection that holds commands (timeouts) may be armed: it
    /// survives controller resets and ends at a power cycle.
    timeout_injection: bool,
    /// Injections armed that can affect admin commands (bring-up may need
    /// a second try until a power cycle ends them).
    admin_injection: bool,
    shadow: Option<(u64, u64)>,
    struct_next: u64,
    stats: Stats,
    /// Print every step and command (to reproduce a failing seed).
    pub trace: bool,
    /// Every this many steps (0: never), migrate: replace the controller
    /// by the one its saved state loads into, which must equal it.
    pub migrate_every: u64,
}

/// A configuration the controller accepts, chosen at random.
pub fn random_config(ch: &mut dyn Choices) -> ControllerConfig {
    let max_ioqpairs = [1u16, 2, 4, 8][ch.pick(4) as usize];
    ControllerConfig {
        capacity_bytes: 8 << 20,
        max_ioqpairs,
        msix_vectors: if ch.pct(30) { 1 } else { max_ioqpairs + 1 },
        mdts: 1 + ch.pick(5) as u8,
        mqes: [1u16, 3, 15, 63, 2047][ch.pick(5) as usize],
        volatile_write_cache: ch.pct(50),
        defer_processing: ch.pct(20),
        aerl: ch.pick(4) as u8,
        aer_max_queued: 1 + ch.pick(8) as u16,
        ..ControllerConfig::default()
    }
}

impl<'c> Stress<'c> {
    pub fn new(ch: &'c mut dyn Choices) -> Self {
        let cfg = random_config(ch);
        let mut d = Driver::new(cfg.clone());
        d.auto_complete = false;
        d.env.mem = super::TestMemory::new(LIMIT);
        d.env.irq.msix = !ch.pct(10);
        // Harness data bytes all have their top bit set: a guest pointer
        // read from them lies far outside guest memory.
        let junk: Vec<u8> = (0..JUNK_SIZE).map(|i| 0x80 | (i as u8)).collect();
        d.write_mem(JUNK, &junk);
        Stress {
            d,
            ch,
            cfg,
            nq: 0,
            depth: 2,
            outstanding: BTreeMap::new(),
            next_cid: 1,
            timeout_injection: false,
            admin_injection: false,
            shadow: None,
            struct_next: STRUCT_BASE,
            stats: Stats::default(),
            trace: false,
            migrate_every: 0,
        }
    }

    /// Run `steps` steps (fewer if the choices run out); panics with a
    /// message on a broken invariant.
    pub fn run(self, steps: u64) -> Stats {
        self.run_to_end(steps).0
    }

    /// [`Stress::run`], returning the controller as well.
    pub fn run_to_end(mut self, steps: u64) -> (Stats, crate::Controller) {
        self.recover("start");
        for _ in 0..steps {
            if self.ch.exhausted() {
                break;
            }
            self.step();
            self.stats.steps += 1;
            if self.migrate_every != 0 && self.stats.steps % self.migrate_every == 0 {
                self.migrate();
            }
        }
        self.quiet_check();
        (self.stats, self.d.ctrl)
    }

    /// Save the controller's state and load it into a new controller of
    /// the same configuration, which must equal the original and replaces
    /// it.
    pub fn migrate(&mut self) {
        let blob = self.d.ctrl.save_state();
        let loaded = crate::Controller::load_state(self.cfg.clone(), &blob)
            .unwrap_or_else(|e| panic!("step {}: load_state: {e}", self.stats.steps));
        assert!(
            loaded == self.d.ctrl,
            "step {}: the loaded controller differs from the saved one: {}",
            self.stats.steps,
            super::first_difference(&self.d.ctrl, &loaded)
        );
        self.d.ctrl = loaded;
    }

    fn step(&mut self) {
        let op = self.ch.pick(100);
        if self.trace {
            eprintln!(
                "step {} op {op} t={} csts={:#x} outstanding={:?}",
                self.stats.steps,
                self.d.env.clock.ns.get(),
                self.d.csts(),
                self.outstanding
            );
        }
        match op {
            0..=29 => self.submit_io(),
            30..=37 => self.submit_admin(),
            38..=41 => self.submit_garbage(),
            42..=61 => self.complete_storage_randomly(),
            62..=71 => {
                self.reap_all();
            }
            72..=79 => self.advance_time(),
            80..=82 => self.poke_registers(),
            83..=85 => self.invalid_doorbell(),
            86 => self.controller_reset(),
            87 => self.function_level_reset(),
            88..=90 => self.d.ctrl.quiesce(),
            91..=93 => self.resume(),
            94 => self.quiet_check(),
            95 => self.subsystem_reset(),
            _ => self.check_state(),
        }
    }

    // ---- guest memory and queues -------------------------------------

    /// Zeroed memory for a queue or buffer, as a driver allocates it.
    fn alloc_struct(&mut self, len: u64) -> u64 {
        let a = self.struct_next;
        let len = len.div_ceil(4096).max(1) * 4096;
        self.struct_next += len;
        self.d.write_mem(a, &vec![0; len as usize]);
        a
    }

    fn cid(&mut self, sqid: u16) -> u16 {
        loop {
            let c = self.next_cid;
            self.next_cid = self.next_cid.wrapping_add(1).max(1);
            if !self.outstanding.contains_key(&(sqid, c)) {
                return c;
            }
        }
    }

    /// Put `sqe` on SQ `qid` with a fresh CID and ring its doorbell (the
    /// shadow doorbell first when configured). None if the queue is full
    /// or absent.
    fn submit(&mut self, qid: u16, sqe: Sqe, may_hold: bool) -> Option<u16> {
        let cid = self.place(qid, sqe, may_hold)?;
        self.ring(qid);
        Some(cid)
    }

    /// Write `sqe` at SQ `qid`'s tail without ringing the doorbell.
    fn place(&mut self, qid: u16, mut sqe: Sqe, may_hold: bool) -> Option<u16> {
        let q = self.d.sq[qid as usize];
        if q.size == 0 {
            return None;
        }
        let tail = (q.ptr + 1) % q.size;
        let in_flight = self.outstanding.keys().filter(|k| k.0 == qid).count() as u32;
        if in_flight + 1 >= q.size {
            return None;
        }
        let cid = self.cid(qid);
        sqe.dw[0] = (sqe.dw[0] & 0xffff) | u32::from(cid) << 16;
        if self.trace {
            eprintln!("  submit SQ {qid} CID {cid}: {:08x?}", sqe.dw);
        }
        self.d
            .write_mem(q.base + u64::from(q.ptr) * 64, &sqe.to_bytes());
        self.d.sq[qid as usize].ptr = tail;
        self.outstanding.insert(
            (qid, cid),
            Outstanding {
                opcode: sqe.opcode(),
                may_hold,
            },
        );
        self.stats.commands += 1;
        Some(cid)
    }

    /// Ring SQ `qid`'s tail doorbell (and its shadow doorbell); half of
    /// the time, for a queue that takes notifications, as an ioeventfd
    /// does: a notification without the value.
    fn ring(&mut self, qid: u16) {
        let tail = self.d.sq[qid as usize].ptr;
        if let Some((shadow, _)) = self.shadow {
            self.d
                .write_mem(shadow + u64::from(qid) * 8, &tail.to_le_bytes());
            if self.ch.pick(2) == 0 && self.d.ctrl.sq_notifier_qids().any(|q| q == qid) {
                let mut h = self.d.env.host();
                self.d.ctrl.sq_doorbell_notified(qid, &mut h);
                return;
            }
        }
        self.d.w32(off::DOORBELLS + u64::from(qid) * 8, tail);
    }

    /// A fused Compare and Write of one block, with one doorbell write:
    /// mostly a proper pair (comparing with zeroes, which unwritten blocks
    /// hold, so that some succeed), now and then differing ranges or a
    /// lone first half.
    fn submit_fused(&mut self, qid: u16) {
        let (slba, _) = self.lba_range(1);
        let mut cmp = Sqe { dw: [0; 16] };
        cmp.dw[0] = 0x05 | 1 << 8;
        cmp.dw[1] = NSID;
        cmp.dw[10] = slba as u32;
        cmp.dw[11] = (slba >> 32) as u32;
        self.data_pointer(&mut cmp, 512);
        if self.ch.pct(50) {
            self.d.write_mem(cmp.prp1(), &[0u8; 512]);
        }
        let mut wr = cmp;
        wr.dw[0] = 0x01 | 2 << 8;
        if self.ch.pct(10) {
            wr.dw[10] = wr.dw[10].wrapping_add(1);
        }
        if self.place(qid, cmp, false).is_some() && self.ch.pct(95) {
            let _ = self.place(qid, wr, false);
        }
        self.ring(qid);
    }

    /// Read every new CQE, check it completes an outstanding command, ring
    /// the head doorbells. Returns what was reaped.
    fn reap_all(&mut self) -> Vec<RawCqe> {
        let mut all = Vec::new();
        for qid in 0..=self.nq {
            let mut q = self.d.cq[qid as usize];
            if q.size == 0 {
                continue;
            }
            let mut moved = false;
            for _ in 0..q.size {
                let mut b = [0u8; 16];
                if self
                    .d
                    .env
                    .mem
                    .read(q.base + u64::from(q.ptr) * 16, &mut b)
                    .is_err()
                {
                    break;
                }
                let c = RawCqe::parse(&b);
                if c.phase != q.phase {
                    break;
                }
                let key = (c.sqid, c.cid);
                assert!(
                    self.outstanding.remove(&key).is_some(),
                    "CQ {qid}: completion of SQ {} CID {} which is not outstanding \
                     (completed twice, or never submitted): {c:?}",
                    c.sqid,
                    c.cid
                );
                self.stats.completions += 1;
                if self.trace {
                    eprintln!("  complete {c:?}");
                }
                all.push(c);
                q.consume();
                moved = true;
            }
            self.d.cq[qid as usize] = q;
            if moved {
                if let Some((shadow, _)) = self.shadow {
                    self.d
                        .write_mem(shadow + u64::from(qid) * 8 + 4, &q.ptr.to_le_bytes());
                }
                self.d.w32(off::DOORBELLS + u64::from(qid) * 8 + 4, q.ptr);
            }
        }
        all
    }

    // ---- host side ---------------------------------------------------

    fn complete_storage_randomly(&mut self) {
        let mut reqs = std::mem::take(&mut self.d.env.storage.pending);
        let mut keep = Vec::new();
        while !reqs.is_empty() {
            let i = self.ch.pick(reqs.len() as u64) as usize;
            let req = reqs.swap_remove(i);
            if self.ch.pct(25) {
                keep.push(req);
                continue;
            }
            let (res, data) = if self.ch.pct(5) {
                let e =
                    [IoError::MediaError, IoError::NoSpace, IoError::Dma][self.ch.pick(3) as usize];
                (IoResult::Error(e), Vec::new())
            } else {
                self.d.env.storage.perform(&req, &mut self.d.env.mem)
            };
            self.d.complete_token_data(req.token, res, &data);
            self.stats.storage_completions += 1;
            if self.ch.pct(3) {
                // A duplicate, and a completion from an older epoch.
                self.d.complete_token(req.token, IoResult::Ok);
                self.d.complete_token(req.token ^ 1 << 16, IoResult::Ok);
            }
        }
        self.d.env.storage.pending.extend(keep);
        self.check_state();
    }

    fn complete_all_storage(&mut self) {
        for _ in 0..64 {
            let reqs = std::mem::take(&mut self.d.env.storage.pending);
            if reqs.is_empty() {
                break;
            }
            for r in reqs {
                let (res, data) = self.d.env.storage.perform(&r, &mut self.d.env.mem);
                self.d.complete_token_data(r.token, res, &data);
                self.stats.storage_completions += 1;
            }
        }
    }

    /// Move virtual time and fire the timer as QEMU does, checking that a
    /// fired timer never leaves its deadline at or before now.
    fn advance_by(&mut self, ns: u64) {
        let t = self.d.env.clock.ns.get() + ns;
        self.d.env.clock.ns.set(t);
        if self.d.ctrl.timer_deadline().is_some_and(|d| d <= t) {
            let mut h = self.d.env.host();
            self.d.ctrl.timer_fired(&mut h);
            self.stats.timer_fires += 1;
            check_timer_deadline(&self.d.ctrl, t);
        }
        if self.d.ctrl.work_pending() {
            let mut h = self.d.env.host();
            self.d.ctrl.process_pending(&mut h);
        }
    }

    fn advance_time(&mut self) {
        let ns = match self.ch.pick(10) {
            0..=5 => self.ch.pick(MS),
            6..=8 => self.ch.pick(100 * MS),
            _ => self.ch.pick(3_000 * MS),
        };
        self.advance_by(ns);
        self.check_state();
    }

    fn resume(&mut self) {
        let mut h = self.d.env.host();
        self.d.ctrl.resume(&mut h);
        self.check_state();
    }

    // ---- commands ----------------------------------------------------

    /// A data buffer of `len` bytes with its PRPs in `sqe`.
    fn data_pointer(&mut self, sqe: &mut Sqe, len: u64) {
        let slot = SLOT_BASE + self.ch.pick(SLOTS) * SLOT_SIZE;
        let buf = slot
            + if self.ch.pct(10) {
                4 * self.ch.pick(1024)
            } else {
                0
            };
        let pattern: Vec<u8> = (0..len.min(4096))
            .map(|i| 0x80 | (i as u8 ^ 0x5a))
            .collect();
        self.d.write_mem(buf, &pattern);
        super::set_prps_with_list(&mut self.d, sqe, buf, len, |_, _| slot + MAX_XFER);
    }

    fn lba_range(&mut self, max_blocks: u64) -> (u64, u32) {
        let nsze = self.cfg.capacity_bytes / 512;
        let nlb = 1 + self.ch.pick(max_blocks) as u32;
        let slba = if self.ch.pct(5) {
            nsze - self.ch.pick(4)
        } else {
            self.ch.pick(nsze - u64::from(nlb) + 1)
        };
        (slba, nlb)
    }

    fn submit_io(&mut self) {
        if self.nq == 0 {
            return;
        }
        let qid = 1 + self.ch.pick(u64::from(self.nq)) as u16;
        if self.ch.pct(5) {
            self.submit_fused(qid);
            return;
        }
        let max_xfer = (4096u64 << self.cfg.mdts).min(MAX_XFER);
        let op = [
            0x02u8, 0x02, 0x01, 0x01, 0x00, 0x08, 0x09, 0x05, 0x0c, 0x04, 0x19,
        ][self.ch.pick(11) as usize];
        let mut sqe = Sqe { dw: [0; 16] };
        sqe.dw[0] = u32::from(op);
        // Mostly the factory namespace, sometimes one the harness created.
        sqe.dw[1] = if self.ch.pct(85) {
            NSID
        } else {
            1 + self.ch.pick(4) as u32
        };
        match op {
            0x01 | 0x02 | 0x05 => {
                let (slba, nlb) = self.lba_range(max_xfer / 512);
                sqe.dw[10] = slba as u32;
                sqe.dw[11] = (slba >> 32) as u32;
                let fua = u32::from(op == 0x01 && self.ch.pct(20)) << 30;
                sqe.dw[12] = (nlb - 1) | fua;
                self.data_pointer(&mut sqe, u64::from(nlb) * 512);
            }
            0x08 | 0x0c | 0x04 => {
                let (slba, nlb) = self.lba_range(if op == 0x0c { max_xfer / 512 } else { 4096 });
                sqe.dw[10] = slba as u32;
                sqe.dw[11] = (slba >> 32) as u32;
                let bits = if op == 0x08 {
                    self.ch.pick(4) as u32
                } else {
                    0
                };
                // Write Zeroes: DEAC (bit 25) and FUA (bit 30).
                sqe.dw[12] = (nlb - 1) | (bits & 1) << 25 | (bits >> 1) << 30;
            }
            0x09 => {
                let nr = 1 + self.ch.pick(16);
                let mut ranges = Vec::new();
                for _ in 0..nr {
                    let (slba, nlb) = self.lba_range(256);
                    ranges.extend_from_slice(&0u32.to_le_bytes());
                    ranges.extend_from_slice(&nlb.to_le_bytes());
                    ranges.extend_from_slice(&slba.to_le_bytes());
                }
                let list = SLOT_BASE + self.ch.pick(SLOTS) * SLOT_SIZE;
                self.d.write_mem(list, &ranges);
                sqe.dw[6] = list as u32;
                sqe.dw[7] = (list >> 32) as u32;
                sqe.dw[10] = nr as u32 - 1;
                sqe.dw[11] = 1 << 2; // deallocate
            }
            0x19 => {
                // Copy: up to 4 source ranges (descriptor format 0h, now
                // and then an unsupported one), FUA now and then.
                let nr = 1 + self.ch.pick(4);
                let mut desc = Vec::new();
                for _ in 0..nr {
                    let (slba, nlb) = self.lba_range(64);
                    desc.extend_from_slice(&[0u8; 8]);
                    desc.extend_from_slice(&slba.to_le_bytes());
                    desc.extend_from_slice(&((nlb - 1) as u16).to_le_bytes());
                    desc.extend_from_slice(&[0u8; 14]);
                }
                let list = SLOT_BASE + self.ch.pick(SLOTS) * SLOT_SIZE;
                self.d.write_mem(list, &desc);
                sqe.dw[6] = list as u32;
                sqe.dw[7] = (list >> 32) as u32;
                let (sdlba, _) = self.lba_range(256);
                sqe.dw[10] = sdlba as u32;
                sqe.dw[11] = (sdlba >> 32) as u32;
                let desfmt = u32::from(self.ch.pct(5)) << 8;
                let fua = u32::from(self.ch.pct(20)) << 30;
                sqe.dw[12] = (nr as u32 - 1) | desfmt | fua;
            }
            _ => {}
        }
        self.submit(qid, sqe, false);
    }

    fn set_features(&mut self, fid: u8, cdw11: u32, uuid: u32) -> Sqe {
        let mut s = Sqe { dw: [0; 16] };
        s.dw[0] = 0x09;
        s.dw[10] = u32::from(fid) | u32::from(self.ch.pct(10)) << 31;
        s.dw[11] = cdw11;
        s.dw[14] = uuid;
        s
    }

    fn submit_admin(&mut self) {
        if self.d.sq[0].size == 0 {
            return;
        }
        let mut s = Sqe { dw: [0; 16] };
        let mut may_hold = false;
        let buf = JUNK + 0x1000 * self.ch.pick(JUNK_SIZE / 0x1000 - 2);
        match self.ch.pick(17) {
            0 => {
                // Identify: controller, namespace, lists, UUID list.
                s.dw[0] = 0x06;
                s.dw[1] = [0, 1, 0xffff_ffff][self.ch.pick(3) as usize];
                s.dw[10] =
                    [0u32, 1, 2, 3, 0x10, 0x11, 0x12, 0x13, 0x16, 0x17][self.ch.pick(10) as usize];
                s.dw[6] = buf as u32;
            }
            1 => {
                // Get Log Page, with the OCP UUID index sometimes.
                let lid = [
                    1u32, 2, 3, 5, 6, 7, 8, 0x0d, 0x14, 0x81, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5,
                    0xc6, 0xc7, 0xc9,
                ][self.ch.pick(19) as usize];
                let numd = self.ch.pick(1024) as u32;
                s.dw[0] = 0x02;
                s.dw[1] = 0xffff_ffff;
                s.dw[10] = lid | numd << 16 | u32::from(self.ch.pct(50)) << 15;
                if matches!(lid, 0x0d | 0x14) {
                    // Persistent Event log actions, lockdown log scopes.
                    s.dw[10] |= (self.ch.pick(0x40) as u32) << 8;
                }
                s.dw[14] = self.ch.pick(2) as u32;
                s.dw[6] = buf as u32;
                s.dw[8] = (buf + 0x1000) as u32;
            }
            2 => {
                s.dw[0] = 0x0a;
                let fid = [
                    1u32, 2, 4, 5, 6, 7, 8, 0x0b, 0x0e, 0x0f, 0xc0, 0xc2, 0xc5, 0xc7, 0xc9,
                ][self.ch.pick(15) as usize];
                s.dw[10] = fid | (self.ch.pick(4) as u32) << 8;
                s.dw[14] = self.ch.pick(2) as u32;
                s.dw[6] = buf as u32;
            }
            3 => {
                // Keep Alive Timer: off, or 1 to 5 s.
                let kato = if self.ch.pct(50) {
                    0
                } else {
                    1000 * (1 + self.ch.pick(5) as u32)
                };
                s = self.set_features(0x0f, kato, 0);
            }
            4 => {
                // DSSD power state (C7h).
                let w = self.ch.pick(30) as u32;
                s = self.set_features(0xc7, w, 1);
            }
            5 => {
                // Error injection (C0h): one entry.
                let kinds: [u16; 23] = [
                    3, 6, 7, 8, 11, 12, 13, 14, 15, 16, 17, 18, 19, 22, 0x17, 0x19, 0x1c, 0x1d,
                    0x1e, 0x1f, 0x20, 0x21, 0x22,
                ];
                let mut kind = kinds[self.ch.pick(kinds.len() as u64) as usize];
                if self.ch.pct(5) {
                    kind = [1u16, 2, 4, 5, 9][self.ch.pick(5) as usize]; // panic
                }
                let mut e = [0u8; 32];
                e[0] = if self.ch.pct(80) { 3 } else { 1 };
                e[2..4].copy_from_slice(&kind.to_le_bytes());
                let ms = self.ch.pick(50) as u32;
                e[4..8].copy_from_slice(&ms.to_le_bytes());
                self.d.write_mem(buf, &e);
                s = self.set_features(0xc0, 1, 1);
                s.dw[6] = buf as u32;
                // Timeouts hold commands for ever (until Abort or reset).
                if matches!(kind, 16 | 18) {
                    self.timeout_injection = true;
                }
                // OCP 2.7 panics on 6, 8 and 12 too (recovery type 1).
                if matches!(kind, 1 | 2 | 4 | 5 | 6 | 8 | 9 | 12 | 17 | 18) {
                    self.admin_injection = true;
                }
            }
            6 => {
                let fid = [0xc5u8, 0x01, 0x02, 0x04, 0x06, 0x08, 0x0b, 0xc2, 0xc9]
                    [self.ch.pick(9) as usize];
                // Arbitration: every weight (HPW, MPW in the high half).
                let bits = if fid == 0x01 { 1 << 32 } else { 1 << 16 };
                let v = self.ch.pick(bits) as u32;
                s = self.set_features(fid, v, u32::from(fid >= 0xc0));
            }
            7 => {
                // Format NVM: LBA format 0 or 1.
                s.dw[0] = 0x80;
                s.dw[1] = NSID;
                s.dw[10] = self.ch.pick(2) as u32;
            }
            8 => {
                // Firmware Image Download then (sometimes) Commit.
                if self.ch.pct(50) {
                    s.dw[0] = 0x11;
                    s.dw[10] = self.ch.pick(1024) as u32;
                    s.dw[11] = self.ch.pick(64) as u32 * 1024;
                    s.dw[6] = buf as u32;
                    s.dw[8] = (buf + 0x1000) as u32;
                } else {
                    s.dw[0] = 0x10;
                    s.dw[10] = self.ch.pick(8) as u32 | (self.ch.pick(4) as u32) << 3;
                }
            }
            9 => {
                s.dw[0] = 0x14;
                s.dw[1] = 0xffff_ffff;
                s.dw[10] = [1u32, 2, 0xf][self.ch.pick(3) as usize];
            }
            10 => {
                s.dw[0] = 0x0c; // AER: held until an event
                may_hold = true;
            }
            11 => {
                // Abort a random outstanding command.
                let keys: Vec<_> = self.outstanding.keys().copied().collect();
                if let Some(&(sq, cid)) = keys.get(self.ch.pick(keys.len().max(1) as u64) as usize)
                {
                    s.dw[0] = 0x08;
                    s.dw[10] = u32::from(sq) | u32::from(cid) << 16;
                } else {
                    s.dw[0] = 0x18;
                }
            }
            12 => {
                // Shadow doorbells (Doorbell Buffer Config).
                if self.shadow.is_none() {
                    let shadow = self.alloc_struct(4096);
                    let eventidx = self.alloc_struct(4096);
                    // Seed the shadow tails/heads with the current values.
                    for q in 0..=self.nq {
                        let sq = self.d.sq[q as usize].ptr;
                        let cq = self.d.cq[q as usize].ptr;
                        self.d
                            .write_mem(shadow + u64::from(q) * 8, &sq.to_le_bytes());
                        self.d
                            .write_mem(shadow + u64::from(q) * 8 + 4, &cq.to_le_bytes());
                    }
                    s.dw[0] = 0x7c;
                    s.dw[6] = shadow as u32;
                    s.dw[7] = (shadow >> 32) as u32;
                    s.dw[8] = eventidx as u32;
                    s.dw[9] = (eventidx >> 32) as u32;
                    if let Some(cid) = self.submit(0, s, false) {
                        if let Some(c) = self.wait_admin(cid) {
                            if c.ok() {
                                self.shadow = Some((shadow, eventidx));
                            }
                        }
                    }
                    return;
                }
                s.dw[0] = 0x18;
            }
            13 => s = self.namespace_command(buf),
            14 => {
                // Sanitize: any action (reserved ones too), AUSE, one to
                // three overwrite passes, OIPBP, NDAS; it runs in the
                // background over the whole drive.
                s.dw[0] = 0x84;
                s.dw[10] = self.ch.pick(8) as u32
                    | (self.ch.pick(2) as u32) << 3
                    | (1 + self.ch.pick(3) as u32) << 4
                    | (self.ch.pick(4) as u32) << 8;
                s.dw[11] = self.ch.pick(1 << 16) as u32;
            }
            15 => {
                // Lockdown: prohibit or allow a command or feature the
                // harness does not need (any scope, interface and
                // identifier sometimes: refused unless valid).
                s.dw[0] = 0x24;
                let (scp, ofi) = if self.ch.pct(80) {
                    [
                        (0u32, 0x14u32),
                        (0, 0x80),
                        (0, 0x84),
                        (0, 0x11),
                        (2, 0x04),
                        (2, 0xc7),
                    ][self.ch.pick(6) as usize]
                } else {
                    (self.ch.pick(16) as u32, 0x0d + self.ch.pick(3) as u32)
                };
                s.dw[10] =
                    scp | (self.ch.pick(2) as u32) << 4 | (self.ch.pick(4) as u32) << 5 | ofi << 8;
            }
            _ => s.dw[0] = 0x18, // Keep Alive
        }
        self.submit(0, s, may_hold);
        self.check_state();
    }

    /// Namespace Management (create, delete) or Attachment (attach,
    /// detach) of NSIDs 1 to 4; the factory namespace is deleted rarely,
    /// so that creating one finds capacity now and then.
    fn namespace_command(&mut self, buf: u64) -> Sqe {
        let mut s = Sqe { dw: [0; 16] };
        s.dw[6] = buf as u32;
        let nsid = 1 + self.ch.pick(4) as u32;
        match self.ch.pick(4) {
            0 => {
                let nsze = if self.ch.pct(20) {
                    self.cfg.capacity_bytes / 512
                } else {
                    1 + self.ch.pick(2048)
                };
                let ncap = if self.ch.pct(10) { nsze / 2 } else { nsze };
                let mut data = vec![0u8; 4096];
                data[0..8].copy_from_slice(&nsze.to_le_bytes());
                data[8..16].copy_from_slice(&ncap.to_le_bytes());
                data[26] = self.ch.pick(2) as u8;
                data[30] = self.ch.pick(2) as u8;
                self.d.write_mem(buf, &data);
                s.dw[0] = 0x0d;
            }
            1 => {
                s.dw[0] = 0x0d;
                s.dw[10] = 1;
                s.dw[1] = if self.ch.pct(10) {
                    [1, 0xffff_ffff][self.ch.pick(2) as usize]
                } else {
                    2 + self.ch.pick(3) as u32
                };
            }
            _ => {
                // A controller list of the one controller (ID 0), or junk.
                let list: [u8; 4] = if self.ch.pct(90) {
                    [1, 0, 0, 0]
                } else {
                    [2, 0, 0, 0]
                };
                self.d.write_mem(buf, &list);
                s.dw[0] = 0x15;
                s.dw[1] = nsid;
                s.dw[10] = self.ch.pick(2) as u32;
            }
        }
        s
    }

    /// A random entry: any opcode, any fields, data pointers into the junk
    /// arena or outside guest memory; never queue management (the harness
    /// owns the queues).
    fn submit_garbage(&mut self) {
        let admin = self.nq == 0 || self.ch.pct(30);
        let qid = if admin {
            0
        } else {
            1 + self.ch.pick(u64::from(self.nq)) as u16
        };
        let mut s = Sqe { dw: [0; 16] };
        for dw in s.dw.iter_mut() {
            *dw = (self.ch.pick(1 << 16) as u32) << 16 | self.ch.pick(1 << 16) as u32;
        }
        // Queue management and Lockdown (which could prohibit the
        // harness's own queue management for good) come from submit_admin.
        if admin && matches!(s.opcode(), 0x00 | 0x01 | 0x04 | 0x05 | 0x24 | 0x7c) {
            s.dw[0] = (s.dw[0] & !0xff) | 0x06;
        }
        if self.ch.pct(70) {
            s.dw[1] = NSID;
        }
        for i in [6, 8] {
            let p = if self.ch.pct(80) {
                JUNK + self.ch.pick(JUNK_SIZE - 0x2000)
            } else {
                LIMIT + self.ch.pick(1 << 20)
            };
            s.dw[i] = p as u32;
            s.dw[i + 1] = (p >> 32) as u32;
        }
        if self.ch.pct(80) {
            // Keep lengths modest.
            s.dw[12] &= 0xffff_00ff;
            s.dw[10] &= 0x00ff_ffff;
        }
        if admin && s.opcode() == 0x09 && s.dw[10] & 0xff == 0xc0 {
            // Garbage error injection: anything may be held, and admin
            // commands may fail until a power cycle.
            self.timeout_injection = true;
            self.admin_injection = true;
        }
        self.submit(qid, s, true);
        self.check_state();
    }

    // ---- registers ---------------------------------------------------

    fn poke_registers(&mut self) {
        let size = [1u32, 2, 3, 4, 8][self.ch.pick(5) as usize];
        let offset = self.ch.pick(0x40);
        match self.ch.pick(6) {
            0 => {
                let mut h = self.d.env.host();
                let _ = self.d.ctrl.mmio_read(offset, size, &mut h);
            }
            1 => {
                // CC with random bits: reset, shutdown, or ignored changes.
                let v = self.ch.pick(1 << 16) as u32 | (self.ch.pick(1 << 16) as u32) << 16;
                self.d.w32(off::CC, v);
            }
            2 => {
                // Shutdown, normal or abrupt.
                let cc = self.d.r32(off::CC);
                let shn = 1 + self.ch.pick(2) as u32;
                self.d.w32(off::CC, (cc & !(3 << 14)) | shn << 14);
            }
            _ => {
                let v = self.ch.pick(u64::MAX);
                let mut h = self.d.env.host();
                self.d.ctrl.mmio_write(offset, v, size, &mut h);
            }
        }
        self.check_state();
    }

    fn invalid_doorbell(&mut self) {
        let max = u64::from(self.cfg.max_ioqpairs);
        match self.ch.pick(5) {
            4 => {
                // A notification (ioeventfd) with a shadow tail beyond the
                // queue size, or for any queue; then the right tail again.
                let qid = self.ch.pick(max + 1) as u16;
                if let Some((shadow, _)) = self.shadow {
                    let slot = shadow + u64::from(qid) * 8;
                    let good = self.d.sq.get(qid as usize).map_or(0, |q| q.ptr);
                    let bad = self.d.sq.get(qid as usize).map_or(1, |q| q.size.max(1))
                        + self.ch.pick(1000) as u32;
                    self.d.write_mem(slot, &bad.to_le_bytes());
                    let mut h = self.d.env.host();
                    self.d.ctrl.sq_doorbell_notified(qid, &mut h);
                    self.d.write_mem(slot, &good.to_le_bytes());
                }
            }
            0 => {
                // A queue that does not exist.
                let qid = u64::from(self.nq) + 1 + self.ch.pick(max + 1);
                self.d
                    .w32(off::DOORBELLS + qid * 8 + 4 * self.ch.pick(2), 0);
            }
            1 => {
                // A value beyond the queue size.
                let qid = self.ch.pick(u64::from(self.nq) + 1);
                let size = self.d.sq[qid as usize].size.max(1);
                let v = size + self.ch.pick(1000) as u32;
                self.d
                    .w32(off::DOORBELLS + qid * 8 + 4 * self.ch.pick(2), v);
            }
            _ => {
                // Bad sizes and alignment.
                let offset = off::DOORBELLS + self.ch.pick(8 * (max + 1));
                let size = [1u32, 2, 8][self.ch.pick(3) as usize];
                let mut h = self.d.env.host();
                self.d.ctrl.mmio_write(offset, 0, size, &mut h);
            }
        }
        self.check_state();
    }

    // ---- resets and the invariants ----------------------------------

    fn forget_queues(&mut self) {
        self.outstanding.clear();
        for q in self.d.sq.iter_mut().chain(self.d.cq.iter_mut()) {
            *q = super::HostQueue::default();
        }
        for s in self.d.stash.iter_mut() {
            s.clear();
        }
        self.nq = 0;
        self.shadow = None;
        self.struct_next = STRUCT_BASE;
    }

    fn controller_reset(&mut self) {
        let cc = self.d.r32(off::CC);
        self.d.w32(off::CC, cc & !1);
        assert_eq!(self.d.csts() & 1, 0, "CC.EN = 0 clears CSTS.RDY at once");
        self.stats.resets += 1;
        self.forget_queues();
        if self.d.ctrl.is_quiesced() {
            self.resume_quietly();
        }
        self.bring_up_after_reset("controller reset");
    }

    /// An NVM Subsystem Reset ("NVMe" to NSSR): the controller resets with
    /// its registers, CSTS.NSSRO is set; the host clears it (or not) and
    /// brings the controller up again.
    fn subsystem_reset(&mut self) {
        self.d.w32(off::NSSR, 0x4e56_4d65);
        assert_eq!(self.d.csts() & 1, 0, "NSSR clears CSTS.RDY at once");
        assert_ne!(self.d.csts() & 1 << 4, 0, "NSSR sets CSTS.NSSRO");
        if self.ch.pct(50) {
            self.d.w32(off::CSTS, 1 << 4);
        }
        self.stats.resets += 1;
        self.forget_queues();
        if self.d.ctrl.is_quiesced() {
            self.resume_quietly();
        }
        self.bring_up_after_reset("subsystem reset");
    }

    /// A PCI function level reset: the controller's power-on state.
    fn function_level_reset(&mut self) {
        let mut h = self.d.env.host();
        self.d.ctrl.reset(&mut h);
        self.stats.resets += 1;
        self.admin_injection = false;
        self.timeout_injection = false;
        self.forget_queues();
        if self.d.ctrl.is_quiesced() {
            self.resume_quietly();
        }
        if let Err(e) = self.bring_up() {
            panic!("bring-up after a function level reset failed: {e}");
        }
    }

    /// After a controller reset the drive must come back; only armed
    /// injections that hit admin commands may need one more try, and a
    /// power cycle ends those.
    fn bring_up_after_reset(&mut self, why: &str) {
        let Err(e) = self.bring_up() else {
            return;
        };
        assert!(
            self.admin_injection,
            "bring-up after a {why} failed with nothing armed to explain it: {e}"
        );
        self.function_level_reset();
    }

    /// Wait for admin command `cid`, driving storage and time.
    fn wait_admin(&mut self, cid: u16) -> Option<RawCqe> {
        for _ in 0..200 {
            self.complete_all_storage();
            for c in self.reap_all() {
                if c.sqid == 0 && c.cid == cid {
                    return Some(c);
                }
            }
            if self.d.csts() & 0b10 != 0 || self.d.ctrl.is_quiesced() {
                return None;
            }
            self.advance_by(5 * MS);
        }
        None
    }

    fn admin_sync(&mut self, s: Sqe) -> Result<RawCqe, String> {
        let op = s.opcode();
        let cid = self
            .submit(0, s, false)
            .ok_or_else(|| format!("admin queue full for opcode {op:#x}"))?;
        match self.wait_admin(cid) {
            Some(c) if c.ok() => Ok(c),
            Some(c) => Err(format!("opcode {op:#x} failed: {c:?}")),
            None => Err(format!("opcode {op:#x} did not complete")),
        }
    }

    /// Linux-style bring-up from a disabled controller.
    fn bring_up(&mut self) -> Result<(), String> {
        let asq = self.alloc_struct(64 * 32);
        let acq = self.alloc_struct(16 * 32);
        self.d.sq[0] = super::HostQueue::new(asq, 32);
        self.d.cq[0] = super::HostQueue::new(acq, 32);
        self.d.w32(off::AQA, 31 << 16 | 31);
        self.d.w64(off::ASQ, asq);
        self.d.w64(off::ACQ, acq);
        // Round robin or, now and then, weighted round robin (CC.AMS 001b).
        let ams = u32::from(self.ch.pct(30)) << 11;
        self.d.w32(off::CC, 0x0046_0001 | ams);
        if self.d.csts() & 1 == 0 {
            return Err(format!(
                "not ready after CC.EN = 1, CSTS {:#x}",
                self.d.csts()
            ));
        }
        let nq = 1 + self.ch.pick(u64::from(self.cfg.max_ioqpairs)) as u16;
        let depth = [2u32, 4, 16, 64][self.ch.pick(4) as usize].min(u32::from(self.cfg.mqes) + 1);
        let nqs = u32::from(nq - 1);
        self.admin_sync(admin_sqe(0x09, 0, 0x07, nqs << 16 | nqs))?;
        for q in 1..=nq {
            let iv = if self.d.env.irq.msix {
                q % self.cfg.msix_vectors
            } else {
                0
            };
            let size_qid = (depth - 1) << 16 | u32::from(q);
            let cq = self.alloc_struct(u64::from(depth) * 16);
            self.admin_sync(admin_sqe(0x05, cq, size_qid, u32::from(iv) << 16 | 0x3))?;
            self.d.cq[q as usize] = super::HostQueue::new(cq, depth);
            let sq = self.alloc_struct(u64::from(depth) * 64);
            // QPRIO: any class (used under weighted round robin).
            let qprio = self.ch.pick(4) as u32;
            self.admin_sync(admin_sqe(
                0x01,
                sq,
                size_qid,
                u32::from(q) << 16 | qprio << 1 | 1,
            ))?;
            self.d.sq[q as usize] = super::HostQueue::new(sq, depth);
            self.nq = q;
        }
        self.depth = depth;
        Ok(())
    }

    /// The controller is not in a state to run commands (fatal status,
    /// shutdown, disabled by a random CC write): reset it and bring it up,
    /// as a host driver would.
    fn recover(&mut self, why: &str) {
        if self.d.ctrl.is_quiesced() {
            self.resume_quietly();
        }
        let cc = self.d.r32(off::CC);
        self.d.w32(off::CC, cc & !1 & !(3 << 14));
        assert_eq!(self.d.csts() & 1, 0);
        self.stats.resets += 1;
        self.forget_queues();
        self.bring_up_after_reset(why);
    }

    fn resume_quietly(&mut self) {
        let mut h = self.d.env.host();
        self.d.ctrl.resume(&mut h);
    }

    fn check_state(&mut self) {
        let csts = self.d.csts();
        let rdy = csts & 1 != 0;
        // OCP 2.7 reports a panic with the Error Reporting AEN instead of
        // CSTS.CFS (SDAEC-14): the host resets just the same.
        let cfs = csts & 0b10 != 0 || self.d.ctrl.ocp().cfs();
        let shst = (csts >> 2) & 3;
        let en = self.d.r32(off::CC) & 1 != 0;
        if !rdy || cfs || shst != 0 || !en {
            self.recover(if cfs {
                "fatal status"
            } else {
                "shutdown or disable"
            });
        }
    }

    /// Drain storage, let time pass every delay, reap: every command not
    /// deliberately held has completed, exactly once.
    fn quiet_check(&mut self) {
        if self.d.ctrl.is_quiesced() {
            self.resume_quietly();
        }
        // Keep alive off (not saved), so that waiting does not expire it.
        let mut kato_off = Sqe { dw: [0; 16] };
        kato_off.dw[0] = 0x09;
        kato_off.dw[10] = 0x0f;
        let _ = self.admin_sync(kato_off);
        for _ in 0..40 {
            self.complete_all_storage();
            self.reap_all();
            self.advance_by(60 * MS);
            let csts = self.d.csts();
            let panicked = self.d.ctrl.ocp().cfs();
            if panicked || csts & 0b10 != 0 || (csts >> 2) & 3 != 0 || csts & 1 == 0 {
                // Keep alive expiry or shutdown meanwhile: held legitimately.
                self.check_state();
                return;
            }
        }
        self.complete_all_storage();
        self.reap_all();
        self.stats.quiet_checks += 1;
        if self.timeout_injection {
            return;
        }
        let lost: Vec<_> = self
            .outstanding
            .iter()
            .filter(|(_, o)| !o.may_hold)
            .map(|(k, o)| (k.0, k.1, o.opcode))
            .collect();
        assert!(
            lost.is_empty(),
            "commands fetched and never completed (SQ, CID, opcode): {lost:?}"
        );
    }
}

/// An admin entry with PRP1 and command dwords 10 and 11.
fn admin_sqe(opcode: u8, prp1: u64, cdw10: u32, cdw11: u32) -> Sqe {
    let mut s = Sqe { dw: [0; 16] };
    s.dw[0] = u32::from(opcode);
    s.dw[6] = prp1 as u32;
    s.dw[7] = (prp1 >> 32) as u32;
    s.dw[10] = cdw10;
    s.dw[11] = cdw11;
    s
}

/// Run one seeded configuration for `steps` steps, printing every step
/// with `trace`.
pub fn run_seed(seed: u64, steps: u64, trace: bool) -> Stats {
    let mut rng = XorShift(seed.max(1));
    let mut s = Stress::new(&mut rng);
    s.trace = trace;
    // Odd seeds migrate the controller (save and load its state) every
    // few steps.
    if seed % 2 == 1 {
        s.migrate_every = 1 + seed % 97;
    }
    if trace {
        eprintln!("config: {:?}", s.cfg);
    }
    s.run(steps)
}
