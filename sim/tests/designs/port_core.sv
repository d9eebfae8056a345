// A core reached only through its ports: a 4-word buffer the host writes and reads through a
// narrow load/store port (io_addr, io_wdata, io_we; io_rdata one cycle after io_addr), and a
// computation started by go that doubles every word, then raises done for one cycle.
module port_core (
    input  logic        clk,
    input  logic        reset,
    input  logic        go,
    output logic        done,
    input  logic [1:0]  io_addr,
    input  logic [15:0] io_wdata,
    input  logic        io_we,
    output logic [15:0] io_rdata
);
  logic [15:0] buffer[4];
  logic [2:0] i;
  logic busy;
  always_ff @(posedge clk) begin
    io_rdata <= buffer[io_addr];
    done <= 1'b0;
    if (reset) begin
      busy <= 1'b0;
      i <= '0;
    end else if (!busy && go && !done) begin
      busy <= 1'b1;
      i <= '0;
    end else if (busy) begin
      if (i == 3'd4) begin
        busy <= 1'b0;
        done <= 1'b1;
      end else begin
        buffer[i[1:0]] <= buffer[i[1:0]] << 1;
        i <= i + 3'd1;
      end
    end else if (io_we) begin
      buffer[io_addr] <= io_wdata;
    end
  end
endmodule
