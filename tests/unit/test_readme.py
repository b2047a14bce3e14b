"""The README's processor table lists exactly the bundled specs."""

from __future__ import annotations

import re
from pathlib import Path

from engine._spec import bundled_spec_paths

ROOT = Path(__file__).resolve().parents[2]


def test_readme_lists_every_bundled_processor() -> None:
    readme = (ROOT / "README.md").read_text()
    listed = set(re.findall(r"^\| `([a-z0-9_]+)` \|", readme, flags=re.M))
    assert listed == {path.stem for path in bundled_spec_paths()}
