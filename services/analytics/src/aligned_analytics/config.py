from aligned_common.settings import ServiceSettings, service_config


class Settings(ServiceSettings):
    model_config = service_config("ANALYTICS")  # reads ALIGNED_ANALYTICS_*

    service_name: str = "analytics"
    http_port: int = 8104

    # Sync scheduler
    sync_interval_s: float = 6 * 60 * 60  # cadence of a connected account's routine sync
    scheduler_tick_s: float = 5.0  # how often a replica looks for due work
    scheduler_batch_size: int = 100  # rows one replica claims per statement
    first_post_sync_delay_s: float = 10 * 60  # a post has no engagement the second it is published
    tracked_post_days: int = 30  # routine syncs ask for posts published within this window
    sync_timeout_s: float = 60 * 60  # a request connections never answered is marked timed_out

    # Partition maintenance
    partitions_ahead_months: int = 3
    retention_months: int = 25
    maintenance_interval_s: float = 60 * 60

    # Reads
    max_range_days: int = 366
    advisor_lookback_days: int = 90
