"""Fixtures shared by the command-line tests."""

from __future__ import annotations

import subprocess

import pytest

from tests.cli.test_interrupt import ANNOTATOR, environment, stored_documents, write_documents


@pytest.fixture(scope="module")
def plain_project(tmp_path_factory):
    """2,000 documents stored without pre-highlighting (fast), for suggest and export to work on."""
    root = tmp_path_factory.mktemp("plain")
    write_documents(root / "docs", 2000)
    instance = root / "instance"
    done = subprocess.run(
        [ANNOTATOR, "import", str(root / "docs"), "--no-prehighlight", "--quiet"],
        env=environment(instance, processes=1),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert stored_documents(instance) == 2000
    return instance
