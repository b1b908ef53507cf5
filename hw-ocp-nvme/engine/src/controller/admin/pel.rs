// SPDX-License-Identifier: GPL-2.0-or-later
//! Persistent Event log (NVMe 2.0 Base, 5.16.1.14, log 0Dh; OCP STD-LOG-9,
//! -10, -19 to -22).
//!
//! The drive records events in a ring kept across power cycles (the
//! power-cycle record holds it), newest reported first (STD-LOG-20), up to
//! [`PEL_MAX_BYTES`] (PELS, STD-LOG-22: 5 MiB); when full the oldest events
//! go first. The power-cycle record keeps the newest
//! [`PEL_PERSIST_BYTES`] of them (the state store's copy is 256 KiB). The host reads it through a reporting context: LSP action 01b
//! establishes one (a snapshot: events recorded later are kept but not
//! reported until the context is released and established again,
//! STD-LOG-21) and reads, 00b reads within it, 10b releases it. A context
//! not accessed for five minutes is released. Action 11b is reserved; it
//! is what nvme-cli's default (`--action` 0xFF) sends, so it reads the
//! whole current log without a context rather than failing.
//!
//! Events other modules record go through [`Controller::record_event`]
//! with the event type and its data (the layouts of Figures 232-246); the
//! namespace code records Change Namespace events (06h) the same way.

use std::collections::VecDeque;

use crate::controller::{Controller, Outcome, Request};
use crate::spec::cmd::FirmwareCommitCmd;
use crate::spec::status::Status;
use crate::wire::LeWriter;

/// Event types (Figure 231).
pub mod event {
    pub const SMART_SNAPSHOT: u8 = 0x01;
    pub const FIRMWARE_COMMIT: u8 = 0x02;
    pub const TIMESTAMP_CHANGE: u8 = 0x03;
    pub const POWER_ON_OR_RESET: u8 = 0x04;
    pub const HARDWARE_ERROR: u8 = 0x05;
    pub const CHANGE_NAMESPACE: u8 = 0x06;
    pub const FORMAT_START: u8 = 0x07;
    pub const FORMAT_COMPLETION: u8 = 0x08;
    pub const SANITIZE_START: u8 = 0x09;
    pub const SANITIZE_COMPLETION: u8 = 0x0a;
    pub const SET_FEATURE: u8 = 0x0b;
    pub const TELEMETRY_CREATED: u8 = 0x0c;
    pub const THERMAL_EXCURSION: u8 = 0x0d;
}

/// The events this drive records (STD-LOG-10): the Supported Events
/// Bitmap. NVM Subsystem Hardware Error (05h) is listed: no hardware error
/// is emulated, so none is ever recorded.
const SUPPORTED_EVENTS: [u8; 13] = [
    event::SMART_SNAPSHOT,
    event::FIRMWARE_COMMIT,
    event::TIMESTAMP_CHANGE,
    event::POWER_ON_OR_RESET,
    event::HARDWARE_ERROR,
    event::CHANGE_NAMESPACE,
    event::FORMAT_START,
    event::FORMAT_COMPLETION,
    event::SANITIZE_START,
    event::SANITIZE_COMPLETION,
    event::SET_FEATURE,
    event::TELEMETRY_CREATED,
    event::THERMAL_EXCURSION,
];

/// Largest log: header and events (STD-LOG-22: PELS of 5 MiB or more).
pub const PEL_MAX_BYTES: usize = 5 << 20;
/// Events the power-cycle record keeps: the state store's copy is 256 KiB
/// (`persist::STORE_SLOT`), so across a power cycle the log keeps its
/// newest 160 KiB of events; the running drive and migration keep all
/// [`PEL_MAX_BYTES`].
pub const PEL_PERSIST_BYTES: usize = 160 << 10;
/// PELS in Identify Controller: 64 KiB units.
pub const PELS: u32 = (PEL_MAX_BYTES / 65536) as u32;
/// Persistent Event Log Header size (Figure 230).
pub const HEADER_SIZE: usize = 512;
/// Persistent Event Header size (Figure 232); EHL counts from byte 3.
const EVENT_HEADER_SIZE: usize = 24;
/// Log Revision.
const LOG_REVISION: u8 = 1;
/// A reporting context ends five minutes after the host last read the log.
const CONTEXT_IDLE_NS: u64 = 300_000_000_000;

/// LSP action (Figure 229).
const ACTION_READ: u8 = 0b00;
const ACTION_ESTABLISH: u8 = 0b01;
const ACTION_RELEASE: u8 = 0b10;

/// One recorded event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PelEvent {
    /// Sequence number (0 for the first event the drive ever recorded).
    pub seq: u64,
    pub etype: u8,
    /// Event Timestamp: the Timestamp feature's data when it happened.
    pub timestamp: [u8; 8],
    pub data: Vec<u8>,
}

crate::persist::persist_struct!(PelEvent {
    seq,
    etype,
    timestamp,
    data
});

impl PelEvent {
    fn len(&self) -> usize {
        EVENT_HEADER_SIZE + self.data.len()
    }
}

/// A reporting context: the events up to `end_seq` (exclusive), as they
/// were when the host established it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PelContext {
    pub end_seq: u64,
    pub last_access_ns: u64,
}

crate::persist::persist_struct!(PelContext {
    end_seq,
    last_access_ns
});

/// The log: events oldest first, the next sequence number, the generation
/// number and the reporting context.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PelState {
    pub events: VecDeque<PelEvent>,
    /// Bytes of all events (headers included).
    pub bytes: usize,
    pub next_seq: u64,
    pub generation: u16,
    pub context: Option<PelContext>,
}

crate::persist::persist_struct!(PelState {
    events,
    bytes,
    next_seq,
    generation,
    context
});

impl PelState {
    fn push(&mut self, etype: u8, timestamp: [u8; 8], data: Vec<u8>) {
        let e = PelEvent {
            seq: self.next_seq,
            etype,
            timestamp,
            data,
        };
        self.next_seq += 1;
        self.bytes += e.len();
        self.events.push_back(e);
        // Trim the oldest (STD-LOG-20); a context that reports a trimmed
        // event has to go (STD-LOG-21).
        while self.bytes + HEADER_SIZE > PEL_MAX_BYTES {
            let Some(old) = self.events.pop_front() else {
                break;
            };
            self.bytes -= old.len();
            if self.context.is_some_and(|c| c.end_seq > old.seq) {
                self.context = None;
            }
        }
    }

    /// No events, no reporting context (error injection type 1Ch).
    pub(crate) fn clear(&mut self) {
        self.events.clear();
        self.bytes = 0;
        self.context = None;
    }

    /// The state after a power cycle: no reporting context, and the newest
    /// events that fit in [`PEL_PERSIST_BYTES`].
    pub fn after_power_loss(&self) -> PelState {
        let mut p = PelState {
            context: None,
            ..self.clone()
        };
        while p.bytes > PEL_PERSIST_BYTES {
            let Some(old) = p.events.pop_front() else {
                break;
            };
            p.bytes -= old.len();
        }
        p
    }

    /// The recorded byte count must match the events (a loaded state).
    pub fn check(&self) -> Result<(), String> {
        let bytes: usize = self.events.iter().map(PelEvent::len).sum();
        if bytes != self.bytes || bytes + HEADER_SIZE > PEL_MAX_BYTES {
            return Err(format!("persistent event log of {} bytes", self.bytes));
        }
        if self.events.iter().any(|e| e.seq >= self.next_seq) {
            return Err("persistent event log sequence".into());
        }
        Ok(())
    }
}

/// Supported Events Bitmap (header bytes 511:480): bit n for event type n.
fn supported_events() -> [u8; 32] {
    let mut seb = [0u8; 32];
    for e in SUPPORTED_EVENTS {
        seb[usize::from(e / 8)] |= 1 << (e % 8);
    }
    seb
}

impl Controller {
    /// Record an event of type `etype` with its event data (the layout of
    /// its type). Every module that has something to record calls this.
    /// Nothing is recorded while OCP error injection holds the log empty
    /// (type 1Ch, EVTDEF-29).
    pub(crate) fn record_event(&mut self, etype: u8, data: Vec<u8>, now: u64) {
        if self
            .ocp
            .injection
            .holds(crate::ocp::error_injection::CLEAR_PERSISTENT_EVENT_LOG)
        {
            return;
        }
        let ts = self.timestamp_bytes(now);
        self.pel.push(etype, ts, data);
    }

    /// Change Namespace event (NVMe 2.0 Base, Figure 241): the Namespace
    /// Management command's CDW10 and the namespace's NSZE, NCAP, FLBAS,
    /// DPS, NMIC and NSID (no ANA groups or NVM sets).
    pub(crate) fn record_namespace_change(
        &mut self,
        cdw10: u32,
        nsid: u32,
        (nsze, ncap): (u64, u64),
        (flbas, dps, nmic): (u8, u8, u8),
        now: u64,
    ) {
        let mut w = LeWriter::page::<48>();
        w.u32(0, cdw10)
            .u64(8, nsze)
            .u64(24, ncap)
            .u8(32, flbas)
            .u8(33, dps)
            .u8(34, nmic)
            .u32(44, nsid);
        self.record_event(event::CHANGE_NAMESPACE, w.finish(), now);
    }

    /// Power-on or Reset event (Figure 236): the firmware revision and one
    /// Controller Reset Information descriptor.
    pub(crate) fn record_reset_event(&mut self, power_cycle: bool, now: u64) {
        let mut w = LeWriter::page::<44>();
        let power_on_ms = self.counters.power_on_ns(now) / 1_000_000;
        let ts = self.timestamp_bytes(now);
        w.bytes(0, &self.fw.active_rev())
            .u16(8, 0) // CNTLID
            .u8(10, u8::from(self.fw.next.is_some())) // firmware activation
            .u8(11, u8::from(self.sanitize_in_progress())) // operation in progress
            .u32(
                24,
                u32::try_from(self.counters.power_cycles).unwrap_or(u32::MAX),
            )
            .u64(28, power_on_ms)
            .bytes(36, &ts);
        self.record_event(event::POWER_ON_OR_RESET, w.finish(), now);
        if power_cycle {
            let smart = self.smart_log(now);
            self.record_event(event::SMART_SNAPSHOT, smart, now);
        }
    }

    /// Set Feature event (Figure 244): CDW10 to CDW13 of the command;
    /// a Timestamp Change event (Figure 235) too when it set the Timestamp.
    pub(crate) fn record_set_feature(&mut self, req: &Request, fid: u8, before: [u8; 8], now: u64) {
        let mut w = LeWriter::page::<20>();
        w.u32(0, 4); // Dword count 4, no completion DW0, no memory buffer
        for (i, dw) in (10..14).enumerate() {
            w.u32(4 + i * 4, req.sqe.cdw(dw));
        }
        self.record_event(event::SET_FEATURE, w.finish(), now);
        if fid == crate::spec::ids::fid::TIMESTAMP {
            let mut t = LeWriter::page::<16>();
            let since_reset = now.saturating_sub(self.counters.power_on_since_ns) / 1_000_000;
            t.bytes(0, &before).u64(8, since_reset);
            self.record_event(event::TIMESTAMP_CHANGE, t.finish(), now);
        }
    }

    /// Firmware Commit event (Figure 234): old and new revision, the
    /// commit action and slot, and the status the command completed with
    /// (the event of a command that did not complete at once says 0).
    pub(crate) fn record_firmware_commit_event(
        &mut self,
        old: [u8; 8],
        cmd: FirmwareCommitCmd,
        outcome: Outcome,
        now: u64,
    ) {
        let status = match outcome {
            Outcome::Done { status, .. } => status,
            Outcome::Pending => Status::SUCCESS,
        };
        let mut w = LeWriter::page::<24>();
        w.bytes(0, &old)
            .bytes(8, &self.fw.active_rev())
            .u8(16, cmd.ca)
            .u8(17, cmd.fs)
            .u8(18, status.sct)
            .u8(19, status.sc);
        self.record_event(event::FIRMWARE_COMMIT, w.finish(), now);
    }

    /// Format NVM Start event (Figure 238).
    pub(crate) fn record_format_start(&mut self, nsid: u32, fna: u8, cdw10: u32, now: u64) {
        let mut w = LeWriter::page::<12>();
        w.u32(0, nsid).u8(4, fna).u32(8, cdw10);
        self.record_event(event::FORMAT_START, w.finish(), now);
    }

    /// Format NVM Completion event (Figure 239): status 0 success, 1 failed.
    pub(crate) fn record_format_completion(&mut self, nsid: u32, status: Status, now: u64) {
        let mut w = LeWriter::page::<12>();
        w.u32(0, nsid)
            .u8(4, 0) // smallest FPI: done
            .u8(5, u8::from(!status.is_success()))
            .u32(8, u32::from(status.field()));
        self.record_event(event::FORMAT_COMPLETION, w.finish(), now);
    }

    /// Sanitize Start event (Figure 240).
    pub(crate) fn record_sanitize_start(&mut self, cdw10: u32, cdw11: u32, now: u64) {
        let mut w = LeWriter::page::<12>();
        w.u32(0, super::sanitize::SANICAP)
            .u32(4, cdw10)
            .u32(8, cdw11);
        self.record_event(event::SANITIZE_START, w.finish(), now);
    }

    /// Sanitize Completion event (Figure 241): SPROG and SSTAT as the
    /// Sanitize Status log reports them afterwards.
    pub(crate) fn record_sanitize_completion(&mut self, sstat: u16, now: u64) {
        let mut w = LeWriter::page::<8>();
        w.u16(0, 0xffff).u16(2, sstat);
        self.record_event(event::SANITIZE_COMPLETION, w.finish(), now);
    }

    /// Thermal Excursion event (Figure 246): degrees Celsius over the
    /// threshold, and the threshold in Celsius.
    pub(crate) fn record_thermal_excursion(&mut self, now: u64) {
        let t = self.temperature();
        let threshold = self.feat.temp_over;
        let over = t.saturating_sub(threshold);
        let c = threshold.saturating_sub(273);
        let data = vec![
            u8::try_from(over).unwrap_or(u8::MAX),
            u8::try_from(c).unwrap_or(u8::MAX),
        ];
        self.record_event(event::THERMAL_EXCURSION, data, now);
    }

    /// Persistent Event log page: the header (Figure 230) and the events
    /// the context (or, for action 11b, the current log) holds, newest
    /// first.
    pub(crate) fn persistent_event_log(&mut self, lsp: u8, now: u64) -> Result<Vec<u8>, Status> {
        if let Some(c) = self.pel.context {
            if now.saturating_sub(c.last_access_ns) >= CONTEXT_IDLE_NS {
                self.pel.context = None;
            }
        }
        let end_seq = match lsp & 0x3 {
            ACTION_READ => match self.pel.context.as_mut() {
                Some(c) => {
                    c.last_access_ns = now;
                    c.end_seq
                }
                None => return Err(Status::COMMAND_SEQUENCE_ERROR),
            },
            ACTION_ESTABLISH => {
                if self.pel.context.is_some() {
                    return Err(Status::COMMAND_SEQUENCE_ERROR);
                }
                self.pel.generation = self.pel.generation.wrapping_add(1);
                self.pel.context = Some(PelContext {
                    end_seq: self.pel.next_seq,
                    last_access_ns: now,
                });
                self.pel.next_seq
            }
            ACTION_RELEASE => {
                self.pel.context = None;
                return Ok(vec![0; HEADER_SIZE]);
            }
            _ => self.pel.context.map_or(self.pel.next_seq, |c| c.end_seq),
        };
        let events: Vec<&PelEvent> = self
            .pel
            .events
            .iter()
            .rev()
            .filter(|e| e.seq < end_seq)
            .collect();
        let tll = HEADER_SIZE + events.iter().map(|e| e.len()).sum::<usize>();
        let mut w = LeWriter::page::<HEADER_SIZE>();
        let poh = self.counters.power_on_ns(now) / 3_600_000_000_000;
        let ts = self.timestamp_bytes(now);
        let cfg = &self.cfg;
        w.u8(0, crate::spec::ids::lid::PERSISTENT_EVENT)
            .u32(4, u32::try_from(events.len()).unwrap_or(u32::MAX))
            .u64(8, tll as u64)
            .u8(16, LOG_REVISION)
            .u16(18, HEADER_SIZE as u16)
            .bytes(20, &ts)
            .u128(28, u128::from(poh))
            .u64(
                44,
                u64::try_from(self.counters.power_cycles).unwrap_or(u64::MAX),
            )
            .u16(52, cfg.pci_vendor_id)
            .u16(54, cfg.pci_subsys_vendor_id)
            .ascii(56, 20, cfg.serial.as_bytes(), b' ')
            .ascii(76, 40, cfg.model.as_bytes(), b' ')
            .ascii(116, 256, cfg.subnqn().as_bytes(), 0)
            .bytes(480, &supported_events())
            .u16(372, self.pel.generation)
            // Reporting Context Information: a context exists, established
            // through the NVM subsystem port 0.
            .u32(
                374,
                if self.pel.context.is_some() {
                    1 << 18 | 1 << 16
                } else {
                    0
                },
            );
        let mut page = w.finish();
        page.reserve(tll - HEADER_SIZE);
        for e in events {
            let mut h = LeWriter::page::<EVENT_HEADER_SIZE>();
            h.u8(0, e.etype)
                .u8(1, 0) // Event Type Revision
                .u8(2, (EVENT_HEADER_SIZE - 3) as u8)
                .u8(3, 0) // EHAI: port identifier type not reported
                .u16(4, 0) // CNTLID
                .bytes(6, &e.timestamp)
                .u16(20, 0) // no vendor specific information
                .u16(22, u16::try_from(e.data.len()).unwrap_or(u16::MAX));
            page.extend_from_slice(&h.finish());
            page.extend_from_slice(&e.data);
        }
        Ok(page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oldest_events_trimmed_at_the_size_limit() {
        // STD-LOG-20, STD-LOG-22: the log stays within PELS, oldest out.
        let mut p = PelState::default();
        let big = vec![0u8; 60_000];
        let n = PEL_MAX_BYTES / (EVENT_HEADER_SIZE + big.len()) + 10;
        for _ in 0..n {
            p.push(event::SMART_SNAPSHOT, [0; 8], big.clone());
        }
        assert!(p.bytes + HEADER_SIZE <= PEL_MAX_BYTES);
        assert_eq!(p.events.back().unwrap().seq, n as u64 - 1);
        assert!(p.events.front().unwrap().seq >= 10);
        p.check().unwrap();
        // A context that reports a trimmed event is released (STD-LOG-21).
        p.context = Some(PelContext {
            end_seq: p.next_seq,
            last_access_ns: 0,
        });
        let first = p.events.front().unwrap().seq;
        p.push(event::SMART_SNAPSHOT, [0; 8], big);
        assert!(p.events.front().unwrap().seq > first);
        assert!(p.context.is_none());
    }

    #[test]
    fn power_cycle_record_keeps_the_newest_events() {
        let mut p = PelState::default();
        for _ in 0..400 {
            p.push(event::SMART_SNAPSHOT, [0; 8], vec![0; 512]);
        }
        let kept = p.after_power_loss();
        assert!(kept.bytes <= PEL_PERSIST_BYTES);
        assert_eq!(kept.events.back(), p.events.back());
        assert!(kept.events.len() < p.events.len());
        kept.check().unwrap();
    }
}
