pytest_plugins = ["aligned_common.testing.fixtures"]
