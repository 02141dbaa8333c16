"""The Streamlit dashboard over the published warehouse (``hubgenome app``).

``streamlit_app.py`` is the router and ``pages/`` the self-contained pages. Pages read the
warehouse only through ``warehouse.py`` (the one cached read-only connection, cached results,
what an old warehouse lacks) and one module of reads per domain: ``ecosystem.py`` (Overview),
``models.py`` (Model lookup), ``families.py`` (Family explorer), ``trait_drift.py`` and
``reproduction.py`` (Drift, Similarity), ``licence_conflicts.py``, ``safety_evidence.py`` and
``console.py`` (SQL console). ``sql.py`` is the safe SQL console's engine (usable without
Streamlit), ``relations.py``, ``ui.py`` and ``tree.py`` the shared presentation, and ``launch.py``
the function the CLI calls to start the server.
"""
