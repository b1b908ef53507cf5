// SPDX-License-Identifier: GPL-2.0-or-later
//! Command fetch with round robin or weighted round robin arbitration
//! (NVMe 2.0 Base, 4.13) and dispatch to the admin and NVM command sets.

#[allow(clippy::wildcard_imports)]
use super::*;

/// Queue priority classes (Create I/O SQ CDW11 QPRIO).
const QPRIO_URGENT: u8 = 0;
const QPRIO_HIGH: u8 = 1;
const QPRIO_MEDIUM: u8 = 2;
const QPRIO_LOW: u8 = 3;

/// Where weighted round robin stands (NVMe 2.0 Base, 4.13.2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WrrState {
    /// Per priority class (urgent, high, medium, low): the I/O SQ position
    /// (0's based among I/O SQs) the class's next turn starts from.
    pub next: [u16; 4],
    /// Commands the high, medium and low classes may still run this round.
    pub credit: [u32; 3],
}

crate::persist::persist_struct!(WrrState { next, credit });

/// What one SQ's turn did.
enum Fetched {
    /// Took this many commands (0: the SQ had none).
    Took(u32),
    /// Fetching must stop (not running, no room, fatal).
    Stop,
}

impl Controller {
    /// New work may be available: process it now, or leave it for the
    /// device to run [`Controller::process_pending`] later when
    /// `ControllerConfig::defer_processing` is set.
    pub(super) fn kick(&mut self, host: &mut Host) {
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

    /// Whether fetched commands are still running (or completions wait
    /// for room in a CQ): more completions, and so more interrupts, will
    /// follow. A host batches interrupts only then: with nothing in
    /// flight, holding an interrupt back only adds latency (queue depth 1).
    pub fn commands_in_flight(&self) -> bool {
        self.outstanding_fetched() > 0
    }

    /// May another command be fetched, with `fetched` commands fetched and
    /// not yet completed (see [`Self::outstanding_fetched`])?
    fn can_fetch(&self, fetched: usize) -> bool {
        !self.free_cmds.is_empty()
            && self.free_io_slots.len() >= MAX_REQUESTS_PER_CMD
            && (MAX_OUTSTANDING - self.free_cmds.len()) + self.overflow_total < MAX_OUTSTANDING
            && fetched < MAX_OUTSTANDING
    }

    /// The SQ table entries that can hold a queue: the admin SQ and the
    /// I/O SQs allocated by Number of Queues (NSQA is 0's based; queues are
    /// created only up to it, and it changes only while none exist).  The
    /// table has a slot for every queue the controller supports (1,024), a
    /// guest allocates a few: the hot paths look at these only.
    pub(super) fn sq_slots(&self) -> usize {
        (usize::from(self.nsqa) + 2).min(self.sqs.len())
    }

    /// As [`Self::sq_slots`], for CQs (NCQA).
    pub(super) fn cq_slots(&self) -> usize {
        (usize::from(self.ncqa) + 2).min(self.cqs.len())
    }

    pub(super) fn outstanding_fetched(&self) -> usize {
        self.sqs[..self.sq_slots()]
            .iter()
            .flatten()
            .map(|q| q.inflight as usize)
            .sum::<usize>()
            + self.overflow_total
    }

    /// Fetch and execute commands from all SQs with the arbitration CC.AMS
    /// selected: round robin (the default, OCP NVMe-CFG-1) or weighted
    /// round robin with urgent priority class. Bounded: every iteration
    /// consumes SQ entries and tails do not move during the loop.
    pub fn process_pending(&mut self, host: &mut Host) {
        self.work_pending = false;
        if !self.running() || self.quiesced {
            // Quiesced: `resume` fetches what is waiting.
            return;
        }
        self.drop_stale_fused_wait();
        if self.cc.ams().value() == regs::AMS_WRR {
            self.fetch_weighted(host);
        } else {
            self.fetch_round_robin(host);
        }
    }

    /// Round robin (NVMe 2.0 Base, 4.13.1): every SQ, admin included, in
    /// turn, up to the Arbitration Burst each; only the slots up to the
    /// highest existing SQ take part.
    fn fetch_round_robin(&mut self, host: &mut Host) {
        let burst = self.feat.arbitration.burst();
        let Some(n) = self.sqs[..self.sq_slots()]
            .iter()
            .rposition(Option::is_some)
            .map(|i| i + 1)
        else {
            return;
        };
        let mut fetched = self.outstanding_fetched();
        loop {
            let mut progressed = false;
            // Each pass starts after the last SQ served, whatever the
            // number of slots taking part.
            let start = self.rr_next % n;
            for k in 0..n {
                let qid = (start + k) % n;
                if !self.sqs[qid].as_ref().is_some_and(SubQueue::has_work) {
                    // Nothing to fetch: the turn passes (what fetch_from
                    // would find, without its checks).
                    continue;
                }
                match self.fetch_from(qid, burst, &mut fetched, host) {
                    Fetched::Stop => return,
                    Fetched::Took(0) => {}
                    Fetched::Took(_) => {
                        self.rr_next = (qid + 1) % n;
                        progressed = true;
                    }
                }
            }
            if !progressed {
                break;
            }
        }
    }

    /// Weighted round robin with urgent priority class (NVMe 2.0 Base,
    /// 4.13.2): the admin SQ first, then the urgent class (strict
    /// priority), then the high, medium and low classes, each allowed
    /// HPW + 1, MPW + 1 and LPW + 1 commands per round (Arbitration feature,
    /// FID 01h); within a class the SQs take turns, up to the Arbitration
    /// Burst each. A round ends when no class with work has credit left.
    fn fetch_weighted(&mut self, host: &mut Host) {
        let burst = self.feat.arbitration.burst();
        let mut fetched = self.outstanding_fetched();
        loop {
            if self.sqs[0].as_ref().is_some_and(SubQueue::has_work) {
                match self.fetch_from(0, burst, &mut fetched, host) {
                    Fetched::Took(n) if n > 0 => continue,
                    _ => return,
                }
            }
            if let Some(qid) = self.next_in_class(QPRIO_URGENT) {
                self.class_served(QPRIO_URGENT, qid);
                match self.fetch_from(qid, burst, &mut fetched, host) {
                    Fetched::Took(n) if n > 0 => continue,
                    _ => return,
                }
            }
            let mut waiting = false;
            let mut served = false;
            for (i, class) in [QPRIO_HIGH, QPRIO_MEDIUM, QPRIO_LOW]
                .into_iter()
                .enumerate()
            {
                let Some(qid) = self.next_in_class(class) else {
                    continue;
                };
                waiting = true;
                let credit = self.wrr.credit[i];
                if credit == 0 {
                    continue;
                }
                self.class_served(class, qid);
                match self.fetch_from(qid, burst.min(credit), &mut fetched, host) {
                    Fetched::Took(n) if n > 0 => {
                        self.wrr.credit[i] = credit.saturating_sub(n);
                        served = true;
                        break;
                    }
                    _ => return,
                }
            }
            if !waiting {
                return;
            }
            if !served {
                // Every class with work spent its weight: a new round.
                let a = self.feat.arbitration;
                self.wrr.credit = [a.hpw, a.mpw, a.lpw].map(|w| u32::from(w) + 1);
            }
        }
    }

    /// The next I/O SQ of priority class `class` (CDW11 QPRIO of Create I/O
    /// SQ) with entries to fetch (and not barred by a fused pair), round
    /// robin from where the class left off.
    fn next_in_class(&self, class: u8) -> Option<usize> {
        // I/O SQs are 1..n (the allocated ones); positions are 0's based
        // among them.
        let m = self.sq_slots().saturating_sub(1).max(1);
        let start = usize::from(self.wrr.next[usize::from(class)]);
        (0..m).map(|k| 1 + (start + k) % m).find(|&q| {
            self.sqs
                .get(q)
                .and_then(Option::as_ref)
                .is_some_and(|sq| sq.prio == class && sq.has_work())
                && !self.fused_blocks(q)
        })
    }

    /// SQ `qid` of class `class` had its turn: the class continues after it.
    fn class_served(&mut self, class: u8, qid: usize) {
        let m = self.sq_slots().saturating_sub(1).max(1);
        self.wrr.next[usize::from(class)] = u16::try_from(qid % m).unwrap_or(0);
    }

    /// Fetch and execute up to `max` commands from SQ `qid` (a fused pair
    /// counts as two). `outstanding` is an upper bound of the commands fetched
    /// and not completed (see [`Self::outstanding_fetched`]): counted once
    /// per pass, raised at every fetch, counted again only before refusing
    /// one, since completions meanwhile only lower the true count.
    fn fetch_from(
        &mut self,
        qid: usize,
        max: u32,
        outstanding: &mut usize,
        host: &mut Host,
    ) -> Fetched {
        let mut taken = 0;
        while taken < max {
            if !self.running() {
                return Fetched::Stop;
            }
            if !self.can_fetch(*outstanding) {
                *outstanding = self.outstanding_fetched();
                if !self.can_fetch(*outstanding) {
                    return Fetched::Stop;
                }
            }
            if self.fused_blocks(qid) {
                break;
            }
            let Some(sq) = self.sqs[qid].as_ref() else {
                break;
            };
            if !sq.has_work() {
                break;
            }
            let mut raw = [0u8; SQE_SIZE];
            let read = host.mem.read(sq.head_addr(), &mut raw);
            let sqe = Sqe::from_bytes(&raw);
            let fetched = read.and_then(|()| self.fused_at_head(qid, &sqe, host));
            let n = match fetched {
                Err(_) => {
                    // The command cannot even be identified: fatal.
                    self.fatal();
                    return Fetched::Stop;
                }
                Ok(fused::FusedFetch::Wait) => break,
                Ok(fused::FusedFetch::Single) => 1,
                Ok(fused::FusedFetch::Pair(_))
                    if self.outstanding_fetched() + 2 > MAX_OUTSTANDING =>
                {
                    break
                }
                Ok(fused::FusedFetch::Pair(_)) => 2,
            };
            if let Some(head) = self.sqs[qid].as_mut() {
                for _ in 0..n {
                    head.advance_head();
                }
                head.inflight += n;
            }
            *outstanding += n as usize;
            taken += n;
            match fetched {
                Ok(fused::FusedFetch::Pair(second)) => {
                    self.execute_fused(qid as u16, &sqe, &second, host);
                }
                _ => self.execute(qid as u16, &sqe, host),
            }
        }
        Fetched::Took(taken)
    }

    pub(super) fn execute(&mut self, sqid: u16, sqe: &Sqe, host: &mut Host) {
        let req = Request::new(sqid, *sqe, self.now(host));
        self.execute_request(&req, true, host);
    }

    /// Execute a command (one held back by injected latency was submitted
    /// earlier than now and skips injection the second time).
    pub(super) fn execute_request(&mut self, req: &Request, inject: bool, host: &mut Host) {
        let gate = if inject {
            let now = self.now(host);
            self.before_command(req, now, host)
        } else {
            ocp_port::Gate::Run
        };
        let outcome = match gate {
            ocp_port::Gate::Hold => return,
            ocp_port::Gate::Done(o) => o,
            ocp_port::Gate::Run if req.is_admin() => self.execute_admin(req, host),
            ocp_port::Gate::Run => self.execute_nvm(req, host),
        };
        if let Outcome::Done { status, dw0 } = outcome {
            self.log_guest_status(req, status, host);
            self.complete_request(req, status, dw0, host);
            let now = self.now(host);
            let class = if req.is_admin() {
                LatencyClass::Other
            } else {
                nvm::latency_class(&req.sqe)
            };
            self.counters
                .record_latency(class, now.saturating_sub(req.submit_ns), now);
        }
    }

    /// Report a command the guest built against the rules (bad PRP/SGL,
    /// LBA range, queue identifier or size, opcode, namespace).
    fn log_guest_status(&self, req: &Request, status: Status, host: &mut Host) {
        let sqe = &req.sqe;
        let what = match status {
            Status::INVALID_PRP_OFFSET => {
                format!(
                    "invalid PRP (PRP1 {:#x}, PRP2 {:#x})",
                    sqe.prp1(),
                    sqe.prp2()
                )
            }
            Status::INVALID_SGL_SEGMENT_DESCRIPTOR
            | Status::INVALID_NUM_SGL_DESCRIPTORS
            | Status::DATA_SGL_LENGTH_INVALID
            | Status::SGL_DESCRIPTOR_TYPE_INVALID
            | Status::SGL_OFFSET_INVALID => {
                format!("invalid SGL (SGL1 {:02x?})", sqe.sgl1())
            }
            Status::LBA_OUT_OF_RANGE => format!(
                "LBA out of range (SLBA {}, NLB {}, NSZE {})",
                sqe.slba(),
                (sqe.cdw(12) & 0xffff) + 1,
                self.ns
                    .active(sqe.nsid())
                    .map_or(0, crate::namespace::Namespace::nsze)
            ),
            Status::INVALID_QUEUE_IDENTIFIER => {
                format!("invalid queue identifier {}", sqe.cdw(10) & 0xffff)
            }
            Status::INVALID_QUEUE_SIZE => {
                format!("invalid queue size {} (0's based)", sqe.cdw(10) >> 16)
            }
            Status::INVALID_OPCODE => format!("invalid opcode {:#x}", sqe.opcode()),
            Status::INVALID_NAMESPACE => format!("invalid NSID {:#x}", sqe.nsid()),
            _ => return,
        };
        host.log.guest_error(&format!(
            "SQ {} CID {} opcode {:#x}: {what}",
            req.sqid,
            req.cid,
            sqe.opcode()
        ));
    }

    /// Execute the commands whose injected latency has elapsed.
    pub(super) fn run_delayed(&mut self, now: u64, host: &mut Host) {
        let mut ran = false;
        while self.running() {
            let Some(i) = self.delayed.iter().position(|d| d.due_ns <= now) else {
                break;
            };
            let d = self.delayed.remove(i);
            if self
                .sqs
                .get(d.req.sqid as usize)
                .is_some_and(Option::is_some)
            {
                self.execute_request(&d.req, false, host);
                ran = true;
            }
        }
        if ran && self.fused_wait.is_some() {
            // A fused pair may have waited for these commands only.
            self.kick(host);
        }
    }
}
