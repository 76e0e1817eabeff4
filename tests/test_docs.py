"""The docs' generated parts: README.md's headline table is what the generator gives.

``docs/headlines.py`` is imported from its file (it is a script beside
``docs/generate.py``, not an installed module); it needs only the standard library,
and the default envs come from the plugin modules, which import no TensorFlow.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from rl_core.plugins import load_algorithms

ROOT = Path(__file__).resolve().parents[1]


def _load_headlines():
    spec = importlib.util.spec_from_file_location("rl_docs_headlines", ROOT / "docs/headlines.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    return module


headlines = _load_headlines()


def _default_envs() -> dict[str, str]:
    _, registry = load_algorithms()
    return {spec.name: spec.default_env for spec in registry.specs()}


def test_readme_headline_table_is_generated_from_results():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    expected = headlines.readme_table(_default_envs())
    assert headlines.readme_block(readme) == expected, (
        "README.md's headline table is out of date: run `uv run python docs/generate.py "
        "--readme` and commit README.md"
    )


RESULTS = """\
# Benchmark results

## Learning

| benchmark | algo | env | final eval return | seeds >= target |
|---|---|---|---|---|
| ppo-cartpole | ppo | CartPole-v1 | 500.0 ± 0.0 | 5/5 (>= 475) |
| ppo-pendulum | ppo | Pendulum-v1 | -188.8 ± 2.6 | 3/3 (>= -250) |

## Deep exploration: DeepSea

| size | agent | settings | seeds >= 0.9 |
|---|---|---|---|
| 10 | ngu | 8 envs | 1/3 |
| 20 | ngu | 8 envs | 5/10 |
| 20 | ngu | 4 envs | 0/2 |
"""


def _entry(*facts):
    return [{"names": ["ppo"], "package": "rl-ppo", "actions": "Box", "fact": list(facts)}]


def test_a_fact_is_phrased_from_its_row_cells():
    fact = {
        "section": "Learning",
        "row": {"benchmark": "ppo-pendulum"},
        "text": "{env}: {final eval return}, seeds at target {seeds >= target}",
    }
    (item,) = headlines.headlines(_entry(fact), RESULTS)
    assert item.text == "Pendulum-v1: -188.8 ± 2.6, seeds at target 3/3 (>= -250)"


def test_rows_are_found_by_several_columns():
    # size and settings both matter: a matcher that used only the first key (size) or
    # only `agent` would pick another row, or report several.
    fact = {
        "section": "Deep exploration: DeepSea",
        "rows": {
            "a": {"size": "20", "agent": "ngu", "settings": "8 envs"},
            "b": {"size": 10, "agent": "ngu"},
        },
        "text": "DeepSea 20: {a.seeds >= 0.9}; DeepSea 10: {b.seeds >= 0.9}",
    }
    (item,) = headlines.headlines(_entry(fact), RESULTS)
    assert item.text == "DeepSea 20: 5/10; DeepSea 10: 1/3"


def test_a_missing_row_is_one_line_naming_it():
    fact = {"section": "Learning", "row": {"benchmark": "ppo-acrobot"}, "text": "{env}"}
    with pytest.raises(headlines.HeadlineError) as info:
        headlines.headlines(_entry(fact), RESULTS)
    message = str(info.value)
    assert "\n" not in message
    assert "benchmark = 'ppo-acrobot'" in message and "'Learning'" in message


def test_an_ambiguous_match_is_an_error():
    fact = {"section": "Deep exploration: DeepSea", "row": {"size": "20"}, "text": "{agent}"}
    with pytest.raises(headlines.HeadlineError, match="2 rows"):
        headlines.headlines(_entry(fact), RESULTS)


def test_an_unknown_column_or_section_is_an_error():
    fact = {"section": "Learning", "row": {"benchmark": "ppo-cartpole"}, "text": "{steps/s}"}
    with pytest.raises(headlines.HeadlineError, match="no column 'steps/s'"):
        headlines.headlines(_entry(fact), RESULTS)
    fact = {"section": "Speed", "row": {"benchmark": "ppo-cartpole"}, "text": "{env}"}
    with pytest.raises(headlines.HeadlineError, match="no table under the heading 'Speed'"):
        headlines.headlines(_entry(fact), RESULTS)


def test_rewrite_readme_replaces_only_the_marked_block():
    text = f"# rl\n\nintro\n\n{headlines.BEGIN}\n| old |\n{headlines.END}\n\nafter\n"
    new = headlines.rewrite_readme(text, "| new |")
    assert new == f"# rl\n\nintro\n\n{headlines.BEGIN}\n| new |\n{headlines.END}\n\nafter\n"
    with pytest.raises(headlines.HeadlineError):
        headlines.rewrite_readme("no markers", "| new |")


def test_packages_table_lists_every_workspace_member():
    table = headlines.packages_table()
    for name in headlines.workspace_members():
        assert f"`{name}`" in table
    assert len(headlines.workspace_members()) >= 7
