"""Datasette plugins that publish the knowledge base."""
