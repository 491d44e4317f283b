"""A plain, non-editable install carries templates, static files, htmx, seeds, schema and
migrations, and serves pages from them."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_wheel_serves_pages_without_the_checkout(tmp_path):
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    [wheel] = (tmp_path / "dist").glob("*.whl")
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    names = {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()}
    for needed in (
        "annotator/_templates/base.html",
        "annotator/_static/css/app.css",
        "annotator/_vendor/htmx/htmx.min.js",
        "annotator/schema/record.schema.json",
        "annotator/migrations/versions/0001_initial_schema.py",
        "annotator/data/labels.json",
        "annotator/data/units.json",
        "annotator/_seeds/000_a10f70cb594038cf.txt",
    ):
        assert needed in names, needed
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(site)!r})
        import annotator
        assert annotator.__file__.startswith({str(site)!r}), annotator.__file__
        import annotator.cli  # every subpackage the command imports is in the wheel
        from annotator.app import create_app
        from annotator.db import ensure_schema, get_db
        app = create_app({{"INSTANCE_PATH": {str(tmp_path / "instance")!r}}})
        ensure_schema(get_db(app))
        client = app.test_client()
        assert client.get("/").headers["Location"].startswith("/login")
        page = client.get("/login")
        assert page.status_code == 200 and b"Log in" in page.data, page.status_code
        assert client.get("/static/css/app.css").status_code == 200
        assert client.get("/vendor/htmx/htmx.min.js").status_code == 200
        assert app.config["SEEDS_DIR"].startswith({str(site)!r})
        print("ok")
    """)
    ran = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert ran.returncode == 0 and ran.stdout.strip().endswith("ok"), ran.stdout + ran.stderr
