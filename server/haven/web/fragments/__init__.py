"""Triple Pattern Fragments: the release's default graph, one triple pattern and one page at a time."""
