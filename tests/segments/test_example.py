"""config/segments.example.yaml fits the embedded demo CRM and selects people there."""

from __future__ import annotations

import os
from pathlib import Path

from sync.demo.crm.generate import create_demo_crm
from sync.segments.select import select_recipients
from sync.settings import Settings

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "segments.example.yaml"


def test_the_example_segments_on_the_demo_crm(tmp_path, monkeypatch):
    for name in [name for name in os.environ if name.startswith("CRM_SYNC_") and not name.startswith("CRM_SYNC_TEST_")]:
        monkeypatch.delenv(name)
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    create_demo_crm(url, contacts=1000, seed=42)
    settings = Settings(crm={"url": url}, segments_file=EXAMPLE, audiences={"newsletter": {"audience_id": "x"}})
    spring = select_recipients(settings, "spring-promo")
    assert spring.step_counts == [34, 85, 73]  # the figures docs/segments.md shows
    assert (len(spring.email_recipients), len(spring.post_recipients)) == (29, 20)
    assert spring.reasons() == {"no_consent": 13, "exclusion_list": 6, "consent_withdrawn": 3, "deleted": 1,
                                "opted_out": 1}
    assert all(set(values) == {"street", "postal_code", "city", "country"} for values in spring.post_values.values())
    spenders = select_recipients(settings, "big-spenders")
    assert spenders.email_recipients and spenders.step_counts[1] <= spenders.step_counts[0]
