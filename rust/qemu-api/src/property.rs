// Copyright 2025 The ocp-nvme developers
// SPDX-License-Identifier: GPL-2.0-or-later

//! Dynamic QOM properties whose value is computed by callbacks, so that a
//! device can expose state that changes at run time (`qom-get`/`qom-set`).

use std::{
    ffi::CString,
    os::raw::{c_char, c_void},
};

use crate::{
    bindings::{self, Error, Visitor},
    cell::bql_locked,
    error::error_set_message,
    prelude::*,
};

/// Getter and setter of one `uint64` property; `tag` tells properties that
/// share the callbacks apart.
struct U64Property<T> {
    get: fn(&T, usize) -> u64,
    set: fn(&T, usize, u64) -> Result<(), String>,
    tag: usize,
}

unsafe extern "C" fn rust_prop_get_u64<T>(
    obj: *mut bindings::Object,
    v: *mut Visitor,
    name: *const c_char,
    opaque: *mut c_void,
    errp: *mut *mut Error,
) {
    // SAFETY: opaque is the U64Property<T> registered with the property
    // and obj the T it was added to.
    let (prop, owner) = unsafe { (&*opaque.cast::<U64Property<T>>(), &*obj.cast::<T>()) };
    let mut value = (prop.get)(owner, prop.tag);
    // SAFETY: visitor arguments come straight from QOM.
    unsafe {
        bindings::visit_type_uint64(v, name, &mut value, errp);
    }
}

unsafe extern "C" fn rust_prop_set_u64<T>(
    obj: *mut bindings::Object,
    v: *mut Visitor,
    name: *const c_char,
    opaque: *mut c_void,
    errp: *mut *mut Error,
) {
    // SAFETY: as in rust_prop_get_u64.
    let (prop, owner) = unsafe { (&*opaque.cast::<U64Property<T>>(), &*obj.cast::<T>()) };
    let mut value = 0u64;
    // SAFETY: visitor arguments come straight from QOM.
    if !unsafe { bindings::visit_type_uint64(v, name, &mut value, errp) } {
        return;
    }
    if let Err(msg) = (prop.set)(owner, prop.tag, value) {
        // SAFETY: errp comes from QOM.
        unsafe {
            error_set_message(errp, &msg);
        }
    }
}

unsafe extern "C" fn rust_prop_release_u64<T>(
    _obj: *mut bindings::Object,
    _name: *const c_char,
    opaque: *mut c_void,
) {
    // SAFETY: opaque was leaked from a Box in add_u64_property.
    drop(unsafe { Box::from_raw(opaque.cast::<U64Property<T>>()) });
}

/// Add a `uint64` property `name` to `owner`, read with `get` and written
/// with `set` (whose error message goes back to the user).  Call it from
/// `INSTANCE_INIT` so that `-device` options can set it too.
pub fn add_u64_property<T: IsA<Object>>(
    owner: &T,
    name: &str,
    tag: usize,
    get: fn(&T, usize) -> u64,
    set: fn(&T, usize, u64) -> Result<(), String>,
) {
    assert!(bql_locked());
    let cname = CString::new(name).unwrap();
    let prop = Box::new(U64Property { get, set, tag });
    let type_name = crate::c_str!("uint64");
    // SAFETY: owner is a live QOM object; QOM copies the name and calls
    // release (freeing prop) when the object goes away.
    unsafe {
        bindings::object_property_add(
            owner.as_object_mut_ptr(),
            cname.as_ptr(),
            type_name.as_ptr(),
            Some(rust_prop_get_u64::<T>),
            Some(rust_prop_set_u64::<T>),
            Some(rust_prop_release_u64::<T>),
            Box::into_raw(prop).cast(),
        );
    }
}
