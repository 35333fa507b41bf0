"""The action space: typed catalog actions and the executor, the only door to side effects."""
