"""Finding entities by name: name folding (`names`) and the release's search index (`index`)."""
