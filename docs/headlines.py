"""Headline figures and the packages table, generated so that they cannot drift.

``benchmarks/headlines.toml`` says, per algorithm, which rows of
``benchmarks/RESULTS.md`` make its headline and how to phrase them; this module finds
those rows and fills the phrases in. The same table goes into the top-level
``README.md`` (between ``<!-- headlines:begin -->`` and ``<!-- headlines:end -->``,
rewritten by ``python docs/generate.py --readme``) and into
``docs/generated/headlines.md``, which ``docs/index.md`` includes.

A row that the spec names and RESULTS.md no longer has is an error of one line naming
it: a headline is never silently shortened. Only the standard library is imported
here (the tests import this module in a process that may have no plugins at all).
"""

from __future__ import annotations

import glob
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
SPEC = ROOT / "benchmarks" / "headlines.toml"
README = ROOT / "README.md"
ALGORITHM_TEMPLATES = ROOT / "docs" / "algorithms"

BEGIN = "<!-- headlines:begin -->"
END = "<!-- headlines:end -->"


class HeadlineError(Exception):
    """The spec and RESULTS.md do not fit together; the message is one line."""


# ------------------------------------------------------------------- RESULTS.md tables


@dataclass(frozen=True)
class Table:
    section: str
    header: tuple[str, ...]
    rows: tuple[dict[str, str], ...]


def _cells(line: str) -> list[str]:
    # Split on pipes that are not escaped (a cell may hold `\|`).
    inner = line.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") and not inner.endswith("\\|") else inner
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", inner)]


def parse_tables(text: str) -> list[Table]:
    """Every Markdown table of ``text``, with the heading it stands under."""
    tables: list[Table] = []
    section = ""
    block: list[str] = []

    def flush() -> None:
        if len(block) >= 2 and re.fullmatch(r"\|?[\s:|-]+\|?", block[1].strip()):
            header = tuple(_cells(block[0]))
            rows = tuple(
                dict(zip(header, cells, strict=True))
                for cells in map(_cells, block[2:])
                if len(cells) == len(header)
            )
            tables.append(Table(section, header, rows))
        block.clear()

    for line in text.splitlines():
        if line.lstrip().startswith("|"):
            block.append(line)
            continue
        flush()
        heading = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if heading:
            section = heading.group(1)
    flush()
    return tables


def find_row(tables: Sequence[Table], section: str, match: Mapping[str, Any], where: str) -> dict:
    """The one row of section ``section`` whose cells equal ``match`` (several columns
    may be needed: DeepSea's rows are keyed by size, agent and settings)."""
    wanted = {str(k): str(v) for k, v in match.items()}
    described = ", ".join(f"{k} = {v!r}" for k, v in wanted.items())
    in_section = [t for t in tables if t.section == section]
    if not in_section:
        sections = ", ".join(dict.fromkeys(repr(t.section) for t in tables))
        raise HeadlineError(
            f"{where}: RESULTS.md has no table under the heading {section!r} "
            f"(headings with tables: {sections})"
        )
    found = [
        row
        for table in in_section
        if set(wanted) <= set(table.header)
        for row in table.rows
        if all(row[k] == v for k, v in wanted.items())
    ]
    if not found:
        raise HeadlineError(f"{where}: RESULTS.md's {section!r} table has no row with {described}")
    if len(found) > 1:
        raise HeadlineError(
            f"{where}: {len(found)} rows of RESULTS.md's {section!r} table have {described}; "
            "match on more columns"
        )
    return found[0]


# ------------------------------------------------------------------------ the phrases


def render_fact(fact: Mapping[str, Any], tables: Sequence[Table], where: str) -> str:
    """One fact: ``text`` with ``{column}`` filled from ``row``, or with ``{name.column}``
    filled from ``rows.name`` when a fact compares several rows."""
    section = fact.get("section")
    text = fact.get("text")
    if not isinstance(section, str) or not isinstance(text, str):
        raise HeadlineError(f"{where}: a fact needs `section` and `text` strings")
    if ("row" in fact) == ("rows" in fact):
        raise HeadlineError(f"{where}: a fact has either `row` or `rows`")
    if "row" in fact:
        rows = {"": find_row(tables, section, fact["row"], where)}
    else:
        rows = {
            name: find_row(tables, section, match, f"{where} rows.{name}")
            for name, match in fact["rows"].items()
        }

    def fill(m: re.Match[str]) -> str:
        key = m.group(1)
        name, column = "", key
        if "" not in rows:
            name, _, column = key.partition(".")
            if name not in rows:
                raise HeadlineError(
                    f"{where}: {{{key}}} names no row; rows: {', '.join(sorted(rows))}"
                )
        row = rows[name]
        if column not in row:
            raise HeadlineError(
                f"{where}: {{{key}}}: RESULTS.md's {section!r} table has no column "
                f"{column!r} (columns: {', '.join(row)})"
            )
        return row[column]

    return re.sub(r"\{([^{}]+)\}", fill, " ".join(text.split()))


@dataclass(frozen=True)
class Headline:
    algorithms: tuple[str, ...]
    package: str
    actions: str
    text: str


def load_spec(path: Path = SPEC) -> list[dict[str, Any]]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise HeadlineError(f"{path}: {exc}") from None
    entries = data.get("algorithm")
    if not isinstance(entries, list) or not entries:
        raise HeadlineError(f"{path}: no [[algorithm]] entries")
    return entries


def headlines(spec: Sequence[Mapping[str, Any]], results_text: str) -> list[Headline]:
    tables = parse_tables(results_text)
    out = []
    for entry in spec:
        names = entry.get("names")
        if not isinstance(names, list) or not names:
            raise HeadlineError(f"headlines.toml: an [[algorithm]] without `names`: {entry}")
        where = f"headlines.toml [{', '.join(names)}]"
        facts = [
            render_fact(fact, tables, f"{where} fact {i + 1}")
            for i, fact in enumerate(entry.get("fact", []))
        ]
        out.append(
            Headline(
                tuple(names),
                str(entry.get("package", "")),
                str(entry.get("actions", "")),
                "; ".join(facts) or "no benchmark yet",
            )
        )
    return out


# ----------------------------------------------------------------------------- tables


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def headline_table(
    items: Sequence[Headline],
    default_envs: Mapping[str, str],
    *,
    results_link: str,
    algo_link: str | None,
    package_link: Mapping[str, str] | None,
) -> str:
    """The Markdown table. ``algo_link`` is a format string for an algorithm's page
    (``{name}``), used where ``docs/algorithms/<name>.template.md`` exists;
    ``package_link`` maps a distribution to the path of its README."""
    lines = [
        "| algorithm | package | actions | default env | headline "
        f"(from [`benchmarks/RESULTS.md`]({results_link}), which names each row's machine) |",
        "|---|---|---|---|---|",
    ]
    for item in items:
        names = []
        for name in item.algorithms:
            page = ALGORITHM_TEMPLATES / f"{name}.template.md"
            if algo_link and page.is_file():
                names.append(f"[`{name}`]({algo_link.format(name=name)})")
            else:
                names.append(f"`{name}`")
        package = f"`{item.package}`"
        if package_link and item.package in package_link:
            package = f"[{package}]({package_link[item.package]})"
        missing = [n for n in item.algorithms if n not in default_envs]
        if missing:
            raise HeadlineError(
                f"headlines.toml names {', '.join(missing)}, which is not installed "
                "(uv sync installs every package)"
            )
        envs = list(dict.fromkeys(default_envs[n] for n in item.algorithms))
        lines.append(
            f"| {', '.join(names)} | {package} | {_cell(item.actions)} | "
            f"{', '.join(envs)} | {_cell(item.text)} |"
        )
    return "\n".join(lines)


def readme_table(default_envs: Mapping[str, str]) -> str:
    """The table README.md carries between the markers (links relative to the root)."""
    items = headlines(load_spec(), RESULTS.read_text(encoding="utf-8"))
    links = {
        name: f"{folder.relative_to(ROOT).as_posix()}/README.md"
        for name, folder in workspace_members().items()
    }
    return headline_table(
        items,
        default_envs,
        results_link="benchmarks/RESULTS.md",
        algo_link=None,
        package_link=links,
    )


def docs_table(default_envs: Mapping[str, str]) -> str:
    """The table docs/index.md includes (links relative to docs/index.md)."""
    items = headlines(load_spec(), RESULTS.read_text(encoding="utf-8"))
    return headline_table(
        items,
        default_envs,
        results_link="generated/benchmarks.md",
        algo_link="generated/algorithms/{name}.md",
        package_link=None,
    )


def readme_block(text: str) -> str:
    """What README.md holds between the markers (without them), stripped."""
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        raise HeadlineError(f"README.md must hold {BEGIN} and then {END}, once each")
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip()


def rewrite_readme(text: str, table: str) -> str:
    readme_block(text)  # checks the markers
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{table}\n{END}{tail}"


# ---------------------------------------------------------------------------- packages


def workspace_members() -> dict[str, Path]:
    """Distribution name -> folder, from the root pyproject's workspace globs."""
    root = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    members = {}
    for pattern in root["tool"]["uv"]["workspace"]["members"]:
        for folder in sorted(glob.glob(str(ROOT / pattern))):
            pyproject = Path(folder) / "pyproject.toml"
            if pyproject.is_file():
                project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
                members[project["name"]] = Path(folder)
    return members


def packages_table() -> str:
    """Every workspace package: folder, distribution and import name, description, the
    workspace packages it needs beside it, extras."""
    lines = [
        "| path | package (import) | what | needs | extras |",
        "|---|---|---|---|---|",
    ]
    members = workspace_members()
    for name, folder in members.items():
        data = tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8"))
        project = data["project"]
        wheel = data.get("tool", {}).get("hatch", {}).get("build", {}).get("targets", {})
        packages = wheel.get("wheel", {}).get("packages", [])
        module = Path(packages[0]).name if packages else name.replace("-", "_")
        extras = ", ".join(f"`{e}`" for e in project.get("optional-dependencies", {})) or "–"
        requires = [re.split(r"[\s\[<>=!~;]", r, maxsplit=1)[0] for r in project["dependencies"]]
        needs = ", ".join(f"`{r}`" for r in requires if r in members) or "–"
        path = folder.relative_to(ROOT).as_posix() + "/"
        lines.append(
            f"| `{path}` | `{name}` (`{module}`) | {_cell(project.get('description', ''))} | "
            f"{needs} | {extras} |"
        )
    return "\n".join(lines)
