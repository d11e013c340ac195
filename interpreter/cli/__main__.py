"""`python -m interpreter.cli` runs the `guideline` command line."""

from . import run

run()
