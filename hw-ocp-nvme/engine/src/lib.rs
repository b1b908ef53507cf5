// SPDX-License-Identifier: GPL-2.0-or-later
//! NVMe controller engine of the `ocp-nvme` QEMU device.
//!
//! Pure Rust: no QEMU types, no `unsafe`. The device crate feeds it MMIO
//! accesses and storage completions and implements its host traits
//! ([`traits`]). The engine advertises NVMe 2.0 with the NVM command set
//! and up to 32 namespaces; see `docs/engine-support.md` for the support table.
//!
//! How a command travels: a doorbell write reaches
//! [`Controller::mmio_write`]; [`Controller::process_pending`] fetches SQEs
//! round robin; [`spec`] parses them into typed commands; [`transfer`]
//! resolves PRPs/SGLs into guest ranges; the controller's admin and NVM
//! handlers execute them, the latter through [`traits::Storage`] requests whose completions
//! come back via [`Controller::complete_io`]; the controller then posts the
//! CQE, raises the interrupt and updates [`counters::Counters`].
//!
//! Modules: [`spec`] (wire formats, the one place fields are extracted),
//! [`controller`] (registers, state machine, fetch, completion, interrupts,
//! timers, and the command handlers: one module per admin command family,
//! the I/O commands and the port to the OCP module), [`queues`] (SQ/CQ
//! rings), [`transfer`] (PRP/SGL), [`namespace`] (the namespace table),
//! [`lba_ranges`] (block sets: NUSE, uncorrectable blocks), [`config`], [`counters`]
//! (what the engine measures), [`traits`] (host boundary), [`ocp`] (OCP log pages and
//! features), [`wire`] (the writer of every spec data structure), `testing` (in-memory host, a Linux-like test driver and the
//! stress harness; only with `cfg(test)` or the `testing` feature).
#![forbid(unsafe_code)]

pub mod config;
pub mod controller;
pub mod counters;
pub mod lba_ranges;
pub mod namespace;
pub mod ocp;
pub mod persist;
pub mod queues;
pub mod spec;
// The test host is compiled for the engine's own tests and with the
// `testing` feature (integration tests, fuzz targets); QEMU's meson build
// (`--cfg MESON`, with a check-cfg list that knows no cargo features) never
// loads the file.
#[cfg(not(MESON))]
pub mod testing;
pub mod traits;
pub mod transfer;
pub mod wire;

pub use config::ControllerConfig;
pub use controller::Controller;
pub use controller::HEALTH_PROPERTIES;
pub use counters::Counters;
pub use traits::{
    Clock, DmaError, GuestLog, GuestMemory, GuestRange, Host, Interrupts, IoError, IoKind,
    IoRequest, IoResult, IoToken, NoLog, Storage,
};
