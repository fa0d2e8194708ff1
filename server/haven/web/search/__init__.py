"""Lookup by name (/search) and the W3C Reconciliation Service API (/reconcile)."""
