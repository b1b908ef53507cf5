// SPDX-License-Identifier: GPL-2.0-or-later
//! Format NVM (NVMe 2.0 Base, 5.14; NVM Command Set 1.0, 4.1) of one
//! namespace, or of every attached namespace with NSID `FFFFFFFFh` (FNA bit 0 clear:
//! formats are per namespace). The namespace's backend extents are zeroed
//! (deallocated), then the new LBA format takes effect, NUSE drops to 0,
//! uncorrectable blocks are forgotten and a Namespace Attribute Changed
//! notice is sent.

use crate::controller::admin::namespace::NsChange;
use crate::controller::{Accounting, Controller, Outcome, PostAction, Request};
use crate::namespace::{LBA_FORMATS, SECTOR};
use crate::spec::cmd::FormatNvmCmd;
use crate::spec::status::Status;
use crate::traits::{Host, IoKind};

/// Secure Erase Settings: none, user data erase, cryptographic erase (OCP
/// NVMe-AD-5; both deallocate and read back zeroes, NVMe-AD-8).
const SES_MAX: u8 = 2;
/// FNA (Identify Controller byte 524): format per namespace (OCP
/// NVMe-AD-23), cryptographic erase supported (NVMe-AD-5).
pub const FNA: u8 = 1 << 2;

impl Controller {
    pub(crate) fn format_nvm(
        &mut self,
        req: &Request,
        cmd: FormatNvmCmd,
        host: &mut Host,
    ) -> Outcome {
        // MSET and PIL matter only with metadata or protection information,
        // which no LBA format has (and PI must be 0).
        let FormatNvmCmd { lbaf, pi, ses, .. } = cmd;
        // OCP error injection type 19h (EVTDEF-26) asks that the next
        // Format use a User Data Erase when one is requested: this device
        // always does (it never substitutes a cryptographic erase), so the
        // event is performed by this command as it is.
        self.ocp
            .injection
            .take(crate::ocp::error_injection::FORMAT_USER_DATA_ERASE);
        let nsid = req.sqe.nsid();
        let targets: Vec<u32> = if nsid == 0xffff_ffff {
            self.ns.active_ids().collect()
        } else if self.ns.active(nsid).is_some() {
            vec![nsid]
        } else {
            return Status::INVALID_NAMESPACE.into();
        };
        if lbaf as usize >= LBA_FORMATS.len() || pi != 0 {
            return Status::INVALID_FORMAT.into();
        }
        if ses > SES_MAX {
            return Status::INVALID_FIELD.into();
        }
        if self.cfg.read_only {
            return Status::NAMESPACE_WRITE_PROTECTED.into();
        }
        if self.formatting {
            return Status::FORMAT_IN_PROGRESS.into();
        }
        let now = self.now(host);
        self.abort_self_test_on_format(now);
        self.record_format_start(nsid, FNA, req.sqe.cdw(10), now);
        let Some(ci) = self.begin_cmd(
            req,
            Accounting::Admin,
            PostAction::Format { nsid, lbaf },
            host,
        ) else {
            return Status::INTERNAL_ERROR.into();
        };
        self.formatting = true;
        // Every backend sector of the namespaces, whatever the new format.
        let extents: Vec<_> = targets
            .iter()
            .filter_map(|&n| self.ns.get(n))
            .flat_map(|n| n.extents.clone())
            .collect();
        for e in extents {
            self.queue_dataless(
                ci,
                IoKind::WriteZeroes { may_unmap: true },
                e.start * SECTOR,
                e.sectors * SECTOR,
            );
        }
        self.cmd_issued(ci, Status::SUCCESS, host);
        Outcome::Pending
    }

    /// The backend finished zeroing.
    pub(crate) fn finish_format(&mut self, nsid: u32, lbaf: u8, status: Status, host: &mut Host) {
        self.formatting = false;
        let now = self.now(host);
        self.record_format_completion(nsid, status, now);
        if !status.is_success() {
            return;
        }
        self.counters.formats += 1;
        let targets: Vec<u32> = if nsid == 0xffff_ffff {
            self.ns.active_ids().collect()
        } else {
            vec![nsid]
        };
        for n in targets {
            if let Some(ns) = self.ns.get_mut(n) {
                ns.lbaf = lbaf;
                ns.erased();
                self.namespace_changed(n, NsChange::Formatted, host);
            }
        }
    }
}
