// SPDX-License-Identifier: GPL-2.0-or-later
//! OCP log pages and features through admin commands, as nvme-cli's OCP
//! plugin sends them: the wiring between the engine and `ocp`.
#![allow(clippy::shadow_unrelated, clippy::cognitive_complexity)] // long test scripts reuse names

use ocp_nvme_engine::ocp::{self, DeviceStats, OCP_UUID, OCP_UUID_INDEX};
use ocp_nvme_engine::spec::cmd::Sqe;
use ocp_nvme_engine::spec::status::Status;
use ocp_nvme_engine::testing::{set_prps, sqe_of, Driver};
use ocp_nvme_engine::IoKind;

const ALL: u32 = 0xffff_ffff;
const MS: u64 = 1_000_000;

fn up() -> Driver {
    let mut d = Driver::new(Driver::small_config());
    d.bring_up(1);
    d
}

/// An OCP 2.6 drive: several error injection entries at once, saveable
/// FID C9h (OCP 2.7's rules are in `tests/ocp_versions.rs`).
fn up_26() -> Driver {
    let mut cfg = Driver::small_config();
    cfg.ocp_version = ocp::OcpVersion::V2_6;
    let mut d = Driver::new(cfg);
    d.bring_up(1);
    d
}

fn u16_at(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes(b[o..o + 2].try_into().unwrap())
}
fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes(b[o..o + 4].try_into().unwrap())
}
fn u64_at(b: &[u8], o: usize) -> u64 {
    u64::from_le_bytes(b[o..o + 8].try_into().unwrap())
}
fn u128_at(b: &[u8], o: usize) -> u128 {
    u128::from_le_bytes(b[o..o + 16].try_into().unwrap())
}

/// Get Log Page: lid, bytes, LSP, RAE, LPO, UUID index, NSID.
fn glp(lid: u8, len: usize, lsp: u32, rae: bool, lpo: u64, uuid: u32, nsid: u32) -> Sqe {
    let numd = (len / 4) as u32 - 1;
    sqe_of(
        0x02,
        nsid,
        &[
            (
                10,
                (numd & 0xffff) << 16 | u32::from(rae) << 15 | lsp << 8 | u32::from(lid),
            ),
            (11, numd >> 16),
            (12, lpo as u32),
            (13, (lpo >> 32) as u32),
            (14, uuid),
        ],
        0,
    )
}

fn log(d: &mut Driver, lid: u8, len: usize, uuid: u32) -> Vec<u8> {
    let (c, b) = d.admin_read(glp(lid, len, 0, false, 0, uuid, ALL), len);
    assert!(c.ok(), "lid {lid:#x}: {c:?}");
    b
}

/// nvme-cli's way: 4096-byte chunks, LPO advanced, RAE on all but the last.
fn log_chunked(d: &mut Driver, lid: u8, lsp: u32, len: usize, uuid: u32) -> Vec<u8> {
    let mut out = Vec::new();
    while out.len() < len {
        let n = (len - out.len()).min(4096);
        let last = out.len() + n == len;
        let s = glp(lid, n, lsp, !last, out.len() as u64, uuid, ALL);
        let (c, b) = d.admin_read(s, n);
        assert!(c.ok(), "lid {lid:#x} lpo {}: {c:?}", out.len());
        out.extend_from_slice(&b);
    }
    out
}

fn sf(fid: u8, sv: bool, cdw11: u32, uuid: u32) -> Sqe {
    sqe_of(
        0x09,
        0,
        &[
            (10, u32::from(sv) << 31 | u32::from(fid)),
            (11, cdw11),
            (14, uuid),
        ],
        0,
    )
}

fn gf(fid: u8, sel: u32, uuid: u32) -> Sqe {
    sqe_of(0x0a, 0, &[(10, sel << 8 | u32::from(fid)), (14, uuid)], 0)
}

fn rw(d: &mut Driver, op: u8, slba: u64, nlb: u32) -> Sqe {
    let buf = d.alloc(u64::from(nlb) * 512);
    let mut s = sqe_of(
        op,
        1,
        &[(10, slba as u32), (11, (slba >> 32) as u32), (12, nlb - 1)],
        0,
    );
    set_prps(d, &mut s, buf, u64::from(nlb) * 512);
    s
}

/// One 32-byte error injection entry (nvme-cli `struct erri_entry`).
fn erri(flags: u8, kind: u16, specific: u32) -> [u8; 32] {
    let mut e = [0u8; 32];
    e[0] = flags;
    e[2..4].copy_from_slice(&kind.to_le_bytes());
    e[4..8].copy_from_slice(&specific.to_le_bytes());
    e
}

fn inject(d: &mut Driver, entries: &[[u8; 32]]) {
    let data: Vec<u8> = entries.iter().flatten().copied().collect();
    let c = d.admin_write(
        sf(0xc0, false, entries.len() as u32, u32::from(OCP_UUID_INDEX)),
        &data,
    );
    assert!(c.ok(), "{c:?}");
}

/// Length of each page as the OCP module builds it.
fn page_len(d: &Driver, lid: u8) -> usize {
    let mut s = d.ctrl.ocp().clone();
    s.log_page(lid, &DeviceStats::default(), 0).unwrap().len()
}

#[test]
fn every_log_page_with_both_uuid_indexes_and_in_chunks() {
    let mut d = up();
    // Identify UUID List: the OCP UUID is entry 1.
    let (c, u) = d.admin_read(sqe_of(0x06, 0, &[(10, 0x17)], 0), 4096);
    assert!(c.ok());
    assert_eq!(&u[32 + 16..32 + 32], &OCP_UUID);
    let guids: [(u8, Option<[u8; 16]>); 9] = [
        (0xc0, Some(ocp::smart_ext::GUID)),
        (0xc1, Some(ocp::error_recovery::GUID)),
        (0xc2, Some(ocp::fw_history::GUID)),
        (0xc3, Some(ocp::latency::GUID)),
        (0xc4, Some(ocp::capabilities::GUID)),
        (0xc5, Some(ocp::unsupported::GUID)),
        (0xc6, None),
        (0xc7, Some(ocp::tcg::GUID)),
        (0xc9, None),
    ];
    for (lid, guid) in guids {
        let len = page_len(&d, lid);
        assert!(len % 4 == 0 && len >= 64, "lid {lid:#x}");
        let whole = log(&mut d, lid, len, 0);
        let with_uuid = log(&mut d, lid, len, u32::from(OCP_UUID_INDEX));
        assert_eq!(whole, with_uuid, "lid {lid:#x}");
        let chunked = log_chunked(&mut d, lid, 0, len, u32::from(OCP_UUID_INDEX));
        assert_eq!(whole, chunked, "lid {lid:#x}");
        if let Some(g) = guid {
            // nvme-cli compares the last 16 bytes of the 512/4096-byte page;
            // C3h keeps its GUID at 496 when OCP 2.7 makes it 4096 bytes
            // (LMDATA-36, LMDATA-38).
            let end = if lid == 0xc3 { 512 } else { len };
            assert_eq!(&whole[end - 16..end], &g, "lid {lid:#x}");
        }
    }
    // C6h: header, then read again at LPO 64 (nvme-cli's hardware-component-log).
    let hdr = log(&mut d, 0xc6, 64, 1);
    let (c, rest) = d.admin_read(glp(0xc6, 64, 0, false, 64, 1, ALL), 64);
    assert!(c.ok());
    let whole = log(&mut d, 0xc6, 128, 0);
    assert_eq!(&whole[..64], &hdr[..]);
    assert_eq!(&whole[64..], &rest[..]);
    // C9h telemetry string log GUID at 16.
    let s = log(&mut d, 0xc9, 512, 1);
    assert_eq!(&s[16..32], &ocp::telemetry::STRING_GUID);
    // A 512-byte page read past its end: offset beyond the page is invalid.
    let (c, _) = d.admin_read(glp(0xc0, 512, 0, false, 512, 1, ALL), 512);
    assert!(c.is(Status::INVALID_FIELD));
}

#[test]
fn c0_and_smart_follow_io() {
    let mut d = up();
    let before = log(&mut d, 0xc0, 512, 1);
    assert_eq!(u128_at(&before, 0), 0);
    for _ in 0..4 {
        let s = rw(&mut d, 0x01, 0, 8);
        assert!(d.io(1, s).ok());
    }
    let s = rw(&mut d, 0x02, 0, 16);
    assert!(d.io(1, s).ok());
    let c0 = log(&mut d, 0xc0, 512, 1);
    // Physical media units written: host bytes × 150 % write amplification.
    assert_eq!(u128_at(&c0, 0), 4 * 4096 * 3 / 2);
    assert_eq!(u128_at(&c0, 16), 16 * 512);
    let smart = log(&mut d, 0x02, 512, 0);
    assert_eq!(u128_at(&smart, 32), 1); // data units read (1000 × 512 B, rounded up)
    assert_eq!(u128_at(&smart, 48), 1);
    assert_eq!(u128_at(&smart, 64), 1); // host read commands
    assert_eq!(u128_at(&smart, 80), 4); // host write commands
                                        // Same temperature, spare and wear in SMART and the model.
    assert_eq!(
        u64::from(u16_at(&smart, 1)),
        d.ctrl.health_property("temperature").unwrap()
    );
    assert_eq!(
        u64::from(smart[3]),
        d.ctrl.health_property("available-spare").unwrap()
    );
    assert_eq!(smart[4], 10);
    // Data Area 1 carries the same SMART and C0h copies.
    let (c, hdr) = d.admin_read(glp(0x07, 512, 1, true, 0, 0, ALL), 512);
    assert!(c.ok());
    let len = 512 + 512 * usize::from(u16_at(&hdr, 8));
    let t = log_chunked(&mut d, 0x07, 0, len, 0);
    assert_eq!(&t[1024..1536][..200], &smart[..200]);
    assert_eq!(u128_at(&t, 1536), u128_at(&c0, 0));
}

#[test]
fn c3_counts_real_io_latency() {
    let mut d = up();
    // nvme-cli set-latency-monitor-feature: 4096 bytes, Save = 1, UUID index 0.
    let mut cfg = ocp::latency::LatencyMonitorConfig::default().to_bytes();
    cfg.resize(4096, 0);
    assert!(d.admin_write(sf(0xc5, true, 0, 0), &cfg).ok());
    // OCP 2.7: Get Features C5h completes with DW0 0 and no data (LMGF-1);
    // a buffer the host gives is left alone.
    let (c, got) = d.admin_read(gf(0xc5, 0, 1), 4096);
    assert!(c.ok() && c.dw0 == 0);
    assert!(got.iter().all(|&b| b == 0));
    // An OCP 2.6 drive returns the configuration, current and saved.
    let mut d6 = up_26();
    assert!(d6.admin_write(sf(0xc5, true, 0, 0), &cfg).ok());
    let (c, got) = d6.admin_read(gf(0xc5, 0, 1), 4096);
    assert!(c.ok());
    assert_eq!(&got[..16], &cfg[..16]);
    let (_, saved) = d6.admin_read(gf(0xc5, 2, 1), 4096);
    assert_eq!(&saved[..16], &cfg[..16]);
    d.auto_complete = false;
    // Thresholds 30/100/155/235 ms: read 40 ms (bucket 0), write 120 ms
    // (bucket 1), deallocate 300 ms (bucket 3), read 1 ms (not counted).
    let dsm_buf = d.alloc(16);
    d.write_mem(dsm_buf, &[0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    let dsm = sqe_of(0x09, 1, &[(10, 0), (11, 1 << 2)], dsm_buf);
    let cases: [(Sqe, u64); 4] = [
        (rw(&mut d, 0x02, 0, 8), 40),
        (rw(&mut d, 0x01, 0, 8), 120),
        (dsm, 300),
        (rw(&mut d, 0x02, 0, 8), 1),
    ];
    for (s, ms) in cases {
        let cid = d.submit(1, s);
        d.advance(ms * MS);
        assert!(d.wait(1, cid).unwrap().ok());
    }
    d.auto_complete = true;
    let b = log(&mut d, 0xc3, 512, 1);
    let counter = |base: usize, bucket: usize, slot: usize| base + (bucket * 4 + slot) * 4;
    assert_eq!(b[0] & 1, 1); // feature_status: enabled
    assert_eq!(u32_at(&b, counter(0x20, 0, 3)), 1, "read 40 ms");
    assert_eq!(u32_at(&b, counter(0x20, 1, 2)), 1, "write 120 ms");
    assert_eq!(u32_at(&b, counter(0x20, 3, 1)), 1, "deallocate 300 ms");
    let total: u32 = (0..16).map(|i| u32_at(&b, 0x20 + i * 4)).sum();
    assert_eq!(total, 3);
    // Measured maximum for bucket 0 reads (ms).
    assert_eq!(u16_at(&b, 0xc0 + (3 * 3 + 2) * 2), 40);
}

#[test]
fn c2_history_follows_firmware_commits() {
    let mut d = up();
    let h = log(&mut d, 0xc2, 4096, 1);
    assert_eq!(u32_at(&h, 4), 0);
    for (i, rev) in [b"FW-NEW-1", b"FW-NEW-2"].iter().enumerate() {
        let c = d.admin_write(sqe_of(0x11, 0, &[(10, 1), (11, 0)], 0), &rev[..]);
        assert!(c.ok());
        assert!(d.admin(sqe_of(0x10, 0, &[(10, 3 << 3 | 2)], 0)).ok());
        let h = log_chunked(&mut d, 0xc2, 0, 4096, 1);
        assert_eq!(u32_at(&h, 4), i as u32 + 1);
        let e = 8 + i * 64;
        assert_eq!(&h[e + 38..e + 46], &rev[..], "new_fw");
        assert_eq!(h[e + 46], 2, "slot");
        assert_eq!(h[e + 47], 3, "commit action");
    }
    // FID C1h clears it.
    assert!(d.admin(sf(0xc1, false, 1 << 31, 1)).ok());
    assert_eq!(u32_at(&log(&mut d, 0xc2, 4096, 1), 4), 0);
}

#[test]
fn ocp_features_round_trip() {
    let mut d = up_26();
    let dw0 = |d: &mut Driver, fid: u8, sel: u32| {
        let c = d.admin(gf(fid, sel, 1));
        assert!(c.ok(), "fid {fid:#x} sel {sel}: {c:?}");
        c.dw0
    };
    // (fid, value set, Get DW0 expected, saveable)
    let cases: [(u8, u32, u32, bool); 5] = [
        (0xc2, 2 << 30, 2, true),
        (0xc6, 30 << 16, 30 << 16, true),
        (0xc7, 15, 15, true),
        (0xc8, 1, 1, true),
        (0xc9, 1, 1, true),
    ];
    for (fid, v, want, saveable) in cases {
        let default = dw0(&mut d, fid, 1);
        // Current only.
        assert!(d.admin(sf(fid, false, v, 1)).ok(), "fid {fid:#x}");
        assert_eq!(dw0(&mut d, fid, 0), want, "fid {fid:#x}");
        assert_eq!(dw0(&mut d, fid, 2), default, "fid {fid:#x} saved");
        // Saved too, with UUID index 0.
        let c = d.admin(sf(fid, true, v, 0));
        assert_eq!(c.ok(), saveable, "fid {fid:#x}");
        assert_eq!(dw0(&mut d, fid, 2), want, "fid {fid:#x} saved");
        assert_eq!(dw0(&mut d, fid, 1), default, "fid {fid:#x} default");
        let caps = dw0(&mut d, fid, 3);
        assert_eq!(caps & 1 != 0, saveable, "fid {fid:#x} caps");
        assert!(d.admin(gf(fid, 4, 1)).is(Status::INVALID_FIELD));
    }
    // Not saveable: clear features.
    for fid in [0xc1, 0xc3] {
        assert!(d
            .admin(sf(fid, true, 1 << 31, 1))
            .is(Status::FEATURE_NOT_SAVEABLE));
        assert!(d.admin(sf(fid, false, 1 << 31, 1)).ok());
    }
    // C7h below the Minimum Valid DSSD Power State (DSSDPSS-2).
    assert!(d.admin(sf(0xc7, false, 9, 1)).is(Status::INVALID_FIELD));
    // C0h: two entries in, the same two out (4064 bytes).
    inject(&mut d, &[erri(0, 14, 5), erri(2, 7, 0)]);
    let (c, data) = d.admin_read(gf(0xc0, 0, 1), 4064);
    assert!(c.ok());
    assert_eq!(c.dw0 & 0x7f, 2);
    assert_eq!(&data[..32], &erri(0, 14, 5));
    assert_eq!(&data[32..64], &erri(2, 7, 0));
    assert!(d
        .admin_write(sf(0xc0, true, 1, 1), &erri(0, 14, 5))
        .is(Status::FEATURE_NOT_SAVEABLE));
    // Saved values become current at a power cycle.
    {
        let mut h = d.env.host();
        d.ctrl.reset(&mut h);
    }
    d.bring_up(1);
    assert_eq!(dw0(&mut d, 0xc7, 0), 15);
    assert_eq!(dw0(&mut d, 0xc0, 0) & 0x7f, 0, "injections end");
}

#[test]
fn injected_media_error_counts_once() {
    let mut d = up();
    // NAND corruption (type 7), enabled and single-shot.
    inject(&mut d, &[erri(3, 7, 0)]);
    let s = rw(&mut d, 0x02, 0, 1);
    let c = d.io(1, s);
    assert!(c.is(Status::UNRECOVERED_READ_ERROR), "{c:?}");
    let s = rw(&mut d, 0x02, 0, 1);
    assert!(d.io(1, s).ok(), "single shot");
    let smart = log(&mut d, 0x02, 512, 0);
    assert_eq!(u128_at(&smart, 160), 1);
    let c0 = log(&mut d, 0xc0, 512, 1);
    assert_eq!(u64_at(&c0, 56), 1, "uncorrectable_read_err_count");
    // Error Information log has the entry.
    let (_, el) = d.admin_read(sqe_of(0x02, 0, &[(10, 15 << 16 | 1)], 0), 64);
    assert_eq!(
        u16_at(&el, 12) >> 1,
        Status::UNRECOVERED_READ_ERROR.field() >> 1
    );
}

#[test]
fn injected_panic_sets_cfs_fills_c1_and_notifies() {
    // Before OCP 2.7 a panic sets CSTS.CFS and, with C9h, also notifies.
    let mut d = up_26();
    assert!(d.admin(sf(0xc9, false, 1, 1)).ok());
    let aer = d.submit(0, sqe_of(0x0c, 0, &[], 0));
    // Firmware error (type 2) on the next command.
    inject(&mut d, &[erri(3, 2, 0)]);
    let buf = d.alloc(4096);
    let cid = d.submit(0, sqe_of(0x06, 0, &[(10, 1)], buf));
    assert!(
        d.wait(0, cid).is_none(),
        "the panicking command never completes"
    );
    assert_eq!(d.csts() & 0b10, 0b10, "CSTS.CFS");
    // Vendor-specific event pointing at C1h.
    let e = d.wait(0, aer).expect("panic AER");
    assert_eq!(e.dw0 & 0x7, 7);
    assert_eq!((e.dw0 >> 16) & 0xff, 0xc1);
    // Reset: CFS clears, C1h shows the panic.
    d.disable();
    assert_eq!(d.csts() & 0b10, 0);
    d.bring_up(1);
    let c1 = log(&mut d, 0xc1, 512, 1);
    assert_eq!(c1[0x1f], 1, "panic_count");
    assert_ne!(u64_at(&c1, 0x20), 0, "prev_panic_id[0]");
    assert_eq!(u64_at(&c1, 0x04), 0, "no panic in progress");
    assert_eq!(&c1[496..], &ocp::error_recovery::GUID);
    // Controller-initiated telemetry captured at the panic.
    let (c, t) = d.admin_read(glp(0x08, 512, 0, true, 0, 0, ALL), 512);
    assert!(c.ok());
    assert_eq!(t[0], 0x08);
    assert_eq!(t[382], 1, "controller-initiated data available");
    assert_eq!(t[383], 1, "generation");
    assert_eq!(&t[384..389], b"PANIC");
}

#[test]
fn injected_latency_and_timeout() {
    let mut d = up();
    // Latency spike (type 14): 10 ms, single-shot.
    inject(&mut d, &[erri(3, 14, 10)]);
    let s = rw(&mut d, 0x02, 0, 8);
    let cid = d.submit(1, s);
    assert!(d.reap(1).is_empty());
    d.advance(9 * MS);
    assert!(d.reap(1).is_empty(), "not before 10 ms");
    d.advance(MS);
    d.complete_storage();
    let c = d.reap(1);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].cid, cid);
    assert!(c[0].ok());
    // I/O failure (type 15) then I/O timeout (type 16).
    inject(&mut d, &[erri(3, 15, 0)]);
    let s = rw(&mut d, 0x02, 0, 1);
    assert!(d.io(1, s).is(Status::INTERNAL_ERROR));
    inject(&mut d, &[erri(3, 16, 0)]);
    let s = rw(&mut d, 0x02, 0, 1);
    let cid = d.submit(1, s);
    d.advance(1_000 * MS);
    assert!(
        d.wait(1, cid).is_none(),
        "a timed-out command never completes"
    );
    let c0 = log(&mut d, 0xc0, 512, 1);
    assert_eq!(u32_at(&c0, 232), 1, "command_timeouts");
    // Abort reaches it (as Linux tries before resetting).
    let a = d.admin(sqe_of(0x08, 0, &[(10, u32::from(cid) << 16 | 1)], 0));
    assert!(a.ok());
    assert_eq!(a.dw0 & 1, 0, "aborted");
    let c = d.wait(1, cid).expect("aborted completion");
    assert!(c.is(Status::ABORT_REQUESTED));
    // Another one, ended by a reset.
    inject(&mut d, &[erri(3, 16, 0)]);
    let s = rw(&mut d, 0x02, 0, 1);
    let cid = d.submit(1, s);
    assert!(d.wait(1, cid).is_none());
    // A controller reset ends it.
    d.disable();
    d.bring_up(1);
    let s = rw(&mut d, 0x02, 0, 1);
    assert!(d.io(1, s).ok());
}

#[test]
fn eol_failure_modes() {
    let mut d = up();
    // Read-only once end of life is reached (C2h = 1).
    assert!(d.admin(sf(0xc2, false, 1 << 30, 1)).ok());
    let s = rw(&mut d, 0x01, 0, 1);
    assert!(d.io(1, s).ok(), "not yet at end of life");
    {
        let mut h = d.env.host();
        d.ctrl
            .set_health_property("percentage-used", 100, &mut h)
            .unwrap();
    }
    // Worn out with spare left: still read/write (OCP EOL-4), and no
    // critical warning for Percentage Used alone (SLOG-12).
    let s = rw(&mut d, 0x01, 0, 1);
    assert!(d.io(1, s).ok(), "EOL-4");
    let smart = log(&mut d, 0x02, 512, 0);
    assert_eq!(smart[0], 0, "SLOG-12");
    assert_eq!(smart[5], 100);
    // Available Spare 0 %: end of life (EOL-5).
    {
        let mut h = d.env.host();
        d.ctrl
            .set_health_property("available-spare", 0, &mut h)
            .unwrap();
    }
    let s = rw(&mut d, 0x01, 0, 1);
    let c = d.io(1, s);
    assert_eq!((c.sf >> 1) & 0x7ff, 1 << 8 | 0x82, "{c:?}");
    let s = rw(&mut d, 0x02, 0, 1);
    assert!(d.io(1, s).ok(), "reads still work");
    let smart = log(&mut d, 0x02, 512, 0);
    assert_eq!(smart[0] & 0x09, 0x09, "spare + read-only");
    // Write-through (C2h = 2): writes are FUA (and a little slower).
    assert!(d.admin(sf(0xc2, false, 2 << 30, 1)).ok());
    let s = rw(&mut d, 0x01, 0, 1);
    let cid = d.submit(1, s);
    d.advance(MS);
    assert!(d.wait(1, cid).unwrap().ok());
    let last = d.env.storage.log.last().unwrap().0;
    assert_eq!(last, IoKind::Write { fua: true });
}

#[test]
fn telemetry_host_initiated_data_area1() {
    let mut d = up();
    let (_, id) = d.admin_read(sqe_of(0x06, 0, &[(10, 1)], 0), 4096);
    assert_eq!(id[261] & (1 << 3), 1 << 3, "LPA telemetry");
    // Create, header first (as nvme-cli's internal-log).
    let (c, hdr) = d.admin_read(glp(0x07, 512, 1, true, 0, 0, ALL), 512);
    assert!(c.ok());
    assert_eq!(hdr[0], 0x07);
    let da1lb = u16_at(&hdr, 8);
    assert!(da1lb > 0);
    assert_eq!(u16_at(&hdr, 10), da1lb, "DA2LB");
    assert_eq!(u16_at(&hdr, 12), da1lb, "DA3LB");
    assert_eq!(hdr[381], 1, "host generation");
    let len = 512 + 512 * usize::from(da1lb);
    let t = log_chunked(&mut d, 0x07, 0, len, 0);
    assert_eq!(&t[..512], &hdr[..]);
    let da1 = &t[512..];
    assert_eq!(u16_at(da1, 0), 3, "DA1 major version (TELDF-1, OCP 2.7)");
    assert_eq!(u16_at(da1, 2), 1, "DA1 minor version (TELDF-2)");
    assert_eq!(&da1[16..32], &ocp::telemetry::DA1_GUID);
    // Statistics descriptors walk to their size (parse_statistics).
    let start = u64_at(da1, 96) as usize * 4;
    let size = u64_at(da1, 104) as usize * 4;
    let mut off = 0;
    while off < size {
        let s = &da1[start + off..];
        if u16_at(s, 0) == 0 {
            break;
        }
        off += 8 + 4 * usize::from(u16_at(s, 4));
    }
    assert_eq!(off, size);
    // Without create, the same snapshot; with create, a new generation.
    let again = log_chunked(&mut d, 0x07, 0, len, 0);
    assert_eq!(again, t);
    let (_, hdr2) = d.admin_read(glp(0x07, 512, 1, false, 0, 0, ALL), 512);
    assert_eq!(hdr2[381], 2);
}

#[test]
fn guest_errors_are_logged() {
    let mut d = up();
    // Doorbell of a queue that does not exist.
    d.w32(0x1000 + 3 * 8, 1);
    // LBA out of range.
    let s = rw(&mut d, 0x02, 1 << 40, 1);
    assert!(d.io(1, s).is(Status::LBA_OUT_OF_RANGE));
    // Queue identifier beyond the allocated queues.
    assert!(d
        .admin(sqe_of(0x05, 0, &[(10, 0x000f_0002), (11, 1)], 0x20_0000))
        .is(Status::INVALID_QUEUE_IDENTIFIER));
    // Register write of a bad size.
    {
        let mut h = d.env.host();
        d.ctrl.mmio_write(0x14, 1, 2, &mut h);
    }
    let m = &d.env.log.messages;
    assert!(m.iter().any(|s| s.contains("nonexistent SQ 3")), "{m:?}");
    assert!(m.iter().any(|s| s.contains("LBA out of range")), "{m:?}");
    assert!(m.iter().any(|s| s.contains("SLBA 1099511627776")), "{m:?}");
    assert!(
        m.iter().any(|s| s.contains("invalid queue identifier 2")),
        "{m:?}"
    );
    assert!(m.iter().any(|s| s.contains("bad size 2")), "{m:?}");
    // Invalid CC at enable.
    d.disable();
    d.w32(0x14, 1 | 5 << 7); // MPS 5: unsupported
    let m = &d.env.log.messages;
    assert!(m.iter().any(|s| s.contains("invalid CC")), "{m:?}");
    assert_eq!(d.csts() & 0b10, 0b10);
}

#[test]
fn ocp_ids_in_supported_logs_and_feature_effects() {
    let mut cfg = Driver::small_config();
    cfg.health.warning_temp_k = 350;
    cfg.health.critical_temp_k = 360;
    let mut d = Driver::new(cfg);
    d.bring_up(1);
    let logs = log(&mut d, 0x00, 1024, 0);
    for lid in ocp::LOG_IDS {
        assert_eq!(u32_at(&logs, usize::from(lid) * 4) & 1, 1, "lid {lid:#x}");
    }
    let fids = log(&mut d, 0x12, 1024, 0);
    for fid in ocp::FEATURE_IDS {
        let v = u32_at(&fids, usize::from(fid) * 4);
        assert_eq!(v & 1, 1, "fid {fid:#x}");
        assert_ne!(v & 1 << 19, 0, "fid {fid:#x} UUID selection");
    }
    // WCTEMP / CCTEMP and the Temperature Threshold default follow the model.
    let (_, id) = d.admin_read(sqe_of(0x06, 0, &[(10, 1)], 0), 4096);
    assert_eq!(u16_at(&id, 266), 350);
    assert_eq!(u16_at(&id, 268), 360);
    assert_eq!(d.admin(sqe_of(0x0a, 0, &[(10, 4)], 0)).dw0 & 0xffff, 350);
    // An invalid health configuration is refused at creation.
    let mut bad = Driver::small_config();
    bad.health.temperature_k = 10;
    let e = ocp_nvme_engine::Controller::new(bad).unwrap_err();
    assert!(e.starts_with("temperature"), "{e}");
}

#[test]
fn health_properties_reach_smart_and_c0() {
    let mut d = up();
    {
        let mut h = d.env.host();
        d.ctrl
            .set_health_property("media-errors", 5, &mut h)
            .unwrap();
        d.ctrl
            .set_health_property("bad-user-blocks", 7, &mut h)
            .unwrap();
        d.ctrl
            .set_health_property("percentage-used", 40, &mut h)
            .unwrap();
    }
    assert_eq!(d.ctrl.health_property("percentage-used"), Some(40));
    assert_eq!(d.ctrl.health_property("media-errors"), Some(5));
    let smart = log(&mut d, 0x02, 512, 0);
    let c0 = log(&mut d, 0xc0, 512, 1);
    assert_eq!(smart[5], 40);
    assert_eq!(u128_at(&smart, 160), 5);
    assert_eq!(u64_at(&c0, 56), 5, "uncorrectable_read_err_count");
    assert!(u64_at(&c0, 32) & 0xffff_ffff_ffff >= 7, "bad user blocks");
    // The same SMART copy is embedded in telemetry Data Area 1.
    let (_, hdr) = d.admin_read(glp(0x07, 512, 1, true, 0, 0, ALL), 512);
    let len = 512 + 512 * usize::from(u16_at(&hdr, 8));
    let t = log_chunked(&mut d, 0x07, 0, len, 0);
    assert_eq!(t[1024 + 5], 40);
    assert_eq!(u128_at(&t, 1024 + 160), 5);
}

#[test]
fn admin_injection_spares_fid_c0() {
    let mut d = up_26();
    // Admin command failure (type 17), enabled, not single-shot.
    inject(&mut d, &[erri(1, 17, 0)]);
    // Get/Set Features FID C0h still work (to read and disarm the injection).
    let (c, _) = d.admin_read(gf(0xc0, 0, 1), 4064);
    assert!(c.ok());
    assert_eq!(c.dw0 & 0x7f, 1);
    let (c, _) = d.admin_read(sqe_of(0x06, 0, &[(10, 1)], 0), 4096);
    assert!(c.is(Status::INTERNAL_ERROR), "other admin commands fail");
    let (c, _) = d.admin_read(sqe_of(0x06, 0, &[(10, 1)], 0), 4096);
    assert!(c.is(Status::INTERNAL_ERROR), "again: not single-shot");
    // I/O is not affected by an admin injection.
    let s = rw(&mut d, 0x02, 0, 1);
    assert!(d.io(1, s).ok());
    assert!(d.admin(sf(0xc0, false, 0, 1)).ok());
    let (c, _) = d.admin_read(sqe_of(0x06, 0, &[(10, 1)], 0), 4096);
    assert!(c.ok());
}

#[test]
fn dssd_power_state_throttles_io() {
    let mut d = up();
    let s = rw(&mut d, 0x02, 0, 8);
    assert!(d.io(1, s).ok(), "full power: no added latency");
    // 10 W of 25 W: reads and writes wait (the module's added latency).
    assert!(d.admin(sf(0xc7, false, 10, 1)).ok());
    let s = rw(&mut d, 0x02, 0, 8);
    let cid = d.submit(1, s);
    assert!(d.reap(1).is_empty());
    d.advance(MS);
    let c = d.wait(1, cid).expect("completes after the delay");
    assert!(c.ok());
    // Admin commands are not throttled.
    assert!(d.admin(gf(0xc7, 0, 1)).ok());
}
