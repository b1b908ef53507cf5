// Copyright 2025 The ocp-nvme developers
// SPDX-License-Identifier: GPL-2.0-or-later

//! Bindings for PCI devices: class setup, `realize`/`exit`, BARs,
//! capabilities, `INTx`, `MSI-X` and DMA through the bus-master address space.

use std::{
    ffi::CStr,
    ptr::{addr_of_mut, NonNull},
    sync::atomic::{fence, Ordering},
};

pub use bindings::{InterfaceInfo, PCIDeviceClass};

use crate::{
    bindings::{self, Error},
    cell::{bql_locked, Opaque},
    error::{error_set_message, take_error},
    memory::{MemoryRegion, MEMTXATTRS_UNSPECIFIED},
    prelude::*,
    qdev::{DeviceImpl, DeviceState},
};

/// A safe wrapper around [`bindings::PCIDevice`].
#[repr(transparent)]
#[derive(Debug, qemu_api_macros::Wrapper)]
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
/// [`ObjectImpl::INTERFACES`].
pub const PCIE_DEVICE_INTERFACES: &[InterfaceInfo] = &[
    InterfaceInfo {
        type_: bindings::INTERFACE_PCIE_DEVICE.as_ptr().cast(),
    },
    InterfaceInfo {
        type_: std::ptr::null(),
    },
];

/// The QOM interface list of a conventional PCI device.
pub const CONVENTIONAL_PCI_DEVICE_INTERFACES: &[InterfaceInfo] = &[
    InterfaceInfo {
        type_: bindings::INTERFACE_CONVENTIONAL_PCI_DEVICE.as_ptr().cast(),
    },
    InterfaceInfo {
        type_: std::ptr::null(),
    },
];

/// A `realize` method that can fail with a message for the user.
pub type PciRealizeFn<T> = fn(&T) -> Result<(), String>;

/// Identity and virtual methods of a PCI device class.
pub trait PCIDeviceImpl: DeviceImpl + IsA<PCIDevice> {
    const VENDOR_ID: u16;
    const DEVICE_ID: u16;
    const REVISION: u8 = 0;
    /// Class code and subclass (`PCI_CLASS_*`); the programming interface
    /// goes into configuration space from `PCI_REALIZE`.
    const CLASS_ID: u16;
    const SUBSYSTEM_VENDOR_ID: u16 = 0;
    const SUBSYSTEM_ID: u16 = 0;

    /// Set up the device once its properties are known.  An error is
    /// reported to the user and the device is not created; everything
    /// acquired before the error must be released by the function itself.
    const PCI_REALIZE: Option<PciRealizeFn<Self>> = None;

    /// Release what `PCI_REALIZE` acquired; called when the device is unplugged.
    const PCI_EXIT: Option<fn(&Self)> = None;

    /// Handle a configuration space write of `len` bytes at `addr`; it must
    /// call [`PCIDeviceMethods::default_config_write`].  For example a
    /// device with function level reset also calls
    /// [`PCIDeviceMethods::pcie_cap_flr_config_write`].
    const PCI_CONFIG_WRITE: Option<fn(&Self, u32, u32, u32)> = None;
}

unsafe extern "C" fn rust_pci_config_write_fn<T: PCIDeviceImpl>(
    dev: *mut bindings::PCIDevice,
    addr: u32,
    val: u32,
    len: std::os::raw::c_int,
) {
    let state = NonNull::new(dev).unwrap().cast::<T>();
    // SAFETY: as in rust_pci_realize_fn; len is 1, 2 or 4.
    T::PCI_CONFIG_WRITE.unwrap()(unsafe { state.as_ref() }, addr, val, len as u32);
}

unsafe extern "C" fn rust_pci_realize_fn<T: PCIDeviceImpl>(
    dev: *mut bindings::PCIDevice,
    errp: *mut *mut Error,
) {
    let state = NonNull::new(dev).unwrap().cast::<T>();
    // SAFETY: dev is an instance of T, since this function is only installed
    // by PCIDeviceClass::class_init::<T>.
    if let Err(msg) = T::PCI_REALIZE.unwrap()(unsafe { state.as_ref() }) {
        // SAFETY: errp comes from QEMU's realize path.
        unsafe {
            error_set_message(errp, &msg);
        }
    }
}

unsafe extern "C" fn rust_pci_exit_fn<T: PCIDeviceImpl>(dev: *mut bindings::PCIDevice) {
    let state = NonNull::new(dev).unwrap().cast::<T>();
    // SAFETY: as in rust_pci_realize_fn.
    T::PCI_EXIT.unwrap()(unsafe { state.as_ref() });
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
        if T::PCI_CONFIG_WRITE.is_some() {
            self.config_write = Some(rust_pci_config_write_fn::<T>);
        }
        self.parent_class.class_init::<T>();
    }
}

/// A failed access to guest memory (`MemTxResult` other than `MEMTX_OK`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemTxError(pub u32);

/// Offsets of standard registers in PCI configuration space.
pub const PCI_INTERRUPT_PIN: usize = bindings::PCI_INTERRUPT_PIN as usize;
pub const PCI_CLASS_PROG: usize = bindings::PCI_CLASS_PROG as usize;

/// Methods of [`PCIDevice`] and its subclasses.
pub trait PCIDeviceMethods: ObjectDeref
where
    Self::Target: IsA<PCIDevice>,
{
    /// Raw pointer for calls into C.
    fn pci_ptr(&self) -> *mut bindings::PCIDevice {
        self.upcast().as_mut_ptr()
    }

    /// Write one byte of configuration space (e.g. the programming
    /// interface or the interrupt pin) during realize.
    fn config_write_byte(&self, offset: usize, value: u8) {
        assert!(bql_locked());
        // SAFETY: `config` is allocated by pci_qdev_realize before the
        // device's realize runs and is at least PCI_CONFIG_SPACE_SIZE long.
        unsafe {
            let config = (*self.pci_ptr()).config;
            assert!(!config.is_null() && offset < bindings::PCI_CONFIG_SPACE_SIZE as usize);
            *config.add(offset) = value;
        }
    }

    /// Map `region` as BAR `index` with the `PCI_BASE_ADDRESS_*` flags
    /// in `attr` (memory/IO, 64-bit, prefetchable).
    fn register_bar(&self, index: u8, attr: u8, region: &MemoryRegion) {
        assert!(bql_locked());
        // SAFETY: the region outlives the device (it is part of it).
        unsafe {
            bindings::pci_register_bar(self.pci_ptr(), index.into(), attr, region.as_mut_ptr())
        }
    }

    /// The bus address where the guest mapped BAR `index`, or `None` while
    /// it is unmapped (`pci_get_bar_addr()`).
    fn bar_address(&self, index: u8) -> Option<u64> {
        // SAFETY: plain query on a realized device.
        let addr = unsafe { bindings::pci_get_bar_addr(self.pci_ptr(), index.into()) };
        (addr != u64::MAX).then_some(addr)
    }

    /// Add a PCI Express endpoint capability at `offset` (0 = anywhere).
    fn pcie_endpoint_cap_init(&self, offset: u8) -> Result<u8, String> {
        assert!(bql_locked());
        // SAFETY: plain call on a device being realized.
        let pos = unsafe { bindings::pcie_endpoint_cap_init(self.pci_ptr(), offset) };
        u8::try_from(pos).map_err(|_| "cannot add the PCI Express capability".to_string())
    }

    /// Advertise function level reset in the PCI Express capability.
    fn pcie_cap_flr_init(&self) {
        // SAFETY: the PCIe capability was added before.
        unsafe { bindings::pcie_cap_flr_init(self.pci_ptr()) }
    }

    /// The standard configuration space write (`pci_default_write_config`).
    fn default_config_write(&self, addr: u32, val: u32, len: u32) {
        // SAFETY: plain call from a config_write callback.
        unsafe { bindings::pci_default_write_config(self.pci_ptr(), addr, val, len as i32) }
    }

    /// Start a function level reset when the write sets Initiate FLR
    /// (`pcie_cap_flr_write_config`); call after `default_config_write`.
    fn pcie_cap_flr_config_write(&self, addr: u32, val: u32, len: u32) {
        // SAFETY: plain call from a config_write callback.
        unsafe { bindings::pcie_cap_flr_write_config(self.pci_ptr(), addr, val, len as i32) }
    }

    /// Add a power management capability at `offset`.
    fn pm_init(&self, offset: u8) -> Result<(), String> {
        let mut err: *mut Error = std::ptr::null_mut();
        // SAFETY: plain call with a local Error pointer.
        let ret = unsafe { bindings::pci_pm_init(self.pci_ptr(), offset, addr_of_mut!(err)) };
        if ret < 0 {
            // SAFETY: err was set by the call above, and is ours.
            return Err(unsafe { take_error(err, "cannot add the PM capability") });
        }
        Ok(())
    }

    /// Set up an MSI-X table and PBA inside `bar` (already a region of the
    /// device), with `vectors` entries.
    #[allow(clippy::too_many_arguments)]
    fn msix_init(
        &self,
        vectors: u16,
        bar: &MemoryRegion,
        bar_nr: u8,
        table_offset: u32,
        pba_offset: u32,
    ) -> Result<(), String> {
        assert!(bql_locked());
        let mut err: *mut Error = std::ptr::null_mut();
        // SAFETY: the region is part of the device and outlives the table.
        let ret = unsafe {
            bindings::msix_init(
                self.pci_ptr(),
                vectors.into(),
                bar.as_mut_ptr(),
                bar_nr,
                table_offset,
                bar.as_mut_ptr(),
                bar_nr,
                pba_offset,
                0,
                addr_of_mut!(err),
            )
        };
        if ret < 0 {
            // SAFETY: err was set by the call above, and is ours.
            return Err(unsafe { take_error(err, "cannot initialize MSI-X") });
        }
        Ok(())
    }

    /// Tear down what [`msix_init`](Self::msix_init) set up.
    fn msix_uninit(&self, bar: &MemoryRegion) {
        // SAFETY: same regions as passed to msix_init.
        unsafe { bindings::msix_uninit(self.pci_ptr(), bar.as_mut_ptr(), bar.as_mut_ptr()) }
    }

    fn msix_enabled(&self) -> bool {
        // SAFETY: plain query.
        unsafe { bindings::msix_enabled(self.pci_ptr()) != 0 }
    }

    /// Number of MSI-X table entries (0 before `msix_init` or after
    /// `msix_uninit`).
    fn msix_vectors(&self) -> u16 {
        // SAFETY: plain read of a field that msix_init/msix_uninit set
        // under the BQL.
        let n = unsafe { (*self.pci_ptr()).msix_entries_nr };
        n.try_into().unwrap_or(u16::MAX)
    }

    /// Mark `vector` used; a vector beyond the table is ignored (C's
    /// `msix_vector_use()` asserts on it).
    fn msix_vector_use(&self, vector: u16) {
        if vector >= self.msix_vectors() {
            return;
        }
        // SAFETY: the vector is within the table, checked above.
        unsafe { bindings::msix_vector_use(self.pci_ptr(), vector.into()) }
    }

    /// Mark `vector` unused; a vector beyond the table is ignored.
    fn msix_vector_unuse(&self, vector: u16) {
        if vector >= self.msix_vectors() {
            return;
        }
        // SAFETY: the vector is within the table, checked above.
        unsafe { bindings::msix_vector_unuse(self.pci_ptr(), vector.into()) }
    }

    /// Signal `vector` (pending while masked, nothing while unused). A
    /// vector beyond the table is ignored: C's `msix_notify()` asserts.
    fn msix_notify(&self, vector: u16) {
        if vector >= self.msix_vectors() {
            return;
        }
        // SAFETY: the vector is within the table, checked above.
        unsafe { bindings::msix_notify(self.pci_ptr(), vector.into()) }
    }

    /// Drive the `INTx` pin set in configuration space.
    fn set_irq(&self, level: bool) {
        // SAFETY: plain call; the pin was set during realize.
        unsafe { bindings::pci_set_irq(self.pci_ptr(), level.into()) }
    }

    /// Read guest memory through the bus-master address space; like
    /// `pci_dma_read()`, it orders the access after earlier device accesses.
    fn dma_read(&self, addr: u64, buf: &mut [u8]) -> Result<(), MemTxError> {
        fence(Ordering::SeqCst);
        // SAFETY: bus_master_as lives as long as the device; buf is valid
        // for buf.len() bytes.
        let res = unsafe {
            bindings::address_space_read_full(
                addr_of_mut!((*self.pci_ptr()).bus_master_as),
                addr,
                MEMTXATTRS_UNSPECIFIED,
                buf.as_mut_ptr().cast(),
                buf.len() as u64,
            )
        };
        if res == bindings::MEMTX_OK {
            Ok(())
        } else {
            Err(MemTxError(res))
        }
    }

    /// Write guest memory through the bus-master address space, ordered
    /// like `pci_dma_write()`.
    fn dma_write(&self, addr: u64, data: &[u8]) -> Result<(), MemTxError> {
        fence(Ordering::SeqCst);
        // SAFETY: as in dma_read.
        let res = unsafe {
            bindings::address_space_write(
                addr_of_mut!((*self.pci_ptr()).bus_master_as),
                addr,
                MEMTXATTRS_UNSPECIFIED,
                data.as_ptr().cast(),
                data.len() as u64,
            )
        };
        if res == bindings::MEMTX_OK {
            Ok(())
        } else {
            Err(MemTxError(res))
        }
    }

    /// The device as a plain qdev device (for reentrancy guards, names...).
    fn as_device(&self) -> &DeviceState {
        self.upcast::<PCIDevice>().upcast()
    }
}

impl<R: ObjectDeref> PCIDeviceMethods for R where R::Target: IsA<PCIDevice> {}

#[cfg(test)]
mod tests {
    use std::ffi::CStr;

    use super::*;

    fn names(list: &[InterfaceInfo]) -> Vec<Option<String>> {
        list.iter()
            .map(|info| {
                // SAFETY: the lists hold NUL-terminated static strings or NULL.
                (!info.type_.is_null()).then(|| {
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
}
