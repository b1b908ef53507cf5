// SPDX-License-Identifier: GPL-2.0-or-later
//! NVMe controller engine of the `ocp-nvme` QEMU device.
//!
//! Pure Rust: no QEMU types, no `unsafe`. The device crate feeds it MMIO
//! accesses and storage completions and implements its host traits
//! ([`traits`]). The engine advertises NVMe 2.0 with the NVM command set
//! and one namespace; see `docs/engine-support.md` for the support table.
#![forbid(unsafe_code)]

pub mod admin;
pub mod config;
pub mod controller;
pub mod namespace;
pub mod nvm;
pub mod ocp;
pub mod queues;
pub mod spec;
pub mod telemetry;
pub mod testing;
pub mod traits;
pub mod transfer;

pub use config::ControllerConfig;
pub use controller::Controller;
pub use telemetry::Counters;
pub use traits::{
    Clock, DmaError, GuestMemory, GuestRange, Host, Interrupts, IoError, IoKind, IoRequest,
    IoResult, IoToken, Storage,
};
