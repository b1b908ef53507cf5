// SPDX-License-Identifier: GPL-2.0-or-later
//! OCP specification fidelity through admin commands, per `ocp-version`
//! (2.5, 2.6, 2.7). Each test names the OCP 2.7 requirement it shows
//! (`docs/ocp-conformance.md` lists them).
#![allow(clippy::shadow_unrelated, clippy::cognitive_complexity)] // long test scripts reuse names

use ocp_nvme_engine::ocp::OcpVersion;
use ocp_nvme_engine::spec::cmd::Sqe;
use ocp_nvme_engine::spec::status::Status;
use ocp_nvme_engine::testing::{sqe_of, Driver, RawCqe};

const ALL: u32 = 0xffff_ffff;

fn up_version(v: OcpVersion) -> Driver {
    let mut cfg = Driver::small_config();
    cfg.ocp_version = v;
    let mut d = Driver::new(cfg);
    d.bring_up(1);
    d
}

fn up() -> Driver {
    up_version(OcpVersion::V2_7)
}

fn u16_at(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes(b[o..o + 2].try_into().unwrap())
}
fn u64_at(b: &[u8], o: usize) -> u64 {
    u64::from_le_bytes(b[o..o + 8].try_into().unwrap())
}

fn log(d: &mut Driver, lid: u8, len: usize) -> Vec<u8> {
    let numd = (len / 4) as u32 - 1;
    let sqe = sqe_of(
        0x02,
        ALL,
        &[
            (10, (numd & 0xffff) << 16 | u32::from(lid)),
            (11, numd >> 16),
            (14, 1),
        ],
        0,
    );
    let (c, b) = d.admin_read(sqe, len);
    assert!(c.ok(), "lid {lid:#x}: {c:?}");
    b
}

fn sf(fid: u8, sv: bool, cdw11: u32) -> Sqe {
    sqe_of(
        0x09,
        0,
        &[
            (10, u32::from(sv) << 31 | u32::from(fid)),
            (11, cdw11),
            (14, 1),
        ],
        0,
    )
}

fn gf(fid: u8, sel: u32) -> Sqe {
    sqe_of(0x0a, 0, &[(10, sel << 8 | u32::from(fid)), (14, 1)], 0)
}

fn get(d: &mut Driver, fid: u8, sel: u32) -> u32 {
    let c = d.admin(gf(fid, sel));
    assert!(c.ok(), "fid {fid:#x} sel {sel}: {c:?}");
    c.dw0
}

fn power_cycle(d: &mut Driver) {
    {
        let mut h = d.env.host();
        d.ctrl.reset(&mut h);
    }
    d.bring_up(1);
}

/// DCLP-8, DCLP-9, DSSDPSD-1/3, DSSDPSS-1/2, DSSDPSG-1/2, SMART-31: the DSSD
/// power state (FID C7h) drives the NVMe power state (feature 02h) and the
/// other way round, as section 4.8.11 describes, with the C4h descriptors
/// in increasing order matching Identify's power states.
#[test]
fn dclp_9_dssd_power_state_drives_nvme_power_state() {
    let mut d = up();
    // Identify: three power states of 25, 17 and 10 W (max-power,
    // midpoint, min-power).
    let (c, id) = d.admin_read(sqe_of(0x06, 0, &[(10, 1)], 0), 4096);
    assert!(c.ok());
    let mp: Vec<u16> = (0..3).map(|i| u16_at(&id, 2048 + 32 * i) / 100).collect();
    assert_eq!(mp, [25, 17, 10]);
    let c4 = log(&mut d, 0xc4, 4096);
    assert_eq!(u16_at(&c4, 14), 10, "DCLP-8 = lowest NVMe power state's MP");
    for n in 1..=127usize {
        let desc = c4[16 + n];
        let want = mp.iter().position(|&w| usize::from(w) <= n);
        match want {
            Some(ps) => assert_eq!(desc, 0x80 | ps as u8, "DSSD {n}"),
            None => assert_eq!(desc, 0, "DSSD {n} invalid"),
        }
    }
    // 20 W: NVMe power state 1 (17 W), C7h reports 20 (DSSDPSG-1).
    assert!(d.admin(sf(0xc7, false, 20)).ok());
    assert_eq!(get(&mut d, 0x02, 0) & 0x1f, 1);
    assert_eq!(get(&mut d, 0xc7, 0), 20);
    // Below the lowest valid state: Invalid Field (DSSDPSS-2), nothing moves.
    assert!(d.admin(sf(0xc7, false, 9)).is(Status::INVALID_FIELD));
    assert_eq!(get(&mut d, 0x02, 0) & 0x1f, 1);
    // Feature 02h PS2: C7h reports its Maximum Power (DSSDPSG-2).
    assert!(d.admin(sf(0x02, false, 2)).ok());
    assert_eq!(get(&mut d, 0xc7, 0), 10);
    // 60 W: PS0.
    assert!(d.admin(sf(0xc7, false, 60)).ok());
    assert_eq!(get(&mut d, 0x02, 0) & 0x1f, 0);
    // Three NVMe power state changes (1, 2, 0), DSSD-caused ones included
    // (SMART-31); setting the same state again is no change.
    assert!(d.admin(sf(0xc7, false, 30)).ok());
    let c0 = log(&mut d, 0xc0, 512);
    assert_eq!(u64_at(&c0, 200), 3);
    // Saved DSSD state: after a power cycle both features follow it.
    assert!(d.admin(sf(0xc7, true, 18)).ok());
    assert!(d.admin(sf(0xc7, false, 40)).ok());
    power_cycle(&mut d);
    assert_eq!(get(&mut d, 0xc7, 0), 18);
    assert_eq!(get(&mut d, 0x02, 0) & 0x1f, 1);
}

/// NVMe-OPT-4: a timestamp set by the host survives Controller Level Resets
/// (CC.EN 1 -> 0) and function level resets, with Timestamp Origin 001b.
#[test]
fn nvme_opt_4_timestamp_survives_resets_and_flr() {
    let mut d = up();
    let mut ts = [0u8; 8];
    ts[..6].copy_from_slice(&5_000_000u64.to_le_bytes()[..6]);
    assert!(d.admin_write(sqe_of(0x09, 0, &[(10, 0x0e)], 0), &ts).ok());
    let read = |d: &mut Driver| {
        let (c, b) = d.admin_read(sqe_of(0x0a, 0, &[(10, 0x0e)], 0), 8);
        assert!(c.ok());
        let mut v = [0u8; 8];
        v[..6].copy_from_slice(&b[..6]);
        (u64::from_le_bytes(v), b[6] >> 1 & 7)
    };
    d.advance(3_000_000);
    d.disable();
    d.bring_up(1);
    let (ms, origin) = read(&mut d);
    assert!(ms >= 5_000_003, "{ms}");
    assert_eq!(origin, 1, "origin 001b after CC.EN 1 -> 0");
    d.advance(2_000_000);
    power_cycle(&mut d); // function level reset: the device's reset
    let (ms, origin) = read(&mut d);
    assert!(ms >= 5_000_005, "{ms}");
    assert_eq!(origin, 1, "origin 001b after a function level reset");
}

fn erri(flags: u8, kind: u16) -> [u8; 32] {
    let mut e = [0u8; 32];
    e[0] = flags;
    e[2..4].copy_from_slice(&kind.to_le_bytes());
    e
}

fn rd(d: &mut Driver, lba: u64) -> Sqe {
    let buf = d.alloc(512);
    sqe_of(0x02, 1, &[(10, lba as u32), (11, (lba >> 32) as u32)], buf)
}

/// SDAEC-14, DSSD-AEN-1, NVMe-AD-31, EVTREC-1: under OCP 2.7 a panic with
/// the (default) Error Reporting AEN enabled sends the AEN (vendor specific,
/// information 01h, log C1h) instead of setting CSTS.CFS; admin commands
/// keep running so the host reads C1h, I/O fails with Internal Error until
/// the reset (section 4.8.7.1). With C9h
/// bit 0 cleared, CSTS.CFS is set and no AEN is sent.
#[test]
fn sdaec_14_error_reporting_aen_replaces_cfs() {
    let mut d = up();
    let aer = d.submit(0, sqe_of(0x0c, 0, &[], 0));
    let inj = erri(3, 4); // logical firmware error, recovery type 1
    assert!(d
        .admin_write(sqe_of(0x09, 0, &[(10, 0xc0), (11, 1), (14, 1)], 0), &inj)
        .ok());
    let s = rd(&mut d, 0);
    let io = d.submit(1, s);
    assert!(
        d.wait(1, io).is_none(),
        "the panicking command never completes"
    );
    assert_eq!(d.csts() & 0b10, 0, "CSTS.CFS stays 0");
    let e = d.wait(0, aer).expect("Error Reporting AEN");
    assert_eq!(e.dw0 & 0x7, 7, "vendor specific");
    assert_eq!((e.dw0 >> 8) & 0xff, 1, "information 01h");
    assert_eq!((e.dw0 >> 16) & 0xff, 0xc1, "log C1h");
    let c1 = log(&mut d, 0xc1, 512);
    assert_ne!(u64_at(&c1, 0x04), 0, "panic in progress");
    assert_eq!(c1[3], 0x01, "EREC-3: no action required");
    let s = rd(&mut d, 0);
    let c = d.io(1, s);
    assert!(
        c.is(Status::INTERNAL_ERROR),
        "I/O fails until the reset: {c:?}"
    );
    d.disable();
    d.bring_up(1);
    let s = rd(&mut d, 0);
    let c = d.io(1, s);
    assert!(c.ok(), "{c:?}");
    // Error Reporting AENs disabled: CSTS.CFS, no AEN.
    assert!(d.admin(sf(0xc9, false, 0)).ok());
    let aer = d.submit(0, sqe_of(0x0c, 0, &[], 0));
    assert!(d
        .admin_write(sqe_of(0x09, 0, &[(10, 0xc0), (11, 1), (14, 1)], 0), &inj)
        .ok());
    let s = rd(&mut d, 0);
    let io = d.submit(1, s);
    assert!(d.wait(1, io).is_none());
    assert_eq!(d.csts() & 0b10, 0b10, "CSTS.CFS");
    // Only the telemetry notice (controller-initiated data), no vendor
    // specific Error Reporting AEN.
    if let Some(e) = d.wait(0, aer) {
        assert_ne!(e.dw0 & 0x7, 7, "no Error Reporting AEN: {:#x}", e.dw0);
    }
}

/// NVMe-AD-31 and SDAEC-10 through admin commands, per version: C9h
/// defaults to 1 and is not saveable under 2.7; 0 and saveable before.
/// CAh/CBh exist only under 2.7 (Feature Identifiers Supported log too).
#[test]
fn nvme_ad_31_feature_set_per_version() {
    for v in OcpVersion::ALL {
        let mut d = up_version(v);
        let v27 = v == OcpVersion::V2_7;
        assert_eq!(get(&mut d, 0xc9, 1), u32::from(v27), "{v:?}");
        let c = d.admin(sf(0xc9, true, 1));
        assert_eq!(c.is(Status::FEATURE_NOT_SAVEABLE), v27, "{v:?}");
        for fid in [0xca, 0xcb] {
            assert_eq!(d.admin(gf(fid, 0)).ok(), v27, "{fid:#x} {v:?}");
        }
        let fe = log(&mut d, 0x12, 1024);
        assert_eq!(fe[0xca * 4] & 1 == 1, v27, "FID CAh supported {v:?}");
        assert_eq!(fe[0xc9 * 4] & 1, 1);
    }
}

/// SLOG-6: reading SMART 02h or C0h is a plain read: how often the host
/// reads them changes no value (except the temperature, SLOG-8).
#[test]
fn slog_6_reading_logs_changes_nothing() {
    let run = |reads_between: usize| {
        let mut d = up();
        let mut out = Vec::new();
        for step in 0..20u64 {
            // Some writes, then time passes.
            let buf = d.alloc(64 * 1024);
            let s = sqe_of(0x01, 1, &[(10, (step * 128) as u32), (12, 127)], buf);
            let mut s2 = s;
            ocp_nvme_engine::testing::set_prps(&mut d, &mut s2, buf, 64 * 1024);
            assert!(d.io(1, s2).ok());
            for _ in 0..reads_between {
                let _ = log(&mut d, 0x02, 512);
                let _ = log(&mut d, 0xc0, 512);
                d.advance(700_000_000);
            }
            d.advance(10_000_000_000 - 700_000_000 * reads_between as u64);
        }
        let mut s = log(&mut d, 0x02, 512);
        s[1] = 0;
        s[2] = 0; // composite temperature (SLOG-8)
        out.extend_from_slice(&s);
        out.extend_from_slice(&log(&mut d, 0xc0, 512));
        out
    };
    let once = run(0);
    let often = run(3);
    for (i, (a, b)) in once.iter().zip(&often).enumerate() {
        assert_eq!(a, b, "byte {i} ({})", if i < 512 { "02h" } else { "C0h" });
    }
}

fn set_prop(d: &mut Driver, name: &str, v: u64) {
    let mut h = d.env.host();
    d.ctrl.set_health_property(name, v, &mut h).unwrap();
}

/// SLOG-12, EOL-4, EOL-5 on every version: no critical warning for
/// Percentage Used alone; read/write until Available Spare is 0 %, then
/// read-only (C2h default).
#[test]
fn slog_12_eol_4_eol_5_read_only_only_at_spare_0() {
    for v in OcpVersion::ALL {
        let mut d = up_version(v);
        set_prop(&mut d, "percentage-used", 100);
        let w = |d: &mut Driver| {
            let buf = d.alloc(512);
            d.io(1, sqe_of(0x01, 1, &[], buf))
        };
        assert!(w(&mut d).ok(), "EOL-4 {v:?}");
        assert_eq!(log(&mut d, 0x02, 512)[0], 0, "SLOG-12 {v:?}");
        set_prop(&mut d, "available-spare", 1);
        assert!(w(&mut d).ok(), "EOL-4 below threshold {v:?}");
        assert_eq!(log(&mut d, 0x02, 512)[0], 0x01, "spare warning only");
        set_prop(&mut d, "available-spare", 0);
        let c = w(&mut d);
        assert_eq!((c.sf >> 1) & 0x7ff, 1 << 8 | 0x82, "EOL-5 {v:?}: {c:?}");
        assert_eq!(log(&mut d, 0x02, 512)[0] & 0x08, 0x08, "read-only bit");
    }
}

/// NVMe-AD-11: a non-zero NSID on an admin command that does not use it is
/// Invalid Field in Command; commands that use it still accept it.
#[test]
fn nvme_ad_11_nsid_on_commands_that_do_not_use_it() {
    let mut d = up();
    for (op, cdw10) in [
        (0x0cu8, 0u32),
        (0x18, 0),
        (0x10, 1 << 3 | 2),
        (0x08, 0),
        (0x04, 9),
    ] {
        let c = d.admin(sqe_of(op, 1, &[(10, cdw10)], 0));
        assert!(c.is(Status::INVALID_FIELD), "opcode {op:#x}: {c:?}");
    }
    let c = d.admin(sqe_of(0x18, 0, &[], 0));
    assert!(c.ok(), "Keep Alive with NSID 0");
    let (c, _) = d.admin_read(sqe_of(0x06, 1, &[(10, 0)], 0), 4096);
    assert!(c.ok(), "Identify Namespace uses the NSID");
}

/// NVMe-CFG-18: 256 Error Information log entries (ELPE = 255).
#[test]
fn nvme_cfg_18_256_error_log_entries() {
    let mut d = up();
    let (_, id) = d.admin_read(sqe_of(0x06, 0, &[(10, 1)], 0), 4096);
    assert_eq!(id[262], 255, "ELPE");
    for _ in 0..300 {
        assert!(d
            .admin(sqe_of(0x0a, 0, &[(10, 0xff)], 0))
            .is(Status::INVALID_FIELD));
    }
    let e = log(&mut d, 0x01, 256 * 64);
    let count = |i: usize| u64_at(&e, i * 64);
    assert_eq!(count(0), 300);
    assert_eq!(count(255), 45, "the 256th newest");
}

/// NVMe-AD-2 (FPI, OPTPERF), NVMe-OPT-7 (NPWG = the indirection unit),
/// NVMe-OPT-17 (AWUPF >= NPWG) for both LBA formats.
#[test]
fn nvme_ad_2_opt_7_opt_17_identify_hints() {
    let mut d = up();
    let (_, id) = d.admin_read(sqe_of(0x06, 0, &[(10, 1)], 0), 4096);
    let awupf = u16_at(&id, 528);
    for lbaf in [0u32, 1] {
        if lbaf == 1 {
            let c = d.admin(sqe_of(0x80, 1, &[(10, 1)], 0));
            d.complete_storage();
            assert!(
                c.ok() || d.reap(0).iter().any(ocp_nvme_engine::testing::RawCqe::ok),
                "format"
            );
        }
        let (_, ns) = d.admin_read(sqe_of(0x06, 1, &[(10, 0)], 0), 4096);
        assert_eq!(ns[24] & 0x10, 0x10, "OPTPERF");
        assert_eq!(ns[32] & 0x80, 0x80, "FPI supported");
        let lbads = ns[128 + 4 * usize::from(ns[26] & 0xf) + 2];
        let npwg = u32::from(u16_at(&ns, 64)) + 1;
        assert_eq!(npwg << lbads, 4096, "NPWG = 4 KiB indirection unit");
        assert!(
            (u32::from(awupf) + 1) * 512 >= npwg << lbads,
            "AWUPF covers NPWG"
        );
        let (_, ind) = d.admin_read(sqe_of(0x06, 1, &[(10, 8)], 0), 4096);
        assert_eq!(ind[0] & 0x10, 0x10);
        assert_eq!(ind[3] & 0x80, 0x80, "FPI in the independent structure");
    }
}

/// NVMe-CFG-6: 1,023 I/O queue pairs by default, all of them usable, and
/// the register file (doorbells) fits 16 KiB of BAR0.
#[test]
fn nvme_cfg_6_1023_io_queue_pairs() {
    let cfg = ocp_nvme_engine::ControllerConfig {
        capacity_bytes: 4 << 20,
        ..Default::default()
    };
    assert_eq!(cfg.max_ioqpairs, 1023);
    let mut d = Driver::new(cfg);
    assert!(d.ctrl.bar_size() <= 0x4000, "{:#x}", d.ctrl.bar_size());
    assert!(d.enable());
    let c = d.admin(sqe_of(0x09, 0, &[(10, 7), (11, 1022 << 16 | 1022)], 0));
    assert!(c.ok());
    assert_eq!(c.dw0, 1022 << 16 | 1022, "1,023 SQs and CQs allocated");
    // The last pair works: create it and do one read on it.
    assert!(d.create_cq(1023, 16, 0).ok());
    assert!(d.create_sq(1023, 16, 1023).ok());
    let s = rd(&mut d, 0);
    let c = d.io(1023, s);
    assert!(c.ok(), "{c:?}");
}

/// Device self-test results follow the health model (NVMe-AD-12 with the
/// health model): a healthy drive passes; a failed PLP capacitor fails the
/// volatile memory backup segment (3), a spare at 0 % the SMART check (2).
#[test]
fn nvme_ad_12_self_test_follows_health_model() {
    let mut d = up();
    let run = |d: &mut Driver| {
        assert!(d.admin(sqe_of(0x14, ALL, &[(10, 1)], 0)).ok());
        d.advance(3_000_000_000);
        let l = log(d, 0x06, 564);
        (l[4] & 0xf, l[5])
    };
    assert_eq!(run(&mut d), (0, 0), "passes");
    // EOL/PLP failure mode "normal": a failed capacitor does not make the
    // drive read-only, so only the backup segment fails.
    assert!(d.admin(sf(0xc2, false, 3 << 30)).ok());
    set_prop(&mut d, "capacitor-health", 5);
    assert_eq!(run(&mut d), (7, 3), "volatile memory backup segment");
    set_prop(&mut d, "capacitor-health", 100);
    set_prop(&mut d, "available-spare", 0);
    assert_eq!(run(&mut d), (7, 2), "SMART check segment");
    set_prop(&mut d, "available-spare", 100);
    assert_eq!(run(&mut d), (0, 0), "passes again");
}

/// SMART-42: C0h Command Timeouts counts reads and writes with Limited
/// Retry set that took longer than TLER (feature 05h, 100 ms units).
#[test]
fn smart_42_command_timeouts_per_tler() {
    let mut d = up();
    assert!(
        d.admin(sqe_of(0x09, 1, &[(10, 0x05), (11, 1)], 0)).ok(),
        "TLER 100 ms"
    );
    let slow_read = |d: &mut Driver, lr: bool| {
        let mut e = erri(3, 14); // latency spike, single-shot
        e[4..8].copy_from_slice(&200u32.to_le_bytes());
        assert!(d
            .admin_write(sqe_of(0x09, 0, &[(10, 0xc0), (11, 1), (14, 1)], 0), &e)
            .ok());
        let buf = d.alloc(512);
        let s = sqe_of(0x02, 1, &[(12, u32::from(lr) << 31)], buf);
        let cid = d.submit(1, s);
        d.advance(250_000_000);
        d.complete_storage();
        assert!(d.wait(1, cid).expect("completes").ok());
    };
    slow_read(&mut d, false);
    assert_eq!(
        u32::from_le_bytes(log(&mut d, 0xc0, 512)[232..236].try_into().unwrap()),
        0
    );
    slow_read(&mut d, true);
    assert_eq!(
        u32::from_le_bytes(log(&mut d, 0xc0, 512)[232..236].try_into().unwrap()),
        1
    );
}

/// Host Behavior Support ETDAS (nvme-cli 2.16's internal-log -a 4) reaches
/// the telemetry header: DA4LB reported while it is set (LPA bit 6).
#[test]
fn telemetry_data_area_4_with_etdas() {
    let mut d = up();
    let (_, id) = d.admin_read(sqe_of(0x06, 0, &[(10, 1)], 0), 4096);
    assert_eq!(id[261] & 0x40, 0x40, "LPA: data area 4");
    let mut hb = [0u8; 512];
    hb[1] = 1;
    let c = d.admin_write(sqe_of(0x09, 0, &[(10, 0x16)], 0), &hb);
    assert!(c.ok(), "{c:?}");
    let numd = 512 / 4 - 1;
    let (c, h) = d.admin_read(
        sqe_of(0x02, ALL, &[(10, numd << 16 | 1 << 8 | 0x07)], 0),
        512,
    );
    assert!(c.ok());
    let da3 = u16_at(&h, 12);
    assert_eq!(
        u32::from_le_bytes(h[16..20].try_into().unwrap()),
        u32::from(da3)
    );
}

fn inject(d: &mut Driver, kind: u16) -> RawCqe {
    d.admin_write(
        sqe_of(0x09, 0, &[(10, 0xc0), (11, 1), (14, 1)], 0),
        &erri(3, kind),
    )
}

fn exit_injection(d: &mut Driver) {
    assert!(d
        .admin(sqe_of(0x09, 0, &[(10, 0xc0), (11, 0), (14, 1)], 0))
        .ok());
}

/// ERRI-5, EVTDEF-1, EVTDEF-25, EVTDEF-36: each version accepts the event
/// types it defines that the drive supports (2.5: 1-0Bh, 2.6: up to 16h,
/// 2.7: also 17h, 19h and 1Ch-22h; not 1Ah/1Bh, PCIe AER) and refuses every
/// other with Invalid Field.
#[test]
fn erri_5_event_types_per_version() {
    let cases: [(OcpVersion, &[u16], &[u16]); 3] = [
        (OcpVersion::V2_5, &[1, 0x0b], &[0, 0x0c, 0x16, 0x1e]),
        (OcpVersion::V2_6, &[0x0c, 0x16], &[0x17, 0x1e, 0x22]),
        (
            OcpVersion::V2_7,
            &[0x16, 0x17, 0x19, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22],
            &[0, 0x18, 0x1a, 0x1b, 0x23, 0xffff],
        ),
    ];
    for (v, ok, refused) in cases {
        let mut d = up_version(v);
        for &t in ok {
            // Accepted and disarmed again before any command runs.
            let c = inject(&mut d, t);
            assert!(c.ok(), "{v:?} type {t:#x}: {c:?}");
            exit_injection(&mut d);
        }
        for &t in refused {
            let c = inject(&mut d, t);
            assert!(c.is(Status::INVALID_FIELD), "{v:?} type {t:#x}: {c:?}");
        }
    }
}

/// The delay the drive adds to the read at `t_ns`: how long its completion
/// stays away.
fn read_delay_ms(d: &mut Driver) -> u64 {
    let s = rd(d, 0);
    let cid = d.submit(1, s);
    let mut waited = 0;
    loop {
        if d.wait(1, cid).is_some() {
            return waited;
        }
        d.advance(1_000_000);
        waited += 1;
        assert!(waited < 1000, "read never completed");
    }
}

/// EVTDEF-31, EVTREC-3, SERRI-14, ERRI-8: random latency spikes of 5-30 ms
/// on I/O, at least 100 per minute, until the host exits event injection
/// (and gone after a power cycle).
#[test]
fn evtdef_31_random_latency_spikes_until_exit() {
    let mut d = up();
    assert!(inject(&mut d, 0x1e).ok());
    let mut spikes = 0;
    let mut elapsed_ms = 0;
    while elapsed_ms < 60_000 {
        let ms = read_delay_ms(&mut d);
        if ms > 0 {
            assert!((5..=31).contains(&ms), "spike of {ms} ms");
            spikes += 1;
        }
        elapsed_ms += ms + 50;
        d.advance(50_000_000);
    }
    assert!(spikes >= 100, "{spikes} spikes in a minute");
    // Admin commands are not delayed.
    assert!(d.admin(gf(0x07, 0)).ok());
    exit_injection(&mut d);
    for _ in 0..40 {
        assert_eq!(read_delay_ms(&mut d), 0, "no spike after exit");
        d.advance(50_000_000);
    }
    assert!(inject(&mut d, 0x1e).ok());
    assert!((0..40).any(|_| {
        d.advance(50_000_000);
        read_delay_ms(&mut d) > 0
    }));
    power_cycle(&mut d);
    for _ in 0..40 {
        assert_eq!(read_delay_ms(&mut d), 0, "no spike after a power cycle");
        d.advance(50_000_000);
    }
}

/// EVTDEF-32: reset to factory defaults restores NVMe and OCP features,
/// current and saved.
#[test]
fn evtdef_32_factory_defaults() {
    let mut d = up();
    let temp_default = get(&mut d, 0x04, 0);
    assert!(d.admin(sf(0x04, true, 300)).ok(), "TMPTH saved");
    assert!(d.admin(sf(0xc2, true, 2 << 30)).ok(), "EOL/PLP mode saved");
    let eol_default = 1;
    assert_eq!(get(&mut d, 0xc2, 0), 2);
    assert!(inject(&mut d, 0x1f).ok());
    let s = rd(&mut d, 0);
    assert!(d.io(1, s).ok(), "the triggering command runs");
    assert_eq!(get(&mut d, 0x04, 0), temp_default);
    assert_eq!(get(&mut d, 0x04, 2), temp_default, "saved TMPTH");
    assert_eq!(get(&mut d, 0xc2, 0) & 3, eol_default);
    assert_eq!(get(&mut d, 0xc2, 2) & 3, eol_default, "saved C2h");
}

/// EVTDEF-33, SMART-24: a supply voltage drop starts PLP processing, counted
/// in C0h's PLP Start Count (bytes 175:160).
#[test]
fn evtdef_33_supply_voltage_drop_counts_plp_start() {
    let mut d = up();
    let before = u64_at(&log(&mut d, 0xc0, 512), 160);
    assert!(inject(&mut d, 0x20).ok());
    let s = rd(&mut d, 0);
    assert!(d.io(1, s).ok());
    assert_eq!(u64_at(&log(&mut d, 0xc0, 512), 160), before + 1);
}

fn critical_warning(d: &mut Driver) -> u8 {
    log(d, 0x02, 512)[0]
}

/// EVTDEF-34, EVTDEF-35, EVTREC-3, SERRI-14, ERRI-8: Available Spare below
/// its threshold (Critical Warning bit 0, spare AER) until the host exits
/// event injection; volatile memory backup failure (bit 4, reliability AER)
/// until a power cycle.
#[test]
fn evtdef_34_35_spare_and_backup_conditions() {
    let mut d = up();
    let aer = d.submit(0, sqe_of(0x0c, 0, &[], 0));
    assert!(inject(&mut d, 0x21).ok());
    let s = rd(&mut d, 0);
    assert!(d.io(1, s).ok());
    let smart = log(&mut d, 0x02, 512);
    assert_eq!(smart[0] & 1, 1, "spare below threshold");
    assert!(
        smart[3] < smart[4],
        "available spare {} < threshold {}",
        smart[3],
        smart[4]
    );
    let e = d.wait(0, aer).expect("SMART AER");
    assert_eq!(e.dw0 & 7, 1, "SMART / health status");
    exit_injection(&mut d);
    assert_eq!(critical_warning(&mut d) & 1, 0, "cleared on exit");

    assert!(inject(&mut d, 0x22).ok());
    let s = rd(&mut d, 0);
    assert!(d.io(1, s).ok());
    assert_eq!(critical_warning(&mut d) & 0x10, 0x10, "backup failed");
    power_cycle(&mut d);
    assert_eq!(
        critical_warning(&mut d) & 0x10,
        0,
        "cleared by a power cycle"
    );
}

/// SLOG-13, SLOG-14: under OCP 2.7 the SMART / Health log reports lifetime
/// energy (OLEC, bytes 239:232, Wh rounded up) and the Interval Power
/// Measurement (bytes 243:240: type 0h NVM subsystem, scale 10b, a non-zero
/// value); both bytes stay 0 (not reported) before 2.7.
#[test]
fn slog_13_14_lifetime_energy_and_interval_power() {
    for v in OcpVersion::ALL {
        let mut d = up_version(v);
        let olec0 = u64_at(&log(&mut d, 0x02, 512), 232);
        for _ in 0..600 {
            d.advance(1_000_000_000);
        }
        let smart = log(&mut d, 0x02, 512);
        let olec = u64_at(&smart, 232);
        let ipm = u32::from_le_bytes(smart[240..244].try_into().unwrap());
        if v == OcpVersion::V2_7 {
            assert!(olec > olec0 && olec > 0, "OLEC {olec0} -> {olec}");
            assert_ne!(ipm & 0xffff, 0, "IPMV");
            assert_eq!((ipm >> 16) & 3, 0b10, "IPMS: 0.01 W");
            assert_eq!((ipm >> 20) & 0x3f, 0, "PMT: NVM subsystem");
            // Ten minutes at the measured power: OLEC rounds its energy up.
            let watts = f64::from(ipm & 0xffff) / 100.0;
            assert!(
                olec as f64 >= watts * 600.0 / 3600.0 - 1.0,
                "{olec} Wh at {watts} W"
            );
        } else {
            assert_eq!((olec, ipm), (0, 0), "{v:?}");
        }
        assert!(smart[244..].iter().all(|&b| b == 0), "reserved bytes");
    }
}

/// Armed error injection entries (Get Features C0h, Dword 0).
fn armed(d: &mut Driver) -> u32 {
    let (c, _) = d.admin_read(sqe_of(0x0a, 0, &[(10, 0xc0), (14, 1)], 0), 4064);
    assert!(c.ok(), "get C0h: {c:?}");
    c.dw0
}

/// Sanitize with SANACT `sanact` (010b block erase, 001b exit failure mode).
fn sanitize(d: &mut Driver, sanact: u32) -> RawCqe {
    d.admin(sqe_of(0x84, 0, &[(10, sanact)], 0))
}

/// SSTAT bits 2:0 of the Sanitize Status log (81h).
fn sanitize_state(d: &mut Driver) -> u16 {
    let (c, p) = d.admin_read(sqe_of(0x02, 0, &[(10, (128 - 1) << 16 | 0x81)], 0), 512);
    assert!(c.ok(), "sanitize log");
    u16_at(&p, 2) & 7
}

/// Total Number of Events of the Persistent Event log (0Dh), read through
/// a reporting context established and released around it.
fn pel_events(d: &mut Driver) -> u32 {
    let pel = |d: &mut Driver, lsp: u32| {
        let sqe = sqe_of(0x02, ALL, &[(10, (128 - 1) << 16 | lsp << 8 | 0x0d)], 0);
        let (c, p) = d.admin_read(sqe, 512);
        assert!(c.ok(), "log 0Dh, action {lsp}: {c:?}");
        p
    };
    let head = pel(d, 1);
    pel(d, 2);
    u32::from_le_bytes(head[4..8].try_into().unwrap())
}

/// EVTDEF-24, EVTREC-3: the next Sanitize command fails with Sanitize
/// Failed; the one after it runs.
#[test]
fn evtdef_24_sanitize_command_failure() {
    let mut d = up();
    assert!(inject(&mut d, 0x17).ok());
    let s = rd(&mut d, 0);
    assert!(d.io(1, s).ok(), "other commands are not affected");
    assert_eq!(armed(&mut d), 1);
    let c = sanitize(&mut d, 0b010);
    assert!(c.is(Status::SANITIZE_FAILED), "{c:?}");
    assert_eq!(sanitize_state(&mut d), 0, "no operation started");
    assert_eq!(armed(&mut d), 0);
    assert!(sanitize(&mut d, 0b010).ok());
    assert_eq!(sanitize_state(&mut d), 1, "completed");
}

/// EVTDEF-30: the next Sanitize command succeeds and its operation fails
/// (SSTAT 011b); without AUSE the failure is restricted: only a new
/// sanitize operation leaves it (NVMe 2.0 Base, 8.21).
#[test]
fn evtdef_30_sanitize_operation_failure() {
    let mut d = up();
    assert!(inject(&mut d, 0x1d).ok());
    assert!(sanitize(&mut d, 0b010).ok(), "the command succeeds");
    assert_eq!(sanitize_state(&mut d), 3, "the operation failed");
    assert_eq!(armed(&mut d), 0, "performed");
    let c = sanitize(&mut d, 0b001);
    assert!(
        c.is(Status::SANITIZE_FAILED),
        "no exit from a restricted failure: {c:?}"
    );
    assert!(sanitize(&mut d, 0b010).ok());
    assert_eq!(sanitize_state(&mut d), 1, "the next one completes");
}

/// EVTDEF-26, EVTREC-2: the next Format NVM with a User Data Erase erases
/// the user data (this device never replaces it by a cryptographic erase)
/// and performs the event.
#[test]
fn evtdef_26_format_uses_user_data_erase() {
    let mut d = up();
    assert!(inject(&mut d, 0x19).ok());
    let s = rd(&mut d, 0);
    assert!(d.io(1, s).ok());
    assert_eq!(armed(&mut d), 1, "waits for a Format NVM");
    d.env.storage.log.clear();
    assert!(
        d.admin(sqe_of(0x80, 1, &[(10, 1 << 9)], 0)).ok(),
        "SES 001b"
    );
    assert!(
        !d.env.storage.log.is_empty(),
        "the namespace's blocks are erased"
    );
    assert_eq!(armed(&mut d), 0, "performed");
}

/// EVTDEF-29, EVTREC-3, SERRI-14: the Persistent Event log is emptied and
/// stays empty until the host exits event injection; then it records
/// again.
#[test]
fn evtdef_29_clear_persistent_event_log_until_exit() {
    let mut d = up();
    assert!(pel_events(&mut d) > 0, "power-on events");
    assert!(inject(&mut d, 0x1c).ok());
    assert_eq!(pel_events(&mut d), 0, "cleared");
    // A Format records its start and completion, when the log records.
    assert!(d.admin(sqe_of(0x80, 1, &[], 0)).ok());
    assert_eq!(pel_events(&mut d), 0, "nothing recorded meanwhile");
    exit_injection(&mut d);
    assert!(d.admin(sqe_of(0x80, 1, &[], 0)).ok());
    assert!(pel_events(&mut d) >= 2, "format start and completion");
}
