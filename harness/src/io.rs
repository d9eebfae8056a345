//! The host's side of the core's I/O port (`docs/interface.md`), driven from the manifest alone:
//! write a tensor's elements into its input buffers, read an output tensor back from its buffers.
//! Used only while `go` is low.

use anyhow::{anyhow, Context, Result};
use mlcalyx_compiler::Manifest;
use mlcalyx_sim::Instance;

/// The port words (address, bits) that load `values` (row-major raw values of `tensor`) into
/// its buffers.
pub fn tensor_words(manifest: &Manifest, tensor: &str, values: &[i64]) -> Result<Vec<(u64, u64)>> {
    let mut words = Vec::new();
    for mem in manifest.memories_of(tensor) {
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
    if words.is_empty() {
        return Err(anyhow!("tensor '{tensor}' is in no memory of the core"));
    }
    Ok(words)
}

/// Writes `words` through the port: per word, address and data with `we` high for one rising
/// edge.
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
    sim.set_port(&io.we, 0)
        .context("writing through the I/O port")
}

/// Reads `tensor` (`len` elements) back through the port, in row-major order.
pub fn read_tensor(
    sim: &mut Instance<'_>,
    manifest: &Manifest,
    tensor: &str,
    len: usize,
) -> Result<Vec<i64>> {
    let io = &manifest.io;
    let mut values = vec![None; len];
    for mem in manifest.memories_of(tensor) {
        let base = mem
            .address
            .ok_or_else(|| anyhow!("memory '{}' of '{tensor}' is not on the I/O port", mem.name))?;
        for i in 0..mem.depth {
            sim.set_port(&io.addr, (base + i) as u64)?;
            let bits = sim.port(&io.rdata)?;
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
