// SPDX-License-Identifier: GPL-2.0-or-later
//! Feed arbitrary SQEs (admin and I/O) to a controller brought up by the
//! test driver; guest memory is seeded from the input too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ocp_nvme_engine::spec::cmd::{Sqe, SQE_SIZE};
use ocp_nvme_engine::testing::Driver;

fuzz_target!(|data: &[u8]| {
    let mut d = Driver::new(Driver::small_config());
    d.bring_up(1);
    d.auto_complete = true;
    let (mem, cmds) = data.split_at(data.len().min(4096));
    let scratch = d.alloc(0x10000);
    d.write_mem(scratch, mem);
    for (i, chunk) in cmds.chunks_exact(SQE_SIZE + 1).take(64).enumerate() {
        let q = (chunk[0] & 1) as u16;
        let mut raw = [0u8; SQE_SIZE];
        raw.copy_from_slice(&chunk[1..]);
        let mut sqe = Sqe::from_bytes(&raw);
        sqe.dw[0] = (sqe.dw[0] & 0xffff) | (i as u32) << 16;
        d.submit_raw(q, sqe);
        let _ = d.reap(0);
        let _ = d.reap(1);
    }
});
