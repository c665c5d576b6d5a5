"""The clerk's counter page (blueprint; calls the /api/v1/counters actions)."""
