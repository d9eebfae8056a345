//! The Lattice ECP5 parts the flow targets, with the resources nextpnr reports for them in the
//! CABGA381 package.

use anyhow::{bail, Result};
use std::fmt;

/// One ECP5 part: its nextpnr flag and what it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Device {
    /// The name users pass to `--fpga`, e.g. `ecp5-85k`.
    pub name: &'static str,
    /// nextpnr-ecp5's part flag, e.g. `--85k`.
    pub nextpnr_flag: &'static str,
    /// LUT4s (as many flip-flops).
    pub luts: u64,
    /// `MULT18X18D` 18x18 multipliers.
    pub dsps: u64,
    /// `DP16KD` 18 Kbit block RAMs.
    pub brams: u64,
    /// I/O pins of the package, as nextpnr counts them (`TRELLIS_IO`).
    pub ios: u64,
}

/// The package every device is placed in: the largest one all three sizes share.
pub const PACKAGE: &str = "CABGA381";

pub const DEVICES: [Device; 3] = [
    Device {
        name: "ecp5-25k",
        nextpnr_flag: "--25k",
        luts: 24_288,
        dsps: 28,
        brams: 56,
        ios: 197,
    },
    Device {
        name: "ecp5-45k",
        nextpnr_flag: "--45k",
        luts: 43_848,
        dsps: 72,
        brams: 108,
        ios: 245,
    },
    Device {
        name: "ecp5-85k",
        nextpnr_flag: "--85k",
        luts: 83_640,
        dsps: 156,
        brams: 208,
        ios: 365,
    },
];

impl Device {
    /// The device called `name` (`ecp5-25k`, `ecp5-45k` or `ecp5-85k`).
    pub fn named(name: &str) -> Result<Device> {
        match DEVICES.iter().find(|d| d.name == name) {
            Some(d) => Ok(*d),
            None => bail!(
                "unknown FPGA device '{name}': choose one of {}",
                DEVICES.map(|d| d.name).join(", ")
            ),
        }
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_by_name() {
        assert_eq!(Device::named("ecp5-25k").unwrap().dsps, 28);
        assert_eq!(Device::named("ecp5-85k").unwrap().nextpnr_flag, "--85k");
        assert_eq!(
            Device::named("ecp5-12k").unwrap_err().to_string(),
            "unknown FPGA device 'ecp5-12k': choose one of ecp5-25k, ecp5-45k, ecp5-85k"
        );
    }
}
