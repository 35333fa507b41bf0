"""What every HTTP surface shares: the server's application keys, the guarded JSON body reader, and the
in-process change feed that live views (server-sent events, chat progress) follow."""
