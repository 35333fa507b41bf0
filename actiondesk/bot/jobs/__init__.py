"""Work that runs beside the requests: the case worker's pool, the scheduler's timed jobs, the outbox (ticket
writes, pages and the comments read back) and the signed audit checkpoints."""
