"""The shape of the code a newcomer can change: small files, short functions, imports one way.

What this proves:
- no module imports another that (directly or through others) imports it back;
- a function-level import of Kiosk's own code says why on its line or the line above;
- the data layer imports nothing above it (views, services, serving);
- SQL is written only in the data layer (kiosk/data/, kiosk/db.py, kiosk/migrations/);
- no file in kiosk/ is over 400 lines, and no function over 60 lines unless a comment above it
  says why it is long.
"""

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "kiosk"
MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 60
SQL = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER|PRAGMA|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|WITH)\s")
# Where SQL may be written: the data layer and the connection/schema modules.
SQL_HOMES = ("data/", "db.py", "migrations.py", "migrations/")
# Modules the data layer may import: the connection, text helpers and the outcome vocabulary.
DATA_MAY_IMPORT = ("kiosk.db", "kiosk.text", "kiosk.outcomes", "kiosk.data", "kiosk.migrations")


def module_files():
    return sorted(path for path in PACKAGE.rglob("*.py") if "__pycache__" not in path.parts)


def module_name(path):
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(path): path for path in module_files()}


def resolve(node, current):
    """The Kiosk modules an import NODE in module CURRENT names."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = current.split(".") if MODULES[current].name == "__init__.py" else current.split(".")[:-1]
            package = package[: len(package) - node.level + 1]
            base = ".".join(package + ([base] if base else []))
        names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
    found = set()
    for name in names:
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        if name.startswith("kiosk") and name != current:
            found.add(name)
    return found


def imports_of(name):
    """(module-level imports, [(function-level import node, imported modules)]) of module NAME."""
    tree = ast.parse(MODULES[name].read_text())
    top, inner = set(), []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            top |= resolve(node, name)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for child in ast.walk(node):
                if isinstance(child, (ast.Import, ast.ImportFrom)) and resolve(child, name):
                    inner.append((child, resolve(child, name)))
    return top, inner


def graph():
    edges = {}
    for name in MODULES:
        top, inner = imports_of(name)
        edges[name] = top | {module for _node, modules in inner for module in modules}
    return edges


def find_cycle(edges):
    """One import cycle as a list of modules, or None."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == "open":
                return stack[stack.index(target):] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(edges):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_no_import_cycles():
    assert find_cycle(graph()) is None


def test_function_level_imports_of_kiosk_say_why():
    unexplained = []
    for name, path in MODULES.items():
        lines = path.read_text().splitlines()
        for node, _modules in imports_of(name)[1]:
            here, above = lines[node.lineno - 1], lines[node.lineno - 2].strip()
            if "#" not in here and not above.startswith("#"):
                unexplained.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    assert unexplained == []


def test_the_data_layer_imports_nothing_above_it():
    upward = {}
    for name in MODULES:
        if name.startswith("kiosk.data"):
            top, inner = imports_of(name)
            wrong = {m for m in top | {m for _n, ms in inner for m in ms} if not m.startswith(DATA_MAY_IMPORT)}
            if wrong:
                upward[name] = sorted(wrong)
    assert upward == {}


def sql_strings(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.match(node.value):
            yield node.lineno, node.value.strip().splitlines()[0][:60]


def test_sql_is_written_only_in_the_data_layer():
    found = []
    for path in module_files():
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith(SQL_HOMES):
            continue
        found += [f"{relative}:{line}: {text}" for line, text in sql_strings(path)]
    assert found == []


@pytest.mark.parametrize("path", module_files(), ids=lambda path: path.relative_to(PACKAGE).as_posix())
def test_file_is_short(path):
    assert len(path.read_text().splitlines()) <= MAX_FILE_LINES


def long_functions(path):
    lines = path.read_text().splitlines()
    for node in ast.walk(ast.parse("\n".join(lines))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1
            first = min([node.lineno] + [decorator.lineno for decorator in node.decorator_list])
            comment = []
            above = first - 2
            while above >= 0 and lines[above].strip().startswith("#"):
                comment.append(lines[above].lower())
                above -= 1
            explained = any("long" in line for line in comment)
            if length > MAX_FUNCTION_LINES and not explained:
                yield f"{node.name} ({length} lines)"


def test_long_function_finder_sees_a_long_function(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(70))
    (tmp_path / "long.py").write_text(f"def long():\n{body}\n\n# Long because a table reads best whole.\ndef explained():\n{body}\n")
    assert list(long_functions(tmp_path / "long.py")) == ["long (71 lines)"]


@pytest.mark.parametrize("path", module_files(), ids=lambda path: path.relative_to(PACKAGE).as_posix())
def test_functions_are_short(path):
    assert list(long_functions(path)) == []
