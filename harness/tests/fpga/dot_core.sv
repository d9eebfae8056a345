// A small core with the deployable-core port convention (clk, reset, go, done and one narrow
// load/store port): the host writes 8 signed 16-bit inputs at addresses 0..7 while the core is
// idle; go computes y = sum x[i] * w[i] (32-bit, wrapping) with the weights in a ROM and one
// registered 16x16 multiplier; y is read at address 8. io_rdata follows io_addr one cycle later.
module dot_core (
    input  logic        clk,
    input  logic        reset,
    input  logic        go,
    output logic        done,
    input  logic [3:0]  io_addr,
    input  logic [15:0] io_wdata,
    input  logic        io_we,
    output logic [31:0] io_rdata
);
  logic signed [15:0] x[8];
  logic signed [15:0] w;
  logic signed [31:0] product, y;
  logic [3:0] i;
  logic busy, have_product;

  always_comb begin
    case (i[2:0])
      3'd0: w = 16'sd3;
      3'd1: w = -16'sd7;
      3'd2: w = 16'sd32767;
      3'd3: w = -16'sd32768;
      3'd4: w = 16'sd1000;
      3'd5: w = -16'sd1;
      3'd6: w = 16'sd12345;
      default: w = -16'sd4242;
    endcase
  end

  always_ff @(posedge clk) begin
    done <= 1'b0;
    io_rdata <= io_addr[3] ? y : 32'(x[io_addr[2:0]]);
    if (reset) begin
      busy <= 1'b0;
      have_product <= 1'b0;
      i <= '0;
    end else if (!busy) begin
      if (go && !done) begin
        busy <= 1'b1;
        i <= '0;
        y <= '0;
        have_product <= 1'b0;
      end else if (io_we && !io_addr[3]) begin
        x[io_addr[2:0]] <= io_wdata;
      end
    end else begin
      // One product per cycle, accumulated one cycle later.
      product <= x[i[2:0]] * w;
      have_product <= !i[3];
      if (have_product) y <= y + product;
      if (!i[3]) i <= i + 4'd1;
      else if (!have_product) begin
        busy <= 1'b0;
        done <= 1'b1;
      end
    end
  end
endmodule
