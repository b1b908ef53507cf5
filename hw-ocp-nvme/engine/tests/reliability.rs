// SPDX-License-Identifier: GPL-2.0-or-later
//! What a hostile guest must never achieve: a timer that re-fires for ever
//! (QEMU re-runs a timer while its deadline is not in the future, holding
//! the BQL), work that starts while the host has quiesced the controller,
//! or a storage transfer through the device's own registers. Every test
//! ends with a controller reset bringing the drive back.
#![allow(clippy::shadow_unrelated)] // test scripts reuse names

use ocp_nvme_engine::ocp::OCP_UUID_INDEX;
use ocp_nvme_engine::spec::cmd::Sqe;
use ocp_nvme_engine::spec::regs::off;
use ocp_nvme_engine::spec::status::Status;
use ocp_nvme_engine::testing::{check_timer_deadline, set_prps, sqe_of, Driver};
use ocp_nvme_engine::IoKind;

const MS: u64 = 1_000_000;
const CFS: u32 = 1 << 1;

fn up() -> Driver {
    let mut d = Driver::new(Driver::small_config());
    d.bring_up(1);
    d
}

fn set_features(fid: u8, cdw11: u32, uuid: u32) -> Sqe {
    sqe_of(0x09, 0, &[(10, u32::from(fid)), (11, cdw11), (14, uuid)], 0)
}

fn read(d: &mut Driver, slba: u64, nlb: u32) -> Sqe {
    let buf = d.alloc(u64::from(nlb) * 512);
    let mut s = sqe_of(0x02, 1, &[(10, slba as u32), (12, nlb - 1)], 0);
    set_prps(d, &mut s, buf, u64::from(nlb) * 512);
    s
}

/// Arm OCP error injection (feature C0h) with one single-shot entry.
fn inject(d: &mut Driver, kind: u16, specific: u32) {
    let mut e = [0u8; 32];
    e[0] = 3; // enabled, single instance
    e[2..4].copy_from_slice(&kind.to_le_bytes());
    e[4..8].copy_from_slice(&specific.to_le_bytes());
    let c = d.admin_write(set_features(0xc0, 1, u32::from(OCP_UUID_INDEX)), &e);
    assert!(c.ok(), "{c:?}");
}

/// CC.EN = 0 then a Linux-style bring-up again, and one read that works.
fn reset_brings_it_back(d: &mut Driver) {
    d.disable();
    assert_eq!(d.csts() & 1, 0);
    d.bring_up(1);
    assert_eq!(d.csts() & CFS, 0);
    let s = read(d, 0, 8);
    let cid = d.submit(1, s);
    // Throttling (kept across a controller reset) may hold it a while.
    d.advance(100 * MS);
    assert!(d.wait(1, cid).expect("read completes").ok());
}

#[test]
fn keep_alive_after_a_fatal_error_does_not_refire() {
    let mut d = up();
    assert!(d.admin(set_features(0x0f, 1000, 0)).ok(), "KATO 1 s");
    // OCP 2.7 reports panics with an AEN unless FID C9h bit 0 is cleared
    // (SDAEC-14): clear it so that the panic sets CSTS.CFS.
    assert!(d
        .admin(set_features(0xc9, 0, u32::from(OCP_UUID_INDEX)))
        .ok());
    // CPU/controller hang injection: the next admin command panics the
    // drive (CSTS.CFS) and never completes.
    inject(&mut d, 1, 0);
    let buf = d.alloc(4096);
    d.submit(0, sqe_of(0x06, 0, &[(10, 1)], buf));
    assert_ne!(d.csts() & CFS, 0);
    // Past KATO: the old engine kept the keep alive deadline in the past
    // and did nothing with it while CFS was set (QEMU spun for ever).
    d.advance(5_000 * MS);
    d.advance(5_000 * MS);
    assert_eq!(d.ctrl.timer_deadline(), None);
    reset_brings_it_back(&mut d);
}

#[test]
fn keep_alive_expiry_is_fatal_once() {
    let mut d = up();
    assert!(d.admin(set_features(0x0f, 1000, 0)).ok());
    d.advance(999 * MS);
    assert_eq!(d.csts() & CFS, 0);
    d.advance(MS);
    assert_ne!(d.csts() & CFS, 0, "expired keep alive is a fatal status");
    d.advance(10_000 * MS);
    assert_eq!(d.ctrl.timer_deadline(), None);
    reset_brings_it_back(&mut d);
}

#[test]
fn command_held_by_throttling_then_shutdown_does_not_refire() {
    let mut d = up();
    // DSSD power state 10 W: reads and writes wait.
    assert!(d
        .admin(set_features(0xc7, 10, u32::from(OCP_UUID_INDEX)))
        .ok());
    let s = read(&mut d, 0, 8);
    d.submit(1, s);
    let due = d.ctrl.timer_deadline().expect("held read has a deadline");
    // The host shuts the controller down before the read is due.
    let cc = d.r32(off::CC);
    d.w32(off::CC, (cc & !(3 << 14)) | 1 << 14);
    d.complete_storage();
    assert_eq!((d.csts() >> 2) & 3, 2, "shutdown complete");
    let now = d.env.clock.ns.get();
    d.advance(due - now + MS);
    check_timer_deadline(&d.ctrl, d.env.clock.ns.get());
    assert!(d.env.storage.pending.is_empty(), "held read never started");
    // Reset, and the throttle (not saved) is gone.
    reset_brings_it_back(&mut d);
}

#[test]
fn command_held_by_injected_latency_then_fatal_does_not_refire() {
    let mut d = up();
    inject(&mut d, 14, 10); // latency spike, 10 ms
    let s = read(&mut d, 0, 8);
    d.submit(1, s);
    assert!(d.ctrl.timer_deadline().is_some());
    // The next fetch of the admin queue fails: Controller Fatal Status.
    let asq = d.sq[0];
    d.env.mem.faults.push((asq.base, u64::from(asq.size) * 64));
    d.w32(off::DOORBELLS, (asq.ptr + 1) % asq.size);
    assert_ne!(d.csts() & CFS, 0);
    d.env.mem.faults.clear();
    d.advance(20 * MS);
    d.advance(20 * MS);
    assert_eq!(d.ctrl.timer_deadline(), None);
    reset_brings_it_back(&mut d);
}

/// The host batches MSI-X messages only while commands are in flight
/// (device.rs, `x-irq-batch`): at queue depth 1 the interrupt goes out at
/// once.
#[test]
fn commands_in_flight_until_the_last_completion() {
    let mut d = up();
    d.auto_complete = false;
    assert!(!d.ctrl.commands_in_flight());
    let s = read(&mut d, 0, 8);
    d.submit(1, s);
    let s = read(&mut d, 8, 8);
    d.submit(1, s);
    assert!(d.ctrl.commands_in_flight());
    assert_eq!(d.complete_storage_one(), 1);
    assert!(d.ctrl.commands_in_flight(), "one of two still running");
    assert_eq!(d.complete_storage_one(), 1);
    assert!(!d.ctrl.commands_in_flight(), "both completed and posted");
    assert_eq!(d.reap(1).len(), 2);
}

#[test]
fn quiesced_controller_fetches_and_issues_nothing() {
    let mut d = up();
    d.auto_complete = false;
    // Eight reads in flight, then the host stops the machine.
    let mut cids = Vec::new();
    for i in 0..8 {
        let s = read(&mut d, i * 8, 8);
        cids.push(d.submit(1, s));
    }
    assert_eq!(d.env.storage.pending.len(), 8);
    d.ctrl.quiesce();
    // New doorbells are taken but nothing is fetched or issued.
    let s = read(&mut d, 100, 1);
    let late = d.submit(1, s);
    let wz = d.submit(1, sqe_of(0x08, 1, &[(10, 0), (12, 7)], 0));
    assert_eq!(d.env.storage.log.len(), 8);
    // Requests in flight still complete and are posted (a drain).
    assert_eq!(d.complete_storage(), 8);
    let done: Vec<u16> = d.reap(1).iter().map(|c| c.cid).collect();
    assert_eq!(done, cids);
    assert!(d.env.storage.pending.is_empty());
    assert!(d.ctrl.is_quiesced());
    // Resume: the waiting commands are fetched and complete.
    let mut h = d.env.host();
    d.ctrl.resume(&mut h);
    assert!(d.wait(1, late).unwrap().ok());
    assert!(d.wait(1, wz).unwrap().ok());
}

#[test]
fn quiesce_parks_the_rest_of_a_command() {
    let mut d = up();
    d.auto_complete = false;
    // Deallocate 16 ranges: 8 data-less requests in flight, 8 waiting.
    let list = d.alloc(4096);
    let mut ranges = vec![0u8; 16 * 16];
    for i in 0..16 {
        ranges[i * 16 + 4..i * 16 + 8].copy_from_slice(&8u32.to_le_bytes());
        ranges[i * 16 + 8..i * 16 + 16].copy_from_slice(&(i as u64 * 16).to_le_bytes());
    }
    d.write_mem(list, &ranges);
    let cid = d.submit(1, sqe_of(0x09, 1, &[(10, 15), (11, 4)], list));
    assert_eq!(d.env.storage.pending.len(), 8);
    d.ctrl.quiesce();
    for r in std::mem::take(&mut d.env.storage.pending) {
        d.complete_token(r.token, ocp_nvme_engine::IoResult::Ok);
    }
    assert!(d.env.storage.pending.is_empty(), "the rest is parked");
    assert!(d.reap(1).is_empty());
    let mut h = d.env.host();
    d.ctrl.resume(&mut h);
    assert_eq!(d.env.storage.pending.len(), 8);
    assert!(d.wait(1, cid).unwrap().ok());
    assert_eq!(d.env.storage.log.len(), 16);
}

#[test]
fn storage_request_parked_while_quiesced_starts_on_resume() {
    let mut cfg = Driver::small_config();
    cfg.volatile_write_cache = true;
    let mut d = Driver::new(cfg);
    d.bring_up(1);
    d.auto_complete = false;
    // Write Zeroes with FUA on a volatile cache: zeroes, then a flush
    // issued from the zeroes' completion.
    let cid = d.submit(1, sqe_of(0x08, 1, &[(10, 0), (12, 7 | 1 << 30)], 0));
    assert_eq!(d.env.storage.pending.len(), 1);
    d.ctrl.quiesce();
    let zeroes = d.env.storage.pending.remove(0);
    d.complete_token(zeroes.token, ocp_nvme_engine::IoResult::Ok);
    assert!(
        d.env.storage.pending.is_empty(),
        "the flush waits for resume"
    );
    assert!(d.reap(1).is_empty());
    let mut h = d.env.host();
    d.ctrl.resume(&mut h);
    assert_eq!(d.env.storage.pending.len(), 1);
    assert_eq!(d.env.storage.pending[0].kind, IoKind::Flush);
    assert!(d.wait(1, cid).unwrap().ok());
}

#[test]
fn transfers_through_device_registers_are_refused() {
    let mut d = up();
    d.auto_complete = false;
    // The device's BAR0 sits at 0xfe00_0000 (as the host reports it).
    let bar = 0xfe00_0000;
    d.env.mem.mmio.push((bar, 0x10000));
    // A read whose PRP1 points at the doorbells.
    let mut s = sqe_of(0x02, 1, &[(10, 0), (12, 0)], 0);
    s.dw[6] = bar as u32 + 0x1000;
    let cid = d.submit(1, s);
    assert!(d.env.storage.pending.is_empty(), "nothing reached storage");
    assert!(d.wait(1, cid).unwrap().is(Status::DATA_TRANSFER_ERROR));
    // PRP2 of a two-page write in the MSI-X table.
    let buf = d.alloc(4096);
    let mut s = sqe_of(0x01, 1, &[(10, 0), (12, 15)], 0);
    s.dw[6] = buf as u32;
    s.dw[7] = (buf >> 32) as u32;
    s.dw[8] = bar as u32 + 0x2000;
    let cid = d.submit(1, s);
    assert!(d.env.storage.pending.is_empty());
    assert!(d.wait(1, cid).unwrap().is(Status::DATA_TRANSFER_ERROR));
    // An admin data transfer there fails the same way.
    let c = d.admin(sqe_of(0x06, 0, &[(10, 1)], bar));
    assert!(c.is(Status::DATA_TRANSFER_ERROR));
    d.auto_complete = true;
    let s = read(&mut d, 0, 8);
    assert!(d.io(1, s).ok());
}
