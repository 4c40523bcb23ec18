"""Pure helpers behind the demo data: ASCII slugs for addresses, Polish surnames, templates."""

from __future__ import annotations

import random
import re

import pytest

from sync.demo.crm.factory import fill_template
from sync.demo.crm.people import LOCALES, ascii_slug, female_form


@pytest.mark.parametrize(("name", "slug"), [
    ("Zoë van den Brink", "zoevandenbrink"),
    ("Łukasz Wójcik", "lukaszwojcik"),
    ("Jürgen Weiß", "jurgenweiss"),
    ("Émilie Lefèvre", "emilielefevre"),
    ("O'Brien", "obrien"),
    ("Åsa Öberg", "asaoberg"),
])
def test_ascii_slug_keeps_letters_people_would_type(name, slug):
    assert ascii_slug(name) == slug


def test_ascii_slug_with_separator_makes_domain_labels():
    assert ascii_slug("Müller Logistik", "-") == "muller-logistik"
    assert ascii_slug("van 't Hof Bouw", "-") == "van-t-hof-bouw"


def test_polish_surnames_take_the_female_form_only_in_poland():
    assert female_form("Kowalski", "PL") == "Kowalska"
    assert female_form("Wójcik", "PL") == "Wójcik"
    assert female_form("Kowalski", "DE") == "Kowalski"


@pytest.mark.parametrize(("template", "pattern"), [
    ("10## @@", r"10\d\d [A-Z]{2}"),
    ("+31 6 #### ####", r"\+31 6 \d{4} \d{4}"),
    ("0#-###", r"0\d-\d{3}"),
    ("Paris", "Paris"),
])
def test_fill_template_puts_digits_and_letters_in_place(template, pattern):
    assert re.fullmatch(pattern, fill_template(random.Random(1), template))


def test_every_mail_domain_is_reserved():
    for locale in LOCALES:
        assert all(domain.endswith(".test") for domain in locale.mail_domains), locale.country
