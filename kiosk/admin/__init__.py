"""The organiser's pages: overview, attendees, program and exports."""
