"""The platforms' documented limits, written as the platforms document them.

Tests check rendered messages against these numbers, never against the
renderers' own constants: a renderer whose constant drifts from the platform
(``MAX_BLOCKS`` set to 60, an embed total of 60,000) then fails here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# Slack, Block Kit reference (https://docs.slack.dev/reference/block-kit/blocks and
# .../composition-objects/text-object, .../block-elements/button-element):
#: "You can include up to 50 blocks in each message."
SLACK_BLOCKS_PER_MESSAGE = 50
#: Section block ``text``: "Maximum length for the text in this field is 3000 characters."
SLACK_SECTION_TEXT = 3000
#: Section block ``fields``: "Maximum number of items is 10", each at most 2000 characters.
SLACK_SECTION_FIELDS, SLACK_SECTION_FIELD_TEXT = 10, 2000
#: Header block ``text``: "Maximum length for the text in this field is 150 characters."
SLACK_HEADER_TEXT = 150
#: Context block ``elements``: "Maximum number of items is 10"; a text object, 3000 characters.
SLACK_CONTEXT_ELEMENTS, SLACK_TEXT_OBJECT = 10, 3000
#: Actions block ``elements``: at most 25.
SLACK_ACTION_ELEMENTS = 25
#: Button ``text``: at most 75 characters; ``value``: at most 2000; ``action_id``: 255.
SLACK_BUTTON_TEXT, SLACK_BUTTON_VALUE, SLACK_ACTION_ID = 75, 2000, 255
#: Modal view (https://docs.slack.dev/reference/views/modal-views): ``title``, ``submit``
#: and ``close`` at most 24 characters; ``private_metadata`` at most 3000.
SLACK_VIEW_TITLE, SLACK_PRIVATE_METADATA = 24, 3000
#: Input block ``label``: at most 2000 characters; plain-text input: at most 3000.
SLACK_INPUT_LABEL, SLACK_INPUT_VALUE = 2000, 3000
#: chat.postMessage ``text``: "we recommend ... no more than 4,000 characters" (40,000 cut).
SLACK_MESSAGE_TEXT = 4000

# Discord, API reference "Message" (https://discord.com/developers/docs/resources/message):
#: ``content``: up to 2000 characters; up to 10 embeds.
DISCORD_CONTENT, DISCORD_EMBEDS = 2000, 10
#: "Embed Limits": title 256, description 4096, 25 fields, field name 256, field value
#: 1024, footer text 2048, author name 256, and 6000 characters over all the embeds.
DISCORD_TITLE, DISCORD_DESCRIPTION, DISCORD_FIELDS = 256, 4096, 25
DISCORD_FIELD_NAME, DISCORD_FIELD_VALUE, DISCORD_FOOTER = 256, 1024, 2048
DISCORD_AUTHOR, DISCORD_EMBEDS_TOTAL = 256, 6000
#: "Components": 5 action rows, 5 buttons a row, a label of 80, a ``custom_id`` of 100.
DISCORD_ROWS, DISCORD_BUTTONS_PER_ROW, DISCORD_BUTTON_LABEL, DISCORD_CUSTOM_ID = 5, 5, 80, 100


def _text(obj: Any) -> str:
    return str((obj or {}).get("text") or "")


def check_slack_blocks(blocks: list[dict[str, Any]]) -> None:
    """Every limit of Block Kit that copbot's blocks could reach."""
    assert len(blocks) <= SLACK_BLOCKS_PER_MESSAGE
    for block in blocks:
        kind = block["type"]
        if kind == "section":
            assert len(_text(block.get("text"))) <= SLACK_SECTION_TEXT
            fields = block.get("fields") or []
            assert len(fields) <= SLACK_SECTION_FIELDS
            assert all(len(_text(f)) <= SLACK_SECTION_FIELD_TEXT for f in fields)
            if "accessory" in block:
                check_slack_button(block["accessory"])
        elif kind == "header":
            assert len(_text(block["text"])) <= SLACK_HEADER_TEXT
        elif kind == "context":
            assert len(block["elements"]) <= SLACK_CONTEXT_ELEMENTS
            assert all(len(_text(e)) <= SLACK_TEXT_OBJECT for e in block["elements"])
        elif kind == "actions":
            assert len(block["elements"]) <= SLACK_ACTION_ELEMENTS
            for element in block["elements"]:
                check_slack_button(element)
        elif kind == "input":
            assert len(_text(block["label"])) <= SLACK_INPUT_LABEL
            initial = block["element"].get("initial_value")
            assert initial is None or len(str(initial)) <= SLACK_INPUT_VALUE


def check_slack_button(button: dict[str, Any]) -> None:
    if button.get("type") != "button":
        return
    assert len(_text(button["text"])) <= SLACK_BUTTON_TEXT
    assert len(str(button.get("value") or "")) <= SLACK_BUTTON_VALUE
    assert len(str(button.get("action_id") or "")) <= SLACK_ACTION_ID


def check_slack_view(view: dict[str, Any]) -> None:
    for key in ("title", "submit", "close"):
        if key in view:
            assert len(_text(view[key])) <= SLACK_VIEW_TITLE
    assert len(str(view.get("private_metadata") or "")) <= SLACK_PRIVATE_METADATA
    check_slack_blocks(view["blocks"])


def check_discord_message(content: str, embeds: Sequence[Mapping[str, Any]]) -> None:
    """Every limit of a Discord message's content and embeds (the JSON sent)."""
    assert len(content or "") <= DISCORD_CONTENT
    assert len(embeds) <= DISCORD_EMBEDS
    total = 0
    for embed in embeds:
        title = str(embed.get("title") or "")
        description = str(embed.get("description") or "")
        footer = str((embed.get("footer") or {}).get("text") or "")
        author = str((embed.get("author") or {}).get("name") or "")
        fields = embed.get("fields") or []
        assert len(title) <= DISCORD_TITLE
        assert len(description) <= DISCORD_DESCRIPTION
        assert len(footer) <= DISCORD_FOOTER
        assert len(author) <= DISCORD_AUTHOR
        assert len(fields) <= DISCORD_FIELDS
        total += len(title) + len(description) + len(footer) + len(author)
        for field in fields:
            assert len(str(field["name"])) <= DISCORD_FIELD_NAME
            assert len(str(field["value"])) <= DISCORD_FIELD_VALUE
            total += len(str(field["name"])) + len(str(field["value"]))
    assert total <= DISCORD_EMBEDS_TOTAL


def check_discord_components(rows: list[dict[str, Any]]) -> None:
    assert len(rows) <= DISCORD_ROWS
    for row in rows:
        assert row["type"] == 1 and len(row["components"]) <= DISCORD_BUTTONS_PER_ROW
        for button in row["components"]:
            assert len(str(button.get("label") or "")) <= DISCORD_BUTTON_LABEL
            assert len(str(button.get("custom_id") or "")) <= DISCORD_CUSTOM_ID
