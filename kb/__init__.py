"""Reflexive learning knowledge base for Klimatneutrala Malmö 2.0."""

__version__ = "0.1.0"
