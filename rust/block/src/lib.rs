// SPDX-License-Identifier: GPL-2.0-or-later

//! Bindings for QEMU's block layer as seen by devices: `BlockBackend`
//! asynchronous I/O with scatter-gather lists of guest memory, I/O
//! accounting (`info blockstats`), the `BlockConf` of a `drive`
//! property and the qdev property types that fill it.

pub mod bindings;

mod backend;
pub use backend::*;

mod conf;
pub use conf::*;

mod iothread;
pub use iothread::*;

mod sglist;
pub use sglist::*;
