// SPDX-License-Identifier: GPL-2.0-or-later
//! The one way the engine writes spec data structures: Identify data, log
//! pages (NVMe and OCP), feature data, queue entries, SGL descriptors.
//!
//! Every such structure is a fixed layout of little-endian integers, byte
//! arrays, ASCII strings and reserved space. [`LeWriter`] writes fields at
//! explicit byte offsets into a zero-filled buffer so that each builder
//! reads like the layout table of the NVMe or OCP specification. A
//! fixed-size page is created with [`LeWriter::page`] (or, for a small
//! structure kept on the stack, [`LeWriter::array`]), whose size is checked
//! at compile time; structures whose length depends on their content (a
//! telemetry data area, hardware component descriptors) use
//! [`LeWriter::new`]. Writes past the end of the buffer are dropped (they
//! cannot happen with the fixed layouts, and must never panic). Registers
//! are bilge types (`spec::regs`); feature dwords are typed values with
//! `decode`/`encode` (`spec::feat`).
//! Depends on nothing else in the engine, so `ocp` can use it too.

/// Writes little-endian fields at fixed offsets into a zero-filled buffer:
/// a `Vec` for pages, an array for the queue entries and other small
/// structures that stay on the stack ([`LeWriter::array`]).
#[derive(Debug, Clone)]
pub struct LeWriter<B = Vec<u8>> {
    buf: B,
}

/// Compile-time check of a fixed page size (evaluated when
/// [`LeWriter::page`] is instantiated for `N`).
struct PageSize<const N: usize>;

impl<const N: usize> PageSize<N> {
    /// NVMe data structures are transferred in whole dwords (Get Log Page
    /// NUMD, NVMe 2.0 Base, 5.16) and none is empty.
    const CHECKED: usize = {
        assert!(
            N > 0 && N % 4 == 0,
            "a page is a non-empty whole number of dwords"
        );
        N
    };
}

impl LeWriter {
    /// A zero-filled buffer of `len` bytes, for a structure whose length
    /// depends on its content.
    pub fn new(len: usize) -> Self {
        LeWriter { buf: vec![0; len] }
    }

    /// A zero-filled fixed-size page of `N` bytes, `N` checked at compile
    /// time.
    pub fn page<const N: usize>() -> Self {
        Self::new(PageSize::<N>::CHECKED)
    }
}

impl LeWriter {
    /// An empty buffer that grows as [`LeWriter::put`] appends: saved
    /// state (`crate::persist`), a sequence of fields rather than a layout.
    pub fn growing() -> Self {
        LeWriter { buf: Vec::new() }
    }

    /// Appends `bytes` at the end, growing the buffer.
    pub fn put(&mut self, bytes: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(bytes);
        self
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
}

impl<const N: usize> LeWriter<[u8; N]> {
    /// A zero-filled structure of `N` bytes on the stack, `N` checked at
    /// compile time (queue entries, the Timestamp).
    pub fn array() -> Self {
        // Naming the constant evaluates it, at compile time.
        let _ = PageSize::<N>::CHECKED;
        LeWriter { buf: [0; N] }
    }
}

impl<B: AsRef<[u8]> + AsMut<[u8]>> LeWriter<B> {
    /// Copies `bytes` to `off`, truncated at the end of the buffer.
    pub fn bytes(&mut self, off: usize, bytes: &[u8]) -> &mut Self {
        let buf = self.buf.as_mut();
        if off < buf.len() {
            let n = bytes.len().min(buf.len() - off);
            buf[off..off + n].copy_from_slice(&bytes[..n]);
        }
        self
    }

    /// One byte.
    pub fn u8(&mut self, off: usize, v: u8) -> &mut Self {
        self.bytes(off, &[v])
    }

    /// 16-bit little-endian.
    pub fn u16(&mut self, off: usize, v: u16) -> &mut Self {
        self.bytes(off, &v.to_le_bytes())
    }

    /// 32-bit little-endian.
    pub fn u32(&mut self, off: usize, v: u32) -> &mut Self {
        self.bytes(off, &v.to_le_bytes())
    }

    /// 64-bit little-endian.
    pub fn u64(&mut self, off: usize, v: u64) -> &mut Self {
        self.bytes(off, &v.to_le_bytes())
    }

    /// 128-bit little-endian.
    pub fn u128(&mut self, off: usize, v: u128) -> &mut Self {
        self.bytes(off, &v.to_le_bytes())
    }

    /// The low `width` bytes of `v`, little-endian (48-bit and 56-bit
    /// counters of the C0h page). Values that do not fit saturate.
    pub fn uint_n(&mut self, off: usize, width: usize, v: u64) -> &mut Self {
        let width = width.min(8);
        let max = if width == 8 {
            u64::MAX
        } else {
            (1u64 << (8 * width)) - 1
        };
        let le = v.min(max).to_le_bytes();
        self.bytes(off, &le[..width])
    }

    /// An ASCII string left-justified and padded with `pad` to `width`
    /// bytes (see [`pad_ascii`]).
    pub fn ascii(&mut self, off: usize, width: usize, s: &[u8], pad: u8) -> &mut Self {
        let mut field = vec![0; width];
        pad_ascii(&mut field, s, pad);
        self.bytes(off, &field)
    }

    /// The trailer every OCP Datacenter NVMe SSD log page ends with: Log
    /// Page Version and Log Page GUID in its last 18 bytes.
    pub fn version_and_guid(&mut self, version: u16, guid: &[u8; 16]) -> &mut Self {
        let end = self.buf.as_ref().len();
        self.u16(end.saturating_sub(18), version)
            .bytes(end.saturating_sub(16), guid)
    }

    /// The finished buffer.
    pub fn finish(self) -> B {
        self.buf
    }
}

/// Fill `field` with `s`, left-justified, truncated to the field and padded
/// with `pad`: spaces for the NVMe strings (SN, MN, FR: NVMe 2.0 Base, 1.5.2
/// ASCII string), NUL for the OCP telemetry names.
pub fn pad_ascii(field: &mut [u8], s: &[u8], pad: u8) {
    field.fill(pad);
    let n = s.len().min(field.len());
    field[..n].copy_from_slice(&s[..n]);
}

/// A space-padded ASCII field of `N` bytes (a firmware revision).
pub fn ascii<const N: usize>(s: &str) -> [u8; N] {
    let mut field = [0u8; N];
    pad_ascii(&mut field, s.as_bytes(), b' ');
    field
}

/// Reads little-endian values in order from untrusted bytes (saved state):
/// every read is checked, running out of bytes is an error, never a panic.
#[derive(Debug, Clone)]
pub struct LeReader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> LeReader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        LeReader { buf, pos: 0 }
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| {
                format!(
                    "truncated: {n} bytes wanted at offset {} of {}",
                    self.pos,
                    self.buf.len()
                )
            })?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    /// The next `N` bytes as an array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    pub fn u8(&mut self) -> Result<u8, String> {
        Ok(self.array::<1>()?[0])
    }

    pub fn u16(&mut self) -> Result<u16, String> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    pub fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    pub fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    pub fn u128(&mut self) -> Result<u128, String> {
        Ok(u128::from_le_bytes(self.array()?))
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Offset of the next read.
    pub fn pos(&self) -> usize {
        self.pos
    }
}

/// Reads a little-endian u16 at `off`, 0 when out of range.
pub fn rd_u16(b: &[u8], off: usize) -> u16 {
    match b.get(off..off + 2) {
        Some(s) => u16::from_le_bytes([s[0], s[1]]),
        None => 0,
    }
}

/// Reads a little-endian u32 at `off`, 0 when out of range.
pub fn rd_u32(b: &[u8], off: usize) -> u32 {
    match b.get(off..off + 4) {
        Some(s) => u32::from_le_bytes([s[0], s[1], s[2], s[3]]),
        None => 0,
    }
}

/// Reads a little-endian u64 at `off`, 0 when out of range.
pub fn rd_u64(b: &[u8], off: usize) -> u64 {
    let mut a = [0u8; 8];
    match b.get(off..off + 8) {
        Some(s) => {
            a.copy_from_slice(s);
            u64::from_le_bytes(a)
        }
        None => 0,
    }
}

/// Reads a little-endian u128 at `off`, 0 when out of range.
pub fn rd_u128(b: &[u8], off: usize) -> u128 {
    let mut a = [0u8; 16];
    match b.get(off..off + 16) {
        Some(s) => {
            a.copy_from_slice(s);
            u128::from_le_bytes(a)
        }
        None => 0,
    }
}

/// Reads one byte at `off`, 0 when out of range.
pub fn rd_u8(b: &[u8], off: usize) -> u8 {
    b.get(off).copied().unwrap_or(0)
}

/// A GUID as the OCP specification prints it (most significant byte first),
/// serialized least significant byte first as it appears in a log page.
pub const fn guid_le(printed: u128) -> [u8; 16] {
    printed.to_le_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writer_truncates_instead_of_panicking() {
        let mut w = LeWriter::new(4);
        w.u64(2, u64::MAX).u8(10, 1);
        assert_eq!(w.finish(), vec![0, 0, 0xff, 0xff]);
    }

    #[test]
    fn uint_n_saturates() {
        let mut w = LeWriter::new(8);
        w.uint_n(0, 6, u64::MAX);
        assert_eq!(
            &w.finish()[..8],
            &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0]
        );
    }

    #[test]
    fn ascii_pads_and_truncates() {
        assert_eq!(ascii::<4>("ab"), *b"ab  ");
        assert_eq!(ascii::<2>("abc"), *b"ab");
        let mut w = LeWriter::page::<8>();
        w.ascii(2, 4, b"xyz12", 0);
        assert_eq!(w.finish(), b"\0\0xyz1\0\0".to_vec());
    }

    #[test]
    fn readers_are_total() {
        assert_eq!(rd_u64(&[1, 2], 0), 0);
        assert_eq!(rd_u16(&[1, 2], 0), 0x0201);
        assert_eq!(rd_u8(&[], 5), 0);
    }
}
