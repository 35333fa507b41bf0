"""Argo CD over its REST API (httpx): applications, their deployment history and rollback (Releases port)."""

from actiondesk.adapters.argocd.client import ArgoCd

__all__ = ["ArgoCd"]
