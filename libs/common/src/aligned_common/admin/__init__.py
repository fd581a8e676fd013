"""`aligned-admin`: the operator's command line, present in every image (docs/operations.md).

One module per concern: settings (where to connect), kafka_client (SASL/TLS options),
timespec (parsing "2h" or an ISO time), outbox, dlq (list/show/replay with a replay ledger),
migrations_status, services_http (calls to the services' own HTTP APIs), cli (argparse).
"""
