"""Cursors: a value plus the keys already seen at exactly that value."""

from __future__ import annotations

from sync.state.store import open_state

NAME = "mailchimp:newsletter:email-activity:campaign-42"


def test_a_cursor_is_absent_before_its_first_read(store):
    assert store.get_cursor(NAME) is None


def test_a_cursor_round_trips_and_moves(store):
    store.set_cursor(NAME, "2026-05-01T10:00:00+00:00", ["k2", "k1", "k2"])
    first = store.get_cursor(NAME)

    store.set_cursor(NAME, "2026-05-02T08:30:00+00:00", ["k9"])
    moved = store.get_cursor(NAME)

    assert (first.name, first.value, first.boundary_keys) == (NAME, "2026-05-01T10:00:00+00:00", {"k1", "k2"})
    assert (moved.value, moved.boundary_keys) == ("2026-05-02T08:30:00+00:00", frozenset({"k9"}))
    assert moved.updated_at >= first.updated_at


def test_cursors_are_kept_apart_by_name_including_case(store):
    store.set_cursor("spotler:contacts", "after-token-" + "x" * 2000)
    store.set_cursor("Spotler:contacts", "other", ["a"])

    assert store.get_cursor("spotler:contacts").value == "after-token-" + "x" * 2000
    assert store.get_cursor("spotler:contacts").boundary_keys == frozenset()
    assert store.get_cursor("Spotler:contacts").value == "other"


def test_a_cursor_survives_reopening_the_store(store):
    store.set_cursor(NAME, "v1", ["k"])
    store.close()

    with open_state(store.url) as reopened:
        assert reopened.get_cursor(NAME).value == "v1"
