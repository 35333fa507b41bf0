"""The scenario runner: a scenario file played against the sandbox on simulated time, and its report."""
