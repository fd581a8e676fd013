"""Data models of every domain event, shared by producers and consumers."""
