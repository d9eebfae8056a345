// 30 independent signed 16x16 multipliers behind narrow I/O: two shift registers feed them and
// an adder tree sums the registered products. Needs 30 MULT18X18D: more than an ECP5-25k's 28.
module mults30 (
    input  logic               clk,
    input  logic signed [15:0] a_in,
    input  logic signed [15:0] b_in,
    output logic signed [47:0] sum
);
  localparam int N = 30;
  logic signed [15:0] a[N];
  logic signed [15:0] b[N];
  logic signed [31:0] p[N];
  always_ff @(posedge clk) begin
    a[0] <= a_in;
    b[0] <= b_in;
    for (int i = 1; i < N; i++) begin
      a[i] <= a[i-1];
      b[i] <= b[i-1] ^ 16'h5a5a;
    end
    for (int i = 0; i < N; i++) p[i] <= a[i] * b[i];
  end
  always_comb begin
    sum = '0;
    for (int i = 0; i < N; i++) sum += 48'(p[i]);
  end
endmodule
