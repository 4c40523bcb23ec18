"""Spotler Mail+: the audience connector over OAuth 1.0a, its contact-property mapping, and the feeds the pull reads."""
