"""The tables behind the public views.

Tables carry singular names (``paper``, ``membership`` ...); the plural names
(``profile_papers``, ``paper_events`` ...) belong to the views in
:mod:`harvester.store.views`, which are the documented interface for people who
query the database. The migrations in ``harvester/migrations`` create exactly
this schema; ``tests/test_store.py`` checks that they agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    false,
    text,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData(naming_convention=NAMING_CONVENTION)

POSTGRESQL_ONLY: set[str] = set()
"""The indexes PostgreSQL alone gets (SQLite has no hash index), by name."""


def postgresql_only(index: Index) -> Index:
    """``index``, created on PostgreSQL only (by ``create_all`` as by the migrations)."""
    POSTGRESQL_ONLY.add(str(index.name))
    return index.ddl_if(dialect="postgresql")


def indexes_on(table: Table, dialect: str) -> list[Index]:
    """The indexes ``table`` has on a database of ``dialect``, by name."""
    found = (i for i in table.indexes if dialect == "postgresql" or i.name not in POSTGRESQL_ONLY)
    return sorted(found, key=lambda i: str(i.name))


author = Table(
    "author",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column(
        "baseline_identity", String(64), doc="identity fingerprint of the last complete harvest"
    ),
    Column("lease_owner", String(200), doc="process harvesting this author now (see leases)"),
    Column("lease_until", UTCDateTime, doc="the lease expires then, even if its owner died"),
    Column("watermark", UTCDateTime, doc="newest submission seen by a complete harvest"),
    Column("last_full_at", UTCDateTime, doc="end of the last complete full harvest"),
    Column(
        "ambiguous",
        Boolean,
        nullable=False,
        default=False,
        server_default=false(),
        doc="the candidates split into separate bodies and no anchor said which is the author's",
    ),
)

paper = Table(
    "paper",
    metadata,
    Column("arxiv_id", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("title", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("published", UTCDateTime, nullable=False),
    Column("updated", UTCDateTime, nullable=False),
    Column("primary_category", String(64), nullable=False),
    Column("categories", Text, nullable=False, doc="space separated, primary first"),
    Column("comment", Text),
    Column("journal_ref", Text),
    Column("doi", Text),
    Column("withdrawn", Boolean, nullable=False),
    Column("fingerprint", String(64), nullable=False, doc="hash of every stored field"),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("changed_at", UTCDateTime, nullable=False),
    postgresql_only(Index("ix_paper_arxiv_id_hash", "arxiv_id", postgresql_using="hash")),
)
"""On PostgreSQL, ``paper`` and ``paper_author`` are also indexed by a hash of
``arxiv_id`` (migration 0014): a profile looks its papers and their author rows up one
id at a time, and a hash lookup reads one bucket page where the primary key's B-tree
descends three levels comparing strings at each (a profile's read at a million papers:
``docs/benchmarks.md``). SQLite has no hash index, and its B-trees are searched in
process."""

paper_author = Table(
    "paper_author",
    metadata,
    Column(
        "arxiv_id",
        String(64),
        ForeignKey("paper.arxiv_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("position", Integer, primary_key=True),
    Column("name", Text, nullable=False),
    Column("folded_name", Text, nullable=False),
    Column("affiliations", Text, nullable=False, doc="'; ' separated"),
    Index("ix_paper_author_folded_name", "folded_name"),
    postgresql_only(Index("ix_paper_author_arxiv_id_hash", "arxiv_id", postgresql_using="hash")),
)

paper_version = Table(
    "paper_version",
    metadata,
    Column(
        "arxiv_id",
        String(64),
        ForeignKey("paper.arxiv_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("version", Integer, primary_key=True),
    Column("submitted", UTCDateTime, nullable=False),
    Column("size_kb", Integer, doc="as arXivRaw gives it; NULL when not given"),
)

oai_window = Table(
    "oai_window",
    metadata,
    Column("set_spec", String(128), primary_key=True, doc="'' for all of arXiv"),
    Column("newest_datestamp", Date, doc="the newest datestamp a complete harvest saw"),
    Column("harvested_at", UTCDateTime, nullable=False),
)

import_progress = Table(
    "import_progress",
    metadata,
    Column("source", String(512), primary_key=True, doc="the file: its path and size"),
    Column("lines", Integer, nullable=False, doc="lines read and stored so far"),
    Column("records", Integer, nullable=False, doc="papers stored so far"),
    Column("newest_update", Date, doc="the newest update_date stored so far"),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
)

membership = Table(
    "membership",
    metadata,
    Column("author_key", String(64), ForeignKey("author.key"), primary_key=True),
    Column("arxiv_id", String(64), ForeignKey("paper.arxiv_id"), primary_key=True),
    Column("status", String(16), nullable=False, doc="active, missing, excluded, rejected or held"),
    Column("matched_name", Text),
    Column("reason", Text),
    Column("seen_version", Integer, nullable=False),
    Column("seen_withdrawn", Boolean, nullable=False),
    Column("seen_meta", Text, nullable=False, doc="JSON of the compared metadata"),
    Column("since", UTCDateTime, nullable=False),
    Column("score", Float, doc="the identity evidence's score (harvester.identity); null: none"),
    Column(
        "drawn_by",
        Text,
        doc="the claimed or included ids (space-separated) it is in the profile through alone",
    ),
    Index("ix_membership_arxiv_id", "arxiv_id"),
    Index("ix_membership_standing", "author_key", "status", "seen_withdrawn", "arxiv_id"),
    Index(
        "ix_membership_held",
        "author_key",
        postgresql_where=text("status = 'held'"),
        sqlite_where=text("status = 'held'"),
    ),
)

# what a person decided with `harvest review KEY --accept/--reject`; wins over evidence
review_decision = Table(
    "review_decision",
    metadata,
    Column("author_key", String(64), ForeignKey("author.key"), primary_key=True),
    Column("arxiv_id", String(64), ForeignKey("paper.arxiv_id"), primary_key=True),
    Column("decision", String(16), nullable=False, doc="a harvester.vocabulary.ReviewDecision"),
    Column("decided_at", UTCDateTime, nullable=False),
)

run = Table(
    "run",
    metadata,
    Column("run_id", Integer, primary_key=True, autoincrement=True),
    Column("author_key", String(64), ForeignKey("author.key"), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("status", String(16), nullable=False, doc="a harvester.vocabulary.RunStatus"),
    Column("requests", Integer, nullable=False, default=0),
    Column("entries_seen", Integer, nullable=False, default=0),
    Column("new_papers", Integer, nullable=False, default=0),
    Column("new_versions", Integer, nullable=False, default=0),
    Column("events", Integer, nullable=False, default=0),
    Column("error", Text),
    Column("mode", String(16), doc="full or incremental (see harvester.batching)"),
    Column(
        "stale_entries",
        Integer,
        nullable=False,
        default=0,
        server_default="0",
        doc="entries received with a lower version than the one stored (kept as stored)",
    ),
    Index("ix_run_author_key_started_at", "author_key", "started_at"),
    Index("ix_run_author_key_finished_at", "author_key", "finished_at"),
    Index(
        "ix_run_running",
        "author_key",
        postgresql_where=text("status = 'running'"),
        sqlite_where=text("status = 'running'"),
    ),
)

event = Table(
    "event",
    metadata,
    Column("event_id", Integer, primary_key=True, autoincrement=True),
    Column("author_key", String(64), ForeignKey("author.key"), nullable=False),
    Column("arxiv_id", String(64), ForeignKey("paper.arxiv_id"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("detail", Text),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("run_id", Integer, ForeignKey("run.run_id"), nullable=False),
    Index("ix_event_author_key_recorded_at", "author_key", "recorded_at"),
)

count_change = Table(
    "count_change",
    metadata,
    Column("change_id", Integer, primary_key=True, autoincrement=True),
    Column("author_key", String(64), ForeignKey("author.key"), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("paper_count", Integer, nullable=False),
    Column("withdrawn_count", Integer, nullable=False),
    Column("previous_count", Integer),
    Column("run_id", Integer, ForeignKey("run.run_id"), nullable=False),
    Index("ix_count_change_author_key_recorded_at", "author_key", "recorded_at"),
)

request_slot = Table(
    "request_slot",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("next_at", UTCDateTime, nullable=False, doc="earliest start of the next request"),
)

# UTC months 1990-2199: portable years and 12-month windows in the views
calendar_month = Table(
    "calendar_month",
    metadata,
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("month", Integer, primary_key=True, autoincrement=False),
    Column("starts_at", UTCDateTime, nullable=False, doc="first instant of the month, UTC"),
    Column("ends_at", UTCDateTime, nullable=False, doc="first instant of the next month"),
    Index("ix_calendar_month_starts_at", "starts_at"),
    Index("ix_calendar_month_month", "month", "starts_at"),
)

# 1..100: splits space-separated categories into rows in the views
ordinal = Table(
    "ordinal",
    metadata,
    Column("n", Integer, primary_key=True, autoincrement=False),
)

# computed by harvester.profile.similar after each cycle that changed anything
similar_author = Table(
    "similar_author",
    metadata,
    Column("author_key", String(64), ForeignKey("author.key"), primary_key=True),
    Column("position", Integer, primary_key=True, autoincrement=False, doc="1 = most similar"),
    Column("similar_name", Text, nullable=False),
    Column("similar_key", String(64), doc="the key when the similar author is tracked too"),
    Column("score", Float, nullable=False),
    Column("shared_papers", Integer, nullable=False),
    Column("coauthor_score", Float, nullable=False),
    Column("topic_score", Float, nullable=False),
    Column("category_score", Float, nullable=False),
    Column("shared_terms", Text, nullable=False, doc="', ' separated"),
    Column("shared_categories", Text, nullable=False, doc="space separated"),
    Column("reason", Text, nullable=False),
    Column("computed_at", UTCDateTime, nullable=False),
)

derived_state = Table(
    "derived_state",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("signature", String(64), nullable=False, doc="digest of the data it was derived from"),
    Column("refreshed_at", UTCDateTime, nullable=False),
)

# written with every paper and membership a harvest changes; read (and emptied) by the
# next refresh of the derived data, which recomputes only what those rows touch
derived_change = Table(
    "derived_change",
    metadata,
    Column("change_id", Integer, primary_key=True, autoincrement=True),
    Column("arxiv_id", String(64), nullable=False),
    Column("folded_name", Text, doc="a former author (folded) when a paper's authors changed"),
)

# the fitted TF-IDF model of the similar authors (harvester.topics)
similar_model = Table(
    "similar_model",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("version", String(16), nullable=False),
    Column("papers", Integer, nullable=False, doc="papers the model was fitted on"),
    Column("terms", Text, nullable=False, doc="newline separated, sorted"),
    Column("idf", LargeBinary, nullable=False, doc="float32 weights of the terms"),
    Column("categories", Text, nullable=False, doc="space separated, sorted"),
    Column("fitted_at", UTCDateTime, nullable=False),
)

# what each profile's similar authors were computed from: its centroids (sparse rows
# over the model's terms and categories) and the names its list reads
similar_profile = Table(
    "similar_profile",
    metadata,
    Column("author_key", String(64), ForeignKey("author.key"), primary_key=True),
    Column("name", Text, nullable=False),
    Column("own_names", Text, nullable=False, doc="newline separated folded names"),
    Column("coauthors", Text, nullable=False, doc="lines of a folded name, a tab, its papers"),
    Column("topic_terms", LargeBinary, nullable=False, doc="int32 term numbers"),
    Column("topic_weights", LargeBinary, nullable=False, doc="float32"),
    Column("category_terms", LargeBinary, nullable=False, doc="int32 category numbers"),
    Column("category_weights", LargeBinary, nullable=False, doc="float32"),
)

# a co-author's topic and category centroids (their 25 most recent papers, the stored
# model), kept between refreshes; a change to a paper of the name makes the next refresh
# compute it again (harvester.profile.coauthors)
coauthor_centroid = Table(
    "coauthor_centroid",
    metadata,
    Column("folded_name", Text, primary_key=True),
    Column("shown", Text, nullable=False, doc="the name as it is most often written"),
    Column("papers", Integer, nullable=False, doc="papers the centroids were computed from"),
    Column("topic_terms", LargeBinary, nullable=False, doc="int32 term numbers"),
    Column("topic_weights", LargeBinary, nullable=False, doc="float32"),
    Column("category_terms", LargeBinary, nullable=False, doc="int32 category numbers"),
    Column("category_weights", LargeBinary, nullable=False, doc="float32"),
)

# notifications (harvester.alerts): what each [[notify]] target is to hear, written in the
# same transaction as the events it tells of, then gathered into messages (notice)
outbox_item = Table(
    "outbox_item",
    metadata,
    Column("item_id", Integer, primary_key=True, autoincrement=True),
    Column("target", String(64), nullable=False, doc="the [[notify]] target's name"),
    Column("author_key", String(64), nullable=False),
    Column("kind", String(32), nullable=False, doc="a harvester.vocabulary.AlertKind"),
    Column("arxiv_id", String(64)),
    Column("detail", Text, doc="why held; since when failing and the last error"),
    Column("ref", String(200), doc="what the item is about, once per target (failing runs)"),
    Column("created", UTCDateTime, nullable=False),
    Column("notice_id", Integer, ForeignKey("notice.notice_id"), doc="the message it went into"),
    Index("ix_outbox_item_target", "target", "notice_id"),
    Index("uq_outbox_item_target_ref", "target", "ref", unique=True),
)

notice = Table(
    "notice",
    metadata,
    Column("notice_id", Integer, primary_key=True, autoincrement=True),
    Column("target", String(64), nullable=False),
    Column("created", UTCDateTime, nullable=False),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False, doc="Markdown (apprise renders it per service)"),
    Column("sent", UTCDateTime, doc="delivered then; null: not yet"),
    Column("attempts", Integer, nullable=False, default=0, server_default="0"),
    Column("last_error", Text),
    Column("claimed_by", String(200), doc="process delivering it now (host:pid)"),
    Column("claimed_until", UTCDateTime, doc="the claim expires then, even if its owner died"),
    Index("ix_notice_sent", "sent"),
)

PUBLIC_VIEWS = (
    "profile_stats",
    "profile_papers",
    "count_history",
    "paper_events",
    "harvest_runs",
    "rejected_papers",
    "review_queue",
    "papers_by_year",
    "papers_by_category",
    "coauthors",
    "similar_authors",
    "author_coverage",
    "notifications",
    "paper_versions",
)
"""The documented read API, created by the migrations (see README, "Querying the database")."""
