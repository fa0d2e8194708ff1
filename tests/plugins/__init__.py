"""The suite's shared machinery, registered by tests/conftest.py (`pytest_plugins`): fixtures and the helpers
they are built from. Test modules import from here, never from one another."""
