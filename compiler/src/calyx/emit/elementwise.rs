//! Calyx for the elementwise ops with parameters (`MapOp::Clamp` .. `MapOp::Divide`): the value each
//! writes, built from our primitives (`compiler/primitives/mlcalyx.sv`).
//!
//! | op            | cells                                                          | cycles |
//! |---------------|----------------------------------------------------------------|--------|
//! | `clamp`       | `mlc_clamp` (bounds are parameters)                            | 1      |
//! | `threshold`   | `mlc_threshold`                                                | 1      |
//! | `scale_shift` | `mlc_mult_pipe`, the shifted shift added, `mlc_requant`         | 4      |
//! | `prelu`       | `mlc_mult_pipe`, `mlc_requant`, `mlc_prelu` (picks x when x >= 0)| 4      |
//! | `lut`         | `mlc_lut_index` (x -> ROM address), `mlc_lut_pick` (identity)  | 1      |
//! | `softmax_exp` | `std_sub` (x - m, one bit wider), `mlc_lut_index`, `mlc_lut_pick` (0 below lo) | 1 |
//! | `divide`      | `std_lsh`/`std_rsh`/`std_add` (numerator), `std_div_pipe`, `mlc_requant` | ~W + 2 |
//!
//! The softmax cells are the kernel's (`kernel_cell`): one divider per kernel, shared by the
//! elements, which run one after another.
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
            MapOp::SoftmaxExp {
                table,
                lo,
                shift,
                len,
            } => {
                // d = x - m in one more bit than x (it cannot overflow); below lo, e = 0.
                let wx = self.program.memories[args[0].mem].format.width;
                let wd = wx + 1;
                let rom = self.program.memories[table].name.clone();
                let ext_x = self.kernel_cell("sm_ext_x", format!("std_signext({wx}, {wd})"));
                let ext_m = self.kernel_cell("sm_ext_m", format!("std_signext({wx}, {wd})"));
                let sub = self.kernel_cell("sm_sub", format!("std_sub({wd})"));
                let index = self.kernel_cell(
                    "sm_index",
                    format!(
                        "mlc_lut_index({wd}, {}, {}, {shift}, {len})",
                        bits_for(len - 1),
                        signed(lo)
                    ),
                );
                let pick = self.kernel_cell("sm_pick", format!("mlc_lut_pick({width})"));
                for line in [
                    format!("{ext_x}.in = {x};"),
                    format!("{ext_m}.in = {}.read_data;", srcs[1]),
                    format!("{sub}.left = {ext_x}.out;"),
                    format!("{sub}.right = {ext_m}.out;"),
                    format!("{index}.in = {sub}.out;"),
                    format!("{rom}.addr0 = {index}.addr;"),
                    // below ? 0 : word
                    format!("{pick}.in = {width}'d0;"),
                    format!("{pick}.word = {rom}.read_data;"),
                    format!("{pick}.above = {index}.below;"),
                ] {
                    g.push(line);
                }
                (format!("{pick}.out"), now)
            }
            MapOp::Divide { frac, width: wq } => {
                let we = self.program.memories[args[0].mem].format.width;
                let ws = self.program.memories[args[1].mem].format.width;
                let pad_e = self.kernel_cell("sm_pad_e", format!("std_pad({we}, {wq})"));
                // The sum fits the division width (`division_width`), its memory may be wider.
                let resize = if ws > wq { "std_slice" } else { "std_pad" };
                let pad_s = self.kernel_cell("sm_pad_s", format!("{resize}({ws}, {wq})"));
                let lsh = self.kernel_cell("sm_lsh", format!("std_lsh({wq})"));
                let half = self.kernel_cell("sm_half", format!("std_rsh({wq})"));
                let num = self.kernel_cell("sm_num", format!("std_add({wq})"));
                let div = self.kernel_cell("sm_div", format!("std_div_pipe({wq})"));
                let sat = self.kernel_cell("sm_saturate", format!("mlc_requant({wq}, {width}, 0)"));
                for line in [
                    format!("{pad_e}.in = {x};"),
                    format!("{pad_s}.in = {}.read_data;", srcs[1]),
                    format!("{lsh}.left = {pad_e}.out;"),
                    format!("{lsh}.right = {wq}'d{frac};"),
                    format!("{half}.left = {pad_s}.out;"),
                    format!("{half}.right = {wq}'d1;"),
                    format!("{num}.left = {lsh}.out;"),
                    format!("{num}.right = {half}.out;"),
                    format!("{div}.left = {num}.out;"),
                    format!("{div}.right = {pad_s}.out;"),
                    format!("{sat}.in = {div}.out_quotient;"),
                ] {
                    g.push(line);
                }
                (format!("{sat}.out"), format!("{div}.done"))
            }
            MapOp::Relu | MapOp::SaturatingAdd | MapOp::Copy | MapOp::Fill(_) => {
                unreachable!("emitted by Emitter::leaf")
            }
        }
    }
}
