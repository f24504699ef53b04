"""A CrewAI crew served over the A2A protocol (a2a-sdk), on port 5000."""
