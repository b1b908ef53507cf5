// SPDX-License-Identifier: GPL-2.0-or-later
//! Vendor-specific dispatch: the integration point for the OCP module
//! (`crate::ocp`). Until it is wired in, every vendor log page and feature
//! answers with the status for an unsupported one and the other hooks do
//! nothing.
//!
//! | hook | engine event | OCP call it is meant for |
//! |---|---|---|
//! | `log_page` / `log_supported` | Get Log Page, LID C0h-FFh | `OcpState::log_page` |
//! | `set_feature` / `get_feature` | Set/Get Features, FID C0h-FFh | `OcpState::{set,get}_feature` |
//! | `telemetry_data_area1` | Get Log Page 07h (create) / 08h | `OcpState::telemetry_data_area1` |
//! | `before_command` | every command, before it runs | `OcpState::injection` |
//! | `command_completed` | completion of a command that went to storage | `OcpState::record_latency` |
//! | `controller_reset` | CC.EN 1 -> 0, power cycle | `OcpState::record_{controller_reset,power_cycle}` |
//!
//! The engine validates the UUID index (0 or the OCP UUID's index 1) before
//! calling the log page and feature hooks, and applies LPO, NUMD and RAE to
//! the page a log hook returns.

use crate::controller::{Controller, Outcome};
use crate::spec::cmd::Sqe;
use crate::spec::status::Status;
use crate::telemetry::LatencyClass;
use crate::traits::Host;

/// Parameters of a vendor-specific Get Log Page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VendorLogRequest {
    pub lid: u8,
    pub lsp: u8,
    pub uuid: u8,
    pub nsid: u32,
    pub now_ns: u64,
}

/// The whole content of vendor log page `req.lid`, or the status to return
/// (Invalid Log Page for unsupported ones; NVMe 2.0 Base, 5.16).
pub(crate) fn log_page(c: &mut Controller, req: VendorLogRequest) -> Result<Vec<u8>, Status> {
    let _ = (c, req);
    Err(Status::INVALID_LOG_PAGE)
}

/// Is vendor log page `lid` supported (for the Supported Log Pages log)?
pub(crate) fn log_supported(lid: u8) -> bool {
    let _ = lid;
    false
}

/// Set Features for FID C0h-FFh (unsupported: Invalid Field in Command).
pub(crate) fn set_feature(
    c: &mut Controller,
    sqe: &Sqe,
    fid: u8,
    sv: bool,
    cdw: [u32; 3],
    uuid: u8,
    host: &mut Host,
) -> Outcome {
    let _ = (c, sqe, fid, sv, cdw, uuid, host);
    Status::INVALID_FIELD.into()
}

/// Get Features for FID C0h-FFh (unsupported: Invalid Field in Command).
pub(crate) fn get_feature(
    c: &mut Controller,
    sqe: &Sqe,
    fid: u8,
    sel: u8,
    cdw11: u32,
    uuid: u8,
    host: &mut Host,
) -> Outcome {
    let _ = (c, sqe, fid, sel, cdw11, uuid, host);
    Status::INVALID_FIELD.into()
}

/// Content of Telemetry Data Area 1 (a multiple of 512 bytes, may be empty)
/// captured for the host-initiated (07h) or controller-initiated (08h) log.
pub(crate) fn telemetry_data_area1(
    c: &mut Controller,
    host_initiated: bool,
    now_ns: u64,
) -> Vec<u8> {
    let _ = (c, host_initiated, now_ns);
    Vec::new()
}

/// Called before any command executes (error injection): `Some` completes
/// the command with that outcome instead of executing it.
pub(crate) fn before_command(
    c: &mut Controller,
    sqid: u16,
    sqe: &Sqe,
    now_ns: u64,
) -> Option<Outcome> {
    let _ = (c, sqid, sqe, now_ns);
    None
}

/// Called when a command that went to storage completes (latency monitor).
pub(crate) fn command_completed(
    c: &mut Controller,
    class: LatencyClass,
    latency_ns: u64,
    status: Status,
    now_ns: u64,
) {
    let _ = (c, class, latency_ns, status, now_ns);
}

/// Called at a Controller Level Reset (CC.EN 1 -> 0) and, with
/// `power_cycle`, at a power cycle.
pub(crate) fn controller_reset(c: &mut Controller, power_cycle: bool, now_ns: u64) {
    let _ = (c, power_cycle, now_ns);
}
