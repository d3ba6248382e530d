"""The one-way house (docs/architecture.md): no import circle between modules of ``src/naef`` and no import
against the direction of the layers, read from the code with ``ast`` — imports at module level and inside
functions alike (an import inside a function hides a dependency from start-up time, not from the design).

Layers, lowest first; a module may import its own layer and the ones below it:

    errors, version, resources, format (the base: anyone)
    scenario                     (the inputs; may use ledger.governance for its [governance] keys)
    engine                       (computes: the chain, the kernel, the oracles)
    parallel                     (runners of the engine's chunks)
    analysis, mdf                (statistics, ratings, sizing, stress, sensitivity; the MDF's projects)
    studies                      (run, monte_carlo, size, stress, sensitivity: typed results, the public API)
    report, disclosure, demo     (files for people and for registries; the demonstration ledger)
    commands, web                (the CLI's commands and the web app: thin adapters)
    cli                          (the ``naef`` command)

The ledger stands apart: it imports nothing of scenario, engine, parallel, analysis, mdf, studies, report,
disclosure, demo, commands, web or cli. ``naef/__init__`` imports only the base at module level (the public API is
loaded lazily, PEP 562), so ``import naef`` loads no NumPy, Numba, SciPy or pandas.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "naef"

#: rank of each top-level part of the package (a module may import ranks <= its own)
LAYERS: dict[str, int] = {
    "errors": 0, "version": 0, "resources": 0, "format": 0, "lazy": 0,
    "scenario": 1,
    "engine": 2,
    "parallel": 3,
    "analysis": 4, "mdf": 4,
    "studies": 5,
    "report": 6, "disclosure": 6, "demo": 6,
    "commands": 7, "web": 7,
    "cli": 8, "__main__": 8,
}
#: who may import the ledger (besides the ledger itself): scenario only its governance rules
LEDGER_USERS = {"report", "disclosure", "demo", "commands", "web", "cli"}
SCENARIO_MAY_USE = {"naef.ledger.governance"}
#: the base modules the ledger may import
LEDGER_MAY_USE = {"errors", "version", "resources", "format", "lazy", "ledger"}
#: modules that must not import the ``naef`` package itself (its __init__): they use naef.version / naef.errors
NO_PACKAGE_IMPORT = {"scenario", "engine", "parallel", "analysis", "mdf", "studies", "ledger"}

#: Arrows still against the direction, each removed by the helper named (issue 16); the lead empties this list
#: after merging their branches. An entry that no longer occurs fails the test, so the list only shrinks.
PENDING_ARROWS: dict[tuple[str, str], str] = {}
#: Import circles still present, each broken by the helper named; the lead empties this list after merging.
PENDING_CIRCLES: dict[frozenset[str], str] = {}


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _lazy_names() -> dict[str, str]:
    """``naef``'s lazily loaded names → the module that defines them (``_LAZY`` in naef/__init__)."""
    tree = ast.parse((PACKAGE / "__init__.py").read_text("utf-8"))
    for node in tree.body:
        if isinstance(node, ast.AnnAssign | ast.Assign):
            targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
            if any(isinstance(t, ast.Name) and t.id == "_LAZY" for t in targets) and node.value is not None:
                value = ast.literal_eval(node.value)
                assert isinstance(value, dict)
                return {str(k): str(v) for k, v in value.items()}
    return {}


LAZY = _lazy_names()


def _owner(name: str) -> str:
    """The module of ``MODULES`` that ``name`` (a module, or a module's attribute) lives in."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name


def _imports(module: str, path: Path) -> Iterator[tuple[str, int]]:
    """(imported module of naef, line) for every import statement anywhere in the file."""
    tree = ast.parse(path.read_text("utf-8"))
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "naef" or alias.name.startswith("naef."):
                    yield _owner(alias.name), node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = module.split(".") if is_package else module.split(".")[:-1]
                pkg = pkg[: len(pkg) - node.level + 1]
                base = ".".join([*pkg, base] if base else pkg)
            if not (base == "naef" or base.startswith("naef.")):
                continue
            for alias in node.names:
                if base == "naef" and alias.name in LAZY:
                    yield _owner(LAZY[alias.name]), node.lineno
                else:
                    yield _owner(f"{base}.{alias.name}"), node.lineno


def _graph() -> dict[str, dict[str, int]]:
    graph: dict[str, dict[str, int]] = {m: {} for m in MODULES}
    for module, path in MODULES.items():
        for target, line in _imports(module, path):
            if target and target != module:
                graph[module].setdefault(target, line)
    return graph


GRAPH = _graph()


def _part(module: str) -> str:
    return module.split(".")[1] if "." in module else ""


def _against(importer: str, imported: str) -> str | None:
    """Why ``importer`` may not import ``imported`` (None when it may)."""
    a, b = _part(importer), _part(imported)
    if imported == "naef":
        return "imports the naef package (use naef.version / naef.errors)" if a in NO_PACKAGE_IMPORT else None
    if a == "" or a == b:
        return None
    if a == "ledger":
        return None if b in LEDGER_MAY_USE else "the ledger stands apart"
    if b == "ledger":
        if a in LEDGER_USERS or (a == "scenario" and imported in SCENARIO_MAY_USE):
            return None
        return "only report, disclosure, demo, commands, web and cli use the ledger (scenario: its governance rules)"
    if a not in LAYERS or b not in LAYERS:
        return f"{a or b!r} has no layer in tests/test_architecture.py (add it and to docs/architecture.md)"
    if LAYERS[b] > LAYERS[a]:
        return f"{a} (layer {LAYERS[a]}) imports {b} (layer {LAYERS[b]})"
    return None


def test_every_part_of_the_package_has_a_layer() -> None:
    parts = {_part(m) for m in MODULES} - {""}
    assert parts - set(LAYERS) - {"ledger"} == set()


def test_no_import_against_the_direction() -> None:
    found = {}
    for importer, targets in GRAPH.items():
        for imported, line in targets.items():
            why = _against(importer, imported)
            if why is not None:
                found[(importer, imported)] = f"{MODULES[importer].relative_to(SRC)}:{line}: {why}"
    unexpected = {k: v for k, v in found.items() if k not in PENDING_ARROWS}
    assert not unexpected, "imports against the direction:\n" + "\n".join(sorted(unexpected.values()))
    gone = sorted(f"{a} -> {b}" for a, b in PENDING_ARROWS if (a, b) not in found)
    assert not gone, "no longer against the direction, remove from PENDING_ARROWS: " + ", ".join(gone)


def _circles(graph: dict[str, dict[str, int]]) -> list[frozenset[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[frozenset[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(graph[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph.get(child, {}))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                comp = set()
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    comp.add(top)
                    if top == node:
                        break
                if len(comp) > 1:
                    out.append(frozenset(comp))
    return out


def test_no_import_circle() -> None:
    circles = _circles(GRAPH)
    unexpected = [c for c in circles if c not in PENDING_CIRCLES]
    assert not unexpected, "import circles:\n" + "\n".join(" <-> ".join(sorted(c)) for c in unexpected)
    gone = [c for c in PENDING_CIRCLES if c not in circles]
    assert not gone, "no longer a circle, remove from PENDING_CIRCLES: " + "; ".join(" <-> ".join(sorted(c))
                                                                                   for c in gone)


def test_the_checker_sees_imports_inside_functions() -> None:
    """The graph is not only the module-level imports: a circle hidden inside a function is still a circle."""
    graph = {"naef.a": {"naef.b": 1}, "naef.b": {"naef.a": 9}, "naef.c": {"naef.a": 1}}
    assert _circles(graph) == [frozenset({"naef.a", "naef.b"})]
    assert _against("naef.engine.x", "naef.analysis.y") is not None
    assert _against("naef.engine.x", "naef") is not None
    assert _against("naef.ledger.log", "naef.scenario.models") is not None
    assert _against("naef.scenario.models", "naef.ledger.governance") is None
    assert _against("naef.commands.size", "naef.studies.size") is None
    # a function-level import in the real code is in the graph (naef.cli mounts the commands inside functions)
    assert "naef.commands.size" in GRAPH["naef.cli"]


def test_naef_init_imports_only_the_base() -> None:
    """At run time ``naef/__init__`` imports only the base; the public API comes through ``_LAZY`` (PEP 562), and
    the imports under ``if TYPE_CHECKING:`` are for type checkers only."""
    tree = ast.parse((PACKAGE / "__init__.py").read_text("utf-8"))
    runtime = set()
    for node in tree.body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            continue
        for sub in ast.walk(node):
            if isinstance(sub, ast.ImportFrom) and (sub.module or "").startswith("naef"):
                runtime.add(sub.module)
            elif isinstance(sub, ast.Import):
                runtime.update(a.name for a in sub.names if a.name.startswith("naef"))
    assert runtime <= {"naef.errors", "naef.version"}, f"naef/__init__ imports {sorted(runtime)} at run time"
    import naef

    for name, module in LAZY.items():
        assert module in MODULES, f"_LAZY[{name!r}]: no module {module}"
        assert name in naef.__all__
        assert getattr(naef, name) is getattr(__import__(module, fromlist=[name]), name)


@pytest.mark.parametrize(("module", "heavy"), [
    ("naef", ("numpy", "numba", "scipy", "pandas", "pydantic")),
    ("naef.ledger", ("numpy", "numba", "scipy", "pandas")),
    ("naef.studies.settings", ("numpy", "numba", "scipy", "pandas")),
    ("naef.cli", ("numpy", "numba", "scipy", "pandas")),
    ("naef.scenario", ("sqlalchemy", "naef.ledger.log", "naef.ledger.approvals")),
])
def test_importing_loads_nothing_heavy(module: str, heavy: tuple[str, ...]) -> None:
    """``import naef`` loads no NumPy, Numba, SciPy, pandas (nor pydantic); ``import naef.ledger``, the CLI and the
    run settings (read by the CLI at start-up) no NumPy, Numba, SciPy or pandas; ``import naef.scenario`` (which
    reads the ledger's governance rules) not the ledger's storage (SQLAlchemy, the log, the approvals).
    ``python -X importtime -c "import naef"`` shows the same."""
    code = f"import sys; import {module}; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", f"import {module} loads {out.stdout.strip()}"
