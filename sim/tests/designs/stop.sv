// Test design for mlcalyx-sim: on the third rising edge after go, ends the simulation the way
// ctl[0] says: 1 = $finish, 2 = $fatal, 3 = $error, 4 = $stop; anything else raises done.
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
  logic [7:0] count;
  logic [7:0] mode;
  comb_mem_d1 #(.WIDTH(8), .SIZE(1), .IDX_SIZE(1)) ctl (
      .addr0(1'b0), .clk(clk), .read_data(mode)
  );
  always_ff @(posedge clk) begin
    if (reset || !go) count <= 8'd0;
    else begin
      count <= count + 8'd1;
      if (count == 8'd2) begin
        case (mode)
          8'd1: $finish;
          8'd2: $fatal(1, "stop.sv: fatal on purpose");
          8'd3: $error("stop.sv: error on purpose");
          8'd4: $stop;
          default: ;
        endcase
      end
    end
  end
  assign done = go && count == 8'd3;
endmodule
