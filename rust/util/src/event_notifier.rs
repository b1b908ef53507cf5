// Copyright 2026 The ocp-nvme developers
// SPDX-License-Identifier: GPL-2.0-or-later

//! Event notifiers (`EventNotifier`): an eventfd that the main loop
//! watches.  A device hands one to the memory API (ioeventfd) to learn of
//! doorbell writes without running its MMIO handler in the vCPU thread.

use std::{cell::UnsafeCell, io};

use common::callbacks::FnCall;

use crate::bindings;

/// The C notifier first, so that the handler finds `data` from the pointer
/// it gets.
#[repr(C)]
struct Inner<T> {
    notifier: UnsafeCell<bindings::EventNotifier>,
    data: T,
}

/// An event notifier owning `data`, with a handler in the main loop
/// (`event_notifier_set_handler()`) that gets `&data` each time the
/// notifier was set.  The handler is removed and the notifier closed when
/// it is dropped.
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
    pub fn new<F: for<'a> FnCall<(&'a T,)>>(_cb: F, data: T) -> io::Result<Self> {
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
            bindings::event_notifier_set_handler(inner.notifier.get(), Some(rust_handler::<T, F>));
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
        // SAFETY: initialized in new(); the handler goes first, so it never
        // runs on a closed notifier.
        unsafe {
            bindings::event_notifier_set_handler(self.0.notifier.get(), None);
            bindings::event_notifier_cleanup(self.0.notifier.get());
        }
    }
}
