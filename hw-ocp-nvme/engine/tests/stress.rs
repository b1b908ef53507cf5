// SPDX-License-Identifier: GPL-2.0-or-later
//! The stateful stress harness (`ocp_nvme_engine::testing::stress`) over
//! many seeds for a bounded time.
//!
//! `OCP_NVME_STRESS_SECS` sets the time (default 5 s; `make check` gives
//! it 60 s), `OCP_NVME_STRESS_SEED` runs one seed only (to reproduce a
//! failure: the seed is printed first), `OCP_NVME_STRESS_TRACE=1` prints
//! its every step.

use std::time::{Duration, Instant};

use ocp_nvme_engine::testing::stress::{run_seed, Stats};

const STEPS: u64 = 3_000;

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

#[test]
fn stress() {
    if let Some(seed) = env_u64("OCP_NVME_STRESS_SEED") {
        eprintln!("stress: seed {seed}");
        let trace = std::env::var_os("OCP_NVME_STRESS_TRACE").is_some();
        let s = run_seed(seed, STEPS, trace);
        eprintln!("stress: {s:?}");
        return;
    }
    let secs = env_u64("OCP_NVME_STRESS_SECS").unwrap_or(5);
    let first = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_secs());
    let start = Instant::now();
    let mut total = Stats::default();
    let mut seeds = 0u64;
    while start.elapsed() < Duration::from_secs(secs) {
        let seed = first.wrapping_mul(1_000_003).wrapping_add(seeds);
        let r = std::panic::catch_unwind(|| run_seed(seed, STEPS, false));
        match r {
            Ok(s) => total.add(&s),
            Err(e) => {
                let msg = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| (*s).to_string()))
                    .unwrap_or_default();
                panic!(
                    "stress: seed {seed} failed (OCP_NVME_STRESS_SEED={seed} reproduces it): {msg}"
                );
            }
        }
        seeds += 1;
    }
    eprintln!(
        "stress: {seeds} seeds from {first} (x1000003 + i), {:.1} s, {} steps, {} commands, \
         {} completions, {} storage completions, {} timer fires, {} resets, {} quiet checks",
        start.elapsed().as_secs_f64(),
        total.steps,
        total.commands,
        total.completions,
        total.storage_completions,
        total.timer_fires,
        total.resets,
        total.quiet_checks
    );
    assert!(seeds > 0);
}
