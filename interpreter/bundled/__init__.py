"""Data shipped inside the wheel: schemas and bundled guidelines."""
