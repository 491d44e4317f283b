"""`python -m annotator.cli`: the same command as `annotator`."""

from annotator.cli import main

main()
