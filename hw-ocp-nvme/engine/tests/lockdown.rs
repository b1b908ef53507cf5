// SPDX-License-Identifier: GPL-2.0-or-later
//! Command and Feature Lockdown (NVMe 2.0 Base, 5.15, 8.4, log 14h; OCP
//! NVMe-AD-14 to -16, STD-LOG-14).
#![allow(clippy::shadow_unrelated)] // test scripts reuse names

use ocp_nvme_engine::spec::status::Status;
use ocp_nvme_engine::testing::{sqe_of, Driver, RawCqe};
use ocp_nvme_engine::Controller;

fn up() -> Driver {
    let mut d = Driver::new(Driver::small_config());
    d.bring_up(1);
    d
}

/// Lockdown: scope, prohibit, interface, opcode or feature identifier.
fn lockdown(d: &mut Driver, scp: u32, prhbt: bool, ifc: u32, ofi: u8) -> RawCqe {
    let cdw10 = scp | u32::from(prhbt) << 4 | ifc << 5 | u32::from(ofi) << 8;
    d.admin(sqe_of(0x24, 0, &[(10, cdw10)], 0))
}

/// Log 14h with LSP `lsp`: (CFILA, the list).
fn lockdown_log(d: &mut Driver, lsp: u32) -> (RawCqe, u8, Vec<u8>) {
    let (c, p) = d.admin_read(
        sqe_of(0x02, 0, &[(10, 127 << 16 | lsp << 8 | 0x14)], 0),
        512,
    );
    let n = usize::from(p[3]);
    (c, p[0], p[4..4 + n].to_vec())
}

fn identify_ctrl(d: &mut Driver) -> RawCqe {
    d.admin_read(sqe_of(0x06, 0, &[(10, 1)], 0), 4096).0
}

#[test]
fn oacs_and_supported_logs_advertise_lockdown() {
    let mut d = up();
    let (c, id) = d.admin_read(sqe_of(0x06, 0, &[(10, 1)], 0), 4096);
    assert!(c.ok());
    // NVMe-AD-14: OACS bit 10.
    assert_ne!(u16::from_le_bytes([id[256], id[257]]) & 1 << 10, 0);
    let (c, logs) = d.admin_read(sqe_of(0x02, 0, &[(10, 255 << 16)], 0), 1024);
    assert!(c.ok());
    assert_eq!(logs[0x14 * 4], 1, "STD-LOG-14");
    let (c, eff) = d.admin_read(sqe_of(0x02, 0, &[(10, 1023 << 16 | 0x05)], 0), 4096);
    assert!(c.ok());
    assert_eq!(eff[0x24 * 4] & 1, 1, "Lockdown in the effects log");
}

#[test]
fn prohibit_and_allow_an_admin_command() {
    let mut d = up();
    assert!(lockdown(&mut d, 0, true, 0, 0x06).ok());
    assert!(identify_ctrl(&mut d).is(Status::COMMAND_PROHIBITED_BY_LOCKDOWN));
    let (c, cfila, list) = lockdown_log(&mut d, 1 << 4);
    assert!(c.ok());
    assert_eq!((cfila, list), (0x10, vec![0x06]));
    // Interface 01b (admin SQ and management interface) also applies here.
    assert!(lockdown(&mut d, 0, false, 1, 0x06).ok());
    assert!(identify_ctrl(&mut d).ok());
    let (_, _, list) = lockdown_log(&mut d, 1 << 4);
    assert!(list.is_empty());
}

#[test]
fn prohibit_a_set_feature_only() {
    // NVMe-AD-16: Set Features of that identifier is prohibited, Get
    // Features and other identifiers are not.
    let mut d = up();
    assert!(lockdown(&mut d, 2, true, 0, 0x04).ok());
    let c = d.admin(sqe_of(0x09, 0, &[(10, 0x04), (11, 300)], 0));
    assert!(c.is(Status::COMMAND_PROHIBITED_BY_LOCKDOWN));
    assert!(c.dnr());
    assert!(d.admin(sqe_of(0x0a, 0, &[(10, 0x04)], 0)).ok());
    assert!(d.admin(sqe_of(0x09, 0, &[(10, 0x08), (11, 0)], 0)).ok());
    // An OCP feature can be prohibited too.
    assert!(lockdown(&mut d, 2, true, 0, 0xc7).ok());
    let (_, cfila, list) = lockdown_log(&mut d, 2 | 1 << 4);
    assert_eq!((cfila, list), (0x12, vec![0x04, 0xc7]));
}

#[test]
fn lockdown_can_prohibit_itself() {
    // NVMe-AD-15: the Lockdown command included.
    let mut d = up();
    assert!(lockdown(&mut d, 0, true, 0, 0x24).ok());
    let c = lockdown(&mut d, 0, false, 0, 0x24);
    assert!(c.is(Status::COMMAND_PROHIBITED_BY_LOCKDOWN));
}

#[test]
fn supported_lists_name_every_command_and_feature() {
    let mut d = up();
    let (c, cfila, admin) = lockdown_log(&mut d, 0);
    assert!(c.ok());
    assert_eq!(cfila, 0);
    for op in [0x00u8, 0x02, 0x06, 0x09, 0x10, 0x14, 0x24, 0x80, 0x84] {
        assert!(admin.contains(&op), "opcode {op:#x}");
    }
    let (c, _, feats) = lockdown_log(&mut d, 2);
    assert!(c.ok());
    for f in [0x01u8, 0x04, 0x0b, 0x0e, 0xc2, 0xc7] {
        assert!(feats.contains(&f), "feature {f:#x}");
    }
}

#[test]
fn invalid_lockdown_commands() {
    let mut d = up();
    for (scp, ifc, ofi) in [
        (1u32, 0u32, 0x06u8), // reserved scope
        (3, 0, 0x01),         // management interface commands: no NVMe-MI
        (4, 0, 0x01),         // PCIe commands
        (0, 2, 0x06),         // management interface only: none
        (0, 3, 0x06),         // reserved interface
        (0, 0, 0x03),         // unsupported opcode
        (2, 0, 0x03),         // unsupported feature
    ] {
        let c = lockdown(&mut d, scp, true, ifc, ofi);
        assert!(c.is(Status::INVALID_FIELD), "{scp} {ifc} {ofi:#x}");
    }
    // NVMe-AD-11: no NSID.
    assert!(d
        .admin(sqe_of(0x24, 1, &[(10, 0x0610)], 0))
        .is(Status::INVALID_FIELD));
    // Reserved log contents and scopes.
    for lsp in [1u32, 3, 2 << 4, 3 << 4, 1 << 6] {
        let (c, _, _) = lockdown_log(&mut d, lsp);
        assert!(c.is(Status::INVALID_FIELD), "LSP {lsp:#x}");
    }
}

#[test]
fn prohibitions_survive_reset_and_power_cycle() {
    let cfg = Driver::small_config();
    let mut d = up();
    assert!(lockdown(&mut d, 0, true, 0, 0x14).ok());
    d.disable();
    d.bring_up(1);
    let c = d.admin(sqe_of(0x14, 0xffff_ffff, &[(10, 1)], 0));
    assert!(c.is(Status::COMMAND_PROHIBITED_BY_LOCKDOWN));
    let rec = d.ctrl.save_persistent(1);
    let mut d2 = Driver::new(cfg.clone());
    d2.ctrl = Controller::load_persistent(cfg, &rec, 0).unwrap();
    let mut h = d2.env.host();
    d2.ctrl.reset(&mut h);
    d2.bring_up(1);
    let c = d2.admin(sqe_of(0x14, 0xffff_ffff, &[(10, 1)], 0));
    assert!(c.is(Status::COMMAND_PROHIBITED_BY_LOCKDOWN));
}
