// Copyright 2025 The ocp-nvme developers
// SPDX-License-Identifier: GPL-2.0-or-later

//! Scatter-gather lists of guest memory (`QEMUSGList`) for zero-copy block
//! I/O with [`BlockBackend::dma_read`](crate::block::BlockBackend::dma_read).

use std::ptr::addr_of_mut;

use crate::{
    bindings,
    cell::bql_locked,
    pci::{PCIDevice, PCIDeviceMethods},
};

/// A list of guest-physical ranges in a PCI device's bus-master address
/// space.  Boxed so that its address stays put while the block layer
/// holds it.
#[derive(Debug)]
pub struct SgList(Box<bindings::QEMUSGList>);

// SAFETY: QEMUSGList is plain data plus a reference to the device's
// address space, only used under the BQL.
unsafe impl Send for SgList {}

impl SgList {
    /// An empty list for DMA by `dev`, with room for `hint` ranges.
    pub fn new(dev: &PCIDevice, hint: usize) -> Self {
        assert!(bql_locked());
        let mut qsg = Box::<bindings::QEMUSGList>::default();
        let hint = i32::try_from(hint).unwrap_or(i32::MAX).max(1);
        // SAFETY: qsg is a valid, zeroed QEMUSGList; the device and its
        // address space outlive the list (the device drains its I/O first).
        unsafe {
            let pci = dev.pci_ptr();
            bindings::qemu_sglist_init(
                &mut *qsg,
                pci.cast(),
                hint,
                addr_of_mut!((*pci).bus_master_as),
            );
        }
        SgList(qsg)
    }

    /// Append the range `[addr, addr + len)`.
    pub fn add(&mut self, addr: u64, len: u64) {
        // SAFETY: the list was initialized in new().
        unsafe { bindings::qemu_sglist_add(&mut *self.0, addr, len) }
    }

    /// Total number of bytes in the list.
    pub fn size(&self) -> u64 {
        self.0.size
    }

    pub(crate) fn as_mut_ptr(&mut self) -> *mut bindings::QEMUSGList {
        &mut *self.0
    }
}

impl Drop for SgList {
    fn drop(&mut self) {
        // SAFETY: initialized in new(), destroyed exactly once.
        unsafe { bindings::qemu_sglist_destroy(&mut *self.0) }
    }
}
