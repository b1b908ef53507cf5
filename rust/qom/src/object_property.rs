// Copyright 2025 The ocp-nvme developers
// SPDX-License-Identifier: GPL-2.0-or-later

//! Run-time QOM properties whose value comes from callbacks
//! (`object_property_add()`), so that `qom-get` and `qom-set` see and change
//! live state.  qdev properties declared with `#[property]` are the right
//! tool for configuration: they are fields, and they can only be set before
//! the device is realized.

use std::ffi::{c_char, c_void, CString};

use util::Result;

use crate::{bindings, prelude::*};

/// Getter and setter of one `uint64` property; `tag` tells apart the
/// properties that share them.
struct U64Property<T> {
    get: fn(&T, usize) -> u64,
    set: fn(&T, usize, u64) -> Result<()>,
    tag: usize,
}

/// `ObjectPropertyAccessor` for reads.
///
/// # Safety
///
/// Installed by [`add_u64_property`] only: `opaque` is the `U64Property<T>`
/// registered with the property and `obj` the `T` it was added to; the
/// other arguments come from QOM.
unsafe extern "C" fn rust_prop_get_u64<T>(
    obj: *mut bindings::Object,
    v: *mut bindings::Visitor,
    name: *const c_char,
    opaque: *mut c_void,
    errp: *mut *mut bindings::Error,
) {
    // SAFETY: see the function's contract.
    let (prop, owner) = unsafe { (&*opaque.cast::<U64Property<T>>(), &*obj.cast::<T>()) };
    let mut value = (prop.get)(owner, prop.tag);
    // SAFETY: visit_type_uint64() with QOM's visitor, name and errp.
    unsafe {
        bindings::visit_type_uint64(v, name, &mut value, errp);
    }
}

/// `ObjectPropertyAccessor` for writes.
///
/// # Safety
///
/// As for [`rust_prop_get_u64`].
unsafe extern "C" fn rust_prop_set_u64<T>(
    obj: *mut bindings::Object,
    v: *mut bindings::Visitor,
    name: *const c_char,
    opaque: *mut c_void,
    errp: *mut *mut bindings::Error,
) {
    // SAFETY: see the function's contract.
    let (prop, owner) = unsafe { (&*opaque.cast::<U64Property<T>>(), &*obj.cast::<T>()) };
    let mut value = 0u64;
    // SAFETY: as in rust_prop_get_u64; on failure the visitor set *errp.
    if !unsafe { bindings::visit_type_uint64(v, name, &mut value, errp) } {
        return;
    }
    if let Err(err) = (prop.set)(owner, prop.tag, value) {
        // SAFETY: errp comes from QOM; both Error types are QEMU's
        // `struct Error`.
        unsafe {
            err.propagate(errp.cast());
        }
    }
}

/// `ObjectPropertyRelease`: frees the `U64Property<T>`.
///
/// # Safety
///
/// `opaque` was leaked from a `Box<U64Property<T>>` by
/// [`add_u64_property`]; QOM calls this once, when the property goes away.
unsafe extern "C" fn rust_prop_release_u64<T>(
    _obj: *mut bindings::Object,
    _name: *const c_char,
    opaque: *mut c_void,
) {
    // SAFETY: see the function's contract.
    drop(unsafe { Box::from_raw(opaque.cast::<U64Property<T>>()) });
}

/// Add a `uint64` property `name` to `owner`, read with `get` and written
/// with `set`, whose error goes back to the user (`-device` or `qom-set`).
/// `tag` is passed to both, so that several properties can share them.
/// Call it from `INSTANCE_POST_INIT`, so that `-device` options can set the
/// property too.
pub fn add_u64_property<T: IsA<Object>>(
    owner: &T,
    name: &str,
    tag: usize,
    get: fn(&T, usize) -> u64,
    set: fn(&T, usize, u64) -> Result<()>,
) {
    assert!(bql::is_locked());
    let cname = CString::new(name).unwrap();
    let prop = Box::new(U64Property { get, set, tag });
    // SAFETY: owner is a live object; object_property_add() copies the
    // name and type strings, keeps `prop` until it calls the release
    // function (when the object is finalized), and aborts if the property
    // already exists.
    unsafe {
        bindings::object_property_add(
            owner.upcast::<Object>().as_mut_ptr(),
            cname.as_ptr(),
            c"uint64".as_ptr(),
            Some(rust_prop_get_u64::<T>),
            Some(rust_prop_set_u64::<T>),
            Some(rust_prop_release_u64::<T>),
            Box::into_raw(prop).cast(),
        );
    }
}
