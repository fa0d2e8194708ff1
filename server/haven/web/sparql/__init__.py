"""The SPARQL 1.1 Protocol endpoint, its safety checks, its service description and the query page."""
