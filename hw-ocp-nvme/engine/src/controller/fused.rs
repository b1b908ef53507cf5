// SPDX-License-Identifier: GPL-2.0-or-later
//! Fused Compare and Write (NVMe 2.0 Base, 3.4.2 Fused Operations; NVM
//! Command Set 1.0, Compare and Write; OCP NVMe-IO-9, FUSES bit 0).
//!
//! The pair is two adjacent entries of one SQ, FUSE 01b (the Compare)
//! then FUSE 10b (the Write), made visible by one tail doorbell write. It
//! runs atomically with respect to every other I/O command: when its
//! first entry reaches the head of its SQ, no other I/O command is
//! fetched until the commands already in flight (with the storage or held
//! back by OCP added latency) are done (the pair waits at the head), and
//! none while the pair runs. The Compare runs first; the
//! Write runs only if it succeeded and is aborted with Command Aborted due
//! to Failed Fused Command otherwise. A half without its other half is
//! aborted with Command Aborted due to Missing Fused Command.

#[allow(clippy::wildcard_imports)]
use super::*;
use crate::spec::ids::nvm_op;

/// CDW0 FUSE values.
const FUSE_FIRST: u8 = 1;
const FUSE_SECOND: u8 = 2;

/// What fetching at an SQ's head found about fused operations.
pub(super) enum FusedFetch {
    /// An ordinary entry (or a lone half, which execution aborts).
    Single,
    /// A fused pair that must wait for the I/O in flight to finish.
    Wait,
    /// A fused pair: both entries, ready to run.
    Pair(Sqe),
}

impl Controller {
    /// Is SQ `qid` barred from fetching? Not an I/O SQ while a fused pair
    /// runs, nor one other than the SQ whose pair waits for the I/O in
    /// flight.
    pub(super) fn fused_blocks(&self, qid: usize) -> bool {
        qid != 0 && (self.fused.is_some() || self.fused_wait.is_some_and(|w| usize::from(w) != qid))
    }

    /// A waiting pair whose SQ was deleted or emptied (a reset) stops
    /// blocking the others.
    pub(super) fn drop_stale_fused_wait(&mut self) {
        if let Some(w) = self.fused_wait {
            let waiting = self
                .sqs
                .get(usize::from(w))
                .and_then(Option::as_ref)
                .is_some_and(SubQueue::has_work);
            if !waiting {
                self.fused_wait = None;
            }
        }
    }

    /// The entry `first` at SQ `qid`'s head: a fused pair when it is a
    /// first half followed in the SQ by a second half; the pair waits (and
    /// blocks other I/O SQs) while other I/O commands are in flight.
    pub(super) fn fused_at_head(
        &mut self,
        qid: usize,
        first: &Sqe,
        host: &mut Host,
    ) -> Result<FusedFetch, DmaError> {
        if qid == 0 || first.fuse() != FUSE_FIRST {
            return Ok(FusedFetch::Single);
        }
        let Some(sq) = self.sqs[qid].as_ref() else {
            return Ok(FusedFetch::Single);
        };
        let next = (sq.head + 1) % sq.size;
        if next == sq.tail {
            // The doorbell did not take the second half along.
            return Ok(FusedFetch::Single);
        }
        let addr = sq.base.wrapping_add(u64::from(next) * SQE_SIZE as u64);
        let mut raw = [0u8; SQE_SIZE];
        host.mem.read(addr, &mut raw)?;
        let second = Sqe::from_bytes(&raw);
        if second.fuse() != FUSE_SECOND {
            return Ok(FusedFetch::Single);
        }
        // I/O commands in flight: with storage, or held back by OCP added
        // latency (they run later from the timer).
        let held = self.delayed.iter().any(|d| !d.req.is_admin());
        if self.io_outstanding > 0 || held {
            self.fused_wait = Some(qid as u16);
            return Ok(FusedFetch::Wait);
        }
        self.fused_wait = None;
        Ok(FusedFetch::Pair(second))
    }

    /// Run a fused pair fetched from SQ `sqid`. Both must be the NVM
    /// command set's pair, Compare then Write, on the same namespace and
    /// LBA range: otherwise a first half that is not a Compare is Invalid
    /// Field in Command and its Write is aborted as the other half of a
    /// failed fused command, and differing ranges fail both halves with
    /// Invalid Field in Command.
    pub(super) fn execute_fused(&mut self, sqid: u16, first: &Sqe, second: &Sqe, host: &mut Host) {
        let now = self.now(host);
        let cmp = Request::new(sqid, *first, now);
        let wr = Request::new(sqid, *second, now);
        if first.opcode() != nvm_op::COMPARE || second.opcode() != nvm_op::WRITE {
            self.complete_request(&cmp, Status::INVALID_FIELD, 0, host);
            self.complete_request(&wr, Status::ABORTED_FAILED_FUSED, 0, host);
            return;
        }
        let same = first.nsid() == second.nsid()
            && first.slba() == second.slba()
            && first.cdw(12) & 0xffff == second.cdw(12) & 0xffff;
        if !same {
            self.complete_request(&cmp, Status::INVALID_FIELD, 0, host);
            self.complete_request(&wr, Status::INVALID_FIELD, 0, host);
            return;
        }
        self.fused = Some(FusedPair {
            sqid,
            compare_cid: cmp.cid,
            write_cid: wr.cid,
            write: Some(wr),
        });
        self.execute_request(&cmp, true, host);
    }

    /// Whether `req`'s FUSE field is allowed: 00b, or the half of the pair
    /// in progress it claims to be. A lone half is Command Aborted due to
    /// Missing Fused Command, FUSE 11b (reserved) Invalid Field.
    pub(super) fn check_fuse(&self, req: &Request) -> Result<(), Status> {
        let fuse = req.sqe.fuse();
        let of_pair = |p: &FusedPair| {
            p.sqid == req.sqid
                && match fuse {
                    FUSE_FIRST => p.write.is_some() && p.compare_cid == req.cid,
                    _ => p.write.is_none() && p.write_cid == req.cid,
                }
        };
        match fuse {
            0 => Ok(()),
            FUSE_FIRST | FUSE_SECOND if self.fused.as_ref().is_some_and(of_pair) => Ok(()),
            FUSE_FIRST | FUSE_SECOND => Err(Status::ABORTED_MISSING_FUSED),
            _ => Err(Status::INVALID_FIELD),
        }
    }

    /// Command `cid` of SQ `sqid` completed with `status`: if it is the
    /// Compare of the pair in progress, run its Write (or abort it); if it
    /// is the Write, the pair is over and other I/O may be fetched again.
    pub(super) fn fused_completed(&mut self, sqid: u16, cid: u16, status: Status, host: &mut Host) {
        let Some(p) = self.fused.as_mut() else {
            return;
        };
        if p.sqid != sqid {
            return;
        }
        match p.write {
            Some(w) if cid == p.compare_cid => {
                p.write = None;
                if status.is_success() {
                    self.execute_request(&w, true, host);
                } else {
                    self.complete_request(&w, Status::ABORTED_FAILED_FUSED, 0, host);
                }
            }
            None if cid == p.write_cid => self.fused = None,
            _ => {}
        }
    }
}
