// Copyright 2025 The ocp-nvme developers
// SPDX-License-Identifier: GPL-2.0-or-later

//! Passing error messages to and from QEMU's C `Error` objects.

use std::{
    ffi::{CStr, CString},
    os::raw::c_int,
};

use crate::bindings::{self, Error};

/// Store `msg` into `errp` like `error_setg()`.
///
/// # Safety
///
/// `errp` must be a valid `Error **` as passed by QEMU to a callback.
pub unsafe fn error_set_message(errp: *mut *mut Error, msg: &str) {
    let msg = CString::new(msg.replace('\0', " ")).unwrap();
    let (file, func, fmt) = (
        crate::c_str!(file!()),
        crate::c_str!("error_set_message"),
        crate::c_str!("%s"),
    );
    // SAFETY: "%s" with a valid NUL-terminated string; errp is valid per
    // the caller's contract.
    unsafe {
        bindings::error_setg_internal(
            errp,
            file.as_ptr(),
            line!() as c_int,
            func.as_ptr(),
            fmt.as_ptr(),
            msg.as_ptr(),
        );
    }
}

/// Turn a C `Error` returned by a QEMU function into its message and free
/// it; `fallback` if there is none.
///
/// # Safety
///
/// `err` must be NULL or an `Error` that the caller owns.
pub unsafe fn take_error(err: *mut Error, fallback: &str) -> String {
    if err.is_null() {
        return fallback.to_string();
    }
    // SAFETY: per the function's contract.
    unsafe {
        let msg = bindings::error_get_pretty(err);
        let text = if msg.is_null() {
            fallback.to_string()
        } else {
            CStr::from_ptr(msg).to_string_lossy().into_owned()
        };
        bindings::error_free(err);
        text
    }
}
