// SPDX-License-Identifier: GPL-2.0-or-later
//! Write Uncorrectable (NVM Command Set 1.0, 3.2.5; Identify Controller
//! ONCS bit 1): marked blocks read back with Unrecovered Read Error until
//! written again, and the marks are kept across power cycles.
#![allow(clippy::shadow_unrelated)] // long test scripts reuse names

use ocp_nvme_engine::spec::status::Status;
use ocp_nvme_engine::testing::{set_prps, sqe_of, Driver, RawCqe};
use ocp_nvme_engine::Controller;

fn up() -> Driver {
    let mut d = Driver::new(Driver::small_config());
    d.bring_up(1);
    d
}

fn uncor(d: &mut Driver, nsid: u32, slba: u64, nlb: u32) -> RawCqe {
    d.io(
        1,
        sqe_of(0x04, nsid, &[(10, slba as u32), (12, nlb - 1)], 0),
    )
}

fn rw(d: &mut Driver, op: u8, slba: u64, nlb: u32, fill: u8) -> RawCqe {
    let len = u64::from(nlb) * 512;
    let buf = d.alloc(len);
    d.write_mem(buf, &vec![fill; len as usize]);
    let mut s = sqe_of(op, 1, &[(10, slba as u32), (12, nlb - 1)], 0);
    set_prps(d, &mut s, buf, len);
    d.io(1, s)
}

#[test]
fn oncs_bit_1_is_set() {
    let mut d = up();
    let (_, id) = d.admin_read(sqe_of(0x06, 0, &[(10, 1)], 0), 4096);
    assert_eq!(id[520] & 0x02, 0x02);
}

#[test]
fn marked_blocks_fail_reads_compare_and_verify_until_written() {
    let mut d = up();
    assert!(rw(&mut d, 0x01, 0, 16, 0x11).ok());
    assert!(uncor(&mut d, 1, 4, 2).ok());
    // Every read touching block 4 or 5 fails; its neighbours read.
    assert!(rw(&mut d, 0x02, 0, 16, 0).is(Status::UNRECOVERED_READ_ERROR));
    assert!(rw(&mut d, 0x02, 5, 1, 0).is(Status::UNRECOVERED_READ_ERROR));
    assert!(rw(&mut d, 0x02, 3, 1, 0).ok());
    assert!(rw(&mut d, 0x02, 6, 1, 0).ok());
    assert!(rw(&mut d, 0x05, 4, 1, 0x11).is(Status::UNRECOVERED_READ_ERROR));
    assert!(d
        .io(1, sqe_of(0x0c, 1, &[(10, 0), (12, 7)], 0))
        .is(Status::UNRECOVERED_READ_ERROR));
    // The error is logged and counted as a media error.
    assert!(d.ctrl.counters().media_errors >= 4);
    // Writing block 4 heals it; block 5 still fails.
    assert!(rw(&mut d, 0x01, 4, 1, 0x22).ok());
    assert!(rw(&mut d, 0x02, 4, 1, 0).ok());
    assert!(rw(&mut d, 0x02, 5, 1, 0).is(Status::UNRECOVERED_READ_ERROR));
    // Write Zeroes heals, and so does deallocation.
    assert!(d.io(1, sqe_of(0x08, 1, &[(10, 5), (12, 0)], 0)).ok());
    assert!(rw(&mut d, 0x02, 5, 1, 0).ok());
    assert!(uncor(&mut d, 1, 8, 1).ok());
    let buf = d.alloc(4096);
    let mut range = [0u8; 16];
    range[4..8].copy_from_slice(&1u32.to_le_bytes());
    range[8..16].copy_from_slice(&8u64.to_le_bytes());
    d.write_mem(buf, &range);
    assert!(d.io(1, sqe_of(0x09, 1, &[(10, 0), (11, 4)], buf)).ok());
    assert!(rw(&mut d, 0x02, 8, 1, 0).ok());
    // Format forgets every mark.
    assert!(uncor(&mut d, 1, 9, 1).ok());
    assert!(d.admin(sqe_of(0x80, 1, &[(10, 0)], 0)).ok());
    assert!(rw(&mut d, 0x02, 9, 1, 0).ok());
}

#[test]
fn write_uncorrectable_statuses() {
    let mut d = up();
    let nsze = (4 << 20) / 512;
    assert!(uncor(&mut d, 1, nsze - 1, 2).is(Status::LBA_OUT_OF_RANGE));
    assert!(uncor(&mut d, 2, 0, 1).is(Status::INVALID_NAMESPACE));
    assert!(uncor(&mut d, 0xffff_ffff, 0, 1).is(Status::INVALID_NAMESPACE));
    let mut cfg = Driver::small_config();
    cfg.read_only = true;
    let mut ro = Driver::new(cfg);
    ro.bring_up(1);
    assert!(uncor(&mut ro, 1, 0, 1).is(Status::NAMESPACE_WRITE_PROTECTED));
}

#[test]
fn marks_survive_a_power_cycle() {
    let mut d = up();
    assert!(uncor(&mut d, 1, 7, 3).ok());
    // Asking does not take the request (the IOThread asks, the main loop
    // takes).
    assert!(d.ctrl.persist_requested());
    assert!(d.ctrl.take_persist_request(), "kept at once");
    assert!(!d.ctrl.persist_requested());
    let cfg = d.ctrl.config().clone();
    let rec = d.ctrl.save_persistent(1);
    let mut again = Driver::new(cfg.clone());
    again.ctrl = Controller::load_persistent(cfg, &rec, 2).unwrap();
    again.bring_up(1);
    assert!(rw(&mut again, 0x02, 9, 1, 0).is(Status::UNRECOVERED_READ_ERROR));
    assert!(rw(&mut again, 0x02, 6, 1, 0).ok());
    // A heal is kept at once too.
    assert!(rw(&mut again, 0x01, 7, 3, 1).ok());
    assert!(again.ctrl.take_persist_request());
}
