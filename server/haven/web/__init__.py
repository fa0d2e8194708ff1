"""The web layer: the Flask app (`app.create_app`), one subpackage per family of routes, each route module
beside the module that builds its content (`sparql/`, `entities/`, `dataset/`), and the machinery they share
(`negotiation`, `caching`, `context`, `errors`, `serve`)."""
