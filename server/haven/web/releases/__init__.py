"""The release history routes: the release list, each release's changelog and RDF Patch, its dumps."""
