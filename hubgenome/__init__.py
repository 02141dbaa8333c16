"""hubgenome: crawl the Hugging Face Hub into DuckDB, build a lineage warehouse, analyse and show it.

The repository's top-level folders are this namespace's layers (see the README's architecture
section; ``make lint`` enforces what each may import):

``hubgenome.core``       settings, paths, errors: imported by every layer, imports none of them
``hubgenome.analytics``  pure statistics over warehouse frames (``analytics/``)
``hubgenome.flows``      the crawler, the landing and the Prefect flows (``flows/``)
``hubgenome.local_hub``  the local Hub-compatible server and the synthetic demo corpus (``local_hub/``)
``hubgenome.app``        the Streamlit dashboard over the published warehouse (``app/``)
``hubgenome.demo``       the offline demo: local Hub → crawl → build → report → dashboard
``hubgenome.cli``        the ``hubgenome`` command
"""

__all__ = ["__version__"]
__version__ = "0.1.0"
