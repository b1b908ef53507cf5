// SPDX-License-Identifier: GPL-2.0-or-later
//! NVMe controller engine of the `ocp-nvme` QEMU device.
//!
//! Pure Rust: no QEMU types, no `unsafe`. The device crate feeds it MMIO
//! accesses and storage completions and implements its host traits.
#![forbid(unsafe_code)]

pub mod ocp;
