// Copyright 2025 The ocp-nvme developers
// SPDX-License-Identifier: GPL-2.0-or-later

//! Bottom halves: callbacks that the main loop runs soon, outside the
//! current call stack.

use std::{ffi::CStr, os::raw::c_void, ptr::addr_of_mut};

use crate::{bindings, callbacks::FnCall, cell::bql_locked, qdev::DeviceState};

/// A bottom half bound to an object of type `T`; deleted when dropped.
#[derive(Debug)]
pub struct BottomHalf {
    bh: *mut bindings::QEMUBH,
}

// SAFETY: scheduled and deleted under the BQL only.
unsafe impl Send for BottomHalf {}
unsafe impl Sync for BottomHalf {}

impl BottomHalf {
    /// A bottom half that calls `F` with `owner`.  `dev`'s memory
    /// reentrancy guard protects against the callback re-entering the
    /// device through DMA to its own MMIO.
    ///
    /// # Safety
    ///
    /// `owner` must outlive the bottom half (typically both live in the same
    /// device, and the bottom half is dropped first).
    pub unsafe fn new<T, F: for<'a> FnCall<(&'a T,)>>(
        owner: &T,
        dev: &DeviceState,
        name: &'static CStr,
        _cb: F,
    ) -> Self {
        let _: () = F::ASSERT_IS_SOME;
        unsafe extern "C" fn rust_bh_cb<T, F: for<'a> FnCall<(&'a T,)>>(opaque: *mut c_void) {
            // SAFETY: opaque is the owner passed to new(), alive per contract.
            F::call((unsafe { &*(opaque.cast::<T>()) },))
        }
        assert!(bql_locked());
        // SAFETY: the guard lives in the device, which outlives the BH.
        let bh = unsafe {
            bindings::qemu_bh_new_full(
                Some(rust_bh_cb::<T, F>),
                (owner as *const T as *mut T).cast(),
                name.as_ptr(),
                addr_of_mut!((*dev.as_mut_ptr()).mem_reentrancy_guard),
            )
        };
        BottomHalf { bh }
    }

    /// Run the callback from the main loop soon (once, however often
    /// this is called before it runs).
    pub fn schedule(&self) {
        // SAFETY: bh is valid until drop.
        unsafe { bindings::qemu_bh_schedule(self.bh) }
    }

    /// Undo a `schedule` that has not run yet.
    pub fn cancel(&self) {
        // SAFETY: bh is valid until drop.
        unsafe { bindings::qemu_bh_cancel(self.bh) }
    }
}

impl Drop for BottomHalf {
    fn drop(&mut self) {
        // SAFETY: created in new(), deleted once.
        unsafe { bindings::qemu_bh_delete(self.bh) }
    }
}
