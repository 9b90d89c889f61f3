"""``python -m zeropark`` runs the command line interface."""

from zeropark.cli import main

main()
