// SPDX-License-Identifier: GPL-2.0-or-later
//! SGL descriptors (NVMe 2.0 Base, 4.1.2 Scatter Gather List).

use crate::wire::{rd_u32, rd_u64, LeWriter};

/// Size of an SGL descriptor.
pub const SGL_DESC_SIZE: usize = 16;

/// SGL descriptor types (byte 15 bits 7:4).
pub mod kind {
    pub const DATA_BLOCK: u8 = 0x0;
    pub const BIT_BUCKET: u8 = 0x1;
    pub const SEGMENT: u8 = 0x2;
    pub const LAST_SEGMENT: u8 = 0x3;
}

/// One raw SGL descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SglDesc {
    /// Bytes 7:0.
    pub addr: u64,
    /// Bytes 11:8.
    pub len: u32,
    /// Byte 15 bits 7:4.
    pub kind: u8,
    /// Byte 15 bits 3:0.
    pub subtype: u8,
}

impl SglDesc {
    pub fn parse(b: &[u8; SGL_DESC_SIZE]) -> SglDesc {
        SglDesc {
            addr: rd_u64(b, 0),
            len: rd_u32(b, 8),
            kind: b[15] >> 4,
            subtype: b[15] & 0xf,
        }
    }
    pub fn to_bytes(&self) -> [u8; SGL_DESC_SIZE] {
        let mut w = LeWriter::<[u8; SGL_DESC_SIZE]>::array();
        w.u64(0, self.addr)
            .u32(8, self.len)
            .u8(15, (self.kind << 4) | (self.subtype & 0xf));
        w.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptor_fields() {
        let mut b = [0u8; 16];
        b[0..8].copy_from_slice(&0x1122_3344_5566_7788u64.to_le_bytes());
        b[8..12].copy_from_slice(&0x200u32.to_le_bytes());
        b[12] = 0xaa; // reserved
        b[15] = 0x31;
        let d = SglDesc::parse(&b);
        assert_eq!(
            d,
            SglDesc {
                addr: 0x1122_3344_5566_7788,
                len: 0x200,
                kind: kind::LAST_SEGMENT,
                subtype: 1
            }
        );
        let mut b2 = d.to_bytes();
        b2[12] = 0xaa;
        assert_eq!(b2, b);
    }
}
