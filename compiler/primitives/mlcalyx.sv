// mlcalyx primitives (see docs/numerics.md). Combinational, synthesizable.
module mlc_const_mult #(
    parameter WIDTH = 32,
    parameter C = 1
) (
    input  logic [WIDTH-1:0] in,
    output logic [WIDTH-1:0] out
);
  localparam logic [WIDTH-1:0] Factor = C;
  assign out = in * Factor;
endmodule

module mlc_requant #(
    parameter IN_WIDTH = 48,
    parameter OUT_WIDTH = 16,
    parameter SHIFT = 8
) (
    input  logic [ IN_WIDTH-1:0] in,
    output logic [OUT_WIDTH-1:0] out
);
  // One guard bit so adding the rounding constant cannot overflow.
  logic signed [IN_WIDTH:0] wide;
  logic signed [IN_WIDTH:0] shifted;
  localparam logic signed [IN_WIDTH:0] Max = (1 <<< (OUT_WIDTH - 1)) - 1;
  localparam logic signed [IN_WIDTH:0] Min = -(1 <<< (OUT_WIDTH - 1));
  generate
    if (SHIFT == 0) begin : g_exact
      assign wide = {in[IN_WIDTH-1], in};
    end else begin : g_round
      assign wide = {in[IN_WIDTH-1], in} + ((IN_WIDTH + 1)'(1) <<< (SHIFT - 1));
    end
  endgenerate
  assign shifted = wide >>> SHIFT;
  assign out = shifted > Max ? Max[OUT_WIDTH-1:0] : shifted < Min ? Min[OUT_WIDTH-1:0] : shifted[OUT_WIDTH-1:0];
endmodule

module mlc_relu #(
    parameter WIDTH = 16
) (
    input  logic [WIDTH-1:0] in,
    output logic [WIDTH-1:0] out
);
  assign out = in[WIDTH-1] ? '0 : in;
endmodule

module mlc_sat_add #(
    parameter WIDTH = 16
) (
    input  logic [WIDTH-1:0] left,
    input  logic [WIDTH-1:0] right,
    output logic [WIDTH-1:0] out
);
  logic [WIDTH:0] sum;
  assign sum = {left[WIDTH-1], left} + {right[WIDTH-1], right};
  // Overflow when the two top bits of the widened sum differ.
  assign out = sum[WIDTH] == sum[WIDTH-1] ? sum[WIDTH-1:0]
             : sum[WIDTH] ? {1'b1, {(WIDTH - 1) {1'b0}}} : {1'b0, {(WIDTH - 1) {1'b1}}};
endmodule
