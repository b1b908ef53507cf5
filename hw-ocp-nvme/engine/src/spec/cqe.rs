// SPDX-License-Identifier: GPL-2.0-or-later
//! Completion Queue Entry (NVMe 2.0 Base, 4.6 Completion Queue Entry).

use super::status::Status;
use crate::wire::LeWriter;

/// Size of a CQE in bytes (CC.IOCQES = 4).
pub const CQE_SIZE: usize = 16;

/// A completion before it is written into a CQ slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cqe {
    pub dw0: u32,
    pub dw1: u32,
    pub sqhd: u16,
    pub sqid: u16,
    pub cid: u16,
    pub status: Status,
}

crate::persist::persist_struct!(Cqe {
    dw0,
    dw1,
    sqhd,
    sqid,
    cid,
    status
});

impl Cqe {
    /// Encode with the given phase tag.
    pub fn to_bytes(&self, phase: bool) -> [u8; CQE_SIZE] {
        let mut w = LeWriter::<[u8; CQE_SIZE]>::array();
        w.u32(0, self.dw0)
            .u32(4, self.dw1)
            .u16(8, self.sqhd)
            .u16(10, self.sqid)
            .u16(12, self.cid)
            .u16(14, self.status.field() | u16::from(phase));
        w.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cqe_layout() {
        let c = Cqe {
            dw0: 0x11223344,
            dw1: 0x55667788,
            sqhd: 0x0102,
            sqid: 0x0304,
            cid: 0xbeef,
            status: Status::INVALID_FIELD,
        };
        let b = c.to_bytes(true);
        assert_eq!(u32::from_le_bytes([b[0], b[1], b[2], b[3]]), 0x11223344);
        assert_eq!(u32::from_le_bytes([b[4], b[5], b[6], b[7]]), 0x55667788);
        assert_eq!(u16::from_le_bytes([b[8], b[9]]), 0x0102);
        assert_eq!(u16::from_le_bytes([b[10], b[11]]), 0x0304);
        assert_eq!(u16::from_le_bytes([b[12], b[13]]), 0xbeef);
        assert_eq!(u16::from_le_bytes([b[14], b[15]]), 0x8005);
        assert_eq!(c.to_bytes(false)[14], 0x04);
    }
}
