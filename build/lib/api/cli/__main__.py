"""`python -m api.cli`: the gridmap command line."""

from api.cli import main

main()
