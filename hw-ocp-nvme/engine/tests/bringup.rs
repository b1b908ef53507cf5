// SPDX-License-Identifier: GPL-2.0-or-later
//! The controller brought up, used and shut down the way Linux does it.
#![allow(clippy::shadow_unrelated, clippy::cognitive_complexity)] // long test scripts reuse names

use ocp_nvme_engine::spec::regs::off;
use ocp_nvme_engine::spec::status::Status;
use ocp_nvme_engine::testing::{set_prps, sqe_of, Driver};
use ocp_nvme_engine::IoResult;

fn rw(
    d: &mut Driver,
    opcode: u8,
    slba: u64,
    nlb: u32,
    buf: u64,
) -> ocp_nvme_engine::spec::cmd::Sqe {
    let mut s = sqe_of(
        opcode,
        1,
        &[(10, slba as u32), (11, (slba >> 32) as u32), (12, nlb - 1)],
        0,
    );
    set_prps(d, &mut s, buf, u64::from(nlb) * 512);
    s
}

#[test]
fn linux_like_lifecycle() {
    let mut d = Driver::new(Driver::small_config());
    assert_eq!(d.csts() & 1, 0);
    let cap = d.r64(off::CAP);
    assert_eq!(cap & 0xffff, 1023); // MQES
    assert_eq!((cap >> 16) & 1, 1); // CQR
    assert_eq!((cap >> 37) & 1, 1); // CSS NVM
    assert_eq!(d.r32(off::VS), 0x0002_0000);
    d.bring_up(4);

    // AER outstanding like Linux.
    let aer_cid = d.submit(0, sqe_of(0x0c, 0, &[], 0));

    // Write then read back 8 blocks on every queue.
    for q in 1..=4u16 {
        let buf = d.alloc(4096);
        let pattern: Vec<u8> = (0..4096).map(|i| (i as u8).wrapping_mul(q as u8)).collect();
        d.write_mem(buf, &pattern);
        let s = rw(&mut d, 0x01, u64::from(q) * 8, 8, buf);
        assert!(d.io(q, s).ok());
        let rb = d.alloc(4096);
        let s = rw(&mut d, 0x02, u64::from(q) * 8, 8, rb);
        let c = d.io(q, s);
        assert!(c.ok());
        assert_eq!(c.sqid, q);
        assert_eq!(d.read_mem(rb, 4096), pattern);
    }
    let k = d.ctrl.counters().clone();
    assert_eq!(k.host_write_commands, 4);
    assert_eq!(k.host_read_commands, 4);
    assert_eq!(k.bytes_written, 4 * 4096);

    // SMART log reflects the I/O.
    let (c, smart) = d.admin_read(
        sqe_of(0x02, 0xffff_ffff, &[(10, (127 << 16) | 0x02)], 0),
        512,
    );
    assert!(c.ok());
    assert_eq!(smart[32], 1); // data units read (rounded up)
    assert_eq!(smart[64], 4); // host read commands
    assert_eq!(smart[112], 1); // power cycles

    // Shutdown completes; the AER was never completed.
    assert!(d.shutdown());
    assert!(d.reap(0).iter().all(|c| c.cid != aer_cid));
    d.disable();
    assert_eq!(d.csts(), 0);

    // Power cycle after a clean shutdown: not unsafe.
    {
        let mut h = d.env.host();
        d.ctrl.reset(&mut h);
    }
    assert_eq!(d.ctrl.counters().unsafe_shutdowns, 0);
    assert_eq!(d.ctrl.counters().power_cycles, 2);
    // Enable again and power cycle without shutdown: unsafe.
    assert!(d.enable());
    {
        let mut h = d.env.host();
        d.ctrl.reset(&mut h);
    }
    assert_eq!(d.ctrl.counters().unsafe_shutdowns, 1);
}

#[test]
fn out_of_order_completions() {
    let mut d = Driver::new(Driver::small_config());
    d.bring_up(1);
    d.auto_complete = false;
    let mut cids = Vec::new();
    for i in 0..16u64 {
        let buf = d.alloc(512);
        d.write_mem(buf, &[i as u8; 512]);
        let s = rw(&mut d, 0x01, i, 1, buf);
        cids.push(d.submit(1, s));
    }
    assert_eq!(d.env.storage.pending.len(), 16);
    // Complete odd tokens first, then even, then stale and unknown tokens.
    let mut reqs = std::mem::take(&mut d.env.storage.pending);
    reqs.sort_by_key(|r| (r.token % 2 == 0, std::cmp::Reverse(r.token)));
    for r in &reqs {
        let res = d.env.storage.perform(r, &mut d.env.mem);
        d.complete_token_data(r.token, res.0, &res.1);
        // A duplicate completion is ignored.
        d.complete_token(r.token, IoResult::Ok);
    }
    d.complete_token(0xdead_beef, IoResult::Ok);
    let got = d.reap(1);
    assert_eq!(got.len(), 16);
    let mut seen: Vec<u16> = got.iter().map(|c| c.cid).collect();
    seen.sort();
    cids.sort();
    assert_eq!(seen, cids);
    assert!(got.iter().all(ocp_nvme_engine::testing::RawCqe::ok));
    for i in 0..16usize {
        assert_eq!(d.env.storage.disk[i * 512], i as u8);
    }
}

#[test]
fn reset_with_io_in_flight_ignores_stale_tokens() {
    let mut d = Driver::new(Driver::small_config());
    d.bring_up(1);
    d.auto_complete = false;
    let buf = d.alloc(4096);
    let s = rw(&mut d, 0x02, 0, 8, buf);
    d.submit(1, s);
    let stale = d.env.storage.pending.clone();
    d.disable();
    assert!(d.env.storage.drains >= 1);
    for r in stale {
        d.complete_token(r.token, IoResult::Ok);
    }
    d.env.storage.pending.clear();
    d.auto_complete = true;
    d.bring_up(1);
    let s = rw(&mut d, 0x02, 0, 8, buf);
    assert!(d.io(1, s).ok());
}

#[test]
fn intx_mode_levels_and_masking() {
    let mut d = Driver::new(Driver::small_config());
    d.env.irq.msix = false;
    assert!(d.enable());
    d.auto_complete = true;
    let cid = d.submit(0, sqe_of(0x18, 0, &[], 0)); // keep alive
    assert!(d.env.irq.intx);
    // Masking vector 0 drops the line, unmasking raises it again.
    d.w32(off::INTMS, 1);
    assert!(!d.env.irq.intx);
    assert_eq!(d.r32(off::INTMS), 1);
    d.w32(off::INTMC, 1);
    assert!(d.env.irq.intx);
    let c = d.wait(0, cid).unwrap();
    assert!(c.ok());
    assert!(!d.env.irq.intx, "consumed entries deassert INTx");
}

#[test]
fn msix_vector_mapping() {
    let mut d = Driver::new(Driver::small_config());
    d.bring_up(4);
    d.env.irq.notified.clear();
    for q in 1..=4u16 {
        let buf = d.alloc(512);
        let s = rw(&mut d, 0x02, 0, 1, buf);
        assert!(d.io(q, s).ok());
    }
    assert_eq!(d.env.irq.notified, vec![1, 2, 3, 4]);
}

#[test]
fn abrupt_shutdown_and_fatal_paths() {
    let mut d = Driver::new(Driver::small_config());
    d.bring_up(1);
    let cc = d.r32(off::CC);
    d.w32(off::CC, cc | 2 << 14);
    assert_eq!((d.csts() >> 2) & 3, 2);
    assert_eq!(d.ctrl.counters().abrupt_shutdowns, 1);
    // Doorbells are ignored after shutdown.
    d.w32(off::DOORBELLS, 1);
    assert!(d.reap(0).is_empty());
    d.disable();
    assert_eq!(d.csts(), 0);
    let _ = Status::SUCCESS;
}

#[test]
fn deferred_processing() {
    let mut cfg = Driver::small_config();
    cfg.defer_processing = true;
    let mut d = Driver::new(cfg);
    assert!(d.enable());
    d.auto_complete = false;
    let cid = d.submit(0, sqe_of(0x18, 0, &[], 0));
    assert!(d.reap(0).is_empty());
    assert!(d.ctrl.work_pending());
    {
        let mut h = d.env.host();
        d.ctrl.process_pending(&mut h);
    }
    assert!(!d.ctrl.work_pending());
    let c = d.reap(0);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].cid, cid);
}

#[test]
fn state_is_plain_data_that_clones() {
    let mut d = Driver::new(Driver::small_config());
    d.bring_up(2);
    d.auto_complete = false;
    let buf = d.alloc(4096);
    let s = rw(&mut d, 0x02, 0, 8, buf);
    d.submit(1, s);
    // A snapshot taken with I/O in flight equals the original and can carry on.
    let snapshot = d.ctrl.clone();
    assert_eq!(snapshot, d.ctrl);
    // Replace the controller by its copy: the copy completes the command.
    d.ctrl = snapshot.clone();
    assert_eq!(d.complete_storage(), 1);
    assert_ne!(snapshot, d.ctrl);
    let c = d.reap(1);
    assert_eq!(c.len(), 1);
    assert!(c[0].ok());
}

/// The admin commands Linux 6.x issues while probing (`nvme_init_ctrl_finish`,
/// `nvme_setup_io_queues`, `nvme_scan_work`): all succeed, none logs an error.
#[test]
fn linux_probe_sequence_is_error_free() {
    let mut d = Driver::new(Driver::small_config());
    assert!(d.enable());
    let (c, id) = d.admin_read(sqe_of(0x06, 0, &[(10, 1)], 0), 4096);
    assert!(c.ok());
    let oacs = u16::from_le_bytes([id[256], id[257]]);
    let oncs = u16::from_le_bytes([id[520], id[521]]);
    // Commands Supported and Effects (LPA bit 1), CSI 0.
    assert_ne!(id[261] & 2, 0);
    let (c, _) = d.admin_read(
        sqe_of(0x02, 0xffff_ffff, &[(10, 1023 << 16 | 0x05)], 0),
        4096,
    );
    assert!(c.ok());
    // Timestamp (ONCS bit 6).
    assert_ne!(oncs & 1 << 6, 0);
    let ts = 1_700_000_000_000u64.to_le_bytes();
    assert!(d.admin_write(sqe_of(0x09, 0, &[(10, 0x0e)], 0), &ts).ok());
    // Non-MDTS limits: Identify CNS 06h, CSI NVM.
    let (c, _) = d.admin_read(sqe_of(0x06, 0, &[(10, 6)], 0), 4096);
    assert!(c.ok());
    // Doorbell buffer (OACS bit 8) before the I/O queues.
    assert_ne!(oacs & 1 << 8, 0);
    let dbs = d.alloc(4096);
    let eis = d.alloc(4096);
    let mut s = sqe_of(0x7c, 0, &[], dbs);
    s.dw[8] = eis as u32;
    assert!(d.admin(s).ok());
    let c = d.admin(sqe_of(0x09, 0, &[(10, 7), (11, 0x0003_0003)], 0));
    assert!(c.ok());
    for q in 1..=4 {
        assert!(d.create_cq(q, 64, q).ok());
        assert!(d.create_sq(q, 64, q).ok());
    }
    // Async events: namespace attribute and firmware activation notices.
    assert!(d.admin(sqe_of(0x09, 0, &[(10, 0x0b), (11, 0x300)], 0)).ok());
    let _aer = d.submit(0, sqe_of(0x0c, 0, &[], 0));
    // Namespace scan.
    let (c, list) = d.admin_read(sqe_of(0x06, 0, &[(10, 2)], 0), 4096);
    assert!(c.ok());
    assert_eq!(list[0], 1);
    let (c, _) = d.admin_read(sqe_of(0x06, 1, &[(10, 3)], 0), 4096);
    assert!(c.ok());
    let (c, ns) = d.admin_read(sqe_of(0x06, 1, &[(10, 0)], 0), 4096);
    assert!(c.ok());
    assert_eq!(u64::from_le_bytes(ns[0..8].try_into().unwrap()), 8192);
    let (c, _) = d.admin_read(sqe_of(0x06, 1, &[(10, 8)], 0), 4096);
    assert!(c.ok());
    // I/O with shadow doorbells the way Linux updates them.
    let buf = d.alloc(4096);
    d.write_mem(buf, &[7u8; 4096]);
    let s = rw(&mut d, 0x01, 0, 8, buf);
    d.write_mem(dbs + 8, &1u32.to_le_bytes());
    assert!(d.io(1, s).ok());
    assert_eq!(d.ctrl.counters().error_log_entries, 0);
    let (_, smart) = d.admin_read(sqe_of(0x02, 0xffff_ffff, &[(10, 127 << 16 | 0x02)], 0), 512);
    assert_eq!(smart[176], 0);
}
