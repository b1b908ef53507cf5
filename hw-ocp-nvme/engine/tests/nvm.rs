// SPDX-License-Identifier: GPL-2.0-or-later
//! NVM I/O commands and their statuses.
#![allow(clippy::shadow_unrelated, clippy::cognitive_complexity)] // long test scripts reuse names

use ocp_nvme_engine::spec::cmd::Sqe;
use ocp_nvme_engine::spec::sgl::{kind, SglDesc};
use ocp_nvme_engine::spec::status::Status;
use ocp_nvme_engine::testing::{set_prps, sqe_of, Driver};
use ocp_nvme_engine::{IoError, IoKind, IoResult};

fn up() -> Driver {
    let mut d = Driver::new(Driver::small_config());
    d.bring_up(1);
    d
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

fn sgl(s: &mut Sqe, desc: SglDesc) {
    s.dw[0] |= 1 << 14;
    let b = desc.to_bytes();
    for i in 0..4 {
        s.dw[6 + i] = u32::from_le_bytes(b[i * 4..i * 4 + 4].try_into().unwrap());
    }
}

#[test]
fn read_write_flush_fua() {
    let mut d = up();
    let buf = d.alloc(65536);
    let data: Vec<u8> = (0..65536u32).map(|i| (i % 251) as u8).collect();
    d.write_mem(buf, &data);
    let mut s = rw(&mut d, 0x01, 100, 128, buf);
    s.dw[12] |= 1 << 30;
    assert!(d.io(1, s).ok());
    assert!(d
        .env
        .storage
        .log
        .iter()
        .any(|&(k, o, l)| k == IoKind::Write { fua: true } && o == 51200 && l == 65536));
    let rb = d.alloc(65536);
    let s = rw(&mut d, 0x02, 100, 128, rb);
    assert!(d.io(1, s).ok());
    assert_eq!(d.read_mem(rb, 65536), data);
    assert!(d.io(1, sqe_of(0x00, 1, &[], 0)).ok());
    assert!(d.io(1, sqe_of(0x00, 0xffff_ffff, &[], 0)).ok());
    assert!(d
        .io(1, sqe_of(0x00, 2, &[], 0))
        .is(Status::INVALID_NAMESPACE));
    assert_eq!(d.ctrl.counters().flush_commands, 2);
    // Write cache disabled: writes become FUA.
    assert!(d.admin(sqe_of(0x09, 0, &[(10, 6), (11, 0)], 0)).ok());
    let s = rw(&mut d, 0x01, 0, 1, buf);
    assert!(d.io(1, s).ok());
    assert_eq!(
        d.env.storage.log.last().unwrap().0,
        IoKind::Write { fua: true }
    );
}

#[test]
fn lba_range_namespace_and_mdts() {
    let mut d = up();
    let nsze = (4u64 << 20) / 512;
    let buf = d.alloc(4096);
    let s = rw(&mut d, 0x02, nsze - 1, 1, buf);
    assert!(d.io(1, s).ok());
    let s = rw(&mut d, 0x02, nsze - 1, 2, buf);
    assert!(d.io(1, s).is(Status::LBA_OUT_OF_RANGE));
    let s = rw(&mut d, 0x01, u64::MAX, 1, buf);
    assert!(d.io(1, s).is(Status::LBA_OUT_OF_RANGE));
    let mut s = rw(&mut d, 0x02, 0, 1, buf);
    s.dw[1] = 0;
    assert!(d.io(1, s).is(Status::INVALID_NAMESPACE));
    s.dw[1] = 0xffff_ffff;
    assert!(d.io(1, s).is(Status::INVALID_NAMESPACE));
    // MDTS 7 = 512 KiB = 1024 blocks.
    let big = d.alloc(1 << 20);
    let s = rw(&mut d, 0x02, 0, 1024, big);
    assert!(d.io(1, s).ok());
    let s = rw(&mut d, 0x02, 0, 1025, big);
    assert!(d.io(1, s).is(Status::INVALID_FIELD));
    // Unknown I/O opcodes, fused, reserved PSDT.
    for op in [0x03u8, 0x0d, 0x11, 0x1a, 0x7f, 0x80] {
        assert!(d.io(1, sqe_of(op, 1, &[], 0)).is(Status::INVALID_OPCODE));
    }
    let mut s = rw(&mut d, 0x02, 0, 1, buf);
    s.dw[0] |= 1 << 8;
    assert!(d.io(1, s).is(Status::ABORTED_MISSING_FUSED));
    let mut s = rw(&mut d, 0x02, 0, 1, buf);
    s.dw[0] |= 3 << 14;
    assert!(d.io(1, s).is(Status::INVALID_FIELD));
    // Bad PRP offsets and unreachable memory.
    let mut s = rw(&mut d, 0x02, 0, 1, buf);
    s.dw[6] |= 1;
    assert!(d.io(1, s).is(Status::INVALID_PRP_OFFSET));
    d.env.mem.faults.push((0x9000_0000, 0x1000));
    let s = rw(&mut d, 0x02, 0, 8, 0x9000_0000);
    assert!(d.io(1, s).is(Status::DATA_TRANSFER_ERROR));
    let s = rw(&mut d, 0x02, 0, 16, 0x8fff_f000);
    // PRP2 pointing at a faulted list page.
    let mut s2 = s;
    s2.dw[8] = 0x9000_0000;
    s2.dw[9] = 0;
    assert!(d.io(1, s2).is(Status::DATA_TRANSFER_ERROR));
}

#[test]
fn read_only_namespace() {
    let mut cfg = Driver::small_config();
    cfg.read_only = true;
    let mut d = Driver::new(cfg);
    d.bring_up(1);
    let buf = d.alloc(4096);
    let s = rw(&mut d, 0x01, 0, 1, buf);
    assert!(d.io(1, s).is(Status::NAMESPACE_WRITE_PROTECTED));
    assert!(d
        .io(1, sqe_of(0x08, 1, &[(12, 0)], 0))
        .is(Status::NAMESPACE_WRITE_PROTECTED));
    let s = rw(&mut d, 0x02, 0, 1, buf);
    assert!(d.io(1, s).ok());
    let (_, smart) = d.admin_read(sqe_of(0x02, 0, &[(10, 127 << 16 | 2)], 0), 512);
    assert_eq!(smart[0] & 0x08, 0x08);
}

#[test]
fn write_zeroes_and_deallocate() {
    let mut d = up();
    d.env.storage.disk[512..1024].fill(0xaa);
    let s = sqe_of(0x08, 1, &[(10, 1), (12, 1 << 25)], 0);
    assert!(d.io(1, s).ok());
    assert_eq!(
        *d.env.storage.log.last().unwrap(),
        (IoKind::WriteZeroes { may_unmap: true }, 512, 512)
    );
    assert!(d.env.storage.disk[512..1024].iter().all(|&b| b == 0));
    let s = sqe_of(0x08, 1, &[(10, 1), (12, 0)], 0);
    assert!(d.io(1, s).ok());
    assert_eq!(
        d.env.storage.log.last().unwrap().0,
        IoKind::WriteZeroes { may_unmap: false }
    );
    // FUA: zeroes, then a flush, then the completion.
    d.auto_complete = false;
    let cid = d.submit(1, sqe_of(0x08, 1, &[(10, 1), (12, 1 << 30)], 0));
    assert_eq!(d.env.storage.pending.len(), 1);
    let r = d.env.storage.pending.pop().unwrap();
    d.complete_token(r.token, IoResult::Ok);
    assert!(d.reap(1).is_empty());
    assert_eq!(d.env.storage.pending.len(), 1);
    assert_eq!(d.env.storage.pending[0].kind, IoKind::Flush);
    d.auto_complete = true;
    assert!(d.wait(1, cid).unwrap().ok());
    // Not limited by MDTS.
    assert!(d.io(1, sqe_of(0x08, 1, &[(12, 8191)], 0)).ok());
    assert!(d
        .io(1, sqe_of(0x08, 1, &[(10, 8190), (12, 3)], 0))
        .is(Status::LBA_OUT_OF_RANGE));
    // DSM deallocate with two ranges, one empty.
    d.env.storage.disk[4096..8192].fill(0xbb);
    let ranges = d.alloc(4096);
    let mut r = vec![0u8; 48];
    r[4..8].copy_from_slice(&8u32.to_le_bytes());
    r[8..16].copy_from_slice(&8u64.to_le_bytes());
    r[36..40].copy_from_slice(&0u32.to_le_bytes());
    d.write_mem(ranges, &r);
    let s = sqe_of(0x09, 1, &[(10, 2), (11, 4)], ranges);
    assert!(d.io(1, s).ok());
    assert!(d.env.storage.disk[4096..8192].iter().all(|&b| b == 0));
    // Deallocated blocks read back as zeroes.
    let buf = d.alloc(4096);
    d.write_mem(buf, &[0xff; 4096]);
    let s = rw(&mut d, 0x02, 8, 8, buf);
    assert!(d.io(1, s).ok());
    assert!(d.read_mem(buf, 4096).iter().all(|&b| b == 0));
    // Out of range in any range fails the whole command.
    r[40..48].copy_from_slice(&u64::MAX.to_le_bytes());
    r[36..40].copy_from_slice(&1u32.to_le_bytes());
    d.write_mem(ranges, &r);
    assert!(d
        .io(1, sqe_of(0x09, 1, &[(10, 2), (11, 4)], ranges))
        .is(Status::LBA_OUT_OF_RANGE));
    // Hints only: success without I/O.
    let n = d.env.storage.log.len();
    assert!(d.io(1, sqe_of(0x09, 1, &[(10, 2), (11, 3)], ranges)).ok());
    assert_eq!(d.env.storage.log.len(), n);
    // 256 ranges (NR = 255).
    let many = d.alloc(4096);
    let mut r = vec![0u8; 4096];
    for i in 0..256 {
        r[i * 16 + 4..i * 16 + 8].copy_from_slice(&1u32.to_le_bytes());
        r[i * 16 + 8..i * 16 + 16].copy_from_slice(&(i as u64).to_le_bytes());
    }
    d.write_mem(many, &r);
    assert!(d.io(1, sqe_of(0x09, 1, &[(10, 255), (11, 4)], many)).ok());
    assert_eq!(d.ctrl.counters().deallocate_commands, 2);
    // 8 blocks (first DSM), 1 block (first Write Zeroes with DEAC), 256 blocks.
    assert_eq!(d.ctrl.counters().deallocated_blocks, 8 + 1 + 256);
    assert_eq!(d.ctrl.power_state(), 0);
}

#[test]
fn compare_and_verify() {
    let mut d = up();
    d.env.storage.disk[0..512].fill(0x42);
    let buf = d.alloc(512);
    d.write_mem(buf, &[0x42; 512]);
    let s = rw(&mut d, 0x05, 0, 1, buf);
    assert!(d.io(1, s).ok());
    d.write_mem(buf, &[0x43; 512]);
    let s = rw(&mut d, 0x05, 0, 1, buf);
    let c = d.io(1, s);
    assert!(c.is(Status::COMPARE_FAILURE));
    assert!(c.dnr());
    assert!(d.io(1, sqe_of(0x0c, 1, &[(10, 0), (12, 1023)], 0)).ok());
    assert!(d
        .io(1, sqe_of(0x0c, 1, &[(10, 0), (12, 1024)], 0))
        .is(Status::INVALID_FIELD));
    assert!(d
        .io(1, sqe_of(0x0c, 2, &[(10, 0), (12, 0)], 0))
        .is(Status::INVALID_NAMESPACE));
    assert!(d
        .io(1, sqe_of(0x0c, 1, &[(10, 8192), (12, 0)], 0))
        .is(Status::LBA_OUT_OF_RANGE));
}

#[test]
fn storage_errors_map_to_statuses() {
    let mut d = up();
    let buf = d.alloc(4096);
    let cases = [
        (0x02u8, IoError::MediaError, Status::UNRECOVERED_READ_ERROR),
        (0x01, IoError::MediaError, Status::WRITE_FAULT),
        (0x01, IoError::NoSpace, Status::CAPACITY_EXCEEDED),
        (0x01, IoError::ReadOnly, Status::NAMESPACE_WRITE_PROTECTED),
        (0x02, IoError::Dma, Status::DATA_TRANSFER_ERROR),
        (0x02, IoError::Other, Status::INTERNAL_ERROR),
    ];
    for (op, e, st) in cases {
        d.env.storage.fail_next = Some(e);
        let s = rw(&mut d, op, 0, 1, buf);
        assert!(d.io(1, s).is(st), "{e:?}");
    }
    assert_eq!(d.ctrl.counters().media_errors, 2);
    // The newest error entry names the namespace and LBA.
    d.env.storage.fail_next = Some(IoError::MediaError);
    let s = rw(&mut d, 0x02, 77, 1, buf);
    assert!(d.io(1, s).is(Status::UNRECOVERED_READ_ERROR));
    let (c, log) = d.admin_read(sqe_of(0x02, 0, &[(10, 15 << 16 | 1)], 0), 64);
    assert!(c.ok());
    assert_eq!(u16::from_le_bytes([log[8], log[9]]), 1); // SQID
    assert_eq!(u64::from_le_bytes(log[16..24].try_into().unwrap()), 77);
    assert_eq!(u32::from_le_bytes(log[24..28].try_into().unwrap()), 1);
    // Failed commands are not counted as host commands.
    assert_eq!(d.ctrl.counters().host_read_commands, 0);
    let _ = IoResult::Ok;
}

#[test]
fn sgl_io_with_bit_bucket() {
    let mut d = up();
    for (i, b) in d.env.storage.disk[..2048].iter_mut().enumerate() {
        *b = (i / 512) as u8 + 1;
    }
    let seg = d.alloc(4096);
    let a = d.alloc(4096);
    let b = d.alloc(4096);
    let descs = [
        SglDesc {
            addr: a,
            len: 512,
            kind: kind::DATA_BLOCK,
            subtype: 0,
        },
        SglDesc {
            addr: 0,
            len: 1024,
            kind: kind::BIT_BUCKET,
            subtype: 0,
        },
        SglDesc {
            addr: b,
            len: 512,
            kind: kind::DATA_BLOCK,
            subtype: 0,
        },
    ];
    let mut raw = Vec::new();
    for x in descs {
        raw.extend_from_slice(&x.to_bytes());
    }
    d.write_mem(seg, &raw);
    let mut s = sqe_of(0x02, 1, &[(12, 3)], 0);
    sgl(
        &mut s,
        SglDesc {
            addr: seg,
            len: 48,
            kind: kind::LAST_SEGMENT,
            subtype: 0,
        },
    );
    assert!(d.io(1, s).ok());
    assert_eq!(d.read_mem(a, 512), vec![1u8; 512]);
    assert_eq!(d.read_mem(b, 512), vec![4u8; 512]);
    let reads: Vec<_> = d
        .env
        .storage
        .log
        .iter()
        .filter(|e| e.0 == IoKind::Read)
        .cloned()
        .collect();
    assert_eq!(
        reads,
        vec![(IoKind::Read, 0, 512), (IoKind::Read, 1536, 512)]
    );
    // Writes cannot use bit buckets.
    let mut s = sqe_of(0x01, 1, &[(12, 3)], 0);
    sgl(
        &mut s,
        SglDesc {
            addr: seg,
            len: 48,
            kind: kind::LAST_SEGMENT,
            subtype: 0,
        },
    );
    assert!(d.io(1, s).is(Status::SGL_DESCRIPTOR_TYPE_INVALID));
    // Write with a single data block.
    d.write_mem(a, &[9u8; 512]);
    let mut s = sqe_of(0x01, 1, &[(10, 5), (12, 0)], 0);
    sgl(
        &mut s,
        SglDesc {
            addr: a,
            len: 512,
            kind: kind::DATA_BLOCK,
            subtype: 0,
        },
    );
    assert!(d.io(1, s).ok());
    assert_eq!(d.env.storage.disk[2560], 9);
    // Wrong length.
    let mut s = sqe_of(0x01, 1, &[(10, 5), (12, 1)], 0);
    sgl(
        &mut s,
        SglDesc {
            addr: a,
            len: 512,
            kind: kind::DATA_BLOCK,
            subtype: 0,
        },
    );
    assert!(d.io(1, s).is(Status::DATA_SGL_LENGTH_INVALID));
    // SGLs on admin commands are refused.
    let mut s = sqe_of(0x06, 0, &[(10, 1)], 0);
    sgl(
        &mut s,
        SglDesc {
            addr: a,
            len: 4096,
            kind: kind::DATA_BLOCK,
            subtype: 0,
        },
    );
    assert!(d.admin(s).is(Status::INVALID_FIELD));
}

#[test]
fn latency_and_busy_counters() {
    let mut d = up();
    d.auto_complete = false;
    let buf = d.alloc(4096);
    let s = rw(&mut d, 0x02, 0, 8, buf);
    let cid = d.submit(1, s);
    d.advance(120_000_000_000);
    let c = d.wait(1, cid).unwrap();
    assert!(c.ok());
    let k = d.ctrl.counters();
    assert_eq!(k.latency[0].count, 1);
    assert_eq!(k.latency[0].max_ns, 120_000_000_000);
    assert_eq!(k.busy_ns, 120_000_000_000);
    let (_, smart) = d.admin_read(sqe_of(0x02, 0, &[(10, 127 << 16 | 2)], 0), 512);
    assert_eq!(smart[96], 2); // controller busy time, minutes
}

/// Compare and Verify read the medium asynchronously, like every other
/// command: nothing blocks inside the engine, the command completes when
/// its storage request does, and a failed read is a media error.
#[test]
fn compare_and_verify_wait_for_storage() {
    let mut d = up();
    d.auto_complete = false;
    d.env.storage.disk[512..1024].fill(0x5a);
    let buf = d.alloc(512);
    d.write_mem(buf, &[0x5a; 512]);
    let s = rw(&mut d, 0x05, 1, 1, buf);
    let cid = d.submit(1, s);
    assert!(d.reap(1).is_empty(), "Compare completed before its read");
    assert_eq!(d.env.storage.pending.len(), 1);
    let req = d.env.storage.pending[0].clone();
    assert_eq!(req.kind, IoKind::ReadBuffered);
    assert_eq!((req.offset, req.len), (512, 512));
    assert!(req.sg.is_empty());
    // The host data was taken at submission: changing the buffer now does
    // not change the outcome.
    d.write_mem(buf, &[0; 512]);
    let c = d.wait(1, cid).expect("compare completion");
    assert!(c.ok());
    // The medium changes between submission and read: Compare Failure.
    d.write_mem(buf, &[0x5a; 512]);
    let s = rw(&mut d, 0x05, 1, 1, buf);
    let cid = d.submit(1, s);
    d.env.storage.disk[1000] = 0;
    assert!(d.wait(1, cid).unwrap().is(Status::COMPARE_FAILURE));
    // Verify: one buffered read of the whole range, a media error fails it.
    let cid = d.submit(1, sqe_of(0x0c, 1, &[(10, 2), (12, 7)], 0));
    let req = d.env.storage.pending.last().unwrap().clone();
    assert_eq!(
        (req.kind, req.offset, req.len),
        (IoKind::ReadBuffered, 1024, 4096)
    );
    d.env.storage.fail_next = Some(IoError::MediaError);
    assert!(d.wait(1, cid).unwrap().is(Status::UNRECOVERED_READ_ERROR));
    // A successful one counts as a read command with its blocks as data
    // read; failed ones do not count.
    let k = d.ctrl.counters();
    assert_eq!(k.host_read_commands, 1);
    assert_eq!(k.bytes_read, 512);
}

#[test]
fn partial_last_block_is_unused() {
    let mut cfg = Driver::small_config();
    cfg.capacity_bytes = (4 << 20) + 1000; // partial last block is unused
    let mut d = Driver::new(cfg);
    d.bring_up(1);
    let (_, id) = d.admin_read(sqe_of(0x06, 0, &[(10, 1)], 0), 4096);
    assert_eq!(id[520] & 1, 1, "ONCS Compare");
    let (_, ns) = d.admin_read(sqe_of(0x06, 1, &[(10, 0)], 0), 4096);
    assert_eq!(u64::from_le_bytes(ns[0..8].try_into().unwrap()), 8193);
    assert!(d.io(1, sqe_of(0x0c, 1, &[(10, 8192), (12, 0)], 0)).ok());
    assert!(d
        .io(1, sqe_of(0x0c, 1, &[(10, 8193), (12, 0)], 0))
        .is(Status::LBA_OUT_OF_RANGE));
    // Format zeroes every whole 512-byte block.
    assert!(d.admin(sqe_of(0x80, 1, &[(10, 0)], 0)).ok());
    assert_eq!(d.env.storage.log.last().unwrap().2, 8193 * 512);
}

#[test]
fn large_zeroing_is_chunked_and_windowed() {
    let mut cfg = Driver::small_config();
    cfg.capacity_bytes = 20 << 30; // 20 GiB, sparse in the test storage
    let mut d = Driver::new(Driver::small_config());
    d.ctrl = ocp_nvme_engine::Controller::new(cfg).unwrap();
    d.env.storage.disk = Vec::new();
    d.bring_up(1);
    d.auto_complete = false;
    let cid = d.submit(0, sqe_of(0x80, 1, &[(10, 1)], 0));
    // 20 chunks of 1 GiB, at most 8 in flight.
    assert_eq!(d.env.storage.pending.len(), 8);
    let mut issued = 0;
    for _ in 0..10 {
        let reqs = std::mem::take(&mut d.env.storage.pending);
        for r in reqs {
            assert!(r.len <= 1 << 30);
            issued += 1;
            d.complete_token(r.token, IoResult::Ok);
        }
    }
    assert_eq!(issued, 20);
    let c = d.wait(0, cid).unwrap();
    assert!(c.ok());
    // An error stops the backlog: the command fails once in-flight pieces return.
    let cid = d.submit(0, sqe_of(0x80, 1, &[(10, 0)], 0));
    let reqs = std::mem::take(&mut d.env.storage.pending);
    assert_eq!(reqs.len(), 8);
    d.complete_token(reqs[0].token, IoResult::Error(IoError::MediaError));
    assert!(d.env.storage.pending.is_empty());
    for r in &reqs[1..] {
        d.complete_token(r.token, IoResult::Ok);
    }
    let c = d.wait(0, cid).unwrap();
    assert!(c.is(Status::WRITE_FAULT));
}
