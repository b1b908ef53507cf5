// SPDX-License-Identifier: GPL-2.0-or-later
//! Command and Feature Lockdown (NVMe 2.0 Base, 5.15 Lockdown command,
//! 8.4 Command and Feature Lockdown, 5.16.1.20 Command and Feature Lockdown
//! log page; OCP NVMe-AD-14 to -16, STD-LOG-14).
//!
//! The host prohibits (or allows again) an admin command opcode or a Set
//! Features feature identifier on the in-band interface (the admin
//! submission queue); a prohibited command completes with Command
//! Prohibited by Command and Feature Lockdown. Every supported admin
//! command can be prohibited, the Lockdown command itself included
//! (NVMe-AD-15), and every supported feature (NVMe-AD-16). The drive has
//! no out-of-band management interface (OCP C4h: no OOB management), so
//! the interface "management interface only" is refused. Prohibitions are
//! kept across resets and power cycles.

use crate::controller::admin::{features, log, uuid_index_ok};
use crate::controller::{Controller, Outcome};
use crate::spec::cmd::LockdownCmd;
use crate::spec::ids::{admin_op, fid};
use crate::spec::status::Status;
use crate::wire::LeWriter;

/// Scope (SCP): admin command opcodes.
pub const SCOPE_ADMIN: u8 = 0;
/// Scope (SCP): Set Features feature identifiers.
pub const SCOPE_FEATURE: u8 = 2;
/// Interface (IFC): the admin submission queue only.
const IFC_ADMIN_SQ: u8 = 0b00;
/// Interface (IFC): the admin submission queue and the management interface.
const IFC_BOTH: u8 = 0b01;
/// Contents selector of log 14h: the identifiers that may be prohibited,
/// and those prohibited.
const CONTENTS_SUPPORTED: u8 = 0;
const CONTENTS_PROHIBITED: u8 = 1;
/// Size of the log page (Figure 262).
const LOCKDOWN_LOG_SIZE: usize = 512;

/// The prohibited opcodes and feature identifiers, one bit each.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LockdownState {
    pub admin: [u64; 4],
    pub features: [u64; 4],
}

crate::persist::persist_struct!(LockdownState { admin, features });

fn bit(map: &[u64; 4], id: u8) -> bool {
    map[usize::from(id / 64)] >> (id % 64) & 1 != 0
}

fn set_bit(map: &mut [u64; 4], id: u8, on: bool) {
    let w = &mut map[usize::from(id / 64)];
    if on {
        *w |= 1 << (id % 64);
    } else {
        *w &= !(1 << (id % 64));
    }
}

impl LockdownState {
    /// Whether an admin command with this opcode (and feature identifier,
    /// for Set Features) is prohibited on the admin submission queue.
    pub fn prohibits(&self, opcode: u8, set_feature: Option<u8>) -> bool {
        bit(&self.admin, opcode) || set_feature.is_some_and(|f| bit(&self.features, f))
    }
}

impl Controller {
    /// Admin opcodes and feature identifiers the Lockdown command accepts.
    fn lockdown_supported(&self, scope: u8) -> Vec<u8> {
        match scope {
            SCOPE_ADMIN => log::ADMIN_EFFECTS.iter().map(|&(op, _)| op).collect(),
            _ => {
                let mut ids: Vec<u8> = features::SUPPORTED_FIDS
                    .iter()
                    .copied()
                    .filter(|&f| f != fid::VOLATILE_WRITE_CACHE || self.cfg.volatile_write_cache)
                    .collect();
                ids.extend(
                    crate::ocp::FEATURE_IDS
                        .iter()
                        .copied()
                        .filter(|&f| self.ocp.feature_supported(f)),
                );
                ids
            }
        }
    }

    /// Lockdown (NVMe 2.0 Base, 5.15).
    pub(crate) fn lockdown(&mut self, cmd: LockdownCmd) -> Outcome {
        let LockdownCmd {
            scp,
            prhbt,
            ifc,
            ofi,
            uuid,
        } = cmd;
        if !uuid_index_ok(uuid) {
            return Status::INVALID_FIELD.into();
        }
        // No management interface: only the in-band scopes and interfaces.
        if !matches!(ifc, IFC_ADMIN_SQ | IFC_BOTH) {
            return Status::INVALID_FIELD.into();
        }
        if !matches!(scp, SCOPE_ADMIN | SCOPE_FEATURE)
            || !self.lockdown_supported(scp).contains(&ofi)
        {
            return Status::INVALID_FIELD.into();
        }
        let map = if scp == SCOPE_ADMIN {
            &mut self.lockdown.admin
        } else {
            &mut self.lockdown.features
        };
        set_bit(map, ofi, prhbt);
        self.persist_request = true;
        Outcome::ok()
    }

    /// The status of an admin command Lockdown prohibits.
    pub(crate) fn lockdown_gate(&self, opcode: u8, cdw10: u32) -> Option<Status> {
        let set_feature = (opcode == admin_op::SET_FEATURES).then_some(cdw10 as u8);
        self.lockdown
            .prohibits(opcode, set_feature)
            .then_some(Status::COMMAND_PROHIBITED_BY_LOCKDOWN)
    }

    /// Command and Feature Lockdown log page (Figure 262): LSP bits 3:0
    /// select the scope, bits 5:4 the contents (00b identifiers that may be
    /// prohibited, 01b those prohibited).
    pub(crate) fn lockdown_log(&self, lsp: u8) -> Result<Vec<u8>, Status> {
        let scope = lsp & 0xf;
        let contents = lsp >> 4 & 0x3;
        if !matches!(scope, SCOPE_ADMIN | SCOPE_FEATURE)
            || !matches!(contents, CONTENTS_SUPPORTED | CONTENTS_PROHIBITED)
            || lsp >> 6 != 0
        {
            return Err(Status::INVALID_FIELD);
        }
        let mut ids = self.lockdown_supported(scope);
        if contents == CONTENTS_PROHIBITED {
            let map = if scope == SCOPE_ADMIN {
                &self.lockdown.admin
            } else {
                &self.lockdown.features
            };
            ids.retain(|&id| bit(map, id));
        }
        let mut w = LeWriter::page::<LOCKDOWN_LOG_SIZE>();
        w.u8(0, scope | contents << 4)
            .u8(3, u8::try_from(ids.len()).unwrap_or(u8::MAX))
            .bytes(4, &ids);
        Ok(w.finish())
    }
}
