"""The command-line interface: thin adapters from arguments to stage APIs to reports."""
