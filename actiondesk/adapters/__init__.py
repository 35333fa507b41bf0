"""Adapters: one subpackage per outside system, each implementing ports from ``actiondesk.core``.

Adapters import core only, never each other, and no vendor exception crosses out of one.
"""
