// SPDX-License-Identifier: GPL-2.0-or-later
//! `ocp-nvme`: an OCP Datacenter NVMe SSD as a QEMU PCIe device.
//!
//! This crate is glue only: it maps BAR0 onto the engine's register file and
//! implements the engine's host traits with QEMU's DMA, BlockBackend AIO,
//! MSI-X/INTx and virtual clock.  All NVMe behaviour lives in
//! `ocp_nvme_engine`.

mod device;
mod host;

pub use device::OcpNvmeState;

::trace::include_trace!("hw_nvme");

/// QOM type name, as used with `-device`.
pub const TYPE_OCP_NVME: &::std::ffi::CStr = c"ocp-nvme";
