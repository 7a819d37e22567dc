"""The shape of the code, held by checks that can fail: layers, and one unit of work per request."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from academy import PROJECT_ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def view_modules() -> list[Path]:
    """Every module that defines routes: it registers a view on a blueprint."""
    found = []
    for path in sorted((PROJECT_ROOT / "academy").rglob("*.py")):
        if re.search(r"^@\w*bp\.(route|get|post)\(", path.read_text(), re.M):
            found.append(path)
    return found


def run_lint_imports(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=root,
        capture_output=True,
        text=True,
        env={"PATH": str(LINT_IMPORTS.parent), "PYTHONPATH": str(root)},
        timeout=300,
    )


def test_view_modules_are_found():
    names = {p.relative_to(PROJECT_ROOT).as_posix() for p in view_modules()}
    assert "academy/catalogue/views.py" in names
    assert "academy/providers/manage/course_editor.py" in names


def test_no_view_commits_or_rolls_back():
    offenders = []
    for path in view_modules():
        name = path.relative_to(PROJECT_ROOT).as_posix()
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"\.(commit|rollback)\(", line):
                offenders.append(f"{name}:{number}: {line.strip()}")
    assert offenders == [], "views must leave commit and rollback to academy.unit_of_work"


def test_layers_contract_is_kept():
    result = run_lint_imports(PROJECT_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "forbidden"),
    [
        ("academy/taxonomy/models.py", "from academy.catalogue.models import Course"),
        ("academy/audit.py", "import academy.curation.views"),
        # same layer, so only the views-are-leaves contract can see it
        ("academy/enrolment/services.py", "import academy.enrolment.views"),
    ],
)
def test_layers_contract_sees_an_upward_import(tmp_path: Path, module: str, forbidden: str):
    """A copy of the code with one import pointing up the layers breaks the contract."""
    copy = tmp_path / "project"
    copy.mkdir()
    shutil.copytree(PROJECT_ROOT / "academy", copy / "academy")
    shutil.copy(PROJECT_ROOT / "pyproject.toml", copy / "pyproject.toml")
    target = copy / module
    target.write_text(target.read_text() + f"\n{forbidden}  # noqa\n")
    result = run_lint_imports(copy)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
    assert forbidden.split()[1] in result.stdout


def _long_functions() -> list[str]:
    """Functions over 60 lines, and views over 30, that carry no ``# Long because:`` comment."""
    import ast

    found = []
    for path in sorted((PROJECT_ROOT / "academy").rglob("*.py")):
        source = path.read_text()
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            length = node.end_lineno - node.lineno + 1 + len(node.decorator_list)
            is_view = any(
                isinstance(d, ast.Call)
                and isinstance(d.func, ast.Attribute)
                and d.func.attr in ("route", "get", "post")
                for d in node.decorator_list
            )
            body = lines[node.lineno - 1 : node.end_lineno]
            if (length > 60 or (is_view and length > 30)) and not any(
                "# Long because:" in line for line in body
            ):
                found.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno} {node.name}")
    return found


def test_functions_are_short_or_say_why():
    assert _long_functions() == [], "split these, or say why in a '# Long because:' comment"
