// SPDX-License-Identifier: GPL-2.0-or-later
//! Feature C0h, Error Injection (OCP Datacenter NVMe SSD Specification 2.0,
//! "Error Injection" Set/Get Features, requirements ERRI-x; types
//! extended in 2.6 and 2.7, section 4.15.3.3 Event Definition Table).
//!
//! Set Features: CDW11\[6:0\] = number of entries (at most 127), data = that
//! many 32-byte entries (nvme-cli `struct erri_entry`):
//!
//! | bytes | field |
//! |---|---|
//! | 0 | flags: bit 0 enable, bit 1 single instance |
//! | 1 | reserved |
//! | 3:2 | error injection type (nvme-cli `enum erri_type`; the types of the drive's OCP version, see [`supported_type`]) |
//! | 31:4 | type specific; for panic types bytes 5:4 = NRTDP, the number of reads to trigger the device panic (0 = next command) |
//!
//! A Set replaces the whole list (0 entries clears it). Get Features: DW0\[6:0\]
//! = entries still armed, data = 127 entries (4064 bytes). Not saveable:
//! injections end at power cycle.
//!
//! Entries trigger on the next matching command the engine reports through
//! [`super::OcpState::injection`]; a single-instance entry is then removed,
//! others stay armed. Effects by type:
//!
//! | type | effect |
//! |---|---|
//! | 1 CPU/controller hang, 2 NAND hang, 4 logical FW error, 5 DRAM corruption critical, 9 HW malfunction | device panic: CSTS.CFS, C1h panic ID/count, AER if FID C9h enables it (after NRTDP reads if set) |
//! | 3 PLP defect | capacitor health 0, PLP failed (C2h mode applies) |
//! | 6 DRAM corruption non-critical | C0h end-to-end detected + corrected |
//! | 7 NAND corruption | next read fails Unrecovered Read Error; C0h uncorrectable reads, XOR recoveries |
//! | 8 SRAM corruption | C0h end-to-end detected |
//! | 10 no more NAND spares | available spare 0 (EOL) |
//! | 11 incomplete shutdown | C0h incomplete shutdowns + 1 |
//! | 12 metadata corruption | next read fails Unrecovered Read Error; system area uncorrectable read + 1 |
//! | 13 critical garbage collection | writes delayed (bytes 7:4 ms, default 20) |
//! | 14 latency spike | I/O delayed (bytes 7:4 ms, default 100) |
//! | 15 I/O command failure | next I/O fails Internal Error |
//! | 16 I/O command timeout | next I/O never completes; C0h command timeouts + 1 |
//! | 17 admin command failure | next admin command fails Internal Error |
//! | 18 admin command timeout | next admin command never completes |
//! | 19 / 20 thermal throttle engaged / disengaged | throttling forced on / off |
//! | 21 critical temperature event | temperature above CCTEMP |
//! | 22 die offline | C0h media dies offline + 1 |
//! | 30 (1Eh) random I/O latency spikes (2.7) | from the next I/O on, one I/O at least every 600 ms of I/O is delayed 5–30 ms, until the host exits event injection or a power cycle |
//! | 31 (1Fh) reset to factory defaults (2.7) | every NVMe and OCP feature, current and saved, back to its default |
//! | 32 (20h) supply voltage drop (2.7) | PLP processing: C0h PLP start count + 1 |
//! | 33 (21h) available spare threshold (2.7) | Available Spare held below its threshold (Critical Warning bit 0, SMART AER) until exit or power cycle |
//! | 34 (22h) volatile memory backup failure (2.7) | Critical Warning bit 4 (SMART AER) until exit or power cycle |
//! | 23 (17h) sanitize command failure (2.7) | the next Sanitize command completes with Sanitize Failed (1Ch) |
//! | 25 (19h) Format NVM uses User Data Erase (2.7) | consumed by the next Format NVM; this device never replaces a User Data Erase by a cryptographic erase, so SES 001b erases user data as always |
//! | 28 (1Ch) clear the Persistent Event Log (2.7) | the log is emptied and records nothing until the host exits event injection or a power cycle; the events of that time are not restored |
//! | 29 (1Dh) sanitize operation failure (2.7) | the next Sanitize command that starts an operation succeeds, and the operation ends with SSTAT 011b (failed) |
//!
//! OCP 2.7's types 1Ah/1Bh (PCIe correctable and uncorrectable errors in
//! the AER status registers, which the device does not emulate) are refused
//! with Invalid Field (ERRI-5).

use super::telemetry::{injected_data, CLASS_MEDIA};
use super::{CommandKind, FeatureError, InjectedStatus, Injection, OcpState, OcpVersion};
use crate::wire::{rd_u16, rd_u32, LeWriter};

/// Feature identifier.
pub const FID: u8 = 0xc0;
/// Bytes per entry.
pub const ENTRY_SIZE: usize = 32;
/// Maximum entries (nvme-cli `ERRI_ENTRIES_MAX`).
pub const MAX_ENTRIES: usize = 127;
/// Type 17h, Sanitize Command Failure (EVTDEF-24).
pub const SANITIZE_COMMAND_FAILURE: u16 = 0x17;
/// Type 19h, Require Format NVM Use User Data Erase (EVTDEF-26).
pub const FORMAT_USER_DATA_ERASE: u16 = 0x19;
/// Type 1Ch, Clear the Persistent Event Log (EVTDEF-29).
pub const CLEAR_PERSISTENT_EVENT_LOG: u16 = 0x1c;
/// Type 1Dh, Sanitize Operation Failure (EVTDEF-30).
pub const SANITIZE_OPERATION_FAILURE: u16 = 0x1d;
/// Type 1Eh, Random I/O Latency Spikes Over Time (EVTDEF-31).
pub const RANDOM_LATENCY_SPIKES: u16 = 0x1e;
/// Type 1Fh, Reset To Factory Default Settings (EVTDEF-32).
pub const FACTORY_DEFAULTS: u16 = 0x1f;
/// Type 20h, Supply Voltage Drop (EVTDEF-33).
pub const SUPPLY_VOLTAGE_DROP: u16 = 0x20;
/// Type 21h, Available Spare Threshold (EVTDEF-34).
pub const AVAILABLE_SPARE_THRESHOLD: u16 = 0x21;
/// Type 22h, Volatile Memory Backup Failure (EVTDEF-35).
pub const VOLATILE_BACKUP_FAILURE: u16 = 0x22;

/// Whether the drive accepts injection type `t` under OCP version `v`
/// (ERRI-5, EVTDEF-1, EVTDEF-36): 2.5 defines types 1–0Bh, 2.6 adds
/// 0Ch–16h, 2.7 adds 17h and 19h–22h, of which this device supports all
/// but 1Ah and 1Bh (see the module documentation).
pub fn supported_type(t: u16, v: OcpVersion) -> bool {
    match v {
        OcpVersion::V2_5 => (1..=0x0b).contains(&t),
        OcpVersion::V2_6 => (1..=0x16).contains(&t),
        OcpVersion::V2_7 => {
            (1..=SANITIZE_COMMAND_FAILURE).contains(&t)
                || t == FORMAT_USER_DATA_ERASE
                || (CLEAR_PERSISTENT_EVENT_LOG..=VOLATILE_BACKUP_FAILURE).contains(&t)
        }
    }
}

/// Shortest and longest delay of one random latency spike (EVTDEF-31).
const SPIKE_MS: (u64, u64) = (5, 30);
/// Longest gap between two spikes: at least 100 per minute (EVTDEF-31).
const SPIKE_GAP_MAX_NS: u64 = 600_000_000;

/// Random I/O latency spikes in progress (EVTDEF-31).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Spikes {
    /// The first I/O at or after this time gets the next spike.
    pub next_ns: u64,
    /// xorshift64 state (never zero).
    pub rng: u64,
}

crate::persist::persist_struct!(Spikes { next_ns, rng });

impl Spikes {
    fn start(now_ns: u64) -> Self {
        Spikes {
            next_ns: now_ns,
            rng: now_ns | 1,
        }
    }

    fn next(&mut self) -> u64 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng = x;
        x
    }

    /// The delay for an I/O at `now_ns`: a spike when one is due.
    fn delay_ns(&mut self, now_ns: u64) -> u64 {
        if now_ns < self.next_ns {
            return 0;
        }
        let ms = SPIKE_MS.0 + self.next() % (SPIKE_MS.1 - SPIKE_MS.0 + 1);
        self.next_ns = now_ns.saturating_add(self.next() % SPIKE_GAP_MAX_NS + 1);
        ms * 1_000_000
    }
}

/// One error injection entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorInjectionEntry {
    /// Flags byte: bit 0 enable, bit 1 single instance.
    pub flags: u8,
    /// Error injection type.
    pub kind: u16,
    /// Type-specific bytes 31:4.
    pub specific: [u8; 28],
}

crate::persist::persist_struct!(ErrorInjectionEntry {
    flags,
    kind,
    specific
});

impl ErrorInjectionEntry {
    /// Parses one 32-byte entry.
    pub fn from_bytes(b: &[u8]) -> Self {
        let mut specific = [0u8; 28];
        if let Some(s) = b.get(4..32) {
            specific.copy_from_slice(s);
        }
        ErrorInjectionEntry {
            flags: b.first().copied().unwrap_or(0),
            kind: rd_u16(b, 2),
            specific,
        }
    }

    /// Serializes to 32 bytes.
    pub fn to_bytes(&self) -> [u8; ENTRY_SIZE] {
        let mut w = LeWriter::page::<ENTRY_SIZE>();
        w.u8(0, self.flags)
            .u16(2, self.kind)
            .bytes(4, &self.specific);
        let mut a = [0u8; ENTRY_SIZE];
        a.copy_from_slice(&w.finish());
        a
    }

    /// Enable bit.
    pub fn enabled(&self) -> bool {
        self.flags & 1 != 0
    }

    /// Single instance bit.
    pub fn single(&self) -> bool {
        self.flags & 2 != 0
    }

    /// Number of reads to trigger a device panic (nvme-cli `nrtdp`).
    pub fn nrtdp(&self) -> u16 {
        rd_u16(&self.specific, 0)
    }

    /// Added latency in ms from bytes 7:4, or `default`.
    pub fn latency_ms(&self, default: u32) -> u32 {
        match rd_u32(&self.specific, 0) {
            0 => default,
            v => v,
        }
    }
}

/// Armed injections. Plain data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorInjection {
    entries: Vec<ErrorInjectionEntry>,
    reads_seen: Vec<u32>,
    /// Random latency spikes (a recovery type 3 condition, EVTREC-3).
    spikes: Option<Spikes>,
}

crate::persist::persist_struct!(ErrorInjection {
    entries,
    reads_seen,
    spikes
});

impl ErrorInjection {
    /// Entries still armed.
    pub fn entries(&self) -> &[ErrorInjectionEntry] {
        &self.entries
    }

    /// Whether an enabled entry of type `t` is armed.
    pub fn holds(&self, t: u16) -> bool {
        self.entries.iter().any(|e| e.enabled() && e.kind == t)
    }

    /// Consume the first enabled entry of type `t` (a type the command it
    /// concerns performs itself); false if none is armed.
    pub fn take(&mut self, t: u16) -> bool {
        let Some(i) = self.entries.iter().position(|e| e.enabled() && e.kind == t) else {
            return false;
        };
        self.entries.remove(i);
        if i < self.reads_seen.len() {
            self.reads_seen.remove(i);
        }
        true
    }

    /// Set Features: replaces the list. Invalid count, short data or an
    /// unknown type fail with Invalid Field and change nothing.
    ///
    /// OCP 2.7 allows one event at a time: the Number of Event Injections is
    /// 1, or 0 to clear an untriggered event (SERRI-14, ERRI-1, ERRI-2); an
    /// all-zero entry is ignored (ERRI-4); an entry must have both Single
    /// Instance and Enable set (ERRIE-1); reserved CDW11 bits are ignored.
    pub fn set(&mut self, cdw11: u32, data: &[u8], v: OcpVersion) -> Result<(), FeatureError> {
        let n = (cdw11 & 0x7f) as usize;
        let v27 = v >= OcpVersion::V2_7;
        if v27 && n > 1 {
            return Err(FeatureError::InvalidField);
        }
        if (!v27 && cdw11 & !0x7f != 0) || n > MAX_ENTRIES {
            return Err(FeatureError::InvalidField);
        }
        if data.len() < n * ENTRY_SIZE {
            return Err(FeatureError::InvalidField);
        }
        if n == 0 {
            // Exit event injection (SERRI-14): recovery type 3 conditions end.
            self.spikes = None;
        }
        let mut list = Vec::with_capacity(n);
        for chunk in data.chunks(ENTRY_SIZE).take(n) {
            let e = ErrorInjectionEntry::from_bytes(chunk);
            if v27 && chunk.iter().take(4).all(|&b| b == 0) {
                continue;
            }
            if v27 && !(e.enabled() && e.single()) {
                return Err(FeatureError::InvalidField);
            }
            if e.enabled() && !supported_type(e.kind, v) {
                return Err(FeatureError::InvalidField);
            }
            list.push(e);
        }
        self.reads_seen = vec![0; list.len()];
        self.entries = list;
        Ok(())
    }
}

/// Get Features data: 127 entries, unused ones zero.
pub fn entries_to_bytes(list: &[ErrorInjectionEntry]) -> Vec<u8> {
    let mut w = LeWriter::page::<{ ENTRY_SIZE * MAX_ENTRIES }>();
    for (i, e) in list.iter().take(MAX_ENTRIES).enumerate() {
        w.bytes(i * ENTRY_SIZE, &e.to_bytes());
    }
    w.finish()
}

fn is_io(kind: CommandKind) -> bool {
    !kind.is_admin()
}

/// Types that panic the device (panic cause codes, the low bits of the C1h
/// panic ID). OCP 2.7 gives recovery type 1 (error recovery with the host,
/// EVTREC-1) also to DRAM corruption non-critical (6), SRAM corruption (8)
/// and metadata corruption (12) (EVTDEF-7, EVTDEF-9, EVTDEF-13).
fn is_panic_type(t: u16, v: OcpVersion) -> bool {
    match v {
        OcpVersion::V2_7 => matches!(t, 1 | 2 | 4 | 5 | 6 | 8 | 9 | 12),
        _ => matches!(t, 1 | 2 | 4 | 5 | 9),
    }
}

/// Applies armed entries and standing conditions to a command of `kind`
/// about to execute at `now_ns`.
pub(crate) fn apply(s: &mut OcpState, kind: CommandKind, now_ns: u64) -> Injection {
    let mut inj = Injection::default();
    if s.injection.entries.is_empty() && s.injection.spikes.is_none() {
        // Nothing armed (the usual case).
        return inj;
    }
    if is_io(kind) {
        if let Some(sp) = s.injection.spikes.as_mut() {
            inj.added_latency_ns += sp.delay_ns(now_ns);
        }
    }
    let mut i = 0;
    while i < s.injection.entries.len() {
        let e = s.injection.entries[i];
        let fired = e.enabled() && fire(s, i, &e, kind, now_ns, &mut inj);
        if fired && e.single() {
            s.injection.entries.remove(i);
            if i < s.injection.reads_seen.len() {
                s.injection.reads_seen.remove(i);
            }
        } else {
            i += 1;
        }
        if inj.panic {
            break;
        }
    }
    inj
}

fn fire(
    s: &mut OcpState,
    idx: usize,
    e: &ErrorInjectionEntry,
    kind: CommandKind,
    now_ns: u64,
    inj: &mut Injection,
) -> bool {
    let c = &mut s.counters;
    match e.kind {
        t if is_panic_type(t, s.identity.ocp_version) => {
            let n = e.nrtdp();
            if n > 0 {
                if kind != CommandKind::Read {
                    return false;
                }
                let seen = match s.injection.reads_seen.get_mut(idx) {
                    Some(r) => {
                        *r = r.saturating_add(1);
                        *r
                    }
                    None => return false,
                };
                if seen < u32::from(n) {
                    return false;
                }
            }
            s.panic(t);
            inj.panic = true;
            inj.status = Some(InjectedStatus::INTERNAL_ERROR);
            true
        }
        3 => {
            s.health.plp_defect();
            true
        }
        6 => {
            c.e2e_detected = c.e2e_detected.saturating_add(1);
            c.e2e_corrected = c.e2e_corrected.saturating_add(1);
            true
        }
        7 | 12 => {
            if kind != CommandKind::Read {
                return false;
            }
            c.uncorrectable_reads = c.uncorrectable_reads.saturating_add(1);
            if e.kind == 7 {
                c.xor_recoveries = c.xor_recoveries.saturating_add(1);
                s.events.push(CLASS_MEDIA, 0x0000, &injected_data(e.kind));
            } else {
                c.sys_uncorr_read = c.sys_uncorr_read.saturating_add(1);
            }
            s.events.push(CLASS_MEDIA, 0x0001, &injected_data(e.kind));
            inj.status = Some(InjectedStatus::UNRECOVERED_READ_ERROR);
            true
        }
        8 => {
            c.e2e_detected = c.e2e_detected.saturating_add(1);
            true
        }
        10 => {
            s.health.force_spare(0);
            true
        }
        11 => {
            c.incomplete_shutdowns = c.incomplete_shutdowns.saturating_add(1);
            true
        }
        13 => {
            if kind != CommandKind::Write {
                return false;
            }
            inj.added_latency_ns += u64::from(e.latency_ms(20)) * 1_000_000;
            true
        }
        14 => {
            if !is_io(kind) {
                return false;
            }
            inj.added_latency_ns += u64::from(e.latency_ms(100)) * 1_000_000;
            true
        }
        15 | 17 => {
            if is_io(kind) != (e.kind == 15) {
                return false;
            }
            inj.status = Some(InjectedStatus::INTERNAL_ERROR);
            true
        }
        16 | 18 => {
            if is_io(kind) != (e.kind == 16) {
                return false;
            }
            c.command_timeouts = c.command_timeouts.saturating_add(1);
            inj.timeout = true;
            true
        }
        19 | 20 => {
            s.health.force_throttle(e.kind == 19);
            true
        }
        21 => {
            s.health.force_critical_temperature();
            true
        }
        22 => {
            let dies = s.health.cfg.total_media_dies;
            c.dies_offline = c.dies_offline.saturating_add(1).min(dies);
            s.events.push(CLASS_MEDIA, 0x0005, &injected_data(e.kind));
            true
        }
        RANDOM_LATENCY_SPIKES => {
            if !is_io(kind) {
                return false;
            }
            let mut sp = Spikes::start(now_ns);
            inj.added_latency_ns += sp.delay_ns(now_ns);
            s.injection.spikes = Some(sp);
            true
        }
        FACTORY_DEFAULTS => {
            s.features = super::features::FeatureStore::new(&s.health.cfg, s.identity.ocp_version);
            inj.factory_defaults = true;
            true
        }
        SUPPLY_VOLTAGE_DROP => {
            c.plp_starts = c.plp_starts.saturating_add(1);
            true
        }
        AVAILABLE_SPARE_THRESHOLD => {
            s.health.force_spare_below_threshold();
            true
        }
        VOLATILE_BACKUP_FAILURE => {
            s.health.force_backup_failure();
            true
        }
        SANITIZE_COMMAND_FAILURE => {
            if kind != CommandKind::Sanitize {
                return false;
            }
            inj.status = Some(InjectedStatus::SANITIZE_FAILED);
            true
        }
        // Performed by the commands they concern (`ErrorInjection::take`,
        // `holds`): Format NVM, Sanitize, the Persistent Event Log.
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests_common::{state_version, stats};
    use super::*;

    /// The pre-2.7 rules (several entries, persistent ones): an OCP 2.6
    /// drive. OCP 2.7's one-event rules are in `erri_1_one_event_at_a_time`.
    fn state() -> OcpState {
        state_version(OcpVersion::V2_6)
    }

    /// SERRI-14, ERRI-1, ERRI-2, ERRI-4, ERRIE-1, EVTDEF-7/9/13 under OCP 2.7.
    #[test]
    #[allow(clippy::shadow_unrelated)]
    fn erri_1_one_event_at_a_time() {
        let mut s = state_version(OcpVersion::V2_7);
        // Two entries: Invalid Field (SERRI-14, ERRI-1).
        let two = [entry(3, 14, 0), entry(3, 15, 0)].concat();
        assert_eq!(
            s.set_feature(FID, 2, false, &two, 0),
            Err(FeatureError::InvalidField)
        );
        // Enable without Single Instance, or the reverse: Invalid Field (ERRIE-1).
        for flags in [1u8, 2] {
            assert_eq!(
                s.set_feature(FID, 1, false, &entry(flags, 14, 0), 0),
                Err(FeatureError::InvalidField)
            );
        }
        // An all-zero entry is ignored (ERRI-4).
        s.set_feature(FID, 1, false, &[0u8; 32], 0).unwrap();
        assert!(s.injection.entries().is_empty());
        // One event; 0 clears it while untriggered (ERRI-2).
        s.set_feature(FID, 1, false, &entry(3, 15, 0), 0).unwrap();
        assert_eq!(s.get_feature(FID, 0, 0).unwrap().0, 1);
        s.set_feature(FID, 0, false, &[], 0).unwrap();
        assert_eq!(s.get_feature(FID, 0, 0).unwrap().0, 0);
        // Unsupported types are refused (ERRI-5).
        assert_eq!(
            s.set_feature(FID, 1, false, &entry(3, 0x1a, 0), 0),
            Err(FeatureError::InvalidField)
        );
        // DRAM corruption non-critical, SRAM and metadata corruption are
        // recovery type 1 in 2.7: the device panics (EVTDEF-7, -9, -13).
        for t in [6u16, 8, 12] {
            let mut s = state_version(OcpVersion::V2_7);
            s.set_feature(FID, 1, false, &entry(3, t, 0), 0).unwrap();
            let inj = s.injection(
                if t == 12 {
                    CommandKind::Read
                } else {
                    CommandKind::Admin
                },
                0,
            );
            assert!(inj.panic, "type {t}");
            // ... but not in 2.6.
            let mut s6 = state_version(OcpVersion::V2_6);
            s6.set_feature(FID, 1, false, &entry(3, t, 0), 0).unwrap();
            let inj = s6.injection(
                if t == 12 {
                    CommandKind::Read
                } else {
                    CommandKind::Admin
                },
                0,
            );
            assert!(!inj.panic, "type {t} 2.6");
        }
    }

    fn entry(flags: u8, kind: u16, nrtdp: u16) -> [u8; 32] {
        let mut e = [0u8; 32];
        e[0] = flags;
        e[2..4].copy_from_slice(&kind.to_le_bytes());
        e[4..6].copy_from_slice(&nrtdp.to_le_bytes());
        e
    }

    #[test]
    fn entry_layout_matches_nvme_cli() {
        // struct erri_entry: flags(enable:1, single:1) @0, rsvd1 @1, type @2, nrtdp @4
        let b = entry(3, 14, 7);
        let e = ErrorInjectionEntry::from_bytes(&b);
        assert!(e.enabled() && e.single());
        assert_eq!(e.kind, 14);
        assert_eq!(e.nrtdp(), 7);
        assert_eq!(e.to_bytes(), b);
    }

    #[test]
    fn set_get_round_trip() {
        let mut s = state();
        let mut data = Vec::new();
        data.extend_from_slice(&entry(1, 7, 0));
        data.extend_from_slice(&entry(3, 14, 0));
        s.set_feature(FID, 2, false, &data, 0).unwrap();
        let (dw0, buf) = s.get_feature(FID, 0, 0).unwrap();
        assert_eq!(dw0 & 0x7f, 2);
        let buf = buf.unwrap();
        assert_eq!(buf.len(), 4064);
        assert_eq!(&buf[..64], &data[..]);
        assert!(buf[64..].iter().all(|&b| b == 0));
        // default / saved show none, capabilities: changeable only.
        assert_eq!(s.get_feature(FID, 1, 0).unwrap().0, 0);
        assert_eq!(s.get_feature(FID, 2, 0).unwrap().0, 0);
        assert_eq!(s.get_feature(FID, 3, 0).unwrap().0, 0b100);
        assert_eq!(
            s.set_feature(FID, 2, true, &data, 0),
            Err(FeatureError::FeatureNotSaveable)
        );
    }

    #[test]
    fn bad_input_is_rejected() {
        let mut s = state();
        let data = entry(1, 7, 0);
        assert_eq!(
            s.set_feature(FID, 2, false, &data, 0),
            Err(FeatureError::InvalidField),
            "short data"
        );
        assert_eq!(
            s.set_feature(FID, 0x80, false, &[], 0),
            Err(FeatureError::InvalidField)
        );
        assert_eq!(
            s.set_feature(FID, 1, false, &entry(1, 23, 0), 0),
            Err(FeatureError::InvalidField)
        );
        assert_eq!(
            s.set_feature(FID, 1, false, &entry(1, 0, 0), 0),
            Err(FeatureError::InvalidField)
        );
        assert_eq!(s.set_feature(FID, 0, false, &[], 0), Ok(0));
        // A disabled entry is held and reported but never fires.
        let mut two = entry(0, 0, 0).to_vec();
        two.extend_from_slice(&entry(2, 7, 0));
        assert_eq!(s.set_feature(FID, 2, false, &two, 0), Ok(0));
        assert_eq!(s.get_feature(FID, 0, 0).unwrap().0, 2);
        assert_eq!(s.injection(CommandKind::Read, 0).status, None);
        assert_eq!(s.get_feature(FID, 0, 0).unwrap().0, 2);
    }

    #[test]
    fn nand_corruption_fails_next_read_once() {
        let mut s = state();
        s.set_feature(FID, 1, false, &entry(3, 7, 0), 0).unwrap();
        assert_eq!(s.injection(CommandKind::Write, 0).status, None);
        assert_eq!(
            s.injection(CommandKind::Read, 0).status,
            Some(InjectedStatus::UNRECOVERED_READ_ERROR)
        );
        assert_eq!(s.injection(CommandKind::Read, 0).status, None);
        assert_eq!(s.get_feature(FID, 0, 0).unwrap().0, 0);
        assert_eq!(s.counters.uncorrectable_reads, 1);
        // Telemetry event FIFO: XOR recovery + uncorrectable media error,
        // VU data naming injection type 7.
        let ev = s.events.events();
        let last = &ev[ev.len() - 1];
        assert_eq!((last.class, last.id), (CLASS_MEDIA, 0x0001));
        assert_eq!(last.data, vec![0x00, 0x80, 7, 0]);
        assert_eq!(ev[ev.len() - 2].id, 0x0000);
    }

    #[test]
    fn persistent_latency_spike() {
        let mut s = state();
        s.set_feature(FID, 1, false, &entry(1, 14, 0), 0).unwrap();
        for _ in 0..3 {
            assert!(s.injection(CommandKind::Read, 0).added_latency_ns >= 100_000_000);
        }
        assert_eq!(s.injection(CommandKind::Admin, 0).added_latency_ns, 0);
        assert_eq!(s.get_feature(FID, 0, 0).unwrap().0, 1);
    }

    #[test]
    fn panic_after_nrtdp_reads_sets_cfs_and_c1() {
        let mut s = state();
        s.set_feature(0xc9, 1, false, &[], 0).unwrap();
        s.set_feature(FID, 1, false, &entry(3, 1, 3), 0).unwrap();
        assert!(!s.injection(CommandKind::Read, 0).panic);
        assert!(!s.injection(CommandKind::Write, 0).panic);
        assert!(!s.injection(CommandKind::Read, 0).panic);
        let inj = s.injection(CommandKind::Read, 0);
        assert!(inj.panic);
        assert!(s.cfs());
        assert!(
            s.injection(CommandKind::Admin, 0).panic,
            "panicked until reset"
        );
        let aer = s.take_async_event().unwrap();
        assert_eq!((aer.event_type, aer.log_page), (7, 0xc1));
        let c1 = s.log_page(0xc1, &stats(), 0).unwrap();
        assert_ne!(
            u64::from_le_bytes(c1[4..12].try_into().unwrap()),
            0,
            "panic_id"
        );
        assert_eq!(c1[0x1f], 1, "panic_count");
        s.record_controller_reset();
        assert!(!s.cfs());
        assert!(!s.injection(CommandKind::Read, 0).panic);
    }

    #[test]
    fn state_changing_types() {
        let mut s = state();
        let mut data = Vec::new();
        for t in [3u16, 6, 8, 10, 11, 19, 22] {
            data.extend_from_slice(&entry(3, t, 0));
        }
        s.set_feature(FID, 7, false, &data, 0).unwrap();
        s.injection(CommandKind::Admin, 0);
        assert_eq!(s.get_feature(FID, 0, 0).unwrap().0, 0);
        assert!(s.health.plp_failed());
        assert_eq!(s.counters.e2e_detected, 2);
        assert_eq!(s.counters.e2e_corrected, 1);
        assert_eq!(s.health.available_spare(), 0);
        assert_eq!(s.counters.incomplete_shutdowns, 1);
        assert!(s.health.throttling());
        assert_eq!(s.counters.dies_offline, 1);
    }

    #[test]
    fn timeouts_and_failures_by_class() {
        let mut s = state();
        let mut data = Vec::new();
        data.extend_from_slice(&entry(3, 15, 0));
        data.extend_from_slice(&entry(3, 18, 0));
        s.set_feature(FID, 2, false, &data, 0).unwrap();
        let a = s.injection(CommandKind::Admin, 0);
        assert!(a.timeout && a.status.is_none());
        let io = s.injection(CommandKind::OtherIo, 0);
        assert_eq!(io.status, Some(InjectedStatus::INTERNAL_ERROR));
        assert_eq!(s.counters.command_timeouts, 1);
    }

    #[test]
    fn power_cycle_disarms() {
        let mut s = state();
        s.set_feature(FID, 1, false, &entry(1, 14, 0), 0).unwrap();
        s.record_power_cycle(0);
        assert_eq!(s.get_feature(FID, 0, 0).unwrap().0, 0);
    }
}
