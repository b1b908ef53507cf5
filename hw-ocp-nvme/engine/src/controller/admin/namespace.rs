// SPDX-License-Identifier: GPL-2.0-or-later
//! Namespace Management (NVMe 2.0 Base, 5.20; OCP NVMe-AD-3, NSM-1..5) and
//! Namespace Attachment (5.19; OCP NVMe-AD-4) over the namespace table, and
//! the one place every namespace change goes through
//! ([`Controller::namespace_changed`]).

use crate::controller::{Controller, Outcome, Request};
use crate::namespace::{Namespaces, NewNamespace, CONTROLLER_ID};
use crate::spec::cmd::{NamespaceAttachmentCmd, NamespaceManagementCmd};
use crate::spec::ids::aen;
use crate::spec::status::Status;
use crate::traits::Host;
use crate::wire::{rd_u16, rd_u64};

/// What happened to a namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NsChange {
    Created,
    /// Deleted; `attached` if it was attached to the controller.
    Deleted {
        attached: bool,
    },
    Attached,
    Detached,
    Formatted,
}

/// Size of the Namespace Management data and of a Controller List.
const DATA_SIZE: usize = 4096;
/// Most entries of a Controller List (NVMe 2.0 Base, Figure 137).
const CONTROLLER_LIST_MAX: usize = 2047;

impl Controller {
    /// Every namespace change (create, delete, attach, detach, format) ends
    /// here: the drive keeps its table (state store), and a change to a
    /// namespace attached to the controller, or one that attaches or
    /// detaches it, enters the Changed Namespace List (log 04h) and raises
    /// a Namespace Attribute Changed event (NVMe 2.0 Base, 5.2.1, Figure
    /// 202; when enabled in Feature 0Bh).
    pub(crate) fn namespace_changed(&mut self, nsid: u32, change: NsChange, host: &mut Host) {
        self.persist_request = true;
        let notice = match change {
            NsChange::Created => false,
            NsChange::Deleted { attached } => attached,
            NsChange::Attached | NsChange::Detached | NsChange::Formatted => true,
        };
        if !notice {
            return;
        }
        // At most NN entries: never beyond the log's 1,024 (the FFFFFFFFh
        // overflow rule of Figure 202 is in `log::changed_ns`).
        if !self.changed_ns.contains(&nsid) {
            self.changed_ns.push(nsid);
        }
        self.raise_event(aen::TYPE_NOTICE, aen::NOTICE_NS_ATTR_CHANGED, 0x04, host);
    }

    pub(crate) fn namespace_management(
        &mut self,
        req: &Request,
        cmd: NamespaceManagementCmd,
        host: &mut Host,
    ) -> Outcome {
        let nsid = req.sqe.nsid();
        match cmd.sel {
            0 => {
                // Create: the NSID field is not used.
                if nsid != 0 {
                    return Status::INVALID_FIELD.into();
                }
                if cmd.csi != 0 {
                    return Status::IO_COMMAND_SET_NOT_SUPPORTED.into();
                }
                let data = match self.receive_data(&req.sqe, DATA_SIZE, host) {
                    Ok(d) => d,
                    Err(s) => return s.into(),
                };
                // ANAGRPID, NVMSETID, ENDGID: none supported.
                if data[92..96].iter().chain(&data[100..104]).any(|&b| b != 0) {
                    return Status::INVALID_FIELD.into();
                }
                let new = NewNamespace {
                    nsze: rd_u64(&data, 0),
                    ncap: rd_u64(&data, 8),
                    flbas: data[26],
                    dps: data[29],
                    nmic: data[30],
                };
                match self.ns.create(new) {
                    Ok(id) => {
                        let now = self.now(host);
                        self.record_namespace_change(
                            req.sqe.cdw(10),
                            id,
                            (new.nsze, new.ncap),
                            (new.flbas, new.dps, new.nmic),
                            now,
                        );
                        self.namespace_changed(id, NsChange::Created, host);
                        Outcome::dw0(id)
                    }
                    Err(s) => s.into(),
                }
            }
            1 => {
                let ids: Vec<u32> = if nsid == 0xffff_ffff {
                    self.ns.allocated_ids().collect()
                } else if !Namespaces::valid(nsid) {
                    return Status::INVALID_NAMESPACE.into();
                } else if self.ns.get(nsid).is_none() {
                    return Status::INVALID_FIELD.into();
                } else {
                    vec![nsid]
                };
                if self.formatting {
                    return Status::FORMAT_IN_PROGRESS.into();
                }
                for id in ids {
                    if let Some(gone) = self.ns.delete(id) {
                        let attached = gone.attached;
                        let now = self.now(host);
                        self.record_namespace_change(
                            req.sqe.cdw(10),
                            id,
                            (gone.nsze(), gone.nsze()),
                            (gone.lbaf, 0, gone.nmic),
                            now,
                        );
                        self.namespace_changed(id, NsChange::Deleted { attached }, host);
                    }
                }
                Outcome::ok()
            }
            _ => Status::INVALID_FIELD.into(),
        }
    }

    pub(crate) fn namespace_attachment(
        &mut self,
        req: &Request,
        cmd: NamespaceAttachmentCmd,
        host: &mut Host,
    ) -> Outcome {
        let nsid = req.sqe.nsid();
        if !Namespaces::valid(nsid) {
            return Status::INVALID_NAMESPACE.into();
        }
        let Some(ns) = self.ns.get(nsid) else {
            return Status::INVALID_FIELD.into();
        };
        let (attached, private) = (ns.attached, ns.nmic & 1 == 0);
        let attach = match cmd.sel {
            0 => true,
            1 => false,
            _ => return Status::INVALID_FIELD.into(),
        };
        let data = match self.receive_data(&req.sqe, DATA_SIZE, host) {
            Ok(d) => d,
            Err(s) => return s.into(),
        };
        let n = usize::from(rd_u16(&data, 0)).min(CONTROLLER_LIST_MAX);
        let list: Vec<u16> = (0..n).map(|i| rd_u16(&data, 2 + 2 * i)).collect();
        // A private namespace is attached to one controller at most.
        if attach && private && n > 1 {
            return Status::NS_IS_PRIVATE.into();
        }
        // The subsystem has one controller: the list is exactly it.
        if list != [CONTROLLER_ID] {
            return Status::CONTROLLER_LIST_INVALID.into();
        }
        if attach && attached {
            return Status::NS_ALREADY_ATTACHED.into();
        }
        if !attach && !attached {
            return Status::NS_NOT_ATTACHED.into();
        }
        if let Some(target) = self.ns.get_mut(nsid) {
            target.attached = attach;
        }
        let change = if attach {
            NsChange::Attached
        } else {
            NsChange::Detached
        };
        self.namespace_changed(nsid, change, host);
        Outcome::ok()
    }
}
