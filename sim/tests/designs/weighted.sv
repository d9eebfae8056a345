// Second test design for mlcalyx-sim: out[0] = sum over i of (i + 1) * b[i], with b four signed
// 8-bit words and out one signed 64-bit word in a `seq_mem_d1`. Also holds unused memories of
// 1, 5 and 33 bits so that every Verilator storage size (CData, SData, IData, QData) and
// masking can be checked through the by-name access.
//
// Timing (rising edges after go): edge 1 IDLE -> LOOP; edges 2..5 LOOP; edge 6 STORE -> DONE;
// done is seen after edge 6, so run() returns 6.

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

module seq_mem_d1 #(
    parameter WIDTH = 32,
    parameter SIZE = 16,
    parameter IDX_SIZE = 4
) (
    input  wire logic                clk,
    input  wire logic                reset,
    input  wire logic [IDX_SIZE-1:0] addr0,
    input  wire logic                content_en,
    input  wire logic                write_en,
    input  wire logic [   WIDTH-1:0] write_data,
    output      logic [   WIDTH-1:0] read_data,
    output      logic                done
);
  logic [WIDTH-1:0] mem[SIZE-1:0];
  always_ff @(posedge clk) begin
    if (reset) begin
      read_data <= '0;
      done <= 1'd0;
    end else if (content_en && write_en) begin
      mem[addr0] <= write_data;
      done <= 1'd1;
    end else if (content_en) begin
      read_data <= mem[addr0];
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
  logic [1:0] i;
  logic [63:0] acc;
  logic [7:0] b_read_data;
  logic [63:0] out_read_data;
  logic b_done, out_done;

  comb_mem_d1 #(.WIDTH(8), .SIZE(4), .IDX_SIZE(2)) b (
      .addr0(i), .write_data(8'd0), .write_en(1'b0), .clk(clk), .reset(reset),
      .read_data(b_read_data), .done(b_done)
  );

  seq_mem_d1 #(.WIDTH(64), .SIZE(1), .IDX_SIZE(1)) out (
      .clk(clk), .reset(reset), .addr0(1'b0), .content_en(state == STORE),
      .write_en(state == STORE), .write_data(acc), .read_data(out_read_data), .done(out_done)
  );

  // Memories that the logic never touches: only reachable by name.
  logic [0:0] bit_rd;
  logic [4:0] five_rd;
  logic [32:0] wide_rd;
  logic bit_done, five_done, wide_done;
  comb_mem_d1 #(.WIDTH(1), .SIZE(4), .IDX_SIZE(2)) bits (
      .addr0(2'd0), .write_data(1'd0), .write_en(1'b0), .clk(clk), .reset(reset),
      .read_data(bit_rd), .done(bit_done)
  );
  comb_mem_d1 #(.WIDTH(5), .SIZE(3), .IDX_SIZE(2)) five (
      .addr0(2'd0), .write_data(5'd0), .write_en(1'b0), .clk(clk), .reset(reset),
      .read_data(five_rd), .done(five_done)
  );
  comb_mem_d1 #(.WIDTH(33), .SIZE(2), .IDX_SIZE(1)) wide (
      .addr0(1'd0), .write_data(33'd0), .write_en(1'b0), .clk(clk), .reset(reset),
      .read_data(wide_rd), .done(wide_done)
  );

  assign done = state == DONE;

  always_ff @(posedge clk) begin
    if (reset) begin
      state <= IDLE;
      i <= 2'd0;
      acc <= 64'd0;
    end else begin
      case (state)
        IDLE:
        if (go) begin
          state <= LOOP;
          i <= 2'd0;
          acc <= 64'd0;
        end
        LOOP: begin
          acc <= acc + {{56{b_read_data[7]}}, b_read_data} * ({62'd0, i} + 64'd1);
          i <= i + 2'd1;
          if (i == 2'd3) state <= STORE;
        end
        STORE: state <= DONE;
        DONE: state <= IDLE;
      endcase
    end
  end
endmodule
