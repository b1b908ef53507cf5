// SPDX-License-Identifier: GPL-2.0-or-later
//! NVMe wire formats: the ONE place where register and command fields are
//! extracted from raw bits (NVMe Base Specification 2.0, NVM Command Set
//! Specification 1.0, NVMe over PCIe Transport Specification 1.0).

pub mod cmd;
pub mod cqe;
pub mod feat;
pub mod ids;
pub mod regs;
pub mod sgl;
pub mod status;
