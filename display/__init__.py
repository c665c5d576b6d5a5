"""The waiting-room display (blueprint; fed by the ticket_called Socket.IO event)."""
