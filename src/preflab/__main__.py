"""``python -m preflab`` runs the CLI."""

from preflab.cli.main import main

main()
