"""The ``kb`` subcommands, one module per kind of work; kb.cli registers them."""
