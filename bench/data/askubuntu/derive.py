"""Derive copbot's second retrieval benchmark (Ask Ubuntu) from real Stack Exchange data.

Source
------
Repository ``nlx-group/Replicating-Bogdanova-et-al.-2015-Duplicate-Question-Detection``
(GitHub), file ``msrdsdl/data/askubuntu/noclue/val.tsv`` at commit
``468de8df8ccf7ff45a2a6dc624e5ac76395ac782`` (1,611,307 bytes, SHA-256
``c964c50fd7242d47e278eaa156a76d8b87fb4d1cac94f638ee408431d8fe2cf3``).  It is the
validation split of the Ask Ubuntu data used by Bogdanova et al. (CoNLL 2015),
"Detecting Semantically Equivalent Questions in Online User Forums", as republished by
the NLX group's replication of that paper, built from the public Ask Ubuntu data dump
(https://askubuntu.com).  Each line is ``label <TAB> question 1 <TAB> question 2``:

* 500 lines labelled ``duplicate``: question 2 was closed by the Ask Ubuntu community
  as a duplicate of question 1 (the earlier, canonical question: "My computer boots to
  a black screen, what options do I have to fix it?" is question 1 of 38 of them);
* 500 lines labelled ``non-duplicate``: two unrelated Ask Ubuntu questions.

A question is its title followed directly by its HTML body (``<p>``, ``<pre><code>``...).
In this "noclue" version the replication's authors removed the "Possible Duplicate"
notice Stack Exchange edits into closed questions (it names the target).

Original authors and license
----------------------------
The questions were written by Ask Ubuntu users and are licensed CC BY-SA (2.5, 3.0 or
4.0 depending on when each post was written or edited); Stack Exchange distributes its
data dump under CC BY-SA 4.0.  The derived files are distributed under CC BY-SA 4.0
with attribution to the Ask Ubuntu contributors.  The source has no post ids, so the
ids here are ours (``au-N``: the N-th distinct question in source order).

Derivation steps
----------------
1. Read the TSV; split each question into title (the text before its first HTML tag)
   and body; turn the body's HTML into plain text (paragraphs and code blocks become
   lines, entities decoded, inline code kept in backticks as a chat member writes it).
2. Drop any left-over closure notice ("Possible Duplicate:" ... up to the first blank
   line), as the first set's derivation does.
3. Queries = every distinct question 2 of a ``duplicate`` line; ``relevant`` = its
   question 1s.  Corpus = every other distinct question (the duplicate targets and
   both sides of the ``non-duplicate`` lines), so no query is in the corpus.
4. Write ``corpus.jsonl`` and ``queries.jsonl`` in source order, sorted keys, UTF-8:
   reruns are byte-identical.

Usage::

    python bench/data/askubuntu/derive.py --source val.tsv --out bench/data/askubuntu

Only the standard library is used.
"""

from __future__ import annotations

import argparse
import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path

_FIRST_TAG = re.compile(r"<(p|pre|blockquote|ul|ol|h\d|hr|img|a|div|code|br|strong|em)\b", re.I)
_NOTICE = re.compile(
    r"^\s*(possible duplicates?|exact duplicates?|duplicate|possible duplicate of)\s*:.*?(\n\s*\n|$)",
    re.I | re.S,
)
_BLOCKS = {"p", "pre", "blockquote", "li", "h1", "h2", "h3", "h4", "h5", "h6", "div", "tr"}


class _Text(HTMLParser):
    """HTML to chat-like plain text: block elements become lines, inline code backticks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.in_pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS or tag == "br":
            self.parts.append("\n")
        if tag == "pre":
            self.in_pre += 1
        elif tag == "code" and not self.in_pre:
            self.parts.append("`")

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre":
            self.in_pre = max(0, self.in_pre - 1)
        elif tag == "code" and not self.in_pre:
            self.parts.append("`")
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def text(self) -> str:
        lines = [re.sub(r"[ \t]+", " ", line).strip() for line in "".join(self.parts).split("\n")]
        out: list[str] = []
        for line in lines:
            if line or (out and out[-1]):
                out.append(line)
        return "\n".join(out).strip()


def to_text(fragment: str) -> str:
    parser = _Text()
    parser.feed(fragment)
    parser.close()
    return parser.text()


def split_question(raw: str) -> tuple[str, str]:
    """Title (before the first HTML tag) and plain-text body of one source question."""
    match = _FIRST_TAG.search(raw)
    cut = match.start() if match else len(raw)
    title = html.unescape(raw[:cut]).strip()
    body = _NOTICE.sub("", to_text(raw[cut:])).strip()
    return title, body


def derive(source: Path) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    ids: dict[str, str] = {}
    texts: dict[str, tuple[str, str]] = {}
    duplicates: list[tuple[str, str]] = []  # (earlier, later)
    others: list[str] = []

    def key(raw: str) -> str:
        if raw not in ids:
            ids[raw] = f"au-{len(ids) + 1}"
            texts[ids[raw]] = split_question(raw)
        return ids[raw]

    for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 3 or fields[0] not in ("duplicate", "non-duplicate"):
            raise SystemExit(f"{source}:{number}: not 'label<TAB>q1<TAB>q2'")
        first, second = key(fields[1]), key(fields[2])
        if fields[0] == "duplicate":
            duplicates.append((first, second))
        else:
            others.extend((first, second))
    relevant: dict[str, list[str]] = {}
    for earlier, later in duplicates:
        targets = relevant.setdefault(later, [])
        if earlier not in targets:
            targets.append(earlier)
    order = list(texts)
    corpus: list[dict[str, object]] = [
        {"id": doc, "title": texts[doc][0], "body": texts[doc][1], "answers": [], "tags": [],
         "created_at": None}
        for doc in order
        if doc not in relevant
    ]
    queries: list[dict[str, object]] = [
        {"id": f"q-{doc}", "text": f"{texts[doc][0]}\n\n{texts[doc][1]}".strip(),
         "relevant": relevant[doc]}
        for doc in order
        if doc in relevant
    ]
    return corpus, queries


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", required=True, help="the noclue val.tsv file")
    parser.add_argument("--out", required=True, help="folder for corpus.jsonl and queries.jsonl")
    args = parser.parse_args()
    corpus, queries = derive(Path(args.source))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_jsonl(out / "corpus.jsonl", corpus)
    write_jsonl(out / "queries.jsonl", queries)
    pairs = sum(len(q["relevant"]) for q in queries if isinstance(q["relevant"], list))
    print(f"corpus {len(corpus)} documents, {len(queries)} queries, {pairs} relevant pairs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
