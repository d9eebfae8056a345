// mlcalyx primitives (see docs/numerics.md). Combinational, synthesizable.
module mlc_const_mult #(
    parameter WIDTH = 32,
    parameter C = 1
) (
    input  logic [WIDTH-1:0] in,
    output logic [WIDTH-1:0] out
);
  localparam logic [WIDTH-1:0] Factor = C;
  // One shift and add per set bit of C: an address stride is a few adders, never a DSP
  // multiplier (synthesis maps `in * Factor` to a MULT18X18D).
  always_comb begin
    out = '0;
    for (int i = 0; i < WIDTH; i++) begin
      if (Factor[i]) out = out + (in << i);
    end
  end
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

module mlc_max #(
    parameter WIDTH = 48
) (
    input  logic [WIDTH-1:0] left,
    input  logic [WIDTH-1:0] right,
    output logic [WIDTH-1:0] out
);
  assign out = $signed(left) > $signed(right) ? left : right;
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

// Elementwise ops (docs/numerics.md). A signed constant C arrives as C_NEG (1 when negative) and
// C_MAG = |C| (Calyx passes parameters as 32-bit integers) and is compared in 64 bits, so it may
// lie outside the input's format.

// min(max(in, MIN), MAX) on a signed value; both bounds lie in the format.
module mlc_clamp #(
    parameter WIDTH = 16,
    parameter MIN_NEG = 0,
    parameter MIN_MAG = 0,
    parameter MAX_NEG = 0,
    parameter MAX_MAG = 0
) (
    input  logic [WIDTH-1:0] in,
    output logic [WIDTH-1:0] out
);
  localparam logic signed [63:0] Min = MIN_NEG != 0 ? -64'(MIN_MAG) : 64'(MIN_MAG);
  localparam logic signed [63:0] Max = MAX_NEG != 0 ? -64'(MAX_MAG) : 64'(MAX_MAG);
  logic signed [63:0] x;
  logic signed [63:0] lower;
  logic signed [63:0] both;
  assign x = 64'($signed(in));
  assign lower = x < Min ? Min : x;
  assign both = lower > Max ? Max : lower;
  assign out = both[WIDTH-1:0];
  logic unused;
  assign unused = ^both[63:WIDTH];
endmodule

// in > THRESHOLD ? in : VALUE on a signed value; VALUE lies in the format.
module mlc_threshold #(
    parameter WIDTH = 16,
    parameter T_NEG = 0,
    parameter T_MAG = 0,
    parameter V_NEG = 0,
    parameter V_MAG = 0
) (
    input  logic [WIDTH-1:0] in,
    output logic [WIDTH-1:0] out
);
  localparam logic signed [63:0] Threshold = T_NEG != 0 ? -64'(T_MAG) : 64'(T_MAG);
  localparam logic signed [63:0] Value = V_NEG != 0 ? -64'(V_MAG) : 64'(V_MAG);
  assign out = 64'($signed(in)) > Threshold ? in : Value[WIDTH-1:0];
endmodule

// PReLU's choice: in itself when in >= 0, else the scaled (requantized in * slope) value.
module mlc_prelu #(
    parameter WIDTH = 16
) (
    input  logic [WIDTH-1:0] in,
    input  logic [WIDTH-1:0] scaled,
    output logic [WIDTH-1:0] out
);
  assign out = in[WIDTH-1] ? scaled : in;
endmodule

// A lookup's address: addr = clamp((in - LO) >>> SHIFT, 0, SIZE - 1), for the table ROM; above
// says in >= LO + (SIZE << SHIFT). (Two primitives, address and choice, so that Calyx sees no
// combinational cycle through the ROM.)
module mlc_lut_index #(
    parameter IN_WIDTH = 16,
    parameter ADDR_WIDTH = 4,
    parameter LO_NEG = 0,
    parameter LO_MAG = 0,
    parameter SHIFT = 0,
    parameter SIZE = 16
) (
    input  logic [  IN_WIDTH-1:0] in,
    output logic [ADDR_WIDTH-1:0] addr,
    output logic                  above,
    output logic                  below
);
  localparam logic signed [63:0] Lo = LO_NEG != 0 ? -64'(LO_MAG) : 64'(LO_MAG);
  logic signed [63:0] offset;
  logic signed [63:0] index;
  assign offset = 64'($signed(in)) - Lo;
  assign index = offset >>> SHIFT;
  assign below = offset < 0;
  assign above = index >= 64'(SIZE);
  assign addr = below ? '0 : above ? ADDR_WIDTH'(SIZE - 1) : index[ADDR_WIDTH-1:0];
  logic unused;
  assign unused = ^index[63:ADDR_WIDTH];
endmodule

// A lookup with identity above the table: in itself when above, else the table's word.
module mlc_lut_pick #(
    parameter WIDTH = 16
) (
    input  logic [WIDTH-1:0] in,
    input  logic [WIDTH-1:0] word,
    input  logic             above,
    output logic [WIDTH-1:0] out
);
  assign out = above ? in : word;
endmodule

// A signed A_WIDTH x B_WIDTH multiplier with the exact (A_WIDTH + B_WIDTH)-bit product: one DSP
// multiplier (ECP5 MULT18X18D, Xilinx DSP48) when both widths are at most 18. The handshake and
// timing are those of Calyx's std_mult_pipe (operands registered on the first edge with go, the
// product on the second, done high in the third cycle while go stays high), so a schedule built
// for std_mult_pipe keeps its cycle count.
module mlc_mult_pipe #(
    parameter A_WIDTH = 16,
    parameter B_WIDTH = 16,
    parameter OUT_WIDTH = 32
) (
    input  logic [  A_WIDTH-1:0] left,
    input  logic [  B_WIDTH-1:0] right,
    input  logic                 go,
    input  logic                 clk,
    input  logic                 reset,
    output logic [OUT_WIDTH-1:0] out,
    output logic                 done
);
  logic signed [A_WIDTH-1:0] ltmp;
  logic signed [B_WIDTH-1:0] rtmp;
  logic signed [OUT_WIDTH-1:0] product;
  logic started;

  always_ff @(posedge clk) begin
    if (reset) begin
      started <= 1'b0;
      done <= 1'b0;
    end else begin
      started <= go;
      done <= go & started;
    end
  end

  always_ff @(posedge clk) begin
    if (reset || !go) begin
      ltmp <= '0;
      rtmp <= '0;
    end else begin
      ltmp <= $signed(left);
      rtmp <= $signed(right);
    end
  end

  always_ff @(posedge clk) begin
    if (reset) product <= '0;
    else if (go) product <= OUT_WIDTH'(ltmp) * OUT_WIDTH'(rtmp);
  end

  assign out = product;
endmodule

// One input or output buffer of the core (docs/interface.md): a memory with the ports and timing
// of Calyx's comb_mem_d1 for the core (combinational read, write on the clock edge, done one
// cycle after write_en), which the host reaches through the core's I/O port while go is low.
// Words BASE .. BASE+SIZE-1 of the I/O address space are this buffer's words 0 .. SIZE-1.
module mlc_io_buffer #(
    parameter WIDTH = 16,
    parameter SIZE = 16,
    parameter IDX_SIZE = 4,
    parameter IO_ADDR_WIDTH = 8,
    parameter IO_WIDTH = 16,
    parameter BASE = 0
) (
    input  logic                     clk,
    input  logic                     reset,
    input  logic                     go,
    // The core's side, used while go is high.
    input  logic [     IDX_SIZE-1:0] addr0,
    input  logic [        WIDTH-1:0] write_data,
    input  logic                     write_en,
    output logic [        WIDTH-1:0] read_data,
    output logic                     done,
    // The host's side, used while go is low.
    input  logic [IO_ADDR_WIDTH-1:0] io_addr,
    input  logic [     IO_WIDTH-1:0] io_wdata,
    input  logic                     io_we,
    output logic [     IO_WIDTH-1:0] io_rdata
);
  logic [WIDTH-1:0] mem[SIZE];
  logic [IO_ADDR_WIDTH-1:0] offset;
  logic hit;
  logic [IDX_SIZE-1:0] addr;

  // Below BASE the subtraction wraps past SIZE (BASE + SIZE <= 2^IO_ADDR_WIDTH), so one compare
  // decides whether the host addresses this buffer.
  assign offset = io_addr - IO_ADDR_WIDTH'(BASE);
  assign hit = {1'b0, offset} < (IO_ADDR_WIDTH + 1)'(SIZE);
  assign addr = go ? addr0 : offset[IDX_SIZE-1:0];

  assign read_data = mem[addr];
  assign io_rdata = !go && hit ? IO_WIDTH'(read_data) : '0;

  always_ff @(posedge clk) begin
    if (reset) done <= 1'b0;
    else done <= write_en;
  end

  always_ff @(posedge clk) begin
    if (go ? !reset && write_en : io_we && hit)
      mem[addr] <= go ? write_data : io_wdata[WIDTH-1:0];
  end
endmodule
