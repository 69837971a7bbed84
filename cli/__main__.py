"""`python -m cli`: the same command line as the console script `kb`."""

from cli.main import main

main(prog_name="kb")
