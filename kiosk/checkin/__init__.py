"""Check-in: the scan at the entrance, a room door or the staffed desk."""
