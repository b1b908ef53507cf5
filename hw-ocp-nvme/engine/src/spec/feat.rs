// SPDX-License-Identifier: GPL-2.0-or-later
//! Feature values as they travel in Set Features CDW11 / Get Features DW0
//! and data buffers (NVMe 2.0 Base, 5.27.1).

use crate::wire::LeWriter;

/// Arbitration (FID 01h, Figure 320).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arbitration {
    /// Arbitration Burst, bits 2:0 (111b: no limit).
    pub ab: u8,
    pub lpw: u8,
    pub mpw: u8,
    pub hpw: u8,
}

crate::persist::persist_struct!(Arbitration { ab, lpw, mpw, hpw });

impl Arbitration {
    pub fn decode(v: u32) -> Self {
        Arbitration {
            ab: (v & 0x7) as u8,
            lpw: (v >> 8) as u8,
            mpw: (v >> 16) as u8,
            hpw: (v >> 24) as u8,
        }
    }
    pub fn encode(self) -> u32 {
        u32::from(self.ab & 0x7)
            | u32::from(self.lpw) << 8
            | u32::from(self.mpw) << 16
            | u32::from(self.hpw) << 24
    }
    /// Commands taken from one SQ per round (AB is 3 bits wide, whatever
    /// a restored state holds).
    pub fn burst(self) -> u32 {
        match self.ab & 7 {
            7 => u32::MAX,
            ab => 1 << ab,
        }
    }
}

/// Power Management (FID 02h, Figure 322).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PowerManagement {
    /// Power State, bits 4:0.
    pub ps: u8,
    /// Workload Hint, bits 7:5.
    pub wh: u8,
}

crate::persist::persist_struct!(PowerManagement { ps, wh });

impl PowerManagement {
    pub fn decode(v: u32) -> Self {
        PowerManagement {
            ps: (v & 0x1f) as u8,
            wh: ((v >> 5) & 0x7) as u8,
        }
    }
    pub fn encode(self) -> u32 {
        u32::from(self.ps & 0x1f) | u32::from(self.wh & 0x7) << 5
    }
}

/// Temperature Threshold (FID 04h, Figure 326).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TemperatureThreshold {
    /// Temperature Threshold in Kelvin, bits 15:0.
    pub tmpth: u16,
    /// Threshold Temperature Select, bits 19:16 (0h composite, Fh all).
    pub tmpsel: u8,
    /// Threshold Type Select, bits 21:20 (00b over, 01b under).
    pub thsel: u8,
}

impl TemperatureThreshold {
    pub fn decode(v: u32) -> Self {
        TemperatureThreshold {
            tmpth: v as u16,
            tmpsel: ((v >> 16) & 0xf) as u8,
            thsel: ((v >> 20) & 0x3) as u8,
        }
    }
}

/// Error Recovery (FID 05h, Figure 328).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorRecovery {
    /// Time Limited Error Recovery (100 ms units), bits 15:0.
    pub tler: u16,
    /// Deallocated or Unwritten Logical Block Error Enable, bit 16.
    pub dulbe: bool,
}

crate::persist::persist_struct!(ErrorRecovery { tler, dulbe });

impl ErrorRecovery {
    pub fn decode(v: u32) -> Self {
        ErrorRecovery {
            tler: v as u16,
            dulbe: v & (1 << 16) != 0,
        }
    }
    pub fn encode(self) -> u32 {
        u32::from(self.tler) | u32::from(self.dulbe) << 16
    }
}

/// Number of Queues (FID 07h, Figures 332/333), both 0's based.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NumberOfQueues {
    /// Submission queues, bits 15:0.
    pub nsq: u16,
    /// Completion queues, bits 31:16.
    pub ncq: u16,
}

impl NumberOfQueues {
    pub fn decode(v: u32) -> Self {
        NumberOfQueues {
            nsq: v as u16,
            ncq: (v >> 16) as u16,
        }
    }
    pub fn encode(self) -> u32 {
        u32::from(self.nsq) | u32::from(self.ncq) << 16
    }
}

/// Interrupt Coalescing (FID 08h, Figure 334).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InterruptCoalescing {
    /// Aggregation Threshold (0's based entries), bits 7:0.
    pub thr: u8,
    /// Aggregation Time (100 us units), bits 15:8.
    pub time: u8,
}

crate::persist::persist_struct!(InterruptCoalescing { thr, time });

impl InterruptCoalescing {
    pub fn decode(v: u32) -> Self {
        InterruptCoalescing {
            thr: v as u8,
            time: (v >> 8) as u8,
        }
    }
    pub fn encode(self) -> u32 {
        u32::from(self.thr) | u32::from(self.time) << 8
    }
    pub fn time_ns(self) -> u64 {
        u64::from(self.time) * 100_000
    }
}

/// Interrupt Vector Configuration (FID 09h, Figure 336).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InterruptVectorConfig {
    /// Interrupt Vector, bits 15:0.
    pub iv: u16,
    /// Coalescing Disable, bit 16.
    pub cd: bool,
}

impl InterruptVectorConfig {
    pub fn decode(v: u32) -> Self {
        InterruptVectorConfig {
            iv: v as u16,
            cd: v & (1 << 16) != 0,
        }
    }
    pub fn encode(self) -> u32 {
        u32::from(self.iv) | u32::from(self.cd) << 16
    }
}

/// Asynchronous Event Configuration (FID 0Bh, Figure 340).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AsyncEventConfig {
    /// SMART / Health Critical Warnings, bits 7:0 (one per warning bit).
    pub smart: u8,
    /// Namespace Attribute Notices, bit 8.
    pub ns_attr: bool,
    /// Firmware Activation Notices, bit 9.
    pub fw_activation: bool,
    /// Telemetry Log Notices, bit 10.
    pub telemetry: bool,
}

crate::persist::persist_struct!(AsyncEventConfig {
    smart,
    ns_attr,
    fw_activation,
    telemetry
});

impl AsyncEventConfig {
    /// Bits this controller implements (the rest are stored as zero).
    pub const SUPPORTED: u32 = 0x1f | 1 << 8 | 1 << 9 | 1 << 10;

    pub fn decode(v: u32) -> Self {
        AsyncEventConfig {
            smart: v as u8,
            ns_attr: v & (1 << 8) != 0,
            fw_activation: v & (1 << 9) != 0,
            telemetry: v & (1 << 10) != 0,
        }
    }
    pub fn encode(self) -> u32 {
        u32::from(self.smart)
            | u32::from(self.ns_attr) << 8
            | u32::from(self.fw_activation) << 9
            | u32::from(self.telemetry) << 10
    }
}

/// Get Features Supported Capabilities (SEL 011b) in DW0 (Figure 193).
pub fn capabilities_dw0(saveable: bool, ns_specific: bool, changeable: bool) -> u32 {
    u32::from(saveable) | u32::from(ns_specific) << 1 | u32::from(changeable) << 2
}

/// Size of the Timestamp data structure.
pub const TIMESTAMP_SIZE: usize = 8;

/// Timestamp data structure (FID 0Eh, Figure 345).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timestamp {
    /// Milliseconds since 1970-01-01 (48 bits).
    pub ms: u64,
    /// Synch: the timestamp may have skipped.
    pub synch: bool,
    /// Timestamp Origin (0 reset, 1 set by the host).
    pub origin: u8,
}

impl Timestamp {
    pub fn decode(b: &[u8; 8]) -> Self {
        Timestamp {
            ms: u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], 0, 0]),
            synch: b[6] & 1 != 0,
            origin: (b[6] >> 1) & 0x7,
        }
    }
    pub fn encode(self) -> [u8; TIMESTAMP_SIZE] {
        let mut w = LeWriter::<[u8; TIMESTAMP_SIZE]>::array();
        w.bytes(0, &self.ms.to_le_bytes()[..6])
            .u8(6, u8::from(self.synch) | (self.origin & 0x7) << 1);
        w.finish()
    }
}

#[cfg(test)]
#[allow(clippy::shadow_unrelated)]
mod tests {
    use super::*;

    #[test]
    fn arbitration() {
        let a = Arbitration::decode(0x4433_2205);
        assert_eq!(
            a,
            Arbitration {
                ab: 5,
                lpw: 0x22,
                mpw: 0x33,
                hpw: 0x44
            }
        );
        assert_eq!(a.encode(), 0x4433_2205);
        assert_eq!(a.burst(), 32);
        assert_eq!(Arbitration::decode(7).burst(), u32::MAX);
        assert_eq!(Arbitration::decode(0xf8).ab, 0);
    }

    #[test]
    fn power_and_temperature() {
        assert_eq!(
            PowerManagement::decode(0xe3),
            PowerManagement { ps: 3, wh: 7 }
        );
        assert_eq!(PowerManagement { ps: 3, wh: 7 }.encode(), 0xe3);
        assert_eq!(
            TemperatureThreshold::decode(0x00f2_0157 | 1 << 20),
            TemperatureThreshold {
                tmpth: 0x157,
                tmpsel: 0x2,
                thsel: 3
            }
        );
        assert_eq!(
            TemperatureThreshold::decode(0x001f_0100),
            TemperatureThreshold {
                tmpth: 0x100,
                tmpsel: 0xf,
                thsel: 1
            }
        );
    }

    #[test]
    fn recovery_queues_coalescing_vectors() {
        assert_eq!(
            ErrorRecovery::decode(0x0001_0064),
            ErrorRecovery {
                tler: 100,
                dulbe: true
            }
        );
        let q = NumberOfQueues::decode(0x0003_0007);
        assert_eq!(q, NumberOfQueues { nsq: 7, ncq: 3 });
        assert_eq!(q.encode(), 0x0003_0007);
        let c = InterruptCoalescing::decode(0xffff_0a05);
        assert_eq!(c, InterruptCoalescing { thr: 5, time: 10 });
        assert_eq!(c.encode(), 0x0a05);
        assert_eq!(c.time_ns(), 1_000_000);
        let v = InterruptVectorConfig::decode(0x0001_0022);
        assert_eq!(v, InterruptVectorConfig { iv: 0x22, cd: true });
        assert_eq!(v.encode(), 0x0001_0022);
        assert_eq!(capabilities_dw0(true, false, true), 0b101);
        assert_eq!(capabilities_dw0(false, true, false), 0b010);
    }

    #[test]
    fn async_event_config() {
        let a = AsyncEventConfig::decode(0x0000_0502);
        assert_eq!(
            a,
            AsyncEventConfig {
                smart: 2,
                ns_attr: true,
                fw_activation: false,
                telemetry: true
            }
        );
        let a = AsyncEventConfig::decode(0x0000_02ff);
        assert_eq!(
            a,
            AsyncEventConfig {
                smart: 0xff,
                ns_attr: false,
                fw_activation: true,
                telemetry: false
            }
        );
        assert_eq!(AsyncEventConfig::SUPPORTED, 0x71f);
    }

    #[test]
    fn stored_values_encode_back() {
        assert_eq!(ErrorRecovery::decode(0x0001_0064).encode(), 0x0001_0064);
        assert_eq!(ErrorRecovery::decode(0xfffe_0064).encode(), 0x0000_0064);
        let v = 0x0000_0502 & AsyncEventConfig::SUPPORTED;
        assert_eq!(AsyncEventConfig::decode(v).encode(), v);
        assert_eq!(
            AsyncEventConfig::decode(AsyncEventConfig::SUPPORTED).encode(),
            AsyncEventConfig::SUPPORTED
        );
    }

    #[test]
    fn timestamp() {
        let t = Timestamp {
            ms: 0x0000_1234_5678_9abc,
            synch: true,
            origin: 1,
        };
        let b = t.encode();
        assert_eq!(b, [0xbc, 0x9a, 0x78, 0x56, 0x34, 0x12, 0x03, 0]);
        assert_eq!(Timestamp::decode(&b), t);
        let mut big = b;
        big[7] = 0xff;
        assert_eq!(Timestamp::decode(&big), t);
    }
}
