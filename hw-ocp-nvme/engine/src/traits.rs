// SPDX-License-Identifier: GPL-2.0-or-later
//! Boundaries between the engine and its host (the QEMU device crate or a
//! test harness): guest memory, storage, interrupts and time.
//!
//! Every method is fallible or asynchronous where the real thing can be:
//! a failed DMA is reported as [`DmaError`] and becomes a Data Transfer Error
//! status (NVMe 2.0 Base, 4.6.1.2.1), never a panic.

/// A guest memory access failed (unmapped address, IOMMU fault, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DmaError;

/// Guest physical memory as seen by the controller (bus-master DMA).
pub trait GuestMemory {
    /// Read `buf.len()` bytes at guest address `addr`.
    fn read(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), DmaError>;
    /// Write `data` at guest address `addr`.
    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), DmaError>;
    /// May a storage request move data directly to or from `range`? The
    /// host refuses what is not plain guest memory, above all the device's
    /// own registers and MSI-X table: a transfer there would re-enter the
    /// device from a storage completion (QEMU's C `nvme` refuses the same,
    /// the fix for CVE-2021-3929). A refused range fails the command with
    /// Data Transfer Error before any request starts.
    fn check_range(&self, _range: GuestRange) -> Result<(), DmaError> {
        Ok(())
    }
}

/// One contiguous piece of guest memory of a data transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuestRange {
    pub addr: u64,
    pub len: u64,
}

crate::persist::persist_struct!(GuestRange { addr, len });

/// Identifies one storage request until it completes.
pub type IoToken = u32;

/// What a storage request asks the backend to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IoKind {
    /// Read `len` bytes at `offset` into the scatter list.
    Read,
    /// Write the scatter list to `len` bytes at `offset`; `fua` asks for the
    /// data to be on stable media before completion.
    Write { fua: bool },
    /// Flush the backend's volatile cache (offset and len are 0).
    Flush,
    /// Discard (unmap) a byte range; content afterwards is unspecified.
    Discard,
    /// Zero a byte range; `may_unmap` lets the backend deallocate it, the
    /// range still reads back as zeroes.
    WriteZeroes { may_unmap: bool },
    /// Read `len` bytes at `offset` into a buffer of the host's, not into
    /// guest memory (`sg` is empty); the bytes come back with the
    /// completion through [`crate::Controller::complete_io_data`] (Compare,
    /// Verify).
    ReadBuffered,
    /// Write the request's `data` (a buffer of the host's, not guest
    /// memory; `sg` is empty) to `len` bytes at `offset`; `fua` as for
    /// [`IoKind::Write`] (the destination of a Copy).
    WriteBuffered { fua: bool },
}

impl crate::persist::Persist for IoKind {
    fn save(&self, w: &mut crate::wire::LeWriter) {
        let (tag, flag) = match *self {
            IoKind::Read => (0u8, false),
            IoKind::Write { fua } => (1, fua),
            IoKind::Flush => (2, false),
            IoKind::Discard => (3, false),
            IoKind::WriteZeroes { may_unmap } => (4, may_unmap),
            IoKind::ReadBuffered => (5, false),
            IoKind::WriteBuffered { fua } => (6, fua),
        };
        w.put(&[tag, u8::from(flag)]);
    }
    fn load(r: &mut crate::wire::LeReader<'_>) -> Result<Self, String> {
        let tag = r.u8()?;
        let flag = <bool as crate::persist::Persist>::load(r)?;
        Ok(match tag {
            0 => IoKind::Read,
            1 => IoKind::Write { fua: flag },
            2 => IoKind::Flush,
            3 => IoKind::Discard,
            4 => IoKind::WriteZeroes { may_unmap: flag },
            5 => IoKind::ReadBuffered,
            6 => IoKind::WriteBuffered { fua: flag },
            v => return Err(format!("IoKind: unknown tag {v}")),
        })
    }
}

/// One request to the storage backend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IoRequest {
    pub token: IoToken,
    pub kind: IoKind,
    /// Byte offset on the backend.
    pub offset: u64,
    /// Length in bytes.
    pub len: u64,
    /// Guest memory of the transfer (empty for flush, discard, write
    /// zeroes and the buffered kinds).
    pub sg: Vec<GuestRange>,
    /// The bytes an [`IoKind::WriteBuffered`] request writes (`len` of
    /// them); empty for every other kind.
    pub data: Vec<u8>,
}

crate::persist::persist_struct!(IoRequest {
    token,
    kind,
    offset,
    len,
    sg,
    data
});

/// Why a storage request failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IoError {
    /// EIO: the medium could not be read or written.
    MediaError,
    /// ENOSPC: the backend ran out of space.
    NoSpace,
    /// EROFS/EPERM: the backend is read-only.
    ReadOnly,
    /// A failed DMA into or out of guest memory.
    Dma,
    /// Anything else.
    Other,
}

/// The outcome of a storage request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IoResult {
    Ok,
    Error(IoError),
}

/// The storage backend.
pub trait Storage {
    /// Start a request. It never completes inline: the host later calls
    /// [`crate::Controller::complete_io`] with the request's token.
    fn submit(&mut self, req: IoRequest);
    /// Block until every submitted request has finished (called by resets).
    /// Completions that happen during drain are delivered later through
    /// `complete_io`; the engine ignores tokens it no longer knows, so a
    /// host that cannot wait (a reset started from inside one of the
    /// requests' completion) may return at once and deliver them later.
    fn drain(&mut self);
}

/// Interrupt delivery.
pub trait Interrupts {
    /// Is MSI-X enabled by the guest?
    fn msix_enabled(&self) -> bool;
    /// Signal MSI-X vector `vector` (the device applies the vector mask).
    fn msix_notify(&mut self, vector: u16);
    /// Set the level of the pin-based interrupt (INTx).
    fn set_intx(&mut self, level: bool);
}

/// Monotonic virtual time.
pub trait Clock {
    /// Nanoseconds since an arbitrary epoch; never goes backwards.
    fn now_ns(&self) -> u64;
}

/// Where the engine reports a guest breaking a rule (the QEMU device
/// forwards it to `qemu_log_mask(LOG_GUEST_ERROR)`). One short line, naming
/// the offending value.
pub trait GuestLog {
    /// The guest did something the specification does not allow.
    fn guest_error(&mut self, msg: &str);
}

/// A [`GuestLog`] that drops every message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoLog;

impl GuestLog for NoLog {
    fn guest_error(&mut self, _msg: &str) {}
}

/// Everything the engine may touch outside itself during one call.
pub struct Host<'a> {
    pub mem: &'a mut dyn GuestMemory,
    pub storage: &'a mut dyn Storage,
    pub irq: &'a mut dyn Interrupts,
    pub clock: &'a dyn Clock,
    pub log: &'a mut dyn GuestLog,
}
