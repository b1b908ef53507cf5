// SPDX-License-Identifier: GPL-2.0-or-later
//! Doorbell writes, invalid doorbell reporting and shadow doorbells
//! (NVMe 2.0 Base, 3.3.1, 5.8).

#[allow(clippy::wildcard_imports)]
use super::*;

impl Controller {
    pub(super) fn doorbell_write(&mut self, offset: u64, value: u32, host: &mut Host) {
        if !self.running() {
            return;
        }
        let Some(db) = Doorbell::decode(offset) else {
            return;
        };
        match db {
            Doorbell::SqTail(qid) => {
                if !self.sqs.get(qid as usize).is_some_and(Option::is_some) {
                    host.log
                        .guest_error(&format!("doorbell of nonexistent SQ {qid}"));
                    self.invalid_doorbell(aen::ERR_INVALID_DB_REGISTER, host);
                    return;
                }
                if self.take_sq_tail(qid, value, "tail", host) {
                    self.kick(host);
                }
            }
            Doorbell::CqHead(qid) => {
                let Some(cq) = self.cqs.get_mut(qid as usize).and_then(|q| q.as_mut()) else {
                    host.log
                        .guest_error(&format!("doorbell of nonexistent CQ {qid}"));
                    self.invalid_doorbell(aen::ERR_INVALID_DB_REGISTER, host);
                    return;
                };
                if !cq.head_valid(value) {
                    let size = cq.size;
                    host.log.guest_error(&format!(
                        "invalid CQ {qid} head {value} (queue size {size})"
                    ));
                    self.invalid_doorbell(aen::ERR_INVALID_DB_VALUE, host);
                    return;
                }
                cq.head = value;
                self.mirror_cq_head(qid, host);
                self.cq_head_moved(qid, host);
                self.publish_cq_eventidx(qid, host);
                self.kick(host);
            }
        }
    }

    /// The host rang the SQ tail doorbell of I/O SQ `qid` through a
    /// notifier that does not carry the value written (an ioeventfd): the
    /// new tail is the one in the shadow doorbell buffer, which the host
    /// updates before it rings (NVMe 2.0 Base, 5.8).  It is checked like a
    /// tail written to the doorbell register: a value beyond the queue is an
    /// invalid doorbell write (3.3.1.2).  A notification for a queue that no
    /// longer exists, or while no doorbell buffer is configured, was
    /// overtaken by a deletion or a reset and changes nothing.
    ///
    /// The notification runs after the host's write, not during it, so the
    /// host may move its shadow tail again between this read and the
    /// EventIdx published from it, and then skip the doorbell because the
    /// old EventIdx says no one is listening (Linux's
    /// `nvme_dbbuf_need_event()`).  So the shadow tail is read again after
    /// each EventIdx update until it stands still; a host that keeps
    /// moving it is followed at most a queue size of times.
    pub fn sq_doorbell_notified(&mut self, qid: u16, host: &mut Host) {
        if !self.running() || qid == 0 {
            return;
        }
        let Some(db) = self.dbbuf else {
            return;
        };
        let Some(size) = self
            .sqs
            .get(qid as usize)
            .and_then(|q| q.as_ref())
            .map(|sq| sq.size)
        else {
            return;
        };
        let mut published = None;
        for _ in 0..=size {
            let mut b = [0u8; 4];
            if host
                .mem
                .read(db_sq_slot(db.shadow, u64::from(qid)), &mut b)
                .is_err()
            {
                host.log
                    .guest_error(&format!("shadow tail of SQ {qid} unreadable"));
                break;
            }
            let value = u32::from_le_bytes(b);
            if published == Some(value) {
                break;
            }
            if !self.take_sq_tail(qid, value, "shadow tail", host) {
                break;
            }
            published = Some(value);
        }
        if published.is_some() {
            self.kick(host);
        }
    }

    /// Take `value` as existing SQ `qid`'s new tail and publish its
    /// EventIdx; a value beyond the queue (or a queue gone) is an invalid
    /// doorbell write, ignored (NVMe 2.0 Base, 3.3.1.2).  `what` names the
    /// value in the guest error.  Whether the tail was taken.
    fn take_sq_tail(&mut self, qid: u16, value: u32, what: &str, host: &mut Host) -> bool {
        let Some(sq) = self.sqs.get_mut(qid as usize).and_then(|q| q.as_mut()) else {
            return false;
        };
        if !sq.tail_valid(value) {
            let size = sq.size;
            host.log.guest_error(&format!(
                "invalid SQ {qid} {what} {value} (queue size {size})"
            ));
            self.invalid_doorbell(aen::ERR_INVALID_DB_VALUE, host);
            return false;
        }
        sq.tail = value;
        self.publish_sq_eventidx(qid, host);
        true
    }

    /// The I/O SQs whose tail doorbells the host may hand over as
    /// notifications ([`Self::sq_doorbell_notified`]): every existing I/O SQ
    /// while a Doorbell Buffer Config is in effect, none otherwise.  The set
    /// changes only when [`Self::sq_notifier_generation`] does.
    pub fn sq_notifier_qids(&self) -> impl Iterator<Item = u16> + '_ {
        let active = self.dbbuf.is_some();
        self.sqs
            .iter()
            .enumerate()
            .skip(1)
            .filter(move |(_, sq)| active && sq.is_some())
            .filter_map(|(qid, _)| u16::try_from(qid).ok())
    }

    /// Changes whenever the set [`Self::sq_notifier_qids`] returns may have
    /// changed (an I/O SQ created or removed, Doorbell Buffer Config, a
    /// controller reset), so that the host re-reads it only then.
    pub fn sq_notifier_generation(&self) -> u32 {
        self.sq_notifier_gen
    }

    /// Record a change of the set [`Self::sq_notifier_qids`] returns.
    pub(super) fn sq_notifiers_changed(&mut self) {
        self.sq_notifier_gen = self.sq_notifier_gen.wrapping_add(1);
    }

    /// An invalid doorbell write is ignored; it is reported by an Error
    /// event only if an AER is outstanding (NVMe 2.0 Base, 3.3.1.2).
    pub(super) fn invalid_doorbell(&mut self, info: u8, host: &mut Host) {
        self.counters.invalid_doorbells += 1;
        if !self.aer.outstanding.is_empty() {
            self.raise_event(aen::TYPE_ERROR, info, 0x01, host);
        }
    }

    /// After the host consumed CQ entries: post held-back completions and
    /// update the interrupt line.
    pub(super) fn cq_head_moved(&mut self, cqid: u16, host: &mut Host) {
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
    pub(super) fn publish_sq_eventidx(&self, qid: u16, host: &mut Host) {
        let tail = self.sq_tail(qid);
        self.write_dbbuf(
            qid,
            |db| db_sq_slot(db.eventidx, u64::from(qid)),
            tail,
            host,
        );
    }

    /// The CQ head EventIdx. With MSI-X, the controller needs the host's
    /// head only to find room for a completion, and reads the shadow head
    /// then ([`Self::refresh_cq_head`]): while no completion waits for
    /// room, the EventIdx is one behind the head, which a host moving its
    /// head forward never crosses before it wraps (the Linux check is
    /// `(u16)(new - eventidx - 1) < (u16)(new - old)`), so consuming
    /// completions costs no MMIO. Held-back completions, or pin-based
    /// interrupts (whose level follows the head), publish the head itself:
    /// the next head update rings the doorbell.
    pub(super) fn publish_cq_eventidx(&self, qid: u16, host: &mut Host) {
        let Some(cq) = self.cqs.get(qid as usize).and_then(|q| q.as_ref()) else {
            return;
        };
        let quiet = host.irq.msix_enabled() && cq.overflow.is_empty() && !cq.is_full();
        let value = if quiet {
            cq.head.wrapping_sub(1)
        } else {
            cq.head
        };
        self.write_dbbuf(
            qid,
            |db| db_cq_slot(db.eventidx, u64::from(qid)),
            Some(value),
            host,
        );
    }

    /// Keep the shadow CQ head equal to an MMIO head write, so that a host
    /// that rings MMIO without updating the shadow never leaves a stale
    /// value there for [`Self::refresh_cq_head`] to trust.
    pub(super) fn mirror_cq_head(&self, qid: u16, host: &mut Host) {
        let head = self.cq_head(qid);
        self.write_dbbuf(qid, |db| db_cq_slot(db.shadow, u64::from(qid)), head, host);
    }

    /// Start the shadow SQ tail from the MMIO one (Doorbell Buffer Config).
    pub(super) fn mirror_sq_tail(&self, qid: u16, host: &mut Host) {
        let tail = self.sq_tail(qid);
        self.write_dbbuf(qid, |db| db_sq_slot(db.shadow, u64::from(qid)), tail, host);
    }

    fn sq_tail(&self, qid: u16) -> Option<u32> {
        self.sqs
            .get(qid as usize)
            .and_then(|q| q.as_ref())
            .map(|sq| sq.tail)
    }

    fn cq_head(&self, qid: u16) -> Option<u32> {
        self.cqs
            .get(qid as usize)
            .and_then(|q| q.as_ref())
            .map(|cq| cq.head)
    }

    /// Write `value` (when the queue exists) to the doorbell buffer slot
    /// `slot` picks, for I/O queues only (the admin queue uses MMIO).
    fn write_dbbuf(
        &self,
        qid: u16,
        slot: impl FnOnce(DbBuf) -> u64,
        value: Option<u32>,
        host: &mut Host,
    ) {
        if let (Some(db), Some(value), true) = (self.dbbuf, value, qid != 0) {
            let _ = host.mem.write(slot(db), &value.to_le_bytes());
        }
    }

    /// Before holding a completion back, see whether the host already
    /// consumed entries in its shadow CQ head.
    pub(super) fn refresh_cq_head(&mut self, qid: u16, host: &mut Host) {
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
}
