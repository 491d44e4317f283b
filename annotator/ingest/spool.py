"""Rows built ahead of their transaction, kept on disk until the transaction reads them back.

A pre-highlighted file is stored in one transaction (whole or not at all), and its rows are
built before that transaction, so the pipeline never holds the write lock. Kept in memory, a
file of 10,000 records would hold every row (text, tokens, suggestions, claims: about 35 KB a
seed-sized document) until the last one is built. A spool pickles each batch of rows to an
unnamed temporary file (in the system's temporary folder, TMPDIR; unlinked as it is made, so it
goes with the process however that ends) and gives them back a batch at a time.
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterator


class Spool:
    """Batches of rows written once, then read back once, in order."""

    def __init__(self):
        self._file = tempfile.TemporaryFile(prefix="annotator-rows-")  # noqa: SIM115 - closed by close()
        self._batches = 0

    def add(self, rows: list[dict]) -> None:
        pickle.dump(rows, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self._batches += 1

    def batches(self) -> Iterator[list[dict]]:
        # pickle.load over our own file, written above in this process: nothing untrusted
        self._file.seek(0)
        for _ in range(self._batches):
            yield pickle.load(self._file)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
