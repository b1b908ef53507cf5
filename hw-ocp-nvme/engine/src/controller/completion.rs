// SPDX-License-Identifier: GPL-2.0-or-later
//! Completion posting (phase tag, full CQs), interrupts (MSI-X with
//! coalescing, INTx) and asynchronous events (NVMe 2.0 Base, 3.3, 5.2).

#[allow(clippy::wildcard_imports)]
use super::*;

impl Controller {
    /// Complete a fetched command: an error goes to the Error Information
    /// log (NVMe 2.0 Base, 5.16.1.2) with the request's context, then the
    /// CQE is posted.
    pub(crate) fn complete_request(
        &mut self,
        req: &Request,
        status: Status,
        dw0: u32,
        host: &mut Host,
    ) {
        if !status.is_success()
            && status != Status::ABORT_REQUESTED
            && status != Status::ABORTED_SQ_DELETION
        {
            self.errlog
                .record(&mut self.counters, req.sqid, req.cid, status, req.err);
            // A Compare Failure is the host's data differing, not an
            // unrecovered data integrity error of the medium (SMART Media
            // and Data Integrity Errors, NVMe 2.0 Base, Figure 207).
            if status.sct == crate::spec::status::sct::MEDIA && status != Status::COMPARE_FAILURE {
                self.counters.media_errors += 1;
            }
        }
        self.complete(req.sqid, req.cid, status, dw0, host);
    }

    /// Post the completion of command `cid` of SQ `sqid` (a request, or one
    /// the controller completes by itself: an aborted command, an AER, a
    /// deferred SQ deletion): CQE, interrupt, SQ deletion.
    pub(crate) fn complete(
        &mut self,
        sqid: u16,
        cid: u16,
        status: Status,
        dw0: u32,
        host: &mut Host,
    ) {
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
        self.fused_completed(sqid, cid, status, host);
        if let Some(del_cid) = delete_done {
            self.finish_sq_delete(sqid, del_cid, host);
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
            // A head the host wrote before it could see that EventIdx.
            self.refresh_cq_head(cqid, host);
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

    pub(super) fn write_cqe(&mut self, cqid: u16, cqe: &Cqe, host: &mut Host) -> bool {
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
    pub(super) fn signal(&mut self, cqid: u16, host: &mut Host) {
        let coal = self.feat.coalescing;
        let thr = u32::from(coal.thr);
        let time_ns = coal.time_ns();
        let Some(cq) = self.cqs.get_mut(cqid as usize).and_then(|q| q.as_mut()) else {
            return;
        };
        if !cq.ien {
            return;
        }
        if !host.irq.msix_enabled() {
            // Heads the host did not ring while MSI-X was on.
            self.refresh_cq_head(cqid, host);
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

    /// Queue an asynchronous event and deliver it if an AER is outstanding.
    pub(crate) fn raise_event(&mut self, etype: u8, info: u8, lid: u8, host: &mut Host) {
        if !self.aer_enabled(etype, info) {
            return;
        }
        self.aer.queue(etype, info, lid);
        self.deliver_events(host);
    }

    pub(super) fn aer_enabled(&self, etype: u8, info: u8) -> bool {
        let aec = self.feat.async_event_config;
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
}
