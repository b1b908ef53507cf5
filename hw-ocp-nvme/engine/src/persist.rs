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

use crate::ocp::wire::{LeReader, LeWriter};

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
            fn save(&self, w: &mut $crate::ocp::wire::LeWriter) {
                $( $crate::persist::Persist::save(&self.$f, w); )*
            }
            fn load(r: &mut $crate::ocp::wire::LeReader<'_>) -> Result<Self, String> {
                let load = |r: &mut $crate::ocp::wire::LeReader<'_>| -> Result<Self, String> {
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
            fn save(&self, w: &mut $crate::ocp::wire::LeWriter) {
                let tag: u8 = match self { $( $t::$v => $n, )* };
                w.put(&[tag]);
            }
            fn load(r: &mut $crate::ocp::wire::LeReader<'_>) -> Result<Self, String> {
                match r.u8()? {
                    $( $n => Ok($t::$v), )*
                    v => Err(format!("{}: unknown tag {v}", stringify!($t))),
                }
            }
        }
    };
}

/// Blob magic of the whole controller state (migration).
pub const STATE_MAGIC: [u8; 8] = *b"OCPNVMES";
/// Format version of the whole controller state this engine writes and
/// reads.
pub const STATE_VERSION: u16 = 1;

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

// ---- enums with data ------------------------------------------------------

use crate::controller::{Accounting, PostAction, ReqOwner, MAX_OUTSTANDING, MAX_REQUESTS};
use crate::ocp::features::Saved;
use crate::ocp::health::TempEvent;
use crate::traits::IoKind;
use crate::{Controller, ControllerConfig};

impl Persist for IoKind {
    fn save(&self, w: &mut LeWriter) {
        let (tag, flag) = match *self {
            IoKind::Read => (0u8, false),
            IoKind::Write { fua } => (1, fua),
            IoKind::Flush => (2, false),
            IoKind::Discard => (3, false),
            IoKind::WriteZeroes { may_unmap } => (4, may_unmap),
            IoKind::ReadBuffered => (5, false),
        };
        w.put(&[tag, u8::from(flag)]);
    }
    fn load(r: &mut LeReader<'_>) -> Result<Self, String> {
        let tag = r.u8()?;
        let flag = bool::load(r)?;
        Ok(match tag {
            0 => IoKind::Read,
            1 => IoKind::Write { fua: flag },
            2 => IoKind::Flush,
            3 => IoKind::Discard,
            4 => IoKind::WriteZeroes { may_unmap: flag },
            5 => IoKind::ReadBuffered,
            v => return Err(format!("IoKind: unknown tag {v}")),
        })
    }
}

impl Persist for Accounting {
    fn save(&self, w: &mut LeWriter) {
        let (tag, n) = match *self {
            Accounting::Read { bytes } => (0u8, bytes),
            Accounting::Write { bytes } => (1, bytes),
            Accounting::WriteZeroes { deallocated } => (2, deallocated),
            Accounting::Flush => (3, 0),
            Accounting::Deallocate { blocks } => (4, blocks),
            Accounting::Admin => (5, 0),
        };
        w.put(&[tag]);
        n.save(w);
    }
    fn load(r: &mut LeReader<'_>) -> Result<Self, String> {
        let tag = r.u8()?;
        let n = r.u64()?;
        Ok(match tag {
            0 => Accounting::Read { bytes: n },
            1 => Accounting::Write { bytes: n },
            2 => Accounting::WriteZeroes { deallocated: n },
            3 => Accounting::Flush,
            4 => Accounting::Deallocate { blocks: n },
            5 => Accounting::Admin,
            v => return Err(format!("Accounting: unknown tag {v}")),
        })
    }
}

impl Persist for PostAction {
    fn save(&self, w: &mut LeWriter) {
        match *self {
            PostAction::None => w.put(&[0, 0]),
            PostAction::Format { lbaf } => w.put(&[1, lbaf]),
        };
    }
    fn load(r: &mut LeReader<'_>) -> Result<Self, String> {
        let tag = r.u8()?;
        let lbaf = r.u8()?;
        match tag {
            0 => Ok(PostAction::None),
            1 => Ok(PostAction::Format { lbaf }),
            v => Err(format!("PostAction: unknown tag {v}")),
        }
    }
}

impl Persist for ReqOwner {
    fn save(&self, w: &mut LeWriter) {
        match *self {
            ReqOwner::Cmd(i) => w.put(&[0]).put(&i.to_le_bytes()),
            ReqOwner::Shutdown => w.put(&[1, 0, 0]),
        };
    }
    fn load(r: &mut LeReader<'_>) -> Result<Self, String> {
        let tag = r.u8()?;
        let i = r.u16()?;
        match tag {
            0 => Ok(ReqOwner::Cmd(i)),
            1 => Ok(ReqOwner::Shutdown),
            v => Err(format!("ReqOwner: unknown tag {v}")),
        }
    }
}

persist_enum!(TempEvent {
    Decrease = 0,
    Warning = 1,
    Critical = 2
});

impl<T: Copy + Persist> Persist for Saved<T> {
    fn save(&self, w: &mut LeWriter) {
        self.current.save(w);
        self.default.save(w);
        self.saved.save(w);
    }
    fn load(r: &mut LeReader<'_>) -> Result<Self, String> {
        Ok(Saved {
            current: T::load(r)?,
            default: T::load(r)?,
            saved: Option::<T>::load(r)?,
        })
    }
}

// ---- the whole controller ------------------------------------------------

const SEC_CONFIG: u16 = 1;
const SEC_CONTROLLER: u16 = 2;

/// The configuration a state belongs to, as (name, value) pairs: loading
/// into a configuration whose pairs differ fails and names the first
/// difference. Every field counts (the destructuring lists them all, so a
/// new configuration field must be placed here).
pub fn fingerprint(cfg: &ControllerConfig) -> Vec<(String, String)> {
    let ControllerConfig {
        serial,
        model,
        firmware_rev,
        max_ioqpairs,
        msix_vectors,
        mqes,
        mdts,
        capacity_bytes,
        lba_size,
        read_only,
        volatile_write_cache,
        discard,
        pci_vendor_id,
        pci_subsys_vendor_id,
        ieee_oui,
        fw_activate_without_reset,
        short_self_test_ms,
        extended_self_test_min,
        defer_processing,
        health,
        aerl,
        aer_max_queued,
    } = cfg;
    let pairs: Vec<(&str, String)> = vec![
        ("serial", serial.clone()),
        ("model", model.clone()),
        ("firmware revision", firmware_rev.clone()),
        ("I/O queue pairs", max_ioqpairs.to_string()),
        ("MSI-X vectors", msix_vectors.to_string()),
        ("MQES", mqes.to_string()),
        ("MDTS", mdts.to_string()),
        ("capacity (bytes)", capacity_bytes.to_string()),
        ("LBA size", lba_size.to_string()),
        ("read-only", read_only.to_string()),
        ("volatile write cache", volatile_write_cache.to_string()),
        ("discard", discard.to_string()),
        ("PCI vendor ID", format!("{pci_vendor_id:#06x}")),
        (
            "PCI subsystem vendor ID",
            format!("{pci_subsys_vendor_id:#06x}"),
        ),
        ("IEEE OUI", format!("{ieee_oui:02x?}")),
        (
            "firmware activation without reset",
            fw_activate_without_reset.to_string(),
        ),
        ("short self-test (ms)", short_self_test_ms.to_string()),
        (
            "extended self-test (min)",
            extended_self_test_min.to_string(),
        ),
        ("deferred processing", defer_processing.to_string()),
        ("health model", format!("{health:?}")),
        ("AERL", aerl.to_string()),
        ("queued events", aer_max_queued.to_string()),
    ];
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// Compares a saved fingerprint with this configuration's.
pub fn check_fingerprint(saved: &[(String, String)], cfg: &ControllerConfig) -> Result<(), String> {
    for (name, here) in fingerprint(cfg) {
        match saved.iter().find(|(n, _)| *n == name) {
            Some((_, there)) if *there == here => {}
            Some((_, there)) => {
                return Err(format!(
                    "incompatible configuration: {name} is {there} in the saved state, {here} here"
                ))
            }
            None => {
                return Err(format!(
                    "incompatible configuration: the saved state has no {name}"
                ))
            }
        }
    }
    Ok(())
}

macro_rules! controller_state {
    ($($f:ident),* $(,)?) => {
        fn save_body(c: &Controller, w: &mut LeWriter) {
            $( c.$f.save(w); )*
        }
        fn load_body(cfg: ControllerConfig, r: &mut LeReader<'_>) -> Result<Controller, String> {
            Ok(Controller {
                cfg,
                $( $f: Persist::load(r).map_err(|e| format!("{}: {e}", stringify!($f)))?, )*
            })
        }
    };
}

controller_state!(
    cc,
    intms,
    aqa,
    asq,
    acq,
    rdy,
    cfs,
    shst,
    sqs,
    cqs,
    rr_next,
    dbbuf,
    cmds,
    free_cmds,
    reqs,
    free_reqs,
    epoch,
    overflow_total,
    io_outstanding,
    busy_since,
    ns,
    feat,
    saved_feat,
    nsqa,
    ncqa,
    io_queues_created,
    aer,
    errlog,
    fw,
    selftest,
    telemetry,
    changed_ns,
    keep_alive_deadline,
    timestamp_ms,
    timestamp_set_ns,
    timestamp_origin,
    ocp,
    delayed,
    timed_out,
    seen_warning,
    exec_start_ns,
    formatting,
    err_ctx,
    work_pending,
    quiesced,
    parked,
    enabled_since_power_on,
    power_on_reset_done,
    shutdown_clean,
    counters,
);

impl Controller {
    /// The whole controller state (migration, snapshots): registers,
    /// queues with their heads, tails and phases, shadow doorbells,
    /// commands and storage requests in flight (parked ones included),
    /// features current and saved, AER, keep alive, health model, logs,
    /// firmware slots, timers, counters, preceded by the configuration's
    /// fingerprint.
    pub fn save_state(&self) -> Vec<u8> {
        let mut w = LeWriter::growing();
        w.put(&STATE_MAGIC);
        STATE_VERSION.save(&mut w);
        put_section(&mut w, SEC_CONFIG, to_bytes(&fingerprint(&self.cfg)));
        let mut body = LeWriter::growing();
        save_body(self, &mut body);
        put_section(&mut w, SEC_CONTROLLER, body.finish());
        w.finish()
    }

    /// A controller with configuration `cfg` in the state [`save_state`]
    /// wrote. Fails, naming the problem, on a foreign or damaged state, on
    /// another format version, and when the state belongs to a different
    /// configuration.
    ///
    /// [`save_state`]: Controller::save_state
    pub fn load_state(cfg: ControllerConfig, data: &[u8]) -> Result<Controller, String> {
        cfg.validate()?;
        let sections = split_sections(
            data,
            &STATE_MAGIC,
            "controller state",
            STATE_VERSION,
            &[SEC_CONFIG, SEC_CONTROLLER],
        )?;
        let get = |tag: u16, name: &str| {
            sections
                .iter()
                .find(|(t, _)| *t == tag)
                .map(|(_, b)| *b)
                .ok_or_else(|| format!("controller state has no {name} section"))
        };
        let fp: Vec<(String, String)> =
            load_exact(get(SEC_CONFIG, "configuration")?, "configuration")?;
        check_fingerprint(&fp, &cfg)?;
        let body = get(SEC_CONTROLLER, "controller")?;
        let mut r = LeReader::new(body);
        let c = load_body(cfg, &mut r)?;
        if r.remaining() != 0 {
            return Err(format!(
                "controller state: {} bytes left over",
                r.remaining()
            ));
        }
        c.check()?;
        Ok(c)
    }

    /// Storage requests submitted to the host and not yet completed (parked
    /// requests not counted). The device refuses to save state unless 0.
    pub fn requests_in_flight(&self) -> usize {
        let owned = self.reqs.iter().filter(|r| r.is_some()).count();
        owned.saturating_sub(self.parked.len())
    }

    /// The invariants the engine relies on, checked on a loaded state so
    /// that bytes from outside can never make it index out of range.
    pub(crate) fn check(&self) -> Result<(), String> {
        let nq = usize::from(self.cfg.max_ioqpairs) + 1;
        let bad = |what: String| Err(format!("inconsistent controller state: {what}"));
        if self.sqs.len() != nq || self.cqs.len() != nq {
            return bad(format!(
                "{} SQs and {} CQs for {nq} queues",
                self.sqs.len(),
                self.cqs.len()
            ));
        }
        if self.cmds.len() != MAX_OUTSTANDING || self.reqs.len() != MAX_REQUESTS {
            return bad("command or request table size".into());
        }
        check_free_list(&self.free_cmds, self.cmds.iter().map(Option::is_none))
            .or_else(|e| bad(format!("commands: {e}")))?;
        check_free_list(&self.free_reqs, self.reqs.iter().map(Option::is_none))
            .or_else(|e| bad(format!("requests: {e}")))?;
        for r in self.reqs.iter().flatten() {
            if let ReqOwner::Cmd(i) = r {
                if self.cmds.get(usize::from(*i)).map_or(true, Option::is_none) {
                    return bad(format!("request owned by free command slot {i}"));
                }
            }
        }
        let max_entries = |i: usize| {
            if i == 0 {
                4096
            } else {
                u32::from(self.cfg.mqes) + 1
            }
        };
        for (i, q) in self.sqs.iter().enumerate() {
            let Some(q) = q else { continue };
            if usize::from(q.qid) != i
                || q.size < 2
                || q.size > max_entries(i)
                || q.head >= q.size
                || q.tail >= q.size
            {
                return bad(format!(
                    "SQ {i}: qid {} size {} head {} tail {}",
                    q.qid, q.size, q.head, q.tail
                ));
            }
            if self
                .cqs
                .get(usize::from(q.cqid))
                .map_or(true, Option::is_none)
            {
                return bad(format!("SQ {i} on absent CQ {}", q.cqid));
            }
        }
        for (i, q) in self.cqs.iter().enumerate() {
            let Some(q) = q else { continue };
            if usize::from(q.qid) != i
                || q.size < 2
                || q.size > max_entries(i)
                || q.head >= q.size
                || q.tail >= q.size
            {
                return bad(format!(
                    "CQ {i}: qid {} size {} head {} tail {}",
                    q.qid, q.size, q.head, q.tail
                ));
            }
            if q.iv >= self.cfg.msix_vectors.max(1) {
                return bad(format!("CQ {i}: vector {}", q.iv));
            }
        }
        if self.rr_next > nq {
            return bad(format!("arbitration position {}", self.rr_next));
        }
        if self.sqs[0].is_some() != self.cqs[0].is_some() {
            return bad("admin queues".into());
        }
        Ok(())
    }
}

/// A free list must name distinct free slots in range, and all of them.
fn check_free_list(free: &[u16], is_free: impl Iterator<Item = bool>) -> Result<(), String> {
    let slots: Vec<bool> = is_free.collect();
    let mut seen = vec![false; slots.len()];
    for &i in free {
        let i = usize::from(i);
        match (slots.get(i), seen.get(i)) {
            (Some(true), Some(false)) => seen[i] = true,
            _ => return Err(format!("free list entry {i}")),
        }
    }
    if seen.iter().filter(|s| **s).count() != slots.iter().filter(|s| **s).count() {
        return Err("free list incomplete".into());
    }
    Ok(())
}
