// A NAND gate into a flip-flop with an inverted output (DFFHQN), then an
// inverter, mapped onto ASAP7 cells: the smallest netlist with a combinational
// cell, a register and a clock, for the OpenSTA test on ASAP7's ps/fF units.
module top(clk, a, y);
  input clk;
  input [1:0] a;
  output y;
  wire n1, n2;
  NAND2xp33_ASAP7_75t_R _1_ ( .A(a[0]), .B(a[1]), .Y(n1) );
  DFFHQNx1_ASAP7_75t_R _2_ ( .CLK(clk), .D(n1), .QN(n2) );
  INVx1_ASAP7_75t_R _3_ ( .A(n2), .Y(y) );
endmodule
