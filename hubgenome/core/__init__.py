"""What every layer shares and nothing else: settings, file locations and the project's error types.

This package imports nothing from the rest of hubgenome, so any layer may import it.
"""
