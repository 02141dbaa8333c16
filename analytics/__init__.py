"""Analyses of the lineage warehouse: the "Anatomy of a Machine Learning Ecosystem" reproduction and more.

The warehouse (dbt) owns cleaning and modelling; this package owns the statistics that researchers
cite and the dashboard shows. Every public function here is pure: it takes polars frames with the
documented columns (the warehouse marts, or hand-built frames in tests), returns polars frames or
small dataclasses, never reads files or calls the Hub, and is deterministic given its ``seed``.

Modules
-------
lineage
    Family (weakly connected component) sizes, CCDF and heavy-tail fits, depth/width/out-degree,
    top parents, who has children of their own, family growth over time.
similarity
    "Genetic" similarity of related models: metadata and card genomes, motif sampling where every
    motif instance is equally likely, Levenshtein/bag-of-words/TF-IDF similarity with bootstrap CIs.
drift
    Directed drift of traits along edges: mutation rates, transition graphs, the optimal linear
    ordering (an exact ILP), language-count and card drift.
licenses
    Licence-compliance summary of the warehouse's licence conflicts.
safety
    Family safety evidence: published and per-model safety evaluations joined to lineage.
reproduction
    The side-by-side table of the paper's numbers and ours.
"""
