"""What is wrong with an input, and where: a file, a line, a message a person can act on."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Problem:
    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"

    def as_json(self) -> dict:
        return {"file": self.path, "line": self.line, "message": self.message}
