"""Derive the copbot duplicate-question retrieval benchmark from real Stack Exchange data.

Source
------
Repository ``Delaminer/eecs487-finalproject`` (GitHub), file
``dataset/dataset_subset250.csv`` at commit ``47de7615d4e1709e9773ef3318e9459e1fad7a0d``.
That file was built by the repository's authors (a University of Michigan EECS 487
course project) from the public data dump of English Language & Usage Stack Exchange
(https://english.stackexchange.com).  Each row is a question pair::

    q1_title, q1_body, q1_id, q2_title, q2_body, q2_id, duplicate_label

* 250 rows with ``duplicate_label == 1``: ``q1`` was closed by the community as a
  duplicate of ``q2`` (Stack Exchange ``PostLinks`` duplicate links).
* 250 rows with ``duplicate_label == 0``: the same 250 ``q1`` questions paired with a
  randomly drawn, unrelated English Language & Usage question.

Bodies are plain text (HTML already stripped by the repository authors).

Original authors and license
----------------------------
The question texts were written by English Language & Usage Stack Exchange users and
are licensed CC BY-SA (2.5, 3.0 or 4.0 depending on when each post was written or last
edited); Stack Exchange distributes its data dump under CC BY-SA 4.0.  The derived
files produced by this script are therefore distributed under CC BY-SA 4.0, with
attribution to the Stack Exchange contributors: a document id ``elu-N`` (and a query id
``q-elu-N``) is the question https://english.stackexchange.com/q/N .
The pairing/selection was done by the Delaminer/eecs487-finalproject authors (the
repository carries no license file of its own; only the Stack Exchange content is
redistributed here).

Derivation steps
----------------
1. Read the CSV (``\\r\\n`` and ``\\r`` are normalised to ``\\n``).
2. Build the directed duplicate graph from the label-1 rows (``q1 -> q2``).
3. Remove the site-generated closure notice that Stack Exchange edited into closed
   questions ("Possible Duplicate(s): <titles>", "Duplicate:", "Exact Duplicate:",
   "Possible duplicate of:" up to the first blank line) from every body, because it
   contains the title of the duplicate target and would leak the answer.
4. Corpus = every question that is a duplicate *target* (``q2`` of a label-1 row) plus
   every ``q2`` of a label-0 row (unrelated distractors).  Fields: ``id``, ``title``,
   ``body``, ``answers`` (empty: the source has no answers), ``tags`` (empty: not in the
   source), ``created_at`` (null: not in the source).
5. Queries = every ``q1`` of a label-1 row that is not itself a corpus document (a
   question that is both a duplicate and a target stays in the corpus, so a query's
   own question is never in the corpus).  ``text`` = title, blank line, cleaned body.
   ``relevant`` = the query's direct duplicate targets plus every question reachable
   from them by following duplicate links forward (A dup of B, B dup of C => C is
   relevant to A).
6. Write ``corpus.jsonl`` and ``queries.jsonl`` sorted by numeric post id (UTF-8, one
   JSON object per line, ``ensure_ascii=False``, sorted keys), so reruns are
   byte-identical.

Usage::

    python derive.py --source DIR --out DIR

where ``DIR/dataset_subset250.csv`` is the source file.  Only the standard library is
used.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import cast

SOURCE_FILE = "dataset_subset250.csv"
ID_PREFIX = "elu-"
QUERY_PREFIX = "q-elu-"
EXPECTED_COLUMNS = [
    "q1_title",
    "q1_body",
    "q1_id",
    "q2_title",
    "q2_body",
    "q2_id",
    "duplicate_label",
]

# Closure notice at the start of a body: the header line, then the linked titles, up to
# the first blank line.
NOTICE_RE = re.compile(
    r"\A\s*(?:Possible Duplicates?|Exact Duplicates?|Duplicates?|Possible duplicate of)\s*:[ \t]*\n"
    r".*?\n[ \t]*\n",
    re.DOTALL | re.IGNORECASE,
)


class Question:
    """One Stack Exchange question as found in the source CSV."""

    __slots__ = ("body", "post_id", "title")

    def __init__(self, post_id: int, title: str, body: str) -> None:
        self.post_id = post_id
        self.title = title
        self.body = body


def normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def clean_body(body: str) -> str:
    """Strip the site-generated duplicate notice and surrounding whitespace."""
    body = normalise_newlines(body)
    body = NOTICE_RE.sub("", body, count=1)
    return body.strip()


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames != EXPECTED_COLUMNS:
            raise ValueError(f"unexpected header {reader.fieldnames!r}")
        return [dict(row) for row in reader]


def register(questions: dict[int, Question], post_id: int, title: str, body: str) -> None:
    question = Question(post_id, title.strip(), clean_body(body))
    previous = questions.get(post_id)
    if previous is not None and (previous.title, previous.body) != (question.title, question.body):
        raise ValueError(f"post {post_id} occurs with two different texts")
    questions[post_id] = question


def forward_closure(start: Iterable[int], edges: dict[int, set[int]]) -> set[int]:
    seen: set[int] = set()
    stack = list(start)
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        stack.extend(edges.get(node, ()))
    return seen


def derive(rows: list[dict[str, str]]) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    questions: dict[int, Question] = {}
    dup_edges: dict[int, set[int]] = defaultdict(set)
    duplicates: set[int] = set()
    targets: set[int] = set()
    distractors: set[int] = set()
    for row in rows:
        q1, q2 = int(row["q1_id"]), int(row["q2_id"])
        register(questions, q1, row["q1_title"], row["q1_body"])
        register(questions, q2, row["q2_title"], row["q2_body"])
        label = row["duplicate_label"].strip()
        if label == "1":
            dup_edges[q1].add(q2)
            duplicates.add(q1)
            targets.add(q2)
        elif label == "0":
            distractors.add(q2)
        else:
            raise ValueError(f"unexpected label {label!r}")

    corpus_ids = sorted(targets | distractors)
    corpus: list[dict[str, object]] = [
        {
            "id": f"{ID_PREFIX}{pid}",
            "title": questions[pid].title,
            "body": questions[pid].body,
            "answers": [],
            "tags": [],
            "created_at": None,
        }
        for pid in corpus_ids
    ]

    corpus_set = set(corpus_ids)
    queries: list[dict[str, object]] = []
    for pid in sorted(duplicates - corpus_set):
        relevant = forward_closure(dup_edges[pid], dup_edges) & corpus_set
        relevant.discard(pid)
        if not relevant:
            continue
        question = questions[pid]
        text = question.title if not question.body else f"{question.title}\n\n{question.body}"
        queries.append(
            {
                "id": f"{QUERY_PREFIX}{pid}",
                "text": text,
                "relevant": [f"{ID_PREFIX}{r}" for r in sorted(relevant)],
            }
        )
    return corpus, queries


def write_jsonl(path: Path, records: list[dict[str, object]]) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument(
        "--source", type=Path, required=True, help=f"directory containing {SOURCE_FILE}"
    )
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    args = parser.parse_args(argv)

    rows = read_rows(args.source / SOURCE_FILE)
    corpus, queries = derive(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    write_jsonl(args.out / "corpus.jsonl", corpus)
    write_jsonl(args.out / "queries.jsonl", queries)
    n_rel = sum(len(cast(list[str], q["relevant"])) for q in queries)
    print(
        f"rows={len(rows)} corpus={len(corpus)} queries={len(queries)} relevant_pairs={n_rel}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
