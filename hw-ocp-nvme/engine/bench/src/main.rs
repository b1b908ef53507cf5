// SPDX-License-Identifier: GPL-2.0-or-later
//! In-process engine microbenchmark: the cost of the controller itself per
//! command, without QEMU or a guest. A host with flat guest memory and a
//! storage that completes every request at once drives 4 KiB reads and
//! writes through the public API the QEMU device uses: SQEs written to
//! guest memory, the SQ tail doorbell (`mmio_write`: fetch, parse, PRP
//! resolution, storage submission), `complete_io` (accounting, CQE post,
//! interrupt), reaping the CQ and the CQ head doorbell.
//!
//! `cargo run --release -p ocp-nvme-engine-bench` (or `make bench-engine`) prints commands
//! per second on one core for each job; `ENGINE_BENCH_COMMANDS` sets the
//! commands per job (default 2,000,000) and `ENGINE_BENCH_JOB` runs only
//! the job of that name (e.g. `read 4k QD1`), for counting instructions
//! per command with callgrind.

use std::cell::Cell;
use std::time::Instant;

use ocp_nvme_engine::{
    Clock, Controller, ControllerConfig, DmaError, GuestMemory, Host, Interrupts, IoRequest,
    IoResult, IoToken, NoLog, Storage,
};

const ASQ: u64 = 0x1_0000;
const ACQ: u64 = 0x2_0000;
const IOSQ: u64 = 0x3_0000;
const IOCQ: u64 = 0x4_0000;
const DATA: u64 = 0x10_0000;
const DEPTH: u32 = 64;
const DOORBELLS: u64 = 0x1000;

/// Guest memory as one flat byte array.
struct FlatMemory(Vec<u8>);

impl GuestMemory for FlatMemory {
    fn read(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), DmaError> {
        let a = usize::try_from(addr).map_err(|_| DmaError)?;
        let src = self.0.get(a..a + buf.len()).ok_or(DmaError)?;
        buf.copy_from_slice(src);
        Ok(())
    }
    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), DmaError> {
        let a = usize::try_from(addr).map_err(|_| DmaError)?;
        let dst = self.0.get_mut(a..a + data.len()).ok_or(DmaError)?;
        dst.copy_from_slice(data);
        Ok(())
    }
}

/// Storage that keeps the tokens of submitted requests (the benchmark
/// completes them right away, like a null-co backend).
#[derive(Default)]
struct NullStorage(Vec<IoToken>);

impl Storage for NullStorage {
    fn submit(&mut self, req: IoRequest) {
        self.0.push(req.token);
    }
    fn drain(&mut self) {}
}

#[derive(Default)]
struct CountingIrq(u64);

impl Interrupts for CountingIrq {
    fn msix_enabled(&self) -> bool {
        true
    }
    fn msix_notify(&mut self, _vector: u16) {
        self.0 += 1;
    }
    fn set_intx(&mut self, _level: bool) {}
}

struct StepClock(Cell<u64>);

impl Clock for StepClock {
    fn now_ns(&self) -> u64 {
        self.0.get()
    }
}

struct Bench {
    ctrl: Controller,
    mem: FlatMemory,
    storage: NullStorage,
    reaped: Vec<IoToken>,
    irq: CountingIrq,
    clock: StepClock,
    log: NoLog,
    sq_tail: [u32; 2],
    cq_head: [u32; 2],
    cq_phase: [bool; 2],
    cid: u16,
}

macro_rules! host {
    ($b:expr) => {
        Host {
            mem: &mut $b.mem,
            storage: &mut $b.storage,
            irq: &mut $b.irq,
            clock: &$b.clock,
            log: &mut $b.log,
        }
    };
}

fn sqe(opcode: u8, cid: u16, prp1: u64, dw10: u32, dw11: u32, dw12: u32) -> [u8; 64] {
    let mut e = [0u8; 64];
    e[0] = opcode;
    e[2..4].copy_from_slice(&cid.to_le_bytes());
    e[4..8].copy_from_slice(&1u32.to_le_bytes());
    e[24..32].copy_from_slice(&prp1.to_le_bytes());
    e[40..44].copy_from_slice(&dw10.to_le_bytes());
    e[44..48].copy_from_slice(&dw11.to_le_bytes());
    e[48..52].copy_from_slice(&dw12.to_le_bytes());
    e
}

impl Bench {
    fn new() -> Bench {
        let cfg = ControllerConfig {
            capacity_bytes: 1 << 30,
            max_ioqpairs: 1,
            msix_vectors: 2,
            ..ControllerConfig::default()
        };
        let mut b = Bench {
            ctrl: Controller::new(cfg).expect("valid configuration"),
            mem: FlatMemory(vec![0; 64 << 20]),
            storage: NullStorage::default(),
            reaped: Vec::new(),
            irq: CountingIrq::default(),
            clock: StepClock(Cell::new(0)),
            log: NoLog,
            sq_tail: [0; 2],
            cq_head: [0; 2],
            cq_phase: [true; 2],
            cid: 0,
        };
        b.ctrl.reset(&mut host!(b));
        b.reg(0x24, (DEPTH - 1) << 16 | (DEPTH - 1));
        b.reg(0x28, ASQ as u32);
        b.reg(0x2c, 0);
        b.reg(0x30, ACQ as u32);
        b.reg(0x34, 0);
        b.reg(0x14, 0x0046_0001);
        // Create I/O CQ 1 (vector 1) and SQ 1.
        b.admin(sqe(0x05, 0, IOCQ, (DEPTH - 1) << 16 | 1, 1 << 16 | 3, 0));
        b.admin(sqe(0x01, 0, IOSQ, (DEPTH - 1) << 16 | 1, 1 << 16 | 1, 0));
        b
    }

    fn reg(&mut self, offset: u64, value: u32) {
        self.ctrl
            .mmio_write(offset, u64::from(value), 4, &mut host!(self));
    }

    fn admin(&mut self, mut e: [u8; 64]) {
        self.cid = self.cid.wrapping_add(1);
        e[2..4].copy_from_slice(&self.cid.to_le_bytes());
        // Queue management does not use a namespace: NSID 0.
        e[4..8].fill(0);
        self.post(0, &e);
        self.ring(0);
        let done = self.reap(0);
        assert_eq!(done, 1, "admin command completed");
    }

    fn post(&mut self, q: usize, e: &[u8; 64]) {
        let base = if q == 0 { ASQ } else { IOSQ };
        let at = base + u64::from(self.sq_tail[q]) * 64;
        self.mem.write(at, e).expect("SQ in memory");
        self.sq_tail[q] = (self.sq_tail[q] + 1) % DEPTH;
    }

    fn ring(&mut self, q: usize) {
        self.reg(DOORBELLS + q as u64 * 8, self.sq_tail[q]);
    }

    /// Complete what storage holds, read new CQEs, ring the head doorbell.
    fn reap(&mut self, q: usize) -> u32 {
        // Two lists that keep their capacity (completions may submit
        // again): the harness allocates nothing per round.
        let mut tokens = std::mem::take(&mut self.reaped);
        std::mem::swap(&mut self.storage.0, &mut tokens);
        for t in tokens.drain(..) {
            self.ctrl.complete_io(t, IoResult::Ok, &mut host!(self));
        }
        self.reaped = tokens;
        let base = if q == 0 { ACQ } else { IOCQ };
        let mut n = 0;
        loop {
            let at = (base + u64::from(self.cq_head[q]) * 16 + 14) as usize;
            let status = u16::from_le_bytes([self.mem.0[at], self.mem.0[at + 1]]);
            if (status & 1 != 0) != self.cq_phase[q] {
                break;
            }
            assert_eq!(status >> 1, 0, "command succeeded");
            n += 1;
            self.cq_head[q] += 1;
            if self.cq_head[q] == DEPTH {
                self.cq_head[q] = 0;
                self.cq_phase[q] = !self.cq_phase[q];
            }
        }
        if n > 0 {
            self.reg(DOORBELLS + q as u64 * 8 + 4, self.cq_head[q]);
        }
        n
    }

    /// `commands` 4 KiB commands of `opcode` at queue depth `qd`, at
    /// sequential or random 4 KiB-aligned blocks of the first 4 GiB;
    /// returns commands per second.
    fn run(&mut self, opcode: u8, qd: u32, random: bool, commands: u64) -> f64 {
        let start = Instant::now();
        let mut done = 0u64;
        let mut lba = 0u32;
        let mut seed = 1u64;
        while done < commands {
            for _ in 0..qd {
                self.cid = self.cid.wrapping_add(1);
                let buf = DATA + u64::from(self.cid % 256) * 4096;
                lba = if random {
                    seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    ((seed >> 33) as u32 % (1 << 20)) & !7
                } else {
                    (lba + 8) % (1 << 20)
                };
                let e = sqe(opcode, self.cid, buf, lba, 0, 7);
                self.post(1, &e);
            }
            self.ring(1);
            self.clock.0.set(self.clock.0.get() + 10_000);
            done += u64::from(self.reap(1));
        }
        done as f64 / start.elapsed().as_secs_f64()
    }
}

fn main() {
    let commands = std::env::var("ENGINE_BENCH_COMMANDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000_000u64);
    let only = std::env::var("ENGINE_BENCH_JOB").unwrap_or_default();
    println!("| job | commands | commands/s (one core) | ns/command |");
    println!("|---|---:|---:|---:|");
    for (name, opcode, qd, random) in [
        ("read 4k QD1", 0x02, 1, false),
        ("read 4k QD32", 0x02, 32, false),
        ("write 4k QD1", 0x01, 1, false),
        ("write 4k QD32", 0x01, 32, false),
        ("randwrite 4k QD1", 0x01, 1, true),
        ("randwrite 4k QD32", 0x01, 32, true),
    ] {
        if !only.is_empty() && name != only {
            continue;
        }
        let mut b = Bench::new();
        b.run(opcode, qd, random, commands / 10); // warm up
        let rate = b.run(opcode, qd, random, commands);
        println!("| {name} | {commands} | {:.0} | {:.0} |", rate, 1e9 / rate);
    }
}
