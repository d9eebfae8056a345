// Test design for mlcalyx-sim: out[0] = sum of the 8 signed 16-bit words of x, as a signed
// 32-bit word. Shaped like Calyx output: top `main` with clk/reset/go/done, memories are
// `comb_mem_d1` instances with an array `mem` and a combinational read.
//
// Timing, counted in rising edges after go is raised (go is high before edge 1):
//   edge 1      IDLE  -> LOOP   (acc = 0, i = 0)
//   edges 2..9  LOOP: acc += x[i], i += 1; the 8th goes to STORE
//   edge 10     STORE -> DONE   (out[0] <= acc, written at this edge)
//   done is high in DONE, i.e. seen right after edge 10, so run() returns 10.
//   The edge after DONE returns to IDLE whatever go is.

module comb_mem_d1 #(
    parameter WIDTH = 32,
    parameter SIZE = 16,
    parameter IDX_SIZE = 4
) (
    input  wire logic [IDX_SIZE-1:0] addr0,
    input  wire logic [   WIDTH-1:0] write_data,
    input  wire logic                write_en,
    input  wire logic                clk,
    input  wire logic                reset,
    output      logic [   WIDTH-1:0] read_data,
    output      logic                done
);
  logic [WIDTH-1:0] mem[SIZE-1:0];

  assign read_data = mem[addr0];

  always_ff @(posedge clk) begin
    if (reset) done <= 1'd0;
    else if (write_en) begin
      mem[addr0] <= write_data;
      done <= 1'd1;
    end else done <= 1'd0;
  end
endmodule

module main (
    input  logic go,
    input  logic clk,
    input  logic reset,
    output logic done
);
  localparam logic [1:0] IDLE = 2'd0, LOOP = 2'd1, STORE = 2'd2, DONE = 2'd3;

  logic [1:0] state;
  logic [2:0] i;
  logic [31:0] acc;

  logic [15:0] x_read_data;
  logic [31:0] out_read_data;
  logic x_done, out_done;

  comb_mem_d1 #(
      .WIDTH(16),
      .SIZE(8),
      .IDX_SIZE(3)
  ) x (
      .addr0(i),
      .write_data(16'd0),
      .write_en(1'b0),
      .clk(clk),
      .reset(reset),
      .read_data(x_read_data),
      .done(x_done)
  );

  comb_mem_d1 #(
      .WIDTH(32),
      .SIZE(1),
      .IDX_SIZE(1)
  ) out (
      .addr0(1'b0),
      .write_data(acc),
      .write_en(state == STORE),
      .clk(clk),
      .reset(reset),
      .read_data(out_read_data),
      .done(out_done)
  );

  assign done = state == DONE;

  always_ff @(posedge clk) begin
    if (reset) begin
      state <= IDLE;
      i <= 3'd0;
      acc <= 32'd0;
    end else begin
      case (state)
        IDLE:
        if (go) begin
          state <= LOOP;
          i <= 3'd0;
          acc <= 32'd0;
        end
        LOOP: begin
          acc <= acc + {{16{x_read_data[15]}}, x_read_data};
          i <= i + 3'd1;
          if (i == 3'd7) state <= STORE;
        end
        STORE: state <= DONE;
        DONE: state <= IDLE;
      endcase
    end
  end
endmodule
