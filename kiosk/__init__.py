"""Mahalla Kiosk domain: catalog, form engine, validators, store, audit, speech, i18n.

This package never imports textual (tests/test_layers.py proves it)."""

__version__ = "0.1.0"
