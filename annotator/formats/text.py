"""Plain text in: a .txt or .md file is one document, titled by its first non-empty line."""

from __future__ import annotations

from pathlib import Path

from annotator.contents import Incoming, TextAt
from annotator.formats.files import FileRead, first_line_title, read_text
from annotator.problems import Problem

SUFFIXES = (".txt", ".md")


def read_plain(path: Path) -> FileRead:
    result = FileRead(str(path))
    text, problem = read_text(path)
    if problem:
        result.problems.append(problem)
    elif not text.strip():
        result.problems.append(Problem(str(path), 1, "empty document (no text)"))
    else:
        markdown = path.suffix.lower() == ".md"
        doc = Incoming(text=text, source=str(path), title=first_line_title(text, markdown), text_at=TextAt(str(path)))
        doc.sources = [doc.where]
        result.docs.append(doc)
        result.uids.add(doc.uid)
    return result
