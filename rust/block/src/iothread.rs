// Copyright 2026 The ocp-nvme developers
// SPDX-License-Identifier: GPL-2.0-or-later

//! `IOThread`s (`-object iothread,id=...`): event loops of their own, where
//! a device can run its block I/O and its queue processing without the
//! BQL.

use std::{ffi::CString, ptr::NonNull};

use util::aio::AioContext;

use crate::bindings;

/// An `IOThread` object, referenced as long as this value lives, so that
/// its `AioContext` does too.
#[derive(Debug)]
pub struct IoThread(NonNull<bindings::IOThread>);

// SAFETY: object_ref() and object_unref() are atomic, and the `IOThread`'s
// AioContext is made for use from several threads.
unsafe impl Send for IoThread {}
unsafe impl Sync for IoThread {}

impl IoThread {
    /// The `IOThread` named `id` (its `id` or a QOM path), as the `iothread`
    /// property of QEMU's devices finds it.  The BQL must be held.
    pub fn find(id: &str) -> Result<IoThread, String> {
        assert!(bql::is_locked());
        let path = CString::new(id).map_err(|_| format!("no IOThread '{id}'"))?;
        // SAFETY: `path` and the type name are valid C strings; a NULL
        // `ambiguous` asks for a unique match.
        let obj = unsafe {
            bindings::object_resolve_path_type(
                path.as_ptr(),
                c"iothread".as_ptr(),
                std::ptr::null_mut(),
            )
        };
        let obj = NonNull::new(obj).ok_or_else(|| format!("no IOThread '{id}'"))?;
        // SAFETY: `obj` is a live object; the reference is dropped in drop().
        unsafe {
            bindings::object_ref(obj.as_ptr().cast());
        }
        Ok(IoThread(obj.cast()))
    }

    /// The `IOThread`'s event loop (`iothread_get_aio_context()`).
    pub fn aio_context(&self) -> AioContext {
        // SAFETY: the `IOThread` is alive (referenced), and so is its
        // context, which the handle must not outlive (documented there).
        unsafe {
            let ctx = bindings::iothread_get_aio_context(self.0.as_ptr());
            AioContext::from_raw(ctx.cast())
        }
    }
}

impl Drop for IoThread {
    fn drop(&mut self) {
        // SAFETY: the reference taken in find().
        unsafe {
            bindings::object_unref(self.0.as_ptr().cast());
        }
    }
}
