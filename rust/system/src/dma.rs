// Copyright 2025 The ocp-nvme developers
// SPDX-License-Identifier: GPL-2.0-or-later

//! DMA: accesses to guest memory by a device, through an `AddressSpace`
//! (usually a PCI device's bus-master address space), ordered like
//! `dma_memory_read()` and `dma_memory_write()`.

use std::{
    fmt,
    sync::atomic::{fence, Ordering},
};

use common::Opaque;

use crate::{bindings, memory::MEMTXATTRS_UNSPECIFIED};

/// A safe wrapper around [`bindings::AddressSpace`].
#[repr(transparent)]
#[derive(common::Wrapper)]
pub struct AddressSpace(Opaque<bindings::AddressSpace>);

unsafe impl Send for AddressSpace {}
unsafe impl Sync for AddressSpace {}

/// A failed memory transaction: the `MemTxResult` bits other than
/// `MEMTX_OK` (`MEMTX_ERROR`, `MEMTX_DECODE_ERROR`,
/// `MEMTX_ACCESS_ERROR`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemTxError(pub u32);

impl MemTxError {
    /// `Ok(())` for `MEMTX_OK`, the error bits otherwise.
    pub const fn check(res: bindings::MemTxResult) -> Result<(), MemTxError> {
        if res == bindings::MEMTX_OK {
            Ok(())
        } else {
            Err(MemTxError(res))
        }
    }
}

impl fmt::Display for MemTxError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let what = if self.0 & bindings::MEMTX_DECODE_ERROR != 0 {
            "nothing at that address"
        } else if self.0 & bindings::MEMTX_ACCESS_ERROR != 0 {
            "access denied"
        } else {
            "transaction failed"
        };
        write!(f, "memory transaction error {:#x} ({what})", self.0)
    }
}

impl std::error::Error for MemTxError {}

/// The ordering that `dma_barrier()` provides before every DMA access:
/// a full memory barrier (`smp_mb()`), so that the access is ordered
/// after the device's earlier accesses and the vCPUs' accesses that
/// triggered it.
#[inline]
pub fn dma_barrier() {
    fence(Ordering::SeqCst);
}

impl AddressSpace {
    /// Whether DMA to (`is_write`) or from `[addr, addr + len)` goes
    /// straight to guest memory all along, never to an MMIO callback,
    /// which would take the BQL (`address_space_is_direct()`).  A thread
    /// that must not wait for the BQL checks this first; the answer holds
    /// until the guest changes the memory map.
    pub fn is_direct(&self, addr: u64, len: u64, is_write: bool) -> bool {
        // SAFETY: the address space is alive; the function takes the RCU
        // read lock itself.
        unsafe {
            bindings::address_space_is_direct(
                self.as_mut_ptr(),
                addr,
                len,
                is_write,
                MEMTXATTRS_UNSPECIFIED,
            )
        }
    }

    /// Read `buf.len()` bytes of guest memory at `addr` like
    /// `dma_memory_read(as, addr, buf, len, MEMTXATTRS_UNSPECIFIED)`.
    ///
    /// Accesses that hit MMIO regions are dispatched to them; callers that
    /// hold a device's state mutably must not let the guest point DMA at
    /// that device's own registers.
    pub fn dma_read(&self, addr: u64, buf: &mut [u8]) -> Result<(), MemTxError> {
        dma_barrier();
        // SAFETY: the address space is alive (we have a reference to it)
        // and buf is valid for writes of buf.len() bytes.
        let res = unsafe {
            bindings::address_space_read_full(
                self.as_mut_ptr(),
                addr,
                MEMTXATTRS_UNSPECIFIED,
                buf.as_mut_ptr().cast(),
                buf.len() as u64,
            )
        };
        MemTxError::check(res)
    }

    /// Write `data` to guest memory at `addr` like
    /// `dma_memory_write(as, addr, data, len, MEMTXATTRS_UNSPECIFIED)`.
    /// See [`dma_read`](Self::dma_read) about MMIO.
    pub fn dma_write(&self, addr: u64, data: &[u8]) -> Result<(), MemTxError> {
        dma_barrier();
        // SAFETY: as in dma_read; address_space_write() only reads data.
        let res = unsafe {
            bindings::address_space_write(
                self.as_mut_ptr(),
                addr,
                MEMTXATTRS_UNSPECIFIED,
                data.as_ptr().cast(),
                data.len() as u64,
            )
        };
        MemTxError::check(res)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memtx_results() {
        assert_eq!(MemTxError::check(bindings::MEMTX_OK), Ok(()));
        assert_eq!(
            MemTxError::check(bindings::MEMTX_DECODE_ERROR),
            Err(MemTxError(bindings::MEMTX_DECODE_ERROR))
        );
        assert!(MemTxError(bindings::MEMTX_DECODE_ERROR)
            .to_string()
            .contains("nothing at that address"));
        assert!(MemTxError(bindings::MEMTX_ERROR)
            .to_string()
            .contains("transaction failed"));
    }
}
