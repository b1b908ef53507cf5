// SPDX-License-Identifier: GPL-2.0-or-later
//! Arbitration (NVMe 2.0 Base, 4.13; OCP NVMe-CFG-1): round robin by
//! default, weighted round robin with urgent priority class when CC.AMS =
//! 001b (CAP.AMS bit 17), with the Arbitration feature's burst and weights
//! and Create I/O SQ's QPRIO.
#![allow(clippy::shadow_unrelated)] // test scripts reuse names

use ocp_nvme_engine::spec::regs::off;
use ocp_nvme_engine::testing::{sqe_of, Driver, HostQueue};
use ocp_nvme_engine::ControllerConfig;

const CC_LINUX: u32 = 0x0046_0001;
const CC_WRR: u32 = CC_LINUX | 1 << 11;
const URGENT: u32 = 0;
const HIGH: u32 = 1;
const MEDIUM: u32 = 2;
const LOW: u32 = 3;

fn cfg() -> ControllerConfig {
    ControllerConfig {
        defer_processing: true,
        ..Driver::small_config()
    }
}

/// Run what the doorbells left pending.
fn process(d: &mut Driver) {
    let mut h = d.env.host();
    d.ctrl.process_pending(&mut h);
}

/// Admin command with deferred processing: process, then reap.
fn admin(d: &mut Driver, sqe: ocp_nvme_engine::spec::cmd::Sqe) -> bool {
    let cid = d.submit(0, sqe);
    process(d);
    d.wait(0, cid).is_some_and(|c| c.ok())
}

/// Enable with `cc`, then one CQ and SQ per priority in `prios` (SQ i + 1
/// of priority `prios[i]`, all on CQ 1).
fn up(cc: u32, prios: &[u32]) -> Driver {
    let mut d = Driver::new(cfg());
    d.auto_complete = false;
    assert!(d.enable_cc(cc));
    let n = prios.len() as u32;
    assert!(admin(
        &mut d,
        sqe_of(0x09, 0, &[(10, 7), (11, (n - 1) << 16 | (n - 1))], 0)
    ));
    let base = d.alloc(64 * 16);
    assert!(admin(
        &mut d,
        sqe_of(0x05, 0, &[(10, 63 << 16 | 1), (11, 1 << 16 | 3)], base)
    ));
    d.cq[1] = HostQueue::new(base, 64);
    for (i, &p) in prios.iter().enumerate() {
        let qid = i as u32 + 1;
        let base = d.alloc(64 * 64);
        let sqe = sqe_of(
            0x01,
            0,
            &[(10, 63 << 16 | qid), (11, 1 << 16 | p << 1 | 1)],
            base,
        );
        assert!(admin(&mut d, sqe));
        d.sq[qid as usize] = HostQueue::new(base, 64);
    }
    d
}

/// Queue `n` reads on SQ `qid` whose LBA names the SQ (qid * 100 + i).
fn queue_reads(d: &mut Driver, qid: u16, n: u64) {
    let buf = d.alloc(512);
    for i in 0..n {
        let lba = u64::from(qid) * 100 + i;
        d.submit(qid, sqe_of(0x02, 1, &[(10, lba as u32)], buf));
    }
}

/// The SQ of each storage request, in the order the commands were fetched.
fn fetch_order(d: &Driver) -> Vec<u64> {
    d.env
        .storage
        .pending
        .iter()
        .map(|r| r.offset / 512 / 100)
        .collect()
}

fn set_arbitration(d: &mut Driver, ab: u32, lpw: u32, mpw: u32, hpw: u32) {
    let v = ab | lpw << 8 | mpw << 16 | hpw << 24;
    assert!(admin(d, sqe_of(0x09, 0, &[(10, 1), (11, v)], 0)));
}

/// NVMe-CFG-1: CAP.AMS reports weighted round robin with urgent priority
/// class; CC.AMS 001b enables it, the reserved values fail the enable.
#[test]
fn nvme_cfg_1_wrr_supported() {
    let mut d = Driver::new(cfg());
    assert_eq!(d.r64(off::CAP) >> 17 & 3, 1);
    assert!(d.enable_cc(CC_WRR));
    assert_eq!(d.r32(off::CC) >> 11 & 7, 1);
    let mut d = Driver::new(cfg());
    assert!(!d.enable_cc(CC_LINUX | 2 << 11));
    assert_ne!(d.csts() & 2, 0, "CFS");
}

/// Round robin stays the default: QPRIO is ignored, every SQ takes its
/// turn (burst 1).
#[test]
fn nvme_cfg_1_round_robin_is_default() {
    let mut d = up(CC_LINUX, &[LOW, URGENT, HIGH]);
    set_arbitration(&mut d, 0, 0, 0, 0);
    for q in 1..=3 {
        queue_reads(&mut d, q, 2);
    }
    process(&mut d);
    // Each pass visits every SQ once, whatever its QPRIO.
    let order = fetch_order(&d);
    for pass in order.chunks(3) {
        let mut p = pass.to_vec();
        p.sort_unstable();
        assert_eq!(p, [1, 2, 3], "{order:?}");
    }
}

/// Weighted round robin: the urgent class first, then rounds of HPW + 1
/// high, MPW + 1 medium and LPW + 1 low commands; a class without work
/// leaves its share to the others.
#[test]
fn weighted_round_robin_with_urgent_class() {
    let mut d = up(CC_WRR, &[URGENT, HIGH, MEDIUM, LOW]);
    set_arbitration(&mut d, 0, 0, 1, 2);
    queue_reads(&mut d, 2, 6);
    queue_reads(&mut d, 3, 6);
    queue_reads(&mut d, 4, 6);
    queue_reads(&mut d, 1, 2);
    process(&mut d);
    let (u, h, m, l) = (1, 2, 3, 4);
    assert_eq!(
        fetch_order(&d),
        [u, u, h, h, h, m, m, l, h, h, h, m, m, l, m, m, l, l, l, l]
    );
}

/// The Arbitration Burst bounds what one SQ takes at a time; SQs of one
/// class take turns.
#[test]
fn burst_and_round_robin_within_a_class() {
    let mut d = up(CC_WRR, &[HIGH, HIGH, LOW]);
    // Burst 2, HPW 3 (4 per round), LPW 0 (1 per round).
    set_arbitration(&mut d, 1, 0, 0, 3);
    queue_reads(&mut d, 1, 4);
    queue_reads(&mut d, 2, 4);
    queue_reads(&mut d, 3, 2);
    process(&mut d);
    assert_eq!(fetch_order(&d), [1, 1, 2, 2, 3, 1, 1, 2, 2, 3]);
}

/// The admin SQ is served before any I/O SQ, even an urgent one: its
/// entry, made unreadable, stops the controller (CSTS.CFS) before any read
/// queued earlier on the urgent SQ is fetched.
#[test]
fn admin_first() {
    let mut d = up(CC_WRR, &[URGENT]);
    queue_reads(&mut d, 1, 3);
    let slot = d.sq[0].base + u64::from(d.sq[0].ptr) * 64;
    d.submit(0, sqe_of(0x0a, 0, &[(10, 1)], 0));
    d.env.mem.faults.push((slot, 64));
    process(&mut d);
    assert_ne!(d.csts() & 2, 0, "CFS");
    assert!(d.env.storage.pending.is_empty());
}

/// A fused pair waiting on a low priority SQ for the I/O in flight bars
/// even the urgent class, and runs first once that I/O is done.
#[test]
fn fused_pair_waits_under_weighted_round_robin() {
    let mut d = up(CC_WRR, &[URGENT, LOW]);
    queue_reads(&mut d, 1, 1);
    // Compare then Write of LBA 200 (SQ 2), one doorbell.
    let buf = d.alloc(512);
    for (op, fuse) in [(0x05u32, 1u32), (0x01, 2)] {
        let cid = d.next_cid();
        let s = sqe_of(
            0,
            1,
            &[(0, op | fuse << 8 | u32::from(cid) << 16), (10, 200)],
            buf,
        );
        let q = d.sq[2];
        d.write_mem(q.base + u64::from(q.ptr) * 64, &s.to_bytes());
        d.sq[2].ptr = q.ptr + 1;
    }
    d.w32(off::DOORBELLS + 2 * 8, d.sq[2].ptr);
    process(&mut d);
    assert_eq!(fetch_order(&d), [1], "urgent first; the pair waits for it");
    queue_reads(&mut d, 1, 1);
    process(&mut d);
    assert_eq!(
        fetch_order(&d),
        [1],
        "the waiting pair bars the urgent read"
    );
    assert_eq!(d.complete_storage_one(), 1);
    process(&mut d);
    assert_eq!(fetch_order(&d), [2], "the Compare runs first");
    assert_eq!(d.complete_storage_one(), 1);
    process(&mut d);
    assert_eq!(fetch_order(&d), [2], "then the Write");
    assert_eq!(d.complete_storage_one(), 1);
    process(&mut d);
    assert_eq!(fetch_order(&d), [1]);
}
