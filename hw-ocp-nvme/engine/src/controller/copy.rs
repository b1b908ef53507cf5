// SPDX-License-Identifier: GPL-2.0-or-later
//! Copy (NVM Command Set 1.0, 3.2.2; OCP NVMe-OPT-16): Source Range
//! Entries in Descriptor Format 0h, checked against the limits Identify
//! Namespace reports (MSRC, MSSRL, MCL), then copied one range at a time
//! through a buffer of the host's ([`IoKind::ReadBuffered`], then
//! [`IoKind::WriteBuffered`]).

use std::collections::VecDeque;

use crate::controller::nvm::check_nsid;
use crate::controller::{Accounting, Controller, CopyState, IoOwner, Outcome, PostAction, Request};
use crate::spec::cmd::{CopyCmd, CopyRange, COPY_RANGE_SIZE};
use crate::spec::status::Status;
use crate::traits::{Host, IoKind};
use crate::transfer;

/// Maximum Source Range Count (0's based): 128 ranges.
pub const MSRC: u8 = 127;

impl Controller {
    /// Maximum Copy Length in logical blocks: one MDTS worth, so that a
    /// range's buffer never exceeds what a Read may move.
    pub(crate) fn copy_mcl(&self) -> u32 {
        u32::try_from(self.cfg.max_transfer_bytes() >> self.ns.lbads()).unwrap_or(u32::MAX)
    }

    /// Maximum Single Source Range Length in logical blocks: the whole
    /// Maximum Copy Length, within the field's 16 bits.
    pub(crate) fn copy_mssrl(&self) -> u16 {
        u16::try_from(self.copy_mcl()).unwrap_or(u16::MAX)
    }

    /// Copy: every check before any data moves. An unsupported Descriptor
    /// Format is Invalid Field in Command (only format 0h is in OCFS; with
    /// no protection information the Invalid Format case of formats 1h/3h
    /// cannot arise); more ranges than MSRC + 1, a range longer than
    /// MSSRL or a total longer than MCL is Command Size Limit Exceeded; a
    /// source or destination beyond the namespace is LBA Out of Range.
    pub(super) fn copy(
        &mut self,
        req: &Request,
        cmd: CopyCmd,
        host: &mut Host,
    ) -> Result<Outcome, Status> {
        let sqe = &req.sqe;
        check_nsid(sqe.nsid())?;
        if cmd.desfmt != 0 {
            return Err(Status::INVALID_FIELD);
        }
        if cmd.nr > u16::from(MSRC) + 1 {
            return Err(Status::COMMAND_SIZE_LIMIT_EXCEEDED);
        }
        let len = usize::from(cmd.nr) * COPY_RANGE_SIZE;
        let t = transfer::resolve(host.mem, sqe, len as u64, true, false)?;
        let mut buf = vec![0u8; len];
        t.read_from_guest(host.mem, &mut buf)?;
        let ranges: Vec<CopyRange> = buf
            .chunks_exact(COPY_RANGE_SIZE)
            .map(CopyRange::parse)
            .collect();
        let mut total = 0u64;
        for r in &ranges {
            if r.nlb > u32::from(self.copy_mssrl()) {
                return Err(Status::COMMAND_SIZE_LIMIT_EXCEEDED);
            }
            total += u64::from(r.nlb);
        }
        if total > u64::from(self.copy_mcl()) {
            return Err(Status::COMMAND_SIZE_LIMIT_EXCEEDED);
        }
        let mut sources = VecDeque::with_capacity(ranges.len());
        for r in &ranges {
            sources.push_back(self.block_range(r.slba, r.nlb)?);
        }
        // The total is at most MCL, which fits the 32-bit block count.
        let (dest, bytes) = self.block_range(cmd.sdlba, total as u32)?;
        self.writable()?;
        let fua = cmd.fua || !self.feat.vwc || self.write_through();
        let ci = self
            .begin_cmd(req, Accounting::Write { bytes }, PostAction::None, host)
            .ok_or(Status::INTERNAL_ERROR)?;
        if let Some(c) = self.cmds[ci as usize].as_mut() {
            c.copy = Some(CopyState {
                sources,
                done: 0,
                dest,
                fua,
                writing: false,
            });
        }
        let status = if self.copy_read_next(ci, host) {
            Status::SUCCESS
        } else {
            Status::INTERNAL_ERROR
        };
        self.cmd_issued(ci, status, host);
        Ok(Outcome::Pending)
    }

    /// A request of Copy `ci` completed successfully or not (`data`: what a
    /// source read returned): write the range just read, or read the next
    /// one. After a failure nothing more is issued and the command
    /// finishes with the failed request's status.
    pub(crate) fn copy_next(&mut self, ci: u16, data: &[u8], host: &mut Host) {
        let Some(c) = self.cmds[ci as usize].as_mut() else {
            return;
        };
        if !c.status.is_success() {
            return;
        }
        let Some(k) = c.copy.as_mut() else {
            return;
        };
        let issued = if k.writing {
            k.writing = false;
            k.done = k.done.saturating_add(1);
            self.copy_read_next(ci, host)
        } else {
            k.writing = true;
            let (fua, dest) = (k.fua, k.dest);
            k.dest = k.dest.saturating_add(data.len() as u64);
            self.submit_buffered_write(host, IoOwner::Cmd(ci), fua, dest, data.to_vec())
        };
        if !issued {
            if let Some(failed) = self.cmds[ci as usize].as_mut() {
                failed.status = Status::INTERNAL_ERROR;
            }
        }
    }

    /// Read Copy `ci`'s next source range; true when there is none left or
    /// the read was issued.
    fn copy_read_next(&mut self, ci: u16, host: &mut Host) -> bool {
        let next = self.cmds[ci as usize]
            .as_mut()
            .and_then(|c| c.copy.as_mut())
            .and_then(|k| k.sources.pop_front());
        match next {
            Some((off, len)) => self.submit(
                host,
                IoOwner::Cmd(ci),
                IoKind::ReadBuffered,
                off,
                len,
                Vec::new(),
            ),
            None => true,
        }
    }

    /// Dword 0 of a finished Copy: on failure the number of the lowest
    /// source range not copied (NVM Command Set 1.0, 3.2.2.1).
    pub(crate) fn copy_dw0(c: &crate::controller::CmdState) -> u32 {
        match &c.copy {
            Some(k) if !c.status.is_success() => u32::from(k.done),
            _ => 0,
        }
    }
}
