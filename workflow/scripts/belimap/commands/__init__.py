"""Sub-commands of the ``belimap`` CLI, one module per command."""
