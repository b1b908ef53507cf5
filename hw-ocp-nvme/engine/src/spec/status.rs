// SPDX-License-Identifier: GPL-2.0-or-later
//! Completion status values (NVMe 2.0 Base, 4.6.1.2 Status Field Definition).

/// Status Code Type (SCT).
pub mod sct {
    pub const GENERIC: u8 = 0;
    pub const COMMAND_SPECIFIC: u8 = 1;
    pub const MEDIA: u8 = 2;
}

/// A completion status: SCT, SC and the Do Not Retry bit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Status {
    pub sct: u8,
    pub sc: u8,
    pub dnr: bool,
}

crate::persist::persist_struct!(Status { sct, sc, dnr });

macro_rules! statuses {
    ($( $(#[$m:meta])* $name:ident = ($sct:expr, $sc:expr, $dnr:expr); )*) => {
        impl Status { $( $(#[$m])* pub const $name: Status = Status { sct: $sct, sc: $sc, dnr: $dnr }; )* }
    };
}

statuses! {
    SUCCESS = (sct::GENERIC, 0x00, false);
    INVALID_OPCODE = (sct::GENERIC, 0x01, true);
    INVALID_FIELD = (sct::GENERIC, 0x02, true);
    DATA_TRANSFER_ERROR = (sct::GENERIC, 0x04, false);
    INTERNAL_ERROR = (sct::GENERIC, 0x06, false);
    ABORT_REQUESTED = (sct::GENERIC, 0x07, false);
    ABORTED_SQ_DELETION = (sct::GENERIC, 0x08, false);
    /// Command Aborted due to Failed Fused Command: the other command of
    /// the fused operation failed.
    ABORTED_FAILED_FUSED = (sct::GENERIC, 0x09, false);
    /// Command Aborted due to Missing Fused Command: the adjacent entry
    /// is not the other half of the fused operation.
    ABORTED_MISSING_FUSED = (sct::GENERIC, 0x0a, true);
    INVALID_NAMESPACE = (sct::GENERIC, 0x0b, true);
    COMMAND_SEQUENCE_ERROR = (sct::GENERIC, 0x0c, true);
    INVALID_SGL_SEGMENT_DESCRIPTOR = (sct::GENERIC, 0x0d, true);
    INVALID_NUM_SGL_DESCRIPTORS = (sct::GENERIC, 0x0e, true);
    DATA_SGL_LENGTH_INVALID = (sct::GENERIC, 0x0f, true);
    METADATA_SGL_LENGTH_INVALID = (sct::GENERIC, 0x10, true);
    SGL_DESCRIPTOR_TYPE_INVALID = (sct::GENERIC, 0x11, true);
    INVALID_PRP_OFFSET = (sct::GENERIC, 0x13, true);
    SGL_OFFSET_INVALID = (sct::GENERIC, 0x16, true);
    KEEP_ALIVE_TIMER_EXPIRED = (sct::GENERIC, 0x19, true);
    KEEP_ALIVE_TIMEOUT_INVALID = (sct::GENERIC, 0x1a, true);
    NAMESPACE_WRITE_PROTECTED = (sct::GENERIC, 0x20, true);
    /// Command Prohibited by Command and Feature Lockdown (NVMe 2.0 Base, 8.4).
    COMMAND_PROHIBITED_BY_LOCKDOWN = (sct::GENERIC, 0x23, true);
    LBA_OUT_OF_RANGE = (sct::GENERIC, 0x80, true);
    CAPACITY_EXCEEDED = (sct::GENERIC, 0x81, true);
    FORMAT_IN_PROGRESS = (sct::GENERIC, 0x84, false);
    /// The most recent sanitize operation failed (NVMe 2.0 Base, 8.21).
    SANITIZE_FAILED = (sct::GENERIC, 0x1c, true);
    /// A sanitize operation is in progress: retry when it is done.
    SANITIZE_IN_PROGRESS = (sct::GENERIC, 0x1d, false);

    COMPLETION_QUEUE_INVALID = (sct::COMMAND_SPECIFIC, 0x00, true);
    INVALID_QUEUE_IDENTIFIER = (sct::COMMAND_SPECIFIC, 0x01, true);
    INVALID_QUEUE_SIZE = (sct::COMMAND_SPECIFIC, 0x02, true);
    ABORT_COMMAND_LIMIT_EXCEEDED = (sct::COMMAND_SPECIFIC, 0x03, true);
    AER_LIMIT_EXCEEDED = (sct::COMMAND_SPECIFIC, 0x05, true);
    INVALID_FIRMWARE_SLOT = (sct::COMMAND_SPECIFIC, 0x06, true);
    INVALID_FIRMWARE_IMAGE = (sct::COMMAND_SPECIFIC, 0x07, true);
    INVALID_INTERRUPT_VECTOR = (sct::COMMAND_SPECIFIC, 0x08, true);
    INVALID_LOG_PAGE = (sct::COMMAND_SPECIFIC, 0x09, true);
    INVALID_FORMAT = (sct::COMMAND_SPECIFIC, 0x0a, true);
    FW_REQUIRES_CONVENTIONAL_RESET = (sct::COMMAND_SPECIFIC, 0x0b, true);
    INVALID_QUEUE_DELETION = (sct::COMMAND_SPECIFIC, 0x0c, true);
    FEATURE_NOT_SAVEABLE = (sct::COMMAND_SPECIFIC, 0x0d, true);
    FEATURE_NOT_CHANGEABLE = (sct::COMMAND_SPECIFIC, 0x0e, true);
    FEATURE_NOT_NS_SPECIFIC = (sct::COMMAND_SPECIFIC, 0x0f, true);
    FW_REQUIRES_NVM_SUBSYSTEM_RESET = (sct::COMMAND_SPECIFIC, 0x10, true);
    FW_REQUIRES_CONTROLLER_RESET = (sct::COMMAND_SPECIFIC, 0x11, true);
    FW_ACTIVATION_PROHIBITED = (sct::COMMAND_SPECIFIC, 0x13, true);
    /// Namespace Management and Attachment (NVMe 2.0 Base, Figures 312, 306).
    NS_INSUFFICIENT_CAPACITY = (sct::COMMAND_SPECIFIC, 0x15, true);
    NS_ID_UNAVAILABLE = (sct::COMMAND_SPECIFIC, 0x16, true);
    NS_ALREADY_ATTACHED = (sct::COMMAND_SPECIFIC, 0x18, true);
    NS_IS_PRIVATE = (sct::COMMAND_SPECIFIC, 0x19, true);
    NS_NOT_ATTACHED = (sct::COMMAND_SPECIFIC, 0x1a, true);
    THIN_PROVISIONING_NOT_SUPPORTED = (sct::COMMAND_SPECIFIC, 0x1b, true);
    CONTROLLER_LIST_INVALID = (sct::COMMAND_SPECIFIC, 0x1c, true);
    SELF_TEST_IN_PROGRESS = (sct::COMMAND_SPECIFIC, 0x1d, true);
    IO_COMMAND_SET_NOT_SUPPORTED = (sct::COMMAND_SPECIFIC, 0x29, true);
    /// NVM Command Set: Compare and Write, Attempted Write to Read Only Range.
    ATTEMPTED_WRITE_TO_RO_RANGE = (sct::COMMAND_SPECIFIC, 0x82, true);
    /// NVM Command Set: Copy beyond MSRC, MSSRL or MCL.
    COMMAND_SIZE_LIMIT_EXCEEDED = (sct::COMMAND_SPECIFIC, 0x83, true);

    WRITE_FAULT = (sct::MEDIA, 0x80, false);
    UNRECOVERED_READ_ERROR = (sct::MEDIA, 0x81, false);
    COMPARE_FAILURE = (sct::MEDIA, 0x85, true);
}

impl Status {
    /// Is this Successful Completion?
    pub fn is_success(self) -> bool {
        self.sct == sct::GENERIC && self.sc == 0
    }

    /// Bits 15:1 of the CQE status field, i.e. CQE DW3 bits 31:17 shifted
    /// down by 16 with the phase bit (bit 0) clear (NVMe 2.0 Base, Figure 93).
    pub fn field(self) -> u16 {
        (u16::from(self.sc) << 1) | (u16::from(self.sct & 0x7) << 9) | (u16::from(self.dnr) << 15)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_field_encoding() {
        assert_eq!(Status::SUCCESS.field(), 0);
        // SCT 0, SC 2, DNR
        assert_eq!(Status::INVALID_FIELD.field(), 0x8004);
        // SCT 1, SC 1, DNR: (1<<9)|(1<<1)|(1<<15)
        assert_eq!(Status::INVALID_QUEUE_IDENTIFIER.field(), 0x8202);
        // SCT 2, SC 0x81, no DNR
        assert_eq!(
            Status::UNRECOVERED_READ_ERROR.field(),
            (0x81 << 1) | (2 << 9)
        );
        assert!(Status::SUCCESS.is_success());
        assert!(!Status::INVALID_FIELD.is_success());
    }
}
