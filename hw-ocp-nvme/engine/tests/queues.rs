// SPDX-License-Identifier: GPL-2.0-or-later
//! I/O queue creation/deletion checks, full CQs, phase, arbitration,
//! coalescing and shadow doorbells.
#![allow(clippy::shadow_unrelated, clippy::cognitive_complexity)] // long test scripts reuse names

use ocp_nvme_engine::spec::regs::off;
use ocp_nvme_engine::spec::status::Status;
use ocp_nvme_engine::testing::{set_prps, sqe_of, Driver};

fn up() -> Driver {
    let mut d = Driver::new(Driver::small_config());
    assert!(d.enable());
    d
}

fn read(d: &mut Driver, slba: u64) -> ocp_nvme_engine::spec::cmd::Sqe {
    let buf = d.alloc(512);
    let mut s = sqe_of(0x02, 1, &[(10, slba as u32), (12, 0)], 0);
    set_prps(d, &mut s, buf, 512);
    s
}

#[test]
fn create_cq_checks() {
    let mut d = up();
    let cq = |qid: u32, qsize: u32, flags: u32, prp: u64| {
        sqe_of(0x05, 0, &[(10, qsize << 16 | qid), (11, flags)], prp)
    };
    assert!(d
        .admin(cq(0, 15, 3, 0x40_0000))
        .is(Status::INVALID_QUEUE_IDENTIFIER));
    assert!(d
        .admin(cq(5, 15, 3, 0x40_0000))
        .is(Status::INVALID_QUEUE_IDENTIFIER));
    assert!(d
        .admin(cq(1, 0, 3, 0x40_0000))
        .is(Status::INVALID_QUEUE_SIZE));
    assert!(d
        .admin(cq(1, 1024, 3, 0x40_0000))
        .is(Status::INVALID_QUEUE_SIZE));
    assert!(d.admin(cq(1, 15, 2, 0x40_0000)).is(Status::INVALID_FIELD)); // PC = 0
    assert!(d
        .admin(cq(1, 15, 3 | 5 << 16, 0x40_0000))
        .is(Status::INVALID_INTERRUPT_VECTOR));
    assert!(d
        .admin(cq(1, 15, 3, 0x40_0100))
        .is(Status::INVALID_PRP_OFFSET));
    assert!(d.admin(cq(1, 15, 3 | 1 << 16, 0x40_0000)).ok());
    assert!(d.admin(sqe_of(0x04, 0, &[(10, 1)], 0)).ok());
    assert!(d.admin(cq(1, 15, 3 | 4 << 16, 0x40_0000)).ok());
    // Wrong CC.IOCQES at creation time.
    let mut d2 = Driver::new(Driver::small_config());
    let asq = d2.alloc(4096);
    let acq = d2.alloc(4096);
    d2.sq[0] = ocp_nvme_engine::testing::HostQueue {
        base: asq,
        size: 32,
        ptr: 0,
        phase: true,
    };
    d2.cq[0] = ocp_nvme_engine::testing::HostQueue {
        base: acq,
        size: 32,
        ptr: 0,
        phase: true,
    };
    d2.w32(off::AQA, 0x001f_001f);
    d2.w64(off::ASQ, asq);
    d2.w64(off::ACQ, acq);
    d2.w32(off::CC, 1);
    assert!(d2
        .admin(cq(1, 15, 3, 0x40_0000))
        .is(Status::INVALID_QUEUE_SIZE));
    // INTx: only vector 0.
    d2.env.irq.msix = false;
    d2.w32(off::CC, 0);
    d2.sq[0].ptr = 0;
    d2.cq[0] = ocp_nvme_engine::testing::HostQueue {
        base: acq,
        size: 32,
        ptr: 0,
        phase: true,
    };
    d2.w32(off::CC, 0x0046_0001);
    assert!(d2
        .admin(cq(1, 15, 3 | 1 << 16, 0x40_0000))
        .is(Status::INVALID_INTERRUPT_VECTOR));
    assert!(d
        .admin(cq(1, 15, 3, 0x40_0000))
        .is(Status::INVALID_QUEUE_IDENTIFIER)); // exists
}

#[test]
fn create_sq_checks() {
    let mut d = up();
    assert!(d.create_cq(1, 16, 1).ok());
    let sq = |qid: u32, qsize: u32, cqid: u32, pc: u32, prp: u64| {
        sqe_of(
            0x01,
            0,
            &[(10, qsize << 16 | qid), (11, cqid << 16 | pc)],
            prp,
        )
    };
    assert!(d
        .admin(sq(0, 15, 1, 1, 0x40_0000))
        .is(Status::INVALID_QUEUE_IDENTIFIER));
    assert!(d
        .admin(sq(9, 15, 1, 1, 0x40_0000))
        .is(Status::INVALID_QUEUE_IDENTIFIER));
    assert!(d
        .admin(sq(1, 15, 0, 1, 0x40_0000))
        .is(Status::COMPLETION_QUEUE_INVALID));
    assert!(d
        .admin(sq(1, 15, 2, 1, 0x40_0000))
        .is(Status::COMPLETION_QUEUE_INVALID));
    assert!(d
        .admin(sq(1, 0, 1, 1, 0x40_0000))
        .is(Status::INVALID_QUEUE_SIZE));
    assert!(d
        .admin(sq(1, 15, 1, 0, 0x40_0000))
        .is(Status::INVALID_FIELD));
    assert!(d
        .admin(sq(1, 15, 1, 1, 0x40_0010))
        .is(Status::INVALID_PRP_OFFSET));
    assert!(d.admin(sq(1, 15, 1, 1, 0x40_0000)).ok());
    assert!(d
        .admin(sq(1, 15, 1, 1, 0x40_0000))
        .is(Status::INVALID_QUEUE_IDENTIFIER));
    // Number of Queues limits the IDs, and cannot change once queues exist.
    assert!(d
        .admin(sqe_of(0x09, 0, &[(10, 7), (11, 0)], 0))
        .is(Status::COMMAND_SEQUENCE_ERROR));
}

#[test]
fn number_of_queues_limits_ids() {
    let mut d = up();
    let c = d.admin(sqe_of(0x09, 0, &[(10, 7), (11, 0x0000_0000)], 0));
    assert!(c.ok());
    assert_eq!(c.dw0, 0);
    assert!(d.create_cq(2, 16, 1).is(Status::INVALID_QUEUE_IDENTIFIER));
    assert!(d.create_cq(1, 16, 1).ok());
    let c = d.admin(sqe_of(0x09, 0, &[(10, 7), (11, 0xffff)], 0));
    assert!(c.is(Status::COMMAND_SEQUENCE_ERROR));
    let mut d = up();
    assert!(d
        .admin(sqe_of(0x09, 0, &[(10, 7), (11, 0xffff)], 0))
        .is(Status::INVALID_FIELD));
    let c = d.admin(sqe_of(0x09, 0, &[(10, 7), (11, 0x0063_0063)], 0));
    assert_eq!(c.dw0, 0x0003_0003); // capped at max_ioqpairs
    assert_eq!(d.admin(sqe_of(0x0a, 0, &[(10, 7)], 0)).dw0, 0x0003_0003);
}

#[test]
fn delete_checks() {
    let mut d = up();
    assert!(d.create_cq(1, 16, 1).ok());
    assert!(d.create_sq(1, 16, 1).ok());
    assert!(d
        .admin(sqe_of(0x04, 0, &[(10, 1)], 0))
        .is(Status::INVALID_QUEUE_DELETION));
    assert!(d
        .admin(sqe_of(0x00, 0, &[(10, 0)], 0))
        .is(Status::INVALID_QUEUE_IDENTIFIER));
    assert!(d
        .admin(sqe_of(0x00, 0, &[(10, 2)], 0))
        .is(Status::INVALID_QUEUE_IDENTIFIER));
    assert!(d
        .admin(sqe_of(0x04, 0, &[(10, 0)], 0))
        .is(Status::INVALID_QUEUE_IDENTIFIER));
    assert!(d
        .admin(sqe_of(0x04, 0, &[(10, 3)], 0))
        .is(Status::INVALID_QUEUE_IDENTIFIER));
    assert!(d.admin(sqe_of(0x00, 0, &[(10, 1)], 0)).ok());
    assert!(d.admin(sqe_of(0x04, 0, &[(10, 1)], 0)).ok());
}

#[test]
fn delete_sq_waits_for_inflight_commands() {
    let mut d = up();
    assert!(d.create_cq(1, 16, 1).ok());
    assert!(d.create_sq(1, 16, 1).ok());
    d.auto_complete = false;
    let s = read(&mut d, 0);
    let io = d.submit(1, s);
    let del = d.submit(0, sqe_of(0x00, 0, &[(10, 1)], 0));
    assert!(d.reap(0).is_empty(), "delete waits");
    d.complete_storage();
    let c = d.reap(1);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].cid, io);
    let a = d.reap(0);
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].cid, del);
    assert!(a[0].ok());
}

#[test]
fn phase_tag_and_sq_head() {
    let mut d = up();
    assert!(d.create_cq(1, 4, 1).ok());
    assert!(d.create_sq(1, 8, 1).ok());
    for i in 0..10u32 {
        let s = read(&mut d, 0);
        let c = d.io(1, s);
        assert!(c.ok());
        assert_eq!(u32::from(c.sqhd), (i + 1) % 8);
    }
    // The host side wrapped the 4-entry CQ twice: its phase flipped back.
    assert_eq!(d.cq[1].ptr, 2);
}

#[test]
fn full_cq_holds_back_completions() {
    let mut d = up();
    assert!(d.create_cq(1, 4, 1).ok());
    assert!(d.create_sq(1, 16, 1).ok());
    // Submit 6 commands without consuming the CQ.
    let q = d.sq[1];
    let mut tail = q.ptr;
    for i in 0..6u16 {
        let mut s = read(&mut d, 0);
        s.dw[0] |= u32::from(100 + i) << 16;
        d.write_mem(q.base + u64::from(tail) * 64, &s.to_bytes());
        tail += 1;
    }
    d.sq[1].ptr = tail;
    d.w32(off::DOORBELLS + 8, tail);
    d.complete_storage();
    // Only 3 fit (one slot stays empty); nothing overwritten.
    let base = d.cq[1].base;
    let mut b = [0u8; 16];
    d.read_mem(base + 3 * 16, 16)
        .iter()
        .enumerate()
        .for_each(|(i, &x)| b[i] = x);
    assert_eq!(b, [0u8; 16]);
    let mut cids: Vec<u16> = Vec::new();
    for _ in 0..4 {
        cids.extend(d.reap(1).iter().map(|c| c.cid));
    }
    cids.sort();
    assert_eq!(cids, vec![100, 101, 102, 103, 104, 105]);
}

#[test]
fn round_robin_across_queues() {
    let mut d = up();
    // Arbitration burst 1.
    assert!(d.admin(sqe_of(0x09, 0, &[(10, 1), (11, 0)], 0)).ok());
    for q in 1..=3 {
        assert!(d.create_cq(q, 16, q).ok());
        assert!(d.create_sq(q, 16, q).ok());
    }
    d.auto_complete = false;
    // Fill SQ 1..3 with 3 commands each before ringing any doorbell.
    for q in 1..=3u16 {
        let hq = d.sq[q as usize];
        for i in 0..3u64 {
            let s = read(&mut d, u64::from(q) * 10 + i);
            d.write_mem(hq.base + i * 64, &s.to_bytes());
        }
        d.sq[q as usize].ptr = 3;
    }
    // Each doorbell is processed as it is written.
    d.w32(off::DOORBELLS + 8, 3);
    d.w32(off::DOORBELLS + 16, 3);
    d.w32(off::DOORBELLS + 24, 3);
    let order: Vec<u64> = d
        .env
        .storage
        .log
        .iter()
        .map(|&(_, off, _)| off / 512)
        .collect();
    assert_eq!(order, vec![10, 11, 12, 20, 21, 22, 30, 31, 32]);
    d.complete_storage();
    for q in 1..=3 {
        assert_eq!(d.reap(q).len(), 3);
    }
}

#[test]
fn round_robin_between_doorbells() {
    // Deferred processing: all three doorbells are rung before the fetch.
    let mut cfg = Driver::small_config();
    cfg.defer_processing = true;
    let mut d = Driver::new(cfg);
    assert!(d.enable());
    d.auto_complete = false;
    let mut run = |d: &mut Driver| {
        let mut h = d.env.host();
        d.ctrl.process_pending(&mut h);
    };
    let admin = |d: &mut Driver, s, run: &mut dyn FnMut(&mut Driver)| {
        let cid = d.submit(0, s);
        run(d);
        d.wait(0, cid).expect("admin completion")
    };
    assert!(admin(&mut d, sqe_of(0x09, 0, &[(10, 1), (11, 0)], 0), &mut run).ok());
    for q in 1..=3u16 {
        let base = d.alloc(16 * 16);
        let c = sqe_of(
            0x05,
            0,
            &[(10, 15 << 16 | u32::from(q)), (11, u32::from(q) << 16 | 3)],
            base,
        );
        assert!(admin(&mut d, c, &mut run).ok());
        d.cq[q as usize] = ocp_nvme_engine::testing::HostQueue {
            base,
            size: 16,
            ptr: 0,
            phase: true,
        };
        let base = d.alloc(16 * 64);
        let c = sqe_of(
            0x01,
            0,
            &[(10, 15 << 16 | u32::from(q)), (11, u32::from(q) << 16 | 1)],
            base,
        );
        assert!(admin(&mut d, c, &mut run).ok());
        d.sq[q as usize] = ocp_nvme_engine::testing::HostQueue {
            base,
            size: 16,
            ptr: 0,
            phase: true,
        };
    }
    for q in 1..=3u16 {
        for i in 0..3u64 {
            let s = read(&mut d, u64::from(q) * 10 + i);
            d.submit(q, s);
        }
    }
    assert!(d.env.storage.log.is_empty());
    run(&mut d);
    let order: Vec<u64> = d
        .env
        .storage
        .log
        .iter()
        .map(|&(_, off, _)| off / 512)
        .collect();
    assert_eq!(order, vec![10, 20, 30, 11, 21, 31, 12, 22, 32]);
    // Burst 2 (AB = 1).
    assert!(admin(&mut d, sqe_of(0x09, 0, &[(10, 1), (11, 1)], 0), &mut run).ok());
    d.env.storage.log.clear();
    for q in 1..=2u16 {
        for i in 0..3u64 {
            let s = read(&mut d, u64::from(q) * 10 + i);
            d.submit(q, s);
        }
    }
    run(&mut d);
    let order: Vec<u64> = d
        .env
        .storage
        .log
        .iter()
        .map(|&(_, off, _)| off / 512)
        .collect();
    assert_eq!(order.len(), 6);
    assert_eq!(&order[..4], &[10, 11, 20, 21]);
}

#[test]
fn shadow_doorbells() {
    let mut d = up();
    let shadow = d.alloc(4096);
    let evt = d.alloc(4096);
    assert!(d.create_cq(1, 4, 1).ok());
    assert!(d.create_sq(1, 16, 1).ok());
    let mut s = sqe_of(0x7c, 0, &[], shadow);
    s.dw[8] = evt as u32;
    assert!(d.admin(s).ok());
    // Existing queues' values were copied into both buffers.
    assert_eq!(d.read_mem(shadow + 8, 8), vec![0u8; 8]);
    // The MMIO tail is published as the SQ EventIdx.
    d.write_mem(shadow + 8, &1u32.to_le_bytes());
    let s = read(&mut d, 0);
    let c = d.io(1, s);
    assert!(c.ok());
    assert_eq!(d.read_mem(evt + 8, 4), 1u32.to_le_bytes().to_vec());
    // CQ head doorbell with MSI-X: the EventIdx stays one behind the head.
    assert_eq!(d.read_mem(evt + 12, 4), 0u32.to_le_bytes().to_vec());
    // A full CQ looks at the shadow head before holding completions back.
    d.auto_complete = false;
    let q = d.sq[1];
    let mut tail = q.ptr;
    for i in 0..4u16 {
        let mut s = read(&mut d, 0);
        s.dw[0] |= u32::from(200 + i) << 16;
        d.write_mem(q.base + u64::from(tail) * 64, &s.to_bytes());
        tail = (tail + 1) % q.size;
    }
    d.sq[1].ptr = tail;
    d.write_mem(shadow + 8, &tail.to_le_bytes());
    d.w32(off::DOORBELLS + 8, tail);
    d.complete_storage();
    // 3 of 4 fit; the host consumes them and updates only the shadow head.
    let base = d.cq[1].base;
    let mut got = Vec::new();
    for slot in [1u64, 2, 3] {
        let b = d.read_mem(base + slot * 16, 16);
        got.push(u16::from_le_bytes([b[12], b[13]]));
    }
    assert_eq!(got, vec![200, 201, 202]);
    // 203 is held back: slot 0 still has the first, consumed, entry.
    let b = d.read_mem(base, 16);
    assert_ne!(u16::from_le_bytes([b[12], b[13]]), 203);
    assert_eq!(
        d.read_mem(shadow + 12, 4),
        1u32.to_le_bytes().to_vec(),
        "MMIO head mirrored"
    );
    d.write_mem(shadow + 12, &0u32.to_le_bytes());
    // The next completion finds room after reading the shadow head.
    let s = read(&mut d, 0);
    let mut s2 = s;
    s2.dw[0] |= 300 << 16;
    d.write_mem(q.base + u64::from(tail) * 64, &s2.to_bytes());
    tail = (tail + 1) % q.size;
    d.w32(off::DOORBELLS + 8, tail);
    d.complete_storage();
    let b = d.read_mem(base, 16);
    assert_eq!(u16::from_le_bytes([b[12], b[13]]), 203);
    let b = d.read_mem(base + 16, 16);
    assert_eq!(u16::from_le_bytes([b[12], b[13]]), 300);
    // Bad Doorbell Buffer Config.
    let s = sqe_of(0x7c, 0, &[(8, 0x2000)], 0x1010);
    assert!(d.admin(s).is(Status::INVALID_FIELD));
    let s = sqe_of(0x7c, 0, &[(8, 0x2010)], 0x1000);
    assert!(d.admin(s).is(Status::INVALID_FIELD));
}

#[test]
fn interrupt_coalescing() {
    let mut d = up();
    assert!(d.create_cq(1, 16, 1).ok());
    assert!(d.create_sq(1, 16, 1).ok());
    // Threshold 2 (3 entries), time 1 (100 us).
    assert!(d.admin(sqe_of(0x09, 0, &[(10, 8), (11, 0x0102)], 0)).ok());
    d.env.irq.notified.clear();
    let s = read(&mut d, 0);
    d.submit(1, s);
    assert!(d.env.irq.notified.is_empty());
    let s = read(&mut d, 0);
    d.submit(1, s);
    assert!(d.env.irq.notified.is_empty());
    let s = read(&mut d, 0);
    d.submit(1, s);
    assert_eq!(d.env.irq.notified, vec![1]);
    d.env.irq.notified.clear();
    let s = read(&mut d, 0);
    d.submit(1, s);
    assert!(d.env.irq.notified.is_empty());
    assert!(d.ctrl.timer_deadline().is_some());
    d.advance(100_000);
    assert_eq!(d.env.irq.notified, vec![1]);
    // Vector with coalescing disabled.
    assert!(d
        .admin(sqe_of(0x09, 0, &[(10, 9), (11, 1 | 1 << 16)], 0))
        .ok());
    d.env.irq.notified.clear();
    let s = read(&mut d, 0);
    d.submit(1, s);
    assert_eq!(d.env.irq.notified, vec![1]);
    // The admin queue is never coalesced.
    d.env.irq.notified.clear();
    d.submit(0, sqe_of(0x18, 0, &[], 0));
    assert_eq!(d.env.irq.notified, vec![0]);
}

/// Linux's `nvme_dbbuf_need_event()`: does moving a shadow doorbell from
/// `old` to `new` cross the controller's EventIdx?
fn need_event(event_idx: u32, new: u32, old: u32) -> bool {
    (new as u16).wrapping_sub(event_idx as u16).wrapping_sub(1)
        < (new as u16).wrapping_sub(old as u16)
}

/// Shadow doorbells (NVMe 2.0 Base, 5.8) driven like Linux: every
/// doorbell updates the shadow buffer and rings MMIO only when it crosses
/// the EventIdx. With MSI-X the controller reads the shadow CQ head when
/// it needs room, so the host consumes completions without CQ head MMIO
/// (only a wrap of the queue index, which the u16 check cannot tell from a
/// huge move, rings), and no completion is lost while the 4-entry CQ
/// wraps three times.
#[test]
fn shadow_cq_eventidx_spares_head_doorbells() {
    let mut d = up();
    let shadow = d.alloc(4096);
    let evt = d.alloc(4096);
    assert!(d.create_cq(1, 4, 1).ok());
    assert!(d.create_sq(1, 16, 1).ok());
    let mut s = sqe_of(0x7c, 0, &[], shadow);
    s.dw[8] = evt as u32;
    assert!(d.admin(s).ok());
    let (mut cq_mmio, mut sq_mmio, mut wraps) = (0, 0, 0);
    let mut got = Vec::new();
    for i in 0..12u16 {
        let q = d.sq[1];
        let mut s = read(&mut d, 0);
        s.dw[0] = (s.dw[0] & 0xffff) | u32::from(100 + i) << 16;
        d.write_mem(q.base + u64::from(q.ptr) * 64, &s.to_bytes());
        let tail = (q.ptr + 1) % q.size;
        d.sq[1].ptr = tail;
        let old = u32::from_le_bytes(d.read_mem(shadow + 8, 4).try_into().unwrap());
        d.write_mem(shadow + 8, &tail.to_le_bytes());
        let ei = u32::from_le_bytes(d.read_mem(evt + 8, 4).try_into().unwrap());
        if need_event(ei, tail, old) {
            sq_mmio += 1;
            d.w32(off::DOORBELLS + 8, tail);
        }
        d.complete_storage();
        // Consume what is there; update the shadow head, MMIO if needed.
        let mut q = d.cq[1];
        let before = q.ptr;
        loop {
            let b = d.read_mem(q.base + u64::from(q.ptr) * 16, 16);
            if (b[14] & 1 != 0) != q.phase {
                break;
            }
            got.push(u16::from_le_bytes([b[12], b[13]]));
            q.consume();
        }
        d.cq[1] = q;
        if q.ptr != before {
            if q.ptr < before {
                wraps += 1;
            }
            let old = u32::from_le_bytes(d.read_mem(shadow + 12, 4).try_into().unwrap());
            d.write_mem(shadow + 12, &q.ptr.to_le_bytes());
            let ei = u32::from_le_bytes(d.read_mem(evt + 12, 4).try_into().unwrap());
            if need_event(ei, q.ptr, old) {
                cq_mmio += 1;
                d.w32(off::DOORBELLS + 12, q.ptr);
            }
        }
    }
    assert_eq!(got, (100..112).collect::<Vec<u16>>());
    assert_eq!(
        sq_mmio, 12,
        "the SQ tail doorbell still rings for each command"
    );
    assert!(wraps >= 3);
    assert!(
        cq_mmio <= wraps,
        "{cq_mmio} CQ head doorbells for {wraps} wraps"
    );
}
