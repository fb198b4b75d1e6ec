"""No import cycle anywhere in src/preflab.

The graph is read from the source with ``ast``: every ``import``/``from ... import``, at module
level and deferred inside functions alike (a deferred import only hides a cycle until the
function runs). An edge goes from a module to each preflab module it names: ``from preflab.x
import y`` points at ``preflab.x.y`` when ``y`` is a submodule, else at ``preflab.x``. Parent
packages are not added as edges: Python runs a package's ``__init__`` before any of its
submodules, so that order is fixed and cannot form a cycle of its own.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "preflab"


def _modules() -> dict[str, Path]:
    found = {}
    for path in (SRC / PACKAGE).rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _targets(module: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The preflab modules ``module`` imports, wherever in the file the import stands."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            parent = _absolute(module, path.name == "__init__.py", node)
            names = [f"{parent}.{a.name}" if f"{parent}.{a.name}" in known else parent for a in node.names]
        else:
            continue
        for name in names:
            while name and name not in known:  # ``import preflab.x.y`` of a name inside a module
                name = name.rpartition(".")[0]
            if name.startswith(PACKAGE) and name != module:
                out.add(name)
    return out


def import_graph() -> dict[str, set[str]]:
    known = _modules()
    return {module: _targets(module, path, known) for module, path in known.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One shortest cycle per strongly connected component (Tarjan), then the component's
    members when it holds more modules than that cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(component)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    found = []
    for component in components:
        cycle = _one_cycle(graph, set(component))
        extra = sorted(set(component) - set(cycle))
        found.append(cycle + ([f"(same knot: {', '.join(extra)})"] if extra else []))
    return sorted(found)


def _one_cycle(graph: dict[str, set[str]], members: set[str]) -> list[str]:
    """A shortest cycle through the component's first module, for a readable message."""
    start = min(members)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v] & members):
                if w == start:
                    return paths[v] + [start]
                if w not in paths:
                    paths[w] = paths[v] + [w]
                    nxt.append(w)
        frontier = nxt
    return sorted(members)


def test_the_cycle_finder_finds_a_deferred_cycle(tmp_path):
    """The walker sees an import inside a function, and Tarjan reports the loop."""
    tree = ast.parse("def f():\n    from preflab.b import g\n")
    assert any(isinstance(n, ast.ImportFrom) and n.module == "preflab.b" for n in ast.walk(tree))
    graph = {"preflab.a": {"preflab.b"}, "preflab.b": {"preflab.c"}, "preflab.c": {"preflab.a"}, "preflab.d": set()}
    assert cycles(graph) == [["preflab.a", "preflab.b", "preflab.c", "preflab.a"]]
    pkg = tmp_path / "preflab"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("import preflab.b\n")
    (pkg / "b.py").write_text("def later():\n    from . import a\n")
    known = {"preflab": pkg / "__init__.py", "preflab.a": pkg / "a.py", "preflab.b": pkg / "b.py"}
    assert _targets("preflab.b", pkg / "b.py", known) == {"preflab.a"}
    assert cycles({m: _targets(m, p, known) for m, p in known.items()}) == [["preflab.a", "preflab.b", "preflab.a"]]


def test_src_has_no_import_cycle():
    graph = import_graph()
    assert len(graph) > 50  # the walk found the package
    found = cycles(graph)
    assert not found, "import cycles in src/preflab:\n" + "\n".join(" → ".join(c) for c in found)


def package_of(module: str) -> str:
    """``preflab.llm.client`` → ``llm``; a top-level module is its own package."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "(root)"


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for module, targets in graph.items():
        out.setdefault(package_of(module), set()).update(package_of(t) for t in targets)
    return {pkg: targets - {pkg} for pkg, targets in out.items()}


def test_no_package_cycle():
    """Packages import each other one way only (``rm`` ⇄ ``quality`` was one such knot)."""
    assert cycles(package_graph(import_graph())) == []


#: The layers, lowest first (docs/architecture.md#layers). A module imports only from its own
#: layer or a lower one; within the parts layer, the package-cycle test keeps the order one-way.
LAYERS: list[tuple[str, set[str]]] = [
    ("core", {"(root)", "errors", "records", "config", "redact", "paths", "progress", "prompting"}),
    ("io", {"io", "provenance"}),
    ("executor", {"executor"}),
    ("parts", {"llm", "rm", "methods", "judges", "evaluation", "quality", "augmentation", "report"}),
    ("pipelines", {"pipelines"}),
    ("api", {"api"}),
    ("cli", {"cli", "__main__"}),
]


def layer_of(package: str) -> int:
    for i, (_, packages) in enumerate(LAYERS):
        if package in packages:
            return i
    raise AssertionError(f"package {package!r} is in no layer: add it to LAYERS (and docs/architecture.md)")


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    found = []
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            low, high = layer_of(package_of(module)), layer_of(package_of(target))
            if high > low:
                found.append(f"{module} ({LAYERS[low][0]}) imports {target} ({LAYERS[high][0]})")
    return found


def test_layers_import_only_downwards():
    """core → io → executor → parts → pipelines → api → cli: the shell sits on the library,
    never the reverse, deferred imports inside functions included."""
    assert upward_imports(import_graph()) == []


def test_the_layer_check_sees_an_upward_import():
    graph = {"preflab.api.generate": {"preflab.cli.options"}, "preflab.cli.main": {"preflab.api.generate"}}
    assert upward_imports(graph) == ["preflab.api.generate (api) imports preflab.cli.options (cli)"]
    assert cycles(package_graph({"preflab.rm.losses": {"preflab.quality.length"},
                                 "preflab.quality.strength": {"preflab.rm.recipes"}})) == [["quality", "rm", "quality"]]


def test_only_the_shell_imports_typer_and_only_main_imports_the_shell():
    offenders = []
    for module, path in _modules().items():
        text = path.read_text(encoding="utf-8")
        if package_of(module) not in ("cli",) and any(isinstance(n, (ast.Import, ast.ImportFrom)) and
                                                       "typer" in ([a.name for a in n.names] if isinstance(n, ast.Import)
                                                                   else [n.module or ""])
                                                       for n in ast.walk(ast.parse(text))):
            offenders.append(module)
    assert offenders == []
    graph = import_graph()
    importers = sorted(m for m, targets in graph.items() if package_of(m) != "cli"
                       and any(package_of(t) == "cli" for t in targets))
    assert importers == ["preflab.__main__"]
