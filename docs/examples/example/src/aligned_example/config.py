from aligned_common.settings import ServiceSettings, service_config


class Settings(ServiceSettings):
    model_config = service_config("EXAMPLE")  # reads ALIGNED_EXAMPLE_*
    service_name: str = "example"
    http_port: int = 8199
