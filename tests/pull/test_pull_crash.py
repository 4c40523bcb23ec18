"""A pull stopped between any two steps, then re-run, leaves the CRM exactly as an uninterrupted pull does."""

from __future__ import annotations

import pytest

from tests.pull.crash import POINTS, crashed_then_resumed_equals_clean
from tests.pull.test_pull_basics import engaged_world


@pytest.mark.parametrize("occurrence", [1, 2, 5])
@pytest.mark.parametrize("point", POINTS)
def test_crash_at_every_step_then_resume(any_world, tmp_path, point, occurrence):
    world = any_world
    engaged_world(world)
    settings = world.settings.model_copy(update={
        "mailchimp": world.settings.mailchimp.model_copy(update={"report_page_size": 2}),
        "spotler": world.settings.spotler.model_copy(update={"page_size": 2})})
    crashed = crashed_then_resumed_equals_clean(settings, world.crm_url, world.state_url, tmp_path / "clean",
                                                point, occurrence)
    assert crashed  # small pages: every point is passed at least five times
