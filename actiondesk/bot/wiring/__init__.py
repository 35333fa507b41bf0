"""The composition root (`root.py`) and what it builds from the settings: the managed systems and their packs,
the world the agents read (sandbox or live), ticket systems and pagers, the start-up estate, logs and traces."""
