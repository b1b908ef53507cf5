// SPDX-License-Identifier: GPL-2.0-or-later
//! NVM Subsystem Reset (NVMe 2.0 Base, 3.7.1 and 3.1.3.6 NSSR; OCP
//! NVMeR-1, NVMe-OPT-4): CAP.NSSRS, the "NVMe" value, CSTS.NSSRO (RW1C),
//! the reset of the controller and its registers, and the Timestamp it
//! alone may clear.
#![allow(clippy::shadow_unrelated)] // test scripts reuse names

use ocp_nvme_engine::spec::regs::off;
use ocp_nvme_engine::testing::{sqe_of, Driver};

const NSSRO: u32 = 1 << 4;

fn up() -> Driver {
    let mut d = Driver::new(Driver::small_config());
    d.bring_up(1);
    d
}

fn nssr(d: &mut Driver, v: u32) {
    d.w32(off::NSSR, v);
}

fn timestamp(d: &mut Driver) -> (u64, u8) {
    let (c, b) = d.admin_read(sqe_of(0x0a, 0, &[(10, 0x0e)], 0), 8);
    assert!(c.ok());
    let mut v = [0u8; 8];
    v[..6].copy_from_slice(&b[..6]);
    (u64::from_le_bytes(v), b[6] >> 1 & 7)
}

fn read_lba0(d: &mut Driver) -> bool {
    let buf = d.alloc(512);
    d.io(1, sqe_of(0x02, 1, &[], buf)).ok()
}

/// NVMeR-1: CAP.NSSRS (bit 36) is set; NSSR reads as 0; values other
/// than "NVMe" change nothing.
#[test]
fn nvmer_1_nssr_supported_and_other_values_ignored() {
    let mut d = up();
    assert_ne!(d.r64(off::CAP) & 1 << 36, 0);
    for v in [0u32, 1, 0x4e56_4d64, 0x654d_564e, 0xffff_ffff] {
        nssr(&mut d, v);
        assert_eq!(d.csts() & (NSSRO | 1), 1, "{v:#x}");
    }
    assert_eq!(d.r32(off::NSSR), 0);
    assert!(read_lba0(&mut d));
    assert!(d.env.log.messages.iter().any(|m| m.contains("NSSR")));
}

/// NVMeR-1: writing "NVMe" resets the controller: not ready, CC, AQA,
/// ASQ and ACQ back to 0, queues gone, CSTS.NSSRO set until the host
/// writes 1 to it; the host brings it up again and I/O works.
#[test]
fn nvmer_1_subsystem_reset_resets_the_controller() {
    let mut d = up();
    assert_eq!(d.csts() & NSSRO, 0);
    nssr(&mut d, 0x4e56_4d65);
    assert_eq!(d.csts() & 1, 0, "not ready");
    assert_ne!(d.csts() & NSSRO, 0);
    assert_eq!(d.r32(off::CC), 0);
    assert_eq!(d.r32(off::AQA), 0);
    assert_eq!(d.r64(off::ASQ), 0);
    assert_eq!(d.r64(off::ACQ), 0);
    assert_eq!(d.ctrl.counters().controller_resets, 1);
    d.disable();
    d.bring_up(1);
    assert!(read_lba0(&mut d));
    // NSSRO survives the re-enable; writing 0 keeps it, writing 1 clears it.
    assert_ne!(d.csts() & NSSRO, 0);
    d.w32(off::CSTS, 0);
    assert_ne!(d.csts() & NSSRO, 0);
    d.w32(off::CSTS, NSSRO);
    assert_eq!(d.csts() & NSSRO, 0);
    assert_eq!(d.csts() & 1, 1);
    // A power cycle starts with NSSRO cleared.
    nssr(&mut d, 0x4e56_4d65);
    let mut h = d.env.host();
    d.ctrl.reset(&mut h);
    assert_eq!(d.csts() & NSSRO, 0);
}

/// Commands in flight at the reset are dropped: their storage requests
/// complete later and are ignored, nothing is posted to the new queues.
#[test]
fn subsystem_reset_drops_commands_in_flight() {
    let mut d = up();
    d.auto_complete = false;
    let buf = d.alloc(4096);
    d.submit(1, sqe_of(0x02, 1, &[(12, 7)], buf));
    assert_eq!(d.env.storage.pending.len(), 1);
    let drains = d.env.storage.drains;
    nssr(&mut d, 0x4e56_4d65);
    assert!(d.env.storage.drains > drains);
    d.disable();
    d.bring_up(1);
    d.complete_storage();
    assert!(d.reap(1).is_empty());
    d.auto_complete = true;
    assert!(read_lba0(&mut d));
}

/// NVMe-OPT-4: the Timestamp survives every other Controller Level Reset
/// (`tests/ocp_versions.rs`), but an NVM Subsystem Reset clears it: it
/// restarts at 0 with Timestamp Origin 000b.
#[test]
fn nvme_opt_4_subsystem_reset_clears_the_timestamp() {
    let mut d = up();
    let mut ts = [0u8; 8];
    ts[..6].copy_from_slice(&5_000_000u64.to_le_bytes()[..6]);
    assert!(d.admin_write(sqe_of(0x09, 0, &[(10, 0x0e)], 0), &ts).ok());
    d.advance(3_000_000);
    assert_eq!(timestamp(&mut d), (5_000_003, 1));
    nssr(&mut d, 0x4e56_4d65);
    d.advance(2_000_000);
    d.disable();
    d.bring_up(1);
    assert_eq!(timestamp(&mut d), (2, 0));
}
