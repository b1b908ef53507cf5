// SPDX-License-Identifier: GPL-2.0-or-later
//! Counters kept by the engine as it works, read by the SMART / Health log
//! (NVMe 2.0 Base, 5.16.1.3) and by the OCP log pages.

/// Command classes for latency statistics (as the OCP latency monitor
/// distinguishes them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LatencyClass {
    Read = 0,
    Write = 1,
    Deallocate = 2,
    Other = 3,
}

/// Number of latency histogram buckets: bucket `i` counts latencies in
/// [2^i, 2^(i+1)) microseconds, bucket 0 also counts below 1 µs.
pub const LATENCY_BUCKETS: usize = 32;

/// Latency statistics of one command class.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LatencyStats {
    pub count: u64,
    pub total_ns: u64,
    pub max_ns: u64,
    /// Time (virtual ns) at which `max_ns` was observed.
    pub max_at_ns: u64,
    pub histogram: [u64; LATENCY_BUCKETS],
}

crate::persist::persist_struct!(LatencyStats {
    count,
    total_ns,
    max_ns,
    max_at_ns,
    histogram
});

/// Every counter the SMART and OCP logs need. Plain data: can be saved.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Bytes transferred to the host by Read commands.
    pub bytes_read: u128,
    /// Bytes transferred from the host by Write commands.
    pub bytes_written: u128,
    /// Read, Compare and Verify commands completed.
    pub host_read_commands: u128,
    /// Write and Write Zeroes commands completed.
    pub host_write_commands: u128,
    /// Flush commands completed.
    pub flush_commands: u64,
    /// Deallocate (DSM AD) commands completed.
    pub deallocate_commands: u64,
    /// Time with at least one I/O command outstanding, in ns.
    pub busy_ns: u64,
    /// Power cycles (`Controller::reset` calls).
    pub power_cycles: u128,
    /// Power-on time accumulated before the current power-on period, in ns.
    pub power_on_ns_base: u64,
    /// Virtual time at which the current power-on period started.
    pub power_on_since_ns: u64,
    /// Power cycles without a completed normal shutdown.
    pub unsafe_shutdowns: u128,
    /// Commands completed with a media or data integrity error.
    pub media_errors: u128,
    /// Error Information log entries created over the life of the controller.
    pub error_log_entries: u64,
    /// Controller resets (CC.EN 1 -> 0).
    pub controller_resets: u64,
    /// Normal shutdowns completed.
    pub normal_shutdowns: u64,
    /// Abrupt shutdowns.
    pub abrupt_shutdowns: u64,
    /// Invalid doorbell writes detected.
    pub invalid_doorbells: u64,
    /// Power state changes (Set Features Power Management to another state).
    pub power_state_changes: u64,
    /// Read/Write commands whose byte offset or length is not 4 KiB aligned.
    pub unaligned_io: u64,
    /// Reads and writes with Limited Retry set that took longer than the
    /// Time Limited Error Recovery value (feature 05h; OCP SMART-42).
    pub tler_timeouts: u32,
    /// Format NVM commands completed (user data erase count).
    pub formats: u64,
    /// Logical blocks deallocated (DSM deallocate, Write Zeroes with DEAC).
    pub deallocated_blocks: u64,
    /// Per-class latency statistics, indexed by [`LatencyClass`].
    pub latency: [LatencyStats; 4],
}

crate::persist::persist_struct!(Counters {
    bytes_read,
    bytes_written,
    host_read_commands,
    host_write_commands,
    flush_commands,
    deallocate_commands,
    busy_ns,
    power_cycles,
    power_on_ns_base,
    power_on_since_ns,
    unsafe_shutdowns,
    media_errors,
    error_log_entries,
    controller_resets,
    normal_shutdowns,
    abrupt_shutdowns,
    invalid_doorbells,
    power_state_changes,
    unaligned_io,
    formats,
    deallocated_blocks,
    latency,
    tler_timeouts,
});

impl Counters {
    /// Record one command completion's latency.
    pub fn record_latency(&mut self, class: LatencyClass, latency_ns: u64, now_ns: u64) {
        let s = &mut self.latency[class as usize];
        s.count = s.count.wrapping_add(1);
        s.total_ns = s.total_ns.saturating_add(latency_ns);
        if latency_ns >= s.max_ns {
            s.max_ns = latency_ns;
            s.max_at_ns = now_ns;
        }
        let us = latency_ns / 1000;
        let bucket = if us == 0 {
            0
        } else {
            (63 - us.leading_zeros()) as usize
        };
        s.histogram[bucket.min(LATENCY_BUCKETS - 1)] += 1;
    }

    /// Power-on time in ns at `now_ns`.
    pub fn power_on_ns(&self, now_ns: u64) -> u64 {
        self.power_on_ns_base
            .saturating_add(now_ns.saturating_sub(self.power_on_since_ns))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_buckets() {
        let mut c = Counters::default();
        c.record_latency(LatencyClass::Read, 500, 1);
        c.record_latency(LatencyClass::Read, 1_500, 2);
        c.record_latency(LatencyClass::Read, u64::MAX, 3);
        let s = &c.latency[0];
        assert_eq!(s.count, 3);
        assert_eq!(s.histogram[0], 2);
        assert_eq!(s.histogram[LATENCY_BUCKETS - 1], 1);
        assert_eq!(s.max_at_ns, 3);
    }
}
