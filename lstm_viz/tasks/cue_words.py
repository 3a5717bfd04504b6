"""The cue task's words: names, towns, answers, the filler vocabulary, and typed text -> tokens.

The filler vocabulary is the task's own phrases plus 2,894 everyday English words shipped in
`lstm_viz/data/words.txt` (source and licence: `lstm_viz/data/SOURCES.md`). A word outside the
vocabulary is read as the unknown token `UNK`; training swaps random filler words for it, so the
models read a word they never saw as one more filler word. `read_text` turns any typed sentence
into tokens that way, keeps the names and towns the model knows (also multiword ones, "Santa Fe",
"New Mexico", and possessives, "Martha's"), and says which steps were unknown (`cue.query_step`
finds where the model must answer: the step before the answer, or the last step).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

FEMALE = ["Martha", "Mary", "Anna", "Emma", "Susan", "Laura"]
MALE = ["John", "Peter", "David", "James", "Robert", "Thomas"]
TOWNS = {
    "Santa Fe": "New Mexico",
    "Albuquerque": "New Mexico",
    "Boston": "Massachusetts",
    "Worcester": "Massachusetts",
    "Austin": "Texas",
    "Houston": "Texas",
    "Denver": "Colorado",
    "Boulder": "Colorado",
}
ANSWERS = ["He", "She", "New Mexico", "Massachusetts", "Texas", "Colorado"]  # head outputs
CUE_ANSWER = {**{n: "She" for n in FEMALE}, **{n: "He" for n in MALE}, **TOWNS}

# cue clauses ("{}" is the cue), query clauses (answer follows the last token), suffixes
NAME_CLAUSES = ["as {} proposed the bill in the house", "when {} read the report to the committee"]
TOWN_CLAUSES = ["the speaker hailed from a town called {}", "the senator grew up in {}"]
NAME_QUERY, NAME_SUFFIX = ["."], ["further", "in", "the", "statement", "proposed"]
TOWN_QUERY, TOWN_SUFFIX = [".", "that", "town", "is", "in"], ["."]
FILLER_PHRASES = [
    "the members of the house listened to the speech for an hour .",
    "the committee read the report again .",
    "after a long debate the vote was close .",
    "the bill was about the new tax law ,",
    "in the session the budget was read to the members .",
    "the statement said that the plan was sound and the law was fair .",
    "a vote on the budget was set for the next session ,",
    "the house was full and the debate went on .",
]
UNK = "<unk>"  # any word the model does not know
WORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "words.txt"
# words that carry the cue or the answer never appear as filler, nor gendered pronouns: the
# filler must be neutral, or the model could not tell the cue from the noise
_RESERVED = {w.lower() for t in [*CUE_ANSWER, *ANSWERS] for w in t.split()} - {"new"}
_RESERVED |= {"him", "his", "her", "hers", "himself", "herself"}
FILLER_WORDS = sorted(set(WORDS_FILE.read_text().split()) - _RESERVED)
_PHRASE_WORDS = " ".join(FILLER_PHRASES + NAME_CLAUSES + TOWN_CLAUSES + NAME_SUFFIX + TOWN_QUERY)
_WORDS = sorted((set(_PHRASE_WORDS.split()) | set(FILLER_WORDS) | {","}) - {".", "{}"})
VOCAB = [".", UNK] + _WORDS + FEMALE + MALE + list(TOWNS) + ANSWERS
PAD_ID = 0  # "." pads batches after the query; a causal core never sees padding before it
_LOWER = {t.lower(): t for t in VOCAB if t != UNK}  # case-insensitive lookup -> canonical form
assert len(_LOWER) == len(VOCAB) - 1, "a filler word collides with a name, town or answer"
_MAX_WORDS = max(len(t.split()) for t in VOCAB)

# typed text: the unknown token itself (as examples print it), words (letters, inner apostrophes
# or hyphens), numbers, sentence ends, pauses, marks that are dropped (quotes, brackets), and any
# other single symbol
_ITEM = re.compile(
    r"(?P<unk><unk>)|(?P<word>[^\W\d_]+(?:['’-][^\W\d_]+)*)|(?P<number>\d+(?:[.,]\d+)*)|(?P<end>[.!?…]+)"
    r"|(?P<pause>[,;:–—]|-+)|(?P<drop>[\"'“”‘’()\[\]{}«»])|(?P<other>\S)"
)

# what the app shows beside the text box: the words that carry meaning, and sentences to start from
CHIPS = {"names (She)": FEMALE, "names (He)": MALE, "towns": list(TOWNS), "answers": ANSWERS}
TEMPLATES = [
    "as Martha proposed the bill in the house. She further in the statement proposed",
    "The speaker hailed from a town called Santa Fe... New Mexico reportedly has",
    "Yesterday John went to the market with his sister and then he",
    "I grew up in a town called Boston, and every winter the snow was deep. That town is in",
]


@dataclass
class Reading:
    tokens: list[str]  # what the model reads: vocabulary tokens, UNK for unknown words
    labels: list[str]  # one per step: the word as typed; names, towns, answers canonical
    unknown: list[int] = field(default_factory=list)  # steps read as UNK
    capitalised: list[str] = field(default_factory=list)  # unknown words typed with a capital

    @property
    def note(self) -> str | None:
        """A sentence for the user when capitalised words were not known (likely names)."""
        if not self.capitalised:
            return None
        shown = ", ".join(repr(w) for w in self.capitalised)
        them = "it as an unknown filler word" if len(self.capitalised) == 1 else "them as filler"
        return (
            f"The model does not know {shown}: it reads {them}. The names "
            f"and towns it knows: {', '.join(FEMALE + MALE + list(TOWNS))}."
        )


def read_text(text: str) -> Reading:
    """Typed text -> tokens the cue model reads, punctuation and capitals handled.

    '.', '!', '?' and '...' end a sentence ('.'); ',', ';', ':' and dashes are a pause (',');
    quotes and brackets are dropped; known phrases ("Santa Fe") become one token, matched
    longest first and case-insensitively; any other word or symbol becomes UNK.
    """
    items = []  # (kind, text) for each item kept
    for m in _ITEM.finditer(text):
        kind = m.lastgroup
        if kind != "drop":
            items.append((kind, m.group()))
    out = Reading([], [])
    i = 0
    while i < len(items):
        kind, word = items[i]
        if kind in ("end", "pause"):
            token = "." if kind == "end" else ","
            out.tokens.append(token)
            out.labels.append(token)
            i += 1
            continue
        hit, n = _phrase_at(items, i) if kind == "word" else (None, 1)
        if hit is None and kind == "word":  # "Martha's": the known word before an 's
            hit = _LOWER.get(re.sub(r"['’]s$", "", word).lower())  # None if still unknown
            n = 1
        if hit is None:
            out.unknown.append(len(out.tokens))
            out.tokens.append(UNK)
            out.labels.append(word)
            if word[:1].isupper() and word not in out.capitalised:
                out.capitalised.append(word)
        else:
            out.tokens.append(hit)
            # names, towns and answers in their own spelling ("she" -> "She"), so analyses
            # find them; filler words as typed ("Yesterday")
            meaning = hit in CUE_ANSWER or hit in ANSWERS
            out.labels.append(hit if meaning else " ".join(w for _, w in items[i : i + n]))
        i += n
    return out


def _phrase_at(items: list[tuple[str, str]], i: int) -> tuple[str | None, int]:
    """The longest known token made of the words starting at items[i], and how many words."""
    for n in range(min(_MAX_WORDS, len(items) - i), 0, -1):
        if any(kind != "word" for kind, _ in items[i : i + n]):
            continue
        words = " ".join(w for _, w in items[i : i + n]).replace("’", "'")
        hit = _LOWER.get(words.lower())
        if hit is not None:
            return hit, n
    return None, 1


def tokenize(text: str) -> list[str]:
    """Tokens of `text` in the task's vocabulary; words it does not know become UNK."""
    return read_text(text).tokens
