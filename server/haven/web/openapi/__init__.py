"""The HTTP API description (OpenAPI 3.1): `description` builds it from openapi.yaml, `routes` serves it."""
