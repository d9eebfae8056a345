//! The host's side of the core's I/O port (`docs/interface.md`), driven from the manifest alone:
//! write a tensor's elements into its input buffers, read an output tensor back from its buffers.
//! Used only while `go` is low.

use anyhow::{anyhow, Context, Result};
use mlcalyx_compiler::bundle::Role;
use mlcalyx_compiler::Manifest;
use mlcalyx_sim::Instance;

/// The port words (address, bits) that load `values` (row-major raw values of `tensor`) into
/// its buffers of `role` (an output that aliases an input lives in the input's buffers).
pub fn tensor_words(
    manifest: &Manifest,
    tensor: &str,
    values: &[i64],
    role: Role,
) -> Result<Vec<(u64, u64)>> {
    let mut words = Vec::new();
    for mem in manifest.memories_of(tensor).filter(|m| m.role == role) {
        let base = mem
            .address
            .ok_or_else(|| anyhow!("memory '{}' of '{tensor}' is not on the I/O port", mem.name))?;
        for i in 0..mem.depth {
            let v = values.get(mem.element(i)).ok_or_else(|| {
                anyhow!(
                    "memory '{}' word {i} lies outside tensor '{tensor}'",
                    mem.name
                )
            })?;
            words.push(((base + i) as u64, mem.format.to_bits(*v)));
        }
    }
    Ok(words)
}

/// Writes `words` through the port: per word, address and data with `we` high for one rising
/// edge; then one edge with `we` low, which lands the last store (the port is registered).
pub fn write_words(
    sim: &mut Instance<'_>,
    manifest: &Manifest,
    words: &[(u64, u64)],
) -> Result<()> {
    let io = &manifest.io;
    for &(addr, bits) in words {
        sim.set_port(&io.addr, addr)?;
        sim.set_port(&io.wdata, bits)?;
        sim.set_port(&io.we, 1)?;
        sim.step(1)?;
    }
    sim.set_port(&io.we, 0)?;
    sim.step(1).context("writing through the I/O port")
}

/// The word at `addr`: the registered port returns it two rising edges after the address.
pub fn read_word(sim: &mut Instance<'_>, manifest: &Manifest, addr: u64) -> Result<u64> {
    sim.set_port(&manifest.io.addr, addr)?;
    sim.step(2)?;
    Ok(sim.port(&manifest.io.rdata)?)
}

/// Reads `tensor` (`len` elements) back through the port, in row-major order.
pub fn read_tensor(
    sim: &mut Instance<'_>,
    manifest: &Manifest,
    tensor: &str,
    len: usize,
) -> Result<Vec<i64>> {
    let mut values = vec![None; len];
    for mem in manifest.memories_of(tensor) {
        let base = mem
            .address
            .ok_or_else(|| anyhow!("memory '{}' of '{tensor}' is not on the I/O port", mem.name))?;
        for i in 0..mem.depth {
            let bits = read_word(sim, manifest, (base + i) as u64)?;
            let slot = values.get_mut(mem.element(i)).ok_or_else(|| {
                anyhow!(
                    "memory '{}' word {i} lies outside tensor '{tensor}'",
                    mem.name
                )
            })?;
            *slot = Some(mem.format.from_bits(bits));
        }
    }
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| v.ok_or_else(|| anyhow!("element {i} of '{tensor}' is in no memory")))
        .collect()
}
