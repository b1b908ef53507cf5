// SPDX-License-Identifier: GPL-2.0-or-later
//! The drive's namespaces (NVMe 2.0 Base, 3.2.1 and 8.11 Namespace
//! Management; OCP NSM-1..8, NVMe-AD-3/4) and their LBA formats (NVM
//! Command Set 1.0, 4.1.5.1).
//!
//! The drive's capacity (every whole 512-byte sector of the backend) is
//! carved into namespaces: each owns an ordered list of extents of the
//! backend, allocated in [`GRANULE`] pieces, so a namespace's logical
//! blocks map onto several backend ranges ([`Namespace::map`]). The table
//! is part of the drive's state record, so it survives power cycles and
//! migration. A new drive has one namespace of the whole capacity
//! (NSID 1), attached to the controller.

use crate::lba_ranges::LbaRanges;
use crate::spec::status::Status;

/// Supported LBA data sizes as powers of two: LBAF0 = 512, LBAF1 = 4096.
pub const LBA_FORMATS: [u8; 2] = [9, 12];

/// Most namespaces (Identify Controller NN and MNAN; OCP NSM-4 asks for
/// at least 16).
pub const MAX_NAMESPACES: u32 = 32;

/// The unit extents are counted in: the backend's sector.
pub const SECTOR: u64 = 512;

/// Namespaces are carved in pieces of this many bytes, aligned to it
/// (the Namespace Granularity List reports it; OCP NSM-6).
pub const GRANULE: u64 = 4096;

/// Most extents one namespace's capacity may be spread over.
pub const MAX_EXTENTS: usize = 16;

/// The only controller's identifier (Identify Controller CNTLID).
pub const CONTROLLER_ID: u16 = 0;

const GRANULE_SECTORS: u64 = GRANULE / SECTOR;

/// A run of backend sectors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Extent {
    pub start: u64,
    pub sectors: u64,
}

crate::persist::persist_struct!(Extent { start, sectors });

impl Extent {
    fn end(self) -> u64 {
        self.start + self.sectors
    }
}

/// One allocated namespace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Namespace {
    /// Current LBA format index (FLBAS).
    pub lbaf: u8,
    /// Size in bytes (NSZE in the format it was created with).
    pub size_bytes: u64,
    /// Namespace Multi-path I/O and Namespace Sharing Capabilities.
    pub nmic: u8,
    /// Attached to the controller (an active NSID).
    pub attached: bool,
    /// Which creation this is (0: the factory namespace): its EUI64 and
    /// NGUID derive from it, so they are never reused.
    pub uid: u64,
    /// Where its bytes are on the backend, in order.
    pub extents: Vec<Extent>,
    /// Blocks written and not deallocated (NUSE; OCP 4.4.2).
    pub allocated: LbaRanges,
    /// Blocks Write Uncorrectable marked and not rewritten since.
    pub uncorrectable: LbaRanges,
}

crate::persist::persist_struct!(Namespace {
    lbaf,
    size_bytes,
    nmic,
    attached,
    uid,
    extents,
    allocated,
    uncorrectable,
});

impl Namespace {
    /// log2 of the LBA data size.
    pub fn lbads(&self) -> u8 {
        LBA_FORMATS[usize::from(self.lbaf) % LBA_FORMATS.len()]
    }
    pub fn lba_size(&self) -> u64 {
        1u64 << self.lbads()
    }
    /// Namespace size in logical blocks (NSZE, and NCAP: no thin provisioning).
    pub fn nsze(&self) -> u64 {
        self.size_bytes >> self.lbads()
    }
    /// Namespace utilization in logical blocks (NUSE).
    pub fn nuse(&self) -> u64 {
        self.allocated.blocks()
    }
    /// Check that `nlb` blocks from `slba` lie inside the namespace.
    pub fn range_ok(&self, slba: u64, nlb: u64) -> bool {
        match slba.checked_add(nlb) {
            Some(end) => end <= self.nsze(),
            None => false,
        }
    }
    /// The backend ranges of `len` bytes at namespace byte offset `off`, as
    /// (backend offset, length), in order; the range lies inside the
    /// namespace (checked by the caller).
    pub fn map(&self, off: u64, len: u64) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        let mut pos = 0u64; // namespace byte offset of the extent
        let (mut off, mut len) = (off, len);
        for e in &self.extents {
            let bytes = e.sectors * SECTOR;
            if len == 0 {
                break;
            }
            if off < pos + bytes {
                let inner = off - pos;
                let n = len.min(bytes - inner);
                out.push((e.start * SECTOR + inner, n));
                off += n;
                len -= n;
            }
            pos += bytes;
        }
        out
    }
    /// The backend offset of `len` (non-zero) bytes at namespace byte
    /// offset `off` when they lie in one extent, the common case that needs
    /// no list; `None` otherwise (then see [`Self::map`]).
    pub fn map_contiguous(&self, off: u64, len: u64) -> Option<u64> {
        if len == 0 {
            return None;
        }
        let mut pos = 0u64; // namespace byte offset of the extent
        for e in &self.extents {
            let bytes = e.sectors * SECTOR;
            if off < pos + bytes {
                let inner = off - pos;
                return (len <= bytes - inner).then_some(e.start * SECTOR + inner);
            }
            pos += bytes;
        }
        None
    }
    /// A namespace change that erases its data: nothing allocated, nothing
    /// uncorrectable.
    pub fn erased(&mut self) {
        self.allocated.clear();
        self.uncorrectable.clear();
    }
    /// Record a write (or Write Zeroes without deallocation) of `nlb`
    /// blocks from `slba`: allocated, and readable again.
    pub fn wrote(&mut self, slba: u64, nlb: u64) {
        self.allocated.insert(slba, nlb);
        self.uncorrectable.remove(slba, nlb);
    }
    /// Record a deallocation of `nlb` blocks from `slba`.
    pub fn deallocated(&mut self, slba: u64, nlb: u64) {
        self.allocated.remove(slba, nlb);
        self.uncorrectable.remove(slba, nlb);
    }
}

/// What the host asks of a new namespace (Namespace Management create,
/// NVMe 2.0 Base, Figure 311; the host-specified Identify Namespace fields).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewNamespace {
    pub nsze: u64,
    pub ncap: u64,
    pub flbas: u8,
    pub dps: u8,
    pub nmic: u8,
}

/// The namespace table: slot `i` holds NSID `i + 1`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Namespaces {
    slots: Vec<Option<Namespace>>,
    /// Whole 512-byte sectors of the backend.
    sectors: u64,
    /// The next namespace's `uid`.
    next_uid: u64,
}

crate::persist::persist_struct!(Namespaces {
    slots,
    sectors,
    next_uid
});

impl Namespaces {
    /// A new drive: NSID 1 over the whole capacity, attached.
    pub fn new(capacity_bytes: u64, lba_size: u32) -> Namespaces {
        let sectors = capacity_bytes / SECTOR;
        let mut slots = vec![None; MAX_NAMESPACES as usize];
        slots[0] = Some(Namespace {
            lbaf: u8::from(lba_size == 4096),
            size_bytes: sectors * SECTOR,
            nmic: 0,
            attached: true,
            uid: 0,
            extents: vec![Extent { start: 0, sectors }],
            allocated: LbaRanges::default(),
            uncorrectable: LbaRanges::default(),
        });
        Namespaces {
            slots,
            sectors,
            next_uid: 1,
        }
    }

    fn slot(nsid: u32) -> Option<usize> {
        (1..=MAX_NAMESPACES)
            .contains(&nsid)
            .then(|| (nsid - 1) as usize)
    }

    /// Whether `nsid` names a namespace slot (1..=NN): a valid NSID.
    pub fn valid(nsid: u32) -> bool {
        Self::slot(nsid).is_some()
    }

    /// The allocated namespace `nsid`.
    pub fn get(&self, nsid: u32) -> Option<&Namespace> {
        self.slots.get(Self::slot(nsid)?)?.as_ref()
    }
    pub fn get_mut(&mut self, nsid: u32) -> Option<&mut Namespace> {
        self.slots.get_mut(Self::slot(nsid)?)?.as_mut()
    }
    /// The active (allocated and attached) namespace `nsid`.
    pub fn active(&self, nsid: u32) -> Option<&Namespace> {
        self.get(nsid).filter(|n| n.attached)
    }
    pub fn active_mut(&mut self, nsid: u32) -> Option<&mut Namespace> {
        self.get_mut(nsid).filter(|n| n.attached)
    }
    /// Allocated NSIDs, ascending.
    pub fn allocated_ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.is_some())
            .map(|(i, _)| i as u32 + 1)
    }
    /// Active NSIDs, ascending.
    pub fn active_ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.allocated_ids().filter(|&n| self.active(n).is_some())
    }
    /// Every allocated namespace.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Namespace> {
        self.slots.iter_mut().flatten()
    }
    /// Total NVM capacity in bytes (TNVMCAP).
    pub fn total_bytes(&self) -> u64 {
        self.sectors * SECTOR
    }
    /// Capacity not allocated to a namespace, in bytes (UNVMCAP).
    pub fn unallocated_bytes(&self) -> u64 {
        let used: u64 = self
            .slots
            .iter()
            .flatten()
            .flat_map(|n| n.extents.iter())
            .map(|e| e.sectors)
            .sum();
        self.sectors.saturating_sub(used) * SECTOR
    }
    /// Sum of NUSE over the allocated namespaces.
    pub fn total_nuse(&self) -> u64 {
        self.slots.iter().flatten().map(Namespace::nuse).sum()
    }

    /// Free runs of the backend that start and end on a [`GRANULE`].
    fn free_extents(&self) -> Vec<Extent> {
        let mut used: Vec<Extent> = self
            .slots
            .iter()
            .flatten()
            .flat_map(|n| n.extents.iter().copied())
            .collect();
        used.sort_by_key(|e| e.start);
        let mut free = Vec::new();
        let mut at = 0u64;
        let mut push = |s: u64, e: u64| {
            let s = s.div_ceil(GRANULE_SECTORS) * GRANULE_SECTORS;
            let e = e / GRANULE_SECTORS * GRANULE_SECTORS;
            if e > s {
                free.push(Extent {
                    start: s,
                    sectors: e - s,
                });
            }
        };
        for u in used {
            push(at, u.start);
            at = at.max(u.end());
        }
        push(at, self.sectors);
        free
    }

    /// Namespace Management create (NVMe 2.0 Base, 5.20.1): the lowest free
    /// NSID, detached. Errors in the order the checks run: Invalid Format
    /// (FLBAS), Invalid Field (DPS, NMIC, NSZE 0, NCAP above NSZE), Thin
    /// Provisioning Not Supported (NCAP below NSZE), Namespace Identifier
    /// Unavailable, Namespace Insufficient Capacity.
    pub fn create(&mut self, n: NewNamespace) -> Result<u32, Status> {
        let lbaf = n.flbas & 0xf;
        if usize::from(lbaf) >= LBA_FORMATS.len() || n.flbas & 0x60 != 0 {
            return Err(Status::INVALID_FORMAT);
        }
        // No protection information; NMIC bit 0 (may be shared) only.
        if n.dps != 0 || n.nmic > 1 || n.nsze == 0 || n.ncap > n.nsze {
            return Err(Status::INVALID_FIELD);
        }
        if n.ncap < n.nsze {
            return Err(Status::THIN_PROVISIONING_NOT_SUPPORTED);
        }
        let Some(slot) = self.slots.iter().position(Option::is_none) else {
            return Err(Status::NS_ID_UNAVAILABLE);
        };
        let size_bytes = n
            .nsze
            .checked_mul(1 << LBA_FORMATS[usize::from(lbaf)])
            .ok_or(Status::NS_INSUFFICIENT_CAPACITY)?;
        let extents = self
            .allocate(size_bytes.div_ceil(GRANULE) * GRANULE_SECTORS)
            .ok_or(Status::NS_INSUFFICIENT_CAPACITY)?;
        self.slots[slot] = Some(Namespace {
            lbaf,
            size_bytes,
            nmic: n.nmic,
            attached: false,
            uid: self.next_uid,
            extents,
            allocated: LbaRanges::default(),
            uncorrectable: LbaRanges::default(),
        });
        self.next_uid = self.next_uid.wrapping_add(1);
        Ok(slot as u32 + 1)
    }

    /// `sectors` of free space: the smallest free run that holds it all,
    /// else the largest runs first, in at most [`MAX_EXTENTS`] pieces.
    fn allocate(&self, sectors: u64) -> Option<Vec<Extent>> {
        let mut free = self.free_extents();
        if let Some(e) = free
            .iter()
            .filter(|e| e.sectors >= sectors)
            .min_by_key(|e| e.sectors)
        {
            return Some(vec![Extent {
                start: e.start,
                sectors,
            }]);
        }
        free.sort_by_key(|e| std::cmp::Reverse(e.sectors));
        let mut out = Vec::new();
        let mut left = sectors;
        for e in free.into_iter().take(MAX_EXTENTS) {
            let n = e.sectors.min(left);
            out.push(Extent {
                start: e.start,
                sectors: n,
            });
            left -= n;
            if left == 0 {
                return Some(out);
            }
        }
        None
    }

    /// Namespace Management delete of an allocated namespace.
    pub fn delete(&mut self, nsid: u32) -> Option<Namespace> {
        self.slots.get_mut(Self::slot(nsid)?)?.take()
    }

    /// The whole medium was erased (Sanitize): every namespace has nothing
    /// allocated and nothing uncorrectable.
    pub fn media_erased(&mut self) {
        for n in self.iter_mut() {
            n.erased();
        }
    }

    /// The invariants the engine relies on (a loaded state of a drive of
    /// `capacity_bytes`).
    pub fn check(&self, capacity_bytes: u64) -> Result<(), String> {
        if self.slots.len() != MAX_NAMESPACES as usize {
            return Err(format!("{} namespace slots", self.slots.len()));
        }
        if self.sectors != capacity_bytes / SECTOR {
            return Err(format!("{} sectors", self.sectors));
        }
        let mut all: Vec<Extent> = Vec::new();
        for (i, n) in self.slots.iter().enumerate() {
            let Some(n) = n else { continue };
            let id = i + 1;
            if usize::from(n.lbaf) >= LBA_FORMATS.len() || n.nmic > 1 {
                return Err(format!("namespace {id}: LBA format {}", n.lbaf));
            }
            if n.extents.is_empty() || n.extents.len() > MAX_EXTENTS {
                return Err(format!("namespace {id}: {} extents", n.extents.len()));
            }
            let mut bytes = 0u64;
            for e in &n.extents {
                if e.sectors == 0
                    || e.start
                        .checked_add(e.sectors)
                        .map_or(true, |x| x > self.sectors)
                {
                    return Err(format!("namespace {id}: extent {e:?}"));
                }
                bytes += e.sectors * SECTOR;
                all.push(*e);
            }
            if n.size_bytes == 0 || n.size_bytes > bytes {
                return Err(format!("namespace {id}: {} bytes", n.size_bytes));
            }
            n.allocated
                .check(n.nsze())
                .and_then(|()| n.uncorrectable.check(n.nsze()))
                .map_err(|e| format!("namespace {id}: {e}"))?;
        }
        all.sort_by_key(|e| e.start);
        if all.windows(2).any(|w| w[0].end() > w[1].start) {
            return Err("overlapping namespace extents".into());
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::shadow_unrelated)]
mod tests {
    use super::*;

    fn new(nsze: u64, flbas: u8) -> NewNamespace {
        NewNamespace {
            nsze,
            ncap: nsze,
            flbas,
            dps: 0,
            nmic: 0,
        }
    }

    #[test]
    fn factory_namespace_covers_every_sector() {
        let t = Namespaces::new((1 << 20) + 1000, 512);
        let ns = t.active(1).unwrap();
        assert_eq!(ns.nsze(), 2049);
        assert!(ns.range_ok(0, 2049));
        assert!(!ns.range_ok(1, 2049));
        assert!(!ns.range_ok(u64::MAX, 2));
        assert_eq!(t.unallocated_bytes(), 0);
        let t = Namespaces::new(1 << 20, 4096);
        assert_eq!(t.active(1).unwrap().nsze(), 256);
    }

    #[test]
    fn extents_map_in_order_and_free_space_is_reused() {
        let mut t = Namespaces::new(1 << 20, 512);
        t.delete(1).unwrap();
        let a = t.create(new(8, 0)).unwrap();
        let b = t.create(new(16, 0)).unwrap();
        let c = t.create(new(8, 0)).unwrap();
        assert_eq!((a, b, c), (1, 2, 3));
        t.delete(a);
        t.delete(c);
        // 8 KiB free at 0 and the rest after 12 KiB: a 1 MiB - 8 KiB
        // namespace takes both.
        let big = t.create(new(2048 - 16, 0)).unwrap();
        let ns = t.get(big).unwrap();
        assert_eq!(ns.extents.len(), 2);
        assert_eq!(t.unallocated_bytes(), 0);
        let first = ns.extents[0];
        let pieces = ns.map(first.sectors * SECTOR - 512, 1024);
        assert_eq!(
            pieces,
            vec![
                (first.end() * SECTOR - 512, 512),
                (ns.extents[1].start * SECTOR, 512)
            ]
        );
        assert_eq!(t.create(new(1, 0)), Err(Status::NS_INSUFFICIENT_CAPACITY));
        t.check(1 << 20).unwrap();
        assert!(t.check(2 << 20).is_err());
    }
}
