"""A community to search: questions, answers, know-how and links across public and private channels.

Built through the storage interface (as capture writes), the same way on every
backend, so the same queries can be asked of each and their answers compared.
Each entry has a name; the contract's expectations are written with them.
"""

from __future__ import annotations

from knowledge import feedback
from knowledge.models import ChannelRef, Entry, EntryKind
from knowledge.relational.repertoire import RelationalRepertoire
from tests.contract.support import DM, OTHER_PUBLIC, PRIVATE, PUBLIC, T0, Community

DAY = 24 * 60.0  # minutes


def build_search_community(repertoire: RelationalRepertoire) -> dict[str, Entry]:
    """The entries by name (answers are named ``<question>.answer``)."""
    c = Community(repertoire)
    ana, ben = c.member("U-ana", "Ana"), c.member("U-ben", "Ben")
    jose, cam = c.member("U-jose", "José García"), c.member("U-cam", "Cam")
    e: dict[str, Entry] = {}

    def answer(name: str, text: str, author: int, *, accepted: bool = False) -> None:
        question = e[name]
        made = c.answer(question, text, author, minutes=question_minutes[name] + 5)
        if accepted:
            repertoire.set_accepted(made.id, True)
        e[f"{name}.answer"] = made

    question_minutes: dict[str, float] = {}

    def ask(
        name: str,
        where: ChannelRef,
        text: str,
        author: int,
        day: float,
        *,
        tags: tuple[str, ...] = (),
        title: str | None = None,
    ) -> None:
        minutes = day * DAY
        question_minutes[name] = minutes
        e[name] = c.say(
            EntryKind.QUESTION, where, text, author, minutes=minutes, tags=tags, title=title
        )

    csv = "How do I speed up pandas read_csv on large files?"
    ask("csv", PUBLIC, csv, ana, 1, tags=("pandas",))
    answer("csv", "Use the pyarrow engine and usecols", ben, accepted=True)
    ask("csv_memory", PRIVATE, "pandas read_csv runs out of memory on the billing export", ben, 2)
    answer("csv_memory", "Read it in chunks with chunksize", ana)
    ask("airflow", PUBLIC, "Airflow task stuck in queued state", jose, 3, tags=("airflow",))
    answer("airflow", "Raise the pool slots of the celery executor", ana, accepted=True)
    ask("airflow_open", OTHER_PUBLIC, "Why is my Airflow DAG not scheduled?", cam, 4)
    ask("pods", PUBLIC, "Kubernetes pod stuck in pending", ana, 5)
    answer("pods", "There is not enough memory on the nodes", ben)
    ask("cafe", PUBLIC, "Where is the café with good wifi near the office?", jose, 6)
    answer("cafe", "The naïve bakery on Main street has fast wifi", cam)
    ask("salary", DM, "Can someone review my salary negotiation email?", ana, 7)
    ask("cache", PUBLIC, "Cache invalidation strategies for the API", ben, 8)
    ask("cache_layer", PUBLIC, "Invalidation of the cache layer after deploys", cam, 9)
    ask(
        "spark",
        PUBLIC,
        "Spark joins got slow after the upgrade, what now? Broadcast joins?",
        ana,
        10,
        title="Slow Spark joins",
    )
    ask("spark_body", PUBLIC, "Our nightly job is slow; it is Spark with many joins", ben, 11)
    ask("celery", PUBLIC, "My celery workers wait forever", cam, 12)
    ask("billing", PUBLIC, "Our billing export is huge, how to load it?", cam, 13)
    ask("team_private", PRIVATE, "Who rotates the deploy key for the team?", ben, 14)
    answer("team_private", "Ben does it every quarter with the vault script", ana)
    e["docker"] = c.say(
        EntryKind.KNOWHOW,
        OTHER_PUBLIC,
        "Use multi-stage builds to shrink Docker images",
        ben,
        minutes=15 * DAY,
        tags=("docker",),
    )
    e["kafka"] = c.say(
        EntryKind.KNOWHOW,
        PUBLIC,
        "A great talk on Kafka consumer groups and rebalancing",
        jose,
        minutes=16 * DAY,
        knowhow_kind="resource",
    )
    # "Solved it" links: the public celery question borrows the public airflow answer;
    # the public billing question is linked to a private thread, whose answer it must not show.
    at = T0
    assert feedback.link_solved(repertoire, e["celery"].id, e["airflow"].id, at)
    assert feedback.link_solved(repertoire, e["billing"].id, e["csv_memory"].id, at)
    return e
