// SPDX-License-Identifier: GPL-2.0-or-later
//! Opcodes, log page identifiers and feature identifiers.

/// Admin command opcodes (NVMe 2.0 Base, Figure 138).
pub mod admin_op {
    pub const DELETE_IO_SQ: u8 = 0x00;
    pub const CREATE_IO_SQ: u8 = 0x01;
    pub const GET_LOG_PAGE: u8 = 0x02;
    pub const DELETE_IO_CQ: u8 = 0x04;
    pub const CREATE_IO_CQ: u8 = 0x05;
    pub const IDENTIFY: u8 = 0x06;
    pub const NAMESPACE_MANAGEMENT: u8 = 0x0d;
    pub const ABORT: u8 = 0x08;
    pub const SET_FEATURES: u8 = 0x09;
    pub const GET_FEATURES: u8 = 0x0a;
    pub const ASYNC_EVENT_REQUEST: u8 = 0x0c;
    pub const FIRMWARE_COMMIT: u8 = 0x10;
    pub const FIRMWARE_IMAGE_DOWNLOAD: u8 = 0x11;
    pub const DEVICE_SELF_TEST: u8 = 0x14;
    pub const NAMESPACE_ATTACHMENT: u8 = 0x15;
    pub const KEEP_ALIVE: u8 = 0x18;
    pub const LOCKDOWN: u8 = 0x24;
    pub const DOORBELL_BUFFER_CONFIG: u8 = 0x7c;
    pub const FORMAT_NVM: u8 = 0x80;
    pub const SANITIZE: u8 = 0x84;
}

/// NVM command set I/O opcodes (NVM Command Set 1.0, Figure 18).
pub mod nvm_op {
    pub const FLUSH: u8 = 0x00;
    pub const WRITE: u8 = 0x01;
    pub const READ: u8 = 0x02;
    pub const WRITE_UNCORRECTABLE: u8 = 0x04;
    pub const COMPARE: u8 = 0x05;
    pub const WRITE_ZEROES: u8 = 0x08;
    pub const DATASET_MANAGEMENT: u8 = 0x09;
    pub const VERIFY: u8 = 0x0c;
    pub const COPY: u8 = 0x19;
}

/// Log page identifiers (NVMe 2.0 Base, Figure 202).
pub mod lid {
    pub const SUPPORTED_LOG_PAGES: u8 = 0x00;
    pub const ERROR_INFORMATION: u8 = 0x01;
    pub const SMART_HEALTH: u8 = 0x02;
    pub const FIRMWARE_SLOT: u8 = 0x03;
    pub const CHANGED_NAMESPACES: u8 = 0x04;
    pub const COMMANDS_SUPPORTED_EFFECTS: u8 = 0x05;
    pub const DEVICE_SELF_TEST: u8 = 0x06;
    pub const TELEMETRY_HOST: u8 = 0x07;
    pub const TELEMETRY_CONTROLLER: u8 = 0x08;
    pub const ENDURANCE_GROUP_INFORMATION: u8 = 0x09;
    pub const LBA_STATUS_INFORMATION: u8 = 0x0e;
    /// Persistent Event (NVMe 2.0 Base, 5.16.1.14).
    pub const PERSISTENT_EVENT: u8 = 0x0d;
    pub const FEATURE_IDS_EFFECTS: u8 = 0x12;
    /// Command and Feature Lockdown (NVMe 2.0 Base, 5.16.1.20).
    pub const LOCKDOWN: u8 = 0x14;
    /// Sanitize Status (NVMe 2.0 Base, 5.16.1.25).
    pub const SANITIZE_STATUS: u8 = 0x81;
    /// First vendor-specific log identifier.
    pub const VENDOR_FIRST: u8 = 0xc0;
}

/// Feature identifiers (NVMe 2.0 Base, Figure 317).
pub mod fid {
    pub const ARBITRATION: u8 = 0x01;
    pub const POWER_MANAGEMENT: u8 = 0x02;
    pub const TEMPERATURE_THRESHOLD: u8 = 0x04;
    pub const ERROR_RECOVERY: u8 = 0x05;
    pub const VOLATILE_WRITE_CACHE: u8 = 0x06;
    pub const NUMBER_OF_QUEUES: u8 = 0x07;
    pub const INTERRUPT_COALESCING: u8 = 0x08;
    pub const INTERRUPT_VECTOR_CONFIG: u8 = 0x09;
    pub const WRITE_ATOMICITY: u8 = 0x0a;
    pub const ASYNC_EVENT_CONFIG: u8 = 0x0b;
    pub const TIMESTAMP: u8 = 0x0e;
    pub const KEEP_ALIVE_TIMER: u8 = 0x0f;
    pub const HOST_BEHAVIOR_SUPPORT: u8 = 0x16;
    /// First vendor-specific feature identifier.
    pub const VENDOR_FIRST: u8 = 0xc0;
}

/// Identify CNS values (NVMe 2.0 Base, Figure 273).
pub mod cns {
    pub const NAMESPACE: u8 = 0x00;
    pub const CONTROLLER: u8 = 0x01;
    pub const ACTIVE_NSID_LIST: u8 = 0x02;
    pub const NS_ID_DESCRIPTORS: u8 = 0x03;
    pub const CSI_NAMESPACE: u8 = 0x05;
    pub const CSI_CONTROLLER: u8 = 0x06;
    pub const CSI_ACTIVE_NSID_LIST: u8 = 0x07;
    pub const CSI_INDEPENDENT_NAMESPACE: u8 = 0x08;
    pub const ALLOCATED_NSID_LIST: u8 = 0x10;
    pub const ALLOCATED_NAMESPACE: u8 = 0x11;
    pub const NS_ATTACHED_CONTROLLERS: u8 = 0x12;
    pub const CONTROLLER_LIST: u8 = 0x13;
    pub const NS_GRANULARITY_LIST: u8 = 0x16;
    pub const CSI_ALLOCATED_NSID_LIST: u8 = 0x1a;
    pub const CSI_ALLOCATED_NAMESPACE: u8 = 0x1b;
    pub const CSI_INDEPENDENT_ALLOCATED_NAMESPACE: u8 = 0x1f;
    pub const UUID_LIST: u8 = 0x17;
}

/// Asynchronous event types and information (NVMe 2.0 Base, 5.2).
pub mod aen {
    pub const TYPE_ERROR: u8 = 0;
    pub const TYPE_SMART: u8 = 1;
    pub const TYPE_NOTICE: u8 = 2;
    /// I/O Command Specific Status (NVM Command Set events).
    pub const TYPE_IO_SPECIFIC: u8 = 6;
    pub const ERR_INVALID_DB_REGISTER: u8 = 0x00;
    pub const ERR_INVALID_DB_VALUE: u8 = 0x01;
    pub const SMART_RELIABILITY: u8 = 0x00;
    pub const SMART_TEMPERATURE: u8 = 0x01;
    pub const SMART_SPARE: u8 = 0x02;
    pub const NOTICE_NS_ATTR_CHANGED: u8 = 0x00;
    pub const NOTICE_FW_ACTIVATION_STARTING: u8 = 0x01;
    pub const NOTICE_TELEMETRY_LOG_CHANGED: u8 = 0x02;
    /// Sanitize Operation Completed (log 81h).
    pub const IO_SANITIZE_COMPLETED: u8 = 0x01;
}
