// Copyright 2026 The ocp-nvme developers
// SPDX-License-Identifier: GPL-2.0-or-later

//! Calls deferred to the end of the current `defer_call_begin()` /
//! `defer_call_end()` section of the thread (`defer_call()`).
//!
//! The block layer runs its completion handlers in such sections (the
//! thread pool's completion bottom half, Linux AIO and `io_uring` event
//! processing), so that what a device does once per batch of completions
//! (say, an interrupt) happens once, when the batch has been handled.

use std::ffi::c_void;

use common::callbacks::FnCall;

use crate::bindings;

/// Call `F` with `opaque` when the current defer-call section of this
/// thread ends, or at once outside one.  The same `F` and `opaque`
/// deferred again before the section ends run once.
///
/// # Safety
///
/// `opaque` must stay valid until the call has run: typically a device
/// that drains its block requests before it goes away.
pub unsafe fn defer_call<T, F: for<'a> FnCall<(&'a T,)>>(_cb: F, opaque: &T) {
    const { assert!(F::IS_SOME) };
    unsafe extern "C" fn rust_deferred_cb<T, F: for<'a> FnCall<(&'a T,)>>(opaque: *mut c_void) {
        // SAFETY: opaque is the reference passed to defer_call(), alive per
        // its contract.
        F::call((unsafe { &*(opaque.cast::<T>()) },))
    }
    // SAFETY: per the function's contract.
    unsafe {
        bindings::defer_call(
            Some(rust_deferred_cb::<T, F>),
            (opaque as *const T).cast_mut().cast(),
        );
    }
}
