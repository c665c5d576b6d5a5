"""HQ's Flask side: one blueprint a module, and the accessors they share."""
