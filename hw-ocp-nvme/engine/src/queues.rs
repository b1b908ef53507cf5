// SPDX-License-Identifier: GPL-2.0-or-later
//! Submission and completion queue state (NVMe 2.0 Base, 3.3 Queue
//! Mechanism): circular buffers, phase tag, doorbell validation.

use std::collections::VecDeque;

use crate::spec::cmd::SQE_SIZE;
use crate::spec::cqe::{Cqe, CQE_SIZE};

/// A submission queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubQueue {
    pub qid: u16,
    /// Guest physical base address (physically contiguous).
    pub base: u64,
    /// Number of entries (2..=65536).
    pub size: u32,
    /// Next entry the controller fetches.
    pub head: u32,
    /// Last tail written by the host.
    pub tail: u32,
    pub cqid: u16,
    /// Queue priority (CDW11 QPRIO): its class under weighted round robin.
    pub prio: u8,
    /// Commands fetched from this SQ and not yet completed.
    pub inflight: u32,
    /// CID of a Delete I/O SQ command waiting for `inflight` to reach zero.
    pub deleting: Option<u16>,
}

crate::persist::persist_struct!(SubQueue {
    qid,
    base,
    size,
    head,
    tail,
    cqid,
    prio,
    inflight,
    deleting,
});

impl SubQueue {
    pub fn new(qid: u16, base: u64, size: u32, cqid: u16, prio: u8) -> Self {
        SubQueue {
            qid,
            base,
            size,
            head: 0,
            tail: 0,
            cqid,
            prio,
            inflight: 0,
            deleting: None,
        }
    }
    /// Are there entries to fetch?
    pub fn has_work(&self) -> bool {
        self.head != self.tail && self.deleting.is_none()
    }
    /// Guest address of the entry at the head.
    pub fn head_addr(&self) -> u64 {
        self.base
            .wrapping_add(u64::from(self.head) * SQE_SIZE as u64)
    }
    /// Advance the head after a fetch.
    pub fn advance_head(&mut self) {
        self.head = (self.head + 1) % self.size;
    }
    /// Is `tail` a valid SQ tail doorbell value?
    pub fn tail_valid(&self, tail: u32) -> bool {
        tail < self.size
    }
}

/// A completion queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompQueue {
    pub qid: u16,
    pub base: u64,
    pub size: u32,
    /// Last head written by the host.
    pub head: u32,
    /// Next slot the controller writes.
    pub tail: u32,
    /// Phase tag of the entries currently being written.
    pub phase: bool,
    /// Interrupts enabled.
    pub ien: bool,
    /// Interrupt vector.
    pub iv: u16,
    /// Completions held back while the queue is full.
    pub overflow: VecDeque<Cqe>,
    /// SQs that complete into this CQ.
    pub sq_refs: u32,
    /// Completions posted since the last interrupt (coalescing).
    pub coalesced: u32,
    /// Time by which a coalesced interrupt must be sent.
    pub coalesce_deadline: Option<u64>,
}

crate::persist::persist_struct!(CompQueue {
    qid,
    base,
    size,
    head,
    tail,
    phase,
    ien,
    iv,
    overflow,
    sq_refs,
    coalesced,
    coalesce_deadline,
});

impl CompQueue {
    pub fn new(qid: u16, base: u64, size: u32, ien: bool, iv: u16) -> Self {
        CompQueue {
            qid,
            base,
            size,
            head: 0,
            tail: 0,
            phase: true,
            ien,
            iv,
            overflow: VecDeque::new(),
            sq_refs: 0,
            coalesced: 0,
            coalesce_deadline: None,
        }
    }
    /// A full CQ has one empty slot (NVMe 2.0 Base, 3.3.1.5).
    pub fn is_full(&self) -> bool {
        (self.tail + 1) % self.size == self.head
    }
    /// Entries posted and not yet consumed by the host.
    pub fn pending(&self) -> bool {
        self.head != self.tail
    }
    /// Guest address of the tail slot.
    pub fn tail_addr(&self) -> u64 {
        self.base
            .wrapping_add(u64::from(self.tail) * CQE_SIZE as u64)
    }
    /// Advance the tail after writing an entry, inverting the phase on wrap.
    pub fn advance_tail(&mut self) {
        self.tail += 1;
        if self.tail == self.size {
            self.tail = 0;
            self.phase = !self.phase;
        }
    }
    /// A head doorbell value is valid if it lies within the entries the
    /// controller posted: from the current head up to the tail, inclusive.
    pub fn head_valid(&self, head: u32) -> bool {
        if head >= self.size {
            return false;
        }
        let posted = (self.tail + self.size - self.head) % self.size;
        let advance = (head + self.size - self.head) % self.size;
        advance <= posted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cq_phase_and_full() {
        let mut cq = CompQueue::new(1, 0x1000, 3, true, 0);
        assert!(cq.phase);
        assert!(!cq.is_full());
        cq.advance_tail();
        cq.advance_tail();
        assert!(cq.is_full());
        assert!(cq.head_valid(2));
        assert!(cq.head_valid(0));
        assert!(cq.head_valid(1));
        assert!(!cq.head_valid(3));
        cq.head = 2;
        cq.advance_tail();
        assert_eq!(cq.tail, 0);
        assert!(!cq.phase);
        assert!(cq.head_valid(0));
        assert!(!cq.head_valid(1));
        assert_eq!(cq.tail_addr(), 0x1000);
    }

    #[test]
    fn sq_ring() {
        let mut sq = SubQueue::new(1, 0x2000, 2, 1, 0);
        assert!(!sq.has_work());
        sq.tail = 1;
        assert!(sq.has_work());
        assert_eq!(sq.head_addr(), 0x2000);
        sq.advance_head();
        assert_eq!(sq.head_addr(), 0x2040);
        sq.advance_head();
        assert_eq!(sq.head, 0);
        assert!(sq.tail_valid(1));
        assert!(!sq.tail_valid(2));
    }
}
