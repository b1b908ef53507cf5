// SPDX-License-Identifier: GPL-2.0-or-later
//! Submission Queue Entry and the typed commands parsed from it (NVMe 2.0
//! Base, 4.2 Submission Queue Entry; 5 Admin Command Set; NVM Command Set
//! 1.0, 3 I/O Commands). Every SQE field is extracted here and only here.

use super::ids::{admin_op, nvm_op};
use crate::wire::{rd_u16, rd_u32, rd_u64, LeWriter};

/// Size of an SQE in bytes (CC.IOSQES = 6).
pub const SQE_SIZE: usize = 64;

/// A raw 64-byte submission queue entry, as 16 little-endian dwords.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sqe {
    pub dw: [u32; 16],
}

crate::persist::persist_struct!(Sqe { dw });

/// PRP or SGL data pointer selection (CDW0 PSDT, bits 15:14).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Psdt {
    Prp,
    /// SGL; `mptr_sgl` is true for PSDT 10b (metadata pointer is an SGL).
    Sgl {
        mptr_sgl: bool,
    },
    Reserved,
}

impl Sqe {
    pub fn from_bytes(b: &[u8; SQE_SIZE]) -> Sqe {
        let mut dw = [0u32; 16];
        for (i, d) in dw.iter_mut().enumerate() {
            *d = rd_u32(b, i * 4);
        }
        Sqe { dw }
    }
    pub fn to_bytes(&self) -> [u8; SQE_SIZE] {
        let mut w = LeWriter::<[u8; SQE_SIZE]>::array();
        for (i, d) in self.dw.iter().enumerate() {
            w.u32(i * 4, *d);
        }
        w.finish()
    }
    /// CDW0 bits 7:0.
    pub fn opcode(&self) -> u8 {
        self.dw[0] as u8
    }
    /// CDW0 bits 9:8, Fused Operation.
    pub fn fuse(&self) -> u8 {
        ((self.dw[0] >> 8) & 0x3) as u8
    }
    /// CDW0 bits 15:14.
    pub fn psdt(&self) -> Psdt {
        match (self.dw[0] >> 14) & 0x3 {
            0 => Psdt::Prp,
            1 => Psdt::Sgl { mptr_sgl: false },
            2 => Psdt::Sgl { mptr_sgl: true },
            _ => Psdt::Reserved,
        }
    }
    /// CDW0 bits 31:16, Command Identifier.
    pub fn cid(&self) -> u16 {
        (self.dw[0] >> 16) as u16
    }
    /// Namespace Identifier (DW1).
    pub fn nsid(&self) -> u32 {
        self.dw[1]
    }
    /// Metadata Pointer (DW4-5).
    pub fn mptr(&self) -> u64 {
        u64::from(self.dw[4]) | u64::from(self.dw[5]) << 32
    }
    /// PRP Entry 1 (DW6-7).
    pub fn prp1(&self) -> u64 {
        u64::from(self.dw[6]) | u64::from(self.dw[7]) << 32
    }
    /// PRP Entry 2 (DW8-9).
    pub fn prp2(&self) -> u64 {
        u64::from(self.dw[8]) | u64::from(self.dw[9]) << 32
    }
    /// SGL Entry 1 (DW6-9) as 16 bytes.
    pub fn sgl1(&self) -> [u8; 16] {
        let mut w = LeWriter::<[u8; 16]>::array();
        for i in 0..4 {
            w.u32(i * 4, self.dw[6 + i]);
        }
        w.finish()
    }
    /// Starting LBA of NVM I/O commands (CDW10-11).
    pub fn slba(&self) -> u64 {
        u64::from(self.dw[10]) | u64::from(self.dw[11]) << 32
    }
    /// Command Dword `n` (10..=15).
    pub fn cdw(&self, n: usize) -> u32 {
        self.dw[n]
    }
    /// UUID Index, CDW14 bits 6:0 (Get Log Page, Get/Set Features).
    pub fn uuid_index(&self) -> u8 {
        (self.dw[14] & 0x7f) as u8
    }
}

/// An admin command with its fields extracted (NVMe 2.0 Base, 5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdminCmd {
    /// Delete I/O Submission Queue (NVMe 2.0 Base, 5.7).
    DeleteIoSq(DeleteIoSqCmd),
    /// Create I/O Submission Queue (5.5).
    CreateIoSq(CreateIoSqCmd),
    /// Get Log Page (5.16).
    GetLogPage(GetLogPageCmd),
    /// Delete I/O Completion Queue (5.6).
    DeleteIoCq(DeleteIoCqCmd),
    /// Create I/O Completion Queue (5.4).
    CreateIoCq(CreateIoCqCmd),
    /// Identify (5.17).
    Identify(IdentifyCmd),
    /// Abort (5.1).
    Abort(AbortCmd),
    /// Set Features (5.27).
    SetFeatures(SetFeaturesCmd),
    /// Get Features (5.15).
    GetFeatures(GetFeaturesCmd),
    /// Asynchronous Event Request (5.2).
    AsyncEventRequest,
    /// Firmware Commit (5.12).
    FirmwareCommit(FirmwareCommitCmd),
    /// Firmware Image Download (5.13).
    FirmwareImageDownload(FirmwareImageDownloadCmd),
    /// Device Self-test (5.9).
    DeviceSelfTest(DeviceSelfTestCmd),
    /// Keep Alive (5.19).
    KeepAlive,
    /// Doorbell Buffer Config (5.8).
    DoorbellBufferConfig(DoorbellBufferConfigCmd),
    /// Format NVM (NVM Command Set 1.0, 4.1).
    FormatNvm(FormatNvmCmd),
    /// Namespace Management (5.20).
    NamespaceManagement(NamespaceManagementCmd),
    /// Namespace Attachment (5.19).
    NamespaceAttachment(NamespaceAttachmentCmd),
    /// Sanitize (NVMe 2.0 Base, 5.24).
    Sanitize(SanitizeCmd),
    /// Lockdown (NVMe 2.0 Base, 5.15).
    Lockdown(LockdownCmd),
    /// Anything else.
    Unknown { opcode: u8 },
}

/// 5.20: CDW10 SEL 3:0 (0 create, 1 delete); CDW11 CSI 31:24.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NamespaceManagementCmd {
    pub sel: u8,
    pub csi: u8,
}

/// 5.19: CDW10 SEL 3:0 (0 attach, 1 detach).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NamespaceAttachmentCmd {
    pub sel: u8,
}

/// 5.7: CDW10 QID 15:0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeleteIoSqCmd {
    pub qid: u16,
}

/// 5.5: CDW10 QID 15:0, QSIZE 31:16; CDW11 PC 0, QPRIO 2:1, CQID 31:16; CDW12 NVMSETID 15:0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CreateIoSqCmd {
    pub qid: u16,
    pub qsize: u16,
    pub pc: bool,
    pub qprio: u8,
    pub cqid: u16,
    pub nvmsetid: u16,
}

/// 5.16: CDW10 LID 7:0, LSP 14:8, RAE 15, NUMDL 31:16; CDW11 NUMDU 15:0,
/// LSI 31:16; CDW12-13 LPO; CDW14 UUID 6:0, OT 23, CSI 31:24.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GetLogPageCmd {
    pub lid: u8,
    pub lsp: u8,
    pub rae: bool,
    pub numd: u32,
    pub lsi: u16,
    pub lpo: u64,
    pub uuid: u8,
    pub ot: bool,
    pub csi: u8,
}

/// 5.6: CDW10 QID 15:0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeleteIoCqCmd {
    pub qid: u16,
}

/// 5.4: CDW10 QID 15:0, QSIZE 31:16; CDW11 PC 0, IEN 1, IV 31:16.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CreateIoCqCmd {
    pub qid: u16,
    pub qsize: u16,
    pub pc: bool,
    pub ien: bool,
    pub iv: u16,
}

/// 5.17: CDW10 CNS 7:0, CNTID 31:16; CDW11 CNSSID 15:0, CSI 31:24; CDW14 UUID 6:0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdentifyCmd {
    pub cns: u8,
    pub cntid: u16,
    pub cnssid: u16,
    pub csi: u8,
    pub uuid: u8,
}

/// 5.1: CDW10 SQID 15:0, CID 31:16.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AbortCmd {
    pub sqid: u16,
    pub cid: u16,
}

/// 5.27: CDW10 FID 7:0, SV 31; CDW11-13 feature specific; CDW14 UUID 6:0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SetFeaturesCmd {
    pub fid: u8,
    pub sv: bool,
    pub cdw11: u32,
    pub cdw12: u32,
    pub cdw13: u32,
    pub uuid: u8,
}

/// 5.15: CDW10 FID 7:0, SEL 10:8; CDW11 feature specific; CDW14 UUID 6:0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GetFeaturesCmd {
    pub fid: u8,
    pub sel: u8,
    pub cdw11: u32,
    pub uuid: u8,
}

/// 5.12: CDW10 FS 2:0, CA 5:3, BPID 31.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FirmwareCommitCmd {
    pub fs: u8,
    pub ca: u8,
    pub bpid: bool,
}

/// 5.13: CDW10 NUMD (0's based dwords); CDW11 OFST (dwords).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FirmwareImageDownloadCmd {
    pub numd: u32,
    pub ofst: u32,
}

/// 5.9: CDW10 STC 3:0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceSelfTestCmd {
    pub stc: u8,
}

/// 5.8: PRP1 shadow doorbell buffer, PRP2 EventIdx buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DoorbellBufferConfigCmd {
    pub shadow: u64,
    pub eventidx: u64,
}

/// NVM 4.1 (Format NVM): CDW10 LBAFL 3:0, MSET 4, PI 7:5, PIL 8, SES 11:9, LBAFU 13:12.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FormatNvmCmd {
    pub lbaf: u8,
    pub mset: bool,
    pub pi: u8,
    pub pil: bool,
    pub ses: u8,
}

/// Sanitize (NVMe 2.0 Base, Figure 372): CDW10 and the overwrite pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SanitizeCmd {
    pub sanact: u8,
    pub ause: bool,
    pub owpass: u8,
    pub oipbp: bool,
    pub ndas: bool,
    /// Enter Media Verification State (NVMe 2.1).
    pub emvs: bool,
    pub ovrpat: u32,
}

/// Lockdown (NVMe 2.0 Base, Figure 186): SCP 3:0, PRHBT 4, IFC 6:5, OFI
/// 15:8 of CDW10; the UUID index of CDW14.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockdownCmd {
    pub scp: u8,
    pub prhbt: bool,
    pub ifc: u8,
    pub ofi: u8,
    pub uuid: u8,
}

impl AdminCmd {
    pub fn parse(s: &Sqe) -> AdminCmd {
        let c10 = s.cdw(10);
        let c11 = s.cdw(11);
        let lo = |v: u32| v as u16;
        let hi = |v: u32| (v >> 16) as u16;
        match s.opcode() {
            admin_op::DELETE_IO_SQ => AdminCmd::DeleteIoSq(DeleteIoSqCmd { qid: lo(c10) }),
            admin_op::CREATE_IO_SQ => AdminCmd::CreateIoSq(CreateIoSqCmd {
                qid: lo(c10),
                qsize: hi(c10),
                pc: c11 & 1 != 0,
                qprio: ((c11 >> 1) & 0x3) as u8,
                cqid: hi(c11),
                nvmsetid: lo(s.cdw(12)),
            }),
            admin_op::GET_LOG_PAGE => AdminCmd::GetLogPage(GetLogPageCmd {
                lid: c10 as u8,
                lsp: ((c10 >> 8) & 0x7f) as u8,
                rae: c10 & (1 << 15) != 0,
                numd: u32::from(hi(c10)) | (u32::from(lo(c11)) << 16),
                lsi: hi(c11),
                lpo: u64::from(s.cdw(12)) | u64::from(s.cdw(13)) << 32,
                uuid: s.uuid_index(),
                ot: s.cdw(14) & (1 << 23) != 0,
                csi: (s.cdw(14) >> 24) as u8,
            }),
            admin_op::DELETE_IO_CQ => AdminCmd::DeleteIoCq(DeleteIoCqCmd { qid: lo(c10) }),
            admin_op::CREATE_IO_CQ => AdminCmd::CreateIoCq(CreateIoCqCmd {
                qid: lo(c10),
                qsize: hi(c10),
                pc: c11 & 1 != 0,
                ien: c11 & 2 != 0,
                iv: hi(c11),
            }),
            admin_op::IDENTIFY => AdminCmd::Identify(IdentifyCmd {
                cns: c10 as u8,
                cntid: hi(c10),
                cnssid: lo(c11),
                csi: (c11 >> 24) as u8,
                uuid: s.uuid_index(),
            }),
            admin_op::ABORT => AdminCmd::Abort(AbortCmd {
                sqid: lo(c10),
                cid: hi(c10),
            }),
            admin_op::SET_FEATURES => AdminCmd::SetFeatures(SetFeaturesCmd {
                fid: c10 as u8,
                sv: c10 & (1 << 31) != 0,
                cdw11: c11,
                cdw12: s.cdw(12),
                cdw13: s.cdw(13),
                uuid: s.uuid_index(),
            }),
            admin_op::GET_FEATURES => AdminCmd::GetFeatures(GetFeaturesCmd {
                fid: c10 as u8,
                sel: ((c10 >> 8) & 0x7) as u8,
                cdw11: c11,
                uuid: s.uuid_index(),
            }),
            admin_op::ASYNC_EVENT_REQUEST => AdminCmd::AsyncEventRequest,
            admin_op::FIRMWARE_COMMIT => AdminCmd::FirmwareCommit(FirmwareCommitCmd {
                fs: (c10 & 0x7) as u8,
                ca: ((c10 >> 3) & 0x7) as u8,
                bpid: c10 & (1 << 31) != 0,
            }),
            admin_op::FIRMWARE_IMAGE_DOWNLOAD => {
                AdminCmd::FirmwareImageDownload(FirmwareImageDownloadCmd {
                    numd: c10,
                    ofst: c11,
                })
            }
            admin_op::DEVICE_SELF_TEST => AdminCmd::DeviceSelfTest(DeviceSelfTestCmd {
                stc: (c10 & 0xf) as u8,
            }),
            admin_op::KEEP_ALIVE => AdminCmd::KeepAlive,
            admin_op::DOORBELL_BUFFER_CONFIG => {
                AdminCmd::DoorbellBufferConfig(DoorbellBufferConfigCmd {
                    shadow: s.prp1(),
                    eventidx: s.prp2(),
                })
            }
            admin_op::FORMAT_NVM => AdminCmd::FormatNvm(FormatNvmCmd {
                lbaf: ((c10 & 0xf) | (((c10 >> 12) & 0x3) << 4)) as u8,
                mset: c10 & (1 << 4) != 0,
                pi: ((c10 >> 5) & 0x7) as u8,
                pil: c10 & (1 << 8) != 0,
                ses: ((c10 >> 9) & 0x7) as u8,
            }),
            admin_op::NAMESPACE_MANAGEMENT => {
                AdminCmd::NamespaceManagement(NamespaceManagementCmd {
                    sel: (c10 & 0xf) as u8,
                    csi: (c11 >> 24) as u8,
                })
            }
            admin_op::NAMESPACE_ATTACHMENT => {
                AdminCmd::NamespaceAttachment(NamespaceAttachmentCmd {
                    sel: (c10 & 0xf) as u8,
                })
            }
            admin_op::SANITIZE => AdminCmd::Sanitize(SanitizeCmd {
                sanact: (c10 & 0x7) as u8,
                ause: c10 & (1 << 3) != 0,
                owpass: ((c10 >> 4) & 0xf) as u8,
                oipbp: c10 & (1 << 8) != 0,
                ndas: c10 & (1 << 9) != 0,
                emvs: c10 & (1 << 10) != 0,
                ovrpat: c11,
            }),
            admin_op::LOCKDOWN => AdminCmd::Lockdown(LockdownCmd {
                scp: (c10 & 0xf) as u8,
                prhbt: c10 & (1 << 4) != 0,
                ifc: ((c10 >> 5) & 0x3) as u8,
                ofi: (c10 >> 8) as u8,
                uuid: s.uuid_index(),
            }),
            opcode => AdminCmd::Unknown { opcode },
        }
    }
}

/// Read/Write/Compare fields (NVM Command Set 1.0, 3.2.4 Read, 3.2.6 Write).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RwFields {
    /// Starting LBA, CDW10-11.
    pub slba: u64,
    /// Number of logical blocks, 1-based (CDW12 NLB 15:0 plus one).
    pub nlb: u32,
    /// CDW12 bit 31, Limited Retry.
    pub lr: bool,
    /// CDW12 bit 30, Force Unit Access.
    pub fua: bool,
    /// CDW12 bits 29:26, Protection Information field.
    pub prinfo: u8,
    /// CDW12 bits 23:20, Directive Type.
    pub dtype: u8,
    /// CDW13 bits 7:0, Dataset Management.
    pub dsm: u8,
    /// CDW13 bits 31:16, Directive Specific.
    pub dspec: u16,
}

impl RwFields {
    fn parse(s: &Sqe) -> RwFields {
        let c12 = s.cdw(12);
        RwFields {
            slba: u64::from(s.cdw(10)) | u64::from(s.cdw(11)) << 32,
            nlb: (c12 & 0xffff) + 1,
            lr: c12 & (1 << 31) != 0,
            fua: c12 & (1 << 30) != 0,
            prinfo: ((c12 >> 26) & 0xf) as u8,
            dtype: ((c12 >> 20) & 0xf) as u8,
            dsm: s.cdw(13) as u8,
            dspec: (s.cdw(13) >> 16) as u16,
        }
    }
}

/// An NVM command set I/O command with its fields extracted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NvmCmd {
    /// Flush (NVMe 2.0 Base, 7.1).
    Flush,
    /// Read (NVM Command Set 1.0, 3.2.4).
    Read(RwFields),
    /// Write (3.2.6).
    Write(RwFields),
    /// Compare (3.2.1).
    Compare(RwFields),
    /// Write Zeroes (3.2.8).
    WriteZeroes(WriteZeroesCmd),
    /// Dataset Management (3.2.3).
    DatasetManagement(DatasetManagementCmd),
    /// Verify (3.2.7).
    Verify(VerifyCmd),
    /// Write Uncorrectable (3.2.5): the same fields as Verify.
    WriteUncorrectable(VerifyCmd),
    /// Copy (3.2.2).
    Copy(CopyCmd),
    /// Anything else.
    Unknown { opcode: u8 },
}

/// 3.2.8: CDW12 NLB 15:0, DEAC 25, FUA 30.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteZeroesCmd {
    pub slba: u64,
    pub nlb: u32,
    pub deac: bool,
    pub fua: bool,
}

/// 3.2.3: CDW10 NR 7:0 (0's based); CDW11 IDR 0, IDW 1, AD 2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DatasetManagementCmd {
    pub nr: u16,
    pub idr: bool,
    pub idw: bool,
    pub ad: bool,
}

/// 3.2.7 (and 3.2.5): CDW10-11 SLBA, CDW12 NLB 15:0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerifyCmd {
    pub slba: u64,
    pub nlb: u32,
}

/// 3.2.2: CDW10-11 SDLBA; CDW12 NR 7:0 (0's based), DESFMT 11:8, FUA 30,
/// LR 31. The protection information fields (PRINFOR, PRINFOW, CDW14-15)
/// and the directive fields have nothing to act on: no namespace is
/// formatted with protection information and no directive is supported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CopyCmd {
    /// Starting Destination LBA.
    pub sdlba: u64,
    /// Number of Ranges, 1-based.
    pub nr: u16,
    /// Descriptor Format.
    pub desfmt: u8,
    pub fua: bool,
    pub lr: bool,
}

impl NvmCmd {
    pub fn parse(s: &Sqe) -> NvmCmd {
        let slba = u64::from(s.cdw(10)) | u64::from(s.cdw(11)) << 32;
        let nlb = (s.cdw(12) & 0xffff) + 1;
        match s.opcode() {
            nvm_op::FLUSH => NvmCmd::Flush,
            nvm_op::READ => NvmCmd::Read(RwFields::parse(s)),
            nvm_op::WRITE => NvmCmd::Write(RwFields::parse(s)),
            nvm_op::COMPARE => NvmCmd::Compare(RwFields::parse(s)),
            nvm_op::WRITE_ZEROES => NvmCmd::WriteZeroes(WriteZeroesCmd {
                slba,
                nlb,
                deac: s.cdw(12) & (1 << 25) != 0,
                fua: s.cdw(12) & (1 << 30) != 0,
            }),
            nvm_op::DATASET_MANAGEMENT => NvmCmd::DatasetManagement(DatasetManagementCmd {
                nr: (s.cdw(10) & 0xff) as u16 + 1,
                idr: s.cdw(11) & 1 != 0,
                idw: s.cdw(11) & 2 != 0,
                ad: s.cdw(11) & 4 != 0,
            }),
            nvm_op::VERIFY => NvmCmd::Verify(VerifyCmd { slba, nlb }),
            nvm_op::WRITE_UNCORRECTABLE => NvmCmd::WriteUncorrectable(VerifyCmd { slba, nlb }),
            nvm_op::COPY => NvmCmd::Copy(CopyCmd {
                sdlba: slba,
                nr: (s.cdw(12) & 0xff) as u16 + 1,
                desfmt: ((s.cdw(12) >> 8) & 0xf) as u8,
                fua: s.cdw(12) & (1 << 30) != 0,
                lr: s.cdw(12) & (1 << 31) != 0,
            }),
            opcode => NvmCmd::Unknown { opcode },
        }
    }
}

/// One Dataset Management range (NVM Command Set 1.0, Figure 39).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DsmRange {
    pub attributes: u32,
    pub nlb: u32,
    pub slba: u64,
}

/// Size of a DSM range entry.
pub const DSM_RANGE_SIZE: usize = 16;

/// One Copy source range in Descriptor Format 0h (NVM Command Set 1.0,
/// Figure 32): SLBA at bytes 15:8, NLB (0's based) at 17:16.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CopyRange {
    pub slba: u64,
    /// Number of logical blocks, 1-based.
    pub nlb: u32,
}

/// Size of a Source Range Entry in Descriptor Format 0h.
pub const COPY_RANGE_SIZE: usize = 32;

impl CopyRange {
    pub fn parse(b: &[u8]) -> CopyRange {
        CopyRange {
            slba: rd_u64(b, 8),
            nlb: u32::from(rd_u16(b, 16)) + 1,
        }
    }
}

impl DsmRange {
    pub fn parse(b: &[u8]) -> DsmRange {
        DsmRange {
            attributes: rd_u32(b, 0),
            nlb: rd_u32(b, 4),
            slba: rd_u64(b, 8),
        }
    }
}

#[cfg(test)]
#[allow(clippy::shadow_unrelated)]
mod tests {
    use super::*;

    fn sqe(dw: &[(usize, u32)]) -> Sqe {
        let mut s = Sqe { dw: [0; 16] };
        for &(i, v) in dw {
            s.dw[i] = v;
        }
        s
    }

    #[test]
    fn common_fields() {
        let s = sqe(&[
            (0, 0xabcd_4102 | (1 << 8)),
            (1, 0x1234_5678),
            (4, 0x1111_2222),
            (5, 0x3333_4444),
            (6, 0x5555_6000),
            (7, 0x7777_8888),
            (8, 0x9999_a000),
            (9, 0xbbbb_cccc),
            (14, 0xffff_ff85),
        ]);
        assert_eq!(s.opcode(), 0x02);
        assert_eq!(s.fuse(), 1);
        assert_eq!(s.psdt(), Psdt::Sgl { mptr_sgl: false });
        assert_eq!(s.cid(), 0xabcd);
        assert_eq!(s.nsid(), 0x1234_5678);
        assert_eq!(s.mptr(), 0x3333_4444_1111_2222);
        assert_eq!(s.prp1(), 0x7777_8888_5555_6000);
        assert_eq!(s.prp2(), 0xbbbb_cccc_9999_a000);
        assert_eq!(s.uuid_index(), 0x05);
        assert_eq!(
            sqe(&[(10, 0x89ab_cdef), (11, 0x0123_4567)]).slba(),
            0x0123_4567_89ab_cdef
        );
        assert_eq!(&s.sgl1()[0..4], &0x5555_6000u32.to_le_bytes());
        assert_eq!(&s.sgl1()[12..16], &0xbbbb_ccccu32.to_le_bytes());
        assert_eq!(sqe(&[(0, 0)]).psdt(), Psdt::Prp);
        assert_eq!(sqe(&[(0, 2 << 14)]).psdt(), Psdt::Sgl { mptr_sgl: true });
        assert_eq!(sqe(&[(0, 3 << 14)]).psdt(), Psdt::Reserved);
        let b = s.to_bytes();
        assert_eq!(Sqe::from_bytes(&b), s);
        assert_eq!(b[0], 0x02);
        assert_eq!(b[3], 0xab);
    }

    #[test]
    fn create_queues() {
        let s = sqe(&[
            (0, 0x01),
            (10, 0x03ff_0005),
            (11, 0x0007_0005),
            (12, 0x0009),
        ]);
        assert_eq!(
            AdminCmd::parse(&s),
            AdminCmd::CreateIoSq(CreateIoSqCmd {
                qid: 5,
                qsize: 0x3ff,
                pc: true,
                qprio: 2,
                cqid: 7,
                nvmsetid: 9
            })
        );
        let s = sqe(&[(0, 0x05), (10, 0x0010_0003), (11, 0x0021_0003)]);
        assert_eq!(
            AdminCmd::parse(&s),
            AdminCmd::CreateIoCq(CreateIoCqCmd {
                qid: 3,
                qsize: 16,
                pc: true,
                ien: true,
                iv: 0x21
            })
        );
        let s = sqe(&[(0, 0x05), (11, 0x0000_0002)]);
        assert_eq!(
            AdminCmd::parse(&s),
            AdminCmd::CreateIoCq(CreateIoCqCmd {
                qid: 0,
                qsize: 0,
                pc: false,
                ien: true,
                iv: 0
            })
        );
        assert_eq!(
            AdminCmd::parse(&sqe(&[(0, 0x00), (10, 0xffff_0009)])),
            AdminCmd::DeleteIoSq(DeleteIoSqCmd { qid: 9 })
        );
        assert_eq!(
            AdminCmd::parse(&sqe(&[(0, 0x04), (10, 0xffff_000a)])),
            AdminCmd::DeleteIoCq(DeleteIoCqCmd { qid: 10 })
        );
    }

    #[test]
    fn get_log_page() {
        let s = sqe(&[
            (0, 0x02),
            (10, 0x03ff_0000 | (1 << 15) | (0x45 << 8) | 0xc0),
            (11, 0x1234_0002),
            (12, 0x0000_1000),
            (13, 0x0000_0001),
            (14, 0x0200_0000 | (1 << 23) | 0x01),
        ]);
        assert_eq!(
            AdminCmd::parse(&s),
            AdminCmd::GetLogPage(GetLogPageCmd {
                lid: 0xc0,
                lsp: 0x45,
                rae: true,
                numd: 0x0002_03ff,
                lsi: 0x1234,
                lpo: 0x1_0000_1000,
                uuid: 1,
                ot: true,
                csi: 2
            })
        );
    }

    #[test]
    fn identify_abort_features() {
        let s = sqe(&[(0, 0x06), (10, 0x0042_0017), (11, 0x0300_0055), (14, 0x7f)]);
        assert_eq!(
            AdminCmd::parse(&s),
            AdminCmd::Identify(IdentifyCmd {
                cns: 0x17,
                cntid: 0x42,
                cnssid: 0x55,
                csi: 3,
                uuid: 0x7f
            })
        );
        assert_eq!(
            AdminCmd::parse(&sqe(&[(0, 0x08), (10, 0x1234_0003)])),
            AdminCmd::Abort(AbortCmd {
                sqid: 3,
                cid: 0x1234
            })
        );
        let s = sqe(&[
            (0, 0x09),
            (10, 0x8000_0007),
            (11, 1),
            (12, 2),
            (13, 3),
            (14, 1),
        ]);
        assert_eq!(
            AdminCmd::parse(&s),
            AdminCmd::SetFeatures(SetFeaturesCmd {
                fid: 7,
                sv: true,
                cdw11: 1,
                cdw12: 2,
                cdw13: 3,
                uuid: 1
            })
        );
        let s = sqe(&[(0, 0x0a), (10, 0x0000_0304), (11, 0x10)]);
        assert_eq!(
            AdminCmd::parse(&s),
            AdminCmd::GetFeatures(GetFeaturesCmd {
                fid: 4,
                sel: 3,
                cdw11: 0x10,
                uuid: 0
            })
        );
        assert_eq!(
            AdminCmd::parse(&sqe(&[(0, 0x0c)])),
            AdminCmd::AsyncEventRequest
        );
        assert_eq!(AdminCmd::parse(&sqe(&[(0, 0x18)])), AdminCmd::KeepAlive);
    }

    #[test]
    fn firmware_selftest_format_dbbuf() {
        let s = sqe(&[(0, 0x10), (10, 0x8000_0000 | (3 << 3) | 2)]);
        assert_eq!(
            AdminCmd::parse(&s),
            AdminCmd::FirmwareCommit(FirmwareCommitCmd {
                fs: 2,
                ca: 3,
                bpid: true
            })
        );
        let s = sqe(&[(0, 0x11), (10, 0x3ff), (11, 0x400)]);
        assert_eq!(
            AdminCmd::parse(&s),
            AdminCmd::FirmwareImageDownload(FirmwareImageDownloadCmd {
                numd: 0x3ff,
                ofst: 0x400
            })
        );
        assert_eq!(
            AdminCmd::parse(&sqe(&[(0, 0x14), (10, 0xf2)])),
            AdminCmd::DeviceSelfTest(DeviceSelfTestCmd { stc: 2 })
        );
        let s = sqe(&[
            (0, 0x80),
            (
                10,
                (2 << 12) | (3 << 9) | (1 << 8) | (5 << 5) | (1 << 4) | 0x1,
            ),
        ]);
        assert_eq!(
            AdminCmd::parse(&s),
            AdminCmd::FormatNvm(FormatNvmCmd {
                lbaf: 0x21,
                mset: true,
                pi: 5,
                pil: true,
                ses: 3
            })
        );
        let s = sqe(&[(0, 0x7c), (6, 0x1000), (7, 1), (8, 0x2000), (9, 2)]);
        assert_eq!(
            AdminCmd::parse(&s),
            AdminCmd::DoorbellBufferConfig(DoorbellBufferConfigCmd {
                shadow: 0x1_0000_1000,
                eventidx: 0x2_0000_2000
            })
        );
        assert_eq!(
            AdminCmd::parse(&sqe(&[(0, 0x81)])),
            AdminCmd::Unknown { opcode: 0x81 }
        );
    }

    #[test]
    fn nvm_rw() {
        let s = sqe(&[
            (0, 0x02),
            (10, 0x89ab_cdef),
            (11, 0x0123_4567),
            (
                12,
                (1 << 31) | (1 << 30) | (0xa << 26) | (0x3 << 20) | 0xffff,
            ),
            (13, 0xbeef_0042),
        ]);
        let f = RwFields {
            slba: 0x0123_4567_89ab_cdef,
            nlb: 0x10000,
            lr: true,
            fua: true,
            prinfo: 0xa,
            dtype: 3,
            dsm: 0x42,
            dspec: 0xbeef,
        };
        assert_eq!(NvmCmd::parse(&s), NvmCmd::Read(f));
        let mut w = s;
        w.dw[0] = 0x01;
        assert_eq!(NvmCmd::parse(&w), NvmCmd::Write(f));
        w.dw[0] = 0x05;
        assert_eq!(NvmCmd::parse(&w), NvmCmd::Compare(f));
        let z = sqe(&[(0, 0x02), (12, 0)]);
        assert!(matches!(
            NvmCmd::parse(&z),
            NvmCmd::Read(RwFields {
                nlb: 1,
                fua: false,
                lr: false,
                ..
            })
        ));
    }

    #[test]
    fn nvm_others() {
        assert_eq!(NvmCmd::parse(&sqe(&[(0, 0)])), NvmCmd::Flush);
        let s = sqe(&[(0, 0x08), (10, 5), (11, 1), (12, (1 << 25) | (1 << 30) | 7)]);
        assert_eq!(
            NvmCmd::parse(&s),
            NvmCmd::WriteZeroes(WriteZeroesCmd {
                slba: 0x1_0000_0005,
                nlb: 8,
                deac: true,
                fua: true
            })
        );
        let s = sqe(&[(0, 0x09), (10, 0xffff_ff03), (11, 0b101)]);
        assert_eq!(
            NvmCmd::parse(&s),
            NvmCmd::DatasetManagement(DatasetManagementCmd {
                nr: 4,
                idr: true,
                idw: false,
                ad: true
            })
        );
        let s = sqe(&[(0, 0x09), (10, 0xff), (11, 0b010)]);
        assert_eq!(
            NvmCmd::parse(&s),
            NvmCmd::DatasetManagement(DatasetManagementCmd {
                nr: 256,
                idr: false,
                idw: true,
                ad: false
            })
        );
        let s = sqe(&[(0, 0x0c), (10, 9), (12, 0xffff_0001)]);
        assert_eq!(
            NvmCmd::parse(&s),
            NvmCmd::Verify(VerifyCmd { slba: 9, nlb: 2 })
        );
        assert_eq!(
            NvmCmd::parse(&sqe(&[(0, 0x04), (10, 7), (12, 3)])),
            NvmCmd::WriteUncorrectable(VerifyCmd { slba: 7, nlb: 4 })
        );
        assert_eq!(
            NvmCmd::parse(&sqe(&[(0, 0x03)])),
            NvmCmd::Unknown { opcode: 3 }
        );
    }

    #[test]
    fn dsm_range() {
        let mut b = [0u8; 16];
        b[0..4].copy_from_slice(&7u32.to_le_bytes());
        b[4..8].copy_from_slice(&0x100u32.to_le_bytes());
        b[8..16].copy_from_slice(&0x1_0000_0002u64.to_le_bytes());
        assert_eq!(
            DsmRange::parse(&b),
            DsmRange {
                attributes: 7,
                nlb: 0x100,
                slba: 0x1_0000_0002
            }
        );
    }
}
