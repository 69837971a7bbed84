"""The `kb` command line: the one package that wires `kb`, `ingest` and `api` together.

`cli.main` holds the command group (the console script `kb`, also `python -m cli`);
each module next to it holds the commands of one concept, built on `cli.common`.
"""
