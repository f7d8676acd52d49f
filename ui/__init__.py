"""The app's shared code (pages -> ui -> model): one job per module."""
