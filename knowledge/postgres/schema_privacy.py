"""Visibility follows the channel, on PostgreSQL too; edits know their author.

Mirrors ``knowledge/sqlite/schema_privacy.py`` (why a trigger-kept copy rather than a
join: ``knowledge/channels.py``). A channel whose visibility changes updates
its entries and thanks in the same statement; a new entry or thank-you takes
its channel's visibility; a direct write that would make one differ from its
channel is refused.
"""

from __future__ import annotations

__all__ = ["PRIVACY"]

_SAME_CHANNEL = "platform = NEW.platform AND workspace = NEW.workspace AND channel = NEW.channel"
_CHANNEL_OF_NEW = (
    "SELECT c.visibility FROM channels c WHERE c.platform = NEW.platform "
    "AND c.workspace = NEW.workspace AND c.channel = NEW.channel"
)

PRIVACY = (
    # When the visibility last changed, so an old claim cannot reopen a channel.
    "ALTER TABLE channels ADD COLUMN visibility_at text NOT NULL DEFAULT ''",
    # Who edited a message, so forgetting a member removes their edits' text too.
    "ALTER TABLE message_edits ADD COLUMN author text NOT NULL DEFAULT ''",
    f"""
    CREATE FUNCTION copbot_channel_visibility_follows() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE entries SET visibility = NEW.visibility
            WHERE {_SAME_CHANNEL} AND visibility <> NEW.visibility;
        UPDATE thanks SET visibility = NEW.visibility
            WHERE {_SAME_CHANNEL} AND visibility <> NEW.visibility;
        RETURN NULL;
    END $$
    """,
    "CREATE TRIGGER channel_visibility_changed AFTER UPDATE OF visibility ON channels "
    "FOR EACH ROW WHEN (NEW.visibility IS DISTINCT FROM OLD.visibility) "
    "EXECUTE FUNCTION copbot_channel_visibility_follows()",
    "CREATE TRIGGER channel_added AFTER INSERT ON channels "
    "FOR EACH ROW EXECUTE FUNCTION copbot_channel_visibility_follows()",
    f"""
    CREATE FUNCTION copbot_take_channel_visibility() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        NEW.visibility := coalesce(({_CHANNEL_OF_NEW}), NEW.visibility);
        RETURN NEW;
    END $$
    """,
    f"""
    CREATE FUNCTION copbot_refuse_visibility_drift() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.visibility <> coalesce(({_CHANNEL_OF_NEW}), NEW.visibility) THEN
            RAISE EXCEPTION '%.visibility follows its channel: change the channel instead',
                TG_TABLE_NAME;
        END IF;
        RETURN NEW;
    END $$
    """,
    *(
        statement
        for table in ("entries", "thanks")
        for statement in (
            f"CREATE TRIGGER {table}_take_channel_visibility BEFORE INSERT ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION copbot_take_channel_visibility()",
            f"CREATE TRIGGER {table}_visibility_is_the_channels BEFORE UPDATE OF visibility "
            f"ON {table} FOR EACH ROW EXECUTE FUNCTION copbot_refuse_visibility_drift()",
        )
    ),
)
