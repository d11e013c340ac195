"""L2 static analysis of a guideline: one rule per check, intervals and thresholds."""
