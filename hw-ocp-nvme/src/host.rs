// SPDX-License-Identifier: GPL-2.0-or-later
//! The engine's host traits implemented with QEMU: DMA through the PCI
//! bus-master address space, BlockBackend AIO over scatter-gather lists
//! (zero copy), MSI-X or INTx, and the virtual clock.
//!
//! The engine runs either with the BQL (vCPU MMIO, main loop) or in the
//! device's IOThread ([`Thread`]).  An IOThread holding the engine must
//! never wait for the BQL, since BQL holders wait for the engine: there
//! DMA is refused unless it goes straight to guest RAM, interrupts are
//! left to the main loop, and the engine never drains.

use std::{ffi::CString, ptr::NonNull};

use block::{
    bindings::{BLOCK_ACCT_FLUSH, BLOCK_ACCT_READ, BLOCK_ACCT_UNMAP, BLOCK_ACCT_WRITE},
    AioRequest, BlockAcctCookie, BlockBackend, BufferRequest, DmaRequest, IoBuffer, SgList,
};
use hwcore::{DeviceState, PCIDeviceMethods};
use ocp_nvme_engine::traits::{
    Clock, DmaError, GuestLog, GuestMemory, GuestRange, Host, Interrupts, IoError, IoKind,
    IoRequest, IoResult, IoToken, Storage,
};
use qom::prelude::*;
use util::{log::Log, log_mask_ln, timer::CLOCK_VIRTUAL};

use crate::{
    device::{OcpNvmeState, BAR0_SIZE},
    trace,
};

/// Alignment the block layer may assume for guest buffers.
const DMA_ALIGN: u32 = 512;

/// Where the engine runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Thread {
    /// With the BQL: a vCPU's MMIO access, the main loop.
    Bql,
    /// In the device's IOThread, without the BQL.
    IoThread,
}

struct PciDma<'a>(&'a OcpNvmeState, Thread);

impl PciDma<'_> {
    /// Refuse DMA that overlaps the device's own BAR0 (registers,
    /// doorbells, MSI-X table and PBA): it would re-enter the device from
    /// wherever the DMA runs, outside the engine's guard (QEMU's C `nvme`
    /// refuses the same: `nvme_addr_is_iomem()`, CVE-2021-3929).  In the
    /// IOThread, refuse everything but guest RAM: MMIO dispatch takes the
    /// BQL, which the IOThread must not wait for while it holds the engine.
    fn check(&self, addr: u64, len: u64, is_write: bool) -> Result<(), DmaError> {
        if self.1 == Thread::IoThread {
            if self.0.bus_master_as().is_direct(addr, len, is_write) {
                return Ok(());
            }
            log_mask_ln!(
                Log::GuestError,
                "ocp-nvme: DMA to {addr:#x}+{len:#x} refused: not guest RAM (iothread)"
            );
            trace::trace_ocp_nvme_dma_error(c"not RAM", addr, len, 0);
            return Err(DmaError);
        }
        let Some(bar) = self.0.bar_addr(0) else {
            return Ok(());
        };
        let end = addr.checked_add(len).ok_or(DmaError)?;
        if addr < bar.saturating_add(BAR0_SIZE) && bar < end {
            log_mask_ln!(
                Log::GuestError,
                "ocp-nvme: DMA to {addr:#x}+{len:#x} refused: it is the device's own BAR0"
            );
            trace::trace_ocp_nvme_dma_error(c"to BAR0", addr, len, 0);
            return Err(DmaError);
        }
        Ok(())
    }
}

impl GuestMemory for PciDma<'_> {
    fn read(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), DmaError> {
        trace::trace_ocp_nvme_dma_read(addr, buf.len() as u64);
        self.check(addr, buf.len() as u64, false)?;
        self.0.pci_dma_read(addr, buf).map_err(|e| {
            trace::trace_ocp_nvme_dma_error(c"read", addr, buf.len() as u64, e.0);
            DmaError
        })
    }

    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), DmaError> {
        trace::trace_ocp_nvme_dma_write(addr, data.len() as u64);
        self.check(addr, data.len() as u64, true)?;
        self.0.pci_dma_write(addr, data).map_err(|e| {
            trace::trace_ocp_nvme_dma_error(c"write", addr, data.len() as u64, e.0);
            DmaError
        })
    }

    /// Data ranges are checked as writable memory (either direction).
    fn check_range(&self, range: GuestRange) -> Result<(), DmaError> {
        self.check(range.addr, range.len, true)
    }
}

/// Interrupts go out with the BQL; the IOThread leaves them to the main
/// loop ([`OcpNvmeState::notify_vector`], [`OcpNvmeState::request_intx`]).
struct PciInterrupts<'a>(&'a OcpNvmeState, Thread);

impl Interrupts for PciInterrupts<'_> {
    fn msix_enabled(&self) -> bool {
        self.0.msix_enabled()
    }

    fn msix_notify(&mut self, vector: u16) {
        self.0.notify_vector(vector);
    }

    fn set_intx(&mut self, level: bool) {
        match self.1 {
            Thread::Bql => self.0.apply_intx(level),
            Thread::IoThread => self.0.request_intx(level),
        }
    }
}

/// Guest mistakes go to QEMU's log with `-d guest_errors` and to the
/// `ocp_nvme_guest_error` trace point.
struct GuestErrorLog;

impl GuestLog for GuestErrorLog {
    fn guest_error(&mut self, msg: &str) {
        log_mask_ln!(Log::GuestError, "ocp-nvme: {msg}");
        if let Ok(cmsg) = CString::new(msg) {
            trace::trace_ocp_nvme_guest_error(&cmsg);
        }
    }
}

struct VirtualClock;

impl Clock for VirtualClock {
    fn now_ns(&self) -> u64 {
        CLOCK_VIRTUAL.get_ns()
    }
}

/// One storage request in flight; owned by the block layer until it
/// completes.
struct BlockJob {
    /// The device outlives its requests: it quiesces the engine (nothing
    /// new starts) and drains the backend before it goes away (exit), and
    /// drains on reset.
    dev: NonNull<OcpNvmeState>,
    token: IoToken,
    sg: SgList,
    /// What a buffered read (Compare, Verify, Copy) reads into, or what a
    /// buffered write (Copy) or a pattern write (sanitize overwrite) writes.
    buffer: Option<IoBuffer>,
    /// The buffer holds what a buffered read read (goes to the engine).
    buffer_read: bool,
    cookie: BlockAcctCookie,
}

fn io_result(ret: i32) -> IoResult {
    if ret >= 0 {
        return IoResult::Ok;
    }
    IoResult::Error(match -ret {
        libc::EIO => IoError::MediaError,
        libc::ENOSPC => IoError::NoSpace,
        libc::EROFS | libc::EPERM | libc::EACCES => IoError::ReadOnly,
        _ => IoError::Other,
    })
}

/// Trace the outcome of a storage request and map it for the engine.
fn traced_io_result(token: IoToken, ret: i32) -> IoResult {
    trace::trace_ocp_nvme_complete(token, ret);
    let result = io_result(ret);
    if let IoResult::Error(e) = result {
        let status = match e {
            IoError::MediaError => c"media error",
            IoError::NoSpace => c"no space",
            IoError::ReadOnly => c"read only",
            _ => c"internal error",
        };
        trace::trace_ocp_nvme_io_error(token, ret, status);
    }
    result
}

impl AioRequest for BlockJob {
    fn complete(mut self: Box<Self>, ret: i32) {
        let dev = self.dev;
        // SAFETY: see the `dev` field.
        let dev = unsafe { dev.as_ref() };
        let blk = dev.backend();
        blk.acct_done(&mut self.cookie, ret >= 0);
        let result = traced_io_result(self.token, ret);
        let data = self
            .buffer
            .take()
            .filter(|_| self.buffer_read)
            .map(|b| b.data().to_vec());
        dev.storage_completed(self.token, result, data.unwrap_or_default());
    }
}

impl DmaRequest for BlockJob {
    fn sg_list(&mut self) -> &mut SgList {
        &mut self.sg
    }
}

impl BufferRequest for BlockJob {
    fn buffer(&mut self) -> &mut IoBuffer {
        self.buffer.get_or_insert_with(|| IoBuffer::new(0))
    }
}

struct BlockStorage<'a>(&'a OcpNvmeState, Thread);

impl BlockStorage<'_> {
    fn backend(&self) -> &BlockBackend {
        self.0.backend()
    }
}

impl Storage for BlockStorage<'_> {
    fn submit(&mut self, req: IoRequest) {
        let blk = self.backend();
        let dev: &DeviceState = self.0.upcast();
        let mut sg = SgList::new(dev, self.0.bus_master_as(), req.sg.len());
        for range in &req.sg {
            sg.add(range.addr, range.len);
        }
        let mut job = Box::new(BlockJob {
            dev: NonNull::from(self.0),
            token: req.token,
            sg,
            buffer: None,
            buffer_read: req.kind == IoKind::ReadBuffered,
            cookie: BlockAcctCookie::default(),
        });
        let op = match req.kind {
            IoKind::Read => c"read",
            IoKind::ReadBuffered => c"read-buffered",
            IoKind::WriteBuffered { .. } => c"write-buffered",
            IoKind::Write { .. } => c"write",
            IoKind::Flush => c"flush",
            IoKind::Discard => c"discard",
            IoKind::WriteZeroes { .. } => c"write-zeroes",
            IoKind::WritePattern { .. } => c"write-pattern",
        };
        trace::trace_ocp_nvme_submit(req.token, op, req.offset, req.len, req.sg.len() as u32);
        match req.kind {
            IoKind::Read => {
                blk.acct_start(&mut job.cookie, req.len, BLOCK_ACCT_READ);
                blk.dma_read(req.offset, DMA_ALIGN, job);
            }
            IoKind::ReadBuffered => {
                // The engine bounds the length by MDTS.
                let len = usize::try_from(req.len).unwrap_or(0);
                job.buffer = Some(IoBuffer::new(len));
                blk.acct_start(&mut job.cookie, req.len, BLOCK_ACCT_READ);
                blk.aio_read_buffer(req.offset, job);
            }
            IoKind::WriteBuffered { fua } => {
                blk.acct_start(&mut job.cookie, req.len, BLOCK_ACCT_WRITE);
                job.buffer = Some(IoBuffer::from_vec(req.data));
                blk.aio_write_buffer(req.offset, fua, job);
            }
            IoKind::Write { fua } => {
                blk.acct_start(&mut job.cookie, req.len, BLOCK_ACCT_WRITE);
                if fua {
                    blk.dma_write_fua(req.offset, DMA_ALIGN, job);
                } else {
                    blk.dma_write(req.offset, DMA_ALIGN, job);
                }
            }
            IoKind::WritePattern { pattern } => {
                // The engine bounds the length (1 MiB, a multiple of 4).
                let len = usize::try_from(req.len).unwrap_or(0);
                let mut buf = IoBuffer::new(len);
                let p = pattern.to_le_bytes();
                for chunk in buf.data_mut().chunks_mut(4) {
                    chunk.copy_from_slice(&p[..chunk.len()]);
                }
                job.buffer = Some(buf);
                blk.acct_start(&mut job.cookie, req.len, BLOCK_ACCT_WRITE);
                blk.aio_write_buffer(req.offset, false, job);
            }
            IoKind::Flush => {
                blk.acct_start(&mut job.cookie, 0, BLOCK_ACCT_FLUSH);
                blk.aio_flush(job);
            }
            IoKind::Discard => {
                blk.acct_start(&mut job.cookie, req.len, BLOCK_ACCT_UNMAP);
                blk.aio_pdiscard(req.offset, req.len, job);
            }
            IoKind::WriteZeroes { may_unmap } => {
                blk.acct_start(&mut job.cookie, req.len, BLOCK_ACCT_WRITE);
                blk.aio_pwrite_zeroes(req.offset, req.len, may_unmap, job);
            }
        }
    }

    /// Resets and shutdowns come from register writes, with the BQL; in the
    /// IOThread nothing is drained (requests still in flight finish on
    /// their own, and a reset's new epoch drops their completions).
    fn drain(&mut self) {
        if self.1 == Thread::Bql && self.0.reset_may_drain() {
            self.backend().drain();
        }
    }
}

/// Run `f` with the engine's view of the device from `thread`: its DMA,
/// storage, interrupts and clock.
pub fn with_host(dev: &OcpNvmeState, thread: Thread, f: impl FnOnce(&mut Host)) {
    let mut mem = PciDma(dev, thread);
    let mut storage = BlockStorage(dev, thread);
    let mut irq = PciInterrupts(dev, thread);
    let clock = VirtualClock;
    let mut log = GuestErrorLog;
    let mut host = Host {
        mem: &mut mem,
        storage: &mut storage,
        irq: &mut irq,
        clock: &clock,
        log: &mut log,
    };
    f(&mut host);
}
