"""hubgenome's orchestration layer: the Hub client, the raw landing, the local Hub server and the Prefect flows.

Flows stay thin: each ``@flow`` reads extract → transform → load over the plain functions of the
modules beside it, so every step can be tested without Prefect.
"""

__all__ = ["__version__"]
__version__ = "0.1.0"
