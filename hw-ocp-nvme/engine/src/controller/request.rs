// SPDX-License-Identifier: GPL-2.0-or-later
//! One command from fetch to completion: the [`Request`] (what QEMU's C
//! `NvmeRequest` carries) and what executing it yields.

use std::collections::VecDeque;

use crate::spec::cmd::Sqe;
use crate::spec::status::Status;
use crate::traits::IoKind;

/// Namespace and first LBA of the command an Error Information entry
/// describes (NVMe 2.0 Base, 5.16.1.2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ErrorContext {
    pub nsid: u32,
    pub lba: u64,
}

crate::persist::persist_struct!(ErrorContext { nsid, lba });

/// A fetched command: its queue, command identifier, the raw entry, when it
/// was submitted (for latency) and the error context its completion
/// reports. It travels with the command to the handler, into the
/// in-flight table while storage works, and to the completion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request {
    pub sqid: u16,
    pub cid: u16,
    pub sqe: Sqe,
    pub submit_ns: u64,
    pub err: ErrorContext,
}

crate::persist::persist_struct!(Request {
    sqid,
    cid,
    sqe,
    submit_ns,
    err
});

impl Request {
    /// The command `sqe` fetched from SQ `sqid` at `submit_ns`.
    pub fn new(sqid: u16, sqe: Sqe, submit_ns: u64) -> Request {
        Request {
            sqid,
            cid: sqe.cid(),
            sqe,
            submit_ns,
            err: ErrorContext {
                nsid: sqe.nsid(),
                lba: if sqid == 0 { 0 } else { sqe.slba() },
            },
        }
    }

    /// An admin command (SQ 0)?
    pub fn is_admin(&self) -> bool {
        self.sqid == 0
    }
}

/// The result of executing a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Complete now.
    Done { status: Status, dw0: u32 },
    /// Completed later (storage, AER, Delete I/O SQ).
    Pending,
}

impl Outcome {
    pub fn status(status: Status) -> Outcome {
        Outcome::Done { status, dw0: 0 }
    }
    pub fn ok() -> Outcome {
        Outcome::Done {
            status: Status::SUCCESS,
            dw0: 0,
        }
    }
    pub fn dw0(dw0: u32) -> Outcome {
        Outcome::Done {
            status: Status::SUCCESS,
            dw0,
        }
    }
}

impl From<Status> for Outcome {
    fn from(s: Status) -> Outcome {
        Outcome::status(s)
    }
}

/// What finishing a command must also do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PostAction {
    None,
    /// Format NVM: switch namespace `nsid` (every attached one for
    /// `FFFFFFFFh`) to this LBA format.
    Format {
        nsid: u32,
        lbaf: u8,
    },
}

/// How a command counts in the SMART log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accounting {
    Read {
        bytes: u64,
    },
    Write {
        bytes: u64,
    },
    /// Write Zeroes; `deallocated` blocks when DEAC unmapped them.
    WriteZeroes {
        deallocated: u64,
    },
    Flush,
    /// Dataset Management deallocate of this many blocks.
    Deallocate {
        blocks: u64,
    },
    Admin,
}

/// A command waiting for storage requests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CmdState {
    pub req: Request,
    /// Storage requests not yet completed.
    pub pending: u32,
    pub status: Status,
    pub acct: Accounting,
    pub post: PostAction,
    /// Data-less requests (write zeroes, discard) still to issue, split
    /// into [`super::ZERO_CHUNK`] pieces and kept [`super::ZERO_WINDOW`] deep.
    pub backlog: VecDeque<(IoKind, u64, u64)>,
    /// Flush once everything else completed (Write Zeroes with FUA).
    pub flush_after: bool,
    /// Compare: the host's data, which the medium read back must equal.
    pub expected: Option<Vec<u8>>,
    /// Compare split over several requests: (request slot, byte position
    /// of its part in `expected`).
    pub parts: Vec<(u16, u64)>,
    /// Copy: the source ranges still to copy.
    pub copy: Option<CopyState>,
}

crate::persist::persist_struct!(CmdState {
    req,
    pending,
    status,
    acct,
    post,
    backlog,
    flush_after,
    expected,
    parts,
    copy,
});

/// A Copy in progress (NVM Command Set 1.0, 3.2.2): one source range at a
/// time is read into a buffer of the host's and written at the next
/// destination offset, so that Dword 0 of a failed Copy names the lowest
/// source range not copied. Ranges are cut where the namespace's extents
/// end, so each becomes one or more reads, then one or more writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CopyState {
    /// Storage requests still to issue, in order; the first is in flight.
    pub steps: VecDeque<CopyStep>,
    /// What the current source range's reads returned, consumed by its
    /// writes.
    pub buffer: Vec<u8>,
    /// Source ranges copied so far.
    pub done: u16,
    /// Force Unit Access on the destination writes.
    pub fua: bool,
}

crate::persist::persist_struct!(CopyState {
    steps,
    buffer,
    done,
    fua,
});

impl CopyState {
    /// The request in flight reads a source piece.
    pub fn reading(&self) -> bool {
        self.steps.front().is_some_and(|s| !s.write)
    }
}

/// One storage request of a Copy: a piece of a source range read into the
/// buffer, or a piece of the destination written from it (byte offset and
/// length on the drive); `last` marks the final write of a source range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CopyStep {
    pub write: bool,
    pub offset: u64,
    pub len: u64,
    pub last: bool,
}

crate::persist::persist_struct!(CopyStep {
    write,
    offset,
    len,
    last
});

/// A fused Compare and Write in progress (NVMe 2.0 Base, 3.4.2 Fused
/// Operations; NVM Command Set 1.0, the Compare and Write fused
/// operation): the pair's queue and command identifiers, and the Write
/// until the Compare completes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FusedPair {
    pub sqid: u16,
    pub compare_cid: u16,
    pub write_cid: u16,
    /// The Write, executed when the Compare succeeds, aborted with
    /// Command Aborted due to Failed Fused Command otherwise.
    pub write: Option<Request>,
}

crate::persist::persist_struct!(FusedPair {
    sqid,
    compare_cid,
    write_cid,
    write,
});

/// A command whose execution injected latency postponed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delayed {
    pub due_ns: u64,
    pub req: Request,
}

crate::persist::persist_struct!(Delayed { due_ns, req });

/// Who owns a storage request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IoOwner {
    Cmd(u16),
    /// The flush of a normal shutdown.
    Shutdown,
    /// A chunk of the sanitize operation, at this byte offset.
    Sanitize(u64),
}
