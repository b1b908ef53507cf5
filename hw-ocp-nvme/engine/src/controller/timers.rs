// SPDX-License-Identifier: GPL-2.0-or-later
//! Timers: self-test completion, keep alive expiry and interrupt
//! coalescing deadlines.

#[allow(clippy::wildcard_imports)]
use super::*;

impl Controller {
    pub(crate) fn restart_keep_alive(&mut self, now: u64) {
        let kato = u64::from(self.feat.kato_ms);
        self.keep_alive_deadline = if kato != 0 && self.rdy {
            Some(now.saturating_add(kato * 1_000_000))
        } else {
            None
        };
    }

    /// The next virtual time at which [`Controller::timer_fired`] must run.
    /// It can change after any call into the controller: query it again
    /// after each one.
    ///
    /// Only deadlines that [`Controller::timer_fired`] acts on count: a
    /// host timer re-fires while its deadline is not in the future (QEMU's
    /// timer lists do), so after `timer_fired(now)` this is `None` or later
    /// than `now`. Commands held back by injected latency wait while the
    /// controller is not running or is quiesced; the keep alive timer runs
    /// only while the controller is running.
    pub fn timer_deadline(&self) -> Option<u64> {
        let mut d = self.selftest.deadline();
        let mut take = |v: Option<u64>| {
            if let Some(v) = v {
                d = Some(d.map_or(v, |x| x.min(v)));
            }
        };
        if self.running() {
            take(self.keep_alive_deadline);
            if !self.quiesced {
                take(Some(self.health_tick_ns));
            }
            if !self.quiesced {
                for dl in &self.delayed {
                    take(Some(dl.due_ns));
                }
            }
        }
        for cq in self.cqs[..self.cq_slots()].iter().flatten() {
            take(cq.coalesce_deadline);
        }
        d
    }

    /// Run the timers that are due.
    pub fn timer_fired(&mut self, host: &mut Host) {
        let now = self.now(host);
        if self.running() && !self.quiesced && now >= self.health_tick_ns {
            // The health model's background update (SLOG-7); log reads
            // never advance it (SLOG-6).
            self.health_tick_ns = (now / HEALTH_TICK_NS)
                .saturating_add(1)
                .saturating_mul(HEALTH_TICK_NS);
            self.advance_health(host);
        }
        self.self_test_tick(now);
        if !self.quiesced {
            self.run_delayed(now, host);
        }
        if let Some(d) = self.keep_alive_deadline {
            if now >= d && self.running() {
                // Keep Alive Timer expired: memory-based transports report it
                // as a fatal controller status (NVMe 2.0 Base, 3.9.4).
                self.keep_alive_deadline = None;
                self.errlog.record(
                    &mut self.counters,
                    0,
                    0xffff,
                    Status::KEEP_ALIVE_TIMER_EXPIRED,
                    ErrorContext::default(),
                );
                self.fatal();
            }
        }
        let mut due = Vec::new();
        for cq in self.cqs.iter_mut().flatten() {
            if let Some(d) = cq.coalesce_deadline {
                if now >= d {
                    cq.coalesce_deadline = None;
                    cq.coalesced = 0;
                    if cq.ien {
                        due.push(cq.iv);
                    }
                }
            }
        }
        if host.irq.msix_enabled() {
            for iv in due {
                host.irq.msix_notify(iv);
            }
        }
    }
}

/// Period of the health model's background update.
pub const HEALTH_TICK_NS: u64 = 1_000_000_000;
