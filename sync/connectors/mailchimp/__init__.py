"""Mailchimp: the audience connector, its merge-field plan, and the report and member streams the pull reads."""
