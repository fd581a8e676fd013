"""The example service of docs/adding-a-service.md: the smallest service in the shape of all."""
