"""Rows built ahead of their transaction, kept on disk until the transaction reads them back.

A pre-highlighted file is stored in one transaction (whole or not at all), and its rows are
built before that transaction, so the pipeline never holds the write lock. Kept in memory, a
file of 10,000 records would hold every row (text, tokens, suggestions, claims: about 35 KB a
seed-sized document) until the last one is built. A spool pickles each batch of rows to an
unnamed temporary file (in the system's temporary folder, TMPDIR; unlinked as it is made, so it
goes with the process however that ends) and gives them back a batch at a time. Where the
temporary folder cannot take them (a full disk, most likely), the import stops with a problem
naming the file.
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterator

from annotator.problems import Problem


class SpoolFailed(Exception):
    """A large file's rows could not be written to, or read back from, their spool."""

    def __init__(self, where: str, reason: OSError):
        super().__init__(where, str(reason))
        self.where, self.reason = where, reason.strerror or str(reason)

    @property
    def problem(self) -> Problem:
        return Problem(
            self.where,
            None,
            f"could not keep this file's pre-highlighted rows in the temporary folder ({self.reason}); "
            "nothing stored from here on (what was stored before stays): free space there, or set "
            "TMPDIR to another folder, and run the import again",
        )


class Spool:
    """Batches of rows written once, then read back once, in order; `where` (the file they
    come from) is what a SpoolFailed names."""

    def __init__(self, where: str):
        self.where = where
        try:
            self._file = tempfile.TemporaryFile(prefix="annotator-rows-")  # noqa: SIM115 - closed by close()
        except OSError as exc:
            raise SpoolFailed(where, exc) from exc
        self._batches = 0

    def add(self, rows: list[dict]) -> None:
        try:
            pickle.dump(rows, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        except OSError as exc:
            raise SpoolFailed(self.where, exc) from exc
        self._batches += 1

    def batches(self) -> Iterator[list[dict]]:
        # pickle.load over our own file, written above in this process: nothing untrusted
        try:
            self._file.seek(0)
            for _ in range(self._batches):
                yield pickle.load(self._file)
        except OSError as exc:
            raise SpoolFailed(self.where, exc) from exc

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
