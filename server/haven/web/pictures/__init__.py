"""Pictures: an entity's neighbourhood and timeline (drawn on its page) and the dataset network (/network)."""
