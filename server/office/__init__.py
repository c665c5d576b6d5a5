"""The back office: staff and devices, the catalog, administration, reports, history, the floor.

Plain functions over a database connection or a ``Center``, called by the manager's pages,
HQ and the ``dostq`` command. May import ``server.queue`` and ``server.settings``; never Flask
or devices (import contract). What it needs from higher layers (who is connected, the HQ
link's status, the acting user) is handed in.
"""
