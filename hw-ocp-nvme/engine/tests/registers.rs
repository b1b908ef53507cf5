// SPDX-License-Identifier: GPL-2.0-or-later
//! Controller registers, enable validation, reset and access rules.
#![allow(clippy::shadow_unrelated, clippy::cognitive_complexity)] // long test scripts reuse names

use ocp_nvme_engine::spec::regs::off;
use ocp_nvme_engine::testing::{sqe_of, Driver};

fn driver() -> Driver {
    Driver::new(Driver::small_config())
}

fn setup_admin(d: &mut Driver) {
    let asq = d.alloc(4096);
    let acq = d.alloc(4096);
    d.w32(off::AQA, 0x001f_001f);
    d.w64(off::ASQ, asq);
    d.w64(off::ACQ, acq);
}

#[test]
fn bar_size_and_readonly_registers() {
    let mut d = driver();
    assert_eq!(d.ctrl.bar_size(), 0x2000);
    // The default 1,023 queue pairs (OCP NVMe-CFG-6): doorbells to 0x3000.
    let big =
        ocp_nvme_engine::Controller::new(ocp_nvme_engine::ControllerConfig::default()).unwrap();
    assert_eq!(big.bar_size(), 0x4000);
    let cap = d.r64(off::CAP);
    d.w64(off::CAP, 0);
    assert_eq!(d.r64(off::CAP), cap);
    assert_eq!((cap >> 24) & 0xff, 30); // TO
    assert_eq!((cap >> 32) & 0xf, 0); // DSTRD
    assert_eq!((cap >> 48) & 0xff, 0); // MPSMIN/MPSMAX
    d.w32(off::VS, 0);
    assert_eq!(d.r32(off::VS), 0x0002_0000);
    assert_eq!(d.r32(off::CRTO), 30 << 16 | 30);
    // Reserved and doorbell space read as zero.
    assert_eq!(d.r32(0x18), 0);
    assert_eq!(d.r32(0xe00), 0);
    assert_eq!(d.r32(off::DOORBELLS), 0);
}

#[test]
fn partial_reads_and_ignored_writes() {
    let mut d = driver();
    setup_admin(&mut d);
    {
        let mut h = d.env.host();
        assert_eq!(d.ctrl.mmio_read(off::VS + 2, 2, &mut h), 0x0002);
        assert_eq!(d.ctrl.mmio_read(off::VS, 1, &mut h), 0);
        assert_eq!(d.ctrl.mmio_read(off::AQA, 3, &mut h), 0);
        // Byte and misaligned writes are ignored.
        d.ctrl.mmio_write(off::AQA, 0, 1, &mut h);
        d.ctrl.mmio_write(off::AQA + 2, 0, 2, &mut h);
        d.ctrl.mmio_write(off::AQA + 1, 0, 4, &mut h);
        d.ctrl.mmio_write(off::ASQ + 4, 0, 8, &mut h);
    }
    assert_eq!(d.r32(off::AQA), 0x001f_001f);
    // ASQ/ACQ low bits are reserved.
    d.w64(off::ASQ, 0x1234_5fff);
    assert_eq!(d.r64(off::ASQ), 0x1234_5000);
    // 32-bit halves of 64-bit registers.
    d.w32(off::ACQ + 4, 0x1);
    assert_eq!(d.r32(off::ACQ + 4), 1);
    assert_eq!(d.r64(off::ACQ) >> 32, 1);
}

#[test]
fn enable_validation_sets_cfs() {
    // CSS, MPS, AMS, IOSQES, IOCQES, AQA sizes, ASQ/ACQ.
    let bad_cc = [
        0x0046_0001u32 | 1 << 4, // CSS 1
        0x0046_0001 | 1 << 7,    // MPS 8K (> MPSMAX)
        0x0046_0001 | 2 << 11,   // AMS 010b (reserved)
        0x0036_0001,             // IOCQES 3
        0x0045_0001,             // IOSQES 5
    ];
    for cc in bad_cc {
        let mut d = driver();
        setup_admin(&mut d);
        d.w32(off::CC, cc);
        assert_eq!(d.csts() & 3, 2, "cc {cc:#x}");
        // Reset clears CFS.
        d.w32(off::CC, 0);
        assert_eq!(d.csts(), 0);
        d.w32(off::CC, 0x0046_0001);
        assert_eq!(d.csts() & 3, 1);
    }
    let mut d = driver();
    setup_admin(&mut d);
    d.w32(off::AQA, 0x001f_0000);
    d.w32(off::CC, 0x0046_0001);
    assert_eq!(d.csts() & 3, 2);
    // Address 0 is a valid guest address for the admin queues.
    let mut d = driver();
    d.w32(off::AQA, 0x001f_001f);
    d.w32(off::CC, 0x0046_0001);
    assert_eq!(d.csts() & 3, 1, "ASQ/ACQ at 0");
    // IOSQES/IOCQES may be 0 at enable (admin only).
    let mut d = driver();
    setup_admin(&mut d);
    d.w32(off::CC, 1);
    assert_eq!(d.csts() & 3, 1);
}

#[test]
fn cc_fields_frozen_while_enabled_and_aqa_locked() {
    let mut d = driver();
    assert!(d.enable());
    let cc = d.r32(off::CC);
    d.w32(off::CC, cc | 1 << 7);
    assert_eq!(d.r32(off::CC), cc);
    let aqa = d.r32(off::AQA);
    d.w32(off::AQA, 0x0003_0003);
    assert_eq!(d.r32(off::AQA), aqa);
    let asq = d.r64(off::ASQ);
    d.w64(off::ASQ, 0x5000);
    assert_eq!(d.r64(off::ASQ), asq);
}

#[test]
fn disable_resets_queues_and_features() {
    let mut d = driver();
    d.bring_up(2);
    // Set a saveable feature without saving: lost on reset.
    assert!(d
        .admin(sqe_of(0x09, 0, &[(10, 0x08), (11, 0x0105)], 0))
        .ok());
    d.disable();
    assert!(d.enable());
    let c = d.admin(sqe_of(0x0a, 0, &[(10, 0x08)], 0));
    assert_eq!(c.dw0, 0);
    // I/O queues are gone: creating SQ 1 on CQ 1 fails.
    let c = d.create_sq(1, 16, 1);
    assert!(c.is(ocp_nvme_engine::spec::status::Status::COMPLETION_QUEUE_INVALID));
    assert_eq!(d.ctrl.counters().controller_resets, 1);
}

#[test]
fn invalid_doorbells_raise_error_events() {
    let mut d = driver();
    d.bring_up(1);
    // Without an outstanding AER the write is just ignored.
    d.w32(off::DOORBELLS + 3 * 8, 1);
    let aer = d.submit(0, sqe_of(0x0c, 0, &[], 0));
    assert!(d.wait(0, aer).is_none());
    // Write to the doorbell of a queue that does not exist.
    d.w32(off::DOORBELLS + 3 * 8, 1);
    let c = d.wait(0, aer).expect("aer completes");
    assert!(c.ok());
    assert_eq!(c.dw0, 0x0001_0000); // error, invalid doorbell register, log 01h
                                    // Same type is masked until the error log is read.
    let aer2 = d.submit(0, sqe_of(0x0c, 0, &[], 0));
    d.w32(off::DOORBELLS + 8, 4096); // value beyond the queue size
    assert!(d.wait(0, aer2).is_none());
    let (c, _) = d.admin_read(sqe_of(0x02, 0, &[(10, (15 << 16) | 0x01)], 0), 64);
    assert!(c.ok());
    let c = d.wait(0, aer2).expect("delivered after the log read");
    assert_eq!(c.dw0, 0x0001_0100);
    // CQ head beyond what was posted.
    let aer3 = d.submit(0, sqe_of(0x0c, 0, &[], 0));
    let (c, _) = d.admin_read(sqe_of(0x02, 0, &[(10, (15 << 16) | 0x01)], 0), 64);
    assert!(c.ok());
    d.w32(off::DOORBELLS + 8 + 4, 5);
    let c = d.wait(0, aer3).expect("cq head invalid value");
    assert_eq!(c.dw0, 0x0001_0100);
    assert_eq!(d.ctrl.counters().invalid_doorbells, 4);
}

#[test]
fn sq_fetch_failure_is_fatal() {
    let mut d = driver();
    assert!(d.enable());
    let base = d.sq[0].base;
    d.write_mem(base, &sqe_of(0x18, 0, &[], 0).to_bytes());
    d.env.mem.faults.push((base, 64));
    d.w32(off::DOORBELLS, 1);
    assert_eq!(d.csts() & 2, 2);
}

#[test]
fn keep_alive_timeout_is_fatal() {
    let mut d = driver();
    d.bring_up(1);
    assert!(d.admin(sqe_of(0x09, 0, &[(10, 0x0f), (11, 1500)], 0)).ok());
    assert_eq!(d.admin(sqe_of(0x0a, 0, &[(10, 0x0f)], 0)).dw0, 2000);
    d.advance(1_500_000_000);
    assert!(d.admin(sqe_of(0x18, 0, &[], 0)).ok());
    d.advance(1_900_000_000);
    assert_eq!(d.csts() & 2, 0);
    assert_eq!(d.ctrl.timer_deadline(), Some(3_500_000_000));
    d.advance(200_000_000);
    assert_eq!(d.csts() & 2, 2);
    // Logged as Keep Alive Timer Expired.
    d.disable();
    assert!(d.enable());
    let (c, log) = d.admin_read(sqe_of(0x02, 0, &[(10, 15 << 16 | 1)], 0), 64);
    assert!(c.ok());
    assert_eq!(u16::from_le_bytes([log[12], log[13]]) >> 1 & 0xff, 0x19);
}

#[test]
fn cq_write_failure_is_fatal() {
    let mut d = driver();
    assert!(d.enable());
    let cq = d.cq[0].base;
    d.env.mem.faults.push((cq, 16));
    d.submit(0, sqe_of(0x18, 0, &[], 0));
    assert_eq!(d.csts() & 2, 2);
    // Doorbells are ignored until reset; reset recovers.
    d.env.mem.faults.clear();
    d.disable();
    assert!(d.enable());
    assert!(d.admin(sqe_of(0x18, 0, &[], 0)).ok());
}

#[test]
fn shutdown_without_write_cache_completes_at_once() {
    let mut cfg = Driver::small_config();
    cfg.volatile_write_cache = false;
    let mut d = Driver::new(cfg);
    d.bring_up(1);
    d.auto_complete = false;
    let cc = d.r32(off::CC);
    d.w32(off::CC, cc | 1 << 14);
    assert_eq!((d.csts() >> 2) & 3, 2);
    assert!(d.env.storage.pending.is_empty());
    assert_eq!(d.ctrl.counters().normal_shutdowns, 1);
}

#[test]
fn shutdown_with_write_cache_waits_for_flush() {
    let mut d = driver();
    d.bring_up(1);
    d.auto_complete = false;
    let cc = d.r32(off::CC);
    d.w32(off::CC, cc | 1 << 14);
    assert_eq!((d.csts() >> 2) & 3, 1, "processing");
    assert_eq!(d.env.storage.pending.len(), 1);
    d.complete_storage();
    assert_eq!((d.csts() >> 2) & 3, 2, "complete");
}

#[test]
fn shutdown_notification_while_disabled() {
    let mut d = driver();
    d.w32(off::CC, 1 << 14);
    assert_eq!((d.csts() >> 2) & 3, 2);
    d.w32(off::CC, 0);
    assert_eq!(d.csts(), 0);
    assert!(d.enable());
}
