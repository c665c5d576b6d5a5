"""The visitor's touchscreen kiosk (blueprint; built on the center server API)."""
