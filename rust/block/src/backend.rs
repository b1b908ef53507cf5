// Copyright 2025 The ocp-nvme developers
// SPDX-License-Identifier: GPL-2.0-or-later

//! `BlockBackend`: asynchronous I/O on the drive attached to a device,
//! and its I/O accounting.

use std::{
    ffi::{c_int, c_void},
    ptr::{addr_of_mut, NonNull},
};

use common::Opaque;
use util::{aio::AioContext, Error};

pub use crate::bindings::{BlockAcctCookie, BlockAcctType};
use crate::{bindings, sglist::SgList};

/// A request in flight on a [`BlockBackend`].  The block layer owns the
/// boxed request until the I/O finishes, then hands it back through
/// [`complete`](AioRequest::complete) with the result: 0 or more on
/// success, `-errno` on failure.
pub trait AioRequest: Sized {
    /// The request finished; `ret` is 0 (or a byte count) or `-errno`.
    fn complete(self: Box<Self>, ret: i32);
}

/// A request whose data moves between guest memory and the backend.
pub trait DmaRequest: AioRequest {
    /// The guest memory to transfer.  It stays valid until `complete`
    /// because it lives inside the request.
    fn sg_list(&mut self) -> &mut SgList;
}

/// A request that reads into, or writes from, a buffer of the device's
/// own (not guest memory).
pub trait BufferRequest: AioRequest {
    /// The buffer to fill or to write.  It stays valid until `complete`
    /// because it lives inside the request.
    fn buffer(&mut self) -> &mut IoBuffer;
}

/// A byte buffer with the one-element I/O vector (`QEMUIOVector`) that the
/// block layer fills it through.  Boxed, so that the vector's addresses
/// stay put while a request is in flight.
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
        Self::from_vec(vec![0; len])
    }

    /// A buffer holding `data` (what a buffered write writes).
    pub fn from_vec(data: Vec<u8>) -> Self {
        let len = data.len();
        let mut inner = Box::new(IoBufferInner {
            data,
            iov: bindings::iovec {
                iov_base: std::ptr::null_mut(),
                iov_len: 0,
            },
            qiov: bindings::QEMUIOVector::default(),
        });
        inner.iov.iov_base = inner.data.as_mut_ptr().cast();
        inner.iov.iov_len = len;
        let iov = addr_of_mut!(inner.iov);
        // SAFETY: qemu_iovec_init_external() only stores the pointer to
        // the iovec, which lives in the same box as the vector; it frees
        // nothing later (the vector does not own external iovecs).
        unsafe {
            bindings::qemu_iovec_init_external(&mut inner.qiov, iov, 1);
        }
        IoBuffer(inner)
    }

    /// The bytes.
    pub fn data(&self) -> &[u8] {
        &self.0.data
    }

    /// The bytes, to fill before a write.
    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.0.data
    }

    /// Number of bytes.
    pub fn len(&self) -> usize {
        self.0.data.len()
    }

    /// Whether the buffer has no byte.
    pub fn is_empty(&self) -> bool {
        self.0.data.is_empty()
    }

    fn qiov(&mut self) -> *mut bindings::QEMUIOVector {
        &mut self.0.qiov
    }
}

/// The `BlockCompletionFunc` of every request.
///
/// # Safety
///
/// `opaque` must be a `Box<R>` leaked by [`BlockBackend::submit`], and the
/// block layer calls each completion exactly once.
unsafe extern "C" fn rust_aio_complete<R: AioRequest>(opaque: *mut c_void, ret: c_int) {
    // SAFETY: see the function's contract.
    let req = unsafe { Box::from_raw(opaque.cast::<R>()) };
    req.complete(ret);
}

/// A safe wrapper around [`bindings::BlockBackend`].
#[repr(transparent)]
#[derive(Debug, common::Wrapper)]
pub struct BlockBackend(Opaque<bindings::BlockBackend>);

unsafe impl Send for BlockBackend {}
unsafe impl Sync for BlockBackend {}

/// Convert a byte offset or count to the `int64_t` of the C API.  The
/// block layer rejects negative values with `-EIO`, so values above
/// `i64::MAX` become -1 and fail the same way instead of wrapping.
fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(-1)
}

impl BlockBackend {
    /// Size of the backend in bytes, or `-errno`.
    pub fn length(&self) -> Result<u64, i32> {
        // SAFETY: a query on a live backend.
        let len = unsafe { bindings::blk_getlength(self.as_mut_ptr()) };
        // A negative result is -errno, which fits in an i32.
        u64::try_from(len).map_err(|_| len as i32)
    }

    /// Whether the backend could be opened for writing; asked before
    /// [`BlockConf::apply_backend_options`](crate::BlockConf::apply_backend_options)
    /// takes the device's permissions.
    pub fn supports_write_perm(&self) -> bool {
        // SAFETY: a query on a live backend.
        unsafe { bindings::blk_supports_write_perm(self.as_mut_ptr()) }
    }

    /// Whether the device holds the write permission.
    pub fn is_writable(&self) -> bool {
        // SAFETY: a query on a live backend.
        unsafe { bindings::blk_is_writable(self.as_mut_ptr()) }
    }

    /// Whether the guest-visible write cache is on.
    pub fn write_cache_enabled(&self) -> bool {
        // SAFETY: a query on a live backend.
        unsafe { bindings::blk_enable_write_cache(self.as_mut_ptr()) }
    }

    /// Turn the guest-visible write cache on or off (what `query-block`
    /// reports as `write_back`).
    pub fn set_write_cache(&self, enabled: bool) {
        assert!(bql::is_locked());
        // SAFETY: blk_set_enable_write_cache() is a global-state function:
        // the BQL is held.
        unsafe { bindings::blk_set_enable_write_cache(self.as_mut_ptr(), enabled) }
    }

    /// Read `buf.len()` bytes at `offset`, waiting for them (`blk_pread()`:
    /// for small metadata such as a device's state record, never for guest
    /// I/O).  `Err(-errno)` on failure.
    pub fn pread(&self, offset: u64, buf: &mut [u8]) -> Result<(), i32> {
        assert!(bql::is_locked());
        // SAFETY: buf is valid for buf.len() bytes during the call.
        let ret = unsafe {
            bindings::blk_pread(
                self.as_mut_ptr(),
                to_i64(offset),
                to_i64(buf.len() as u64),
                buf.as_mut_ptr().cast(),
                0,
            )
        };
        if ret < 0 {
            Err(ret)
        } else {
            Ok(())
        }
    }

    /// Write `data` at `offset` with Force Unit Access, waiting for it
    /// (`blk_pwrite()`, `BDRV_REQ_FUA`): on stable storage when it returns.
    /// For small metadata only.  `Err(-errno)` on failure.
    pub fn pwrite_fua(&self, offset: u64, data: &[u8]) -> Result<(), i32> {
        assert!(bql::is_locked());
        // SAFETY: data is valid for data.len() bytes during the call.
        let ret = unsafe {
            bindings::blk_pwrite(
                self.as_mut_ptr(),
                to_i64(offset),
                to_i64(data.len() as u64),
                data.as_ptr().cast(),
                bindings::BDRV_REQ_FUA,
            )
        };
        if ret < 0 {
            Err(ret)
        } else {
            Ok(())
        }
    }

    /// Wait until every request in flight completed.  Completion callbacks
    /// run from inside this call, so the caller must not hold borrows that
    /// they need.
    pub fn drain(&self) {
        assert!(bql::is_locked());
        // SAFETY: blk_drain() is a global-state function: the BQL is held.
        unsafe { bindings::blk_drain(self.as_mut_ptr()) }
    }

    /// Move the backend, and the block nodes below it, to `ctx`
    /// (`blk_set_aio_context()`): requests submitted from `ctx`'s thread
    /// complete there.  Fails, with the block layer's reason, when a node
    /// is in use in another context.
    pub fn set_aio_context(&self, ctx: AioContext) -> util::Result<()> {
        assert!(bql::is_locked());
        // SAFETY: a global-state function (the BQL is held); errp is set
        // exactly when the result is negative.
        let ret = unsafe {
            Error::with_errp(|errp| {
                bindings::blk_set_aio_context(self.as_mut_ptr(), ctx.as_mut_ptr().cast(), errp)
            })
        };
        ret.map(|_| ())
    }

    /// Flush the backend's caches to stable storage.
    pub fn aio_flush<R: AioRequest>(&self, req: Box<R>) {
        // SAFETY: the completion takes back ownership of the leaked box;
        // blk_aio_flush() always calls it, possibly from a bottom half.
        unsafe {
            bindings::blk_aio_flush(
                self.as_mut_ptr(),
                Some(rust_aio_complete::<R>),
                Box::into_raw(req).cast(),
            );
        }
    }

    /// Discard `bytes` bytes at `offset`.
    pub fn aio_pdiscard<R: AioRequest>(&self, offset: u64, bytes: u64, req: Box<R>) {
        // SAFETY: as in aio_flush.
        unsafe {
            bindings::blk_aio_pdiscard(
                self.as_mut_ptr(),
                to_i64(offset),
                to_i64(bytes),
                Some(rust_aio_complete::<R>),
                Box::into_raw(req).cast(),
            );
        }
    }

    /// Write `bytes` zero bytes at `offset`; with `may_unmap` the backend
    /// may deallocate them instead (`BDRV_REQ_MAY_UNMAP`).
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
                to_i64(offset),
                to_i64(bytes),
                flags,
                Some(rust_aio_complete::<R>),
                Box::into_raw(req).cast(),
            );
        }
    }

    /// Read from the backend at `offset` into the request's guest memory
    /// (`dma_blk_read()`: zero copy where the memory is RAM, bounce buffers
    /// otherwise).  `align` is the alignment the block layer may assume
    /// for each scatter-gather element.
    pub fn dma_read<R: DmaRequest>(&self, offset: u64, align: u32, req: Box<R>) {
        self.dma_io(bindings::dma_blk_read, offset, align, req);
    }

    /// Write the request's guest memory to the backend at `offset`
    /// (`dma_blk_write()`).
    pub fn dma_write<R: DmaRequest>(&self, offset: u64, align: u32, req: Box<R>) {
        self.dma_io(bindings::dma_blk_write, offset, align, req);
    }

    /// Write the request's guest memory to the backend at `offset` with
    /// Force Unit Access (`BDRV_REQ_FUA`): the data is on stable storage
    /// when the request completes (the block layer flushes after the write
    /// where the driver cannot do FUA itself).  `dma_blk_write()` with
    /// `blk_aio_pwritev()` and the FUA flag.
    pub fn dma_write_fua<R: DmaRequest>(&self, offset: u64, align: u32, mut req: Box<R>) {
        /// `DMAIOFunc` for `dma_blk_io()`: `opaque` is the backend.
        ///
        /// # Safety
        ///
        /// Called by `dma_blk_io()` with the backend passed below and an
        /// I/O vector valid until `cb` runs.
        unsafe extern "C" fn write_fua(
            offset: i64,
            iov: *mut bindings::QEMUIOVector,
            cb: bindings::BlockCompletionFunc,
            cb_opaque: *mut c_void,
            opaque: *mut c_void,
        ) -> *mut bindings::BlockAIOCB {
            // SAFETY: see the function's contract.
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
        // opaque, which is what dma_blk_write() passes.
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

    /// Read as many bytes as the request's buffer holds from the backend
    /// at `offset` into the buffer (`blk_aio_preadv()`).
    pub fn aio_read_buffer<R: BufferRequest>(&self, offset: u64, mut req: Box<R>) {
        let qiov = req.buffer().qiov();
        // SAFETY: the vector and its buffer live inside the request, which
        // stays alive (leaked) until the completion callback.
        unsafe {
            bindings::blk_aio_preadv(
                self.as_mut_ptr(),
                to_i64(offset),
                qiov,
                0,
                Some(rust_aio_complete::<R>),
                Box::into_raw(req).cast(),
            );
        }
    }

    /// Write the request's buffer to the backend at `offset`
    /// (`blk_aio_pwritev()`), with Force Unit Access (`BDRV_REQ_FUA`) when
    /// `fua` is set.
    pub fn aio_write_buffer<R: BufferRequest>(&self, offset: u64, fua: bool, mut req: Box<R>) {
        let qiov = req.buffer().qiov();
        let flags = if fua { bindings::BDRV_REQ_FUA } else { 0 };
        // SAFETY: as in aio_read_buffer; the block layer only reads the
        // buffer.
        unsafe {
            bindings::blk_aio_pwritev(
                self.as_mut_ptr(),
                to_i64(offset),
                qiov,
                flags,
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
        // (leaked) until the completion callback; dma_blk_io() keeps the
        // list only until then.
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

    fn stats(&self) -> *mut bindings::BlockAcctStats {
        // SAFETY: the statistics are embedded in the backend and live as
        // long as it does.
        unsafe { bindings::blk_get_stats(self.as_mut_ptr()) }
    }

    /// Start accounting an operation of `bytes` bytes in `cookie`
    /// (`block_acct_start()`).
    pub fn acct_start(&self, cookie: &mut BlockAcctCookie, bytes: u64, kind: BlockAcctType) {
        // SAFETY: the cookie is plain data owned by the caller.
        unsafe { bindings::block_acct_start(self.stats(), cookie, to_i64(bytes), kind) }
    }

    /// Finish accounting the operation in `cookie`, as done or failed.
    pub fn acct_done(&self, cookie: &mut BlockAcctCookie, ok: bool) {
        // SAFETY: as in acct_start.
        unsafe {
            if ok {
                bindings::block_acct_done(self.stats(), cookie);
            } else {
                bindings::block_acct_failed(self.stats(), cookie);
            }
        }
    }

    /// Count a request that was rejected before it reached the backend.
    pub fn acct_invalid(&self, kind: BlockAcctType) {
        // SAFETY: the statistics live as long as the backend.
        unsafe { bindings::block_acct_invalid(self.stats(), kind) }
    }

    /// The backend attached to a device through a `drive` property.
    ///
    /// # Safety
    ///
    /// `blk` must be NULL or a backend that stays attached to the device
    /// (and so alive) for the lifetime `'a`.
    pub unsafe fn from_attached<'a>(blk: *mut bindings::BlockBackend) -> Option<&'a Self> {
        // SAFETY: see the function's contract.
        NonNull::new(blk).map(|blk| unsafe { Self::from_raw(blk.as_ptr()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_buffer_vector_covers_the_buffer() {
        let mut buf = IoBuffer::new(4096);
        assert_eq!(buf.len(), 4096);
        assert!(buf.data().iter().all(|&b| b == 0));
        let base = buf.data().as_ptr();
        // SAFETY: the vector was initialized by IoBuffer::new.
        let qiov = unsafe { &*buf.qiov() };
        assert_eq!(qiov.niov, 1);
        // SAFETY: niov is 1, so iov points to one element.
        let iov = unsafe { &*qiov.iov };
        assert_eq!(iov.iov_base.cast_const(), base.cast());
        assert_eq!(iov.iov_len, 4096);
        assert!(IoBuffer::new(0).is_empty());
    }

    #[test]
    fn io_buffer_from_vec_keeps_the_bytes() {
        let mut buf = IoBuffer::from_vec(vec![1, 2, 3]);
        assert_eq!(buf.data(), &[1, 2, 3]);
        // SAFETY: the vector was initialized by IoBuffer::from_vec.
        let qiov = unsafe { &*buf.qiov() };
        // SAFETY: niov is 1, so iov points to one element.
        let iov = unsafe { &*qiov.iov };
        assert_eq!(iov.iov_base.cast_const(), buf.data().as_ptr().cast());
        assert_eq!(iov.iov_len, 3);
    }

    #[test]
    fn filled_buffer_is_what_the_vector_writes() {
        let mut buf = IoBuffer::new(8);
        buf.data_mut().copy_from_slice(&[1, 2, 3, 4, 1, 2, 3, 4]);
        // SAFETY: the vector was initialized by IoBuffer::new.
        let qiov = unsafe { &*buf.qiov() };
        // SAFETY: niov is 1, so iov points to one element of 8 bytes,
        // the buffer's.
        let bytes = unsafe {
            let iov = &*qiov.iov;
            std::slice::from_raw_parts(iov.iov_base.cast::<u8>(), iov.iov_len)
        };
        assert_eq!(bytes, &[1, 2, 3, 4, 1, 2, 3, 4]);
    }

    #[test]
    fn offsets_beyond_i64_fail_instead_of_wrapping() {
        assert_eq!(to_i64(0), 0);
        assert_eq!(to_i64(1 << 40), 1 << 40);
        assert_eq!(to_i64(i64::MAX as u64), i64::MAX);
        assert_eq!(to_i64(u64::MAX), -1);
        assert_eq!(to_i64(1 << 63), -1);
    }
}
