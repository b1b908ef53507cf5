// Copyright 2025 The ocp-nvme developers
// SPDX-License-Identifier: GPL-2.0-or-later

//! Bindings for block devices: the `drive` property's `BlockConf`, the
//! `BlockBackend` AIO interface with completion callbacks, and I/O
//! accounting.

use std::{
    os::raw::{c_int, c_void},
    ptr::{addr_of_mut, NonNull},
};

pub use bindings::{BlockAcctCookie, BlockAcctType, BlockConf};

use crate::{
    bindings::{self, Error},
    cell::{bql_locked, Opaque},
    dma::SgList,
    error::take_error,
};

/// A request in flight on a [`BlockBackend`].  The backend owns the boxed
/// request until the I/O finishes, then hands it back through
/// [`complete`](AioRequest::complete) with the result (0 or `-errno`).
pub trait AioRequest: Sized {
    fn complete(self: Box<Self>, ret: i32);
}

/// A request whose data moves between guest memory and the backend.
pub trait DmaRequest: AioRequest {
    /// The guest ranges to transfer; they stay valid until `complete`.
    fn sg_list(&mut self) -> &mut SgList;
}

/// A request that reads into a buffer of the device's own (not guest
/// memory).
pub trait BufferRequest: AioRequest {
    /// The buffer to fill; it stays valid until `complete`.
    fn buffer(&mut self) -> &mut IoBuffer;
}

/// A byte buffer with the I/O vector the block layer fills it through.
/// Boxed so that the vector's addresses stay put while a request is in
/// flight.
#[derive(Debug)]
pub struct IoBuffer(Box<IoBufferInner>);

#[derive(Debug)]
struct IoBufferInner {
    data: Vec<u8>,
    iov: bindings::iovec,
    qiov: bindings::QEMUIOVector,
}

// SAFETY: the vector only points into the buffer it is part of.
unsafe impl Send for IoBuffer {}

impl IoBuffer {
    /// A zeroed buffer of `len` bytes.
    pub fn new(len: usize) -> Self {
        let mut inner = Box::new(IoBufferInner {
            data: vec![0; len],
            iov: bindings::iovec {
                iov_base: std::ptr::null_mut(),
                iov_len: 0,
            },
            // SAFETY: QEMUIOVector is plain C data; all-zero is a valid
            // empty vector, initialized below.
            qiov: unsafe { std::mem::zeroed() },
        });
        inner.iov.iov_base = inner.data.as_mut_ptr().cast();
        inner.iov.iov_len = len;
        let iov = addr_of_mut!(inner.iov);
        // SAFETY: one iovec that lives in the same box as the vector.
        unsafe {
            bindings::qemu_iovec_init_external(&mut inner.qiov, iov, 1);
        }
        IoBuffer(inner)
    }

    /// The bytes.
    pub fn data(&self) -> &[u8] {
        &self.0.data
    }

    fn qiov(&mut self) -> *mut bindings::QEMUIOVector {
        &mut self.0.qiov
    }
}

unsafe extern "C" fn rust_aio_complete<R: AioRequest>(opaque: *mut c_void, ret: c_int) {
    // SAFETY: opaque is the Box<R> leaked when the request was submitted;
    // the block layer calls the completion exactly once.
    let req = unsafe { Box::from_raw(opaque.cast::<R>()) };
    req.complete(ret);
}

/// A safe wrapper around `BlockBackend`.
#[repr(transparent)]
#[derive(Debug, qemu_api_macros::Wrapper)]
pub struct BlockBackend(Opaque<bindings::BlockBackend>);

unsafe impl Send for BlockBackend {}
unsafe impl Sync for BlockBackend {}

impl BlockBackend {
    /// The backend attached through a `drive` property, if any.
    pub fn from_conf(conf: &BlockConf) -> Option<&BlockBackend> {
        // SAFETY: the property code keeps the backend attached to the device
        // for as long as the device exists.
        NonNull::new(conf.blk).map(|blk| unsafe { BlockBackend::from_raw(blk.as_ptr()) })
    }

    /// Size of the backend in bytes.
    pub fn length(&self) -> Result<u64, i32> {
        // SAFETY: plain query on a valid backend.
        let len = unsafe { bindings::blk_getlength(self.as_mut_ptr()) };
        u64::try_from(len).map_err(|_| len as i32)
    }

    /// Whether the backend can be opened for writing (before the device
    /// takes its permissions).
    pub fn supports_write_perm(&self) -> bool {
        // SAFETY: plain query.
        unsafe { bindings::blk_supports_write_perm(self.as_mut_ptr()) }
    }

    /// Whether the device holds write permission (after
    /// [`blkconf_apply_backend_options`]).
    pub fn is_writable(&self) -> bool {
        // SAFETY: plain query.
        unsafe { bindings::blk_is_writable(self.as_mut_ptr()) }
    }

    pub fn write_cache_enabled(&self) -> bool {
        // SAFETY: plain query.
        unsafe { bindings::blk_enable_write_cache(self.as_mut_ptr()) }
    }

    pub fn set_write_cache(&self, enabled: bool) {
        assert!(bql_locked());
        // SAFETY: plain setter.
        unsafe { bindings::blk_set_enable_write_cache(self.as_mut_ptr(), enabled) }
    }

    /// Wait until every request in flight has completed (completions run
    /// from inside this call).
    pub fn drain(&self) {
        assert!(bql_locked());
        // SAFETY: valid backend, BQL held.
        unsafe { bindings::blk_drain(self.as_mut_ptr()) }
    }

    pub fn aio_flush<R: AioRequest>(&self, req: Box<R>) {
        // SAFETY: the callback takes ownership of the leaked box.
        unsafe {
            bindings::blk_aio_flush(
                self.as_mut_ptr(),
                Some(rust_aio_complete::<R>),
                Box::into_raw(req).cast(),
            );
        }
    }

    pub fn aio_pdiscard<R: AioRequest>(&self, offset: u64, bytes: u64, req: Box<R>) {
        // SAFETY: as in aio_flush; offsets beyond i64 fail in the block layer.
        unsafe {
            bindings::blk_aio_pdiscard(
                self.as_mut_ptr(),
                offset as i64,
                bytes as i64,
                Some(rust_aio_complete::<R>),
                Box::into_raw(req).cast(),
            );
        }
    }

    pub fn aio_pwrite_zeroes<R: AioRequest>(
        &self,
        offset: u64,
        bytes: u64,
        may_unmap: bool,
        req: Box<R>,
    ) {
        let flags = if may_unmap {
            bindings::BDRV_REQ_MAY_UNMAP
        } else {
            0
        };
        // SAFETY: as in aio_flush.
        unsafe {
            bindings::blk_aio_pwrite_zeroes(
                self.as_mut_ptr(),
                offset as i64,
                bytes as i64,
                flags,
                Some(rust_aio_complete::<R>),
                Box::into_raw(req).cast(),
            );
        }
    }

    /// Read from the backend at `offset` into the request's guest ranges.
    pub fn dma_read<R: DmaRequest>(&self, offset: u64, align: u32, req: Box<R>) {
        self.dma_io(bindings::dma_blk_read, offset, align, req);
    }

    /// Write the request's guest ranges to the backend at `offset`.
    pub fn dma_write<R: DmaRequest>(&self, offset: u64, align: u32, req: Box<R>) {
        self.dma_io(bindings::dma_blk_write, offset, align, req);
    }

    /// Write the request's guest ranges to the backend at `offset` with
    /// Force Unit Access (`BDRV_REQ_FUA`): the data is on stable storage
    /// when the request completes (the block layer flushes after the
    /// write where the driver cannot do FUA itself).
    pub fn dma_write_fua<R: DmaRequest>(&self, offset: u64, align: u32, mut req: Box<R>) {
        unsafe extern "C" fn write_fua(
            offset: i64,
            iov: *mut bindings::QEMUIOVector,
            cb: bindings::BlockCompletionFunc,
            cb_opaque: *mut c_void,
            opaque: *mut c_void,
        ) -> *mut bindings::BlockAIOCB {
            // SAFETY: opaque is the backend passed to dma_blk_io below;
            // dma_blk_io passes a vector valid until cb runs.
            unsafe {
                bindings::blk_aio_pwritev(
                    opaque.cast(),
                    offset,
                    iov,
                    bindings::BDRV_REQ_FUA,
                    cb,
                    cb_opaque,
                )
            }
        }
        let sg = req.sg_list().as_mut_ptr();
        // SAFETY: as in dma_io, with the backend as the I/O function's
        // opaque like dma_blk_write() passes it.
        unsafe {
            bindings::dma_blk_io(
                sg,
                offset,
                align,
                Some(write_fua),
                self.as_mut_ptr().cast(),
                Some(rust_aio_complete::<R>),
                Box::into_raw(req).cast(),
                bindings::DMA_DIRECTION_TO_DEVICE,
            );
        }
    }

    /// Read the request's buffer's length from the backend at `offset`
    /// into the buffer.
    pub fn aio_read_buffer<R: BufferRequest>(&self, offset: u64, mut req: Box<R>) {
        let qiov = req.buffer().qiov();
        // SAFETY: the vector and its buffer live inside the request, which
        // stays alive (leaked) until the completion callback.
        unsafe {
            bindings::blk_aio_preadv(
                self.as_mut_ptr(),
                offset as i64,
                qiov,
                0,
                Some(rust_aio_complete::<R>),
                Box::into_raw(req).cast(),
            );
        }
    }

    fn dma_io<R: DmaRequest>(
        &self,
        start: unsafe extern "C" fn(
            *mut bindings::BlockBackend,
            *mut bindings::QEMUSGList,
            u64,
            u32,
            bindings::BlockCompletionFunc,
            *mut c_void,
        ) -> *mut bindings::BlockAIOCB,
        offset: u64,
        align: u32,
        mut req: Box<R>,
    ) {
        let sg = req.sg_list().as_mut_ptr();
        // SAFETY: the list lives inside the request, which stays alive
        // (leaked) until the completion callback.
        unsafe {
            start(
                self.as_mut_ptr(),
                sg,
                offset,
                align,
                Some(rust_aio_complete::<R>),
                Box::into_raw(req).cast(),
            );
        }
    }

    /// Start accounting an operation of `bytes` bytes (`info blockstats`).
    pub fn acct_start(&self, cookie: &mut BlockAcctCookie, bytes: u64, kind: BlockAcctType) {
        // SAFETY: the stats belong to the backend; cookie is caller-owned.
        unsafe {
            bindings::block_acct_start(
                bindings::blk_get_stats(self.as_mut_ptr()),
                cookie,
                bytes as i64,
                kind,
            )
        }
    }

    /// Finish accounting an operation started with `acct_start`.
    pub fn acct_done(&self, cookie: &mut BlockAcctCookie, ok: bool) {
        // SAFETY: as in acct_start.
        unsafe {
            let stats = bindings::blk_get_stats(self.as_mut_ptr());
            if ok {
                bindings::block_acct_done(stats, cookie);
            } else {
                bindings::block_acct_failed(stats, cookie);
            }
        }
    }

    /// Count a request rejected before it reached the backend.
    pub fn acct_invalid(&self, kind: BlockAcctType) {
        // SAFETY: as in acct_start.
        unsafe { bindings::block_acct_invalid(bindings::blk_get_stats(self.as_mut_ptr()), kind) }
    }
}

/// Resolve the block size properties of `conf` against the backend
/// (`blkconf_blocksizes`).
///
/// # Safety
///
/// `conf` must point to the `BlockConf` property storage of a device that
/// is being realized, with no reference to it alive.
pub unsafe fn blkconf_blocksizes(conf: *mut BlockConf) -> Result<(), String> {
    let mut err: *mut Error = std::ptr::null_mut();
    // SAFETY: per the function's contract.
    if unsafe { bindings::blkconf_blocksizes(conf, addr_of_mut!(err)) } {
        Ok(())
    } else {
        // SAFETY: err was set by the call above, and is ours.
        Err(unsafe { take_error(err, "invalid block sizes") })
    }
}

/// Apply `write-cache`, read-only and permission options of `conf` to the
/// backend (`blkconf_apply_backend_options`).
///
/// # Safety
///
/// As for [`blkconf_blocksizes`].
pub unsafe fn blkconf_apply_backend_options(
    conf: *mut BlockConf,
    read_only: bool,
    resizable: bool,
) -> Result<(), String> {
    let mut err: *mut Error = std::ptr::null_mut();
    // SAFETY: per the function's contract.
    if unsafe {
        bindings::blkconf_apply_backend_options(conf, read_only, resizable, addr_of_mut!(err))
    } {
        Ok(())
    } else {
        // SAFETY: err was set by the call above, and is ours.
        Err(unsafe { take_error(err, "cannot use the drive") })
    }
}
