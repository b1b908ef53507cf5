// SPDX-License-Identifier: GPL-2.0-or-later
//! PRP walking over arbitrary list contents.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ocp_nvme_engine::testing::TestMemory;
use ocp_nvme_engine::transfer::resolve_prp;
use ocp_nvme_engine::GuestMemory;

fuzz_target!(|data: &[u8]| {
    if data.len() < 24 {
        return;
    }
    let prp1 = u64::from_le_bytes(data[0..8].try_into().unwrap());
    let prp2 = u64::from_le_bytes(data[8..16].try_into().unwrap());
    let len = u64::from_le_bytes(data[16..24].try_into().unwrap()) % (1 << 21);
    let mut m = TestMemory::new(1 << 40);
    let _ = m.write(prp2 & !0xfff, &data[24..data.len().min(24 + 8192)]);
    if let Ok(t) = resolve_prp(&mut m, prp1, prp2, len) {
        assert_eq!(t.len(), len);
    }
});
