"""Claim parts from an English dependency parse (token ranges; claims.py tidies and labels them).

Patterns, as MeasEval annotators mark them: "50,000 H100 chips" (a count's noun is the
entity) but "a 4‰ shift" (a measure's noun is the property); "5 g of dried sediment" (the
of-phrase is the entity, except after "has"/"features": "the card features 256 GB of
memory" has the property memory); "a depth of 5 m" (the noun is the property, its owner the
entity); "X increased its efficiency from 25% to 73%" (subject entity, object property);
"the X of Y was 5 mm" (property X, entity Y); "serum was refrigerated at -4 °C" (MeasEval
takes the verb as the property); "r = .64" (the symbol); conditions are "when ..."/"at ..."
phrases of the quantity's verb or of the quantity itself, near it and short.
"""

from __future__ import annotations

from dataclasses import replace

from annotator.nlp.claim_rules_tokens import Roles, symbol_before
from annotator.nlp.cues import stem

NOUNS = ("NOUN", "PROPN")
# Dependents of a noun that belong to its phrase when they stand before it
NP_LEFT = ("det", "amod", "compound", "poss", "nmod", "nummod", "advmod", "punct", "case", "quantmod", "npadvmod")
# Dependents through which a number counts or sizes the noun after it ("50,000 chips", "75 g solution")
COUNTING = ("nummod", "compound", "amod", "nmod", "quantmod", "npadvmod", "dep")
SUBJECTS = ("nsubj", "nsubjpass")  # a clause as subject ("using chips resulted in ...") names no part
OBJECTS = ("dobj", "attr", "oprd", "acomp")
BE = {"be", "is", "are", "was", "were", "been", "being", "'s", "remain", "remains", "remained"}
# Verbs after which "N of X" is what the subject has: X is the property ("features 256 GB of memory")
HAVE = {stem(w) for w in ("has", "have", "had", "feature", "offer", "deliver", "provide", "pack", "boast", "include")}
HAVE |= {stem(w) for w in ("support", "carry", "come", "equip", "integrate", "ship", "achieve", "reach", "hold")}
# Verbs whose subject holds what its object counts: "DeepSeek owns 50,000 chips" is
# DeepSeek's, counted in chips ("has access to 10,000 GPUs" too)
OWN = HAVE | {stem(w) for w in ("own", "use", "buy", "purchase", "acquire", "deploy", "operate", "employ", "order")}
# "the X of Y", "the X in Y", "the X on Y": Y has the property X
OWNER_PREPS = ("of", "in", "on")
# Verbs that only link a thing and its value: their own word is never the property
LINKS = BE | {"has", "have", "had", "having", "reach", "reached", "feature", "features", "featured", "include"}
LINKS |= {"includes", "included", "contain", "contains", "contained", "become", "became", "total", "totals"}
# Words opening a condition attached to the quantity's verb
CONDITION_MARKS = {"when", "while", "if", "after", "before", "once", "upon", "unless", "whenever", "compared"}
CONDITION_PREPS = {"at", "under", "during", "after", "before", "upon", "following", "against", "without", "between"}
# A condition stands near its value and is short; farther or longer phrases set the scene
CONDITION_GAP, CONDITION_LENGTH = 8, 14
CONDITION_PREPS |= {"compared", "relative", "versus", "vs", "vs."}


def roles(doc, span, previous=None) -> Roles:
    found = _roles(doc, span)
    symbol = symbol_before(doc, span)
    return replace(found, property=symbol) if symbol is not None else found


def _roles(doc, span) -> Roles:
    head = quantity_head(span)
    if head is None:
        return Roles()
    noun = counted_noun(span, head)
    if noun is not None and not _has_unit(span):  # "50,000 H100 chips": the chips are what is counted
        found = Roles(entity=(span.end, noun.i + 1), conditions=conditions(governing_verb(noun), span))
        owner = _holder(noun)
        return replace(found, entity=owner, property=found.entity) if owner is not None else found
    if noun is not None:  # "a 4‰ shift", "a 120 day period": the noun names what is measured
        rest = _attached(doc, span, noun)
        return replace(rest, property=(span.end, noun.i + 1))
    while head.dep_ == "conj" and head.head.i < span.start:  # "25% and 30%": the first one's place
        head = head.head
    return _attached(doc, span, head)


def _attached(doc, span, head) -> Roles:
    of_np = of_phrase_after(doc, span)
    gov, via = head.head, head.dep_
    prep = None
    if via == "pobj" and gov.dep_ in ("prep", "agent", "dative"):
        prep, gov = gov, gov.head
        # "from 25% to 73%": "to" hangs on "from"; the value's place is the verb both serve
        while gov.pos_ == "ADP" and gov.dep_ == "prep" and gov.head is not gov:
            gov = gov.head
    elif via == "prep":  # the preposition is the quantity's qualifier: "aged over 48 years"
        prep = head
    if prep is not None and prep.lower_ == "of" and gov.pos_ in NOUNS:
        # "a depth of 5 m", "with a diameter of 5 mm"
        return Roles(entity=owner_of(gov), property=phrase(gov), conditions=conditions(governing_verb(gov), span))
    if (
        prep is None
        and via in ("appos", "nmod", "npadvmod", "dep", "nummod")
        and gov.pos_ in NOUNS
        and gov.i < span.start
    ):
        # "mean age 54.8 years", "glucose ≥7.0 mmol/L"
        return Roles(entity=phrase(gov), conditions=conditions(governing_verb(gov), span))
    if gov.pos_ not in ("VERB", "AUX"):
        if not of_np:
            return Roles()
        found = Roles(entity=of_np, conditions=conditions(governing_verb(gov), span))
        owner = None if _has_unit(span) else _holder(head)  # "has access to 50,000 of the chips"
        return replace(found, entity=owner, property=of_np) if owner is not None else found
    return _of_verb(doc, span, gov, prep, of_np)


def _of_verb(doc, span, verb, prep, of_np) -> Roles:
    subject = subject_of(verb)
    if subject is not None and span.start <= subject.i < span.end:  # the quantity is the subject
        subject = None
    obj = next((c for c in verb.children if c.dep_ in OBJECTS and not _in(c, span)), None)
    if of_np is not None and stem(verb.lower_) not in HAVE:
        # "the weight was 5 g of dried sediment", "account for 40% of production": the
        # of-phrase is what is measured (after "has"/"features" it is what the subject has)
        named = subject is not None and subject.pos_ != "PRON"
        prop = phrase(subject) if named and verb.lower_ in BE else phrase(obj) if obj is not None else None
        return Roles(entity=of_np, property=prop, conditions=conditions(verb, span))
    entity, prop = _subject_parts(verb, subject, alone=obj is None and not of_np, linked=prep is None)
    if obj is not None and prop is None:
        prop = phrase(obj)
    if of_np is not None:
        if entity is None:
            entity = of_np
        elif prop is None:
            prop = of_np
    if prop is None and prep is not None and verb.lower_ not in LINKS and verb.pos_ == "VERB":
        prop = (verb.i, verb.i + 1)  # "refrigerated at -4 °C"
    return Roles(entity=entity, property=prop, conditions=conditions(verb, span))


def _holder(noun):
    """Who has the counted things (`noun`, or the number itself): the named subject of an
    owning verb whose object they are, directly or through one "to"/"of" phrase ("has
    access to 10,000 GPUs")."""
    token = noun
    for _ in range(2):
        if token.dep_ in ("dobj", "attr") and token.head.pos_ in ("VERB", "AUX"):
            verb = token.head
            if stem(verb.lower_) not in OWN:
                return None
            subject = subject_of(verb)
            return phrase(subject, with_of=True) if subject is not None and subject.pos_ in NOUNS else None
        if token.dep_ != "pobj" or token.head.lower_ not in ("to", "of") or token.head.head.pos_ not in NOUNS:
            return None
        token = token.head.head
    return None


def _subject_parts(verb, subject, alone, linked):
    """(entity, property) from the subject; `alone`: nothing else in the clause names a
    part, so "the X of Y" splits and "the mean age (was 54 years)" is the property."""
    if subject is not None and subject.tag_ in ("WDT", "WP") and verb.dep_ == "relcl":
        subject = verb.head  # "a company that holds 80%", "the diameter of X, which was 5 mm"
    if subject is None or subject.pos_ == "PRON":
        return None, None
    if not alone:
        return phrase(subject, with_of=True), None
    entity, prop = _split_of(subject)
    if entity is None and verb.lower_ in BE and linked:
        return None, phrase(subject)
    return (entity, prop) if entity is not None else (phrase(subject), None)


def _split_of(subject):
    """ "the concentration of nitrate" -> (entity "nitrate", property "concentration");
    (None, None) when the subject has no such phrase."""
    of = next((c for c in subject.rights if c.dep_ == "prep" and c.lower_ in OWNER_PREPS), None)
    pobj = next((c for c in of.children if c.dep_ == "pobj"), None) if of is not None else None
    if pobj is None or pobj.pos_ in ("PRON", "DET", "NUM"):  # "of nitrate" is tagged ADJ at times
        return None, None
    return phrase(pobj, with_of=True), phrase(subject)


def _has_unit(span) -> bool:
    """A unit after the number ("4‰", "120 day"), or a currency sign; not "about 50"."""
    numbers = [t.i for t in span if t.like_num or t.pos_ == "NUM"]
    if any(t.tag_ == "$" for t in span):
        return True
    return bool(numbers) and any(t.i > numbers[0] and not (t.like_num or t.pos_ == "NUM") for t in span)


def quantity_head(span):
    outside = [t for t in span if t.head.i < span.start or t.head.i >= span.end or t.head.i == t.i]
    return outside[-1] if outside else None


def counted_noun(span, head):
    noun = head.head
    if head.dep_ in COUNTING and noun.i >= span.end and noun.pos_ in NOUNS:
        return noun
    return None


def of_phrase_after(doc, span):
    """The noun phrase of an "of" right after the quantity ("256 GB of high-bandwidth memory"),
    read as a run of words: the parser often breaks such phrases ("memory bandwidth")."""
    i = span.end
    if i >= len(doc) or doc[i].lower_ != "of":
        return None
    i += 1
    while i < len(doc) and doc[i].tag_ in ("DT", "PRP$"):
        i += 1
    start = i
    while i < len(doc) and _in_run(doc[i]):
        i += 1
    return (start, i) if i > start else None


def _in_run(token) -> bool:
    if token.is_space or token.like_num and token.pos_ == "NUM":
        return False
    if token.is_punct:
        return token.tag_ == "HYPH" or token.text in "/"
    if token.pos_ == "VERB" and token.dep_ == "amod":  # "of dried sediment"
        return True
    return token.pos_ not in ("VERB", "AUX", "CCONJ", "SCONJ", "ADP", "DET", "PRON", "PART") or token.tag_ == "POS"


def phrase(token, with_of=False) -> tuple[int, int]:
    """The noun phrase headed by `token`: its left modifiers, and its "of" phrase if asked."""
    start = min([c.left_edge.i for c in token.lefts if c.dep_ in NP_LEFT] + [token.i])
    end = token.i + 1
    if with_of:
        for c in token.rights:
            if c.dep_ == "prep" and c.lower_ == "of":
                end = max(end, c.right_edge.i + 1)
    return start, end


def subject_of(verb):
    """The subject of the verb, found through coordinated, infinitive and adverbial clauses."""
    for _ in range(5):
        found = next((c for c in verb.children if c.dep_ in SUBJECTS), None)
        if found is not None:
            return found
        if verb.dep_ in ("acl", "relcl") and verb.head.pos_ in NOUNS:
            return verb.head
        if verb.dep_ not in ("conj", "xcomp", "advcl") or verb.head is verb:
            return None
        verb = verb.head
    return None


def owner_of(noun):
    """Whose property the noun is: "samples with a diameter of ..." -> samples; "X has a
    depth of ..." -> X."""
    if noun.dep_ == "pobj" and noun.head.lower_ in ("with", "for", "in") and noun.head.head.pos_ in NOUNS:
        return phrase(noun.head.head)
    if noun.dep_ in OBJECTS + ("nsubj",) and noun.head.pos_ in ("VERB", "AUX"):
        subject = subject_of(noun.head) if noun.dep_ != "nsubj" else None
        if subject is not None and subject.pos_ != "PRON":
            return phrase(subject, with_of=True)
    of = next((c for c in noun.rights if c.dep_ == "prep" and c.lower_ == "of"), None)
    pobj = next((c for c in of.children if c.dep_ == "pobj"), None) if of is not None else None
    return phrase(pobj, with_of=True) if pobj is not None and pobj.pos_ in NOUNS else None


def governing_verb(token):
    for _ in range(6):
        if token.pos_ in ("VERB", "AUX") or token.head is token:
            return token if token.pos_ in ("VERB", "AUX") else None
        token = token.head
    return None


def conditions(verb, span) -> tuple[tuple[int, int], ...]:
    """Condition phrases of the verb and of the quantity itself ("30 min after BS1"),
    nearest the quantity first."""
    head = quantity_head(span)
    children = [*(verb.children if verb is not None else ()), *(head.children if head is not None else ())]
    found = []
    for child in children:
        rng = (child.left_edge.i, child.right_edge.i + 1)
        if rng[0] < span.end and span.start < rng[1]:
            continue  # the phrase holding the quantity itself
        gap = max(rng[0] - span.end, span.start - rng[1])
        if _opens_condition(child) and gap <= CONDITION_GAP and rng[1] - rng[0] <= CONDITION_LENGTH:
            found.append(rng)
    return tuple(sorted(set(found), key=lambda r: max(r[0] - span.end, span.start - r[1])))


def _opens_condition(child) -> bool:
    first = child.doc[child.left_edge.i]
    if child.dep_ == "advcl":
        return first.lower_ in CONDITION_MARKS or any(
            c.lower_ in CONDITION_MARKS for c in child.children if c.dep_ in ("mark", "advmod")
        )
    return child.dep_ == "prep" and child.lower_ in CONDITION_PREPS and first.i == child.i


def _in(token, span) -> bool:
    return token.left_edge.i < span.end and span.start <= token.right_edge.i
