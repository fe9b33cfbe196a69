"""The ``celm`` command line: thin Typer commands over the library."""
