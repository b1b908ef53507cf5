// SPDX-License-Identifier: GPL-2.0-or-later
//! The whole controller's saved state (migration, snapshots):
//! [`Controller::save_state`] and [`Controller::load_state`], in the
//! encoding of [`crate::persist`], behind a fingerprint of the
//! configuration.

use crate::config::ControllerConfig;
use crate::persist::{
    load_exact, put_section, split_sections, to_bytes, Persist, STATE_MAGIC, STATE_VERSION,
};
use crate::wire::{LeReader, LeWriter};

use super::admin::features::Features;
use super::admin::firmware::{FirmwareState, FW_SLOTS};
use super::admin::lockdown::LockdownState;
use super::admin::log::{ErrorLog, TelemetryState};
use super::admin::pel::PelState;
use super::admin::sanitize::SanitizeState;
use super::admin::selftest::SelfTestState;
use super::request::{Accounting, IoOwner, PostAction};
use super::{Controller, MAX_OUTSTANDING, MAX_REQUESTS};
use crate::counters::Counters;
use crate::namespace::{Namespaces, LBA_FORMATS};

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
            PostAction::Format { nsid, lbaf } => w.put(&[1, lbaf]).put(&nsid.to_le_bytes()),
        };
    }
    fn load(r: &mut LeReader<'_>) -> Result<Self, String> {
        let tag = r.u8()?;
        let lbaf = r.u8()?;
        match tag {
            0 => Ok(PostAction::None),
            1 => Ok(PostAction::Format {
                nsid: r.u32()?,
                lbaf,
            }),
            v => Err(format!("PostAction: unknown tag {v}")),
        }
    }
}

impl Persist for IoOwner {
    fn save(&self, w: &mut LeWriter) {
        match *self {
            IoOwner::Cmd(i) => w.put(&[0]).put(&i.to_le_bytes()),
            IoOwner::Shutdown => w.put(&[1, 0, 0]),
            IoOwner::Sanitize(off) => w.put(&[2, 0, 0]).put(&off.to_le_bytes()),
        };
    }
    fn load(r: &mut LeReader<'_>) -> Result<Self, String> {
        let tag = r.u8()?;
        let i = r.u16()?;
        match tag {
            0 => Ok(IoOwner::Cmd(i)),
            1 => Ok(IoOwner::Shutdown),
            2 => Ok(IoOwner::Sanitize(r.u64()?)),
            v => Err(format!("IoOwner: unknown tag {v}")),
        }
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
        ocp_version,
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
        ("OCP version", ocp_version.as_str().to_string()),
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
    nssro,
    sqs,
    cqs,
    rr_next,
    wrr,
    dbbuf,
    sq_notifier_gen,
    fused,
    fused_wait,
    cmds,
    free_cmds,
    io_owners,
    free_io_slots,
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
    formatting,
    sanitize,
    lockdown,
    pel,
    work_pending,
    quiesced,
    parked,
    enabled_since_power_on,
    power_on_reset_done,
    shutdown_clean,
    counters,
    persist_request,
    health_tick_ns,
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

    /// The record a drive keeps across power cycles (the state store's
    /// payload), at virtual time `now_ns`.  Loaded by
    /// [`Controller::load_persistent`].
    pub fn save_persistent(&self, now_ns: u64) -> Vec<u8> {
        let mut counters = self.counters.clone();
        counters.power_on_ns_base = counters.power_on_ns(now_ns);
        counters.power_on_since_ns = 0;
        let p = Persistent {
            ns: self.ns.clone(),
            saved_feat: self.saved_feat.clone(),
            errlog: self.errlog.clone(),
            fw: self.fw.clone(),
            selftest: self.selftest.clone(),
            telemetry: self.telemetry.clone(),
            ocp: self.ocp.clone(),
            sanitize: self.sanitize.after_power_loss(),
            lockdown: self.lockdown.clone(),
            pel: self.pel.after_power_loss(),
            counters,
            enabled_since_power_on: self.enabled_since_power_on,
            shutdown_clean: self.shutdown_clean,
        };
        let mut w = LeWriter::growing();
        w.put(&PERSISTENT_MAGIC);
        PERSISTENT_VERSION.save(&mut w);
        put_section(&mut w, SEC_DRIVE, to_bytes(&drive_fingerprint(&self.cfg)));
        put_section(&mut w, SEC_PERSISTENT, to_bytes(&p));
        w.finish()
    }

    /// A controller at power-on (before the machine's first reset) that
    /// remembers what [`Controller::save_persistent`] recorded.  The first
    /// reset then counts the power cycle, and an unsafe shutdown if the
    /// controller was enabled and not shut down when the record was
    /// written.  Fails, naming the problem, on a foreign or damaged record
    /// or one from another drive (serial, model, size, ...).
    pub fn load_persistent(
        cfg: ControllerConfig,
        data: &[u8],
        now_ns: u64,
    ) -> Result<Controller, String> {
        let mut c = Controller::new(cfg)?;
        let sections = split_sections(
            data,
            &PERSISTENT_MAGIC,
            "drive state",
            PERSISTENT_VERSION,
            &[SEC_DRIVE, SEC_PERSISTENT],
        )?;
        let get = |tag: u16, name: &str| {
            sections
                .iter()
                .find(|(t, _)| *t == tag)
                .map(|(_, b)| *b)
                .ok_or_else(|| format!("drive state has no {name} section"))
        };
        let fp: Vec<(String, String)> = load_exact(get(SEC_DRIVE, "drive")?, "drive")?;
        let mine = drive_fingerprint(&c.cfg);
        for (name, here) in &mine {
            match fp.iter().find(|(n, _)| n == name) {
                Some((_, there)) if there == here => {}
                Some((_, there)) => {
                    return Err(format!(
                        "the state belongs to another drive: {name} is {there} in the state, {here} here"
                    ))
                }
                None => return Err(format!("the drive state has no {name}")),
            }
        }
        let record = get(SEC_PERSISTENT, "record")?;
        let p: Persistent = load_exact(record, "drive state")?;
        check_persistent_parts(&c.cfg, &p.ns, &p.fw, &p.saved_feat, &p.saved_feat)
            .and_then(|()| p.sanitize.check(p.ns.total_bytes()))
            .and_then(|()| p.pel.check())
            .map_err(|e| format!("inconsistent drive state: {e}"))?;
        c.ns = p.ns;
        c.feat = p.saved_feat.clone();
        c.saved_feat = p.saved_feat;
        c.errlog = p.errlog;
        c.fw = p.fw;
        c.fw.staging.clear();
        c.fw.staging_bad = false;
        c.selftest = p.selftest;
        c.selftest.running = None;
        c.telemetry = p.telemetry;
        // The commands the drive supports are this build's, not the
        // record's (a record written before Copy or the fused pair existed
        // must not hide them from C4h).
        let commands = c.ocp.identity.commands;
        c.ocp = p.ocp;
        c.sanitize = p.sanitize;
        c.lockdown = p.lockdown;
        c.pel = p.pel;
        c.ocp.identity.commands = commands;
        c.counters = p.counters;
        c.counters.power_on_since_ns = now_ns;
        c.enabled_since_power_on = p.enabled_since_power_on;
        c.shutdown_clean = p.shutdown_clean;
        // The record is of a drive that was powered: the next reset is a
        // power cycle, not the power-on.
        c.power_on_reset_done = true;
        Ok(c)
    }

    /// Whether something a drive must not lose changed since the last call
    /// (Set Features with Save, a firmware commit, a format): the host
    /// writes the power-cycle record then.
    pub fn take_persist_request(&mut self) -> bool {
        std::mem::take(&mut self.persist_request)
    }

    /// Whether [`Self::take_persist_request`] would return true.
    pub fn persist_requested(&self) -> bool {
        self.persist_request
    }

    /// Storage requests submitted to the host and not yet completed (parked
    /// requests not counted). The device refuses to save state unless 0.
    pub fn requests_in_flight(&self) -> usize {
        let owned = self.io_owners.iter().filter(|r| r.is_some()).count();
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
        if self.cmds.len() != MAX_OUTSTANDING || self.io_owners.len() != MAX_REQUESTS {
            return bad("command or request table size".into());
        }
        check_free_list(&self.free_cmds, self.cmds.iter().map(Option::is_none))
            .or_else(|e| bad(format!("commands: {e}")))?;
        check_free_list(
            &self.free_io_slots,
            self.io_owners.iter().map(Option::is_none),
        )
        .or_else(|e| bad(format!("requests: {e}")))?;
        for r in self.io_owners.iter().flatten() {
            if let IoOwner::Cmd(i) = r {
                if self.cmds.get(usize::from(*i)).map_or(true, Option::is_none) {
                    return bad(format!("request owned by free command slot {i}"));
                }
            }
        }
        // Slot `i` of a queue table: inside the queues allocated, a ring of
        // the right geometry.
        let ring =
            |kind: &str, i: usize, slots: usize, allocated: u16, qid: u16, ring: [u32; 3]| {
                let [size, head, tail] = ring;
                let max_entries = if i == 0 {
                    4096
                } else {
                    u32::from(self.cfg.mqes) + 1
                };
                if i >= slots {
                    return bad(format!("{kind} {i} beyond the {} allocated", allocated + 1));
                }
                if !ring_ok(i, qid, size, head, tail, max_entries) {
                    return bad(format!(
                        "{kind} {i}: qid {qid} size {size} head {head} tail {tail}"
                    ));
                }
                Ok(())
            };
        for (i, q) in self.sqs.iter().enumerate() {
            let Some(q) = q else { continue };
            let geometry = [q.size, q.head, q.tail];
            ring("SQ", i, self.sq_slots(), self.nsqa, q.qid, geometry)?;
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
            let geometry = [q.size, q.head, q.tail];
            ring("CQ", i, self.cq_slots(), self.ncqa, q.qid, geometry)?;
            if q.iv >= self.cfg.msix_vectors.max(1) {
                return bad(format!("CQ {i}: vector {}", q.iv));
            }
        }
        if self.rr_next > nq || self.wrr.next.iter().any(|&p| usize::from(p) >= nq) {
            return bad(format!(
                "arbitration position {} / {:?}",
                self.rr_next, self.wrr.next
            ));
        }
        if self.sqs[0].is_some() != self.cqs[0].is_some() {
            return bad("admin queues".into());
        }
        for c in self.cmds.iter().flatten() {
            if let PostAction::Format { lbaf, .. } = c.post {
                if usize::from(lbaf) >= LBA_FORMATS.len() {
                    return bad(format!("format to LBA format {lbaf}"));
                }
            }
        }
        self.sanitize.check(self.ns.total_bytes()).or_else(bad)?;
        self.pel.check().or_else(bad)?;
        check_persistent_parts(&self.cfg, &self.ns, &self.fw, &self.feat, &self.saved_feat)
            .or_else(bad)
    }
}

/// A queue's ring in slot `slot`: its own identifier, 2 to `max` entries,
/// head and tail inside the ring.
fn ring_ok(slot: usize, qid: u16, size: u32, head: u32, tail: u32, max: u32) -> bool {
    usize::from(qid) == slot && (2..=max).contains(&size) && head < size && tail < size
}

/// Invariants of the parts a drive keeps across power cycles.
fn check_persistent_parts(
    cfg: &ControllerConfig,
    ns: &Namespaces,
    fw: &FirmwareState,
    feat: &Features,
    saved_feat: &Features,
) -> Result<(), String> {
    ns.check(cfg.capacity_bytes)?;
    let slot_ok = |s: u8| (1..=FW_SLOTS as u8).contains(&s);
    if !slot_ok(fw.active) || fw.next.is_some_and(|(s, _)| !slot_ok(s)) {
        return Err(format!("firmware slot {} / {:?}", fw.active, fw.next));
    }
    let vectors = usize::from(cfg.msix_vectors);
    if feat.iv_cd.len() != vectors || saved_feat.iv_cd.len() != vectors {
        return Err("interrupt vector configuration size".into());
    }
    Ok(())
}

// ---- what a drive keeps across power cycles -------------------------------

/// Magic of the power-cycle record (the state store's payload).
pub const PERSISTENT_MAGIC: [u8; 8] = *b"OCPNVMEP";
/// Format version of the power-cycle record.
pub const PERSISTENT_VERSION: u16 = 2;
const SEC_DRIVE: u16 = 1;
const SEC_PERSISTENT: u16 = 2;

/// What a drive keeps across power cycles: the namespace table (extents,
/// formats, attachment, allocated and uncorrectable blocks), saved
/// features, the error log, firmware slots (and a pending activation), the
/// self-test log, telemetry, the OCP state (health and wear, firmware
/// activation history, saved OCP features, error recovery, the event FIFO
/// of STD-LOG-23 / SLOG-1), the Sanitize Status and an interrupted
/// sanitize operation (resumed at power-on), the Lockdown prohibitions, the
/// Persistent Event log (its reporting context ends with the power),
/// every counter, and whether the controller was
/// enabled without a completed shutdown (an unsafe shutdown if power goes
/// now).
struct Persistent {
    ns: Namespaces,
    saved_feat: Features,
    errlog: ErrorLog,
    fw: FirmwareState,
    selftest: SelfTestState,
    telemetry: TelemetryState,
    ocp: crate::ocp::OcpState,
    sanitize: SanitizeState,
    lockdown: LockdownState,
    pel: PelState,
    counters: Counters,
    enabled_since_power_on: bool,
    shutdown_clean: bool,
}

crate::persist::persist_struct!(Persistent {
    ns,
    saved_feat,
    errlog,
    fw,
    selftest,
    telemetry,
    ocp,
    sanitize,
    lockdown,
    pel,
    counters,
    enabled_since_power_on,
    shutdown_clean,
});

/// The configuration a power-cycle record belongs to: the drive's identity
/// and what the record's layout depends on.  Other properties (MDTS, queue
/// counts, self-test times, ...) may change between power cycles.
fn drive_fingerprint(cfg: &ControllerConfig) -> Vec<(String, String)> {
    const KEEP: [&str; 6] = [
        "serial",
        "model",
        "capacity (bytes)",
        "LBA size",
        "MSI-X vectors",
        "IEEE OUI",
    ];
    fingerprint(cfg)
        .into_iter()
        .filter(|(k, _)| KEEP.contains(&k.as_str()))
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A record of version 1 (before namespace management, sanitize, the
    /// Persistent Event log and lockdown) is refused with a message naming
    /// both versions: its layout is not this one's.
    #[test]
    fn version_1_record_is_refused_by_name() {
        let cfg = ControllerConfig::default();
        let c = Controller::new(cfg.clone()).unwrap();
        let mut rec = c.save_persistent(0);
        rec[8..10].copy_from_slice(&1u16.to_le_bytes());
        let e = Controller::load_persistent(cfg, &rec, 0).err().unwrap();
        assert!(e.contains("version 1") && e.contains("version 2"), "{e}");
    }
}
