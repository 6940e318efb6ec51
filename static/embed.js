/* Swap Tally host script (placeholder) */
