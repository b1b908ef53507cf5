// SPDX-License-Identifier: GPL-2.0-or-later
//! Controller registers (NVMe 2.0 Base, 3.1.3 Controller Properties; NVMe
//! over PCIe 1.0, 3.1 Register Definition).

use bilge::prelude::*;

/// Register offsets in BAR0.
pub mod off {
    pub const CAP: u64 = 0x00;
    /// CAP bits 63:32.
    pub const CAP_HI: u64 = CAP + 4;
    pub const VS: u64 = 0x08;
    pub const INTMS: u64 = 0x0c;
    pub const INTMC: u64 = 0x10;
    pub const CC: u64 = 0x14;
    pub const CSTS: u64 = 0x1c;
    pub const NSSR: u64 = 0x20;
    pub const AQA: u64 = 0x24;
    pub const ASQ: u64 = 0x28;
    /// ASQ bits 63:32.
    pub const ASQ_HI: u64 = ASQ + 4;
    pub const ACQ: u64 = 0x30;
    /// ACQ bits 63:32.
    pub const ACQ_HI: u64 = ACQ + 4;
    pub const CMBLOC: u64 = 0x38;
    pub const CMBSZ: u64 = 0x3c;
    pub const CRTO: u64 = 0x68;
    /// First doorbell register (SQ 0 tail).
    pub const DOORBELLS: u64 = 0x1000;
}

/// Controller Capabilities (CAP, offset 0h).
#[bitsize(64)]
#[derive(FromBits, DebugBits, Clone, Copy, PartialEq, Eq)]
pub struct Cap {
    /// Maximum Queue Entries Supported (0's based).
    pub mqes: u16,
    /// Contiguous Queues Required.
    pub cqr: bool,
    /// Arbitration Mechanism Supported (bit 0 WRR, bit 1 vendor).
    pub ams: u2,
    reserved: u5,
    /// Timeout in 500 ms units.
    pub to: u8,
    /// Doorbell Stride (2 ^ (2 + DSTRD) bytes).
    pub dstrd: u4,
    /// NVM Subsystem Reset Supported.
    pub nssrs: bool,
    /// Command Sets Supported (bit 0 NVM, bit 6 I/O sets, bit 7 admin only).
    pub css: u8,
    /// Boot Partition Support.
    pub bps: bool,
    /// Controller Power Scope.
    pub cps: u2,
    /// Memory Page Size Minimum (2 ^ (12 + MPSMIN)).
    pub mpsmin: u4,
    /// Memory Page Size Maximum.
    pub mpsmax: u4,
    /// Persistent Memory Region Supported.
    pub pmrs: bool,
    /// Controller Memory Buffer Supported.
    pub cmbs: bool,
    /// NVM Subsystem Shutdown Supported.
    pub nsss: bool,
    /// Controller Ready Modes Supported.
    pub crms: u2,
    reserved: u3,
}

/// Controller Configuration (CC, offset 14h).
#[bitsize(32)]
#[derive(FromBits, DebugBits, Clone, Copy, PartialEq, Eq)]
pub struct Cc {
    /// Enable.
    pub en: bool,
    reserved: u3,
    /// I/O Command Set Selected.
    pub css: u3,
    /// Memory Page Size (2 ^ (12 + MPS)).
    pub mps: u4,
    /// Arbitration Mechanism Selected.
    pub ams: u3,
    /// Shutdown Notification (01b normal, 10b abrupt).
    pub shn: u2,
    /// I/O Submission Queue Entry Size (2 ^ n).
    pub iosqes: u4,
    /// I/O Completion Queue Entry Size (2 ^ n).
    pub iocqes: u4,
    /// Controller Ready Independent of Media Enable.
    pub crime: bool,
    reserved: u7,
}

impl crate::persist::Persist for Cc {
    fn save(&self, w: &mut crate::wire::LeWriter) {
        u32::from(*self).save(w);
    }
    fn load(r: &mut crate::wire::LeReader<'_>) -> Result<Self, String> {
        Ok(Cc::from(r.u32()?))
    }
}

/// Controller Status (CSTS, offset 1Ch).
#[bitsize(32)]
#[derive(FromBits, DebugBits, Clone, Copy, PartialEq, Eq)]
pub struct Csts {
    /// Ready.
    pub rdy: bool,
    /// Controller Fatal Status.
    pub cfs: bool,
    /// Shutdown Status (00b normal, 01b processing, 10b complete).
    pub shst: u2,
    /// NVM Subsystem Reset Occurred.
    pub nssro: bool,
    /// Processing Paused.
    pub pp: bool,
    /// Shutdown Type.
    pub st: bool,
    reserved: u25,
}

/// Admin Queue Attributes (AQA, offset 24h).
#[bitsize(32)]
#[derive(FromBits, DebugBits, Clone, Copy, PartialEq, Eq)]
pub struct Aqa {
    /// Admin Submission Queue Size (0's based).
    pub asqs: u12,
    reserved: u4,
    /// Admin Completion Queue Size (0's based).
    pub acqs: u12,
    reserved: u4,
}

impl crate::persist::Persist for Aqa {
    fn save(&self, w: &mut crate::wire::LeWriter) {
        u32::from(*self).save(w);
    }
    fn load(r: &mut crate::wire::LeReader<'_>) -> Result<Self, String> {
        Ok(Aqa::from(r.u32()?))
    }
}

/// Shutdown notification values of CC.SHN.
/// CC.AMS: weighted round robin with urgent priority class.
pub const AMS_WRR: u8 = 1;

/// The value whose write to NSSR starts an NVM Subsystem Reset ("NVMe").
pub const NSSR_RESET: u32 = 0x4e56_4d65;
/// CSTS.NSSRO (bit 4), write 1 to clear.
pub const CSTS_NSSRO: u32 = 1 << 4;

pub const SHN_NONE: u8 = 0;
pub const SHN_NORMAL: u8 = 1;
pub const SHN_ABRUPT: u8 = 2;
/// Shutdown status values of CSTS.SHST.
pub const SHST_NORMAL: u8 = 0;
pub const SHST_PROCESSING: u8 = 1;
pub const SHST_COMPLETE: u8 = 2;

/// NVMe version 2.0.0 as reported in VS (offset 8h) and Identify VER.
pub const NVME_VERSION: u32 = 0x0002_0000;

/// Which doorbell an offset at or above [`off::DOORBELLS`] addresses
/// (NVMe over PCIe 1.0, 3.1.24/3.1.25, with CAP.DSTRD = 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Doorbell {
    SqTail(u16),
    CqHead(u16),
}

impl Doorbell {
    /// Decode a doorbell offset; `None` if not dword aligned or beyond u16 queue IDs.
    pub fn decode(offset: u64) -> Option<Doorbell> {
        let rel = offset.checked_sub(off::DOORBELLS)?;
        if rel % 4 != 0 {
            return None;
        }
        let idx = rel / 4;
        let qid = u16::try_from(idx / 2).ok()?;
        Some(if idx % 2 == 0 {
            Doorbell::SqTail(qid)
        } else {
            Doorbell::CqHead(qid)
        })
    }
}

#[cfg(test)]
#[allow(clippy::shadow_unrelated)]
mod tests {
    use super::*;

    #[test]
    fn cc_fields() {
        // Linux: EN | CSS=0 | MPS=0 | AMS=0 | IOSQES=6 | IOCQES=4
        let cc = Cc::from(0x0046_0001u32);
        assert!(cc.en());
        assert_eq!(cc.css().value(), 0);
        assert_eq!(cc.mps().value(), 0);
        assert_eq!(cc.ams().value(), 0);
        assert_eq!(cc.shn().value(), 0);
        assert_eq!(cc.iosqes().value(), 6);
        assert_eq!(cc.iocqes().value(), 4);
        assert!(!cc.crime());
        let cc = Cc::from((5 << 4) | (3 << 7) | (2 << 11) | (1 << 14) | (1 << 24));
        assert!(!cc.en());
        assert_eq!(cc.css().value(), 5);
        assert_eq!(cc.mps().value(), 3);
        assert_eq!(cc.ams().value(), 2);
        assert_eq!(cc.shn().value(), 1);
        assert!(cc.crime());
        assert_eq!(Cc::from(2u32 << 14).shn().value(), 2);
    }

    #[test]
    fn csts_fields() {
        let mut c = Csts::from(0u32);
        c.set_rdy(true);
        c.set_cfs(true);
        c.set_shst(u2::new(2));
        assert_eq!(u32::from(c), 0b1011);
        c.set_nssro(true);
        c.set_pp(true);
        c.set_st(true);
        assert_eq!(u32::from(c), 0b111_1011);
    }

    #[test]
    fn aqa_fields() {
        let a = Aqa::from(0x0abc_0123u32);
        assert_eq!(a.asqs().value(), 0x123);
        assert_eq!(a.acqs().value(), 0xabc);
        let a = Aqa::from(0xffff_ffffu32);
        assert_eq!(a.asqs().value(), 0xfff);
        assert_eq!(a.acqs().value(), 0xfff);
    }

    #[test]
    fn cap_fields() {
        let mut c = Cap::from(0u64);
        c.set_mqes(0x3ff);
        c.set_cqr(true);
        c.set_ams(u2::new(1));
        c.set_to(0x20);
        c.set_dstrd(u4::new(3));
        c.set_nssrs(true);
        c.set_css(0x81);
        c.set_bps(true);
        c.set_mpsmin(u4::new(1));
        c.set_mpsmax(u4::new(4));
        c.set_cmbs(true);
        let v = u64::from(c);
        assert_eq!(v & 0xffff, 0x3ff);
        assert_eq!((v >> 16) & 1, 1);
        assert_eq!((v >> 17) & 3, 1);
        assert_eq!((v >> 24) & 0xff, 0x20);
        assert_eq!((v >> 32) & 0xf, 3);
        assert_eq!((v >> 36) & 1, 1);
        assert_eq!((v >> 37) & 0xff, 0x81);
        assert_eq!((v >> 45) & 1, 1);
        assert_eq!((v >> 48) & 0xf, 1);
        assert_eq!((v >> 52) & 0xf, 4);
        assert_eq!((v >> 57) & 1, 1);
    }

    #[test]
    fn doorbell_decode() {
        assert_eq!(Doorbell::decode(0x1000), Some(Doorbell::SqTail(0)));
        assert_eq!(Doorbell::decode(0x1004), Some(Doorbell::CqHead(0)));
        assert_eq!(Doorbell::decode(0x1008), Some(Doorbell::SqTail(1)));
        assert_eq!(Doorbell::decode(0x100c), Some(Doorbell::CqHead(1)));
        assert_eq!(Doorbell::decode(0x1002), None);
        assert_eq!(Doorbell::decode(0xfff), None);
    }
}
