// SPDX-License-Identifier: GPL-2.0-or-later
//! Asynchronous Event Request (NVMe 2.0 Base, 5.2) and Abort (5.1).

use std::collections::VecDeque;

use crate::controller::{Controller, Outcome, Request};
use crate::spec::cmd::AbortCmd;
use crate::spec::status::Status;
use crate::traits::Host;

/// ACL: Abort Command Limit (0's based 3).
pub const ABORT_LIMIT: u8 = 3;

/// One asynchronous event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AsyncEvent {
    pub etype: u8,
    pub info: u8,
    pub lid: u8,
}

crate::persist::persist_struct!(AsyncEvent { etype, info, lid });

impl AsyncEvent {
    /// Completion DW0 of the AER (NVMe 2.0 Base, Figure 146).
    pub fn dw0(&self) -> u32 {
        u32::from(self.etype) | u32::from(self.info) << 8 | u32::from(self.lid) << 16
    }
}

/// Outstanding requests, queued events and events reported but not yet
/// cleared by reading their log page (which mask their type).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AerState {
    pub outstanding: Vec<u16>,
    pub queued: VecDeque<AsyncEvent>,
    pub reported: Vec<AsyncEvent>,
    /// Most events queued and not yet delivered (`aer_max_queued`).
    pub max_queued: usize,
}

crate::persist::persist_struct!(AerState {
    outstanding,
    queued,
    reported,
    max_queued
});

impl AerState {
    /// No requests or events; at most `max_queued` events wait at a time.
    pub fn new(max_queued: u16) -> Self {
        AerState {
            max_queued: usize::from(max_queued),
            ..AerState::default()
        }
    }

    /// Queue an event unless the same one is already queued or awaiting its log read.
    pub fn queue(&mut self, etype: u8, info: u8, lid: u8) {
        let e = AsyncEvent { etype, info, lid };
        if self.queued.contains(&e)
            || self.reported.contains(&e)
            || self.queued.len() >= self.max_queued
        {
            return;
        }
        self.queued.push_back(e);
    }

    /// Next (cid, dw0) to complete: an outstanding request and a queued
    /// event whose type is not masked.
    pub fn next_delivery(&mut self) -> Option<(u16, u32)> {
        if self.outstanding.is_empty() {
            return None;
        }
        let pos = self
            .queued
            .iter()
            .position(|e| !self.reported.iter().any(|r| r.etype == e.etype))?;
        let e = self.queued.remove(pos)?;
        self.reported.push(e);
        let cid = self.outstanding.remove(0);
        Some((cid, e.dw0()))
    }

    /// Reading log page `lid` with RAE = 0 clears events that point at it.
    pub fn log_read(&mut self, lid: u8) {
        self.reported.retain(|e| e.lid != lid);
    }

    /// Drop a queued or reported event of this type and information.
    pub fn forget(&mut self, etype: u8, info: u8) {
        self.queued.retain(|e| (e.etype, e.info) != (etype, info));
        self.reported.retain(|e| (e.etype, e.info) != (etype, info));
    }

    /// Controller reset: outstanding requests are gone, masks cleared.
    pub fn reset(&mut self) {
        self.outstanding.clear();
        self.reported.clear();
    }
}

impl Controller {
    pub(crate) fn async_event_request(&mut self, req: &Request, host: &mut Host) -> Outcome {
        if self.aer.outstanding.len() > usize::from(self.cfg.aerl) {
            return Status::AER_LIMIT_EXCEEDED.into();
        }
        self.aer.outstanding.push(req.cid);
        self.deliver_events(host);
        Outcome::Pending
    }

    /// Abort: outstanding AERs can be aborted; other commands already went to
    /// storage and complete on their own (DW0 bit 0 = 1: not aborted).
    pub(crate) fn abort_command(&mut self, cmd: AbortCmd, host: &mut Host) -> Outcome {
        let AbortCmd { sqid, cid } = cmd;
        if sqid == 0 {
            if let Some(pos) = self.aer.outstanding.iter().position(|&x| x == cid) {
                self.aer.outstanding.remove(pos);
                self.complete(0, cid, Status::ABORT_REQUESTED, 0, host);
                return Outcome::dw0(0);
            }
        }
        // Commands held by error injection (timeout, added latency).
        let held = if let Some(pos) = self.timed_out.iter().position(|&x| x == (sqid, cid)) {
            self.timed_out.remove(pos);
            true
        } else if let Some(pos) = self
            .delayed
            .iter()
            .position(|d| d.req.sqid == sqid && d.req.cid == cid)
        {
            self.delayed.remove(pos);
            true
        } else {
            false
        };
        if held {
            self.complete(sqid, cid, Status::ABORT_REQUESTED, 0, host);
            return Outcome::dw0(0);
        }
        Outcome::dw0(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_until_log_read() {
        let mut a = AerState::new(16);
        a.queue(0, 1, 1);
        a.queue(0, 1, 1);
        a.queue(0, 0, 1);
        assert_eq!(a.queued.len(), 2);
        assert_eq!(a.next_delivery(), None);
        a.outstanding = vec![5, 6];
        assert_eq!(a.next_delivery(), Some((5, 0x0001_0100)));
        // Same type masked until log 01h is read.
        assert_eq!(a.next_delivery(), None);
        a.log_read(1);
        assert_eq!(a.next_delivery(), Some((6, 0x0001_0000)));
    }
}
