// SPDX-License-Identifier: GPL-2.0-or-later
//! Endurance Group Information (log 09h; OCP STD-LOG-17) and LBA Status
//! Information (log 0Eh; OCP STD-LOG-11): their content, how they agree
//! with SMART / Health Information (02h), Identify and Supported Log Pages.
#![allow(clippy::shadow_unrelated)] // test scripts reuse names

use ocp_nvme_engine::spec::status::Status;
use ocp_nvme_engine::testing::{set_prps, sqe_of, Driver, RawCqe};

fn up() -> Driver {
    let mut d = Driver::new(Driver::small_config());
    d.bring_up(1);
    d
}

/// Get Log Page `lid` of `len` bytes with Log Specific Identifier `lsi`.
fn log(d: &mut Driver, lid: u32, lsi: u32, len: usize) -> (RawCqe, Vec<u8>) {
    let numd = (len / 4 - 1) as u32;
    d.admin_read(
        sqe_of(
            0x02,
            0xffff_ffff,
            &[(10, numd << 16 | lid), (11, lsi << 16)],
            0,
        ),
        len,
    )
}

fn u128_at(b: &[u8], o: usize) -> u128 {
    u128::from_le_bytes(b[o..o + 16].try_into().unwrap())
}

/// 8 writes and 3 reads of 64 KiB.
fn traffic(d: &mut Driver) {
    let buf = d.alloc(65536);
    for i in 0..8 {
        let mut s = sqe_of(0x01, 1, &[(10, i * 128), (12, 127)], 0);
        set_prps(d, &mut s, buf, 65536);
        assert!(d.io(1, s).ok());
    }
    for _ in 0..3 {
        let mut s = sqe_of(0x02, 1, &[(12, 127)], 0);
        set_prps(d, &mut s, buf, 65536);
        assert!(d.io(1, s).ok());
    }
}

/// STD-LOG-17: one Endurance Group: CTRATT bit 4, ENDGIDMAX 1, the
/// namespace's ENDGID 1; log 09h for group 1 follows 02h field by field.
#[test]
fn std_log_17_endurance_group_information() {
    let mut d = up();
    let (c, id) = d.admin_read(sqe_of(0x06, 0, &[(10, 1)], 0), 4096);
    assert!(c.ok());
    assert_ne!(id[96] & 1 << 4, 0, "CTRATT Endurance Groups");
    assert_eq!(u16::from_le_bytes([id[340], id[341]]), 1, "ENDGIDMAX");
    let (c, ns) = d.admin_read(sqe_of(0x06, 1, &[(10, 0)], 0), 4096);
    assert!(c.ok());
    assert_eq!(u16::from_le_bytes([ns[102], ns[103]]), 1, "ENDGID");
    traffic(&mut d);
    let (c, eg) = log(&mut d, 0x09, 1, 512);
    assert!(c.ok());
    let (c, smart) = log(&mut d, 0x02, 0, 512);
    assert!(c.ok());
    assert_eq!(eg[0], 0);
    assert_eq!(&eg[3..6], &smart[3..6], "spare, threshold, percentage used");
    assert_eq!(u128_at(&eg, 48), u128_at(&smart, 32), "data units read");
    assert_eq!(u128_at(&eg, 64), u128_at(&smart, 48), "data units written");
    assert_eq!(u128_at(&eg, 64), 1024 * 512 / 512_000 + 1);
    assert!(u128_at(&eg, 80) >= u128_at(&eg, 64), "media units written");
    assert_eq!(u128_at(&eg, 96), 3, "host read commands");
    assert_eq!(u128_at(&eg, 112), 8, "host write commands");
    assert_eq!(u128_at(&eg, 128), u128_at(&smart, 160));
    assert_eq!(u128_at(&eg, 144), u128_at(&smart, 176));
    assert_eq!(u128_at(&eg, 160), 4 << 20, "TEGCAP");
    assert_eq!(u128_at(&eg, 176), 0, "UNEGCAP");
    assert_ne!(u128_at(&eg, 32), 0, "endurance estimate");
    // Another group: Invalid Field in Command.
    for lsi in [0, 2, 0xffff] {
        let (c, _) = log(&mut d, 0x09, lsi, 512);
        assert!(c.is(Status::INVALID_FIELD), "ENDGID {lsi}");
    }
}

/// The group's critical warning (available spare below its threshold)
/// shows in 09h byte 0 and in 02h's Endurance Group Critical Warning
/// Summary (byte 6).
#[test]
fn endurance_group_critical_warning() {
    let mut d = up();
    {
        let mut h = d.env.host();
        d.ctrl
            .set_health_property("available-spare", 5, &mut h)
            .unwrap();
    }
    let (c, eg) = log(&mut d, 0x09, 1, 512);
    assert!(c.ok());
    assert_eq!(eg[0], 1);
    assert_eq!(eg[3], 5);
    let (c, smart) = log(&mut d, 0x02, 0, 512);
    assert!(c.ok());
    assert_eq!(smart[0] & 1, 1);
    assert_eq!(smart[6], 1);
}

/// STD-LOG-11: LBA Status Information: a 16-byte header, no namespace
/// element, no unrecoverable block; Supported Log Pages (00h) lists 09h
/// and 0Eh.
#[test]
fn std_log_11_lba_status_information() {
    let mut d = up();
    let (c, p) = log(&mut d, 0x0e, 0, 64);
    assert!(c.ok());
    assert_eq!(
        u32::from_le_bytes(p[0..4].try_into().unwrap()),
        16,
        "LSLPLEN"
    );
    assert!(p[4..].iter().all(|&b| b == 0));
    let (c, p) = log(&mut d, 0x00, 0, 1024);
    assert!(c.ok());
    for lid in [0x09usize, 0x0e] {
        assert_eq!(p[lid * 4] & 1, 1, "log {lid:#x} supported");
    }
}

/// DCLP-7: the Device Capabilities log (C4h) reports the Compare and Write
/// fused pair; the Unsupported Requirements log (C5h) no longer lists
/// weighted round robin, fused Compare and Write or Copy (NVMe-CFG-1,
/// NVMe-IO-9, NVMe-OPT-16).
#[test]
fn dclp_7_fused_pair_and_c5h_without_met_requirements() {
    let mut d = up();
    let (c, caps) = d.admin_read(
        sqe_of(0x02, 0xffff_ffff, &[(10, 1023 << 16 | 0xc4), (14, 1)], 0),
        4096,
    );
    assert!(c.ok());
    assert_eq!(
        u16::from_le_bytes([caps[12], caps[13]]) & 1,
        1,
        "DCLP-7 bit 0"
    );
    let (c, c5) = d.admin_read(
        sqe_of(0x02, 0xffff_ffff, &[(10, 1023 << 16 | 0xc5), (14, 1)], 0),
        4096,
    );
    assert!(c.ok());
    let text = String::from_utf8_lossy(&c5);
    assert!(text.contains("NVMe-AD-6"), "C5h lists other gaps");
    for id in ["NVMe-CFG-1\0", "NVMe-IO-9\0", "NVMe-OPT-16\0"] {
        assert!(!text.contains(id), "{id} in C5h");
    }
}
