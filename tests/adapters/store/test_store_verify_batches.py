"""Verify checks the chain a fetched batch at a time (whole-batch comparisons) and walks a batch that fails them
entry by entry: a tampered entry is named wherever it falls against the batches' edges, and an edit that keeps
the batch's concatenated hashes or links equal is still caught entry by entry."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from store_factories import a_draft, append_many, tamper

from actiondesk.adapters.store import SqlStore, ledger
from actiondesk.core.audit import AuditEntry, canonical_json, entry_hash

BATCH = 4
COUNT = 3 * BATCH  # three full batches: seqs 1-4, 5-8, 9-12


@pytest.fixture
def entries(store: SqlStore, monkeypatch: pytest.MonkeyPatch) -> list[AuditEntry]:
    monkeypatch.setattr(ledger, "VERIFY_BATCH", BATCH)
    written = append_many(store, COUNT, "case-1")
    assert store.verify_audit().ok
    return written


def test_a_chain_of_several_batches_verifies_to_its_head(store: SqlStore, entries: list[AuditEntry]) -> None:
    report = store.verify_audit()
    assert (report.ok, report.checked, report.head_hash) == (True, COUNT, entries[-1].hash)


@pytest.mark.parametrize("k", [BATCH, BATCH + 1, COUNT])  # last of a batch, first of the next, the last entry
def test_an_edited_payload_at_a_batch_edge_is_named(store: SqlStore, raw: Engine, entries: object, k: int) -> None:
    tamper(raw, "UPDATE audit_entries SET payload = :payload WHERE seq = :k", payload='{"n":999}', k=k)

    report = store.verify_audit()
    assert (report.ok, report.first_bad_seq, report.checked) == (False, k, k - 1)
    assert report.problem == "content does not match its hash"


def test_a_link_broken_across_two_batches_is_named(store: SqlStore, raw: Engine, entries: object) -> None:
    """The first entry of a batch must link to the last of the batch before it."""
    tamper(raw, f"UPDATE audit_entries SET prev_hash = '{'e' * 64}' WHERE seq = {BATCH + 1}")

    report = store.verify_audit()
    assert (report.ok, report.first_bad_seq) == (False, BATCH + 1)
    assert report.problem == "previous-hash link does not match"


def test_a_chain_truncated_at_a_batch_edge_is_caught_against_the_head(
    store: SqlStore, raw: Engine, entries: object
) -> None:
    tamper(raw, f"DELETE FROM audit_entries WHERE seq > {2 * BATCH}")

    report = store.verify_audit()
    assert (report.ok, report.first_bad_seq, report.checked) == (False, 2 * BATCH + 1, 2 * BATCH)


def test_an_entry_missing_at_a_batch_edge_is_named(store: SqlStore, raw: Engine, entries: object) -> None:
    tamper(raw, f"DELETE FROM audit_entries WHERE seq = {BATCH + 1}")

    report = store.verify_audit()
    assert (report.ok, report.first_bad_seq) == (False, BATCH + 1)
    assert report.problem == f"entry {BATCH + 1} is missing (next stored entry is {BATCH + 2})"


def test_a_rewritten_chain_differs_from_a_checkpoint_in_a_later_batch(
    store: SqlStore, entries: list[AuditEntry]
) -> None:
    seq = BATCH + 2
    report = store.verify_audit({seq: "f" * 64})
    assert (report.ok, report.first_bad_seq) == (False, seq)
    assert report.problem == "entry differs from its signed checkpoint (the chain up to it was rewritten)"
    assert store.verify_audit({seq: entries[seq - 1].hash, COUNT: entries[-1].hash}).ok


def test_a_hash_respelled_in_capitals_is_named(store: SqlStore, raw: Engine, entries: list[AuditEntry]) -> None:
    """Stored hashes are compared as spelled, not as numbers: the same digest in capitals is an edit (the next
    entry's link respelled with it, so only the spelling differs)."""
    k = BATCH - 1
    tamper(
        raw,
        f"UPDATE audit_entries SET hash = upper(hash) WHERE seq = {k}",
        f"UPDATE audit_entries SET prev_hash = upper(prev_hash) WHERE seq = {k + 1}",
    )

    report = store.verify_audit()
    assert (report.ok, report.first_bad_seq) == (False, k)


@pytest.mark.parametrize(
    "database_url", ["sqlite"], indirect=True
)  # PostgreSQL's varchar(64) refuses a 65-character hash
def test_hashes_reshaped_so_their_concatenation_is_unchanged_are_named(
    store: SqlStore, raw: Engine, entries: list[AuditEntry]
) -> None:
    """A batch's stored hashes are compared each on its own. Here one loses its last character to the next, and
    the chain is recomputed from there (links, hashes, head) so that every later entry hashes right and the
    batch's hashes, run together, read exactly like its computed digests: still an edit, named."""
    edited = entries[BATCH]  # seq 5, the first of the second batch; its content and so its digest unchanged
    rows = [(edited.seq, edited.prev_hash, edited.hash[:63])]
    carried = edited.hash[63]
    for entry in entries[BATCH + 1 :]:
        prev = rows[-1][2]
        digest = entry_hash(
            entry.seq, entry.kind.value, entry.case_id, entry.actor, entry.at, canonical_json(entry.payload), prev
        )
        rows.append((entry.seq, prev, carried + digest))
        carried = ""
    statements = [f"UPDATE audit_entries SET prev_hash = '{p}', hash = '{h}' WHERE seq = {q}" for q, p, h in rows]
    tamper(raw, *statements, f"UPDATE audit_head SET hash = '{rows[-1][2]}'")

    report = store.verify_audit()
    assert (report.ok, report.first_bad_seq) == (False, edited.seq)
    assert report.problem == "content does not match its hash"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # PostgreSQL text holds only valid UTF-8
@pytest.mark.parametrize("column", ["payload", "actor"])
def test_a_value_that_is_not_utf8_is_named_not_a_crash(
    store: SqlStore, raw: Engine, entries: object, column: str
) -> None:
    tamper(raw, f"UPDATE audit_entries SET {column} = CAST(x'ff7b7d' AS TEXT) WHERE seq = {BATCH + 1}")

    report = store.verify_audit()
    assert (report.ok, report.first_bad_seq) == (False, BATCH + 1)
    assert report.problem == "content does not match its hash"


def test_names_spelled_with_percent_signs_quotes_and_non_ascii_verify(store: SqlStore) -> None:
    """Actor, case and kind are spliced into a bytes template per (actor, case, kind): a ``%`` in them is text,
    not a placeholder, and they are spelled as JSON (quotes escaped, non-ASCII kept)."""
    drafts = [
        a_draft(n, case_id).model_copy(update={"actor": actor})
        for n, (actor, case_id) in enumerate(
            [('50%s "off" \\ %d', "case-%"), ("zoë", None), ('50%s "off" \\ %d', "case-%"), ("zoë", "c\u2028")]
        )
    ]
    with store.transaction() as uow:
        for draft in drafts:
            uow.append_audit(draft)

    report = store.verify_audit()
    assert (report.ok, report.checked) == (True, len(drafts))
