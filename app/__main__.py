"""`python -m app`: the swaptally command."""

from app.cli import main

main()
