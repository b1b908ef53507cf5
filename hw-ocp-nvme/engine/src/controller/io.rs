// SPDX-License-Identifier: GPL-2.0-or-later
//! Storage requests: tokens, in-flight tables, chunked data-less requests,
//! completions from the backend and command accounting.

#[allow(clippy::wildcard_imports)]
use super::*;

impl Controller {
    /// Register a command that will complete through storage requests.
    pub(crate) fn begin_cmd(
        &mut self,
        req: &Request,
        acct: Accounting,
        post: PostAction,
        host: &Host,
    ) -> Option<u16> {
        let idx = self.free_cmds.pop()?;
        self.cmds[idx as usize] = Some(CmdState {
            req: *req,
            pending: 0,
            status: Status::SUCCESS,
            acct,
            post,
            backlog: VecDeque::new(),
            flush_after: false,
            expected: None,
            parts: Vec::new(),
            copy: None,
        });
        if !req.is_admin() {
            if self.io_outstanding == 0 {
                self.busy_since = Some(self.now(host));
            }
            self.io_outstanding += 1;
        }
        Some(idx)
    }

    /// Issue one storage request; false if no request slot was free.
    pub(crate) fn submit(
        &mut self,
        host: &mut Host,
        owner: IoOwner,
        kind: IoKind,
        offset: u64,
        len: u64,
        sg: Vec<GuestRange>,
    ) -> bool {
        self.submit_slot(host, owner, kind, offset, len, sg, Vec::new())
            .is_some()
    }

    /// Issue an [`IoKind::WriteBuffered`] request of `data` at `offset`;
    /// false if no request slot was free.
    pub(crate) fn submit_buffered_write(
        &mut self,
        host: &mut Host,
        owner: IoOwner,
        fua: bool,
        offset: u64,
        data: Vec<u8>,
    ) -> bool {
        let len = data.len() as u64;
        let kind = IoKind::WriteBuffered { fua };
        self.submit_slot(host, owner, kind, offset, len, Vec::new(), data)
            .is_some()
    }

    /// Issue the request of command `ci` whose data is the part of the
    /// Compare's expected data at byte `pos`; false if no slot was free.
    pub(crate) fn submit_part(
        &mut self,
        host: &mut Host,
        ci: u16,
        pos: u64,
        kind: IoKind,
        offset: u64,
        len: u64,
    ) -> bool {
        let Some(slot) = self.submit_slot(
            host,
            IoOwner::Cmd(ci),
            kind,
            offset,
            len,
            Vec::new(),
            Vec::new(),
        ) else {
            return false;
        };
        if let Some(c) = self.cmds[ci as usize].as_mut() {
            c.parts.push((slot, pos));
        }
        true
    }

    /// Issue one storage request (`data`: what a buffered write writes);
    /// its slot, or `None` if none was free.
    #[allow(clippy::too_many_arguments)]
    fn submit_slot(
        &mut self,
        host: &mut Host,
        owner: IoOwner,
        kind: IoKind,
        offset: u64,
        len: u64,
        sg: Vec<GuestRange>,
        data: Vec<u8>,
    ) -> Option<u16> {
        let slot = self.free_io_slots.pop()?;
        self.io_owners[slot as usize] = Some(owner);
        if let IoOwner::Cmd(ci) = owner {
            if let Some(c) = self.cmds[ci as usize].as_mut() {
                c.pending += 1;
            }
        }
        let token: IoToken = u32::from(self.epoch) << 16 | u32::from(slot);
        let req = IoRequest {
            token,
            kind,
            offset,
            len,
            sg,
            data,
        };
        if self.quiesced {
            self.parked.push(req);
        } else {
            host.storage.submit(req);
        }
        Some(slot)
    }

    /// Compare: the medium read back by the command's
    /// [`IoKind::ReadBuffered`] request must equal `data`.
    pub(crate) fn expect_data(&mut self, ci: u16, data: Vec<u8>) {
        if let Some(c) = self.cmds[ci as usize].as_mut() {
            c.expected = Some(data);
        }
    }

    /// A command registered with `begin_cmd` issued all its requests (or
    /// failed to): finish it now if nothing is pending.
    pub(crate) fn cmd_issued(&mut self, ci: u16, status: Status, host: &mut Host) {
        if let Some(c) = self.cmds[ci as usize].as_mut() {
            if !status.is_success() && c.status.is_success() {
                c.status = status;
            }
        }
        self.pump(ci, host);
    }

    /// Queue a data-less request (write zeroes, discard) of a command; it is
    /// issued in chunks by [`Self::pump`].
    pub(crate) fn queue_dataless(&mut self, ci: u16, kind: IoKind, offset: u64, len: u64) {
        if let Some(c) = self.cmds[ci as usize].as_mut() {
            c.backlog.push_back((kind, offset, len));
        }
    }

    /// Keep up to [`ZERO_WINDOW`] backlog chunks in flight; finish the
    /// command when nothing is left (or after an error, once in-flight
    /// requests are back).
    pub(super) fn pump(&mut self, ci: u16, host: &mut Host) {
        loop {
            let Some(c) = self.cmds[ci as usize].as_mut() else {
                return;
            };
            if !c.status.is_success() {
                c.backlog.clear();
            }
            if c.pending >= ZERO_WINDOW {
                return;
            }
            let Some((kind, off, len)) = c.backlog.pop_front() else {
                break;
            };
            let piece = len.min(ZERO_CHUNK);
            if piece < len {
                c.backlog.push_front((kind, off + piece, len - piece));
            }
            if !self.submit(host, IoOwner::Cmd(ci), kind, off, piece, Vec::new()) {
                if let Some(failed) = self.cmds[ci as usize].as_mut() {
                    failed.status = Status::INTERNAL_ERROR;
                    failed.backlog.clear();
                }
                break;
            }
        }
        let Some(c) = self.cmds[ci as usize].as_mut() else {
            return;
        };
        if c.pending != 0 {
            return;
        }
        if c.flush_after && c.status.is_success() {
            // Force Unit Access on a data-less write: flush once it is done.
            c.flush_after = false;
            if self.submit(host, IoOwner::Cmd(ci), IoKind::Flush, 0, 0, Vec::new()) {
                return;
            }
        }
        self.finish_cmd(ci, host);
    }

    /// Flush the backend after the command's requests (FUA without data).
    pub(crate) fn flush_after(&mut self, ci: u16) {
        if let Some(c) = self.cmds[ci as usize].as_mut() {
            c.flush_after = true;
        }
    }

    /// A storage request finished. Unknown or stale tokens are ignored.
    pub fn complete_io(&mut self, token: IoToken, result: IoResult, host: &mut Host) {
        self.complete_io_data(token, result, &[], host);
    }

    /// A storage request finished with the bytes an
    /// [`IoKind::ReadBuffered`] request read (empty for other kinds).
    /// Unknown or stale tokens are ignored.
    pub fn complete_io_data(
        &mut self,
        token: IoToken,
        result: IoResult,
        data: &[u8],
        host: &mut Host,
    ) {
        if (token >> 16) as u16 != self.epoch {
            return;
        }
        let slot = (token & 0xffff) as usize;
        let Some(owner) = self
            .io_owners
            .get_mut(slot)
            .and_then(std::option::Option::take)
        else {
            return;
        };
        self.free_io_slots.push(slot as u16);
        match owner {
            IoOwner::Shutdown => self.finish_shutdown(true),
            IoOwner::Sanitize(offset) => {
                self.sanitize_chunk_done(offset, result == IoResult::Ok, host);
            }
            IoOwner::Cmd(ci) => {
                let Some(c) = self.cmds[ci as usize].as_mut() else {
                    return;
                };
                c.pending = c.pending.saturating_sub(1);
                if let IoResult::Error(e) = result {
                    if c.status.is_success() {
                        // A Copy's source reads fail as reads.
                        let acct = match &c.copy {
                            Some(k) if k.reading() => Accounting::Read { bytes: 0 },
                            _ => c.acct,
                        };
                        c.status = nvm::io_error_status(e, acct);
                    }
                } else if let Some(expected) = &c.expected {
                    let pos = c
                        .parts
                        .iter()
                        .find(|(s, _)| usize::from(*s) == slot)
                        .map_or(0, |&(_, p)| p as usize);
                    let want = pos
                        .checked_add(data.len())
                        .and_then(|end| expected.get(pos..end));
                    if want != Some(data) && c.status.is_success() {
                        c.status = Status::COMPARE_FAILURE;
                    }
                }
                if self.cmds[ci as usize]
                    .as_ref()
                    .is_some_and(|cmd| cmd.copy.is_some())
                {
                    self.copy_next(ci, data, host);
                }
                self.pump(ci, host);
            }
        }
        if self.sanitize.op.is_some() {
            // A request slot came free.
            self.sanitize_pump(host);
        }
        self.kick(host);
    }

    pub(super) fn account_busy_end(&mut self, now: u64) {
        if let Some(since) = self.busy_since.take() {
            self.counters.busy_ns = self
                .counters
                .busy_ns
                .saturating_add(now.saturating_sub(since));
        }
    }

    pub(super) fn finish_cmd(&mut self, ci: u16, host: &mut Host) {
        // What finishing needs, copied out: the entry is dropped in place
        // (not moved out whole).
        let Some(c) = self.cmds[ci as usize].as_ref() else {
            return;
        };
        let (req, status, acct, post, dw0) = (c.req, c.status, c.acct, c.post, Self::copy_dw0(c));
        self.cmds[ci as usize] = None;
        self.free_cmds.push(ci);
        let now = self.now(host);
        if !req.is_admin() {
            self.io_outstanding = self.io_outstanding.saturating_sub(1);
            if self.io_outstanding == 0 {
                self.account_busy_end(now);
            }
        }
        if let PostAction::Format { nsid, lbaf } = post {
            self.finish_format(nsid, lbaf, status, host);
        }
        if status.is_success() {
            nvm::account(&mut self.counters, acct);
            if matches!(
                acct,
                Accounting::Write { .. } | Accounting::WriteZeroes { .. }
            ) {
                self.media_written();
            }
        }
        let class = match acct {
            Accounting::Read { .. } => LatencyClass::Read,
            Accounting::Write { .. } | Accounting::WriteZeroes { .. } => LatencyClass::Write,
            Accounting::Deallocate { .. } => LatencyClass::Deallocate,
            _ => LatencyClass::Other,
        };
        let latency = now.saturating_sub(req.submit_ns);
        // OCP SMART-42: a Limited Retry read or write beyond TLER (100 ms units).
        let limited_retry = req.sqe.dw[12] & (1 << 31) != 0;
        let tler_ns = u64::from(self.feat.error_recovery.tler) * 100_000_000;
        if limited_retry
            && tler_ns != 0
            && latency > tler_ns
            && matches!(class, LatencyClass::Read | LatencyClass::Write)
        {
            self.counters.tler_timeouts = self.counters.tler_timeouts.saturating_add(1);
        }
        self.counters.record_latency(class, latency, now);
        self.command_completed(class, latency, now);
        self.complete_request(&req, status, dw0, host);
    }
}
