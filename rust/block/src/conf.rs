// Copyright 2025 The ocp-nvme developers
// SPDX-License-Identifier: GPL-2.0-or-later

//! The drive of a block device: qdev property types for `#[property]`
//! fields (`drive`, block sizes) and [`BlockConf`], which
//! `blkconf_blocksizes()` and `blkconf_apply_backend_options()` check and
//! apply to the backend.

use std::ptr::addr_of;

use hwcore::{OnOffAutoProperty, QDevProp, Size32};
use util::{Error, Result};

pub use crate::bindings::BlockConf;
use crate::{backend::BlockBackend, bindings};

/// A `drive` property (`qdev_prop_drive`): the `BlockBackend` that the
/// user attached with `drive=<id>`, or none.  The property code attaches
/// the backend to the device and detaches it when the device is
/// finalized, so it is valid for as long as the device.
#[repr(transparent)]
#[derive(Debug)]
pub struct DriveProperty(*mut bindings::BlockBackend);

// SAFETY: written only by the qdev property setter before realize, under
// the BQL; read-only afterwards.
unsafe impl Send for DriveProperty {}
unsafe impl Sync for DriveProperty {}

// SAFETY: qdev_prop_drive stores a `BlockBackend *`, which is what
// DriveProperty holds (repr(transparent)).
unsafe impl QDevProp for DriveProperty {
    const BASE_INFO: *const hwcore::bindings::PropertyInfo =
        addr_of!(hwcore::bindings::qdev_prop_drive);
}

impl DriveProperty {
    /// The attached backend, if any.
    pub fn backend(&self) -> Option<&BlockBackend> {
        // SAFETY: see the type's documentation: the property keeps the
        // backend attached as long as the device, which outlives &self.
        unsafe { BlockBackend::from_attached(self.0) }
    }

    fn as_ptr(&self) -> *mut bindings::BlockBackend {
        self.0
    }
}

/// A block size property (`qdev_prop_blocksize`): a power of two between
/// 512 bytes and 2 MiB, or 0 for "take it from the backend".
#[repr(transparent)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlockSize(pub u32);

// SAFETY: qdev_prop_blocksize stores a uint32_t.
unsafe impl QDevProp for BlockSize {
    const BASE_INFO: *const hwcore::bindings::PropertyInfo =
        addr_of!(hwcore::bindings::qdev_prop_blocksize);
}

impl BlockConf {
    /// A configuration for `drive` with the given sizes and write cache
    /// mode; the fields that the device has no property for keep the
    /// defaults of `DEFINE_BLOCK_PROPERTIES` (all zero: `auto` for the
    /// `OnOffAuto` fields).
    pub fn new(
        drive: &DriveProperty,
        logical_block_size: BlockSize,
        physical_block_size: BlockSize,
        discard_granularity: Size32,
        wce: OnOffAutoProperty,
    ) -> Self {
        BlockConf {
            blk: drive.as_ptr(),
            logical_block_size: logical_block_size.0,
            physical_block_size: physical_block_size.0,
            discard_granularity: discard_granularity.0,
            wce: wce.0,
            ..Default::default()
        }
    }

    /// Resolve unset block sizes against the backend and check them
    /// (`blkconf_blocksizes()`).
    pub fn blocksizes(&mut self) -> Result<()> {
        assert!(bql::is_locked());
        // SAFETY: self is a valid BlockConf whose `blk` is NULL or an
        // attached backend; blkconf_blocksizes() sets *errp exactly when
        // it returns false.
        let ok = unsafe { Error::with_errp(|errp| bindings::blkconf_blocksizes(self, errp)) }?;
        debug_assert!(ok);
        Ok(())
    }

    /// Take the device's permissions on the backend and apply the write
    /// cache, read-only and resizing options
    /// (`blkconf_apply_backend_options()`).
    pub fn apply_backend_options(&mut self, read_only: bool, resizable: bool) -> Result<()> {
        assert!(bql::is_locked());
        // SAFETY: as in blocksizes().
        let ok = unsafe {
            Error::with_errp(|errp| {
                bindings::blkconf_apply_backend_options(self, read_only, resizable, errp)
            })
        }?;
        debug_assert!(ok);
        Ok(())
    }
}
