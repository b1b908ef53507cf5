// SPDX-License-Identifier: GPL-2.0-or-later
//! Controller configuration (the device's QOM properties) and its validation.

/// Largest number of I/O queue pairs accepted.
pub const MAX_IOQPAIRS_LIMIT: u16 = 1024;
/// Largest MSI-X table accepted (PCI limit).
pub const MAX_MSIX_VECTORS: u16 = 2048;

/// Static configuration of one controller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControllerConfig {
    /// Serial Number (Identify SN, at most 20 ASCII characters).
    pub serial: String,
    /// Model Number (Identify MN, at most 40 ASCII characters).
    pub model: String,
    /// Firmware Revision of slot 1 (Identify FR, at most 8 ASCII characters).
    pub firmware_rev: String,
    /// Number of I/O queue pairs (1..=1024; OCP NVMe-CFG-6 asks for 1,023,
    /// the default).
    pub max_ioqpairs: u16,
    /// Number of MSI-X vectors (1..=2048).
    pub msix_vectors: u16,
    /// CAP.MQES: maximum queue entries, 0's based (1..=65535).
    pub mqes: u16,
    /// MDTS: maximum data transfer size as a power of two of 4 KiB pages (1..=11).
    pub mdts: u8,
    /// Backend size in bytes (at least 4096); the namespace holds as many
    /// whole logical blocks as fit.
    pub capacity_bytes: u64,
    /// Initial LBA data size: 512 or 4096.
    pub lba_size: u32,
    /// Namespace write protected.
    pub read_only: bool,
    /// A volatile write cache is present (Identify VWC).
    pub volatile_write_cache: bool,
    /// Deallocate (DSM and Write Zeroes DEAC) unmaps on the backend.
    pub discard: bool,
    /// PCI Vendor ID (Identify VID).
    pub pci_vendor_id: u16,
    /// PCI Subsystem Vendor ID (Identify SSVID).
    pub pci_subsys_vendor_id: u16,
    /// IEEE OUI (Identify IEEE, telemetry header), most significant byte first.
    pub ieee_oui: [u8; 3],
    /// Firmware Commit action 011b activates without a reset (Identify FRMW bit 4).
    /// When false such a commit completes with Firmware Activation Requires
    /// Controller Level Reset and the image is activated at the next reset.
    pub fw_activate_without_reset: bool,
    /// Duration of a short device self-test in milliseconds.
    pub short_self_test_ms: u64,
    /// Duration of an extended device self-test in minutes (Identify EDSTT).
    pub extended_self_test_min: u16,
    /// Do not fetch commands inside `mmio_write`/`complete_io`: the device
    /// calls `Controller::process_pending` when `work_pending()` says so.
    pub defer_processing: bool,
    /// Health model of the OCP logs and SMART (one QOM property per field,
    /// names in [`crate::HEALTH_PROPERTIES`]).
    pub health: crate::ocp::HealthConfig,
    /// Asynchronous Event Request Limit, 0's based (Identify AERL).
    pub aerl: u8,
    /// Most asynchronous events kept while no request is outstanding.
    pub aer_max_queued: u16,
    /// OCP Datacenter NVMe SSD Specification version (QOM property
    /// `ocp-version`: 2.5, 2.6 or 2.7, default 2.7; parse it with
    /// [`crate::ocp::OcpVersion::parse`]).
    pub ocp_version: crate::ocp::OcpVersion,
}

impl Default for ControllerConfig {
    fn default() -> Self {
        ControllerConfig {
            serial: "OCPNVME0001".into(),
            model: "QEMU OCP NVMe Ctrl".into(),
            firmware_rev: "1.0".into(),
            max_ioqpairs: 1023,
            msix_vectors: 65,
            mqes: 1023,
            mdts: 7,
            capacity_bytes: 1 << 30,
            lba_size: 512,
            read_only: false,
            volatile_write_cache: true,
            discard: true,
            pci_vendor_id: 0x1b36,
            pci_subsys_vendor_id: 0x1af4,
            ieee_oui: [0x52, 0x54, 0x00],
            fw_activate_without_reset: true,
            short_self_test_ms: 2000,
            extended_self_test_min: 1,
            defer_processing: false,
            health: crate::ocp::HealthConfig::default(),
            aerl: 3,
            aer_max_queued: 64,
            ocp_version: crate::ocp::OcpVersion::V2_7,
        }
    }
}

fn check_ascii(name: &str, s: &str, max: usize) -> Result<(), String> {
    if s.len() > max {
        return Err(format!("{name} is longer than {max} characters"));
    }
    if !s.bytes().all(|c| (0x20..0x7f).contains(&c)) {
        return Err(format!("{name} must be printable ASCII"));
    }
    Ok(())
}

impl ControllerConfig {
    /// The NVM Subsystem NVMe Qualified Name (Identify Controller SUBNQN,
    /// the Persistent Event log header).
    pub fn subnqn(&self) -> String {
        format!("nqn.2019-08.org.qemu:{}", self.serial)
    }

    /// Check every property; the error names the bad one.
    pub fn validate(&self) -> Result<(), String> {
        check_ascii("serial", &self.serial, 20)?;
        check_ascii("model", &self.model, 40)?;
        check_ascii("firmware_rev", &self.firmware_rev, 8)?;
        if self.serial.is_empty() {
            return Err("serial must not be empty".into());
        }
        if self.max_ioqpairs == 0 || self.max_ioqpairs > MAX_IOQPAIRS_LIMIT {
            return Err(format!(
                "max_ioqpairs must be between 1 and {MAX_IOQPAIRS_LIMIT}"
            ));
        }
        if self.msix_vectors == 0 || self.msix_vectors > MAX_MSIX_VECTORS {
            return Err(format!(
                "msix_vectors must be between 1 and {MAX_MSIX_VECTORS}"
            ));
        }
        if self.aer_max_queued == 0 {
            return Err("aer_max_queued must be at least 1".into());
        }
        if self.mqes == 0 {
            return Err("mqes must be at least 1 (0's based)".into());
        }
        if self.mdts == 0 || self.mdts > 11 {
            return Err("mdts must be between 1 and 11".into());
        }
        if self.lba_size != 512 && self.lba_size != 4096 {
            return Err("lba_size must be 512 or 4096".into());
        }
        if self.capacity_bytes < 4096 {
            return Err(
                "capacity_bytes must be at least 4096 (a partial last block is not used)".into(),
            );
        }
        if self.capacity_bytes > (1u64 << 60) {
            return Err("capacity_bytes is too large".into());
        }
        if self.short_self_test_ms == 0 || self.short_self_test_ms > 120_000 {
            return Err("short_self_test_ms must be between 1 and 120000".into());
        }
        if self.extended_self_test_min == 0 {
            return Err("extended_self_test_min must be at least 1".into());
        }
        self.health.validate()?;
        Ok(())
    }

    /// Maximum data transfer size in bytes.
    pub fn max_transfer_bytes(&self) -> u64 {
        4096u64 << self.mdts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid() {
        ControllerConfig::default().validate().unwrap();
    }

    #[test]
    fn ocp_version_property_values() {
        use crate::ocp::OcpVersion;
        assert_eq!(ControllerConfig::default().ocp_version, OcpVersion::V2_7);
        for v in OcpVersion::ALL {
            assert_eq!(OcpVersion::parse(v.as_str()), Ok(v));
        }
        for bad in ["", "2.4", "2.8", "27", "v2.7"] {
            let e = OcpVersion::parse(bad).unwrap_err();
            assert!(e.starts_with("ocp-version"), "{e}");
        }
    }

    #[test]
    fn bad_values_are_named() {
        type Mutator = fn(&mut ControllerConfig);
        let bad: Vec<(Mutator, &str)> = vec![
            (|c| c.serial = "x".repeat(21), "serial"),
            (|c| c.serial = String::new(), "serial"),
            (|c| c.model = "é".into(), "model"),
            (|c| c.firmware_rev = "123456789".into(), "firmware_rev"),
            (|c| c.max_ioqpairs = 0, "max_ioqpairs"),
            (|c| c.msix_vectors = 0, "msix_vectors"),
            (|c| c.mqes = 0, "mqes"),
            (|c| c.mdts = 0, "mdts"),
            (|c| c.lba_size = 1024, "lba_size"),
            (|c| c.capacity_bytes = 4095, "capacity_bytes"),
            (|c| c.short_self_test_ms = 0, "short_self_test_ms"),
            (|c| c.extended_self_test_min = 0, "extended_self_test_min"),
        ];
        for (f, name) in bad {
            let mut c = ControllerConfig::default();
            f(&mut c);
            let e = c.validate().unwrap_err();
            assert!(e.starts_with(name), "{e}");
        }
    }
}
