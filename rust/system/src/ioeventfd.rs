// Copyright 2026 The ocp-nvme developers
// SPDX-License-Identifier: GPL-2.0-or-later

//! ioeventfd: writes to an address of a `MemoryRegion` that signal an
//! `EventNotifier` instead of calling the region's write callback
//! (`memory_region_add_eventfd()`; the write's value is lost).

use util::event_notifier::EventNotifier;

use crate::{bindings, memory::MemoryRegion};

impl MemoryRegion {
    /// From now on, `size`-byte writes at `addr` of this region set `e`
    /// (any value: no match data).  The notifier must stay alive until
    /// [`del_eventfd`](Self::del_eventfd) with the same arguments.
    pub fn add_eventfd<T>(&self, addr: bindings::hwaddr, size: u32, e: &EventNotifier<T>) {
        // SAFETY: the region is initialized; the notifier is initialized,
        // and util's and system's EventNotifier are the same C struct.
        unsafe {
            bindings::memory_region_add_eventfd(
                self.as_mut_ptr(),
                addr,
                size,
                false,
                0,
                e.as_mut_ptr().cast(),
            );
        }
    }

    /// Undo [`add_eventfd`](Self::add_eventfd).
    pub fn del_eventfd<T>(&self, addr: bindings::hwaddr, size: u32, e: &EventNotifier<T>) {
        // SAFETY: as in add_eventfd().
        unsafe {
            bindings::memory_region_del_eventfd(
                self.as_mut_ptr(),
                addr,
                size,
                false,
                0,
                e.as_mut_ptr().cast(),
            );
        }
    }
}
