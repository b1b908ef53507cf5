// SPDX-License-Identifier: GPL-2.0-or-later
//! Saved state: the whole controller for migration
//! ([`Controller::save_state`], [`Controller::load_state`]) and the smaller
//! record a drive keeps across power cycles ([`Controller::save_persistent`],
//! [`Controller::load_persistent`]).
//!
//! One encoding for both: every state type implements [`Persist`], writing
//! its fields in declaration order with the engine's one writer
//! ([`LeWriter`], growing) and reading them back with [`LeReader`]. Structs
//! use [`persist_struct!`], which names every field: a field added to a
//! state type and not to its `persist_struct!` line fails to compile.
//!
//! Loading reads untrusted bytes (a migration stream, a state image):
//! every read is bounds-checked, every count is bounded by the bytes left,
//! every enum tag and boolean is checked, and the loaded controller is
//! checked for the invariants the engine relies on ([`Controller::check`])
//! before it is used. Nothing in here panics on any input.
//!
//! Layout of a blob: magic (8 bytes), format version (u16), then sections,
//! each a tag (u16), a length (u32) and that many bytes. Tags with the top
//! bit set are optional: a reader that does not know one skips it; an
//! unknown mandatory tag is an error naming it.

use std::collections::VecDeque;

use crate::wire::{LeReader, LeWriter};

/// A state type that can be saved and loaded.
pub trait Persist: Sized {
    fn save(&self, w: &mut LeWriter);
    fn load(r: &mut LeReader<'_>) -> Result<Self, String>;
}

macro_rules! persist_int {
    ($($t:ident),*) => {$(
        impl Persist for $t {
            fn save(&self, w: &mut LeWriter) {
                w.put(&self.to_le_bytes());
            }
            fn load(r: &mut LeReader<'_>) -> Result<Self, String> {
                r.$t()
            }
        }
    )*};
}
persist_int!(u8, u16, u32, u64, u128);

impl Persist for usize {
    fn save(&self, w: &mut LeWriter) {
        (*self as u64).save(w);
    }
    fn load(r: &mut LeReader<'_>) -> Result<Self, String> {
        let v = r.u64()?;
        usize::try_from(v).map_err(|_| format!("count {v} too large"))
    }
}

impl Persist for bool {
    fn save(&self, w: &mut LeWriter) {
        w.put(&[u8::from(*self)]);
    }
    fn load(r: &mut LeReader<'_>) -> Result<Self, String> {
        match r.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            v => Err(format!("boolean {v} at offset {}", r.pos() - 1)),
        }
    }
}

impl<T: Persist, const N: usize> Persist for [T; N] {
    fn save(&self, w: &mut LeWriter) {
        for x in self {
            x.save(w);
        }
    }
    fn load(r: &mut LeReader<'_>) -> Result<Self, String> {
        let mut v = Vec::new();
        for _ in 0..N {
            v.push(T::load(r)?);
        }
        v.try_into().map_err(|_| "array length".to_string())
    }
}

/// A count of elements that follow: each takes at least one byte, so a
/// count larger than the bytes left is corrupt (and never allocated).
fn load_count(r: &mut LeReader<'_>) -> Result<usize, String> {
    let n = r.u32()? as usize;
    if n > r.remaining() {
        return Err(format!(
            "count {n} at offset {} exceeds the {} bytes left",
            r.pos() - 4,
            r.remaining()
        ));
    }
    Ok(n)
}

fn save_count(n: usize, w: &mut LeWriter) {
    // Every sequence in the state is far below 4 Gi elements.
    (u32::try_from(n).unwrap_or(u32::MAX)).save(w);
}

impl<T: Persist> Persist for Vec<T> {
    fn save(&self, w: &mut LeWriter) {
        save_count(self.len(), w);
        for x in self {
            x.save(w);
        }
    }
    fn load(r: &mut LeReader<'_>) -> Result<Self, String> {
        let n = load_count(r)?;
        let mut v = Vec::new();
        for _ in 0..n {
            v.push(T::load(r)?);
        }
        Ok(v)
    }
}

impl<T: Persist> Persist for VecDeque<T> {
    fn save(&self, w: &mut LeWriter) {
        save_count(self.len(), w);
        for x in self {
            x.save(w);
        }
    }
    fn load(r: &mut LeReader<'_>) -> Result<Self, String> {
        Ok(Vec::<T>::load(r)?.into())
    }
}

impl<T: Persist> Persist for Option<T> {
    fn save(&self, w: &mut LeWriter) {
        match self {
            None => w.put(&[0]),
            Some(x) => {
                w.put(&[1]);
                x.save(w);
                w
            }
        };
    }
    fn load(r: &mut LeReader<'_>) -> Result<Self, String> {
        match r.u8()? {
            0 => Ok(None),
            1 => Ok(Some(T::load(r)?)),
            v => Err(format!("option tag {v} at offset {}", r.pos() - 1)),
        }
    }
}

impl<A: Persist, B: Persist> Persist for (A, B) {
    fn save(&self, w: &mut LeWriter) {
        self.0.save(w);
        self.1.save(w);
    }
    fn load(r: &mut LeReader<'_>) -> Result<Self, String> {
        Ok((A::load(r)?, B::load(r)?))
    }
}

impl<A: Persist, B: Persist, C: Persist> Persist for (A, B, C) {
    fn save(&self, w: &mut LeWriter) {
        self.0.save(w);
        self.1.save(w);
        self.2.save(w);
    }
    fn load(r: &mut LeReader<'_>) -> Result<Self, String> {
        Ok((A::load(r)?, B::load(r)?, C::load(r)?))
    }
}

impl Persist for String {
    fn save(&self, w: &mut LeWriter) {
        self.as_bytes().to_vec().save(w);
    }
    fn load(r: &mut LeReader<'_>) -> Result<Self, String> {
        String::from_utf8(Vec::<u8>::load(r)?).map_err(|_| "string is not UTF-8".to_string())
    }
}

/// Implements [`Persist`] for a struct by listing every field, in order.
/// Loading builds the struct literally, so a field missing from the list
/// is a compile error. Errors name the struct.
macro_rules! persist_struct {
    ($t:ident { $($f:ident),* $(,)? }) => {
        impl $crate::persist::Persist for $t {
            fn save(&self, w: &mut $crate::wire::LeWriter) {
                $( $crate::persist::Persist::save(&self.$f, w); )*
            }
            fn load(r: &mut $crate::wire::LeReader<'_>) -> Result<Self, String> {
                let load = |r: &mut $crate::wire::LeReader<'_>| -> Result<Self, String> {
                    Ok($t { $( $f: $crate::persist::Persist::load(r)?, )* })
                };
                load(r).map_err(|e| format!("{}: {e}", stringify!($t)))
            }
        }
    };
}
pub(crate) use persist_struct;

/// Implements [`Persist`] for a field-less enum by a one-byte tag.
macro_rules! persist_enum {
    ($t:ident { $($v:ident = $n:literal),* $(,)? }) => {
        impl $crate::persist::Persist for $t {
            fn save(&self, w: &mut $crate::wire::LeWriter) {
                let tag: u8 = match self { $( $t::$v => $n, )* };
                w.put(&[tag]);
            }
            fn load(r: &mut $crate::wire::LeReader<'_>) -> Result<Self, String> {
                match r.u8()? {
                    $( $n => Ok($t::$v), )*
                    v => Err(format!("{}: unknown tag {v}", stringify!($t))),
                }
            }
        }
    };
}
pub(crate) use persist_enum;

/// Blob magic of the whole controller state (migration).
pub const STATE_MAGIC: [u8; 8] = *b"OCPNVMES";
/// Format version of the whole controller state this engine writes and
/// reads.  3: the SQ notifier generation (ioeventfd) joined the
/// controller's fields; a stream of version 2 is refused by name.  The
/// power-cycle record has its own version (`PERSISTENT_VERSION`).
pub const STATE_VERSION: u16 = 3;

/// A tagged section: tag, length, bytes.
pub(crate) fn put_section(w: &mut LeWriter, tag: u16, body: Vec<u8>) {
    tag.save(w);
    save_count(body.len(), w);
    w.put(&body);
}

/// Reads the header (magic and version) and splits the sections. Unknown
/// optional sections (top bit of the tag set) are dropped.
pub(crate) fn split_sections<'a>(
    data: &'a [u8],
    magic: &[u8; 8],
    what: &str,
    version: u16,
    known: &[u16],
) -> Result<Vec<(u16, &'a [u8])>, String> {
    let mut r = LeReader::new(data);
    let m: [u8; 8] = r
        .array()
        .map_err(|_| format!("not an ocp-nvme {what}: {} bytes", data.len()))?;
    if &m != magic {
        return Err(format!("not an ocp-nvme {what} (magic {m:02x?})"));
    }
    let v = r.u16()?;
    if v != version {
        return Err(format!(
            "{what} format version {v}, this ocp-nvme reads version {version}"
        ));
    }
    let mut out = Vec::new();
    while r.remaining() > 0 {
        let tag = r.u16()?;
        let len = r.u32()? as usize;
        let body = r
            .take(len)
            .map_err(|e| format!("{what} section {tag:#x}: {e}"))?;
        if known.contains(&tag) {
            out.push((tag, body));
        } else if tag & 0x8000 == 0 {
            return Err(format!(
                "{what} has a section this ocp-nvme does not know ({tag:#x})"
            ));
        }
    }
    Ok(out)
}

/// Loads a whole section as one value; every byte must be used.
pub(crate) fn load_exact<T: Persist>(body: &[u8], what: &str) -> Result<T, String> {
    let mut r = LeReader::new(body);
    let v = T::load(&mut r).map_err(|e| format!("{what}: {e}"))?;
    if r.remaining() != 0 {
        return Err(format!("{what}: {} bytes left over", r.remaining()));
    }
    Ok(v)
}

/// Saves one value into a fresh buffer.
pub(crate) fn to_bytes<T: Persist>(v: &T) -> Vec<u8> {
    let mut w = LeWriter::growing();
    v.save(&mut w);
    w.finish()
}

// ---- the state store: two alternating checksummed copies ------------------

/// Bytes of one copy in a state image; an image holds two, at 0 and here.
pub const STORE_SLOT: usize = 256 * 1024;
/// Smallest state image.
pub const STORE_MIN_IMAGE: u64 = 2 * STORE_SLOT as u64;
const STORE_MAGIC: [u8; 8] = *b"OCPSTORE";
const STORE_VERSION: u16 = 1;
/// Header of a copy: magic, version, reserved, sequence, length, CRC-32
/// (of the header before it and the record).
const STORE_HEADER: usize = 8 + 2 + 2 + 8 + 4 + 4;

/// CRC-32 (IEEE 802.3, reflected, as zlib's `crc32`).
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// One copy of the state store holding `payload` with sequence number
/// `seq`, written at offset [`store_slot_offset`]`(seq)`: a torn write
/// damages only this copy, the other still holds the previous record.
pub fn store_encode(seq: u64, payload: &[u8]) -> Result<Vec<u8>, String> {
    if payload.len() > STORE_SLOT - STORE_HEADER {
        return Err(format!(
            "drive state of {} bytes exceeds a state copy ({} bytes)",
            payload.len(),
            STORE_SLOT - STORE_HEADER
        ));
    }
    let mut w = LeWriter::growing();
    w.put(&STORE_MAGIC);
    STORE_VERSION.save(&mut w);
    0u16.save(&mut w);
    seq.save(&mut w);
    save_count(payload.len(), &mut w);
    let mut covered = w.finish();
    covered.extend_from_slice(payload);
    let crc = crc32(&covered);
    let mut copy = LeWriter::growing();
    copy.put(&covered[..STORE_HEADER - 4]);
    crc.save(&mut copy);
    copy.put(payload);
    Ok(copy.finish())
}

/// Where the copy with sequence number `seq` goes.
pub fn store_slot_offset(seq: u64) -> u64 {
    (seq % 2) * STORE_SLOT as u64
}

/// What a state image holds.
#[derive(Debug, PartialEq, Eq)]
pub enum StoreContent {
    /// Never written (all zero): a new drive.
    Empty,
    /// The newest intact record; `damaged` names a copy that did not check
    /// (a torn last write), which is reported and overwritten next.
    Record {
        seq: u64,
        payload: Vec<u8>,
        damaged: Option<String>,
    },
}

fn store_decode(copy: &[u8]) -> Result<Option<(u64, &[u8])>, String> {
    if copy.iter().all(|&b| b == 0) {
        return Ok(None);
    }
    let mut r = LeReader::new(copy);
    let magic: [u8; 8] = r.array()?;
    if magic != STORE_MAGIC {
        return Err("not an ocp-nvme state copy (bad magic)".into());
    }
    let version = r.u16()?;
    if version != STORE_VERSION {
        return Err(format!(
            "state copy format version {version}, this ocp-nvme reads version {STORE_VERSION}"
        ));
    }
    let _reserved = r.u16()?;
    let seq = r.u64()?;
    let len = r.u32()? as usize;
    let crc = r.u32()?;
    let payload = r
        .take(len)
        .map_err(|_| format!("record length {len} exceeds the copy"))?;
    // The checksum covers the header (sequence, length) and the record.
    let mut covered = copy[..STORE_HEADER - 4].to_vec();
    covered.extend_from_slice(payload);
    if len == 0 || crc32(&covered) != crc {
        return Err(format!("checksum mismatch in record {seq}"));
    }
    Ok(Some((seq, payload)))
}

/// Reads a state image (its first [`STORE_MIN_IMAGE`] bytes): the newest
/// intact copy, [`StoreContent::Empty`] for a never written image, or an
/// error naming what is wrong when no copy is intact and the image is not
/// blank (a damaged or foreign image).
pub fn store_read(image: &[u8]) -> Result<StoreContent, String> {
    if (image.len() as u64) < STORE_MIN_IMAGE {
        return Err(format!(
            "state image of {} bytes, at least {STORE_MIN_IMAGE} needed",
            image.len()
        ));
    }
    let copies = [
        store_decode(&image[..STORE_SLOT]),
        store_decode(&image[STORE_SLOT..2 * STORE_SLOT]),
    ];
    let best = copies
        .iter()
        .filter_map(|c| c.as_ref().ok().copied().flatten())
        .max_by_key(|(seq, _)| *seq);
    let why = |i: usize| match &copies[i] {
        Err(e) => Some(format!("copy {i}: {e}")),
        Ok(_) => None,
    };
    match best {
        Some((seq, payload)) => Ok(StoreContent::Record {
            seq,
            payload: payload.to_vec(),
            damaged: why(0).or_else(|| why(1)),
        }),
        None => match (why(0), why(1)) {
            (None, None) => Ok(StoreContent::Empty),
            (a, b) => Err(format!(
                "damaged or foreign state image: {}",
                [a, b].into_iter().flatten().collect::<Vec<_>>().join("; ")
            )),
        },
    }
}
