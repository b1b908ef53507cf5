// SPDX-License-Identifier: GPL-2.0-or-later
//! Create/Delete I/O Submission and Completion Queue (NVMe 2.0 Base, 5.4-5.7).

use crate::controller::{Controller, Outcome, Request};
use crate::queues::{CompQueue, SubQueue};
use crate::spec::cmd::{CreateIoCqCmd, CreateIoSqCmd, DeleteIoCqCmd, DeleteIoSqCmd};
use crate::spec::status::Status;
use crate::traits::Host;
use crate::transfer::PAGE_SIZE;

impl Controller {
    /// Entry sizes (CC.IOSQES/IOCQES) must be the required ones when I/O queues
    /// are created; otherwise the queue size cannot be honoured.
    fn entry_sizes_ok(&self, sq: bool) -> bool {
        let cc = self.cc;
        if sq {
            cc.iosqes().value() == 6
        } else {
            cc.iocqes().value() == 4
        }
    }

    pub(crate) fn create_io_cq(
        &mut self,
        req: &Request,
        cmd: CreateIoCqCmd,
        host: &mut Host,
    ) -> Outcome {
        let CreateIoCqCmd {
            qid,
            qsize,
            pc,
            ien,
            iv,
        } = cmd;
        let sqe = &req.sqe;
        if !self.entry_sizes_ok(false) {
            return Status::INVALID_QUEUE_SIZE.into();
        }
        if qid == 0
            || qid > self.ncqa + 1
            || self
                .cqs
                .get(qid as usize)
                .map_or(true, std::option::Option::is_some)
        {
            return Status::INVALID_QUEUE_IDENTIFIER.into();
        }
        if qsize == 0 || qsize > self.cfg.mqes {
            return Status::INVALID_QUEUE_SIZE.into();
        }
        if !pc {
            // CAP.CQR = 1: only physically contiguous queues.
            return Status::INVALID_FIELD.into();
        }
        // Pin-based interrupts have the single vector 0.
        if iv >= self.cfg.msix_vectors || (iv != 0 && !host.irq.msix_enabled()) {
            return Status::INVALID_INTERRUPT_VECTOR.into();
        }
        if let Err(s) = base_ok(sqe.prp1()) {
            return s.into();
        }
        self.cqs[qid as usize] = Some(CompQueue::new(
            qid,
            sqe.prp1(),
            u32::from(qsize) + 1,
            ien,
            iv,
        ));
        self.io_queues_created = true;
        Outcome::ok()
    }

    pub(crate) fn create_io_sq(&mut self, req: &Request, cmd: CreateIoSqCmd) -> Outcome {
        let CreateIoSqCmd {
            qid,
            qsize,
            pc,
            qprio,
            cqid,
            // NVM Sets are not supported (CTRATT bit 2 = 0): NVMSETID unused.
            ..
        } = cmd;
        let sqe = &req.sqe;
        if qid == 0
            || qid > self.nsqa + 1
            || self
                .sqs
                .get(qid as usize)
                .map_or(true, std::option::Option::is_some)
        {
            return Status::INVALID_QUEUE_IDENTIFIER.into();
        }
        if cqid == 0
            || self
                .cqs
                .get(cqid as usize)
                .map_or(true, std::option::Option::is_none)
        {
            return Status::COMPLETION_QUEUE_INVALID.into();
        }
        if qsize == 0 || qsize > self.cfg.mqes {
            return Status::INVALID_QUEUE_SIZE.into();
        }
        if !pc {
            return Status::INVALID_FIELD.into();
        }
        if !self.entry_sizes_ok(true) {
            return Status::INVALID_QUEUE_SIZE.into();
        }
        if let Err(s) = base_ok(sqe.prp1()) {
            return s.into();
        }
        self.sqs[qid as usize] = Some(SubQueue::new(
            qid,
            sqe.prp1(),
            u32::from(qsize) + 1,
            cqid,
            qprio,
        ));
        if let Some(cq) = self.cqs[cqid as usize].as_mut() {
            cq.sq_refs += 1;
        }
        self.io_queues_created = true;
        self.sq_notifiers_changed();
        Outcome::ok()
    }

    /// Delete I/O SQ: completes once every command fetched from the queue has
    /// completed (their completions are posted normally).
    pub(crate) fn delete_io_sq(&mut self, req: &Request, cmd: DeleteIoSqCmd) -> Outcome {
        let (cid, qid) = (req.cid, cmd.qid);
        if qid == 0 {
            return Status::INVALID_QUEUE_IDENTIFIER.into();
        }
        let Some(sq) = self.sqs.get_mut(qid as usize).and_then(|q| q.as_mut()) else {
            return Status::INVALID_QUEUE_IDENTIFIER.into();
        };
        if sq.deleting.is_some() {
            return Status::INVALID_QUEUE_IDENTIFIER.into();
        }
        if sq.inflight == 0 {
            self.remove_sq(qid);
            return Outcome::ok();
        }
        sq.deleting = Some(cid);
        Outcome::Pending
    }

    fn remove_sq(&mut self, qid: u16) {
        if let Some(sq) = self.sqs[qid as usize].take() {
            self.sq_notifiers_changed();
            if let Some(cq) = self.cqs.get_mut(sq.cqid as usize).and_then(|q| q.as_mut()) {
                cq.sq_refs = cq.sq_refs.saturating_sub(1);
            }
        }
    }

    /// The last command of a deleting SQ completed: remove it and complete the
    /// Delete I/O SQ command.
    pub(crate) fn finish_sq_delete(&mut self, qid: u16, del_cid: u16, host: &mut Host) {
        self.remove_sq(qid);
        self.complete(0, del_cid, Status::SUCCESS, 0, host);
    }

    pub(crate) fn delete_io_cq(&mut self, cmd: DeleteIoCqCmd) -> Outcome {
        let qid = cmd.qid;
        if qid == 0 {
            return Status::INVALID_QUEUE_IDENTIFIER.into();
        }
        let Some(cq) = self.cqs.get(qid as usize).and_then(|q| q.as_ref()) else {
            return Status::INVALID_QUEUE_IDENTIFIER.into();
        };
        if cq.sq_refs != 0 {
            return Status::INVALID_QUEUE_DELETION.into();
        }
        if let Some(gone) = self.cqs[qid as usize].take() {
            self.overflow_total -= gone.overflow.len();
        }
        Outcome::ok()
    }
}

/// Check the base address of a physically contiguous queue: page aligned.
fn base_ok(base: u64) -> Result<(), Status> {
    if base % PAGE_SIZE != 0 {
        return Err(Status::INVALID_PRP_OFFSET);
    }
    Ok(())
}
