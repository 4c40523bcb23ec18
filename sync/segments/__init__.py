"""Marketer segments: definitions (``model``, ``load``), pure selection (``conditions``, ``rules``), the
selection over the CRM port (``select``) and the recipients CSV files (``csvfiles``)."""
