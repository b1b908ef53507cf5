// SPDX-License-Identifier: GPL-2.0-or-later
//! Log page C3h, Latency Monitor (OCP Datacenter NVMe SSD Specification 2.0,
//! "Latency Monitor Log Page", requirements LMLOG-x; log
//! page version 4 = OCP 2.5), and its configuration, feature C5h
//! (OCP 2.0 "Latency Monitor" Set Features).
//!
//! # Feature C5h data (4096 bytes, nvme-cli `struct feature_latency_monitor`)
//! `active_bucket_timer_threshold` (u16, 5-minute units) @0,
//! `active_threshold_a..d` @2..5 (threshold = (value + 1) × 5 ms),
//! `active_latency_config` (u16) @6, `active_latency_minimum_window` @8
//! (100 ms units), `debug_log_trigger_enable` (u16) @9, `discard_debug_log` @11,
//! `latency_monitor_feature_enable` @12 (bit 0). nvme-cli sends it with
//! SV = 1: saveable. Get Features returns the same 4096 bytes, DW0 0.
//! Thresholds must be strictly ascending and the timer threshold non-zero,
//! else Invalid Field. A change of thresholds or of the enable bit restarts
//! all counters.
//!
//! # Buckets
//! Bucket 0 counts commands with latency ≥ threshold A and < B, bucket 1
//! ≥ B and < C, bucket 2 ≥ C and < D, bucket 3 ≥ D; faster commands are not
//! counted. Counters exist for reads, writes and deallocates, in an active
//! window (restarted when the active bucket timer reaches its threshold) and
//! a static window (since the monitor was enabled).
//!
//! # Page layout (nvme-cli `struct ssd_latency_monitor_log`, 512 bytes)
//! | offset | field |
//! |---|---|
//! | 0x00 | `feature_status`: bit 0 monitor enabled, bit 1 active latency measurement enabled |
//! | 0x02 | `active_bucket_timer` (5-minute units elapsed in the active window) |
//! | 0x04 | `active_bucket_timer_threshold` |
//! | 0x06 | `active_threshold_a..d` |
//! | 0x0A | `active_latency_config` |
//! | 0x0C | `active_latency_min_window` |
//! | 0x20 | `active_bucket_counter`\[bucket\]\[slot\] (u32; slot 3 read, 2 write, 1 deallocate, 0 reserved) |
//! | 0x60 | `active_latency_timestamp`\[3 − bucket\]\[j\] (u64 ms; j 2 read, 1 write, 0 deallocate; FFFF..h = none) |
//! | 0xC0 | `active_measured_latency`\[3 − bucket\]\[j\] (u16 ms, the maximum) |
//! | 0xD8 | `active_latency_stamp_units` |
//! | 0xF0 / 0x130 / 0x190 / 0x1A8 | the same four for the static window |
//! | 0x1B4 | `latency_monitor_debug_log_size` (12 bytes, 0: no debug log) |
//! | 0x1C0 | `debug_log_trigger_enable`, then measured latency, stamp, pointer, counter trigger, stamp units |
//! | 0x1EE | `log_page_version` (4) |
//! | 0x1F0 | `log_page_guid` |
//!
//! The index order of the timestamp and measured-latency arrays is the one
//! nvme-cli's printer uses (`[3-i][READ-1]`). Active Latency Configuration
//! bit n enables maximum/timestamp recording for element n of those
//! \[4\]\[3\] arrays in row-major order; a new maximum is stamped only when the
//! minimum window has elapsed since that element's previous stamp.

use super::{FeatureError, LatencyMonitorClass};
use crate::wire::{guid_le, rd_u16, rd_u8, LeWriter};

/// Log identifier.
pub const LID: u8 = 0xc3;
/// Feature identifier.
pub const FID: u8 = 0xc5;
/// Page size.
pub const SIZE: usize = 512;
/// Feature data size.
pub const CONFIG_SIZE: usize = 4096;
/// Log page version of OCP 2.5 and 2.6.
pub const VERSION: u16 = 4;
/// Log page version of OCP 2.7 (LMDATA-35).
pub const VERSION_2_7: u16 = 5;
/// Page size under OCP 2.7: bytes 512–4095 are reserved (LMDATA-38).
pub const SIZE_2_7: usize = 4096;
/// Log page GUID, printed form 85D45E58D4E643709C6C84D08CC07A92h.
pub const GUID: [u8; 16] = guid_le(0x85D45E58_D4E6_4370_9C6C_84D08CC07A92);

const FIVE_MIN_NS: u64 = 300_000_000_000;
const NONE: u64 = u64::MAX;

/// Feature C5h configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LatencyMonitorConfig {
    /// Active bucket timer threshold, 5-minute units.
    pub active_bucket_timer_threshold: u16,
    /// Thresholds A–D, (value + 1) × 5 ms.
    pub thresholds: [u8; 4],
    /// Active latency configuration.
    pub active_latency_config: u16,
    /// Active latency minimum window, 100 ms units.
    pub active_latency_min_window: u8,
    /// Debug log trigger enable.
    pub debug_log_trigger_enable: u16,
    /// Discard debug log (an action, not stored).
    pub discard_debug_log: u8,
    /// Latency monitor feature enable (bit 0).
    pub enable: u8,
}

crate::persist::persist_struct!(LatencyMonitorConfig {
    active_bucket_timer_threshold,
    thresholds,
    active_latency_config,
    active_latency_min_window,
    debug_log_trigger_enable,
    discard_debug_log,
    enable,
});

impl Default for LatencyMonitorConfig {
    /// The defaults of `nvme ocp set-latency-monitor-feature`.
    fn default() -> Self {
        LatencyMonitorConfig {
            active_bucket_timer_threshold: 0x7e0,
            thresholds: [0x05, 0x13, 0x1e, 0x2e],
            active_latency_config: 0x0fff,
            active_latency_min_window: 0x0a,
            debug_log_trigger_enable: 0,
            discard_debug_log: 0,
            enable: 1,
        }
    }
}

impl LatencyMonitorConfig {
    /// Parses and validates the Set Features data.
    pub fn from_bytes(b: &[u8]) -> Result<Self, FeatureError> {
        if b.len() < 13 {
            return Err(FeatureError::InvalidField);
        }
        let c = LatencyMonitorConfig {
            active_bucket_timer_threshold: rd_u16(b, 0),
            thresholds: [rd_u8(b, 2), rd_u8(b, 3), rd_u8(b, 4), rd_u8(b, 5)],
            active_latency_config: rd_u16(b, 6),
            active_latency_min_window: rd_u8(b, 8),
            debug_log_trigger_enable: rd_u16(b, 9),
            discard_debug_log: rd_u8(b, 11),
            enable: rd_u8(b, 12) & 1,
        };
        let t = c.thresholds;
        if c.active_bucket_timer_threshold == 0 || !(t[0] < t[1] && t[1] < t[2] && t[2] < t[3]) {
            return Err(FeatureError::InvalidField);
        }
        Ok(c)
    }

    /// Serializes the 4096-byte feature data.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = LeWriter::page::<CONFIG_SIZE>();
        w.u16(0, self.active_bucket_timer_threshold)
            .bytes(2, &self.thresholds)
            .u16(6, self.active_latency_config)
            .u8(8, self.active_latency_min_window)
            .u16(9, self.debug_log_trigger_enable)
            .u8(11, self.discard_debug_log)
            .u8(12, self.enable);
        w.finish()
    }

    /// Threshold `i` in ns.
    pub fn threshold_ns(&self, i: usize) -> u64 {
        (u64::from(self.thresholds[i.min(3)]) + 1) * 5_000_000
    }

    /// The bucket a latency falls in, if any.
    pub fn bucket(&self, latency_ns: u64) -> Option<usize> {
        (0..4).rev().find(|&i| latency_ns >= self.threshold_ns(i))
    }
}

/// One window's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// \[bucket\]\[slot\] counters.
    pub counters: [[u32; 4]; 4],
    /// \[3 − bucket\]\[j\] timestamps (ms).
    pub stamps: [[u64; 3]; 4],
    /// \[3 − bucket\]\[j\] maxima (ms).
    pub measured: [[u16; 3]; 4],
    last_update_ns: [[u64; 3]; 4],
}

crate::persist::persist_struct!(Window {
    counters,
    stamps,
    measured,
    last_update_ns
});

impl Default for Window {
    fn default() -> Self {
        Window {
            counters: [[0; 4]; 4],
            stamps: [[NONE; 3]; 4],
            measured: [[0; 3]; 4],
            last_update_ns: [[NONE; 3]; 4],
        }
    }
}

impl Window {
    fn record(
        &mut self,
        cfg: &LatencyMonitorConfig,
        bucket: usize,
        class: LatencyMonitorClass,
        latency_ns: u64,
        now_ns: u64,
        ts_ms: u64,
    ) {
        let (slot, j) = match class {
            LatencyMonitorClass::Read => (3, 2),
            LatencyMonitorClass::Write => (2, 1),
            LatencyMonitorClass::Deallocate => (1, 0),
        };
        let c = &mut self.counters[bucket][slot];
        *c = c.saturating_add(1);
        let row = 3 - bucket;
        if cfg.active_latency_config & (1 << (row * 3 + j)) == 0 {
            return;
        }
        let ms = u16::try_from(latency_ns / 1_000_000).unwrap_or(u16::MAX);
        let window_ns = u64::from(cfg.active_latency_min_window) * 100_000_000;
        let last = self.last_update_ns[row][j];
        let open = last == NONE || now_ns.saturating_sub(last) >= window_ns;
        if ms > self.measured[row][j] && open {
            self.measured[row][j] = ms;
            self.stamps[row][j] = ts_ms;
            self.last_update_ns[row][j] = now_ns;
        }
    }

    fn write(&self, w: &mut LeWriter, base: usize) {
        for (b, row) in self.counters.iter().enumerate() {
            for (s, v) in row.iter().enumerate() {
                w.u32(base + (b * 4 + s) * 4, *v);
            }
        }
        for (r, row) in self.stamps.iter().enumerate() {
            for (j, v) in row.iter().enumerate() {
                w.u64(base + 0x40 + (r * 3 + j) * 8, *v);
            }
        }
        for (r, row) in self.measured.iter().enumerate() {
            for (j, v) in row.iter().enumerate() {
                w.u16(base + 0xa0 + (r * 3 + j) * 2, *v);
            }
        }
    }
}

/// The C3h page as typed fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LatencyMonitorLog {
    /// 0x00 Feature Status.
    pub feature_status: u8,
    /// 0x02 Active Bucket Timer.
    pub active_bucket_timer: u16,
    /// Configuration echoed at 0x04–0x0C and 0x1C0.
    pub config: LatencyMonitorConfig,
    /// 0x20–0xD7 active window.
    pub active: Window,
    /// 0xF0–0x1A7 static window.
    pub static_: Window,
}

impl LatencyMonitorLog {
    /// The page of a drive of OCP version `v`: version 4 and 512 bytes
    /// (2.5, 2.6), version 5 and 4096 bytes (2.7, LMDATA-35, LMDATA-38).
    pub fn to_bytes_for(&self, v: super::OcpVersion) -> Vec<u8> {
        if v < super::OcpVersion::V2_7 {
            return self.to_bytes();
        }
        let mut b = self.to_bytes();
        b[0x1ee..0x1f0].copy_from_slice(&VERSION_2_7.to_le_bytes());
        b.resize(SIZE_2_7, 0);
        b
    }

    /// Serializes the 512-byte page (version 4).
    pub fn to_bytes(&self) -> Vec<u8> {
        let c = &self.config;
        let mut w = LeWriter::page::<SIZE>();
        w.u8(0x00, self.feature_status)
            .u16(0x02, self.active_bucket_timer)
            .u16(0x04, c.active_bucket_timer_threshold)
            .bytes(0x06, &c.thresholds)
            .u16(0x0a, c.active_latency_config)
            .u8(0x0c, c.active_latency_min_window);
        self.active.write(&mut w, 0x20);
        w.u16(0xd8, 0);
        self.static_.write(&mut w, 0xf0);
        w.u16(0x1a8, 0)
            .u16(0x1c0, c.debug_log_trigger_enable)
            .u16(0x1c2, 0)
            .u64(0x1c4, NONE)
            .u16(0x1cc, 0)
            .u16(0x1ce, 0)
            .u8(0x1d0, 0)
            .version_and_guid(VERSION, &GUID);
        w.finish()
    }
}

/// Latency monitor state. Plain data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatencyMonitor {
    cfg: LatencyMonitorConfig,
    window_start_ns: u64,
    active: Window,
    static_: Window,
}

crate::persist::persist_struct!(LatencyMonitor {
    cfg,
    window_start_ns,
    active,
    static_
});

impl LatencyMonitor {
    /// A monitor with the default configuration, window starting at `now_ns`.
    pub fn new(now_ns: u64) -> Self {
        LatencyMonitor {
            cfg: LatencyMonitorConfig::default(),
            window_start_ns: now_ns,
            active: Window::default(),
            static_: Window::default(),
        }
    }

    /// Applies a new configuration (feature C5h).
    pub fn configure(&mut self, cfg: &LatencyMonitorConfig, now_ns: u64) {
        let restart = cfg.thresholds != self.cfg.thresholds || cfg.enable != self.cfg.enable;
        self.cfg = *cfg;
        if restart {
            self.active = Window::default();
            self.static_ = Window::default();
            self.window_start_ns = now_ns;
        }
    }

    /// Discard Debug Log: this device keeps no debug log; nothing to drop.
    pub fn discard_debug_log(&mut self) {}

    /// Restarts the active window when its timer reached the threshold.
    pub fn tick(&mut self, now_ns: u64) {
        let units = now_ns.saturating_sub(self.window_start_ns) / FIVE_MIN_NS;
        let thr = u64::from(self.cfg.active_bucket_timer_threshold.max(1));
        if units >= thr {
            self.active = Window::default();
            self.window_start_ns = self
                .window_start_ns
                .saturating_add(units / thr * thr * FIVE_MIN_NS);
        }
    }

    /// Counts one command.
    pub fn record(&mut self, class: LatencyMonitorClass, latency_ns: u64, now_ns: u64, ts_ms: u64) {
        if self.cfg.enable & 1 == 0 {
            return;
        }
        self.tick(now_ns);
        if let Some(b) = self.cfg.bucket(latency_ns) {
            let cfg = self.cfg;
            self.active
                .record(&cfg, b, class, latency_ns, now_ns, ts_ms);
            self.static_
                .record(&cfg, b, class, latency_ns, now_ns, ts_ms);
        }
    }

    /// The page at `now_ns`.
    pub fn page(&mut self, now_ns: u64) -> LatencyMonitorLog {
        self.tick(now_ns);
        let mut status = self.cfg.enable & 1;
        if self.cfg.active_latency_config != 0 {
            status |= 2;
        }
        LatencyMonitorLog {
            feature_status: status,
            active_bucket_timer: u16::try_from(
                now_ns.saturating_sub(self.window_start_ns) / FIVE_MIN_NS,
            )
            .unwrap_or(u16::MAX),
            config: self.cfg,
            active: self.active,
            static_: self.static_,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests_common::*;
    use super::super::OcpState;
    use super::*;

    const MS: u64 = 1_000_000;

    #[test]
    fn config_layout_matches_nvme_cli() {
        let c = LatencyMonitorConfig::default();
        let b = c.to_bytes();
        assert_eq!(b.len(), 4096);
        assert_eq!(&b[0..2], &[0xe0, 0x07]); // active_bucket_timer_threshold
        assert_eq!(&b[2..6], &[5, 0x13, 0x1e, 0x2e]); // active_threshold_a..d
        assert_eq!(&b[6..8], &[0xff, 0x0f]); // active_latency_config
        assert_eq!(b[8], 0x0a); // active_latency_minimum_window
        assert_eq!(&b[9..11], &[0, 0]); // debug_log_trigger_enable
        assert_eq!(b[11], 0); // discard_debug_log
        assert_eq!(b[12], 1); // latency_monitor_feature_enable
        assert_eq!(LatencyMonitorConfig::from_bytes(&b), Ok(c));
    }

    #[test]
    fn bad_config_rejected() {
        let mut b = LatencyMonitorConfig::default().to_bytes();
        b[3] = 4; // B < A
        assert_eq!(
            LatencyMonitorConfig::from_bytes(&b),
            Err(FeatureError::InvalidField)
        );
        assert_eq!(
            LatencyMonitorConfig::from_bytes(&[0; 12]),
            Err(FeatureError::InvalidField)
        );
        let mut s = state();
        assert_eq!(
            s.set_feature(FID, 0, true, &b, 0),
            Err(FeatureError::InvalidField)
        );
    }

    #[test]
    fn bucket_boundaries() {
        let c = LatencyMonitorConfig::default();
        assert_eq!(c.bucket(29 * MS), None);
        assert_eq!(c.bucket(30 * MS), Some(0));
        assert_eq!(c.bucket(99 * MS), Some(0));
        assert_eq!(c.bucket(100 * MS), Some(1));
        assert_eq!(c.bucket(155 * MS), Some(2));
        assert_eq!(c.bucket(235 * MS), Some(3));
        assert_eq!(c.bucket(u64::MAX), Some(3));
    }

    #[test]
    fn lmdata_35_38_version_and_size_per_ocp_version() {
        use super::super::tests_common::state_version;
        use super::super::OcpVersion;
        for (v, ver, size) in [
            (OcpVersion::V2_5, 4u16, 512usize),
            (OcpVersion::V2_6, 4, 512),
            (OcpVersion::V2_7, 5, 4096),
        ] {
            let mut s = state_version(v);
            let b = s
                .log_page(LID, &super::super::tests_common::stats(), 0)
                .unwrap();
            assert_eq!(b.len(), size, "{v:?} LMDATA-38");
            assert_eq!(u16::from_le_bytes([b[0x1ee], b[0x1ef]]), ver, "LMDATA-35");
            assert_eq!(&b[0x1f0..0x200], &GUID, "LMDATA-36");
            assert!(b[512..].iter().all(|&x| x == 0));
        }
    }

    #[test]
    fn page_offsets_and_counts() {
        let mut s: OcpState = state();
        s.set_timestamp(1_000_000, 0);
        s.record_latency(LatencyMonitorClass::Read, 40 * MS, MS);
        s.record_latency(LatencyMonitorClass::Read, 50 * MS, 2 * MS);
        s.record_latency(LatencyMonitorClass::Write, 120 * MS, 3 * MS);
        s.record_latency(LatencyMonitorClass::Deallocate, 300 * MS, 4 * MS);
        s.record_latency(LatencyMonitorClass::Read, MS, 5 * MS); // below A: not counted
        let b = s.log_page(LID, &stats(), 10 * MS).unwrap();
        assert_eq!(b.len(), SIZE_2_7); // OCP 2.7 (the default); 512 before
        let u32at = |o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap());
        let u16at = |o: usize| u16::from_le_bytes(b[o..o + 2].try_into().unwrap());
        let u64at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap());
        assert_eq!(b[0], 3); // feature_status
        assert_eq!(u16at(0x04), 0x7e0); // active_bucket_timer_threshold
        assert_eq!(b[0x06], 5); // active_threshold_a
        assert_eq!(u16at(0x0a), 0xfff); // active_latency_config
        assert_eq!(b[0x0c], 0x0a); // active_latency_min_window
                                   // active_bucket_counter[bucket][slot]: READ = 3, WRITE = 2, TRIM = 1
        let counter = |base: usize, bucket: usize, slot: usize| base + (bucket * 4 + slot) * 4;
        // active_measured_latency / active_latency_timestamp[3 - bucket][j]:
        // READ - 1 = 2, WRITE - 1 = 1, TRIM - 1 = 0
        let elem = |bucket: usize, j: usize| (3 - bucket) * 3 + j;
        assert_eq!(u32at(counter(0x20, 0, 3)), 2);
        assert_eq!(u32at(counter(0x20, 1, 2)), 1);
        assert_eq!(u32at(counter(0x20, 3, 1)), 1);
        assert_eq!(
            u32at(counter(0xf0, 0, 3)),
            2,
            "static_bucket_counter mirrors"
        );
        // First (40 ms) kept: 50 ms arrived within the 1 s minimum window.
        assert_eq!(u16at(0xc0 + elem(0, 2) * 2), 40);
        assert_eq!(u16at(0xc0 + elem(3, 0) * 2), 300);
        assert_eq!(
            u16at(0x190 + elem(3, 0) * 2),
            300,
            "static_measured_latency"
        );
        assert_eq!(u64at(0x60 + elem(0, 2) * 8), 1_000_000 + 1);
        // Unused timestamp reads as N/A (-1).
        assert_eq!(u64at(0x60 + elem(2, 2) * 8), u64::MAX);
        assert_eq!(u64at(0x1c4), u64::MAX); // debug_log_latency_stamp
        assert_eq!(u16at(0x1ee), VERSION_2_7); // log_page_version (LMDATA-35)
        assert_eq!(&b[0x1f0..0x200], &GUID);
    }

    #[test]
    fn active_window_restarts_static_stays() {
        let mut s = state();
        let cfg = LatencyMonitorConfig {
            active_bucket_timer_threshold: 1, // 5 minutes
            ..LatencyMonitorConfig::default()
        };
        s.set_feature(FID, 0, true, &cfg.to_bytes(), 0).unwrap();
        s.record_latency(LatencyMonitorClass::Write, 40 * MS, MS);
        let b = s.log_page(LID, &stats(), 2 * MS).unwrap();
        assert_eq!(b[0x20 + 2 * 4], 1);
        let later = s.log_page(LID, &stats(), FIVE_MIN_NS + 3 * MS).unwrap();
        assert_eq!(later[0x20 + 2 * 4], 0, "active restarted");
        assert_eq!(later[0xf0 + 2 * 4], 1, "static kept");
        assert_eq!(u16::from_le_bytes([b[2], b[3]]), 0);
        // OCP 2.7: Get returns DW0 0 and no data (LMGF-1).
        assert_eq!(s.get_feature(FID, 2, 0), Ok((0, None)));
        // Before 2.7 it returns the configuration, saved too.
        let mut s6 = super::super::tests_common::state_version(super::super::OcpVersion::V2_6);
        s6.set_feature(FID, 0, true, &cfg.to_bytes(), 0).unwrap();
        let (_, data) = s6.get_feature(FID, 2, 0).unwrap();
        assert_eq!(data.unwrap()[0], 1);
    }

    #[test]
    fn disabled_monitor_counts_nothing() {
        let mut s = state();
        let cfg = LatencyMonitorConfig {
            enable: 0,
            ..LatencyMonitorConfig::default()
        };
        s.set_feature(FID, 0, false, &cfg.to_bytes(), 0).unwrap();
        s.record_latency(LatencyMonitorClass::Read, 400 * MS, MS);
        let b = s.log_page(LID, &stats(), 2 * MS).unwrap();
        assert_eq!(b[0] & 1, 0);
        assert!(b[0x20..0x60].iter().all(|&x| x == 0));
    }
}
