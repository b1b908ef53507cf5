// Copyright 2025 The ocp-nvme developers
// SPDX-License-Identifier: GPL-2.0-or-later

//! Notification when the virtual machine starts or stops running
//! (`qdev_add_vm_change_state_handler()`).

use std::os::raw::c_void;

use crate::{bindings, callbacks::FnCall, cell::bql_locked, qdev::DeviceState};

/// A run state change handler bound to an object of type `T`; removed when
/// dropped.
#[derive(Debug)]
pub struct VmStateChangeHandler {
    entry: *mut bindings::VMChangeStateEntry,
}

// SAFETY: added and removed under the BQL only.
unsafe impl Send for VmStateChangeHandler {}
unsafe impl Sync for VmStateChangeHandler {}

impl VmStateChangeHandler {
    /// Call `F` with `owner` and whether the machine now runs, each time it
    /// starts or stops. Handlers of qdev devices run in tree order: a
    /// parent before its children when the machine starts, after them when
    /// it stops; a stop calls them before the block layer drains.
    ///
    /// # Safety
    ///
    /// `owner` must outlive the handler (typically both live in the same
    /// device, and the handler is dropped at unrealize).
    pub unsafe fn new<T, F: for<'a> FnCall<(&'a T, bool)>>(
        owner: &T,
        dev: &DeviceState,
        _cb: F,
    ) -> Self {
        let _: () = F::ASSERT_IS_SOME;
        unsafe extern "C" fn rust_vm_state_cb<T, F: for<'a> FnCall<(&'a T, bool)>>(
            opaque: *mut c_void,
            running: bool,
            _state: bindings::RunState,
        ) {
            // SAFETY: opaque is the owner passed to new(), alive per contract.
            F::call((unsafe { &*(opaque.cast::<T>()) }, running))
        }
        assert!(bql_locked());
        // SAFETY: dev is a live device; the callback and opaque stay valid
        // until the entry is deleted in drop().
        let entry = unsafe {
            bindings::qdev_add_vm_change_state_handler(
                dev.as_mut_ptr(),
                Some(rust_vm_state_cb::<T, F>),
                (owner as *const T as *mut T).cast(),
            )
        };
        VmStateChangeHandler { entry }
    }
}

impl Drop for VmStateChangeHandler {
    fn drop(&mut self) {
        assert!(bql_locked());
        // SAFETY: created in new(), deleted exactly once.
        unsafe { bindings::qemu_del_vm_change_state_handler(self.entry) }
    }
}
