// Copyright 2025 The ocp-nvme developers
// SPDX-License-Identifier: GPL-2.0-or-later

//! Notification when the virtual machine starts or stops running, for
//! devices (`qdev_add_vm_change_state_handler()`).

use std::{ffi::c_void, ptr::NonNull};

use common::callbacks::FnCall;

use crate::{bindings, DeviceState};

/// A run state change handler bound to an object of type `T`; removed when
/// dropped.
#[derive(Debug)]
pub struct VmStateChangeHandler(NonNull<bindings::VMChangeStateEntry>);

// SAFETY: added and removed under the BQL only.
unsafe impl Send for VmStateChangeHandler {}
unsafe impl Sync for VmStateChangeHandler {}

impl VmStateChangeHandler {
    /// Call `F` with `opaque` and whether the machine now runs, each time it
    /// starts or stops.  The handlers of qdev devices run in tree order (the
    /// priority is the device's depth): a parent before its children when
    /// the machine starts, after them when it stops.  `vm_stop()` calls the
    /// handlers before it drains the block layer.
    ///
    /// # Safety
    ///
    /// `opaque` must outlive the handler (typically it is the device, and
    /// the handler is dropped at unrealize).
    pub unsafe fn new<T, F: for<'a> FnCall<(&'a T, bool)>>(
        dev: &DeviceState,
        _cb: F,
        opaque: &T,
    ) -> Self {
        const { assert!(F::IS_SOME) };
        unsafe extern "C" fn rust_vm_state_cb<T, F: for<'a> FnCall<(&'a T, bool)>>(
            opaque: *mut c_void,
            running: bool,
            _state: bindings::RunState,
        ) {
            // SAFETY: opaque is the reference passed to new(), alive per
            // new()'s contract.
            F::call((unsafe { &*(opaque.cast::<T>()) }, running))
        }
        assert!(bql::is_locked());
        // SAFETY: dev is a live device; the callback and opaque stay valid
        // until the entry is deleted in drop().  The function allocates the
        // entry (it never returns NULL).
        let entry = unsafe {
            bindings::qdev_add_vm_change_state_handler(
                dev.as_mut_ptr(),
                Some(rust_vm_state_cb::<T, F>),
                None,
                (opaque as *const T).cast_mut().cast(),
            )
        };
        VmStateChangeHandler(NonNull::new(entry).unwrap())
    }
}

impl Drop for VmStateChangeHandler {
    fn drop(&mut self) {
        assert!(bql::is_locked());
        // SAFETY: created in new(), deleted exactly once.
        unsafe { bindings::qemu_del_vm_change_state_handler(self.0.as_ptr()) }
    }
}
