// SPDX-License-Identifier: GPL-2.0-or-later
//! SGL walking over arbitrary descriptor segments.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ocp_nvme_engine::testing::TestMemory;
use ocp_nvme_engine::transfer::resolve_sgl;
use ocp_nvme_engine::GuestMemory;

fuzz_target!(|data: &[u8]| {
    if data.len() < 25 {
        return;
    }
    let mut first = [0u8; 16];
    first.copy_from_slice(&data[0..16]);
    let len = u64::from_le_bytes(data[16..24].try_into().unwrap()) % (1 << 21);
    let bit_bucket = data[24] & 1 != 0;
    let mut m = TestMemory::new(1 << 40);
    // Segments live where the first descriptor points.
    let at = u64::from_le_bytes(first[0..8].try_into().unwrap()) & ((1 << 40) - 1);
    let _ = m.write(at, &data[25..]);
    if let Ok(t) = resolve_sgl(&mut m, &first, len, bit_bucket) {
        assert_eq!(t.len(), len);
    }
});
