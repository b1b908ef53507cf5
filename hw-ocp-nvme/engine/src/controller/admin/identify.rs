// SPDX-License-Identifier: GPL-2.0-or-later
//! Identify (NVMe 2.0 Base, 5.17): controller, namespaces, descriptor and
//! UUID lists; NVM Command Set 1.0, 4.1.5 for the NVM specific structures.

use crate::controller::admin::{aer, features, firmware, format, pel, sanitize};
use crate::controller::copy::MSRC;
use crate::controller::{Controller, Outcome, Request};
use crate::namespace::{
    Namespace, Namespaces, CONTROLLER_ID, GRANULE, LBA_FORMATS, MAX_NAMESPACES,
};
use crate::ocp::endurance::ENDGID;
use crate::ocp::OCP_UUID;
use crate::spec::cmd::IdentifyCmd;
use crate::spec::ids::cns;
use crate::spec::regs::NVME_VERSION;
use crate::spec::status::Status;
use crate::traits::Host;
use crate::wire::LeWriter;

/// Size of every Identify data structure.
pub const IDENTIFY_SIZE: usize = 4096;

/// Error Log Page Entries (0's based): 64 entries.
pub const ELPE: u8 = 255;
/// Keep Alive Support granularity (100 ms units): 1 s.
pub const KAS: u16 = 10;

/// OACS: Format NVM (1), Firmware Download/Commit (2), Namespace
/// Management (3; OCP NVMe-AD-3/4), Device Self-test (4), Doorbell Buffer
/// Config (8), Command and Feature Lockdown (10; OCP NVMe-AD-14).
pub const OACS: u16 = 1 << 1 | 1 << 2 | 1 << 3 | 1 << 4 | 1 << 8 | 1 << 10;
/// ONCS: Write Uncorrectable (1), DSM (2), Write Zeroes (3), Save/Select
/// (4), Timestamp (6), Verify (7), Copy (8; OCP NVMe-OPT-16).
pub const ONCS: u16 = 1 << 1 | 1 << 2 | 1 << 3 | 1 << 4 | 1 << 6 | 1 << 7 | 1 << 8;
/// ONCS Compare bit.
pub const ONCS_COMPARE: u16 = 1;
/// LPA: Commands Supported and Effects (1), extended data (2), telemetry (3),
/// Persistent Event log (4), Supported Log Pages... (5), Telemetry Data Area
/// 4 (6, enabled by Host Behavior Support ETDAS; `nvme ocp internal-log -a 4`).
pub const LPA: u8 = 1 << 1 | 1 << 2 | 1 << 3 | 1 << 4 | 1 << 5 | 1 << 6;

/// The drive's indirection unit (OCP NVMe-OPT-7): 4 KiB.
pub const INDIRECTION_UNIT: u32 = 4096;
/// AWUN and AWUPF: 4 KiB in 512-byte blocks, 0's based (NVMe-OPT-17).
pub const AWUPF: u16 = 7;

/// Size of a Power State Descriptor (NVMe 2.0 Base, Figure 276).
const POWER_STATE_SIZE: usize = 32;
/// Entry and exit latencies (us) of the power states; their Maximum Power
/// comes from `max-power` / `min-power` ([`crate::ocp::nvme_power_states_w`]),
/// so that the OCP DSSD power states (FID C7h, C4h) map onto them.
pub const POWER_STATE_LATENCIES: [(u32, u32); 3] = [(0, 0), (10, 10), (50, 50)];

/// A 64-bit EUI and 128-bit NGUID derived from the serial number and the
/// namespace's creation number (`uid`, 0 for the factory namespace), stable
/// across runs, so hosts see unique identifiers, never reused.
pub fn ids_from_serial(serial: &str, uid: u64, oui: [u8; 3]) -> ([u8; 8], [u8; 16]) {
    // FNV-1a 64.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let suffix = if uid == 0 {
        String::new()
    } else {
        format!("/{uid}")
    };
    for b in serial.bytes().chain(suffix.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let hb = h.to_be_bytes();
    let mut eui = [0u8; 8];
    eui[..3].copy_from_slice(&oui);
    eui[3..].copy_from_slice(&hb[..5]);
    let mut nguid = [0u8; 16];
    nguid[..8].copy_from_slice(&hb);
    nguid[8..11].copy_from_slice(&oui);
    nguid[11..].copy_from_slice(&(!h).to_be_bytes()[..5]);
    (eui, nguid)
}

impl Controller {
    /// Identify Controller data structure (NVMe 2.0 Base, Figure 275).
    fn identify_controller(&self) -> Vec<u8> {
        let cfg = &self.cfg;
        let mut w = LeWriter::page::<IDENTIFY_SIZE>();
        w.u16(0, cfg.pci_vendor_id)
            .u16(2, cfg.pci_subsys_vendor_id)
            .ascii(4, 20, cfg.serial.as_bytes(), b' ')
            .ascii(24, 40, cfg.model.as_bytes(), b' ')
            .bytes(64, &self.fw.active_rev())
            .u8(72, 6) // RAB
            // IEEE OUI, least significant byte first.
            .bytes(73, &[cfg.ieee_oui[2], cfg.ieee_oui[1], cfg.ieee_oui[0]])
            .u8(77, cfg.mdts)
            .u16(78, 0) // CNTLID
            .u32(80, NVME_VERSION)
            .u32(84, 1_000_000) // RTD3R
            .u32(88, 1_000_000) // RTD3E
            .u32(92, 1 << 8 | 1 << 9 | 1 << 10) // OAES: NS attr, FW activation, telemetry
            // CTRATT: Endurance Groups (4; OCP STD-LOG-17), Namespace
            // Granularity (7; OCP NSM-6), UUID List (9); no extended LBA
            // formats (OCP NSM-8).
            .u32(96, 1 << 4 | 1 << 7 | 1 << 9)
            .u8(111, 1) // CNTRLTYPE: I/O controller
            .u16(256, OACS)
            .u8(258, aer::ABORT_LIMIT)
            .u8(259, self.cfg.aerl)
            .u8(260, firmware::frmw(cfg))
            .u8(261, LPA)
            .u8(262, ELPE)
            .u8(263, features::NPSS)
            .u16(266, self.cfg.health.warning_temp_k)
            .u16(268, self.cfg.health.critical_temp_k)
            // TNVMCAP, UNVMCAP (OCP NSM-7).
            .u128(280, u128::from(self.ns.total_bytes()))
            .u128(296, u128::from(self.ns.unallocated_bytes()))
            .u16(316, cfg.extended_self_test_min) // EDSTT
            .u8(318, 1) // DSTO: one self-test at a time
            .u8(319, firmware::FWUG) // FWUG: 4 KiB (OCP FWUP-29)
            .u16(320, KAS)
            .u32(328, sanitize::SANICAP)
            .u16(340, ENDGID) // ENDGIDMAX: one Endurance Group
            .u32(352, pel::PELS)
            .u8(512, 0x66) // SQES
            .u8(513, 0x44) // CQES
            .u32(516, MAX_NAMESPACES) // NN
            .u32(540, MAX_NAMESPACES) // MNAN
            // AWUN, AWUPF: 4 KiB, at least NPWG of every LBA format
            // (OCP NVMe-OPT-17), 0's based in 512-byte blocks.
            .u16(526, AWUPF)
            .u16(528, AWUPF)
            .u16(520, ONCS | ONCS_COMPARE)
            .u16(522, 1) // FUSES: Compare and Write (OCP NVMe-IO-9)
            .u8(524, format::FNA)
            .u8(525, if cfg.volatile_write_cache { 0x07 } else { 0x06 }) // VWC, flush broadcast
            .u16(534, 1) // OCFS: Copy Descriptor Format 0h (OCP NVMe-OPT-16)
            .u32(536, 1 | 1 << 16) // SGLS: supported, Bit Bucket
            // SUBNQN, 256 bytes, NUL padded.
            .ascii(768, 256, cfg.subnqn().as_bytes(), 0);
        let mps = crate::ocp::nvme_power_states_w(&self.cfg.health);
        for (i, &(enlat, exlat)) in POWER_STATE_LATENCIES.iter().enumerate() {
            let o = 2048 + i * POWER_STATE_SIZE;
            let rel = i as u8;
            // MP in 0.01 W units (MXPS 0).
            w.u16(o, u16::from(mps[i]) * 100)
                .u32(o + 4, enlat)
                .u32(o + 8, exlat)
                // RRT, RRL, RWT, RWL.
                .bytes(o + 12, &[rel, rel, rel, rel]);
        }
        w.finish()
    }

    /// Identify Namespace data structure (NVM Command Set 1.0, Figure 97)
    /// of an allocated namespace.
    fn identify_namespace(&self, ns: &Namespace) -> Vec<u8> {
        let (eui, nguid) = ids_from_serial(&self.cfg.serial, ns.uid, self.cfg.ieee_oui);
        let mut w = self.namespace_capabilities(ns.lba_size());
        w.u64(0, ns.nsze()) // NSZE
            .u64(8, ns.nsze()) // NCAP
            .u64(16, ns.nuse()) // NUSE (OCP 4.4.2)
            .u8(26, ns.lbaf) // FLBAS
            .u8(30, ns.nmic) // NMIC
            .u128(48, u128::from(ns.size_bytes)) // NVMCAP
            .bytes(104, &nguid)
            .bytes(120, &eui);
        w.finish()
    }

    /// The Identify Namespace fields every namespace shares: NSID `FFFFFFFFh`
    /// reads them alone (NVMe 2.0 Base, 5.17.2.1), a namespace adds its own.
    fn namespace_capabilities(&self, lba_size: u64) -> LeWriter {
        let iu_blocks = u16::try_from((u64::from(INDIRECTION_UNIT) / lba_size).max(1)).unwrap_or(1);
        let mut w = LeWriter::page::<IDENTIFY_SIZE>();
        // NSFEAT: NGUID/EUI64 never reused, OPTPERF (OCP NVMe-AD-2): the
        // NPWG..NOWS fields below are valid.
        w.u8(24, 1 << 3 | 1 << 4)
            .u8(25, (LBA_FORMATS.len() - 1) as u8) // NLBAF
            // DLFEAT: deallocated blocks read zeroes, DEAC in Write Zeroes supported.
            .u8(33, if self.cfg.discard { 0x09 } else { 0x01 })
            // FPI: supported, percentage remaining (OCP NVMe-AD-2).
            .u8(32, self.format_progress())
            // NPWG, NPWA, NPDG, NPDA: the 4 KiB indirection unit, NOWS 128 KiB
            // (0's based, in logical blocks; OCP NVMe-OPT-7).
            .u16(64, iu_blocks - 1)
            .u16(66, iu_blocks - 1)
            .u16(68, iu_blocks - 1)
            .u16(70, iu_blocks - 1)
            .u16(72, iu_blocks * 32 - 1)
            // Copy limits: MSSRL, MCL (logical blocks), MSRC (0's based).
            .u16(74, self.copy_mssrl(lba_size))
            .u32(76, self.copy_mcl(lba_size))
            .u8(80, MSRC)
            .u8(99, u8::from(self.cfg.read_only)) // NSATTR: write protected
            .u16(102, ENDGID); // ENDGID
        for (i, &lbads) in LBA_FORMATS.iter().enumerate() {
            let rp = u32::from(lbads != 12); // 4 KiB performs best
            w.u32(128 + i * 4, u32::from(lbads) << 16 | rp << 24);
        }
        w
    }

    /// Namespace Identification Descriptor list (NVMe 2.0 Base, Figure 278).
    fn identify_ns_descriptors(&self, ns: &Namespace) -> Vec<u8> {
        let (eui, nguid) = ids_from_serial(&self.cfg.serial, ns.uid, self.cfg.ieee_oui);
        let mut w = LeWriter::page::<IDENTIFY_SIZE>();
        // EUI64 (NIDT 1), NGUID (2), CSI (4): type, length, then the value.
        w.u8(0, 1)
            .u8(1, 8)
            .bytes(4, &eui)
            .u8(12, 2)
            .u8(13, 16)
            .bytes(16, &nguid)
            .u8(32, 4)
            .u8(33, 1)
            .u8(36, 0); // NVM command set
        w.finish()
    }

    /// NVM Command Set Identify Controller (NVM Command Set 1.0, Figure 97).
    fn identify_nvm_controller(&self) -> Vec<u8> {
        let mut w = LeWriter::page::<IDENTIFY_SIZE>();
        // VSL: Verify is limited like Read. WZSL, WUSL: no limit; DMRL: 256
        // ranges; DMRSL, DMSL: no limit.
        w.u8(0, self.cfg.mdts).u8(3, 0);
        w.finish()
    }

    /// Format Progress Indicator: bit 7 supported, bits 6:0 percent of the
    /// current Format NVM remaining (a format runs as one backend request,
    /// so 100 while it runs, 0 otherwise).
    fn format_progress(&self) -> u8 {
        0x80 | if self.formatting { 100 } else { 0 }
    }

    /// I/O Command Set Independent Identify Namespace (NVMe 2.0 Base,
    /// Figure 280).
    fn identify_independent_namespace(&self, ns: &Namespace) -> Vec<u8> {
        let mut w = LeWriter::page::<IDENTIFY_SIZE>();
        w.u8(0, 1 << 3 | 1 << 4) // NSFEAT: OPTPERF
            .u8(1, ns.nmic) // NMIC
            .u8(3, self.format_progress()) // FPI (OCP NVMe-AD-2)
            .u8(8, u8::from(self.cfg.read_only)) // NSATTR
            .u8(14, 1); // NSTAT: ready
        w.finish()
    }

    /// The namespace data structures (CNS 00h, 03h, 05h, 08h and their
    /// allocated-NSID forms 11h, 1Bh, 1Fh): an active namespace (or, with
    /// `allocated`, any allocated one) gets its structure, another valid
    /// NSID a zero-filled one (Invalid Namespace for the descriptor list),
    /// anything else Invalid Namespace or Format (NVMe 2.0 Base, 5.17.2).
    fn identify_ns_structure(
        &self,
        cns_v: u8,
        nsid: u32,
        allocated: bool,
    ) -> Result<Vec<u8>, Status> {
        let zeroes = || LeWriter::page::<IDENTIFY_SIZE>().finish();
        if nsid == 0xffff_ffff && matches!(cns_v, cns::NAMESPACE | cns::ALLOCATED_NAMESPACE) {
            let lba = self.ns.active(1).map_or(512, Namespace::lba_size);
            return Ok(self.namespace_capabilities(lba).finish());
        }
        if !Namespaces::valid(nsid) {
            return Err(Status::INVALID_NAMESPACE);
        }
        let ns = if allocated {
            self.ns.get(nsid)
        } else {
            self.ns.active(nsid)
        };
        let Some(ns) = ns else {
            return if cns_v == cns::NS_ID_DESCRIPTORS {
                Err(Status::INVALID_NAMESPACE)
            } else {
                Ok(zeroes())
            };
        };
        Ok(match cns_v {
            cns::NAMESPACE | cns::ALLOCATED_NAMESPACE => self.identify_namespace(ns),
            cns::NS_ID_DESCRIPTORS => self.identify_ns_descriptors(ns),
            cns::CSI_NAMESPACE | cns::CSI_ALLOCATED_NAMESPACE => zeroes(),
            _ => self.identify_independent_namespace(ns),
        })
    }

    pub(crate) fn identify(&self, req: &Request, cmd: IdentifyCmd, host: &mut Host) -> Outcome {
        // One controller, no NVM sets or endurance groups and one UUID list
        // for every index: CNSSID and the UUID index select nothing.
        let IdentifyCmd {
            cns: cns_v,
            csi,
            cntid,
            ..
        } = cmd;
        let nsid = req.sqe.nsid();
        let csi_specific = matches!(
            cns_v,
            cns::CSI_NAMESPACE
                | cns::CSI_CONTROLLER
                | cns::CSI_ACTIVE_NSID_LIST
                | cns::CSI_ALLOCATED_NSID_LIST
                | cns::CSI_ALLOCATED_NAMESPACE
        );
        if csi_specific && csi != 0 {
            return Status::INVALID_FIELD.into();
        }
        let result = match cns_v {
            cns::NAMESPACE
            | cns::CSI_NAMESPACE
            | cns::CSI_INDEPENDENT_NAMESPACE
            | cns::NS_ID_DESCRIPTORS => self.identify_ns_structure(cns_v, nsid, false),
            cns::ALLOCATED_NAMESPACE
            | cns::CSI_ALLOCATED_NAMESPACE
            | cns::CSI_INDEPENDENT_ALLOCATED_NAMESPACE => {
                self.identify_ns_structure(cns_v, nsid, true)
            }
            cns::CONTROLLER => Ok(self.identify_controller()),
            cns::CSI_CONTROLLER => Ok(self.identify_nvm_controller()),
            cns::ACTIVE_NSID_LIST | cns::CSI_ACTIVE_NSID_LIST => {
                nsid_list(nsid, self.ns.active_ids())
            }
            cns::ALLOCATED_NSID_LIST | cns::CSI_ALLOCATED_NSID_LIST => {
                nsid_list(nsid, self.ns.allocated_ids())
            }
            cns::NS_ATTACHED_CONTROLLERS => {
                if Namespaces::valid(nsid) {
                    let attached = self.ns.active(nsid).is_some();
                    Ok(controller_list(attached && cntid == CONTROLLER_ID))
                } else {
                    Err(Status::INVALID_NAMESPACE)
                }
            }
            cns::CONTROLLER_LIST => Ok(controller_list(cntid == CONTROLLER_ID)),
            cns::NS_GRANULARITY_LIST => Ok(granularity_list()),
            cns::UUID_LIST => Ok(uuid_list()),
            _ => Err(Status::INVALID_FIELD),
        };
        match result {
            Ok(data) => self.send_data(&req.sqe, &data, host).into(),
            Err(s) => s.into(),
        }
    }
}

/// Active or Allocated Namespace ID list (NVMe 2.0 Base, 5.17.2.2, 5.17.2.10):
/// the NSIDs above `start_after`, ascending.
fn nsid_list(start_after: u32, ids: impl Iterator<Item = u32>) -> Result<Vec<u8>, Status> {
    if start_after >= 0xffff_fffe {
        return Err(Status::INVALID_NAMESPACE);
    }
    let mut w = LeWriter::page::<IDENTIFY_SIZE>();
    for (i, id) in ids
        .filter(|&id| id > start_after)
        .take(IDENTIFY_SIZE / 4)
        .enumerate()
    {
        w.u32(i * 4, id);
    }
    Ok(w.finish())
}

/// Controller List (NVMe 2.0 Base, Figure 137): the one controller, or none.
fn controller_list(with_controller: bool) -> Vec<u8> {
    let mut w = LeWriter::page::<IDENTIFY_SIZE>();
    if with_controller {
        w.u16(0, 1).u16(2, CONTROLLER_ID);
    }
    w.finish()
}

/// Namespace Granularity List (NVMe 2.0 Base, Figure 284; OCP NSM-6): one
/// descriptor, NSZE and NCAP granularity of [`GRANULE`] bytes.
fn granularity_list() -> Vec<u8> {
    let mut w = LeWriter::page::<IDENTIFY_SIZE>();
    w.u32(0, 0) // NGLA
        .u8(31, 0) // NOD: one descriptor (0's based)
        .u64(32, GRANULE)
        .u64(40, GRANULE);
    w.finish()
}

/// UUID List (NVMe 2.0 Base, Figure 282): entry 1 (UUID index 1) at byte 32,
/// association 0, the UUID at +16.
fn uuid_list() -> Vec<u8> {
    let mut w = LeWriter::page::<IDENTIFY_SIZE>();
    w.bytes(32 + 16, &OCP_UUID);
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ControllerConfig;

    #[test]
    fn controller_fields() {
        let c = Controller::new(ControllerConfig::default()).unwrap();
        let b = c.identify_controller();
        assert_eq!(u16::from_le_bytes([b[0], b[1]]), 0x1b36);
        assert_eq!(&b[4..15], b"OCPNVME0001");
        assert_eq!(b[15], b' ');
        assert_eq!(&b[64..67], b"1.0");
        assert_eq!(b[77], 7);
        assert_eq!(
            u32::from_le_bytes([b[80], b[81], b[82], b[83]]),
            0x0002_0000
        );
        assert_eq!(b[96 + 1] & 0x02, 0x02); // CTRATT bit 9
        assert_eq!(b[512], 0x66);
        assert_eq!(b[513], 0x44);
        assert_eq!(b[516], 32); // NN
        assert_eq!(b[540], 32); // MNAN
        assert_eq!(b[256] & 0x08, 0x08); // OACS Namespace Management
        assert_eq!(b[263], 2);
        assert_eq!(u16::from_le_bytes([b[2048], b[2049]]), 2500);
        assert!(b[768..].starts_with(b"nqn.2019-08.org.qemu:OCPNVME0001"));
    }

    #[test]
    fn uuid_list_has_ocp_at_index_1() {
        let b = uuid_list();
        assert_eq!(&b[48..64], &OCP_UUID);
        assert_eq!(b[32] & 0x3, 0);
        assert!(b[64..].iter().all(|&x| x == 0));
    }

    #[test]
    fn namespace_formats() {
        let c = Controller::new(ControllerConfig::default()).unwrap();
        let b = c.identify_namespace(c.ns.get(1).unwrap());
        assert_eq!(
            u64::from_le_bytes(b[0..8].try_into().unwrap()),
            (1 << 30) / 512
        );
        assert_eq!(b[25], 1);
        assert_eq!(b[26], 0);
        assert_eq!(b[128 + 2], 9);
        assert_eq!(b[132 + 2], 12);
    }
}
