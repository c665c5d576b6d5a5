"""The live center: the one place that publishes, and the services that listen to it.

``publisher`` turns committed facts into Socket.IO events and calls subscribers; ``sockets``
decides who may connect and which rooms each joins; ``phones`` keeps visitors' phones on
their own ticket; ``printing`` and ``counter_devices`` subscribe to facts and drive
``hardware/``; ``closing`` closes days on time; ``limit`` refuses sockets past the limit and
``ratelimit`` counts events per key; ``once`` runs start-up steps once in the serving
process. May import ``server.office``, ``server.queue``, ``hardware`` and Flask-SocketIO;
never ``server.web`` or the screens.
"""
