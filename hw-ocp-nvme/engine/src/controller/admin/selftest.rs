// SPDX-License-Identifier: GPL-2.0-or-later
//! Device Self-test (NVMe 2.0 Base, 5.9, 8.11) and its log (5.16.1.7).

use std::collections::VecDeque;

use crate::controller::{Controller, Outcome, Request};
use crate::spec::cmd::DeviceSelfTestCmd;
use crate::spec::status::Status;
use crate::traits::Host;
use crate::wire::LeWriter;

/// Self-test codes (CDW10 STC).
pub const STC_SHORT: u8 = 0x1;
pub const STC_EXTENDED: u8 = 0x2;
pub const STC_ABORT: u8 = 0xf;

/// Result codes (Figure 213, bits 3:0).
pub const RESULT_OK: u8 = 0x0;
pub const RESULT_ABORTED_BY_COMMAND: u8 = 0x1;
pub const RESULT_ABORTED_BY_RESET: u8 = 0x2;
pub const RESULT_ABORTED_BY_FORMAT: u8 = 0x4;
/// Operation aborted due to a sanitize operation (Figure 212).
pub const RESULT_ABORTED_BY_SANITIZE: u8 = 0x9;
pub const RESULT_FAILED_SEGMENT: u8 = 0x7;

/// Self-test segments (NVMe 2.0 Base, Figure 215) the health model can fail.
pub const SEGMENT_SMART_CHECK: u8 = 2;
pub const SEGMENT_VOLATILE_MEMORY_BACKUP: u8 = 3;

/// Results kept in the log.
pub const MAX_RESULTS: usize = 20;
/// Size of a Self-test Result Data Structure.
const RESULT_SIZE: usize = 28;
/// Size of the Device Self-test log: a 4-byte header and the results.
const SELF_TEST_LOG_SIZE: usize = 4 + MAX_RESULTS * RESULT_SIZE;
const _: () = assert!(SELF_TEST_LOG_SIZE == 564);

/// A running self-test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunningTest {
    pub stc: u8,
    pub nsid: u32,
    pub start_ns: u64,
    pub end_ns: u64,
}

crate::persist::persist_struct!(RunningTest {
    stc,
    nsid,
    start_ns,
    end_ns
});

/// One Self-test Result Data Structure (NVMe 2.0 Base, Figure 214).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TestResult {
    pub stc: u8,
    pub result: u8,
    /// Segment Number of the first failed segment (result 7h), else 0.
    pub segment: u8,
    pub nsid: u32,
    pub power_on_hours: u64,
}

crate::persist::persist_struct!(TestResult {
    stc,
    result,
    nsid,
    power_on_hours,
    segment
});

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SelfTestState {
    pub running: Option<RunningTest>,
    /// Newest first.
    pub results: VecDeque<TestResult>,
}

crate::persist::persist_struct!(SelfTestState { running, results });

impl SelfTestState {
    pub fn deadline(&self) -> Option<u64> {
        self.running.map(|r| r.end_ns)
    }

    /// Device Self-test log (NVMe 2.0 Base, Figure 213).
    pub fn log(&self, now: u64) -> Vec<u8> {
        let mut w = LeWriter::page::<SELF_TEST_LOG_SIZE>();
        if let Some(r) = self.running {
            let total = r.end_ns.saturating_sub(r.start_ns).max(1);
            let done = now.saturating_sub(r.start_ns).min(total);
            w.u8(0, r.stc).u8(
                1,
                ((u128::from(done) * 100 / u128::from(total)) as u8).min(99),
            );
        }
        for i in 0..MAX_RESULTS {
            let o = 4 + i * RESULT_SIZE;
            match self.results.get(i) {
                Some(t) => {
                    w.u8(o, t.stc << 4 | t.result)
                        .u8(o + 1, t.segment)
                        .u8(o + 2, u8::from(t.nsid != 0)) // NSID valid
                        .u64(o + 4, t.power_on_hours)
                        .u32(o + 12, t.nsid);
                }
                None => {
                    w.u8(o, 0x0f); // entry not used
                }
            }
        }
        w.finish()
    }

    fn push(&mut self, r: TestResult) {
        self.results.push_front(r);
        self.results.truncate(MAX_RESULTS);
    }
}

impl Controller {
    fn finish_self_test(&mut self, result: u8, now: u64) {
        self.finish_self_test_segment(result, 0, now);
    }

    fn finish_self_test_segment(&mut self, result: u8, segment: u8, now: u64) {
        if let Some(r) = self.selftest.running.take() {
            let power_on_hours = self.counters.power_on_ns(now) / 3_600_000_000_000;
            self.selftest.push(TestResult {
                stc: r.stc,
                result,
                segment,
                nsid: r.nsid,
                power_on_hours,
            });
        }
    }

    pub(crate) fn device_self_test(
        &mut self,
        req: &Request,
        cmd: DeviceSelfTestCmd,
        host: &mut Host,
    ) -> Outcome {
        let (nsid, stc) = (req.sqe.nsid(), cmd.stc);
        if nsid != 0 && self.ns.active(nsid).is_none() && nsid != 0xffff_ffff {
            return Status::INVALID_NAMESPACE.into();
        }
        let now = self.now(host);
        match stc {
            STC_SHORT | STC_EXTENDED => {
                if self.selftest.running.is_some() {
                    return Status::SELF_TEST_IN_PROGRESS.into();
                }
                let dur = if stc == STC_SHORT {
                    self.cfg.short_self_test_ms * 1_000_000
                } else {
                    u64::from(self.cfg.extended_self_test_min) * 60_000_000_000
                };
                self.selftest.running = Some(RunningTest {
                    stc,
                    nsid,
                    start_ns: now,
                    end_ns: now.saturating_add(dur),
                });
                Outcome::ok()
            }
            STC_ABORT => {
                self.finish_self_test(RESULT_ABORTED_BY_COMMAND, now);
                Outcome::ok()
            }
            _ => Status::INVALID_FIELD.into(),
        }
    }

    /// Timer: a running test whose time is up completes. It follows the
    /// health model: the SMART check segment fails while the model reports
    /// a spare, reliability or read-only critical warning, the volatile
    /// memory backup segment while the PLP circuit has failed; else no
    /// error.
    pub(crate) fn self_test_tick(&mut self, now: u64) {
        if let Some(r) = self.selftest.running {
            if now >= r.end_ns {
                let cw = self.ocp.critical_warning();
                if cw & 0x0d != 0 {
                    self.finish_self_test_segment(RESULT_FAILED_SEGMENT, SEGMENT_SMART_CHECK, now);
                } else if cw & 0x10 != 0 {
                    self.finish_self_test_segment(
                        RESULT_FAILED_SEGMENT,
                        SEGMENT_VOLATILE_MEMORY_BACKUP,
                        now,
                    );
                } else {
                    self.finish_self_test(RESULT_OK, now);
                }
            }
        }
    }

    pub(crate) fn abort_self_test_on_reset(&mut self, now: u64) {
        self.finish_self_test(RESULT_ABORTED_BY_RESET, now);
    }

    pub(crate) fn abort_self_test_on_format(&mut self, now: u64) {
        self.finish_self_test(RESULT_ABORTED_BY_FORMAT, now);
    }

    /// A sanitize operation starts (NVMe 2.0 Base, 8.21).
    pub(crate) fn abort_self_test_on_sanitize(&mut self, now: u64) {
        self.finish_self_test(RESULT_ABORTED_BY_SANITIZE, now);
    }
}
