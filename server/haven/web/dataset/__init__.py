"""Dataset-level resources: landing page, ontology, shapes, VoID/DCAT, dumps, JSON-LD context, static files."""
