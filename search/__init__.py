"""Finding lessons: queries, filters, similar entries."""
