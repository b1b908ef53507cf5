// SPDX-License-Identifier: GPL-2.0-or-later
//! The `ocp-nvme` QOM object: properties, PCI setup, BAR0 and reset.
//!
//! BAR0 (64-bit memory, 64 KiB) holds the NVMe register file and doorbells
//! (handled by the engine) from offset 0, the MSI-X table at
//! [`MSIX_TABLE_OFFSET`] and the MSI-X PBA at [`MSIX_PBA_OFFSET`].

use std::{
    collections::VecDeque,
    ffi::CStr,
    pin::Pin,
    ptr::NonNull,
    sync::{
        atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering},
        Mutex, MutexGuard, OnceLock, PoisonError, TryLockError,
    },
};

use block::{BlockBackend, BlockConf, BlockSize, DriveProperty, IoThread};
use bql::{BqlCell, BqlRefCell};
use common::uninit_field_mut;
use common::Errno;
use hwcore::{
    bindings::{
        DeviceCategory, ON_OFF_AUTO_AUTO, PCI_BASE_ADDRESS_MEM_TYPE_64,
        PCI_BASE_ADDRESS_SPACE_MEMORY, PCI_CLASS_STORAGE_EXPRESS,
    },
    DeviceImpl, DeviceReentrancyGuard, DeviceState, OnOffAutoProperty, PCIDevice, PCIDeviceClass,
    PCIDeviceImpl, PCIDeviceMethods, PropString, ResetType, ResettablePhasesImpl, Size32,
    VmStateChangeHandler, PCIE_DEVICE_INTERFACES, PCI_CLASS_PROG, PCI_INTERRUPT_PIN,
};
use migration::{vmstate_fields, vmstate_of, VMStateDescription, VMStateDescriptionBuilder};
use ocp_nvme_engine::{
    ocp::{HealthConfig, OcpVersion},
    Controller, ControllerConfig, Host, IoResult, IoToken,
};
use qom::{
    object_property::add_u64_property, prelude::*, InterfaceInfo, ObjectImpl, ParentField,
    ParentInit,
};
use system::{hwaddr, MemoryRegion, MemoryRegionOps, MemoryRegionOpsBuilder};
use util::{
    aio::AioContext,
    bh::BottomHalf,
    defer_call::defer_call,
    ensure,
    event_notifier::EventNotifier,
    log::Log,
    log_mask_ln,
    timer::{Timer, CLOCK_VIRTUAL},
    Error, Result,
};

use crate::{
    host::{with_host, Thread},
    trace,
    vmstate::{errno, report, EngineBlob},
};
use ocp_nvme_engine::persist::{
    store_encode, store_read, store_slot_offset, StoreContent, STORE_MIN_IMAGE,
};

/// Size of BAR0.
pub const BAR0_SIZE: u64 = 0x10000;
/// Bytes of BAR0 given to the engine (registers and doorbells).
pub const REGS_SIZE: u64 = 0x4000;
/// Offset of the MSI-X table in BAR0.
pub const MSIX_TABLE_OFFSET: u32 = 0x4000;
/// Offset of the MSI-X pending bit array in BAR0.
pub const MSIX_PBA_OFFSET: u32 = 0xc000;
/// Most MSI-X vectors: the engine's limit, and they fit between the table
/// and PBA offsets.
pub const MAX_MSIX_VECTORS: u32 = 2048;
const _: () = assert!(MAX_MSIX_VECTORS * 16 <= MSIX_PBA_OFFSET - MSIX_TABLE_OFFSET);
const _: () = assert!(REGS_SIZE <= MSIX_TABLE_OFFSET as u64);
/// Most I/O queue pairs: the engine's limit, whose doorbells fit `REGS_SIZE`
/// (OCP NVMe-CFG-6 asks for 1,023).
pub const MAX_IOQPAIRS: u32 = ocp_nvme_engine::config::MAX_IOQPAIRS_LIMIT as u32;

/// PCI identity: Red Hat's QEMU vendor ID and the next device ID not
/// listed in QEMU 10.2's `docs/specs/pci-ids.rst`.
pub const PCI_VENDOR_ID_REDHAT: u16 = 0x1b36;
pub const PCI_DEVICE_ID_REDHAT_OCP_NVME: u16 = 0x0015;
/// Programming interface of an NVM Express I/O controller (class 010802h).
const PROG_IF_NVM_EXPRESS: u8 = 0x02;

/// A call into the engine put off because the engine was already running
/// (a re-entrant call); it runs as soon as the running call returns.
type EngineCall = Box<dyn FnOnce(&mut Controller, &mut Host)>;

/// Work waiting for the engine, queued by whoever found it taken.
#[derive(Debug)]
enum Work {
    /// A storage request finished: token, result, and the bytes of a
    /// buffered read.
    Completion(IoToken, IoResult, Vec<u8>),
    /// The ioeventfd of I/O SQ `qid`'s tail doorbell was set (IOThread).
    Doorbell(u16),
}

/// `timer_armed` and `sq_notifier_gen` when they hold no value.
const NONE: u64 = u64::MAX;
/// `intx_request` values: nothing to change, deassert, assert.
const INTX_KEEP: u8 = 0;
const INTX_LOW: u8 = 1;
const INTX_HIGH: u8 = 2;

/// What the ioeventfd of an I/O SQ's tail doorbell tells its handler.
#[derive(Debug)]
struct SqDoorbell {
    /// The device drops its notifiers at exit, before it goes away.
    dev: NonNull<OcpNvmeState>,
    qid: u16,
}

/// Instance state.  Properties are plain fields (qdev writes them before
/// realize); what changes afterwards sits in a BQL cell when only BQL
/// holders use it, else in a mutex or an atomic (the engine and what the
/// IOThread touches).
///
/// Locking rule: a thread holding `engine` never waits for the BQL.  BQL
/// holders may wait for `engine`; the IOThread only tries it, and queues
/// its work in `inbox` when it is taken: whoever holds the engine empties
/// the inbox before and after unlocking it.
#[repr(C)]
#[derive(qom::Object, hwcore::Device)]
pub struct OcpNvmeState {
    parent_obj: ParentField<PCIDevice>,
    bar0: MemoryRegion,
    #[property(rename = "drive")]
    drive: DriveProperty,
    #[property(rename = "logical_block_size")]
    logical_block_size: BlockSize,
    #[property(rename = "physical_block_size")]
    physical_block_size: BlockSize,
    #[property(rename = "discard_granularity", default = u32::MAX)]
    discard_granularity: Size32,
    #[property(rename = "write-cache", default = ON_OFF_AUTO_AUTO)]
    write_cache_mode: OnOffAutoProperty,
    #[property(rename = "serial")]
    serial: PropString,
    #[property(rename = "model")]
    model: PropString,
    #[property(rename = "firmware_rev")]
    firmware_rev: PropString,
    /// OCP specification version: 2.5, 2.6 or 2.7 (unset: 2.7).
    #[property(rename = "ocp-version")]
    ocp_version: PropString,
    #[property(rename = "max_ioqpairs", default = 1023)]
    max_ioqpairs: u32,
    #[property(rename = "msix_qsize", default = 65)]
    msix_qsize: u32,
    #[property(rename = "mqes", default = 0x7ff)]
    mqes: u32,
    #[property(rename = "mdts", default = 7)]
    mdts: u8,
    #[property(rename = "aerl", default = 3)]
    aerl: u8,
    #[property(rename = "aer_max_queued", default = 64)]
    aer_max_queued: u32,
    /// Process doorbells in a bottom half instead of in the MMIO write.
    #[property(rename = "x-doorbell-bh", default = false)]
    doorbell_bh: bool,
    /// While commands are in flight, signal MSI-X vectors from a bottom
    /// half, once for all completions of one main loop iteration, instead
    /// of once per completion; with nothing in flight (queue depth 1) they
    /// go out at once.
    #[property(rename = "x-irq-batch", default = true)]
    irq_batch: bool,
    /// Take the SQ tail doorbells of I/O queues through ioeventfds while
    /// the host uses shadow doorbells (the tail comes from the shadow
    /// buffer), instead of in the vCPU's MMIO write.
    #[property(rename = "ioeventfd", default = false)]
    ioeventfd: bool,
    /// The IOThread (`-object iothread,id=...`) that runs the drive's I/O
    /// and the I/O queues' doorbells (their ioeventfds, so it implies
    /// `ioeventfd`), and completes them, without the BQL.
    #[property(rename = "iothread")]
    iothread: PropString,
    /// The state store: a small block node holding what the drive keeps
    /// across power cycles (none: the drive is volatile).
    #[property(rename = "state")]
    state: DriveProperty,
    /// Seconds between periodic writes of the state store (0: only at
    /// shutdown, Set Features with Save, firmware commit and format).
    #[property(rename = "state-interval", default = 60)]
    state_interval: u32,
    /// Start over with a blank state (with a warning) when the state image
    /// is damaged, foreign or of another drive, instead of refusing to
    /// start.
    #[property(rename = "state-reset", default = false)]
    state_reset: bool,
    /// Health model settings given before realize (QOM properties).
    health: BqlRefCell<HealthConfig>,
    /// Runs deferred doorbell processing when `doorbell_bh` is on.
    bh: BqlRefCell<Option<BottomHalf>>,
    /// MSI-X vectors to signal from `irq_bh` (or, when the IOThread raised
    /// them, from `iothread_bh`).
    pending_vectors: Mutex<Vec<u16>>,
    irq_bh: BqlRefCell<Option<BottomHalf>>,
    /// The controller, created at realize.
    engine: Mutex<Option<Controller>>,
    /// Work not yet handed to the engine.
    inbox: Mutex<VecDeque<Work>>,
    /// The IOThread of property `iothread`, referenced from realize to
    /// exit, and its context.
    io_thread: BqlRefCell<Option<IoThread>>,
    io_ctx: OnceLock<AioContext>,
    /// Main loop work of an IOThread engine call: interrupts, the timer,
    /// the write cache, the ioeventfds, the state store.
    iothread_bh: OnceLock<BottomHalf>,
    /// The INTx level an IOThread engine call asked for (`INTX_*`).
    intx_request: AtomicU8,
    /// The ioeventfds of the I/O SQ tail doorbells, by queue ID, as the
    /// engine's [`Controller::sq_notifier_qids`] of generation
    /// `sq_notifier_gen` (`None`: to be set up again).
    sq_notifiers: BqlRefCell<Vec<EventNotifier<SqDoorbell>>>,
    sq_notifier_gen: AtomicU64,
    /// Notifiers taken off BAR0 whose handler may still be running (a
    /// queue deleted by a command fetched from inside it): dropped from
    /// `retire_bh`, outside every notifier handler.
    retired_notifiers: BqlRefCell<Vec<EventNotifier<SqDoorbell>>>,
    retire_bh: BqlRefCell<Option<BottomHalf>>,
    /// Set while a notifier's handler runs.
    in_notifier: BqlCell<bool>,
    /// Calls that arrived while the engine was running (a function level
    /// reset through configuration space written by DMA, a machine stop,
    /// ...): run right after, never dropped.
    deferred: BqlRefCell<VecDeque<EngineCall>>,
    /// Quiesces the engine while the machine is stopped.
    vm_state: BqlRefCell<Option<VmStateChangeHandler>>,
    /// The backend's write cache setting, as last applied from the engine's
    /// Volatile Write Cache feature.
    write_cache: AtomicBool,
    /// Set while the engine runs, so completions arriving meanwhile wait.
    in_engine: BqlCell<bool>,
    /// Set while a configuration space write may start a function level
    /// reset: that reset must not drain the block backend (see
    /// [`OcpNvmeState::reset_may_drain`]).
    in_flr_write: BqlCell<bool>,
    timer: Timer,
    /// The deadline `timer` is armed for (`NONE`: not armed).
    timer_armed: AtomicU64,
    /// The engine's saved state between `pre_save` and the stream, or
    /// between the stream and `post_load`.
    migration_blob: EngineBlob,
    /// Sequence number of the newest record in the state store; `None`
    /// when it must be read from the image again (after an incoming
    /// migration, whose source kept writing).
    state_seq: BqlCell<Option<u64>>,
    /// A state store write is running (its synchronous I/O may run other
    /// device callbacks); another request meanwhile sets `state_again`.
    state_writing: BqlCell<bool>,
    state_again: BqlCell<bool>,
    /// Writes the state store after a change the drive must keep.
    state_bh: BqlRefCell<Option<BottomHalf>>,
    /// Periodic state store writes (`state-interval`).
    state_timer: Timer,
}

qom_isa!(OcpNvmeState : PCIDevice, DeviceState, Object);

unsafe impl ObjectType for OcpNvmeState {
    type Class = PCIDeviceClass;
    const TYPE_NAME: &'static CStr = crate::TYPE_OCP_NVME;
}

impl ObjectImpl for OcpNvmeState {
    type ParentType = PCIDevice;

    const INSTANCE_INIT: Option<unsafe fn(ParentInit<Self>)> = Some(Self::init);
    const INSTANCE_POST_INIT: Option<fn(&Self)> = Some(Self::post_init);
    const INTERFACES: &'static [InterfaceInfo] = PCIE_DEVICE_INTERFACES;
    const CLASS_INIT: fn(&mut Self::Class) = Self::class_init;
}

impl DeviceImpl for OcpNvmeState {
    const VMSTATE: Option<VMStateDescription<Self>> = Some(VMSTATE_OCP_NVME);
}

impl ResettablePhasesImpl for OcpNvmeState {
    const HOLD: Option<fn(&Self, ResetType)> = Some(Self::reset_hold);
}

impl PCIDeviceImpl for OcpNvmeState {
    const VENDOR_ID: u16 = PCI_VENDOR_ID_REDHAT;
    const DEVICE_ID: u16 = PCI_DEVICE_ID_REDHAT_OCP_NVME;
    const REVISION: u8 = 2;
    const CLASS_ID: u16 = PCI_CLASS_STORAGE_EXPRESS as u16;
    const SUBSYSTEM_VENDOR_ID: u16 = PCI_VENDOR_ID_REDHAT;
    const SUBSYSTEM_ID: u16 = PCI_DEVICE_ID_REDHAT_OCP_NVME;
    const PCI_REALIZE: Option<fn(&Self) -> Result<()>> = Some(Self::realize);
    const PCI_EXIT: Option<fn(&Self)> = Some(Self::exit);
    const CONFIG_WRITE: Option<fn(&Self, u32, u32, u32)> = Some(Self::config_write);
}

/// Migration and snapshots: the PCI device, MSI-X, and the engine's state
/// as one versioned blob (see `vmstate.rs`).  Version 1 of the device's
/// section; the blob has its own format version and configuration
/// fingerprint, so a destination with other properties refuses it naming
/// the difference.
const VMSTATE_OCP_NVME: VMStateDescription<OcpNvmeState> =
    VMStateDescriptionBuilder::<OcpNvmeState>::new()
        .name(c"ocp-nvme")
        .version_id(1)
        .minimum_version_id(1)
        .pre_save(&OcpNvmeState::pre_save)
        .post_save(&OcpNvmeState::post_save)
        .post_load(&OcpNvmeState::post_load)
        .fields(vmstate_fields! {
            vmstate_of!(OcpNvmeState, parent_obj),
            hwcore::vmstate_msix(vmstate_of!(OcpNvmeState, parent_obj)),
            vmstate_of!(OcpNvmeState, migration_blob),
        })
        .build();

impl OcpNvmeState {
    fn class_init(klass: &mut PCIDeviceClass) {
        klass.class_init::<Self>();
        let dc = &mut klass.parent_class;
        dc.desc = c"OCP Datacenter NVMe SSD".as_ptr();
        dc.categories[0] |= 1 << (DeviceCategory::DEVICE_CATEGORY_STORAGE as u32);
    }

    /// Initializes a freshly allocated instance.
    ///
    /// # Safety
    ///
    /// Called once by QOM; every field but `parent_obj` is uninitialized.
    unsafe fn init(mut this: ParentInit<Self>) {
        static BAR0_OPS: MemoryRegionOps<OcpNvmeState> =
            MemoryRegionOpsBuilder::<OcpNvmeState>::new()
                .read(&OcpNvmeState::mmio_read)
                .write(&OcpNvmeState::mmio_write)
                .little_endian()
                .valid_sizes(1, 8)
                .impl_sizes(1, 8)
                .build();

        MemoryRegion::init_io(
            &mut uninit_field_mut!(*this, bar0),
            &BAR0_OPS,
            "ocp-nvme-bar0",
            BAR0_SIZE,
        );
        uninit_field_mut!(*this, health).write(BqlRefCell::new(HealthConfig::default()));
        uninit_field_mut!(*this, bh).write(BqlRefCell::new(None));
        uninit_field_mut!(*this, pending_vectors).write(Mutex::new(Vec::new()));
        uninit_field_mut!(*this, irq_bh).write(BqlRefCell::new(None));
        uninit_field_mut!(*this, engine).write(Mutex::new(None));
        uninit_field_mut!(*this, inbox).write(Mutex::new(VecDeque::new()));
        uninit_field_mut!(*this, io_thread).write(BqlRefCell::new(None));
        uninit_field_mut!(*this, io_ctx).write(OnceLock::new());
        uninit_field_mut!(*this, iothread_bh).write(OnceLock::new());
        uninit_field_mut!(*this, intx_request).write(AtomicU8::new(INTX_KEEP));
        uninit_field_mut!(*this, deferred).write(BqlRefCell::new(VecDeque::new()));
        uninit_field_mut!(*this, sq_notifiers).write(BqlRefCell::new(Vec::new()));
        uninit_field_mut!(*this, sq_notifier_gen).write(AtomicU64::new(NONE));
        uninit_field_mut!(*this, retired_notifiers).write(BqlRefCell::new(Vec::new()));
        uninit_field_mut!(*this, retire_bh).write(BqlRefCell::new(None));
        uninit_field_mut!(*this, in_notifier).write(BqlCell::new(false));
        uninit_field_mut!(*this, vm_state).write(BqlRefCell::new(None));
        uninit_field_mut!(*this, write_cache).write(AtomicBool::new(false));
        uninit_field_mut!(*this, in_engine).write(BqlCell::new(false));
        uninit_field_mut!(*this, in_flr_write).write(BqlCell::new(false));
        uninit_field_mut!(*this, timer_armed).write(AtomicU64::new(NONE));
        uninit_field_mut!(*this, migration_blob).write(EngineBlob::default());
        uninit_field_mut!(*this, state_seq).write(BqlCell::new(Some(0)));
        uninit_field_mut!(*this, state_writing).write(BqlCell::new(false));
        uninit_field_mut!(*this, state_again).write(BqlCell::new(false));
        uninit_field_mut!(*this, state_bh).write(BqlRefCell::new(None));
        let this_ptr: *const Self = (*this).as_ptr();
        // SAFETY: the timer is initialized in two steps, like HPET's: first
        // the zeroed Timer, then timer_init_full() in place.
        let mut timer_field = uninit_field_mut!(*this, timer);
        let timer = timer_field.write(unsafe { Timer::new() });
        // SAFETY: QOM objects never move, so the timer is pinned; the
        // callback only runs once the object is fully initialized (the
        // timer is armed from the engine, after realize), and the timer is
        // deleted when the object is dropped.
        unsafe { Pin::new_unchecked(timer) }.init_full(
            None,
            CLOCK_VIRTUAL,
            Timer::NS,
            0,
            Self::timer_fired,
            unsafe { &*this_ptr },
        );
        // SAFETY: as for `timer`.
        let mut state_timer_field = uninit_field_mut!(*this, state_timer);
        let state_timer = state_timer_field.write(unsafe { Timer::new() });
        // SAFETY: as for `timer`; armed in realize only when `state` is set.
        unsafe { Pin::new_unchecked(state_timer) }.init_full(
            None,
            CLOCK_VIRTUAL,
            Timer::NS,
            0,
            Self::state_timer_fired,
            unsafe { &*this_ptr },
        );
    }

    /// Health model properties (`percentage-used`, `temperature`, ...):
    /// settable with `-device` and, at run time, with QMP `qom-set`.
    fn post_init(&self) {
        for (tag, name) in HealthConfig::PROPERTIES.iter().enumerate() {
            add_u64_property(self, name, tag, Self::health_get, Self::health_set);
        }
    }

    fn health_get(&self, tag: usize) -> u64 {
        let name = HealthConfig::PROPERTIES[tag];
        let value = if self.realized() {
            self.run_engine_now(|engine, _| engine.health_property(name))
                .flatten()
        } else {
            self.health.borrow().get(name)
        };
        value.unwrap_or_default()
    }

    fn health_set(&self, tag: usize, value: u64) -> Result<()> {
        let name = HealthConfig::PROPERTIES[tag];
        if !self.realized() {
            return self
                .health
                .borrow_mut()
                .set(name, value)
                .map_err(Error::msg);
        }
        self.run_engine_now(|engine, host| engine.set_health_property(name, value, host))
            .unwrap_or_else(|| Err("the device is busy".to_string()))
            .map_err(Error::msg)
    }

    /// The engine's configuration from the properties and the drive.
    fn controller_config(
        &self,
        blk: &BlockBackend,
        conf: &BlockConf,
    ) -> std::result::Result<ControllerConfig, String> {
        let serial = self
            .serial
            .to_string_lossy()
            .ok_or("property 'serial' is required")?;
        let capacity = blk
            .length()
            .map_err(|e| format!("cannot get the size of drive: error {e}"))?;
        if self.max_ioqpairs == 0 || self.max_ioqpairs > MAX_IOQPAIRS {
            return Err(format!(
                "property 'max_ioqpairs' must be between 1 and {MAX_IOQPAIRS}, not {}",
                self.max_ioqpairs
            ));
        }
        let ocp_version = match self.ocp_version.to_string_lossy() {
            Some(v) => OcpVersion::parse(&v).map_err(|_| {
                format!("property 'ocp-version' must be 2.5, 2.6 or 2.7, not '{v}'")
            })?,
            None => OcpVersion::default(),
        };
        if self.msix_qsize == 0 || self.msix_qsize > MAX_MSIX_VECTORS {
            return Err(format!(
                "property 'msix_qsize' must be between 1 and {MAX_MSIX_VECTORS}, not {}",
                self.msix_qsize
            ));
        }
        let mqes = u16::try_from(self.mqes)
            .map_err(|_| format!("property 'mqes' must be at most 65535, not {}", self.mqes))?;
        let aer_max_queued = u16::try_from(self.aer_max_queued).map_err(|_| {
            format!(
                "property 'aer_max_queued' must be at most 65535, not {}",
                self.aer_max_queued
            )
        })?;
        let mut cfg = ControllerConfig {
            serial,
            max_ioqpairs: self.max_ioqpairs as u16,
            msix_vectors: self.msix_qsize as u16,
            mqes,
            mdts: self.mdts,
            aerl: self.aerl,
            aer_max_queued,
            capacity_bytes: capacity,
            lba_size: conf.logical_block_size,
            read_only: !blk.is_writable(),
            volatile_write_cache: blk.write_cache_enabled(),
            discard: true,
            defer_processing: self.doorbell_bh,
            health: *self.health.borrow(),
            pci_vendor_id: PCI_VENDOR_ID_REDHAT,
            pci_subsys_vendor_id: PCI_VENDOR_ID_REDHAT,
            ocp_version,
            ..ControllerConfig::default()
        };
        if let Some(model) = self.model.to_string_lossy() {
            cfg.model = model;
        }
        if let Some(fw) = self.firmware_rev.to_string_lossy() {
            cfg.firmware_rev = fw;
        }
        cfg.validate()?;
        Ok(cfg)
    }

    fn realize(&self) -> Result<()> {
        let Some(blk) = self.drive.backend() else {
            return Err(Error::msg("property 'drive' is required"));
        };
        let mut conf = BlockConf::new(
            &self.drive,
            self.logical_block_size,
            self.physical_block_size,
            self.discard_granularity,
            self.write_cache_mode,
        );
        conf.blocksizes()?;
        conf.apply_backend_options(!blk.supports_write_perm(), false)?;
        let cfg = self.controller_config(blk, &conf).map_err(Error::msg)?;
        let io_thread = match self.iothread.to_string_lossy() {
            Some(id) => Some(
                IoThread::find(&id).map_err(|e| Error::msg(format!("property 'iothread': {e}")))?,
            ),
            None => None,
        };
        let controller = self.open_state(cfg)?;
        ensure!(
            controller.bar_size() <= REGS_SIZE,
            "too many queues for BAR0"
        );

        self.config_write_byte(PCI_CLASS_PROG, PROG_IF_NVM_EXPRESS);
        self.config_write_byte(PCI_INTERRUPT_PIN, 1);
        self.pm_init(0x60)?;
        self.pcie_endpoint_cap_init(0x80)?;
        self.pcie_cap_flr_init();
        self.register_bar(
            0,
            (PCI_BASE_ADDRESS_SPACE_MEMORY | PCI_BASE_ADDRESS_MEM_TYPE_64) as u8,
            &self.bar0,
        );
        self.msix_init(
            self.msix_qsize as u16,
            &self.bar0,
            0,
            MSIX_TABLE_OFFSET,
            MSIX_PBA_OFFSET,
        )?;
        for vector in 0..self.msix_qsize as u16 {
            // msix_init() created msix_qsize entries.
            self.msix_vector_use(vector)?;
        }
        // The last step that can fail: nothing to undo after it.
        if let Some(io_thread) = io_thread {
            let ctx = io_thread.aio_context();
            blk.set_aio_context(ctx)?;
            *self.io_thread.borrow_mut() = Some(io_thread);
            let _ = self.io_ctx.set(ctx);
        }
        let guard = Some(self.upcast::<DeviceState>().mem_reentrancy_guard());
        if self.doorbell_bh {
            // SAFETY: the device outlives its bottom half (dropped at exit).
            let bh = unsafe {
                BottomHalf::new(c"ocp-nvme-doorbells", Self::process_doorbells, self, guard)
            };
            *self.bh.borrow_mut() = Some(bh);
        }
        if self.irq_batch {
            // SAFETY: as for the doorbell bottom half.
            let bh = unsafe { BottomHalf::new(c"ocp-nvme-irq", Self::send_vectors, self, guard) };
            *self.irq_bh.borrow_mut() = Some(bh);
        }
        if self.sq_notifiers_wanted() {
            // SAFETY: as for the doorbell bottom half.
            let bh =
                unsafe { BottomHalf::new(c"ocp-nvme-ioeventfd", Self::drop_retired, self, guard) };
            *self.retire_bh.borrow_mut() = Some(bh);
        }
        if self.io_ctx.get().is_some() {
            // SAFETY: as for the doorbell bottom half; it is deleted when
            // the device is finalized, and does nothing after exit.
            let bh = unsafe {
                BottomHalf::new(c"ocp-nvme-iothread", Self::iothread_followup, self, guard)
            };
            let _ = self.iothread_bh.set(bh);
        }
        self.write_cache
            .store(blk.write_cache_enabled(), Ordering::Relaxed);
        *self.lock_engine() = Some(controller);
        if self.state.backend().is_some() {
            // SAFETY: as for the doorbell bottom half.
            let bh = unsafe { BottomHalf::new(c"ocp-nvme-state", Self::write_state, self, guard) };
            *self.state_bh.borrow_mut() = Some(bh);
            // First use of a blank image: write the new drive's record now.
            if self.state_seq.get() == Some(0) {
                self.write_state();
            }
            self.arm_state_timer();
        }
        // SAFETY: the device outlives the handler, dropped at exit.
        let handler =
            unsafe { VmStateChangeHandler::new(self.upcast(), Self::vm_state_changed, self) };
        *self.vm_state.borrow_mut() = Some(handler);
        Ok(())
    }

    /// Unrealize (hot-unplug): nothing new may start, since the block layer
    /// would run it after the device is gone.  The engine is quiesced first,
    /// so completions arriving during the drain post their CQEs but fetch
    /// and submit nothing.
    fn exit(&self) {
        *self.vm_state.borrow_mut() = None;
        self.run_engine(|engine, _| engine.quiesce());
        if let Some(blk) = self.drive.backend() {
            blk.drain();
        }
        // Unplugged: the drive keeps what it holds now.
        self.write_state();
        self.timer.delete();
        self.timer_armed.store(NONE, Ordering::Relaxed);
        self.state_timer.delete();
        self.remove_sq_notifiers();
        *self.retire_bh.borrow_mut() = None;
        self.retired_notifiers.borrow_mut().clear();
        *self.state_bh.borrow_mut() = None;
        *self.bh.borrow_mut() = None;
        *self.irq_bh.borrow_mut() = None;
        lock(&self.pending_vectors).clear();
        for vector in 0..self.msix_qsize as u16 {
            // Used in realize, so within the table.
            let _ = self.msix_vector_unuse(vector);
        }
        self.msix_uninit(&self.bar0);
        *self.lock_engine() = None;
        lock(&self.inbox).clear();
        self.deferred.borrow_mut().clear();
        if self.io_thread.borrow_mut().take().is_some() {
            // Give the drive back to the main loop (the IOThread may go).
            if let Some(blk) = self.drive.backend() {
                if let Err(e) = blk.set_aio_context(AioContext::main()) {
                    report(&format!("cannot move the drive back to the main loop: {e}"));
                }
            }
        }
    }

    /// The machine stopped (pause, end of migration, snapshot) or runs
    /// again: the engine starts no work while it is stopped, so that the
    /// block layer's drain ends with nothing in flight.
    fn vm_state_changed(&self, running: bool) {
        self.run_engine(move |engine, host| {
            if running {
                engine.resume(host);
            } else {
                engine.quiesce();
            }
        });
        // Stopped (pause, shutdown, end of migration, snapshot): the state
        // store gets what the drive holds now.
        if !running && !self.in_engine.get() {
            self.write_state();
        }
    }

    /// Save the engine's state for the stream.  The machine is stopped and
    /// the block layer drained: a storage request still in flight would be
    /// lost, so the save is refused instead.
    fn pre_save(&self) -> std::result::Result<(), Errno> {
        if self.in_engine.get() {
            report("cannot save state: the controller is running");
            return Err(errno(libc::EBUSY));
        }
        // Hand over completions that arrived during the drain.
        self.enter_engine(|_, _| {});
        let saved = self
            .lock_engine()
            .as_ref()
            .map(|engine| match engine.requests_in_flight() {
                0 => Ok(engine.save_state()),
                in_flight => Err(in_flight),
            });
        match saved {
            None => Ok(()),
            Some(Ok(blob)) => {
                *self.migration_blob.0.borrow_mut() = blob;
                Ok(())
            }
            Some(Err(in_flight)) => {
                report(&format!(
                    "cannot save state: {in_flight} storage requests still in flight"
                ));
                Err(errno(libc::EBUSY))
            }
        }
    }

    fn post_save(&self) -> std::result::Result<(), Errno> {
        self.migration_blob.0.borrow_mut().clear();
        Ok(())
    }

    /// Replace the controller by the one the stream describes, with this
    /// device's configuration, then re-arm its timer from its deadline.
    fn post_load(&self, _version_id: u8) -> std::result::Result<(), Errno> {
        let blob = std::mem::take(&mut *self.migration_blob.0.borrow_mut());
        let loaded = self.lock_engine().as_mut().map(|current| {
            Controller::load_state(current.config().clone(), &blob).map(|loaded| *current = loaded)
        });
        match loaded {
            None => {
                report("cannot load state: the device is not realized");
                return Err(errno(libc::EINVAL));
            }
            Some(Err(e)) => {
                report(&format!("cannot load the saved state: {e}"));
                return Err(errno(libc::EINVAL));
            }
            Some(Ok(())) => {}
        }
        // The source kept writing the state store: read its sequence again.
        self.state_seq.set(None);
        // The loaded controller's queues get their ioeventfds below.
        self.sq_notifier_gen.store(NONE, Ordering::Relaxed);
        // Completions and vectors of the controller just replaced are void.
        lock(&self.inbox).clear();
        lock(&self.pending_vectors).clear();
        self.deferred.borrow_mut().clear();
        // Timer and write cache follow the loaded controller.
        self.enter_engine(|_, _| {});
        Ok(())
    }

    /// Configuration space writes; a function level reset resets the
    /// controller through the device's reset.
    fn config_write(&self, addr: u32, val: u32, len: u32) {
        self.default_config_write(addr, val, len);
        self.in_flr_write.set(true);
        self.pcie_cap_flr_config_write(addr, val, len);
        self.in_flr_write.set(false);
    }

    fn reset_hold(&self, _typ: ResetType) {
        trace::trace_ocp_nvme_reset();
        self.run_engine(Controller::reset);
    }

    fn mmio_read(&self, addr: hwaddr, size: u32) -> u64 {
        if addr >= REGS_SIZE {
            return 0;
        }
        let value = self
            .run_engine_now(|engine, host| engine.mmio_read(addr, size, host))
            .unwrap_or_else(|| {
                log_mask_ln!(
                    Log::GuestError,
                    "ocp-nvme: register read at {addr:#x} from inside the device refused"
                );
                0
            });
        trace::trace_ocp_nvme_mmio_read(addr, size, value);
        value
    }

    fn mmio_write(&self, addr: hwaddr, value: u64, size: u32) {
        trace_doorbell_or_register(addr, value, size);
        if addr < REGS_SIZE {
            self.run_engine(move |engine, host| engine.mmio_write(addr, value, size, host));
        }
    }

    /// Follow Set Features Volatile Write Cache with the backend's cache.
    fn apply_write_cache(&self, enabled: bool) {
        if self.write_cache.swap(enabled, Ordering::Relaxed) != enabled {
            if let Some(blk) = self.drive.backend() {
                blk.set_write_cache(enabled);
            }
        }
    }

    /// Signal `vector` now or, when `irq_batch` is on, when the engine
    /// call returns ([`Self::flush_vectors`]); from the IOThread, when the
    /// main loop runs `iothread_bh`.
    pub fn notify_vector(&self, vector: u16) {
        if bql::is_locked() && self.irq_bh.borrow().is_none() {
            self.signal_vector(vector);
        } else {
            self.queue_vector(vector);
        }
    }

    fn queue_vector(&self, vector: u16) {
        let mut pending = lock(&self.pending_vectors);
        if !pending.contains(&vector) {
            pending.push(vector);
        }
    }

    /// After an engine call: send the vectors it raised at once when no
    /// command is in flight (batching would only add latency), else from
    /// the interrupt bottom half, together with those of the completions
    /// that arrive in the same main loop iteration.
    fn flush_vectors(&self, commands_in_flight: bool) {
        if lock(&self.pending_vectors).is_empty() {
            return;
        }
        if !commands_in_flight {
            self.send_vectors();
        } else if let Some(bh) = self.irq_bh.borrow().as_ref() {
            bh.schedule();
        }
    }

    /// Send the pending vectors, in any order (each is a separate
    /// message).  One at a time: the lock is not held while a message goes
    /// out, and the list keeps its allocation.
    fn send_vectors(&self) {
        loop {
            let vector = lock(&self.pending_vectors).pop();
            let Some(vector) = vector else { break };
            self.signal_vector(vector);
        }
    }

    /// Send MSI-X `vector`; the engine only uses vectors below
    /// `msix_qsize`, but a vector outside the table is traced and dropped
    /// rather than trusted.  A message addressed to the device's own
    /// registers is refused by its reentrancy guard, wherever it is sent
    /// from (an MMIO handler, a bottom half, a storage completion): a
    /// reset it would start could otherwise wait for the very storage
    /// request whose completion sent it.
    fn signal_vector(&self, vector: u16) {
        let sent = self
            .upcast::<DeviceState>()
            .with_reentrancy_guard(|| self.msix_notify(vector));
        match sent {
            Ok(()) => trace::trace_ocp_nvme_irq_msix(vector),
            Err(e) => trace::trace_ocp_nvme_irq_msix_error(vector, e.entries),
        }
    }

    fn process_doorbells(&self) {
        self.run_engine(Controller::process_pending);
    }

    fn timer_fired(&self) {
        // Expired: the deadline the engine gives next must arm it again.
        self.timer_armed.store(NONE, Ordering::Relaxed);
        self.run_engine(Controller::timer_fired);
    }

    /// The controller at power-on: a new drive without a state store, or
    /// what the state store holds.  A damaged, foreign or other drive's
    /// image stops realize with the reason, unless `state-reset` is on
    /// (then a warning, and the drive starts blank).
    fn open_state(&self, cfg: ControllerConfig) -> Result<Controller> {
        let Some(sblk) = self.state.backend() else {
            return Controller::new(cfg).map_err(Error::msg);
        };
        let mut sconf = BlockConf::new(
            &self.state,
            self.logical_block_size,
            self.physical_block_size,
            self.discard_granularity,
            self.write_cache_mode,
        );
        sconf.apply_backend_options(false, false)?;
        let read = || -> std::result::Result<Option<(u64, Vec<u8>)>, String> {
            let len = sblk
                .length()
                .map_err(|e| format!("cannot get the size of the state image: error {e}"))?;
            if len < STORE_MIN_IMAGE {
                return Err(format!(
                    "state image of {len} bytes, at least {STORE_MIN_IMAGE} needed"
                ));
            }
            let mut image = vec![0u8; STORE_MIN_IMAGE as usize];
            sblk.pread(0, &mut image)
                .map_err(|e| format!("cannot read the state image: error {e}"))?;
            match store_read(&image)? {
                StoreContent::Empty => Ok(None),
                StoreContent::Record {
                    seq,
                    payload,
                    damaged,
                } => {
                    if let Some(d) = damaged {
                        report(&format!(
                            "warning: state image: {d}; using record {seq} (the last write was torn)"
                        ));
                    }
                    Ok(Some((seq, payload)))
                }
            }
        };
        let now = CLOCK_VIRTUAL.get_ns();
        let loaded = read().and_then(|found| match found {
            None => Ok(None),
            Some((seq, payload)) => {
                Controller::load_persistent(cfg.clone(), &payload, now).map(|c| Some((seq, c)))
            }
        });
        match loaded {
            Ok(Some((seq, controller))) => {
                self.state_seq.set(Some(seq));
                Ok(controller)
            }
            Ok(None) => {
                self.state_seq.set(Some(0));
                Controller::new(cfg).map_err(Error::msg)
            }
            Err(e) if self.state_reset => {
                report(&format!(
                    "warning: state image: {e}; starting with a blank drive state (state-reset=on)"
                ));
                self.state_seq.set(Some(0));
                Controller::new(cfg).map_err(Error::msg)
            }
            Err(e) => Err(Error::msg(format!(
                "state image: {e} (state-reset=on starts over with a blank drive state)"
            ))),
        }
    }

    /// Write what the drive keeps across power cycles to the state store:
    /// the copy the older record is in, with Force Unit Access, so that a
    /// crash at any moment leaves the newer intact copy.  Failures are
    /// reported, never fatal (the drive goes on; the next write retries).
    fn write_state(&self) {
        let Some(sblk) = self.state.backend() else {
            return;
        };
        if self.in_engine.get() {
            // Sync I/O must not run inside an engine call: soon after.
            if let Some(bh) = self.state_bh.borrow().as_ref() {
                bh.schedule();
            }
            return;
        }
        if self.state_writing.get() {
            self.state_again.set(true);
            return;
        }
        self.state_writing.set(true);
        loop {
            self.state_again.set(false);
            let record = self
                .lock_engine()
                .as_ref()
                .map(|engine| engine.save_persistent(CLOCK_VIRTUAL.get_ns()));
            let Some(record) = record else { break };
            let seq = match self.state_seq.get() {
                Some(seq) => seq,
                None => {
                    let mut image = vec![0u8; STORE_MIN_IMAGE as usize];
                    match sblk.pread(0, &mut image).map(|()| store_read(&image)) {
                        Ok(Ok(StoreContent::Record { seq, .. })) => seq,
                        _ => 0,
                    }
                }
            }
            .wrapping_add(1);
            let start = std::time::Instant::now();
            let result = store_encode(seq, &record).and_then(|copy| {
                sblk.pwrite_fua(store_slot_offset(seq), &copy)
                    .map_err(|e| format!("error {e}"))
            });
            match result {
                Ok(()) => {
                    self.state_seq.set(Some(seq));
                    let us = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
                    trace::trace_ocp_nvme_state_write(seq, record.len() as u64, us);
                }
                Err(e) => report(&format!("cannot write the state image: {e}")),
            }
            if !self.state_again.get() {
                break;
            }
        }
        self.state_writing.set(false);
    }

    fn arm_state_timer(&self) {
        if self.state_interval != 0 && self.state.backend().is_some() {
            let period = u64::from(self.state_interval) * 1_000_000_000;
            self.state_timer
                .modify(CLOCK_VIRTUAL.get_ns().saturating_add(period));
        }
    }

    fn state_timer_fired(&self) {
        self.write_state();
        self.arm_state_timer();
    }

    /// Give exactly the engine's notified I/O SQs an ioeventfd on their
    /// tail doorbell (a write there then sets the notifier instead of
    /// reaching [`Self::mmio_write`]); the others go back to MMIO.
    fn sync_sq_notifiers(&self, engine: &Controller) {
        let wanted: Vec<u16> = engine.sq_notifier_qids().collect();
        let have = std::mem::take(&mut *self.sq_notifiers.borrow_mut());
        // Both in queue ID order.
        let (mut kept, gone): (Vec<_>, Vec<_>) = have
            .into_iter()
            .partition(|n| wanted.binary_search(&n.data().qid).is_ok());
        let retired = !gone.is_empty();
        for n in gone {
            let qid = n.data().qid;
            self.bar0.del_eventfd(sq_doorbell_offset(qid), 4, &n);
            trace::trace_ocp_nvme_ioeventfd(qid, false);
            self.retired_notifiers.borrow_mut().push(n);
        }
        for qid in wanted {
            let Err(at) = kept.binary_search_by_key(&qid, |n| n.data().qid) else {
                continue;
            };
            let data = SqDoorbell {
                dev: NonNull::from(self),
                qid,
            };
            let notifier = match self.io_ctx.get() {
                Some(&ctx) => EventNotifier::new_in(ctx, Self::sq_doorbell_rung_in_iothread, data),
                None => EventNotifier::new(Self::sq_doorbell_rung, data),
            };
            match notifier {
                Ok(n) => {
                    self.bar0.add_eventfd(sq_doorbell_offset(qid), 4, &n);
                    trace::trace_ocp_nvme_ioeventfd(qid, true);
                    kept.insert(at, n);
                }
                // The doorbell stays MMIO, which works as well.
                Err(e) => report(&format!("no ioeventfd for SQ {qid}: {e}")),
            }
        }
        *self.sq_notifiers.borrow_mut() = kept;
        if retired {
            if let Some(bh) = self.retire_bh.borrow().as_ref() {
                bh.schedule();
            }
        }
    }

    /// An I/O SQ's tail doorbell was written (its ioeventfd was set).
    fn sq_doorbell_rung(n: &SqDoorbell) {
        // SAFETY: see the `dev` field.
        let dev = unsafe { n.dev.as_ref() };
        let qid = n.qid;
        trace::trace_ocp_nvme_doorbell_notified(qid);
        dev.in_notifier.set(true);
        dev.run_engine(move |engine, host| engine.sq_doorbell_notified(qid, host));
        dev.in_notifier.set(false);
        if !dev.retired_notifiers.borrow().is_empty() {
            if let Some(bh) = dev.retire_bh.borrow().as_ref() {
                bh.schedule();
            }
        }
    }

    /// An I/O SQ's tail doorbell was written, seen by the IOThread.
    fn sq_doorbell_rung_in_iothread(n: &SqDoorbell) {
        // SAFETY: see the `dev` field.
        let dev = unsafe { n.dev.as_ref() };
        trace::trace_ocp_nvme_doorbell_notified(n.qid);
        lock(&dev.inbox).push_back(Work::Doorbell(n.qid));
        dev.run_in_iothread();
    }

    /// Drop the notifiers taken off BAR0, unless a notifier handler is
    /// running (it schedules this again when it ends).
    fn drop_retired(&self) {
        if !self.in_notifier.get() {
            self.retired_notifiers.borrow_mut().clear();
        }
    }

    /// Take every SQ ioeventfd off BAR0 (unplug).
    fn remove_sq_notifiers(&self) {
        for n in std::mem::take(&mut *self.sq_notifiers.borrow_mut()) {
            let qid = n.data().qid;
            self.bar0.del_eventfd(sq_doorbell_offset(qid), 4, &n);
            trace::trace_ocp_nvme_ioeventfd(qid, false);
        }
        self.sq_notifier_gen.store(NONE, Ordering::Relaxed);
    }

    /// Whether a controller reset may wait for the storage requests in
    /// flight.  Not for a function level reset: the write that starts it
    /// may come from one of those requests (a read into MMCONFIG is written
    /// there from the block layer's bounce buffer as it completes, before
    /// its callback), and draining would wait for that request from inside
    /// it.  Requests still in flight then finish on their own; their
    /// completions carry the engine's old epoch and are dropped, and the
    /// reset cleared bus mastering, so the function issues no new DMA.
    pub fn reset_may_drain(&self) -> bool {
        !self.in_flr_write.get()
    }

    /// The drive; realize fails without one.
    pub fn backend(&self) -> &BlockBackend {
        self.drive.backend().expect("realized device has a drive")
    }

    /// A storage request finished: hand it to the engine at the end of the
    /// block layer's current batch of completions (one engine call, one
    /// interrupt for the batch; at once when there is no batch), or, if
    /// the engine is running (completion from inside a drain, or in the
    /// IOThread while a BQL holder has the engine), right after.
    pub fn storage_completed(&self, token: IoToken, result: IoResult, data: Vec<u8>) {
        lock(&self.inbox).push_back(Work::Completion(token, result, data));
        // SAFETY: the device drains its requests before it goes away (see
        // `BlockJob::dev`), and the batch ends before the drain does.
        unsafe {
            if bql::is_locked() {
                defer_call(Self::take_completions, self);
            } else {
                defer_call(Self::run_in_iothread, self);
            }
        }
    }

    /// Hand the storage completions that arrived to the engine.
    fn take_completions(&self) {
        if !self.in_engine.get() && !lock(&self.inbox).is_empty() {
            self.enter_engine(|_, _| {});
        }
    }

    /// Whether the I/O SQ doorbells are wanted as ioeventfds.
    fn sq_notifiers_wanted(&self) -> bool {
        self.ioeventfd || self.io_ctx.get().is_some()
    }

    /// Whether realize created the controller (and exit did not drop it).
    /// Inside an engine call (a bottom half run by a drain's event loop)
    /// the engine is held, and exists.
    fn realized(&self) -> bool {
        self.in_engine.get() || self.lock_engine().is_some()
    }

    /// The engine, for a BQL holder: waits while the IOThread has it (the
    /// IOThread never waits for the BQL).  Never called with the engine
    /// held by the same thread (`in_engine`).
    fn lock_engine(&self) -> MutexGuard<'_, Option<Controller>> {
        lock(&self.engine)
    }

    /// Run `f` on the engine now or, when the engine is already running
    /// (a re-entrant call), as soon as the running call returns.
    fn run_engine(&self, f: impl FnOnce(&mut Controller, &mut Host) + 'static) {
        if self.in_engine.get() {
            self.deferred.borrow_mut().push_back(Box::new(f));
            return;
        }
        self.enter_engine(f);
    }

    /// Run `f` on the engine now for its result; `None` when the engine is
    /// already running (a re-entrant call cannot wait for it).
    fn run_engine_now<R>(&self, f: impl FnOnce(&mut Controller, &mut Host) -> R) -> Option<R> {
        if self.in_engine.get() {
            return None;
        }
        let mut result = None;
        self.enter_engine(|engine, host| result = Some(f(engine, host)));
        result
    }

    /// Hand the queued work to the engine.
    fn take_inbox(&self, engine: &mut Controller, host: &mut Host) {
        loop {
            let work = lock(&self.inbox).pop_front();
            match work {
                Some(Work::Completion(token, result, data)) => {
                    engine.complete_io_data(token, result, &data, host);
                }
                Some(Work::Doorbell(qid)) => engine.sq_doorbell_notified(qid, host),
                None => break,
            }
        }
    }

    /// Run `f` on the engine with the BQL held, with this device as its
    /// host, then the work and calls that arrived meanwhile, and apply what
    /// the engine asks of the device (timer, write cache, ioeventfds,
    /// state store, interrupts).
    fn enter_engine(&self, f: impl FnOnce(&mut Controller, &mut Host)) {
        self.enter_engine_once(f);
        // Work the IOThread queued while this thread had the engine: it
        // found the engine taken and left the work to its holder.
        while self.io_ctx.get().is_some() && !lock(&self.inbox).is_empty() {
            self.enter_engine_once(|_, _| {});
        }
    }

    fn enter_engine_once(&self, f: impl FnOnce(&mut Controller, &mut Host)) {
        self.in_engine.set(true);
        let mut in_flight = false;
        {
            let mut guard = self.lock_engine();
            if let Some(engine) = guard.as_mut() {
                with_host(self, Thread::Bql, |host| {
                    f(engine, host);
                    loop {
                        self.take_inbox(engine, host);
                        let call = self.deferred.borrow_mut().pop_front();
                        let Some(call) = call else { break };
                        call(engine, host);
                    }
                });
                self.apply_requested_intx();
                in_flight = engine.commands_in_flight();
                self.apply_write_cache(engine.volatile_write_cache());
                if engine.take_persist_request() {
                    if let Some(bh) = self.state_bh.borrow().as_ref() {
                        bh.schedule();
                    }
                }
                // Re-arm only on a change: the deadline (the health tick,
                // at least) rarely moves, and timer_mod costs a lock and a
                // list walk on every doorbell.
                let deadline = engine.timer_deadline();
                let armed = deadline.map_or(NONE, |d| d.min(NONE - 1));
                if self.timer_armed.swap(armed, Ordering::Relaxed) != armed {
                    match deadline {
                        Some(deadline) => self.timer.modify(deadline),
                        None => self.timer.delete(),
                    }
                }
                if engine.work_pending() {
                    if let Some(bh) = self.bh.borrow().as_ref() {
                        bh.schedule();
                    }
                }
                if self.sq_notifiers_wanted() {
                    let generation = u64::from(engine.sq_notifier_generation());
                    if self.sq_notifier_gen.swap(generation, Ordering::Relaxed) != generation {
                        self.sync_sq_notifiers(engine);
                    }
                }
            }
        }
        self.in_engine.set(false);
        // Outside the engine: an MSI-X message written into the device's
        // own registers enters it again, as any other access does.
        self.flush_vectors(in_flight);
    }

    /// Run the queued work in the IOThread, unless a BQL holder has the
    /// engine (it takes the work when it unlocks).  What only a BQL holder
    /// may do goes to `iothread_bh`.
    fn run_in_iothread(&self) {
        loop {
            let mut guard = match self.engine.try_lock() {
                Ok(guard) => guard,
                Err(TryLockError::WouldBlock) => return,
                Err(TryLockError::Poisoned(e)) => e.into_inner(),
            };
            let Some(engine) = guard.as_mut() else {
                drop(guard);
                // Not realized any more: the work is void.
                lock(&self.inbox).clear();
                return;
            };
            with_host(self, Thread::IoThread, |host| self.take_inbox(engine, host));
            let followup = self.needs_followup(engine);
            drop(guard);
            if followup {
                if let Some(bh) = self.iothread_bh.get() {
                    bh.schedule();
                }
            }
            // Work queued while this thread had the engine.
            if lock(&self.inbox).is_empty() {
                return;
            }
        }
    }

    /// After an IOThread engine call: whether the main loop has to follow
    /// up (see [`Self::iothread_followup`]).
    fn needs_followup(&self, engine: &Controller) -> bool {
        let armed = engine.timer_deadline().map_or(NONE, |d| d.min(NONE - 1));
        !lock(&self.pending_vectors).is_empty()
            || self.intx_request.load(Ordering::Relaxed) != INTX_KEEP
            || self.timer_armed.load(Ordering::Relaxed) != armed
            || self.write_cache.load(Ordering::Relaxed) != engine.volatile_write_cache()
            || engine.persist_requested()
            || engine.work_pending()
            || self.sq_notifier_gen.load(Ordering::Relaxed)
                != u64::from(engine.sq_notifier_generation())
    }

    /// The INTx level an IOThread engine call set: applied by
    /// [`Self::iothread_followup`].
    pub fn request_intx(&self, level: bool) {
        let request = if level { INTX_HIGH } else { INTX_LOW };
        self.intx_request.store(request, Ordering::Relaxed);
    }

    /// Set the INTx level from a BQL engine call: newer than any level an
    /// IOThread engine call asked for (the engine's mutex orders them).
    pub fn apply_intx(&self, level: bool) {
        self.intx_request.store(INTX_KEEP, Ordering::Relaxed);
        trace::trace_ocp_nvme_irq_intx(level);
        self.set_irq(level);
    }

    /// Set the INTx level an IOThread engine call asked for, from a BQL
    /// engine call (so that no newer level is set meanwhile).
    fn apply_requested_intx(&self) {
        match self.intx_request.swap(INTX_KEEP, Ordering::Relaxed) {
            INTX_HIGH => self.apply_intx(true),
            INTX_LOW => self.apply_intx(false),
            _ => {}
        }
    }

    /// The main loop's part of the IOThread's engine calls: the INTx level
    /// and the MSI-X vectors they raised, and what an engine call applies
    /// with the BQL (timer, write cache, ioeventfds, state store).
    fn iothread_followup(&self) {
        if !self.realized() {
            // Unplugged meanwhile: the interrupts are void.
            lock(&self.pending_vectors).clear();
            return;
        }
        self.run_engine(|_, _| {});
        if !self.in_engine.get() {
            self.send_vectors();
        }
    }
}

/// Lock `m`; a panic while it was held aborted QEMU, so poisoning is
/// never seen in practice and carries no meaning here.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// First doorbell register in BAR0 (CAP.DSTRD is 0: 4-byte stride).
const DOORBELL_BASE: u64 = 0x1000;

/// Offset of SQ `qid`'s tail doorbell in BAR0.
fn sq_doorbell_offset(qid: u16) -> hwaddr {
    DOORBELL_BASE + u64::from(qid) * 8
}

fn trace_doorbell_or_register(addr: hwaddr, value: u64, size: u32) {
    if (DOORBELL_BASE..REGS_SIZE).contains(&addr) {
        let index = (addr - DOORBELL_BASE) / 4;
        let queue = if index % 2 == 0 {
            c"SQ tail"
        } else {
            c"CQ head"
        };
        trace::trace_ocp_nvme_doorbell(queue, (index / 2) as u16, value as u32);
    } else {
        trace::trace_ocp_nvme_mmio_write(addr, size, value);
    }
}
