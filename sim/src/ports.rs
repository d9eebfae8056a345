//! Top-level ports by name, and a free-running clock: how a host drives a design through its
//! interface rather than by reaching into its memories.
//!
//! The build makes the top module's signals public, so every port is a variable of Verilator's
//! `TOP` scope, found by name at run time: nothing is generated per design.

use std::ffi::CString;

use crate::model::{width_mask, Instance};
use crate::SimError;

impl Instance<'_> {
    /// Width in bits (1..=64) of the top-level port `name`.
    pub fn port_width(&self, name: &str) -> Result<u32, SimError> {
        let c = port_name(name)?;
        let mut width = 0u32;
        // SAFETY: valid handle, NUL-terminated name, valid out pointer.
        let rc =
            unsafe { (self.model().api.port_info)(self.handle.as_ptr(), c.as_ptr(), &mut width) };
        self.port_rc(name, "sim_port_info", rc)?;
        if !(1..=64).contains(&width) {
            return Err(unsupported(name));
        }
        Ok(width)
    }

    /// Drives input port `name` with the low bits of `value` (masked to the port's width) and
    /// evaluates the design, so combinational outputs follow at once.
    pub fn set_port(&mut self, name: &str, value: u64) -> Result<(), SimError> {
        let mask = width_mask(self.port_width(name)?);
        let c = port_name(name)?;
        // SAFETY: valid handle and NUL-terminated name; the value is masked to the port's width,
        // as Verilator requires of the unused upper bits.
        let rc = unsafe {
            (self.model().api.port_write)(self.handle.as_ptr(), c.as_ptr(), value & mask)
        };
        self.port_rc(name, "sim_port_write", rc)
    }

    /// The current value of port `name`.
    pub fn port(&self, name: &str) -> Result<u64, SimError> {
        let c = port_name(name)?;
        let mut value = 0u64;
        // SAFETY: valid handle, NUL-terminated name, valid out pointer.
        let rc =
            unsafe { (self.model().api.port_read)(self.handle.as_ptr(), c.as_ptr(), &mut value) };
        self.port_rc(name, "sim_port_read", rc)?;
        Ok(value)
    }

    /// Clocks `cycles` rising edges with every other input held.
    pub fn step(&mut self, cycles: u64) -> Result<(), SimError> {
        // SAFETY: valid handle.
        let rc = unsafe { (self.model().api.step)(self.handle.as_ptr(), cycles) };
        match rc {
            0 => Ok(()),
            -2 => Err(self.stopped(0)),
            code => Err(self.shim_error("sim_step", code.into())),
        }
    }

    fn port_rc(&self, name: &str, operation: &'static str, rc: i32) -> Result<(), SimError> {
        match rc {
            0 => Ok(()),
            -1 => Err(SimError::UnknownPort {
                port: name.to_string(),
            }),
            -2 => Err(self.stopped(0)),
            -3 => Err(unsupported(name)),
            code => Err(self.shim_error(operation, code.into())),
        }
    }
}

fn port_name(name: &str) -> Result<CString, SimError> {
    CString::new(name).map_err(|_| SimError::UnknownPort {
        port: name.to_string(),
    })
}

fn unsupported(name: &str) -> SimError {
    SimError::UnsupportedPort {
        port: name.to_string(),
    }
}
