// Test top for the MULT18X18D simulation model: the model and the RTL multiply side by side on
// the same operands, both read through ports. clk/reset/go/done only satisfy mlcalyx-sim.
module mult_check (
    input  logic        clk,
    input  logic        reset,
    input  logic        go,
    output logic        done,
    input  logic [17:0] a,
    input  logic [17:0] b,
    input  logic        signeda,
    input  logic        signedb,
    output logic [35:0] p_model,
    output logic [35:0] p_rtl
);
  assign done = go;
  // The RTL reference: each operand extended by one bit according to its sign flag.
  logic signed [18:0] a_ext, b_ext;
  logic signed [37:0] product;
  assign a_ext = {signeda & a[17], a};
  assign b_ext = {signedb & b[17], b};
  assign product = a_ext * b_ext;
  assign p_rtl = product[35:0];

  MULT18X18D dsp (
      .A17(a[17]), .A16(a[16]), .A15(a[15]), .A14(a[14]), .A13(a[13]), .A12(a[12]),
      .A11(a[11]), .A10(a[10]), .A9(a[9]), .A8(a[8]), .A7(a[7]), .A6(a[6]),
      .A5(a[5]), .A4(a[4]), .A3(a[3]), .A2(a[2]), .A1(a[1]), .A0(a[0]),
      .B17(b[17]), .B16(b[16]), .B15(b[15]), .B14(b[14]), .B13(b[13]), .B12(b[12]),
      .B11(b[11]), .B10(b[10]), .B9(b[9]), .B8(b[8]), .B7(b[7]), .B6(b[6]),
      .B5(b[5]), .B4(b[4]), .B3(b[3]), .B2(b[2]), .B1(b[1]), .B0(b[0]),
      .C17(1'b0), .C16(1'b0), .C15(1'b0), .C14(1'b0), .C13(1'b0), .C12(1'b0),
      .C11(1'b0), .C10(1'b0), .C9(1'b0), .C8(1'b0), .C7(1'b0), .C6(1'b0),
      .C5(1'b0), .C4(1'b0), .C3(1'b0), .C2(1'b0), .C1(1'b0), .C0(1'b0),
      .SIGNEDA(signeda), .SIGNEDB(signedb), .SOURCEA(1'b0), .SOURCEB(1'b0),
      .P35(p_model[35]), .P34(p_model[34]), .P33(p_model[33]), .P32(p_model[32]),
      .P31(p_model[31]), .P30(p_model[30]), .P29(p_model[29]), .P28(p_model[28]),
      .P27(p_model[27]), .P26(p_model[26]), .P25(p_model[25]), .P24(p_model[24]),
      .P23(p_model[23]), .P22(p_model[22]), .P21(p_model[21]), .P20(p_model[20]),
      .P19(p_model[19]), .P18(p_model[18]), .P17(p_model[17]), .P16(p_model[16]),
      .P15(p_model[15]), .P14(p_model[14]), .P13(p_model[13]), .P12(p_model[12]),
      .P11(p_model[11]), .P10(p_model[10]), .P9(p_model[9]), .P8(p_model[8]),
      .P7(p_model[7]), .P6(p_model[6]), .P5(p_model[5]), .P4(p_model[4]),
      .P3(p_model[3]), .P2(p_model[2]), .P1(p_model[1]), .P0(p_model[0])
  );
endmodule
