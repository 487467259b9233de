"""The application layer: a knowledge base opened for work, capture, import, curation of
links, sign-in and evaluation. Uses the indexer, search, analyses and reports below it."""
