// SPDX-License-Identifier: GPL-2.0-or-later
//! SQ tail doorbells handed over as notifications without their value
//! (an ioeventfd): the tail comes from the shadow doorbell buffer (NVMe 2.0
//! Base, 5.8) and is checked like a doorbell register write (3.3.1.2).
#![allow(clippy::shadow_unrelated)] // test scripts reuse names

use ocp_nvme_engine::spec::cmd::Sqe;
use ocp_nvme_engine::testing::{set_prps, sqe_of, Driver, IO_DEPTH};

/// A controller with I/O queue pairs 1 and 2 and a Doorbell Buffer Config:
/// the driver and the shadow and EventIdx buffers.
fn up_with_dbbuf() -> (Driver, u64, u64) {
    let mut d = Driver::new(Driver::small_config());
    d.bring_up(2);
    let shadow = d.alloc(4096);
    let evt = d.alloc(4096);
    let mut s = sqe_of(0x7c, 0, &[], shadow);
    s.dw[8] = evt as u32;
    assert!(d.admin(s).ok());
    (d, shadow, evt)
}

fn read(d: &mut Driver, cid: u16) -> Sqe {
    let buf = d.alloc(512);
    let mut s = sqe_of(0x02, 1, &[(10, 0), (12, 0)], 0);
    s.dw[0] |= u32::from(cid) << 16;
    set_prps(d, &mut s, buf, 512);
    s
}

/// Queue `sqe` on SQ `qid` and move only the shadow tail (no MMIO).
fn queue_shadow(d: &mut Driver, shadow: u64, qid: u16, sqe: &Sqe) -> u32 {
    let q = d.sq[qid as usize];
    d.write_mem(q.base + u64::from(q.ptr) * 64, &sqe.to_bytes());
    let tail = (q.ptr + 1) % q.size;
    d.sq[qid as usize].ptr = tail;
    d.write_mem(shadow + u64::from(qid) * 8, &tail.to_le_bytes());
    tail
}

fn notify(d: &mut Driver, qid: u16) {
    let mut h = d.env.host();
    d.ctrl.sq_doorbell_notified(qid, &mut h);
}

fn u32_at(d: &mut Driver, addr: u64) -> u32 {
    u32::from_le_bytes(d.read_mem(addr, 4).try_into().unwrap())
}

fn qids(d: &Driver) -> Vec<u16> {
    d.ctrl.sq_notifier_qids().collect()
}

#[test]
fn notified_doorbell_takes_the_shadow_tail() {
    let (mut d, shadow, evt) = up_with_dbbuf();
    for i in 0..3u16 {
        let s = read(&mut d, 500 + i);
        let tail = queue_shadow(&mut d, shadow, 1, &s);
        // Nothing happens until the notification.
        assert!(d.env.storage.pending.is_empty());
        notify(&mut d, 1);
        d.complete_storage();
        let c = d.wait(1, 500 + i).expect("command completed");
        assert!(c.ok());
        // The tail taken is published as the SQ EventIdx.
        assert_eq!(u32_at(&mut d, evt + 8), tail);
    }
    // Several commands behind one notification.
    let (a, b) = (read(&mut d, 600), read(&mut d, 601));
    queue_shadow(&mut d, shadow, 2, &a);
    queue_shadow(&mut d, shadow, 2, &b);
    notify(&mut d, 2);
    d.complete_storage();
    assert!(d.wait(2, 600).is_some_and(|c| c.ok()));
    assert!(d.wait(2, 601).is_some_and(|c| c.ok()));
    assert_eq!(d.ctrl.counters().invalid_doorbells, 0);
}

#[test]
fn invalid_shadow_tail_is_an_invalid_doorbell_write() {
    let (mut d, shadow, evt) = up_with_dbbuf();
    let aer = d.submit(0, sqe_of(0x0c, 0, &[], 0));
    assert!(d.wait(0, aer).is_none());
    d.write_mem(shadow + 8, &IO_DEPTH.to_le_bytes());
    notify(&mut d, 1);
    let c = d.wait(0, aer).expect("error event");
    // Error, Invalid Doorbell Write Value, Error Information log.
    assert_eq!(c.dw0, 0x0001_0100);
    assert_eq!(d.ctrl.counters().invalid_doorbells, 1);
    assert!(d.env.storage.pending.is_empty(), "nothing fetched");
    assert_eq!(u32_at(&mut d, evt + 8), 0, "EventIdx unchanged");
    // The queue still works from its old tail.
    let s = read(&mut d, 700);
    queue_shadow(&mut d, shadow, 1, &s);
    notify(&mut d, 1);
    d.complete_storage();
    assert!(d.wait(1, 700).is_some_and(|c| c.ok()));
}

#[test]
fn notifier_set_follows_queues_dbbuf_and_reset() {
    let mut d = Driver::new(Driver::small_config());
    d.bring_up(2);
    // Queues without a Doorbell Buffer Config: MMIO doorbells only.
    assert!(qids(&d).is_empty());
    let g0 = d.ctrl.sq_notifier_generation();
    let shadow = d.alloc(4096);
    let evt = d.alloc(4096);
    let mut s = sqe_of(0x7c, 0, &[], shadow);
    s.dw[8] = evt as u32;
    assert!(d.admin(s).ok());
    let g1 = d.ctrl.sq_notifier_generation();
    assert_ne!(g0, g1);
    assert_eq!(qids(&d), vec![1, 2]);
    // Commands that change no queue leave the generation alone.
    assert!(d.admin(sqe_of(0x18, 0, &[], 0)).ok());
    let s = read(&mut d, 800);
    queue_shadow(&mut d, shadow, 1, &s);
    notify(&mut d, 1);
    d.complete_storage();
    assert!(d.wait(1, 800).is_some());
    assert_eq!(d.ctrl.sq_notifier_generation(), g1);
    // Delete I/O SQ 2.
    assert!(d.admin(sqe_of(0x00, 0, &[(10, 2)], 0)).ok());
    let g2 = d.ctrl.sq_notifier_generation();
    assert_ne!(g2, g1);
    assert_eq!(qids(&d), vec![1]);
    // Create it again.
    assert!(d.create_sq(2, IO_DEPTH, 2).ok());
    let g3 = d.ctrl.sq_notifier_generation();
    assert_ne!(g3, g2);
    assert_eq!(qids(&d), vec![1, 2]);
    // The set travels with the state (migration).
    let loaded =
        ocp_nvme_engine::Controller::load_state(d.ctrl.config().clone(), &d.ctrl.save_state())
            .expect("state loads");
    assert_eq!(loaded.sq_notifier_qids().collect::<Vec<_>>(), vec![1, 2]);
    // A controller reset removes the queues and the buffer config.
    d.disable();
    assert_ne!(d.ctrl.sq_notifier_generation(), g3);
    assert!(qids(&d).is_empty());
}

#[test]
fn notification_for_a_deleted_queue_or_after_reset_changes_nothing() {
    let (mut d, shadow, _) = up_with_dbbuf();
    // A notification queued before the queue was deleted arrives late.
    assert!(d.admin(sqe_of(0x00, 0, &[(10, 2)], 0)).ok());
    d.write_mem(shadow + 16, &1u32.to_le_bytes());
    let aer = d.submit(0, sqe_of(0x0c, 0, &[], 0));
    notify(&mut d, 2);
    assert!(d.wait(0, aer).is_none(), "no invalid doorbell event");
    assert_eq!(d.ctrl.counters().invalid_doorbells, 0);
    assert!(d.env.storage.pending.is_empty());
    // Queue 1 queued a command, then the controller was reset before the
    // notification ran.
    let s = read(&mut d, 900);
    queue_shadow(&mut d, shadow, 1, &s);
    d.disable();
    notify(&mut d, 1);
    assert!(d.env.storage.pending.is_empty());
    assert_eq!(d.ctrl.counters().invalid_doorbells, 0);
}

/// Guest memory where the host moves SQ 1's shadow tail to `then` right
/// after the controller publishes the SQ 1 EventIdx the first time: the
/// host's submission racing with the notification's handler.
struct RacingHost<'a> {
    mem: &'a mut ocp_nvme_engine::testing::TestMemory,
    eventidx: u64,
    shadow: u64,
    then: Option<u32>,
}

impl ocp_nvme_engine::traits::GuestMemory for RacingHost<'_> {
    fn read(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), ocp_nvme_engine::traits::DmaError> {
        self.mem.read(addr, buf)
    }
    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), ocp_nvme_engine::traits::DmaError> {
        self.mem.write(addr, data)?;
        if addr == self.eventidx + 8 {
            if let Some(tail) = self.then.take() {
                self.mem.write(self.shadow + 8, &tail.to_le_bytes())?;
            }
        }
        Ok(())
    }
    fn check_range(
        &self,
        range: ocp_nvme_engine::traits::GuestRange,
    ) -> Result<(), ocp_nvme_engine::traits::DmaError> {
        self.mem.check_range(range)
    }
}

/// The host queues a second command while the notification of the first
/// one runs, after the controller read the shadow tail and before it
/// published the EventIdx: the old EventIdx tells the host not to ring
/// (Linux's `nvme_dbbuf_need_event()`), so the controller must see the
/// second command by reading the shadow tail again.
#[test]
fn tail_moved_while_publishing_the_eventidx_is_not_lost() {
    let (mut d, shadow, evt) = up_with_dbbuf();
    d.auto_complete = false;
    let a = read(&mut d, 1000);
    queue_shadow(&mut d, shadow, 1, &a);
    // The second command is in the SQ, its shadow tail not yet written.
    let b = read(&mut d, 1001);
    let q = d.sq[1];
    d.write_mem(q.base + u64::from(q.ptr) * 64, &b.to_bytes());
    let tail = (q.ptr + 1) % q.size;
    d.sq[1].ptr = tail;
    {
        let env = &mut d.env;
        let mut mem = RacingHost {
            mem: &mut env.mem,
            eventidx: evt,
            shadow,
            then: Some(tail),
        };
        let mut h = ocp_nvme_engine::traits::Host {
            mem: &mut mem,
            storage: &mut env.storage,
            irq: &mut env.irq,
            clock: &env.clock,
            log: &mut env.log,
        };
        d.ctrl.sq_doorbell_notified(1, &mut h);
    }
    d.complete_storage();
    assert!(d.wait(1, 1000).is_some_and(|c| c.ok()));
    assert!(
        d.wait(1, 1001).is_some_and(|c| c.ok()),
        "second command fetched"
    );
    assert_eq!(u32_at(&mut d, evt + 8), tail);
}
