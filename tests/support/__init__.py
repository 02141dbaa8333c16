"""Helpers shared by the tests, one module per thing they help with; fixtures stay in the conftest.py files.

* ``shared_data`` – where the real corpora and reference files live (``HUBGENOME_SHARED_DIR``), or a skip;
* ``corpus_files`` – corpus folders written and read in code (``models-NN.jsonl.gz`` and friends);
* ``hub_server`` – the tiny corpus the local Hub server tests share, and reading the server's answers;
* ``crawling`` – fast clients, one-call crawls and what a crawl landed in ``raw.duckdb``;
* ``landings`` – raw landings written directly through ``hubgenome.flows.landing`` (no server);
* ``warehouses`` – warehouses built from a landing or a corpus, querying them, and comparing their tables row for row;
* ``night_clock`` – the simulated clock of tests that run several pipeline nights in a row;
* ``pipeline_night`` – one pipeline night in a process of its own (``python -m tests.support.pipeline_night``);
* ``pages`` – running one dashboard page with Streamlit's ``AppTest`` and reading what it shows;
* ``cli`` – the ``hubgenome`` command run in a process of its own.

Nothing here reads the repository checkout: the product comes from the installed ``hubgenome``
package, so the tests also run from a copy of ``tests/`` against a non-editable install.
"""
