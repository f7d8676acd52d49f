"""The engine as a service: the training queue, kept runs, the server's settings and the CLI."""
