// A NAND gate into a flip-flop, mapped onto OSU 0.18 um cells: the smallest
// netlist with a combinational cell, a register and a clock, for the OpenSTA and
// Icarus adapters' tests.
module top(clk, a, y);
  input clk;
  input [1:0] a;
  output y;
  wire n1;
  NAND2X1 _1_ ( .A(a[0]), .B(a[1]), .Y(n1) );
  DFFPOSX1 _2_ ( .CLK(clk), .D(n1), .Q(y) );
endmodule
