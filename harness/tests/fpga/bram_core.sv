// Block RAMs behind the load/store port, to check the DP16KD simulation model against the RTL:
// a 1024 x 16 ROM (initial values, registered read) at addresses 0..1023 and a 2048 x 9 RAM
// (written through the port) at 2048..4095. io_rdata follows io_addr one cycle later.
module bram_core (
    input  logic        clk,
    input  logic        reset,
    input  logic        go,
    output logic        done,
    input  logic [11:0] io_addr,
    input  logic [15:0] io_wdata,
    input  logic        io_we,
    output logic [15:0] io_rdata
);
  logic [15:0] rom[1024];
  logic [8:0] ram[2048];
  logic [15:0] rom_q;
  logic [8:0] ram_q;
  logic ram_selected;

  initial begin
    for (int i = 0; i < 1024; i++) rom[i] = 16'((i * 40503) ^ 16'h5a5a);
  end

  always_ff @(posedge clk) begin
    rom_q <= rom[io_addr[9:0]];
    ram_q <= ram[io_addr[10:0]];
    if (io_we && io_addr[11]) ram[io_addr[10:0]] <= io_wdata[8:0];
    ram_selected <= io_addr[11];
    done <= go && !done && !reset;
  end

  assign io_rdata = ram_selected ? {7'b0, ram_q} : rom_q;
endmodule
