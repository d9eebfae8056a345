// Test design for mlcalyx-sim: a `main` that never raises done (for the timeout test).
module comb_mem_d1 #(
    parameter WIDTH = 32,
    parameter SIZE = 16,
    parameter IDX_SIZE = 4
) (
    input  wire logic [IDX_SIZE-1:0] addr0,
    input  wire logic                clk,
    output      logic [   WIDTH-1:0] read_data
);
  logic [WIDTH-1:0] mem[SIZE-1:0];
  assign read_data = mem[addr0];
endmodule

module main (
    input  logic go,
    input  logic clk,
    input  logic reset,
    output logic done
);
  logic [31:0] count;
  logic [31:0] x_read_data;
  comb_mem_d1 #(.WIDTH(32), .SIZE(2), .IDX_SIZE(1)) x (
      .addr0(count[0]), .clk(clk), .read_data(x_read_data)
  );
  always_ff @(posedge clk) begin
    if (reset) count <= 32'd0;
    else if (go) count <= count + x_read_data;
  end
  assign done = 1'b0;
endmodule
