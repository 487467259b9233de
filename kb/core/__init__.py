"""The ground floor: the entry model, configuration, errors, files and locks, the store and
the vector index, and the text catalogue. Imports nothing of the project above it."""
