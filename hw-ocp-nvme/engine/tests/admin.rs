// SPDX-License-Identifier: GPL-2.0-or-later
//! Admin commands: every command and its invalid-input statuses.
#![allow(clippy::shadow_unrelated, clippy::cognitive_complexity)] // long test scripts reuse names

use ocp_nvme_engine::ocp::OCP_UUID;
use ocp_nvme_engine::spec::status::Status;
use ocp_nvme_engine::testing::{sqe_of, Driver};

fn up() -> Driver {
    let mut d = Driver::new(Driver::small_config());
    d.bring_up(1);
    d
}

fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes(b[o..o + 4].try_into().unwrap())
}
fn u64_at(b: &[u8], o: usize) -> u64 {
    u64::from_le_bytes(b[o..o + 8].try_into().unwrap())
}

/// Get Log Page sqe: lid, numd (dwords, 1-based), extra cdw10 bits, lpo, cdw14.
fn glp(
    lid: u8,
    dwords: u32,
    cdw10_extra: u32,
    lpo: u64,
    cdw14: u32,
    nsid: u32,
) -> ocp_nvme_engine::spec::cmd::Sqe {
    let numd = dwords - 1;
    sqe_of(
        0x02,
        nsid,
        &[
            (10, (numd & 0xffff) << 16 | cdw10_extra | u32::from(lid)),
            (11, numd >> 16),
            (12, lpo as u32),
            (13, (lpo >> 32) as u32),
            (14, cdw14),
        ],
        0,
    )
}

#[test]
fn unknown_opcodes_fuse_and_psdt() {
    let mut d = up();
    for op in [0x03u8, 0x0e, 0x16, 0x19, 0x1a, 0x81, 0x82, 0x85, 0xc0, 0xff] {
        assert!(
            d.admin(sqe_of(op, 0, &[], 0)).is(Status::INVALID_OPCODE),
            "op {op:#x}"
        );
    }
    let mut s = sqe_of(0x18, 0, &[], 0);
    s.dw[0] |= 1 << 8;
    assert!(d.admin(s).is(Status::INVALID_FIELD));
    let mut s = sqe_of(0x06, 0, &[(10, 1)], 0x10000);
    s.dw[0] |= 1 << 14;
    assert!(d.admin(s).is(Status::INVALID_FIELD));
    // Errors are logged.
    assert!(d.ctrl.counters().error_log_entries >= 12);
}

#[test]
fn identify_every_cns() {
    let mut d = up();
    let (c, b) = d.admin_read(sqe_of(0x06, 0, &[(10, 1)], 0), 4096);
    assert!(c.ok());
    assert_eq!(b[258], 3); // ACL
    assert_eq!(b[259], 3); // AERL
    assert_eq!(b[260], 1 | 3 << 1 | 1 << 4); // FRMW
    assert_eq!(u16::from_le_bytes([b[256], b[257]]), 0x51e); // OACS
    assert_eq!(u32_at(&b, 536), 0x1_0001); // SGLS
    let (c, b) = d.admin_read(sqe_of(0x06, 1, &[(10, 0)], 0), 4096);
    assert!(c.ok());
    assert_eq!(u64_at(&b, 0), (4 << 20) / 512);
    assert_eq!(b[33], 0x09); // DLFEAT
    let (c, b) = d.admin_read(sqe_of(0x06, 0, &[(10, 2)], 0), 4096);
    assert!(c.ok());
    assert_eq!(u32_at(&b, 0), 1);
    assert_eq!(u32_at(&b, 4), 0);
    let (_, b) = d.admin_read(sqe_of(0x06, 1, &[(10, 2)], 0), 4096);
    assert_eq!(u32_at(&b, 0), 0);
    let (c, b) = d.admin_read(sqe_of(0x06, 1, &[(10, 3)], 0), 4096);
    assert!(c.ok());
    assert_eq!((b[0], b[1]), (1, 8));
    assert_eq!((b[12], b[13]), (2, 16));
    assert_eq!((b[32], b[33]), (4, 1));
    let (c, _) = d.admin_read(sqe_of(0x06, 1, &[(10, 5)], 0), 4096);
    assert!(c.ok());
    let (c, _) = d.admin_read(sqe_of(0x06, 0, &[(10, 6)], 0), 4096);
    assert!(c.ok());
    let (c, b) = d.admin_read(sqe_of(0x06, 0, &[(10, 7)], 0), 4096);
    assert!(c.ok());
    assert_eq!(u32_at(&b, 0), 1);
    let (c, b) = d.admin_read(sqe_of(0x06, 1, &[(10, 8)], 0), 4096);
    assert!(c.ok());
    assert_eq!(b[14], 1);
    let (c, b) = d.admin_read(sqe_of(0x06, 0, &[(10, 0x17)], 0), 4096);
    assert!(c.ok());
    assert_eq!(&b[48..64], &OCP_UUID);
    // Invalid CNS, NSID, CSI.
    for cns in [0x04u32, 0x09, 0x14, 0x1c, 0xff] {
        assert!(d
            .admin_read(sqe_of(0x06, 1, &[(10, cns)], 0), 4096)
            .0
            .is(Status::INVALID_FIELD));
    }
    // An inactive NSID reads zeroes, an invalid one fails (NVMe 2.0 Base,
    // 5.17.2.1); the descriptor list needs an active namespace.
    for nsid in [0u32, 33, 0xffff_fffe] {
        assert!(d
            .admin_read(sqe_of(0x06, nsid, &[(10, 0)], 0), 4096)
            .0
            .is(Status::INVALID_NAMESPACE));
    }
    let (c, b) = d.admin_read(sqe_of(0x06, 2, &[(10, 0)], 0), 4096);
    assert!(c.ok() && b.iter().all(|&x| x == 0));
    for nsid in [0u32, 2, 0xffff_ffff] {
        assert!(d
            .admin_read(sqe_of(0x06, nsid, &[(10, 3)], 0), 4096)
            .0
            .is(Status::INVALID_NAMESPACE));
    }
    assert!(d
        .admin_read(sqe_of(0x06, 0xffff_fffe, &[(10, 2)], 0), 4096)
        .0
        .is(Status::INVALID_NAMESPACE));
    assert!(d
        .admin_read(sqe_of(0x06, 1, &[(10, 5), (11, 2 << 24)], 0), 4096)
        .0
        .is(Status::INVALID_FIELD));
    assert!(d
        .admin_read(sqe_of(0x06, 0, &[(10, 6), (11, 1 << 24)], 0), 4096)
        .0
        .is(Status::INVALID_FIELD));
    assert!(d
        .admin_read(sqe_of(0x06, 0, &[(10, 7), (11, 1 << 24)], 0), 4096)
        .0
        .is(Status::INVALID_FIELD));
    // Unaligned PRP1 and unreachable buffer.
    assert!(d
        .admin(sqe_of(0x06, 0, &[(10, 1)], 0x10001))
        .is(Status::INVALID_PRP_OFFSET));
    d.env.mem.faults.push((0x7000_0000, 4096));
    let c = d.admin(sqe_of(0x06, 0, &[(10, 1)], 0x7000_0000));
    assert!(c.is(Status::DATA_TRANSFER_ERROR));
}

#[test]
fn get_log_page_rules() {
    let mut d = up();
    // Supported log pages.
    let (c, b) = d.admin_read(glp(0x00, 256, 0, 0, 0, 0), 1024);
    assert!(c.ok());
    for lid in 0..=8 {
        assert_eq!(u32_at(&b, lid * 4) & 1, 1);
    }
    for lid in [0xc0usize, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc9] {
        assert_eq!(u32_at(&b, lid * 4), 1, "lid {lid:#x}");
    }
    assert_eq!(u32_at(&b, 0xc8 * 4), 0);
    // Offsets: read the SMART log in two halves.
    let (_, whole) = d.admin_read(glp(0x02, 128, 0, 0, 0, 0xffff_ffff), 512);
    let (c, half) = d.admin_read(glp(0x02, 64, 0, 256, 0, 0xffff_ffff), 256);
    assert!(c.ok());
    assert_eq!(&half[..], &whole[256..]);
    // Beyond the log: zero filled; offset beyond the end: invalid.
    let (c, tail) = d.admin_read(glp(0x02, 128, 0, 384, 0, 0xffff_ffff), 512);
    assert!(c.ok());
    assert!(tail[128..].iter().all(|&x| x == 0));
    assert!(d
        .admin_read(glp(0x02, 1, 0, 516, 0, 0), 4)
        .0
        .is(Status::INVALID_FIELD));
    assert!(d
        .admin_read(glp(0x02, 1, 0, 2, 0, 0), 4)
        .0
        .is(Status::INVALID_FIELD));
    // UUID index: 0 and 1 valid.
    assert!(d.admin_read(glp(0x02, 128, 0, 0, 1, 0), 512).0.ok());
    assert!(d
        .admin_read(glp(0x02, 128, 0, 0, 2, 0), 512)
        .0
        .is(Status::INVALID_FIELD));
    // Offset type index, CSI, unsupported LIDs, vendor LIDs, NSID, NUMD.
    assert!(d
        .admin_read(glp(0x02, 128, 0, 0, 1 << 23, 0), 512)
        .0
        .is(Status::INVALID_FIELD));
    assert!(d
        .admin_read(glp(0x02, 128, 0, 0, 1 << 24, 0), 512)
        .0
        .is(Status::INVALID_FIELD));
    for lid in [0x0au8, 0x0b, 0x70, 0x80, 0xbf] {
        assert!(
            d.admin_read(glp(lid, 128, 0, 0, 0, 0), 512)
                .0
                .is(Status::INVALID_LOG_PAGE),
            "lid {lid:#x}"
        );
    }
    for lid in [0xc8u8, 0xca, 0xff] {
        assert!(d
            .admin_read(glp(lid, 128, 0, 0, 1, 0xffff_ffff), 512)
            .0
            .is(Status::INVALID_LOG_PAGE));
    }
    // UUID index 2 is not in the UUID list.
    assert!(d
        .admin_read(glp(0xc0, 128, 0, 0, 2, 0xffff_ffff), 512)
        .0
        .is(Status::INVALID_FIELD));
    assert!(d
        .admin_read(glp(0x02, 128, 0, 0, 0, 2), 512)
        .0
        .is(Status::INVALID_NAMESPACE));
    let huge = glp(0x02, 0x4_0001, 0, 0, 0, 0);
    assert!(d.admin(huge).is(Status::INVALID_FIELD));
    // Large NUMD within MDTS is fine (NUMDU used).
    let (c, _) = d.admin_read(glp(0x05, 0x1_0000, 0, 0, 0, 0), 0x4_0000);
    assert!(c.ok());
}

#[test]
fn error_log_and_changed_namespaces() {
    let mut d = up();
    assert!(d.admin(sqe_of(0x99, 0, &[], 0)).is(Status::INVALID_OPCODE));
    let (c, b) = d.admin_read(glp(0x01, 16, 0, 0, 0, 0), 64);
    assert!(c.ok());
    assert!(u64_at(&b, 0) >= 1);
    assert_eq!(u16::from_le_bytes([b[8], b[9]]), 0);
    assert_eq!(u16::from_le_bytes([b[12], b[13]]) >> 1 & 0xff, 0x01);
    let (c, b) = d.admin_read(glp(0x04, 1024, 0, 0, 0, 0), 4096);
    assert!(c.ok());
    assert_eq!(u32_at(&b, 0), 0);
}

#[test]
fn commands_supported_and_effects() {
    let mut d = up();
    let (c, b) = d.admin_read(glp(0x05, 1024, 0, 0, 0, 0), 4096);
    assert!(c.ok());
    for op in [
        0x00usize, 0x01, 0x02, 0x04, 0x05, 0x06, 0x08, 0x09, 0x0a, 0x0c, 0x10, 0x11, 0x14, 0x18,
        0x7c, 0x80,
    ] {
        assert_eq!(u32_at(&b, op * 4) & 1, 1, "admin {op:#x}");
    }
    for op in [0x00usize, 0x01, 0x02, 0x05, 0x08, 0x09, 0x0c] {
        assert_eq!(u32_at(&b, 1024 + op * 4) & 1, 1, "io {op:#x}");
    }
    assert_eq!(u32_at(&b, 0x0d * 4) & 1, 1, "Namespace Management");
    assert_eq!(u32_at(&b, 0x15 * 4) & 1, 1, "Namespace Attachment");
    assert_eq!(u32_at(&b, 1024 + 0x04 * 4) & 1, 1, "Write Uncorrectable");
    assert_eq!(u32_at(&b, 0x03 * 4), 0);
}

#[test]
fn telemetry_logs() {
    let mut d = up();
    let (c, b) = d.admin_read(glp(0x07, 128, 1 << 8, 0, 0, 0xffff_ffff), 512);
    assert!(c.ok());
    assert_eq!(b[0], 0x07);
    assert_eq!(&b[5..8], &[0x00, 0x54, 0x52]);
    assert_eq!(b[381], 1); // generation after create
    let (_, b) = d.admin_read(glp(0x07, 128, 0, 0, 0, 0xffff_ffff), 512);
    assert_eq!(b[381], 1);
    let (c, b) = d.admin_read(glp(0x08, 128, 0, 0, 0, 0xffff_ffff), 512);
    assert!(c.ok());
    assert_eq!(b[0], 0x08);
    assert_eq!(b[382], 0);
}

#[test]
fn features_select_and_save() {
    let mut d = up();
    let gf = |fid: u32, sel: u32, c11: u32| sqe_of(0x0a, 0, &[(10, sel << 8 | fid), (11, c11)], 0);
    let sf = |fid: u32, sv: bool, c11: u32| {
        sqe_of(0x09, 0, &[(10, u32::from(sv) << 31 | fid), (11, c11)], 0)
    };
    // Capabilities.
    assert_eq!(d.admin(gf(0x01, 3, 0)).dw0, 0b101);
    assert_eq!(d.admin(gf(0x07, 3, 0)).dw0, 0b100);
    let mut s = gf(0x05, 3, 0);
    s.dw[1] = 1;
    assert_eq!(d.admin(s).dw0, 0b111);
    assert!(d.admin(gf(0x05, 3, 0)).is(Status::INVALID_NAMESPACE));
    // Save arbitration, change current: saved survives a reset, current does not.
    assert!(d.admin(sf(0x01, true, 0x0102_0304)).ok());
    assert!(d.admin(sf(0x01, false, 0x0000_0002)).ok());
    assert_eq!(d.admin(gf(0x01, 0, 0)).dw0, 2);
    assert_eq!(d.admin(gf(0x01, 1, 0)).dw0, 3);
    assert_eq!(d.admin(gf(0x01, 2, 0)).dw0, 0x0102_0304);
    d.disable();
    d.bring_up(1);
    assert_eq!(d.admin(gf(0x01, 0, 0)).dw0, 0x0102_0304);
    // Not saveable.
    assert!(d.admin(sf(0x07, true, 0)).is(Status::FEATURE_NOT_SAVEABLE));
    assert!(d.admin(sf(0x0e, true, 0)).is(Status::FEATURE_NOT_SAVEABLE));
    // Invalid select, unsupported FIDs, vendor FIDs, UUID index.
    assert!(d.admin(gf(0x01, 4, 0)).is(Status::INVALID_FIELD));
    for fid in [0x00u32, 0x03, 0x0c, 0x0d, 0x10, 0x11, 0x7f, 0x80] {
        assert!(
            d.admin(gf(fid, 0, 0)).is(Status::INVALID_FIELD),
            "fid {fid:#x}"
        );
        assert!(
            d.admin(sf(fid, false, 0)).is(Status::INVALID_FIELD),
            "fid {fid:#x}"
        );
    }
    // CAh and CBh are OCP 2.7 features (the default drive has them); CCh and
    // above are not OCP features.
    for fid in [0xccu32, 0xff] {
        let mut s = gf(fid, 0, 0);
        s.dw[14] = 1;
        assert!(d.admin(s).is(Status::INVALID_FIELD));
        let mut s = sf(fid, false, 0);
        s.dw[14] = 1;
        assert!(d.admin(s).is(Status::INVALID_FIELD));
    }
    let mut s = gf(0x01, 0, 0);
    s.dw[14] = 1;
    assert!(d.admin(s).ok());
    s.dw[14] = 3;
    assert!(d.admin(s).is(Status::INVALID_FIELD));
    // Non namespace-specific feature with a namespace.
    let mut s = sf(0x01, false, 3);
    s.dw[1] = 1;
    assert!(d.admin(s).is(Status::FEATURE_NOT_NS_SPECIFIC));
    let mut s = sf(0x05, false, 10);
    s.dw[1] = 2;
    assert!(d.admin(s).is(Status::INVALID_NAMESPACE));
}

#[test]
fn each_feature_values() {
    let mut d = up();
    let gf = |fid: u32, c11: u32| sqe_of(0x0a, 0, &[(10, fid), (11, c11)], 0);
    let sf = |fid: u32, c11: u32| sqe_of(0x09, 0, &[(10, fid), (11, c11)], 0);
    // Power management: PS <= NPSS.
    assert!(d.admin(sf(0x02, 2)).ok());
    assert!(d.admin(sf(0x02, 2)).ok());
    assert_eq!(d.admin(gf(0x02, 0)).dw0, 2);
    assert_eq!(d.ctrl.counters().power_state_changes, 1);
    assert!(d.admin(sf(0x02, 3)).is(Status::INVALID_FIELD));
    // Temperature threshold: over/under, sensors.
    assert_eq!(d.admin(gf(0x04, 0)).dw0, 343);
    assert!(d.admin(sf(0x04, 1 << 20 | 250)).ok());
    assert_eq!(d.admin(gf(0x04, 1 << 20)).dw0 & 0xffff, 250);
    assert!(d.admin(sf(0x04, 1 << 16 | 300)).is(Status::INVALID_FIELD));
    assert!(d.admin(sf(0x04, 2 << 20 | 300)).is(Status::INVALID_FIELD));
    assert!(d.admin(sf(0x04, 0xf << 16 | 350)).ok());
    // Error recovery: DULBE unsupported.
    let ns = |mut s: ocp_nvme_engine::spec::cmd::Sqe, nsid: u32| {
        s.dw[1] = nsid;
        s
    };
    assert!(d.admin(ns(sf(0x05, 100), 1)).ok());
    assert_eq!(d.admin(ns(gf(0x05, 0), 1)).dw0, 100);
    assert!(d.admin(ns(sf(0x05, 200), 0xffff_ffff)).ok());
    assert_eq!(d.admin(ns(gf(0x05, 0), 1)).dw0, 200);
    assert!(d
        .admin(ns(gf(0x05, 0), 0xffff_ffff))
        .is(Status::INVALID_NAMESPACE));
    assert!(d.admin(sf(0x05, 100)).is(Status::INVALID_NAMESPACE));
    assert!(d.admin(ns(sf(0x05, 1 << 16), 1)).is(Status::INVALID_FIELD));
    assert!(d.admin(ns(sf(0x01, 0), 2)).is(Status::INVALID_NAMESPACE));
    // Volatile write cache.
    assert!(d.admin(sf(0x06, 0)).ok());
    assert_eq!(d.admin(gf(0x06, 0)).dw0, 0);
    // Interrupt coalescing and vector configuration.
    assert!(d.admin(sf(0x08, 0x0a05)).ok());
    assert_eq!(d.admin(gf(0x08, 0)).dw0, 0x0a05);
    assert_eq!(d.admin(gf(0x09, 0)).dw0, 1 << 16);
    assert_eq!(d.admin(gf(0x09, 1)).dw0, 1);
    assert!(d.admin(gf(0x09, 5)).is(Status::INVALID_FIELD));
    assert!(d.admin(sf(0x09, 0)).is(Status::INVALID_FIELD));
    assert!(d.admin(sf(0x09, 7 | 1 << 16)).is(Status::INVALID_FIELD));
    // Write atomicity, async event config.
    assert!(d.admin(sf(0x0a, 1)).ok());
    assert_eq!(d.admin(gf(0x0a, 0)).dw0, 1);
    assert!(d.admin(sf(0x0b, 0xffff_ffff)).ok());
    assert_eq!(d.admin(gf(0x0b, 0)).dw0, 0x71f);
    // Keep alive: rounded to KAS.
    assert!(d.admin(sf(0x0f, 1)).ok());
    assert_eq!(d.admin(gf(0x0f, 0)).dw0, 1000);
    assert!(d.admin(sf(0x0f, 0)).ok());
    // Timestamp round trip.
    let mut ts = [0u8; 8];
    ts[..6].copy_from_slice(&1_000_000u64.to_le_bytes()[..6]);
    assert!(d.admin_write(sqe_of(0x09, 0, &[(10, 0x0e)], 0), &ts).ok());
    d.advance(5_000_000);
    let (c, b) = d.admin_read(sqe_of(0x0a, 0, &[(10, 0x0e)], 0), 8);
    assert!(c.ok());
    assert_eq!(u64_at(&[&b[..6], &[0, 0]].concat(), 0), 1_000_005);
    assert_eq!(b[6] >> 1 & 7, 1);
    let now = d.env.clock.ns.get();
    assert_eq!(d.ctrl.timestamp_ms(now), 1_000_005);
    // Host behavior.
    let mut hb = [0u8; 512];
    hb[0] = 1;
    assert!(d.admin_write(sqe_of(0x09, 0, &[(10, 0x16)], 0), &hb).ok());
    let (c, b) = d.admin_read(sqe_of(0x0a, 0, &[(10, 0x16)], 0), 512);
    assert!(c.ok());
    assert_eq!(b[0], 1);
    hb[0] = 2;
    assert!(d
        .admin_write(sqe_of(0x09, 0, &[(10, 0x16)], 0), &hb)
        .is(Status::INVALID_FIELD));
}

#[test]
fn temperature_threshold_raises_smart_event() {
    let mut d = up();
    let aer = d.submit(0, sqe_of(0x0c, 0, &[], 0));
    assert!(d.admin(sqe_of(0x09, 0, &[(10, 4), (11, 300)], 0)).ok());
    let c = d.wait(0, aer).unwrap();
    assert_eq!(c.dw0, 0x0002_0101);
    let (_, smart) = d.admin_read(glp(0x02, 128, 0, 0, 0, 0), 512);
    assert_eq!(smart[0] & 2, 2);
    assert_eq!(u16::from_le_bytes([smart[1], smart[2]]), 313);
}

#[test]
fn aer_limit_and_abort() {
    let mut d = up();
    let cids: Vec<u16> = (0..4)
        .map(|_| d.submit(0, sqe_of(0x0c, 0, &[], 0)))
        .collect();
    assert!(d
        .admin(sqe_of(0x0c, 0, &[], 0))
        .is(Status::AER_LIMIT_EXCEEDED));
    let c = d.admin(sqe_of(0x08, 0, &[(10, u32::from(cids[1]) << 16)], 0));
    assert!(c.ok());
    assert_eq!(c.dw0 & 1, 0);
    let a = d.wait(0, cids[1]).unwrap();
    assert!(a.is(Status::ABORT_REQUESTED));
    // Unknown command: not aborted.
    let c = d.admin(sqe_of(0x08, 0, &[(10, 0x7777_0001)], 0));
    assert_eq!(c.dw0 & 1, 1);
}

#[test]
fn firmware_download_and_commit() {
    let mut d = up();
    let dl = |numd: u32, ofst: u32| sqe_of(0x11, 0, &[(10, numd), (11, ofst)], 0);
    let commit = |fs: u32, ca: u32| sqe_of(0x10, 0, &[(10, ca << 3 | fs)], 0);
    // Commit without an image.
    assert!(d.admin(commit(2, 0)).is(Status::INVALID_FIRMWARE_IMAGE));
    let mut img = b"2.0.0-RC".to_vec();
    img.resize(8192, 0xa5);
    assert!(d.admin_write(dl(1023, 0), &img[..4096]).ok());
    assert!(d.admin_write(dl(1023, 1024), &img[4096..]).ok());
    // Slot 1 is read-only, slot 4 does not exist, boot partitions unsupported.
    assert!(d.admin(commit(1, 1)).is(Status::INVALID_FIRMWARE_SLOT));
    assert!(d.admin(commit(4, 1)).is(Status::INVALID_FIRMWARE_SLOT));
    assert!(d.admin(commit(2, 6)).is(Status::INVALID_FIELD));
    // Replace slot 2, activate at next reset.
    assert!(d.admin(commit(2, 1)).ok());
    let (_, log) = d.admin_read(glp(0x03, 128, 0, 0, 0, 0), 512);
    assert_eq!(log[0], 1 | 2 << 4);
    assert_eq!(&log[16..24], b"2.0.0-RC");
    d.disable();
    d.bring_up(1);
    let (_, log) = d.admin_read(glp(0x03, 128, 0, 0, 0, 0), 512);
    assert_eq!(log[0], 2);
    let (_, id) = d.admin_read(sqe_of(0x06, 0, &[(10, 1)], 0), 4096);
    assert_eq!(&id[64..72], b"2.0.0-RC");
    let (_, c2) = d.admin_read(glp(0xc2, 1024, 0, 0, 1, 0xffff_ffff), 4096);
    assert_eq!(u32_at(&c2, 4), 1, "C2h valid entries");
    // Activate slot 1 immediately: notice event.
    assert!(d
        .admin(sqe_of(0x09, 0, &[(10, 0x0b), (11, 1 << 9)], 0))
        .ok());
    let aer = d.submit(0, sqe_of(0x0c, 0, &[], 0));
    assert!(d.admin(commit(1, 3)).ok());
    let c = d.wait(0, aer).unwrap();
    assert_eq!(c.dw0, 0x0003_0102);
    // Activating an empty slot fails.
    assert!(d.admin(commit(3, 2)).is(Status::INVALID_FIRMWARE_IMAGE));
    // Out-of-order download poisons the image.
    assert!(d.admin_write(dl(0, 0), &[1, 2, 3, 4]).ok());
    assert!(d.admin_write(dl(0, 2048), &[1, 2, 3, 4]).ok());
    assert!(d.admin(commit(3, 0)).is(Status::INVALID_FIRMWARE_IMAGE));
    // FWUG 01h: pieces start on 4 KiB boundaries (OCP FWUP-29).
    let (_, id) = d.admin_read(sqe_of(0x06, 0, &[(10, 1)], 0), 4096);
    assert_eq!(id[319], 1, "FWUG");
    assert!(d
        .admin_write(dl(0, 5), &[1, 2, 3, 4])
        .is(Status::INVALID_FIELD));
    // Too large.
    assert!(d.admin(dl(0, 0x10_0000)).is(Status::INVALID_FIELD));
}

#[test]
fn firmware_commit_requires_reset_when_configured() {
    let mut cfg = Driver::small_config();
    cfg.fw_activate_without_reset = false;
    let mut d = Driver::new(cfg);
    d.bring_up(1);
    assert!(d
        .admin_write(sqe_of(0x11, 0, &[(10, 1), (11, 0)], 0), b"NEWFW123")
        .ok());
    let c = d.admin(sqe_of(0x10, 0, &[(10, 3 << 3 | 2)], 0));
    assert!(c.is(Status::FW_REQUIRES_CONTROLLER_RESET));
    d.disable();
    d.bring_up(1);
    let (_, id) = d.admin_read(sqe_of(0x06, 0, &[(10, 1)], 0), 4096);
    assert_eq!(&id[64..72], b"NEWFW123");
}

#[test]
fn format_nvm() {
    let mut d = up();
    d.env.storage.disk[0] = 0x55;
    let aer = d.submit(0, sqe_of(0x0c, 0, &[], 0));
    assert!(d
        .admin(sqe_of(0x09, 0, &[(10, 0x0b), (11, 1 << 8)], 0))
        .ok());
    assert!(d.admin(sqe_of(0x80, 1, &[(10, 1)], 0)).ok());
    assert_eq!(d.env.storage.disk[0], 0);
    let c = d.wait(0, aer).unwrap();
    assert_eq!(c.dw0, 0x0004_0002);
    let (_, ns) = d.admin_read(sqe_of(0x06, 1, &[(10, 0)], 0), 4096);
    assert_eq!(ns[26], 1);
    assert_eq!(u64_at(&ns, 0), (4 << 20) / 4096);
    let (_, l) = d.admin_read(glp(0x04, 1024, 0, 0, 0, 0), 4096);
    assert_eq!(u32_at(&l, 0), 1);
    let (_, l) = d.admin_read(glp(0x04, 1024, 0, 0, 0, 0), 4096);
    assert_eq!(u32_at(&l, 0), 0);
    // Invalid format, PI, SES, namespace.
    assert!(d
        .admin(sqe_of(0x80, 1, &[(10, 2)], 0))
        .is(Status::INVALID_FORMAT));
    assert!(d
        .admin(sqe_of(0x80, 1, &[(10, 1 << 5)], 0))
        .is(Status::INVALID_FORMAT));
    assert!(d
        .admin(sqe_of(0x80, 1, &[(10, 3 << 9)], 0))
        .is(Status::INVALID_FIELD));
    assert!(d
        .admin(sqe_of(0x80, 2, &[(10, 0)], 0))
        .is(Status::INVALID_NAMESPACE));
    assert!(d.admin(sqe_of(0x80, 0xffff_ffff, &[(10, 1 << 9)], 0)).ok());
    // Format while formatting, and I/O during a format.
    d.auto_complete = false;
    let f = d.submit(0, sqe_of(0x80, 1, &[(10, 0)], 0));
    assert!(d
        .wait_no_storage(0, sqe_of(0x80, 1, &[(10, 0)], 0))
        .is(Status::FORMAT_IN_PROGRESS));
    d.auto_complete = true;
    let c = d.wait(0, f).unwrap();
    assert!(c.ok());
}

trait NoStorage {
    fn wait_no_storage(
        &mut self,
        q: u16,
        s: ocp_nvme_engine::spec::cmd::Sqe,
    ) -> ocp_nvme_engine::testing::RawCqe;
}
impl NoStorage for Driver {
    fn wait_no_storage(
        &mut self,
        q: u16,
        s: ocp_nvme_engine::spec::cmd::Sqe,
    ) -> ocp_nvme_engine::testing::RawCqe {
        let cid = self.submit(q, s);
        let all = self.reap(q);
        let pos = all
            .iter()
            .position(|c| c.cid == cid)
            .expect("inline completion");
        for (i, c) in all.iter().enumerate() {
            if i != pos {
                self.stash[q as usize].push(*c);
            }
        }
        all[pos]
    }
}

#[test]
fn format_read_only_namespace() {
    let mut cfg = Driver::small_config();
    cfg.read_only = true;
    let mut d = Driver::new(cfg);
    d.bring_up(1);
    assert!(d
        .admin(sqe_of(0x80, 1, &[(10, 1)], 0))
        .is(Status::NAMESPACE_WRITE_PROTECTED));
}

#[test]
fn device_self_test() {
    let mut d = up();
    assert!(d.admin(sqe_of(0x14, 1, &[(10, 1)], 0)).ok());
    assert!(d
        .admin(sqe_of(0x14, 1, &[(10, 2)], 0))
        .is(Status::SELF_TEST_IN_PROGRESS));
    d.advance(1_000_000_000);
    let (c, log) = d.admin_read(glp(0x06, 141, 0, 0, 0, 0), 564);
    assert!(c.ok());
    assert_eq!(log[0], 1);
    assert_eq!(log[1], 50);
    d.advance(1_000_000_000);
    let (_, log) = d.admin_read(glp(0x06, 141, 0, 0, 0, 0), 564);
    assert_eq!(log[0], 0);
    assert_eq!(log[4], 0x10); // short, completed without error
    assert_eq!(log[4 + 28], 0x0f); // unused
                                   // Extended, aborted by command.
    assert!(d.admin(sqe_of(0x14, 0xffff_ffff, &[(10, 2)], 0)).ok());
    assert!(d.admin(sqe_of(0x14, 0, &[(10, 0xf)], 0)).ok());
    let (_, log) = d.admin_read(glp(0x06, 141, 0, 0, 0, 0), 564);
    assert_eq!(log[4], 0x21);
    assert_eq!(log[4 + 28], 0x10);
    // Aborted by reset.
    assert!(d.admin(sqe_of(0x14, 0, &[(10, 1)], 0)).ok());
    d.disable();
    d.bring_up(1);
    let (_, log) = d.admin_read(glp(0x06, 141, 0, 0, 0, 0), 564);
    assert_eq!(log[4], 0x12);
    // Invalid code and namespace.
    assert!(d
        .admin(sqe_of(0x14, 0, &[(10, 3)], 0))
        .is(Status::INVALID_FIELD));
    assert!(d
        .admin(sqe_of(0x14, 5, &[(10, 1)], 0))
        .is(Status::INVALID_NAMESPACE));
}

#[test]
fn feature_identifiers_effects_log() {
    let mut d = up();
    let (c, b) = d.admin_read(glp(0x12, 256, 0, 0, 0, 0), 1024);
    assert!(c.ok());
    for fid in [
        0x01usize, 0x02, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0e, 0x0f, 0x16,
    ] {
        assert_eq!(u32_at(&b, fid * 4) & 1, 1, "fid {fid:#x}");
    }
    assert_eq!(u32_at(&b, 0x05 * 4) >> 20 & 3, 1); // namespace scope
    assert_eq!(u32_at(&b, 4) >> 20 & 3, 2); // controller scope
    assert_eq!(u32_at(&b, 0x03 * 4), 0);
    let (_, s) = d.admin_read(glp(0x00, 256, 0, 0, 0, 0), 1024);
    assert_eq!(u32_at(&s, 0x12 * 4) & 1, 1);
}

#[test]
fn changed_ns_list_cleared_even_with_rae() {
    let mut d = up();
    assert!(d.admin(sqe_of(0x80, 1, &[(10, 0)], 0)).ok());
    let (_, l) = d.admin_read(glp(0x04, 1024, 1 << 15, 0, 0, 0), 4096);
    assert_eq!(u32_at(&l, 0), 1);
    let (_, l) = d.admin_read(glp(0x04, 1024, 1 << 15, 0, 0, 0), 4096);
    assert_eq!(u32_at(&l, 0), 0);
}

#[test]
fn rae_keeps_events_masked() {
    let mut d = up();
    let aer = d.submit(0, sqe_of(0x0c, 0, &[], 0));
    assert!(d.admin(sqe_of(0x09, 0, &[(10, 4), (11, 300)], 0)).ok());
    assert_eq!(d.wait(0, aer).unwrap().dw0, 0x0002_0101);
    let aer2 = d.submit(0, sqe_of(0x0c, 0, &[], 0));
    // Another SMART event while masked.
    assert!(d
        .admin(sqe_of(0x09, 0, &[(10, 4), (11, 1 << 20 | 400)], 0))
        .ok());
    assert!(d.wait(0, aer2).is_none());
    // RAE = 1: still masked.
    let (c, _) = d.admin_read(glp(0x02, 128, 1 << 15, 0, 0, 0), 512);
    assert!(c.ok());
    assert!(d.wait(0, aer2).is_none());
    // RAE = 0 clears the mask; the condition is re-checked on the next change.
    let (c, _) = d.admin_read(glp(0x02, 128, 0, 0, 0, 0), 512);
    assert!(c.ok());
    assert!(d.admin(sqe_of(0x09, 0, &[(10, 4), (11, 301)], 0)).ok());
    assert_eq!(d.wait(0, aer2).unwrap().dw0, 0x0002_0101);
}

#[test]
fn firmware_replace_without_activation() {
    let mut d = up();
    assert!(d
        .admin_write(sqe_of(0x11, 0, &[(10, 1), (11, 0)], 0), b"FWSLOT3X")
        .ok());
    assert!(d.admin(sqe_of(0x10, 0, &[(10, 3)], 0)).ok());
    let (_, log) = d.admin_read(glp(0x03, 128, 0, 0, 0, 0), 512);
    assert_eq!(log[0], 1);
    assert_eq!(&log[24..32], b"FWSLOT3X");
    // The controller picks a slot when FS = 0.
    assert!(d
        .admin_write(sqe_of(0x11, 0, &[(10, 1), (11, 0)], 0), &[0u8; 8])
        .ok());
    assert!(d.admin(sqe_of(0x10, 0, &[(10, 0)], 0)).ok());
    let (_, log) = d.admin_read(glp(0x03, 128, 0, 0, 0, 0), 512);
    assert_eq!(log[16], b'F'); // checksum-derived revision in slot 2
}

#[test]
fn health_properties_raise_smart_events() {
    let mut d = up();
    let aer = d.submit(0, sqe_of(0x0c, 0, &[], 0));
    {
        let mut h = d.env.host();
        d.ctrl
            .set_health_property("available-spare", 50, &mut h)
            .unwrap();
    }
    assert!(d.wait(0, aer).is_none());
    {
        let mut h = d.env.host();
        d.ctrl
            .set_health_property("available-spare", 5, &mut h)
            .unwrap();
    }
    assert_eq!(d.wait(0, aer).unwrap().dw0, 0x0002_0201);
    assert_eq!(d.ctrl.health_property("available-spare"), Some(5));
    let (_, smart) = d.admin_read(glp(0x02, 128, 0, 0, 0, 0), 512);
    // Spare below threshold: the spare warning only; the drive stays
    // read/write until the spare reaches 0 % (OCP EOL-4).
    assert_eq!(smart[0], 0x01);
    assert_eq!(smart[3], 5);
    {
        let mut h = d.env.host();
        d.ctrl
            .set_health_property("available-spare", 0, &mut h)
            .unwrap();
    }
    let (_, smart) = d.admin_read(glp(0x02, 128, 0, 0, 0, 0), 512);
    // Spare 0 %: end of life, read-only (C2h default, OCP EOL-5).
    assert_eq!(smart[0], 0x09);
    assert_eq!(smart[3], 0);
    // The read-only bit raised a reliability event too.
    let aer = d.submit(0, sqe_of(0x0c, 0, &[], 0));
    assert_eq!(d.wait(0, aer).unwrap().dw0, 0x0002_0001);
    {
        let mut h = d.env.host();
        d.ctrl
            .set_health_property("available-spare", 100, &mut h)
            .unwrap();
    }
    let (_, _) = d.admin_read(glp(0x02, 128, 0, 0, 0, 0), 512);
    // Temperature over WCTEMP: temperature event, warning bit 1.
    let aer = d.submit(0, sqe_of(0x0c, 0, &[], 0));
    {
        let mut h = d.env.host();
        d.ctrl
            .set_health_property("temperature", 360, &mut h)
            .unwrap();
    }
    assert_eq!(d.wait(0, aer).unwrap().dw0, 0x0002_0101);
    let (_, smart) = d.admin_read(glp(0x02, 128, 0, 0, 0, 0), 512);
    assert_eq!(smart[0], 0x02);
    assert_eq!(d.ctrl.temperature(), 360);
    assert_eq!(u16::from_le_bytes([smart[1], smart[2]]), 360);
    // Out of range: one-line error naming the property.
    let mut h = d.env.host();
    let e = d
        .ctrl
        .set_health_property("temperature", 9999, &mut h)
        .unwrap_err();
    assert!(e.contains("temperature"), "{e}");
    assert!(d.ctrl.set_health_property("no-such", 1, &mut h).is_err());
    assert!(ocp_nvme_engine::HEALTH_PROPERTIES.contains(&"percentage-used"));
}

#[test]
fn aer_limit_follows_config() {
    let mut cfg = Driver::small_config();
    cfg.aerl = 0;
    let mut d = Driver::new(cfg);
    d.bring_up(1);
    let (_, id) = d.admin_read(sqe_of(0x06, 0, &[(10, 1)], 0), 4096);
    assert_eq!(id[259], 0); // AERL
    d.submit(0, sqe_of(0x0c, 0, &[], 0));
    assert!(d
        .admin(sqe_of(0x0c, 0, &[], 0))
        .is(Status::AER_LIMIT_EXCEEDED));
}
