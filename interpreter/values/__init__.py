"""L0 values: unknown, exact numbers, durations, text echo, suggestions, value types, UCUM units."""
