// A registered signed 16x16 multiply-accumulate into 48 bits: one MULT18X18D, 80 flip-flops
// (32 product + 48 accumulator), 24 CCU2C carry cells for the adder, no LUT4.
module mac16 (
    input  logic               clk,
    input  logic               reset,
    input  logic signed [15:0] a,
    input  logic signed [15:0] b,
    output logic signed [47:0] acc
);
  logic signed [31:0] p;
  always_ff @(posedge clk) begin
    p <= a * b;
    if (reset) acc <= '0;
    else acc <= acc + p;
  end
endmodule
