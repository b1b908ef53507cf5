// Copyright 2026 The ocp-nvme developers
// SPDX-License-Identifier: GPL-2.0-or-later

//! `AioContext`: the event loop of the main loop thread or of an `IOThread`,
//! where bottom halves, event notifier handlers and the completions of the
//! I/O a thread submitted run.

use std::{ffi::c_void, ptr::NonNull};

use crate::bindings;

/// A handle to an `AioContext`.  It does not keep the context alive: the
/// main loop's lives as long as QEMU, an `IOThread`'s as long as its
/// `IOThread` object, which its user holds a reference to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AioContext(NonNull<bindings::AioContext>);

// SAFETY: an AioContext is made to be used from several threads: the
// functions this type calls are thread-safe unless their documentation
// says otherwise.
unsafe impl Send for AioContext {}
unsafe impl Sync for AioContext {}

impl AioContext {
    /// The main loop's context (`qemu_get_aio_context()`).
    pub fn main() -> Self {
        // SAFETY: the main loop's context exists from startup on.
        let ctx = unsafe { bindings::qemu_get_aio_context() };
        AioContext(NonNull::new(ctx).unwrap())
    }

    /// The context of the calling thread: the main loop's for the main
    /// loop thread and for any thread holding the BQL, an `IOThread`'s for
    /// that `IOThread` (`qemu_get_current_aio_context()`).
    pub fn current() -> Self {
        // SAFETY: every thread that runs QEMU code has a current context.
        let ctx = unsafe { bindings::qemu_get_current_aio_context() };
        AioContext(NonNull::new(ctx).unwrap())
    }

    /// Wrap a context pointer from C.
    ///
    /// # Safety
    ///
    /// `ctx` must point to an `AioContext` that stays alive as long as the
    /// returned handle (or its copies) is used.
    pub unsafe fn from_raw(ctx: *mut bindings::AioContext) -> Self {
        AioContext(NonNull::new(ctx).unwrap())
    }

    pub const fn as_mut_ptr(&self) -> *mut bindings::AioContext {
        self.0.as_ptr()
    }

    /// Whether the calling thread runs this context's handlers.
    pub fn is_current(&self) -> bool {
        *self == Self::current()
    }

    /// Run `f` in this context's thread, between two of its handlers, and
    /// wait until it has run (`aio_wait_bh_oneshot()`); runs it at once if
    /// this is the calling thread's context.  Once it returns, no handler
    /// of this context that started before the call is still running.
    ///
    /// The caller must hold the BQL, and must not hold anything `f` or a
    /// handler of this context waits for.
    pub fn run_and_wait<F: FnOnce() + Send>(&self, f: F) {
        if self.is_current() {
            f();
            return;
        }
        unsafe extern "C" fn call_once<F: FnOnce() + Send>(opaque: *mut c_void) {
            // SAFETY: `opaque` is the `Option<F>` of run_and_wait(), which
            // waits for this call.
            let f = unsafe { &mut *opaque.cast::<Option<F>>() };
            if let Some(f) = f.take() {
                f();
            }
        }
        let mut f = Some(f);
        // SAFETY: aio_wait_bh_oneshot() returns only once the bottom half
        // ran, so `f` outlives it; the BQL is held (the caller's duty).
        unsafe {
            bindings::aio_wait_bh_oneshot(
                self.as_mut_ptr(),
                Some(call_once::<F>),
                std::ptr::addr_of_mut!(f).cast(),
            );
        }
    }
}
