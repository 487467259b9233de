"""The project's import graph, measured: modules, imports (and how many hide inside functions),
cycles between modules and between packages, private names used outside their module, and the
largest modules.

    python bench/import_graph.py            # a short table
    python bench/import_graph.py --json     # everything, for comparing two checkouts
    python bench/import_graph.py --root ../other-checkout

Only the project's own packages count (those listed in PACKAGES that exist under --root).
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from pathlib import Path

PACKAGES = ("kb", "indexer", "search", "analysis", "reports", "datasette_plugins")


def modules(root: Path) -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        base = root / package
        if not (base / "__init__.py").is_file():
            continue
        for path in sorted(base.rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _resolve(module: str, is_package: bool, level: int, target: str | None) -> str:
    if level == 0:
        return target or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([target] if target else []))


def _owner(name: str, known: dict[str, Path]) -> str | None:
    """The project module a dotted import name belongs to (longest known prefix)."""
    parts = name.split(".")
    for k in range(len(parts), 0, -1):
        candidate = ".".join(parts[:k])
        if candidate in known:
            return candidate
    return None


def imports(known: dict[str, Path]):
    """(importer, imported module, names, inside a function?) for every project import."""
    out = []
    for module, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        is_package = path.name == "__init__.py"
        nested = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for inner in ast.walk(node):
                    if isinstance(inner, (ast.Import, ast.ImportFrom)):
                        nested.add(id(inner))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    owner = _owner(alias.name, known)
                    out.append((module, owner, [], id(node) in nested, alias.name))
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(module, is_package, node.level, node.module)
                for alias in node.names:
                    # `from pkg import module` imports a module; `from module import name` a name
                    full = f"{base}.{alias.name}"
                    owner = full if full in known else _owner(base, known)
                    names = [] if full in known else [alias.name]
                    out.append((module, owner, names, id(node) in nested, base))
    return out


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one member (Tarjan)."""
    index, low, stack, on, result, counter = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10_000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                result.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return result


def floor(module: str, root: Path) -> str:
    """A package, or a subpackage of one (``kb.core``, ``kb.app``): the unit of layering."""
    parts = module.split(".")
    if len(parts) > 1 and (root / parts[0] / parts[1] / "__init__.py").is_file():
        return ".".join(parts[:2])
    return parts[0]


def measure(root: Path) -> dict:
    known = modules(root)
    all_imports = imports(known)
    project = [i for i in all_imports if i[1] is not None]
    edges: dict[str, set[str]] = {m: set() for m in known}
    package_edges: dict[str, set[str]] = {}
    private = []
    for importer, imported, names, _, _ in project:
        if imported != importer:
            edges[importer].add(imported)
        a, b = floor(importer, root), floor(imported, root)
        if a != b:
            package_edges.setdefault(a, set()).add(b)
        for name in names:
            if name.startswith("_") and not name.startswith("__"):
                private.append(f"{importer} <- {imported}.{name}")
    attributes = []
    for module, path in known.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            # obj._name where obj is not self/cls: another object's private state
            if (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
                    and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))):
                attributes.append(f"{module}:{node.lineno} {ast.unparse(node)}")
    lines = {m: len(p.read_text(encoding="utf-8").splitlines()) for m, p in known.items()}
    largest = sorted(lines.items(), key=lambda kv: -kv[1])[:5]
    return {
        "modules": len(known),
        "imports": len(all_imports),
        "imports_in_functions": sum(1 for i in all_imports if i[3]),
        "project_imports": len(project),
        "project_imports_in_functions": sum(1 for i in project if i[3]),
        "module_cycles": cycles(edges),
        "package_cycles": cycles(package_edges),
        "package_edges": {k: sorted(v) for k, v in sorted(package_edges.items())},
        "private_names_across_modules": sorted(private),
        "private_attributes_of_other_objects": attributes,
        "largest_modules": largest,
        "lines": sum(lines.values()),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(Path(__file__).resolve().parent.parent))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = measure(Path(args.root))
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return
    print(f"modules                        {result['modules']} ({result['lines']} lines)")
    print(f"imports (in functions)         {result['imports']} ({result['imports_in_functions']})")
    print(f"project imports (in functions) {result['project_imports']} "
          f"({result['project_imports_in_functions']})")
    print(f"module cycles                  {len(result['module_cycles'])}")
    for cycle in result["module_cycles"]:
        print(f"    {' <-> '.join(cycle)}")
    print(f"package cycles                 {len(result['package_cycles'])}")
    for cycle in result["package_cycles"]:
        print(f"    {' <-> '.join(cycle)}")
    print(f"private names across modules   {len(result['private_names_across_modules'])}")
    for item in result["private_names_across_modules"]:
        print(f"    {item}")
    print(f"private attributes of others   {len(result['private_attributes_of_other_objects'])}")
    for item in result["private_attributes_of_other_objects"]:
        print(f"    {item}")
    print("largest modules                " + ", ".join(f"{m} {n}" for m, n in result["largest_modules"]))
    print("package imports                " + "; ".join(
        f"{k} -> {', '.join(v)}" for k, v in result["package_edges"].items()))


if __name__ == "__main__":
    main()
