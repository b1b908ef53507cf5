// SPDX-License-Identifier: GPL-2.0-or-later
//! Command fetch with round robin arbitration (NVMe 2.0 Base, 4.13) and
//! dispatch to the admin and NVM command sets.

#[allow(clippy::wildcard_imports)]
use super::*;

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

    /// Fetch and execute commands from all SQs, round robin with the
    /// Arbitration Burst (NVMe 2.0 Base, 4.13.1). Bounded: every iteration
    /// consumes an SQ entry and tails do not move during the loop.
    pub fn process_pending(&mut self, host: &mut Host) {
        self.work_pending = false;
        if !self.running() || self.quiesced {
            // Quiesced: `resume` fetches what is waiting.
            return;
        }
        let burst = self.feat.arbitration.burst();
        let Some(n) = self.sqs[..self.sq_slots()]
            .iter()
            .rposition(Option::is_some)
            .map(|i| i + 1)
        else {
            return;
        };
        // Counted once, then raised at every fetch: an upper bound, since
        // commands completing meanwhile only lower the true count, which is
        // counted again before refusing a fetch.
        let mut fetched = self.outstanding_fetched();
        'outer: loop {
            let mut progressed = false;
            // Each pass starts after the last SQ served, whatever the
            // number of slots taking part.
            let start = self.rr_next % n;
            for k in 0..n {
                let qid = (start + k) % n;
                let mut taken = 0;
                while taken < burst {
                    if !self.running() {
                        break 'outer;
                    }
                    if !self.can_fetch(fetched) {
                        fetched = self.outstanding_fetched();
                        if !self.can_fetch(fetched) {
                            break 'outer;
                        }
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
                    fetched += 1;
                    self.rr_next = (qid + 1) % n;
                    taken += 1;
                    progressed = true;
                    self.execute(qid as u16, &Sqe::from_bytes(&raw), host);
                }
            }
            if !progressed {
                break;
            }
        }
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
                self.ns.nsze()
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
            }
        }
    }
}
