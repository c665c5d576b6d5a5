"""Device drivers: ticket printers, counter displays, keypads. Imports nothing of server/."""
