// SPDX-License-Identifier: GPL-2.0-or-later
//! Migration and snapshots: the device's `VMStateDescription`.
//!
//! The state is the PCI device (configuration space, INTx level), its
//! MSI-X table and pending bits, and the engine's whole state as one
//! versioned blob (`Controller::save_state`, which carries its own format
//! version, configuration fingerprint and optional sections).  QEMU stops
//! the machine (the run state handler quiesces the engine) and drains the
//! block layer before it saves devices, so no storage request is in flight
//! then; requests the engine parked travel in the blob and start on the
//! destination when the machine runs.  After loading, the engine's timer is
//! re-armed from its deadline.

use std::{
    ffi::{c_char, c_int, c_uint, c_void, CString},
    mem::size_of,
    ptr::addr_of,
};

use bql::BqlRefCell;
use common::{Errno, Zeroable};
use migration::{
    bindings::{JSONWriter, QEMUFile, VMStateFlags, VMStateInfo},
    VMState, VMStateField,
};

/// Largest engine state accepted from a migration stream (the engine's is
/// tens of KiB; a length beyond this is a corrupt stream, not an
/// allocation to attempt).
pub const MAX_BLOB: u32 = 64 << 20;

extern "C" {
    fn qemu_put_be32(f: *mut QEMUFile, v: c_uint);
    fn qemu_put_buffer(f: *mut QEMUFile, buf: *const u8, size: usize);
    fn qemu_get_be32(f: *mut QEMUFile) -> c_uint;
    fn qemu_get_buffer(f: *mut QEMUFile, buf: *mut u8, size: usize) -> usize;
    fn error_report(fmt: *const c_char, ...);
}

/// Report `msg` on QEMU's error output (what `migrate` and `loadvm` show).
pub fn report(msg: &str) {
    let msg = CString::new(msg.replace('\0', " ")).unwrap_or_default();
    // SAFETY: a "%s" format with one NUL-terminated string.
    unsafe {
        error_report(c"ocp-nvme: %s".as_ptr(), msg.as_ptr());
    }
}

/// The engine's saved state on its way through the migration stream: a
/// length (32-bit big-endian, as QEMU's buffers) and the bytes.  Filled by
/// the device's `pre_save`, consumed by its `post_load`.
#[derive(Default)]
pub struct EngineBlob(pub BqlRefCell<Vec<u8>>);

unsafe extern "C" fn blob_put(
    f: *mut QEMUFile,
    pv: *mut c_void,
    _size: usize,
    _field: *const VMStateField,
    _vmdesc: *mut JSONWriter,
) -> c_int {
    // SAFETY: the field's offset points at an EngineBlob (see BASE below).
    let blob = unsafe { &*pv.cast::<EngineBlob>() };
    let bytes = blob.0.borrow();
    let Ok(len) = u32::try_from(bytes.len()) else {
        report("engine state too large to migrate");
        return -libc::EINVAL;
    };
    // SAFETY: f is the stream being written; bytes is len bytes long.
    unsafe {
        qemu_put_be32(f, len);
        qemu_put_buffer(f, bytes.as_ptr(), bytes.len());
    }
    0
}

unsafe extern "C" fn blob_get(
    f: *mut QEMUFile,
    pv: *mut c_void,
    _size: usize,
    _field: *const VMStateField,
) -> c_int {
    // SAFETY: as in blob_put.
    let blob = unsafe { &*pv.cast::<EngineBlob>() };
    // SAFETY: f is the stream being read.
    let len = unsafe { qemu_get_be32(f) };
    if len > MAX_BLOB {
        report(&format!(
            "engine state of {len} bytes in the migration stream (at most {MAX_BLOB})"
        ));
        return -libc::EINVAL;
    }
    let mut bytes = vec![0u8; len as usize];
    // SAFETY: bytes has room for len bytes.
    let got = unsafe { qemu_get_buffer(f, bytes.as_mut_ptr(), bytes.len()) };
    if got != bytes.len() {
        report(&format!(
            "engine state truncated: {got} of {len} bytes in the migration stream"
        ));
        return -libc::EIO;
    }
    *blob.0.borrow_mut() = bytes;
    0
}

static ENGINE_BLOB_INFO: VMStateInfo = VMStateInfo {
    name: c"ocp-nvme-engine".as_ptr(),
    get: Some(blob_get),
    put: Some(blob_put),
};

// SAFETY: the get and put callbacks of ENGINE_BLOB_INFO take the field as
// an EngineBlob.
unsafe impl VMState for EngineBlob {
    const BASE: VMStateField = VMStateField {
        info: addr_of!(ENGINE_BLOB_INFO),
        size: size_of::<EngineBlob>(),
        flags: VMStateFlags::VMS_SINGLE,
        ..Zeroable::ZERO
    };
}

/// The errno a refused save or load returns.
pub fn errno(e: i32) -> Errno {
    Errno(u16::try_from(e).unwrap_or(libc::EINVAL as u16))
}
