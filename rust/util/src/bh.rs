// Copyright 2025 The ocp-nvme developers
// SPDX-License-Identifier: GPL-2.0-or-later

//! Bottom halves: callbacks that the main loop runs soon, outside the
//! current call stack (`QEMUBH`).

use std::{
    ffi::{c_void, CStr},
    ptr::NonNull,
};

use common::callbacks::FnCall;

use crate::bindings;

/// A bottom half of the main loop's `AioContext`, calling a function with
/// an object of type `T`.  It is deleted when dropped; a deleted bottom
/// half never runs, even if it was scheduled.
#[derive(Debug)]
pub struct BottomHalf(NonNull<bindings::QEMUBH>);

// SAFETY: qemu_bh_schedule() and qemu_bh_cancel() are thread-safe, and
// qemu_bh_delete() only marks the bottom half for deletion by its
// AioContext.
unsafe impl Send for BottomHalf {}
unsafe impl Sync for BottomHalf {}

impl BottomHalf {
    /// A bottom half in the main loop that calls `F` with `opaque`
    /// (`qemu_bh_new_full()`).  `name` shows up in debugging output.
    ///
    /// `reentrancy_guard`, usually a device's `mem_reentrancy_guard`, makes
    /// the callback fail MMIO accesses that would re-enter the same device
    /// (DMA aimed at the device's own registers) instead of running them.
    ///
    /// # Safety
    ///
    /// `opaque` and the guard must outlive the bottom half: typically they
    /// all belong to one device, which drops the bottom half first.
    pub unsafe fn new<T, F: for<'a> FnCall<(&'a T,)>>(
        name: &'static CStr,
        _cb: F,
        opaque: &T,
        reentrancy_guard: Option<NonNull<bindings::MemReentrancyGuard>>,
    ) -> Self {
        const { assert!(F::IS_SOME) };
        unsafe extern "C" fn rust_bh_cb<T, F: for<'a> FnCall<(&'a T,)>>(opaque: *mut c_void) {
            // SAFETY: opaque is the reference passed to new(), alive per
            // new()'s contract.
            F::call((unsafe { &*(opaque.cast::<T>()) },))
        }
        // SAFETY: per the function's contract; qemu_bh_new_full() never
        // returns NULL (it aborts when out of memory).
        let bh = unsafe {
            bindings::qemu_bh_new_full(
                Some(rust_bh_cb::<T, F>),
                (opaque as *const T).cast_mut().cast(),
                name.as_ptr(),
                reentrancy_guard.map_or(std::ptr::null_mut(), NonNull::as_ptr),
            )
        };
        BottomHalf(NonNull::new(bh).unwrap())
    }

    /// Run the callback from the main loop soon: once, however often this
    /// is called before it runs.
    pub fn schedule(&self) {
        // SAFETY: the bottom half is valid until drop.
        unsafe { bindings::qemu_bh_schedule(self.0.as_ptr()) }
    }

    /// Undo a [`schedule`](Self::schedule) whose callback has not run yet.
    pub fn cancel(&self) {
        // SAFETY: the bottom half is valid until drop.
        unsafe { bindings::qemu_bh_cancel(self.0.as_ptr()) }
    }
}

impl Drop for BottomHalf {
    fn drop(&mut self) {
        // SAFETY: created in new() and deleted once; qemu_bh_delete()
        // marks it deleted, so a pending run does not call the callback,
        // and its AioContext frees it.
        unsafe { bindings::qemu_bh_delete(self.0.as_ptr()) }
    }
}
