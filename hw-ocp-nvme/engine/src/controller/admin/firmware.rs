// SPDX-License-Identifier: GPL-2.0-or-later
//! Firmware Image Download and Firmware Commit (NVMe 2.0 Base, 5.12, 5.13)
//! and the firmware slots behind the Firmware Slot Information log (5.16.1.4).

use crate::config::ControllerConfig;
use crate::controller::{Controller, Outcome, Request};
use crate::spec::cmd::{FirmwareCommitCmd, FirmwareImageDownloadCmd};
use crate::spec::ids::aen;
use crate::spec::status::Status;
use crate::traits::Host;
use crate::wire::{self, LeWriter};

/// Number of firmware slots; slot 1 is read-only (factory image).
pub const FW_SLOTS: usize = 3;
/// Size of the Firmware Slot Information log.
const SLOT_LOG_SIZE: usize = 512;
/// Slot revisions start at byte 8 and end within the log.
const _: () = assert!(8 + FW_SLOTS * 8 <= SLOT_LOG_SIZE);
/// Largest firmware image accepted.
pub const MAX_IMAGE_BYTES: usize = 4 << 20;

/// Identify FRMW: slot 1 read-only, number of slots, activation without reset.
pub fn frmw(cfg: &ControllerConfig) -> u8 {
    1 | (FW_SLOTS as u8) << 1 | u8::from(cfg.fw_activate_without_reset) << 4
}

/// Firmware slots and the image being downloaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FirmwareState {
    /// Revision in each slot (all zero = empty).
    pub slots: [[u8; 8]; FW_SLOTS],
    /// Active slot, 1-based.
    pub active: u8,
    /// Slot to activate at the next reset, with the commit action used.
    pub next: Option<(u8, u8)>,
    /// Image downloaded so far.
    pub staging: Vec<u8>,
    /// A download arrived out of order or overlapping: commit fails.
    pub staging_bad: bool,
}

crate::persist::persist_struct!(FirmwareState {
    slots,
    active,
    next,
    staging,
    staging_bad
});

impl FirmwareState {
    pub fn new(rev: &str) -> Self {
        let mut slots = [[0u8; 8]; FW_SLOTS];
        slots[0] = wire::ascii(rev);
        FirmwareState {
            slots,
            active: 1,
            next: None,
            staging: Vec::new(),
            staging_bad: false,
        }
    }

    pub fn active_rev(&self) -> [u8; 8] {
        self.slots[(self.active - 1) as usize]
    }

    /// Firmware revision carried by an image: its first 8 bytes when they
    /// are printable ASCII, else a revision derived from a checksum.
    fn image_rev(img: &[u8]) -> [u8; 8] {
        if img.len() >= 8 && img[..8].iter().all(|&b| (0x20..0x7f).contains(&b)) && img[0] != b' ' {
            let mut r = [0u8; 8];
            r.copy_from_slice(&img[..8]);
            return r;
        }
        let sum = img
            .iter()
            .fold(0u32, |a, &b| a.rotate_left(5) ^ u32::from(b));
        wire::ascii(&format!("F{:07X}", sum & 0x0fff_ffff))
    }

    /// Firmware Slot Information log (NVMe 2.0 Base, Figure 209): AFI, then
    /// the revision of each slot from byte 8.
    pub fn slot_log(&self) -> Vec<u8> {
        let mut w = LeWriter::page::<SLOT_LOG_SIZE>();
        w.u8(0, self.active | self.next.map_or(0, |(s, _)| s << 4));
        for (i, s) in self.slots.iter().enumerate() {
            w.bytes(8 + i * 8, s);
        }
        w.finish()
    }
}

/// Identify Controller FWUG: firmware update granularity in 4 KiB units
/// (OCP FWUP-29: 01h).
pub const FWUG: u8 = 1;
/// FWUG in bytes.
const FWUG_BYTES: u64 = 4096 * FWUG as u64;

impl Controller {
    pub(crate) fn firmware_download(
        &mut self,
        req: &Request,
        cmd: FirmwareImageDownloadCmd,
        host: &mut Host,
    ) -> Outcome {
        let FirmwareImageDownloadCmd { numd, ofst } = cmd;
        let sqe = &req.sqe;
        let len = (u64::from(numd) + 1) * 4;
        let off = u64::from(ofst) * 4;
        if off + len > MAX_IMAGE_BYTES as u64 || len > self.cfg.max_transfer_bytes() {
            return Status::INVALID_FIELD.into();
        }
        // FWUG 01h: pieces start on 4 KiB boundaries (OCP FWUP-29); the last
        // one may be shorter.
        if off % FWUG_BYTES != 0 {
            return Status::INVALID_FIELD.into();
        }
        let data = match self.receive_data(sqe, len as usize, host) {
            Ok(d) => d,
            Err(s) => return s.into(),
        };
        let off = off as usize;
        if off != self.fw.staging.len() {
            // Pieces must be sent in order without overlap; a new image starts at 0.
            if off == 0 {
                self.fw.staging.clear();
                self.fw.staging_bad = false;
            } else {
                self.fw.staging_bad = true;
            }
        }
        if off <= self.fw.staging.len() {
            self.fw.staging.truncate(off);
            self.fw.staging.extend_from_slice(&data);
        }
        Outcome::ok()
    }

    /// An image was activated: OCP C2h history (the one firmware history).
    fn record_firmware_commit(
        &mut self,
        slot: u8,
        ca: u8,
        prev: [u8; 8],
        status: Status,
        now: u64,
    ) {
        let ev = crate::ocp::FwCommitEvent {
            timestamp_ms: self.timestamp_ms(now),
            power_cycles: u64::try_from(self.counters.power_cycles).unwrap_or(u64::MAX),
            previous_fw: prev,
            new_fw: self.fw.slots[(slot - 1) as usize],
            slot,
            commit_action: ca,
            result: status.field(),
        };
        self.ocp_fw_commit(&ev);
    }

    pub(crate) fn firmware_commit(&mut self, cmd: FirmwareCommitCmd, host: &mut Host) -> Outcome {
        // BPID selects a boot partition, which only CA 110b/111b use.
        let FirmwareCommitCmd { fs, ca, .. } = cmd;
        let now = self.now(host);
        if ca > 3 {
            // Boot partitions (100b-111b) are not supported.
            return Status::INVALID_FIELD.into();
        }
        if fs as usize > FW_SLOTS {
            return Status::INVALID_FIRMWARE_SLOT.into();
        }
        // Slots, activation and its history are the drive's to keep.
        self.persist_request = true;
        // 000b/001b replace the slot with the downloaded image; 011b does too
        // when an image was downloaded, else it activates the slot's image.
        let replaces = ca < 2 || (ca == 3 && (!self.fw.staging.is_empty() || self.fw.staging_bad));
        let slot = if fs == 0 {
            if replaces {
                // Controller picks: the first writable slot that is not active.
                (2..=FW_SLOTS as u8)
                    .find(|&s| s != self.fw.active)
                    .unwrap_or(2)
            } else {
                self.fw.active
            }
        } else {
            fs
        };
        if replaces {
            if slot == 1 {
                return Status::INVALID_FIRMWARE_SLOT.into();
            }
            if self.fw.staging.is_empty() || self.fw.staging_bad {
                return Status::INVALID_FIRMWARE_IMAGE.into();
            }
            self.fw.slots[(slot - 1) as usize] = FirmwareState::image_rev(&self.fw.staging);
            self.fw.staging.clear();
        } else if self.fw.slots[(slot - 1) as usize] == [0u8; 8] {
            return Status::INVALID_FIRMWARE_IMAGE.into();
        }
        match ca {
            0 => Outcome::ok(),
            1 | 2 => {
                self.fw.next = Some((slot, ca));
                Outcome::ok()
            }
            _ => {
                if self.cfg.fw_activate_without_reset {
                    let prev = self.fw.active_rev();
                    self.raise_event(
                        aen::TYPE_NOTICE,
                        aen::NOTICE_FW_ACTIVATION_STARTING,
                        0x03,
                        host,
                    );
                    self.fw.active = slot;
                    self.fw.next = None;
                    self.record_firmware_commit(slot, ca, prev, Status::SUCCESS, now);
                    Outcome::ok()
                } else {
                    self.fw.next = Some((slot, ca));
                    Status::FW_REQUIRES_CONTROLLER_RESET.into()
                }
            }
        }
    }

    /// Activate a pending image at a Controller Level Reset.
    pub(crate) fn activate_firmware_on_reset(&mut self, now: u64) {
        if let Some((slot, ca)) = self.fw.next.take() {
            let prev = self.fw.active_rev();
            self.fw.active = slot;
            self.record_firmware_commit(slot, ca, prev, Status::SUCCESS, now);
        }
    }
}
