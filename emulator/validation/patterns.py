"""botocore's `pattern` constraints are Java regular expressions (AWS validates with
java.util.regex). The `regex` module reads the Java syntax they use that `re` does not:
Unicode categories (`\\p{L}`, `\\p{Z}`, ...) and POSIX classes (`\\p{Alnum}`)."""

from __future__ import annotations

import functools
import logging

import regex

log = logging.getLogger("rtb_mlops.emulator.validation")

# Java-only class names the regex module spells differently.
_JAVA_NAMES = {
    r"\p{javaLowerCase}": r"\p{Ll}",
    r"\p{javaUpperCase}": r"\p{Lu}",
    r"\p{javaWhitespace}": r"\s",
    r"\p{IsAlphabetic}": r"\p{Alphabetic}",
    # Java strings are UTF-16: a surrogate-pair range means the supplementary planes.
    r"\uD800\uDC00-\uDBFF\uDFFF": r"\U00010000-\U0010FFFF",
}


@functools.lru_cache(maxsize=4096)
def compiled(pattern: str) -> regex.Pattern | None:
    """The pattern, or None when it cannot be read here (then it is not checked, and said so once)."""
    text = pattern
    for java, ours in _JAVA_NAMES.items():
        text = text.replace(java, ours)
    try:
        return regex.compile(text, regex.VERSION0)
    except regex.error as exc:
        log.warning("pattern not checked (cannot translate %r: %s)", pattern, exc)
        return None


def matches(pattern: str, value: str) -> bool:
    """Java's String.matches: the whole value must match."""
    found = compiled(pattern)
    return found is None or found.fullmatch(value) is not None
