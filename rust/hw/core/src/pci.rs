// Copyright 2025 The ocp-nvme developers
// SPDX-License-Identifier: GPL-2.0-or-later

//! Bindings for PCI devices: the `PCIDevice` class and its virtual methods,
//! BARs, capabilities (PCI Express, power management, function level
//! reset), `INTx`, MSI-X and DMA through the bus-master address space.

use std::{
    ffi::{c_int, CStr},
    fmt,
    ptr::{addr_of_mut, NonNull},
};

use common::Opaque;
use qom::{prelude::*, InterfaceInfo};
use system::{AddressSpace, MemTxError, MemoryRegion};
use util::{Error, Result};

pub use crate::bindings::PCIDeviceClass;
use crate::{
    bindings,
    qdev::{DeviceImpl, DeviceState},
};

/// A safe wrapper around [`bindings::PCIDevice`].
#[repr(transparent)]
#[derive(Debug, common::Wrapper)]
pub struct PCIDevice(Opaque<bindings::PCIDevice>);

unsafe impl Send for PCIDevice {}
unsafe impl Sync for PCIDevice {}

unsafe impl ObjectType for PCIDevice {
    type Class = PCIDeviceClass;
    const TYPE_NAME: &'static CStr =
        unsafe { CStr::from_bytes_with_nul_unchecked(bindings::TYPE_PCI_DEVICE) };
}

qom_isa!(PCIDevice: DeviceState, Object);

/// The QOM interface list of a PCI Express endpoint, for
/// [`ObjectImpl::INTERFACES`](qom::ObjectImpl::INTERFACES).
pub const PCIE_DEVICE_INTERFACES: &[InterfaceInfo] = &[
    InterfaceInfo {
        type_: bindings::INTERFACE_PCIE_DEVICE.as_ptr().cast(),
    },
    InterfaceInfo {
        type_: std::ptr::null(),
    },
];

/// The QOM interface list of a conventional PCI device, for
/// [`ObjectImpl::INTERFACES`](qom::ObjectImpl::INTERFACES).
pub const CONVENTIONAL_PCI_DEVICE_INTERFACES: &[InterfaceInfo] = &[
    InterfaceInfo {
        type_: bindings::INTERFACE_CONVENTIONAL_PCI_DEVICE.as_ptr().cast(),
    },
    InterfaceInfo {
        type_: std::ptr::null(),
    },
];

/// Offset of the programming interface byte in configuration space.
pub const PCI_CLASS_PROG: usize = bindings::PCI_CLASS_PROG as usize;
/// Offset of the interrupt pin register in configuration space.
pub const PCI_INTERRUPT_PIN: usize = bindings::PCI_INTERRUPT_PIN as usize;

/// Identity and virtual methods of a PCI device class: the contents of
/// [`PCIDeviceClass`].
pub trait PCIDeviceImpl: DeviceImpl + IsA<PCIDevice> {
    /// Vendor ID in configuration space.
    const VENDOR_ID: u16;
    /// Device ID in configuration space.
    const DEVICE_ID: u16;
    /// Revision ID in configuration space.
    const REVISION: u8 = 0;
    /// Base class and subclass (`PCI_CLASS_*`); the programming interface
    /// is written into configuration space by `PCI_REALIZE`.
    const CLASS_ID: u16;
    /// Subsystem vendor ID; 0 leaves QEMU's default.
    const SUBSYSTEM_VENDOR_ID: u16 = 0;
    /// Subsystem ID; 0 leaves QEMU's default.
    const SUBSYSTEM_ID: u16 = 0;

    /// Set up the device once its properties are known (`PCIDeviceClass`'s
    /// `realize`, called after the PCI core set up configuration space).
    /// On error the device is not created: whatever the function acquired
    /// before failing it must release itself, because `PCI_EXIT` is not
    /// called.  (`DeviceImpl::REALIZE` is for other devices: PCI devices
    /// keep the PCI core's `DeviceClass` realize.)
    const PCI_REALIZE: Option<fn(&Self) -> Result<()>> = None;

    /// Release what `PCI_REALIZE` acquired; called when the device is
    /// unrealized (hot-unplug, or the end of the VM).
    const PCI_EXIT: Option<fn(&Self)> = None;

    /// Handle a configuration space write of `len` (1, 2 or 4) bytes at
    /// `addr`.  It must call [`PCIDeviceMethods::default_config_write`];
    /// a device with function level reset also calls
    /// [`PCIDeviceMethods::pcie_cap_flr_config_write`].
    const CONFIG_WRITE: Option<fn(&Self, u32, u32, u32)> = None;
}

/// # Safety
///
/// Only installed by [`PCIDeviceClass::class_init::<T>`], so `dev` points
/// to an instance of `T`; QEMU passes a valid `Error **`.
unsafe extern "C" fn rust_pci_realize_fn<T: PCIDeviceImpl>(
    dev: *mut bindings::PCIDevice,
    errp: *mut *mut util::bindings::Error,
) {
    let state = NonNull::new(dev).unwrap().cast::<T>();
    // SAFETY: see the function's contract.
    let result = T::PCI_REALIZE.unwrap()(unsafe { state.as_ref() });
    // SAFETY: errp comes from pci_qdev_realize().
    unsafe {
        Error::ok_or_propagate(result, errp);
    }
}

/// # Safety
///
/// As for [`rust_pci_realize_fn`].
unsafe extern "C" fn rust_pci_exit_fn<T: PCIDeviceImpl>(dev: *mut bindings::PCIDevice) {
    let state = NonNull::new(dev).unwrap().cast::<T>();
    // SAFETY: see the function's contract.
    T::PCI_EXIT.unwrap()(unsafe { state.as_ref() });
}

/// # Safety
///
/// As for [`rust_pci_realize_fn`].
unsafe extern "C" fn rust_pci_config_write_fn<T: PCIDeviceImpl>(
    dev: *mut bindings::PCIDevice,
    addr: u32,
    val: u32,
    len: c_int,
) {
    let state = NonNull::new(dev).unwrap().cast::<T>();
    // pci_host_config_write_common() passes 1 to 4 bytes, cut at the end
    // of configuration space.
    let len = u32::try_from(len).unwrap();
    // SAFETY: see the function's contract.
    T::CONFIG_WRITE.unwrap()(unsafe { state.as_ref() }, addr, val, len);
}

impl PCIDeviceClass {
    /// Fill in the identity and virtual methods of `PCIDeviceClass` based
    /// on the definitions in the `PCIDeviceImpl` trait.
    pub fn class_init<T: PCIDeviceImpl>(&mut self) {
        self.vendor_id = T::VENDOR_ID;
        self.device_id = T::DEVICE_ID;
        self.revision = T::REVISION;
        self.class_id = T::CLASS_ID;
        self.subsystem_vendor_id = T::SUBSYSTEM_VENDOR_ID;
        self.subsystem_id = T::SUBSYSTEM_ID;
        if T::PCI_REALIZE.is_some() {
            self.realize = Some(rust_pci_realize_fn::<T>);
        }
        if T::PCI_EXIT.is_some() {
            self.exit = Some(rust_pci_exit_fn::<T>);
        }
        if T::CONFIG_WRITE.is_some() {
            self.config_write = Some(rust_pci_config_write_fn::<T>);
        }
        self.parent_class.class_init::<T>();
    }
}

/// An MSI-X vector outside the table that `msix_init` created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MsixVectorOutOfRange {
    /// The vector that was asked for.
    pub vector: u32,
    /// The number of vectors in the table.
    pub entries: u32,
}

impl fmt::Display for MsixVectorOutOfRange {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "MSI-X vector {} out of range (the table has {} entries)",
            self.vector, self.entries
        )
    }
}

impl std::error::Error for MsixVectorOutOfRange {}

/// Check `vector` against a table of `entries` vectors.  The C functions
/// `msix_notify`, `msix_vector_use` and `msix_vector_unuse` assert that
/// the vector is in range, so the bindings check first.
pub fn msix_check_vector(
    vector: u32,
    entries: u32,
) -> std::result::Result<(), MsixVectorOutOfRange> {
    if vector < entries {
        Ok(())
    } else {
        Err(MsixVectorOutOfRange { vector, entries })
    }
}

/// Methods of [`PCIDevice`] and its subclasses.
///
/// The trait should only be used through the blanket implementation,
/// which guarantees safety via `IsA`.
pub trait PCIDeviceMethods: ObjectDeref
where
    Self::Target: IsA<PCIDevice>,
{
    /// Write one byte of configuration space, for example the programming
    /// interface or the interrupt pin, while the device is being realized.
    fn config_write_byte(&self, offset: usize, value: u8) {
        assert!(bql::is_locked());
        assert!(offset < bindings::PCI_CONFIG_SPACE_SIZE as usize);
        // SAFETY: pci_qdev_realize() allocates `config` (at least
        // PCI_CONFIG_SPACE_SIZE bytes) before calling the class's realize,
        // and the BQL serializes accesses to it.
        unsafe {
            let config = (*self.upcast().as_mut_ptr()).config;
            assert!(!config.is_null());
            *config.add(offset) = value;
        }
    }

    /// Map `region` as BAR `index`; `attr` holds the
    /// `PCI_BASE_ADDRESS_*` flags (memory or I/O, 64-bit, prefetchable).
    fn register_bar(&self, index: u8, attr: u8, region: &MemoryRegion) {
        assert!(bql::is_locked());
        assert!(u32::from(index) < bindings::PCI_ROM_SLOT);
        // SAFETY: pci_register_bar() keeps a pointer to the region; it
        // must live as long as the device, which holds for regions that
        // are fields of the device (the only kind a caller can have while
        // realizing it).
        unsafe {
            bindings::pci_register_bar(
                self.upcast().as_mut_ptr(),
                index.into(),
                attr,
                region.as_mut_ptr().cast(),
            )
        }
    }

    /// Add a PCI Express endpoint capability at `offset` (0: the first
    /// free place) and return its offset.  The device type must declare
    /// [`PCIE_DEVICE_INTERFACES`] (`pcie_cap_init()` asserts
    /// `pci_is_express()`).
    fn pcie_endpoint_cap_init(&self, offset: u8) -> Result<u8> {
        assert!(bql::is_locked());
        // SAFETY: the device is being realized under the BQL.
        // pcie_endpoint_cap_init() returns the capability's offset, or a
        // negative errno after printing the reason with error_report_err().
        let pos = unsafe { bindings::pcie_endpoint_cap_init(self.upcast().as_mut_ptr(), offset) };
        u8::try_from(pos).map_err(|_| {
            Error::format(format_args!(
                "cannot add the PCI Express capability at {offset:#x} (error {pos})"
            ))
        })
    }

    /// Advertise function level reset in the PCI Express capability, which
    /// [`pcie_endpoint_cap_init`](Self::pcie_endpoint_cap_init) must have
    /// added (panics otherwise).
    fn pcie_cap_flr_init(&self) {
        assert!(bql::is_locked());
        // SAFETY: reads a field that pcie_cap_init() set.
        let exp_cap = unsafe { (*self.upcast().as_ptr()).exp.exp_cap };
        // pcie_cap_flr_init() does not check: with no capability it would
        // set bits at the start of configuration space.
        assert!(
            exp_cap != 0,
            "pcie_cap_flr_init without a PCI Express capability"
        );
        // SAFETY: the capability exists, so the function writes its Device
        // Capabilities and the write mask of its Device Control register.
        unsafe { bindings::pcie_cap_flr_init(self.upcast().as_mut_ptr()) }
    }

    /// Add a power management capability at `offset`.
    fn pm_init(&self, offset: u8) -> Result<()> {
        assert!(bql::is_locked());
        // SAFETY: pci_pm_init() sets *errp exactly when it fails.
        let ret = unsafe {
            Error::with_errp(|errp| bindings::pci_pm_init(self.upcast().as_mut_ptr(), offset, errp))
        }?;
        debug_assert!(ret >= 0);
        Ok(())
    }

    /// The standard configuration space write, `pci_default_write_config()`.
    fn default_config_write(&self, addr: u32, val: u32, len: u32) {
        assert!(bql::is_locked());
        // SAFETY: called from a config_write callback with the values it
        // received, which the PCI core has already range-checked.
        unsafe {
            bindings::pci_default_write_config(self.upcast().as_mut_ptr(), addr, val, len as c_int)
        }
    }

    /// Start a function level reset if the write set Initiate FLR in the
    /// Device Control register (`pcie_cap_flr_write_config()`).  Call it
    /// after [`default_config_write`](Self::default_config_write).  The
    /// reset (`pci_device_reset()`) runs the device's reset phases before
    /// this returns.
    fn pcie_cap_flr_config_write(&self, addr: u32, val: u32, len: u32) {
        assert!(bql::is_locked());
        // SAFETY: as for default_config_write.  The function reads Device
        // Control in the PCI Express capability (callers added it with FLR,
        // see pcie_cap_flr_init) and, if Initiate FLR is set, resets the
        // device with pci_device_reset() and clears the bit.
        unsafe {
            bindings::pcie_cap_flr_write_config(self.upcast().as_mut_ptr(), addr, val, len as c_int)
        }
    }

    /// Drive the `INTx` pin (`pci_set_irq()`); the pin is the one written
    /// to [`PCI_INTERRUPT_PIN`] during realize.
    fn set_irq(&self, level: bool) {
        assert!(bql::is_locked());
        // SAFETY: pci_set_irq() only touches the device's own state and its
        // bus's interrupt routing.
        unsafe { bindings::pci_set_irq(self.upcast().as_mut_ptr(), level.into()) }
    }

    /// Set up an MSI-X table at `table_offset` and its pending bit array at
    /// `pba_offset`, both inside `bar` (BAR number `bar_nr`, already a
    /// region of the device), with `vectors` entries.
    fn msix_init(
        &self,
        vectors: u16,
        bar: &MemoryRegion,
        bar_nr: u8,
        table_offset: u32,
        pba_offset: u32,
    ) -> Result<()> {
        assert!(bql::is_locked());
        // SAFETY: msix_init() maps subregions of `bar`, which lives as long
        // as the device (see register_bar); it returns a negative errno and
        // sets *errp when it fails.
        unsafe {
            Error::with_errp(|errp| {
                bindings::msix_init(
                    self.upcast().as_mut_ptr(),
                    vectors.into(),
                    bar.as_mut_ptr().cast(),
                    bar_nr,
                    table_offset,
                    bar.as_mut_ptr().cast(),
                    bar_nr,
                    pba_offset,
                    0,
                    errp,
                )
            })
        }
        .and_then(|ret| {
            if ret < 0 {
                Err(Error::format(format_args!(
                    "cannot initialize MSI-X (error {ret})"
                )))
            } else {
                Ok(())
            }
        })
    }

    /// Tear down what [`msix_init`](Self::msix_init) set up in `bar`.
    fn msix_uninit(&self, bar: &MemoryRegion) {
        assert!(bql::is_locked());
        // SAFETY: the same region as passed to msix_init(); msix_uninit()
        // does nothing if MSI-X is not present.
        unsafe {
            bindings::msix_uninit(
                self.upcast().as_mut_ptr(),
                bar.as_mut_ptr().cast(),
                bar.as_mut_ptr().cast(),
            )
        }
    }

    /// The number of vectors in the MSI-X table (0 without MSI-X).
    fn msix_entries(&self) -> u32 {
        // SAFETY: a plain read of a field written by msix_init() and
        // msix_uninit() under the BQL.
        let entries = unsafe { (*self.upcast().as_ptr()).msix_entries_nr };
        u32::try_from(entries).unwrap_or(0)
    }

    /// Whether the guest enabled MSI-X.
    fn msix_enabled(&self) -> bool {
        // SAFETY: msix_enabled() reads configuration space only.
        unsafe { bindings::msix_enabled(self.upcast().as_mut_ptr()) != 0 }
    }

    /// Mark `vector` as used, so that [`msix_notify`](Self::msix_notify)
    /// delivers it.
    fn msix_vector_use(&self, vector: u16) -> std::result::Result<(), MsixVectorOutOfRange> {
        assert!(bql::is_locked());
        msix_check_vector(vector.into(), self.msix_entries())?;
        // SAFETY: the vector is in range (msix_vector_use() asserts it).
        unsafe {
            bindings::msix_vector_use(self.upcast().as_mut_ptr(), vector.into());
        }
        Ok(())
    }

    /// Undo one [`msix_vector_use`](Self::msix_vector_use) of `vector`.
    fn msix_vector_unuse(&self, vector: u16) -> std::result::Result<(), MsixVectorOutOfRange> {
        assert!(bql::is_locked());
        msix_check_vector(vector.into(), self.msix_entries())?;
        // SAFETY: the vector is in range (msix_vector_unuse() asserts it).
        unsafe {
            bindings::msix_vector_unuse(self.upcast().as_mut_ptr(), vector.into());
        }
        Ok(())
    }

    /// Send the MSI-X message of `vector`, or set its pending bit if the
    /// guest masked it.  Unused vectors are ignored, like in C.
    fn msix_notify(&self, vector: u16) -> std::result::Result<(), MsixVectorOutOfRange> {
        assert!(bql::is_locked());
        msix_check_vector(vector.into(), self.msix_entries())?;
        // SAFETY: the vector is in range (msix_notify() asserts it).
        unsafe {
            bindings::msix_notify(self.upcast().as_mut_ptr(), vector.into());
        }
        Ok(())
    }

    /// The bus-master address space in which the device does DMA
    /// (`pci_get_address_space()`); while the guest has bus mastering off,
    /// accesses to it fail.
    fn bus_master_as(&self) -> &AddressSpace {
        // SAFETY: bus_master_as is embedded in the device and initialized
        // by pci_qdev_realize(), so it lives as long as the device.
        unsafe {
            AddressSpace::from_raw(addr_of_mut!((*self.upcast().as_mut_ptr()).bus_master_as).cast())
        }
    }

    /// Read guest memory through the bus-master address space, ordered
    /// after earlier accesses like `pci_dma_read()`.
    fn pci_dma_read(&self, addr: u64, buf: &mut [u8]) -> std::result::Result<(), MemTxError> {
        self.bus_master_as().dma_read(addr, buf)
    }

    /// Write guest memory through the bus-master address space, ordered
    /// after earlier accesses like `pci_dma_write()`.
    fn pci_dma_write(&self, addr: u64, data: &[u8]) -> std::result::Result<(), MemTxError> {
        self.bus_master_as().dma_write(addr, data)
    }

    /// The guest-physical address of BAR `index`, or `None` while it is
    /// unmapped (`pci_get_bar_addr()`).
    fn bar_addr(&self, index: u8) -> Option<u64> {
        assert!(bql::is_locked());
        assert!(u32::from(index) < bindings::PCI_ROM_SLOT);
        // SAFETY: pci_get_bar_addr() reads the device's io_regions array.
        let addr = unsafe { bindings::pci_get_bar_addr(self.upcast().as_mut_ptr(), index.into()) };
        // PCI_BAR_UNMAPPED is ~(pcibus_t)0.
        (addr != u64::MAX).then_some(addr)
    }
}

impl<R: ObjectDeref> PCIDeviceMethods for R where R::Target: IsA<PCIDevice> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[InterfaceInfo]) -> Vec<Option<String>> {
        list.iter()
            .map(|info| {
                (!info.type_.is_null()).then(|| {
                    // SAFETY: the lists hold NUL-terminated static strings or NULL.
                    unsafe { CStr::from_ptr(info.type_) }
                        .to_string_lossy()
                        .into_owned()
                })
            })
            .collect()
    }

    #[test]
    fn interface_lists_are_terminated() {
        assert_eq!(
            names(PCIE_DEVICE_INTERFACES),
            [Some("pci-express-device".to_string()), None]
        );
        assert_eq!(
            names(CONVENTIONAL_PCI_DEVICE_INTERFACES),
            [Some("conventional-pci-device".to_string()), None]
        );
    }

    #[test]
    fn msix_vectors_are_range_checked() {
        assert_eq!(msix_check_vector(0, 1), Ok(()));
        assert_eq!(msix_check_vector(64, 65), Ok(()));
        assert_eq!(
            msix_check_vector(65, 65),
            Err(MsixVectorOutOfRange {
                vector: 65,
                entries: 65
            })
        );
        assert!(msix_check_vector(0, 0).is_err());
        assert_eq!(
            msix_check_vector(7, 2).unwrap_err().to_string(),
            "MSI-X vector 7 out of range (the table has 2 entries)"
        );
    }
}
