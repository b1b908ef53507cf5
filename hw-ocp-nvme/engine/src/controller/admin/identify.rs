// SPDX-License-Identifier: GPL-2.0-or-later
//! Identify (NVMe 2.0 Base, 5.17): controller, namespaces, descriptor and
//! UUID lists; NVM Command Set 1.0, 4.1.5 for the NVM specific structures.

use crate::controller::admin::{aer, features, firmware};
use crate::controller::{Controller, Outcome, Request};
use crate::namespace::LBA_FORMATS;
use crate::ocp::OCP_UUID;
use crate::spec::cmd::IdentifyCmd;
use crate::spec::ids::cns;
use crate::spec::regs::NVME_VERSION;
use crate::spec::status::Status;
use crate::spec::{put_ascii, put_u128, put_u16, put_u32, put_u64};
use crate::traits::Host;

/// Size of every Identify data structure.
pub const IDENTIFY_SIZE: usize = 4096;

/// Error Log Page Entries (0's based): 64 entries.
pub const ELPE: u8 = 63;
/// Keep Alive Support granularity (100 ms units): 1 s.
pub const KAS: u16 = 10;

/// OACS: Format NVM (1), Firmware Download/Commit (2), Device Self-test (4),
/// Doorbell Buffer Config (8).
pub const OACS: u16 = 1 << 1 | 1 << 2 | 1 << 4 | 1 << 8;
/// ONCS: DSM (2), Write Zeroes (3), Save/Select (4), Timestamp (6), Verify (7);
/// Compare (0) is added when the storage reads synchronously.
pub const ONCS: u16 = 1 << 2 | 1 << 3 | 1 << 4 | 1 << 6 | 1 << 7;
/// ONCS Compare bit.
pub const ONCS_COMPARE: u16 = 1;
/// LPA: Commands Supported and Effects (1), extended data (2), telemetry (3),
/// Supported Log Pages... (5).
pub const LPA: u8 = 1 << 1 | 1 << 2 | 1 << 3 | 1 << 5;

/// Power state descriptors: (max power in centiwatts, entry latency us, exit latency us).
pub const POWER_STATES: [(u16, u32, u32); 3] = [(2500, 0, 0), (1800, 10, 10), (1200, 50, 50)];

/// A 64-bit EUI and 128-bit NGUID derived from the serial number, stable
/// across runs, so hosts see unique identifiers.
pub fn ids_from_serial(serial: &str, oui: [u8; 3]) -> ([u8; 8], [u8; 16]) {
    // FNV-1a 64.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in serial.bytes() {
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
    fn identify_controller(&self) -> Vec<u8> {
        let cfg = &self.cfg;
        let mut b = vec![0u8; IDENTIFY_SIZE];
        put_u16(&mut b, 0, cfg.pci_vendor_id);
        put_u16(&mut b, 2, cfg.pci_subsys_vendor_id);
        put_ascii(&mut b, 4, 20, &cfg.serial);
        put_ascii(&mut b, 24, 40, &cfg.model);
        b[64..72].copy_from_slice(&self.fw.active_rev());
        b[72] = 6; // RAB
                   // IEEE OUI, least significant byte first.
        b[73] = cfg.ieee_oui[2];
        b[74] = cfg.ieee_oui[1];
        b[75] = cfg.ieee_oui[0];
        b[77] = cfg.mdts;
        put_u16(&mut b, 78, 0); // CNTLID
        put_u32(&mut b, 80, NVME_VERSION);
        put_u32(&mut b, 84, 1_000_000); // RTD3R
        put_u32(&mut b, 88, 1_000_000); // RTD3E
        put_u32(&mut b, 92, 1 << 8 | 1 << 9 | 1 << 10); // OAES: NS attr, FW activation, telemetry
        put_u32(&mut b, 96, 1 << 9); // CTRATT: UUID List
        b[111] = 1; // CNTRLTYPE: I/O controller
        put_u16(&mut b, 256, OACS);
        b[258] = aer::ABORT_LIMIT;
        b[259] = self.cfg.aerl;
        b[260] = firmware::frmw(cfg);
        b[261] = LPA;
        b[262] = ELPE;
        b[263] = features::NPSS;
        put_u16(&mut b, 266, self.cfg.health.warning_temp_k);
        put_u16(&mut b, 268, self.cfg.health.critical_temp_k);
        let cap = u128::from(self.ns.capacity_bytes);
        put_u128(&mut b, 280, cap); // TNVMCAP
        put_u16(&mut b, 316, cfg.extended_self_test_min); // EDSTT
        b[318] = 1; // DSTO: one self-test at a time
        b[319] = 0xff; // FWUG: no granularity restriction
        put_u16(&mut b, 320, KAS);
        b[512] = 0x66; // SQES
        b[513] = 0x44; // CQES
        put_u32(&mut b, 516, 1); // NN
        put_u16(&mut b, 520, ONCS | ONCS_COMPARE);
        b[524] = 0; // FNA
        b[525] = if cfg.volatile_write_cache { 0x07 } else { 0x06 }; // VWC, flush broadcast
        put_u32(&mut b, 536, 1 | 1 << 16); // SGLS: supported, Bit Bucket
        b[768..1024].fill(0);
        let nqn = format!("nqn.2019-08.org.qemu:{}", cfg.serial);
        b[768..768 + nqn.len()].copy_from_slice(nqn.as_bytes());
        for (i, &(mp, enlat, exlat)) in POWER_STATES.iter().enumerate() {
            let o = 2048 + i * 32;
            put_u16(&mut b, o, mp);
            put_u32(&mut b, o + 4, enlat);
            put_u32(&mut b, o + 8, exlat);
            b[o + 12] = i as u8; // RRT
            b[o + 13] = i as u8; // RRL
            b[o + 14] = i as u8; // RWT
            b[o + 15] = i as u8; // RWL
        }
        b
    }

    fn identify_namespace(&self) -> Vec<u8> {
        let ns = &self.ns;
        let mut b = vec![0u8; IDENTIFY_SIZE];
        put_u64(&mut b, 0, ns.nsze());
        put_u64(&mut b, 8, ns.nsze());
        put_u64(&mut b, 16, ns.nsze());
        b[24] = 1 << 3; // NSFEAT: NGUID/EUI64 never reused
        b[25] = (LBA_FORMATS.len() - 1) as u8; // NLBAF
        b[26] = ns.lbaf; // FLBAS
                         // DLFEAT: deallocated blocks read zeroes, DEAC in Write Zeroes supported.
        b[33] = if self.cfg.discard { 0x09 } else { 0x01 };
        put_u128(&mut b, 48, u128::from(ns.capacity_bytes)); // NVMCAP
        b[99] = u8::from(self.cfg.read_only); // NSATTR: write protected
        let (eui, nguid) = ids_from_serial(&self.cfg.serial, self.cfg.ieee_oui);
        b[104..120].copy_from_slice(&nguid);
        b[120..128].copy_from_slice(&eui);
        for (i, &lbads) in LBA_FORMATS.iter().enumerate() {
            let rp = u32::from(lbads != 12); // 4 KiB performs best
            put_u32(&mut b, 128 + i * 4, u32::from(lbads) << 16 | rp << 24);
        }
        b
    }

    fn identify_ns_descriptors(&self) -> Vec<u8> {
        let mut b = vec![0u8; IDENTIFY_SIZE];
        let (eui, nguid) = ids_from_serial(&self.cfg.serial, self.cfg.ieee_oui);
        // EUI64 (NIDT 1), NGUID (2), CSI (4).
        b[0] = 1;
        b[1] = 8;
        b[4..12].copy_from_slice(&eui);
        b[12] = 2;
        b[13] = 16;
        b[16..32].copy_from_slice(&nguid);
        b[32] = 4;
        b[33] = 1;
        b[36] = 0; // NVM command set
        b
    }

    /// NVM Command Set Identify Controller (NVM Command Set 1.0, Figure 97).
    fn identify_nvm_controller(&self) -> Vec<u8> {
        let mut b = vec![0u8; IDENTIFY_SIZE];
        b[0] = self.cfg.mdts; // VSL: Verify is limited like Read
                              // WZSL, WUSL: no limit; DMRL: 256 ranges; DMRSL, DMSL: no limit.
        b[3] = 0;
        b
    }

    fn identify_independent_namespace(&self) -> Vec<u8> {
        let mut b = vec![0u8; IDENTIFY_SIZE];
        b[0] = 1 << 3; // NSFEAT
        b[8] = u8::from(self.cfg.read_only); // NSATTR
        b[14] = 1; // NSTAT: ready
        b
    }

    pub(crate) fn identify(&self, req: &Request, cmd: IdentifyCmd, host: &mut Host) -> Outcome {
        // One controller, no NVM sets or endurance groups and one UUID list
        // for every index: CNTID, CNSSID and the UUID index select nothing.
        let IdentifyCmd {
            cns: cns_v, csi, ..
        } = cmd;
        let nsid = req.sqe.nsid();
        let data = match cns_v {
            cns::NAMESPACE
            | cns::CSI_NAMESPACE
            | cns::CSI_INDEPENDENT_NAMESPACE
            | cns::NS_ID_DESCRIPTORS => {
                if cns_v == cns::CSI_NAMESPACE && csi != 0 {
                    return Status::INVALID_FIELD.into();
                }
                if nsid != 1 {
                    return Status::INVALID_NAMESPACE.into();
                }
                match cns_v {
                    cns::NAMESPACE => self.identify_namespace(),
                    cns::NS_ID_DESCRIPTORS => self.identify_ns_descriptors(),
                    cns::CSI_NAMESPACE => vec![0u8; IDENTIFY_SIZE],
                    _ => self.identify_independent_namespace(),
                }
            }
            cns::CONTROLLER => self.identify_controller(),
            cns::CSI_CONTROLLER => {
                if csi != 0 {
                    return Status::INVALID_FIELD.into();
                }
                self.identify_nvm_controller()
            }
            cns::ACTIVE_NSID_LIST | cns::CSI_ACTIVE_NSID_LIST => {
                if cns_v == cns::CSI_ACTIVE_NSID_LIST && csi != 0 {
                    return Status::INVALID_FIELD.into();
                }
                if nsid >= 0xffff_fffe {
                    return Status::INVALID_NAMESPACE.into();
                }
                active_list(nsid)
            }
            cns::UUID_LIST => uuid_list(),
            _ => return Status::INVALID_FIELD.into(),
        };
        self.send_data(&req.sqe, &data, host).into()
    }
}

fn active_list(start_after: u32) -> Vec<u8> {
    let mut b = vec![0u8; IDENTIFY_SIZE];
    if start_after < 1 {
        put_u32(&mut b, 0, 1);
    }
    b
}

fn uuid_list() -> Vec<u8> {
    let mut b = vec![0u8; IDENTIFY_SIZE];
    // Entry 1 (UUID index 1) at byte 32: association 0, UUID at +16.
    b[32 + 16..32 + 32].copy_from_slice(&OCP_UUID);
    b
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
        assert_eq!(b[516], 1);
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
        let b = c.identify_namespace();
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
