"""L1 the expression language: parse, check, quantities, code generation, the function registry."""
