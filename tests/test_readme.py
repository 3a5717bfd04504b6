"""The README's Python example runs as written (documentation that drifts is a bug)."""

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_api_example_runs(tmp_path, monkeypatch):
    text = README.read_text()
    code = re.search(r"## Python API\n\n```python\n(.*?)```", text, re.S).group(1)
    monkeypatch.chdir(tmp_path)  # it saves a trace file
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)
    assert scope["tr"].gate("forget", layer=0).shape == (50, 8)
    assert scope["tr2"].clamped("forget", layer=0).sum() == 10
    assert (tmp_path / "trace.npz").exists()


def test_readme_gives_the_ci_test_command():
    ci = (README.parent / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert ci in README.read_text()
