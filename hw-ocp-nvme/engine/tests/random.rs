// SPDX-License-Identifier: GPL-2.0-or-later
//! Bounded, seeded random tests over SQEs, PRPs, SGLs, doorbells and
//! registers: no panic, every command completes, the controller recovers.
#![allow(clippy::shadow_unrelated, clippy::cognitive_complexity)] // long test scripts reuse names

use std::collections::HashSet;

use ocp_nvme_engine::spec::regs::off;
use ocp_nvme_engine::spec::sgl::{kind, SglDesc};
use ocp_nvme_engine::spec::status::Status;
use ocp_nvme_engine::testing::{set_prps, sqe_of, Driver, TestMemory, XorShift};
use ocp_nvme_engine::transfer::{resolve_prp, resolve_sgl, Seg};
use ocp_nvme_engine::{GuestMemory, IoError, IoResult};

const FAULT: u64 = 0x8000_0000;

/// Number of seeds: small for `cargo test`, more with
/// `OCP_NVME_RANDOM_SEEDS=1000 cargo test --test random`.
fn seeds(default: u64) -> u64 {
    std::env::var("OCP_NVME_RANDOM_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn random_addr(r: &mut XorShift, good: u64) -> u64 {
    match r.below(6) {
        0 => good,
        1 => good + r.below(4096),
        2 => FAULT + r.below(0x10000),
        3 => r.next_u64(),
        4 => r.below(1 << 24) & !0xfff,
        _ => good + (r.below(8) << 12),
    }
}

fn random_sgl_desc(r: &mut XorShift, good: u64) -> SglDesc {
    let k = match r.below(6) {
        0 => kind::DATA_BLOCK,
        1 => kind::BIT_BUCKET,
        2 => kind::SEGMENT,
        3 => kind::LAST_SEGMENT,
        _ => r.below(16) as u8,
    };
    SglDesc {
        addr: random_addr(r, good),
        len: [16u32, 32, 48, 512, 1024, 4096, r.next_u64() as u32][r.below(7) as usize],
        kind: k,
        subtype: if r.chance(90) { 0 } else { r.below(16) as u8 },
    }
}

fn fill_random(d: &mut Driver, r: &mut XorShift, at: u64, len: usize, good: u64) {
    let mut v = Vec::with_capacity(len);
    while v.len() < len {
        if r.chance(50) {
            v.extend_from_slice(&random_sgl_desc(r, good).to_bytes());
        } else {
            v.extend_from_slice(&random_addr(r, good).to_le_bytes());
        }
    }
    v.truncate(len);
    d.write_mem(at, &v);
}

/// Complete a random subset of the pending storage requests, in random
/// order, sometimes with errors.
fn complete_some(d: &mut Driver, r: &mut XorShift) {
    let mut reqs = std::mem::take(&mut d.env.storage.pending);
    let mut keep = Vec::new();
    while !reqs.is_empty() {
        let i = r.below(reqs.len() as u64) as usize;
        let req = reqs.swap_remove(i);
        if r.chance(30) {
            keep.push(req);
            continue;
        }
        let (res, data) = if r.chance(5) {
            let e = [IoError::MediaError, IoError::Other, IoError::Dma][r.below(3) as usize];
            (IoResult::Error(e), Vec::new())
        } else {
            d.env.storage.perform(&req, &mut d.env.mem)
        };
        d.complete_token_data(req.token, res, &data);
    }
    d.env.storage.pending.extend(keep);
}

fn random_sqe(r: &mut XorShift, admin: bool, good: u64) -> ocp_nvme_engine::spec::cmd::Sqe {
    let ops: &[u8] = if admin {
        &[
            0x00, 0x01, 0x02, 0x04, 0x05, 0x06, 0x08, 0x09, 0x0a, 0x0c, 0x10, 0x11, 0x14, 0x18,
            0x7c, 0x80, 0xc0,
        ]
    } else {
        &[0x00, 0x01, 0x02, 0x05, 0x08, 0x09, 0x0c, 0x04, 0x99]
    };
    let mut s = sqe_of(ops[r.below(ops.len() as u64) as usize], 0, &[], 0);
    if r.chance(10) {
        s.dw[0] |= (r.below(4) as u32) << 8;
    }
    if r.chance(30) {
        s.dw[0] |= (r.below(4) as u32) << 14;
    }
    s.dw[1] = [1u32, 0, 0xffff_ffff, 2, r.next_u64() as u32][r.below(5) as usize];
    let p1 = random_addr(r, good);
    let p2 = random_addr(r, good + 0x10000);
    s.dw[6] = p1 as u32;
    s.dw[7] = (p1 >> 32) as u32;
    s.dw[8] = p2 as u32;
    s.dw[9] = (p2 >> 32) as u32;
    if s.dw[0] & (3 << 14) != 0 && r.chance(70) {
        let b = random_sgl_desc(r, good).to_bytes();
        for i in 0..4 {
            s.dw[6 + i] = u32::from_le_bytes(b[i * 4..i * 4 + 4].try_into().unwrap());
        }
    }
    for i in 10..16 {
        s.dw[i] = match r.below(4) {
            0 => 0,
            1 => r.below(16) as u32,
            2 => r.below(0x1_0000) as u32,
            _ => r.next_u64() as u32,
        };
    }
    if !admin && r.chance(60) {
        // Mostly in range.
        s.dw[10] = r.below(8192) as u32;
        s.dw[11] = 0;
        s.dw[12] = (s.dw[12] & 0xffff_0000) | r.below(64) as u32;
    }
    s
}

#[test]
fn random_commands_never_panic_and_controller_recovers() {
    for seed in 1..=seeds(12) {
        let mut r = XorShift(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let mut d = Driver::new(Driver::small_config());
        d.env.mem.faults.push((FAULT, 0x10000));
        d.bring_up(2);
        d.auto_complete = false;
        let good = d.alloc(0x40000);
        fill_random(&mut d, &mut r, good, 0x20000, good);
        for _ in 0..250 {
            match r.below(20) {
                0 => {
                    // Random register or doorbell write (not CC).
                    let offs = [
                        off::INTMS,
                        off::INTMC,
                        off::AQA,
                        0x28,
                        0x30,
                        0x20,
                        0x1000,
                        0x1004,
                        0x1008,
                        0x100c,
                        0x1010,
                        0x1014,
                        0x1030,
                        0x1ffc,
                    ];
                    let o = offs[r.below(offs.len() as u64) as usize];
                    let v = if r.chance(50) {
                        r.below(80)
                    } else {
                        r.next_u64()
                    };
                    d.w32(o, v as u32);
                }
                1 => complete_some(&mut d, &mut r),
                3 if r.chance(10) => {
                    // Shutdown, disable, re-enable or a random CC value.
                    let cc = d.r32(off::CC);
                    let v = match r.below(4) {
                        0 => cc | 1 << 14,
                        1 => cc | 2 << 14,
                        2 => cc & !1,
                        _ => r.next_u64() as u32,
                    };
                    d.w32(off::CC, v);
                    if r.chance(50) {
                        d.w32(off::CC, 0x0046_0001);
                    }
                }
                4 if r.chance(5) => {
                    let mut h = d.env.host();
                    d.ctrl.reset(&mut h);
                }
                2 => d.advance(r.below(3_000_000_000)),
                _ => {
                    let q = r.below(3) as u16;
                    let s = random_sqe(&mut r, q == 0, good);
                    if d.sq[q as usize].size != 0 {
                        d.submit(q, s);
                    }
                }
            }
            for q in 0..3 {
                d.reap(q);
            }
        }
        for _ in 0..8 {
            complete_some(&mut d, &mut r);
        }
        // Whatever happened, a reset brings back a working controller.
        d.disable();
        d.env.storage.pending.clear();
        d.auto_complete = true;
        d.bring_up(2);
        let buf = d.alloc(4096);
        d.write_mem(buf, &[0x5a; 4096]);
        let mut s = sqe_of(0x01, 1, &[(10, 16), (12, 7)], 0);
        set_prps(&mut d, &mut s, buf, 4096);
        let c = d.io(1, s);
        // A random Format may have switched to 4 KiB blocks: 8 blocks still fit.
        assert!(c.ok(), "seed {seed}: {c:?}");
        let rb = d.alloc(4096);
        let mut s = sqe_of(0x02, 1, &[(10, 16), (12, 0)], 0);
        set_prps(&mut d, &mut s, rb, 512);
        let c = d.io(1, s);
        if c.ok() {
            assert_eq!(d.read_mem(rb, 512), vec![0x5a; 512]);
        } else {
            assert!(
                c.is(Status::INVALID_FIELD) || c.is(Status::LBA_OUT_OF_RANGE),
                "seed {seed}: {c:?}"
            );
        }
    }
}

#[test]
fn every_io_command_completes_exactly_once() {
    for seed in 1..=seeds(8) {
        let mut r = XorShift(seed.wrapping_mul(0x2545_f491_4f6c_dd1d) | 1);
        let mut d = Driver::new(Driver::small_config());
        d.bring_up(2);
        d.auto_complete = false;
        let good = d.alloc(0x40000);
        fill_random(&mut d, &mut r, good, 0x20000, good);
        let mut outstanding: HashSet<(u16, u16)> = HashSet::new();
        let mut submitted = 0;
        for _ in 0..300 {
            if r.chance(70) {
                let q = 1 + r.below(2) as u16;
                let in_flight = outstanding.iter().filter(|(qq, _)| *qq == q).count();
                if in_flight < 60 {
                    let s = random_sqe(&mut r, false, good);
                    let cid = d.submit(q, s);
                    assert!(outstanding.insert((q, cid)), "cid reuse");
                    submitted += 1;
                }
            } else {
                complete_some(&mut d, &mut r);
            }
            for q in 1..=2 {
                for c in d.reap(q) {
                    assert!(
                        outstanding.remove(&(q, c.cid)),
                        "unexpected or duplicate completion {c:?}"
                    );
                    assert_eq!(c.sqid, q);
                }
            }
        }
        for _ in 0..32 {
            d.complete_storage();
            for q in 1..=2 {
                for c in d.reap(q) {
                    assert!(outstanding.remove(&(q, c.cid)));
                }
            }
        }
        assert!(
            outstanding.is_empty(),
            "seed {seed}: {} of {submitted} never completed",
            outstanding.len()
        );
        assert_eq!(d.csts() & 2, 0);
    }
}

#[test]
fn random_prp_and_sgl_resolution_is_bounded_and_consistent() {
    let mut r = XorShift(0x1234_5678_9abc_def1);
    let mut m = TestMemory::new(1 << 32);
    m.faults.push((FAULT, 0x10000));
    let good = 0x10_0000u64;
    // Random list pages.
    for p in 0..64u64 {
        let mut v = Vec::new();
        for _ in 0..256 {
            if r.chance(50) {
                v.extend_from_slice(&random_sgl_desc(&mut r, good).to_bytes());
            } else {
                v.extend_from_slice(&(random_addr(&mut r, good) & !0xfff).to_le_bytes());
                v.extend_from_slice(&random_addr(&mut r, good).to_le_bytes());
            }
        }
        m.write(good + p * 4096, &v[..4096]).unwrap();
    }
    for _ in 0..3000 {
        let len = [0u64, 4, 512, 4096, 4097, 8192, 65536, 512 * 1024][r.below(8) as usize];
        let p1 = random_addr(&mut r, good);
        let p2 = random_addr(&mut r, good);
        match resolve_prp(&mut m, p1, p2, len) {
            Ok(t) => {
                assert_eq!(t.len(), len);
                assert!(t.segs().all(|s| matches!(s, Seg::Data(g) if g.len > 0)));
            }
            Err(s) => assert!(
                s == Status::INVALID_PRP_OFFSET || s == Status::DATA_TRANSFER_ERROR,
                "{s:?}"
            ),
        }
        let first = random_sgl_desc(&mut r, good).to_bytes();
        match resolve_sgl(&mut m, &first, len, r.chance(50)) {
            Ok(t) => assert_eq!(t.len(), len),
            Err(s) => assert!(
                [
                    Status::INVALID_SGL_SEGMENT_DESCRIPTOR,
                    Status::INVALID_NUM_SGL_DESCRIPTORS,
                    Status::DATA_SGL_LENGTH_INVALID,
                    Status::SGL_DESCRIPTOR_TYPE_INVALID,
                    Status::DATA_TRANSFER_ERROR,
                ]
                .contains(&s),
                "{s:?}"
            ),
        }
    }
}

#[test]
fn random_register_writes_never_panic() {
    let mut r = XorShift(77);
    let mut d = Driver::new(Driver::small_config());
    for _ in 0..3000 {
        let o = match r.below(4) {
            0 => r.below(0x80),
            1 => 0x1000 + r.below(0x100),
            _ => r.below(0x3000),
        };
        let size = [1u32, 2, 4, 8, 3, 16][r.below(6) as usize];
        let v = r.next_u64();
        let mut h = d.env.host();
        if r.chance(50) {
            d.ctrl.mmio_write(o, v, size, &mut h);
        } else {
            let _ = d.ctrl.mmio_read(o, size, &mut h);
        }
        if r.chance(1) {
            d.ctrl.reset(&mut h);
        }
        let _ = d.ctrl.timer_deadline();
    }
}
