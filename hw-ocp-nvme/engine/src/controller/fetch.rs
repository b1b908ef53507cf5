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

    /// May another command be fetched?
    pub(super) fn can_fetch(&self) -> bool {
        !self.free_cmds.is_empty()
            && self.free_reqs.len() >= MAX_REQUESTS_PER_CMD
            && (MAX_OUTSTANDING - self.free_cmds.len()) + self.overflow_total < MAX_OUTSTANDING
            && self.outstanding_fetched() < MAX_OUTSTANDING
    }

    pub(super) fn outstanding_fetched(&self) -> usize {
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
        if !self.running() || self.quiesced {
            // Quiesced: `resume` fetches what is waiting.
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

    pub(super) fn execute(&mut self, sqid: u16, sqe: &Sqe, host: &mut Host) {
        let start = self.now(host);
        self.execute_at(sqid, sqe, start, true, host);
    }

    /// Execute a command submitted at `start` (earlier than now for one
    /// held back by injected latency, which skips injection the second time).
    pub(super) fn execute_at(
        &mut self,
        sqid: u16,
        sqe: &Sqe,
        start: u64,
        inject: bool,
        host: &mut Host,
    ) {
        self.exec_start_ns = start;
        self.err_ctx = ErrorContext {
            nsid: sqe.nsid(),
            lba: if sqid == 0 { 0 } else { sqe.slba() },
        };
        let gate = if inject {
            let now = self.now(host);
            self.before_command(sqid, sqe, now, host)
        } else {
            ocp_port::Gate::Run
        };
        let outcome = match gate {
            ocp_port::Gate::Hold => return,
            ocp_port::Gate::Done(o) => o,
            ocp_port::Gate::Run if sqid == 0 => self.execute_admin(sqe, host),
            ocp_port::Gate::Run => self.execute_nvm(sqid, sqe, host),
        };
        if let Outcome::Done { status, dw0 } = outcome {
            self.log_guest_status(sqid, sqe, status, host);
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

    /// Report a command the guest built against the rules (bad PRP/SGL,
    /// LBA range, queue identifier or size, opcode, namespace).
    fn log_guest_status(&self, sqid: u16, sqe: &Sqe, status: Status, host: &mut Host) {
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
            "SQ {sqid} CID {} opcode {:#x}: {what}",
            sqe.cid(),
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
            if self.sqs.get(d.sqid as usize).is_some_and(Option::is_some) {
                self.execute_at(d.sqid, &d.sqe, d.submit_ns, false, host);
            }
        }
    }
}
