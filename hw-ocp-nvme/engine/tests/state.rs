// SPDX-License-Identifier: GPL-2.0-or-later
//! Saved state (`Controller::save_state`, `Controller::load_state`): the
//! stress harness migrates its controller every few steps (each load must
//! equal what was saved) and a twin run with the same seed that never
//! migrates must end with an equal controller; corrupt, truncated, random
//! and foreign states are refused with a message, never a panic.

use ocp_nvme_engine::testing::stress::{random_config, Stress};
use ocp_nvme_engine::testing::{first_difference, Driver, XorShift};
use ocp_nvme_engine::traits::IoResult;
use ocp_nvme_engine::{Controller, ControllerConfig};

const STEPS: u64 = 1_500;

fn run(seed: u64, migrate_every: u64) -> (ocp_nvme_engine::testing::stress::Stats, Controller) {
    let mut rng = XorShift(seed.max(1));
    let mut s = Stress::new(&mut rng);
    s.migrate_every = migrate_every;
    s.run_to_end(STEPS)
}

#[test]
fn migrated_run_equals_unmigrated_run() {
    let seeds = std::env::var("OCP_NVME_STATE_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6u64);
    for seed in 1..=seeds {
        let seed = seed * 7_919;
        let every = 1 + seed % 37;
        let (sa, a) = run(seed, 0);
        let (sb, b) = run(seed, every);
        assert_eq!(sa, sb, "seed {seed}: the runs diverged");
        assert!(
            a == b,
            "seed {seed} (migrating every {every} steps): controllers differ: {}",
            first_difference(&a, &b)
        );
        // The final state saves and loads too.
        let again = Controller::load_state(a.config().clone(), &a.save_state()).unwrap();
        assert!(again == a, "seed {seed}: {}", first_difference(&a, &again));
    }
}

/// A controller with some history, and its saved state.
fn busy_state(seed: u64) -> (ControllerConfig, Vec<u8>) {
    let mut rng = XorShift(seed);
    let mut s = Stress::new(&mut rng);
    s.migrate_every = 0;
    let (_, c) = s.run_to_end(400);
    (c.config().clone(), c.save_state())
}

/// Drive a controller loaded from arbitrary bytes: registers, doorbells,
/// completions with any token, timers, resets. Nothing may panic.
fn drive(c: Controller, seed: u64) {
    let cfg = c.config().clone();
    let mut d = Driver::new(cfg);
    d.ctrl = c;
    let mut rng = XorShift(seed.max(1));
    for _ in 0..300 {
        let mut h = d.env.host();
        match rng.below(8) {
            0 => {
                let off = rng.below(0x1100) & !3;
                d.ctrl.mmio_write(off, rng.next_u64(), 4, &mut h);
            }
            1 => {
                let off = rng.below(0x1100) & !3;
                d.ctrl.mmio_read(off, 4, &mut h);
            }
            2 => {
                let q = rng.below(10);
                d.ctrl.mmio_write(0x1000 + q * 4, rng.below(70), 4, &mut h);
            }
            3 => {
                let tok = if rng.below(2) == 0 {
                    rng.next_u64() as u32
                } else {
                    rng.below(4096) as u32
                };
                d.ctrl.complete_io(tok, IoResult::Ok, &mut h);
            }
            4 => {
                d.env
                    .clock
                    .ns
                    .set(d.env.clock.ns.get() + rng.below(1 << 32));
                let mut h2 = d.env.host();
                d.ctrl.timer_fired(&mut h2);
            }
            5 => d.ctrl.process_pending(&mut h),
            6 => d.ctrl.resume(&mut h),
            _ => {
                if rng.below(10) == 0 {
                    d.ctrl.reset(&mut h);
                }
            }
        }
        let pending: Vec<u32> = d.env.storage.pending.drain(..).map(|r| r.token).collect();
        let mut h3 = d.env.host();
        for t in pending {
            d.ctrl.complete_io(t, IoResult::Ok, &mut h3);
        }
    }
}

#[test]
fn corrupt_states_never_panic() {
    for seed in 1..=3u64 {
        let (cfg, blob) = busy_state(seed);
        let mut rng = XorShift(seed * 31);
        let mut loaded = 0;
        for i in 0..200 {
            let mut b = blob.clone();
            match i % 4 {
                0 => b.truncate(rng.below(b.len() as u64) as usize),
                1 => {
                    for _ in 0..1 + rng.below(4) {
                        let at = rng.below(b.len() as u64) as usize;
                        b[at] ^= 1 << rng.below(8);
                    }
                }
                2 => {
                    let at = rng.below(b.len() as u64) as usize;
                    b[at] = rng.next_u64() as u8;
                }
                _ => {
                    let at = rng.below(b.len() as u64) as usize;
                    let n = (rng.below(16) as usize).min(b.len() - at);
                    for x in &mut b[at..at + n] {
                        *x = 0xff;
                    }
                }
            }
            if let Ok(c) = Controller::load_state(cfg.clone(), &b) {
                loaded += 1;
                drive(c, seed * 1000 + i);
            }
        }
        // Flipped bits in counters and addresses load: the drive must cope.
        assert!(loaded > 0, "seed {seed}: no mutated state loaded");
    }
}

#[test]
fn random_bytes_are_refused() {
    let cfg = Driver::small_config();
    let mut rng = XorShift(99);
    for n in 0..2_000u64 {
        let len = rng.below(64 + n * 4) as usize;
        let mut b: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
        if n % 2 == 0 && b.len() >= 10 {
            // A valid header, random sections.
            b[..8].copy_from_slice(b"OCPNVMES");
            b[8..10].copy_from_slice(&ocp_nvme_engine::persist::STATE_VERSION.to_le_bytes());
        }
        let _ = Controller::load_state(cfg.clone(), &b).unwrap_err();
    }
}

#[test]
fn incompatible_configuration_is_named() {
    let mut rng = XorShift(5);
    let cfg = random_config(&mut rng);
    let c = Driver::new(cfg.clone()).ctrl;
    let blob = c.save_state();
    let refused = |into: &ControllerConfig, state: &[u8], want: &str| {
        let e = Controller::load_state(into.clone(), state).unwrap_err();
        assert!(e.contains(want), "{e}");
    };
    let bigger = ControllerConfig {
        capacity_bytes: cfg.capacity_bytes * 2,
        ..cfg.clone()
    };
    refused(
        &bigger,
        &blob,
        "incompatible configuration: capacity (bytes) is 8388608 in the saved state, 16777216 here",
    );
    let other_serial = ControllerConfig {
        serial: "OTHER".into(),
        ..cfg.clone()
    };
    refused(
        &other_serial,
        &blob,
        "serial is OCPNVME0001 in the saved state, OTHER here",
    );
    refused(&cfg, b"QEMU NVMe state", "not an ocp-nvme controller state");
    // A stream of the previous version (before the SQ notifier generation).
    let mut v2 = blob.clone();
    v2[8] = 2;
    refused(&cfg, &v2, "format version 2, this ocp-nvme reads version 3");
    assert!(Controller::load_state(cfg, &blob).unwrap() == c);
}

// ---- the power-cycle record and the state store ---------------------------

use ocp_nvme_engine::persist::{
    store_encode, store_read, store_slot_offset, StoreContent, STORE_MIN_IMAGE, STORE_SLOT,
};

#[test]
fn power_cycle_record_round_trip() {
    for seed in 1..=4u64 {
        let mut rng = XorShift(seed * 13);
        let s = Stress::new(&mut rng);
        let (_, c) = s.run_to_end(600);
        let cfg = c.config().clone();
        let rec = c.save_persistent(1_000_000);
        let once = Controller::load_persistent(cfg.clone(), &rec, 5).unwrap();
        assert_eq!(once.counters().power_cycles, c.counters().power_cycles);
        assert_eq!(once.counters().bytes_written, c.counters().bytes_written);
        assert_eq!(
            once.counters().host_write_commands,
            c.counters().host_write_commands
        );
        let rec2 = once.save_persistent(5);
        let twice = Controller::load_persistent(cfg.clone(), &rec2, 5).unwrap();
        assert!(
            twice.save_persistent(5) == rec2,
            "seed {seed}: the record does not survive a load"
        );
        // Another drive refuses it, naming the difference.
        let other = ControllerConfig {
            serial: "OTHER".into(),
            ..cfg.clone()
        };
        let e = Controller::load_persistent(other, &rec, 0).unwrap_err();
        assert!(e.contains("another drive: serial is"), "{e}");
        // Corrupt records are refused or load; never a panic.
        let mut r = XorShift(seed);
        for _ in 0..100 {
            let mut b = rec.clone();
            let at = r.below(b.len() as u64) as usize;
            b[at] ^= 1 << r.below(8);
            let _ = Controller::load_persistent(cfg.clone(), &b, 0);
        }
    }
}

/// Power lost while enabled: the reset after power-on counts one more
/// power cycle and one unsafe shutdown; after a normal shutdown, no
/// unsafe shutdown.
#[test]
fn power_cycle_counts_unsafe_shutdown() {
    for clean in [false, true] {
        let cfg = Driver::small_config();
        let mut d = Driver::new(cfg.clone());
        assert!(d.enable());
        if clean {
            d.w32(0x14, 0x0046_0001 | 1 << 14);
            d.complete_storage();
            assert_eq!(d.csts() >> 2 & 3, 2, "shutdown complete");
        }
        let before = d.ctrl.counters().clone();
        let rec = d.ctrl.save_persistent(1);
        let mut d2 = Driver::new(cfg.clone());
        d2.ctrl = Controller::load_persistent(cfg, &rec, 0).unwrap();
        let mut h = d2.env.host();
        d2.ctrl.reset(&mut h);
        let after = d2.ctrl.counters();
        assert_eq!(after.power_cycles, before.power_cycles + 1);
        assert_eq!(
            after.unsafe_shutdowns,
            before.unsafe_shutdowns + u128::from(!clean)
        );
    }
}

#[test]
fn state_store_survives_torn_writes() {
    let mut image = vec![0u8; STORE_MIN_IMAGE as usize];
    assert_eq!(store_read(&image).unwrap(), StoreContent::Empty);
    let write = |img: &mut Vec<u8>, seq: u64, payload: &[u8]| {
        let copy = store_encode(seq, payload).unwrap();
        let at = store_slot_offset(seq) as usize;
        img[at..at + STORE_SLOT].fill(0);
        img[at..at + copy.len()].copy_from_slice(&copy);
        copy.len()
    };
    write(&mut image, 1, b"first");
    write(&mut image, 2, b"second");
    match store_read(&image).unwrap() {
        StoreContent::Record {
            seq,
            payload,
            damaged,
        } => {
            assert_eq!(
                (seq, payload.as_slice(), damaged),
                (2, &b"second"[..], None)
            );
        }
        other => panic!("{other:?}"),
    }
    // Record 3 torn at every length: record 2 is what remains.
    let copy = store_encode(3, b"third, a longer record").unwrap();
    for cut in 0..copy.len() {
        let mut torn = image.clone();
        let at = store_slot_offset(3) as usize;
        torn[at..at + STORE_SLOT].fill(0);
        torn[at..at + cut].copy_from_slice(&copy[..cut]);
        match store_read(&torn).unwrap() {
            StoreContent::Record { seq, .. } => assert_eq!(seq, 2, "cut at {cut}"),
            other => panic!("cut at {cut}: {other:?}"),
        }
    }
    // Foreign data is an error that says so; random bytes never panic.
    let mut rng = XorShift(3);
    let junk: Vec<u8> = (0..STORE_MIN_IMAGE).map(|_| rng.next_u64() as u8).collect();
    let e = store_read(&junk).unwrap_err();
    assert!(e.contains("damaged or foreign state image"), "{e}");
    let _ = store_read(&image[..100]).unwrap_err();
    let big = vec![0u8; STORE_SLOT];
    let _ = store_encode(1, &big).unwrap_err();
}
