"""Swap Tally: live tallies of prisoner exchanges, stage by stage, with every figure's source."""
