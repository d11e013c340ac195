"""`python -m interpreter` runs the `guideline` command line."""

from .cli import run

run()
