// SPDX-License-Identifier: GPL-2.0-or-later
//! Get Log Page (NVMe 2.0 Base, 5.16): offset, length, RAE, LSP and UUID
//! index handling, and the standard log pages 00h-09h, 0Eh and 12h.

use std::collections::VecDeque;

use crate::controller::admin::{self, features, identify, pel};
use crate::controller::ocp_port;
use crate::controller::{Controller, ErrorContext, Outcome, Request};
use crate::counters::Counters;
use crate::ocp::endurance::ENDGID;
use crate::spec::cmd::GetLogPageCmd;
use crate::spec::ids::{admin_op, fid, lid, nvm_op};
use crate::spec::status::Status;
use crate::traits::Host;
use crate::wire::LeWriter;

/// Size of an Error Information log entry (NVMe 2.0 Base, Figure 205).
const ERROR_ENTRY_SIZE: usize = 64;
/// The Error Information log: ELPE + 1 entries.
const ERROR_LOG_SIZE: usize = (identify::ELPE as usize + 1) * ERROR_ENTRY_SIZE;
// 256 entries (OCP NVMe-CFG-18).
const _: () = assert!(ERROR_LOG_SIZE == 16384);
/// Tables of one dword per log page or feature identifier (Supported Log
/// Pages, Feature Identifiers Supported and Effects).
const LID_TABLE_SIZE: usize = 256 * 4;
/// Commands Supported and Effects (NVMe 2.0 Base, Figure 210): admin
/// commands at 0, I/O commands at 1024, reserved to 4096.
const EFFECTS_SIZE: usize = 4096;
const _: () = assert!(EFFECTS_SIZE >= 2 * LID_TABLE_SIZE);
/// LBA Status Information header.
const LBA_STATUS_HEADER_SIZE: usize = 16;
/// Changed Namespace List: 1024 NSIDs.
const CHANGED_NS_SIZE: usize = 4096;

/// One Error Information log entry (Figure 205).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorEntry {
    pub error_count: u64,
    pub sqid: u16,
    pub cid: u16,
    pub status: u16,
    pub nsid: u32,
    pub lba: u64,
}

crate::persist::persist_struct!(ErrorEntry {
    error_count,
    sqid,
    cid,
    status,
    nsid,
    lba
});

/// Error Information entries, newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ErrorLog {
    pub entries: VecDeque<ErrorEntry>,
}

crate::persist::persist_struct!(ErrorLog { entries });

impl ErrorLog {
    pub fn record(
        &mut self,
        counters: &mut Counters,
        sqid: u16,
        cid: u16,
        status: Status,
        ctx: ErrorContext,
    ) {
        counters.error_log_entries += 1;
        self.entries.push_front(ErrorEntry {
            error_count: counters.error_log_entries,
            sqid,
            cid,
            status: status.field(),
            nsid: ctx.nsid,
            lba: ctx.lba,
        });
        self.entries.truncate(identify::ELPE as usize + 1);
    }

    fn page(&self) -> Vec<u8> {
        let mut w = LeWriter::page::<ERROR_LOG_SIZE>();
        for (i, e) in self.entries.iter().enumerate() {
            let o = i * ERROR_ENTRY_SIZE;
            w.u64(o, e.error_count);
            w.u16(o + 8, e.sqid);
            w.u16(o + 10, e.cid);
            w.u16(o + 12, e.status);
            w.u16(o + 14, 0xffff); // parameter error location: not specified
            w.u64(o + 16, e.lba);
            w.u32(o + 24, e.nsid);
        }
        w.finish()
    }
}

/// Telemetry snapshots (NVMe 2.0 Base, 8.24).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TelemetryState {
    /// Whole log 07h captured by the last "create telemetry host-initiated
    /// data" (header and OCP Data Area 1).
    pub host_data: Vec<u8>,
    pub host_generation: u8,
    pub ctrl_generation: u8,
    /// Controller-initiated log captured at the last event (a panic), or
    /// at the last read at offset 0 when none is pending.
    pub ctrl_data: Vec<u8>,
    /// Telemetry Controller-Initiated Data Available (07h/08h byte 382).
    pub ctrl_available: bool,
}

crate::persist::persist_struct!(TelemetryState {
    host_data,
    host_generation,
    ctrl_generation,
    ctrl_data,
    ctrl_available,
});

/// Supported Log Pages (NVMe 2.0 Base, 5.16.1.1): one dword per LID.
fn supported_logs() -> Vec<u8> {
    let mut w = LeWriter::page::<LID_TABLE_SIZE>();
    for l in 0..=lid::ENDURANCE_GROUP_INFORMATION {
        w.u32(l as usize * 4, 1);
    }
    w.u32(lid::LBA_STATUS_INFORMATION as usize * 4, 1);
    w.u32(lid::FEATURE_IDS_EFFECTS as usize * 4, 1);
    w.u32(lid::SANITIZE_STATUS as usize * 4, 1);
    w.u32(lid::LOCKDOWN as usize * 4, 1);
    w.u32(lid::PERSISTENT_EVENT as usize * 4, 1);
    for l in lid::VENDOR_FIRST..=0xff {
        if ocp_port::log_supported(l) {
            w.u32(l as usize * 4, 1);
        }
    }
    w.finish()
}

/// Commands Supported and Effects flags (Figure 211).
const CSUPP: u32 = 1;
const LBCC: u32 = 1 << 1;
const NCC: u32 = 1 << 2;
const NIC: u32 = 1 << 3;
const CCC: u32 = 1 << 4;
const CSE_NS: u32 = 1 << 16;
/// Command Submission and Execution 010b: no other command to any
/// namespace while it runs (Sanitize).
const CSE_ALL: u32 = 0b10 << 16;
const UUID_SEL: u32 = 1 << 19;

/// Every admin command the controller supports, with its effects: the
/// Commands Supported and Effects log and the commands Lockdown can
/// prohibit (OCP NVMe-AD-15).
pub const ADMIN_EFFECTS: [(u8, u32); 20] = [
    (admin_op::DELETE_IO_SQ, CSUPP),
    (admin_op::CREATE_IO_SQ, CSUPP),
    (admin_op::GET_LOG_PAGE, CSUPP | UUID_SEL),
    (admin_op::DELETE_IO_CQ, CSUPP),
    (admin_op::CREATE_IO_CQ, CSUPP),
    (admin_op::IDENTIFY, CSUPP),
    (admin_op::ABORT, CSUPP),
    (admin_op::SET_FEATURES, CSUPP | UUID_SEL),
    (admin_op::GET_FEATURES, CSUPP | UUID_SEL),
    (admin_op::ASYNC_EVENT_REQUEST, CSUPP),
    (admin_op::FIRMWARE_COMMIT, CSUPP | CCC),
    (admin_op::FIRMWARE_IMAGE_DOWNLOAD, CSUPP),
    (admin_op::DEVICE_SELF_TEST, CSUPP),
    (admin_op::KEEP_ALIVE, CSUPP),
    (admin_op::LOCKDOWN, CSUPP | UUID_SEL),
    (admin_op::DOORBELL_BUFFER_CONFIG, CSUPP),
    (admin_op::FORMAT_NVM, CSUPP | LBCC | NCC | NIC | CSE_NS),
    (admin_op::NAMESPACE_MANAGEMENT, CSUPP | LBCC | NIC),
    (admin_op::NAMESPACE_ATTACHMENT, CSUPP | NIC),
    (admin_op::SANITIZE, CSUPP | LBCC | NCC | NIC | CSE_ALL),
];

fn effects() -> Vec<u8> {
    let mut w = LeWriter::page::<EFFECTS_SIZE>();
    for (op, v) in ADMIN_EFFECTS {
        w.u32(op as usize * 4, v);
    }
    let io: [(u8, u32); 9] = [
        (nvm_op::FLUSH, CSUPP),
        (nvm_op::WRITE, CSUPP | LBCC),
        (nvm_op::READ, CSUPP),
        (nvm_op::COMPARE, CSUPP),
        (nvm_op::WRITE_ZEROES, CSUPP | LBCC),
        (nvm_op::DATASET_MANAGEMENT, CSUPP | LBCC),
        (nvm_op::VERIFY, CSUPP),
        (nvm_op::WRITE_UNCORRECTABLE, CSUPP | LBCC),
        (nvm_op::COPY, CSUPP | LBCC),
    ];
    for (op, v) in io {
        w.u32(1024 + op as usize * 4, v);
    }
    w.finish()
}

impl Controller {
    /// Feature Identifiers Supported and Effects (NVMe 2.0 Base, 5.16.1.18).
    fn feature_effects_log(&self) -> Vec<u8> {
        const FSUPP: u32 = 1;
        const UDCC: u32 = 1 << 1;
        const UUID_SEL: u32 = 1 << 19;
        const SCOPE_NS: u32 = 1 << 20;
        const SCOPE_CTRL: u32 = 1 << 21;
        let mut w = LeWriter::page::<LID_TABLE_SIZE>();
        for &f in features::SUPPORTED_FIDS.iter() {
            if f == fid::VOLATILE_WRITE_CACHE && !self.cfg.volatile_write_cache {
                continue;
            }
            let scope = if f == fid::ERROR_RECOVERY {
                SCOPE_NS
            } else {
                SCOPE_CTRL
            };
            let udcc = if f == fid::NUMBER_OF_QUEUES || f == fid::VOLATILE_WRITE_CACHE {
                UDCC
            } else {
                0
            };
            w.u32(f as usize * 4, FSUPP | UUID_SEL | scope | udcc);
        }
        for f in crate::ocp::FEATURE_IDS {
            if self.ocp.feature_supported(f) {
                w.u32(f as usize * 4, FSUPP | UUID_SEL | SCOPE_CTRL);
            }
        }
        w.finish()
    }

    /// Get Log Page.
    pub(crate) fn get_log_page(
        &mut self,
        req: &Request,
        r: GetLogPageCmd,
        host: &mut Host,
    ) -> Outcome {
        let nsid = req.sqe.nsid();
        if !admin::uuid_index_ok(r.uuid) || r.ot || r.csi != 0 {
            return Status::INVALID_FIELD.into();
        }
        let len = (u64::from(r.numd) + 1) * 4;
        if len > self.cfg.max_transfer_bytes() || r.lpo % 4 != 0 {
            return Status::INVALID_FIELD.into();
        }
        let now = self.now(host);
        let nsid_ok = |n: u32| n == 0 || n == 0xffff_ffff || self.ns.active(n).is_some();
        let page: Vec<u8> = match r.lid {
            lid::SUPPORTED_LOG_PAGES => supported_logs(),
            lid::ERROR_INFORMATION => self.errlog.page(),
            lid::SMART_HEALTH => {
                if !nsid_ok(nsid) {
                    return Status::INVALID_NAMESPACE.into();
                }
                self.smart_log(now)
            }
            lid::FIRMWARE_SLOT => self.fw.slot_log(),
            lid::ENDURANCE_GROUP_INFORMATION => {
                // LSI: the Endurance Group Identifier (OCP STD-LOG-17: one).
                if r.lsi != ENDGID {
                    return Status::INVALID_FIELD.into();
                }
                self.endurance_group_log(now)
            }
            lid::LBA_STATUS_INFORMATION => lba_status_information(),
            lid::CHANGED_NAMESPACES => changed_ns(&self.changed_ns),
            lid::COMMANDS_SUPPORTED_EFFECTS => effects(),
            lid::FEATURE_IDS_EFFECTS => self.feature_effects_log(),
            lid::DEVICE_SELF_TEST => self.selftest.log(now),
            lid::SANITIZE_STATUS => self.sanitize_log(),
            lid::PERSISTENT_EVENT => match self.persistent_event_log(r.lsp, now) {
                Ok(p) => p,
                Err(s) => return s.into(),
            },
            lid::LOCKDOWN => match self.lockdown_log(r.lsp) {
                Ok(p) => p,
                Err(s) => return s.into(),
            },
            lid::TELEMETRY_HOST => {
                // LSP bit 0: Create Telemetry Host-Initiated Data.
                if r.lsp & 1 != 0 || self.telemetry.host_data.is_empty() {
                    if r.lsp & 1 != 0 {
                        self.telemetry.host_generation =
                            self.telemetry.host_generation.wrapping_add(1);
                    }
                    self.telemetry.host_data = self.telemetry_log(lid::TELEMETRY_HOST, now);
                    if r.lsp & 1 != 0 {
                        // Telemetry Log Create event: the log's header.
                        let head = self.telemetry.host_data[..512].to_vec();
                        self.record_event(pel::event::TELEMETRY_CREATED, head, now);
                    }
                }
                let mut p = self.telemetry.host_data.clone();
                p[382] = u8::from(self.telemetry.ctrl_available);
                p[383] = self.telemetry.ctrl_generation;
                p
            }
            lid::TELEMETRY_CONTROLLER => {
                // A new snapshot at offset 0 unless an event's one is pending;
                // later chunks read the same snapshot.
                if self.telemetry.ctrl_data.is_empty()
                    || (r.lpo == 0 && !self.telemetry.ctrl_available)
                {
                    self.telemetry.ctrl_data = self.telemetry_log(lid::TELEMETRY_CONTROLLER, now);
                }
                self.telemetry.ctrl_data.clone()
            }
            l if l >= lid::VENDOR_FIRST => match self.ocp_log_page(l, now) {
                Ok(p) => p,
                Err(s) => return s.into(),
            },
            _ => return Status::INVALID_LOG_PAGE.into(),
        };
        if matches!(
            r.lid,
            lid::SMART_HEALTH
                | lid::TELEMETRY_HOST
                | lid::TELEMETRY_CONTROLLER
                | lid::ENDURANCE_GROUP_INFORMATION
        ) || r.lid >= lid::VENDOR_FIRST
        {
            // The health model advanced while building the page.
            self.check_health_events(host);
        }
        if r.lpo >= page.len() as u64 {
            return Status::INVALID_FIELD.into();
        }
        let mut out = vec![0u8; len as usize];
        let start = r.lpo as usize;
        let n = (page.len() - start).min(out.len());
        out[..n].copy_from_slice(&page[start..start + n]);
        let st = self.send_data(&req.sqe, &out, host);
        if st.is_success() && r.lid == lid::CHANGED_NAMESPACES {
            // Reading the list clears it; RAE only governs the event.
            self.changed_ns.clear();
        }
        if st.is_success() && !r.rae {
            if r.lid == lid::TELEMETRY_CONTROLLER {
                self.telemetry.ctrl_available = false;
            }
            self.aer.log_read(r.lid);
            self.deliver_events(host);
        }
        st.into()
    }
}

/// LBA Status Information (NVMe 2.0 Base, 5.16.1.15; OCP STD-LOG-11): the
/// header alone. The medium loses no data, so no namespace has LBAs to
/// report: LBA Status Log Page Length 16, no namespace element, Estimate
/// of Unrecoverable Logical Blocks 0, generation counter 0.
fn lba_status_information() -> Vec<u8> {
    let mut w = LeWriter::page::<LBA_STATUS_HEADER_SIZE>();
    w.u32(0, LBA_STATUS_HEADER_SIZE as u32);
    w.finish()
}

/// Changed Namespace List (NVMe 2.0 Base, 5.16.1.5): up to 1024 NSIDs, or
/// `FFFFFFFFh` when more changed.
fn changed_ns(list: &[u32]) -> Vec<u8> {
    let mut w = LeWriter::page::<CHANGED_NS_SIZE>();
    if list.len() > CHANGED_NS_SIZE / 4 {
        w.u32(0, 0xffff_ffff);
    } else {
        for (i, &n) in list.iter().enumerate() {
            w.u32(i * 4, n);
        }
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_log_newest_first_bounded() {
        let mut k = Counters::default();
        let mut l = ErrorLog::default();
        for i in 0..300u16 {
            l.record(
                &mut k,
                1,
                i,
                Status::INVALID_FIELD,
                ErrorContext { nsid: 1, lba: 7 },
            );
        }
        // 256 entries (OCP NVMe-CFG-18), the newest first.
        assert_eq!(l.entries.len(), 256);
        let p = l.page();
        assert_eq!(p.len(), 256 * 64);
        assert_eq!(u64::from_le_bytes(p[0..8].try_into().unwrap()), 300);
        assert_eq!(u16::from_le_bytes([p[10], p[11]]), 299);
        assert_eq!(
            u64::from_le_bytes(p[255 * 64..255 * 64 + 8].try_into().unwrap()),
            45
        );
        assert_eq!(
            u16::from_le_bytes([p[12], p[13]]),
            Status::INVALID_FIELD.field()
        );
    }

    #[test]
    fn effects_layout() {
        let e = effects();
        assert_eq!(e[admin_op::FORMAT_NVM as usize * 4] & 1, 1);
        assert_eq!(e[1024 + nvm_op::WRITE as usize * 4], 0x3);
        assert_eq!(e[0x81 * 4], 0);
    }
}
