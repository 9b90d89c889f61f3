"""``python -m zeropark`` runs the command line interface."""

from zeropark.entry import main

main()
