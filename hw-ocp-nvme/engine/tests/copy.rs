// SPDX-License-Identifier: GPL-2.0-or-later
//! Copy (NVM Command Set 1.0, 3.2.2; OCP NVMe-OPT-16): Source Range
//! Entries in Descriptor Format 0h, the MSRC/MSSRL/MCL limits and their
//! statuses, FUA, Dword 0 of a failed Copy, and a Copy in flight across a
//! saved state.
#![allow(clippy::shadow_unrelated)] // test scripts reuse names

use ocp_nvme_engine::spec::cmd::Sqe;
use ocp_nvme_engine::spec::status::Status;
use ocp_nvme_engine::testing::{set_prps, sqe_of, Driver};
use ocp_nvme_engine::{Controller, ControllerConfig, IoError, IoKind, IoResult};

fn up_with(cfg: ControllerConfig) -> Driver {
    let mut d = Driver::new(cfg);
    d.bring_up(1);
    d
}

fn up() -> Driver {
    up_with(Driver::small_config())
}

fn rw(d: &mut Driver, op: u8, slba: u64, nlb: u32, buf: u64) -> Sqe {
    let mut s = sqe_of(
        op,
        1,
        &[(10, slba as u32), (11, (slba >> 32) as u32), (12, nlb - 1)],
        0,
    );
    set_prps(d, &mut s, buf, u64::from(nlb) * 512);
    s
}

/// A Copy of `ranges` (SLBA, NLB 1-based) to `sdlba`, descriptor format
/// 0h; `cdw12` adds bits (FUA, DESFMT).
fn copy(d: &mut Driver, ranges: &[(u64, u32)], sdlba: u64, cdw12: u32) -> Sqe {
    let mut desc = vec![0u8; ranges.len() * 32];
    for (i, &(slba, nlb)) in ranges.iter().enumerate() {
        desc[i * 32 + 8..i * 32 + 16].copy_from_slice(&slba.to_le_bytes());
        desc[i * 32 + 16..i * 32 + 18].copy_from_slice(&((nlb - 1) as u16).to_le_bytes());
    }
    let buf = d.alloc(desc.len() as u64);
    d.write_mem(buf, &desc);
    let mut s = sqe_of(
        0x19,
        1,
        &[
            (10, sdlba as u32),
            (11, (sdlba >> 32) as u32),
            (12, (ranges.len() as u32 - 1) | cdw12),
        ],
        0,
    );
    set_prps(d, &mut s, buf, desc.len() as u64);
    s
}

fn fill(d: &mut Driver, slba: u64, nlb: u32, seed: u8) -> Vec<u8> {
    let data: Vec<u8> = (0..nlb * 512).map(|i| (i % 253) as u8 ^ seed).collect();
    let buf = d.alloc(data.len() as u64);
    d.write_mem(buf, &data);
    let s = rw(d, 0x01, slba, nlb, buf);
    assert!(d.io(1, s).ok());
    data
}

fn read(d: &mut Driver, slba: u64, nlb: u32) -> Vec<u8> {
    let buf = d.alloc(u64::from(nlb) * 512);
    let s = rw(d, 0x02, slba, nlb, buf);
    assert!(d.io(1, s).ok());
    d.read_mem(buf, nlb as usize * 512)
}

fn identify(d: &mut Driver, cns: u32, nsid: u32) -> Vec<u8> {
    let (c, b) = d.admin_read(sqe_of(0x06, nsid, &[(10, cns)], 0), 4096);
    assert!(c.ok());
    b
}

/// NVMe-OPT-16: ONCS bit 8, OCFS bit 0 and the Identify Namespace limits.
#[test]
fn nvme_opt_16_copy_is_reported() {
    let mut d = up();
    let id = identify(&mut d, 1, 0);
    assert_ne!(u16::from_le_bytes([id[520], id[521]]) & 1 << 8, 0);
    assert_eq!(u16::from_le_bytes([id[534], id[535]]), 1);
    let ns = identify(&mut d, 0, 1);
    // MDTS 7 = 512 KiB = 1024 blocks of 512 bytes.
    assert_eq!(u16::from_le_bytes([ns[74], ns[75]]), 1024); // MSSRL
    assert_eq!(u32::from_le_bytes(ns[76..80].try_into().unwrap()), 1024); // MCL
    assert_eq!(ns[80], 127); // MSRC, 0's based
    let (c, e) = d.admin_read(sqe_of(0x02, 0, &[(10, 1023 << 16 | 5)], 0), 4096);
    assert!(c.ok());
    assert_eq!(e[1024 + 0x19 * 4], 0x3); // CSUPP, LBCC
}

/// Copy moves every source range, in order, to consecutive destination
/// blocks, and counts as one write command of its blocks.
#[test]
fn copy_moves_ranges_in_order() {
    let mut d = up();
    let a = fill(&mut d, 10, 4, 1);
    let b = fill(&mut d, 100, 2, 2);
    let before = d.ctrl.counters().clone();
    let s = copy(&mut d, &[(100, 2), (10, 4)], 500, 0);
    let c = d.io(1, s);
    assert!(c.ok(), "{c:?}");
    let mut want = b;
    want.extend_from_slice(&a);
    assert_eq!(read(&mut d, 500, 6), want);
    // Sources untouched.
    assert_eq!(read(&mut d, 10, 4), a);
    let k = d.ctrl.counters();
    assert_eq!(k.host_write_commands, before.host_write_commands + 1);
    assert_eq!(k.bytes_written, before.bytes_written + 6 * 512);
    // Overlapping source and destination: ranges are copied one by one.
    let s = copy(&mut d, &[(10, 4)], 12, 0);
    assert!(d.io(1, s).ok());
    assert_eq!(read(&mut d, 12, 4), a);
}

/// FUA (CDW12 bit 30) reaches the destination writes; without it the
/// write cache absorbs them.
#[test]
fn copy_fua() {
    let mut d = up();
    fill(&mut d, 0, 1, 3);
    let s = copy(&mut d, &[(0, 1)], 8, 1 << 30);
    assert!(d.io(1, s).ok());
    let writes: Vec<_> = d
        .env
        .storage
        .log
        .iter()
        .filter(|(k, _, _)| matches!(k, IoKind::WriteBuffered { .. }))
        .collect();
    assert_eq!(
        writes,
        [&(IoKind::WriteBuffered { fua: true }, 8 * 512, 512)]
    );
    let s = copy(&mut d, &[(0, 1)], 9, 0);
    assert!(d.io(1, s).ok());
    assert_eq!(
        d.env.storage.log.last().unwrap(),
        &(IoKind::WriteBuffered { fua: false }, 9 * 512, 512)
    );
}

/// The statuses NVM Command Set 1.0, 3.2.2 prescribes: Command Size Limit
/// Exceeded beyond MSRC, MSSRL or MCL; Invalid Field in Command for a
/// descriptor format not in OCFS; LBA Out of Range for a source or the
/// destination beyond the namespace; Invalid Namespace; nothing written.
#[test]
fn copy_limits_and_statuses() {
    let mut d = up();
    let nsze = (4u64 << 20) / 512;
    let writes_before = d.env.storage.log.len();
    let ranges: Vec<(u64, u32)> = (0..129).map(|i| (i, 1)).collect();
    let s = copy(&mut d, &ranges, 1000, 0);
    assert!(d.io(1, s).is(Status::COMMAND_SIZE_LIMIT_EXCEEDED));
    let ranges: Vec<(u64, u32)> = (0..128).map(|i| (i, 1)).collect();
    let s = copy(&mut d, &ranges, 1000, 0);
    assert!(d.io(1, s).ok());
    let writes_before = writes_before + 256;
    // One range longer than MSSRL (1024); then a total longer than MCL.
    let s = copy(&mut d, &[(0, 1025)], 2000, 0);
    assert!(d.io(1, s).is(Status::COMMAND_SIZE_LIMIT_EXCEEDED));
    let s = copy(&mut d, &[(0, 1000), (1000, 25)], 4000, 0);
    assert!(d.io(1, s).is(Status::COMMAND_SIZE_LIMIT_EXCEEDED));
    let s = copy(&mut d, &[(0, 1000), (1000, 24)], 4000, 0);
    assert!(d.io(1, s).ok());
    let writes_before = writes_before + 4;
    // Descriptor formats 1h-Fh are not supported.
    for f in [1u32, 2, 3, 0xf] {
        let s = copy(&mut d, &[(0, 1)], 5, f << 8);
        assert!(d.io(1, s).is(Status::INVALID_FIELD), "format {f}");
    }
    let s = copy(&mut d, &[(0, 1), (nsze - 1, 2)], 5, 0);
    assert!(d.io(1, s).is(Status::LBA_OUT_OF_RANGE));
    let s = copy(&mut d, &[(0, 2)], nsze - 1, 0);
    assert!(d.io(1, s).is(Status::LBA_OUT_OF_RANGE));
    let s = copy(&mut d, &[(0, 1)], u64::MAX, 0);
    assert!(d.io(1, s).is(Status::LBA_OUT_OF_RANGE));
    let mut s = copy(&mut d, &[(0, 1)], 5, 0);
    s.dw[1] = 2;
    assert!(d.io(1, s).is(Status::INVALID_NAMESPACE));
    assert_eq!(d.env.storage.log.len(), writes_before);
    // A read-only namespace refuses the copy.
    let mut d = up_with(ControllerConfig {
        read_only: true,
        ..Driver::small_config()
    });
    let s = copy(&mut d, &[(0, 1)], 5, 0);
    assert!(d.io(1, s).is(Status::NAMESPACE_WRITE_PROTECTED));
}

/// A failed Copy reports in Dword 0 the lowest source range not copied;
/// a failed source read is an Unrecovered Read Error, a failed
/// destination write a Write Fault; nothing after the failure is issued.
#[test]
fn copy_failure_reports_the_first_range_not_copied() {
    let mut d = up();
    d.env.storage.fail_next = Some(IoError::MediaError);
    let s = copy(&mut d, &[(0, 1), (1, 1)], 8, 0);
    let c = d.io(1, s);
    assert!(c.is(Status::UNRECOVERED_READ_ERROR));
    assert_eq!(c.dw0, 0);

    d.auto_complete = false;
    let s = copy(&mut d, &[(0, 1), (1, 1), (2, 1)], 8, 0);
    let cid = d.submit(1, s);
    // Range 0: read, write; range 1: read fails.
    for _ in 0..2 {
        assert_eq!(d.complete_storage_one(), 1);
    }
    d.env.storage.fail_next = Some(IoError::MediaError);
    assert_eq!(d.complete_storage_one(), 1);
    let c = d.wait(1, cid).unwrap();
    assert!(c.is(Status::UNRECOVERED_READ_ERROR));
    assert_eq!(c.dw0, 1);

    let s = copy(&mut d, &[(0, 1), (1, 1), (2, 1)], 8, 0);
    let cid = d.submit(1, s);
    for _ in 0..3 {
        assert_eq!(d.complete_storage_one(), 1);
    }
    // Range 1's write fails.
    d.env.storage.fail_next = Some(IoError::MediaError);
    assert_eq!(d.complete_storage_one(), 1);
    assert!(d.env.storage.pending.is_empty());
    let c = d.wait(1, cid).unwrap();
    assert!(c.is(Status::WRITE_FAULT));
    assert_eq!(c.dw0, 1);
    // A failed copy is no host write.
    let _ = IoResult::Ok;
}

/// A Copy in flight (its buffered write parked while quiesced, with its
/// data) survives save and load, and completes on the loaded controller.
#[test]
fn copy_in_flight_is_saved() {
    let mut d = up();
    let a = fill(&mut d, 20, 2, 9);
    d.auto_complete = false;
    let s = copy(&mut d, &[(20, 2)], 40, 0);
    let cid = d.submit(1, s);
    d.ctrl.quiesce();
    // The source read completes; its write is parked with its bytes.
    assert_eq!(d.complete_storage_one(), 1);
    let saved = d.ctrl.save_state();
    let loaded = Controller::load_state(d.ctrl.config().clone(), &saved).unwrap();
    assert!(loaded == d.ctrl);
    d.ctrl = loaded;
    let mut h = d.env.host();
    d.ctrl.resume(&mut h);
    let c = d.wait(1, cid).unwrap();
    assert!(c.ok());
    d.auto_complete = true;
    assert_eq!(read(&mut d, 40, 2), a);
}

/// EOL-5: at end of life (available spare 0 %, C2h read-only default) a
/// Copy writes, so it fails like a Write with Attempted Write to Read Only
/// Range; it still copies before that.
#[test]
fn copy_is_a_write_at_end_of_life() {
    let mut d = up();
    let a = fill(&mut d, 0, 1, 4);
    let s = copy(&mut d, &[(0, 1)], 1, 0);
    assert!(d.io(1, s).ok());
    assert_eq!(read(&mut d, 1, 1), a);
    {
        let mut h = d.env.host();
        d.ctrl
            .set_health_property("available-spare", 0, &mut h)
            .unwrap();
    }
    let s = copy(&mut d, &[(0, 1)], 2, 0);
    assert!(d.io(1, s).is(Status::ATTEMPTED_WRITE_TO_RO_RANGE));
}
