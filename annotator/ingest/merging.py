"""From what the readers made of each file to one document per text.

A file with a problem is refused whole, and so are the files that annotate the same text
with it (brat annotation sets, a document's copies), so a document is stored from all of
its files or from none. The rest are merged per text: spans that share offsets and label
are one span (a layer holds a span once), keeping every file's meta, so the relations and
claims that referred to any of them still resolve.
"""

from __future__ import annotations

from annotator.contents import Contents, Incoming, SpanKey
from annotator.formats.files import FileRead
from annotator.models import CLAIM_LINKS
from annotator.problems import Problem


def accepted(files: list[FileRead], problems: list[Problem]) -> tuple[list[Incoming], list[str]]:
    """The documents to store, one per text, from files without problems; and the paths of
    the files refused. Every file's problems, and why a file went down with another, are
    added to `problems`."""
    refused = {f.path for f in files if f.problems}
    for f in files:
        problems += f.problems
    files_of: dict[str, set[str]] = {}
    for f in files:
        for uid in f.uids | {doc.uid for doc in f.docs}:
            files_of.setdefault(uid, set()).add(f.path)
    changed = True
    while changed:  # until no refusal spreads further
        changed = False
        for group in files_of.values():
            if group & refused and not group <= refused:
                for path in sorted(group - refused):
                    problems.append(
                        Problem(
                            path,
                            None,
                            f"refused with {', '.join(sorted(group & refused))}, which annotates the same text",
                        )
                    )
                refused |= group
                changed = True
    by_uid: dict[str, list[Incoming]] = {}
    for f in files:
        if f.path not in refused:
            for doc in f.docs:
                by_uid.setdefault(doc.uid, []).append(doc)
    return [merged(docs) for docs in by_uid.values()], [f.path for f in files if f.path in refused]


def merged(docs: list[Incoming]) -> Incoming:
    """Several files' annotations of one text (annotation sets, copies) as one document."""
    first = docs[0]
    if len(docs) == 1:
        return unique(first)
    lang_from = next((d for d in docs if d.lang), first)
    out = Incoming(
        text=first.text,
        source=first.source,
        line=first.line,
        claimed_id=first.claimed_id,
        title=first.title,
        lang=lang_from.lang,
        lang_source=lang_from.lang_source,
        meta=first.meta,
        sources=[w for d in docs for w in d.sources],
        text_at=first.text_at,
    )
    out.uid = first.uid  # the text may be let go of by now (pipeline.read_files)
    for doc in docs:
        out.layer_meta = merge_meta(out.layer_meta, doc.layer_meta)  # e.g. brat: every file's set
        doc = unique(doc)  # ids are offsets now, the same in every copy
        out.contents.spans += doc.contents.spans
        out.contents.relations += doc.contents.relations
        out.contents.claims += doc.contents.claims
    return unique(out)


def unique(doc: Incoming) -> Incoming:
    """Spans identified by (start, end, label), relations by (head, child, label); repeats
    merged. Each span's id becomes its (start, end, label), and what refers to it follows.

    Works on the document's own items (readers make fresh ones): a corpus has ~20 of them
    per document, and copying each was a good part of reading it.
    """
    contents = doc.contents
    spans: dict[SpanKey, object] = {}
    key_of: dict = {}
    for span in contents.spans:
        key = span.key
        key_of[span.id] = key
        if key in spans:
            spans[key].meta = merge_meta(spans[key].meta, span.meta or {})
        else:
            span.id, span.meta = key, span.meta or {}
            spans[key] = span
    relations: dict[tuple, object] = {}
    for rel in contents.relations:
        head, child = key_of[rel.head_id], key_of[rel.child_id]
        rkey = (head, child, rel.label)
        if rkey in relations:
            relations[rkey].meta = merge_meta(relations[rkey].meta, rel.meta or {})
        else:
            rel.head_id, rel.child_id, rel.meta = head, child, rel.meta or {}
            relations[rkey] = rel
    for claim in contents.claims:
        for ref in ("quantity_id", *CLAIM_LINKS):
            value = getattr(claim, ref)
            setattr(claim, ref, key_of[value] if value is not None else None)
    doc.contents = Contents(sorted(spans.values(), key=lambda s: s.id), list(relations.values()), contents.claims)
    return doc


def merge_meta(first: dict, second: dict) -> dict:
    """Meta of two records of one annotation: lists joined (without repeats), objects merged,
    and for anything else the first value kept."""
    out = dict(first)
    for key, value in second.items():
        mine = out.get(key)
        if key not in out:
            out[key] = value
        elif isinstance(mine, list) and isinstance(value, list):
            out[key] = mine + [v for v in value if v not in mine]
        elif isinstance(mine, dict) and isinstance(value, dict):
            out[key] = merge_meta(mine, value)
    return out
