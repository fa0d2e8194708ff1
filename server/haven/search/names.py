"""How two spellings of a name are recognised as the same name: folding and comparison keys (standard library
only, so the build, the server and the benchmark share them without loading anything else).

Haven's names are mostly English transliterations of Arabic, Pashto, Urdu and Central Asian names, written in
as many ways as there are writers: Qaeda, Qaida, Qa'ida; Usama, Osama; bin, ibn; al-, el-, az-; Massoud,
Masood, Masud; Mohammed, Muhammad; Lashkar-e-Taiba, Lashkar-i-Tayyiba. What varies between them is mostly
the vowels (Arabic script writes few), doubled consonants (the shadda, often dropped), the article and its
assimilated forms, the Persian izafat (-e-, -i-), apostrophes for ayn and hamza, and a few consonant letters
(q/k, w/v, dh/d). So a name is compared token by token on a *key*: the word folded to ASCII, its consonant
digraphs made single letters, its doubled consonants made single, its vowels dropped (an initial vowel is
kept as one mark, so Omar stays apart from Mar), and a final h after a vowel dropped (Jemaah, Mullah, Shah).
The article, izafat, bin/ibn and English function words are not tokens at all. Short tokens (acronyms: IS,
ISI, LeT) are their folded letters: dropping the vowels of three letters would make ISI the same as IS.

Ranking and the reconciliation's match decision use the keys (`token_keys`) for "same word" and the folded
text (`folded`) for how close two spellings are.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

#: the marks that write an ayn or a hamza, and apostrophes: dropped (Qa'ida = Qaida)
_DROPPED = dict.fromkeys(map(ord, "'’‘`´ʼʻʿʾ′\u02bc\u02be\u02bf"), None)
#: letters NFKD would not fold, or would fold to a letter other than the one transliterations write (š: sh)
_LETTERS = str.maketrans({"ı": "i", "ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "đ": "d", "ð": "d", "ł": "l",
                          "þ": "th", "ʃ": "sh", "š": "sh", "č": "ch", "ž": "zh", "ḥ": "h", "ṣ": "s", "ṭ": "t", "ḍ": "d", "ẓ": "z"})
_WORD = re.compile(r"[a-z0-9]+")

#: words that are not part of a name's identity: the Arabic article and its assimilated forms, the Persian
#: and Urdu izafat, "son of", and English function words. A name made only of them keeps them (US, "The").
PARTICLES = frozenset({
    "al", "el", "ul", "il", "ol", "ar", "ur", "as", "us", "ad", "ud", "at", "ut", "az", "uz", "an", "un",
    "ash", "ush", "ed", "es", "et", "ez", "en", "er", "e", "i", "a", "o", "u", "y",
    "bin", "ibn", "ben", "bn", "b", "ibnu", "bint",
    "of", "the", "and", "in", "for", "de", "du", "des", "la", "le", "les", "sur",
})
#: honorifics and titles: a name matches with or without them, and they weigh little in a comparison
TITLES = frozenset({"mullah", "mulla", "molla", "sheikh", "shaikh", "shaykh", "sheik", "emir", "amir", "maulana",
                    "mawlana", "mufti", "hazrat", "haji", "hajji", "dr", "mr", "mrs", "sir", "imam", "qari",
                    "maulvi", "mawlawi", "commander"})
#: the article glued to a word (Abdul Rahman = Abd al-Rahman, Abul = Abu al-): the word without it
_GLUED_ARTICLE = {"abdul": "abd", "abdel": "abd", "abdal": "abd", "abdur": "abd", "abdar": "abd", "abdol": "abd",
                  "abul": "abu", "abal": "abu", "abil": "abu",
                  # and spellings of short words the key would not bring together (it keeps short words whole)
                  "abou": "abu", "ebu": "abu", "mohd": "mohammed", "muhd": "mohammed"}
#: Abdurrahman, Abdelkader: the article and the following word glued to "abd"
_ABD_GLUED = re.compile(r"abd[aeiou][lrsnzdt](?P<rest>[a-z]{4,})")
#: consonant letters written as two or three (one sound), and the letters writers exchange for one another
_DIGRAPHS = (("tch", "C"), ("sch", "S"), ("sh", "S"), ("ch", "C"), ("kh", "X"), ("gh", "g"), ("ph", "f"),
             ("dh", "d"), ("th", "t"), ("zh", "j"), ("dj", "j"), ("ck", "k"), ("q", "k"), ("w", "v"))
_VOWELS = frozenset("aeiouy")
#: tokens up to this long are compared by their letters (acronyms), longer ones by their key
SHORT_TOKEN = 3


def fold(text: str) -> str:
    """Lower case, ASCII letters without diacritics, apostrophes dropped; other punctuation kept."""
    text = unicodedata.normalize("NFKD", text.casefold().translate(_LETTERS))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return text.translate(_DROPPED)


def words(text: str) -> list[str]:
    """The folded words of `text` (hyphens, slashes, dashes and spaces all separate words)."""
    return _WORD.findall(fold(text))


def _significant(tokens: list[str]) -> list[str]:
    out: list[str] = []
    for token in tokens:
        token = _GLUED_ARTICLE.get(token, token)
        glued = _ABD_GLUED.fullmatch(token)
        if glued:
            out += ["abd", glued["rest"]]
        elif token not in PARTICLES:
            out.append(token)
    return out or tokens


@lru_cache(maxsize=1 << 16)  # an index repeats its words; a million triples hold about 15,000 distinct ones
def token_key(token: str) -> str:
    """The comparison key of one folded word (see the module's docstring)."""
    if len(token) <= SHORT_TOKEN or token.isdigit():
        return token
    word = token
    if word.endswith("h") and len(word) > 2 and word[-2] in _VOWELS:
        word = word[:-1]
    for written, letter in _DIGRAPHS:
        word = word.replace(written, letter)
    key = ["_"] if word[0] in _VOWELS else [word[0]]
    for previous, letter in zip(word, word[1:]):
        # a doubled letter is written once (Massoud = Masoud); the same consonant around a vowel is two (Chechnya)
        if letter in _VOWELS or letter == previous:
            continue
        key.append(letter)
    return "".join(key)


def significant_words(text: str) -> list[str]:
    """The folded words of a name that identify it (particles dropped; see PARTICLES)."""
    return _significant(words(text))


def token_keys(text: str) -> list[str]:
    """The keys of a name's significant words, in order."""
    return [token_key(token) for token in significant_words(text)]


def query_variants(token: str) -> list[str]:
    """The keys a query word may stand for: itself, and without a glued article (alQaeda, elBaradei)."""
    keys = [token_key(token)]
    if len(token) >= 6 and token[:2] in {"al", "el", "ul"}:
        keys.append(token_key(token[2:]))
    return keys


def is_title(token: str) -> bool:
    return token in TITLES


def compact(text: str) -> str:
    """The significant folded words joined by single spaces (what closeness of two spellings is measured on)."""
    return " ".join(significant_words(text))


def within_one_edit(a: str, b: str) -> bool:
    """True when `a` becomes `b` by one insertion, deletion or substitution (or they are equal)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la > lb:
        a, b, la, lb = b, a, lb, la
    i = 0
    while i < la and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1:] if la < lb else a[i + 1:] == b[i + 1:]


def deletions(key: str) -> set[str]:
    """`key` with one letter removed, every way (the symmetric-delete neighbourhood of a key)."""
    return {key[:i] + key[i + 1:] for i in range(len(key))}
