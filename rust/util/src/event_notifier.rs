// Copyright 2026 The ocp-nvme developers
// SPDX-License-Identifier: GPL-2.0-or-later

//! Event notifiers (`EventNotifier`): an eventfd that the main loop or an
//! `IOThread` watches.  A device hands one to the memory API (ioeventfd) to
//! learn of doorbell writes without running its MMIO handler in the vCPU
//! thread.

use std::{cell::UnsafeCell, io};

use common::callbacks::FnCall;

use crate::{aio::AioContext, bindings};

/// The C notifier first, so that the handler finds `data` from the pointer
/// it gets.
#[repr(C)]
struct Inner<T> {
    notifier: UnsafeCell<bindings::EventNotifier>,
    /// Where the handler runs; `None`: the main loop's handlers.
    ctx: Option<AioContext>,
    data: T,
}

/// The C notifier, to remove its handler from inside its context.
struct NotifierPtr(*mut bindings::EventNotifier);

// SAFETY: only used by the thread of the notifier's context while the
// notifier's owner waits for it (`AioContext::run_and_wait`).
unsafe impl Send for NotifierPtr {}

/// An event notifier owning `data`, with a handler in the main loop
/// (`event_notifier_set_handler()`) or in a given `AioContext` that gets
/// `&data` each time the notifier was set.  The handler is removed and the
/// notifier closed when it is dropped.
#[derive(Debug)]
pub struct EventNotifier<T>(Box<Inner<T>>);

impl<T: std::fmt::Debug> std::fmt::Debug for Inner<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventNotifier")
            .field("data", &self.data)
            .finish_non_exhaustive()
    }
}

impl<T> EventNotifier<T> {
    /// A new notifier (`event_notifier_init()`, not set) whose handler in
    /// the main loop clears it (`event_notifier_test_and_clear()`) and, if
    /// it was set, calls `F` with `data`.
    pub fn new<F: for<'a> FnCall<(&'a T,)>>(cb: F, data: T) -> io::Result<Self> {
        Self::with_context(None, cb, data)
    }

    /// As [`new`](Self::new), with the handler in `ctx` (an `IOThread`'s:
    /// `aio_set_event_notifier()`), where it runs without the BQL.
    ///
    /// Such a notifier must be dropped with the BQL held or in `ctx`'s
    /// thread: the drop removes the handler from inside `ctx` and waits
    /// for it ([`AioContext::run_and_wait`]), so that it never frees
    /// `data` under a running handler.
    pub fn new_in<F: for<'a> FnCall<(&'a T,)>>(
        ctx: AioContext,
        cb: F,
        data: T,
    ) -> io::Result<Self> {
        Self::with_context(Some(ctx), cb, data)
    }

    fn with_context<F: for<'a> FnCall<(&'a T,)>>(
        ctx: Option<AioContext>,
        _cb: F,
        data: T,
    ) -> io::Result<Self> {
        const { assert!(F::IS_SOME) };
        unsafe extern "C" fn rust_handler<T, F: for<'a> FnCall<(&'a T,)>>(
            e: *mut bindings::EventNotifier,
        ) {
            // SAFETY: the handler is only set for the notifier inside an
            // Inner<T> (its first field), and removed before it is freed.
            let inner = unsafe { &*e.cast::<Inner<T>>() };
            if inner.test_and_clear() {
                F::call((&inner.data,));
            }
        }
        let inner = Box::new(Inner {
            notifier: UnsafeCell::new(bindings::EventNotifier {
                rfd: -1,
                wfd: -1,
                initialized: false,
            }),
            ctx,
            data,
        });
        // SAFETY: the notifier is valid and not yet initialized.
        let ret = unsafe { bindings::event_notifier_init(inner.notifier.get(), 0) };
        if ret < 0 {
            return Err(io::Error::from_raw_os_error(-ret));
        }
        // SAFETY: the notifier is initialized; the box keeps its address
        // until drop, which removes the handler first.
        unsafe {
            match ctx {
                None => bindings::event_notifier_set_handler(
                    inner.notifier.get(),
                    Some(rust_handler::<T, F>),
                ),
                Some(ctx) => bindings::aio_set_event_notifier(
                    ctx.as_mut_ptr(),
                    inner.notifier.get(),
                    Some(rust_handler::<T, F>),
                    None,
                    None,
                ),
            }
        }
        Ok(EventNotifier(inner))
    }

    /// The data the handler gets.
    pub fn data(&self) -> &T {
        &self.0.data
    }

    /// Whether the notifier was set, clearing it
    /// (`event_notifier_test_and_clear()`).
    pub fn test_and_clear(&self) -> bool {
        self.0.test_and_clear()
    }

    /// The C notifier, for the memory API.
    pub fn as_mut_ptr(&self) -> *mut bindings::EventNotifier {
        self.0.notifier.get()
    }
}

impl<T> Inner<T> {
    fn test_and_clear(&self) -> bool {
        // SAFETY: the notifier is initialized until drop; reading an
        // eventfd is safe from any thread.
        unsafe { bindings::event_notifier_test_and_clear(self.notifier.get()) != 0 }
    }
}

impl<T> Drop for EventNotifier<T> {
    fn drop(&mut self) {
        let notifier = self.0.notifier.get();
        match self.0.ctx {
            // SAFETY: initialized in new(); the handler goes first, so it
            // never runs on a closed notifier.
            None => unsafe { bindings::event_notifier_set_handler(notifier, None) },
            Some(ctx) => {
                let ptr = NotifierPtr(notifier);
                // Inside the context, between two of its handlers: once
                // this returns, the handler is neither running nor set.
                ctx.run_and_wait(move || {
                    let ptr = ptr;
                    // SAFETY: the notifier is initialized; this runs in
                    // `ctx`, whose handler it removes.
                    unsafe {
                        bindings::aio_set_event_notifier(ctx.as_mut_ptr(), ptr.0, None, None, None);
                    }
                });
            }
        }
        // SAFETY: initialized in with_context(), handler removed above.
        unsafe {
            bindings::event_notifier_cleanup(notifier);
        }
    }
}
