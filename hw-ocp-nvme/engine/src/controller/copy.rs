// SPDX-License-Identifier: GPL-2.0-or-later
//! Copy (NVM Command Set 1.0, 3.2.2; OCP NVMe-OPT-16): Source Range
//! Entries in Descriptor Format 0h, checked against the limits Identify
//! Namespace reports (MSRC, MSSRL, MCL), then copied one range at a time
//! through a buffer of the host's ([`IoKind::ReadBuffered`], then
//! [`IoKind::WriteBuffered`]), each range cut where the namespace's extents
//! end.

use std::collections::VecDeque;

use crate::controller::{
    Accounting, Controller, CopyState, CopyStep, IoOwner, Outcome, PostAction, Request,
};
use crate::spec::cmd::{CopyCmd, CopyRange, COPY_RANGE_SIZE};
use crate::spec::status::Status;
use crate::traits::{Host, IoKind};
use crate::transfer;

/// Maximum Source Range Count (0's based): 128 ranges.
pub const MSRC: u8 = 127;

impl Controller {
    /// Maximum Copy Length in logical blocks of `lba_size` bytes: one MDTS
    /// worth, so that a range's buffer never exceeds what a Read may move.
    pub(crate) fn copy_mcl(&self, lba_size: u64) -> u32 {
        u32::try_from(self.cfg.max_transfer_bytes() / lba_size.max(1)).unwrap_or(u32::MAX)
    }

    /// Maximum Single Source Range Length in logical blocks: the whole
    /// Maximum Copy Length, within the field's 16 bits.
    pub(crate) fn copy_mssrl(&self, lba_size: u64) -> u16 {
        u16::try_from(self.copy_mcl(lba_size)).unwrap_or(u16::MAX)
    }

    /// Copy: every check before any data moves. An inactive namespace is
    /// Invalid Namespace or Format; an unsupported Descriptor Format is
    /// Invalid Field in Command (only format 0h is in OCFS; with no
    /// protection information the Invalid Format case of formats 1h/3h
    /// cannot arise); more ranges than MSRC + 1, a range longer than
    /// MSSRL or a total longer than MCL is Command Size Limit Exceeded; a
    /// source or destination beyond the namespace is LBA Out of Range; a
    /// source block Write Uncorrectable marked is Unrecovered Read Error.
    pub(super) fn copy(
        &mut self,
        req: &Request,
        cmd: CopyCmd,
        host: &mut Host,
    ) -> Result<Outcome, Status> {
        let sqe = &req.sqe;
        let nsid = sqe.nsid();
        let lba_size = self.io_ns(nsid)?.lba_size();
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
            if r.nlb > u32::from(self.copy_mssrl(lba_size)) {
                return Err(Status::COMMAND_SIZE_LIMIT_EXCEEDED);
            }
            total += u64::from(r.nlb);
        }
        if total > u64::from(self.copy_mcl(lba_size)) {
            return Err(Status::COMMAND_SIZE_LIMIT_EXCEEDED);
        }
        let mut sources = Vec::with_capacity(ranges.len());
        for r in &ranges {
            sources.push(self.block_range(nsid, r.slba, r.nlb)?);
        }
        // The total is at most MCL, which fits the 32-bit block count.
        let (dest, bytes) = self.block_range(nsid, cmd.sdlba, total as u32)?;
        for r in &ranges {
            self.readable(nsid, r.slba, r.nlb)?;
        }
        self.writable()?;
        let steps = self.copy_steps(nsid, &sources, dest)?;
        let fua = cmd.fua || !self.feat.vwc || self.write_through();
        self.blocks_changed(nsid, cmd.sdlba, total, false);
        let ci = self
            .begin_cmd(req, Accounting::Write { bytes }, PostAction::None, host)
            .ok_or(Status::INTERNAL_ERROR)?;
        if let Some(c) = self.cmds[ci as usize].as_mut() {
            c.copy = Some(CopyState {
                steps,
                buffer: Vec::new(),
                done: 0,
                fua,
            });
        }
        let status = if self.copy_issue(ci, host) {
            Status::SUCCESS
        } else {
            Status::INTERNAL_ERROR
        };
        self.cmd_issued(ci, status, host);
        Ok(Outcome::Pending)
    }

    /// The storage requests of a Copy of namespace `nsid`: per source range
    /// (namespace byte offset and length) its pieces on the drive read,
    /// then the matching destination pieces from `dest` on written.
    fn copy_steps(
        &self,
        nsid: u32,
        sources: &[(u64, u64)],
        dest: u64,
    ) -> Result<VecDeque<CopyStep>, Status> {
        let ns = self.io_ns(nsid)?;
        let mut steps = VecDeque::new();
        let mut at = dest;
        for &(off, range_len) in sources {
            for (offset, len) in ns.map(off, range_len) {
                steps.push_back(CopyStep {
                    write: false,
                    offset,
                    len,
                    last: false,
                });
            }
            for (offset, len) in ns.map(at, range_len) {
                steps.push_back(CopyStep {
                    write: true,
                    offset,
                    len,
                    last: false,
                });
            }
            if let Some(s) = steps.back_mut() {
                s.last = true;
            }
            at += range_len;
        }
        Ok(steps)
    }

    /// A request of Copy `ci` completed successfully (`data`: what a source
    /// read returned): keep what it read, count a finished range, issue the
    /// next request. After a failure nothing more is issued and the
    /// command finishes with the failed request's status.
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
        match k.steps.pop_front() {
            Some(s) if !s.write => k.buffer.extend_from_slice(data),
            Some(s) if s.last => k.done = k.done.saturating_add(1),
            _ => {}
        }
        if !self.copy_issue(ci, host) {
            if let Some(failed) = self.cmds[ci as usize].as_mut() {
                failed.status = Status::INTERNAL_ERROR;
            }
        }
    }

    /// Issue Copy `ci`'s next request; true when there is none left or it
    /// was issued.
    fn copy_issue(&mut self, ci: u16, host: &mut Host) -> bool {
        let Some(k) = self.cmds[ci as usize]
            .as_mut()
            .and_then(|c| c.copy.as_mut())
        else {
            return true;
        };
        let Some(step) = k.steps.front().copied() else {
            return true;
        };
        let owner = IoOwner::Cmd(ci);
        if step.write {
            let n = usize::try_from(step.len)
                .unwrap_or(usize::MAX)
                .min(k.buffer.len());
            let data: Vec<u8> = k.buffer.drain(..n).collect();
            let fua = k.fua;
            self.submit_buffered_write(host, owner, fua, step.offset, data)
        } else {
            self.submit(
                host,
                owner,
                IoKind::ReadBuffered,
                step.offset,
                step.len,
                Vec::new(),
            )
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
