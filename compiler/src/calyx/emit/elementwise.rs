//! Calyx for the elementwise ops with parameters (`MapOp::Clamp` .. `MapOp::Lut`): the value each
//! writes, built from our primitives (`compiler/primitives/mlcalyx.sv`).
//!
//! | op            | cells                                                          | cycles |
//! |---------------|----------------------------------------------------------------|--------|
//! | `clamp`       | `mlc_clamp` (bounds are parameters)                            | 1      |
//! | `threshold`   | `mlc_threshold`                                                | 1      |
//! | `scale_shift` | `mlc_mult_pipe`, the shifted shift added, `mlc_requant`         | 4      |
//! | `prelu`       | `mlc_mult_pipe`, `mlc_requant`, `mlc_prelu` (picks x when x >= 0)| 4      |
//! | `lut`         | `mlc_lut_index` (x -> ROM address), `mlc_lut_pick` (identity)  | 1      |
//!
//! Signed constants are passed as a sign and a magnitude: Calyx parameters are 32-bit integers.

use super::{bits_for, Emitter, Group};
use crate::ir::loops::{Access, MapOp};
use crate::numerics::ACCUMULATOR_WIDTH;

/// `NEG, MAG` parameters for a signed constant (validated to fit: `ir::elementwise::MAX_CONSTANT`).
fn signed(c: i64) -> String {
    format!("{}, {}", u8::from(c < 0), c.unsigned_abs())
}

impl Emitter<'_> {
    /// Wires the value of `op` on the argument memories `srcs` (read at `args`) into `g`; returns
    /// the port carrying it and the signal that says it is ready to be written.
    pub(super) fn elementwise(
        &mut self,
        g: &mut Group,
        op: MapOp,
        args: &[Access],
        srcs: &[String],
        width: u32,
    ) -> (String, String) {
        let x = format!("{}.read_data", srcs[0]);
        let now = "1'd1".to_string();
        match op {
            MapOp::Clamp { min, max } => {
                let c = self.fresh_cell(
                    "clamp",
                    format!("mlc_clamp({width}, {}, {})", signed(min), signed(max)),
                );
                g.push(format!("{c}.in = {x};"));
                (format!("{c}.out"), now)
            }
            MapOp::Threshold { threshold, value } => {
                let c = self.fresh_cell(
                    "threshold",
                    format!(
                        "mlc_threshold({width}, {}, {})",
                        signed(threshold),
                        signed(value)
                    ),
                );
                g.push(format!("{c}.in = {x};"));
                (format!("{c}.out"), now)
            }
            MapOp::ScaleShift { align, right } => {
                let (product, done) = self.product(g, &args[0], &args[1]);
                let wb = self.program.memories[args[2].mem].format.width;
                let ext = self.fresh_cell(
                    "shift_ext",
                    format!("std_signext({wb}, {ACCUMULATOR_WIDTH})"),
                );
                let sh = self.fresh_cell("shift_align", format!("std_lsh({ACCUMULATOR_WIDTH})"));
                let add = self.fresh_cell("sum", format!("std_add({ACCUMULATOR_WIDTH})"));
                let rq = self.fresh_cell(
                    "requant",
                    format!("mlc_requant({ACCUMULATOR_WIDTH}, {width}, {right})"),
                );
                for line in [
                    format!("{ext}.in = {}.read_data;", srcs[2]),
                    format!("{sh}.left = {ext}.out;"),
                    format!("{sh}.right = {ACCUMULATOR_WIDTH}'d{align};"),
                    format!("{add}.left = {product};"),
                    format!("{add}.right = {sh}.out;"),
                    format!("{rq}.in = {add}.out;"),
                ] {
                    g.push(line);
                }
                (format!("{rq}.out"), done)
            }
            MapOp::Prelu { right } => {
                let (product, done) = self.product(g, &args[0], &args[1]);
                let rq = self.fresh_cell(
                    "requant",
                    format!("mlc_requant({ACCUMULATOR_WIDTH}, {width}, {right})"),
                );
                let sel = self.fresh_cell("prelu", format!("mlc_prelu({width})"));
                g.push(format!("{rq}.in = {product};"));
                g.push(format!("{sel}.in = {x};"));
                g.push(format!("{sel}.scaled = {rq}.out;"));
                (format!("{sel}.out"), done)
            }
            MapOp::Lut {
                table,
                lo,
                shift,
                len,
                identity,
            } => {
                let wx = self.program.memories[args[0].mem].format.width;
                let rom = self.program.memories[table].name.clone();
                let index = self.fresh_cell(
                    "lut_index",
                    format!(
                        "mlc_lut_index({wx}, {}, {}, {shift}, {len})",
                        bits_for(len - 1),
                        signed(lo)
                    ),
                );
                g.push(format!("{index}.in = {x};"));
                g.push(format!("{rom}.addr0 = {index}.addr;"));
                if !identity {
                    return (format!("{rom}.read_data"), now);
                }
                let pick = self.fresh_cell("lut_pick", format!("mlc_lut_pick({width})"));
                for line in [
                    format!("{pick}.in = {x};"),
                    format!("{pick}.word = {rom}.read_data;"),
                    format!("{pick}.above = {index}.above;"),
                ] {
                    g.push(line);
                }
                (format!("{pick}.out"), now)
            }
            MapOp::Relu | MapOp::SaturatingAdd | MapOp::Copy | MapOp::Fill(_) => {
                unreachable!("emitted by Emitter::leaf")
            }
        }
    }
}
