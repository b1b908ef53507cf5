// SPDX-License-Identifier: GPL-2.0-or-later
//! NVMe wire formats: the ONE place where register and command fields are
//! extracted from raw bits (NVMe Base Specification 2.0, NVM Command Set
//! Specification 1.0, NVMe over PCIe Transport Specification 1.0).

pub mod cmd;
pub mod cqe;
pub mod feat;
pub mod ids;
pub mod regs;
pub mod sgl;
pub mod status;

/// Little-endian helpers used by the data structure builders.
pub(crate) fn put_u16(b: &mut [u8], off: usize, v: u16) {
    b[off..off + 2].copy_from_slice(&v.to_le_bytes());
}
pub(crate) fn put_u32(b: &mut [u8], off: usize, v: u32) {
    b[off..off + 4].copy_from_slice(&v.to_le_bytes());
}
pub(crate) fn put_u64(b: &mut [u8], off: usize, v: u64) {
    b[off..off + 8].copy_from_slice(&v.to_le_bytes());
}
pub(crate) fn put_u128(b: &mut [u8], off: usize, v: u128) {
    b[off..off + 16].copy_from_slice(&v.to_le_bytes());
}
/// Copy an ASCII string, space padded, into a fixed field (Identify strings).
pub(crate) fn put_ascii(b: &mut [u8], off: usize, len: usize, s: &str) {
    let field = &mut b[off..off + len];
    field.fill(b' ');
    for (d, c) in field.iter_mut().zip(s.bytes()) {
        *d = c;
    }
}
pub(crate) fn get_u32(b: &[u8], off: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[off..off + 4]);
    u32::from_le_bytes(a)
}
pub(crate) fn get_u64(b: &[u8], off: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[off..off + 8]);
    u64::from_le_bytes(a)
}
