"""The queue core: what a visit is, how it is numbered and called, and the store it lives in.

``engine`` holds the rules as plain functions over frozen data (no I/O at all); ``errors`` the
refusals; ``facts`` what operations cause; ``actors`` who acts. ``numbers``, ``visits``,
``calls`` and ``desk`` are the operations, one ``BEGIN IMMEDIATE`` transaction each, returning
``Done(answer, facts)``; ``views`` the read models; ``storage`` and ``center`` the SQLite store,
its schema and clock. May import only the standard library, sqlite_utils and
``server.settings``: never Flask, Socket.IO, devices or the layers above (import contracts).
"""
