// SPDX-License-Identifier: GPL-2.0-or-later
//! Sanitize (NVMe 2.0 Base, 5.24, 8.21; Sanitize Status log 81h) and the
//! OCP requirements NVMe-AD-5, -7, -8, -17, -18, -22 and -29: every action,
//! the background operation, the restrictions while it runs and after it
//! failed, and its resumption after a reset and a power cycle.
#![allow(clippy::shadow_unrelated)] // test scripts reuse names

use ocp_nvme_engine::spec::status::Status;
use ocp_nvme_engine::testing::{set_prps, sqe_of, Driver, RawCqe};
use ocp_nvme_engine::traits::{IoError, IoKind, IoResult};
use ocp_nvme_engine::Controller;

const MIB: usize = 1 << 20;

fn up() -> Driver {
    let mut d = Driver::new(Driver::small_config());
    d.bring_up(1);
    d
}

fn u16_at(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes([b[o], b[o + 1]])
}
fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes(b[o..o + 4].try_into().unwrap())
}

/// Sanitize with CDW10 and the overwrite pattern.
fn sanitize(d: &mut Driver, cdw10: u32, pattern: u32) -> RawCqe {
    d.admin(sqe_of(0x84, 0, &[(10, cdw10), (11, pattern)], 0))
}

/// (SPROG, SSTAT, SCDW10) and the whole page.
fn sanitize_log(d: &mut Driver) -> (u16, u16, u32, Vec<u8>) {
    let (c, p) = d.admin_read(sqe_of(0x02, 0, &[(10, (128 - 1) << 16 | 0x81)], 0), 512);
    assert!(c.ok(), "sanitize log");
    (u16_at(&p, 0), u16_at(&p, 2), u32_at(&p, 4), p)
}

fn write(d: &mut Driver, slba: u64, data: &[u8]) -> RawCqe {
    let buf = d.alloc(data.len() as u64);
    d.write_mem(buf, data);
    let nlb = (data.len() / 512) as u32 - 1;
    let mut s = sqe_of(
        0x01,
        1,
        &[(10, slba as u32), (11, (slba >> 32) as u32), (12, nlb)],
        0,
    );
    set_prps(d, &mut s, buf, data.len() as u64);
    d.io(1, s)
}

fn read(d: &mut Driver, slba: u64, len: usize) -> (RawCqe, Vec<u8>) {
    let buf = d.alloc(len as u64);
    let nlb = (len / 512) as u32 - 1;
    let mut s = sqe_of(0x02, 1, &[(10, slba as u32), (12, nlb)], 0);
    set_prps(d, &mut s, buf, len as u64);
    let c = d.io(1, s);
    (c, d.read_mem(buf, len))
}

/// Leave storage requests pending until [`complete_one`] (or not).
fn hold(d: &mut Driver, on: bool) {
    d.auto_complete = !on;
    d.hold_storage = on;
}

/// Complete the oldest pending storage request.
fn complete_one(d: &mut Driver) -> bool {
    if d.env.storage.pending.is_empty() {
        return false;
    }
    let r = d.env.storage.pending.remove(0);
    let (res, data) = d.env.storage.perform(&r, &mut d.env.mem);
    d.complete_token_data(r.token, res, &data);
    true
}

const SSTAT_GDE: u16 = 1 << 8;

#[test]
fn identify_reports_sanicap_and_fna() {
    let mut d = up();
    let (c, id) = d.admin_read(sqe_of(0x06, 0, &[(10, 1)], 0), 4096);
    assert!(c.ok());
    let sanicap = u32_at(&id, 328);
    // Crypto Erase, Block Erase, Overwrite (NVMe-AD-7).
    assert_eq!(sanicap & 0x7, 0x7);
    // NDI cleared (NVMe-AD-18), NODMMAS 01b (NVMe-AD-17).
    assert_eq!(sanicap >> 29 & 1, 0);
    assert_eq!(sanicap >> 30, 0b01);
    // FNA: per namespace (NVMe-AD-23), crypto erase supported (NVMe-AD-5).
    assert_eq!(id[524], 0x04);
}

#[test]
fn factory_state_never_sanitized_global_data_erased() {
    // NVMe-AD-22.
    let mut d = up();
    let (sprog, sstat, scdw10, p) = sanitize_log(&mut d);
    assert_eq!(sprog, 0xffff);
    assert_eq!(sstat, SSTAT_GDE);
    assert_eq!(scdw10, 0);
    // Estimated times: reported for the three actions, not for the
    // No-Deallocate media modification (NODMMAS is not 10b).
    for o in [8, 12, 16] {
        assert!(
            u32_at(&p, o) != 0 && u32_at(&p, o) != u32::MAX,
            "offset {o}"
        );
    }
    for o in [20, 24, 28, 32] {
        assert_eq!(u32_at(&p, o), u32::MAX, "offset {o}");
    }
    // Writing data clears Global Data Erased.
    assert!(write(&mut d, 0, &[0xab; 512]).ok());
    assert_eq!(sanitize_log(&mut d).1, 0);
}

#[test]
fn block_and_crypto_erase_deallocate_and_read_zeroes() {
    // NVMe-AD-8, NVMe-AD-29: with and without No-Deallocate.
    for (sanact, ndas) in [
        (0b010u32, false),
        (0b100, false),
        (0b010, true),
        (0b100, true),
    ] {
        let mut d = up();
        assert!(write(&mut d, 0, &[0x5a; 4096]).ok());
        assert!(write(&mut d, 8000, &[0x77; 4096]).ok());
        let aer = d.submit(0, sqe_of(0x0c, 0, &[], 0));
        let cdw10 = sanact | u32::from(ndas) << 9;
        d.env.storage.log.clear();
        assert!(sanitize(&mut d, cdw10, 0).ok());
        assert!(d
            .env
            .storage
            .log
            .iter()
            .all(|&(k, _, _)| k == IoKind::WriteZeroes { may_unmap: !ndas }));
        let covered: u64 = d.env.storage.log.iter().map(|&(_, _, l)| l).sum();
        assert_eq!(covered, 4 << 20, "the whole drive");
        // Sanitize Operation Completed: type 6, info 01h, log 81h.
        let e = d.wait(0, aer).expect("sanitize event");
        assert_eq!(e.dw0, 0x0081_0106);
        let (sprog, sstat, scdw10, _) = sanitize_log(&mut d);
        assert_eq!((sprog, sstat, scdw10), (0xffff, 1 | SSTAT_GDE, cdw10));
        let (c, data) = read(&mut d, 0, 4096);
        assert!(c.ok());
        assert!(data.iter().all(|&b| b == 0));
        let (_, data) = read(&mut d, 8000, 4096);
        assert!(data.iter().all(|&b| b == 0));
    }
}

#[test]
fn overwrite_passes_pattern_and_inversion() {
    let pattern = 0x1122_3344u32;
    // Two passes, inverted between passes, No-Deallocate: the last pass's
    // pattern stays (NVMe-AD-8, second paragraph).
    let mut d = up();
    let cdw10 = 0b011 | 2 << 4 | 1 << 8 | 1 << 9;
    assert!(sanitize(&mut d, cdw10, pattern).ok());
    let (_, sstat, _, _) = sanitize_log(&mut d);
    assert_eq!(sstat, 1 | 2 << 3 | SSTAT_GDE, "two passes done");
    let (c, data) = read(&mut d, 100, 512);
    assert!(c.ok());
    let inv = (!pattern).to_le_bytes();
    assert!(data.chunks(4).all(|w| w == inv), "{:02x?}", &data[..8]);
    let kinds: Vec<IoKind> = d.env.storage.log.iter().map(|&(k, _, _)| k).collect();
    assert!(kinds.contains(&IoKind::WritePattern { pattern }));
    assert!(kinds.contains(&IoKind::WritePattern { pattern: !pattern }));

    // Without No-Deallocate, the passes are followed by a deallocation
    // (NVMe-AD-29): reads return zeroes. OWPASS 0 means 16 passes.
    let mut d = up();
    d.env.storage.log.clear();
    assert!(sanitize(&mut d, 0b011, pattern).ok());
    let (_, sstat, _, _) = sanitize_log(&mut d);
    assert_eq!(sstat, 1 | 16 << 3 | SSTAT_GDE);
    let writes = d
        .env
        .storage
        .log
        .iter()
        .filter(|&&(k, _, _)| matches!(k, IoKind::WritePattern { .. }))
        .count();
    assert_eq!(writes, 16 * 4, "16 passes of four 1 MiB pieces");
    assert_eq!(
        d.env.storage.log.last().unwrap().0,
        IoKind::WriteZeroes { may_unmap: true }
    );
    let (_, data) = read(&mut d, 0, 512);
    assert!(data.iter().all(|&b| b == 0));
}

#[test]
fn invalid_sanitize_commands() {
    let mut d = up();
    // Reserved actions, media verification (not supported).
    for cdw10 in [0u32, 0b101, 0b110, 0b111, 0b010 | 1 << 10] {
        assert!(
            sanitize(&mut d, cdw10, 0).is(Status::INVALID_FIELD),
            "{cdw10:#x}"
        );
    }
    // NVMe-AD-11: the NSID is not used.
    let c = d.admin(sqe_of(0x84, 1, &[(10, 0b010)], 0));
    assert!(c.is(Status::INVALID_FIELD));
    // Exit Failure Mode with no failure: success, nothing happens.
    assert!(sanitize(&mut d, 0b001, 0).ok());
    assert_eq!(sanitize_log(&mut d).1, SSTAT_GDE);
}

#[test]
fn commands_restricted_while_sanitize_runs() {
    let mut d = up();
    hold(&mut d, true);
    assert!(sanitize(&mut d, 0b011 | 1 << 4, 0xdead_beef).ok());
    assert_eq!(d.env.storage.pending.len(), 4, "a window of chunks");
    let (sprog, sstat, _, p) = sanitize_log(&mut d);
    assert_eq!(sstat & 7, 2, "in progress");
    assert_eq!(sprog, 0);
    assert_eq!(p[36], 1, "SSI: restricted processing");
    assert!(complete_one(&mut d));
    assert!(complete_one(&mut d));
    let (sprog, _, _, _) = sanitize_log(&mut d);
    assert_eq!(
        sprog, 0x4000,
        "two of four pieces of the pass, then the deallocation"
    );
    // I/O other than Flush.
    let c = d.io(1, sqe_of(0x02, 1, &[], 0));
    assert!(c.is(Status::SANITIZE_IN_PROGRESS));
    assert!(!c.dnr());
    let c = d.io(1, sqe_of(0x08, 1, &[], 0));
    assert!(c.is(Status::SANITIZE_IN_PROGRESS));
    // Flush is allowed: it waits for its storage request.
    let flush = d.submit(1, sqe_of(0x00, 1, &[], 0));
    // Admin commands the operation does not allow.
    for s in [
        sqe_of(0x80, 1, &[], 0),
        sqe_of(0x10, 0, &[(10, 1 << 3 | 1)], 0),
        sqe_of(0x11, 0, &[], 0),
        sqe_of(0x14, 1, &[(10, 1)], 0),
        sqe_of(0x84, 0, &[(10, 0b010)], 0),
        sqe_of(0x02, 0, &[(10, 0x05)], 0),
        // Namespace Management (delete) and Attachment (detach).
        sqe_of(0x0d, 1, &[(10, 1)], 0),
        sqe_of(0x15, 1, &[(10, 1)], 0),
    ] {
        let c = d.admin(s);
        assert!(
            c.is(Status::SANITIZE_IN_PROGRESS),
            "opcode {:#x}",
            s.dw[0] & 0xff
        );
    }
    // ... and those it allows.
    let (c, _) = d.admin_read(sqe_of(0x06, 0, &[(10, 1)], 0), 4096);
    assert!(c.ok());
    let (c, _) = d.admin_read(sqe_of(0x02, 0, &[(10, 127 << 16 | 0x02)], 0), 512);
    assert!(c.ok());
    let (c, _) = d.admin_read(sqe_of(0x02, 0, &[(10, 127 << 16 | 0x03)], 0), 512);
    assert!(c.ok(), "Firmware Slot (OCP STD-LOG-26)");
    assert!(d.admin(sqe_of(0x0a, 0, &[(10, 0x07)], 0)).ok());
    // The rest completes.
    while complete_one(&mut d) {}
    assert!(d.wait(1, flush).expect("flush completion").ok());
    hold(&mut d, false);
    let (sprog, sstat, _, p) = sanitize_log(&mut d);
    assert_eq!((sprog, sstat), (0xffff, 1 | 1 << 3 | SSTAT_GDE));
    assert_eq!(p[36], 0, "SSI: idle");
    let (c, data) = read(&mut d, 0, 512);
    assert!(c.ok());
    assert!(data.iter().all(|&b| b == 0), "deallocated after the pass");
}

#[test]
fn failed_sanitize_restricted_and_unrestricted() {
    for ause in [false, true] {
        let mut d = up();
        hold(&mut d, true);
        let cdw10 = 0b010 | u32::from(ause) << 3;
        assert!(sanitize(&mut d, cdw10, 0).ok());
        d.env.storage.fail_next = Some(IoError::MediaError);
        while complete_one(&mut d) {}
        hold(&mut d, false);
        let (sprog, sstat, _, p) = sanitize_log(&mut d);
        assert_eq!((sprog, sstat & 7), (0xffff, 3), "failed");
        assert_eq!(sstat & SSTAT_GDE, 0);
        assert_eq!(p[36], if ause { 0x34 } else { 0x12 }, "SSI");
        // Failure mode: restricted commands get Sanitize Failed.
        let c = d.io(1, sqe_of(0x02, 1, &[], 0));
        assert!(c.is(Status::SANITIZE_FAILED));
        assert!(d.admin(sqe_of(0x80, 1, &[], 0)).is(Status::SANITIZE_FAILED));
        if ause {
            // Unrestricted: Exit Failure Mode leaves it.
            assert!(sanitize(&mut d, 0b001, 0).ok());
            let (c, _) = read(&mut d, 0, 512);
            assert!(c.ok());
            assert_eq!(sanitize_log(&mut d).1 & 7, 3, "the status stays");
        } else {
            // Restricted: only a new operation in restricted mode leaves it.
            assert!(sanitize(&mut d, 0b001, 0).is(Status::SANITIZE_FAILED));
            assert!(sanitize(&mut d, 0b010 | 1 << 3, 0).is(Status::SANITIZE_FAILED));
            assert!(d.io(1, sqe_of(0x02, 1, &[], 0)).is(Status::SANITIZE_FAILED));
            assert!(sanitize(&mut d, 0b100, 0).ok());
            assert_eq!(sanitize_log(&mut d).1, 1 | SSTAT_GDE);
            let (c, _) = read(&mut d, 0, 512);
            assert!(c.ok());
        }
    }
}

#[test]
fn sanitize_continues_after_controller_reset() {
    let mut d = up();
    hold(&mut d, true);
    assert!(sanitize(&mut d, 0b011 | 1 << 4 | 1 << 9, 0x0102_0304).ok());
    assert!(complete_one(&mut d));
    // CC.EN 1 -> 0 drops the requests in flight; the operation issues them
    // again and goes on while the controller is disabled.
    d.disable();
    while complete_one(&mut d) {}
    assert!(d.enable());
    let (_, sstat, _, _) = sanitize_log(&mut d);
    assert_eq!(sstat, 1 | 1 << 3 | SSTAT_GDE);
    assert!(d.env.storage.disk[..4 * MIB]
        .chunks(4)
        .all(|w| w == 0x0102_0304u32.to_le_bytes()));
}

#[test]
fn sanitize_resumes_after_power_cycle() {
    let cfg = Driver::small_config();
    let mut d = up();
    hold(&mut d, true);
    // Two overwrite passes with No-Deallocate: eight 1 MiB pieces.
    assert!(sanitize(&mut d, 0b011 | 2 << 4 | 1 << 9, 0xa5a5_5a5a).ok());
    for _ in 0..5 {
        assert!(complete_one(&mut d));
    }
    let (sprog_before, _, _, _) = sanitize_log(&mut d);
    assert!(sprog_before > 0x4000);
    // Power is lost with requests in flight: the record keeps the progress.
    let rec = d.ctrl.save_persistent(1_000);
    let disk = std::mem::take(&mut d.env.storage.disk);
    let mut d2 = Driver::new(cfg.clone());
    d2.env.storage.disk = disk;
    hold(&mut d2, true);
    d2.ctrl = Controller::load_persistent(cfg, &rec, 0).unwrap();
    assert!(d2.env.storage.pending.is_empty());
    let mut h = d2.env.host();
    d2.ctrl.reset(&mut h);
    // Resumed where the completed pieces end, not from the start.
    assert!(!d2.env.storage.pending.is_empty());
    assert!(d2
        .env
        .storage
        .pending
        .iter()
        .all(|r| r.offset >= MIB as u64));
    while complete_one(&mut d2) {}
    hold(&mut d2, false);
    d2.bring_up(1);
    let (sprog, sstat, _, _) = sanitize_log(&mut d2);
    assert_eq!((sprog, sstat), (0xffff, 1 | 2 << 3 | SSTAT_GDE));
    let (c, data) = read(&mut d2, 0, 4096);
    assert!(c.ok());
    let inv = 0xa5a5_5a5au32.to_le_bytes();
    assert!(data.chunks(4).all(|w| w == inv));
}

#[test]
fn sanitize_state_migrates_mid_operation() {
    let cfg = Driver::small_config();
    let mut d = up();
    hold(&mut d, true);
    assert!(sanitize(&mut d, 0b011 | 1 << 4 | 1 << 9, 0x0f0f_0f0f).ok());
    assert!(complete_one(&mut d));
    // Migration: a destination loads the state with the requests parked
    // by the quiesce before the save.
    d.ctrl.quiesce();
    let pending = std::mem::take(&mut d.env.storage.pending);
    for r in &pending {
        let (res, data) = d.env.storage.perform(r, &mut d.env.mem);
        d.complete_token_data(r.token, res, &data);
    }
    let blob = d.ctrl.save_state();
    let loaded = Controller::load_state(cfg, &blob).unwrap();
    assert!(
        loaded == d.ctrl,
        "the loaded controller equals the saved one"
    );
    d.ctrl = loaded;
    let mut h = d.env.host();
    d.ctrl.resume(&mut h);
    while complete_one(&mut d) {}
    hold(&mut d, false);
    let (_, sstat, _, _) = sanitize_log(&mut d);
    assert_eq!(sstat, 1 | 1 << 3 | SSTAT_GDE);
}

#[test]
fn format_nvm_secure_erase_settings() {
    // NVMe-AD-5: SES 000b, 001b and 010b; NVMe-AD-8: reads return zeroes.
    for ses in [0u32, 1, 2] {
        let mut d = up();
        assert!(write(&mut d, 0, &[0x33; 512]).ok());
        let c = d.admin(sqe_of(0x80, 1, &[(10, ses << 9)], 0));
        assert!(c.ok(), "SES {ses}");
        let (_, data) = read(&mut d, 0, 512);
        assert!(data.iter().all(|&b| b == 0));
    }
    let mut d = up();
    let c = d.admin(sqe_of(0x80, 1, &[(10, 3 << 9)], 0));
    assert!(c.is(Status::INVALID_FIELD));
}

#[test]
fn self_test_aborted_by_sanitize() {
    let mut d = up();
    assert!(d.admin(sqe_of(0x14, 0xffff_ffff, &[(10, 2)], 0)).ok());
    assert!(sanitize(&mut d, 0b100, 0).ok());
    let (c, p) = d.admin_read(sqe_of(0x02, 0, &[(10, (564 / 4 - 1) << 16 | 0x06)], 0), 564);
    assert!(c.ok());
    // Newest result: aborted due to a sanitize operation (9h).
    assert_eq!(p[4] & 0xf, 0x9);
}

#[test]
fn completion_of_a_stale_chunk_is_ignored() {
    let mut d = up();
    hold(&mut d, true);
    assert!(sanitize(&mut d, 0b010, 0).ok());
    let tok = d.env.storage.pending[0].token;
    d.disable();
    // The request of before the reset completes late: ignored.
    d.complete_token(tok, IoResult::Ok);
    while complete_one(&mut d) {}
    assert!(d.enable());
    let (_, sstat, _, _) = sanitize_log(&mut d);
    assert_eq!(sstat, 1 | SSTAT_GDE);
}
