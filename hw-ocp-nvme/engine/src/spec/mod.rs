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

/// The OCP Datacenter NVMe SSD UUID (c194d55b-e094-4794-a21d-29998f56be6f),
/// byte order as written (as nvme-cli compares it).
pub const OCP_UUID: [u8; 16] = [
    0xc1, 0x94, 0xd5, 0x5b, 0xe0, 0x94, 0x47, 0x94, 0xa2, 0x1d, 0x29, 0x99, 0x8f, 0x56, 0xbe, 0x6f,
];

/// UUID index of [`OCP_UUID`] in the Identify UUID List (CNS 17h).
pub const OCP_UUID_INDEX: u8 = 1;

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
