"""The top layer: the surfaces people use (console/, slack/, teams/, webhooks/), the server they share (server/,
web/, auth/), the command line (cli/), background work (jobs/), reports, the doctor and the scenario runner, and
wiring/, the composition root that builds adapters and hands each surface what it needs."""
