"""A local, Hub-compatible HTTP server and the synthetic corpus the offline demo serves from it.

No machine that develops or tests hubgenome reaches huggingface.co, so the crawler is proven against
``server`` (``hubgenome serve-hub``), driven by the real ``huggingface_hub`` client; ``demo``
generates a small synthetic corpus calibrated on the real Hub data for ``hubgenome demo``.
Nothing here is imported by the crawler or the dashboard.
"""
