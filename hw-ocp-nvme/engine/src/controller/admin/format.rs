// SPDX-License-Identifier: GPL-2.0-or-later
//! Format NVM (NVMe 2.0 Base, 5.14; NVM Command Set 1.0, 4.1.1).
//! The whole namespace is zeroed (deallocated) on the backend, then the new
//! LBA format takes effect and a Namespace Attribute Changed notice is sent.

use crate::controller::{Accounting, Controller, Outcome, PostAction, Request};
use crate::namespace::LBA_FORMATS;
use crate::spec::cmd::FormatNvmCmd;
use crate::spec::ids::aen;
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
        let nsid = req.sqe.nsid();
        if nsid != 1 && nsid != 0xffff_ffff {
            return Status::INVALID_NAMESPACE.into();
        }
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
        let Some(ci) = self.begin_cmd(req, Accounting::Admin, PostAction::Format { lbaf }, host)
        else {
            return Status::INTERNAL_ERROR.into();
        };
        self.formatting = true;
        // Every whole 512-byte block, whatever the new format.
        let len = self.ns.capacity_bytes & !511;
        self.queue_dataless(ci, IoKind::WriteZeroes { may_unmap: true }, 0, len);
        self.cmd_issued(ci, Status::SUCCESS, host);
        Outcome::Pending
    }

    /// The backend finished zeroing.
    pub(crate) fn finish_format(&mut self, lbaf: u8, status: Status, host: &mut Host) {
        self.formatting = false;
        let now = self.now(host);
        self.record_format_completion(1, status, now);
        if status.is_success() {
            self.counters.formats += 1;
            self.ns.lbaf = lbaf;
            self.persist_request = true;
            if !self.changed_ns.contains(&1) {
                self.changed_ns.push(1);
            }
            self.raise_event(aen::TYPE_NOTICE, aen::NOTICE_NS_ATTR_CHANGED, 0x04, host);
        }
    }
}
