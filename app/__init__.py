"""The Streamlit dashboard over the published warehouse (``hubgenome app``).

``streamlit_app.py`` is the router, ``pages/`` the self-contained pages, ``data.py`` the one cached
read-only connection and its loaders, ``sql.py`` the safe SQL console's engine (usable without
Streamlit) and ``launch.py`` the function the CLI calls to start the server.
"""
