// SPDX-License-Identifier: GPL-2.0-or-later
//! Data pointer resolution: PRP (NVMe 2.0 Base, 4.1.1) and SGL (4.1.2) into a
//! scatter list of guest ranges, so the device can DMA without copying.
//!
//! The caller bounds the transfer length (MDTS) before calling; the walkers
//! bound the number of PRP list entries and SGL descriptors they read.

use crate::spec::cmd::{Psdt, Sqe};
use crate::spec::sgl::{kind, SglDesc, SGL_DESC_SIZE};
use crate::spec::status::Status;
use crate::traits::{GuestMemory, GuestRange};

/// Memory page size (CAP.MPSMIN = CAP.MPSMAX = 0: 4 KiB).
pub const PAGE_SIZE: u64 = 4096;

/// Most SGL descriptors walked for one command.
pub const MAX_SGL_DESCRIPTORS: usize = 256;

/// One piece of a transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seg {
    /// Guest memory.
    Data(GuestRange),
    /// SGL Bit Bucket: bytes the controller discards (reads only).
    Skip(u64),
}

/// A resolved data transfer: the guest ranges in transfer order, and
/// where bit buckets sit between them. Most transfers (PRPs, SGLs without
/// bit buckets) have none, and their range list becomes the storage
/// request's scatter list as it is ([`Transfer::into_runs_map`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Transfer {
    ranges: Vec<GuestRange>,
    /// Bit buckets, in order: (number of ranges before it, bytes).
    skips: Vec<(usize, u64)>,
}

impl Transfer {
    fn push_range(&mut self, addr: u64, len: u64) {
        if len == 0 {
            return;
        }
        let after_skip = self
            .skips
            .last()
            .is_some_and(|&(at, _)| at == self.ranges.len());
        if let (Some(last), false) = (self.ranges.last_mut(), after_skip) {
            if last.addr.checked_add(last.len) == Some(addr) {
                last.len += len;
                return;
            }
        }
        self.ranges.push(GuestRange { addr, len });
    }

    fn push_skip(&mut self, len: u64) {
        if len == 0 {
            return;
        }
        match self.skips.last_mut() {
            Some((at, l)) if *at == self.ranges.len() => *l += len,
            _ => self.skips.push((self.ranges.len(), len)),
        }
    }

    /// The pieces in transfer order.
    pub fn segs(&self) -> impl Iterator<Item = Seg> + '_ {
        let mut skips = self.skips.iter().peekable();
        let mut next = 0usize;
        std::iter::from_fn(move || {
            if let Some(&(_, l)) = skips.next_if(|&&(at, _)| at == next) {
                return Some(Seg::Skip(l));
            }
            let r = *self.ranges.get(next)?;
            next += 1;
            Some(Seg::Data(r))
        })
    }
}

/// Resolve the data pointer of `sqe` for a transfer of `len` bytes.
/// `allow_sgl` is false for admin commands (PCIe admin commands use PRPs);
/// `bit_bucket_ok` is true for controller-to-host transfers only.
pub fn resolve(
    mem: &mut dyn GuestMemory,
    sqe: &Sqe,
    len: u64,
    allow_sgl: bool,
    bit_bucket_ok: bool,
) -> Result<Transfer, Status> {
    let t = match sqe.psdt() {
        Psdt::Prp => resolve_prp(mem, sqe.prp1(), sqe.prp2(), len)?,
        Psdt::Sgl { .. } if allow_sgl => resolve_sgl(mem, &sqe.sgl1(), len, bit_bucket_ok)?,
        _ => return Err(Status::INVALID_FIELD),
    };
    for range in &t.ranges {
        mem.check_range(*range)
            .map_err(|_| Status::DATA_TRANSFER_ERROR)?;
    }
    Ok(t)
}

/// Walk PRP1/PRP2 and PRP lists (NVMe 2.0 Base, 4.1.1).
pub fn resolve_prp(
    mem: &mut dyn GuestMemory,
    prp1: u64,
    prp2: u64,
    len: u64,
) -> Result<Transfer, Status> {
    if len == 0 {
        return Ok(Transfer::default());
    }
    // PRP1 and PRP2 make at most two ranges; a list more (merged when the
    // pages are contiguous): room for two, grown past that.
    let mut t = Transfer {
        ranges: Vec::with_capacity(2),
        skips: Vec::new(),
    };
    // PRP1 may carry a dword-aligned offset.
    if prp1 & 0x3 != 0 {
        return Err(Status::INVALID_PRP_OFFSET);
    }
    let first = len.min(PAGE_SIZE - (prp1 % PAGE_SIZE));
    t.push_range(prp1, first);
    let mut remaining = len - first;
    if remaining == 0 {
        return Ok(t);
    }
    if remaining <= PAGE_SIZE {
        // PRP2 is a page address.
        if prp2 % PAGE_SIZE != 0 {
            return Err(Status::INVALID_PRP_OFFSET);
        }
        t.push_range(prp2, remaining);
        return Ok(t);
    }
    // PRP2 is a PRP list pointer: qword aligned, any offset in the page.
    if prp2 & 0x7 != 0 {
        return Err(Status::INVALID_PRP_OFFSET);
    }
    let mut list = prp2;
    let mut page = [0u8; PAGE_SIZE as usize];
    // Each iteration consumes at least one data page: bounded by len / PAGE_SIZE.
    while remaining > 0 {
        let slots = ((PAGE_SIZE - list % PAGE_SIZE) / 8) as usize;
        let pages_needed = remaining.div_ceil(PAGE_SIZE);
        let (n, chained) = if pages_needed <= slots as u64 {
            (pages_needed as usize, false)
        } else {
            (slots, true)
        };
        let buf = &mut page[..n * 8];
        mem.read(list, buf)
            .map_err(|_| Status::DATA_TRANSFER_ERROR)?;
        let data_entries = if chained { n - 1 } else { n };
        for i in 0..data_entries {
            let e = crate::wire::rd_u64(buf, i * 8);
            if e % PAGE_SIZE != 0 {
                return Err(Status::INVALID_PRP_OFFSET);
            }
            let l = remaining.min(PAGE_SIZE);
            t.push_range(e, l);
            remaining -= l;
        }
        if chained {
            let next = crate::wire::rd_u64(buf, (n - 1) * 8);
            if next % PAGE_SIZE != 0 {
                return Err(Status::INVALID_PRP_OFFSET);
            }
            list = next;
        }
    }
    Ok(t)
}

/// Walk an SGL (NVMe 2.0 Base, 4.1.2) starting at SGL1 of the SQE.
pub fn resolve_sgl(
    mem: &mut dyn GuestMemory,
    sgl1: &[u8; SGL_DESC_SIZE],
    len: u64,
    bit_bucket_ok: bool,
) -> Result<Transfer, Status> {
    let mut t = Transfer::default();
    let mut total: u64 = 0;
    let mut count = 1usize;
    let first = SglDesc::parse(sgl1);

    let data = |d: &SglDesc, out: &mut Transfer, sum: &mut u64| -> Result<(), Status> {
        if d.subtype != 0 {
            return Err(Status::SGL_DESCRIPTOR_TYPE_INVALID);
        }
        let l = u64::from(d.len);
        *sum += l;
        if *sum > len {
            return Err(Status::DATA_SGL_LENGTH_INVALID);
        }
        match d.kind {
            kind::DATA_BLOCK => out.push_range(d.addr, l),
            kind::BIT_BUCKET if bit_bucket_ok => out.push_skip(l),
            _ => return Err(Status::SGL_DESCRIPTOR_TYPE_INVALID),
        }
        Ok(())
    };

    match first.kind {
        kind::DATA_BLOCK | kind::BIT_BUCKET => data(&first, &mut t, &mut total)?,
        kind::SEGMENT | kind::LAST_SEGMENT => {
            let mut seg = first;
            let mut raw = vec![0u8; MAX_SGL_DESCRIPTORS * SGL_DESC_SIZE];
            loop {
                if seg.subtype != 0 {
                    return Err(Status::SGL_DESCRIPTOR_TYPE_INVALID);
                }
                if seg.len == 0 || seg.len as usize % SGL_DESC_SIZE != 0 {
                    return Err(Status::INVALID_SGL_SEGMENT_DESCRIPTOR);
                }
                let n = seg.len as usize / SGL_DESC_SIZE;
                count = count.saturating_add(n);
                if count > MAX_SGL_DESCRIPTORS {
                    return Err(Status::INVALID_NUM_SGL_DESCRIPTORS);
                }
                let buf = &mut raw[..n * SGL_DESC_SIZE];
                mem.read(seg.addr, buf)
                    .map_err(|_| Status::DATA_TRANSFER_ERROR)?;
                let mut next = None;
                for i in 0..n {
                    let mut one = [0u8; SGL_DESC_SIZE];
                    one.copy_from_slice(&buf[i * SGL_DESC_SIZE..(i + 1) * SGL_DESC_SIZE]);
                    let d = SglDesc::parse(&one);
                    match d.kind {
                        kind::SEGMENT | kind::LAST_SEGMENT => {
                            if seg.kind == kind::LAST_SEGMENT || i != n - 1 {
                                return Err(Status::INVALID_SGL_SEGMENT_DESCRIPTOR);
                            }
                            next = Some(d);
                        }
                        _ => data(&d, &mut t, &mut total)?,
                    }
                }
                if seg.kind == kind::LAST_SEGMENT {
                    break;
                }
                match next {
                    Some(d) => seg = d,
                    None => return Err(Status::INVALID_SGL_SEGMENT_DESCRIPTOR),
                }
            }
        }
        _ => return Err(Status::SGL_DESCRIPTOR_TYPE_INVALID),
    }
    if total != len {
        return Err(Status::DATA_SGL_LENGTH_INVALID);
    }
    Ok(t)
}

impl Transfer {
    /// Total length including skipped bytes.
    pub fn len(&self) -> u64 {
        self.ranges.iter().map(|r| r.len).sum::<u64>()
            + self.skips.iter().map(|&(_, l)| l).sum::<u64>()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The range list of a transfer without bit buckets (one run at byte
    /// 0); the transfer back otherwise.
    pub fn one_run(self) -> Result<Vec<GuestRange>, Transfer> {
        if self.skips.is_empty() && !self.ranges.is_empty() {
            Ok(self.ranges)
        } else {
            Err(self)
        }
    }

    /// The runs of guest ranges separated by bit buckets, each turned into
    /// what `f` makes of its byte offset inside the transfer and its
    /// ranges.
    pub fn into_runs_map<T>(self, mut f: impl FnMut(u64, Vec<GuestRange>) -> T) -> Vec<T> {
        if self.skips.is_empty() {
            // No bit bucket (PRPs, most SGLs): one run, the range list as
            // it is.
            if self.ranges.is_empty() {
                return Vec::new();
            }
            return vec![f(0, self.ranges)];
        }
        let mut out = Vec::new();
        let mut pos = 0u64;
        let mut cur: Option<(u64, Vec<GuestRange>)> = None;
        for s in self.segs() {
            match s {
                Seg::Data(r) => {
                    cur.get_or_insert_with(|| (pos, Vec::new())).1.push(r);
                    pos += r.len;
                }
                Seg::Skip(l) => {
                    if let Some((p, sg)) = cur.take() {
                        out.push(f(p, sg));
                    }
                    pos += l;
                }
            }
        }
        if let Some((p, sg)) = cur.take() {
            out.push(f(p, sg));
        }
        out
    }

    /// Copy `data` to the guest (controller to host), skipping bit buckets.
    pub fn write_to_guest(&self, mem: &mut dyn GuestMemory, data: &[u8]) -> Result<(), Status> {
        let mut pos = 0usize;
        for s in self.segs() {
            match s {
                Seg::Data(r) => {
                    let end = pos.saturating_add(r.len as usize).min(data.len());
                    if pos < end {
                        mem.write(r.addr, &data[pos..end])
                            .map_err(|_| Status::DATA_TRANSFER_ERROR)?;
                    }
                    pos = end;
                }
                Seg::Skip(l) => pos = pos.saturating_add(l as usize).min(data.len()),
            }
        }
        Ok(())
    }

    /// Copy guest data into `buf` (host to controller).
    pub fn read_from_guest(&self, mem: &mut dyn GuestMemory, buf: &mut [u8]) -> Result<(), Status> {
        let mut pos = 0usize;
        for s in self.segs() {
            match s {
                Seg::Data(r) => {
                    let end = pos.saturating_add(r.len as usize).min(buf.len());
                    if pos < end {
                        mem.read(r.addr, &mut buf[pos..end])
                            .map_err(|_| Status::DATA_TRANSFER_ERROR)?;
                    }
                    pos = end;
                }
                Seg::Skip(l) => pos = pos.saturating_add(l as usize).min(buf.len()),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::shadow_unrelated)]
mod tests {
    use super::*;
    use crate::spec::sgl::SglDesc;
    use crate::testing::TestMemory;

    fn mem() -> TestMemory {
        TestMemory::new(1 << 32)
    }
    fn r(addr: u64, len: u64) -> Seg {
        Seg::Data(GuestRange { addr, len })
    }
    fn put_list(m: &mut TestMemory, at: u64, entries: &[u64]) {
        let mut v = Vec::new();
        for e in entries {
            v.extend_from_slice(&e.to_le_bytes());
        }
        m.write(at, &v).unwrap();
    }

    #[test]
    fn prp_single_and_offset() {
        let mut m = mem();
        assert_eq!(
            resolve_prp(&mut m, 0x1000, 0, 0)
                .unwrap()
                .segs()
                .collect::<Vec<_>>(),
            vec![]
        );
        assert_eq!(
            resolve_prp(&mut m, 0x1000, 0xdead, 4096)
                .unwrap()
                .segs()
                .collect::<Vec<_>>(),
            vec![r(0x1000, 4096)]
        );
        assert_eq!(
            resolve_prp(&mut m, 0x1200, 0, 512)
                .unwrap()
                .segs()
                .collect::<Vec<_>>(),
            vec![r(0x1200, 512)]
        );
        assert_eq!(
            resolve_prp(&mut m, 0x1002, 0, 512),
            Err(Status::INVALID_PRP_OFFSET)
        );
    }

    #[test]
    fn prp_two_pages() {
        let mut m = mem();
        // Offset PRP1 spilling into PRP2.
        assert_eq!(
            resolve_prp(&mut m, 0x1800, 0x9000, 4096)
                .unwrap()
                .segs()
                .collect::<Vec<_>>(),
            vec![r(0x1800, 2048), r(0x9000, 2048)]
        );
        // Contiguous pages merge.
        assert_eq!(
            resolve_prp(&mut m, 0x1000, 0x2000, 8192)
                .unwrap()
                .segs()
                .collect::<Vec<_>>(),
            vec![r(0x1000, 8192)]
        );
        assert_eq!(
            resolve_prp(&mut m, 0x1000, 0x2010, 8192),
            Err(Status::INVALID_PRP_OFFSET)
        );
    }

    #[test]
    fn prp_list_and_chain() {
        let mut m = mem();
        put_list(&mut m, 0x5000, &[0x20000, 0x40000, 0x60000]);
        let t = resolve_prp(&mut m, 0x10000, 0x5000, 4 * 4096).unwrap();
        assert_eq!(
            t.segs().collect::<Vec<_>>(),
            vec![
                r(0x10000, 4096),
                r(0x20000, 4096),
                r(0x40000, 4096),
                r(0x60000, 4096)
            ]
        );
        // A list starting at the last qword of its page chains immediately.
        put_list(&mut m, 0x7ff8, &[0x8000]);
        put_list(&mut m, 0x8000, &[0xa000, 0xc000]);
        let t = resolve_prp(&mut m, 0x10000, 0x7ff8, 3 * 4096).unwrap();
        assert_eq!(
            t.segs().collect::<Vec<_>>(),
            vec![r(0x10000, 4096), r(0xa000, 4096), r(0xc000, 4096)]
        );
        // Chain across a full list page: 511 data entries + pointer.
        let mut e: Vec<u64> = (0..511).map(|i| 0x100_0000 + i * 0x2000).collect();
        e.push(0x30000);
        put_list(&mut m, 0x20_0000, &e);
        put_list(&mut m, 0x30000, &[0x900_0000, 0xa00_0000]);
        let t = resolve_prp(&mut m, 0x1000, 0x20_0000, 514 * 4096).unwrap();
        let segs: Vec<Seg> = t.segs().collect();
        assert_eq!(segs.len(), 514);
        assert_eq!(segs[512], r(0x900_0000, 4096));
        assert_eq!(segs[513], r(0xa00_0000, 4096));
        assert_eq!(t.len(), 514 * 4096);
        // Exactly filling the list page: the last entry is data, not a pointer.
        let t = resolve_prp(&mut m, 0x1000, 0x20_0000, 513 * 4096).unwrap();
        assert_eq!(t.segs().nth(512), Some(r(0x30000, 4096)));
    }

    #[test]
    fn prp_list_errors() {
        let mut m = mem();
        put_list(&mut m, 0x5000, &[0x20000, 0x40010]);
        assert_eq!(
            resolve_prp(&mut m, 0x10000, 0x5000, 3 * 4096),
            Err(Status::INVALID_PRP_OFFSET)
        );
        assert_eq!(
            resolve_prp(&mut m, 0x10000, 0x5004, 3 * 4096),
            Err(Status::INVALID_PRP_OFFSET)
        );
        // Chained pointer with an offset.
        put_list(&mut m, 0x7ff8, &[0x8008]);
        assert_eq!(
            resolve_prp(&mut m, 0x10000, 0x7ff8, 3 * 4096),
            Err(Status::INVALID_PRP_OFFSET)
        );
        // The list itself cannot be read.
        m.faults.push((0x5000, 8));
        assert_eq!(
            resolve_prp(&mut m, 0x10000, 0x5000, 3 * 4096),
            Err(Status::DATA_TRANSFER_ERROR)
        );
    }

    fn d(kind: u8, addr: u64, len: u32) -> SglDesc {
        SglDesc {
            addr,
            len,
            kind,
            subtype: 0,
        }
    }
    fn put_descs(m: &mut TestMemory, at: u64, ds: &[SglDesc]) {
        let mut v = Vec::new();
        for x in ds {
            v.extend_from_slice(&x.to_bytes());
        }
        m.write(at, &v).unwrap();
    }

    #[test]
    fn sgl_data_block_in_sqe() {
        let mut m = mem();
        let t = resolve_sgl(
            &mut m,
            &d(kind::DATA_BLOCK, 0x1234, 512).to_bytes(),
            512,
            false,
        )
        .unwrap();
        assert_eq!(t.segs().collect::<Vec<_>>(), vec![r(0x1234, 512)]);
        assert_eq!(
            resolve_sgl(
                &mut m,
                &d(kind::DATA_BLOCK, 0x1234, 511).to_bytes(),
                512,
                false
            ),
            Err(Status::DATA_SGL_LENGTH_INVALID)
        );
        assert_eq!(
            resolve_sgl(
                &mut m,
                &d(kind::DATA_BLOCK, 0x1234, 513).to_bytes(),
                512,
                false
            ),
            Err(Status::DATA_SGL_LENGTH_INVALID)
        );
        let mut sub = d(kind::DATA_BLOCK, 0x1234, 512);
        sub.subtype = 1;
        assert_eq!(
            resolve_sgl(&mut m, &sub.to_bytes(), 512, false),
            Err(Status::SGL_DESCRIPTOR_TYPE_INVALID)
        );
        for k in [4u8, 5, 0xe, 0xf] {
            assert_eq!(
                resolve_sgl(&mut m, &d(k, 0x1000, 512).to_bytes(), 512, false),
                Err(Status::SGL_DESCRIPTOR_TYPE_INVALID)
            );
        }
    }

    #[test]
    fn sgl_segments_and_bit_bucket() {
        let mut m = mem();
        put_descs(
            &mut m,
            0x8000,
            &[
                d(kind::DATA_BLOCK, 0x10000, 1024),
                d(kind::BIT_BUCKET, 0, 512),
                d(kind::LAST_SEGMENT, 0x9000, 32),
            ],
        );
        put_descs(
            &mut m,
            0x9000,
            &[
                d(kind::DATA_BLOCK, 0x20000, 256),
                d(kind::DATA_BLOCK, 0x20100, 256),
            ],
        );
        let first = d(kind::SEGMENT, 0x8000, 48).to_bytes();
        let t = resolve_sgl(&mut m, &first, 2048, true).unwrap();
        assert_eq!(
            t.segs().collect::<Vec<_>>(),
            vec![r(0x10000, 1024), Seg::Skip(512), r(0x20000, 512)]
        );
        let runs = t.into_runs_map(|pos, sg| (pos, sg));
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0].0, 0);
        assert_eq!(
            runs[1],
            (
                1536,
                vec![GuestRange {
                    addr: 0x20000,
                    len: 512
                }]
            )
        );
        // Bit bucket not allowed for host-to-controller transfers.
        assert_eq!(
            resolve_sgl(&mut m, &first, 2048, false),
            Err(Status::SGL_DESCRIPTOR_TYPE_INVALID)
        );
        // Last segment directly in the SQE.
        let t = resolve_sgl(
            &mut m,
            &d(kind::LAST_SEGMENT, 0x9000, 32).to_bytes(),
            512,
            false,
        )
        .unwrap();
        assert_eq!(t.segs().collect::<Vec<_>>(), vec![r(0x20000, 512)]);
    }

    #[test]
    fn sgl_segment_errors() {
        let mut m = mem();
        for len in [0u32, 8, 24] {
            assert_eq!(
                resolve_sgl(
                    &mut m,
                    &d(kind::SEGMENT, 0x8000, len).to_bytes(),
                    512,
                    false
                ),
                Err(Status::INVALID_SGL_SEGMENT_DESCRIPTOR)
            );
        }
        // Segment descriptor not last in its segment.
        put_descs(
            &mut m,
            0x8000,
            &[
                d(kind::SEGMENT, 0x9000, 16),
                d(kind::DATA_BLOCK, 0x1000, 512),
            ],
        );
        assert_eq!(
            resolve_sgl(&mut m, &d(kind::SEGMENT, 0x8000, 32).to_bytes(), 512, false),
            Err(Status::INVALID_SGL_SEGMENT_DESCRIPTOR)
        );
        // Segment inside a last segment.
        put_descs(
            &mut m,
            0xa000,
            &[
                d(kind::DATA_BLOCK, 0x1000, 256),
                d(kind::SEGMENT, 0x9000, 16),
            ],
        );
        assert_eq!(
            resolve_sgl(
                &mut m,
                &d(kind::LAST_SEGMENT, 0xa000, 32).to_bytes(),
                512,
                false
            ),
            Err(Status::INVALID_SGL_SEGMENT_DESCRIPTOR)
        );
        // Segment without a following segment descriptor.
        put_descs(&mut m, 0xb000, &[d(kind::DATA_BLOCK, 0x1000, 256)]);
        assert_eq!(
            resolve_sgl(&mut m, &d(kind::SEGMENT, 0xb000, 16).to_bytes(), 512, false),
            Err(Status::INVALID_SGL_SEGMENT_DESCRIPTOR)
        );
        // Too short in total.
        assert_eq!(
            resolve_sgl(
                &mut m,
                &d(kind::LAST_SEGMENT, 0xb000, 16).to_bytes(),
                512,
                false
            ),
            Err(Status::DATA_SGL_LENGTH_INVALID)
        );
        // A self-referencing segment chain is bounded.
        put_descs(
            &mut m,
            0xc000,
            &[d(kind::DATA_BLOCK, 0x1000, 0), d(kind::SEGMENT, 0xc000, 32)],
        );
        assert_eq!(
            resolve_sgl(&mut m, &d(kind::SEGMENT, 0xc000, 32).to_bytes(), 512, false),
            Err(Status::INVALID_NUM_SGL_DESCRIPTORS)
        );
        // Unreadable segment.
        m.faults.push((0xd000, 16));
        assert_eq!(
            resolve_sgl(
                &mut m,
                &d(kind::LAST_SEGMENT, 0xd000, 16).to_bytes(),
                512,
                false
            ),
            Err(Status::DATA_TRANSFER_ERROR)
        );
    }

    #[test]
    fn copy_helpers_skip_bit_buckets() {
        let mut m = mem();
        // A range after a bit bucket stays apart even when contiguous.
        let mut t = Transfer::default();
        t.push_range(0x1000, 2);
        t.push_skip(1);
        t.push_skip(1);
        t.push_range(0x1002, 2);
        assert_eq!(
            t.segs().collect::<Vec<_>>(),
            vec![r(0x1000, 2), Seg::Skip(2), r(0x1002, 2)]
        );
        let mut t = Transfer::default();
        t.push_range(0x1000, 2);
        t.push_skip(2);
        t.push_range(0x2000, 2);
        t.write_to_guest(&mut m, &[1, 2, 3, 4, 5, 6]).unwrap();
        let mut b = [0u8; 2];
        m.read(0x2000, &mut b).unwrap();
        assert_eq!(b, [5, 6]);
        let mut out = [0u8; 6];
        t.read_from_guest(&mut m, &mut out).unwrap();
        assert_eq!(out, [1, 2, 0, 0, 5, 6]);
        m.faults.push((0x2000, 1));
        assert_eq!(
            t.write_to_guest(&mut m, &[0; 6]),
            Err(Status::DATA_TRANSFER_ERROR)
        );
    }
}
