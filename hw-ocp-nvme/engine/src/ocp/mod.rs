// SPDX-License-Identifier: GPL-2.0-or-later
//! OCP Datacenter NVMe SSD log pages and features.
