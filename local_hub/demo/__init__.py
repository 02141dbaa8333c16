"""The synthetic demo Hub: a seeded generator calibrated against real Hub snapshots.

``make demo`` has to run offline on a fresh machine, and tests need a Hub whose lineage is known
exactly. :mod:`hubgenome.local_hub.demo.synthetic` writes such a Hub in the corpus layout of
``shared/hubdata/README.md``; its distributions come from ``params.json``, which
:mod:`hubgenome.local_hub.demo.calibrate` recomputes from the real corpora and which names the corpus behind
every figure. Every generated model, author and card is labelled synthetic.
"""

from __future__ import annotations

from hubgenome.local_hub.demo.synthetic import (
    DemoManifest,
    EvolutionManifest,
    evolve_corpus,
    generate_corpus,
    load_params,
)

__all__ = ["DemoManifest", "EvolutionManifest", "evolve_corpus", "generate_corpus", "load_params"]
