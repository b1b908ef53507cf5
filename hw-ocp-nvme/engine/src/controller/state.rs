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

use super::request::{Accounting, IoOwner, PostAction};
use super::{Controller, MAX_OUTSTANDING, MAX_REQUESTS};

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

impl Persist for IoOwner {
    fn save(&self, w: &mut LeWriter) {
        match *self {
            IoOwner::Cmd(i) => w.put(&[0]).put(&i.to_le_bytes()),
            IoOwner::Shutdown => w.put(&[1, 0, 0]),
        };
    }
    fn load(r: &mut LeReader<'_>) -> Result<Self, String> {
        let tag = r.u8()?;
        let i = r.u16()?;
        match tag {
            0 => Ok(IoOwner::Cmd(i)),
            1 => Ok(IoOwner::Shutdown),
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
