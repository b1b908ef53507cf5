// SPDX-License-Identifier: GPL-2.0-or-later
//! OCP telemetry: log page C9h, Telemetry String Log (OCP Datacenter NVMe
//! SSD Specification 2.5, "Telemetry String Log Page", version 1), and the OCP Data Area 1 carried by the NVMe
//! Telemetry Host-Initiated (07h) and Controller-Initiated (08h) logs
//! (OCP 2.5 "Telemetry"), which `nvme ocp internal-log` decodes.
//!
//! # C9h layout (nvme-cli `struct telemetry_str_log_format`)
//! Header of 432 bytes: `log_page_version` @0, GUID @16, string log size
//! (dwords) @32, then start/size in dwords of the Statistics Identifier
//! String Table @64/72, Event String Table @80/88, VU Event String Table
//! @96/104 and ASCII table @112/120, FIFO names (16 × 16 bytes) @128. The
//! tables follow the header in that order; entries are 16 bytes
//! (`statistics_id_str_table_entry`, `event_id_str_table_entry`): identifier,
//! ASCII length, ASCII offset in dwords from the ASCII table. Each string is
//! followed by at least one NUL (nvme-cli copies length + 1 bytes).
//!
//! # Data Area 1 (nvme-cli `struct nvme_ocp_header_in_da1`)
//! Offsets relative to the start of Data Area 1 (byte 512 of log 07h/08h):
//! version @0/2 (2.5), timestamp (ms) @8, GUID @16, telemetry profiles
//! supported @32 and selected @33 (feature C8h), string log size @40,
//! firmware revision @56, Data Area 1 statistics start/size (dwords) @96/104,
//! Data Area 2 statistics @112/120 (none), event FIFO data areas @160, FIFO
//! start/size (dwords) @176, SMART 02h copy @512, C0h copy @1024,
//! statistics @1536, then event FIFO 1. Padded to a multiple of 512.
//!
//! Statistic descriptor (`nvme_ocp_telemetry_statistic_descriptor`, 8 bytes):
//! identifier, behaviour type (bits 3:0; here 1 = cumulative counter,
//! 2 = current value), namespace info, data size in dwords, reserved; then
//! the data. Profile 0 carries the OCP-defined statistics, profile 1 adds
//! vendor statistics 8000h–8006h (named in C9h).
//!
//! Event descriptor (`nvme_ocp_telemetry_event_descriptor`, 4 bytes): class,
//! identifier, data size in dwords; then the data. Events recorded: boot
//! complete, power cycle, controller reset (CC.EN 1→0), CSTS.CFS 0→1 and
//! firmware assert on a panic, host timestamp set, temperature crossings,
//! media wear (percentage used changes), die offline.

use super::{smart, smart_ext, DeviceStats, OcpState};
use crate::wire::{guid_le, LeWriter};

/// Log identifier of the string log.
pub const STRING_LID: u8 = 0xc9;
/// String log header size.
pub const STRING_HEADER_SIZE: usize = 432;
/// Size of one statistics or event string table entry.
pub const STRING_ENTRY_SIZE: usize = 16;
/// String log version.
pub const STRING_VERSION: u8 = 1;
/// String log GUID, printed form `B13A83691A8F408B9EA495940057AA44h`.
pub const STRING_GUID: [u8; 16] = guid_le(0xB13A8369_1A8F_408B_9EA4_95940057AA44);
/// Data Area 1 header GUID, printed form `BA560A9C3043424CBC73719D87E64EFAh`
/// (OCP 2.5 telemetry; nvme-cli does not check it).
pub const DA1_GUID: [u8; 16] = guid_le(0xBA560A9C_3043_424C_BC73_719D87E64EFA);
/// Data Area 1 header version (major, minor) of OCP 2.5.
pub const DA1_VERSION_2_5: (u16, u16) = (2, 5);
/// Data Area 1 header version of OCP 2.6 and 2.7 (TELDF-1: 0003h, TELDF-2:
/// 0001h).
pub const DA1_VERSION: (u16, u16) = (3, 1);

/// The Data Area 1 header version and the Number of Telemetry Profiles
/// Supported byte for OCP version `v`: 0's based from 2.6 (TELDF-6), the
/// count itself in 2.5. The 2.7 revision history lists no TELDF
/// requirement as new or modified, so 2.6 has 2.7's header; the 2.5 header
/// is an *interpretation* (the 2.5 text was not at hand).
pub fn da1_header_version(v: super::OcpVersion) -> ((u16, u16), u8) {
    let n = super::features::telemetry_profile::PROFILES;
    if v >= super::OcpVersion::V2_6 {
        (DA1_VERSION, n - 1)
    } else {
        (DA1_VERSION_2_5, n)
    }
}
/// Offset of the statistics in Data Area 1.
pub const DA1_STATS_OFFSET: usize = 1536;
/// Events kept in FIFO 1.
pub const FIFO_CAPACITY: usize = 128;

/// Debug event class: timestamp.
pub const CLASS_TIMESTAMP: u8 = 0x01;
/// Debug event class: PCIe.
pub const CLASS_PCIE: u8 = 0x02;
/// Debug event class: NVMe.
pub const CLASS_NVME: u8 = 0x03;
/// Debug event class: reset.
pub const CLASS_RESET: u8 = 0x04;
/// Debug event class: boot sequence.
pub const CLASS_BOOT_SEQUENCE: u8 = 0x05;
/// Debug event class: firmware assert.
pub const CLASS_FIRMWARE_ASSERT: u8 = 0x06;
/// Debug event class: temperature.
pub const CLASS_TEMPERATURE: u8 = 0x07;
/// Debug event class: media.
pub const CLASS_MEDIA: u8 = 0x08;
/// Debug event class: media wear.
pub const CLASS_MEDIA_WEAR: u8 = 0x09;

/// One debug event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Debug event class.
    pub class: u8,
    /// Event identifier.
    pub id: u16,
    /// Event data, whole dwords.
    pub data: Vec<u8>,
}

crate::persist::persist_struct!(Event { class, id, data });

/// Event FIFO 1. Plain data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFifo {
    events: Vec<Event>,
}

crate::persist::persist_struct!(EventFifo { events });

impl EventFifo {
    /// Records an event with data (padded to dwords, at most 1020 bytes).
    pub fn push(&mut self, class: u8, id: u16, data: &[u8]) {
        let mut d = data[..data.len().min(1020)].to_vec();
        while d.len() % 4 != 0 {
            d.push(0);
        }
        if self.events.len() == FIFO_CAPACITY {
            self.events.remove(0);
        }
        self.events.push(Event { class, id, data: d });
    }

    /// Records an event without data.
    pub fn push_common(&mut self, class: u8, id: u16) {
        self.push(class, id, &[]);
    }

    /// Events, oldest first.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// Serialized FIFO.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for e in &self.events {
            out.push(e.class);
            out.extend_from_slice(&e.id.to_le_bytes());
            out.push((e.data.len() / 4) as u8);
            out.extend_from_slice(&e.data);
        }
        out
    }
}

/// Vendor statistics (profile 1) and their names in C9h.
pub const VENDOR_STATS: [(u16, &str); 7] = [
    (0x8000, "Host Bytes Written"),
    (0x8001, "Host Bytes Read"),
    (0x8002, "NAND Bytes Written"),
    (0x8003, "NAND Average Erase Count"),
    (0x8004, "Composite Temperature (K)"),
    (0x8005, "Capacitor Health (%)"),
    (0x8006, "Lifetime Energy (Wh)"),
];

/// Event names in C9h.
pub const EVENT_STRINGS: [(u8, u16, &str); 13] = [
    (
        CLASS_TIMESTAMP,
        0x0000,
        "Host Issued Timestamp Set Feature Cmd",
    ),
    (CLASS_NVME, 0x0001, "CC.EN Transitions from 1 to 0"),
    (CLASS_NVME, 0x0009, "CSTS.CFS Transitions from 0 to 1"),
    (CLASS_RESET, 0x0001, "Main Power Cycle"),
    (CLASS_BOOT_SEQUENCE, 0x0000, "Main Firmware Boot Complete"),
    (
        CLASS_FIRMWARE_ASSERT,
        0x0006,
        "Assert in Other Code (injected panic)",
    ),
    (
        CLASS_TEMPERATURE,
        0x0000,
        "Composite Temp Decreases to (WCTEMP-2)",
    ),
    (
        CLASS_TEMPERATURE,
        0x0001,
        "Composite Temp Increases to WCTEMP",
    ),
    (
        CLASS_TEMPERATURE,
        0x0002,
        "Composite Temp Increases to CCTEMP",
    ),
    (CLASS_MEDIA, 0x0000, "XOR Recovery Invoked"),
    (CLASS_MEDIA, 0x0001, "Uncorrectable Media Error"),
    (CLASS_MEDIA, 0x0005, "Plane Failure Event (die offline)"),
    (CLASS_MEDIA_WEAR, 0x0000, "Percentage Used Changed"),
];

/// Vendor-unique event identifier carried in the data of events caused by
/// error injection (FID C0h); the two bytes after it are the injection type.
pub const VU_EVENT_INJECTED: u16 = 0x8000;

/// VU event names in C9h (class, VU event identifier, name).
pub const VU_EVENT_STRINGS: [(u8, u16, &str); 2] = [
    (
        CLASS_FIRMWARE_ASSERT,
        VU_EVENT_INJECTED,
        "Injected by Error Injection (FID C0h)",
    ),
    (
        CLASS_MEDIA,
        VU_EVENT_INJECTED,
        "Injected by Error Injection (FID C0h)",
    ),
];

/// Event data of an event caused by injection type `kind`.
pub fn injected_data(kind: u16) -> [u8; 4] {
    let id = VU_EVENT_INJECTED.to_le_bytes();
    let k = kind.to_le_bytes();
    [id[0], id[1], k[0], k[1]]
}

/// Name of event FIFO 1.
pub const FIFO1_NAME: &[u8] = b"Device Events";

/// The ASCII table of the C9h page and the string table entries that
/// point into it.
struct AsciiTable {
    bytes: Vec<u8>,
}

impl AsciiTable {
    /// Appends a string (NUL-terminated, dword padded); returns (len, dword offset).
    fn add(&mut self, s: &str) -> (u8, u64) {
        let off = (self.bytes.len() / 4) as u64;
        let b = &s.as_bytes()[..s.len().min(250)];
        self.bytes.extend_from_slice(b);
        self.bytes.push(0);
        while self.bytes.len() % 4 != 0 {
            self.bytes.push(0);
        }
        (b.len() as u8, off)
    }

    /// One 16-byte string table entry: the identifier bytes `id` at 0 (a
    /// 16-bit statistic identifier, or an event class and a 16-bit event
    /// identifier), the length of `name` at 3 and its dword offset in the
    /// ASCII table at 4.
    fn entry(&mut self, id: &[u8], name: &str) -> Vec<u8> {
        let (len, off) = self.add(name);
        let mut w = LeWriter::page::<STRING_ENTRY_SIZE>();
        w.bytes(0, id).u8(3, len).u64(4, off);
        w.finish()
    }

    /// The event string table of `events` (class, identifier, name).
    fn event_table(&mut self, events: &[(u8, u16, &str)]) -> Vec<u8> {
        events
            .iter()
            .flat_map(|&(class, id, name)| {
                let id = id.to_le_bytes();
                self.entry(&[class, id[0], id[1]], name)
            })
            .collect()
    }
}

/// The whole C9h page.
pub fn string_log() -> Vec<u8> {
    let mut ascii = AsciiTable { bytes: Vec::new() };
    let stat_tab: Vec<u8> = VENDOR_STATS
        .iter()
        .flat_map(|&(id, name)| ascii.entry(&id.to_le_bytes(), name))
        .collect();
    let ev_tab = ascii.event_table(&EVENT_STRINGS);
    let vu_tab = ascii.event_table(&VU_EVENT_STRINGS);
    let dw = |n: usize| (n / 4) as u64;
    let sits = dw(STRING_HEADER_SIZE);
    let ests = sits + dw(stat_tab.len());
    let vu_ests = ests + dw(ev_tab.len());
    let ascts = vu_ests + dw(vu_tab.len());
    let tables = stat_tab.len() + ev_tab.len() + vu_tab.len();
    let total = STRING_HEADER_SIZE + tables + ascii.bytes.len();
    let mut w = LeWriter::new(total);
    w.u8(0, STRING_VERSION)
        .bytes(16, &STRING_GUID)
        .u64(32, dw(total))
        .u64(64, sits)
        .u64(72, dw(stat_tab.len()))
        .u64(80, ests)
        .u64(88, dw(ev_tab.len()))
        .u64(96, vu_ests)
        .u64(104, dw(vu_tab.len()))
        .u64(112, ascts)
        .u64(120, dw(ascii.bytes.len()))
        .ascii(128, 16, FIFO1_NAME, 0)
        .bytes(STRING_HEADER_SIZE, &stat_tab)
        .bytes(STRING_HEADER_SIZE + stat_tab.len(), &ev_tab)
        .bytes(STRING_HEADER_SIZE + stat_tab.len() + ev_tab.len(), &vu_tab)
        .bytes(STRING_HEADER_SIZE + tables, &ascii.bytes);
    w.finish()
}

struct Stats {
    out: Vec<u8>,
}

impl Stats {
    fn add(&mut self, id: u16, behaviour: u8, data: &[u8]) {
        let mut d = data.to_vec();
        while d.len() % 4 != 0 {
            d.push(0);
        }
        self.out.extend_from_slice(&id.to_le_bytes());
        self.out.push(behaviour & 0x0f);
        self.out.push(0);
        self.out
            .extend_from_slice(&((d.len() / 4) as u16).to_le_bytes());
        self.out.extend_from_slice(&[0, 0]);
        self.out.extend_from_slice(&d);
    }

    fn counter(&mut self, id: u16, v: u64) {
        self.add(id, 1, &v.to_le_bytes());
    }

    fn current(&mut self, id: u16, v: u32) {
        self.add(id, 2, &v.to_le_bytes());
    }
}

fn bad_block_stat(percent: u64, raw: u64) -> [u8; 4] {
    let raw = u16::try_from(raw).unwrap_or(u16::MAX).to_le_bytes();
    [
        u8::try_from(percent.min(100)).unwrap_or(100),
        0,
        raw[0],
        raw[1],
    ]
}

/// Data Area 1 for logs 07h/08h.
pub fn data_area1(s: &OcpState, st: &DeviceStats, now_ns: u64) -> Vec<u8> {
    let h = &s.health;
    let c = &s.counters;
    let profile = s.features.telemetry_profile.current;
    let mut stats = Stats { out: Vec::new() };
    stats.current(0x01, st.outstanding_admin_commands);
    stats.current(0x04, st.active_namespaces);
    stats.counter(0x0a, st.deallocated_lbas);
    stats.current(0x0b, u32::from(st.nvme_power_state));
    stats.current(0x0c, u32::from(s.features.dssd_power_state.current));
    stats.counter(0x0d, u64::from(c.sys_program_fail));
    stats.counter(0x0e, u64::from(c.sys_erase_fail));
    stats.counter(
        0x0f,
        u64::try_from(h.nand_bytes_read() >> 36).unwrap_or(u64::MAX),
    );
    stats.counter(
        0x10,
        (st.power_on_seconds / 86_400) * (1 + u64::from(h.percentage_used()) / 25),
    );
    let gc = h.nand_bytes_written().saturating_sub(st.host_bytes_written);
    stats.counter(0x13, u64::try_from(gc).unwrap_or(u64::MAX));
    stats.counter(0x18, u64::from(c.e2e_detected));
    stats.counter(0x19, h.soft_ecc_errors());
    stats.counter(0x1a, st.perst_events);
    let dies = u64::from(h.cfg.total_media_dies.max(1));
    let per_die = (h.total_blocks() / dies).max(1);
    let bad = h.bad_user_blocks();
    let avg = bad / dies;
    let worst = avg + avg / 4 + u64::from(bad > 0);
    let best = avg - avg / 4;
    stats.add(0x1b, 2, &bad_block_stat(worst * 100 / per_die, worst));
    // Eight channels modelled.
    let per_ch = (h.total_blocks() / 8).max(1);
    let ch_avg = bad / 8;
    let ch_worst = ch_avg + ch_avg / 4 + u64::from(bad > 0);
    stats.add(0x1c, 2, &bad_block_stat(ch_worst * 100 / per_ch, ch_worst));
    stats.add(
        0x1d,
        2,
        &bad_block_stat(best * 100 / per_ch / 8, ch_avg - ch_avg / 4),
    );
    if profile >= 1 {
        stats.add(0x8000, 1, &st.host_bytes_written.to_le_bytes());
        stats.add(0x8001, 1, &st.host_bytes_read.to_le_bytes());
        stats.add(0x8002, 1, &h.nand_bytes_written().to_le_bytes());
        stats.counter(0x8003, h.avg_erase_count());
        stats.current(0x8004, u32::from(h.temperature_k()));
        stats.current(0x8005, u32::from(h.capacitor_health()));
        stats.counter(0x8006, h.lifetime_wh());
    }
    let fifo = s.events.to_bytes();
    let stats_len = stats.out.len();
    let fifo_off = DA1_STATS_OFFSET + stats_len;
    let total = (fifo_off + fifo.len()).div_ceil(512) * 512;
    let sls = (string_log().len() / 4) as u64;
    let dw = |n: usize| (n / 4) as u64;
    let ((major, minor), profiles) = da1_header_version(s.identity.ocp_version);
    let mut w = LeWriter::new(total);
    w.u16(0, major)
        .u16(2, minor)
        .u64(8, s.timestamp_ms(now_ns))
        .bytes(16, &DA1_GUID)
        .u8(32, profiles)
        .u8(33, profile)
        .u64(40, sls)
        .bytes(56, &s.identity.firmware_rev)
        .u64(96, dw(DA1_STATS_OFFSET))
        .u64(104, dw(stats_len))
        .u64(112, 0)
        .u64(120, 0)
        .u8(160, 1)
        .u64(176, dw(fifo_off))
        .u64(184, dw(fifo.len()))
        .bytes(512, &smart::build(s, st).to_bytes())
        .bytes(1024, &smart_ext::build(s, st).to_bytes())
        .bytes(DA1_STATS_OFFSET, &stats.out)
        .bytes(fifo_off, &fifo);
    w.finish()
}

/// Generation and availability fields of the NVMe telemetry log header,
/// which the engine owns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TelemetryGeneration {
    /// IEEE OUI Identifier (Identify Controller IEEE), bytes 5–7.
    pub ieee_oui: [u8; 3],
    /// Telemetry Host-Initiated Data Generation Number (07h byte 381).
    pub host_generation: u8,
    /// Telemetry Controller-Initiated Data Available (byte 382).
    pub ctrl_available: bool,
    /// Telemetry Controller-Initiated Data Generation Number (byte 383).
    pub ctrl_generation: u8,
    /// The host enabled Telemetry Data Area 4 (Host Behavior Support
    /// ETDAS): DA4LB (bytes 19:16) is reported, equal to DA3LB (empty).
    pub data_area_4: bool,
}

/// A whole NVMe telemetry log 07h or 08h (NVMe Base 2.0 "Telemetry Host-Initiated" /
/// "Telemetry Controller-Initiated"): the
/// 512-byte header followed by Data Area 1. Data Areas 2 and 3 are empty, so
/// their last blocks equal Data Area 1's (nvme-cli reads up to Data Area 3
/// Last Block). The OCP Reason Identifier (nvme-cli
/// `nvme_ocp_telemetry_reason_id`, bytes 384–511) names the last panic, or
/// the host request.
pub fn telemetry_log(da1: &[u8], lid: u8, g: &TelemetryGeneration, last_panic_id: u64) -> Vec<u8> {
    let blocks = u16::try_from(da1.len().div_ceil(512)).unwrap_or(u16::MAX);
    let mut w = LeWriter::new(512 + usize::from(blocks) * 512);
    w.u8(0, lid)
        .bytes(5, &g.ieee_oui)
        .u16(8, blocks)
        .u16(10, blocks)
        .u16(12, blocks)
        .u32(16, if g.data_area_4 { u32::from(blocks) } else { 0 });
    if lid == 0x07 {
        w.u8(381, g.host_generation);
    }
    w.u8(382, u8::from(g.ctrl_available))
        .u8(383, g.ctrl_generation);
    let reason = if last_panic_id != 0 {
        format!("PANIC {last_panic_id:016X}")
    } else if lid == 0x07 {
        "HOST-INITIATED".to_string()
    } else {
        "NO PANIC".to_string()
    };
    w.ascii(384, 64, reason.as_bytes(), 0)
        .u8(384 + 74, 0x04) // valid_flags: error ID valid
        .bytes(512, da1);
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::super::tests_common::*;
    use super::*;

    fn u64at(b: &[u8], o: usize) -> u64 {
        u64::from_le_bytes(b[o..o + 8].try_into().unwrap())
    }

    /// Looks a string up the way nvme-cli's get_*_`ascii_string` do.
    fn lookup(
        log: &[u8],
        table_start_off: usize,
        table_size_off: usize,
        key: &[u8],
    ) -> Option<String> {
        let start = u64at(log, table_start_off) as usize * 4;
        let size = u64at(log, table_size_off) as usize * 4;
        let ascts = u64at(log, 112) as usize * 4;
        for e in log[start..start + size].chunks(16) {
            if &e[..key.len()] == key {
                let len = e[3] as usize;
                let off = ascts + u64at(e, 4) as usize * 4;
                // nvme-cli copies len + 1 bytes.
                let s = &log[off..off + len + 1];
                assert_eq!(s[len], 0);
                return Some(String::from_utf8(s[..len].to_vec()).unwrap());
            }
        }
        None
    }

    #[test]
    fn string_log_header_and_tables() {
        let b = string_log();
        assert_eq!(b[0], 1); // log_page_version
        assert_eq!(&b[16..32], &STRING_GUID); // log_page_guid
        assert_eq!(u64at(&b, 32) as usize * 4, b.len()); // sls
                                                         // nvme-cli total_log_page_sz = 432 + 4 × (sitsz + estsz + vu_eve_st_sz + asctsz)
        let total = 432 + 4 * (u64at(&b, 72) + u64at(&b, 88) + u64at(&b, 104) + u64at(&b, 120));
        assert_eq!(total as usize, b.len());
        assert_eq!(u64at(&b, 64), 108); // sits right after the header
        assert_eq!(&b[128..141], FIFO1_NAME); // fifo1
        assert_eq!(
            lookup(&b, 64, 72, &0x8000u16.to_le_bytes()).as_deref(),
            Some("Host Bytes Written")
        );
        assert_eq!(
            lookup(&b, 80, 88, &[CLASS_NVME, 0x09, 0x00]).as_deref(),
            Some("CSTS.CFS Transitions from 0 to 1")
        );
        let mut key = vec![CLASS_MEDIA];
        key.extend_from_slice(&VU_EVENT_INJECTED.to_le_bytes());
        assert_eq!(
            lookup(&b, 96, 104, &key).as_deref(),
            Some("Injected by Error Injection (FID C0h)")
        );
    }

    #[test]
    fn teldf_1_2_6_header_of_2_6_and_2_7() {
        for v in [
            super::super::OcpVersion::V2_6,
            super::super::OcpVersion::V2_7,
        ] {
            let da1 = state_version(v).telemetry_data_area1(&stats(), 0);
            assert_eq!(u16::from_le_bytes([da1[0], da1[1]]), 3, "TELDF-1");
            assert_eq!(u16::from_le_bytes([da1[2], da1[3]]), 1, "TELDF-2");
            assert_eq!(&da1[16..32], &DA1_GUID, "TELDF-5");
            assert_eq!(da1[32], 1, "TELDF-6: two profiles, 0's based");
        }
        let old = state_version(super::super::OcpVersion::V2_5).telemetry_data_area1(&stats(), 0);
        assert_eq!((old[0], old[2], old[32]), (2, 5, 2), "2.5");
    }

    #[test]
    fn data_area1_layout_like_nvme_cli() {
        // The OCP 2.5 header (2.6 and 2.7: `teldf_1_2_6_header_of_2_6_and_2_7`).
        let mut s = state_version(super::super::OcpVersion::V2_5);
        let mut st = stats();
        st.host_bytes_written = 1 << 30;
        st.active_namespaces = 1;
        s.set_feature(0xc8, 1, true, &[], 0).unwrap();
        s.record_controller_reset();
        let da1 = s.telemetry_data_area1(&st, 0);
        assert_eq!(da1.len() % 512, 0);
        assert_eq!(u16::from_le_bytes([da1[0], da1[1]]), 2); // major_version
        assert_eq!(u64at(&da1, 8), st.timestamp_ms); // time_stamp
        assert_eq!(&da1[16..32], &DA1_GUID); // log_page_guid
        assert_eq!((da1[32], da1[33]), (2, 1)); // profiles supported / selected
        assert_eq!(u64at(&da1, 40) as usize * 4, string_log().len()); // string_log_size
        assert_eq!(&da1[56..64], b"1.0     "); // firmware_revision
                                               // Embedded copies.
        assert_eq!(&da1[512..1024], &s.smart_log(&st)[..]);
        assert_eq!(&da1[1024 + 496..1536], &smart_ext::GUID);
        // Walk statistics as parse_statistics does.
        let start = u64at(&da1, 96) as usize * 4;
        let size = u64at(&da1, 104) as usize * 4;
        assert_eq!(start, 1536);
        let mut off = 0;
        let mut ids = Vec::new();
        while off < size {
            let d = &da1[start + off..];
            let id = u16::from_le_bytes([d[0], d[1]]);
            if id == 0 {
                break;
            }
            if id == 0x04 {
                assert_eq!(d[8], 1); // active namespaces
            }
            ids.push(id);
            off += 8 + 4 * u16::from_le_bytes([d[4], d[5]]) as usize;
        }
        assert_eq!(off, size);
        assert!(ids.contains(&0x1b) && ids.contains(&0x8000));
        // Walk FIFO 1 as parse_event_fifo does.
        assert_eq!(da1[160], 1); // event_fifo_da[0]
        let fstart = u64at(&da1, 176) as usize * 4;
        let fsize = u64at(&da1, 184) as usize * 4;
        let mut foff = 0;
        let mut evs = Vec::new();
        while foff < fsize {
            let d = &da1[fstart + foff..];
            if d[0] == 0 {
                break;
            }
            evs.push((d[0], u16::from_le_bytes([d[1], d[2]])));
            foff += 4 + 4 * d[3] as usize;
        }
        assert_eq!(foff, fsize);
        assert_eq!(evs[0], (CLASS_BOOT_SEQUENCE, 0));
        assert!(evs.contains(&(CLASS_NVME, 1)));
        // Profile 0 drops vendor statistics.
        s.set_feature(0xc8, 0, false, &[], 0).unwrap();
        let da1_p0 = s.telemetry_data_area1(&st, 0);
        assert!(u64at(&da1_p0, 104) < size as u64 / 4);
    }

    #[test]
    fn whole_log_header_like_nvme_cli() {
        let mut s = state();
        let g = TelemetryGeneration {
            ieee_oui: [0x52, 0x54, 0x00],
            host_generation: 3,
            ctrl_available: false,
            ctrl_generation: 0,
            data_area_4: false,
        };
        let log = s.telemetry_log(0x07, &stats(), 0, &g);
        assert_eq!(log[0], 0x07); // LogIdentifier
        assert_eq!(&log[5..8], &[0x52, 0x54, 0x00]); // IEEE
        let da1lb = u16::from_le_bytes([log[8], log[9]]) as usize;
        let da3lb = u16::from_le_bytes([log[12], log[13]]) as usize;
        // get_telemetry_log_page_data: full_size = dalb3 * 512 + 512
        assert_eq!(da3lb * 512 + 512, log.len());
        assert_eq!(da1lb, da3lb);
        assert_eq!(log[381], 3); // host_initiated_gen_number
        assert_eq!(&log[384..398], b"HOST-INITIATED"); // reason_id.error_id
        assert_eq!(&log[512 + 16..512 + 32], &DA1_GUID);
        assert_eq!(&log[16..20], &[0; 4], "DA4LB without ETDAS");
        // Host Behavior Support ETDAS set: Data Area 4 (empty) is reported.
        let g4 = TelemetryGeneration {
            data_area_4: true,
            ..g
        };
        let log4 = s.telemetry_log(0x07, &stats(), 0, &g4);
        let da4lb = u32::from_le_bytes(log4[16..20].try_into().unwrap()) as usize;
        assert_eq!(da4lb * 512 + 512, log4.len(), "DA4LB = DA3LB");
    }

    #[test]
    fn fifo_is_bounded() {
        let mut f = EventFifo::default();
        for i in 0..300u16 {
            f.push(CLASS_PCIE, i, &[1, 2, 3]);
        }
        assert_eq!(f.events().len(), FIFO_CAPACITY);
        assert_eq!(f.events()[0].id, 300 - FIFO_CAPACITY as u16);
        assert_eq!(f.events()[0].data.len(), 4);
    }
}
