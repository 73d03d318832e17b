"""A synthetic community of practice, written as a real Slack export.

``python -m bench.synth --messages 100000 --out bench/synthetic/100k`` writes
``bench/synthetic/100k/export/`` (users.json, channels.json, groups.json, one folder
per channel, one JSON file per day) and ``bench/synthetic/100k/queries.json`` (1,000
keyword queries of 1-3 words and 200 whole questions for the similar-question
lookup). The real importer is what the benchmark measures.

The community: threads with questions (a ✅ from the asker on half of the
answered ones, 👍 votes), answers, know-how with #tags saved by 📌, chit-chat,
channel joins, and a quarter of the channels without threads (answers follow
their question top-level, for the unthreaded linker). Words follow a Zipf law
over a 30,000-word vocabulary whose head is real English stop words.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Any

import numpy as np

STOP = (
    "the to a i is it and of in for with how do on my this that can what when you "
    "be there an or why does any not from have we are at way should use"
).split()
SYLLABLES = (
    "ka lo mi ne ru ta vo shi pe da zu gro bel tor vin quel spar mox dex lin fra hub "
    "cor nat pix sol tem ver yal zen brik cam dor el fen gal hap jor kel mun nor pol"
).split()
TAGS_BASE = (
    "pandas airflow spark dbt kafka polars sql python docker k8s postgres duckdb "
    "parquet arrow s3 terraform ci testing pytest typing asyncio fastapi flask"
).split()


def make_vocab(size: int, rng: random.Random) -> list[str]:
    words = list(STOP)
    seen = set(words)
    while len(words) < size:
        n = rng.choice((2, 2, 3, 3, 4))
        w = "".join(rng.choice(SYLLABLES) for _ in range(n))
        if w not in seen:
            seen.add(w)
            words.append(w)
    return words


class Words:
    """Draws Zipf-distributed words in big numpy blocks (fast for millions of messages)."""

    def __init__(self, vocab: list[str], seed: int, exponent: float = 1.05) -> None:
        self.vocab = vocab
        ranks = np.arange(1, len(vocab) + 1, dtype=np.float64)
        p = ranks**-exponent
        self.p = p / p.sum()
        self.np_rng = np.random.default_rng(seed)
        self._buf = np.empty(0, dtype=np.int64)
        self._at = 0

    def take(self, n: int) -> list[str]:
        if self._at + n > len(self._buf):
            self._buf = self.np_rng.choice(len(self.vocab), size=1_000_000, p=self.p)
            self._at = 0
        ids = self._buf[self._at : self._at + n]
        self._at += n
        return [self.vocab[i] for i in ids]


def generate(messages: int, out: Path, seed: int = 7) -> None:
    rng = random.Random(seed)
    vocab = make_vocab(30_000, rng)
    words = Words(vocab, seed)
    tags = TAGS_BASE + [f"topic{i}" for i in range(200)]
    tag_p = np.array([1 / (i + 1) for i in range(len(tags))])
    tag_p /= tag_p.sum()
    tag_cdf = np.cumsum(tag_p)
    export = out / "export"
    export.mkdir(parents=True, exist_ok=True)
    n_users = max(50, min(5_000, messages // 200))
    users = [f"U{i:07d}" for i in range(n_users)]
    (export / "users.json").write_text(
        json.dumps(
            [
                {
                    "id": u,
                    "team_id": "TSYNTH",
                    "name": f"user{i}",
                    "real_name": f"User {i}",
                    "profile": {"display_name": f"user{i}", "real_name": f"User {i}"},
                }
                for i, u in enumerate(users)
            ]
        )
    )
    n_channels = 12 if messages < 50_000 else 24
    channels: list[dict[str, Any]] = []  # Slack's conversation records, as JSON
    groups: list[dict[str, Any]] = []
    for c in range(n_channels):
        conv: dict[str, Any] = {
            "id": f"C{c:08d}",
            "name": f"chan-{c}",
            "created": 1_600_000_000,
            "members": [],
        }
        (groups if c % 6 == 5 else channels).append(conv)
    (export / "channels.json").write_text(json.dumps(channels))
    (export / "groups.json").write_text(json.dumps([{**g, "is_private": True} for g in groups]))
    all_convs = channels + groups
    unthreaded = {c["id"] for i, c in enumerate(all_convs) if i % 4 == 3}
    days = max(30, messages // 1_500)
    per_file = messages / (len(all_convs) * days)
    start = 1_640_995_200  # 2022-01-01
    written = 0
    question_texts: list[str] = []

    def text(lo: int, hi: int) -> str:
        return " ".join(words.take(rng.randint(lo, hi)))

    for conv in all_convs:
        folder = export / conv["name"]
        folder.mkdir(exist_ok=True)
        threaded = conv["id"] not in unthreaded
        for day in range(days):
            target = int(per_file) + (1 if rng.random() < per_file - int(per_file) else 0)
            if target <= 0:
                continue
            t = start + day * 86_400 + rng.randint(0, 30_000)
            seq = 0
            msgs: list[dict[str, object]] = []

            def ts() -> str:
                nonlocal t, seq
                t += rng.randint(20, 400)
                seq += 1
                return f"{t}.{seq:06d}"

            while len(msgs) < target:
                roll = rng.random()
                asker = rng.choice(users)
                if roll < 0.55:  # a question and its answers
                    tag = tags[int(np.searchsorted(tag_cdf, rng.random()))]
                    q_ts = ts()
                    q_text = f"how {text(6, 16)} #{tag}?"
                    if len(question_texts) < 5_000 and rng.random() < 0.3:
                        question_texts.append(q_text)
                    answers = rng.choice((0, 1, 2, 2, 3, 3, 4, 5))
                    root: dict[str, object] = {
                        "type": "message",
                        "user": asker,
                        "text": q_text,
                        "ts": q_ts,
                    }
                    msgs.append(root)
                    replies = []
                    accepted_done = False
                    for _ in range(answers):
                        who = rng.choice(users)
                        a_ts = ts()
                        answer: dict[str, object] = {
                            "type": "message",
                            "user": who,
                            "text": text(8, 30),
                            "ts": a_ts,
                        }
                        if threaded:
                            answer["thread_ts"] = q_ts
                            answer["parent_user_id"] = asker
                            replies.append({"user": who, "ts": a_ts})
                        reactions = []
                        if not accepted_done and who != asker and rng.random() < 0.35:
                            accepted_done = True
                            reactions.append(
                                {"name": "white_check_mark", "users": [asker], "count": 1}
                            )
                        if rng.random() < 0.3:
                            voters = rng.sample(users, rng.randint(1, 3))
                            reactions.append({"name": "+1", "users": voters, "count": len(voters)})
                        if reactions:
                            answer["reactions"] = reactions
                        msgs.append(answer)
                    if replies:
                        root["thread_ts"] = q_ts
                        root["reply_count"] = len(replies)
                        root["replies"] = replies
                elif roll < 0.62:  # know-how, saved with 📌
                    tag = tags[int(np.searchsorted(tag_cdf, rng.random()))]
                    msgs.append(
                        {
                            "type": "message",
                            "user": asker,
                            "text": f"tip: {text(12, 40)} #{tag}",
                            "ts": ts(),
                            "reactions": [
                                {"name": "pushpin", "users": [rng.choice(users)], "count": 1}
                            ],
                        }
                    )
                elif roll < 0.97:  # chit-chat
                    msgs.append(
                        {"type": "message", "user": asker, "text": text(3, 14) + ".", "ts": ts()}
                    )
                else:
                    msgs.append(
                        {
                            "type": "message",
                            "subtype": "channel_join",
                            "user": asker,
                            "text": f"<@{asker}> has joined the channel",
                            "ts": ts(),
                        }
                    )
            date = _date(start + day * 86_400)
            (folder / f"{date}.json").write_text(json.dumps(msgs, indent=1))
            written += len(msgs)
    queries = []
    mid = vocab[len(STOP) : 4_000]
    for _ in range(1_000):
        n = rng.choice((1, 2, 2, 3))
        queries.append(" ".join(rng.choice(mid) for _ in range(n)))
    similar = rng.sample(question_texts, min(200, len(question_texts)))
    (out / "queries.json").write_text(
        json.dumps({"messages": written, "keyword": queries, "similar": similar})
    )
    print(f"wrote {written:,} messages in {len(all_convs)} channels to {export}")


def _date(epoch: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    generate(args.messages, args.out, args.seed)


if __name__ == "__main__":
    main()
