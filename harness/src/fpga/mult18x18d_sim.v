// Behavioural simulation model of the Lattice ECP5 MULT18X18D (18x18 multiplier), for
// simulating netlists written by Yosys `synth_ecp5` (Yosys ships only a blackbox). No comment
// line here may start with the tool's name: it would be read as a directive.
//
// Modelled: the mode Yosys's DSP mapping (share/lattice/dsp_map_18x18.v) instantiates: no input,
// pipeline or output registers (every REG_*_CLK = "NONE"), SOURCEA = SOURCEB = 0, no bypass.
// Then P = A * B over 36 bits, each operand sign- or zero-extended by SIGNEDA / SIGNEDB, and
// the cascade and register outputs pass the operands through. Any other setting stops the
// simulation with $error instead of computing something unverified.
// Port list and parameters as in Yosys's share/ecp5/cells_bb.v (Yosys 0.70).
// verilator lint_off UNUSEDSIGNAL
// verilator lint_off UNUSEDPARAM
module MULT18X18D (
    input  wire A17,
    input  wire A16,
    input  wire A15,
    input  wire A14,
    input  wire A13,
    input  wire A12,
    input  wire A11,
    input  wire A10,
    input  wire A9,
    input  wire A8,
    input  wire A7,
    input  wire A6,
    input  wire A5,
    input  wire A4,
    input  wire A3,
    input  wire A2,
    input  wire A1,
    input  wire A0,
    input  wire B17,
    input  wire B16,
    input  wire B15,
    input  wire B14,
    input  wire B13,
    input  wire B12,
    input  wire B11,
    input  wire B10,
    input  wire B9,
    input  wire B8,
    input  wire B7,
    input  wire B6,
    input  wire B5,
    input  wire B4,
    input  wire B3,
    input  wire B2,
    input  wire B1,
    input  wire B0,
    input  wire C17,
    input  wire C16,
    input  wire C15,
    input  wire C14,
    input  wire C13,
    input  wire C12,
    input  wire C11,
    input  wire C10,
    input  wire C9,
    input  wire C8,
    input  wire C7,
    input  wire C6,
    input  wire C5,
    input  wire C4,
    input  wire C3,
    input  wire C2,
    input  wire C1,
    input  wire C0,
    input  wire SIGNEDA,
    input  wire SIGNEDB,
    input  wire SOURCEA,
    input  wire SOURCEB,
    input  wire CLK3,
    input  wire CLK2,
    input  wire CLK1,
    input  wire CLK0,
    input  wire CE3,
    input  wire CE2,
    input  wire CE1,
    input  wire CE0,
    input  wire RST3,
    input  wire RST2,
    input  wire RST1,
    input  wire RST0,
    input  wire SRIA17,
    input  wire SRIA16,
    input  wire SRIA15,
    input  wire SRIA14,
    input  wire SRIA13,
    input  wire SRIA12,
    input  wire SRIA11,
    input  wire SRIA10,
    input  wire SRIA9,
    input  wire SRIA8,
    input  wire SRIA7,
    input  wire SRIA6,
    input  wire SRIA5,
    input  wire SRIA4,
    input  wire SRIA3,
    input  wire SRIA2,
    input  wire SRIA1,
    input  wire SRIA0,
    input  wire SRIB17,
    input  wire SRIB16,
    input  wire SRIB15,
    input  wire SRIB14,
    input  wire SRIB13,
    input  wire SRIB12,
    input  wire SRIB11,
    input  wire SRIB10,
    input  wire SRIB9,
    input  wire SRIB8,
    input  wire SRIB7,
    input  wire SRIB6,
    input  wire SRIB5,
    input  wire SRIB4,
    input  wire SRIB3,
    input  wire SRIB2,
    input  wire SRIB1,
    input  wire SRIB0,
    output wire SROA17,
    output wire SROA16,
    output wire SROA15,
    output wire SROA14,
    output wire SROA13,
    output wire SROA12,
    output wire SROA11,
    output wire SROA10,
    output wire SROA9,
    output wire SROA8,
    output wire SROA7,
    output wire SROA6,
    output wire SROA5,
    output wire SROA4,
    output wire SROA3,
    output wire SROA2,
    output wire SROA1,
    output wire SROA0,
    output wire SROB17,
    output wire SROB16,
    output wire SROB15,
    output wire SROB14,
    output wire SROB13,
    output wire SROB12,
    output wire SROB11,
    output wire SROB10,
    output wire SROB9,
    output wire SROB8,
    output wire SROB7,
    output wire SROB6,
    output wire SROB5,
    output wire SROB4,
    output wire SROB3,
    output wire SROB2,
    output wire SROB1,
    output wire SROB0,
    output wire ROA17,
    output wire ROA16,
    output wire ROA15,
    output wire ROA14,
    output wire ROA13,
    output wire ROA12,
    output wire ROA11,
    output wire ROA10,
    output wire ROA9,
    output wire ROA8,
    output wire ROA7,
    output wire ROA6,
    output wire ROA5,
    output wire ROA4,
    output wire ROA3,
    output wire ROA2,
    output wire ROA1,
    output wire ROA0,
    output wire ROB17,
    output wire ROB16,
    output wire ROB15,
    output wire ROB14,
    output wire ROB13,
    output wire ROB12,
    output wire ROB11,
    output wire ROB10,
    output wire ROB9,
    output wire ROB8,
    output wire ROB7,
    output wire ROB6,
    output wire ROB5,
    output wire ROB4,
    output wire ROB3,
    output wire ROB2,
    output wire ROB1,
    output wire ROB0,
    output wire ROC17,
    output wire ROC16,
    output wire ROC15,
    output wire ROC14,
    output wire ROC13,
    output wire ROC12,
    output wire ROC11,
    output wire ROC10,
    output wire ROC9,
    output wire ROC8,
    output wire ROC7,
    output wire ROC6,
    output wire ROC5,
    output wire ROC4,
    output wire ROC3,
    output wire ROC2,
    output wire ROC1,
    output wire ROC0,
    output wire P35,
    output wire P34,
    output wire P33,
    output wire P32,
    output wire P31,
    output wire P30,
    output wire P29,
    output wire P28,
    output wire P27,
    output wire P26,
    output wire P25,
    output wire P24,
    output wire P23,
    output wire P22,
    output wire P21,
    output wire P20,
    output wire P19,
    output wire P18,
    output wire P17,
    output wire P16,
    output wire P15,
    output wire P14,
    output wire P13,
    output wire P12,
    output wire P11,
    output wire P10,
    output wire P9,
    output wire P8,
    output wire P7,
    output wire P6,
    output wire P5,
    output wire P4,
    output wire P3,
    output wire P2,
    output wire P1,
    output wire P0,
    output wire SIGNEDP
);
  parameter REG_INPUTA_CLK = "NONE";
  parameter REG_INPUTA_CE = "CE0";
  parameter REG_INPUTA_RST = "RST0";
  parameter REG_INPUTB_CLK = "NONE";
  parameter REG_INPUTB_CE = "CE0";
  parameter REG_INPUTB_RST = "RST0";
  parameter REG_INPUTC_CLK = "NONE";
  parameter REG_INPUTC_CE = "CE0";
  parameter REG_INPUTC_RST = "RST0";
  parameter REG_PIPELINE_CLK = "NONE";
  parameter REG_PIPELINE_CE = "CE0";
  parameter REG_PIPELINE_RST = "RST0";
  parameter REG_OUTPUT_CLK = "NONE";
  parameter REG_OUTPUT_CE = "CE0";
  parameter REG_OUTPUT_RST = "RST0";
  parameter CLK0_DIV = "ENABLED";
  parameter CLK1_DIV = "ENABLED";
  parameter CLK2_DIV = "ENABLED";
  parameter CLK3_DIV = "ENABLED";
  parameter HIGHSPEED_CLK = "NONE";
  parameter GSR = "ENABLED";
  parameter CAS_MATCH_REG = "FALSE";
  parameter SOURCEB_MODE = "B_SHIFT";
  parameter MULT_BYPASS = "DISABLED";
  parameter RESETMODE = "SYNC";

  wire [17:0] a = {A17, A16, A15, A14, A13, A12, A11, A10, A9, A8, A7, A6, A5, A4, A3, A2, A1, A0};
  wire [17:0] b = {B17, B16, B15, B14, B13, B12, B11, B10, B9, B8, B7, B6, B5, B4, B3, B2, B1, B0};
  wire [17:0] c = {C17, C16, C15, C14, C13, C12, C11, C10, C9, C8, C7, C6, C5, C4, C3, C2, C1, C0};
  wire [35:0] a_ext = {{18{SIGNEDA & a[17]}}, a};
  wire [35:0] b_ext = {{18{SIGNEDB & b[17]}}, b};
  wire [35:0] p = a_ext * b_ext;
  assign {P35, P34, P33, P32, P31, P30, P29, P28, P27, P26, P25, P24, P23, P22, P21, P20, P19, P18, P17, P16, P15, P14, P13, P12, P11, P10, P9, P8, P7, P6, P5, P4, P3, P2, P1, P0} = p;
  assign {SROA17, SROA16, SROA15, SROA14, SROA13, SROA12, SROA11, SROA10, SROA9, SROA8, SROA7, SROA6, SROA5, SROA4, SROA3, SROA2, SROA1, SROA0} = a;
  assign {SROB17, SROB16, SROB15, SROB14, SROB13, SROB12, SROB11, SROB10, SROB9, SROB8, SROB7, SROB6, SROB5, SROB4, SROB3, SROB2, SROB1, SROB0} = b;
  assign {ROA17, ROA16, ROA15, ROA14, ROA13, ROA12, ROA11, ROA10, ROA9, ROA8, ROA7, ROA6, ROA5, ROA4, ROA3, ROA2, ROA1, ROA0} = a;
  assign {ROB17, ROB16, ROB15, ROB14, ROB13, ROB12, ROB11, ROB10, ROB9, ROB8, ROB7, ROB6, ROB5, ROB4, ROB3, ROB2, ROB1, ROB0} = b;
  assign {ROC17, ROC16, ROC15, ROC14, ROC13, ROC12, ROC11, ROC10, ROC9, ROC8, ROC7, ROC6, ROC5, ROC4, ROC3, ROC2, ROC1, ROC0} = c;
  assign SIGNEDP = SIGNEDA | SIGNEDB;

  initial begin
    if (REG_INPUTA_CLK != "NONE" || REG_INPUTB_CLK != "NONE" || REG_INPUTC_CLK != "NONE" ||
        REG_PIPELINE_CLK != "NONE" || REG_OUTPUT_CLK != "NONE" || MULT_BYPASS != "DISABLED")
      $error("MULT18X18D model: only the unregistered multiply mode is modelled");
  end
  always @* begin
    if (SOURCEA || SOURCEB) $error("MULT18X18D model: SOURCEA/SOURCEB (shift input) not modelled");
  end
endmodule
// verilator lint_on UNUSEDPARAM
// verilator lint_on UNUSEDSIGNAL
