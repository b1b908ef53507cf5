// SPDX-License-Identifier: GPL-2.0-or-later
//! Format NVM (NVMe 2.0 Base, 5.14; NVM Command Set 1.0, 4.1.1).
//! The whole namespace is zeroed (deallocated) on the backend, then the new
//! LBA format takes effect and a Namespace Attribute Changed notice is sent.

use crate::controller::{Accounting, Controller, Outcome, PostAction};
use crate::namespace::LBA_FORMATS;
use crate::spec::ids::aen;
use crate::spec::status::Status;
use crate::traits::{Host, IoKind};

/// Secure Erase Settings: none, user data erase (crypto erase unsupported).
const SES_MAX: u8 = 1;

#[allow(clippy::too_many_arguments)]
pub(crate) fn format(
    c: &mut Controller,
    cid: u16,
    nsid: u32,
    lbaf: u8,
    mset: bool,
    pi: u8,
    pil: bool,
    ses: u8,
    host: &mut Host,
) -> Outcome {
    let _ = (mset, pil);
    if nsid != 1 && nsid != 0xffff_ffff {
        return Status::INVALID_NAMESPACE.into();
    }
    if lbaf as usize >= LBA_FORMATS.len() || pi != 0 {
        return Status::INVALID_FORMAT.into();
    }
    if ses > SES_MAX {
        return Status::INVALID_FIELD.into();
    }
    if c.cfg.read_only {
        return Status::NAMESPACE_WRITE_PROTECTED.into();
    }
    if c.formatting {
        return Status::FORMAT_IN_PROGRESS.into();
    }
    let now = c.now(host);
    crate::admin::selftest::abort_on_format(c, now);
    let Some(ci) = c.begin_cmd(0, cid, Accounting::Admin, PostAction::Format { lbaf }, host) else {
        return Status::INTERNAL_ERROR.into();
    };
    c.formatting = true;
    // Every whole 512-byte block, whatever the new format.
    let len = c.ns.capacity_bytes & !511;
    c.queue_dataless(ci, IoKind::WriteZeroes { may_unmap: true }, 0, len);
    c.cmd_issued(ci, Status::SUCCESS, host);
    Outcome::Pending
}

/// The backend finished zeroing.
pub(crate) fn finish(c: &mut Controller, lbaf: u8, status: Status, host: &mut Host) {
    c.formatting = false;
    if status.is_success() {
        c.counters.formats += 1;
        c.ns.lbaf = lbaf;
        if !c.changed_ns.contains(&1) {
            c.changed_ns.push(1);
        }
        c.raise_event(aen::TYPE_NOTICE, aen::NOTICE_NS_ATTR_CHANGED, 0x04, host);
    }
}
