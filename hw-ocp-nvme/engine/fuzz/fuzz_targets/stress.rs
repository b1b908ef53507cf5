// SPDX-License-Identifier: GPL-2.0-or-later
//! The stateful stress harness (`testing::stress`) with its choices read
//! from the input: configuration, then one step per few bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ocp_nvme_engine::testing::stress::{ByteChoices, Stress};

fuzz_target!(|data: &[u8]| {
    let mut choices = ByteChoices::new(data);
    let _ = Stress::new(&mut choices).run(u64::MAX);
});
