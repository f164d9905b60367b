"""Reading a fetched page as the link-preview crawlers do (docs/link-previews.md): undo its
compression within a byte budget, decode its text, and collect its `og:` and `twitter:` tags.

The HTML parser is selectolax's Lexbor engine, a maintained HTML5 parser in C (the WHATWG
algorithm browsers use): it reads the tags' attributes, quotes and character references as a
browser does. It is not given the whole page: building the tree of a page of deeply nested
elements takes time quadratic in the depth (40,000 nested `<div>`s: 23 s), a denial of service
that any tree builder shares. `_head_tags` first reduces the page, in one linear pass, to its
`<meta>` tags and its `<title>`, skipping comments and the text of `<script>`, `<style>` and
the other raw-text elements as the tokenizer does; Lexbor parses that flat remainder.
Pure: no I/O.
"""

from __future__ import annotations

import codecs
import re
import zlib

from selectolax.lexbor import LexborHTMLParser

MAX_TAGS = 100  # distinct og:/twitter: tags kept
MAX_VALUE = 2_000  # characters kept of one tag's content
_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([a-zA-Z0-9_:.-]{1,40})""", re.I)
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_PREFIXES = ("og:", "twitter:")


class Unreadable(Exception):
    """The body is not a page a crawler could read (the message says why, in plain words)."""


def is_html(content_type: str) -> bool:
    return content_type in _HTML_TYPES


def decompress(body: bytes, encoding: str, max_bytes: int) -> bytes:
    """The body without its Content-Encoding, at most `max_bytes` of it (a compression bomb
    stops there: zlib is never asked for more)."""
    if encoding in ("identity", ""):
        return body[:max_bytes]
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise Unreadable(f"the page is compressed as {encoding[:40]!r}, which crawlers don't read")
    wbits = 47 if encoding != "deflate" else 15  # 47: gzip or zlib header, detected
    try:
        try:
            return zlib.decompressobj(wbits).decompress(body, max_bytes)
        except zlib.error:
            if encoding != "deflate":
                raise
            return zlib.decompressobj(-15).decompress(body, max_bytes)  # raw deflate
    except zlib.error:
        raise Unreadable("the page's compressed body is corrupt") from None


def decode(html: bytes, charset: str | None = None) -> str:
    """Text from the Content-Type's charset, else a `<meta charset>` near the start, else UTF-8;
    undecodable bytes become U+FFFD, as in browsers."""
    for candidate in (charset, _meta_charset(html), "utf-8"):
        if candidate:
            try:
                return html.decode(codecs.lookup(candidate).name, errors="replace")
            except LookupError:
                continue
    return html.decode("utf-8", errors="replace")  # pragma: no cover - utf-8 always exists


def _meta_charset(html: bytes) -> str | None:
    match = _CHARSET.search(html, 0, 4096)
    return match.group(1).decode("ascii") if match else None


_OPENING = re.compile(
    r"<(?:(!--)|(meta|title|script|style|textarea|xmp|iframe|noembed|noframes|plaintext)"
    r"(?=[\s/>]))",
    re.I,
)
_TAG_END = re.compile(r"[>\"']")
MAX_SCANNED = 1_000  # <meta> tags looked at


def _head_tags(text: str) -> str:
    """The page's `<meta>` tags and first `<title>` as a flat document (see the module's
    docstring). Linear: every search starts where the last one ended, and an unterminated
    comment, quote or raw-text element ends the scan, as it swallows the rest of the page."""
    metas: list[str] = []
    title: str | None = None
    pos = 0
    while len(metas) < MAX_SCANNED and (m := _OPENING.search(text, pos)):
        if m.group(1):  # a comment
            end = text.find("-->", m.end())
            if end < 0:
                break
            pos = end + 3
            continue
        name = m.group(2).lower()
        if name == "plaintext":
            break
        if name == "meta":
            end = _tag_end(text, m.end())
            if end < 0:
                break
            metas.append(text[m.start() : end + 1])
            pos = end + 1
            continue
        start = _tag_end(text, m.end())  # the raw text runs to its end tag
        close = re.compile(rf"</{name}[\s/>]", re.I).search(text, start + 1) if start >= 0 else None
        if close is None:
            break
        if name == "title" and title is None:
            title = text[start + 1 : close.start()]
        pos = close.end()
    head = "".join(metas)
    if title is not None:
        head += f"<title>{title}</title>"
    return f"<html><head>{head}</head></html>"


def _tag_end(text: str, pos: int) -> int:
    """The index of the `>` closing the tag whose attributes start at `pos` (-1: none)."""
    while (m := _TAG_END.search(text, pos)) is not None:
        if m.group() == ">":
            return m.start()
        pos = text.find(m.group(), m.end()) + 1  # past the quoted value
        if pos == 0:
            return -1
    return -1


def meta_tags(text: str) -> dict[str, str]:
    """The page's `og:*` and `twitter:*` tags (`property=` or `name=`), the first of each name
    (names lower-cased), values with surrounding space removed; `<title>` as `title`."""
    tree = LexborHTMLParser(_head_tags(text))
    tags: dict[str, str] = {}
    for node in tree.css("meta"):
        attrs = node.attributes
        name = (attrs.get("property") or attrs.get("name") or "").strip().lower()
        if not name.startswith(_PREFIXES) or name in tags or len(name) > 100:
            continue
        tags[name] = (attrs.get("content") or "").strip()[:MAX_VALUE]
        if len(tags) >= MAX_TAGS:
            break
    title = tree.css_first("title")
    if title is not None and "title" not in tags:
        tags["title"] = " ".join(title.text().split())[:MAX_VALUE]
    return tags
