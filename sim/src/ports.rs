//! Driving a design through its top-level ports: set an input, read an output, step the clock.
//!
//! A port is reachable by name when the model was built with [`crate::Verilator::with_ports`]
//! naming it (Verilator makes only those variables of the top module public; making every
//! signal public would slow the simulation down several times). Values are raw bit patterns
//! of up to 64 bits. Writing a port evaluates the model, so combinational outputs follow at
//! once; [`Instance::step`] gives rising edges with `go` and `reset` as they are.

use crate::model::{Instance, Located};
use crate::SimError;

impl Instance<'_> {
    /// Sets input port `name` of the top module to `value` (masked to its width) and
    /// evaluates the model.
    pub fn set_port(&mut self, name: &str, value: u64) -> Result<(), SimError> {
        let port = self.locate_port(name)?;
        self.write_located(&port, name, &[value])
    }

    /// The current value of port `name` of the top module.
    pub fn port(&self, name: &str) -> Result<u64, SimError> {
        let port = self.locate_port(name)?;
        Ok(self.read_located(&port, name)?[0])
    }

    /// `cycles` rising edges of `clk` (`clk=1; eval; clk=0; eval`), other inputs unchanged.
    pub fn step(&mut self, cycles: u64) -> Result<(), SimError> {
        // SAFETY: valid handle.
        let rc = unsafe { (self.model.api.step)(self.handle.as_ptr(), cycles) };
        match rc {
            0 => Ok(()),
            -2 => Err(self.stopped(0)),
            code => Err(self.shim_error("sim_step", code.into())),
        }
    }

    fn locate_port(&self, name: &str) -> Result<Located, SimError> {
        let top = &self.model.top;
        let unknown = || SimError::UnknownPort {
            port: name.to_string(),
            top: top.clone(),
        };
        // Verilator registers the real top-level ports in its root scope, `TOP.TOP` under the
        // model name `TOP` the shim gives; `TOP.<top>` holds internal copies that an input
        // write would not reach.
        let port = self.locate_var("TOP.TOP", name, name, unknown)?;
        if port.info.depth != 1 {
            return Err(SimError::UnsupportedMemory {
                memory: name.to_string(),
                reason: "an unpacked array, not a port".to_string(),
            });
        }
        Ok(port)
    }
}
