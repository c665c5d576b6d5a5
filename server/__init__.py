"""Center server: app factory, queue engine, storage, API, events and the dostq command."""
