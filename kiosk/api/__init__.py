"""The JSON API for scanner apps and integrations."""
