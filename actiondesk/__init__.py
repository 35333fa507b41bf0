"""ActionDesk: a ChatOps bot that turns the service desk into a system of action."""

__version__ = "0.1.0"
