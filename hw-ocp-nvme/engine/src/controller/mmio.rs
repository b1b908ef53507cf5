// SPDX-License-Identifier: GPL-2.0-or-later
//! Register file and the CC state machine: enable, shutdown, controller
//! reset, power cycle (NVMe 2.0 Base, 3.1.3, 3.5, 3.6, 3.7; NVMe over PCIe
//! 1.0, 3.1).

#[allow(clippy::wildcard_imports)]
use super::*;
use crate::spec::regs::{CSTS_NSSRO, NSSR_RESET};

impl Controller {
    pub(super) fn reg_dword(&self, offset: u64) -> u32 {
        match offset {
            off::CAP => self.cap() as u32,
            off::CAP_HI => (self.cap() >> 32) as u32,
            off::VS => regs::NVME_VERSION,
            off::INTMS | off::INTMC => self.intms,
            off::CC => u32::from(self.cc),
            off::CSTS => self.csts(),
            off::AQA => u32::from(self.aqa),
            off::ASQ => self.asq as u32,
            off::ASQ_HI => (self.asq >> 32) as u32,
            off::ACQ => self.acq as u32,
            off::ACQ_HI => (self.acq >> 32) as u32,
            // CRTO: CRWMT and CRIMT equal CAP.TO.
            off::CRTO => u32::from(CAP_TIMEOUT) << 16 | u32::from(CAP_TIMEOUT),
            _ => 0,
        }
    }

    /// Register read. Registers are little endian; any size of 1, 2, 4 or 8
    /// bytes is served from the register image, reserved space and the
    /// write-only doorbells read as zero.
    pub fn mmio_read(&mut self, offset: u64, size: u32, host: &mut Host) -> u64 {
        if !matches!(size, 1 | 2 | 4 | 8) {
            host.log.guest_error(&format!(
                "register read of bad size {size} at offset {offset:#x}"
            ));
            return 0;
        }
        if offset >= off::DOORBELLS {
            return 0;
        }
        let base = offset & !3;
        let mut bytes = [0u8; 12];
        for i in 0..3u64 {
            let o = base + i * 4;
            let v = if o < off::DOORBELLS {
                self.reg_dword(o)
            } else {
                0
            };
            bytes[(i * 4) as usize..(i * 4 + 4) as usize].copy_from_slice(&v.to_le_bytes());
        }
        let shift = (offset - base) as usize;
        let mut out = [0u8; 8];
        out[..size as usize].copy_from_slice(&bytes[shift..shift + size as usize]);
        u64::from_le_bytes(out)
    }

    /// Register or doorbell write. Registers take naturally aligned 4- or
    /// 8-byte writes (an 8-byte write is two dword writes, low first);
    /// doorbells take aligned 4-byte writes. Other accesses are ignored
    /// (NVMe over PCIe 1.0, 3.1: other widths are not supported).
    pub fn mmio_write(&mut self, offset: u64, value: u64, size: u32, host: &mut Host) {
        if offset >= off::DOORBELLS {
            if size == 4 && offset % 4 == 0 {
                self.doorbell_write(offset, value as u32, host);
            } else {
                host.log.guest_error(&format!(
                    "doorbell write of bad size {size} at offset {offset:#x}"
                ));
            }
            return;
        }
        match size {
            4 if offset % 4 == 0 => self.reg_write(offset, value as u32, host),
            8 if offset % 8 == 0 => {
                self.reg_write(offset, value as u32, host);
                self.reg_write(offset + 4, (value >> 32) as u32, host);
            }
            _ => host.log.guest_error(&format!(
                "register write of bad size {size} at offset {offset:#x}"
            )),
        }
    }

    pub(super) fn reg_write(&mut self, offset: u64, v: u32, host: &mut Host) {
        let disabled = !self.cc.en();
        match offset {
            off::INTMS if !host.irq.msix_enabled() => {
                self.intms |= v;
                self.update_intx(host);
            }
            off::INTMC if !host.irq.msix_enabled() => {
                self.intms &= !v;
                self.update_intx(host);
            }
            off::CC => self.cc_write(v, host),
            // NSSRO is RW1C.
            off::CSTS if v & CSTS_NSSRO != 0 => self.nssro = false,
            off::NSSR if v == NSSR_RESET => self.nvm_subsystem_reset(host),
            off::NSSR => host.log.guest_error(&format!(
                "NSSR write of {v:#x} (not \"NVMe\" 4E564D65h): ignored"
            )),
            off::AQA if disabled => {
                // Reserved bits read as zero.
                let aqa = Aqa::from(v);
                self.aqa = Aqa::new(aqa.asqs(), aqa.acqs());
            }
            off::ASQ if disabled => self.asq = (self.asq & !0xffff_ffff) | (u64::from(v) & !0xfff),
            off::ASQ_HI if disabled => self.asq = (self.asq & 0xffff_ffff) | u64::from(v) << 32,
            off::ACQ if disabled => self.acq = (self.acq & !0xffff_ffff) | (u64::from(v) & !0xfff),
            off::ACQ_HI if disabled => self.acq = (self.acq & 0xffff_ffff) | u64::from(v) << 32,
            _ => {}
        }
    }

    pub(super) fn cc_write(&mut self, v: u32, host: &mut Host) {
        let old = self.cc;
        let new = Cc::from(v);
        match (old.en(), new.en()) {
            (true, false) => {
                self.controller_reset(host, false);
                self.cc = new;
            }
            (false, true) => {
                self.cc = new;
                self.enable(host);
            }
            (true, true) => {
                // Only SHN may change while enabled.
                self.cc.set_shn(new.shn());
                let shn = new.shn().value();
                if old.shn().value() == regs::SHN_NONE && shn != regs::SHN_NONE {
                    self.shutdown(shn, host);
                }
            }
            (false, false) => {
                // A disabled controller has nothing to shut down: SHST
                // follows SHN at once.
                self.cc = new;
                self.shst = if new.shn().value() == regs::SHN_NONE {
                    regs::SHST_NORMAL
                } else {
                    regs::SHST_COMPLETE
                };
            }
        }
    }

    /// CC.EN 0 -> 1 (NVMe 2.0 Base, 3.5.1). Invalid settings leave the
    /// controller not ready and set CSTS.CFS.
    pub(super) fn enable(&mut self, host: &mut Host) {
        let cc = self.cc;
        let aqa = self.aqa;
        let iosqes = cc.iosqes().value();
        let iocqes = cc.iocqes().value();
        let valid = !self.cfs
            && cc.mps().value() == 0
            && cc.css().value() == 0
            && (cc.ams().value() == 0 || cc.ams().value() == regs::AMS_WRR)
            && (iosqes == 0 || iosqes == 6)
            && (iocqes == 0 || iocqes == 4)
            && aqa.asqs().value() != 0
            && aqa.acqs().value() != 0;
        if !valid {
            host.log.guest_error(&format!(
                "invalid CC {:#x} (MPS {}, CSS {}, AMS {}, IOSQES {iosqes}, \
                 IOCQES {iocqes}) or AQA {:#x} at enable",
                u32::from(self.cc),
                cc.mps().value(),
                cc.css().value(),
                cc.ams().value(),
                u32::from(self.aqa)
            ));
            self.cfs = true;
            return;
        }
        let mut cq = CompQueue::new(0, self.acq, u32::from(aqa.acqs().value()) + 1, true, 0);
        cq.sq_refs = 1;
        self.cqs[0] = Some(cq);
        self.sqs[0] = Some(SubQueue::new(
            0,
            self.asq,
            u32::from(aqa.asqs().value()) + 1,
            0,
            0,
        ));
        self.rdy = true;
        self.shst = regs::SHST_NORMAL;
        self.enabled_since_power_on = true;
        self.shutdown_clean = false;
        let now = self.now(host);
        self.restart_keep_alive(now);
    }

    /// CC.SHN written (NVMe 2.0 Base, 3.6 Controller Shutdown).
    pub(super) fn shutdown(&mut self, shn: u8, host: &mut Host) {
        self.shst = regs::SHST_PROCESSING;
        self.keep_alive_deadline = None;
        host.storage.drain();
        if shn == regs::SHN_NORMAL && self.cfg.volatile_write_cache {
            if !self.submit(host, IoOwner::Shutdown, IoKind::Flush, 0, 0, Vec::new()) {
                self.finish_shutdown(false);
            }
        } else {
            self.finish_shutdown(shn == regs::SHN_NORMAL);
        }
    }

    pub(super) fn finish_shutdown(&mut self, normal: bool) {
        self.shst = regs::SHST_COMPLETE;
        if normal {
            self.shutdown_clean = true;
            self.counters.normal_shutdowns += 1;
        } else {
            self.counters.abrupt_shutdowns += 1;
        }
    }

    /// Controller Level Reset (CC.EN 1 -> 0; NVMe 2.0 Base, 3.7.2).
    /// With `power_cycle` this is part of [`Controller::reset`].
    pub(super) fn controller_reset(&mut self, host: &mut Host, power_cycle: bool) {
        host.storage.drain();
        self.epoch = self.epoch.wrapping_add(1);
        self.clear_tables();
        self.account_busy_end(self.now(host));
        for q in self.sqs.iter_mut() {
            *q = None;
        }
        for q in self.cqs.iter_mut() {
            *q = None;
        }
        self.rr_next = 0;
        self.wrr = fetch::WrrState::default();
        self.fused = None;
        self.fused_wait = None;
        self.dbbuf = None;
        self.sq_notifiers_changed();
        self.aer.reset();
        let now = self.now(host);
        self.abort_self_test_on_reset(now);
        self.activate_firmware_on_reset(now);
        self.feat = self.saved_feat.clone();
        // The Timestamp survives every Controller Level Reset, CC.EN 1 -> 0
        // and function level / conventional resets alike (OCP NVMe-OPT-4:
        // only an NVM Subsystem Reset clears it); its origin stays 001b once
        // set.
        self.nsqa = self.cfg.max_ioqpairs - 1;
        self.ncqa = self.cfg.max_ioqpairs - 1;
        self.io_queues_created = false;
        self.keep_alive_deadline = None;
        self.formatting = false;
        self.work_pending = false;
        self.rdy = false;
        self.cfs = false;
        self.shst = regs::SHST_NORMAL;
        self.intms = 0;
        if !host.irq.msix_enabled() {
            host.irq.set_intx(false);
        }
        if !power_cycle {
            self.counters.controller_resets += 1;
        }
        self.ocp_controller_reset(power_cycle, now);
        self.record_reset_event(power_cycle, now);
        // A sanitize operation goes on across every reset (NVMe 2.0 Base, 8.21).
        self.sanitize_after_reset(host);
    }

    /// PCI function level / conventional reset: back to the power-on state.
    /// Counts a power cycle (except for the first reset, which is the
    /// power-on itself), and an unsafe shutdown if the controller was
    /// enabled without a completed normal shutdown since.
    pub fn reset(&mut self, host: &mut Host) {
        if self.enabled_since_power_on && !self.shutdown_clean {
            self.counters.unsafe_shutdowns += 1;
        }
        if self.power_on_reset_done {
            self.counters.power_cycles += 1;
        }
        self.power_on_reset_done = true;
        self.controller_reset(host, true);
        self.cc = Cc::from(0u32);
        self.aqa = Aqa::from(0u32);
        self.asq = 0;
        self.acq = 0;
        self.fw.staging.clear();
        self.fw.staging_bad = false;
        self.enabled_since_power_on = false;
        self.shutdown_clean = false;
        // NSSRO reads 1 after power-on only when core power was kept.
        self.nssro = false;
    }

    /// NVM Subsystem Reset (NVMe 2.0 Base, 3.7.1; OCP NVMeR-1): the host
    /// wrote "NVMe" (4E564D65h) to NSSR. The one controller of the
    /// subsystem goes through a Controller Level Reset, and as the PCIe
    /// link of a real drive goes down with it, its registers return to
    /// their reset values (CC, AQA, ASQ, ACQ). CSTS.NSSRO is set, and the
    /// Timestamp restarts at 0 with origin 000b, the one reset that may
    /// clear it (OCP NVMe-OPT-4). A pending firmware image is activated as
    /// at any Controller Level Reset.
    pub(super) fn nvm_subsystem_reset(&mut self, host: &mut Host) {
        self.controller_reset(host, false);
        self.cc = Cc::from(0u32);
        self.aqa = Aqa::from(0u32);
        self.asq = 0;
        self.acq = 0;
        self.timestamp_ms = 0;
        self.timestamp_set_ns = self.now(host);
        self.timestamp_origin = 0;
        self.nssro = true;
    }

    /// Enter the Controller Fatal Status state (CSTS.CFS = 1). Nothing runs
    /// until the host resets the controller: the keep alive timer stops and
    /// held commands wait for the reset, which drops them.
    pub(crate) fn fatal(&mut self) {
        self.cfs = true;
        self.keep_alive_deadline = None;
    }
}
