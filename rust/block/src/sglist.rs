// Copyright 2025 The ocp-nvme developers
// SPDX-License-Identifier: GPL-2.0-or-later

//! Scatter-gather lists of guest memory (`QEMUSGList`) for zero-copy
//! block I/O with [`BlockBackend::dma_read`](crate::BlockBackend::dma_read)
//! and [`dma_write`](crate::BlockBackend::dma_write).

use hwcore::DeviceState;
use system::AddressSpace;

use crate::bindings;

/// A list of ranges of an address space.  Boxed, so that its address
/// stays put while the block layer holds it.
#[derive(Debug)]
pub struct SgList(Box<bindings::QEMUSGList>);

// SAFETY: a QEMUSGList is plain data plus references to a device and its
// address space; the reference counts are atomic.
unsafe impl Send for SgList {}

impl SgList {
    /// An empty list for DMA by `dev` in `dma_as`, with room for `hint`
    /// ranges (`qemu_sglist_init()`).  `qemu_sglist_init()` takes a
    /// reference to `dev`, so the device stays alive as long as the list.
    pub fn new(dev: &DeviceState, dma_as: &AddressSpace, hint: usize) -> Self {
        let mut qsg = Box::<bindings::QEMUSGList>::default();
        let hint = i32::try_from(hint).unwrap_or(i32::MAX).max(1);
        // SAFETY: qsg is a zeroed QEMUSGList; the device and the address
        // space are alive, and the list holds a reference to the device
        // until qemu_sglist_destroy().
        unsafe {
            bindings::qemu_sglist_init(
                &mut *qsg,
                dev.as_mut_ptr().cast(),
                hint,
                dma_as.as_mut_ptr().cast(),
            );
        }
        SgList(qsg)
    }

    /// Append the range `[addr, addr + len)`.
    pub fn add(&mut self, addr: u64, len: u64) {
        // SAFETY: the list was initialized in new().
        unsafe { bindings::qemu_sglist_add(&mut *self.0, addr, len) }
    }

    /// Number of bytes in the list.
    pub fn size(&self) -> u64 {
        self.0.size
    }

    /// Number of ranges in the list.
    pub fn len(&self) -> usize {
        usize::try_from(self.0.nsg).unwrap_or(0)
    }

    /// Whether the list has no range.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn as_mut_ptr(&mut self) -> *mut bindings::QEMUSGList {
        &mut *self.0
    }
}

impl Drop for SgList {
    fn drop(&mut self) {
        // SAFETY: initialized in new(), destroyed exactly once; this also
        // drops the reference to the device.
        unsafe { bindings::qemu_sglist_destroy(&mut *self.0) }
    }
}
