"""From Markdown files to an index: discover, parse, chunk, embed, build."""
