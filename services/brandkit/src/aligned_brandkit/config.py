"""Settings of the brandkit service (env ALIGNED_BRANDKIT_*)."""

from aligned_common.settings import ServiceSettings, service_config


class Settings(ServiceSettings):
    model_config = service_config("BRANDKIT")  # reads ALIGNED_BRANDKIT_*
    service_name: str = "brandkit"
    http_port: int = 8107
