"""The vocabulary of ActionDesk: cases, findings, plans, decisions, approvals, audit entries, ports.

Imports nothing else of ActionDesk's.
"""
