"""What copbot says when something cannot be done: every error text of the core, in one place.

One place keeps the voice the same (say what was wrong, then what to type
instead) and lets wording be reviewed or translated without reading the
rules. The texts never tell a place that may not see something that it exists:
"no entry #12 that can be shown here" is said alike for a missing entry and
for one from a channel this one may not see. The usage line of a command
(``Usage: /cop ...``) is added by the core to every :class:`~bot.errors.UsageError`.
"""

from __future__ import annotations

__all__ = [
    "ASK_EMPTY",
    "ASK_WHAT",
    "DIGEST_NOT_IN_A_CHANNEL",
    "HOSTS_WHICH_TOPIC",
    "IDENTITY_SHAPE",
    "INTERNAL_ERROR",
    "NOTHING_TO_SAVE",
    "NOT_SUGGESTED_HERE",
    "NO_SUGGESTION_THREAD",
    "RETAG_NO_TAGS",
    "RETAG_WHICH_TAGS",
    "RETITLE_WHAT",
    "SAVED_MESSAGE_DELETED",
    "SEARCH_WHAT",
    "SHARE_UNTIL_NOT_UPDATE",
    "SHARE_WHAT",
    "SIMILAR_WHAT",
    "THANKS_WHOM",
    "THANKS_YOURSELF",
    "UNDO_WHICH",
    "UNKNOWN_PROFILE",
    "WEB_WHICH",
    "WHO_WHICH_TOPIC",
    "ambiguous_member",
    "bad_date",
    "change_not_shown",
    "digest_days",
    "entry_not_by",
    "entry_not_shown",
    "not_a_suggestion",
    "not_an_entry_number",
    "suggestions_word",
    "unknown_feedback",
    "unknown_kind",
    "unknown_member",
    "unknown_member_to_forget",
    "which_entry",
]

# ---------------------------------------------------------------------- anything

#: An event failed for a reason of ours (it was logged with the event's id).
INTERNAL_ERROR = "Sorry, something went wrong on my side. It was logged; please try again."

# ---------------------------------------------------------------------- members and entries


def unknown_member(name: str) -> str:
    return f"I don't know a member called “{name}”."


def ambiguous_member(name: str, candidates: str) -> str:
    return f"“{name}” could be {candidates}; be more precise."


def not_an_entry_number(ref: str) -> str:
    return f"“{ref}” is not an entry number like #12."


def entry_not_shown(number: str) -> str:
    """The same words whether the entry is missing or belongs where this place cannot see."""
    return f"There is no entry #{number} that can be shown here."


def change_not_shown(ref: str) -> str:
    """The same words whether the change is missing or belongs where this place cannot see."""
    return f"There is no change {ref} that can be undone here."


UNKNOWN_PROFILE = "I don't know that member."


def unknown_member_to_forget(name: str) -> str:
    return f"No member called '{name}'. Try their user id, e.g. U0123ABC."


# ---------------------------------------------------------------------- finding and adding

SEARCH_WHAT = "What should I look for? Try `/cop search pandas memory`."
WHO_WHICH_TOPIC = "Which topic? Try `/cop who airflow`."
ASK_WHAT = "What is your question? Try `/cop ask how do I ...?`"
ASK_EMPTY = "That question had no text I could keep."
SHARE_UNTIL_NOT_UPDATE = "`until:` is for `kind:update` (news that stops being true)."
SHARE_WHAT = "What should I keep? Try `/cop share use polars for big CSVs #polars`"
NOTHING_TO_SAVE = "That message has no text to save."
SAVED_MESSAGE_DELETED = "That message was deleted; nothing saved."


def unknown_kind(wanted: str, kinds: str) -> str:
    return f"Unknown kind '{wanted}'. Use one of: {kinds}."


def bad_date(text: str) -> str:
    return f"Could not read the date '{text}'; write it as YYYY-MM-DD."


# ---------------------------------------------------------------------- suggestions

NO_SUGGESTION_THREAD = "Use this in the thread of a question where I suggested answers."
NOT_SUGGESTED_HERE = "I made no suggestion in this thread."
SIMILAR_WHAT = "Which question? Try `/cop similar how do I read a big CSV?`"


def not_a_suggestion(number: str, count: int) -> str:
    return f"'{number}' is not one of the suggestions (1 to {count})."


def suggestions_word(args: str) -> str:
    return f"'{args}'? Try `/cop suggestions` or `/cop suggestions reset`."


def unknown_feedback(verdict: str) -> str:
    return f"Unknown feedback '{verdict}'."


# ---------------------------------------------------------------------- digests

DIGEST_NOT_IN_A_CHANNEL = (
    "Digests belong to a channel: ask for one in the channel you want it for."
)


def digest_days(max_days: int) -> str:
    return f"Give the number of days the digest covers (1 to {max_days}), e.g. `/cop digest 30`."


# ---------------------------------------------------------------------- the practice

HOSTS_WHICH_TOPIC = "Which topic? Try `/cop hosts airflow`."
THANKS_WHOM = "Whom do you want to thank? Try `/cop thanks @chen for #12`."
THANKS_YOURSELF = "Thanking yourself is kind, but it isn't counted. 🙂"
IDENTITY_SHAPE = (
    "Name your identity on the other platform as platform:user-id, "
    "e.g. `/cop link discord:123456789012345678`."
)
WEB_WHICH = "Say `/cop web off` to hide what you wrote, `/cop web on` to show it."


def entry_not_by(entry_id: int, author: str) -> str:
    return f"#{entry_id} is by {author}, not by that member."


# ---------------------------------------------------------------------- curation

RETAG_WHICH_TAGS = "Which tags? `#a #b` replaces them, `+a` adds, `-b` removes."
RETAG_NO_TAGS = "Those are no tags I can keep."
RETITLE_WHAT = "What should the title be?"
UNDO_WHICH = "Which change? See `/cop history #12`, then `/cop undo c3`."


def which_entry(example: str) -> str:
    return f"Which entry? Try `/cop {example}`."
