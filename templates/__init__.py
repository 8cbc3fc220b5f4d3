"""Jinja2 templates for every human-readable output (installed as package data)."""
