// Copyright 2025 The ocp-nvme developers
// SPDX-License-Identifier: GPL-2.0-or-later

//! Property types for `#[property]` fields of `#[derive(Device)]` structs
//! whose C storage is not a plain Rust integer: strings, sizes and
//! `OnOffAuto`.

use std::{
    ffi::{c_char, CStr},
    ptr::{addr_of, NonNull},
};

use crate::{bindings, qdev::QDevProp, DeviceState};

/// A string property (`qdev_prop_string`): a C string owned by the device
/// (freed by the property's release function), or none if the user did
/// not set it and it has no default.
#[repr(transparent)]
#[derive(Debug)]
pub struct PropString(*mut c_char);

// SAFETY: written only by the qdev property setter before realize, under
// the BQL; read-only afterwards.
unsafe impl Send for PropString {}
unsafe impl Sync for PropString {}

// SAFETY: qdev_prop_string stores a `char *`, which is what PropString
// holds (repr(transparent)).
unsafe impl QDevProp for PropString {
    const BASE_INFO: *const bindings::PropertyInfo = addr_of!(bindings::qdev_prop_string);
}

impl PropString {
    /// The value as a C string, if set.
    pub fn as_c_str(&self) -> Option<&CStr> {
        // SAFETY: the property setter stores a NUL-terminated string that
        // lives until the property is released with the device.
        NonNull::new(self.0).map(|p| unsafe { CStr::from_ptr(p.as_ptr()) })
    }

    /// The value as a Rust string (invalid UTF-8 replaced), if set.
    pub fn to_string_lossy(&self) -> Option<String> {
        self.as_c_str().map(|s| s.to_string_lossy().into_owned())
    }
}

/// A size property of 32 bits (`qdev_prop_size32`), which accepts suffixes
/// such as `4k` on the command line.
#[repr(transparent)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Size32(pub u32);

// SAFETY: qdev_prop_size32 stores a uint32_t.
unsafe impl QDevProp for Size32 {
    const BASE_INFO: *const bindings::PropertyInfo = addr_of!(bindings::qdev_prop_size32);
}

/// An `on`/`off`/`auto` property (`qdev_prop_on_off_auto`).
#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OnOffAutoProperty(pub bindings::OnOffAuto);

// SAFETY: qdev_prop_on_off_auto stores an OnOffAuto, a C enum.
unsafe impl QDevProp for OnOffAutoProperty {
    const BASE_INFO: *const bindings::PropertyInfo = addr_of!(bindings::qdev_prop_on_off_auto);
}

/// Access to the memory reentrancy guard of a device, for callbacks that
/// are not MMIO handlers (bottom halves) but must not re-enter the device
/// through DMA to its own registers.
pub trait DeviceReentrancyGuard {
    /// The device's `mem_reentrancy_guard`, for
    /// [`util::bh::BottomHalf::new`].
    fn mem_reentrancy_guard(&self) -> NonNull<util::bindings::MemReentrancyGuard>;

    /// Run `f` with the guard engaged, as QEMU does around an MMIO handler
    /// or a guarded bottom half: an access that `f` makes to the device's
    /// own MMIO regions is refused ("Blocked re-entrant IO") instead of
    /// entering the device.  The BQL must be held.
    fn with_reentrancy_guard<R>(&self, f: impl FnOnce() -> R) -> R {
        let guard = self.mem_reentrancy_guard().as_ptr();
        // SAFETY: the guard lives as long as the device, and the BQL
        // serializes every access to it.
        let was =
            unsafe { std::ptr::replace(std::ptr::addr_of_mut!((*guard).engaged_in_io), true) };
        let r = f();
        // SAFETY: as above.
        unsafe {
            *std::ptr::addr_of_mut!((*guard).engaged_in_io) = was;
        }
        r
    }
}

impl DeviceReentrancyGuard for DeviceState {
    fn mem_reentrancy_guard(&self) -> NonNull<util::bindings::MemReentrancyGuard> {
        // SAFETY: the guard is a field of the device, so the pointer is
        // valid for as long as the device.
        let guard = unsafe { std::ptr::addr_of_mut!((*self.as_mut_ptr()).mem_reentrancy_guard) };
        NonNull::new(guard.cast()).unwrap()
    }
}
