"""hubgenome's crawler and Prefect flows: the Hub client, the raw landing, the sweeps and the nightly pipeline.

Flows stay thin: each ``@flow`` reads extract → transform → load over the plain functions of the
modules beside it, so every step can be tested without Prefect.
"""
