// Copyright 2025 The ocp-nvme developers
// SPDX-License-Identifier: GPL-2.0-or-later

//! Logging to QEMU's `-d` log, e.g. guest errors (`-d guest_errors`).

use std::ffi::CString;

use crate::bindings;

/// Log categories (`LOG_*` masks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Log {
    /// The guest did something the hardware does not allow.
    GuestError = bindings::LOG_GUEST_ERROR,
    /// The guest used a feature the device does not implement.
    Unimp = bindings::LOG_UNIMP,
}

/// Whether messages of `kind` are being logged.
pub fn log_enabled(kind: Log) -> bool {
    // SAFETY: qemu_loglevel is a plain int read by C the same way.
    unsafe { bindings::qemu_loglevel & (kind as i32) != 0 }
}

/// Write `msg` (one line, a newline is added) to the log if `kind` is on.
pub fn log_mask(kind: Log, msg: &str) {
    if !log_enabled(kind) {
        return;
    }
    let line = CString::new(format!("{}\n", msg.replace('\0', " "))).unwrap();
    let fmt = crate::c_str!("%s");
    // SAFETY: "%s" with a valid NUL-terminated string.
    unsafe {
        bindings::qemu_log(fmt.as_ptr(), line.as_ptr());
    }
}

/// Log a formatted message under a category, like C's `qemu_log_mask()`.
#[macro_export]
macro_rules! qemu_log_mask {
    ($kind:expr, $($arg:tt)*) => {
        if $crate::log::log_enabled($kind) {
            $crate::log::log_mask($kind, &format!($($arg)*));
        }
    };
}
