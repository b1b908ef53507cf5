// SPDX-License-Identifier: GPL-2.0-or-later
//! Persistent Event log (NVMe 2.0 Base, 5.16.1.14, log 0Dh; OCP STD-LOG-9,
//! -10, -20 to -22): header, events, reporting context, persistence.
#![allow(clippy::shadow_unrelated)] // test scripts reuse names

use ocp_nvme_engine::spec::status::Status;
use ocp_nvme_engine::testing::{set_prps, sqe_of, Driver, RawCqe};
use ocp_nvme_engine::Controller;

fn up() -> Driver {
    let mut d = Driver::new(Driver::small_config());
    d.bring_up(1);
    d
}

fn u16_at(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes([b[o], b[o + 1]])
}
fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes(b[o..o + 4].try_into().unwrap())
}
fn u64_at(b: &[u8], o: usize) -> u64 {
    u64::from_le_bytes(b[o..o + 8].try_into().unwrap())
}

/// Get Log Page 0Dh with action `lsp`, `len` bytes at `lpo`.
fn pel(d: &mut Driver, lsp: u32, len: usize, lpo: u64) -> (RawCqe, Vec<u8>) {
    let numd = (len / 4) as u32 - 1;
    let mut s = sqe_of(
        0x02,
        0xffff_ffff,
        &[
            (10, (numd & 0xffff) << 16 | lsp << 8 | 0x0d),
            (11, numd >> 16),
            (12, lpo as u32),
            (13, (lpo >> 32) as u32),
        ],
        0,
    );
    let buf = d.alloc(len as u64);
    set_prps(d, &mut s, buf, len as u64);
    let c = d.admin(s);
    (c, d.read_mem(buf, len))
}

/// The whole log within an established context (the header first, then
/// TLL bytes in 4 KiB pieces as nvme-cli reads it).
fn read_all(d: &mut Driver, lsp: u32) -> Vec<u8> {
    let (c, head) = pel(d, lsp, 512, 0);
    assert!(c.ok(), "header");
    let tll = u64_at(&head, 8) as usize;
    let mut out = Vec::new();
    while out.len() < tll {
        let (c, part) = pel(d, 0, 4096, out.len() as u64);
        assert!(c.ok(), "piece at {}", out.len());
        out.extend_from_slice(&part);
    }
    out.truncate(tll);
    out
}

/// (type, event data), newest first.
fn events(log: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let n = u32_at(log, 4) as usize;
    let mut off = 512;
    let mut v = Vec::new();
    for _ in 0..n {
        let etype = log[off];
        let ehl = usize::from(log[off + 2]);
        assert_eq!(ehl, 21, "event header length");
        let vsil = usize::from(u16_at(log, off + 20));
        let el = usize::from(u16_at(log, off + 22));
        let start = off + 3 + ehl + vsil;
        v.push((etype, log[start..off + 3 + ehl + el].to_vec()));
        off += 3 + ehl + el;
    }
    assert_eq!(off, log.len(), "TLL covers the header and every event");
    v
}

fn release(d: &mut Driver) {
    assert!(pel(d, 2, 512, 0).0.ok());
}

#[test]
fn identify_reports_pel_support_and_size() {
    let mut d = up();
    let (c, id) = d.admin_read(sqe_of(0x06, 0, &[(10, 1)], 0), 4096);
    assert!(c.ok());
    assert_ne!(id[261] & 1 << 4, 0, "LPA: Persistent Event log");
    // STD-LOG-22: PELS (64 KiB units) of 5 MiB or more.
    assert!(u32_at(&id, 352) >= 80);
    let (c, logs) = d.admin_read(sqe_of(0x02, 0, &[(10, 255 << 16)], 0), 1024);
    assert!(c.ok());
    assert_eq!(logs[0x0d * 4], 1, "STD-LOG-9");
}

#[test]
fn header_fields() {
    let mut d = up();
    let log = read_all(&mut d, 1);
    assert_eq!(log[0], 0x0d);
    assert_eq!(u16_at(&log, 18), 512, "LHL");
    assert_eq!(u64_at(&log, 44), 1, "power cycle count");
    assert_eq!(u16_at(&log, 52), 0x1b36, "VID");
    assert_eq!(&log[56..67], b"OCPNVME0001");
    assert_eq!(&log[76..94], b"QEMU OCP NVMe Ctrl");
    assert!(log[116..].starts_with(b"nqn.2019-08.org.qemu:OCPNVME0001"));
    assert_eq!(u16_at(&log, 372), 1, "generation of the first context");
    // RCI: a context exists (RCE), established through a port.
    assert_eq!(u32_at(&log, 374) >> 16, 0b101);
    // Supported Events Bitmap: 01h-0Dh (STD-LOG-10).
    let seb = u16::from_le_bytes([log[480], log[481]]);
    assert_eq!(seb, 0x3ffe);
    // The oldest event: the power-on (the machine's first reset).
    let ev = events(&log);
    assert_eq!(ev.last().unwrap().0, 0x04, "power-on event");
    let por = &ev.last().unwrap().1;
    assert_eq!(&por[..8], b"1.0     ", "firmware revision");
    assert_eq!(por.len(), 8 + 36, "one reset information descriptor");
}

#[test]
fn reporting_context_rules() {
    let mut d = up();
    // Read without a context: Command Sequence Error.
    let (c, _) = pel(&mut d, 0, 512, 0);
    assert!(c.is(Status::COMMAND_SEQUENCE_ERROR));
    let (c, _) = pel(&mut d, 1, 512, 0);
    assert!(c.ok());
    // Establishing twice: Command Sequence Error.
    let (c, _) = pel(&mut d, 1, 512, 0);
    assert!(c.is(Status::COMMAND_SEQUENCE_ERROR));
    release(&mut d);
    let (c, _) = pel(&mut d, 0, 512, 0);
    assert!(c.is(Status::COMMAND_SEQUENCE_ERROR));
    // Releasing without a context is fine.
    release(&mut d);
}

#[test]
fn snapshot_keeps_new_events_for_the_next_context() {
    // STD-LOG-21: events during a context are kept, reported by the next.
    let mut d = up();
    let first = read_all(&mut d, 1);
    let n = u32_at(&first, 4);
    assert!(d.admin(sqe_of(0x09, 0, &[(10, 0x04), (11, 350)], 0)).ok());
    let again = read_all(&mut d, 0);
    assert_eq!(u32_at(&again, 4), n, "the snapshot");
    assert_eq!(u16_at(&again, 372), 1);
    release(&mut d);
    let next = read_all(&mut d, 1);
    assert_eq!(u32_at(&next, 4), n + 1);
    assert_eq!(u16_at(&next, 372), 2, "a new generation");
    // Newest first (STD-LOG-20): the Set Feature event.
    let ev = events(&next);
    assert_eq!(ev[0].0, 0x0b);
    assert_eq!(u32_at(&ev[0].1, 0) & 7, 4, "four dwords");
    assert_eq!(u32_at(&ev[0].1, 4), 0x04, "CDW10");
    assert_eq!(u32_at(&ev[0].1, 8), 350, "CDW11");
    // nvme-cli's default action (0xFF: LSP 7Fh, action 11b) reads the
    // current log without touching the context.
    let (c, head) = pel(&mut d, 0x7f, 512, 0);
    assert!(c.ok());
    assert_eq!(u32_at(&head, 4), n + 1);
}

#[test]
fn events_of_the_drive() {
    let mut d = up();
    // Timestamp change (and its Set Feature event).
    let buf = d.alloc(8);
    d.write_mem(buf, &5_000u64.to_le_bytes());
    let mut s = sqe_of(0x09, 0, &[(10, 0x0e)], 0);
    set_prps(&mut d, &mut s, buf, 8);
    assert!(d.admin(s).ok());
    // Format NVM start and completion.
    assert!(d.admin(sqe_of(0x80, 1, &[(10, 1 << 9)], 0)).ok());
    // Sanitize start and completion.
    assert!(d.admin(sqe_of(0x84, 0, &[(10, 0b100)], 0)).ok());
    // Telemetry host-initiated data created.
    let (c, _) = d.admin_read(sqe_of(0x02, 0, &[(10, 127 << 16 | 1 << 8 | 0x07)], 0), 512);
    assert!(c.ok());
    // Firmware commit (activate slot 1 now).
    let c = d.admin(sqe_of(0x10, 0, &[(10, 3 << 3 | 1)], 0));
    assert!(c.ok());
    // A controller reset.
    d.disable();
    d.bring_up(1);
    let log = read_all(&mut d, 1);
    let ev = events(&log);
    let types: Vec<u8> = ev.iter().map(|e| e.0).collect();
    // Newest first.
    // The bring-up's Set Features Number of Queues, the reset, then what
    // the commands above recorded.
    let want = [0x0bu8, 0x04, 0x02, 0x0c, 0x0a, 0x09, 0x08, 0x07, 0x03, 0x0b];
    assert_eq!(&types[..want.len()], &want, "{types:02x?}");
    let (_, fw) = &ev[2];
    assert_eq!((fw[16], fw[17], fw[18], fw[19]), (3, 1, 0, 0));
    let (_, sc) = &ev[4];
    assert_eq!(u16_at(sc, 2), 0x101, "SSTAT: success, global data erased");
    let (_, ss) = &ev[5];
    assert_eq!(u32_at(ss, 4), 0b100, "Sanitize CDW10");
    assert_eq!(u32_at(ss, 0) & 7, 7, "SANICAP");
    let (_, fc) = &ev[6];
    assert_eq!((u32_at(fc, 0), fc[5]), (1, 0), "format completed");
    let (_, fs) = &ev[7];
    assert_eq!((u32_at(fs, 0), fs[4], u32_at(fs, 8)), (1, 0x04, 1 << 9));
    let (_, ts) = &ev[8];
    assert_eq!(u64_at(ts, 0) & 0xffff_ffff_ffff, 0, "previous timestamp");
    // The event timestamps follow the Timestamp feature.
    let ets = u64_at(&log, 512 + 6) & 0xffff_ffff_ffff;
    assert!(ets >= 5_000);
}

#[test]
fn log_survives_power_cycle_context_does_not() {
    let cfg = Driver::small_config();
    let mut d = up();
    assert!(d.admin(sqe_of(0x09, 0, &[(10, 0x04), (11, 351)], 0)).ok());
    let before = read_all(&mut d, 1);
    let rec = d.ctrl.save_persistent(1_000);
    let mut d2 = Driver::new(cfg.clone());
    d2.ctrl = Controller::load_persistent(cfg, &rec, 0).unwrap();
    let mut h = d2.env.host();
    d2.ctrl.reset(&mut h);
    d2.bring_up(1);
    // The context ended with the power.
    let (c, _) = pel(&mut d2, 0, 512, 0);
    assert!(c.is(Status::COMMAND_SEQUENCE_ERROR));
    let after = read_all(&mut d2, 1);
    assert_eq!(u64_at(&after, 44), 2, "power cycle count");
    let ev = events(&after);
    // The bring-up's Set Features, the SMART snapshot and power-on event
    // of the new power cycle first, then what was recorded before.
    assert_eq!(ev[1].0, 0x01, "SMART / Health snapshot");
    assert_eq!(ev[1].1.len(), 512);
    assert_eq!(ev[2].0, 0x04);
    assert_eq!(
        events(&before).len() + 3,
        ev.len(),
        "every earlier event kept"
    );
}
