"""The agents: triage, resolution (planning and acting), governance, and the case loop that drives them."""
