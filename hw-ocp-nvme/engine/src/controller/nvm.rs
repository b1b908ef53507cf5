// SPDX-License-Identifier: GPL-2.0-or-later
//! NVM command set I/O commands (NVM Command Set Specification 1.0, 3):
//! validation, then storage requests over the resolved scatter list.

use crate::controller::{Accounting, Controller, IoOwner, Outcome, PostAction, Request};
use crate::counters::{Counters, LatencyClass};
use crate::namespace::Namespace;
use crate::spec::cmd::{
    DatasetManagementCmd, DsmRange, NvmCmd, Psdt, RwFields, Sqe, VerifyCmd, WriteZeroesCmd,
    DSM_RANGE_SIZE,
};
use crate::spec::ids::nvm_op;
use crate::spec::status::Status;
use crate::traits::{GuestRange, Host, IoError, IoKind};
use crate::transfer::{self, Transfer};

/// One storage request to be: kind, byte offset, length, scatter list.
type Piece = (IoKind, u64, u64, Vec<GuestRange>);

/// Map a backend error to the completion status.
pub fn io_error_status(e: IoError, acct: Accounting) -> Status {
    match e {
        IoError::MediaError => match acct {
            Accounting::Read { .. } => Status::UNRECOVERED_READ_ERROR,
            Accounting::Flush => Status::INTERNAL_ERROR,
            _ => Status::WRITE_FAULT,
        },
        IoError::NoSpace => Status::CAPACITY_EXCEEDED,
        IoError::ReadOnly => Status::NAMESPACE_WRITE_PROTECTED,
        IoError::Dma => Status::DATA_TRANSFER_ERROR,
        IoError::Other => Status::INTERNAL_ERROR,
    }
}

/// SMART accounting of a successful command.
pub fn account(k: &mut Counters, acct: Accounting) {
    match acct {
        Accounting::Read { bytes } => {
            k.bytes_read += u128::from(bytes);
            k.host_read_commands += 1;
        }
        Accounting::Write { bytes } => {
            k.bytes_written += u128::from(bytes);
            k.host_write_commands += 1;
        }
        Accounting::WriteZeroes { deallocated } => {
            k.host_write_commands += 1;
            k.deallocated_blocks += deallocated;
        }
        Accounting::Flush => k.flush_commands += 1,
        Accounting::Deallocate { blocks } => {
            k.deallocate_commands += 1;
            k.deallocated_blocks += blocks;
        }
        Accounting::Admin => {}
    }
}

impl Controller {
    /// Latency class of a command completed without storage.
    /// EOL/PLP failure mode write-through (OCP FID C2h): writes behave as FUA.
    pub(super) fn write_through(&self) -> bool {
        self.ocp.write_policy() == crate::ocp::WritePolicy::WriteThrough
    }

    /// The active namespace an I/O command names: an inactive or invalid
    /// NSID is Invalid Namespace or Format (NVMe 2.0 Base, 6.1).
    pub(super) fn io_ns(&self, nsid: u32) -> Result<&Namespace, Status> {
        self.ns.active(nsid).ok_or(Status::INVALID_NAMESPACE)
    }

    /// Validate a block range of namespace `nsid` and return (byte offset,
    /// byte length) inside the namespace.
    pub(super) fn block_range(&self, nsid: u32, slba: u64, nlb: u32) -> Result<(u64, u64), Status> {
        let ns = self.io_ns(nsid)?;
        if !ns.range_ok(slba, u64::from(nlb)) {
            return Err(Status::LBA_OUT_OF_RANGE);
        }
        let s = ns.lbads();
        Ok((slba << s, u64::from(nlb) << s))
    }

    /// A read of blocks Write Uncorrectable marked fails (NVM Command Set
    /// 1.0, 3.2.5): Unrecovered Read Error.
    pub(super) fn readable(&self, nsid: u32, slba: u64, nlb: u32) -> Result<(), Status> {
        let ns = self.io_ns(nsid)?;
        if ns.uncorrectable.intersects(slba, u64::from(nlb)) {
            return Err(Status::UNRECOVERED_READ_ERROR);
        }
        Ok(())
    }

    /// Blocks were written (`deallocated` false) or deallocated: NUSE and
    /// the uncorrectable blocks follow. Healing uncorrectable blocks is
    /// kept at once (state store); NUSE goes with the next record.
    pub(super) fn blocks_changed(&mut self, nsid: u32, slba: u64, nlb: u64, deallocated: bool) {
        let Some(ns) = self.ns.active_mut(nsid) else {
            return;
        };
        let healed = ns.uncorrectable.intersects(slba, nlb);
        if deallocated {
            ns.deallocated(slba, nlb);
        } else {
            ns.wrote(slba, nlb);
        }
        if healed {
            self.persist_request = true;
        }
    }

    /// The storage requests of namespace `nsid`'s byte ranges: each range
    /// is split where the namespace's extents end (its scatter list with
    /// it), so one command may become several requests, completed once.
    pub(super) fn to_drive(&self, nsid: u32, mut ios: Vec<Piece>) -> Result<Vec<Piece>, Status> {
        let ns = self.io_ns(nsid)?;
        if let [(_, off, len, _)] = ios.as_mut_slice() {
            // One range inside one extent (most commands): no split.
            if let Some(o) = ns.map_contiguous(*off, *len) {
                *off = o;
                return Ok(ios);
            }
        }
        let mut out = Vec::new();
        for (kind, off, len, sg) in ios {
            let pieces = ns.map(off, len);
            if sg.is_empty() {
                out.extend(pieces.into_iter().map(|(o, l)| (kind, o, l, Vec::new())));
                continue;
            }
            let mut rest = sg;
            for (o, l) in pieces {
                let tail = split_sg(&mut rest, l);
                out.push((kind, o, l, std::mem::replace(&mut rest, tail)));
            }
        }
        if out.len() > crate::controller::MAX_REQUESTS_PER_CMD {
            return Err(Status::INVALID_NUM_SGL_DESCRIPTORS);
        }
        Ok(out)
    }

    pub(super) fn writable(&self) -> Result<(), Status> {
        if self.cfg.read_only {
            Err(Status::NAMESPACE_WRITE_PROTECTED)
        } else {
            Ok(())
        }
    }

    pub(crate) fn execute_nvm(&mut self, req: &Request, host: &mut Host) -> Outcome {
        match self.run_nvm(req, host) {
            Ok(o) => o,
            Err(s) => s.into(),
        }
    }

    fn run_nvm(&mut self, req: &Request, host: &mut Host) -> Result<Outcome, Status> {
        let sqe = &req.sqe;
        self.check_fuse(req)?;
        if sqe.psdt() == Psdt::Reserved {
            return Err(Status::INVALID_FIELD);
        }
        let cmd = NvmCmd::parse(sqe);
        if let NvmCmd::Unknown { .. } = cmd {
            return Err(Status::INVALID_OPCODE);
        }
        if self.formatting {
            return Err(Status::FORMAT_IN_PROGRESS);
        }
        if !matches!(cmd, NvmCmd::Flush) {
            self.sanitize_io_gate()?;
        }
        match cmd {
            NvmCmd::Flush => {
                if sqe.nsid() != 0xffff_ffff {
                    self.io_ns(sqe.nsid())?;
                }
                if !self.cfg.volatile_write_cache {
                    self.counters.flush_commands += 1;
                    return Ok(Outcome::ok());
                }
                self.issue_io(
                    req,
                    Accounting::Flush,
                    [(IoKind::Flush, 0, 0, Vec::new())],
                    false,
                    host,
                )
            }
            NvmCmd::Read(f) => self.read_write(req, f, false, host),
            NvmCmd::Write(f) => self.read_write(req, f, true, host),
            NvmCmd::Compare(f) => self.compare(req, f, host),
            NvmCmd::WriteZeroes(WriteZeroesCmd {
                slba,
                nlb,
                deac,
                fua,
            }) => {
                let nsid = sqe.nsid();
                let (off, len) = self.block_range(nsid, slba, nlb)?;
                self.writable()?;
                let may_unmap = deac && self.cfg.discard;
                let kind = IoKind::WriteZeroes { may_unmap };
                let deallocated = if may_unmap { u64::from(nlb) } else { 0 };
                let ios = self.to_drive(nsid, vec![(kind, off, len, Vec::new())])?;
                self.blocks_changed(nsid, slba, u64::from(nlb), may_unmap);
                self.issue_io(
                    req,
                    Accounting::WriteZeroes { deallocated },
                    ios,
                    fua && self.cfg.volatile_write_cache,
                    host,
                )
            }
            NvmCmd::DatasetManagement(cmd) => self.dataset_management(req, cmd, host),
            NvmCmd::Verify(VerifyCmd { slba, nlb }) => {
                let nsid = sqe.nsid();
                // Verify Size Limit (Identify CNS 06h VSL) equals MDTS.
                self.data_len(nsid, nlb)?;
                let (off, len) = self.block_range(nsid, slba, nlb)?;
                self.readable(nsid, slba, nlb)?;
                // The medium has no protection information: verifying is
                // reading it back without a transfer to the host. Its blocks
                // count as read (NVMe 2.0 Base, Figure 207, Data Units Read).
                let ios =
                    self.to_drive(nsid, vec![(IoKind::ReadBuffered, off, len, Vec::new())])?;
                self.issue_io(req, Accounting::Read { bytes: len }, ios, false, host)
            }
            NvmCmd::WriteUncorrectable(VerifyCmd { slba, nlb }) => {
                self.write_uncorrectable(sqe.nsid(), slba, nlb)
            }
            NvmCmd::Copy(cmd) => self.copy(req, cmd, host),
            NvmCmd::Unknown { .. } => Err(Status::INVALID_OPCODE),
        }
    }

    /// Register the command and issue its storage requests.
    fn issue_io(
        &mut self,
        req: &Request,
        acct: Accounting,
        ios: impl IntoIterator<Item = Piece>,
        flush_after: bool,
        host: &mut Host,
    ) -> Result<Outcome, Status> {
        let ci = self
            .begin_cmd(req, acct, PostAction::None, host)
            .ok_or(Status::INTERNAL_ERROR)?;
        if flush_after {
            self.flush_after(ci);
        }
        let mut st = Status::SUCCESS;
        for (kind, off, len, sg) in ios {
            if sg.is_empty() && matches!(kind, IoKind::WriteZeroes { .. } | IoKind::Discard) {
                self.queue_dataless(ci, kind, off, len);
            } else if !self.submit(host, IoOwner::Cmd(ci), kind, off, len, sg) {
                st = Status::INTERNAL_ERROR;
                break;
            }
        }
        self.cmd_issued(ci, st, host);
        Ok(Outcome::Pending)
    }

    /// Write Uncorrectable (NVM Command Set 1.0, 3.2.5): the blocks read
    /// back with Unrecovered Read Error until written again (Write, Write
    /// Zeroes, deallocation); they count as allocated. The marks are part
    /// of the drive's state record, kept at once.
    fn write_uncorrectable(&mut self, nsid: u32, slba: u64, nlb: u32) -> Result<Outcome, Status> {
        self.block_range(nsid, slba, nlb)?;
        self.writable()?;
        if let Some(ns) = self.ns.active_mut(nsid) {
            ns.allocated.insert(slba, u64::from(nlb));
            ns.uncorrectable.insert(slba, u64::from(nlb));
        }
        self.persist_request = true;
        self.counters.host_write_commands += 1;
        Ok(Outcome::ok())
    }

    fn data_len(&self, nsid: u32, nlb: u32) -> Result<u64, Status> {
        let len = u64::from(nlb) << self.io_ns(nsid)?.lbads();
        if len > self.cfg.max_transfer_bytes() {
            return Err(Status::INVALID_FIELD);
        }
        Ok(len)
    }

    fn read_write(
        &mut self,
        req: &Request,
        f: RwFields,
        write: bool,
        host: &mut Host,
    ) -> Result<Outcome, Status> {
        let sqe = &req.sqe;
        let nsid = sqe.nsid();
        self.data_len(nsid, f.nlb)?;
        let (off, len) = self.block_range(nsid, f.slba, f.nlb)?;
        if write {
            self.writable()?;
        } else {
            self.readable(nsid, f.slba, f.nlb)?;
        }
        if (off | len) % 4096 != 0 {
            self.counters.unaligned_io += 1;
        }
        let t: Transfer = transfer::resolve(host.mem, sqe, len, true, !write)?;
        let (kind, acct) = if write {
            let fua = f.fua || !self.feat.vwc || self.write_through();
            (IoKind::Write { fua }, Accounting::Write { bytes: len })
        } else {
            (IoKind::Read, Accounting::Read { bytes: len })
        };
        let ios: Vec<Piece> = match (self.io_ns(nsid)?.map_contiguous(off, len), t.one_run()) {
            (Some(drive_off), Ok(sg)) => {
                // One run inside one extent (most commands): no piece list.
                if write {
                    self.blocks_changed(nsid, f.slba, u64::from(f.nlb), false);
                }
                return self.issue_io(req, acct, [(kind, drive_off, len, sg)], false, host);
            }
            (None, Ok(sg)) => vec![(kind, off, len, sg)],
            (_, Err(t)) => t.into_runs_map(|pos, sg| {
                let l = sg.iter().map(|r| r.len).sum();
                (kind, off + pos, l, sg)
            }),
        };
        if ios.len() > crate::controller::MAX_REQUESTS_PER_CMD {
            return Err(Status::INVALID_NUM_SGL_DESCRIPTORS);
        }
        let ios = self.to_drive(nsid, ios)?;
        if write {
            self.blocks_changed(nsid, f.slba, u64::from(f.nlb), false);
        }
        if ios.is_empty() {
            // Everything went to the bit bucket.
            account(&mut self.counters, acct);
            return Ok(Outcome::ok());
        }
        self.issue_io(req, acct, ios, false, host)
    }

    /// Compare (NVMe NVM Command Set 1.0, 3.2.1): the host's data is taken
    /// now, the medium is read asynchronously and compared when it arrives
    /// (Compare Failure on a difference). Its blocks count as read (NVMe 2.0
    /// Base, Figure 207, Data Units Read).
    fn compare(&mut self, req: &Request, f: RwFields, host: &mut Host) -> Result<Outcome, Status> {
        let sqe = &req.sqe;
        let nsid = sqe.nsid();
        self.data_len(nsid, f.nlb)?;
        let (off, len) = self.block_range(nsid, f.slba, f.nlb)?;
        self.readable(nsid, f.slba, f.nlb)?;
        let t = transfer::resolve(host.mem, sqe, len, true, false)?;
        let mut host_data = vec![0u8; len as usize];
        t.read_from_guest(host.mem, &mut host_data)?;
        let pieces = self.to_drive(nsid, vec![(IoKind::ReadBuffered, off, len, Vec::new())])?;
        let ci = self
            .begin_cmd(req, Accounting::Read { bytes: len }, PostAction::None, host)
            .ok_or(Status::INTERNAL_ERROR)?;
        self.expect_data(ci, host_data);
        // Each piece is compared with its part of the host's data.
        let mut status = Status::SUCCESS;
        let mut pos = 0u64;
        for (kind, o, l, _) in pieces {
            if !self.submit_part(host, ci, pos, kind, o, l) {
                status = Status::INTERNAL_ERROR;
                break;
            }
            pos += l;
        }
        self.cmd_issued(ci, status, host);
        Ok(Outcome::Pending)
    }

    fn dataset_management(
        &mut self,
        req: &Request,
        cmd: DatasetManagementCmd,
        host: &mut Host,
    ) -> Result<Outcome, Status> {
        // IDR and IDW are hints about access frequency: nothing to act on.
        let DatasetManagementCmd { nr, ad, .. } = cmd;
        let sqe = &req.sqe;
        let nsid = sqe.nsid();
        self.io_ns(nsid)?;
        let len = nr as usize * DSM_RANGE_SIZE;
        let t = transfer::resolve(host.mem, sqe, len as u64, true, false)?;
        let mut buf = vec![0u8; len];
        t.read_from_guest(host.mem, &mut buf)?;
        if !ad {
            // Read/write hints only: nothing to do.
            return Ok(Outcome::ok());
        }
        let mut ios = Vec::new();
        let mut ranges = Vec::new();
        let mut blocks = 0u64;
        for chunk in buf.chunks_exact(DSM_RANGE_SIZE) {
            let r = DsmRange::parse(chunk);
            if r.nlb == 0 {
                continue;
            }
            let (off, l) = self.block_range(nsid, r.slba, r.nlb)?;
            blocks += u64::from(r.nlb);
            ranges.push((r.slba, u64::from(r.nlb)));
            ios.push((IoKind::WriteZeroes { may_unmap: true }, off, l, Vec::new()));
        }
        self.writable()?;
        if !self.cfg.discard || ios.is_empty() {
            // Deallocation is advisory: without discard, blocks stay allocated.
            self.counters.deallocate_commands += 1;
            return Ok(Outcome::ok());
        }
        let ios = self.to_drive(nsid, ios)?;
        for (slba, nlb) in ranges {
            self.blocks_changed(nsid, slba, nlb, true);
        }
        self.issue_io(req, Accounting::Deallocate { blocks }, ios, false, host)
    }
}

pub fn latency_class(sqe: &Sqe) -> LatencyClass {
    match sqe.opcode() {
        nvm_op::READ | nvm_op::COMPARE | nvm_op::VERIFY => LatencyClass::Read,
        nvm_op::WRITE | nvm_op::WRITE_ZEROES | nvm_op::WRITE_UNCORRECTABLE | nvm_op::COPY => {
            LatencyClass::Write
        }
        nvm_op::DATASET_MANAGEMENT => LatencyClass::Deallocate,
        _ => LatencyClass::Other,
    }
}

/// Cut the first `len` bytes off a scatter list: `sg` keeps them, the
/// rest is returned.
fn split_sg(sg: &mut Vec<GuestRange>, len: u64) -> Vec<GuestRange> {
    let mut taken = 0u64;
    for i in 0..sg.len() {
        let r = sg[i];
        if taken + r.len > len {
            let head = len - taken;
            let mut tail = sg.split_off(i);
            if head > 0 {
                sg.push(GuestRange {
                    addr: r.addr,
                    len: head,
                });
            }
            tail[0] = GuestRange {
                addr: r.addr + head,
                len: r.len - head,
            };
            return tail;
        }
        taken += r.len;
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scatter_lists_split_at_a_byte() {
        let r = |addr, len| GuestRange { addr, len };
        let mut sg = vec![r(0x1000, 512), r(0x8000, 1024)];
        let tail = split_sg(&mut sg, 1024);
        assert_eq!(sg, vec![r(0x1000, 512), r(0x8000, 512)]);
        assert_eq!(tail, vec![r(0x8200, 512)]);
        let mut whole = vec![r(0x1000, 512), r(0x8000, 1024)];
        let rest = split_sg(&mut whole, 512);
        assert_eq!(whole, vec![r(0x1000, 512)]);
        assert_eq!(rest, vec![r(0x8000, 1024)]);
    }
}
