// Test design for mlcalyx-sim's port access: a register file behind a load/store port, and a
// counter of rising edges since reset. done follows go.
module main (
    input  logic        go,
    input  logic        clk,
    input  logic        reset,
    output logic        done,
    input  logic [ 2:0] addr,
    input  logic [39:0] wdata,
    input  logic        we,
    output logic [39:0] rdata,
    output logic [ 7:0] edges
);
  logic [39:0] regs[8];

  always_ff @(posedge clk) if (we) regs[addr] <= wdata;
  assign rdata = regs[addr];

  always_ff @(posedge clk) begin
    if (reset) edges <= 8'd0;
    else edges <= edges + 8'd1;
  end

  assign done = go;
endmodule
