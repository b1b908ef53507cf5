// SPDX-License-Identifier: GPL-2.0-or-later
//! Fused Compare and Write (NVMe 2.0 Base, 3.4.2 Fused Operations; NVM
//! Command Set 1.0, Compare and Write; OCP NVMe-IO-9): FUSES, the pair's
//! outcomes, the statuses of a failed or missing half, and atomicity with
//! respect to other I/O commands.
#![allow(clippy::shadow_unrelated)] // test scripts reuse names

use ocp_nvme_engine::spec::cmd::Sqe;
use ocp_nvme_engine::spec::regs::off;
use ocp_nvme_engine::spec::status::Status;
use ocp_nvme_engine::testing::{set_prps, sqe_of, Driver, RawCqe};
use ocp_nvme_engine::{Controller, IoError, IoKind};

fn up() -> Driver {
    let mut d = Driver::new(Driver::small_config());
    d.bring_up(2);
    d
}

/// Read, Write or Compare of one block at `lba` from or to `data`, with
/// FUSE `fuse`.
fn cmd(d: &mut Driver, op: u8, lba: u64, data: &[u8], fuse: u32) -> Sqe {
    let buf = d.alloc(512);
    d.write_mem(buf, data);
    let mut s = sqe_of(op, 1, &[(10, lba as u32)], 0);
    s.dw[0] |= fuse << 8;
    set_prps(d, &mut s, buf, 512);
    s
}

/// Place `sqes` in SQ `qid` and ring its tail doorbell once; their CIDs.
fn submit_together(d: &mut Driver, qid: u16, sqes: &[Sqe]) -> Vec<u16> {
    let mut cids = Vec::new();
    for s in sqes {
        let cid = d.next_cid();
        let mut s = *s;
        s.dw[0] = (s.dw[0] & 0xffff) | u32::from(cid) << 16;
        let q = d.sq[qid as usize];
        d.write_mem(q.base + u64::from(q.ptr) * 64, &s.to_bytes());
        d.sq[qid as usize].ptr = (q.ptr + 1) % q.size;
        cids.push(cid);
    }
    let tail = d.sq[qid as usize].ptr;
    d.w32(off::DOORBELLS + u64::from(qid) * 8, tail);
    if d.auto_complete {
        d.complete_storage();
    }
    cids
}

fn wait_all(d: &mut Driver, qid: u16, cids: &[u16]) -> Vec<RawCqe> {
    cids.iter()
        .map(|&c| d.wait(qid, c).expect("completion"))
        .collect()
}

fn block(v: u8) -> Vec<u8> {
    vec![v; 512]
}

fn read(d: &mut Driver, lba: u64) -> Vec<u8> {
    let buf = d.alloc(512);
    assert!(d.io(1, sqe_of(0x02, 1, &[(10, lba as u32)], buf)).ok());
    d.read_mem(buf, 512)
}

fn write(d: &mut Driver, lba: u64, v: u8) {
    let s = cmd(d, 0x01, lba, &block(v), 0);
    assert!(d.io(1, s).ok());
}

/// NVMe-IO-9: FUSES bit 0 and ONCS bit 0 (Compare) are set.
#[test]
fn nvme_io_9_fuses_reported() {
    let mut d = up();
    let (c, id) = d.admin_read(sqe_of(0x06, 0, &[(10, 1)], 0), 4096);
    assert!(c.ok());
    assert_eq!(u16::from_le_bytes([id[522], id[523]]), 1, "FUSES");
    assert_eq!(id[520] & 1, 1, "ONCS Compare");
}

/// The Compare matches: the Write runs, both succeed.
#[test]
fn compare_and_write_succeeds() {
    let mut d = up();
    write(&mut d, 10, 0xaa);
    let c = cmd(&mut d, 0x05, 10, &block(0xaa), 1);
    let w = cmd(&mut d, 0x01, 10, &block(0xbb), 2);
    let cids = submit_together(&mut d, 1, &[c, w]);
    let done = wait_all(&mut d, 1, &cids);
    assert!(done.iter().all(RawCqe::ok), "{done:?}");
    assert_eq!(read(&mut d, 10), block(0xbb));
}

/// The Compare fails: Compare Failure, the Write is aborted with Command
/// Aborted due to Failed Fused Command and the blocks keep their data.
#[test]
fn failed_compare_aborts_the_write() {
    let mut d = up();
    write(&mut d, 10, 0xaa);
    let c = cmd(&mut d, 0x05, 10, &block(0xcc), 1);
    let w = cmd(&mut d, 0x01, 10, &block(0xbb), 2);
    let cids = submit_together(&mut d, 1, &[c, w]);
    let done = wait_all(&mut d, 1, &cids);
    assert!(done[0].is(Status::COMPARE_FAILURE));
    assert!(done[1].is(Status::ABORTED_FAILED_FUSED));
    assert_eq!(read(&mut d, 10), block(0xaa));
    // A compare failure is no media error.
    assert_eq!(d.ctrl.counters().media_errors, 0);
    // A Compare failing for another reason (LBA range) aborts it too.
    let c = cmd(&mut d, 0x05, 1 << 30, &block(0xaa), 1);
    let w = cmd(&mut d, 0x01, 1 << 30, &block(0xbb), 2);
    let cids = submit_together(&mut d, 1, &[c, w]);
    let done = wait_all(&mut d, 1, &cids);
    assert!(done[0].is(Status::LBA_OUT_OF_RANGE));
    assert!(done[1].is(Status::ABORTED_FAILED_FUSED));
}

/// The Write fails after a successful Compare: the Compare's status is
/// unaffected.
#[test]
fn failed_write_leaves_the_compare() {
    let mut d = up();
    write(&mut d, 10, 0xaa);
    d.auto_complete = false;
    let c = cmd(&mut d, 0x05, 10, &block(0xaa), 1);
    let w = cmd(&mut d, 0x01, 10, &block(0xbb), 2);
    let cids = submit_together(&mut d, 1, &[c, w]);
    assert_eq!(d.complete_storage_one(), 1);
    d.env.storage.fail_next = Some(IoError::MediaError);
    let done = wait_all(&mut d, 1, &cids);
    assert!(done[0].ok());
    assert!(done[1].is(Status::WRITE_FAULT));
}

/// A half without its other half: Command Aborted due to Missing Fused
/// Command; the entry after a lone first half runs on its own; FUSE 11b
/// is Invalid Field in Command.
#[test]
fn missing_fused_command() {
    let mut d = up();
    let c = cmd(&mut d, 0x05, 10, &block(0), 1);
    assert!(d.io(1, c).is(Status::ABORTED_MISSING_FUSED));
    let w = cmd(&mut d, 0x01, 10, &block(1), 2);
    assert!(d.io(1, w).is(Status::ABORTED_MISSING_FUSED));
    assert_eq!(read(&mut d, 10), block(0));
    let c = cmd(&mut d, 0x05, 10, &block(0), 1);
    let w = cmd(&mut d, 0x01, 10, &block(2), 0);
    let cids = submit_together(&mut d, 1, &[c, w]);
    let done = wait_all(&mut d, 1, &cids);
    assert!(done[0].is(Status::ABORTED_MISSING_FUSED));
    assert!(done[1].ok());
    assert_eq!(read(&mut d, 10), block(2));
    // Second half first, then a first half with nothing after it.
    let w = cmd(&mut d, 0x01, 10, &block(3), 2);
    let c = cmd(&mut d, 0x05, 10, &block(2), 1);
    let cids = submit_together(&mut d, 1, &[w, c]);
    let done = wait_all(&mut d, 1, &cids);
    assert!(done.iter().all(|c| c.is(Status::ABORTED_MISSING_FUSED)));
    let r = cmd(&mut d, 0x02, 10, &block(0), 3);
    assert!(d.io(1, r).is(Status::INVALID_FIELD));
    assert_eq!(read(&mut d, 10), block(2));
}

/// Only Compare then Write may be fused, on one LBA range: another first
/// command is Invalid Field in Command (its Write aborted as the half of a
/// failed fused command); differing ranges fail both halves.
#[test]
fn only_compare_and_write_on_one_range() {
    let mut d = up();
    let r = cmd(&mut d, 0x02, 10, &block(0), 1);
    let w = cmd(&mut d, 0x01, 10, &block(1), 2);
    let cids = submit_together(&mut d, 1, &[r, w]);
    let done = wait_all(&mut d, 1, &cids);
    assert!(done[0].is(Status::INVALID_FIELD));
    assert!(done[1].is(Status::ABORTED_FAILED_FUSED));
    let c = cmd(&mut d, 0x05, 10, &block(0), 1);
    let w = cmd(&mut d, 0x01, 11, &block(1), 2);
    let cids = submit_together(&mut d, 1, &[c, w]);
    let done = wait_all(&mut d, 1, &cids);
    assert!(done.iter().all(|c| c.is(Status::INVALID_FIELD)));
    assert_eq!(read(&mut d, 10), block(0));
    assert_eq!(read(&mut d, 11), block(0));
}

/// Atomicity: the pair waits for the I/O in flight, no other I/O command
/// is fetched while it waits or runs, and what was queued behind it runs
/// once it is done. The storage sees: the earlier write, the Compare's
/// read, the fused Write, then the later read.
#[test]
fn pair_is_atomic_with_respect_to_other_io() {
    let mut d = up();
    write(&mut d, 10, 0xaa);
    d.auto_complete = false;
    d.env.storage.log.clear();
    let early = cmd(&mut d, 0x01, 10, &block(0xa1), 0);
    let early_cid = d.submit(2, early);
    let c = cmd(&mut d, 0x05, 10, &block(0xa1), 1);
    let w = cmd(&mut d, 0x01, 10, &block(0xbb), 2);
    let cids = submit_together(&mut d, 1, &[c, w]);
    let late = cmd(&mut d, 0x02, 10, &block(0), 0);
    let late_cid = d.submit(2, late);
    assert_eq!(d.env.storage.pending.len(), 1, "the pair waits");
    // Saved and loaded while the pair waits, and again while it runs.
    let saved = d.ctrl.save_state();
    assert!(Controller::load_state(d.ctrl.config().clone(), &saved).unwrap() == d.ctrl);
    assert_eq!(d.complete_storage_one(), 1);
    assert_eq!(d.env.storage.pending.len(), 1, "the Compare alone");
    let saved = d.ctrl.save_state();
    assert!(Controller::load_state(d.ctrl.config().clone(), &saved).unwrap() == d.ctrl);
    assert_eq!(d.complete_storage_one(), 1);
    assert_eq!(d.env.storage.pending.len(), 1, "the Write alone");
    assert_eq!(d.complete_storage_one(), 1);
    d.complete_storage();
    let kinds: Vec<IoKind> = d.env.storage.log.iter().map(|l| l.0).collect();
    assert_eq!(
        kinds,
        [
            IoKind::Write { fua: false },
            IoKind::ReadBuffered,
            IoKind::Write { fua: false },
            IoKind::Read
        ]
    );
    assert!(d.wait(2, early_cid).unwrap().ok());
    assert!(wait_all(&mut d, 1, &cids).iter().all(RawCqe::ok));
    assert!(d.wait(2, late_cid).unwrap().ok());
    d.auto_complete = true;
    assert_eq!(read(&mut d, 10), block(0xbb));
}

/// Atomicity covers commands held back by OCP added latency (a latency
/// spike, error injection type 14): the pair waits for the held Write too,
/// so its Compare sees that Write's data.
#[test]
fn pair_waits_for_commands_held_by_added_latency() {
    let mut d = up();
    write(&mut d, 10, 0xaa);
    let mut e = [0u8; 32];
    e[0] = 3; // enabled, single instance
    e[2..4].copy_from_slice(&14u16.to_le_bytes()); // latency spike
    e[4..8].copy_from_slice(&10u32.to_le_bytes()); // 10 ms
    let c = d.admin_write(sqe_of(0x09, 0, &[(10, 0xc0), (11, 1), (14, 1)], 0), &e);
    assert!(c.ok(), "{c:?}");
    let held = cmd(&mut d, 0x01, 10, &block(0xa1), 0);
    let held_cid = d.submit(2, held);
    assert!(d.ctrl.timer_deadline().is_some(), "the write is held");
    let c = cmd(&mut d, 0x05, 10, &block(0xa1), 1);
    let w = cmd(&mut d, 0x01, 10, &block(0xbb), 2);
    let cids = submit_together(&mut d, 1, &[c, w]);
    assert!(d.env.storage.pending.is_empty(), "the pair waits");
    d.advance(20_000_000);
    d.complete_storage();
    assert!(d.wait(2, held_cid).unwrap().ok());
    let done = wait_all(&mut d, 1, &cids);
    assert!(done.iter().all(RawCqe::ok), "{done:?}");
    assert_eq!(read(&mut d, 10), block(0xbb));
}
