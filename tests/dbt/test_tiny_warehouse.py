"""The warehouse on a hand-built landing whose lineage, licences and history are known exactly."""

from __future__ import annotations

from pathlib import Path

from tests.support.warehouses import query


def test_edges_relations_and_flags(tiny_warehouse: Path) -> None:
    rows = query(
        tiny_warehouse,
        """
        select child_model_id, parent_model_id, relation, relation_basis, parent_match, is_tree_edge
        from fct_lineage_edges order by 1, 2
        """,
    )
    assert rows == [
        ("a/dangling", "gpt2", "finetune", "inferred", "dangling", False),
        ("a/ft", "org/base", "finetune", "typed_tag", "exact", True),
        ("a/lora", "org/base", "adapter", "inferred", "case_insensitive", True),
        ("a/merge", "org/base", "merge", "inferred", "exact", True),
        ("a/merge", "other/x", "merge", "inferred", "exact", False),
        ("a/q", "a/ft", "quantized", "inferred", "exact", True),
        ("c/x", "c/y", "finetune", "inferred", "exact", False),
        ("c/y", "c/x", "finetune", "inferred", "exact", True),
        ("c/z", "c/y", "finetune", "inferred", "exact", True),
    ]


def test_edge_sources_are_merged(tiny_warehouse: Path) -> None:
    (sources,) = query(
        tiny_warehouse,
        "select edge_sources from fct_lineage_edges where child_model_id = 'a/ft'",
    )[0]
    assert sources == ["bare_tag", "card_data", "typed_tag"]


def test_roots_depths_and_cycle_break(tiny_warehouse: Path) -> None:
    rows = dict(
        (model_id, (root, depth))
        for model_id, root, depth in query(tiny_warehouse, "select model_id, root_model_id, depth from dim_models")
    )
    assert rows["org/base"] == ("org/base", 0)
    assert rows["a/ft"] == ("org/base", 1)
    assert rows["a/q"] == ("org/base", 2)
    assert rows["a/merge"] == ("org/base", 1)
    assert rows["a/lora"] == ("org/base", 1)
    assert rows["a/dangling"] == ("a/dangling", 0)
    assert rows["a/self"] == ("a/self", 0)
    # c/x <-> c/y is a cycle: broken at c/x (smallest id), which becomes the root.
    assert rows["c/x"] == ("c/x", 0)
    assert rows["c/y"] == ("c/x", 1)
    assert rows["c/z"] == ("c/x", 2)


def test_anomalies_listed(tiny_warehouse: Path) -> None:
    rows = query(tiny_warehouse, "select model_id, anomaly_type from fct_lineage_anomalies order by 1")
    assert rows == [("a/self", "self_loop"), ("c/x", "cycle"), ("c/y", "cycle")]


def test_families(tiny_warehouse: Path) -> None:
    (size, depth, width, generations, merges), *_ = query(
        tiny_warehouse,
        """
        select family_size, max_depth, max_width, nodes_per_generation, merge_children
        from dim_families where family_id = 'org/base'
        """,
    )
    assert (size, depth, width, generations, merges) == (5, 2, 3, [1, 3, 1], 1)
    (total,) = query(tiny_warehouse, "select sum(family_size) from dim_families")[0]
    (models,) = query(tiny_warehouse, "select count(*) from dim_models")[0]
    assert total == models == 12


def test_latest_state_and_history(tiny_warehouse: Path) -> None:
    (licenses,) = query(tiny_warehouse, "select license_ids from dim_models where model_id = 'a/ft'")[0]
    assert licenses == ["mit"]
    versions = query(
        tiny_warehouse,
        """
        select version_number, license_ids, is_current, valid_to is null
        from fct_model_history where model_id = 'a/ft' order by version_number
        """,
    )
    assert versions == [(1, ["apache-2.0"], False, False), (2, ["mit"], True, True)]
    (other_versions,) = query(tiny_warehouse, "select count(*) from fct_model_history where model_id <> 'a/ft'")[0]
    assert other_versions == 11


def test_license_conflicts(tiny_warehouse: Path) -> None:
    rows = query(
        tiny_warehouse,
        "select child_model_id, parent_model_id, rule_id from fct_license_conflicts order by 1, 3",
    )
    # a/ft (mit) under llama3; a/merge (mit) under llama3 and under cc-by-nc-4.0;
    # a/lora declares nothing under llama3.
    assert ("a/ft", "org/base", "LC01") in rows
    assert ("a/merge", "org/base", "LC01") in rows
    assert ("a/merge", "other/x", "LC04") in rows
    assert ("a/lora", "org/base", "LC07") in rows
    explanation = query(tiny_warehouse, "select explanation from fct_license_conflicts limit 1")[0][0]
    assert len(explanation) > 40


def test_traits_and_cards(tiny_warehouse: Path) -> None:
    rows = dict(
        (row[0], row[1:])
        for row in query(
            tiny_warehouse,
            """
            select model_id, license_category, language_codes, has_card, is_auto_generated,
                   has_front_matter, is_front_matter_valid
            from dim_models
            """,
        )
    )
    assert rows["org/base"] == ("commercial_custom", ["en", "fr"], True, False, True, True)
    assert rows["a/ft"][:2] == ("permissive", ["en"])
    assert rows["a/q"][2:] == (True, False, True, False)
    assert rows["other/x"][:2] == ("use_restricted", ["zh"])
    transitions = query(
        tiny_warehouse,
        """
        select trait, parent_value, child_value, is_changed, mutation
        from fct_trait_transitions where edge_id = 'org/base -> a/ft' order by trait
        """,
    )
    assert ("license", "llama3", "mit", True, 1.0) in transitions
    assert ("language", "en,fr", "en", True, 0.5) in transitions
    drift = query(
        tiny_warehouse,
        """
        select parent_is_auto_generated, child_is_auto_generated, parent_has_card, child_has_card
        from fct_card_drift where edge_id = 'org/base -> a/ft'
        """,
    )[0]
    assert drift == (False, True, True, True)


def test_ecosystem_daily(tiny_warehouse: Path) -> None:
    rows = query(
        tiny_warehouse,
        """
        select crawl_date::varchar, models, models_with_counters, downloads_30d, downloads_all_time, likes
        from fct_ecosystem_daily order by 1
        """,
    )
    # Every model counts 10 downloads and 1 like; the tiny landing has no all-time downloads.
    assert rows == [("2024-03-01", 12, 12, 120, None, 12), ("2024-03-03", 12, 12, 120, None, 12)]


def test_counter_history_is_intervals(tiny_warehouse: Path) -> None:
    """Counters are validity intervals: a sighting with unchanged counters writes nothing new."""
    rows = query(
        tiny_warehouse,
        """
        select model_id, downloads_30d, likes, downloads_all_time_delta, likes_delta, observation_source,
               strftime(timezone('UTC', valid_from), '%Y-%m-%d'), valid_to, ended_by
        from fct_model_counters
        """,
    )
    model_ids = [model_id for (model_id,) in query(tiny_warehouse, "select model_id from dim_models")]
    expected = {model_id: (10, 1, None, None, "listing_crawl", "2024-03-01", None, None) for model_id in model_ids}
    # a/ft's second crawl listed the same counters: still its one interval, open (no counters sweep
    # ran, so nothing ends the others either).
    assert len(rows) == len(model_ids) == 12
    assert {model_id: values for model_id, *values in rows} == {key: list(value) for key, value in expected.items()}
    sightings = dict(query(tiny_warehouse, "select model_id, sightings from dim_model_lifecycle"))
    assert sightings == {model_id: 2 if model_id == "a/ft" else 1 for model_id in model_ids}


def test_family_daily_sums_the_intervals_valid_at_each_days_end(tiny_warehouse: Path) -> None:
    rows = query(
        tiny_warehouse,
        """
        select family_day_id, models_observed, downloads_30d, downloads_all_time, likes, permissive_models,
               commercial_custom_models, use_restricted_models, unlicensed_models
        from fct_family_daily order by 1
        """,
    )
    # Single-model families are left out; a/ft's licence changed from apache-2.0 to mit, both permissive.
    assert rows == [
        ("c/x@2024-03-01", 3, 30, None, 3, 0, 0, 0, 3),
        ("c/x@2024-03-03", 3, 30, None, 3, 0, 0, 0, 3),
        ("org/base@2024-03-01", 5, 50, None, 5, 3, 1, 0, 1),
        ("org/base@2024-03-03", 5, 50, None, 5, 3, 1, 0, 1),
    ]
