// SPDX-License-Identifier: GPL-2.0-or-later
//! Namespace Management and Attachment (NVMe 2.0 Base, 5.19, 5.20; OCP
//! NVMe-AD-3/4, NSM-1..8), the Identify structures they change, NUSE (OCP
//! 4.4.2), per-namespace Format NVM and the Namespace Attribute Changed
//! event with the Changed Namespace List.
#![allow(clippy::shadow_unrelated, clippy::cognitive_complexity)] // long test scripts reuse names

use ocp_nvme_engine::namespace::MAX_NAMESPACES;
use ocp_nvme_engine::spec::cmd::Sqe;
use ocp_nvme_engine::spec::status::Status;
use ocp_nvme_engine::testing::{set_prps, sqe_of, Driver, RawCqe};
use ocp_nvme_engine::Controller;

const TOTAL: u64 = 4 << 20;

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

/// Namespace Management create with the host-specified fields.
fn create_raw(d: &mut Driver, nsze: u64, ncap: u64, flbas: u8, dps: u8, nmic: u8) -> RawCqe {
    let mut data = vec![0u8; 4096];
    data[0..8].copy_from_slice(&nsze.to_le_bytes());
    data[8..16].copy_from_slice(&ncap.to_le_bytes());
    data[26] = flbas;
    data[29] = dps;
    data[30] = nmic;
    d.admin_write(sqe_of(0x0d, 0, &[(10, 0)], 0), &data)
}

fn create(d: &mut Driver, nsze: u64, flbas: u8) -> u32 {
    let c = create_raw(d, nsze, nsze, flbas, 0, 0);
    assert!(c.ok(), "create: {:#x}", c.sf);
    c.dw0
}

fn delete(d: &mut Driver, nsid: u32) -> RawCqe {
    d.admin(sqe_of(0x0d, nsid, &[(10, 1)], 0))
}

fn attach_list(d: &mut Driver, nsid: u32, sel: u32, ids: &[u16]) -> RawCqe {
    let mut data = vec![0u8; 4096];
    data[0..2].copy_from_slice(&(ids.len() as u16).to_le_bytes());
    for (i, id) in ids.iter().enumerate() {
        data[2 + 2 * i..4 + 2 * i].copy_from_slice(&id.to_le_bytes());
    }
    d.admin_write(sqe_of(0x15, nsid, &[(10, sel)], 0), &data)
}

fn attach(d: &mut Driver, nsid: u32) -> RawCqe {
    attach_list(d, nsid, 0, &[0])
}

fn detach(d: &mut Driver, nsid: u32) -> RawCqe {
    attach_list(d, nsid, 1, &[0])
}

fn identify(d: &mut Driver, cns: u32, nsid: u32) -> (RawCqe, Vec<u8>) {
    d.admin_read(sqe_of(0x06, nsid, &[(10, cns)], 0), 4096)
}

fn ids(b: &[u8]) -> Vec<u32> {
    (0..1024)
        .map(|i| u32_at(b, i * 4))
        .take_while(|&n| n != 0)
        .collect()
}

fn io_sqe(d: &mut Driver, op: u8, nsid: u32, slba: u64, nlb: u32, buf: u64, lba: u64) -> Sqe {
    let mut s = sqe_of(
        op,
        nsid,
        &[(10, slba as u32), (11, (slba >> 32) as u32), (12, nlb - 1)],
        0,
    );
    set_prps(d, &mut s, buf, u64::from(nlb) * lba);
    s
}

fn write(d: &mut Driver, nsid: u32, slba: u64, data: &[u8]) -> RawCqe {
    let buf = d.alloc(data.len() as u64);
    d.write_mem(buf, data);
    let s = io_sqe(d, 0x01, nsid, slba, (data.len() / 512) as u32, buf, 512);
    d.io(1, s)
}

fn read(d: &mut Driver, nsid: u32, slba: u64, nlb: u32) -> (RawCqe, Vec<u8>) {
    let buf = d.alloc(u64::from(nlb) * 512);
    let s = io_sqe(d, 0x02, nsid, slba, nlb, buf, 512);
    let c = d.io(1, s);
    (c, d.read_mem(buf, nlb as usize * 512))
}

fn nuse(d: &mut Driver, nsid: u32) -> u64 {
    let (c, b) = identify(d, 0, nsid);
    assert!(c.ok());
    u64_at(&b, 16)
}

/// A drive whose factory namespace is gone: all capacity unallocated.
fn empty() -> Driver {
    let mut d = up();
    assert!(delete(&mut d, 1).ok());
    d
}

#[test]
fn nsm_4_7_factory_drive_has_one_namespace_of_the_whole_capacity() {
    let mut d = up();
    let (_, c) = identify(&mut d, 1, 0);
    assert_eq!(u32_at(&c, 516), MAX_NAMESPACES); // NN
    assert!(u32_at(&c, 516) >= 16, "NSM-4");
    assert_eq!(u32_at(&c, 540), MAX_NAMESPACES); // MNAN
    assert_eq!(u64_at(&c, 280), TOTAL); // TNVMCAP (NSM-7)
    assert_eq!(u64_at(&c, 296), 0); // UNVMCAP
    assert_eq!(u32_at(&c, 96) & (1 << 7), 1 << 7); // CTRATT Namespace Granularity
    assert_eq!(u32_at(&c, 96) & (1 << 0), 0); // no extended LBA formats (NSM-8)
    let (_, l) = identify(&mut d, 2, 0);
    assert_eq!(ids(&l), vec![1]);
    let (_, l) = identify(&mut d, 0x10, 0);
    assert_eq!(ids(&l), vec![1]);
    let (_, ns) = identify(&mut d, 0, 1);
    assert_eq!(u64_at(&ns, 0), TOTAL / 512);
    assert_eq!(u64_at(&ns, 16), 0, "nothing written yet: NUSE 0");
    // NSM-6: a Namespace Granularity descriptor.
    let (c, g) = identify(&mut d, 0x16, 0);
    assert!(c.ok());
    assert_eq!(g[31], 0);
    assert_eq!(u64_at(&g, 32), 4096);
    // NSM-2/3: FLBAS 0 is the factory format, LBA format 0 512 bytes.
    assert_eq!(ns[26], 0);
    assert_eq!(ns[128 + 2], 9);
}

#[test]
fn nvme_ad_3_4_create_attach_io_detach_delete() {
    let mut d = empty();
    let (_, c) = identify(&mut d, 1, 0);
    assert_eq!(u64_at(&c, 296), TOTAL);
    let a = create(&mut d, 2048, 0);
    let b = create(&mut d, 256, 1);
    assert_eq!((a, b), (1, 2));
    let (_, c) = identify(&mut d, 1, 0);
    assert_eq!(u64_at(&c, 296), TOTAL - 2048 * 512 - 256 * 4096);
    // Allocated, not attached: inactive.
    let (_, l) = identify(&mut d, 0x10, 0);
    assert_eq!(ids(&l), vec![1, 2]);
    let (_, l) = identify(&mut d, 2, 0);
    assert!(ids(&l).is_empty());
    let (c, ns) = identify(&mut d, 0, 2);
    assert!(c.ok() && ns.iter().all(|&x| x == 0));
    let (c, ns) = identify(&mut d, 0x11, 2);
    assert!(c.ok());
    assert_eq!((u64_at(&ns, 0), u64_at(&ns, 8), ns[26]), (256, 256, 1));
    // The command set specific forms: CNS 1Ah (CSI 0) lists allocated
    // NSIDs, 1Fh reads an allocated namespace, 08h zeroes while inactive.
    let (c, l) = identify(&mut d, 0x1a, 0);
    assert!(c.ok());
    assert_eq!(ids(&l), vec![1, 2]);
    let (c, ns) = identify(&mut d, 0x1f, 2);
    assert!(c.ok() && ns[14] == 1);
    let (c, ns) = identify(&mut d, 0x08, 2);
    assert!(c.ok() && ns.iter().all(|&x| x == 0));
    assert!(identify(&mut d, 0x03, 2).0.is(Status::INVALID_NAMESPACE));
    assert!(identify(&mut d, 0x11, 33).0.is(Status::INVALID_NAMESPACE));
    let (_, cl) = identify(&mut d, 0x12, 2);
    assert_eq!(u16::from_le_bytes([cl[0], cl[1]]), 0);
    assert!(write(&mut d, 2, 0, &[1u8; 4096]).is(Status::INVALID_NAMESPACE));
    assert!(read(&mut d, 1, 0, 1).0.is(Status::INVALID_NAMESPACE));
    // Attach both: I/O works and each namespace keeps its own data.
    assert!(attach(&mut d, a).ok());
    assert!(attach(&mut d, b).ok());
    let (_, l) = identify(&mut d, 2, 0);
    assert_eq!(ids(&l), vec![1, 2]);
    let (_, l) = identify(&mut d, 2, 1);
    assert_eq!(ids(&l), vec![2]);
    let (_, cl) = identify(&mut d, 0x12, 2);
    assert_eq!(u16::from_le_bytes([cl[0], cl[1]]), 1);
    let (_, cl) = identify(&mut d, 0x13, 0);
    assert_eq!((cl[0], cl[2]), (1, 0));
    assert!(write(&mut d, a, 0, &[0xaa; 4096]).ok());
    let buf = d.alloc(4096);
    d.write_mem(buf, &[0xbb; 4096]);
    let s = io_sqe(&mut d, 0x01, b, 0, 1, buf, 4096);
    assert!(d.io(1, s).ok());
    assert_eq!(read(&mut d, a, 0, 8).1, vec![0xaa; 4096]);
    let buf = d.alloc(4096);
    let s = io_sqe(&mut d, 0x02, b, 0, 1, buf, 4096);
    assert!(d.io(1, s).ok());
    assert_eq!(d.read_mem(buf, 4096), vec![0xbb; 4096]);
    // The last block of each namespace, and one past it.
    assert!(read(&mut d, a, 2047, 1).0.ok());
    assert!(read(&mut d, a, 2048, 1).0.is(Status::LBA_OUT_OF_RANGE));
    // Different NGUIDs.
    let (_, x) = identify(&mut d, 0, a);
    let (_, y) = identify(&mut d, 0, b);
    assert_ne!(&x[104..120], &y[104..120]);
    // Detach: inactive again; delete everything with FFFFFFFFh.
    assert!(detach(&mut d, b).ok());
    assert!(read(&mut d, b, 0, 1).0.is(Status::INVALID_NAMESPACE));
    assert!(delete(&mut d, 0xffff_ffff).ok());
    let (_, l) = identify(&mut d, 0x10, 0);
    assert!(ids(&l).is_empty());
    let (_, c) = identify(&mut d, 1, 0);
    assert_eq!(u64_at(&c, 296), TOTAL);
}

#[test]
fn namespace_management_statuses() {
    let mut d = empty();
    assert!(create_raw(&mut d, 8, 8, 2, 0, 0).is(Status::INVALID_FORMAT));
    assert!(create_raw(&mut d, 8, 8, 0, 1, 0).is(Status::INVALID_FIELD)); // DPS
    assert!(create_raw(&mut d, 8, 8, 0, 0, 2).is(Status::INVALID_FIELD)); // NMIC
    assert!(create_raw(&mut d, 0, 0, 0, 0, 0).is(Status::INVALID_FIELD)); // NSZE
    assert!(create_raw(&mut d, 8, 9, 0, 0, 0).is(Status::INVALID_FIELD)); // NCAP > NSZE
    assert!(create_raw(&mut d, 8, 4, 0, 0, 0).is(Status::THIN_PROVISIONING_NOT_SUPPORTED));
    assert!(
        create_raw(&mut d, TOTAL / 512 + 1, TOTAL / 512 + 1, 0, 0, 0)
            .is(Status::NS_INSUFFICIENT_CAPACITY)
    );
    // NSID is not used by create; CSI 1 is no command set of this drive.
    let data = vec![0u8; 4096];
    assert!(d
        .admin_write(sqe_of(0x0d, 1, &[(10, 0)], 0), &data)
        .is(Status::INVALID_FIELD));
    assert!(d
        .admin_write(sqe_of(0x0d, 0, &[(10, 0), (11, 1 << 24)], 0), &data)
        .is(Status::IO_COMMAND_SET_NOT_SUPPORTED));
    assert!(d
        .admin(sqe_of(0x0d, 0, &[(10, 2)], 0))
        .is(Status::INVALID_FIELD));
    // NN namespaces, then no identifier is left.
    for i in 1..=MAX_NAMESPACES {
        assert_eq!(create(&mut d, 8, 0), i);
    }
    assert!(create_raw(&mut d, 8, 8, 0, 0, 0).is(Status::NS_ID_UNAVAILABLE));
    // Delete: invalid and unallocated NSIDs.
    assert!(delete(&mut d, 0).is(Status::INVALID_NAMESPACE));
    assert!(delete(&mut d, MAX_NAMESPACES + 1).is(Status::INVALID_NAMESPACE));
    assert!(delete(&mut d, 5).ok());
    assert!(delete(&mut d, 5).is(Status::INVALID_FIELD));
    // The freed identifier and space are reused.
    assert_eq!(create(&mut d, 8, 0), 5);
}

#[test]
fn namespace_attachment_statuses() {
    let mut d = empty();
    let private = create(&mut d, 64, 0);
    let shared = create_raw(&mut d, 64, 64, 0, 0, 1).dw0;
    assert!(attach(&mut d, private).ok());
    assert!(attach(&mut d, private).is(Status::NS_ALREADY_ATTACHED));
    assert!(detach(&mut d, shared).is(Status::NS_NOT_ATTACHED));
    assert!(attach_list(&mut d, shared, 0, &[0, 0]).is(Status::CONTROLLER_LIST_INVALID));
    assert!(detach(&mut d, private).ok());
    assert!(attach_list(&mut d, private, 0, &[0, 1]).is(Status::NS_IS_PRIVATE));
    assert!(attach_list(&mut d, private, 0, &[1]).is(Status::CONTROLLER_LIST_INVALID));
    assert!(attach_list(&mut d, private, 0, &[]).is(Status::CONTROLLER_LIST_INVALID));
    assert!(attach_list(&mut d, private, 2, &[0]).is(Status::INVALID_FIELD));
    assert!(attach(&mut d, 7).is(Status::INVALID_FIELD)); // unallocated
    assert!(attach(&mut d, 0).is(Status::INVALID_NAMESPACE));
    assert!(attach(&mut d, 0xffff_ffff).is(Status::INVALID_NAMESPACE));
    // Shared namespaces report NMIC.
    assert!(attach(&mut d, shared).ok());
    let (_, ns) = identify(&mut d, 0, shared);
    assert_eq!(ns[30], 1);
}

/// A namespace of two extents, and a small one between them holding
/// 4 KiB of 55h: (the big one, the small one, the big one's LBA where its
/// first extent ends).
fn two_extents() -> (Driver, u32, u32, u64) {
    let mut d = empty();
    // 8 KiB at 0, 4 KiB after: delete the first and the rest after them.
    let a = create(&mut d, 16, 0);
    let b = create(&mut d, 8, 0);
    assert!(delete(&mut d, a).ok());
    // 16 + (8192 - 24) blocks: the new namespace takes both free runs.
    let big = create(&mut d, 8192 - 8, 0);
    assert!(attach(&mut d, big).ok());
    assert!(attach(&mut d, b).ok());
    assert!(write(&mut d, b, 0, &[0x55; 4096]).ok());
    // The first extent is the larger one (after B), the second at 0.
    (d, big, b, 8192 - 24)
}

#[test]
fn commands_crossing_an_extent_boundary_are_split_and_completed_once() {
    let (mut d, big, b, boundary) = two_extents();
    let data: Vec<u8> = (0..8192u32).map(|i| (i * 7) as u8).collect();
    let before = d.env.storage.log.len();
    assert!(write(&mut d, big, boundary - 8, &data).ok());
    let reqs: Vec<_> = d.env.storage.log[before..].to_vec();
    assert_eq!(reqs.len(), 2, "{reqs:?}");
    assert_eq!(
        (reqs[0].1, reqs[0].2),
        (24 * 512 + (boundary - 8) * 512, 4096)
    );
    assert_eq!((reqs[1].1, reqs[1].2), (0, 4096));
    assert_eq!(read(&mut d, big, boundary - 8, 16).1, data);
    // Namespace B is untouched.
    assert_eq!(read(&mut d, b, 0, 8).1, vec![0x55; 4096]);
    // Compare across the boundary: equal, then one byte different in the
    // second part.
    let buf = d.alloc(8192);
    d.write_mem(buf, &data);
    let s = io_sqe(&mut d, 0x05, big, boundary - 8, 16, buf, 512);
    assert!(d.io(1, s).ok());
    let mut other = data.clone();
    other[6000] ^= 1;
    d.write_mem(buf, &other);
    let s = io_sqe(&mut d, 0x05, big, boundary - 8, 16, buf, 512);
    assert!(d.io(1, s).is(Status::COMPARE_FAILURE));
    // Write Zeroes and Verify across it.
    let s = sqe_of(0x08, big, &[(10, (boundary - 8) as u32), (12, 15)], 0);
    assert!(d.io(1, s).ok());
    assert_eq!(read(&mut d, big, boundary - 8, 16).1, vec![0; 8192]);
    let s = sqe_of(0x0c, big, &[(10, (boundary - 8) as u32), (12, 15)], 0);
    assert!(d.io(1, s).ok());
}

#[test]
fn nuse_counts_written_blocks_until_deallocated() {
    let mut d = up();
    assert_eq!(nuse(&mut d, 1), 0);
    assert!(write(&mut d, 1, 100, &[1; 8 * 512]).ok());
    assert_eq!(nuse(&mut d, 1), 8);
    assert!(write(&mut d, 1, 104, &[1; 8 * 512]).ok());
    assert_eq!(nuse(&mut d, 1), 12);
    // Deallocate (DSM) two blocks.
    let buf = d.alloc(4096);
    let mut range = [0u8; 16];
    range[4..8].copy_from_slice(&2u32.to_le_bytes());
    range[8..16].copy_from_slice(&101u64.to_le_bytes());
    d.write_mem(buf, &range);
    assert!(d.io(1, sqe_of(0x09, 1, &[(10, 0), (11, 4)], buf)).ok());
    assert_eq!(nuse(&mut d, 1), 10);
    // Write Zeroes with DEAC deallocates, without it allocates.
    assert!(d
        .io(1, sqe_of(0x08, 1, &[(10, 100), (12, 1 << 25 | 3)], 0))
        .ok());
    assert_eq!(nuse(&mut d, 1), 8);
    assert!(d.io(1, sqe_of(0x08, 1, &[(10, 0), (12, 3)], 0)).ok());
    assert_eq!(nuse(&mut d, 1), 12);
    // Format: nothing allocated.
    assert!(d.admin(sqe_of(0x80, 1, &[(10, 0)], 0)).ok());
    assert_eq!(nuse(&mut d, 1), 0);
}

#[test]
fn namespace_attribute_changed_event_and_changed_namespace_list() {
    let mut d = empty();
    let a = create(&mut d, 64, 0);
    // Notices disabled (the default): no event, the list still records.
    let quiet = create(&mut d, 8, 0);
    let aer = d.submit(0, sqe_of(0x0c, 0, &[], 0));
    assert!(attach(&mut d, quiet).ok());
    assert!(d.wait(0, aer).is_none());
    let glp = sqe_of(0x02, 0, &[(10, 1023 << 16 | 0x04)], 0);
    let (_, l) = d.admin_read(glp, 4096);
    // NSID 1 too: `empty()` deleted the attached factory namespace.
    assert_eq!(ids(&l), vec![1, quiet]);
    // Feature 0Bh: Namespace Attribute Notices (bit 8).
    assert!(d
        .admin(sqe_of(0x09, 0, &[(10, 0x0b), (11, 1 << 8)], 0))
        .ok());
    assert!(
        d.wait(0, aer).is_none(),
        "creating is no change to the controller"
    );
    assert!(attach(&mut d, a).ok());
    assert_eq!(d.wait(0, aer).unwrap().dw0, 0x0004_0002);
    let b = create(&mut d, 64, 0);
    assert!(attach(&mut d, b).ok());
    // Masked until the log is read; the list holds both, then clears.
    let aer = d.submit(0, sqe_of(0x0c, 0, &[], 0));
    let (c, l) = d.admin_read(glp, 4096);
    assert!(c.ok());
    assert_eq!(ids(&l), vec![a, b]);
    let (_, l) = d.admin_read(glp, 4096);
    assert!(ids(&l).is_empty());
    // Detach and delete of an attached namespace are changes too.
    assert!(detach(&mut d, a).ok());
    assert_eq!(d.wait(0, aer).unwrap().dw0, 0x0004_0002);
    assert!(delete(&mut d, b).ok());
    let (_, l) = d.admin_read(glp, 4096);
    assert_eq!(ids(&l), vec![a, b]);
}

#[test]
fn format_one_namespace_or_every_attached_one() {
    let mut d = empty();
    let a = create(&mut d, 64, 0);
    let b = create(&mut d, 64, 0);
    assert!(attach(&mut d, a).ok());
    assert!(attach(&mut d, b).ok());
    assert!(write(&mut d, a, 0, &[9; 4096]).ok());
    assert!(write(&mut d, b, 0, &[9; 4096]).ok());
    // Format B to 4 KiB blocks: A keeps its format, data and NUSE.
    assert!(d.admin(sqe_of(0x80, b, &[(10, 1)], 0)).ok());
    let (_, nb) = identify(&mut d, 0, b);
    assert_eq!((nb[26], u64_at(&nb, 0), u64_at(&nb, 16)), (1, 8, 0));
    assert_eq!(nuse(&mut d, a), 8);
    assert_eq!(read(&mut d, a, 0, 8).1, vec![9; 4096]);
    // An inactive NSID cannot be formatted; FFFFFFFFh formats both.
    assert!(detach(&mut d, b).ok());
    assert!(d
        .admin(sqe_of(0x80, b, &[(10, 0)], 0))
        .is(Status::INVALID_NAMESPACE));
    assert!(attach(&mut d, b).ok());
    assert!(d.admin(sqe_of(0x80, 0xffff_ffff, &[(10, 0)], 0)).ok());
    let (_, na) = identify(&mut d, 0, a);
    let (_, nb) = identify(&mut d, 0, b);
    assert_eq!((na[26], nb[26], u64_at(&nb, 0)), (0, 0, 64));
    assert_eq!(nuse(&mut d, a), 0);
    assert_eq!(read(&mut d, a, 0, 8).1, vec![0; 4096]);
}

#[test]
fn the_namespace_table_survives_a_power_cycle_and_migration() {
    let mut d = empty();
    let a = create(&mut d, 64, 0);
    let b = create(&mut d, 16, 1);
    assert!(attach(&mut d, b).ok());
    let buf = d.alloc(4096);
    d.write_mem(buf, &[3; 4096]);
    let s = io_sqe(&mut d, 0x01, b, 0, 1, buf, 4096);
    assert!(d.io(1, s).ok());
    let cfg = d.ctrl.config().clone();
    let rec = d.ctrl.save_persistent(1);
    let mut again = Driver::new(cfg.clone());
    again.ctrl = Controller::load_persistent(cfg.clone(), &rec, 2).unwrap();
    again.env.storage.disk = d.env.storage.disk.clone();
    again.bring_up(1);
    let (_, l) = identify(&mut again, 0x10, 0);
    assert_eq!(ids(&l), vec![a, b]);
    let (_, l) = identify(&mut again, 2, 0);
    assert_eq!(ids(&l), vec![b]);
    let (_, nb) = identify(&mut again, 0, b);
    assert_eq!((nb[26], u64_at(&nb, 16)), (1, 1));
    let buf = again.alloc(4096);
    let s = io_sqe(&mut again, 0x02, b, 0, 1, buf, 4096);
    assert!(again.io(1, s).ok());
    assert_eq!(again.read_mem(buf, 4096), vec![3; 4096]);
    // Migration: the whole state, table included.
    let blob = d.ctrl.save_state();
    let back = Controller::load_state(cfg, &blob).unwrap();
    assert!(back == d.ctrl);
}

/// The largest table (NN namespaces, every block set at its range limit)
/// still fits one copy of the state store.
#[test]
fn the_fullest_namespace_table_fits_the_state_store() {
    use ocp_nvme_engine::lba_ranges::MAX_RANGES;
    use ocp_nvme_engine::persist::store_encode;
    let mut cfg = Driver::small_config();
    cfg.capacity_bytes = 16 << 20;
    let mut d = Driver::new(cfg);
    d.bring_up(1);
    assert!(delete(&mut d, 1).ok());
    for _ in 0..MAX_NAMESPACES {
        let n = create(&mut d, 2 * MAX_RANGES as u64 + 16, 0);
        assert!(attach(&mut d, n).ok());
        for i in 0..=MAX_RANGES as u32 {
            let s = sqe_of(0x04, n, &[(10, 2 * i), (12, 0)], 0);
            assert!(d.io(1, s).ok());
        }
    }
    let rec = d.ctrl.save_persistent(1);
    assert!(rec.len() > 2 * 32 * MAX_RANGES * 16, "{} bytes", rec.len());
    store_encode(1, &rec).unwrap();
}

/// Copy (NVM Command Set 1.0, 3.2.2) of namespace `nsid`: `ranges` of
/// (source LBA, blocks) to `sdlba`.
fn copy(d: &mut Driver, nsid: u32, ranges: &[(u64, u16)], sdlba: u64) -> RawCqe {
    let mut desc = vec![0u8; 32 * ranges.len()];
    for (i, &(slba, nlb)) in ranges.iter().enumerate() {
        desc[i * 32 + 8..i * 32 + 16].copy_from_slice(&slba.to_le_bytes());
        desc[i * 32 + 16..i * 32 + 18].copy_from_slice(&(nlb - 1).to_le_bytes());
    }
    let buf = d.alloc(desc.len() as u64);
    d.write_mem(buf, &desc);
    let mut s = sqe_of(
        0x19,
        nsid,
        &[
            (10, sdlba as u32),
            (11, (sdlba >> 32) as u32),
            (12, ranges.len() as u32 - 1),
        ],
        0,
    );
    set_prps(d, &mut s, buf, desc.len() as u64);
    d.io(1, s)
}

/// Copy in a namespace made of two extents: source ranges and the
/// destination that cross the extent boundary are split into requests on
/// the right drive offsets, the data lands where the namespace maps it and
/// the other namespace is untouched; Write Uncorrectable blocks as a
/// source fail the Copy with Unrecovered Read Error; the destination counts
/// in NUSE.
#[test]
fn copy_across_an_extent_boundary() {
    let (mut d, big, b, boundary) = two_extents();
    let data: Vec<u8> = (0..8192u32).map(|i| (i * 13 + 1) as u8).collect();
    assert!(write(&mut d, big, boundary - 8, &data).ok());
    // Across the boundary as the source, to blocks inside the first extent.
    let c = copy(&mut d, big, &[(boundary - 8, 16)], 100);
    assert!(c.ok(), "{c:?}");
    assert_eq!(read(&mut d, big, 100, 16).1, data);
    // Two ranges to a destination across the boundary.
    let c = copy(&mut d, big, &[(100, 4), (104, 12)], boundary - 4);
    assert!(c.ok(), "{c:?}");
    assert_eq!(read(&mut d, big, boundary - 4, 16).1, data);
    assert_eq!(read(&mut d, b, 0, 8).1, vec![0x55; 4096], "B untouched");
    // A Write Uncorrectable source block fails the Copy as a read would.
    let s = sqe_of(0x04, big, &[(10, 200), (12, 0)], 0);
    assert!(d.io(1, s).ok());
    let c = copy(&mut d, big, &[(199, 4)], 300);
    assert!(c.is(Status::UNRECOVERED_READ_ERROR), "{c:?}");
    // NUSE counts the copies' destinations: boundary - 8 .. boundary + 12
    // written or copied to, 100..116 copied to, and the uncorrectable block.
    assert_eq!(nuse(&mut d, big), 20 + 16 + 1);
}

/// Sanitize erases the whole medium (NVMe 2.0 Base, 8.21): every
/// namespace's NUSE drops to 0, its Write Uncorrectable blocks read again,
/// and each active namespace is in the Changed Namespace List.
#[test]
fn sanitize_erases_every_namespace() {
    let mut d = empty();
    let a = create(&mut d, 64, 0);
    let b = create(&mut d, 64, 0);
    assert!(attach(&mut d, a).ok() && attach(&mut d, b).ok());
    assert!(write(&mut d, a, 0, &[1; 4096]).ok());
    assert!(write(&mut d, b, 8, &[2; 4096]).ok());
    let s = sqe_of(0x04, b, &[(10, 40), (12, 1)], 0);
    assert!(d.io(1, s).ok(), "Write Uncorrectable");
    assert!(nuse(&mut d, a) > 0 && nuse(&mut d, b) > 0);
    // Block erase; the test storage completes it at once.
    assert!(d.admin(sqe_of(0x84, 0, &[(10, 0b010)], 0)).ok());
    assert_eq!((nuse(&mut d, a), nuse(&mut d, b)), (0, 0));
    let (c, data) = read(&mut d, b, 40, 2);
    assert!(c.ok(), "uncorrectable blocks forgotten: {c:?}");
    assert!(data.iter().all(|&x| x == 0));
    let (c, list) = d.admin_read(sqe_of(0x02, 0, &[(10, (1024 - 1) << 16 | 0x04)], 0), 4096);
    assert!(c.ok());
    let mut changed = ids(&list);
    changed.sort_unstable();
    assert!(changed.contains(&a) && changed.contains(&b), "{changed:?}");
}

/// Persistent Event Log (STD-LOG-9): creating and deleting a namespace
/// records Change Namespace events (06h) with the namespace's NSID, NSZE
/// and the Namespace Management CDW10.
#[test]
fn namespace_management_records_change_namespace_events() {
    let mut d = empty();
    let id = create(&mut d, 64, 0);
    assert!(delete(&mut d, id).ok());
    // Establish a reporting context and read the whole log.
    let read = |d: &mut Driver, lsp: u32, lpo: u64, len: usize| {
        let numd = (len / 4) as u32 - 1;
        let mut s = sqe_of(
            0x02,
            0xffff_ffff,
            &[
                (10, (numd & 0xffff) << 16 | lsp << 8 | 0x0d),
                (11, numd >> 16),
                (12, lpo as u32),
            ],
            0,
        );
        let buf = d.alloc(len as u64);
        set_prps(d, &mut s, buf, len as u64);
        let c = d.admin(s);
        assert!(c.ok(), "{c:?}");
        d.read_mem(buf, len)
    };
    let head = read(&mut d, 1, 0, 512);
    let tll = u64_at(&head, 8) as usize;
    let mut log = Vec::new();
    while log.len() < tll {
        let part = read(&mut d, 0, log.len() as u64, 4096);
        log.extend_from_slice(&part);
    }
    let n = u32_at(&log, 4) as usize;
    let mut off = 512;
    let mut changes = Vec::new();
    for _ in 0..n {
        let ehl = usize::from(log[off + 2]);
        let vsil = usize::from(u16::from_le_bytes([log[off + 20], log[off + 21]]));
        let el = usize::from(u16::from_le_bytes([log[off + 22], log[off + 23]]));
        if log[off] == 0x06 {
            let data = &log[off + 3 + ehl + vsil..off + 3 + ehl + el];
            changes.push((u32_at(data, 0) & 0xf, u64_at(data, 8), u32_at(data, 44)));
        }
        off += 3 + ehl + el;
    }
    assert!(changes.contains(&(0, 64, id)), "create: {changes:?}");
    assert!(changes.contains(&(1, 64, id)), "delete: {changes:?}");
}

/// Endurance Group Information (09h): TEGCAP is the drive's capacity,
/// UNEGCAP what no namespace holds (Identify Controller's UNVMCAP).
#[test]
fn endurance_group_unallocated_capacity_follows_the_namespaces() {
    let unegcap = |d: &mut Driver| {
        let (c, b) = d.admin_read(
            sqe_of(0x02, 0, &[(10, (128 - 1) << 16 | 0x09), (11, 1 << 16)], 0),
            512,
        );
        assert!(c.ok(), "{c:?}");
        (u64_at(&b, 160), u64_at(&b, 176))
    };
    let mut d = up();
    assert_eq!(
        unegcap(&mut d),
        (TOTAL, 0),
        "the factory namespace holds it all"
    );
    let mut d = empty();
    assert_eq!(unegcap(&mut d), (TOTAL, TOTAL));
    create(&mut d, 2048, 0);
    assert_eq!(unegcap(&mut d), (TOTAL, TOTAL - (1 << 20)));
    let (_, id) = identify(&mut d, 1, 0);
    assert_eq!(u64_at(&id, 296), TOTAL - (1 << 20), "UNVMCAP agrees");
}
